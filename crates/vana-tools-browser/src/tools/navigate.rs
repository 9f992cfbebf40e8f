//! `navigate_to_url` and `wait_for`.

use super::{check_url, finish, page, Shared};
use serde::Deserialize;
use serde_json::json;
use std::sync::Arc;
use std::time::{Duration, Instant};
use vana_core::{ToolContext, ToolError, ToolOutput};
use vana_toolkit::schemars::JsonSchema;
use vana_toolkit::TypedTool;

/// When a navigation counts as done.
#[derive(Debug, Default, Clone, Copy, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum WaitUntil {
    /// The load event (images and scripts loaded).
    #[default]
    Load,
    /// The HTML is parsed (faster; scripts may still be running).
    DomContentLoaded,
    /// No network activity for a moment (pages that load content by script).
    NetworkIdle,
}

impl WaitUntil {
    fn lifecycle(self) -> &'static str {
        match self {
            WaitUntil::Load => "load",
            WaitUntil::DomContentLoaded => "DOMContentLoaded",
            WaitUntil::NetworkIdle => "networkIdle",
        }
    }
}

/// Arguments of `navigate_to_url`.
#[derive(Debug, Deserialize, JsonSchema)]
pub struct NavigateArgs {
    /// The http or https URL to open.
    pub url: String,
    /// When the page counts as loaded (default load).
    #[serde(default)]
    pub wait_until: Option<WaitUntil>,
    /// Give up after this many seconds (default `[browser] navigation_timeout_secs`).
    #[serde(default)]
    #[schemars(range(min = 1, max = 300))]
    pub timeout_secs: Option<u64>,
}

/// `navigate_to_url`.
pub struct NavigateToUrl(pub Arc<Shared>);

#[async_trait::async_trait]
impl TypedTool for NavigateToUrl {
    type Args = NavigateArgs;
    fn name(&self) -> &'static str {
        "navigate_to_url"
    }
    fn description(&self) -> &'static str {
        "Open an http(s) URL in this session's headless browser (cookies and history persist within the session) and \
         wait until it has loaded. Returns the final URL after redirects, the title and the HTTP status. Follows the \
         outbound network policy: private and loopback addresses are refused unless allowed in [web]."
    }
    fn timeout(&self) -> Option<Duration> {
        Some(Duration::from_secs(330))
    }
    async fn run(&self, args: NavigateArgs, ctx: ToolContext) -> Result<ToolOutput, ToolError> {
        let url = check_url(&self.0.policy, &args.url).await?;
        let page = page(&self.0, &ctx).await?;
        let _guard = page.lock.lock().await;
        let timeout =
            args.timeout_secs.map(|s| Duration::from_secs(s.clamp(1, 300))).unwrap_or(page.nav_timeout());
        let until = args.wait_until.unwrap_or_default().lifecycle();
        let started = Instant::now();
        let loc = page.navigate(&url, until, timeout).await;
        let loc = match loc {
            Ok(l) => l,
            Err(e) => {
                page.take_blocked();
                return Err(e);
            }
        };
        let out = json!({
            "url": loc.url, "title": loc.title, "status": loc.status,
            "load_ms": started.elapsed().as_millis() as u64,
        });
        finish(&self.0, &page, &ctx, out).await
    }
}

/// Arguments of `wait_for`: exactly one of `text`, `selector` or `navigation`.
#[derive(Debug, Deserialize, JsonSchema)]
pub struct WaitArgs {
    /// Wait until this text is visible on the page.
    #[serde(default)]
    pub text: Option<String>,
    /// Wait until an element matches this CSS selector.
    #[serde(default)]
    pub selector: Option<String>,
    /// Wait for the next page load (after something started a navigation).
    #[serde(default)]
    pub navigation: Option<bool>,
    /// Wait for the text or element to disappear instead.
    #[serde(default)]
    pub gone: Option<bool>,
    /// Give up after this many milliseconds (default 10000).
    #[serde(default)]
    #[schemars(range(min = 1, max = 120000))]
    pub timeout_ms: Option<u64>,
}

/// `wait_for`.
pub struct WaitFor(pub Arc<Shared>);

#[async_trait::async_trait]
impl TypedTool for WaitFor {
    type Args = WaitArgs;
    fn name(&self) -> &'static str {
        "wait_for"
    }
    fn description(&self) -> &'static str {
        "Wait until text appears on the page, an element matching a CSS selector exists, or the next page load \
         finishes (navigation: true); with gone: true, until the text or element disappears."
    }
    fn timeout(&self) -> Option<Duration> {
        Some(Duration::from_secs(130))
    }
    async fn run(&self, args: WaitArgs, ctx: ToolContext) -> Result<ToolOutput, ToolError> {
        let given = [args.text.is_some(), args.selector.is_some(), args.navigation == Some(true)]
            .iter()
            .filter(|b| **b)
            .count();
        if given != 1 {
            return Err(ToolError::InvalidArgs(
                "give exactly one of `text`, `selector` or `navigation: true`".into(),
            ));
        }
        if args.text.as_deref().is_some_and(|t| t.trim().is_empty()) {
            return Err(ToolError::InvalidArgs("field `text`: give the text to wait for".into()));
        }
        let timeout = Duration::from_millis(args.timeout_ms.unwrap_or(10_000).clamp(1, 120_000));
        let page = page(&self.0, &ctx).await?;
        let _guard = page.lock.lock().await;
        let started = Instant::now();
        if args.navigation == Some(true) {
            if !page.wait_navigation(timeout).await {
                return Err(ToolError::Failed(format!(
                    "no page load finished within {} ms",
                    timeout.as_millis()
                )));
            }
            let out = json!({"waited_ms": started.elapsed().as_millis() as u64, "navigated": true});
            return finish(&self.0, &page, &ctx, out).await;
        }
        let gone = args.gone == Some(true);
        let (expr, what) = match (&args.text, &args.selector) {
            (Some(t), _) => (
                format!("(document.body ? document.body.innerText : '').includes({})", json!(t)),
                format!("the text {t:?}"),
            ),
            (_, Some(s)) => {
                (format!("!!document.querySelector({})", json!(s)), format!("an element matching `{s}`"))
            }
            _ => unreachable!(),
        };
        loop {
            let present = match page.eval(&expr).await {
                Ok(v) => v.as_bool().unwrap_or(false),
                Err(e) if e.to_string().contains("not a valid selector") => {
                    return Err(ToolError::InvalidArgs(format!(
                        "field `selector`: {what} is not a valid CSS selector"
                    )))
                }
                // The page may be between documents; try again.
                Err(_) => false,
            };
            if present != gone {
                break;
            }
            if started.elapsed() >= timeout {
                let verb = if gone { "was still there" } else { "did not appear" };
                return Err(ToolError::Failed(format!("{what} {verb} within {} ms", timeout.as_millis())));
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        let out = json!({"waited_ms": started.elapsed().as_millis() as u64, "found": !gone});
        finish(&self.0, &page, &ctx, out).await
    }
}
