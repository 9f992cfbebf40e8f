//! The scripted model: an in-process `Model` that plays back turns stated by a test, and records
//! every request it receives. The only stand-in for a real LLM in VANA.

use crate::aggregate::{partial_text, TurnAggregate};
use crate::http::error_from_status;
use async_trait::async_trait;
use futures::StreamExt;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use std::path::Path;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use vana_core::event::new_call_id;
use vana_core::{FunctionCall, LlmRequest, LlmResponse, LlmResponseStream, Model, ModelError, UsageMetadata};

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

#[derive(Debug, Default)]
enum Mode {
    Script {
        turns: Vec<ScriptedTurn>,
        next: usize,
        repeat: bool,
    },
    #[default]
    Echo,
}

/// Requests a model keeps for [`ScriptedModel::requests`] (the most recent; a benchmark's
/// model serves millions and must not hold them all).
const MAX_RECORDED: usize = 1000;

#[derive(Debug, Default)]
struct State {
    mode: Mode,
    requests: std::collections::VecDeque<Arc<LlmRequest>>,
    calls: usize,
}

/// An in-process model that plays back `ScriptedTurn`s; clones share the script and the log.
#[derive(Debug, Clone)]
pub struct ScriptedModel {
    name: String,
    state: Arc<Mutex<State>>,
}

impl ScriptedModel {
    /// A model named `scripted` playing `turns` once.
    pub fn new(turns: Vec<ScriptedTurn>) -> Self {
        ScriptedModel::named("scripted", turns)
    }

    /// A model with a given model string playing `turns` once.
    pub fn named(name: impl Into<String>, turns: Vec<ScriptedTurn>) -> Self {
        ScriptedModel::from_script(name, Script { turns, repeat: false })
    }

    /// A model playing `turns` over and over, never exhausted (benchmarks).
    pub fn repeating(name: impl Into<String>, turns: Vec<ScriptedTurn>) -> Self {
        ScriptedModel::from_script(name, Script { turns, repeat: true })
    }

    /// A model named `echo` that answers every request with the text of the last user message.
    pub fn echo() -> Self {
        ScriptedModel { name: "echo".into(), state: Arc::new(Mutex::new(State::default())) }
    }

    /// A model from a parsed script.
    pub fn from_script(name: impl Into<String>, script: Script) -> Self {
        let mode = Mode::Script { turns: script.turns, next: 0, repeat: script.repeat };
        ScriptedModel { name: name.into(), state: Arc::new(Mutex::new(State { mode, ..Default::default() })) }
    }

    /// A model from a JSON or YAML script file, named `scripted:<path>`.
    pub fn from_file(path: impl AsRef<Path>) -> Result<Self, ModelError> {
        let path = path.as_ref();
        let script = Script::load(path)
            .map_err(|e| ModelError::NotConfigured(format!("cannot load the scripted model: {e}")))?;
        Ok(ScriptedModel::from_script(format!("scripted:{}", path.display()), script))
    }

    /// The requests received so far (the most recent 1,000), oldest first.
    pub fn requests(&self) -> Vec<LlmRequest> {
        self.lock().requests.iter().map(|r| LlmRequest::clone(r)).collect()
    }

    /// Turns not yet played (a repeating script always reports its length, echo reports 0).
    pub fn remaining(&self) -> usize {
        match &self.lock().mode {
            Mode::Script { turns, next, repeat: false } => turns.len().saturating_sub(*next),
            Mode::Script { turns, .. } => turns.len(),
            Mode::Echo => 0,
        }
    }

    /// Appends a turn to the script.
    pub fn push(&self, turn: ScriptedTurn) {
        if let Mode::Script { turns, .. } = &mut self.lock().mode {
            turns.push(turn);
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Records the request and takes the next turn.
    fn next_turn(&self, request: Arc<LlmRequest>) -> Result<ScriptedTurn, ModelError> {
        let mut state = self.lock();
        let last_user = request
            .contents
            .iter()
            .rev()
            .find(|c| c.role == "user" && !c.text().is_empty())
            .map(|c| c.text())
            .unwrap_or_default();
        if state.requests.len() == MAX_RECORDED {
            state.requests.pop_front();
        }
        state.requests.push_back(request);
        let served = state.calls;
        state.calls += 1;
        match &mut state.mode {
            Mode::Echo => Ok(ScriptedTurn::text(last_user)),
            Mode::Script { turns, next, repeat } => {
                if *repeat && !turns.is_empty() {
                    *next %= turns.len();
                }
                match turns.get(*next) {
                    Some(turn) => {
                        *next += 1;
                        Ok(turn.clone())
                    }
                    None => Err(ModelError::Protocol {
                        model: self.name.clone(),
                        message: format!(
                            "scripted model exhausted: its script has {} turn(s) and this is call {}; \
                             add a turn to the test's script",
                            turns.len(),
                            served + 1
                        ),
                    }),
                }
            }
        }
    }
}

/// Splits text into up to three chunks on character boundaries (for simulated streaming).
pub(crate) fn text_chunks(text: &str) -> Vec<String> {
    let chars: Vec<char> = text.chars().collect();
    if chars.is_empty() {
        return Vec::new();
    }
    let size = chars.len().div_ceil(3).max(1);
    chars.chunks(size).map(|c| c.iter().collect()).collect()
}

/// The calls of a turn with ids filled in.
pub(crate) fn turn_calls(turn: &ScriptedTurn) -> Vec<FunctionCall> {
    turn.function_calls
        .iter()
        .map(|c| FunctionCall {
            id: Some(c.id.clone().unwrap_or_else(new_call_id)),
            name: c.name.clone(),
            args: if c.args.is_null() { serde_json::json!({}) } else { c.args.clone() },
        })
        .collect()
}

#[async_trait]
impl Model for ScriptedModel {
    fn name(&self) -> &str {
        &self.name
    }

    async fn generate(
        &self,
        request: Arc<LlmRequest>,
        stream: bool,
    ) -> Result<LlmResponseStream, ModelError> {
        let turn = self.next_turn(request)?;
        if turn.delay_ms > 0 {
            tokio::time::sleep(Duration::from_millis(turn.delay_ms)).await;
        }
        if let Some(err) = &turn.error {
            return Err(err.to_model_error(&self.name));
        }
        if let Some(http) = &turn.http {
            let body = http.body.clone().unwrap_or_else(|| format!("scripted HTTP {}", http.status));
            return Err(error_from_status(&self.name, http.status, http.retry_after.as_deref(), &body));
        }
        let text = turn.text.clone().unwrap_or_default();
        let mut items: Vec<Result<LlmResponse, ModelError>> = Vec::new();
        if stream {
            items.extend(text_chunks(&text).iter().map(|c| Ok(partial_text(c))));
        }
        let agg = TurnAggregate {
            text,
            calls: turn_calls(&turn),
            usage: turn.usage.map(Into::into),
            finish_reason: Some(turn.finish_reason()),
        };
        items.push(Ok(agg.into_final()));
        Ok(futures::stream::iter(items).boxed())
    }
}
