//! The suite crate for Research, Enterprise Integration and GitHub (web search and fetch, API testing,
//! generated clients, transformations, data sync): one crate per group of
//! dependencies. It has no tools yet; agents that declare them are marked unavailable and never
//! handed a task until it does.

use std::sync::Arc;
use vana_core::Tool;
use vana_toolkit::ToolSuite;

/// The suite (no tools yet).
pub struct WebSuite;

impl ToolSuite for WebSuite {
    fn name(&self) -> &'static str {
        "web"
    }
    fn description(&self) -> &'static str {
        "web search and fetch, API testing and clients, data transformation and sync, GitHub (not built yet)"
    }
    fn tools(&self) -> Vec<Arc<dyn Tool>> {
        Vec::new()
    }
}
