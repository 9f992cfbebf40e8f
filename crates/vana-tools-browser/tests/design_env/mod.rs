//! The design suite over a fresh data dir, built over the browser suite's own browser (one
//! Chromium for both), with its tools by name; and a loopback site for fixture pages.
#![allow(dead_code)]

use serde_json::Value;
use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use vana_core::{Tool, ToolContext, ToolError, ToolOutput};
use vana_toolkit::{SessionFiles, ToolSuite};
use vana_tools_browser::{BrowserConfig, BrowserSuite, DesignConfig, DesignSuite};

/// The suites over a fresh data dir.
pub struct Env {
    /// The data dir.
    pub dir: PathBuf,
    /// The browser suite (its browser is the design suite's).
    pub browser: BrowserSuite,
    /// The design suite.
    pub design: DesignSuite,
    tools: HashMap<String, Arc<dyn Tool>>,
    /// Session files.
    pub files: SessionFiles,
}

impl Env {
    /// Both suites with `policy` and `[design]`.
    pub fn new(policy: vana_net::OutboundPolicy, config: DesignConfig) -> Env {
        let dir = std::env::temp_dir().join(vana_testkit::unique("vana-design-test"));
        std::fs::create_dir_all(&dir).unwrap();
        let (uid, gid) = unsafe { (libc::getuid(), libc::getgid()) };
        let files = SessionFiles::new(vana_toolkit::vana_workspace::Workspaces::new(
            dir.join("workspaces"),
            uid,
            gid,
        ));
        let browser = BrowserSuite::new(BrowserConfig::default(), policy.clone(), files.clone());
        let design = DesignSuite::new(config, browser.browser().clone(), policy, files.clone());
        let tools = design.tools().into_iter().map(|t| (t.name().to_string(), t)).collect();
        Env { dir, browser, design, tools, files }
    }

    /// The default (strict) outbound policy.
    pub fn strict() -> Env {
        Env::new(vana_net::OutboundPolicy::default(), DesignConfig::default())
    }

    /// Loopback allowed.
    pub fn open() -> Env {
        Env::new(
            vana_net::OutboundPolicy { allow_private_networks: true, allowed_hosts: vec![] },
            DesignConfig::default(),
        )
    }

    /// Calls a tool in `session`.
    pub async fn call(&self, session: &str, tool: &str, args: Value) -> Result<ToolOutput, ToolError> {
        let t = self.tools.get(tool).unwrap_or_else(|| panic!("no tool {tool}"));
        t.call(args, ToolContext::standalone("test", "u", session)).await
    }

    /// Calls a tool and returns its whole output, panicking on an error.
    pub async fn out(&self, session: &str, tool: &str, args: Value) -> ToolOutput {
        match self.call(session, tool, args.clone()).await {
            Ok(o) => o,
            Err(e) => panic!("{tool} {args}: {e}"),
        }
    }

    /// Calls a tool and returns its JSON result, panicking on an error.
    pub async fn ok(&self, session: &str, tool: &str, args: Value) -> Value {
        self.out(session, tool, args).await.response
    }

    /// Calls a tool expecting an error.
    pub async fn err(&self, session: &str, tool: &str, args: Value) -> ToolError {
        match self.call(session, tool, args.clone()).await {
            Ok(o) => panic!("{tool} {args} succeeded: {}", o.response),
            Err(e) => e,
        }
    }

    /// Reads a workspace file.
    pub fn read(&self, session: &str, name: &str) -> Vec<u8> {
        self.files.read(&ToolContext::standalone("test", "u", session), name, 1 << 26).unwrap()
    }

    /// Writes a workspace file.
    pub fn write(&self, session: &str, name: &str, bytes: &[u8]) {
        self.files.write(&ToolContext::standalone("test", "u", session), name, bytes).unwrap();
    }
}

impl Drop for Env {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// A PNG's width and height, decoded (not just its header read).
pub fn png_size(bytes: &[u8]) -> (u32, u32) {
    let decoder = png::Decoder::new(std::io::Cursor::new(bytes));
    let mut reader = decoder.read_info().expect("a PNG");
    let mut buf = vec![0; reader.output_buffer_size().expect("size")];
    let info = reader.next_frame(&mut buf).expect("a decodable PNG frame");
    (info.width, info.height)
}

/// A decoded PNG's RGBA pixel at (x, y).
pub fn png_pixel(bytes: &[u8], x: u32, y: u32) -> [u8; 4] {
    let mut decoder = png::Decoder::new(std::io::Cursor::new(bytes));
    decoder.set_transformations(png::Transformations::EXPAND | png::Transformations::ALPHA);
    let mut reader = decoder.read_info().expect("a PNG");
    let mut buf = vec![0; reader.output_buffer_size().expect("size")];
    let info = reader.next_frame(&mut buf).expect("a frame");
    let ch = info.color_type.samples();
    let i = (y as usize * info.width as usize + x as usize) * ch;
    let px = &buf[i..i + ch];
    match ch {
        4 => [px[0], px[1], px[2], px[3]],
        3 => [px[0], px[1], px[2], 255],
        2 => [px[0], px[0], px[0], px[1]],
        _ => [px[0], px[0], px[0], 255],
    }
}

/// A loopback site serving fixed pages by path, recording each request path.
#[derive(Clone)]
pub struct Site {
    /// `http://127.0.0.1:PORT`.
    pub url: String,
    /// Paths requested.
    pub hits: Arc<Mutex<Vec<String>>>,
}

/// Serves `pages` (path → HTML) on 127.0.0.1.
pub async fn serve(pages: Vec<(&'static str, String)>) -> Site {
    use axum::response::Html;
    let listener = tokio::net::TcpListener::bind(("127.0.0.1", 0)).await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    let hits: Arc<Mutex<Vec<String>>> = Arc::default();
    let mut app = axum::Router::new();
    for (path, html) in pages {
        app = app.route(path, axum::routing::get(move || async move { Html(html) }));
    }
    let h = hits.clone();
    let app = app.layer(axum::middleware::from_fn(
        move |req: axum::extract::Request, next: axum::middleware::Next| {
            let h = h.clone();
            async move {
                h.lock().unwrap().push(req.uri().path().to_string());
                next.run(req).await
            }
        },
    ));
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    Site { url, hits }
}
