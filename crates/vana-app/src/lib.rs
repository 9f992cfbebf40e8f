//! VANA's composition root: loads the configuration, opens the session store, loads the agent
//! catalog, registers tools and models, and builds runners. The CLI and the server are thin
//! faces over this.

pub mod catalog;
pub mod config;

pub use config::{Config, Loaded};

use std::collections::HashMap;
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
}

impl App {
    /// Opens the store, loads the catalog and registers tools and models.
    pub async fn open(config: Config) -> Result<App, AppError> {
        let store = vana_store::open(&config.store.url)
            .await
            .map_err(|source| AppError::Store { url: config::mask_url(&config.store.url), source })?;
        let catalog = catalog::load(&config.agents.dir)?;
        let models = Arc::new(ModelRegistry::new(config.models.clone())?);
        Ok(App { config, catalog, tools: ToolRegistry::new(), models, store })
    }

    /// A runner whose root is `agent` (the configured root when `None`).
    pub fn runner(&self, agent: Option<&str>) -> Result<Runner, AppError> {
        let name = agent.unwrap_or(&self.config.agents.root);
        let root = self.catalog.build(name, &self.tools, &HashMap::new(), self.models.as_ref())?;
        let policy = ToolPolicy {
            allow: self.config.guardrails.allow.clone(),
            deny: self.config.guardrails.deny.clone(),
        };
        Ok(Runner::new(root, self.store.clone())
            .with_config(self.config.run_config())
            .with_callback(Arc::new(policy)))
    }
}
