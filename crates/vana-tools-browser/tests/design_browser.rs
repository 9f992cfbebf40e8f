//! The design tools that render in Debian's real Chromium (the browser suite's own, one
//! process for both suites): axe-core finds each violation planted in a fixture page (low
//! contrast, a missing alt, an unlabeled input, a skipped heading level) and nothing in the
//! clean page; text contrast measured from computed styles; pages from inline HTML, the
//! workspace and a loopback URL under the outbound policy; mockups rendered at three widths
//! (PNGs decoded), deterministic, with hostile content escaped; and bad input refused.

mod design_env;

use base64::Engine;
use design_env::{png_size, serve, Env};
use serde_json::{json, Value};
use vana_core::ToolError;
use vana_toolkit::ToolSuite;

/// A page with nothing wrong, and `plant` inside its main content.
fn fixture(plant: &str) -> String {
    format!(
        "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\"><title>Fixture</title></head><body>\
         <header><p>Acme</p></header><main><h1>Our products</h1><h2>Widgets</h2>\
         <p>Every widget is made by hand in our workshop.</p>{plant}</main>\
         <footer><p>Acme Ltd</p></footer></body></html>"
    )
}

const PIXEL: &str = "data:image/png;base64,iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg==";

fn rules(r: &Value) -> Vec<String> {
    let mut v: Vec<String> =
        r["violations"].as_array().unwrap().iter().map(|v| v["rule"].as_str().unwrap().to_string()).collect();
    v.sort();
    v
}

fn violation<'a>(r: &'a Value, rule: &str) -> &'a Value {
    r["violations"]
        .as_array()
        .unwrap()
        .iter()
        .find(|v| v["rule"] == rule)
        .unwrap_or_else(|| panic!("no {rule}: {r}"))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn axe_core_finds_each_planted_violation_and_nothing_in_the_clean_page() {
    let env = Env::strict();
    let analyze = |html: String| {
        let env = &env;
        async move { env.ok("s", "analyze_design_accessibility", json!({"html": html})).await }
    };
    let clean = analyze(fixture(&format!(
        "<p><img src=\"{PIXEL}\" alt=\"A widget\"> <label for=q>Search</label> <input id=q></p>"
    )))
    .await;
    assert_eq!(rules(&clean), Vec::<String>::new(), "the clean page: {clean}");
    assert_eq!(clean["engine"], "axe-core 4.11.0");
    assert!(clean["passed_rules"].as_u64().unwrap() >= 10, "{clean}");
    assert_eq!(clean["text_contrast"]["failing_aa"], 0, "{clean}");

    // Low contrast: #aaa on white is 2.32.
    let r = analyze(fixture("<p id=faint style=\"color:#aaa\">Faint small print</p>")).await;
    assert_eq!(rules(&r), ["color-contrast"], "{r}");
    let v = violation(&r, "color-contrast");
    assert_eq!(v["wcag"], json!(["1.4.3"]), "{v}");
    assert_eq!(v["level"], "AA");
    assert_eq!(v["impact"], "serious");
    assert_eq!(v["elements"][0]["selector"], "#faint", "{v}");
    assert!(v["elements"][0]["html"].as_str().unwrap().contains("Faint small print"), "{v}");
    assert!(v["elements"][0]["fix"].as_str().unwrap().contains("2.32"), "axe's own measurement: {v}");
    let f = &r["text_contrast"]["failures"][0];
    assert_eq!((f["selector"].as_str(), f["ratio"].as_f64()), (Some("#faint"), Some(2.32)), "{r}");
    assert!(f["suggested_colors"][0]["ratio"].as_f64().unwrap() >= 4.5, "{f}");

    // A missing alt text.
    let r = analyze(fixture(&format!("<p><img id=pic src=\"{PIXEL}\"></p>"))).await;
    assert_eq!(rules(&r), ["image-alt"], "{r}");
    let v = violation(&r, "image-alt");
    assert!(v["wcag"].as_array().unwrap().contains(&json!("1.1.1")), "{v}");
    assert_eq!(v["impact"], "critical");
    assert_eq!(v["elements"][0]["selector"], "#pic");
    assert!(v["elements"][0]["fix"].as_str().unwrap().contains("alt"), "{v}");

    // An input without a label.
    let r = analyze(fixture("<form><input id=email type=email name=email></form>")).await;
    assert_eq!(rules(&r), ["label"], "{r}");
    let v = violation(&r, "label");
    assert!(v["wcag"].as_array().unwrap().contains(&json!("4.1.2")), "{v}");
    assert_eq!(v["elements"][0]["selector"], "#email");

    // A heading level skipped (h2 then h4).
    let r = analyze(fixture("<h4 id=skip>Details</h4><p>More.</p>")).await;
    assert_eq!(rules(&r), ["heading-order"], "{r}");
    let v = violation(&r, "heading-order");
    assert_eq!(v["level"], "best practice");
    assert_eq!(v["elements"][0]["selector"], "#skip");

    // All four at once: each found, counted in the summary.
    let all = fixture(&format!(
        "<p style=\"color:#aaa\">Faint</p><img src=\"{PIXEL}\"><input name=x><h4>Skipped</h4>"
    ));
    let r = analyze(all).await;
    assert_eq!(rules(&r), ["color-contrast", "heading-order", "image-alt", "label"], "{r}");
    assert_eq!(r["summary"]["violations"], 4);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn text_contrast_is_measured_from_computed_styles() {
    let env = Env::strict();
    let html = fixture(
        "<p id=half style=\"color:rgba(0,0,0,0.5)\">Half black</p>\
         <p id=big style=\"color:#949494;font-size:24px\">Large grey heading text</p>\
         <p id=small style=\"color:#949494\">Small grey text</p>\
         <div style=\"background:rgba(0,0,0,0.5)\"><span id=onhalf style=\"color:#fff\">White on half black</span></div>\
         <p id=hidden style=\"display:none;color:#eee\">Hidden text is not measured</p>\
         <div style=\"background:#1d4ed8\"><p id=button style=\"color:#fff\">Blue button</p></div>",
    );
    let r = env.ok("s", "analyze_design_accessibility", json!({"html": html})).await;
    let tc = &r["text_contrast"];
    let el = |sel: &str| -> Value {
        tc["elements"]
            .as_array()
            .unwrap()
            .iter()
            .find(|e| e["selector"] == sel)
            .cloned()
            .unwrap_or(Value::Null)
    };
    // (selector, colour seen, background, ratio by the WCAG formula, large, passes AA)
    for (sel, fg, bg, ratio, large, pass) in [
        ("#half", "#808080", "#ffffff", 3.95, false, false),
        ("#big", "#949494", "#ffffff", 3.03, true, true),
        ("#small", "#949494", "#ffffff", 3.03, false, false),
        ("#onhalf", "#ffffff", "#808080", 3.95, false, false),
        ("#button", "#ffffff", "#1d4ed8", 6.70, false, true),
    ] {
        let e = el(sel);
        assert_eq!(e["color"], fg, "{sel}: {e}");
        assert_eq!(e["background"], bg, "{sel}: {e}");
        assert_eq!(e["ratio"].as_f64(), Some(ratio), "{sel}: {e}");
        assert_eq!(e["large_text"], large, "{sel}: {e}");
        assert_eq!(e["passes_aa"], pass, "{sel}: {e}");
    }
    assert_eq!(el("#hidden"), Value::Null, "hidden text is not measured");
    assert_eq!(tc["failing_aa"], 3, "{tc}");
    assert_eq!(tc["lowest_ratio"], 3.03, "{tc}");
    // axe-core agrees on which elements fail.
    let axe: Vec<String> = violation(&r, "color-contrast")["elements"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["selector"].as_str().unwrap().to_string())
        .collect();
    for sel in ["#half", "#small", "#onhalf"] {
        assert!(axe.iter().any(|a| a == sel), "{sel} not in axe's {axe:?}");
    }
    assert!(!axe.iter().any(|a| a == "#big" || a == "#button"), "{axe:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pages_come_from_the_workspace_or_a_url_under_the_outbound_policy() {
    let site = serve(vec![("/bad", fixture("<input name=q>")), ("/good", fixture(""))]).await;
    // Default policy: loopback is refused and the server gets no request.
    let strict = Env::strict();
    let e =
        strict.err("s", "analyze_design_accessibility", json!({"url": format!("{}/bad", site.url)})).await;
    assert!(matches!(e, ToolError::Blocked(_)) && e.to_string().contains("loopback"), "{e:?}");
    for url in ["file:///etc/passwd", "javascript:alert(1)", "chrome://version"] {
        let e = strict.err("s", "analyze_design_accessibility", json!({"url": url})).await;
        assert!(matches!(e, ToolError::Blocked(_)), "{url}: {e:?}");
    }
    assert!(site.hits.lock().unwrap().is_empty(), "{:?}", site.hits.lock().unwrap());
    // Allowed: the page is loaded and checked.
    let env = Env::open();
    let r = env.ok("s", "analyze_design_accessibility", json!({"url": format!("{}/bad", site.url)})).await;
    assert_eq!(rules(&r), ["label"], "{r}");
    assert_eq!(r["source"], format!("{}/bad", site.url));
    let r = env
        .ok("s", "analyze_design_accessibility", json!({"url": format!("{}/good", site.url), "width": 375}))
        .await;
    assert_eq!(rules(&r), Vec::<String>::new(), "{r}");
    assert_eq!(r["width"], 375);
    // A workspace file.
    env.write("s", "site/index.html", fixture(&format!("<img src=\"{PIXEL}\">")).as_bytes());
    let r = env.ok("s", "analyze_design_accessibility", json!({"path": "site/index.html"})).await;
    assert_eq!(rules(&r), ["image-alt"], "{r}");
    // Bad input: clear errors.
    let cases = [
        (json!({}), "exactly one of"),
        (json!({"html": "<p>x</p>", "url": "http://127.0.0.1/"}), "exactly one of"),
        (json!({"html": "   "}), "empty"),
        (json!({"html": "x".repeat(1024 * 1024 + 1)}), "at most 1048576 bytes"),
        (json!({"html": "<p>x</p>", "width": 50}), "200 to 3840"),
        (json!({"path": "missing.html"}), "missing.html"),
        (json!({"path": "../../etc/passwd"}), ""),
    ];
    for (args, want) in cases {
        let e = env.err("s", "analyze_design_accessibility", args.clone()).await;
        assert!(matches!(e, ToolError::InvalidArgs(_) | ToolError::Blocked(_)), "{args}: {e:?}");
        assert!(e.to_string().contains(want), "{args}: {e}");
    }
    // The session's own browsing page is untouched by the design tools: a separate context.
    let nav = env.browser.tools().into_iter().find(|t| t.name() == "navigate_to_url").unwrap();
    nav.call(
        json!({"url": format!("{}/good", site.url)}),
        vana_core::ToolContext::standalone("test", "u", "s"),
    )
    .await
    .unwrap();
    let pid = env.browser.browser().pid().await;
    env.ok("s", "analyze_design_accessibility", json!({"html": fixture("")})).await;
    assert_eq!(env.browser.browser().pid().await, pid, "one Chromium for both suites");
    assert_eq!(env.browser.browser().open_contexts().await, 2, "the session's page and its design page");
    let text = env.browser.tools().into_iter().find(|t| t.name() == "extract_text").unwrap();
    let t = text
        .call(json!({"mode": "all"}), vana_core::ToolContext::standalone("test", "u", "s"))
        .await
        .unwrap();
    assert_eq!(t.response["url"], format!("{}/good", site.url), "{}", t.response);
}

/// A spec with every component.
fn spec(theme: &str) -> Value {
    json!({
        "title": "Bean There Coffee",
        "theme": theme,
        "sections": [
            {"kind": "header", "brand": "Bean There", "links": [{"label": "Menu", "href": "#menu"}, {"label": "Visit", "href": "/visit"}]},
            {"kind": "nav", "heading": "Shop", "links": [{"label": "Beans"}, {"label": "Gear"}]},
            {"kind": "hero", "heading": "Coffee roasted this morning", "text": "Single-origin beans, roasted in small batches.", "cta": {"label": "Order now", "href": "#order"}},
            {"kind": "cards", "heading": "Our menu", "items": [
                {"title": "Espresso", "text": "Rich and short."},
                {"title": "Flat white", "text": "Velvety milk.", "link": {"label": "Details", "href": "/flat-white"}},
                {"title": "Cold brew", "text": "Steeped 18 hours."}]},
            {"kind": "pricing", "heading": "Subscriptions", "plans": [
                {"name": "Taster", "price": "$12", "period": "per month", "features": ["1 bag", "Free shipping"]},
                {"name": "Regular", "price": "$22", "period": "per month", "features": ["2 bags", "Free shipping", "Brewing guide"], "highlighted": true, "cta": "Subscribe"}]},
            {"kind": "form", "heading": "Get in touch", "fields": [
                {"label": "Name", "required": true},
                {"label": "Email", "kind": "email", "placeholder": "you@example.com", "required": true},
                {"label": "Topic", "kind": "select", "options": ["Wholesale", "Events"]},
                {"label": "Message", "kind": "textarea"},
                {"label": "Send me the newsletter", "kind": "checkbox"}], "cta": {"label": "Send"}},
            {"kind": "footer", "text": "© Bean There Coffee", "links": [{"label": "Privacy", "href": "/privacy"}]}
        ]
    })
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_mockup_renders_at_three_widths_is_deterministic_and_accessible_in_every_theme() {
    let env = Env::strict();
    let out = env.out("s", "generate_ui_mockup", spec("light")).await;
    let r = &out.response;
    assert_eq!(r["html_path"], "mockups/bean-there-coffee.html", "{r}");
    // Three PNG artifacts, decoded: exactly 375, 768 and 1280 pixels wide, the whole page tall.
    assert_eq!(out.artifacts.len(), 3, "{r}");
    let mut heights = Vec::new();
    for (a, (label, w)) in out.artifacts.iter().zip([("mobile", 375), ("tablet", 768), ("desktop", 1280)]) {
        assert_eq!(a.mime_type, "image/png");
        assert_eq!(a.display_name.as_deref(), Some(format!("bean-there-coffee-{label}-{w}.png").as_str()));
        let png = base64::engine::general_purpose::STANDARD.decode(&a.data).unwrap();
        let (pw, ph) = png_size(&png);
        assert_eq!(pw, w, "{label}");
        assert!(ph > 800, "{label}: the full page, not just the viewport ({ph})");
        heights.push(ph);
        let saved = env.read("s", &format!("mockups/bean-there-coffee-{label}-{w}.png"));
        assert_eq!(saved, png, "the PNG is also in the workspace");
    }
    assert!(heights[0] > heights[1] && heights[1] > heights[2], "narrower is taller: {heights:?}");
    // The accessibility analysis ran on it: nothing to report for VANA's own components.
    let a = &r["accessibility"];
    assert_eq!(a["engine"], "axe-core 4.11.0");
    assert_eq!(a["violations"], json!([]), "{a}");
    assert!(a["text_elements_measured"].as_u64().unwrap() > 20, "{a}");
    // The same spec gives the same bytes; the HTML is self-contained.
    let html = env.read("s", "mockups/bean-there-coffee.html");
    let mut second = spec("light");
    second["save_as"] = json!("mockups/again.html");
    env.ok("s", "generate_ui_mockup", second).await;
    assert_eq!(env.read("s", "mockups/again.html"), html, "same spec, same HTML");
    let text = String::from_utf8(html).unwrap();
    assert!(text.starts_with("<!doctype html>") && text.contains("<meta name=\"viewport\""));
    for external in ["http://", "https://", "<script", "<link", "@import", "url("] {
        assert!(!text.contains(external), "the mockup fetches nothing: {external}");
    }
    for piece in [
        "<header",
        "<nav",
        "<h1>Coffee roasted this morning</h1>",
        "<h3>Espresso</h3>",
        "<form",
        "<label for=\"f5-1\">Email",
        "Recommended",
        "<footer",
    ] {
        assert!(text.contains(piece), "{piece} missing");
    }
    // Every theme passes axe-core and the measured contrast.
    for theme in ["dark", "ocean", "sunset", "forest", "mono"] {
        let mut s = spec(theme);
        s["save_as"] = json!(format!("mockups/{theme}.html"));
        let r = env.ok("s", "generate_ui_mockup", s).await;
        assert_eq!(r["accessibility"]["violations"], json!([]), "{theme}: {}", r["accessibility"]);
        assert_eq!(r["accessibility"]["text_contrast_failures"], json!([]), "{theme}");
        assert_ne!(
            env.read("s", &format!("mockups/{theme}.html")),
            env.read("s", "mockups/again.html"),
            "{theme}"
        );
    }
    // A custom accent gets a readable text colour.
    let mut s = spec("light");
    s["primary_color"] = json!("#ffd700");
    s["save_as"] = json!("mockups/gold.html");
    let r = env.ok("s", "generate_ui_mockup", s).await;
    assert_eq!(r["accessibility"]["text_contrast_failures"], json!([]), "{}", r["accessibility"]);
    assert!(String::from_utf8(env.read("s", "mockups/gold.html"))
        .unwrap()
        .contains("--primary:#ffd700;--on-primary:#000000"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hostile_content_is_escaped_and_bad_specs_are_refused_before_anything_is_written() {
    let env = Env::strict();
    let hostile = json!({
        "title": "</title><script>document.title='pwned'</script>",
        "sections": [
            {"kind": "header", "brand": "\"><img src=x onerror=\"document.title='pwned'\">", "links": [{"label": "Click", "href": "javascript:document.title='pwned'"}]},
            {"kind": "hero", "heading": "<script>document.title='pwned'</script>Hello", "text": "<b>bold?</b> & <i>more</i>", "cta": {"label": "Go", "href": " JaVaScRiPt:alert(1)"}},
            {"kind": "cards", "items": [{"title": "<style>body{display:none}</style>", "link": {"label": "x", "href": "data:text/html,<script>alert(1)</script>"}}]},
            {"kind": "form", "fields": [{"label": "<svg onload=alert(1)>", "placeholder": "\" autofocus onfocus=\"alert(1)"}]}
        ],
        "save_as": "mockups/hostile.html"
    });
    let r = env.ok("s", "generate_ui_mockup", hostile).await;
    let html = String::from_utf8(env.read("s", "mockups/hostile.html")).unwrap();
    for raw in [
        "<script",
        "<img",
        "<style>body",
        "<svg",
        "<b>",
        "javascript:",
        "JaVaScRiPt",
        "data:text",
        "\" autofocus",
        "onerror=\"",
    ] {
        assert!(!html.contains(raw), "{raw} reached the HTML unescaped");
    }
    for escaped in [
        "&lt;/title&gt;&lt;script&gt;",
        "&quot;&gt;&lt;img src=x onerror=",
        "&lt;b&gt;bold?&lt;/b&gt; &amp; &lt;i&gt;",
    ] {
        assert!(html.contains(escaped), "{escaped} missing");
    }
    // In the browser the hostile content is text: nothing ran, the title is the literal string.
    let text = env.browser.tools().into_iter().find(|t| t.name() == "extract_text").unwrap();
    let t = text
        .call(json!({"mode": "all"}), vana_core::ToolContext::standalone("test", "u", "s#design"))
        .await
        .unwrap();
    assert_eq!(t.response["title"], "</title><script>document.title='pwned'</script>", "{}", t.response);
    assert!(
        t.response["text"].as_str().unwrap().contains("<script>document.title='pwned'</script>Hello"),
        "{}",
        t.response
    );
    assert_eq!(r["renders"].as_array().unwrap().len(), 3);

    // Bad specs: clear errors naming the field; nothing is written.
    let many: Vec<Value> = (0..31).map(|_| json!({"kind": "hero", "heading": "x"})).collect();
    let long = "x".repeat(2001);
    let cases = [
        (json!({"title": "T", "sections": []}), "field `sections`: give at least one section"),
        (json!({"title": " ", "sections": [{"kind": "hero"}]}), "field `title`"),
        (json!({"title": "T", "sections": many}), "at most 30 sections"),
        (json!({"title": "T", "sections": [{"kind": "hero", "text": long}]}), "longer than 2000"),
        (json!({"title": "T", "sections": [{"kind": "form"}]}), "a form needs at least one field"),
        (json!({"title": "T", "sections": [{"kind": "carousel"}]}), "sections[0].kind"),
        (
            json!({"title": "T", "primary_color": "#12", "sections": [{"kind": "hero"}]}),
            "field `primary_color`",
        ),
        (json!({"title": "T", "sections": [{"kind": "hero"}], "save_as": "../../outside.html"}), ""),
        (
            json!({"title": "T", "sections": [{"kind": "hero"}], "save_as": "mockups/page.exe"}),
            "must end in .html",
        ),
    ];
    for (args, want) in cases {
        let e = env.err("s2", "generate_ui_mockup", args.clone()).await;
        assert!(matches!(e, ToolError::InvalidArgs(_) | ToolError::Blocked(_)), "{args}: {e:?}");
        assert!(e.to_string().contains(want), "{args}: {e}");
    }
    let ctx = vana_core::ToolContext::standalone("test", "u", "s2");
    assert!(env.files.open(&ctx).unwrap().is_none(), "no workspace was even created for the refused calls");
}
