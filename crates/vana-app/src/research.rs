//! The research tools' local search index, for the faces (`vana index add|list|remove`), so
//! they never name the web suite themselves.

use crate::config::{self, Config};

/// A document in the local index: its `id`, `url` (`file://` for a local file), `title`,
/// `source` (`fetched` by a session or `added` by the user), `added_at` (seconds since the
/// epoch) and `chars` indexed.
#[cfg(feature = "web")]
pub use vana_tools_web::store::Document;

/// A document in the local index (this build has no web suite, so the index is always empty).
#[cfg(not(feature = "web"))]
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct Document {
    /// Its id in the index.
    pub id: i64,
    /// Its URL.
    pub url: String,
    /// Its title.
    pub title: String,
    /// `fetched` or `added`.
    pub source: String,
    /// When it was indexed, seconds since the epoch.
    pub added_at: i64,
    /// Characters of text indexed.
    pub chars: i64,
}

#[cfg(feature = "web")]
fn suite(config: &Config) -> vana_tools_web::WebSuite {
    let sandbox = vana_tools_code::Sandbox::new(&config.sandbox.policy_dir, config::data_dir());
    let files = vana_toolkit::SessionFiles::new(sandbox.workspaces().clone());
    vana_tools_web::WebSuite::new(config.web.clone(), files, config::data_dir())
}

#[cfg(not(feature = "web"))]
const NO_WEB: &str = "this build of VANA has no research tools (vana-app's `web` feature)";

/// Adds a file, every `.html/.htm/.md/.txt/.rst/.pdf` file under a folder, or an http(s) URL
/// (fetched under `[web]`'s outbound policy) to the local index; returns what was indexed.
pub async fn index_add(config: &Config, target: &str) -> Result<Vec<Document>, String> {
    #[cfg(feature = "web")]
    return suite(config).index_add(target).await;
    #[cfg(not(feature = "web"))]
    {
        let _ = (config, target);
        Err(NO_WEB.into())
    }
}

/// Every document in the local index, newest first.
pub fn index_list(config: &Config) -> Result<Vec<Document>, String> {
    #[cfg(feature = "web")]
    return suite(config).index_list();
    #[cfg(not(feature = "web"))]
    {
        let _ = config;
        Err(NO_WEB.into())
    }
}

/// Removes a document by id, URL or path; false when the index has no such document.
pub fn index_remove(config: &Config, target: &str) -> Result<bool, String> {
    #[cfg(feature = "web")]
    return suite(config).index_remove(target);
    #[cfg(not(feature = "web"))]
    {
        let _ = (config, target);
        Err(NO_WEB.into())
    }
}
