//! The NLP suite (the `nlp` agent's tools): sentiment with a port of VADER, language detection,
//! keywords, extractive summaries and readability statistics in-process; named entities from
//! spaCy's `en_core_web_sm` through a supervised worker; zero-shot classification with the
//! all-MiniLM-L6-v2 embedder `vana-router` ships. Every tool measures what it reports or
//! returns a clear error saying why it could not; session files are reached only through the
//! toolkit's `SessionFiles`.

pub mod analysis;
pub mod classify;
pub mod entities;
pub mod input;
pub mod sentiment;
pub mod spacy;
pub mod text;
pub mod vader;

use std::sync::Arc;
use vana_core::Tool;
use vana_toolkit::{typed, MissingPart, SessionFiles, SuiteStatus, ToolSuite};

/// The suite.
pub struct NlpSuite {
    files: SessionFiles,
    spacy: Arc<spacy::Spacy>,
    embedder: classify::SharedEmbedder,
}

impl NlpSuite {
    /// The NLP tools over the session workspaces and VANA's data dir.
    pub fn new(files: SessionFiles, data_dir: std::path::PathBuf) -> Self {
        NlpSuite::with_spacy(files, spacy::SpacyConfig::for_data_dir(&data_dir))
    }

    /// The NLP tools with the spaCy worker's Python set explicitly.
    pub fn with_spacy(files: SessionFiles, spacy: spacy::SpacyConfig) -> Self {
        NlpSuite {
            files,
            spacy: Arc::new(spacy::Spacy::new(spacy)),
            embedder: classify::SharedEmbedder::new(vana_assets::default_models_dir()),
        }
    }

    /// The supervised spaCy worker (shared by every `extract_entities` call).
    pub fn spacy(&self) -> &Arc<spacy::Spacy> {
        &self.spacy
    }
}

impl ToolSuite for NlpSuite {
    fn name(&self) -> &'static str {
        "nlp"
    }
    fn description(&self) -> &'static str {
        "sentiment (VADER), entities (spaCy), keywords, language, extractive summaries, readability, zero-shot labels"
    }
    /// spaCy is provisioned on first use; until then `extract_entities` says it will set it up.
    fn status(&self) -> SuiteStatus {
        let c = self.spacy.config();
        if c.looks_ready() {
            return SuiteStatus::ready();
        }
        SuiteStatus {
            missing: vec![MissingPart {
                what: format!(
                    "spaCy {} and en_core_web_sm (set up on first use of extract_entities)",
                    spacy::SPACY_VERSION
                ),
                fix: c.install_command(),
            }],
        }
    }
    fn tools(&self) -> Vec<Arc<dyn Tool>> {
        let f = &self.files;
        vec![
            typed(sentiment::AnalyzeSentiment::new(f.clone())),
            typed(analysis::DetectLanguage::new(f.clone())),
            typed(analysis::ExtractKeywords::new(f.clone())),
            typed(analysis::SummarizeText::new(f.clone())),
            typed(analysis::TextStatistics::new(f.clone())),
            typed(entities::ExtractEntities::new(f.clone(), self.spacy.clone())),
            typed(classify::ClassifyText::new(f.clone(), self.embedder.clone())),
        ]
    }
}
