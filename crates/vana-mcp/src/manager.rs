//! Every configured MCP server, and their tools as ordinary VANA tools for the agents the
//! configuration names. Nothing connects until a tool list or a call needs it.

use crate::client::{RemoteTool, Server, ServerStatus};
use crate::config::McpConfig;
use crate::trust::{ProjectFile, Trust};
use async_trait::async_trait;
use serde_json::Value;
use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;
use vana_core::{Tool, ToolContext, ToolError, ToolOutput};

/// Longest tool name LLM providers accept.
pub const MAX_TOOL_NAME: usize = 64;

/// The MCP servers of one VANA process.
pub struct McpManager {
    servers: BTreeMap<String, Arc<Server>>,
    project: Option<ProjectFile>,
}

impl McpManager {
    /// Servers from `config`; programs are looked up in `mcp_home`, tool lists cached in
    /// `cache_dir` (when given) so later runs know a server's tools without starting it.
    pub fn new(config: McpConfig, mcp_home: PathBuf, cache_dir: Option<PathBuf>) -> Self {
        let project = config.project;
        let servers = config
            .servers
            .into_iter()
            .map(|(name, cfg)| {
                let source = config.sources.get(&name).cloned().unwrap_or_default();
                let cache = cache_dir.as_ref().map(|d| d.join(format!("{name}.json")));
                let s = Server::new(name.clone(), cfg, mcp_home.clone(), source, cache);
                (name, Arc::new(s))
            })
            .collect();
        McpManager { servers, project }
    }

    /// Whether missing catalog packages are installed on first use (default: on unless
    /// `VANA_MCP_AUTO_INSTALL=0`).
    pub fn set_auto_install(&self, on: bool) {
        self.servers.values().for_each(|s| s.set_auto_install(on));
    }

    /// A manager with no servers.
    pub fn empty() -> Self {
        McpManager { servers: BTreeMap::new(), project: None }
    }

    /// The working directory's `.mcp.json`, when there is one, and whether it is used.
    pub fn project_file(&self) -> Option<&ProjectFile> {
        self.project.as_ref()
    }

    /// Why `name` is not a usable server although a project file defines it: the file is not
    /// trusted (or changed since), with what to run.
    pub fn untrusted(&self, name: &str) -> Option<String> {
        let p = self.project.as_ref()?;
        if !p.servers.contains_key(name) {
            return None;
        }
        p.warning().map(|w| format!("MCP server `{name}` comes from {w}"))
    }

    /// The server of that name.
    pub fn server(&self, name: &str) -> Option<&Arc<Server>> {
        self.servers.get(name)
    }

    /// All servers, by name.
    pub fn servers(&self) -> impl Iterator<Item = &Arc<Server>> {
        self.servers.values()
    }

    /// The status of every server, without connecting any; the servers of an untrusted or
    /// changed project file follow with state `untrusted`.
    pub fn status(&self) -> Vec<ServerStatus> {
        let mut rows: Vec<ServerStatus> = self.servers.values().map(|s| s.status()).collect();
        if let Some(p) = self.project.as_ref().filter(|p| p.trust != Trust::Trusted) {
            for (name, s) in &p.servers {
                let replaces = if s.replaces {
                    format!(" (it would replace the configured `{name}`)")
                } else {
                    String::new()
                };
                rows.push(ServerStatus {
                    name: name.clone(),
                    description: String::new(),
                    transport: s.transport.clone(),
                    state: "untrusted".into(),
                    reason: p.warning().map(|w| format!("{w}{replaces}")),
                    missing_env: Vec::new(),
                    agents: Vec::new(),
                    tools: None,
                    calls: 0,
                    errors: 0,
                    avg_latency_ms: None,
                    last_latency_ms: None,
                    last_error: None,
                    priority: 0,
                    source: p.path.display().to_string(),
                });
            }
        }
        rows
    }

    /// The servers whose tools `agent` gets: those its YAML lists in `declared` and those
    /// whose config lists the agent, by priority then name.
    pub fn servers_for_agent(&self, agent: &str, declared: &[String]) -> Vec<Arc<Server>> {
        let mut v: Vec<Arc<Server>> = self
            .servers
            .values()
            .filter(|s| {
                declared.iter().any(|d| d == s.name()) || s.config().agents.iter().any(|a| a == agent)
            })
            .cloned()
            .collect();
        v.sort_by_key(|s| (s.config().priority, s.name().to_string()));
        v
    }

    /// Lists the tools of those `servers` that can start (installing a missing catalog package
    /// first, see [`Server::startable`]) and whose tools are not known yet, concurrently, each
    /// within its connect deadline. Failures are recorded in the status
    /// and logged; the agents keep their other tools.
    pub async fn discover(&self, servers: &[Arc<Server>]) {
        let pending = servers.iter().filter(|s| s.startable() && s.known_tools().is_none());
        let jobs = pending.map(|s| async move {
            if let Err(e) = s.list_tools().await {
                tracing::warn!("MCP server `{}` is not usable now: {e}", s.name());
            }
        });
        futures::future::join_all(jobs).await;
    }

    /// The known tools of `server` as VANA tools (none when its tool list is not known).
    pub fn known_tools(&self, server: &Arc<Server>) -> Vec<Arc<dyn Tool>> {
        if server.unavailable().is_some() {
            return Vec::new();
        }
        server.known_tools().map(|t| wrap(server, &t)).unwrap_or_default()
    }

    /// Connects `server` if needed and returns its tools as VANA tools.
    pub async fn tools(&self, server: &Arc<Server>) -> Result<Vec<Arc<dyn Tool>>, ToolError> {
        let listed = server.list_tools().await?;
        Ok(wrap(server, &listed))
    }

    /// Closes every connection.
    pub async fn shutdown(&self) {
        futures::future::join_all(self.servers.values().map(|s| s.shutdown())).await;
    }
}

fn wrap(server: &Arc<Server>, tools: &[RemoteTool]) -> Vec<Arc<dyn Tool>> {
    tools
        .iter()
        .map(|t| {
            Arc::new(McpTool {
                name: tool_name(server.name(), &t.name),
                remote: t.clone(),
                server: server.clone(),
            }) as Arc<dyn Tool>
        })
        .collect()
}

/// `<server>__<tool>`, made valid for every LLM provider (`[a-zA-Z0-9_-]{1,64}`): other
/// characters become `_`, and an over-long name is cut and given a short hash of the original.
pub fn tool_name(server: &str, tool: &str) -> String {
    let raw = format!("{server}__{tool}");
    let mut name: String = raw
        .chars()
        .map(|c| if c.is_ascii_alphanumeric() || c == '_' || c == '-' { c } else { '_' })
        .collect();
    if name.len() > MAX_TOOL_NAME {
        let mut h: u32 = 0x811c9dc5;
        for b in raw.bytes() {
            h ^= b as u32;
            h = h.wrapping_mul(0x01000193);
        }
        name.truncate(MAX_TOOL_NAME - 9);
        name.push_str(&format!("_{h:08x}"));
    }
    name
}

/// One tool of an MCP server, seen by agents as an ordinary tool.
pub struct McpTool {
    name: String,
    remote: RemoteTool,
    server: Arc<Server>,
}

#[async_trait]
impl Tool for McpTool {
    fn name(&self) -> &str {
        &self.name
    }
    fn description(&self) -> &str {
        &self.remote.description
    }
    fn parameters(&self) -> Value {
        self.remote.input_schema.clone()
    }
    fn requires_confirmation(&self) -> bool {
        self.server.config().requires_confirmation(&self.remote.name)
    }
    fn timeout(&self) -> Option<Duration> {
        // Our own deadlines (connect, then call) answer first, with a clearer error.
        let t = &self.server.config().timeouts;
        Some(t.connect() + t.call() + Duration::from_secs(1))
    }
    async fn call(&self, args: Value, ctx: ToolContext) -> Result<ToolOutput, ToolError> {
        self.server.call(&self.remote.name, args, &ctx.cancel).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tool_names_are_valid_for_llm_providers() {
        assert_eq!(tool_name("fetch", "fetch"), "fetch__fetch");
        assert_eq!(tool_name("my-srv", "get.thing/x"), "my-srv__get_thing_x");
        let long = tool_name("server", &"x".repeat(100));
        assert_eq!(long.len(), 64);
        assert_ne!(long, tool_name("server", &"x".repeat(101)));
        assert!(long.chars().all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-'));
    }
}
