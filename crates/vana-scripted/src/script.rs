//! What a script says: the turns a scripted model plays back (text, tool calls, usage, latency,
//! model errors and HTTP failures) and the script file that lists them (JSON or YAML).

use serde::{Deserialize, Serialize};
use serde_json::Value;
use std::path::Path;
use std::time::Duration;
use vana_core::{ModelError, UsageMetadata};

/// One model turn to play back: text and/or function calls, or an error.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ScriptedTurn {
    /// Text the model answers.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub text: Option<String>,
    /// Tool calls the model makes, in order.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub function_calls: Vec<ScriptedCall>,
    /// Fail this turn with a model error instead of answering.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<ScriptedError>,
    /// Fail this turn with an HTTP status (the scripted server sends it as is; the in-process
    /// model maps it like a provider would).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub http: Option<ScriptedHttp>,
    /// Token counts to report.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub usage: Option<ScriptedUsage>,
    /// Finish reason to report (default `stop`, or `tool_calls` when there are calls).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub finish_reason: Option<String>,
    /// Milliseconds to wait before answering (simulates latency or a hung provider).
    #[serde(skip_serializing_if = "is_zero")]
    pub delay_ms: u64,
}

fn is_zero(v: &u64) -> bool {
    *v == 0
}

impl ScriptedTurn {
    /// A text answer.
    pub fn text(text: impl Into<String>) -> Self {
        ScriptedTurn { text: Some(text.into()), ..Default::default() }
    }

    /// A single tool call.
    pub fn call(name: impl Into<String>, args: Value) -> Self {
        ScriptedTurn::default().with_call(name, args)
    }

    /// A turn failing with `error`.
    pub fn error(error: ScriptedError) -> Self {
        ScriptedTurn { error: Some(error), ..Default::default() }
    }

    /// A turn failing with an HTTP status.
    pub fn http(status: u16) -> Self {
        ScriptedTurn {
            http: Some(ScriptedHttp { status, retry_after: None, body: None }),
            ..Default::default()
        }
    }

    /// Builder: add a tool call.
    pub fn with_call(mut self, name: impl Into<String>, args: Value) -> Self {
        self.function_calls.push(ScriptedCall { name: name.into(), args, id: None });
        self
    }

    /// Builder: add a tool call with a fixed id.
    pub fn with_call_id(mut self, id: impl Into<String>, name: impl Into<String>, args: Value) -> Self {
        self.function_calls.push(ScriptedCall { name: name.into(), args, id: Some(id.into()) });
        self
    }

    /// Builder: report token counts.
    pub fn with_usage(mut self, prompt_tokens: u64, completion_tokens: u64) -> Self {
        self.usage = Some(ScriptedUsage { prompt_tokens, completion_tokens });
        self
    }

    /// Builder: set the Retry-After header of an HTTP turn (seconds or an HTTP-date).
    pub fn with_retry_after(mut self, value: impl Into<String>) -> Self {
        if let Some(http) = &mut self.http {
            http.retry_after = Some(value.into());
        }
        self
    }

    /// Builder: set the body of an HTTP turn.
    pub fn with_body(mut self, body: impl Into<String>) -> Self {
        if let Some(http) = &mut self.http {
            http.body = Some(body.into());
        }
        self
    }

    /// Builder: wait before answering.
    pub fn with_delay(mut self, delay: Duration) -> Self {
        self.delay_ms = delay.as_millis() as u64;
        self
    }

    /// The finish reason to report.
    pub fn finish_reason(&self) -> String {
        self.finish_reason
            .clone()
            .unwrap_or_else(|| if self.function_calls.is_empty() { "stop" } else { "tool_calls" }.to_string())
    }
}

/// A tool call in a scripted turn.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ScriptedCall {
    /// Tool name.
    pub name: String,
    /// Arguments (a JSON object).
    #[serde(default)]
    pub args: Value,
    /// Call id; generated (`call_<uuid>`) when absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
}

/// Token counts of a scripted turn.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ScriptedUsage {
    /// Prompt tokens.
    pub prompt_tokens: u64,
    /// Generated tokens.
    pub completion_tokens: u64,
}

impl From<ScriptedUsage> for UsageMetadata {
    fn from(u: ScriptedUsage) -> Self {
        UsageMetadata::new(u.prompt_tokens, u.completion_tokens)
    }
}

/// An HTTP failure in a scripted turn.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ScriptedHttp {
    /// HTTP status, e.g. 429 or 503.
    pub status: u16,
    /// Retry-After header value.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub retry_after: Option<String>,
    /// Response body (default: a JSON error object in the provider's shape).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub body: Option<String>,
}

/// A model error a scripted turn fails with (`kind` selects the variant).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case", deny_unknown_fields)]
pub enum ScriptedError {
    /// 429, optionally with Retry-After seconds.
    RateLimited {
        /// Seconds to wait.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        retry_after_secs: Option<f64>,
    },
    /// 5xx.
    Server {
        /// HTTP status (default 500).
        #[serde(default = "default_500")]
        status: u16,
        /// Message.
        #[serde(default)]
        message: String,
    },
    /// No answer in time (the scripted server hangs instead).
    Timeout {
        /// The deadline reported.
        #[serde(default)]
        after_ms: u64,
    },
    /// Connection failure (the scripted server drops the connection instead).
    Transport {
        /// Message.
        #[serde(default)]
        message: String,
    },
    /// 4xx rejection.
    Rejected {
        /// HTTP status (default 400).
        #[serde(default = "default_400")]
        status: u16,
        /// Message.
        #[serde(default)]
        message: String,
    },
    /// Prompt too long.
    ContextLength {
        /// Message.
        #[serde(default)]
        message: String,
    },
    /// Model not configured.
    NotConfigured {
        /// Message.
        #[serde(default)]
        message: String,
    },
    /// Malformed answer (the scripted server sends a non-JSON body instead).
    Protocol {
        /// Message.
        #[serde(default)]
        message: String,
    },
}

fn default_500() -> u16 {
    500
}

fn default_400() -> u16 {
    400
}

impl ScriptedError {
    /// The `ModelError` this stands for, attributed to `model`.
    pub fn to_model_error(&self, model: &str) -> ModelError {
        let model = model.to_string();
        match self.clone() {
            ScriptedError::RateLimited { retry_after_secs } => ModelError::RateLimited {
                model,
                retry_after: retry_after_secs
                    .filter(|s| s.is_finite() && *s >= 0.0)
                    .map(Duration::from_secs_f64),
            },
            ScriptedError::Server { status, message } => ModelError::Server { model, status, message },
            ScriptedError::Timeout { after_ms } => {
                ModelError::Timeout { model, after: Duration::from_millis(after_ms) }
            }
            ScriptedError::Transport { message } => ModelError::Transport { model, message },
            ScriptedError::Rejected { status, message } => ModelError::Rejected { model, status, message },
            ScriptedError::ContextLength { message } => ModelError::ContextLength { model, message },
            ScriptedError::NotConfigured { message } => ModelError::NotConfigured(message),
            ScriptedError::Protocol { message } => ModelError::Protocol { model, message },
        }
    }
}

/// A script file: either a bare list of turns, or this object.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Script {
    /// The turns, in order.
    pub turns: Vec<ScriptedTurn>,
    /// Start over when the turns run out instead of failing (for benchmarks).
    pub repeat: bool,
}

impl Script {
    /// Parses a script from JSON or YAML text (a list of turns or a `{turns, repeat}` object).
    pub fn parse(text: &str) -> Result<Script, String> {
        let value: Value = match serde_json::from_str(text) {
            Ok(v) => v,
            Err(json_err) => serde_yaml::from_str(text)
                .map_err(|yaml_err| format!("not JSON ({json_err}) nor YAML ({yaml_err})"))?,
        };
        if value.is_array() {
            let turns = serde_json::from_value(value).map_err(|e| format!("invalid turn list: {e}"))?;
            return Ok(Script { turns, repeat: false });
        }
        serde_json::from_value(value).map_err(|e| format!("invalid script: {e}"))
    }

    /// Reads and parses a script file.
    pub fn load(path: &Path) -> Result<Script, String> {
        let text =
            std::fs::read_to_string(path).map_err(|e| format!("cannot read {}: {e}", path.display()))?;
        Script::parse(&text).map_err(|e| format!("{}: {e}", path.display()))
    }
}
