//! A scripted HTTP server on 127.0.0.1 speaking the OpenAI chat-completions, Gemini
//! generateContent and Anthropic messages wire formats (streaming included), answering from a
//! list of `ScriptedTurn`s and recording every raw request. Tests point providers at it.

use crate::model::text_chunks;
use crate::script::{ScriptedError, ScriptedTurn};
use axum::body::{Body, Bytes};
use axum::extract::State;
use axum::http::{HeaderMap, Method, StatusCode, Uri};
use axum::response::Response;
use axum::Router;
use serde_json::{json, Value};
use std::collections::{BTreeMap, VecDeque};
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// One request as the server received it.
#[derive(Debug, Clone, PartialEq)]
pub struct RecordedRequest {
    /// HTTP method.
    pub method: String,
    /// Path and query, e.g. `/v1beta/models/gemini-2.5-flash:streamGenerateContent?alt=sse`.
    pub path: String,
    /// Headers, names lower-cased.
    pub headers: BTreeMap<String, String>,
    /// The JSON body (a JSON string holding the raw text when it was not JSON).
    pub body: Value,
}

impl RecordedRequest {
    /// A header's value.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(&name.to_ascii_lowercase()).map(String::as_str)
    }
}

#[derive(Debug, Default)]
struct ServerState {
    turns: Mutex<VecDeque<ScriptedTurn>>,
    requests: Mutex<Vec<RecordedRequest>>,
}

/// The running server; stops when dropped.
#[derive(Debug)]
pub struct ScriptedServer {
    addr: SocketAddr,
    state: Arc<ServerState>,
    task: tokio::task::JoinHandle<()>,
}

impl ScriptedServer {
    /// Binds 127.0.0.1 on a free port and serves `turns`, one per request, in order.
    pub async fn start(turns: Vec<ScriptedTurn>) -> std::io::Result<Self> {
        let state = Arc::new(ServerState { turns: Mutex::new(turns.into()), requests: Mutex::default() });
        let listener = tokio::net::TcpListener::bind(("127.0.0.1", 0)).await?;
        let addr = listener.local_addr()?;
        let app = Router::new().fallback(handle).with_state(state.clone());
        let task = tokio::spawn(async move {
            if let Err(e) = axum::serve(listener, app).await {
                tracing::error!(error = %e, "scripted server stopped");
            }
        });
        Ok(ScriptedServer { addr, state, task })
    }

    /// `http://127.0.0.1:<port>`.
    pub fn base_url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// Base URL for OpenAI-compatible providers (`…/v1`).
    pub fn openai_base_url(&self) -> String {
        format!("{}/v1", self.base_url())
    }

    /// Base URL for the Gemini provider (`…/v1beta`).
    pub fn gemini_base_url(&self) -> String {
        format!("{}/v1beta", self.base_url())
    }

    /// Base URL for the Anthropic provider.
    pub fn anthropic_base_url(&self) -> String {
        self.base_url()
    }

    /// Every request received so far, oldest first.
    pub fn requests(&self) -> Vec<RecordedRequest> {
        self.state.requests.lock().unwrap_or_else(|e| e.into_inner()).clone()
    }

    /// How many requests were received.
    pub fn request_count(&self) -> usize {
        self.state.requests.lock().unwrap_or_else(|e| e.into_inner()).len()
    }

    /// Appends a turn to the script.
    pub fn push(&self, turn: ScriptedTurn) {
        self.state.turns.lock().unwrap_or_else(|e| e.into_inner()).push_back(turn);
    }

    /// Turns not yet served.
    pub fn remaining(&self) -> usize {
        self.state.turns.lock().unwrap_or_else(|e| e.into_inner()).len()
    }
}

impl Drop for ScriptedServer {
    fn drop(&mut self) {
        self.task.abort();
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Wire {
    OpenAi,
    Gemini,
    Anthropic,
}

async fn handle(
    State(state): State<Arc<ServerState>>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let path = uri.path_and_query().map(|p| p.as_str().to_string()).unwrap_or_else(|| uri.path().to_string());
    let json: Value = serde_json::from_slice(&body)
        .unwrap_or_else(|_| Value::String(String::from_utf8_lossy(&body).into_owned()));
    let recorded = RecordedRequest {
        method: method.to_string(),
        path: path.clone(),
        headers: headers
            .iter()
            .map(|(k, v)| {
                (k.as_str().to_ascii_lowercase(), String::from_utf8_lossy(v.as_bytes()).into_owned())
            })
            .collect(),
        body: json.clone(),
    };
    let served = {
        let mut reqs = state.requests.lock().unwrap_or_else(|e| e.into_inner());
        reqs.push(recorded);
        reqs.len()
    };
    let wire = if uri.path().ends_with("/chat/completions") {
        Wire::OpenAi
    } else if uri.path().ends_with("/messages") {
        Wire::Anthropic
    } else if uri.path().contains(":generateContent") || uri.path().contains(":streamGenerateContent") {
        Wire::Gemini
    } else {
        return json_response(
            StatusCode::NOT_FOUND,
            json!({"error": {"message": format!("scripted server: no API at {path}")}}),
        );
    };
    let stream = match wire {
        Wire::Gemini => uri.path().contains(":streamGenerateContent"),
        _ => json.get("stream").and_then(Value::as_bool) == Some(true),
    };
    let model = match wire {
        Wire::Gemini => {
            uri.path().rsplit('/').next().and_then(|s| s.split(':').next()).unwrap_or_default().to_string()
        }
        _ => json.get("model").and_then(Value::as_str).unwrap_or_default().to_string(),
    };
    let Some(turn) = state.turns.lock().unwrap_or_else(|e| e.into_inner()).pop_front() else {
        return error_response(
            wire,
            StatusCode::CONFLICT,
            &format!(
                "scripted server: script exhausted at request {served}; add a turn to the test's script"
            ),
        );
    };
    if turn.delay_ms > 0 {
        tokio::time::sleep(Duration::from_millis(turn.delay_ms)).await;
    }
    if let Some(http) = &turn.http {
        let status = StatusCode::from_u16(http.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
        let mut resp = match &http.body {
            Some(body) => text_response(status, "application/json", body.clone()),
            None => error_response(wire, status, &format!("scripted HTTP {}", http.status)),
        };
        if let Some(ra) = http.retry_after.as_deref().and_then(|v| v.parse().ok()) {
            resp.headers_mut().insert("retry-after", ra);
        }
        return resp;
    }
    if let Some(err) = &turn.error {
        return scripted_error(wire, err).await;
    }
    let ctx = Ctx { wire, model, served, turn };
    match (wire, stream) {
        (Wire::OpenAi, false) => json_response(StatusCode::OK, ctx.openai_body()),
        (Wire::OpenAi, true) => {
            let include_usage =
                json.pointer("/stream_options/include_usage").and_then(Value::as_bool) == Some(true);
            sse_response(ctx.openai_events(include_usage))
        }
        (Wire::Gemini, false) => json_response(StatusCode::OK, ctx.gemini_body()),
        (Wire::Gemini, true) => sse_response(ctx.gemini_events()),
        (Wire::Anthropic, false) => json_response(StatusCode::OK, ctx.anthropic_body()),
        (Wire::Anthropic, true) => sse_response(ctx.anthropic_events()),
    }
}

/// What an error turn looks like on the wire.
async fn scripted_error(wire: Wire, err: &ScriptedError) -> Response {
    match err {
        ScriptedError::RateLimited { retry_after_secs } => {
            let mut resp = error_response(wire, StatusCode::TOO_MANY_REQUESTS, "scripted rate limit");
            if let Some(secs) = retry_after_secs.and_then(|s| format!("{s}").parse().ok()) {
                resp.headers_mut().insert("retry-after", secs);
            }
            resp
        }
        ScriptedError::Server { status, message } => error_response(wire, status_or(*status, 500), message),
        ScriptedError::Rejected { status, message } => error_response(wire, status_or(*status, 400), message),
        ScriptedError::NotConfigured { message } => error_response(wire, StatusCode::UNAUTHORIZED, message),
        ScriptedError::ContextLength { message } => {
            let body = match wire {
                Wire::OpenAi => {
                    json!({"error": {"message": format!("This model's maximum context length is exceeded. {message}"),
                    "type": "invalid_request_error", "code": "context_length_exceeded"}})
                }
                Wire::Anthropic => json!({"type": "error", "error": {"type": "invalid_request_error",
                    "message": format!("prompt is too long: {message}")}}),
                Wire::Gemini => json!({"error": {"code": 400, "status": "INVALID_ARGUMENT",
                    "message": format!("The input token count exceeds the maximum number of tokens allowed. {message}")}}),
            };
            json_response(StatusCode::BAD_REQUEST, body)
        }
        ScriptedError::Protocol { .. } => {
            text_response(StatusCode::OK, "application/json", "this is not JSON".into())
        }
        ScriptedError::Timeout { .. } => {
            tokio::time::sleep(Duration::from_secs(3600)).await;
            error_response(wire, StatusCode::GATEWAY_TIMEOUT, "scripted timeout")
        }
        ScriptedError::Transport { message } => {
            let message = message.clone();
            let body =
                futures::stream::once(
                    async move { Err::<Bytes, std::io::Error>(std::io::Error::other(message)) },
                );
            Response::builder()
                .status(StatusCode::OK)
                .header("content-type", "application/json")
                .body(Body::from_stream(body))
                .unwrap_or_default()
        }
    }
}

fn status_or(status: u16, default: u16) -> StatusCode {
    StatusCode::from_u16(status)
        .or_else(|_| StatusCode::from_u16(default))
        .unwrap_or(StatusCode::INTERNAL_SERVER_ERROR)
}

fn error_response(wire: Wire, status: StatusCode, message: &str) -> Response {
    let body = match wire {
        Wire::OpenAi => {
            json!({"error": {"message": message, "type": "scripted_error", "code": status.as_u16()}})
        }
        Wire::Anthropic => json!({"type": "error", "error": {"type": "scripted_error", "message": message}}),
        Wire::Gemini => json!({"error": {"code": status.as_u16(), "message": message, "status": "SCRIPTED"}}),
    };
    json_response(status, body)
}

fn json_response(status: StatusCode, body: Value) -> Response {
    text_response(status, "application/json", body.to_string())
}

fn text_response(status: StatusCode, content_type: &str, body: String) -> Response {
    Response::builder()
        .status(status)
        .header("content-type", content_type)
        .body(Body::from(body))
        .unwrap_or_default()
}

/// Sends SSE events a few milliseconds apart, so clients see them as separate reads.
fn sse_response(events: Vec<String>) -> Response {
    let stream = futures::stream::unfold(events.into_iter(), |mut it| async move {
        let ev = it.next()?;
        tokio::time::sleep(Duration::from_millis(2)).await;
        Some((Ok::<Bytes, std::io::Error>(Bytes::from(ev)), it))
    });
    Response::builder()
        .status(StatusCode::OK)
        .header("content-type", "text/event-stream")
        .header("cache-control", "no-cache")
        .body(Body::from_stream(stream))
        .unwrap_or_default()
}

fn data(v: &Value) -> String {
    format!("data: {v}\n\n")
}

fn named(event: &str, v: &Value) -> String {
    format!("event: {event}\ndata: {v}\n\n")
}

/// Splits a string in two halves on a character boundary (to exercise delta accumulation).
fn halves(s: &str) -> [String; 2] {
    let mid = s.chars().count() / 2;
    let idx = s.char_indices().nth(mid).map(|(i, _)| i).unwrap_or(s.len());
    [s[..idx].to_string(), s[idx..].to_string()]
}

struct Ctx {
    wire: Wire,
    model: String,
    served: usize,
    turn: ScriptedTurn,
}

impl Ctx {
    fn text(&self) -> &str {
        self.turn.text.as_deref().unwrap_or("")
    }

    /// Calls as (id, name, args) with ids in the provider's style.
    fn calls(&self) -> Vec<(String, String, Value)> {
        let prefix = if self.wire == Wire::Anthropic { "toolu" } else { "call" };
        self.turn
            .function_calls
            .iter()
            .enumerate()
            .map(|(i, c)| {
                let id = c.id.clone().unwrap_or_else(|| format!("{prefix}_{}_{i}", self.served));
                let args = if c.args.is_null() { json!({}) } else { c.args.clone() };
                (id, c.name.clone(), args)
            })
            .collect()
    }

    fn usage(&self) -> (u64, u64) {
        self.turn.usage.map(|u| (u.prompt_tokens, u.completion_tokens)).unwrap_or((0, 0))
    }

    // ---- OpenAI ----

    fn openai_usage(&self) -> Value {
        let (p, c) = self.usage();
        json!({"prompt_tokens": p, "completion_tokens": c, "total_tokens": p + c})
    }

    fn openai_body(&self) -> Value {
        let calls: Vec<Value> = self
            .calls()
            .into_iter()
            .map(|(id, name, args)| json!({"id": id, "type": "function", "function": {"name": name, "arguments": args.to_string()}}))
            .collect();
        let mut message = json!({"role": "assistant", "content": self.turn.text});
        if !calls.is_empty() {
            message["tool_calls"] = Value::Array(calls);
        }
        let mut body = json!({
            "id": format!("chatcmpl-scripted-{}", self.served), "object": "chat.completion", "created": 0,
            "model": self.model,
            "choices": [{"index": 0, "message": message, "finish_reason": self.turn.finish_reason()}],
        });
        if self.turn.usage.is_some() {
            body["usage"] = self.openai_usage();
        }
        body
    }

    fn openai_events(&self, include_usage: bool) -> Vec<String> {
        let id = format!("chatcmpl-scripted-{}", self.served);
        let chunk = |delta: Value, finish: Value| {
            data(&json!({"id": id, "object": "chat.completion.chunk", "created": 0, "model": self.model,
                "choices": [{"index": 0, "delta": delta, "finish_reason": finish}]}))
        };
        let mut out = vec![chunk(json!({"role": "assistant", "content": ""}), Value::Null)];
        for piece in text_chunks(self.text()) {
            out.push(chunk(json!({ "content": piece }), Value::Null));
        }
        for (i, (call_id, name, args)) in self.calls().into_iter().enumerate() {
            out.push(chunk(
                json!({"tool_calls": [{"index": i, "id": call_id, "type": "function",
                    "function": {"name": name, "arguments": ""}}]}),
                Value::Null,
            ));
            for half in halves(&args.to_string()) {
                out.push(chunk(
                    json!({"tool_calls": [{"index": i, "function": {"arguments": half}}]}),
                    Value::Null,
                ));
            }
        }
        out.push(chunk(json!({}), json!(self.turn.finish_reason())));
        if include_usage && self.turn.usage.is_some() {
            out.push(data(
                &json!({"id": id, "object": "chat.completion.chunk", "created": 0, "model": self.model,
                "choices": [], "usage": self.openai_usage()}),
            ));
        }
        out.push("data: [DONE]\n\n".into());
        out
    }

    // ---- Gemini ----

    fn gemini_finish(&self) -> String {
        match self.turn.finish_reason().as_str() {
            "stop" | "tool_calls" => "STOP".into(),
            "length" => "MAX_TOKENS".into(),
            other => other.to_ascii_uppercase(),
        }
    }

    fn gemini_usage(&self) -> Value {
        let (p, c) = self.usage();
        json!({"promptTokenCount": p, "candidatesTokenCount": c, "totalTokenCount": p + c})
    }

    fn gemini_call_parts(&self) -> Vec<Value> {
        self.calls()
            .into_iter()
            .map(|(_, name, args)| json!({"functionCall": {"name": name, "args": args}}))
            .collect()
    }

    fn gemini_body(&self) -> Value {
        let mut parts = Vec::new();
        if !self.text().is_empty() {
            parts.push(json!({"text": self.text()}));
        }
        parts.extend(self.gemini_call_parts());
        let mut body = json!({
            "candidates": [{"content": {"role": "model", "parts": parts}, "finishReason": self.gemini_finish(), "index": 0}],
            "modelVersion": self.model,
        });
        if self.turn.usage.is_some() {
            body["usageMetadata"] = self.gemini_usage();
        }
        body
    }

    fn gemini_events(&self) -> Vec<String> {
        let mut out: Vec<String> = text_chunks(self.text())
            .into_iter()
            .map(|piece| {
                data(&json!({"candidates": [{"content": {"role": "model", "parts": [{"text": piece}]}, "index": 0}],
                    "modelVersion": self.model}))
            })
            .collect();
        let mut last = json!({
            "candidates": [{"content": {"role": "model", "parts": self.gemini_call_parts()},
                "finishReason": self.gemini_finish(), "index": 0}],
            "modelVersion": self.model,
        });
        if self.turn.usage.is_some() {
            last["usageMetadata"] = self.gemini_usage();
        }
        out.push(data(&last));
        out
    }

    // ---- Anthropic ----

    fn anthropic_stop(&self) -> String {
        match self.turn.finish_reason().as_str() {
            "stop" => "end_turn".into(),
            "tool_calls" => "tool_use".into(),
            "length" => "max_tokens".into(),
            other => other.to_string(),
        }
    }

    fn anthropic_body(&self) -> Value {
        let mut content = Vec::new();
        if !self.text().is_empty() {
            content.push(json!({"type": "text", "text": self.text()}));
        }
        for (id, name, args) in self.calls() {
            content.push(json!({"type": "tool_use", "id": id, "name": name, "input": args}));
        }
        let (p, c) = self.usage();
        json!({
            "id": format!("msg_scripted_{}", self.served), "type": "message", "role": "assistant",
            "model": self.model, "content": content, "stop_reason": self.anthropic_stop(), "stop_sequence": null,
            "usage": {"input_tokens": p, "output_tokens": c},
        })
    }

    fn anthropic_events(&self) -> Vec<String> {
        let (p, c) = self.usage();
        let mut out = vec![
            named(
                "message_start",
                &json!({"type": "message_start", "message": {"id": format!("msg_scripted_{}", self.served),
                    "type": "message", "role": "assistant", "model": self.model, "content": [],
                    "stop_reason": null, "stop_sequence": null, "usage": {"input_tokens": p, "output_tokens": 1}}}),
            ),
            named("ping", &json!({"type": "ping"})),
        ];
        let mut index = 0;
        if !self.text().is_empty() {
            out.push(named(
                "content_block_start",
                &json!({"type": "content_block_start", "index": index, "content_block": {"type": "text", "text": ""}}),
            ));
            for piece in text_chunks(self.text()) {
                out.push(named(
                    "content_block_delta",
                    &json!({"type": "content_block_delta", "index": index, "delta": {"type": "text_delta", "text": piece}}),
                ));
            }
            out.push(named("content_block_stop", &json!({"type": "content_block_stop", "index": index})));
            index += 1;
        }
        for (id, name, args) in self.calls() {
            out.push(named(
                "content_block_start",
                &json!({"type": "content_block_start", "index": index,
                    "content_block": {"type": "tool_use", "id": id, "name": name, "input": {}}}),
            ));
            for half in halves(&args.to_string()) {
                out.push(named(
                    "content_block_delta",
                    &json!({"type": "content_block_delta", "index": index,
                        "delta": {"type": "input_json_delta", "partial_json": half}}),
                ));
            }
            out.push(named("content_block_stop", &json!({"type": "content_block_stop", "index": index})));
            index += 1;
        }
        out.push(named(
            "message_delta",
            &json!({"type": "message_delta", "delta": {"stop_reason": self.anthropic_stop(), "stop_sequence": null},
                "usage": {"output_tokens": c}}),
        ));
        out.push(named("message_stop", &json!({"type": "message_stop"})));
        out
    }
}
