//! What a configuration's `[models]` resolves to, as `vana config show` reports it, without
//! opening the app.

use crate::config::Config;
use vana_core::ModelError;
use vana_models::ModelRegistry;

/// The default model and one status line per provider (key present or which variable to set).
#[derive(Debug, Clone, PartialEq)]
pub struct ModelsReport {
    /// The model agents get when they name none (after `auto` is resolved).
    pub default_model: String,
    /// One line per provider, e.g. `openai: key in OPENAI_API_KEY`.
    pub providers: Vec<String>,
}

/// The report for `config`; fails when `[models]` is invalid.
pub fn describe(config: &Config) -> Result<ModelsReport, ModelError> {
    let registry = ModelRegistry::new(config.models.clone())?;
    Ok(ModelsReport {
        default_model: registry.default_model(),
        providers: registry.describe().iter().map(ToString::to_string).collect(),
    })
}
