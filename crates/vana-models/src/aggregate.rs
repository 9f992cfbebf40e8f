//! Collects a model turn (text, function calls, usage) and builds the partial and final responses.

use vana_core::{Content, FunctionCall, LlmResponse, ModelError, Part, UsageMetadata};

/// A model turn being assembled from a response or a stream.
#[derive(Debug, Default, Clone)]
pub(crate) struct TurnAggregate {
    /// All text so far.
    pub text: String,
    /// Function calls, in order.
    pub calls: Vec<FunctionCall>,
    /// Token counts, if reported.
    pub usage: Option<UsageMetadata>,
    /// Provider's finish reason.
    pub finish_reason: Option<String>,
}

impl TurnAggregate {
    /// Appends a text delta and returns the partial chunk to stream for it (none for empty text).
    pub fn push_text(&mut self, delta: &str) -> Option<LlmResponse> {
        if delta.is_empty() {
            return None;
        }
        self.text.push_str(delta);
        Some(partial_text(delta))
    }

    /// The final response: all text as one part, then every function call.
    pub fn into_final(self) -> LlmResponse {
        let mut parts = Vec::new();
        if !self.text.is_empty() {
            parts.push(Part::text(self.text));
        }
        parts.extend(self.calls.into_iter().map(Part::function_call));
        LlmResponse {
            content: Some(Content { role: "model".into(), parts }),
            partial: false,
            turn_complete: true,
            usage: self.usage,
            finish_reason: self.finish_reason,
        }
    }
}

/// A streamed text delta.
pub(crate) fn partial_text(delta: &str) -> LlmResponse {
    LlmResponse {
        content: Some(Content { role: "model".into(), parts: vec![Part::text(delta)] }),
        partial: true,
        turn_complete: false,
        usage: None,
        finish_reason: None,
    }
}

/// Parses a function call's JSON-encoded arguments (empty means `{}`).
pub(crate) fn parse_args(model: &str, tool: &str, raw: &str) -> Result<serde_json::Value, ModelError> {
    if raw.trim().is_empty() {
        return Ok(serde_json::Value::Object(Default::default()));
    }
    serde_json::from_str(raw).map_err(|e| ModelError::Protocol {
        model: model.into(),
        message: format!("arguments of the call to tool '{tool}' are not valid JSON ({e}): {raw}"),
    })
}

/// Pairs function calls and responses that carry no id, so providers that require ids (OpenAI,
/// Anthropic) get matching ones: a call without id gets `call_<n>`, and a response without id
/// takes the oldest unanswered generated id of the same tool.
#[derive(Debug, Default)]
pub(crate) struct CallIds {
    next: usize,
    pending: std::collections::HashMap<String, std::collections::VecDeque<String>>,
}

impl CallIds {
    /// The id to send for a call.
    pub fn for_call(&mut self, call: &FunctionCall) -> String {
        if let Some(id) = call.id.as_deref().filter(|id| !id.is_empty()) {
            return id.to_string();
        }
        self.next += 1;
        let id = format!("call_{}", self.next);
        self.pending.entry(call.name.clone()).or_default().push_back(id.clone());
        id
    }

    /// The id to send for a response.
    pub fn for_response(&mut self, resp: &vana_core::FunctionResponse) -> String {
        if let Some(id) = resp.id.as_deref().filter(|id| !id.is_empty()) {
            return id.to_string();
        }
        if let Some(id) = self.pending.get_mut(&resp.name).and_then(|q| q.pop_front()) {
            return id;
        }
        self.next += 1;
        format!("call_{}", self.next)
    }
}
