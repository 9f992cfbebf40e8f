//! The event model: one shape end to end, matching Google ADK's Event JSON (camelCase).

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use std::time::{SystemTime, UNIX_EPOCH};

/// A JSON object: session state and state deltas are maps of these.
pub type JsonMap = Map<String, Value>;

/// One step of an invocation: a user message, a model turn, a tool response, an error.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Event {
    /// Unique id of the event.
    pub id: String,
    /// The invocation (one user request) this event belongs to.
    pub invocation_id: String,
    /// `user` or the name of the agent that produced the event.
    pub author: String,
    /// Branch of the event log (parallel branches and agent-as-tool children), dot-separated.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub branch: Option<String>,
    /// Seconds since the Unix epoch (float, as ADK).
    pub timestamp: f64,
    /// What was said or done.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub content: Option<Content>,
    /// Side effects: state delta, transfer, escalate, confirmation requests.
    #[serde(default, skip_serializing_if = "EventActions::is_empty")]
    pub actions: EventActions,
    /// Ids of function calls that are waiting for something outside the run (e.g. approval).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub long_running_tool_ids: Vec<String>,
    /// A streamed chunk; partial events are never persisted.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub partial: Option<bool>,
    /// The model finished its turn.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub turn_complete: Option<bool>,
    /// Machine-readable error code when the step failed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error_code: Option<String>,
    /// Human-readable error message when the step failed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error_message: Option<String>,
    /// Tokens used by the model call that produced this event.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub usage_metadata: Option<UsageMetadata>,
    /// VANA extension: the delegation path of the author, e.g. `vana/data_science`.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub agent_path: String,
    /// VANA extension: time spent in the model and in tools for this event.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub timing: Option<Timing>,
}

impl Event {
    /// A new event with a fresh id and the current time.
    pub fn new(invocation_id: impl Into<String>, author: impl Into<String>) -> Self {
        Event {
            id: new_id(),
            invocation_id: invocation_id.into(),
            author: author.into(),
            timestamp: now_secs(),
            ..Default::default()
        }
    }

    /// Builder: set the content.
    pub fn with_content(mut self, content: Content) -> Self {
        self.content = Some(content);
        self
    }

    /// Builder: mark as an error event.
    pub fn with_error(mut self, code: impl Into<String>, message: impl Into<String>) -> Self {
        self.error_code = Some(code.into());
        self.error_message = Some(message.into());
        self
    }

    /// True for streamed chunks that are not persisted.
    pub fn is_partial(&self) -> bool {
        self.partial == Some(true)
    }

    /// True when the event reports an error.
    pub fn is_error(&self) -> bool {
        self.error_code.is_some()
    }

    /// Function calls in this event's content.
    pub fn function_calls(&self) -> Vec<&FunctionCall> {
        self.parts().filter_map(|p| p.function_call.as_ref()).collect()
    }

    /// Function responses in this event's content.
    pub fn function_responses(&self) -> Vec<&FunctionResponse> {
        self.parts().filter_map(|p| p.function_response.as_ref()).collect()
    }

    /// Concatenated text parts (empty if none).
    pub fn text(&self) -> String {
        self.parts().filter_map(|p| p.text.as_deref()).collect::<Vec<_>>().join("")
    }

    fn parts(&self) -> impl Iterator<Item = &Part> {
        self.content.iter().flat_map(|c| c.parts.iter())
    }

    /// True when this is a final answer: text, no pending calls, not partial, no error.
    pub fn is_final_response(&self) -> bool {
        !self.is_partial()
            && !self.is_error()
            && self.function_calls().is_empty()
            && self.function_responses().is_empty()
            && self.content.is_some()
    }
}

/// Content of a message: a role (`user` or `model`) and its parts.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Content {
    /// `user` or `model`.
    #[serde(default)]
    pub role: String,
    /// The parts, in order.
    #[serde(default)]
    pub parts: Vec<Part>,
}

impl Content {
    /// A user message with one text part.
    pub fn user_text(text: impl Into<String>) -> Self {
        Content { role: "user".into(), parts: vec![Part::text(text)] }
    }

    /// A model message with one text part.
    pub fn model_text(text: impl Into<String>) -> Self {
        Content { role: "model".into(), parts: vec![Part::text(text)] }
    }

    /// Concatenated text of all text parts.
    pub fn text(&self) -> String {
        self.parts.iter().filter_map(|p| p.text.as_deref()).collect::<Vec<_>>().join("")
    }
}

/// One part of a content: exactly one of the fields is set.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Part {
    /// Plain text.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub text: Option<String>,
    /// A model's request to call a tool.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub function_call: Option<FunctionCall>,
    /// A tool's answer to a function call.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub function_response: Option<FunctionResponse>,
    /// Binary data such as an image or a chart.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub inline_data: Option<Blob>,
}

impl Part {
    /// A text part.
    pub fn text(text: impl Into<String>) -> Self {
        Part { text: Some(text.into()), ..Default::default() }
    }
    /// A function call part.
    pub fn function_call(call: FunctionCall) -> Self {
        Part { function_call: Some(call), ..Default::default() }
    }
    /// A function response part.
    pub fn function_response(resp: FunctionResponse) -> Self {
        Part { function_response: Some(resp), ..Default::default() }
    }
    /// An inline data part.
    pub fn inline_data(blob: Blob) -> Self {
        Part { inline_data: Some(blob), ..Default::default() }
    }
}

/// A model's request to call a tool.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct FunctionCall {
    /// Call id; pairs the call with its response.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
    /// Tool name.
    pub name: String,
    /// Arguments (a JSON object).
    #[serde(default)]
    pub args: Value,
}

/// A tool's answer to a function call.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct FunctionResponse {
    /// The id of the call this answers.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
    /// Tool name.
    pub name: String,
    /// The result (a JSON object; errors are `{"error": "..."}`).
    #[serde(default)]
    pub response: Value,
}

/// Binary data carried inline (base64 in JSON), e.g. a PNG chart.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Blob {
    /// MIME type, e.g. `image/png`.
    pub mime_type: String,
    /// Base64-encoded bytes.
    pub data: String,
    /// Optional name (artifact file name).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub display_name: Option<String>,
}

/// Side effects carried by an event.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct EventActions {
    /// Keys to set in session state (`null` removes a key).
    #[serde(default, skip_serializing_if = "Map::is_empty")]
    pub state_delta: JsonMap,
    /// Artifact name -> version saved by this event.
    #[serde(default, skip_serializing_if = "Map::is_empty")]
    pub artifact_delta: JsonMap,
    /// Hand control to the named agent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub transfer_to_agent: Option<String>,
    /// Leave the enclosing loop agent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub escalate: Option<bool>,
    /// Do not send a tool result back to the model for another turn.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub skip_summarization: Option<bool>,
    /// Function-call id -> confirmation request, for tools that need human approval.
    #[serde(default, skip_serializing_if = "Map::is_empty")]
    pub requested_tool_confirmations: JsonMap,
}

impl EventActions {
    /// True when no action is set.
    pub fn is_empty(&self) -> bool {
        self == &EventActions::default()
    }
}

/// Token counts of one model call (Gemini's usage metadata names).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct UsageMetadata {
    /// Tokens sent to the model.
    #[serde(default)]
    pub prompt_token_count: u64,
    /// Tokens generated by the model.
    #[serde(default)]
    pub candidates_token_count: u64,
    /// Sum of both.
    #[serde(default)]
    pub total_token_count: u64,
}

impl UsageMetadata {
    /// Usage from prompt and completion counts.
    pub fn new(prompt: u64, completion: u64) -> Self {
        UsageMetadata {
            prompt_token_count: prompt,
            candidates_token_count: completion,
            total_token_count: prompt + completion,
        }
    }
}

/// Wall-clock time spent producing an event.
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Timing {
    /// Milliseconds spent waiting for the model.
    #[serde(default, skip_serializing_if = "is_zero")]
    pub model_ms: f64,
    /// Milliseconds spent running tools.
    #[serde(default, skip_serializing_if = "is_zero")]
    pub tool_ms: f64,
}

fn is_zero(v: &f64) -> bool {
    *v == 0.0
}

/// A fresh unique id (UUID v7: time-ordered).
pub fn new_id() -> String {
    uuid::Uuid::now_v7().to_string()
}

/// A fresh function-call id, `call_` and 32 hex digits (a time-ordered UUID v7 without
/// hyphens), for calls a model sent without one: 37 characters, within the 40 that OpenAI
/// accepts, and only the letters, digits and `_` that every provider takes.
pub fn new_call_id() -> String {
    format!("call_{}", uuid::Uuid::now_v7().simple())
}

/// Seconds since the Unix epoch as a float.
pub fn now_secs() -> f64 {
    SystemTime::now().duration_since(UNIX_EPOCH).map(|d| d.as_secs_f64()).unwrap_or(0.0)
}

#[cfg(test)]
mod tests {
    use super::new_call_id;

    #[test]
    fn call_ids_are_unique_and_fit_every_provider() {
        let (a, b) = (new_call_id(), new_call_id());
        assert_ne!(a, b);
        for id in [a, b] {
            assert!(id.starts_with("call_") && id.len() <= 40, "{id}");
            assert!(id.bytes().all(|c| c.is_ascii_alphanumeric() || c == b'_'), "{id}");
        }
    }
}
