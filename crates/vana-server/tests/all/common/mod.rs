//! A test server: a real `vana_server` on 127.0.0.1:0 over a SQLite file, the built-in
//! catalog plus a `helper` agent, with the scripted model driving every agent.

#![allow(dead_code)]

use async_trait::async_trait;
use base64::Engine;
use serde_json::{json, Value};
use std::path::PathBuf;
use std::sync::Arc;
use tokio::sync::oneshot;
use vana_app::{App, Config};
use vana_core::{Blob, Tool, ToolContext, ToolError, ToolOutput};
use vana_server::ServerOptions;
use vana_testkit::ScriptedModel;

/// The PNG the `make_chart` tool returns (a real 1x1 PNG).
pub const PNG: &[u8] = &[
    0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0x00, 0x00, 0x00, 0x0d, 0x49, 0x48, 0x44, 0x52, 0x00,
    0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x01, 0x08, 0x06, 0x00, 0x00, 0x00, 0x1f, 0x15, 0xc4, 0x89, 0x00,
    0x00, 0x00, 0x0d, 0x49, 0x44, 0x41, 0x54, 0x78, 0x9c, 0x63, 0xf8, 0xcf, 0xc0, 0xf0, 0x1f, 0x00, 0x05,
    0x00, 0x01, 0xff, 0x89, 0x99, 0x3d, 0x1d, 0x00, 0x00, 0x00, 0x00, 0x49, 0x45, 0x4e, 0x44, 0xae, 0x42,
    0x60, 0x82,
];

/// A tool that needs a human's approval.
pub struct NeedsOk;

#[async_trait]
impl Tool for NeedsOk {
    fn name(&self) -> &str {
        "needs_ok"
    }
    fn description(&self) -> &str {
        "Deletes a file (test tool that needs approval)"
    }
    fn parameters(&self) -> Value {
        json!({"type": "object", "properties": {"path": {"type": "string"}}})
    }
    fn requires_confirmation(&self) -> bool {
        true
    }
    async fn call(&self, args: Value, _ctx: ToolContext) -> Result<ToolOutput, ToolError> {
        Ok(ToolOutput::json(json!({"deleted": args["path"]})))
    }
}

/// A tool that returns a chart as inline data with a display name.
pub struct MakeChart;

#[async_trait]
impl Tool for MakeChart {
    fn name(&self) -> &str {
        "make_chart"
    }
    fn description(&self) -> &str {
        "Draws a chart (test tool returning a PNG artifact)"
    }
    fn parameters(&self) -> Value {
        json!({"type": "object", "properties": {}})
    }
    async fn call(&self, _args: Value, _ctx: ToolContext) -> Result<ToolOutput, ToolError> {
        Ok(ToolOutput {
            response: json!({"chart": "chart.png"}),
            artifacts: vec![Blob {
                mime_type: "image/png".into(),
                data: base64::engine::general_purpose::STANDARD.encode(PNG),
                display_name: Some("chart.png".into()),
            }],
            ..Default::default()
        })
    }
}

/// Server settings for one test.
#[derive(Clone)]
pub struct Opts {
    pub no_auth: bool,
    pub rps: u32,
    pub burst: u32,
    pub max_streams: u32,
    pub max_body: usize,
    pub webhook: String,
    pub error_rate_percent: f64,
    /// Seconds an MCP server must be down before the alert (0: rule off).
    pub mcp_down_secs: u64,
    /// An MCP `servers:` YAML replacing the catalog; its servers are connected before serving.
    pub mcp_yaml: Option<&'static str>,
    /// When the semantic router runs in front of the orchestrator.
    pub router: vana_app::config::RouterMode,
    /// `server.allowed_hosts`.
    pub allowed_hosts: Vec<String>,
    /// `server.allowed_origins`.
    pub allowed_origins: Vec<String>,
    /// `server.session_ttl_secs`.
    pub session_ttl_secs: u64,
    /// `[metrics] public`.
    pub metrics_public: bool,
    /// `[telemetry] otlp_endpoint`.
    pub otlp_endpoint: String,
}

impl Default for Opts {
    fn default() -> Self {
        Opts {
            no_auth: false,
            rps: 1000,
            burst: 1000,
            max_streams: 8,
            max_body: 64 * 1024,
            webhook: String::new(),
            error_rate_percent: 0.0,
            mcp_down_secs: 0,
            mcp_yaml: None,
            router: vana_app::config::RouterMode::Auto,
            allowed_hosts: Vec::new(),
            allowed_origins: Vec::new(),
            session_ttl_secs: 3600,
            metrics_public: false,
            otlp_endpoint: String::new(),
        }
    }
}

/// A running test server.
pub struct Server {
    pub base: String,
    pub key: String,
    pub bob_key: String,
    pub model: ScriptedModel,
    pub http: reqwest::Client,
    pub stores: vana_store::Stores,
    pub dir: PathBuf,
    opts: Opts,
    stop: Option<oneshot::Sender<()>>,
    task: Option<tokio::task::JoinHandle<()>>,
}

impl Drop for Server {
    fn drop(&mut self) {
        if let Some(s) = self.stop.take() {
            let _ = s.send(());
        }
        if !self.dir.as_os_str().is_empty() {
            let _ = std::fs::remove_dir_all(&self.dir);
        }
    }
}

pub const HELPER_YAML: &str = "name: helper\ndescription: Test helper that approves, charts and runs code.\ninstruction: Help the user with the tools you have.\ntools: [needs_ok, make_chart, execute_code]\n";

/// Starts a server with these settings.
pub async fn start(opts: Opts) -> Server {
    let dir = std::env::temp_dir().join(format!("vana-server-test-{}", uuid::Uuid::new_v4()));
    std::fs::create_dir_all(dir.join("agents")).unwrap();
    std::fs::write(dir.join("agents/helper.yaml"), HELPER_YAML).unwrap();
    start_at(dir, opts, None).await
}

impl Server {
    /// Stops this server (waiting until it has stopped) and starts a new one on the same
    /// data, keys included, on a new port.
    pub async fn restart(mut self) -> Server {
        if let Some(s) = self.stop.take() {
            let _ = s.send(());
        }
        if let Some(t) = self.task.take() {
            let _ = t.await;
        }
        let dir = std::mem::take(&mut self.dir);
        let keys = (std::mem::take(&mut self.key), std::mem::take(&mut self.bob_key));
        start_at(dir, self.opts.clone(), Some(keys)).await
    }
}

/// Starts a server over `dir`, creating alice's and bob's keys unless `keys` carries them.
async fn start_at(dir: PathBuf, opts: Opts, keys: Option<(String, String)>) -> Server {
    let mut config = Config::default();
    config.store.url = format!("sqlite://{}", dir.join("vana.db").display());
    config.agents.dir = dir.join("agents").display().to_string();
    config.models.default_model = "scripted-test".into();
    config.sandbox.policy_dir = dir.display().to_string();
    config.server.requests_per_second = opts.rps;
    config.server.burst = opts.burst;
    config.server.max_streams_per_key = opts.max_streams;
    config.server.max_body_bytes = opts.max_body;
    config.server.alerts.webhook_url = opts.webhook.clone();
    config.server.alerts.error_rate_percent = opts.error_rate_percent;
    config.server.alerts.error_rate_min_requests = 3;
    config.server.alerts.mcp_down_secs = opts.mcp_down_secs;
    config.router.mode = opts.router;
    config.server.allowed_hosts = opts.allowed_hosts.clone();
    config.server.allowed_origins = opts.allowed_origins.clone();
    config.server.session_ttl_secs = opts.session_ttl_secs;
    config.metrics.public = opts.metrics_public;
    config.telemetry.otlp_endpoint = opts.otlp_endpoint.clone();
    let mut app = App::open(config).await.expect("open app");
    if let Some(yaml) = opts.mcp_yaml {
        let mut mcp = vana_mcp::McpConfig::default();
        mcp.add_yaml(yaml, "test").expect("test MCP config");
        app.mcp = Arc::new(vana_mcp::McpManager::new(mcp, dir.join("mcp"), None));
        app.connect_mcp(Some("helper")).await;
    }
    let model = ScriptedModel::new(vec![]);
    app.models.register("scripted-test", Arc::new(model.clone()));
    app.tools.register(Arc::new(NeedsOk));
    app.tools.register(Arc::new(MakeChart));
    let stores = app.stores.clone();
    let (key, bob_key) = match keys {
        Some(k) => k,
        None => (
            vana_server::create_key(stores.keys.as_ref(), "alice", None).await.expect("create key").key,
            vana_server::create_key(stores.keys.as_ref(), "bob", None).await.expect("create key").key,
        ),
    };
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let (stop, stopped) = oneshot::channel::<()>();
    let options =
        ServerOptions { no_auth: opts.no_auth, evals_dir: Some(dir.join("adk_evals")), ..Default::default() };
    let task = tokio::spawn(async move {
        vana_server::serve_with_shutdown(app, listener, options, async {
            let _ = stopped.await;
        })
        .await
        .expect("serve");
    });
    Server {
        base,
        key,
        bob_key,
        model,
        http: reqwest::Client::new(),
        stores,
        dir,
        opts,
        stop: Some(stop),
        task: Some(task),
    }
}

impl Server {
    /// A request with alice's key.
    pub fn req(&self, method: reqwest::Method, path: &str) -> reqwest::RequestBuilder {
        self.http.request(method, format!("{}{path}", self.base)).bearer_auth(&self.key)
    }

    /// GET as alice, returning status and JSON.
    pub async fn get(&self, path: &str) -> (u16, Value) {
        let r = self.req(reqwest::Method::GET, path).send().await.unwrap();
        let s = r.status().as_u16();
        (s, r.json().await.unwrap_or(Value::Null))
    }

    /// POST JSON as alice, returning status and JSON.
    pub async fn post(&self, path: &str, body: Value) -> (u16, Value) {
        let r = self.req(reqwest::Method::POST, path).json(&body).send().await.unwrap();
        let s = r.status().as_u16();
        (s, r.json().await.unwrap_or(Value::Null))
    }

    /// Creates a session of `app` for alice.
    pub async fn session(&self, app: &str) -> String {
        let (s, v) = self.post(&format!("/apps/{app}/users/alice/sessions"), json!({})).await;
        assert_eq!(s, 200, "{v}");
        v["id"].as_str().unwrap().to_string()
    }

    /// A `/run` body.
    pub fn run_body(app: &str, session: &str, text: &str, streaming: bool) -> Value {
        json!({"appName": app, "userId": "alice", "sessionId": session, "streaming": streaming,
               "newMessage": {"role": "user", "parts": [{"text": text}]}})
    }
}

/// Reads a whole SSE response with the real incremental parser, returning the data fields.
pub async fn sse_data(resp: reqwest::Response) -> Vec<String> {
    use futures::StreamExt;
    let mut parser = vana_models::sse::SseParser::new();
    let mut out = Vec::new();
    let mut body = resp.bytes_stream();
    while let Some(chunk) = body.next().await {
        for e in parser.push(&chunk.expect("stream chunk")) {
            out.push(e.data);
        }
    }
    out
}
