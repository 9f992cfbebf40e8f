//! VANA's specialist tool suites, one module per domain. Every tool does the real work or
//! returns a clear error saying why it could not.

pub mod analytics;
mod args;
pub mod code;
pub mod data;
pub mod sql;

use std::sync::Arc;
use vana_core::ToolRegistry;

/// Registers the code tools (the data, analytics and SQL tools: [`register_data`]).
pub fn register_all(registry: &mut ToolRegistry, sandbox: Arc<code::Sandbox>) {
    code::register(registry, sandbox);
}

/// Registers the data, analytics and SQL tools; session workspaces live under
/// `<data_dir>/workspaces` (the sandbox's), named SQL connections come from `sql`.
pub fn register_data(registry: &mut ToolRegistry, data_dir: std::path::PathBuf, sql: sql::SqlConfig) {
    let ws = data::Workspaces::new(data_dir);
    data::register(registry, ws.clone());
    analytics::register(registry, ws.clone());
    sql::register(registry, sql, ws);
}
