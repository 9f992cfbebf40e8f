//! VANA's specialist tool suites, one module per domain. Every tool does the real work or
//! returns a clear error saying why it could not.

mod args;
pub mod code;

use std::sync::Arc;
use vana_core::ToolRegistry;

/// Registers every tool of this crate.
pub fn register_all(registry: &mut ToolRegistry, sandbox: Arc<code::Sandbox>) {
    code::register(registry, sandbox);
}
