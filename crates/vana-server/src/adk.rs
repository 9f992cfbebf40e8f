//! Google ADK's API server, wire-compatible: apps, sessions, `/run`, `/run_sse`, artifacts,
//! plus approvals of paused tool calls.

use crate::auth::{labeled, Principal};
use crate::error::{must_be_object, ApiError, JsonBody, JsonPath, JsonQuery, OptJsonBody};
use crate::observe::{drive, RunInfo};
use crate::state::{Shared, StreamGuard};
use axum::extract::State;
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::sse::{KeepAlive, Sse};
use axum::response::Response;
use axum::{Extension, Json};
use base64::Engine;
use futures::Stream;
use serde::Deserialize;
use serde_json::{json, Value};
use std::convert::Infallible;
use std::time::Duration;
use tokio::sync::mpsc;
use vana_core::{Content, Event, EventWindow, JsonMap};
use vana_store::records::ArtifactScope;

/// `GET /list-apps`: every agent of the catalog.
pub async fn list_apps(State(state): State<Shared>) -> Json<Vec<String>> {
    Json(state.app.catalog.specs().map(|(s, _)| s.name.clone()).collect())
}

/// `GET /api/agents`: every agent with its description (the UI's dropdown).
pub async fn agents(State(state): State<Shared>) -> Json<Value> {
    let root = state.app.config.agents.root.clone();
    let (app, mcp) = (&state.app, state.app.mcp_tools());
    Json(Value::Array(
        app.catalog
            .specs()
            .map(|(s, _)| {
                let a = app.catalog.availability(&s.name, &app.tools, &mcp);
                json!({
                    "name": s.name, "description": s.description, "tools": s.tools,
                    "subAgents": s.sub_agents, "root": s.name == root,
                    // Declared tools this installation lacks; `available: false` when it has
                    // none of them (such an agent is never handed a task).
                    "missingTools": a.missing, "available": !a.none_available(),
                })
            })
            .collect(),
    ))
}

/// Body of session creation (all optional).
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CreateSession {
    /// Initial state.
    #[serde(default)]
    pub state: Option<JsonMap>,
    /// Session id to use.
    #[serde(default)]
    pub session_id: Option<String>,
}

fn check_app(state: &Shared, app: &str) -> Result<(), ApiError> {
    if state.app.catalog.get(app).is_none() {
        return Err(ApiError::not_found(format!("unknown app `{app}`; GET /list-apps lists the agents")));
    }
    Ok(())
}

async fn create(
    state: &Shared,
    p: &Principal,
    app: &str,
    user: &str,
    id: Option<String>,
    body: Option<CreateSession>,
) -> Result<Response, ApiError> {
    check_app(state, app)?;
    let user = p.user_for(user)?;
    let body = body.unwrap_or_default();
    // One session-id rule for the whole tree (the id also names the session's workspace),
    // checked on every id given, the body's too when the path names one.
    for given in [id.as_deref(), body.session_id.as_deref()].into_iter().flatten().filter(|s| !s.is_empty()) {
        vana_workspace::validate_session_id(given).map_err(|e| ApiError::bad_request(e.to_string()))?;
    }
    let id = id.or(body.session_id).filter(|s| !s.is_empty());
    let s = state.app.store.create_session(app, &user, id.as_deref(), body.state.unwrap_or_default()).await?;
    Ok(labeled(app, Json(s)))
}

/// `POST /apps/{app}/users/{user}/sessions`: creates a session (optional `state`, `sessionId`).
pub async fn create_session(
    State(state): State<Shared>,
    Extension(p): Extension<Principal>,
    JsonPath((app, user)): JsonPath<(String, String)>,
    OptJsonBody(body): OptJsonBody<CreateSession>,
) -> Result<Response, ApiError> {
    create(&state, &p, &app, &user, None, body).await
}

/// `POST /apps/{app}/users/{user}/sessions/{id}`: creates a session with this id.
pub async fn create_session_with_id(
    State(state): State<Shared>,
    Extension(p): Extension<Principal>,
    JsonPath((app, user, id)): JsonPath<(String, String, String)>,
    OptJsonBody(body): OptJsonBody<CreateSession>,
) -> Result<Response, ApiError> {
    create(&state, &p, &app, &user, Some(id), body).await
}

/// `GET /apps/{app}/users/{user}/sessions`: the user's sessions of this app, newest first.
pub async fn list_sessions(
    State(state): State<Shared>,
    Extension(p): Extension<Principal>,
    JsonPath((app, user)): JsonPath<(String, String)>,
) -> Result<Response, ApiError> {
    check_app(&state, &app)?;
    let user = p.user_for(&user)?;
    let list = state.app.store.list_sessions(Some(&app), &user).await?;
    let out: Vec<Value> = list
        .into_iter()
        .map(|s| {
            json!({"id": s.id, "appName": s.app_name, "userId": s.user_id, "state": {}, "events": [],
                   "lastUpdateTime": s.last_update_time, "createdAt": s.created_at, "version": s.version})
        })
        .collect();
    Ok(labeled(&app, Json(out)))
}

/// `GET /apps/{app}/users/{user}/sessions/{id}`: a session with its state and events.
pub async fn get_session(
    State(state): State<Shared>,
    Extension(p): Extension<Principal>,
    JsonPath((app, user, id)): JsonPath<(String, String, String)>,
) -> Result<Response, ApiError> {
    check_app(&state, &app)?;
    let user = p.user_for(&user)?;
    let s = state
        .app
        .store
        .get_session(&app, &user, &id, EventWindow::All)
        .await?
        .ok_or_else(|| ApiError::not_found(format!("session {id} not found")))?;
    Ok(labeled(&app, Json(s)))
}

/// `DELETE /apps/{app}/users/{user}/sessions/{id}`: deletes a session, its events, artifacts
/// and sandbox workspace.
pub async fn delete_session(
    State(state): State<Shared>,
    Extension(p): Extension<Principal>,
    JsonPath((app, user, id)): JsonPath<(String, String, String)>,
) -> Result<Response, ApiError> {
    check_app(&state, &app)?;
    let user = p.user_for(&user)?;
    let deleted =
        state.app.delete_session(&app, &user, &id).await.map_err(|e| ApiError::internal(e.to_string()))?;
    if !deleted {
        return Err(ApiError::not_found(format!("session {id} not found")));
    }
    // A session created again under the same id must not inherit the deleted one's history.
    if let Some(runner) = state.cached_runner(&app) {
        runner.forget(&user, &id);
    }
    Ok(labeled(&app, StatusCode::NO_CONTENT))
}

/// ADK's RunAgentRequest.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RunRequest {
    /// App (agent) name.
    pub app_name: String,
    /// User id.
    pub user_id: String,
    /// Session id (create it first).
    pub session_id: String,
    /// The user's message.
    #[serde(deserialize_with = "message")]
    pub new_message: Content,
    /// Token-level partial events (`/run_sse`).
    #[serde(default)]
    pub streaming: bool,
    /// State changes to apply first (not supported: refused when not empty).
    #[serde(default)]
    pub state_delta: Option<JsonMap>,
}

/// Reads `newMessage` as ADK Content: an object whose parts are objects (and their
/// `functionCall`, `functionResponse` and `inlineData` objects or null).
fn message<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Content, D::Error> {
    crate::error::object_field(d, |v| {
        must_be_object(v, "newMessage")?;
        for (i, part) in v.get("parts").and_then(Value::as_array).into_iter().flatten().enumerate() {
            must_be_object(part, &format!("newMessage.parts[{i}]"))?;
            for key in ["functionCall", "functionResponse", "inlineData"] {
                match part.get(key) {
                    None | Some(Value::Null) => {}
                    Some(inner) => must_be_object(inner, &format!("newMessage.parts[{i}].{key}"))?,
                }
            }
        }
        Ok(())
    })
}

/// Starts an invocation for a run request; the receiver yields its events.
pub async fn start_run(
    state: &Shared,
    p: &Principal,
    req: RunRequest,
    stream: bool,
) -> Result<(RunInfo, mpsc::Receiver<Event>), ApiError> {
    let runner = state.runner(&req.app_name).await?;
    let user = p.user_for(&req.user_id)?;
    if req.state_delta.as_ref().is_some_and(|d| !d.is_empty()) {
        return Err(ApiError::bad_request("stateDelta is not supported by VANA's /run; send the change as part of the message or create the session with that state"));
    }
    if req.new_message.parts.is_empty() {
        return Err(ApiError::bad_request(
            "newMessage has no parts; send {\"role\": \"user\", \"parts\": [{\"text\": \"...\"}]}",
        ));
    }
    let text = req.new_message.text();
    let inv = runner.run(&user, &req.session_id, req.new_message, stream).await?;
    state.audit.log(
        "run",
        &user,
        &req.app_name,
        &req.session_id,
        format!("run {}: {}", req.app_name, crate::audit_log::truncate(&text, 200)),
        json!({"invocationId": inv.id, "message": crate::audit_log::truncate(&text, crate::audit_log::MAX_FIELD_CHARS)}),
    );
    let info = RunInfo { agent: req.app_name, user, session: req.session_id };
    Ok((info.clone(), drive(state.clone(), info, inv)))
}

async fn collect(mut rx: mpsc::Receiver<Event>) -> Vec<Event> {
    let mut out = Vec::new();
    while let Some(e) = rx.recv().await {
        if !e.is_partial() {
            out.push(e);
        }
    }
    out
}

/// `POST /run`: runs the agent and returns every (non-partial) event.
pub async fn run(
    State(state): State<Shared>,
    Extension(p): Extension<Principal>,
    JsonBody(req): JsonBody<RunRequest>,
) -> Result<Response, ApiError> {
    let agent = req.app_name.clone();
    Ok(match start_run(&state, &p, req, false).await {
        Ok((_, rx)) => labeled(&agent, Json(collect(rx).await)),
        Err(e) => labeled(&agent, e),
    })
}

/// An SSE response of events: `data: <Event JSON>` per event.
pub fn event_stream(
    rx: mpsc::Receiver<Event>,
    guard: StreamGuard,
) -> Sse<impl Stream<Item = Result<axum::response::sse::Event, Infallible>>> {
    let s = futures::stream::unfold((rx, guard), |(mut rx, guard)| async move {
        let e = rx.recv().await?;
        let data =
            serde_json::to_string(&e).unwrap_or_else(|err| json!({"error": err.to_string()}).to_string());
        Some((Ok(axum::response::sse::Event::default().data(data)), (rx, guard)))
    });
    Sse::new(s).keep_alive(KeepAlive::new().interval(Duration::from_secs(15)))
}

/// `POST /run_sse`: runs the agent and streams its events (`streaming: true` adds token-level
/// partial events).
pub async fn run_sse(
    State(state): State<Shared>,
    Extension(p): Extension<Principal>,
    JsonBody(req): JsonBody<RunRequest>,
) -> Result<Response, ApiError> {
    let agent = req.app_name.clone();
    let guard = state.open_stream(&p.limit_key)?;
    let streaming = req.streaming;
    Ok(match start_run(&state, &p, req, streaming).await {
        Ok((_, rx)) => labeled(&agent, event_stream(rx, guard)),
        Err(e) => labeled(&agent, e),
    })
}

/// Body of an approval.
#[derive(Debug, Deserialize)]
pub struct ApprovalRequest {
    /// Approve (true) or deny (false) the paused call.
    pub approved: bool,
}

/// Query of an approval.
#[derive(Debug, Default, Deserialize)]
pub struct StreamQuery {
    /// Stream the resumed events as SSE.
    #[serde(default)]
    pub stream: bool,
}

/// `POST /apps/{app}/users/{user}/sessions/{id}/approvals/{call_id}`: approves or denies a
/// paused tool call; when no other call waits, the invocation resumes and its events are
/// returned (JSON array, or SSE with `?stream=true` or `Accept: text/event-stream`).
pub async fn approve(
    State(state): State<Shared>,
    Extension(p): Extension<Principal>,
    JsonPath((app, user, id, call)): JsonPath<(String, String, String, String)>,
    JsonQuery(q): JsonQuery<StreamQuery>,
    headers: HeaderMap,
    JsonBody(body): JsonBody<ApprovalRequest>,
) -> Result<Response, ApiError> {
    let runner = state.runner(&app).await?;
    let user = p.user_for(&user)?;
    let wants_sse = q.stream
        || headers
            .get(header::ACCEPT)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|v| v.contains("text/event-stream"));
    let guard = if wants_sse { Some(state.open_stream(&p.limit_key)?) } else { None };
    let resumed = runner.approve(&user, &id, &call, body.approved).await?;
    state.audit.log(
        "approval",
        &user,
        &app,
        &id,
        format!("approval {} tool call {call}", if body.approved { "approved" } else { "denied" }),
        json!({"callId": call, "approved": body.approved, "resumed": resumed.is_some()}),
    );
    let Some(inv) = resumed else {
        return Ok(labeled(
            &app,
            (StatusCode::ACCEPTED, Json(json!({"recorded": true, "resumed": false, "events": []}))),
        ));
    };
    let rx = drive(state.clone(), RunInfo { agent: app.clone(), user, session: id }, inv);
    Ok(match guard {
        Some(g) => labeled(&app, event_stream(rx, g)),
        None => labeled(&app, Json(collect(rx).await)),
    })
}

async fn owned_scope(
    state: &Shared,
    p: &Principal,
    app: &str,
    user: &str,
    id: &str,
) -> Result<String, ApiError> {
    check_app(state, app)?;
    let user = p.user_for(user)?;
    state
        .app
        .store
        .get_session(app, &user, id, EventWindow::Last(0))
        .await?
        .ok_or_else(|| ApiError::not_found(format!("session {id} not found")))?;
    Ok(user)
}

/// `GET .../sessions/{id}/artifacts`: artifact names.
pub async fn artifact_names(
    State(state): State<Shared>,
    Extension(p): Extension<Principal>,
    JsonPath((app, user, id)): JsonPath<(String, String, String)>,
) -> Result<Response, ApiError> {
    let user = owned_scope(&state, &p, &app, &user, &id).await?;
    let names = state
        .app
        .stores
        .artifacts
        .artifact_names(ArtifactScope { app: &app, user: &user, session: &id })
        .await?;
    Ok(labeled(&app, Json(names)))
}

/// Query of an artifact read.
#[derive(Debug, Default, Deserialize)]
pub struct VersionQuery {
    /// A version; the latest when absent.
    #[serde(default)]
    pub version: Option<u64>,
}

async fn artifact_part(
    state: &Shared,
    p: &Principal,
    app: &str,
    user: &str,
    id: &str,
    name: &str,
    version: Option<u64>,
) -> Result<Response, ApiError> {
    let user = owned_scope(state, p, app, user, id).await?;
    let a = state
        .app
        .stores
        .artifacts
        .artifact_get(ArtifactScope { app, user: &user, session: id }, name, version)
        .await?
        .ok_or_else(|| ApiError::not_found(format!("artifact {name} not found")))?;
    let data = base64::engine::general_purpose::STANDARD.encode(&a.data);
    Ok(labeled(
        app,
        Json(json!({"inlineData": {"mimeType": a.mime_type, "data": data, "displayName": a.name}})),
    ))
}

/// `GET .../artifacts/{name}`: the latest version (or `?version=`) as an ADK Part.
pub async fn artifact_get(
    State(state): State<Shared>,
    Extension(p): Extension<Principal>,
    JsonPath((app, user, id, name)): JsonPath<(String, String, String, String)>,
    JsonQuery(q): JsonQuery<VersionQuery>,
) -> Result<Response, ApiError> {
    artifact_part(&state, &p, &app, &user, &id, &name, q.version).await
}

/// `GET .../artifacts/{name}/versions/{v}`: one version as an ADK Part.
pub async fn artifact_version(
    State(state): State<Shared>,
    Extension(p): Extension<Principal>,
    JsonPath((app, user, id, name, v)): JsonPath<(String, String, String, String, String)>,
) -> Result<Response, ApiError> {
    let v: u64 = v.parse().map_err(|_| ApiError::bad_request(format!("version {v:?} is not a number")))?;
    artifact_part(&state, &p, &app, &user, &id, &name, Some(v)).await
}

/// `GET .../artifacts/{name}/versions`: the versions, ascending.
pub async fn artifact_versions(
    State(state): State<Shared>,
    Extension(p): Extension<Principal>,
    JsonPath((app, user, id, name)): JsonPath<(String, String, String, String)>,
) -> Result<Response, ApiError> {
    let user = owned_scope(&state, &p, &app, &user, &id).await?;
    let v = state
        .app
        .stores
        .artifacts
        .artifact_versions(ArtifactScope { app: &app, user: &user, session: &id }, &name)
        .await?;
    if v.is_empty() {
        return Err(ApiError::not_found(format!("artifact {name} not found")));
    }
    Ok(labeled(&app, Json(v)))
}

/// `DELETE .../artifacts/{name}`: deletes every version.
pub async fn artifact_delete(
    State(state): State<Shared>,
    Extension(p): Extension<Principal>,
    JsonPath((app, user, id, name)): JsonPath<(String, String, String, String)>,
) -> Result<Response, ApiError> {
    let user = owned_scope(&state, &p, &app, &user, &id).await?;
    if !state
        .app
        .stores
        .artifacts
        .artifact_delete(ArtifactScope { app: &app, user: &user, session: &id }, &name)
        .await?
    {
        return Err(ApiError::not_found(format!("artifact {name} not found")));
    }
    Ok(labeled(&app, StatusCode::NO_CONTENT))
}
