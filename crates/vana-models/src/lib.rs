//! VANA's LLM providers behind `vana_core::Model`: OpenAI chat completions (and every
//! OpenAI-compatible server: Ollama, OpenRouter, vLLM, custom), Gemini and Anthropic, with
//! retries and fallbacks, the `ModelRegistry` that resolves model strings from `[models]` in
//! `vana.toml`, and the scripted model (plus, behind the `scripted-server` feature, a scripted
//! HTTP server speaking all three wire formats) for tests and benchmarks.

#![warn(missing_docs)]

mod aggregate;
pub mod anthropic;
pub mod config;
pub mod gemini;
pub mod http;
pub mod openai;
pub mod registry;
pub mod resilience;
pub mod scripted;
#[cfg(feature = "scripted-server")]
pub mod scripted_server;
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
pub use scripted::{
    Script, ScriptedCall, ScriptedError, ScriptedHttp, ScriptedModel, ScriptedTurn, ScriptedUsage,
};
#[cfg(feature = "scripted-server")]
pub use scripted_server::{RecordedRequest, ScriptedServer};
