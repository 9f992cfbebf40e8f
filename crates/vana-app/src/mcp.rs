//! MCP wiring: the server configuration (built-in catalog, the user's `mcp_servers.yaml`, a
//! `.mcp.json` in the working directory), MCP tools for the agents that use them, and the app
//! as the backend of VANA's own MCP server.

use crate::config::{config_dir, data_dir};
use crate::{App, AppError};
use std::collections::{BTreeSet, HashMap};
use std::sync::Arc;
use vana_core::Tool;
use vana_mcp::{McpConfig, McpManager, Server};

/// Reads the MCP configuration; connects nothing.
pub fn load_manager() -> Result<McpManager, AppError> {
    let cwd = std::env::current_dir().unwrap_or_else(|_| ".".into());
    let config = McpConfig::load(&config_dir(), &cwd)?;
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
                let tools =
                    self.mcp_servers_of(&spec.name).iter().flat_map(|s| self.mcp.known_tools(s)).collect();
                (spec.name.clone(), tools)
            })
            .filter(|(_, t): &(String, Vec<Arc<dyn Tool>>)| !t.is_empty())
            .collect()
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
}
