//! Navigate + read the text of a local page: VANA's browser tools (called as an agent calls
//! them) against `@playwright/mcp` over MCP stdio (the reference), both driving Debian's
//! `/usr/bin/chromium`, measured in the same run; and the memory of each open browser context.
//!
//! `cargo bench -p vana-tools-browser --bench navigate` (or `scripts/bench-browser.sh`, which
//! installs the reference first). The reference is `benches/reference/node_modules/@playwright/mcp`
//! or `$PLAYWRIGHT_MCP` (its cli.js); without it only VANA's figures are printed.

use serde_json::{json, Value};
use std::io::{BufRead, BufReader, Write};
use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use vana_core::ToolContext;
use vana_toolkit::ToolSuite;
use vana_tools_browser::{BrowserConfig, BrowserSuite};

const ROUNDS: usize = 40;
const CONTEXTS: usize = 6;

/// A page of some substance: a heading, twenty paragraphs, a list, a script that adds a line.
fn article() -> String {
    let mut body = String::from("<main><h1>Field notes</h1>");
    for i in 0..20 {
        body.push_str(&format!(
            "<p>Paragraph {i}: the quick brown fox jumps over the lazy dog while the benchmark measures how long a \
             browser takes to load a page and hand its text back to an agent.</p>"
        ));
    }
    body.push_str("<ul>");
    for i in 0..30 {
        body.push_str(&format!("<li>item {i}</li>"));
    }
    body.push_str("</ul><p id=js></p></main><script>document.getElementById('js').textContent = 'added by script';</script>");
    format!("<!doctype html><html><head><title>Field notes</title></head><body>{body}</body></html>")
}

async fn serve() -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    let page = article();
    tokio::spawn(async move {
        loop {
            let (mut s, _) = listener.accept().await.unwrap();
            let page = page.clone();
            tokio::spawn(async move {
                let mut buf = [0u8; 8192];
                let mut seen = Vec::new();
                loop {
                    let n = s.read(&mut buf).await.unwrap_or(0);
                    if n == 0 {
                        return;
                    }
                    seen.extend_from_slice(&buf[..n]);
                    while let Some(end) = seen.windows(4).position(|w| w == b"\r\n\r\n") {
                        seen.drain(..end + 4);
                        let body = page.as_bytes();
                        let head = format!(
                            "HTTP/1.1 200 OK\r\nContent-Type: text/html; charset=utf-8\r\nContent-Length: {}\r\nCache-Control: no-store\r\n\r\n",
                            body.len()
                        );
                        if s.write_all(head.as_bytes()).await.is_err() || s.write_all(body).await.is_err() {
                            return;
                        }
                    }
                }
            });
        }
    });
    url
}

fn pct(v: &mut [f64], p: f64) -> f64 {
    v.sort_by(|a, b| a.partial_cmp(b).unwrap());
    v[((v.len() - 1) as f64 * p).round() as usize]
}

/// Sum of RSS and PSS (kB) over every process in `pgid`'s process group.
fn group_memory(pgid: i32) -> (u64, u64) {
    let (mut rss, mut pss) = (0, 0);
    for e in std::fs::read_dir("/proc").unwrap().flatten() {
        let Ok(pid) = e.file_name().to_string_lossy().parse::<i32>() else { continue };
        let Ok(stat) = std::fs::read_to_string(format!("/proc/{pid}/stat")) else { continue };
        let after = &stat[stat.rfind(')').unwrap() + 2..];
        let fields: Vec<&str> = after.split_whitespace().collect();
        if fields.get(2).and_then(|g| g.parse::<i32>().ok()) != Some(pgid) {
            continue;
        }
        if let Ok(s) = std::fs::read_to_string(format!("/proc/{pid}/smaps_rollup")) {
            for l in s.lines() {
                let kb =
                    |l: &str| l.split_whitespace().nth(1).and_then(|v| v.parse::<u64>().ok()).unwrap_or(0);
                if l.starts_with("Rss:") {
                    rss += kb(l);
                } else if l.starts_with("Pss:") {
                    pss += kb(l);
                }
            }
        }
    }
    (rss, pss)
}

async fn vana(url: &str) -> (Vec<f64>, Option<(f64, f64)>) {
    let dir = std::env::temp_dir().join(format!("vana-browser-bench-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let (uid, gid) = unsafe { (libc::getuid(), libc::getgid()) };
    let files = vana_toolkit::SessionFiles::new(vana_toolkit::vana_workspace::Workspaces::new(
        dir.join("ws"),
        uid,
        gid,
    ));
    let policy = vana_net::OutboundPolicy { allow_private_networks: true, allowed_hosts: vec![] };
    let suite =
        BrowserSuite::new(BrowserConfig { max_contexts: CONTEXTS + 2, ..Default::default() }, policy, files);
    let tools = suite.tools();
    let tool = |n: &str| tools.iter().find(|t| t.name() == n).unwrap().clone();
    let (nav, text) = (tool("navigate_to_url"), tool("extract_text"));
    let ctx = ToolContext::standalone("bench", "u", "bench");
    let mut times = Vec::new();
    for i in 0..ROUNDS + 3 {
        let t = Instant::now();
        nav.call(json!({"url": format!("{url}/?r={i}")}), ctx.clone()).await.unwrap();
        let out = text.call(json!({}), ctx.clone()).await.unwrap();
        let ms = t.elapsed().as_secs_f64() * 1000.0;
        assert!(out.response["text"].as_str().unwrap().contains("added by script"));
        if i >= 3 {
            times.push(ms);
        }
    }
    // Memory: each further context with the page open.
    let pid = suite.browser().pid().await.unwrap();
    tokio::time::sleep(Duration::from_millis(500)).await;
    let before = group_memory(pid);
    for s in 0..CONTEXTS {
        let c = ToolContext::standalone("bench", "u", &format!("mem{s}"));
        nav.call(json!({"url": format!("{url}/?m={s}")}), c.clone()).await.unwrap();
        text.call(json!({}), c).await.unwrap();
    }
    tokio::time::sleep(Duration::from_millis(1000)).await;
    let after = group_memory(pid);
    let _ = std::fs::remove_dir_all(&dir);
    let per = |a: u64, b: u64| (a.saturating_sub(b)) as f64 / CONTEXTS as f64 / 1024.0;
    (times, Some((per(after.0, before.0), per(after.1, before.1))))
}

fn reference_cli() -> Option<PathBuf> {
    if let Ok(p) = std::env::var("PLAYWRIGHT_MCP") {
        return Some(PathBuf::from(p));
    }
    let p = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("benches/reference/node_modules/@playwright/mcp/cli.js");
    p.exists().then_some(p)
}

/// `@playwright/mcp` over stdio: navigate + evaluate `document.body.innerText`.
fn playwright(cli: &std::path::Path, url: &str, extra: &[&str]) -> Result<Vec<f64>, String> {
    let home = std::env::temp_dir().join(format!("vana-pw-bench-{}", std::process::id()));
    std::fs::create_dir_all(&home).unwrap();
    let mut args = vec![
        cli.display().to_string(),
        "--headless".into(),
        "--browser=chromium".into(),
        "--executable-path=/usr/bin/chromium".into(),
        "--no-sandbox".into(),
        "--isolated".into(),
        format!("--output-dir={}", home.display()),
    ];
    args.extend(extra.iter().map(|s| s.to_string()));
    let mut child = Command::new("node")
        .args(&args)
        .current_dir(&home)
        .env("PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD", "1")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .map_err(|e| format!("node: {e}"))?;
    let mut stdin = child.stdin.take().unwrap();
    let mut stdout = BufReader::new(child.stdout.take().unwrap());
    let mut id = 0;
    let mut rpc = |method: &str, params: Value| -> Result<Value, String> {
        if method.starts_with("notifications/") {
            writeln!(stdin, "{}", json!({"jsonrpc": "2.0", "method": method, "params": params}))
                .map_err(|e| e.to_string())?;
            return Ok(Value::Null);
        }
        id += 1;
        writeln!(stdin, "{}", json!({"jsonrpc": "2.0", "id": id, "method": method, "params": params}))
            .map_err(|e| e.to_string())?;
        stdin.flush().unwrap();
        loop {
            let mut line = String::new();
            if stdout.read_line(&mut line).map_err(|e| e.to_string())? == 0 {
                return Err("playwright-mcp exited".into());
            }
            let Ok(v) = serde_json::from_str::<Value>(&line) else { continue };
            if v["id"] == id {
                if v.get("error").is_some() || v["result"]["isError"] == true {
                    return Err(v.to_string());
                }
                return Ok(v["result"].clone());
            }
        }
    };
    rpc(
        "initialize",
        json!({"protocolVersion": "2025-06-18", "capabilities": {}, "clientInfo": {"name": "vana-bench", "version": "0"}}),
    )?;
    rpc("notifications/initialized", json!({}))?;
    let mut times = Vec::new();
    for i in 0..ROUNDS + 3 {
        let t = Instant::now();
        rpc(
            "tools/call",
            json!({"name": "browser_navigate", "arguments": {"url": format!("{url}/?p={i}")}}),
        )?;
        let r = rpc(
            "tools/call",
            json!({"name": "browser_evaluate", "arguments": {"function": "() => document.body.innerText"}}),
        )?;
        let ms = t.elapsed().as_secs_f64() * 1000.0;
        if !r.to_string().contains("added by script") {
            return Err(format!("unexpected evaluate result: {r}"));
        }
        if i >= 3 {
            times.push(ms);
        }
    }
    let _ = child.kill();
    let _ = child.wait();
    let _ = std::fs::remove_dir_all(&home);
    Ok(times)
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() {
    let url = serve().await;
    let (mut ours, mem) = vana(&url).await;
    let (p50, p90) = (pct(&mut ours, 0.5), pct(&mut ours, 0.9));
    println!(
        "navigate + extract_text on a local page, {ROUNDS} rounds after 3 warm-up rounds, /usr/bin/chromium"
    );
    println!("  vana (in-process tools, CDP pipe):   p50 {p50:7.1} ms   p90 {p90:7.1} ms");
    if let Some((rss, pss)) = mem {
        println!("  memory per open browser context ({CONTEXTS} contexts, page loaded): RSS +{rss:.1} MiB, PSS +{pss:.1} MiB");
    }
    let Some(cli) = reference_cli() else {
        println!(
            "  @playwright/mcp not installed (scripts/bench-browser.sh installs it): no reference figures"
        );
        return;
    };
    for (label, extra) in [
        ("@playwright/mcp (defaults)", &[][..]),
        (
            "@playwright/mcp (--snapshot-mode none --timeout-settle 0)",
            &["--snapshot-mode=none", "--timeout-settle=0"][..],
        ),
    ] {
        let u = url.clone();
        let c = cli.clone();
        let extra: Vec<&'static str> = extra.to_vec();
        match tokio::task::spawn_blocking(move || playwright(&c, &u, &extra)).await.unwrap() {
            Ok(mut t) => {
                let (r50, r90) = (pct(&mut t, 0.5), pct(&mut t, 0.9));
                println!(
                    "  {label}: p50 {r50:7.1} ms   p90 {r90:7.1} ms   -> vana is {:.1}x faster at p50",
                    r50 / p50
                );
            }
            Err(e) => println!("  {label}: failed: {e}"),
        }
    }
}
