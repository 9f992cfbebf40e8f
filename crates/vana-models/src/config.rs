//! The `[models]` section of `vana.toml`: default model, fallbacks, retries and providers.

use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::time::Duration;

/// Model configuration, embedded in `vana.toml` under `[models]`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ModelsConfig {
    /// Model string used when an agent names none (e.g. `gemini-2.5-flash`); `auto` (the default)
    /// picks Gemini, OpenAI or Anthropic by the API key present, else the embedded local model.
    pub default_model: String,
    /// Model strings tried in order when the requested model keeps failing.
    pub fallbacks: Vec<String>,
    /// Retry policy applied to every model before moving to the next fallback.
    pub retry: RetryConfig,
    /// Per-request deadline in seconds (whole request when not streaming; idle gap when streaming).
    pub request_timeout_secs: u64,
    /// OpenAI (`openai/<model>`).
    pub openai: ProviderConfig,
    /// Google Gemini (`gemini-*`, `gemini/<model>`).
    pub gemini: ProviderConfig,
    /// Anthropic (`anthropic/<model>`).
    pub anthropic: ProviderConfig,
    /// Ollama's OpenAI-compatible endpoint (`ollama/<model>`).
    pub ollama: ProviderConfig,
    /// OpenRouter (`openrouter/<vendor>/<model>`).
    pub openrouter: ProviderConfig,
    /// vLLM's OpenAI-compatible server (`vllm/<model>`).
    pub vllm: ProviderConfig,
    /// Named OpenAI-compatible providers (`<name>/<model>`).
    pub custom: BTreeMap<String, CustomProviderConfig>,
}

impl Default for ModelsConfig {
    fn default() -> Self {
        ModelsConfig {
            default_model: crate::registry::AUTO_MODEL.into(),
            fallbacks: Vec::new(),
            retry: RetryConfig::default(),
            request_timeout_secs: 300,
            openai: ProviderConfig::default(),
            gemini: ProviderConfig::default(),
            anthropic: ProviderConfig::default(),
            ollama: ProviderConfig::default(),
            openrouter: ProviderConfig::default(),
            vllm: ProviderConfig::default(),
            custom: BTreeMap::new(),
        }
    }
}

impl ModelsConfig {
    /// The request timeout as a duration (at least one second).
    pub fn request_timeout(&self) -> Duration {
        Duration::from_secs(self.request_timeout_secs.max(1))
    }
}

/// Retries with exponential backoff and full jitter, per model.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct RetryConfig {
    /// Attempts per model, the first included (1 = no retries).
    pub max_attempts: u32,
    /// Upper bound of the first backoff, in milliseconds; doubles on every retry.
    pub initial_backoff_ms: u64,
    /// Cap of any wait, Retry-After included, in milliseconds.
    pub max_backoff_ms: u64,
}

impl Default for RetryConfig {
    fn default() -> Self {
        RetryConfig { max_attempts: 3, initial_backoff_ms: 500, max_backoff_ms: 30_000 }
    }
}

/// Overrides for a built-in provider.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ProviderConfig {
    /// Environment variable holding the API key (replaces the provider's default variable).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub api_key_env: Option<String>,
    /// Base URL of the API (replaces the provider's default endpoint).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub base_url: Option<String>,
}

/// A named OpenAI-compatible provider, used as `<name>/<model>`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct CustomProviderConfig {
    /// Base URL up to and including the version, e.g. `http://10.0.0.5:8000/v1`.
    pub base_url: String,
    /// Environment variable holding the API key; none means the server needs no key.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub api_key_env: Option<String>,
}
