//! `[browser]` in `vana.toml`: where Chromium is, and the limits of the browser contexts.

/// `[browser]`: the headless Chromium's settings.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct BrowserConfig {
    /// The Chromium binary (Debian's `chromium` package; never a downloaded browser).
    pub chromium: String,
    /// A session's browser context is closed after this many idle seconds; Chromium itself
    /// exits after as long without any context.
    pub idle_timeout_secs: u64,
    /// At most this many sessions hold an open browser context at once.
    pub max_contexts: usize,
    /// How long a navigation may take, seconds.
    pub navigation_timeout_secs: u64,
    /// Viewport width, CSS pixels.
    pub viewport_width: u32,
    /// Viewport height, CSS pixels.
    pub viewport_height: u32,
    /// A download larger than this is dropped, bytes.
    pub max_download_bytes: u64,
    /// `scrape_website` visits at most this many pages per call.
    pub max_scrape_pages: usize,
    /// Run Chromium without its own sandbox even when not root (root always needs it off).
    pub no_sandbox: bool,
}

impl Default for BrowserConfig {
    fn default() -> Self {
        BrowserConfig {
            chromium: "/usr/bin/chromium".into(),
            idle_timeout_secs: 600,
            max_contexts: 8,
            navigation_timeout_secs: 30,
            viewport_width: 1280,
            viewport_height: 800,
            max_download_bytes: 50 * 1024 * 1024,
            max_scrape_pages: 50,
            no_sandbox: false,
        }
    }
}
