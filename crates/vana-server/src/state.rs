//! The server's shared state: the app, one cached runner per agent, keys, the request
//! guard, limits, metrics, the audit log and alerts.

use crate::alerts::Alerts;
use crate::audit_log::AuditLog;
use crate::error::ApiError;
use crate::guard::Guard;
use crate::keys::KeyVerifier;
use crate::metrics::Metrics;
use std::collections::HashMap;
use std::sync::atomic::Ordering;
use std::sync::{Arc, Mutex, RwLock};
use std::time::Instant;
use vana_app::App;
use vana_core::Runner;

/// Health of one MCP server as the dashboard shows it.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
#[serde(rename_all = "camelCase")]
pub struct McpHealth {
    /// Server name.
    pub name: String,
    /// Connected and answering.
    pub up: bool,
    /// Seconds it has been down (0 when up).
    pub down_secs: f64,
    /// Prefix of the tool names it provides (`<server>__`).
    pub tool_prefix: String,
    /// Connection state as the MCP client reports it (`connected`, `ready`, `down`, ...).
    pub state: String,
    /// Tool calls made through this process, and how many failed.
    pub calls: u64,
    /// Failed calls.
    pub errors: u64,
    /// Last error, if any.
    pub last_error: Option<String>,
}

/// Where the dashboard reads MCP server health from (implemented over vana-mcp's client
/// manager by the binary).
pub trait McpStatusSource: Send + Sync {
    /// The health of every configured MCP server.
    fn health(&self) -> Vec<McpHealth>;
}

/// MCP server health from the app's MCP client manager (down time measured here).
pub struct AppMcpStatus {
    app: Arc<App>,
    down_since: Mutex<HashMap<String, Instant>>,
}

impl McpStatusSource for AppMcpStatus {
    fn health(&self) -> Vec<McpHealth> {
        let mut down = self.down_since.lock().unwrap_or_else(|e| e.into_inner());
        self.app
            .mcp
            .status()
            .into_iter()
            .filter(|s| s.state != "disabled")
            .map(|s| {
                let is_down = s.state == "down";
                let down_secs = if is_down {
                    down.entry(s.name.clone()).or_insert_with(Instant::now).elapsed().as_secs_f64()
                } else {
                    down.remove(&s.name);
                    0.0
                };
                McpHealth {
                    tool_prefix: format!("{}__", s.name),
                    name: s.name,
                    up: !is_down,
                    down_secs,
                    state: s.state,
                    calls: s.calls,
                    errors: s.errors,
                    last_error: s.last_error.or(s.reason),
                }
            })
            .collect()
    }
}

/// How the server runs.
#[derive(Clone, Default)]
pub struct ServerOptions {
    /// Run without authentication (only allowed on a loopback address).
    pub no_auth: bool,
    /// Do not mount VANA's MCP server at `/mcp`.
    pub no_mcp: bool,
    /// MCP server health for the dashboard and alerts (default: the app's MCP client manager).
    pub mcp_status: Option<Arc<dyn McpStatusSource>>,
    /// The address the server listens on (set by [`crate::serve_with_shutdown`]): its IP is an
    /// allowed `Host` besides loopback names and `server.allowed_hosts`.
    pub bind: Option<std::net::SocketAddr>,
    /// Where ADK eval sets and results are kept (default `<data dir>/adk_evals`).
    pub evals_dir: Option<std::path::PathBuf>,
}

/// A token bucket per key.
#[derive(Debug)]
struct Bucket {
    tokens: f64,
    last: Instant,
}

/// Everything handlers share.
pub struct AppState {
    /// The app (config, catalog, stores).
    pub app: Arc<App>,
    /// Options given at start.
    pub options: ServerOptions,
    runners: RwLock<HashMap<String, Arc<Runner>>>,
    /// API key verification.
    pub keys: KeyVerifier,
    /// Host, Origin and content-type rules of every request.
    pub guard: Guard,
    buckets: Mutex<HashMap<String, Bucket>>,
    streams: Mutex<HashMap<String, u32>>,
    /// Measurements.
    pub metrics: Arc<Metrics>,
    /// The audit log.
    pub audit: AuditLog,
    /// Alerts.
    pub alerts: Alerts,
    /// Who owns each session seen by this process, and which session each event of its runs
    /// belongs to: ADK's dev routes name only a session or an event (`/dev/apps/{app}/debug/
    /// trace/...`). Bounded; forgotten on restart, as ADK's in-memory trace store is.
    pub seen: Mutex<Seen>,
    /// ADK eval sets and results (`<data dir>/adk_evals`).
    pub evals: vana_app::adk_eval::EvalFiles,
    /// The OTLP/HTTP trace exporter, when `[telemetry] otlp_endpoint` is set.
    pub otlp: Option<crate::otlp::Exporter>,
}

/// Sessions and events seen by this process.
#[derive(Debug, Default)]
pub struct Seen {
    /// Session id -> (app, user).
    pub sessions: HashMap<String, (String, String)>,
    /// Event id -> session id.
    pub events: HashMap<String, String>,
}

impl Seen {
    /// Most entries of each map before it is cleared.
    const MAX: usize = 200_000;

    /// Records a session's owner.
    pub fn session(&mut self, id: &str, app: &str, user: &str) {
        if self.sessions.len() >= Self::MAX {
            self.sessions.clear();
        }
        self.sessions.insert(id.to_string(), (app.to_string(), user.to_string()));
    }

    /// Records an event's session.
    pub fn event(&mut self, id: &str, session: &str) {
        if self.events.len() >= Self::MAX {
            self.events.clear();
        }
        self.events.insert(id.to_string(), session.to_string());
    }
}

/// Shared state handle.
pub type Shared = Arc<AppState>;

impl AppState {
    /// State over an opened app.
    pub fn new(app: App, mut options: ServerOptions) -> Shared {
        let audit = AuditLog::start(app.stores.audit.clone());
        let alerts = Alerts::new(app.config.server.alerts.clone(), audit.clone());
        let keys = KeyVerifier::new(app.stores.keys.clone());
        let server = &app.config.server;
        let guard = Guard::new(&server.allowed_hosts, &server.allowed_origins, options.bind.map(|a| a.ip()));
        let otlp = crate::otlp::Exporter::start(&app.config.telemetry).unwrap_or_else(|e| {
            tracing::error!("traces are not exported: {e}");
            None
        });
        let app = Arc::new(app);
        if options.mcp_status.is_none() {
            options.mcp_status =
                Some(Arc::new(AppMcpStatus { app: app.clone(), down_since: Mutex::default() }));
        }
        let evals = match &options.evals_dir {
            Some(dir) => vana_app::adk_eval::EvalFiles::new(dir),
            None => vana_app::adk_eval::EvalFiles::default_dir(),
        };
        Arc::new(AppState {
            keys,
            app,
            options,
            runners: RwLock::default(),
            guard,
            buckets: Mutex::default(),
            streams: Mutex::default(),
            metrics: Arc::default(),
            audit,
            alerts,
            seen: Mutex::default(),
            evals,
            otlp,
        })
    }

    /// Records who owns a session (for ADK's dev routes).
    pub fn saw_session(&self, id: &str, app: &str, user: &str) {
        self.seen.lock().unwrap_or_else(|e| e.into_inner()).session(id, app, user);
    }

    /// The owner of a session seen by this process.
    pub fn session_owner(&self, id: &str) -> Option<(String, String)> {
        self.seen.lock().unwrap_or_else(|e| e.into_inner()).sessions.get(id).cloned()
    }

    /// The runner of `agent` if one was built already.
    pub fn cached_runner(&self, agent: &str) -> Option<Arc<Runner>> {
        self.runners.read().unwrap_or_else(|e| e.into_inner()).get(agent).cloned()
    }

    /// The runner of an agent, built once and kept (it holds the session locks and cache).
    /// Unknown agents are a 404.
    pub async fn runner(&self, agent: &str) -> Result<Arc<Runner>, ApiError> {
        if let Some(r) = self.cached_runner(agent) {
            return Ok(r);
        }
        if self.app.catalog.get(agent).is_none() {
            return Err(ApiError::not_found(format!(
                "unknown app `{agent}`; GET /list-apps lists the agents"
            )));
        }
        // The agents of this tree get the tools of the MCP servers they use.
        self.app.connect_mcp(Some(agent)).await;
        let mut w = self.runners.write().unwrap_or_else(|e| e.into_inner());
        if let Some(r) = w.get(agent) {
            return Ok(r.clone());
        }
        let runner = Arc::new(
            self.app
                .runner(Some(agent))
                .map_err(|e| ApiError::internal(format!("cannot build agent `{agent}`: {e}")))?,
        );
        w.insert(agent.to_string(), runner.clone());
        Ok(runner)
    }

    /// Takes one request from `key`'s bucket; `Err(seconds)` when it is empty.
    pub fn take_token(&self, key: &str) -> Result<(), u64> {
        let cfg = &self.app.config.server;
        let rate = cfg.requests_per_second.max(1) as f64;
        let burst = cfg.burst.max(1) as f64;
        let mut b = self.buckets.lock().unwrap_or_else(|e| e.into_inner());
        let now = Instant::now();
        let bucket = b.entry(key.to_string()).or_insert(Bucket { tokens: burst, last: now });
        bucket.tokens = (bucket.tokens + now.duration_since(bucket.last).as_secs_f64() * rate).min(burst);
        bucket.last = now;
        if bucket.tokens >= 1.0 {
            bucket.tokens -= 1.0;
            Ok(())
        } else {
            Err(((1.0 - bucket.tokens) / rate).ceil().max(1.0) as u64)
        }
    }

    /// Opens a stream slot for `key`, or 429 when it holds the most allowed.
    pub fn open_stream(self: &Arc<Self>, key: &str) -> Result<StreamGuard, ApiError> {
        let max = self.app.config.server.max_streams_per_key;
        let mut s = self.streams.lock().unwrap_or_else(|e| e.into_inner());
        let n = s.entry(key.to_string()).or_default();
        if *n >= max {
            return Err(ApiError::too_many(
                format!("too many open streams for this key ({max}); close one (server.max_streams_per_key)"),
                1,
            ));
        }
        *n += 1;
        self.metrics.active_streams.fetch_add(1, Ordering::Relaxed);
        self.metrics.generation.fetch_add(1, Ordering::Relaxed);
        Ok(StreamGuard { state: self.clone(), key: key.to_string() })
    }
}

/// Holds a stream slot; frees it when dropped (the client left or the stream ended).
pub struct StreamGuard {
    state: Shared,
    key: String,
}

impl Drop for StreamGuard {
    fn drop(&mut self) {
        let mut s = self.state.streams.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(n) = s.get_mut(&self.key) {
            *n = n.saturating_sub(1);
        }
        self.state.metrics.active_streams.fetch_sub(1, Ordering::Relaxed);
        self.state.metrics.generation.fetch_add(1, Ordering::Relaxed);
    }
}
