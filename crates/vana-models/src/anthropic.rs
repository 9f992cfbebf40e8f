//! Anthropic's messages API (`POST {base_url}/v1/messages`).

use crate::aggregate::{parse_args, CallIds, TurnAggregate};
use crate::http::{error_from_status, join_url, Endpoint};
use crate::openai::response_text;
use crate::sse::{drive_sse, SseEvent, StreamDecoder};
use async_trait::async_trait;
use futures::StreamExt;
use serde_json::{json, Map, Value};
use std::collections::BTreeMap;
use std::sync::Arc;
use vana_core::{
    Content, FunctionCall, LlmRequest, LlmResponse, LlmResponseStream, Model, ModelError, UsageMetadata,
};

/// Default base URL (without the `/v1`).
pub const ANTHROPIC_BASE_URL: &str = "https://api.anthropic.com";
/// The API version header value sent with every request.
pub const ANTHROPIC_VERSION: &str = "2023-06-01";
/// `max_tokens` when the request sets none (the API requires one).
pub const DEFAULT_MAX_TOKENS: u32 = 4096;

/// A Claude model behind the messages API.
#[derive(Debug, Clone)]
pub struct AnthropicModel {
    endpoint: Endpoint,
}

impl AnthropicModel {
    /// An Anthropic model.
    pub fn new(endpoint: Endpoint) -> Self {
        AnthropicModel { endpoint }
    }

    /// The JSON body for a request.
    pub fn request_body(&self, req: &LlmRequest, stream: bool) -> Value {
        let mut body = Map::new();
        body.insert("model".into(), json!(self.endpoint.model_id));
        body.insert("max_tokens".into(), json!(req.config.max_output_tokens.unwrap_or(DEFAULT_MAX_TOKENS)));
        if let Some(sys) = req.system_instruction.as_deref().filter(|s| !s.is_empty()) {
            body.insert("system".into(), json!(sys));
        }
        body.insert("messages".into(), Value::Array(messages(&req.contents)));
        if !req.tools.is_empty() {
            let tools: Vec<Value> = req
                .tools
                .iter()
                .map(|t| {
                    let schema =
                        if t.parameters.is_null() { json!({"type": "object"}) } else { t.parameters.clone() };
                    json!({"name": t.name, "description": t.description, "input_schema": schema})
                })
                .collect();
            body.insert("tools".into(), Value::Array(tools));
        }
        if let Some(t) = req.config.temperature {
            body.insert("temperature".into(), json!(t));
        }
        if !req.config.stop_sequences.is_empty() {
            body.insert("stop_sequences".into(), json!(req.config.stop_sequences));
        }
        if stream {
            body.insert("stream".into(), json!(true));
        }
        Value::Object(body)
    }
}

#[async_trait]
impl Model for AnthropicModel {
    fn name(&self) -> &str {
        &self.endpoint.name
    }

    async fn generate(
        &self,
        request: Arc<LlmRequest>,
        stream: bool,
    ) -> Result<LlmResponseStream, ModelError> {
        let ep = &self.endpoint;
        let url = join_url(&ep.base_url, "v1/messages");
        let mut headers = vec![("anthropic-version", ANTHROPIC_VERSION.to_string())];
        if let Some(key) = &ep.api_key {
            headers.push(("x-api-key", key.expose().to_string()));
        }
        let body = self.request_body(&request, stream);
        let deadline = ep.http.deadline();
        let resp = ep.http.post_json(&ep.name, &url, &headers, &body, deadline).await?;
        if stream {
            let decoder = AnthropicStream { model: ep.name.clone(), ..Default::default() };
            return Ok(drive_sse(ep.name.clone(), resp, ep.http.timeout(), decoder));
        }
        let json = ep.http.read_json(&ep.name, resp, deadline).await?;
        let response = parse_response(&ep.name, &json)?;
        Ok(futures::stream::once(async move { Ok(response) }).boxed())
    }
}

/// The conversation as Anthropic messages (`user` / `assistant` with content blocks).
fn messages(contents: &[Content]) -> Vec<Value> {
    let mut ids = CallIds::default();
    let mut out = Vec::new();
    for content in contents {
        let assistant = content.role == "model";
        let mut results = Vec::new();
        let mut blocks = Vec::new();
        for part in &content.parts {
            if let Some(text) = part.text.as_deref().filter(|t| !t.is_empty()) {
                blocks.push(json!({"type": "text", "text": text}));
            }
            if let Some(call) = &part.function_call {
                let input = if call.args.is_object() { call.args.clone() } else { json!({}) };
                blocks.push(
                    json!({"type": "tool_use", "id": ids.for_call(call), "name": call.name, "input": input}),
                );
            }
            if let Some(resp) = &part.function_response {
                let mut block = json!({
                    "type": "tool_result",
                    "tool_use_id": ids.for_response(resp),
                    "content": response_text(&resp.response),
                });
                if resp.response.get("error").is_some_and(|e| !e.is_null()) {
                    block["is_error"] = json!(true);
                }
                results.push(block);
            }
            if let Some(blob) = &part.inline_data {
                if blob.mime_type.starts_with("image/") {
                    blocks.push(json!({"type": "image",
                        "source": {"type": "base64", "media_type": blob.mime_type, "data": blob.data}}));
                } else if blob.mime_type == "application/pdf" {
                    blocks.push(json!({"type": "document",
                        "source": {"type": "base64", "media_type": blob.mime_type, "data": blob.data}}));
                } else {
                    let name = blob.display_name.as_deref().unwrap_or("attachment");
                    blocks.push(json!({"type": "text",
                        "text": format!("[{name} ({}) is not viewable by this model]", blob.mime_type)}));
                }
            }
        }
        // Tool results must come first in their user message.
        results.extend(blocks);
        if results.is_empty() {
            continue;
        }
        let role = if assistant { "assistant" } else { "user" };
        out.push(json!({"role": role, "content": results}));
    }
    out
}

fn usage_from(v: &Value) -> (Option<u64>, Option<u64>) {
    let input = v.get("input_tokens").and_then(Value::as_u64).map(|n| {
        n + v.get("cache_creation_input_tokens").and_then(Value::as_u64).unwrap_or(0)
            + v.get("cache_read_input_tokens").and_then(Value::as_u64).unwrap_or(0)
    });
    (input, v.get("output_tokens").and_then(Value::as_u64))
}

fn parse_response(model: &str, json: &Value) -> Result<LlmResponse, ModelError> {
    if json.get("type").and_then(Value::as_str) == Some("error") {
        return Err(event_error(model, json));
    }
    let blocks = json.get("content").and_then(Value::as_array).ok_or_else(|| ModelError::Protocol {
        model: model.into(),
        message: format!("no `content` in the message: {}", crate::http::truncate(&json.to_string(), 300)),
    })?;
    let mut agg = TurnAggregate {
        finish_reason: json.get("stop_reason").and_then(Value::as_str).map(str::to_owned),
        ..Default::default()
    };
    if let Some(u) = json.get("usage") {
        let (input, output) = usage_from(u);
        agg.usage = Some(UsageMetadata::new(input.unwrap_or(0), output.unwrap_or(0)));
    }
    for block in blocks {
        match block.get("type").and_then(Value::as_str) {
            Some("text") => agg.text.push_str(block.get("text").and_then(Value::as_str).unwrap_or_default()),
            Some("tool_use") => agg.calls.push(FunctionCall {
                id: block.get("id").and_then(Value::as_str).map(str::to_owned),
                name: block.get("name").and_then(Value::as_str).unwrap_or_default().to_string(),
                args: block.get("input").cloned().unwrap_or_else(|| json!({})),
            }),
            _ => {}
        }
    }
    Ok(agg.into_final())
}

/// An `{"type": "error", "error": {"type": ..., "message": ...}}` body or stream event.
fn event_error(model: &str, json: &Value) -> ModelError {
    let status = match json.pointer("/error/type").and_then(Value::as_str) {
        Some("rate_limit_error") => 429,
        Some("overloaded_error") => 529,
        Some("api_error") => 500,
        Some("authentication_error") => 401,
        Some("permission_error") => 403,
        Some("not_found_error") => 404,
        Some("request_too_large") => 413,
        _ => 400,
    };
    error_from_status(model, status, None, &json.to_string())
}

#[derive(Debug)]
enum Block {
    Text,
    Tool { id: String, name: String, json: String },
    Other,
}

/// Streaming decoder for `message_start` … `message_stop`.
#[derive(Debug, Default)]
struct AnthropicStream {
    model: String,
    agg: TurnAggregate,
    blocks: BTreeMap<u64, Block>,
    input_tokens: u64,
    output_tokens: u64,
    seen_usage: bool,
    stopped: bool,
}

impl StreamDecoder for AnthropicStream {
    fn on_event(&mut self, event: SseEvent, out: &mut Vec<LlmResponse>) -> Result<bool, ModelError> {
        let data = event.data.trim();
        if data.is_empty() {
            return Ok(false);
        }
        let ev: Value = serde_json::from_str(data).map_err(|e| ModelError::Protocol {
            model: self.model.clone(),
            message: format!("stream event is not JSON ({e}): {}", crate::http::truncate(data, 300)),
        })?;
        let kind = ev.get("type").and_then(Value::as_str).or(event.event.as_deref()).unwrap_or_default();
        match kind {
            "message_start" => {
                if let Some(u) = ev.pointer("/message/usage") {
                    let (input, output) = usage_from(u);
                    self.input_tokens = input.unwrap_or(0);
                    self.output_tokens = output.unwrap_or(0);
                    self.seen_usage = true;
                }
            }
            "content_block_start" => {
                let index = ev.get("index").and_then(Value::as_u64).unwrap_or(self.blocks.len() as u64);
                let block = ev.get("content_block").cloned().unwrap_or(Value::Null);
                let b = match block.get("type").and_then(Value::as_str) {
                    Some("text") => {
                        if let Some(text) = block.get("text").and_then(Value::as_str) {
                            out.extend(self.agg.push_text(text));
                        }
                        Block::Text
                    }
                    Some("tool_use") => Block::Tool {
                        id: block.get("id").and_then(Value::as_str).unwrap_or_default().to_string(),
                        name: block.get("name").and_then(Value::as_str).unwrap_or_default().to_string(),
                        json: String::new(),
                    },
                    _ => Block::Other,
                };
                self.blocks.insert(index, b);
            }
            "content_block_delta" => {
                let index = ev.get("index").and_then(Value::as_u64).unwrap_or(0);
                let delta = ev.get("delta").cloned().unwrap_or(Value::Null);
                match delta.get("type").and_then(Value::as_str) {
                    Some("text_delta") => {
                        out.extend(
                            self.agg.push_text(delta.get("text").and_then(Value::as_str).unwrap_or("")),
                        );
                    }
                    Some("input_json_delta") => {
                        if let Some(Block::Tool { json, .. }) = self.blocks.get_mut(&index) {
                            json.push_str(delta.get("partial_json").and_then(Value::as_str).unwrap_or(""));
                        }
                    }
                    _ => {}
                }
            }
            "message_delta" => {
                if let Some(reason) = ev.pointer("/delta/stop_reason").and_then(Value::as_str) {
                    self.agg.finish_reason = Some(reason.to_string());
                }
                if let Some(u) = ev.get("usage") {
                    let (input, output) = usage_from(u);
                    if let Some(input) = input.filter(|n| *n > 0) {
                        self.input_tokens = input;
                    }
                    if let Some(output) = output {
                        self.output_tokens = output;
                    }
                    self.seen_usage = true;
                }
            }
            "message_stop" => {
                self.stopped = true;
                return Ok(true);
            }
            "error" => return Err(event_error(&self.model, &ev)),
            _ => {}
        }
        Ok(false)
    }

    fn finish(&mut self) -> Result<LlmResponse, ModelError> {
        if !self.stopped {
            return Err(ModelError::Protocol {
                model: self.model.clone(),
                message: "the stream ended before message_stop".into(),
            });
        }
        let mut agg = std::mem::take(&mut self.agg);
        for (_, block) in std::mem::take(&mut self.blocks) {
            if let Block::Tool { id, name, json } = block {
                let args = parse_args(&self.model, &name, &json)?;
                let id = if id.is_empty() { vana_core::event::new_call_id() } else { id };
                agg.calls.push(FunctionCall { id: Some(id), name, args });
            }
        }
        if self.seen_usage {
            agg.usage = Some(UsageMetadata::new(self.input_tokens, self.output_tokens));
        }
        Ok(agg.into_final())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ev(kind: &str, data: Value) -> SseEvent {
        SseEvent { event: Some(kind.into()), data: data.to_string() }
    }

    #[test]
    fn stream_error_event_maps_to_model_error() {
        let mut d = AnthropicStream { model: "m".into(), ..Default::default() };
        let mut out = Vec::new();
        let overloaded =
            json!({"type": "error", "error": {"type": "overloaded_error", "message": "Overloaded"}});
        let err = d.on_event(ev("error", overloaded), &mut out).unwrap_err();
        assert!(matches!(err, ModelError::Server { status: 529, .. }), "{err:?}");
        let limited = json!({"type": "error", "error": {"type": "rate_limit_error", "message": "slow down"}});
        assert!(matches!(d.on_event(ev("error", limited), &mut out), Err(ModelError::RateLimited { .. })));
    }

    #[test]
    fn truncated_stream_is_a_protocol_error() {
        let mut d = AnthropicStream { model: "m".into(), ..Default::default() };
        let mut out = Vec::new();
        let start =
            json!({"type": "content_block_start", "index": 0, "content_block": {"type": "text", "text": ""}});
        d.on_event(ev("content_block_start", start), &mut out).unwrap();
        let delta =
            json!({"type": "content_block_delta", "index": 0, "delta": {"type": "text_delta", "text": "Hi"}});
        d.on_event(ev("content_block_delta", delta), &mut out).unwrap();
        assert_eq!(out.len(), 1);
        assert!(matches!(d.finish(), Err(ModelError::Protocol { .. })));
    }

    #[test]
    fn tool_results_come_first_and_errors_are_flagged() {
        let contents = vec![Content {
            role: "user".into(),
            parts: vec![
                vana_core::Part::text("also, thanks"),
                vana_core::Part::function_response(vana_core::FunctionResponse {
                    id: Some("toolu_9".into()),
                    name: "t".into(),
                    response: json!({"error": "boom"}),
                }),
            ],
        }];
        assert_eq!(
            messages(&contents),
            vec![json!({"role": "user", "content": [
                {"type": "tool_result", "tool_use_id": "toolu_9", "content": "{\"error\":\"boom\"}", "is_error": true},
                {"type": "text", "text": "also, thanks"}]})]
        );
    }
}
