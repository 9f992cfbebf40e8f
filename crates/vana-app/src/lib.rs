//! VANA's composition root: loads the configuration, opens the session store, loads the agent
//! catalog, registers tools and models, and builds runners. The CLI and the server are thin
//! faces over this.

pub mod adk_eval;
pub mod catalog;
pub mod config;
pub mod evaluation;
pub mod exec;
pub mod mcp;
pub mod models;
pub mod research;
pub mod routing;
pub mod suites;
pub mod task_eval;

pub use config::{Config, Loaded};
/// The stores' record types (audit log, API keys, artifacts), for faces that read `App::stores`.
pub use vana_store::records;

use std::sync::Arc;
use vana_core::catalog::{Catalog, CatalogError};
use vana_core::{Runner, SessionStore, StoreError, ToolPolicy, ToolRegistry};
use vana_models::ModelRegistry;

/// Why the app could not start.
#[derive(Debug, thiserror::Error)]
pub enum AppError {
    /// The configuration is invalid.
    #[error(transparent)]
    Config(#[from] config::ConfigError),
    /// The session store could not be opened.
    #[error("cannot open the session store ({url}): {source}")]
    Store {
        /// The store URL (password masked).
        url: String,
        /// Why.
        source: StoreError,
    },
    /// The agent catalog is invalid.
    #[error(transparent)]
    Catalog(#[from] CatalogError),
    /// A session workspace could not be removed.
    #[error("session deleted, but its sandbox workspace could not be removed: {0}")]
    Workspace(vana_core::ToolError),
    /// The model configuration is invalid.
    #[error("invalid [models] configuration: {0}")]
    Models(#[from] vana_core::ModelError),
}

/// Everything a face needs to run agents.
pub struct App {
    /// The effective configuration.
    pub config: Config,
    /// The agent catalog.
    pub catalog: Catalog,
    /// Every built-in tool.
    pub tools: ToolRegistry,
    /// Models by model string.
    pub models: Arc<ModelRegistry>,
    /// The session store.
    pub store: Arc<dyn SessionStore>,
    /// Every store of the same database: sessions, audit log, API keys, artifacts.
    pub stores: vana_store::Stores,
    /// The code sandbox (started on first use).
    pub sandbox: Arc<vana_tools_code::Sandbox>,
    /// The tool suites of this build, whose tools are in `tools`.
    pub suites: Vec<Arc<dyn vana_toolkit::ToolSuite>>,
    /// The suites' reports, checked once on first use ([`App::suite_reports`]).
    suite_reports: std::sync::OnceLock<Vec<suites::SuiteReport>>,
    /// The MCP servers (connected on first use) whose tools the configured agents get.
    pub mcp: Arc<vana_mcp::McpManager>,
    /// The semantic router in front of the orchestrator (its model loads on first use).
    pub router: Arc<routing::SharedRouter>,
}

impl App {
    /// Opens the store, loads the catalog and registers tools and models.
    pub async fn open(config: Config) -> Result<App, AppError> {
        let stores = vana_store::open_all(&config.store.url)
            .await
            .map_err(|source| AppError::Store { url: config::mask_url(&config.store.url), source })?;
        let store = stores.sessions.clone();
        let catalog = catalog::load(&config.agents.dir)?;
        let models = Arc::new(ModelRegistry::new(config.models.clone())?);
        let models_dir = config::models_dir();
        models.set_local_provider(Arc::new(move |m: &str| vana_local::resolve(m, &models_dir)));
        let sandbox = Arc::new(vana_tools_code::Sandbox::new(&config.sandbox.policy_dir, config::data_dir()));
        let suites = suites::all(&config, &sandbox);
        let mut tools = ToolRegistry::new();
        suites::register(&mut tools, &suites);
        // `<server>__<tool>` names are MCP tools, wrapped when listed (mcp.rs).
        for name in config.guardrails.require_confirmation.iter().filter(|n| !mcp::is_mcp_tool_pattern(n)) {
            let tool = tools.get(name).ok_or_else(|| {
                AppError::Config(config::ConfigError::Invalid {
                    origin: "guardrails.require_confirmation".into(),
                    message: format!("no built-in tool is named `{name}` (see `vana tools list`)"),
                })
            })?;
            tools.register(Arc::new(vana_core::RequireConfirmation(tool)));
        }
        let mcp = Arc::new(mcp::load_manager(&config.guardrails)?);
        let router = Arc::new(routing::SharedRouter::new(
            routing::profiles(&catalog, &config.agents.root),
            config::models_dir(),
            config.router.threshold,
        ));
        let suite_reports = Default::default();
        Ok(App { config, catalog, tools, models, store, stores, sandbox, suites, suite_reports, mcp, router })
    }

    /// What each tool suite offers and which of its external parts are missing (checked once).
    pub fn suite_reports(&self) -> &[suites::SuiteReport] {
        self.suite_reports.get_or_init(|| suites::reports(&self.suites))
    }

    /// Deletes a session with its events and its sandbox workspace. False if it did not exist.
    pub async fn delete_session(&self, app_name: &str, user_id: &str, id: &str) -> Result<bool, AppError> {
        let deleted = self
            .store
            .delete_session(app_name, user_id, id)
            .await
            .map_err(|source| AppError::Store { url: config::mask_url(&self.config.store.url), source })?;
        if deleted {
            self.sandbox.delete_session(id).await.map_err(AppError::Workspace)?;
        }
        Ok(deleted)
    }

    /// The `[guardrails]` allow/deny lists, for runners and VANA's MCP server.
    pub fn tool_policy(&self) -> ToolPolicy {
        ToolPolicy { allow: self.config.guardrails.allow.clone(), deny: self.config.guardrails.deny.clone() }
    }

    /// A runner whose root is `agent` (the configured root when `None`).
    pub fn runner(&self, agent: Option<&str>) -> Result<Runner, AppError> {
        let name = agent.unwrap_or(&self.config.agents.root);
        let mcp_tools = self.mcp_tools();
        let root = self.catalog.build(name, &self.tools, &mcp_tools, self.models.as_ref())?;
        let mut runner = Runner::new(root, self.store.clone())
            .with_config(self.config.run_config())
            .with_callback(Arc::new(self.tool_policy()));
        if name == self.config.agents.root && self.config.router.mode != config::RouterMode::Off {
            let unavailable = self.catalog.unavailable(&self.tools, &mcp_tools);
            runner = runner.with_callback(Arc::new(
                routing::RoutingCallback::new(name, &self.config.router, self.router.clone())
                    .with_unavailable(unavailable),
            ));
        }
        Ok(runner)
    }
}
