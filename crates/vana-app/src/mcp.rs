//! MCP wiring: the server configuration (built-in catalog, the user's `mcp_servers.yaml`, a
//! trusted `.mcp.json` in the working directory), MCP tools for the agents that use them (with
//! `[guardrails] require_confirmation` applied to `<server>__<tool>` names), and the app as the
//! backend of VANA's own MCP server (its tools, agents, guardrails and audit log).

use crate::config::{config_dir, data_dir, ConfigError, GuardrailsConfig};
use crate::{App, AppError};
use std::collections::{BTreeSet, HashMap};
use std::path::PathBuf;
use std::sync::Arc;
use vana_core::Tool;
use vana_mcp::trust::TrustStore;
use vana_mcp::{glob_match, McpConfig, McpManager, Server};

/// Where `vana mcp trust` records the sha256 of trusted project `.mcp.json` files.
pub fn trust_store_path() -> PathBuf {
    data_dir().join("mcp_trust.json")
}

/// True for a `[guardrails]` tool name that means MCP tools: `<server>__<tool>`, where either
/// part may use `*` / `?` globs.
pub fn is_mcp_tool_pattern(name: &str) -> bool {
    name.contains("__")
}

/// Reads the MCP configuration (a project `.mcp.json` only when trusted) and checks that every
/// MCP name in `guardrails.require_confirmation` matches a configured server; connects nothing.
pub fn load_manager(guardrails: &GuardrailsConfig) -> Result<McpManager, AppError> {
    let cwd = std::env::current_dir().unwrap_or_else(|_| ".".into());
    let trust = TrustStore::open(&trust_store_path())?;
    let config = McpConfig::load(&config_dir(), &cwd, &trust)?;
    for pattern in guardrails.require_confirmation.iter().filter(|n| is_mcp_tool_pattern(n)) {
        let server = pattern.split("__").next().unwrap_or_default();
        if !config.servers.keys().any(|s| glob_match(server, s)) {
            return Err(AppError::Config(ConfigError::Invalid {
                origin: "guardrails.require_confirmation".into(),
                message: format!(
                    "`{pattern}` names no built-in tool, and no configured MCP server matches `{server}` (see `vana tools list` and `vana mcp list`)"
                ),
            }));
        }
    }
    let data = data_dir();
    Ok(McpManager::new(config, vana_mcp::config::mcp_home(&data), Some(data.join("cache").join("mcp"))))
}

impl App {
    /// The servers each agent uses (its YAML's `mcp_servers` plus servers whose config names it).
    fn mcp_servers_of(&self, agent: &str) -> Vec<Arc<Server>> {
        let declared = self.catalog.get(agent).map(|(s, _)| s.mcp_servers.clone()).unwrap_or_default();
        self.mcp.servers_for_agent(agent, &declared)
    }

    /// The MCP tools known now (listed this run or cached from an earlier one), per agent.
    /// Servers whose tools are not known yet are left out; [`App::connect_mcp`] lists them.
    pub fn mcp_tools(&self) -> HashMap<String, Vec<Arc<dyn Tool>>> {
        self.catalog
            .specs()
            .map(|(spec, _)| {
                let tools = self
                    .mcp_servers_of(&spec.name)
                    .iter()
                    .flat_map(|s| self.mcp.known_tools(s))
                    .map(|t| self.guard_mcp_tool(t))
                    .collect();
                (spec.name.clone(), tools)
            })
            .filter(|(_, t): &(String, Vec<Arc<dyn Tool>>)| !t.is_empty())
            .collect()
    }

    /// `tool` wrapped so every call waits for approval when `[guardrails] require_confirmation`
    /// matches its `<server>__<tool>` name (the server's own `require_confirmation` is the
    /// tool's already).
    fn guard_mcp_tool(&self, tool: Arc<dyn Tool>) -> Arc<dyn Tool> {
        let listed = self
            .config
            .guardrails
            .require_confirmation
            .iter()
            .any(|p| is_mcp_tool_pattern(p) && glob_match(p, tool.name()));
        if listed && !tool.requires_confirmation() {
            Arc::new(vana_core::RequireConfirmation(tool))
        } else {
            tool
        }
    }

    /// Lists the tools of the MCP servers that `agent`'s tree (sub-agents and agent tools
    /// included) uses and whose tools are not known yet, concurrently, each within its connect
    /// deadline; does nothing for agents that use no MCP server. Call it before
    /// [`App::runner`] so the agents get those tools; failures leave them with their others.
    pub async fn connect_mcp(&self, agent: Option<&str>) {
        let root = agent.unwrap_or(&self.config.agents.root).to_string();
        let mut seen = BTreeSet::new();
        let mut stack = vec![root];
        let mut servers: Vec<Arc<Server>> = Vec::new();
        while let Some(name) = stack.pop() {
            if !seen.insert(name.clone()) {
                continue;
            }
            if let Some((spec, _)) = self.catalog.get(&name) {
                stack.extend(spec.sub_agents.iter().chain(&spec.agent_tools).cloned());
            }
            for s in self.mcp_servers_of(&name) {
                if !servers.iter().any(|x| Arc::ptr_eq(x, &s)) {
                    servers.push(s);
                }
            }
        }
        self.mcp.discover(&servers).await;
    }
}

#[async_trait::async_trait]
impl vana_mcp::server::Backend for App {
    fn tools(&self) -> Vec<Arc<dyn Tool>> {
        self.tools.all().cloned().collect()
    }

    fn agents(&self) -> Vec<(String, String)> {
        self.catalog.specs().map(|(s, _)| (s.name.clone(), s.description.clone())).collect()
    }

    async fn runner(&self, agent: &str) -> Result<vana_core::Runner, String> {
        self.connect_mcp(Some(agent)).await;
        App::runner(self, Some(agent)).map_err(|e| e.to_string())
    }

    fn tool_timeout(&self) -> std::time::Duration {
        std::time::Duration::from_secs(self.config.limits.tool_timeout_secs.max(1))
    }

    fn policy(&self) -> vana_core::ToolPolicy {
        self.tool_policy()
    }

    async fn audit(&self, entry: vana_mcp::server::AuditEntry) {
        let record = vana_store::AuditRecord {
            id: 0,
            time: entry.time,
            kind: entry.kind.as_str().into(),
            user_id: entry.user_id,
            agent: entry.agent,
            session_id: entry.session_id,
            summary: entry.summary,
            data: entry.data,
        };
        if let Err(e) = self.stores.audit.audit_append(std::slice::from_ref(&record)).await {
            tracing::error!("cannot write the audit record `{}`: {e}", record.summary);
        }
    }
}
