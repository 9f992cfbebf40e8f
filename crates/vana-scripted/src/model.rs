//! The scripted model: an in-process `Model` that plays back turns stated by a test, and records
//! every request it receives. The only stand-in for a real LLM in VANA.

use crate::script::{Script, ScriptedTurn};
use crate::status::error_from_status;
use async_trait::async_trait;
use futures::StreamExt;
use std::path::Path;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use vana_core::event::new_call_id;
use vana_core::{Content, FunctionCall, LlmRequest, LlmResponse, LlmResponseStream, Model, ModelError, Part};

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
fn turn_calls(turn: &ScriptedTurn) -> Vec<FunctionCall> {
    turn.function_calls
        .iter()
        .map(|c| FunctionCall {
            id: Some(c.id.clone().unwrap_or_else(new_call_id)),
            name: c.name.clone(),
            args: if c.args.is_null() { serde_json::json!({}) } else { c.args.clone() },
        })
        .collect()
}

/// A streamed text delta.
fn partial_text(delta: &str) -> LlmResponse {
    LlmResponse {
        content: Some(Content { role: "model".into(), parts: vec![Part::text(delta)] }),
        partial: true,
        turn_complete: false,
        usage: None,
        finish_reason: None,
    }
}

/// The final response of a turn: all its text as one part, then every function call.
fn final_response(turn: &ScriptedTurn, text: String) -> LlmResponse {
    let mut parts = Vec::new();
    if !text.is_empty() {
        parts.push(Part::text(text));
    }
    parts.extend(turn_calls(turn).into_iter().map(Part::function_call));
    LlmResponse {
        content: Some(Content { role: "model".into(), parts }),
        partial: false,
        turn_complete: true,
        usage: turn.usage.map(Into::into),
        finish_reason: Some(turn.finish_reason()),
    }
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
        items.push(Ok(final_response(&turn, text)));
        Ok(futures::stream::iter(items).boxed())
    }
}
