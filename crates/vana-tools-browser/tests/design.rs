//! The design tools that need no browser: contrast against the WCAG formula computed
//! independently (the table's ratios were worked out by hand from the WCAG 2.2 definition of
//! relative luminance, outside this code), APCA against its published values, palettes whose
//! pairs are re-measured, and SVG rendered by resvg (pixels decoded), broken and hostile SVG.

mod design_env;

use design_env::{png_pixel, png_size, Env};
use serde_json::{json, Value};
use vana_core::ToolError;
use vana_toolkit::ToolSuite;

async fn contrast(env: &Env, fg: &str, bg: &str) -> Value {
    env.ok("s", "check_color_contrast", json!({"foreground": fg, "background": bg})).await
}

#[tokio::test]
async fn contrast_ratios_equal_the_wcag_formula_to_two_decimals() {
    let env = Env::strict();
    // (foreground, background, ratio by the WCAG 2.2 formula, AA normal, AA large / UI)
    let table: &[(&str, &str, f64, bool, bool)] = &[
        ("#777", "#fff", 4.48, false, true),
        ("#000", "#fff", 21.00, true, true),
        ("#767676", "#ffffff", 4.54, true, true),
        ("#ff0000", "#ffffff", 4.00, false, true),
        ("#0000ff", "#ffffff", 8.59, true, true),
        ("#008000", "#ffffff", 5.14, true, true),
        ("#336699", "#f0f0f0", 5.26, true, true),
        ("#ffff00", "#000000", 19.56, true, true),
        ("#595959", "#ffffff", 7.00, true, true),
        ("darksalmon", "navy", 6.94, true, true),
        ("#aaa", "white", 2.32, false, false),
        ("gray", "#808080", 1.00, false, false),
        ("#38bdf8", "#0f172a", 8.33, true, true),
        // Other syntaxes of the same colours.
        ("rgb(119 119 119)", "hsl(0 0% 100%)", 4.48, false, true),
        ("rgba(0, 0, 255, 1)", "#ffffffff", 8.59, true, true),
    ];
    for &(fg, bg, want, aa, large) in table {
        let r = contrast(&env, fg, bg).await;
        assert_eq!(r["ratio"].as_f64().unwrap(), want, "{fg} on {bg}: {r}");
        assert_eq!(r["passes"]["aa_normal_text"], aa, "{fg} on {bg}: {r}");
        assert_eq!(r["passes"]["aa_large_text"], large, "{fg} on {bg}: {r}");
        assert_eq!(r["passes"]["ui_components"], large, "{fg} on {bg}: {r}");
        assert_eq!(r["passes"]["aaa_normal_text"], want >= 7.0, "{fg} on {bg}: {r}");
    }
    // The order does not matter.
    assert_eq!(contrast(&env, "#fff", "#777").await["ratio"], 4.48);
    // #ff0000 on white is 3.998: shown as 4.00 but it fails 4.5 and passes 3:1 (never rounded up).
    let red = contrast(&env, "red", "white").await;
    assert_eq!(red["ratio_text"], "4.00:1");
}

#[tokio::test]
async fn apca_lc_is_the_published_value() {
    let env = Env::strict();
    for (fg, bg, lc) in
        [("#000", "#fff", 106.0), ("#fff", "#000", -107.9), ("#888", "#fff", 63.1), ("#fff", "#888", -68.5)]
    {
        assert_eq!(contrast(&env, fg, bg).await["apca_lc"].as_f64().unwrap(), lc, "{fg} on {bg}");
    }
}

#[tokio::test]
async fn alpha_is_composited_over_the_background() {
    let env = Env::strict();
    // 50% black over white is seen as #808080 (127.5 rounds to 128): 3.95 by the formula.
    let r = contrast(&env, "rgba(0, 0, 0, 0.5)", "#fff").await;
    assert_eq!(r["foreground"], "#808080", "{r}");
    assert_eq!(r["ratio"], 3.95, "{r}");
    assert!(r["notes"][0].as_str().unwrap().contains("50% opaque"), "{r}");
    // The 8-digit hex and the slash syntax are the same colour.
    // #00000080 is 128/255 opaque, seen as #7f7f7f: 4.00.
    assert_eq!(contrast(&env, "#00000080", "#fff").await["ratio"], 4.0);
    assert_eq!(contrast(&env, "rgb(0 0 0 / 50%)", "white").await["ratio"], 3.95);
    // A translucent background is composited over white.
    let r = contrast(&env, "#000", "rgba(0, 0, 0, 0.5)").await;
    assert_eq!(r["background"], "#808080", "{r}");
    assert!(r["notes"][0].as_str().unwrap().contains("composited over white"), "{r}");
}

#[tokio::test]
async fn a_failing_pair_gets_the_nearest_colours_that_pass() {
    let env = Env::strict();
    let r = contrast(&env, "#777", "#fff").await;
    let fg = &r["nearest_passing"]["aa_normal_text"]["foreground"];
    let first = fg[0]["color"].as_str().unwrap();
    // The lightest grey that passes on white is #767676: one step darker.
    assert_eq!(first, "#767676", "{r}");
    for target in ["aa_normal_text", "aaa_normal_text"] {
        let need = if target == "aa_normal_text" { 4.5 } else { 7.0 };
        for side in ["foreground", "background"] {
            for s in r["nearest_passing"][target][side].as_array().unwrap() {
                let c = s["color"].as_str().unwrap();
                let (f, b) = if side == "foreground" { (c, "#fff") } else { ("#777", c) };
                let again = contrast(&env, f, b).await;
                assert!(again["ratio"].as_f64().unwrap() >= need, "{target} {side} {c}: {again}");
                assert_eq!(again["passes"][target], true, "{again}");
            }
        }
    }
    // A blue keeps its hue: the suggestion is still blue.
    let r = contrast(&env, "#6b8cff", "#ffffff").await;
    let c = r["nearest_passing"]["aa_normal_text"]["foreground"][0]["color"].as_str().unwrap().to_string();
    let b = u8::from_str_radix(&c[5..7], 16).unwrap();
    let rr = u8::from_str_radix(&c[1..3], 16).unwrap();
    assert!(b > rr + 60, "{c} is no longer blue: {r}");
    // A passing pair gets none for AA.
    assert!(contrast(&env, "#000", "#fff").await.get("nearest_passing").is_none());
}

#[tokio::test]
async fn bad_colours_are_refused_with_what_is_wrong() {
    let env = Env::strict();
    for (fg, want) in [
        ("", "empty"),
        ("#12345", "3, 4, 6 or 8 hex digits"),
        ("blurple", "named colour"),
        ("rgb(1, 2)", "3 values"),
        ("lab(50 20 30)", "not a supported colour function"),
    ] {
        let e = env.err("s", "check_color_contrast", json!({"foreground": fg, "background": "#fff"})).await;
        assert!(matches!(e, ToolError::InvalidArgs(_)), "{fg}: {e:?}");
        let msg = e.to_string();
        assert!(msg.contains("field `foreground`") && msg.contains(want), "{fg}: {msg}");
    }
    let e = env
        .err("s", "check_color_contrast", json!({"foreground": "#000", "background": "x".repeat(100_000)}))
        .await;
    assert!(e.to_string().contains("longer than 200 characters"), "{e}");
    let e = env.err("s", "check_color_contrast", json!({"foreground": "#000"})).await;
    assert!(e.to_string().contains("`background` is required"), "{e}");
}

#[tokio::test]
async fn palettes_rotate_hue_in_oklch_and_every_pair_is_measured() {
    let env = Env::strict();
    for (harmony, n, offsets) in [
        ("complementary", 2, vec![0.0, 180.0]),
        ("triadic", 3, vec![0.0, 120.0, 240.0]),
        ("split_complementary", 3, vec![0.0, 150.0, 210.0]),
        ("tetradic", 4, vec![0.0, 90.0, 180.0, 270.0]),
        ("analogous", 5, vec![0.0, -30.0, 30.0, -60.0, 60.0]),
    ] {
        let p = env.ok("s", "generate_color_palette", json!({"base": "#336699", "harmony": harmony})).await;
        let colors = p["colors"].as_array().unwrap();
        assert_eq!(colors.len(), n, "{harmony}: {p}");
        assert_eq!(colors[0]["hex"], "#336699");
        let hue = |c: &Value| -> f64 {
            let s = c["oklch"].as_str().unwrap();
            s.trim_end_matches(')').split_whitespace().last().unwrap().parse().unwrap()
        };
        let h0 = hue(&colors[0]);
        for (c, off) in colors.iter().zip(&offsets) {
            let d = (hue(c) - h0 - off).rem_euclid(360.0);
            assert!(d.min(360.0 - d) < 1.5, "{harmony}: {} is not {off}° from the base: {p}", c["oklch"]);
        }
        // Every pair once, each ratio what check_color_contrast measures.
        let pairs = p["pairs"].as_array().unwrap();
        assert_eq!(pairs.len(), n * (n - 1) / 2, "{p}");
        let hex = |name: &str| {
            colors.iter().find(|c| c["name"] == name).unwrap()["hex"].as_str().unwrap().to_string()
        };
        for pair in pairs {
            let r =
                contrast(&env, &hex(pair["a"].as_str().unwrap()), &hex(pair["b"].as_str().unwrap())).await;
            assert_eq!(pair["ratio"], r["ratio"], "{pair}");
            assert_eq!(pair["passes"], r["passes"], "{pair}");
        }
        for c in colors {
            let r = contrast(&env, c["text_color"].as_str().unwrap(), c["hex"].as_str().unwrap()).await;
            assert!(r["ratio"].as_f64().unwrap() >= 4.5, "the text colour on {}: {r}", c["hex"]);
        }
        let css = p["css"].as_str().unwrap();
        assert!(css.starts_with(":root {") && css.contains("--color-base: #336699;"), "{css}");
        assert_eq!(css.matches("--color-").count(), n * 2, "{css}");
    }
    // Monochrome: one hue, lightness in steps, the base kept.
    let p = env
        .ok(
            "s",
            "generate_color_palette",
            json!({"base": "hsl(150 60% 35%)", "harmony": "monochrome", "count": 6, "prefix": "brand"}),
        )
        .await;
    let colors = p["colors"].as_array().unwrap();
    assert_eq!(colors.len(), 6);
    assert!(colors.iter().any(|c| c["name"] == "base"));
    let ls: Vec<f64> = colors
        .iter()
        .map(|c| {
            c["oklch"]
                .as_str()
                .unwrap()
                .trim_start_matches("oklch(")
                .split_whitespace()
                .next()
                .unwrap()
                .parse()
                .unwrap()
        })
        .collect();
    assert!(ls.windows(2).all(|w| w[1] > w[0]), "lightness rises: {ls:?}");
    assert!(p["css"].as_str().unwrap().contains("--brand-base:"), "{p}");
    // Bad input.
    let e = env.err("s", "generate_color_palette", json!({"base": "notacolour"})).await;
    assert!(e.to_string().contains("field `base`"), "{e}");
    let e = env.err("s", "generate_color_palette", json!({"base": "#fff", "harmony": "rainbow"})).await;
    assert!(e.to_string().contains("harmony"), "{e}");
    let e = env.err("s", "generate_color_palette", json!({"base": "#fff", "count": 50})).await;
    assert!(e.to_string().contains("2 to 10"), "{e}");
    let e = env.err("s", "generate_color_palette", json!({"base": "#fff", "prefix": "a;}body{x"})).await;
    assert!(e.to_string().contains("field `prefix`"), "{e}");
}

const SQUARE: &str = r##"<svg xmlns="http://www.w3.org/2000/svg" width="40" height="20" viewBox="0 0 40 20">
  <rect width="40" height="20" fill="#0000ff"/><rect x="20" width="20" height="20" fill="#ff0000"/></svg>"##;

#[tokio::test]
async fn render_svg_draws_the_pixels_the_svg_describes() {
    let env = Env::strict();
    let out = env.out("s", "render_svg", json!({"svg": SQUARE})).await;
    assert_eq!(out.response["width"], 40);
    assert_eq!(out.response["height"], 20);
    assert_eq!(out.artifacts.len(), 1);
    assert_eq!(out.artifacts[0].mime_type, "image/png");
    use base64::Engine;
    let png = base64::engine::general_purpose::STANDARD.decode(&out.artifacts[0].data).unwrap();
    assert_eq!(png_size(&png), (40, 20));
    assert_eq!(png_pixel(&png, 5, 10), [0, 0, 255, 255]);
    assert_eq!(png_pixel(&png, 35, 10), [255, 0, 0, 255]);
    // Scaled to a width, proportions kept; saved when asked.
    let r =
        env.ok("s", "render_svg", json!({"svg": SQUARE, "width": 400, "save_as": "logos/flag.png"})).await;
    assert_eq!((r["width"].as_u64(), r["height"].as_u64()), (Some(400), Some(200)), "{r}");
    let saved = env.read("s", "logos/flag.png");
    assert_eq!(png_size(&saved), (400, 200));
    assert_eq!(png_pixel(&saved, 390, 100), [255, 0, 0, 255]);
    // From a workspace file, over a background colour (transparent areas filled).
    env.write("s", "art/dot.svg", br##"<svg xmlns="http://www.w3.org/2000/svg" width="10" height="10"><circle cx="5" cy="5" r="2" fill="black"/></svg>"##);
    let out = env.out("s", "render_svg", json!({"path": "art/dot.svg", "background": "yellow"})).await;
    let png = base64::engine::general_purpose::STANDARD.decode(&out.artifacts[0].data).unwrap();
    assert_eq!(png_pixel(&png, 0, 0), [255, 255, 0, 255]);
    assert_eq!(png_pixel(&png, 5, 5), [0, 0, 0, 255]);
    // Text is reported as not drawn.
    let r = env.ok("s", "render_svg", json!({"svg": "<svg xmlns='http://www.w3.org/2000/svg' width='10' height='10'><text x='1' y='9'>Hi</text></svg>"})).await;
    assert!(r["notes"][0].as_str().unwrap().contains("1 <text> element"), "{r}");
}

#[tokio::test]
async fn broken_oversized_and_hostile_svg_is_refused_and_nothing_is_read() {
    let env = Env::strict();
    let e = env.err("s", "render_svg", json!({"svg": "<svg xmlns='http://www.w3.org/2000/svg'><rect"})).await;
    assert!(matches!(e, ToolError::InvalidArgs(_)) && e.to_string().contains("not well-formed XML"), "{e:?}");
    let e = env.err("s", "render_svg", json!({"svg": "this is not svg"})).await;
    assert!(e.to_string().contains("not well-formed XML"), "{e}");
    let e = env
        .err(
            "s",
            "render_svg",
            json!({"svg": "<svg xmlns='http://www.w3.org/2000/svg' width='0' height='10'></svg>"}),
        )
        .await;
    assert!(e.to_string().contains("no usable size"), "{e}");
    let e = env.err("s", "render_svg", json!({"svg": "  "})).await;
    assert!(e.to_string().contains("empty"), "{e}");
    let e = env.err("s", "render_svg", json!({"svg": SQUARE, "width": 10000})).await;
    assert!(e.to_string().contains("1 to 4096"), "{e}");
    let tall = "<svg xmlns='http://www.w3.org/2000/svg' width='10' height='5000'/>";
    let e = env.err("s", "render_svg", json!({"svg": tall})).await;
    assert!(e.to_string().contains("at most 4096 pixels a side"), "{e}");
    let huge = format!(
        "<svg xmlns='http://www.w3.org/2000/svg' width='1' height='1'><!--{}--></svg>",
        "x".repeat(3 << 20)
    );
    let e = env.err("s", "render_svg", json!({"svg": huge})).await;
    assert!(e.to_string().contains("at most 2097152 bytes"), "{e}");
    let e = env.err("s", "render_svg", json!({})).await;
    assert!(e.to_string().contains("exactly one of `svg`"), "{e}");

    // A file on the host, a relative path, a URL: refused, never opened.
    for href in ["file:///etc/passwd", "/etc/passwd", "../../etc/hostname", "https://example.com/a.png"] {
        let svg = format!(
            "<svg xmlns='http://www.w3.org/2000/svg' xmlns:xlink='http://www.w3.org/1999/xlink' width='10' height='10'>\
             <image width='10' height='10' xlink:href='{href}'/></svg>"
        );
        let e = env.err("s", "render_svg", json!({"svg": svg})).await;
        assert!(matches!(e, ToolError::Blocked(_)), "{href}: {e:?}");
        assert!(e.to_string().contains("external resources") && e.to_string().contains(href), "{e}");
    }
    // An external entity is not resolved (the XML parser refuses DTD entities from outside).
    let xxe = "<?xml version='1.0'?><!DOCTYPE svg [<!ENTITY x SYSTEM 'file:///etc/passwd'>]>\
               <svg xmlns='http://www.w3.org/2000/svg' width='10' height='10'><desc>&x;</desc></svg>";
    match env.call("s", "render_svg", json!({"svg": xxe})).await {
        Err(e) => assert!(matches!(e, ToolError::InvalidArgs(_)), "{e:?}"),
        Ok(o) => assert!(!o.response.to_string().contains("root:"), "{}", o.response),
    }
    // An embedded SVG image (a data: URL) is drawn; an embedded PNG is reported as not drawn.
    use base64::Engine;
    let inner = base64::engine::general_purpose::STANDARD.encode(SQUARE);
    let svg = format!("<svg xmlns='http://www.w3.org/2000/svg' width='40' height='20'><image width='40' height='20' href='data:image/svg+xml;base64,{inner}'/></svg>");
    let out = env.out("s", "render_svg", json!({"svg": svg})).await;
    let png = base64::engine::general_purpose::STANDARD.decode(&out.artifacts[0].data).unwrap();
    assert_eq!(png_pixel(&png, 5, 10), [0, 0, 255, 255], "the embedded image's blue half");
    assert_eq!(png_pixel(&png, 35, 10), [255, 0, 0, 255], "the embedded image's red half");
    let out = env.out("s", "render_svg", json!({"svg": SQUARE, "width": 4})).await;
    let svg = format!("<svg xmlns='http://www.w3.org/2000/svg' width='4' height='2'><image width='4' height='2' href='data:image/png;base64,{}'/></svg>", out.artifacts[0].data);
    let r = env.ok("s", "render_svg", json!({"svg": svg})).await;
    assert!(r["notes"][0].as_str().unwrap().contains("1 embedded raster image"), "{r}");
}

#[test]
fn every_design_tool_has_a_described_schema() {
    let env = Env::strict();
    let tools = env.design.tools();
    let names: Vec<&str> = tools.iter().map(|t| t.name()).collect();
    assert_eq!(
        names,
        [
            "check_color_contrast",
            "generate_color_palette",
            "analyze_design_accessibility",
            "generate_ui_mockup",
            "render_svg",
            "generate_image"
        ]
    );
    for t in &tools {
        let schema = t.parameters();
        let undescribed = vana_toolkit::schema::undescribed(&schema);
        assert!(undescribed.is_empty(), "{}: {undescribed:?}", t.name());
        assert!(!schema.to_string().contains("\"$ref\""), "{}: {schema}", t.name());
        assert!(!schema.to_string().contains("\"oneOf\""), "{}: {schema}", t.name());
        let bad = vana_toolkit::schema::unplain(&schema, t.name());
        assert!(bad.is_empty(), "{bad:?}");
    }
    assert!(env.design.status().is_ready(), "Chromium is installed here (apt-get install -y chromium)");
    // The browser suite's own tools are unchanged, and the design suite drives the same browser.
    assert!(env.browser.tools().iter().any(|t| t.name() == "take_screenshot"));
}
