//! The model interface: what the runtime asks of an LLM provider.

use crate::event::{Content, UsageMetadata};
use async_trait::async_trait;
use futures::stream::BoxStream;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use std::sync::Arc;
use std::time::Duration;

/// A tool as the model sees it: name, description and JSON schema of its arguments.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ToolDeclaration {
    /// Tool name.
    pub name: String,
    /// What the tool does, for the model.
    pub description: String,
    /// JSON Schema (an object schema) of the arguments.
    pub parameters: Value,
}

/// Sampling settings for one request.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct GenerationConfig {
    /// Sampling temperature.
    pub temperature: Option<f32>,
    /// Maximum tokens to generate.
    pub max_output_tokens: Option<u32>,
    /// Stop sequences.
    pub stop_sequences: Vec<String>,
}

/// One request to a model: system instruction, conversation, tools.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct LlmRequest {
    /// The model string the agent asked for (e.g. `openai/gpt-4.1-mini`).
    pub model: String,
    /// System instruction.
    pub system_instruction: Option<String>,
    /// Conversation so far, oldest first; roles `user` and `model`.
    pub contents: Vec<Content>,
    /// Tools the model may call.
    pub tools: Vec<ToolDeclaration>,
    /// Sampling settings.
    pub config: GenerationConfig,
}

/// One chunk (streaming) or the whole answer (not streaming) from a model.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct LlmResponse {
    /// Text and function calls produced.
    pub content: Option<Content>,
    /// A streamed delta (text so far is not repeated); the final aggregate has `partial = false`.
    pub partial: bool,
    /// The model finished its turn.
    pub turn_complete: bool,
    /// Tokens used (usually on the final chunk).
    pub usage: Option<UsageMetadata>,
    /// Provider's finish reason, e.g. `stop`, `tool_calls`, `length`.
    pub finish_reason: Option<String>,
}

/// A stream of responses: zero or more partial chunks, then exactly one final (non-partial) response.
pub type LlmResponseStream = BoxStream<'static, Result<LlmResponse, ModelError>>;

/// Why a model call failed.
#[derive(Debug, Clone, thiserror::Error, PartialEq)]
pub enum ModelError {
    /// The provider answered 429.
    #[error("rate limited by {model}{}", retry_after.map(|d| format!(" (retry after {:.1}s)", d.as_secs_f64())).unwrap_or_default())]
    RateLimited {
        /// Model that refused.
        model: String,
        /// The provider's Retry-After, if sent.
        retry_after: Option<Duration>,
    },
    /// The provider answered 5xx.
    #[error("{model}: server error {status}: {message}")]
    Server {
        /// Model that failed.
        model: String,
        /// HTTP status.
        status: u16,
        /// Body or reason.
        message: String,
    },
    /// No answer in time.
    #[error("{model}: timed out after {0:?}", .after)]
    Timeout {
        /// Model that timed out.
        model: String,
        /// The deadline that passed.
        after: Duration,
    },
    /// Could not reach the provider.
    #[error("{model}: connection failed: {message}")]
    Transport {
        /// Model that could not be reached.
        model: String,
        /// What failed.
        message: String,
    },
    /// The provider rejected the request (4xx other than 429), e.g. bad key or bad request.
    #[error("{model}: request rejected ({status}): {message}")]
    Rejected {
        /// Model that rejected.
        model: String,
        /// HTTP status.
        status: u16,
        /// Provider's message.
        message: String,
    },
    /// The prompt does not fit the model's context window.
    #[error("{model}: context length exceeded: {message}")]
    ContextLength {
        /// Model.
        model: String,
        /// Details (token counts where known).
        message: String,
    },
    /// No model could be used: not configured (no API key) or unknown model string.
    #[error("{0}")]
    NotConfigured(String),
    /// The provider's answer could not be understood.
    #[error("{model}: malformed response: {message}")]
    Protocol {
        /// Model.
        model: String,
        /// What was wrong.
        message: String,
    },
    /// The call was cancelled.
    #[error("model call cancelled")]
    Cancelled,
}

impl ModelError {
    /// True when retrying the same model may succeed (429, 5xx, timeout, connection failure).
    pub fn is_retryable(&self) -> bool {
        matches!(
            self,
            ModelError::RateLimited { .. }
                | ModelError::Server { .. }
                | ModelError::Timeout { .. }
                | ModelError::Transport { .. }
        )
    }

    /// Stable machine-readable code, used as an event's `errorCode`.
    pub fn code(&self) -> &'static str {
        match self {
            ModelError::RateLimited { .. } => "MODEL_RATE_LIMITED",
            ModelError::Server { .. } => "MODEL_SERVER_ERROR",
            ModelError::Timeout { .. } => "MODEL_TIMEOUT",
            ModelError::Transport { .. } => "MODEL_UNREACHABLE",
            ModelError::Rejected { .. } => "MODEL_REQUEST_REJECTED",
            ModelError::ContextLength { .. } => "MODEL_CONTEXT_LENGTH",
            ModelError::NotConfigured(_) => "MODEL_NOT_CONFIGURED",
            ModelError::Protocol { .. } => "MODEL_PROTOCOL_ERROR",
            ModelError::Cancelled => "CANCELLED",
        }
    }
}

/// An LLM: turns a request into a stream of responses.
#[async_trait]
pub trait Model: Send + Sync {
    /// The model string this instance serves, e.g. `anthropic/claude-sonnet-4-5`.
    fn name(&self) -> &str;

    /// Sends the request. With `stream = true`, yields partial text/tool-call chunks before the
    /// final response; with `stream = false`, yields exactly one final response. The request
    /// is shared: wrappers (retries, fallbacks) and recorders pass it on or keep it without
    /// copying the conversation.
    async fn generate(&self, request: Arc<LlmRequest>, stream: bool)
        -> Result<LlmResponseStream, ModelError>;
}

/// Turns a model string from an agent's YAML or the config into a usable model.
pub trait ModelResolver: Send + Sync {
    /// The model for this string, wrapped with the configured retries and fallbacks.
    fn resolve(&self, model: &str) -> Result<Arc<dyn Model>, ModelError>;
    /// The model string used when an agent names none.
    fn default_model(&self) -> String;
}
