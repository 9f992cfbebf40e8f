//! The suite crate for Browser Automation and Creative Design (a real headless Chromium,
//! accessibility checks, rendered mockups, images): one crate per group of
//! dependencies. It has no tools yet; agents that declare them are marked unavailable and never
//! handed a task until it does.

use std::sync::Arc;
use vana_core::Tool;
use vana_toolkit::ToolSuite;

/// The suite (no tools yet).
pub struct BrowserSuite;

impl ToolSuite for BrowserSuite {
    fn name(&self) -> &'static str {
        "browser"
    }
    fn description(&self) -> &'static str {
        "a headless browser, accessibility checks, mockups and images (not built yet)"
    }
    fn tools(&self) -> Vec<Arc<dyn Tool>> {
        Vec::new()
    }
}
