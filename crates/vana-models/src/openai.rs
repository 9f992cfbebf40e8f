//! OpenAI chat completions, and every OpenAI-compatible server (Ollama, OpenRouter, vLLM, custom).

use crate::aggregate::{parse_args, CallIds, TurnAggregate};
use crate::http::{error_from_status, join_url, Endpoint};
use crate::sse::{drive_sse, SseEvent, StreamDecoder};
use async_trait::async_trait;
use futures::StreamExt;
use serde_json::{json, Map, Value};
use std::collections::BTreeMap;
use std::sync::Arc;
use vana_core::{
    Content, FunctionCall, LlmRequest, LlmResponse, LlmResponseStream, Model, ModelError, UsageMetadata,
};

/// A model behind `POST {base_url}/chat/completions` (base URL includes the version, e.g. `/v1`).
#[derive(Debug, Clone)]
pub struct OpenAiModel {
    endpoint: Endpoint,
    native: bool,
}

impl OpenAiModel {
    /// An OpenAI-compatible model; `native` is true for api.openai.com itself (sends
    /// `max_completion_tokens` instead of `max_tokens`).
    pub fn new(endpoint: Endpoint, native: bool) -> Self {
        OpenAiModel { endpoint, native }
    }

    /// The JSON body for a request.
    pub fn request_body(&self, req: &LlmRequest, stream: bool) -> Value {
        let mut body = Map::new();
        body.insert("model".into(), json!(self.endpoint.model_id));
        body.insert("messages".into(), Value::Array(messages(req)));
        if !req.tools.is_empty() {
            let tools: Vec<Value> = req
                .tools
                .iter()
                .map(|t| {
                    json!({"type": "function", "function": {
                        "name": t.name, "description": t.description, "parameters": t.parameters}})
                })
                .collect();
            body.insert("tools".into(), Value::Array(tools));
        }
        if let Some(t) = req.config.temperature {
            body.insert("temperature".into(), json!(t));
        }
        if let Some(n) = req.config.max_output_tokens {
            let key = if self.native { "max_completion_tokens" } else { "max_tokens" };
            body.insert(key.into(), json!(n));
        }
        if !req.config.stop_sequences.is_empty() {
            body.insert("stop".into(), json!(req.config.stop_sequences));
        }
        body.insert("stream".into(), json!(stream));
        if stream {
            body.insert("stream_options".into(), json!({"include_usage": true}));
        }
        Value::Object(body)
    }

    fn headers(&self) -> Vec<(&'static str, String)> {
        match &self.endpoint.api_key {
            Some(key) => vec![("authorization", format!("Bearer {}", key.expose()))],
            None => Vec::new(),
        }
    }
}

#[async_trait]
impl Model for OpenAiModel {
    fn name(&self) -> &str {
        &self.endpoint.name
    }

    async fn generate(
        &self,
        request: Arc<LlmRequest>,
        stream: bool,
    ) -> Result<LlmResponseStream, ModelError> {
        let ep = &self.endpoint;
        let url = join_url(&ep.base_url, "chat/completions");
        let body = self.request_body(&request, stream);
        let deadline = ep.http.deadline();
        let resp = ep.http.post_json(&ep.name, &url, &self.headers(), &body, deadline).await?;
        if stream {
            let decoder = OpenAiStream { model: ep.name.clone(), ..Default::default() };
            return Ok(drive_sse(ep.name.clone(), resp, ep.http.timeout(), decoder));
        }
        let json = ep.http.read_json(&ep.name, resp, deadline).await?;
        let response = parse_response(&ep.name, &json)?;
        Ok(futures::stream::once(async move { Ok(response) }).boxed())
    }
}

/// The conversation as chat-completion messages.
fn messages(req: &LlmRequest) -> Vec<Value> {
    let mut out = Vec::new();
    if let Some(sys) = req.system_instruction.as_deref().filter(|s| !s.is_empty()) {
        out.push(json!({"role": "system", "content": sys}));
    }
    let mut ids = CallIds::default();
    for content in &req.contents {
        if content.role == "model" {
            out.push(assistant_message(content, &mut ids));
        } else {
            // Tool results first: they must directly follow the assistant's tool calls.
            for part in &content.parts {
                if let Some(fr) = &part.function_response {
                    out.push(json!({
                        "role": "tool",
                        "tool_call_id": ids.for_response(fr),
                        "content": response_text(&fr.response),
                    }));
                }
            }
            if let Some(user) = user_message(content) {
                out.push(user);
            }
        }
    }
    out
}

fn assistant_message(content: &Content, ids: &mut CallIds) -> Value {
    let text = content.text();
    let calls: Vec<Value> = content
        .parts
        .iter()
        .filter_map(|p| p.function_call.as_ref())
        .map(|c| {
            json!({"id": ids.for_call(c), "type": "function",
                "function": {"name": c.name, "arguments": args_string(&c.args)}})
        })
        .collect();
    let mut msg = Map::new();
    msg.insert("role".into(), json!("assistant"));
    msg.insert("content".into(), if text.is_empty() { Value::Null } else { json!(text) });
    if !calls.is_empty() {
        msg.insert("tool_calls".into(), Value::Array(calls));
    }
    Value::Object(msg)
}

/// The user's text and images; `None` when the content held only tool results.
fn user_message(content: &Content) -> Option<Value> {
    let has_media = content.parts.iter().any(|p| p.inline_data.is_some());
    if !has_media {
        let text = content.text();
        return (!text.is_empty()).then(|| json!({"role": "user", "content": text}));
    }
    let mut items = Vec::new();
    for part in &content.parts {
        if let Some(text) = part.text.as_deref().filter(|t| !t.is_empty()) {
            items.push(json!({"type": "text", "text": text}));
        }
        if let Some(blob) = &part.inline_data {
            if blob.mime_type.starts_with("image/") {
                let url = format!("data:{};base64,{}", blob.mime_type, blob.data);
                items.push(json!({"type": "image_url", "image_url": {"url": url}}));
            } else {
                let name = blob.display_name.as_deref().unwrap_or("attachment");
                items.push(json!({"type": "text",
                    "text": format!("[{name} ({}) is not viewable by this model]", blob.mime_type)}));
            }
        }
    }
    (!items.is_empty()).then(|| json!({"role": "user", "content": items}))
}

/// Function arguments as the JSON string the wire format wants.
fn args_string(args: &Value) -> String {
    if args.is_null() {
        "{}".into()
    } else {
        args.to_string()
    }
}

/// A tool result as the text of a `tool` message.
pub(crate) fn response_text(response: &Value) -> String {
    match response {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

fn usage_from(v: &Value) -> Option<UsageMetadata> {
    let prompt = v.get("prompt_tokens")?.as_u64()?;
    let completion = v.get("completion_tokens").and_then(Value::as_u64).unwrap_or(0);
    let mut usage = UsageMetadata::new(prompt, completion);
    if let Some(total) = v.get("total_tokens").and_then(Value::as_u64) {
        usage.total_token_count = total;
    }
    Some(usage)
}

/// Parses a non-streaming chat completion.
fn parse_response(model: &str, json: &Value) -> Result<LlmResponse, ModelError> {
    if let Some(err) = json.get("error").filter(|e| !e.is_null()) {
        return Err(stream_error(model, err));
    }
    let choice = json.pointer("/choices/0").ok_or_else(|| ModelError::Protocol {
        model: model.into(),
        message: format!(
            "no `choices` in the chat completion: {}",
            crate::http::truncate(&json.to_string(), 300)
        ),
    })?;
    let message = choice.get("message").cloned().unwrap_or(Value::Null);
    let mut agg = TurnAggregate {
        text: message.get("content").and_then(Value::as_str).unwrap_or_default().to_string(),
        finish_reason: choice.get("finish_reason").and_then(Value::as_str).map(str::to_owned),
        usage: json.get("usage").and_then(usage_from),
        ..Default::default()
    };
    for call in message.get("tool_calls").and_then(Value::as_array).into_iter().flatten() {
        let name = call.pointer("/function/name").and_then(Value::as_str).unwrap_or_default().to_string();
        let raw = call.pointer("/function/arguments").map(|a| match a {
            Value::String(s) => s.clone(),
            other => other.to_string(),
        });
        let args = parse_args(model, &name, raw.as_deref().unwrap_or(""))?;
        let id = call.get("id").and_then(Value::as_str).map(str::to_owned);
        agg.calls.push(FunctionCall { id: id.or_else(|| Some(vana_core::event::new_call_id())), name, args });
    }
    Ok(agg.into_final())
}

/// An `{"error": {...}}` object inside a 200 response or stream.
fn stream_error(model: &str, err: &Value) -> ModelError {
    let status = err
        .get("code")
        .and_then(|c| c.as_u64().or_else(|| c.as_str().and_then(|s| s.parse().ok())))
        .filter(|c| (400..600).contains(c))
        .unwrap_or(500) as u16;
    error_from_status(model, status, None, &json!({ "error": err }).to_string())
}

#[derive(Debug, Default)]
struct PendingCall {
    id: Option<String>,
    name: String,
    args: String,
}

/// Streaming decoder: text deltas out, `tool_calls` deltas accumulated by index.
#[derive(Debug, Default)]
struct OpenAiStream {
    model: String,
    agg: TurnAggregate,
    calls: BTreeMap<u64, PendingCall>,
    seen_finish: bool,
}

impl StreamDecoder for OpenAiStream {
    fn on_event(&mut self, event: SseEvent, out: &mut Vec<LlmResponse>) -> Result<bool, ModelError> {
        let data = event.data.trim();
        if data == "[DONE]" {
            return Ok(true);
        }
        if data.is_empty() {
            return Ok(false);
        }
        let chunk: Value = serde_json::from_str(data).map_err(|e| ModelError::Protocol {
            model: self.model.clone(),
            message: format!("stream chunk is not JSON ({e}): {}", crate::http::truncate(data, 300)),
        })?;
        if let Some(err) = chunk.get("error").filter(|e| !e.is_null()) {
            return Err(stream_error(&self.model, err));
        }
        if let Some(usage) = chunk.get("usage").and_then(usage_from) {
            self.agg.usage = Some(usage);
        }
        for choice in chunk.get("choices").and_then(Value::as_array).into_iter().flatten() {
            if let Some(reason) = choice.get("finish_reason").and_then(Value::as_str) {
                self.agg.finish_reason = Some(reason.to_string());
                self.seen_finish = true;
            }
            let Some(delta) = choice.get("delta") else { continue };
            if let Some(text) = delta.get("content").and_then(Value::as_str) {
                out.extend(self.agg.push_text(text));
            }
            for tc in delta.get("tool_calls").and_then(Value::as_array).into_iter().flatten() {
                let index = tc.get("index").and_then(Value::as_u64).unwrap_or(self.calls.len() as u64);
                let pending = self.calls.entry(index).or_default();
                if let Some(id) = tc.get("id").and_then(Value::as_str).filter(|s| !s.is_empty()) {
                    pending.id = Some(id.to_string());
                }
                if let Some(name) = tc.pointer("/function/name").and_then(Value::as_str) {
                    pending.name.push_str(name);
                }
                if let Some(args) = tc.pointer("/function/arguments").and_then(Value::as_str) {
                    pending.args.push_str(args);
                }
            }
        }
        Ok(false)
    }

    fn finish(&mut self) -> Result<LlmResponse, ModelError> {
        if !self.seen_finish {
            return Err(ModelError::Protocol {
                model: self.model.clone(),
                message: "the stream ended before the model finished its turn (no finish_reason)".into(),
            });
        }
        let mut agg = std::mem::take(&mut self.agg);
        for (_, call) in std::mem::take(&mut self.calls) {
            let args = parse_args(&self.model, &call.name, &call.args)?;
            agg.calls.push(FunctionCall {
                id: call.id.or_else(|| Some(vana_core::event::new_call_id())),
                name: call.name,
                args,
            });
        }
        Ok(agg.into_final())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn data(v: Value) -> SseEvent {
        SseEvent { event: None, data: v.to_string() }
    }

    #[test]
    fn tool_call_deltas_accumulate_by_index() {
        let mut d = OpenAiStream { model: "m".into(), ..Default::default() };
        let mut out = Vec::new();
        let chunks = [
            json!({"choices": [{"index": 0, "delta": {"tool_calls": [
                {"index": 0, "id": "call_a", "function": {"name": "f", "arguments": "{\"x\":"}},
                {"index": 1, "id": "call_b", "function": {"name": "g", "arguments": ""}}]}}]}),
            json!({"choices": [{"index": 0, "delta": {"tool_calls": [{"index": 1, "function": {"arguments": "{}"}}]}}]}),
            json!({"choices": [{"index": 0, "delta": {"tool_calls": [{"index": 0, "function": {"arguments": "1}"}}]}}]}),
            json!({"choices": [{"index": 0, "delta": {}, "finish_reason": "tool_calls"}]}),
            json!({"choices": [], "usage": {"prompt_tokens": 7, "completion_tokens": 3, "total_tokens": 10}}),
        ];
        for c in chunks {
            assert!(!d.on_event(data(c), &mut out).unwrap());
        }
        assert!(d.on_event(SseEvent { event: None, data: "[DONE]".into() }, &mut out).unwrap());
        let fin = d.finish().unwrap();
        let calls: Vec<_> = fin.content.unwrap().parts.into_iter().filter_map(|p| p.function_call).collect();
        assert_eq!(
            calls[0],
            FunctionCall { id: Some("call_a".into()), name: "f".into(), args: json!({"x": 1}) }
        );
        assert_eq!(calls[1], FunctionCall { id: Some("call_b".into()), name: "g".into(), args: json!({}) });
        assert_eq!(fin.usage, Some(UsageMetadata::new(7, 3)));
    }

    #[test]
    fn error_chunk_and_bad_arguments_are_errors() {
        let mut d = OpenAiStream { model: "m".into(), ..Default::default() };
        let err = d
            .on_event(
                data(json!({"error": {"message": "upstream overloaded", "code": 502}})),
                &mut Vec::new(),
            )
            .unwrap_err();
        assert!(matches!(err, ModelError::Server { status: 502, .. }), "{err:?}");
        assert!(matches!(parse_args("m", "f", "{not json"), Err(ModelError::Protocol { .. })));
    }

    #[test]
    fn calls_without_ids_get_matching_generated_ids() {
        let req = LlmRequest {
            contents: vec![
                Content {
                    role: "model".into(),
                    parts: vec![vana_core::Part::function_call(FunctionCall {
                        id: None,
                        name: "f".into(),
                        args: json!({}),
                    })],
                },
                Content {
                    role: "user".into(),
                    parts: vec![vana_core::Part::function_response(vana_core::FunctionResponse {
                        id: None,
                        name: "f".into(),
                        response: json!({"ok": true}),
                    })],
                },
            ],
            ..Default::default()
        };
        let msgs = messages(&req);
        assert_eq!(msgs[0]["tool_calls"][0]["id"], "call_1");
        assert_eq!(msgs[1]["tool_call_id"], "call_1");
    }
}
