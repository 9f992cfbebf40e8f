//! OpenAI-compatible chat: `POST /v1/chat/completions` (streaming and not) and
//! `GET /v1/models` (one model per agent; the model id is the agent name).
//!
//! The last user message is the task. Without an `X-Vana-Session` header each request gets a
//! new session into which the earlier messages are first written as history (user and
//! assistant text), so stateless OpenAI clients keep their context; with the header, the
//! request continues that session and earlier messages are ignored (the session already
//! holds them). Every response carries the session id in `X-Vana-Session`.

use crate::auth::{labeled, Principal};
use crate::error::{ApiError, JsonBody};
use crate::observe::{drive, RunInfo};
use crate::state::Shared;
use axum::extract::State;
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::response::sse::{Event as SseEvent, KeepAlive, Sse};
use axum::response::{IntoResponse, Response};
use axum::{Extension, Json};
use serde::Deserialize;
use serde_json::{json, Value};
use std::convert::Infallible;
use std::time::Duration;
use vana_core::event::now_secs;
use vana_core::{Content, Event};

/// Header naming the VANA session of a chat.
pub const SESSION_HEADER: &str = "x-vana-session";

/// `GET /v1/models`.
pub async fn models(State(state): State<Shared>) -> Json<Value> {
    let data: Vec<Value> = state
        .app
        .catalog
        .specs()
        .map(|(s, _)| json!({"id": s.name, "object": "model", "created": 0, "owned_by": "vana", "description": s.description}))
        .collect();
    Json(json!({"object": "list", "data": data}))
}

/// One chat message (content as a string or a list of text parts).
#[derive(Debug, Deserialize)]
pub struct ChatMessage {
    /// `system`, `user`, `assistant`, `tool`.
    pub role: String,
    /// Text, or `[{"type": "text", "text": ...}]`.
    #[serde(default)]
    pub content: Value,
}

impl ChatMessage {
    fn text(&self) -> String {
        match &self.content {
            Value::String(s) => s.clone(),
            Value::Array(parts) => parts
                .iter()
                .filter_map(|p| p.get("text").and_then(Value::as_str))
                .collect::<Vec<_>>()
                .join(""),
            _ => String::new(),
        }
    }
}

/// The chat completion request (fields VANA uses; others are accepted and ignored).
#[derive(Debug, Deserialize)]
pub struct ChatRequest {
    /// Agent name.
    pub model: String,
    /// The conversation; the last user message is the task.
    #[serde(deserialize_with = "messages")]
    pub messages: Vec<ChatMessage>,
    /// Stream `chat.completion.chunk`s.
    #[serde(default)]
    pub stream: bool,
    /// User id (without auth; with auth the key's user is used).
    #[serde(default)]
    pub user: Option<String>,
    /// `{"include_usage": true}`: a last chunk with the usage and no choices, as OpenAI sends.
    #[serde(default)]
    pub stream_options: Option<Value>,
}

/// Reads `messages` as a list of objects (serde alone would take `["user", "hi"]` for one).
fn messages<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Vec<ChatMessage>, D::Error> {
    crate::error::object_field(d, |v| {
        let list = v.as_array().ok_or("messages must be a list")?;
        for (i, m) in list.iter().enumerate() {
            crate::error::must_be_object(m, &format!("messages[{i}]"))?;
        }
        Ok(())
    })
}

/// Middleware over `/v1/*`: errors answered before a handler (authentication, the guard, rate
/// limits, unknown routes) come in OpenAI's error shape too, so OpenAI clients raise their own
/// exception types with the message.
pub async fn openai_errors(req: axum::extract::Request, next: axum::middleware::Next) -> Response {
    if !req.uri().path().starts_with("/v1/") {
        return next.run(req).await;
    }
    let resp = next.run(req).await;
    let status = resp.status();
    if status.is_success() {
        return resp;
    }
    let (mut parts, body) = resp.into_parts();
    let bytes = match axum::body::to_bytes(body, 1 << 20).await {
        Ok(b) => b,
        Err(_) => return oai_error(status, "error".into(), "server_error"),
    };
    let Ok(Value::Object(v)) = serde_json::from_slice::<Value>(&bytes) else {
        return Response::from_parts(parts, axum::body::Body::from(bytes));
    };
    let Some(Value::String(message)) = v.get("error") else {
        return Response::from_parts(parts, axum::body::Body::from(bytes));
    };
    let (kind, code) = match status.as_u16() {
        401 => ("invalid_request_error", json!("invalid_api_key")),
        403 => ("invalid_request_error", json!("forbidden")),
        429 => ("rate_limit_error", json!("rate_limit_exceeded")),
        s if s >= 500 => ("server_error", Value::Null),
        _ => ("invalid_request_error", Value::Null),
    };
    let body = json!({"error": {"message": message, "type": kind, "param": null, "code": code}}).to_string();
    parts.headers.remove(axum::http::header::CONTENT_LENGTH);
    Response::from_parts(parts, axum::body::Body::from(body))
}

fn oai_error(status: StatusCode, message: String, kind: &str) -> Response {
    (status, Json(json!({"error": {"message": message, "type": kind, "param": null, "code": null}})))
        .into_response()
}

fn from_api(e: ApiError) -> Response {
    let mut r = oai_error(
        e.status,
        e.message.clone(),
        if e.status.is_client_error() { "invalid_request_error" } else { "server_error" },
    );
    if let Some(s) = e.retry_after {
        if let Ok(v) = HeaderValue::from_str(&s.to_string()) {
            r.headers_mut().insert(axum::http::header::RETRY_AFTER, v);
        }
    }
    r
}

/// `POST /v1/chat/completions`.
pub async fn chat(
    State(state): State<Shared>,
    Extension(p): Extension<Principal>,
    headers: HeaderMap,
    body: Result<JsonBody<ChatRequest>, ApiError>,
) -> Response {
    let req = match body {
        Ok(JsonBody(r)) => r,
        Err(e) => return from_api(e),
    };
    let agent = req.model.clone();
    match chat_inner(state, p, headers, req).await {
        Ok(r) => labeled(&agent, r),
        Err(e) => labeled(&agent, from_api(e)),
    }
}

async fn chat_inner(
    state: Shared,
    p: Principal,
    headers: HeaderMap,
    req: ChatRequest,
) -> Result<Response, ApiError> {
    let runner = state.runner(&req.model).await?;
    let user = p.user_or(req.user.as_deref().filter(|u| !u.is_empty()).unwrap_or("openai"));
    let last_user = req
        .messages
        .iter()
        .rposition(|m| m.role == "user")
        .ok_or_else(|| ApiError::bad_request("messages holds no user message"))?;
    let task = req.messages[last_user].text();
    let store = &state.app.store;
    let session = match headers.get(SESSION_HEADER).and_then(|v| v.to_str().ok()).filter(|s| !s.is_empty()) {
        Some(id) => id.to_string(),
        None => {
            let s = store.create_session(&req.model, &user, None, Default::default()).await?;
            let mut version = s.version;
            for m in &req.messages[..last_user] {
                let (author, content) = match m.role.as_str() {
                    "user" => ("user".to_string(), Content::user_text(m.text())),
                    "assistant" => (req.model.clone(), Content::model_text(m.text())),
                    _ => continue, // system prompts: the agent has its own instruction
                };
                let e = Event::new(format!("history-{}", s.id), author).with_content(content);
                version = store.append_event(&req.model, &user, &s.id, version, &e).await?;
            }
            s.id
        }
    };
    let guard = if req.stream { Some(state.open_stream(&p.limit_key)?) } else { None };
    let inv = runner.run(&user, &session, Content::user_text(task.clone()), req.stream).await?;
    state.audit.log(
        "run",
        &user,
        &req.model,
        &session,
        format!("run {} (openai): {}", req.model, crate::audit_log::truncate(&task, 200)),
        json!({"invocationId": inv.id, "api": "openai"}),
    );
    let id = format!("chatcmpl-{}", inv.id);
    let mut rx =
        drive(state.clone(), RunInfo { agent: req.model.clone(), user, session: session.clone() }, inv);
    let created = now_secs() as u64;
    let model = req.model.clone();
    let mut resp = match guard {
        None => {
            let mut text = String::new();
            let (mut prompt, mut completion) = (0u64, 0u64);
            let mut error = None;
            let mut paused = Vec::new();
            while let Some(e) = rx.recv().await {
                if e.is_partial() {
                    continue;
                }
                if let Some(u) = e.usage_metadata {
                    prompt += u.prompt_token_count;
                    completion += u.candidates_token_count;
                }
                if e.is_error() {
                    error = e.error_message.clone().or(e.error_code.clone());
                }
                paused.extend(e.long_running_tool_ids.iter().cloned());
                if e.author != "user" && e.is_final_response() {
                    text = e.text();
                }
            }
            if text.is_empty() {
                if let Some(err) = error {
                    return Err(ApiError::new(StatusCode::BAD_GATEWAY, format!("the agent failed: {err}")));
                }
                if !paused.is_empty() {
                    text = pause_text(&req.model, &session, &paused);
                }
            }
            Json(json!({
                "id": id, "object": "chat.completion", "created": created, "model": model,
                "choices": [{"index": 0, "message": {"role": "assistant", "content": text}, "finish_reason": "stop"}],
                "usage": {"prompt_tokens": prompt, "completion_tokens": completion, "total_tokens": prompt + completion},
            }))
            .into_response()
        }
        Some(guard) => {
            let (usage_id, usage_model) = (id.clone(), model.clone());
            let chunk = move |delta: Value, finish: Option<&str>| {
                json!({"id": id, "object": "chat.completion.chunk", "created": created, "model": model,
                       "choices": [{"index": 0, "delta": delta, "finish_reason": finish}]})
                .to_string()
            };
            let (tx, out) = tokio::sync::mpsc::channel::<String>(64);
            let (m, s) = (req.model.clone(), session.clone());
            let include_usage = req
                .stream_options
                .as_ref()
                .and_then(|o| o.get("include_usage"))
                .and_then(Value::as_bool)
                .unwrap_or(false);
            let usage_chunk = {
                let (id, model) = (usage_id, usage_model);
                move |prompt: u64, completion: u64| {
                    json!({"id": id, "object": "chat.completion.chunk", "created": created, "model": model, "choices": [],
                           "usage": {"prompt_tokens": prompt, "completion_tokens": completion, "total_tokens": prompt + completion}})
                    .to_string()
                }
            };
            tokio::spawn(async move {
                let (mut prompt, mut completion) = (0u64, 0u64);
                let _guard = guard;
                let _ = tx.send(chunk(json!({"role": "assistant", "content": ""}), None)).await;
                let mut streamed = false;
                let mut paused = Vec::new();
                while let Some(e) = rx.recv().await {
                    if e.author == "user" {
                        continue;
                    }
                    let text = if e.function_calls().is_empty() && e.function_responses().is_empty() {
                        e.text()
                    } else {
                        String::new()
                    };
                    if e.is_partial() {
                        if !text.is_empty() {
                            streamed = true;
                            let _ = tx.send(chunk(json!({"content": text}), None)).await;
                        }
                        continue;
                    }
                    if let Some(u) = e.usage_metadata {
                        prompt += u.prompt_token_count;
                        completion += u.candidates_token_count;
                    }
                    paused.extend(e.long_running_tool_ids.iter().cloned());
                    if e.is_error() {
                        let msg = format!("\n[error: {}]", e.error_message.clone().unwrap_or_default());
                        let _ = tx.send(chunk(json!({"content": msg}), None)).await;
                    } else if !streamed && !text.is_empty() {
                        let _ = tx.send(chunk(json!({"content": text}), None)).await;
                    }
                    streamed = false;
                }
                if !paused.is_empty() {
                    let _ = tx.send(chunk(json!({"content": pause_text(&m, &s, &paused)}), None)).await;
                }
                let _ = tx.send(chunk(json!({}), Some("stop"))).await;
                if include_usage {
                    let _ = tx.send(usage_chunk(prompt, completion)).await;
                }
                let _ = tx.send("[DONE]".to_string()).await;
            });
            let stream = futures::stream::unfold(out, |mut out| async move {
                let data = out.recv().await?;
                Some((Ok::<_, Infallible>(SseEvent::default().data(data)), out))
            });
            Sse::new(stream).keep_alive(KeepAlive::new().interval(Duration::from_secs(15))).into_response()
        }
    };
    if let Ok(v) = HeaderValue::from_str(&session) {
        resp.headers_mut().insert(SESSION_HEADER, v);
    }
    Ok(resp)
}

fn pause_text(app: &str, session: &str, calls: &[String]) -> String {
    format!(
        "[waiting for approval of tool call(s) {}: POST /apps/{app}/users/<user>/sessions/{session}/approvals/<call_id> with {{\"approved\": true}}]",
        calls.join(", ")
    )
}
