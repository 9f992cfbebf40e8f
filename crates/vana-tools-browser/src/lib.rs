//! The Browser Automation suite: a real headless Chromium (Debian's `/usr/bin/chromium`,
//! never a downloaded browser) driven over the DevTools protocol by our own small client on a
//! pipe (`cdp`), one browser context per VANA session (`browser`, `page`), every request of
//! every page through an in-process proxy that applies the outbound policy (`proxy`), the
//! accessibility tree with stable refs (`snapshot`) and the tools (`tools`).
//!
//! Why our own client rather than `chromiumoxide` or WebDriver: the tools use about thirty CDP
//! commands and a handful of events; a client of a few hundred lines that ignores what it does
//! not know cannot break on a new Chromium's protocol, adds no generated bindings to the build
//! and needs no `chromedriver` process. See `docs/browser.md`.

pub mod browser;
pub mod cdp;
pub mod config;
pub mod design;
mod js;
pub mod page;
pub mod process;
mod profile;
pub mod proxy;
pub mod snapshot;
mod tools;

pub use browser::Browser;
pub use config::BrowserConfig;
pub use design::{DesignConfig, DesignSuite};

use std::sync::Arc;
use vana_core::Tool;
use vana_toolkit::{MissingPart, SuiteStatus, ToolSuite};

/// The suite.
pub struct BrowserSuite {
    shared: Arc<tools::Shared>,
}

impl BrowserSuite {
    /// The suite over `[browser]`, the outbound policy of `[web]` and the session workspaces.
    pub fn new(
        config: BrowserConfig,
        outbound: vana_net::OutboundPolicy,
        files: vana_toolkit::SessionFiles,
    ) -> Self {
        let browser = Browser::new(config, outbound.clone());
        BrowserSuite { shared: Arc::new(tools::Shared { browser, policy: outbound, files }) }
    }

    /// The shared browser (for diagnostics and tests: its process id, open contexts).
    pub fn browser(&self) -> &Arc<Browser> {
        &self.shared.browser
    }
}

impl ToolSuite for BrowserSuite {
    fn name(&self) -> &'static str {
        "browser"
    }
    fn description(&self) -> &'static str {
        "a headless Chromium: navigate, read, snapshot, click, fill forms, screenshots, scraping to CSV"
    }
    fn tools(&self) -> Vec<Arc<dyn Tool>> {
        tools::all(self.shared.clone())
    }
    fn config_sections(&self) -> &'static [&'static str] {
        &["browser", "web"]
    }
    /// Chromium must be installed.
    fn status(&self) -> SuiteStatus {
        let path = &self.shared.browser.config().chromium;
        if profile::executable(path) {
            SuiteStatus::ready()
        } else {
            SuiteStatus {
                missing: vec![MissingPart {
                    what: format!("Chromium (the headless browser) at {path}"),
                    fix: "apt-get install -y chromium".into(),
                }],
            }
        }
    }
}
