//! A configured MCP server as VANA uses it: connected on first use, reconnected with backoff
//! when it dies, failing fast while it is down (a circuit breaker), with per-call deadlines and
//! counters for `vana mcp list` and the dashboard.

use crate::config::{ServerConfig, Unavailable};
use crate::connection::Connection;
use crate::result::to_output;
use rmcp::model::CallToolRequestParams;
use rmcp::service::ServiceError;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use tokio_util::sync::CancellationToken;
use vana_core::{ToolError, ToolOutput};

/// Longest wait between reconnect attempts.
const MAX_BACKOFF: Duration = Duration::from_secs(30);

/// A tool as the server declares it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RemoteTool {
    /// The server's name for it.
    pub name: String,
    /// What it does.
    #[serde(default)]
    pub description: String,
    /// JSON Schema of its arguments.
    pub input_schema: Value,
}

/// Counters and state of one server.
#[derive(Debug, Default)]
struct State {
    consecutive_failures: u32,
    retry_at: Option<Instant>,
    last_error: Option<String>,
    connected: bool,
    tools: Option<Arc<Vec<RemoteTool>>>,
    calls: u64,
    errors: u64,
    total_ms: f64,
    last_ms: Option<f64>,
    /// A first-use install that failed in this process (not retried until `vana mcp install`).
    install_error: Option<String>,
}

/// What `vana mcp list` shows about one server.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ServerStatus {
    /// Server name (the tool-name prefix).
    pub name: String,
    /// What it offers.
    pub description: String,
    /// `stdio: cmd args` or `http: url`.
    pub transport: String,
    /// `connected`; `ready` (starts on first use); `down` (a started server that failed:
    /// retrying with backoff); or, for a server never started, `needs_key` (an account key or
    /// service setting is missing), `not_installed` (its program is missing; a catalog
    /// package installs on first use) or `disabled`; `untrusted` for a project file's server.
    pub state: String,
    /// For every state but `connected` and `ready`: why, with the one step that enables it
    /// (`set BRAVE_API_KEY to enable it`, `run vana mcp install time`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    /// Environment variables to set before it can start.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub missing_env: Vec<String>,
    /// Agents that get its tools (from the server config).
    pub agents: Vec<String>,
    /// Number of tools, when known (listed this run or cached from an earlier one).
    pub tools: Option<usize>,
    /// Tool calls made through this process.
    pub calls: u64,
    /// Calls that failed (transport, timeout or the tool's own error).
    pub errors: u64,
    /// Mean call latency, milliseconds.
    pub avg_latency_ms: Option<f64>,
    /// Latency of the last call, milliseconds.
    pub last_latency_ms: Option<f64>,
    /// The last failure.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub last_error: Option<String>,
    /// Lower comes first.
    pub priority: i32,
    /// The file that configured it.
    pub source: String,
}

/// One configured server.
pub struct Server {
    name: String,
    config: ServerConfig,
    mcp_home: PathBuf,
    source: String,
    conn: tokio::sync::Mutex<Option<Arc<Connection>>>,
    state: Mutex<State>,
    cache_file: Option<PathBuf>,
    auto_install: AtomicBool,
}

/// True unless `VANA_MCP_AUTO_INSTALL=0`: catalog servers are installed on first use.
pub fn auto_install_default() -> bool {
    std::env::var("VANA_MCP_AUTO_INSTALL").map_or(true, |v| v.trim() != "0")
}

impl Server {
    pub(crate) fn new(
        name: String,
        config: ServerConfig,
        mcp_home: PathBuf,
        source: String,
        cache_file: Option<PathBuf>,
    ) -> Self {
        Server {
            name,
            config,
            mcp_home,
            source,
            conn: tokio::sync::Mutex::new(None),
            state: Mutex::new(State::default()),
            cache_file,
            auto_install: AtomicBool::new(auto_install_default()),
        }
    }

    /// The server's name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// Its configuration.
    pub fn config(&self) -> &ServerConfig {
        &self.config
    }

    fn state(&self) -> std::sync::MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Why it cannot start, if it cannot (cheap: reads the environment and looks for the program).
    pub fn unavailable(&self) -> Option<Unavailable> {
        self.config.launch(&self.mcp_home).err()
    }

    /// Whether a missing catalog package is installed when the server is first used.
    pub fn set_auto_install(&self, on: bool) {
        self.auto_install.store(on, Ordering::Relaxed);
    }

    /// True when the server can start now, or will once its catalog package is installed on
    /// first use (auto-install on, no failed install in this process).
    pub fn startable(&self) -> bool {
        match self.unavailable() {
            None => true,
            Some(Unavailable::NotInstalled { package: Some(_), .. }) => {
                self.auto_install.load(Ordering::Relaxed) && self.state().install_error.is_none()
            }
            Some(_) => false,
        }
    }

    /// Installs its catalog package if the program is missing (blocking work on a worker
    /// thread). `Ok(false)` when there was nothing to install.
    pub async fn install(&self) -> Result<bool, crate::install::InstallError> {
        let Some(Unavailable::NotInstalled { package: Some(p), .. }) = self.unavailable() else {
            return Ok(false);
        };
        let home = self.mcp_home.clone();
        tracing::info!(
            "installing MCP server `{}` from {:?} ({}) into {}",
            self.name,
            p.registry,
            p.specs.join(" "),
            home.display()
        );
        let p2 = p.clone();
        let result = tokio::task::spawn_blocking(move || p2.install(&home)).await.unwrap_or_else(|e| {
            Err(crate::install::InstallError {
                package: p.specs.join(" "),
                message: format!("the installer panicked: {e}"),
                command: p.command(&self.mcp_home),
            })
        });
        self.state().install_error = result.as_ref().err().map(|e| e.to_string());
        result
    }

    /// Its status, without connecting.
    pub fn status(&self) -> ServerStatus {
        let unavailable = self.unavailable();
        let tools = self.known_tools().map(|t| t.len());
        let s = self.state();
        let state = match &unavailable {
            Some(Unavailable::Disabled) => "disabled",
            Some(Unavailable::MissingEnv(_)) => "needs_key",
            Some(Unavailable::NotInstalled { .. }) => "not_installed",
            None if s.connected => "connected",
            None if s.retry_at.is_some() => "down",
            None => "ready",
        };
        let missing_env = match &unavailable {
            Some(Unavailable::MissingEnv(v)) => v.clone(),
            _ => Vec::new(),
        };
        let name = &self.name;
        let mut reason = unavailable.as_ref().map(|u| match u {
            Unavailable::Disabled => {
                "disabled in the configuration: set `enabled: true` for it in your mcp_servers.yaml"
                    .to_string()
            }
            Unavailable::NotInstalled { package: Some(p), .. } => match &s.install_error {
                Some(e) => format!("{e}; or retry with `vana mcp install {name}`"),
                None if self.auto_install.load(Ordering::Relaxed) => format!(
                    "{} {} installs on first use, or now with `vana mcp install {name}`",
                    p.name(),
                    p.version()
                ),
                None => format!("install {} {} with `vana mcp install {name}`", p.name(), p.version()),
            },
            other => other.to_string(),
        });
        if state == "down" {
            if let Some(at) = s.retry_at {
                let wait = at.saturating_duration_since(Instant::now());
                reason = Some(format!("next reconnect attempt in {:.1}s", wait.as_secs_f64()));
            }
        }
        ServerStatus {
            name: self.name.clone(),
            description: self.config.description.clone(),
            transport: self.config.transport_label(),
            state: state.into(),
            reason,
            missing_env,
            agents: self.config.agents.clone(),
            tools,
            calls: s.calls,
            errors: s.errors,
            avg_latency_ms: (s.calls > 0).then(|| s.total_ms / s.calls as f64),
            last_latency_ms: s.last_ms,
            last_error: s.last_error.clone(),
            priority: self.config.priority,
            source: self.source.clone(),
        }
    }

    /// The tool list from this process's last listing, else from the on-disk cache of an
    /// earlier run (only when it was made from the same configuration).
    pub fn known_tools(&self) -> Option<Arc<Vec<RemoteTool>>> {
        if let Some(t) = self.state().tools.clone() {
            return Some(t);
        }
        let path = self.cache_file.as_ref()?;
        let cached: CacheFile = serde_json::from_slice(&std::fs::read(path).ok()?).ok()?;
        if cached.fingerprint != self.fingerprint() {
            return None;
        }
        let tools = Arc::new(cached.tools);
        self.state().tools = Some(tools.clone());
        Some(tools)
    }

    fn fingerprint(&self) -> String {
        let text = serde_json::to_string(&self.config).unwrap_or_default();
        // FNV-1a: stable across builds, unlike std's hasher.
        let mut h: u64 = 0xcbf29ce484222325;
        for b in text.bytes() {
            h ^= b as u64;
            h = h.wrapping_mul(0x100000001b3);
        }
        format!("{h:016x}")
    }

    /// A live connection: the current one, or a new one (within the connect deadline) unless
    /// the breaker is open.
    async fn connection(&self) -> Result<Arc<Connection>, ToolError> {
        let mut slot = self.conn.lock().await;
        if let Some(c) = slot.as_ref() {
            if !c.is_closed() {
                return Ok(c.clone());
            }
            let why = c.describe_end();
            *slot = None;
            let mut s = self.state();
            s.connected = false;
            s.last_error = Some(format!("connection lost: {why}"));
        }
        {
            let s = self.state();
            if let Some(at) = s.retry_at {
                let now = Instant::now();
                if at > now {
                    return Err(ToolError::Unavailable(format!(
                        "MCP server `{}` is down ({}); next reconnect attempt in {:.1}s",
                        self.name,
                        s.last_error.as_deref().unwrap_or("failed"),
                        (at - now).as_secs_f64()
                    )));
                }
            }
        }
        if self.startable() && self.unavailable().is_some() {
            self.install()
                .await
                .map_err(|e| ToolError::Unavailable(format!("MCP server `{}`: {e}", self.name)))?;
        }
        let launch = self
            .config
            .launch(&self.mcp_home)
            .map_err(|u| ToolError::Unavailable(format!("MCP server `{}`: {u}", self.name)))?;
        match Connection::open(&launch, self.config.timeouts.connect()).await {
            Ok(c) => {
                let c = Arc::new(c);
                *slot = Some(c.clone());
                let mut s = self.state();
                s.connected = true;
                s.consecutive_failures = 0;
                s.retry_at = None;
                Ok(c)
            }
            Err(e) => {
                let msg = format!("MCP server `{}`: {e}", self.name);
                self.record_failure(&msg);
                Err(ToolError::Unavailable(msg))
            }
        }
    }

    /// Opens the breaker for a backoff that doubles with each consecutive failure.
    fn record_failure(&self, msg: &str) {
        let mut s = self.state();
        s.consecutive_failures += 1;
        s.connected = false;
        let backoff = Duration::from_millis(500)
            .saturating_mul(1 << (s.consecutive_failures - 1).min(10))
            .min(MAX_BACKOFF);
        s.retry_at = Some(Instant::now() + backoff);
        s.last_error = Some(msg.to_string());
    }

    /// Drops `conn` if it is still the current connection (it failed under a call).
    async fn discard(&self, conn: &Arc<Connection>) {
        let mut slot = self.conn.lock().await;
        if slot.as_ref().is_some_and(|c| Arc::ptr_eq(c, conn)) {
            *slot = None;
        }
    }

    /// Connects if needed and lists the tools (filtered by the config's allow/deny lists);
    /// the list is remembered and cached on disk for the next run.
    pub async fn list_tools(&self) -> Result<Arc<Vec<RemoteTool>>, ToolError> {
        let conn = self.connection().await?;
        let listed =
            tokio::time::timeout(self.config.timeouts.connect(), conn.service.list_all_tools()).await;
        let tools = match listed {
            Ok(Ok(t)) => t,
            Ok(Err(e)) => {
                let msg =
                    format!("MCP server `{}`: tools/list failed: {e}{}", self.name, conn.diag.describe());
                if !matches!(e, ServiceError::McpError(_)) {
                    self.discard(&conn).await;
                    self.record_failure(&msg);
                }
                return Err(ToolError::Failed(msg));
            }
            Err(_) => {
                return Err(ToolError::Timeout(self.config.timeouts.connect()));
            }
        };
        let tools: Vec<RemoteTool> = tools
            .into_iter()
            .filter(|t| self.config.tools.admits(&t.name))
            .map(|t| RemoteTool {
                name: t.name.to_string(),
                description: t.description.as_deref().unwrap_or_default().to_string(),
                input_schema: Value::Object((*t.input_schema).clone()),
            })
            .collect();
        let tools = Arc::new(tools);
        self.state().tools = Some(tools.clone());
        if let Some(path) = &self.cache_file {
            let file = CacheFile { fingerprint: self.fingerprint(), tools: (*tools).clone() };
            if let Some(dir) = path.parent() {
                let _ = std::fs::create_dir_all(dir);
            }
            if let Ok(bytes) = serde_json::to_vec_pretty(&file) {
                let tmp = path.with_extension("tmp");
                if std::fs::write(&tmp, bytes).is_ok() {
                    let _ = std::fs::rename(&tmp, path);
                }
            }
        }
        Ok(tools)
    }

    /// Calls `tool` with `args` within the per-call deadline. A connection found dead is
    /// replaced first; a call that hits a transport failure is retried once on a new
    /// connection. `isError` results come back as [`ToolError::Failed`] with the server's text.
    pub async fn call(
        &self,
        tool: &str,
        args: Value,
        cancel: &CancellationToken,
    ) -> Result<ToolOutput, ToolError> {
        let started = Instant::now();
        let result = self.call_inner(tool, args, cancel).await;
        let ms = started.elapsed().as_secs_f64() * 1000.0;
        let mut s = self.state();
        s.calls += 1;
        s.total_ms += ms;
        s.last_ms = Some(ms);
        if let Err(e) = &result {
            s.errors += 1;
            s.last_error = Some(format!("{tool}: {e}"));
        }
        result
    }

    async fn call_inner(
        &self,
        tool: &str,
        args: Value,
        cancel: &CancellationToken,
    ) -> Result<ToolOutput, ToolError> {
        let arguments = match args {
            Value::Object(m) => Some(m),
            Value::Null => None,
            other => {
                return Err(ToolError::InvalidArgs(format!("arguments must be a JSON object, got {other}")))
            }
        };
        let deadline = self.config.timeouts.call();
        for attempt in 0..2 {
            let conn = self.connection().await?;
            let mut params = CallToolRequestParams::new(tool.to_string());
            if let Some(a) = arguments.clone() {
                params = params.with_arguments(a);
            }
            let outcome = tokio::select! {
                r = tokio::time::timeout(deadline, conn.service.call_tool(params)) => r,
                _ = cancel.cancelled() => return Err(ToolError::Cancelled),
            };
            match outcome {
                Ok(Ok(result)) => return to_output(&self.name, tool, result),
                Ok(Err(ServiceError::McpError(e))) => {
                    return Err(ToolError::Failed(format!(
                        "MCP server `{}` refused `{tool}`: {}",
                        self.name, e.message
                    )))
                }
                Ok(Err(e)) => {
                    let msg = format!(
                        "MCP server `{}` failed during `{tool}`: {e}; {}",
                        self.name,
                        conn.describe_end()
                    );
                    self.discard(&conn).await;
                    let transport_lost =
                        matches!(e, ServiceError::TransportClosed | ServiceError::TransportSend(_));
                    if attempt == 0 && transport_lost {
                        tracing::warn!("{msg}; reconnecting and retrying once");
                        self.state().last_error = Some(msg);
                        continue;
                    }
                    self.record_failure(&msg);
                    return Err(ToolError::Failed(msg));
                }
                Err(_) => return Err(ToolError::Timeout(deadline)),
            }
        }
        unreachable!("the loop returns on its second attempt")
    }

    /// Connects (if needed) and pings the server with a `tools/list`, returning the latency.
    pub async fn health(&self) -> Result<Duration, ToolError> {
        let t = Instant::now();
        self.list_tools().await?;
        Ok(t.elapsed())
    }

    /// The process id of the running stdio server, if one runs (for supervision and tests).
    pub async fn pid(&self) -> Option<u32> {
        self.conn.lock().await.as_ref().and_then(|c| c.pid())
    }

    /// Closes the connection (the child process is killed).
    pub async fn shutdown(&self) {
        if let Some(c) = self.conn.lock().await.take() {
            if let Ok(mut c) = Arc::try_unwrap(c) {
                let _ = c.service.close_with_timeout(Duration::from_millis(500)).await;
            }
        }
        self.state().connected = false;
    }
}

#[derive(Serialize, Deserialize)]
struct CacheFile {
    fingerprint: String,
    tools: Vec<RemoteTool>,
}
