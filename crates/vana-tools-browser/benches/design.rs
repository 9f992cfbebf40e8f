//! The design tools' costs, each against a baseline measured in the same run:
//!
//! - `generate_ui_mockup` (spec → HTML → three full-page PNGs → axe-core and text contrast)
//!   against plain screenshots of the same HTML at the same three widths in the same Chromium
//!   (what `take_screenshot` does, without the spec, the analysis or the workspace);
//! - `render_svg` per image (resvg in process) against `rsvg-convert` (Debian's librsvg2-bin,
//!   one process per image, as a tool shelling out would run it) on the same SVG.
//!
//! Run with `scripts/bench-design.sh` (it installs librsvg2-bin when missing).

use serde_json::json;
use std::time::{Duration, Instant};
use vana_core::ToolContext;
use vana_toolkit::ToolSuite;
use vana_tools_browser::design::axe;
use vana_tools_browser::{BrowserConfig, BrowserSuite, DesignConfig, DesignSuite};

fn median(mut v: Vec<Duration>) -> Duration {
    v.sort();
    v[v.len() / 2]
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

fn spec(i: usize) -> serde_json::Value {
    json!({
        "title": format!("Bench page {i}"),
        "theme": "ocean",
        "save_as": format!("bench/page-{i}.html"),
        "sections": [
            {"kind": "header", "brand": "Bench", "links": [{"label": "One"}, {"label": "Two"}, {"label": "Three"}]},
            {"kind": "hero", "heading": "A page to measure", "text": "Rendered at three widths.", "cta": {"label": "Start"}},
            {"kind": "cards", "heading": "Cards", "items": (0..6).map(|n| json!({"title": format!("Card {n}"), "text": "Some text for the card."})).collect::<Vec<_>>()},
            {"kind": "pricing", "heading": "Plans", "plans": [
                {"name": "Free", "price": "$0", "features": ["One", "Two"]},
                {"name": "Pro", "price": "$9", "features": ["One", "Two", "Three"], "highlighted": true}]},
            {"kind": "form", "heading": "Contact", "fields": [{"label": "Name"}, {"label": "Email", "kind": "email"}, {"label": "Message", "kind": "textarea"}]},
            {"kind": "footer", "text": "Bench footer"}
        ]
    })
}

fn svg() -> String {
    let mut s = String::from(
        "<svg xmlns='http://www.w3.org/2000/svg' width='512' height='512' viewBox='0 0 512 512'>\
         <defs><linearGradient id='g' x1='0' x2='1'><stop offset='0' stop-color='#1d4ed8'/><stop offset='1' stop-color='#0f766e'/></linearGradient></defs>\
         <rect width='512' height='512' fill='url(#g)'/>",
    );
    for i in 0..200 {
        let (x, y) = ((i * 37) % 512, (i * 91) % 512);
        s.push_str(&format!(
            "<circle cx='{x}' cy='{y}' r='{}' fill='hsl({} 70% 50%)' fill-opacity='0.6' stroke='#fff' stroke-width='1.5'/>",
            6 + i % 20,
            (i * 13) % 360
        ));
        s.push_str(&format!(
            "<path d='M{x} {y} q 20 -30 40 0 t 40 0' fill='none' stroke='#111' stroke-width='2'/>"
        ));
    }
    s.push_str("</svg>");
    s
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() {
    let dir = std::env::temp_dir().join(format!("vana-design-bench-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let (uid, gid) = unsafe { (libc::getuid(), libc::getgid()) };
    let files = vana_toolkit::SessionFiles::new(vana_toolkit::vana_workspace::Workspaces::new(
        dir.join("workspaces"),
        uid,
        gid,
    ));
    let policy = vana_net::OutboundPolicy::default();
    let browser = BrowserSuite::new(BrowserConfig::default(), policy.clone(), files.clone());
    let design = DesignSuite::new(DesignConfig::default(), browser.browser().clone(), policy, files);
    let tool = |name: &str| design.tools().into_iter().find(|t| t.name() == name).unwrap();
    let ctx = || ToolContext::standalone("bench", "u", "bench");
    let rounds: usize = std::env::var("ROUNDS").ok().and_then(|r| r.parse().ok()).unwrap_or(7);

    // Mockups. Warm up Chromium and both paths first.
    let mockup = tool("generate_ui_mockup");
    mockup.call(spec(0), ctx()).await.expect("mockup");
    let html = vana_tools_browser::design::mockup::render(
        &serde_json::from_value(
            json!({"title": "Bench page 0", "theme": "ocean", "sections": spec(0)["sections"]}),
        )
        .unwrap(),
    )
    .unwrap();
    let page = browser.browser().page("bench-plain").await.unwrap();
    let plain = |html: String| {
        let page = page.clone();
        async move {
            axe::load_html(&page, &html).await.unwrap();
            let mut n = 0;
            for w in [375, 768, 1280] {
                axe::set_width(&page, w, 800).await.unwrap();
                n += axe::screenshot(&page, w).await.unwrap().0.len();
            }
            n
        }
    };
    plain(html.clone()).await;
    let (mut tool_times, mut plain_times) = (Vec::new(), Vec::new());
    for i in 0..rounds {
        let t = Instant::now();
        let out = mockup.call(spec(i + 1), ctx()).await.expect("mockup");
        tool_times.push(t.elapsed());
        assert_eq!(out.artifacts.len(), 3);
        let t = Instant::now();
        plain(html.clone()).await;
        plain_times.push(t.elapsed());
    }
    let (m, p) = (median(tool_times), median(plain_times));
    println!(
        "generate_ui_mockup, spec -> 3 PNGs + axe-core + contrast: median {:.0} ms over {rounds}",
        ms(m)
    );
    println!("baseline, plain screenshots of the same HTML at 375/768/1280: median {:.0} ms", ms(p));
    println!("ratio mockup / plain screenshots: {:.2}x", ms(m) / ms(p));

    // SVG.
    let source = svg();
    let render = tool("render_svg");
    render.call(json!({"svg": source}), ctx()).await.expect("render_svg");
    let n = rounds * 5;
    let mut ours = Vec::new();
    for _ in 0..n {
        let t = Instant::now();
        let out = render.call(json!({"svg": source}), ctx()).await.expect("render_svg");
        ours.push(t.elapsed());
        assert_eq!(out.response["width"], 512);
    }
    let file = dir.join("bench.svg");
    std::fs::write(&file, &source).unwrap();
    let out_png = dir.join("bench.png");
    let rsvg = |f: &std::path::Path, o: &std::path::Path| {
        std::process::Command::new("rsvg-convert").arg("-o").arg(o).arg(f).status()
    };
    match rsvg(&file, &out_png) {
        Ok(s) if s.success() => {
            let mut theirs = Vec::new();
            for _ in 0..n {
                let t = Instant::now();
                assert!(rsvg(&file, &out_png).unwrap().success());
                theirs.push(t.elapsed());
            }
            let (a, b) = (median(ours), median(theirs));
            println!("render_svg (resvg in process, 512x512, 400 shapes): median {:.2} ms over {n}", ms(a));
            println!("baseline, rsvg-convert (one process per image): median {:.2} ms", ms(b));
            println!("ratio rsvg-convert / render_svg: {:.2}x", ms(b) / ms(a));
        }
        _ => {
            eprintln!("rsvg-convert is missing: apt-get install -y librsvg2-bin (scripts/bench-design.sh installs it)");
            std::process::exit(1);
        }
    }
    let _ = std::fs::remove_dir_all(&dir);
}
