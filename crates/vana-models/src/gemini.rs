//! Google Gemini (`generateContent` / `streamGenerateContent?alt=sse`).

use crate::aggregate::TurnAggregate;
use crate::http::{error_from_status, join_url, Endpoint};
use crate::sse::{drive_sse, SseEvent, StreamDecoder};
use async_trait::async_trait;
use futures::StreamExt;
use serde_json::{json, Map, Value};
use std::collections::{HashMap, VecDeque};
use std::sync::{Arc, Mutex};
use vana_core::event::new_call_id;
use vana_core::{FunctionCall, LlmRequest, LlmResponse, LlmResponseStream, Model, ModelError, UsageMetadata};

/// Default base URL (includes the API version).
pub const GEMINI_BASE_URL: &str = "https://generativelanguage.googleapis.com/v1beta";

/// Thought signatures Gemini attaches to function calls, keyed by the call id VANA generated, so
/// they can be sent back with the call in the next request (required by Gemini 3 models).
#[derive(Debug, Default, Clone)]
pub struct ThoughtSignatures {
    inner: Arc<Mutex<SignatureMap>>,
}

/// Signatures by call id, plus insertion order for eviction.
type SignatureMap = (HashMap<String, String>, VecDeque<String>);

impl ThoughtSignatures {
    const CAPACITY: usize = 4096;

    fn insert(&self, id: &str, signature: &str) {
        let mut guard = self.inner.lock().unwrap_or_else(|e| e.into_inner());
        let (map, order) = &mut *guard;
        if map.insert(id.to_string(), signature.to_string()).is_none() {
            order.push_back(id.to_string());
        }
        while order.len() > Self::CAPACITY {
            if let Some(old) = order.pop_front() {
                map.remove(&old);
            }
        }
    }

    fn get(&self, id: &str) -> Option<String> {
        self.inner.lock().unwrap_or_else(|e| e.into_inner()).0.get(id).cloned()
    }
}

/// A Gemini model behind `{base_url}/models/{model}:generateContent`.
#[derive(Debug, Clone)]
pub struct GeminiModel {
    endpoint: Endpoint,
    signatures: ThoughtSignatures,
}

impl GeminiModel {
    /// A Gemini model; `signatures` may be shared between models so a fallback sees them too.
    pub fn new(endpoint: Endpoint, signatures: ThoughtSignatures) -> Self {
        GeminiModel { endpoint, signatures }
    }

    /// The JSON body for a request.
    pub fn request_body(&self, req: &LlmRequest) -> Value {
        let mut body = Map::new();
        let contents: Vec<Value> = req
            .contents
            .iter()
            .filter_map(|c| {
                let parts: Vec<Value> = c.parts.iter().filter_map(|p| self.part(p)).collect();
                let role = if c.role == "model" { "model" } else { "user" };
                (!parts.is_empty()).then(|| json!({"role": role, "parts": parts}))
            })
            .collect();
        body.insert("contents".into(), Value::Array(contents));
        if let Some(sys) = req.system_instruction.as_deref().filter(|s| !s.is_empty()) {
            body.insert("systemInstruction".into(), json!({"parts": [{"text": sys}]}));
        }
        if !req.tools.is_empty() {
            let decls: Vec<Value> = req
                .tools
                .iter()
                .map(|t| {
                    let mut d = json!({"name": t.name, "description": t.description});
                    if !t.parameters.is_null() {
                        d["parameters"] = sanitize_schema(&t.parameters);
                    }
                    d
                })
                .collect();
            body.insert("tools".into(), json!([{ "functionDeclarations": decls }]));
        }
        let mut gen = Map::new();
        if let Some(t) = req.config.temperature {
            gen.insert("temperature".into(), json!(t));
        }
        if let Some(n) = req.config.max_output_tokens {
            gen.insert("maxOutputTokens".into(), json!(n));
        }
        if !req.config.stop_sequences.is_empty() {
            gen.insert("stopSequences".into(), json!(req.config.stop_sequences));
        }
        if !gen.is_empty() {
            body.insert("generationConfig".into(), Value::Object(gen));
        }
        Value::Object(body)
    }

    fn part(&self, part: &vana_core::Part) -> Option<Value> {
        if let Some(text) = &part.text {
            return Some(json!({ "text": text }));
        }
        if let Some(call) = &part.function_call {
            // Ids are VANA's own (Gemini sends none), so they are not sent back.
            let args = if call.args.is_null() { json!({}) } else { call.args.clone() };
            let mut v = json!({"functionCall": {"name": call.name, "args": args}});
            if let Some(sig) = call.id.as_deref().and_then(|id| self.signatures.get(id)) {
                v["thoughtSignature"] = json!(sig);
            }
            return Some(v);
        }
        if let Some(resp) = &part.function_response {
            let response = match &resp.response {
                Value::Object(_) => resp.response.clone(),
                other => json!({ "result": other }),
            };
            return Some(json!({"functionResponse": {"name": resp.name, "response": response}}));
        }
        if let Some(blob) = &part.inline_data {
            return Some(json!({"inlineData": {"mimeType": blob.mime_type, "data": blob.data}}));
        }
        None
    }
}

#[async_trait]
impl Model for GeminiModel {
    fn name(&self) -> &str {
        &self.endpoint.name
    }

    async fn generate(
        &self,
        request: Arc<LlmRequest>,
        stream: bool,
    ) -> Result<LlmResponseStream, ModelError> {
        let ep = &self.endpoint;
        let action = if stream { "streamGenerateContent?alt=sse" } else { "generateContent" };
        let url = join_url(&ep.base_url, &format!("models/{}:{action}", ep.model_id));
        let headers: Vec<(&str, String)> =
            ep.api_key.iter().map(|k| ("x-goog-api-key", k.expose().to_string())).collect();
        let body = self.request_body(&request);
        let deadline = ep.http.deadline();
        let resp = ep.http.post_json(&ep.name, &url, &headers, &body, deadline).await?;
        let mut decoder = GeminiStream {
            model: ep.name.clone(),
            signatures: self.signatures.clone(),
            agg: TurnAggregate::default(),
            seen_finish: false,
        };
        if stream {
            return Ok(drive_sse(ep.name.clone(), resp, ep.http.timeout(), decoder));
        }
        let json = ep.http.read_json(&ep.name, resp, deadline).await?;
        decoder.absorb(&json, &mut Vec::new())?;
        let response = decoder.finish()?;
        Ok(futures::stream::once(async move { Ok(response) }).boxed())
    }
}

/// Schema keys Gemini's OpenAPI-subset `Schema` accepts; everything else is dropped.
const GEMINI_SCHEMA_KEYS: &[&str] = &[
    "type",
    "format",
    "title",
    "description",
    "nullable",
    "enum",
    "maxItems",
    "minItems",
    "properties",
    "required",
    "minProperties",
    "maxProperties",
    "minLength",
    "maxLength",
    "pattern",
    "example",
    "anyOf",
    "propertyOrdering",
    "default",
    "items",
    "minimum",
    "maximum",
];

/// Rewrites a JSON schema into the subset Gemini accepts: drops `additionalProperties`,
/// `$schema` and other unknown keys, turns `["string", "null"]` types into `nullable`, and
/// `const` into a one-value `enum`.
pub fn sanitize_schema(schema: &Value) -> Value {
    let Value::Object(obj) = schema else { return schema.clone() };
    let mut out = Map::new();
    for (key, value) in obj {
        match key.as_str() {
            "type" => match value {
                Value::Array(types) => {
                    let non_null: Vec<&Value> = types.iter().filter(|t| t.as_str() != Some("null")).collect();
                    if non_null.len() < types.len() {
                        out.insert("nullable".into(), json!(true));
                    }
                    if let Some(first) = non_null.first() {
                        out.insert("type".into(), (*first).clone());
                    }
                }
                other => {
                    out.insert("type".into(), other.clone());
                }
            },
            "const" => {
                out.insert("enum".into(), json!([value]));
            }
            "properties" => {
                let props: Map<String, Value> = value
                    .as_object()
                    .map(|m| m.iter().map(|(k, v)| (k.clone(), sanitize_schema(v))).collect())
                    .unwrap_or_default();
                out.insert("properties".into(), Value::Object(props));
            }
            "items" => {
                out.insert("items".into(), sanitize_schema(value));
            }
            "anyOf" | "oneOf" => {
                let alts: Vec<Value> =
                    value.as_array().map(|a| a.iter().map(sanitize_schema).collect()).unwrap_or_default();
                out.insert("anyOf".into(), Value::Array(alts));
            }
            k if GEMINI_SCHEMA_KEYS.contains(&k) => {
                out.insert(key.clone(), value.clone());
            }
            _ => {}
        }
    }
    Value::Object(out)
}

/// Decodes `GenerateContentResponse`s, whole or as stream chunks.
struct GeminiStream {
    model: String,
    signatures: ThoughtSignatures,
    agg: TurnAggregate,
    seen_finish: bool,
}

impl GeminiStream {
    fn absorb(&mut self, chunk: &Value, out: &mut Vec<LlmResponse>) -> Result<(), ModelError> {
        if let Some(err) = chunk.get("error").filter(|e| !e.is_null()) {
            let status = err.get("code").and_then(Value::as_u64).unwrap_or(500) as u16;
            return Err(error_from_status(&self.model, status, None, &json!({ "error": err }).to_string()));
        }
        if let Some(u) = chunk.get("usageMetadata") {
            let prompt = u.get("promptTokenCount").and_then(Value::as_u64).unwrap_or(0);
            let candidates = u.get("candidatesTokenCount").and_then(Value::as_u64).unwrap_or(0);
            let mut usage = UsageMetadata::new(prompt, candidates);
            if let Some(total) = u.get("totalTokenCount").and_then(Value::as_u64) {
                usage.total_token_count = total;
            }
            self.agg.usage = Some(usage);
        }
        let candidate = chunk.pointer("/candidates/0");
        if candidate.is_none() {
            if let Some(reason) = chunk.pointer("/promptFeedback/blockReason").and_then(Value::as_str) {
                return Err(ModelError::Rejected {
                    model: self.model.clone(),
                    status: 200,
                    message: format!("Gemini blocked the prompt ({reason}); rephrase the request"),
                });
            }
            return Ok(());
        }
        let candidate = candidate.unwrap_or(&Value::Null);
        for part in candidate.pointer("/content/parts").and_then(Value::as_array).into_iter().flatten() {
            if part.get("thought").and_then(Value::as_bool) == Some(true) {
                continue;
            }
            if let Some(text) = part.get("text").and_then(Value::as_str) {
                out.extend(self.agg.push_text(text));
            }
            if let Some(fc) = part.get("functionCall") {
                let id = fc
                    .get("id")
                    .and_then(Value::as_str)
                    .filter(|s| !s.is_empty())
                    .map(str::to_owned)
                    .unwrap_or_else(new_call_id);
                if let Some(sig) = part.get("thoughtSignature").and_then(Value::as_str) {
                    self.signatures.insert(&id, sig);
                }
                let name = fc.get("name").and_then(Value::as_str).unwrap_or_default().to_string();
                let args = fc.get("args").cloned().filter(|a| !a.is_null()).unwrap_or_else(|| json!({}));
                self.agg.calls.push(FunctionCall { id: Some(id), name, args });
            }
        }
        if let Some(reason) = candidate.get("finishReason").and_then(Value::as_str) {
            self.agg.finish_reason = Some(reason.to_ascii_lowercase());
            self.seen_finish = true;
        }
        Ok(())
    }
}

impl StreamDecoder for GeminiStream {
    fn on_event(&mut self, event: SseEvent, out: &mut Vec<LlmResponse>) -> Result<bool, ModelError> {
        let data = event.data.trim();
        if data.is_empty() {
            return Ok(false);
        }
        let chunk: Value = serde_json::from_str(data).map_err(|e| ModelError::Protocol {
            model: self.model.clone(),
            message: format!("stream chunk is not JSON ({e}): {}", crate::http::truncate(data, 300)),
        })?;
        self.absorb(&chunk, out)?;
        Ok(false)
    }

    fn finish(&mut self) -> Result<LlmResponse, ModelError> {
        if !self.seen_finish {
            return Err(ModelError::Protocol {
                model: self.model.clone(),
                message: "the response ended before the model finished its turn (no finishReason)".into(),
            });
        }
        Ok(std::mem::take(&mut self.agg).into_final())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn schema_is_sanitized_for_gemini() {
        let schema = json!({
            "$schema": "http://json-schema.org/draft-07/schema#",
            "type": "object",
            "additionalProperties": false,
            "properties": {
                "q": {"type": ["string", "null"], "description": "query"},
                "mode": {"const": "fast"},
                "tags": {"type": "array", "items": {"type": "string", "additionalProperties": false}}
            },
            "required": ["q"]
        });
        let clean = sanitize_schema(&schema);
        assert_eq!(
            clean,
            json!({
                "type": "object",
                "properties": {
                    "q": {"type": "string", "nullable": true, "description": "query"},
                    "mode": {"enum": ["fast"]},
                    "tags": {"type": "array", "items": {"type": "string"}}
                },
                "required": ["q"]
            })
        );
    }

    #[test]
    fn thought_signatures_are_sent_back_with_their_call() {
        let sigs = ThoughtSignatures::default();
        let mut d = GeminiStream {
            model: "m".into(),
            signatures: sigs.clone(),
            agg: TurnAggregate::default(),
            seen_finish: false,
        };
        let chunk = json!({"candidates": [{"content": {"role": "model", "parts": [
            {"functionCall": {"name": "f", "args": {"a": 1}}, "thoughtSignature": "c2ln"}]}, "finishReason": "STOP"}]});
        d.absorb(&chunk, &mut Vec::new()).unwrap();
        let fin = d.finish().unwrap();
        let content = fin.content.unwrap();
        let http = crate::http::HttpClient::new(std::time::Duration::from_secs(1)).unwrap();
        let endpoint = Endpoint {
            name: "gemini-x".into(),
            model_id: "gemini-x".into(),
            base_url: "http://x".into(),
            api_key: None,
            http,
        };
        let model = GeminiModel::new(endpoint, sigs);
        let req = LlmRequest { contents: vec![content], ..Default::default() };
        let body = model.request_body(&req);
        assert_eq!(body["contents"][0]["parts"][0]["thoughtSignature"], "c2ln");
        assert_eq!(body["contents"][0]["parts"][0]["functionCall"], json!({"name": "f", "args": {"a": 1}}));
    }

    #[test]
    fn blocked_prompt_is_rejected() {
        let mut d = GeminiStream {
            model: "m".into(),
            signatures: ThoughtSignatures::default(),
            agg: TurnAggregate::default(),
            seen_finish: false,
        };
        let err =
            d.absorb(&json!({"promptFeedback": {"blockReason": "SAFETY"}}), &mut Vec::new()).unwrap_err();
        assert!(err.to_string().contains("SAFETY"), "{err}");
    }
}
