//! The Creative Design tools: `check_color_contrast`, `generate_color_palette`,
//! `analyze_design_accessibility`, `generate_ui_mockup`, `render_svg` and `generate_image`.

use super::axe;
use super::color;
use super::config::DesignConfig;
use super::contrast::{self, round2};
use super::image::{self, Aspect};
use super::mockup::{self, PageSpec};
use super::palette::{self, Harmony};
use super::svg;
use crate::browser::Browser;
use crate::page::Page;
use base64::Engine;
use serde::Deserialize;
use serde_json::{json, Value};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};
use vana_core::{Blob, Tool, ToolContext, ToolError, ToolOutput};
use vana_net::OutboundPolicy;
use vana_toolkit::schemars::JsonSchema;
use vana_toolkit::{typed, SessionFiles, TypedTool};

/// What the design tools share.
pub struct Shared {
    /// `[design]`.
    pub config: DesignConfig,
    /// The browser the browser suite drives (one Chromium for both suites).
    pub browser: Arc<Browser>,
    /// Where pages and providers may connect.
    pub policy: OutboundPolicy,
    /// The session workspaces.
    pub files: SessionFiles,
}

/// Every design tool.
pub fn all(shared: Arc<Shared>) -> Vec<Arc<dyn Tool>> {
    vec![
        typed(CheckColorContrast),
        typed(GenerateColorPalette),
        typed(AnalyzeDesignAccessibility(shared.clone())),
        typed(GenerateUiMockup(shared.clone())),
        typed(RenderSvg(shared.clone())),
        typed(GenerateImage(shared)),
    ]
}

/// The widths mockups are rendered at: mobile, tablet, desktop.
pub const WIDTHS: [(&str, u32); 3] = [("mobile", 375), ("tablet", 768), ("desktop", 1280)];

fn bad(e: impl std::fmt::Display) -> ToolError {
    ToolError::InvalidArgs(e.to_string())
}

fn png(data: &[u8], name: String) -> Blob {
    Blob {
        mime_type: "image/png".into(),
        data: base64::engine::general_purpose::STANDARD.encode(data),
        display_name: Some(name),
    }
}

/// The session's design page: a browser context of its own in the shared Chromium (so a
/// mockup never replaces the page the session is browsing).
async fn design_page(shared: &Shared, ctx: &ToolContext) -> Result<Arc<Page>, ToolError> {
    shared.browser.page(&format!("{}#design", ctx.session_id)).await
}

// ---------------------------------------------------------------------------------------------

/// Arguments of `check_color_contrast`.
#[derive(Debug, Deserialize, JsonSchema)]
pub struct ContrastArgs {
    /// The text (or icon) colour, any CSS syntax: `#777`, `#336699cc`, `rgb(0 0 0 / 60%)`, `hsl(210 50% 40%)`, `navy`. Alpha is composited over the background.
    pub foreground: String,
    /// The background colour, any CSS syntax (a translucent background is composited over white).
    pub background: String,
}

/// `check_color_contrast`.
pub struct CheckColorContrast;

#[async_trait::async_trait]
impl TypedTool for CheckColorContrast {
    type Args = ContrastArgs;
    fn name(&self) -> &'static str {
        "check_color_contrast"
    }
    fn description(&self) -> &'static str {
        "Measure the contrast of a foreground colour on a background (any CSS colour syntax; alpha composited): the \
         WCAG 2.2 contrast ratio from relative luminance, pass/fail for AA and AAA at normal and large text size and \
         for UI components (3:1), the APCA Lc value as a second opinion, and, when it fails, the nearest colours that \
         pass (same hue, lightness moved)."
    }
    async fn run(&self, args: ContrastArgs, _ctx: ToolContext) -> Result<ToolOutput, ToolError> {
        let fg = color::parse(&args.foreground).map_err(|e| bad(format!("field `foreground`: {e}")))?;
        let bg = color::parse(&args.background).map_err(|e| bad(format!("field `background`: {e}")))?;
        let bg_opaque = contrast::opaque_background(bg);
        // Both as a screen shows them: composited, then rounded to 8-bit channels.
        let bg_opaque = {
            let [r, g, b] = bg_opaque.bytes();
            color::Rgba::rgb8(r, g, b)
        };
        let shown = {
            let [r, g, b] = fg.over(bg_opaque).bytes();
            color::Rgba::rgb8(r, g, b)
        };
        let r = contrast::ratio(shown, bg_opaque);
        let lv = contrast::levels(r);
        let mut notes = Vec::new();
        if fg.a < 1.0 {
            notes.push(format!(
                "the foreground is {:.0}% opaque: measured as the colour seen over the background, {}",
                fg.a * 100.0,
                shown.hex()
            ));
        }
        if bg.a < 1.0 {
            notes.push(format!(
                "the background is {:.0}% opaque: composited over white ({}); over another colour the ratio differs",
                bg.a * 100.0,
                bg_opaque.hex()
            ));
        }
        let mut out = json!({
            "foreground": shown.hex(), "background": bg_opaque.hex(),
            "ratio": round2(r), "ratio_text": format!("{:.2}:1", round2(r)),
            "passes": lv,
            "apca_lc": (contrast::apca(shown, bg_opaque) * 10.0).round() / 10.0,
            "apca_note": "APCA Lc (WCAG 3 draft, a second opinion): |Lc| 75 suits body text, 60 large text, 45 headlines, 30 non-text",
        });
        if !notes.is_empty() {
            out["notes"] = json!(notes);
        }
        if !lv.aa_normal_text || !lv.aaa_normal_text {
            let mut s = json!({});
            for (key, target) in
                [("aa_normal_text", contrast::AA_NORMAL), ("aaa_normal_text", contrast::AAA_NORMAL)]
            {
                if r < target {
                    s[key] = json!({
                        "foreground": contrast::nearest_passing(shown, bg_opaque, target),
                        "background": contrast::nearest_passing(bg_opaque, shown, target),
                    });
                }
            }
            if r < contrast::AA_LARGE {
                s["aa_large_text"] = json!({
                    "foreground": contrast::nearest_passing(shown, bg_opaque, contrast::AA_LARGE),
                    "background": contrast::nearest_passing(bg_opaque, shown, contrast::AA_LARGE),
                });
            }
            out["nearest_passing"] = s;
        }
        Ok(ToolOutput::json(out))
    }
}

// ---------------------------------------------------------------------------------------------

/// Arguments of `generate_color_palette`.
#[derive(Debug, Deserialize, JsonSchema)]
pub struct PaletteArgs {
    /// The base colour, any CSS syntax.
    pub base: String,
    /// The harmony (default complementary).
    #[serde(default)]
    pub harmony: Option<Harmony>,
    /// How many colours for analogous and monochrome (2 to 10, default 5).
    #[serde(default)]
    #[schemars(range(min = 2, max = 10))]
    pub count: Option<usize>,
    /// The CSS variable prefix (letters, digits and dashes; default `color`).
    #[serde(default)]
    pub prefix: Option<String>,
}

/// `generate_color_palette`.
pub struct GenerateColorPalette;

#[async_trait::async_trait]
impl TypedTool for GenerateColorPalette {
    type Args = PaletteArgs;
    fn name(&self) -> &'static str {
        "generate_color_palette"
    }
    fn description(&self) -> &'static str {
        "Build a colour palette from a base colour in OKLCH (hue rotated with lightness and chroma kept): \
         complementary, analogous, triadic, split_complementary, tetradic or monochrome. Every pair's WCAG contrast \
         ratio and APCA Lc is measured, each colour gets its best text colour, and the palette comes as CSS variables."
    }
    async fn run(&self, args: PaletteArgs, _ctx: ToolContext) -> Result<ToolOutput, ToolError> {
        let base = color::parse(&args.base).map_err(|e| bad(format!("field `base`: {e}")))?;
        let base = base.over(color::Rgba::rgb8(255, 255, 255));
        let prefix = args.prefix.unwrap_or_else(|| "color".into());
        if prefix.is_empty()
            || prefix.len() > 40
            || !prefix.chars().all(|c| c.is_ascii_alphanumeric() || c == '-')
        {
            return Err(bad("field `prefix`: 1 to 40 letters, digits or dashes"));
        }
        let count = args.count.unwrap_or(5);
        if !(2..=10).contains(&count) {
            return Err(bad(format!("field `count`: 2 to 10 colours, not {count}")));
        }
        let p = palette::generate(base, args.harmony.unwrap_or(Harmony::Complementary), count, &prefix);
        Ok(ToolOutput::json(serde_json::to_value(p).expect("palette json")))
    }
}

// ---------------------------------------------------------------------------------------------

/// Arguments of `analyze_design_accessibility`: exactly one of `html`, `path` or `url`.
#[derive(Debug, Deserialize, JsonSchema)]
pub struct AnalyzeArgs {
    /// The HTML document to check (at most 1 MiB).
    #[serde(default)]
    pub html: Option<String>,
    /// An HTML file in the session workspace, e.g. `mockups/home.html`.
    #[serde(default)]
    pub path: Option<String>,
    /// An http(s) page to load (the outbound network policy applies).
    #[serde(default)]
    pub url: Option<String>,
    /// The viewport width in CSS pixels (default 1280).
    #[serde(default)]
    #[schemars(range(min = 200, max = 3840))]
    pub width: Option<u32>,
}

/// `analyze_design_accessibility`.
pub struct AnalyzeDesignAccessibility(pub Arc<Shared>);

#[async_trait::async_trait]
impl TypedTool for AnalyzeDesignAccessibility {
    type Args = AnalyzeArgs;
    fn name(&self) -> &'static str {
        "analyze_design_accessibility"
    }
    fn description(&self) -> &'static str {
        "Check a page's accessibility as rendered in headless Chromium: axe-core's WCAG 2.x A/AA and best-practice \
         rules (violations with the WCAG criterion, impact, the offending elements' selectors and HTML, and how to fix \
         them), plus the contrast of every visible text element measured from its computed colours. Give the HTML \
         itself, a workspace file (path) or a URL. Reports only what it measured."
    }
    fn timeout(&self) -> Option<Duration> {
        Some(Duration::from_secs(120))
    }
    async fn run(&self, args: AnalyzeArgs, ctx: ToolContext) -> Result<ToolOutput, ToolError> {
        let given =
            [args.html.is_some(), args.path.is_some(), args.url.is_some()].iter().filter(|b| **b).count();
        if given != 1 {
            return Err(bad("give exactly one of `html` (the document), `path` (a workspace file) or `url`"));
        }
        let width = args.width.unwrap_or(1280);
        if !(200..=3840).contains(&width) {
            return Err(bad(format!("field `width`: 200 to 3840 CSS pixels, not {width}")));
        }
        let html = match (&args.html, &args.path) {
            (Some(h), _) if h.trim().is_empty() => return Err(bad("field `html`: the document is empty")),
            (Some(h), _) => Some(h.clone()),
            (_, Some(p)) => {
                let bytes = self.0.files.read(&ctx, p, axe::MAX_HTML_BYTES as u64)?;
                let text = String::from_utf8(bytes)
                    .map_err(|_| bad(format!("field `path`: `{p}` is not UTF-8 text")))?;
                if text.trim().is_empty() {
                    return Err(bad(format!("field `path`: `{p}` is empty")));
                }
                Some(text)
            }
            _ => None,
        };
        let url = match &args.url {
            Some(u) => Some(crate::tools::check_url(&self.0.policy, u).await?),
            None => None,
        };
        let page = design_page(&self.0, &ctx).await?;
        let _guard = page.lock.lock().await;
        let started = Instant::now();
        let config = self.0.browser.config();
        let result = async {
            set_viewport(&page, width).await?;
            match (&html, &url) {
                (Some(h), _) => axe::load_html(&page, h).await?,
                (_, Some(u)) => {
                    page.navigate(u, "load", page.nav_timeout()).await?;
                }
                _ => unreachable!(),
            }
            axe::set_width(&page, width, 800).await?;
            axe::analyze(&page).await
        }
        .await;
        axe::reset(&page, config.viewport_width, config.viewport_height).await;
        let mut out = result?;
        out["source"] = json!(match (&args.html, &args.path, &url) {
            (Some(_), ..) => "inline html".to_string(),
            (_, Some(p), _) => format!("workspace file {p}"),
            (.., Some(u)) => u.clone(),
            _ => unreachable!(),
        });
        out["width"] = json!(width);
        out["analysis_ms"] = json!(started.elapsed().as_millis() as u64);
        let blocked = page.take_blocked();
        if !blocked.is_empty() {
            out["blocked_requests"] = json!(blocked);
        }
        Ok(ToolOutput::json(out))
    }
}

async fn set_viewport(page: &Page, width: u32) -> Result<(), ToolError> {
    page.call(
        "Emulation.setDeviceMetricsOverride",
        json!({"width": width, "height": 800, "deviceScaleFactor": 1, "mobile": width < 768}),
    )
    .await
    .map(|_| ())
}

// ---------------------------------------------------------------------------------------------

/// Arguments of `generate_ui_mockup`: the page spec, and where to save it.
#[derive(Debug, Deserialize, JsonSchema)]
pub struct MockupArgs {
    /// The page's title (the browser tab; the main heading when there is no hero).
    pub title: String,
    /// The theme (default light).
    #[serde(default)]
    pub theme: Option<mockup::ThemeName>,
    /// Replace the theme's accent with this CSS colour (its text colour is chosen for contrast).
    #[serde(default)]
    pub primary_color: Option<String>,
    /// The sections, top to bottom.
    pub sections: Vec<mockup::Section>,
    /// The workspace file for the HTML (default `mockups/<title>.html`); the PNGs go beside it.
    #[serde(default)]
    pub save_as: Option<String>,
}

/// `generate_ui_mockup`.
pub struct GenerateUiMockup(pub Arc<Shared>);

fn slug(s: &str) -> String {
    let mut out = String::new();
    for c in s.chars().flat_map(char::to_lowercase) {
        if c.is_ascii_alphanumeric() {
            out.push(c);
        } else if !out.ends_with('-') && !out.is_empty() {
            out.push('-');
        }
        if out.len() >= 48 {
            break;
        }
    }
    let out = out.trim_end_matches('-').to_string();
    if out.is_empty() {
        "mockup".into()
    } else {
        out
    }
}

/// The compact accessibility result a mockup carries.
fn compact(a: &Value) -> Value {
    json!({
        "engine": a["engine"], "summary": a["summary"], "violations": a["violations"],
        "text_contrast_failures": a["text_contrast"]["failures"],
        "text_elements_measured": a["text_contrast"]["text_elements_measured"],
        "lowest_text_contrast": a["text_contrast"]["lowest_ratio"],
    })
}

#[async_trait::async_trait]
impl TypedTool for GenerateUiMockup {
    type Args = MockupArgs;
    fn name(&self) -> &'static str {
        "generate_ui_mockup"
    }
    fn description(&self) -> &'static str {
        "Turn a page spec (title, theme, sections of kind header, nav, hero, cards, form, pricing or footer with their \
         content) into a self-contained HTML/CSS page from VANA's component library and themes, render it in headless \
         Chromium at mobile (375 px), tablet (768 px) and desktop (1280 px) widths as PNGs shown to the user, run the \
         accessibility analysis (axe-core and measured text contrast) on it, and save the HTML (and PNGs) in the \
         workspace. The same spec always gives the same HTML."
    }
    fn timeout(&self) -> Option<Duration> {
        Some(Duration::from_secs(180))
    }
    async fn run(&self, args: MockupArgs, ctx: ToolContext) -> Result<ToolOutput, ToolError> {
        let spec = PageSpec {
            title: args.title,
            theme: args.theme,
            primary_color: args.primary_color,
            sections: args.sections,
        };
        let html = mockup::render(&spec).map_err(bad)?;
        let path = match &args.save_as {
            Some(p) if p.trim().is_empty() => {
                return Err(bad("field `save_as`: give a file name, e.g. mockups/home.html"))
            }
            Some(p) => p.clone(),
            None => format!("mockups/{}.html", slug(&spec.title)),
        };
        if !path.ends_with(".html") && !path.ends_with(".htm") {
            return Err(bad("field `save_as`: the file name must end in .html"));
        }
        // Refuse a bad path before any rendering.
        vana_toolkit::vana_workspace::normalize(&path).map_err(vana_toolkit::tool_error)?;
        let stem = path.trim_end_matches(".html").trim_end_matches(".htm").to_string();
        let page = design_page(&self.0, &ctx).await?;
        let guard = page.lock.lock().await;
        let started = Instant::now();
        let config = self.0.browser.config();
        let result = async {
            set_viewport(&page, WIDTHS[0].1).await?;
            axe::load_html(&page, &html).await?;
            let mut shots = Vec::new();
            for (label, w) in WIDTHS {
                axe::set_width(&page, w, 800).await?;
                let (bytes, h) = axe::screenshot(&page, w).await?;
                shots.push((label, w, h, bytes));
            }
            let a = axe::analyze(&page).await?;
            Ok::<_, ToolError>((shots, a))
        }
        .await;
        axe::reset(&page, config.viewport_width, config.viewport_height).await;
        drop(guard);
        let (shots, analysis) = result?;
        let render_ms = started.elapsed().as_millis() as u64;
        let html_path = self.0.files.write(&ctx, &path, html.as_bytes())?;
        let base = stem.rsplit('/').next().unwrap_or("mockup").to_string();
        let mut images = Vec::new();
        let mut artifacts = Vec::new();
        for (label, w, h, bytes) in &shots {
            let name = format!("{base}-{label}-{w}.png");
            let saved = self.0.files.write(&ctx, &format!("{stem}-{label}-{w}.png"), bytes)?;
            images.push(json!({"viewport": label, "width": w, "height": h, "image": name, "saved_as": saved, "bytes": bytes.len()}));
            artifacts.push(png(bytes, name));
        }
        let out = json!({
            "html_path": html_path,
            "html_bytes": html.len(),
            "theme": format!("{:?}", spec.theme.unwrap_or_default()).to_lowercase(),
            "sections": spec.sections.len(),
            "renders": images,
            "render_ms": render_ms,
            "accessibility": compact(&analysis),
        });
        let mut result = ToolOutput::json(out);
        result.artifacts = artifacts;
        Ok(result)
    }
}

// ---------------------------------------------------------------------------------------------

/// Arguments of `render_svg`: exactly one of `svg` or `path`.
#[derive(Debug, Deserialize, JsonSchema)]
pub struct SvgArgs {
    /// The SVG markup (at most 2 MiB). External files and URLs are refused; embedded raster images and text are not drawn (use paths).
    #[serde(default)]
    pub svg: Option<String>,
    /// An SVG file in the session workspace instead.
    #[serde(default)]
    pub path: Option<String>,
    /// The PNG's width in pixels (default the SVG's own width; the height keeps the proportions; at most 4096).
    #[serde(default)]
    #[schemars(range(min = 1, max = 4096))]
    pub width: Option<u32>,
    /// A background colour (CSS syntax; default transparent).
    #[serde(default)]
    pub background: Option<String>,
    /// Also save the PNG in the workspace under this name (e.g. `logos/mark.png`).
    #[serde(default)]
    pub save_as: Option<String>,
}

/// `render_svg`.
pub struct RenderSvg(pub Arc<Shared>);

#[async_trait::async_trait]
impl TypedTool for RenderSvg {
    type Args = SvgArgs;
    fn name(&self) -> &'static str {
        "render_svg"
    }
    fn description(&self) -> &'static str {
        "Render SVG (a logo, icon or diagram you write) to a PNG shown to the user, with resvg (no key, no network). \
         Nothing outside the SVG is loaded: external images, files and URLs are refused. Text elements and embedded \
         raster images are not drawn by this build: write lettering and pictures as paths."
    }
    async fn run(&self, args: SvgArgs, ctx: ToolContext) -> Result<ToolOutput, ToolError> {
        static N: AtomicU64 = AtomicU64::new(0);
        let source = match (&args.svg, &args.path) {
            (Some(_), Some(_)) | (None, None) => {
                return Err(bad("give exactly one of `svg` (the markup) or `path` (a workspace file)"))
            }
            (Some(s), None) => s.clone(),
            (None, Some(p)) => {
                let bytes = self.0.files.read(&ctx, p, svg::MAX_SVG_BYTES as u64 + 1)?;
                String::from_utf8(bytes).map_err(|_| bad(format!("field `path`: `{p}` is not UTF-8 text")))?
            }
        };
        if args.width == Some(0) || args.width.is_some_and(|w| w > svg::MAX_SIDE) {
            return Err(bad(format!("field `width`: 1 to {} pixels", svg::MAX_SIDE)));
        }
        let background = match &args.background {
            Some(b) => {
                let c = color::parse(b).map_err(|e| bad(format!("field `background`: {e}")))?;
                let [r, g, bl] = c.bytes();
                Some([r, g, bl, (c.a * 255.0).round() as u8])
            }
            None => None,
        };
        let started = Instant::now();
        let width = args.width;
        let r = tokio::task::spawn_blocking(move || svg::render(&source, width, background))
            .await
            .map_err(|e| ToolError::Failed(format!("the renderer stopped: {e}")))?
            .map_err(|e| match e {
                svg::SvgError::Invalid(m) => ToolError::InvalidArgs(m),
                svg::SvgError::External(m) => ToolError::Blocked(m),
            })?;
        let name = match &args.save_as {
            Some(n) => n.rsplit('/').next().unwrap_or(n).to_string(),
            None => format!("svg-{}.png", N.fetch_add(1, Ordering::Relaxed) + 1),
        };
        let mut out = json!({
            "image": name, "width": r.width, "height": r.height, "bytes": r.png.len(),
            "svg_size": [r.svg_width, r.svg_height], "render_ms": started.elapsed().as_secs_f64() * 1000.0,
        });
        let mut notes = Vec::new();
        if r.text_elements > 0 {
            notes.push(format!(
                "{} <text> element(s) were not drawn (this build renders no text): convert lettering to paths",
                r.text_elements
            ));
        }
        if r.raster_images > 0 {
            notes.push(format!(
                "{} embedded raster image(s) were not drawn (this build decodes no PNG/JPEG inside SVG): draw them as vectors",
                r.raster_images
            ));
        }
        if !notes.is_empty() {
            out["notes"] = json!(notes);
        }
        if let Some(p) = &args.save_as {
            out["saved_as"] = json!(self.0.files.write(&ctx, p, &r.png)?);
        }
        let mut result = ToolOutput::json(out);
        result.artifacts.push(png(&r.png, name));
        Ok(result)
    }
}

// ---------------------------------------------------------------------------------------------

/// Arguments of `generate_image`.
#[derive(Debug, Deserialize, JsonSchema)]
pub struct ImageArgs {
    /// What to draw (at most 4000 characters).
    pub prompt: String,
    /// What to avoid (providers that support it; Stability).
    #[serde(default)]
    pub negative_prompt: Option<String>,
    /// The shape (default square).
    #[serde(default)]
    pub aspect: Option<Aspect>,
    /// The workspace file for the image (default `images/image-N.png`).
    #[serde(default)]
    pub save_as: Option<String>,
}

/// `generate_image`.
pub struct GenerateImage(pub Arc<Shared>);

/// The longest prompt accepted, characters.
pub const MAX_PROMPT: usize = 4000;

#[async_trait::async_trait]
impl TypedTool for GenerateImage {
    type Args = ImageArgs;
    fn name(&self) -> &'static str {
        "generate_image"
    }
    fn description(&self) -> &'static str {
        "Generate an image from a text prompt with the configured image service (OpenAI Images, Gemini/Imagen, \
         Stability AI or Replicate, chosen in [design] and enabled by its API key). The image is shown to the user \
         and saved in the workspace. Without a configured service it says which keys enable one; use render_svg for \
         logos, icons and diagrams."
    }
    fn timeout(&self) -> Option<Duration> {
        Some(Duration::from_secs(self.0.config.image_timeout_secs.max(1) + 30))
    }
    async fn run(&self, args: ImageArgs, ctx: ToolContext) -> Result<ToolOutput, ToolError> {
        static N: AtomicU64 = AtomicU64::new(0);
        let prompt = args.prompt.trim();
        if prompt.is_empty() {
            return Err(bad("field `prompt`: describe the image to generate"));
        }
        if prompt.chars().count() > MAX_PROMPT {
            return Err(bad(format!("field `prompt`: at most {MAX_PROMPT} characters")));
        }
        let save_as = match &args.save_as {
            Some(p) => p.clone(),
            None => format!("images/image-{}.png", N.fetch_add(1, Ordering::Relaxed) + 1),
        };
        vana_toolkit::vana_workspace::normalize(&save_as).map_err(vana_toolkit::tool_error)?;
        let started = Instant::now();
        let g = image::generate(
            &self.0.config,
            &self.0.policy,
            prompt,
            args.negative_prompt.as_deref(),
            args.aspect.unwrap_or_default(),
        )
        .await?;
        // Keep the extension true to the bytes.
        let ext = match g.mime {
            "image/jpeg" => "jpg",
            "image/webp" => "webp",
            _ => "png",
        };
        let path = match save_as.rsplit_once('.') {
            Some((stem, _)) => format!("{stem}.{ext}"),
            None => format!("{save_as}.{ext}"),
        };
        let saved = self.0.files.write(&ctx, &path, &g.bytes)?;
        let (w, h) = if g.mime == "image/png" && g.bytes.len() >= 24 {
            let be = |b: &[u8]| u32::from_be_bytes([b[0], b[1], b[2], b[3]]);
            (Some(be(&g.bytes[16..20])), Some(be(&g.bytes[20..24])))
        } else {
            (None, None)
        };
        let name = saved.rsplit('/').next().unwrap_or(&saved).to_string();
        let mut out = json!({
            "provider": g.provider, "model": g.model, "saved_as": saved, "mime_type": g.mime,
            "bytes": g.bytes.len(), "width": w, "height": h, "ms": started.elapsed().as_millis() as u64,
        });
        if let Some(r) = g.revised_prompt {
            out["revised_prompt"] = json!(r);
        }
        let mut result = ToolOutput::json(out);
        result.artifacts.push(Blob {
            mime_type: g.mime.into(),
            data: base64::engine::general_purpose::STANDARD.encode(&g.bytes),
            display_name: Some(name),
        });
        Ok(result)
    }
}
