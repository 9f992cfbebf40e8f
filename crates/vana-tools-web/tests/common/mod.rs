//! The test site on 127.0.0.1: real Python documentation pages (Debian's `python3-doc`, written
//! by nobody here), charset, PDF, JSON, image and binary fixtures, a redirect chain, a slow page,
//! a large page, a robots.txt that disallows a path, an ETag page, and a page that counts how
//! many requests are in flight at once.
#![allow(dead_code)]

use axum::body::Body;
use axum::extract::{Path, State};
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::Router;
use serde_json::Value;
use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use vana_core::ToolContext;
use vana_tools_web::{WebConfig, WebSuite};

/// Where Debian's python3-doc puts the HTML documentation.
pub const PYDOC: &str = "/usr/share/doc/python3-doc/html";

/// A real documentation page (panics with the install step when python3-doc is missing).
pub fn pydoc(rel: &str) -> Vec<u8> {
    std::fs::read(format!("{PYDOC}/{rel}")).unwrap_or_else(|e| {
        panic!("{PYDOC}/{rel}: {e} (run scripts/setup-research.sh: apt-get install python3-doc)")
    })
}

/// Per-path request counts and the in-flight high-water mark.
#[derive(Default)]
pub struct Hits {
    pub counts: Mutex<HashMap<String, usize>>,
    pub in_flight: AtomicUsize,
    pub max_in_flight: AtomicUsize,
    pub not_modified: AtomicUsize,
}

impl Hits {
    pub fn count(&self, path: &str) -> usize {
        *self.counts.lock().unwrap().get(path).unwrap_or(&0)
    }
    pub fn total(&self) -> usize {
        self.counts.lock().unwrap().values().sum()
    }
}

/// A one-page PDF whose text is `text` (Helvetica, WinAnsi), with a correct xref table.
pub fn pdf(text: &str) -> Vec<u8> {
    let stream = format!("BT /F1 18 Tf 72 720 Td ({text}) Tj ET");
    let objects = [
        "<< /Type /Catalog /Pages 2 0 R >>".to_string(),
        "<< /Type /Pages /Kids [3 0 R] /Count 1 >>".to_string(),
        "<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents 4 0 R /Resources << /Font << /F1 5 0 R >> >> >>"
            .to_string(),
        format!("<< /Length {} >>\nstream\n{stream}\nendstream", stream.len()),
        "<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica /Encoding /WinAnsiEncoding >>".to_string(),
    ];
    let mut out = b"%PDF-1.4\n".to_vec();
    let mut offsets = Vec::new();
    for (i, o) in objects.iter().enumerate() {
        offsets.push(out.len());
        out.extend(format!("{} 0 obj\n{o}\nendobj\n", i + 1).bytes());
    }
    let xref = out.len();
    out.extend(format!("xref\n0 {}\n0000000000 65535 f \n", objects.len() + 1).bytes());
    for off in offsets {
        out.extend(format!("{off:010} 00000 n \n").bytes());
    }
    out.extend(
        format!("trailer\n<< /Size {} /Root 1 0 R >>\nstartxref\n{xref}\n%%EOF\n", objects.len() + 1).bytes(),
    );
    out
}

pub const LATIN1_TEXT: &str = "Café, crème brûlée et naïveté: déjà vu à Zürich.";
pub const SJIS_TEXT: &str = "日本語のページです。東京の天気は晴れ。";

fn page(ctype: &str, body: Vec<u8>) -> Response {
    ([(header::CONTENT_TYPE, ctype.to_string())], body).into_response()
}

async fn serve(State(hits): State<Arc<Hits>>, Path(path): Path<String>, headers: HeaderMap) -> Response {
    *hits.counts.lock().unwrap().entry(path.clone()).or_default() += 1;
    let html = "text/html; charset=utf-8";
    match path.as_str() {
        "robots.txt" => {
            page("text/plain", b"User-agent: *\nDisallow: /private\nAllow: /private/ok\n".to_vec())
        }
        "private/secret" | "private/ok" => page("text/plain", b"private text".to_vec()),
        "latin1" => {
            let src = format!(
                "<html><head><title>Latin</title></head><body><article><h1>Latin</h1><p>{LATIN1_TEXT}</p></article></body></html>"
            );
            let (bytes, _, _) = encoding_rs::WINDOWS_1252.encode(&src);
            page("text/html; charset=ISO-8859-1", bytes.into_owned())
        }
        "sjis" => {
            let src = format!(
                "<html><head><meta http-equiv=\"Content-Type\" content=\"text/html; charset=Shift_JIS\"><title>日本</title></head>\
                 <body><p>{SJIS_TEXT}</p></body></html>"
            );
            let (bytes, _, _) = encoding_rs::SHIFT_JIS.encode(&src);
            page("text/html", bytes.into_owned())
        }
        "doc.pdf" => page("application/pdf", pdf("Quarterly research report on tidal energy")),
        "data.json" => page("application/json", br#"{"name":"vana","tags":["a","b"],"n":3}"#.to_vec()),
        "image.png" => {
            page("image/png", b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR\0\0\0\x01\0\0\0\x01\x08\x02\0\0\0".to_vec())
        }
        "binary" => page("application/octet-stream", [0u8, 1, 2, 3, 0, 0, 255, 254].repeat(64)),
        "large" => page("text/plain", "all work and no play. ".repeat(20_000).into_bytes()),
        "slow" => {
            tokio::time::sleep(Duration::from_secs(6)).await;
            page("text/plain", b"late".to_vec())
        }
        "etag" => {
            if headers.get(header::IF_NONE_MATCH).and_then(|v| v.to_str().ok()) == Some("\"v1\"") {
                hits.not_modified.fetch_add(1, Ordering::SeqCst);
                return (StatusCode::NOT_MODIFIED, [(header::ETAG, "\"v1\"")]).into_response();
            }
            ([(header::CONTENT_TYPE, "text/plain"), (header::ETAG, "\"v1\"")], "cached body v1")
                .into_response()
        }
        "missing" => (StatusCode::NOT_FOUND, "no such page").into_response(),
        p if p.starts_with("docs/") => page(html, pydoc(&p["docs/".len()..])),
        p if p.starts_with("hop/") => {
            let n: usize = p["hop/".len()..].parse().unwrap_or(0);
            let to = if n == 0 { "/docs/library/json.html".to_string() } else { format!("/hop/{}", n - 1) };
            Response::builder()
                .status(StatusCode::FOUND)
                .header(header::LOCATION, to)
                .body(Body::empty())
                .unwrap()
        }
        p if p.starts_with("busy/") => {
            let now = hits.in_flight.fetch_add(1, Ordering::SeqCst) + 1;
            hits.max_in_flight.fetch_max(now, Ordering::SeqCst);
            tokio::time::sleep(Duration::from_millis(300)).await;
            hits.in_flight.fetch_sub(1, Ordering::SeqCst);
            page("text/plain", format!("busy page {p}").into_bytes())
        }
        _ => (StatusCode::NOT_FOUND, "no such page").into_response(),
    }
}

/// Starts the test site on 127.0.0.1.
pub async fn site() -> (SocketAddr, Arc<Hits>) {
    let hits = Arc::new(Hits::default());
    let app = Router::new().route("/{*path}", get(serve)).with_state(hits.clone());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    (addr, hits)
}

/// A config that may reach the test site (127.0.0.1 only).
pub fn local_config() -> WebConfig {
    WebConfig { allowed_hosts: vec!["127.0.0.1".into()], ..WebConfig::default() }
}

/// The suite over `config` with a fresh data dir (kept alive by the returned guard).
pub fn suite(config: WebConfig) -> (WebSuite, vana_testkit::TempDir) {
    let dir = vana_testkit::tempdir();
    let ws = vana_toolkit::vana_workspace::Workspaces::new(dir.path().join("workspaces"), 0, 0);
    let suite = WebSuite::new(config, vana_toolkit::SessionFiles::new(ws), dir.path().join("data"));
    (suite, dir)
}

/// Calls a tool of the suite by name.
pub async fn call(
    suite: &WebSuite,
    tool: &str,
    args: Value,
) -> Result<vana_core::ToolOutput, vana_core::ToolError> {
    use vana_toolkit::ToolSuite;
    let t = suite.tools().into_iter().find(|t| t.name() == tool).expect("tool");
    t.call(args, ToolContext::standalone("vana", "u", "s")).await
}
