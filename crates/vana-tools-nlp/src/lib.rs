//! The NLP suite (the `nlp` agent's tools): sentiment with a port of VADER, language detection,
//! keywords, extractive summaries and readability statistics in-process; named entities from
//! spaCy's `en_core_web_sm` through a supervised worker; zero-shot classification with the
//! all-MiniLM-L6-v2 embedder `vana-router` ships. Every tool measures what it reports or
//! returns a clear error saying why it could not; session files are reached only through the
//! toolkit's `SessionFiles`.

pub mod analysis;
pub mod input;
pub mod sentiment;
pub mod text;
pub mod vader;

use std::sync::Arc;
use vana_core::Tool;
use vana_toolkit::{typed, SessionFiles, ToolSuite};

/// The suite.
pub struct NlpSuite {
    files: SessionFiles,
    /// VANA's data dir: the managed spaCy environment lives under it.
    #[allow(dead_code)]
    data_dir: std::path::PathBuf,
}

impl NlpSuite {
    /// The NLP tools over the session workspaces and VANA's data dir.
    pub fn new(files: SessionFiles, data_dir: std::path::PathBuf) -> Self {
        NlpSuite { files, data_dir }
    }
}

impl ToolSuite for NlpSuite {
    fn name(&self) -> &'static str {
        "nlp"
    }
    fn description(&self) -> &'static str {
        "sentiment (VADER), entities (spaCy), keywords, language, extractive summaries, readability, zero-shot labels"
    }
    fn tools(&self) -> Vec<Arc<dyn Tool>> {
        let f = &self.files;
        vec![
            typed(sentiment::AnalyzeSentiment::new(f.clone())),
            typed(analysis::DetectLanguage::new(f.clone())),
            typed(analysis::ExtractKeywords::new(f.clone())),
            typed(analysis::SummarizeText::new(f.clone())),
            typed(analysis::TextStatistics::new(f.clone())),
        ]
    }
}
