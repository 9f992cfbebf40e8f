//! The suite crate for NLP (sentiment, entities, keywords, language detection, summaries): one crate per group of
//! dependencies. It has no tools yet; agents that declare them are marked unavailable and never
//! handed a task until it does.

use std::sync::Arc;
use vana_core::Tool;
use vana_toolkit::ToolSuite;

/// The suite (no tools yet).
pub struct NlpSuite;

impl ToolSuite for NlpSuite {
    fn name(&self) -> &'static str {
        "nlp"
    }
    fn description(&self) -> &'static str {
        "sentiment, entities, keywords, language detection, summaries (not built yet)"
    }
    fn tools(&self) -> Vec<Arc<dyn Tool>> {
        Vec::new()
    }
}
