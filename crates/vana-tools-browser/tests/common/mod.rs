//! The pages the browser tests load, served on loopback by a real HTTP server (axum), each
//! server recording every request it receives (so a test can prove a denied address got none),
//! and the suite over a fresh data dir.
#![allow(dead_code)]

use axum::extract::{Form, Path, Query, State};
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{Html, IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use serde_json::Value;
use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use vana_core::{Tool, ToolContext, ToolError, ToolOutput};
use vana_toolkit::{SessionFiles, ToolSuite};
use vana_tools_browser::{BrowserConfig, BrowserSuite};

/// A running test site.
#[derive(Clone)]
pub struct Site {
    /// `http://IP:PORT`.
    pub url: String,
    /// Every request line received (`GET /path`).
    pub hits: Arc<Mutex<Vec<String>>>,
    /// Form posts received (fields).
    pub posts: Arc<Mutex<Vec<HashMap<String, String>>>>,
}

impl Site {
    /// The requests so far.
    pub fn requests(&self) -> Vec<String> {
        self.hits.lock().unwrap().clone()
    }
}

#[derive(Clone)]
struct S {
    hits: Arc<Mutex<Vec<String>>>,
    posts: Arc<Mutex<Vec<HashMap<String, String>>>>,
    other: Arc<Mutex<String>>,
}

fn page(title: &str, body: &str) -> Html<String> {
    Html(format!("<!doctype html><html><head><meta charset=utf-8><title>{title}</title></head><body>{body}</body></html>"))
}

const FORM: &str = r#"<main><h1>Sign up</h1>
<form method="post" action="/submit">
  <label for="name">Name</label> <input id="name" name="name" required>
  <label>Email <input type="email" name="email"></label>
  <label for="color">Colour</label>
  <select id="color" name="color"><option value="r">Red</option><option value="g">Green</option><option value="b">Blue</option></select>
  <label><input type="checkbox" name="subscribe" value="yes"> Subscribe</label>
  <label><input type="radio" name="plan" value="free" checked> Free</label>
  <label><input type="radio" name="plan" value="pro"> Pro</label>
  <label for="note">Note</label> <textarea id="note" name="note"></textarea>
  <button type="submit">Send</button>
</form></main>"#;

fn escape(s: &str) -> String {
    s.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;")
}

async fn submit(State(s): State<S>, Form(f): Form<HashMap<String, String>>) -> Html<String> {
    let mut keys: Vec<_> = f.iter().map(|(k, v)| format!("{k}={}", escape(v))).collect();
    keys.sort();
    s.posts.lock().unwrap().push(f);
    page("Received", &format!("<main><h1>Thanks</h1><p id=echo>Received: {}</p></main>", keys.join("; ")))
}

async fn list(Query(q): Query<HashMap<String, String>>) -> Html<String> {
    let n: usize = q.get("page").and_then(|p| p.parse().ok()).unwrap_or(1);
    let mut body = String::from("<main><h1>Products</h1><ul>");
    for i in 1..=4 {
        let id = (n - 1) * 4 + i;
        body.push_str(&format!(
            "<li class=product><a class=name href=\"/item/{id}\">Widget {id}</a> <span class=price>{}.50</span></li>",
            id * 3
        ));
    }
    body.push_str("</ul>");
    if n < 3 {
        body.push_str(&format!("<a class=next href=\"/list?page={}\">Next</a>", n + 1));
    }
    body.push_str("</main>");
    page(&format!("Products {n}"), &body)
}

async fn redirect(Path(n): Path<u32>) -> Response {
    if n == 0 {
        Redirect::to("/final").into_response()
    } else {
        Redirect::to(&format!("/redirect/{}", n - 1)).into_response()
    }
}

/// Serves the test pages on `ip` (a loopback address).
pub async fn serve(ip: &str) -> Site {
    let listener = tokio::net::TcpListener::bind((ip, 0)).await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    let s = S { hits: Arc::default(), posts: Arc::default(), other: Arc::default() };
    let site = Site { url, hits: s.hits.clone(), posts: s.posts.clone() };
    let hits = s.hits.clone();
    let app = axum::Router::new()
        .route("/", get(|| async { page("Home", "<main><h1>Welcome home</h1><p>A plain page served on loopback for the browser tests of VANA.</p></main>") }))
        .route(
            "/js",
            get(|| async {
                page(
                    "Scripted",
                    "<main><h1>Scripted</h1><div id=now></div><div id=later></div></main><script>\
                     document.getElementById('now').textContent = 'Rendered by script: ' + (6 * 7) + ' widgets';\
                     setTimeout(() => { document.getElementById('later').innerHTML = '<p class=late>Arrived late</p>'; }, 400);\
                     </script>",
                )
            }),
        )
        .route("/form", get(|| async { page("Sign up", FORM) }))
        .route("/submit", post(submit))
        .route("/redirect/{n}", get(redirect))
        .route("/final", get(|| async { page("Final", "<main><p>End of the redirect chain</p></main>") }))
        .route(
            "/slow",
            get(|| async {
                tokio::time::sleep(Duration::from_secs(6)).await;
                page("Slow", "<p>finally</p>")
            }),
        )
        .route("/list", get(list))
        .route(
            "/download",
            get(|| async {
                ([(header::CONTENT_TYPE, "text/csv"), (header::CONTENT_DISPOSITION, "attachment; filename=\"report.csv\"")], "a,b\n1,2\n")
            }),
        )
        .route(
            "/set-cookie",
            get(|| async { ([(header::SET_COOKIE, "who=alice; Path=/")], page("Cookie set", "<p>set</p>")) }),
        )
        .route(
            "/show-cookie",
            get(|headers: HeaderMap| async move {
                let c = headers.get(header::COOKIE).and_then(|v| v.to_str().ok()).unwrap_or("none").to_string();
                page("Cookie", &format!("<main><p id=c>cookie: {}</p></main>", escape(&c)))
            }),
        )
        .route(
            "/links",
            get(|| async { page("Links", "<main><a href=\"/final\">Go to the end</a> <button onclick=\"document.title='clicked'\">Press me</button></main>") }),
        )
        .route("/other/{*rest}", get(|State(s): State<S>| async move {
            // A page that embeds resources from another server (set with /set-other).
            let other = s.other.lock().unwrap().clone();
            page("Embeds", &format!("<main><h1>Embeds</h1><img src=\"{other}/pixel.png\"><script>fetch('{other}/api').catch(() => {{}});</script></main>"))
        }))
        .route("/redirect-to/{*rest}", get(|State(s): State<S>| async move {
            let other = s.other.lock().unwrap().clone();
            Redirect::to(&format!("{other}/secret")).into_response()
        }))
        .route("/pixel.png", get(|| async { (StatusCode::OK, [(header::CONTENT_TYPE, "image/png")], vec![0u8; 8]) }))
        .fallback(|| async { (StatusCode::NOT_FOUND, "not found") })
        .layer(axum::middleware::from_fn(move |req: axum::extract::Request, next: axum::middleware::Next| {
            let hits = hits.clone();
            async move {
                hits.lock().unwrap().push(format!("{} {}", req.method(), req.uri()));
                next.run(req).await
            }
        }))
        .with_state(s.clone());
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    OTHER.lock().unwrap().insert(site.url.clone(), s.other);
    site
}

static OTHER: std::sync::LazyLock<Mutex<HashMap<String, Arc<Mutex<String>>>>> =
    std::sync::LazyLock::new(Default::default);

/// Makes `site`'s `/other/` and `/redirect-to/` pages point at `other`.
pub fn point_at(site: &Site, other: &str) {
    *OTHER.lock().unwrap().get(&site.url).unwrap().lock().unwrap() = other.to_string();
}

/// The suite over a fresh data dir, with its tools by name.
pub struct Env {
    /// The data dir.
    pub dir: PathBuf,
    /// The suite.
    pub suite: BrowserSuite,
    tools: HashMap<String, Arc<dyn Tool>>,
    /// Session files (to read what tools wrote).
    pub files: SessionFiles,
}

impl Env {
    /// A suite with `policy` and `config`.
    pub fn new(policy: vana_net::OutboundPolicy, config: BrowserConfig) -> Env {
        let dir = std::env::temp_dir().join(vana_testkit::unique("vana-browser-test"));
        std::fs::create_dir_all(&dir).unwrap();
        let (uid, gid) = unsafe { (libc::getuid(), libc::getgid()) };
        let files = SessionFiles::new(vana_toolkit::vana_workspace::Workspaces::new(
            dir.join("workspaces"),
            uid,
            gid,
        ));
        let suite = BrowserSuite::new(config, policy, files.clone());
        let tools = suite.tools().into_iter().map(|t| (t.name().to_string(), t)).collect();
        Env { dir, suite, tools, files }
    }

    /// Loopback allowed (`[web] allow_private_networks = true`).
    pub fn open() -> Env {
        Env::new(
            vana_net::OutboundPolicy { allow_private_networks: true, allowed_hosts: vec![] },
            BrowserConfig::default(),
        )
    }

    /// Calls a tool in `session`.
    pub async fn call(&self, session: &str, tool: &str, args: Value) -> Result<ToolOutput, ToolError> {
        let t = self.tools.get(tool).unwrap_or_else(|| panic!("no tool {tool}"));
        t.call(args, ToolContext::standalone("test", "u", session)).await
    }

    /// Calls a tool and returns its JSON result, panicking on an error.
    pub async fn ok(&self, session: &str, tool: &str, args: Value) -> Value {
        match self.call(session, tool, args.clone()).await {
            Ok(o) => o.response,
            Err(e) => panic!("{tool} {args}: {e}"),
        }
    }

    /// Reads a workspace file.
    pub fn read(&self, session: &str, name: &str) -> Vec<u8> {
        self.files.read(&ToolContext::standalone("test", "u", session), name, 1 << 24).unwrap()
    }
}

impl Drop for Env {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// The ref of the first snapshot line containing `needle`.
pub fn ref_of(snapshot: &str, needle: &str) -> String {
    let line = snapshot
        .lines()
        .find(|l| l.contains(needle))
        .unwrap_or_else(|| panic!("no `{needle}` in the snapshot:\n{snapshot}"));
    let start = line.find("[ref=").expect("a ref") + 5;
    line[start..].split(']').next().unwrap().to_string()
}
