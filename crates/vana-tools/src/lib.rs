//! VANA's specialist tool suites, one module per domain. Every tool does the real work or
//! returns a clear error saying why it could not.

pub mod analytics;
mod args;
pub mod code;
pub mod data;
pub mod sql;
pub mod workspace;

use std::sync::Arc;
use vana_core::ToolRegistry;

/// Registers the code tools (the data, analytics and SQL tools: [`register_data`]).
pub fn register_all(registry: &mut ToolRegistry, sandbox: Arc<code::Sandbox>) {
    code::register(registry, sandbox);
}

/// Registers the data, analytics and SQL tools over the session workspaces (the sandbox's,
/// [`code::Sandbox::workspaces`]); named SQL connections come from `sql`.
pub fn register_data(
    registry: &mut ToolRegistry,
    workspaces: vana_workspace::Workspaces,
    sql: sql::SqlConfig,
) {
    let ws = workspace::SessionFiles::new(workspaces);
    data::register(registry, ws.clone());
    analytics::register(registry, ws.clone());
    sql::register(registry, sql, ws);
}
