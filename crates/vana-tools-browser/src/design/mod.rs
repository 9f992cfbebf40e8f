//! The Creative Design suite, in the same crate as the browser because it renders in the same
//! headless Chromium: colour contrast (WCAG 2.2 and APCA) and palettes in OKLCH (`color`,
//! `contrast`, `palette`), accessibility measured in the rendered page with axe-core and
//! computed styles (`axe`), page mockups from a typed spec (`mockup`), SVG rendered by resvg
//! (`svg`), hosted image generation (`image`), `[design]` (`config`) and the tools (`tools`).
//! See `docs/design.md`.

pub mod axe;
pub mod color;
pub mod config;
pub mod contrast;
pub mod image;
pub mod mockup;
pub mod palette;
pub mod svg;
mod tools;

pub use config::{DesignConfig, ImageProvider};
pub use tools::WIDTHS;

use crate::browser::Browser;
use std::sync::Arc;
use vana_core::Tool;
use vana_toolkit::{MissingPart, SuiteStatus, ToolSuite};

/// The Creative Design suite. Built over the browser of a [`crate::BrowserSuite`], so both
/// suites drive one Chromium.
pub struct DesignSuite {
    shared: Arc<tools::Shared>,
}

impl DesignSuite {
    /// The suite over `[design]`, the browser the browser suite drives, the outbound policy of
    /// `[web]` and the session workspaces.
    pub fn new(
        config: DesignConfig,
        browser: Arc<Browser>,
        outbound: vana_net::OutboundPolicy,
        files: vana_toolkit::SessionFiles,
    ) -> Self {
        DesignSuite { shared: Arc::new(tools::Shared { config, browser, policy: outbound, files }) }
    }

    /// The image provider `generate_image` would use now, if any.
    pub fn image_provider(&self) -> Option<&'static str> {
        image::configured(&self.shared.config)
    }
}

impl ToolSuite for DesignSuite {
    fn name(&self) -> &'static str {
        "design"
    }
    fn description(&self) -> &'static str {
        "creative design: WCAG/APCA contrast, OKLCH palettes, axe-core accessibility checks and mockups rendered in \
         Chromium, SVG to PNG, hosted image generation"
    }
    fn tools(&self) -> Vec<Arc<dyn Tool>> {
        tools::all(self.shared.clone())
    }
    fn config_sections(&self) -> &'static [&'static str] {
        &["design", "browser", "web"]
    }
    /// Chromium must be installed (accessibility checks and mockups); image generation is
    /// optional and reported by `generate_image` itself.
    fn status(&self) -> SuiteStatus {
        let path = &self.shared.browser.config().chromium;
        if crate::profile::executable(path) {
            SuiteStatus::ready()
        } else {
            SuiteStatus {
                missing: vec![MissingPart {
                    what: format!("Chromium (renders mockups and runs axe-core) at {path}"),
                    fix: "apt-get install -y chromium".into(),
                }],
            }
        }
    }
}
