//! `take_screenshot`, `extract_text` and `get_page_snapshot`: reading the page.

use super::{finish, page, ElementArgs, Shared, UNTRUSTED};
use crate::js;
use base64::Engine;
use serde::Deserialize;
use serde_json::json;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use vana_core::{Blob, ToolContext, ToolError, ToolOutput};
use vana_toolkit::schemars::JsonSchema;
use vana_toolkit::TypedTool;

/// The tallest full-page screenshot, CSS pixels.
const MAX_FULL_HEIGHT: f64 = 16_384.0;

/// Arguments of `take_screenshot`.
#[derive(Debug, Deserialize, JsonSchema)]
pub struct ScreenshotArgs {
    /// Capture the whole page, not just the viewport.
    #[serde(default)]
    pub full_page: Option<bool>,
    /// Capture only this element: a ref from get_page_snapshot, e.g. `e12`.
    #[serde(default, rename = "ref")]
    pub element_ref: Option<String>,
    /// Capture only the first element matching this CSS selector.
    #[serde(default)]
    pub selector: Option<String>,
    /// Also save the PNG in the session workspace under this name (e.g. `shots/home.png`).
    #[serde(default)]
    pub save_as: Option<String>,
}

/// `take_screenshot`.
pub struct TakeScreenshot(pub Arc<Shared>);

fn png_size(png: &[u8]) -> (u32, u32) {
    if png.len() < 24 {
        return (0, 0);
    }
    let be = |b: &[u8]| u32::from_be_bytes([b[0], b[1], b[2], b[3]]);
    (be(&png[16..20]), be(&png[20..24]))
}

#[async_trait::async_trait]
impl TypedTool for TakeScreenshot {
    type Args = ScreenshotArgs;
    fn name(&self) -> &'static str {
        "take_screenshot"
    }
    fn description(&self) -> &'static str {
        "Take a PNG screenshot of this session's page: the viewport (default), the full page, or one element (ref or \
         selector). The image is attached for the user (and the model, when it sees images); save_as also keeps it \
         in the workspace."
    }
    async fn run(&self, args: ScreenshotArgs, ctx: ToolContext) -> Result<ToolOutput, ToolError> {
        static N: AtomicU64 = AtomicU64::new(0);
        let page = page(&self.0, &ctx).await?;
        let refs = page.lock.lock().await;
        let element = ElementArgs {
            element_ref: args.element_ref.clone(),
            selector: args.selector.clone(),
            text: None,
        };
        let mut params = json!({"format": "png"});
        let mut kind = "viewport";
        if element.element_ref.is_some() || element.selector.is_some() {
            let t = element.target();
            let node = page.resolve(&refs, &t).await?;
            let b = page.element_box(node, &t).await?;
            let (w, h) = (b["width"].as_f64().unwrap_or(0.0), b["height"].as_f64().unwrap_or(0.0));
            if w < 1.0 || h < 1.0 {
                return Err(ToolError::Failed(
                    "the element is not visible (it has no size on the page)".into(),
                ));
            }
            params["clip"] =
                json!({"x": b["x"], "y": b["y"], "width": w, "height": h.min(MAX_FULL_HEIGHT), "scale": 1});
            params["captureBeyondViewport"] = json!(true);
            kind = "element";
        } else if args.full_page == Some(true) {
            let m = page.call("Page.getLayoutMetrics", json!({})).await?;
            let size = &m["cssContentSize"];
            let (w, h) = (size["width"].as_f64().unwrap_or(1280.0), size["height"].as_f64().unwrap_or(800.0));
            params["clip"] = json!({"x": 0, "y": 0, "width": w.ceil(), "height": h.ceil().min(MAX_FULL_HEIGHT), "scale": 1});
            params["captureBeyondViewport"] = json!(true);
            kind = "full_page";
        }
        let shot = page.call("Page.captureScreenshot", params).await?;
        drop(refs);
        let data = shot["data"].as_str().unwrap_or_default().to_string();
        let bytes = base64::engine::general_purpose::STANDARD
            .decode(&data)
            .map_err(|e| ToolError::Failed(format!("Chromium sent an unreadable screenshot: {e}")))?;
        let (width, height) = png_size(&bytes);
        let name = match &args.save_as {
            Some(n) => n.rsplit('/').next().unwrap_or(n).to_string(),
            None => format!("screenshot-{}.png", N.fetch_add(1, Ordering::Relaxed) + 1),
        };
        let mut out =
            json!({"image": name, "kind": kind, "width": width, "height": height, "bytes": bytes.len()});
        if let Some(path) = &args.save_as {
            out["saved_as"] = json!(self.0.files.write(&ctx, path, &bytes)?);
        }
        let mut result = finish(&self.0, &page, &ctx, out).await?;
        result.artifacts.push(Blob { mime_type: "image/png".into(), data, display_name: Some(name) });
        Ok(result)
    }
}

/// What part of the page `extract_text` reads.
#[derive(Debug, Default, Clone, Copy, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum TextMode {
    /// The main content (`main` or `article` when the page has one), else the whole page.
    #[default]
    Readable,
    /// Everything visible on the page, navigation and footers included.
    All,
}

/// Arguments of `extract_text`.
#[derive(Debug, Deserialize, JsonSchema)]
pub struct ExtractArgs {
    /// Only the text of the elements matching this CSS selector (each separately).
    #[serde(default)]
    pub selector: Option<String>,
    /// What to read without a selector (default readable).
    #[serde(default)]
    pub mode: Option<TextMode>,
    /// Cut the text after this many characters (default 20000).
    #[serde(default)]
    #[schemars(range(min = 100, max = 200000))]
    pub max_chars: Option<usize>,
}

/// `extract_text`.
pub struct ExtractText(pub Arc<Shared>);

fn cut(s: &str, max: usize) -> (String, bool) {
    match s.char_indices().nth(max) {
        Some((i, _)) => (s[..i].to_string(), true),
        None => (s.to_string(), false),
    }
}

#[async_trait::async_trait]
impl TypedTool for ExtractText {
    type Args = ExtractArgs;
    fn name(&self) -> &'static str {
        "extract_text"
    }
    fn description(&self) -> &'static str {
        "Read the text of this session's page as rendered (after its scripts ran): the main content by default, the \
         whole page with mode all, or the text of each element matching a CSS selector. Reports when the text was cut."
    }
    async fn run(&self, args: ExtractArgs, ctx: ToolContext) -> Result<ToolOutput, ToolError> {
        let max = args.max_chars.unwrap_or(20_000).clamp(100, 200_000);
        let page = page(&self.0, &ctx).await?;
        let _guard = page.lock.lock().await;
        let mode = match args.mode.unwrap_or_default() {
            TextMode::Readable => "readable",
            TextMode::All => "all",
        };
        let v = page.apply(js::EXTRACT_TEXT, &[json!(args.selector), json!(mode)]).await.map_err(|e| {
            if e.to_string().contains("not a valid selector") {
                ToolError::InvalidArgs(format!(
                    "field `selector`: `{}` is not a valid CSS selector",
                    args.selector.clone().unwrap_or_default()
                ))
            } else {
                e
            }
        })?;
        let out = if let Some(texts) = v["texts"].as_array() {
            let mut left = max;
            let mut truncated = false;
            let mut kept = Vec::new();
            for t in texts.iter().filter_map(|t| t.as_str()) {
                if left == 0 {
                    truncated = true;
                    break;
                }
                let (s, cut_here) = cut(t, left);
                left -= s.chars().count();
                truncated |= cut_here;
                kept.push(s);
            }
            let matches = v["matches"].as_u64().unwrap_or(0);
            truncated |= (kept.len() as u64) < matches;
            json!({"matches": matches, "texts": kept, "truncated": truncated, "untrusted": UNTRUSTED})
        } else {
            let text = v["text"].as_str().unwrap_or_default();
            let (text, truncated) = cut(text, max);
            json!({"text": text, "scope": v["scope"], "chars": text.chars().count(), "truncated": truncated, "untrusted": UNTRUSTED})
        };
        finish(&self.0, &page, &ctx, out).await
    }
}

/// Arguments of `get_page_snapshot`.
#[derive(Debug, Deserialize, JsonSchema)]
pub struct SnapshotArgs {
    /// Cut the outline after this many characters (default 30000).
    #[serde(default)]
    #[schemars(range(min = 500, max = 200000))]
    pub max_chars: Option<usize>,
}

/// `get_page_snapshot`.
pub struct GetPageSnapshot(pub Arc<Shared>);

#[async_trait::async_trait]
impl TypedTool for GetPageSnapshot {
    type Args = SnapshotArgs;
    fn name(&self) -> &'static str {
        "get_page_snapshot"
    }
    fn description(&self) -> &'static str {
        "The accessibility tree of this session's page (roles, names, values, states) as an outline where each element \
         has a ref like e12. Pass refs to click_element, fill_form, press_key and take_screenshot instead of guessing \
         selectors; refs stay valid until the page changes."
    }
    async fn run(&self, args: SnapshotArgs, ctx: ToolContext) -> Result<ToolOutput, ToolError> {
        let max = args.max_chars.unwrap_or(30_000).clamp(500, 200_000);
        let page = page(&self.0, &ctx).await?;
        let mut refs = page.lock.lock().await;
        let epoch = page.epoch();
        if refs.epoch != epoch {
            refs.nodes.clear();
            refs.by_node.clear();
            refs.epoch = epoch;
        }
        let tree = page.call("Accessibility.getFullAXTree", json!({})).await?;
        let nodes = tree["nodes"].as_array().cloned().unwrap_or_default();
        let outline = crate::snapshot::render(&nodes, &mut refs, max);
        drop(refs);
        let out = json!({
            "snapshot": outline.text, "elements": outline.refs, "truncated": outline.truncated, "untrusted": UNTRUSTED,
        });
        finish(&self.0, &page, &ctx, out).await
    }
}
