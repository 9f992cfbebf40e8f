//! The suite crate for Research, Enterprise Integration and GitHub. Today: the research tools
//! `fetch_url` (readable extraction, PDFs, JSON, charsets, limits, an HTTP cache, robots.txt,
//! per-host limits, all under the [`vana_net::OutboundPolicy`] of `[web]`) and `web_search`
//! (Brave, Tavily, SearXNG, or the local SQLite FTS5 index of fetched pages and added documents).

pub mod charset;
mod config;
pub mod extract;
pub mod fetch;
mod index;
pub mod pdf;
pub mod robots;
pub mod search;
pub mod store;
mod tools;

pub use config::{SearchProvider, WebConfig};
pub use tools::{FetchArgs, FetchUrl, SearchArgs, WebSearch};

use std::sync::{Arc, OnceLock};
use vana_core::Tool;
use vana_toolkit::{typed, MissingPart, SuiteStatus, ToolSuite};

/// The suite: `fetch_url` and `web_search`.
pub struct WebSuite {
    config: WebConfig,
    #[allow(dead_code)]
    files: vana_toolkit::SessionFiles,
    store: Arc<store::Store>,
    fetcher: OnceLock<Result<Arc<fetch::Fetcher>, String>>,
}

impl WebSuite {
    /// The suite over `[web]`, the session workspaces and VANA's data dir (cache, local index).
    pub fn new(config: WebConfig, files: vana_toolkit::SessionFiles, data_dir: std::path::PathBuf) -> Self {
        WebSuite { config, files, store: Arc::new(store::Store::new(&data_dir)), fetcher: OnceLock::new() }
    }

    /// The research database (HTTP cache and local index).
    pub fn store(&self) -> Arc<store::Store> {
        self.store.clone()
    }

    /// The fetcher (one per suite: its robots.txt rules and per-host limits are shared).
    pub fn fetcher(&self) -> Result<Arc<fetch::Fetcher>, String> {
        self.fetcher
            .get_or_init(|| fetch::Fetcher::new(self.config.clone(), self.store.clone()).map(Arc::new))
            .clone()
    }
}

impl ToolSuite for WebSuite {
    fn name(&self) -> &'static str {
        "web"
    }
    fn description(&self) -> &'static str {
        "web search (Brave, Tavily, SearXNG or the local index) and fetch with readable extraction"
    }
    fn tools(&self) -> Vec<Arc<dyn Tool>> {
        let fetcher = match self.fetcher() {
            Ok(f) => f,
            Err(_) => return Vec::new(),
        };
        vec![
            typed(FetchUrl { fetcher, store: self.store.clone() }),
            typed(WebSearch { config: self.config.clone(), store: self.store.clone() }),
        ]
    }
    fn config_sections(&self) -> &'static [&'static str] {
        &["web"]
    }
    fn status(&self) -> SuiteStatus {
        let mut missing = Vec::new();
        if !pdf::available() {
            missing.push(MissingPart {
                what: "pdftotext (PDF pages in fetch_url)".into(),
                fix: pdf::INSTALL.into(),
            });
        }
        SuiteStatus { missing }
    }
}
