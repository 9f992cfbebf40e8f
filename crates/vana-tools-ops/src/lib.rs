//! The suite crate for Security and DevOps (code and secret scanners, malware scanning, security
//! headers, containers, cloud APIs, pipeline validation): one crate per group of
//! dependencies. It has no tools yet; agents that declare them are marked unavailable and never
//! handed a task until it does.

use std::sync::Arc;
use vana_core::Tool;
use vana_toolkit::ToolSuite;

/// The suite (no tools yet).
pub struct OpsSuite;

impl ToolSuite for OpsSuite {
    fn name(&self) -> &'static str {
        "ops"
    }
    fn description(&self) -> &'static str {
        "scanners, containers, cloud APIs and pipeline validation (not built yet)"
    }
    fn tools(&self) -> Vec<Arc<dyn Tool>> {
        Vec::new()
    }
}
