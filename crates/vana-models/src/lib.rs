//! VANA's LLM providers behind `vana_core::Model`: OpenAI chat completions (and every
//! OpenAI-compatible server: Ollama, OpenRouter, vLLM, custom), Gemini and Anthropic, with
//! retries and fallbacks, the `ModelRegistry` that resolves model strings from `[models]` in
//! `vana.toml` (`scripted:<file>` strings resolve to the scripted model of crate `vana-scripted`).

#![warn(missing_docs)]

mod aggregate;
pub mod anthropic;
pub mod config;
pub mod gemini;
pub mod http;
pub mod openai;
pub mod registry;
pub mod resilience;
pub mod sse;

pub use anthropic::AnthropicModel;
pub use config::{CustomProviderConfig, ModelsConfig, ProviderConfig, RetryConfig};
pub use gemini::GeminiModel;
pub use http::{Endpoint, HttpClient, Secret};
pub use openai::OpenAiModel;
pub use registry::{
    EnvLookup, LocalProvider, ModelRegistry, ProviderStatus, UnconfiguredModel, AUTO_MODEL,
    LOCAL_DEFAULT_MODEL,
};
pub use resilience::{ResilientModel, RetryPolicy};
