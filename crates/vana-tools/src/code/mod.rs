//! The Code Execution Specialist's tools: run, debug and check code in the sandbox, list
//! packages and languages, recall earlier runs.

mod debug;
mod execute;
mod inspect;
mod packages;
mod sandbox;

pub use debug::DebugCode;
pub use execute::ExecuteCode;
pub use inspect::{ExecutionHistory, SupportedLanguages, ValidateCodeSecurity};
pub use packages::ManagePackages;
pub use sandbox::Sandbox;

use std::sync::Arc;
use vana_core::ToolRegistry;

/// Registers the code tools, all sharing one sandbox engine.
pub fn register(registry: &mut ToolRegistry, sandbox: Arc<Sandbox>) {
    registry.register(Arc::new(ExecuteCode::new(sandbox.clone())));
    registry.register(Arc::new(DebugCode::new(sandbox.clone())));
    registry.register(Arc::new(ManagePackages::new(sandbox.clone())));
    registry.register(Arc::new(ValidateCodeSecurity));
    registry.register(Arc::new(ExecutionHistory));
    registry.register(Arc::new(SupportedLanguages::new(sandbox)));
}
