//! Accessibility measured in the real page: the HTML loaded into the shared Chromium (a
//! design context of the session, separate from its browsing page), axe-core (npm `axe-core`
//! 4.11.0, vendored in `assets/axe.min.js` under its MPL-2.0 licence, injected through the
//! DevTools protocol; never fetched) run over the rendered document, and the contrast of every
//! text element measured from its computed colour and the backgrounds behind it. Also the
//! full-page screenshots at a given width.

use super::color;
use super::contrast::{self, round2};
use crate::page::Page;
use base64::Engine;
use serde_json::{json, Value};
use std::time::Duration;
use vana_core::ToolError;

/// The axe-core build, as npm ships it (licence header kept).
pub const AXE_SOURCE: &str = include_str!("../../assets/axe.min.js");
/// Its version.
pub const AXE_VERSION: &str = "4.11.0";
/// The largest HTML document accepted, bytes.
pub const MAX_HTML_BYTES: usize = 1024 * 1024;
/// The tallest screenshot, CSS pixels.
pub const MAX_HEIGHT: f64 = 16_384.0;
/// Text elements measured at most.
pub const MAX_TEXT_ELEMENTS: usize = 2000;

/// The axe rule tags run: WCAG 2.0, 2.1 and 2.2 A and AA, and axe's best practices (heading
/// order, landmarks, a level-one heading).
pub const TAGS: &[&str] = &["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa", "best-practice"];

/// Loads `html` as the page's document (a `data:` URL: its own opaque origin; anything it
/// links to still goes through the outbound-policy proxy).
pub async fn load_html(page: &Page, html: &str) -> Result<(), ToolError> {
    if html.len() > MAX_HTML_BYTES {
        return Err(ToolError::InvalidArgs(format!(
            "the HTML is {} bytes; at most {MAX_HTML_BYTES} bytes are rendered",
            html.len()
        )));
    }
    let url = format!(
        "data:text/html;charset=utf-8;base64,{}",
        base64::engine::general_purpose::STANDARD.encode(html.as_bytes())
    );
    page.navigate(&url, "load", page.nav_timeout()).await.map(|_| ())
}

/// Sets the viewport to `width` CSS pixels (mobile emulation below 768) and waits for layout.
pub async fn set_width(page: &Page, width: u32, height: u32) -> Result<(), ToolError> {
    page.call(
        "Emulation.setDeviceMetricsOverride",
        json!({"width": width, "height": height, "deviceScaleFactor": 1, "mobile": width < 768}),
    )
    .await?;
    settle(page).await
}

/// Waits for fonts and two animation frames (layout and paint done).
async fn settle(page: &Page) -> Result<(), ToolError> {
    page.eval(
        "(async () => { try { await document.fonts.ready; } catch (e) {} \
         await new Promise(r => requestAnimationFrame(() => requestAnimationFrame(r))); return true; })()",
    )
    .await
    .map(|_| ())
}

/// A full-page PNG exactly `width` pixels wide.
pub async fn screenshot(page: &Page, width: u32) -> Result<(Vec<u8>, u32), ToolError> {
    let m = page.call("Page.getLayoutMetrics", json!({})).await?;
    let h = m["cssContentSize"]["height"].as_f64().unwrap_or(800.0).ceil().clamp(1.0, MAX_HEIGHT);
    let shot = page
        .call(
            "Page.captureScreenshot",
            json!({"format": "png", "captureBeyondViewport": true,
                   "clip": {"x": 0, "y": 0, "width": width, "height": h, "scale": 1}}),
        )
        .await?;
    let data = shot["data"].as_str().unwrap_or_default();
    let bytes = base64::engine::general_purpose::STANDARD
        .decode(data)
        .map_err(|e| ToolError::Failed(format!("Chromium sent an unreadable screenshot: {e}")))?;
    Ok((bytes, h as u32))
}

/// `wcag143` → `1.4.3`.
fn criterion(tag: &str) -> Option<String> {
    let d = tag.strip_prefix("wcag")?;
    if d.len() < 3 || !d.bytes().all(|c| c.is_ascii_digit()) {
        return None;
    }
    Some(format!("{}.{}.{}", &d[..1], &d[1..2], &d[2..]))
}

/// The WCAG level a rule belongs to, from its tags.
fn level(tags: &[String]) -> &'static str {
    if tags.iter().any(|t| t.ends_with("aaa")) {
        "AAA"
    } else if tags.iter().any(|t| t.ends_with("aa") && t.starts_with("wcag")) {
        "AA"
    } else if tags.iter().any(|t| t.starts_with("wcag") && t.ends_with('a')) {
        "A"
    } else {
        "best practice"
    }
}

const RUN_AXE: &str = r#"(async (tags) => {
  const r = await axe.run(document, { runOnly: { type: 'tag', values: tags }, resultTypes: ['violations'] });
  const node = (n) => ({ selector: n.target.map(t => Array.isArray(t) ? t.join(' >>> ') : t).join(' '),
    html: n.html.length > 300 ? n.html.slice(0, 300) + '…' : n.html, fix: n.failureSummary || '' });
  return {
    version: axe.version,
    violations: r.violations.map(v => ({ id: v.id, impact: v.impact, tags: v.tags, help: v.help,
      description: v.description, help_url: v.helpUrl, count: v.nodes.length, nodes: v.nodes.slice(0, 15).map(node) })),
    passes: r.passes.map(p => p.id),
    incomplete: r.incomplete.map(i => ({ id: i.id, help: i.help, count: i.nodes.length })),
  };
})"#;

/// Runs axe-core in the page: violations with their WCAG criteria, impact, elements and fixes.
pub async fn run_axe(page: &Page) -> Result<Value, ToolError> {
    let present = page.eval("typeof window.axe === 'object' && typeof window.axe.run === 'function'").await?;
    if present != Value::Bool(true) {
        page.eval(&format!("{AXE_SOURCE}\n;true")).await?;
    }
    let r = page.apply(RUN_AXE, &[json!(TAGS)]).await?;
    let version = r["version"].as_str().unwrap_or_default().to_string();
    let violations: Vec<Value> = r["violations"]
        .as_array()
        .cloned()
        .unwrap_or_default()
        .into_iter()
        .map(|v| {
            let tags: Vec<String> = v["tags"]
                .as_array()
                .into_iter()
                .flatten()
                .filter_map(|t| t.as_str().map(str::to_string))
                .collect();
            let criteria: Vec<String> = tags.iter().filter_map(|t| criterion(t)).collect();
            json!({
                "rule": v["id"], "impact": v["impact"], "wcag": criteria, "level": level(&tags),
                "help": v["help"], "description": v["description"], "help_url": v["help_url"],
                "count": v["count"], "elements": v["nodes"],
            })
        })
        .collect();
    Ok(json!({
        "engine": format!("axe-core {version}"),
        "rules_run": TAGS,
        "violations": violations,
        "passed_rules": r["passes"].as_array().map(|a| a.len()).unwrap_or(0),
        "needs_review": r["incomplete"],
    }))
}

const TEXT_STYLES: &str = r#"((max) => {
  const skip = new Set(['SCRIPT', 'STYLE', 'NOSCRIPT', 'TEMPLATE', 'TITLE']);
  const path = (el) => {
    const parts = [];
    for (let e = el; e && e.nodeType === 1 && parts.length < 5; e = e.parentElement) {
      if (e.id) { parts.unshift('#' + CSS.escape(e.id)); break; }
      let s = e.localName;
      const p = e.parentElement;
      if (p) { const same = [...p.children].filter(c => c.localName === e.localName); if (same.length > 1) s += ':nth-of-type(' + (same.indexOf(e) + 1) + ')'; }
      parts.unshift(s);
      if (e.localName === 'body') break;
    }
    return parts.join(' > ');
  };
  const alphaOf = (c) => {
    if (c === 'transparent') return 0;
    const m = c.match(/^rgba\(([^)]+)\)$/);
    if (m) { const p = m[1].split(','); return p.length === 4 ? parseFloat(p[3]) : 1; }
    const s = c.match(/\/\s*([\d.]+)(%?)\s*\)$/);
    if (s) return parseFloat(s[1]) / (s[2] ? 100 : 1);
    return 1;
  };
  const out = []; const seen = new Set(); let truncated = false;
  const root = document.body || document.documentElement;
  const walker = document.createTreeWalker(root, NodeFilter.SHOW_TEXT);
  let n;
  while ((n = walker.nextNode())) {
    const text = n.textContent.replace(/\s+/g, ' ').trim();
    if (!text) continue;
    const el = n.parentElement;
    if (!el || seen.has(el) || skip.has(el.tagName)) continue;
    seen.add(el);
    const cs = getComputedStyle(el);
    if (cs.visibility !== 'visible' || el.getClientRects().length === 0) continue;
    let opacity = 1; for (let e = el; e; e = e.parentElement) opacity *= parseFloat(getComputedStyle(e).opacity);
    if (opacity === 0) continue;
    if (out.length >= max) { truncated = true; break; }
    const layers = []; let image = false;
    for (let e = el; e; e = e.parentElement) {
      const s = getComputedStyle(e);
      if (s.backgroundImage && s.backgroundImage !== 'none') image = true;
      layers.push(s.backgroundColor);
      if (alphaOf(s.backgroundColor) >= 1) break;
    }
    out.push({ selector: path(el), text: text.length > 80 ? text.slice(0, 80) + '…' : text, color: cs.color,
      backgrounds: layers, font_size: parseFloat(cs.fontSize), font_weight: parseInt(cs.fontWeight, 10) || 400,
      background_image: image, opacity });
  }
  return { elements: out, truncated };
})"#;

/// The contrast of every visible text element, from computed styles: its colour composited
/// over the background colours behind it (translucent layers composited, the canvas white).
pub async fn text_contrast(page: &Page) -> Result<Value, ToolError> {
    let r = page.apply(TEXT_STYLES, &[json!(MAX_TEXT_ELEMENTS)]).await?;
    let white = color::Rgba::rgb8(255, 255, 255);
    let mut measured = Vec::new();
    let mut failing = Vec::new();
    let mut unmeasured = Vec::new();
    for e in r["elements"].as_array().into_iter().flatten() {
        let sel = e["selector"].as_str().unwrap_or_default();
        let fg = color::parse(e["color"].as_str().unwrap_or_default());
        let layers: Result<Vec<color::Rgba>, _> = e["backgrounds"]
            .as_array()
            .into_iter()
            .flatten()
            .map(|b| color::parse(b.as_str().unwrap_or_default()))
            .collect();
        let (Ok(fg), Ok(layers)) = (fg, layers) else {
            unmeasured.push(json!({"selector": sel, "why": "a colour the analyser cannot read"}));
            continue;
        };
        // From the canvas up: white, then each layer from the outermost in.
        // Rounded to 8-bit channels, as the screen shows them.
        let byte = |c: color::Rgba| {
            let [r, g, b] = c.bytes();
            color::Rgba::rgb8(r, g, b)
        };
        let bg = byte(layers.iter().rev().fold(white, |acc, l| l.over(acc)));
        let mut fg_eff = fg;
        fg_eff.a *= e["opacity"].as_f64().unwrap_or(1.0);
        let shown = byte(fg_eff.over(bg));
        let ratio = contrast::ratio(shown, bg);
        let size = e["font_size"].as_f64().unwrap_or(16.0);
        let weight = e["font_weight"].as_i64().unwrap_or(400);
        let large = size >= 24.0 || (size >= 18.66 && weight >= 700);
        let need = if large { contrast::AA_LARGE } else { contrast::AA_NORMAL };
        let item = json!({
            "selector": sel, "text": e["text"], "color": shown.hex(), "background": bg.hex(),
            "ratio": round2(ratio), "font_size_px": size, "font_weight": weight, "large_text": large,
            "required": need, "passes_aa": ratio >= need,
            "passes_aaa": ratio >= if large { contrast::AAA_LARGE } else { contrast::AAA_NORMAL },
        });
        if e["background_image"] == true {
            unmeasured.push(json!({"selector": sel, "why": "text over a background image or gradient: measured against the colour behind it only", "ratio_against_background_colour": round2(ratio)}));
            continue;
        }
        if ratio < need {
            let mut f = item.clone();
            f["suggested_colors"] = json!(contrast::nearest_passing(shown, bg, need));
            failing.push(f);
        }
        measured.push(item);
    }
    let lowest = measured.iter().filter_map(|m| m["ratio"].as_f64()).fold(f64::INFINITY, f64::min);
    Ok(json!({
        "text_elements_measured": measured.len(),
        "failing_aa": failing.len(),
        "lowest_ratio": if lowest.is_finite() { json!(lowest) } else { Value::Null },
        "failures": failing,
        "not_measured": unmeasured,
        "truncated": r["truncated"],
        "elements": measured.into_iter().take(200).collect::<Vec<_>>(),
    }))
}

/// Both analyses over the page as it stands, at its current width.
pub async fn analyze(page: &Page) -> Result<Value, ToolError> {
    let mut a = run_axe(page).await?;
    let c = text_contrast(page).await?;
    let total: u64 =
        a["violations"].as_array().into_iter().flatten().filter_map(|v| v["count"].as_u64()).sum();
    a["summary"] = json!({
        "violations": a["violations"].as_array().map(|v| v.len()).unwrap_or(0),
        "elements_affected": total,
        "text_contrast_failures": c["failing_aa"],
        "lowest_text_contrast": c["lowest_ratio"],
    });
    a["text_contrast"] = c;
    Ok(a)
}

/// Restores the design page's desktop viewport.
pub async fn reset(page: &Page, width: u32, height: u32) {
    let _ = tokio::time::timeout(
        Duration::from_secs(5),
        page.call(
            "Emulation.setDeviceMetricsOverride",
            json!({"width": width, "height": height, "deviceScaleFactor": 1, "mobile": false}),
        ),
    )
    .await;
}
