//! Google ADK's API server, wire-compatible (route by route with `google/adk/cli/api_server.py`
//! of google-adk 2.13): health and version, apps and app info, sessions (with the state PATCH),
//! `/run` and `/run_sse` with ADK's request fields and ADK's event stream (the user's own event
//! is not echoed), artifacts with their version metadata, the memory PATCH; plus approvals of
//! paused tool calls. Sessions are answered in ADK's `Session` shape (ADK's client validates
//! them with `extra="forbid"`).

use crate::auth::{labeled, Principal};
use crate::error::{must_be_object, ApiError, JsonBody, JsonPath, JsonQuery, OptJsonBody};
use crate::observe::{drive, RunInfo};
use crate::state::{Shared, StreamGuard};
use axum::extract::State;
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::sse::{KeepAlive, Sse};
use axum::response::{IntoResponse, Response};
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

/// Query of `/list-apps`.
#[derive(Debug, Default, Deserialize)]
pub struct ListAppsQuery {
    /// ADK's `detailed=true`: `{"apps": [AppInfo...]}` instead of names.
    #[serde(default)]
    pub detailed: Option<bool>,
    /// Sent by ADK's web UI (`./`); VANA has one catalog, so it is ignored.
    #[serde(default)]
    pub relative_path: Option<String>,
}

/// `GET /list-apps`: every agent of the catalog (names; `?detailed=true`: ADK's AppInfo list).
pub async fn list_apps(State(state): State<Shared>, JsonQuery(q): JsonQuery<ListAppsQuery>) -> Response {
    if q.detailed == Some(true) {
        let apps: Vec<Value> = state.app.catalog.specs().map(|(s, _)| app_info_of(&state, &s.name)).collect();
        return Json(json!({ "apps": apps })).into_response();
    }
    Json(state.app.catalog.specs().map(|(s, _)| s.name.clone()).collect::<Vec<_>>()).into_response()
}

/// ADK's `AppInfo` of one agent: name, root agent, description, language and every agent of
/// its tree (`agents`: name -> {name, description, subAgents, tools}).
fn app_info_of(state: &Shared, app: &str) -> Value {
    let catalog = &state.app.catalog;
    let mut agents = serde_json::Map::new();
    let mut todo = vec![app.to_string()];
    while let Some(name) = todo.pop() {
        if agents.contains_key(&name) {
            continue;
        }
        let Some((s, _)) = catalog.get(&name) else { continue };
        agents.insert(
            name.clone(),
            json!({"name": s.name, "description": s.description, "subAgents": s.sub_agents,
                   "agentTools": s.agent_tools, "tools": s.tools, "mcpServers": s.mcp_servers}),
        );
        todo.extend(s.sub_agents.iter().chain(&s.agent_tools).cloned());
    }
    let description = catalog.get(app).map(|(s, _)| s.description.clone()).unwrap_or_default();
    json!({"name": app, "rootAgentName": app, "description": description, "language": "yaml",
           "isComputerUse": false, "agents": agents})
}

/// `GET /apps/{app}/app-info`: ADK's `AppInfo` of an agent.
pub async fn app_info(
    State(state): State<Shared>,
    JsonPath(app): JsonPath<String>,
) -> Result<Response, ApiError> {
    check_app(&state, &app)?;
    Ok(labeled(&app, Json(app_info_of(&state, &app))))
}

/// `GET /health`: ADK's liveness answer.
pub async fn health() -> Json<Value> {
    Json(json!({"status": "ok"}))
}

/// `GET /version`: what ADK's web UI shows in its version tooltip.
pub async fn version() -> Json<Value> {
    Json(json!({"version": env!("CARGO_PKG_VERSION"), "language": "rust (VANA)",
                "language_version": option_env!("CARGO_PKG_RUST_VERSION").filter(|v| !v.is_empty()).unwrap_or("stable")}))
}

/// `GET /config/telemetry`: VANA collects no usage telemetry, so consent is always off.
pub async fn telemetry() -> Json<Value> {
    Json(json!({"telemetry": false, "collected": "none: VANA sends no usage telemetry anywhere"}))
}

/// Body of ADK's `POST /config/telemetry`.
#[derive(Debug, Deserialize)]
pub struct TelemetryConsent {
    /// The consent the UI asks for.
    pub telemetry: bool,
}

/// `POST /config/telemetry`: nothing is ever collected; the answer stays `false`.
pub async fn set_telemetry(JsonBody(_body): JsonBody<TelemetryConsent>) -> Json<Value> {
    telemetry().await
}

/// ADK's `Session` JSON of a session: id, appName, userId, state, events, lastUpdateTime
/// (VANA's version counter and creation time are left out: ADK's model forbids extra fields).
pub fn session_json(s: &vana_core::Session) -> Value {
    json!({"id": s.id, "appName": s.app_name, "userId": s.user_id, "state": s.state,
           "events": s.events, "lastUpdateTime": s.last_update_time})
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

pub(crate) fn check_app(state: &Shared, app: &str) -> Result<(), ApiError> {
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
    state.saw_session(&s.id, app, &user);
    Ok(labeled(app, Json(session_json(&s))))
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

/// `GET /apps/{app}/users/{user}/sessions`: the user's sessions of this app, newest first; each
/// one's `state` holds only its title (`vana:title`), if it has one.
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
            // A listing's state holds only the title (ADK's Session has no other place for it).
            let state = match s.title {
                Some(t) => json!({ vana_core::session::TITLE_KEY: t }),
                None => json!({}),
            };
            json!({"id": s.id, "appName": s.app_name, "userId": s.user_id, "state": state, "events": [],
                   "lastUpdateTime": s.last_update_time})
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
    // VANA's append counter travels as a header: ADK's Session has no field for it.
    let version = s.version.to_string();
    Ok(labeled(&app, ([(VERSION_HEADER, version)], Json(session_json(&s)))))
}

/// Header of a session read: the number of events ever appended (VANA's version counter).
pub const VERSION_HEADER: &str = "x-vana-session-version";

/// ADK's UpdateSessionRequest (`stateDelta`, or `state_delta` as ADK's own client sends it).
#[derive(Debug, Deserialize)]
pub struct UpdateSession {
    /// The state changes.
    #[serde(alias = "state_delta", rename = "stateDelta")]
    pub state_delta: JsonMap,
}

/// Appends a user-authored event carrying `delta` (ADK's way of changing state without a run);
/// the runner's cached copy of the session is dropped so the next run reads it.
async fn append_state_delta(
    state: &Shared,
    app: &str,
    user: &str,
    id: &str,
    delta: JsonMap,
) -> Result<vana_core::Session, ApiError> {
    let store = &state.app.store;
    for _ in 0..3 {
        let s = store
            .get_session(app, user, id, EventWindow::Last(0))
            .await?
            .ok_or_else(|| ApiError::not_found(format!("session {id} not found")))?;
        let mut e = Event::new(format!("p-{}", uuid::Uuid::new_v4()), "user");
        e.actions.state_delta = delta.clone();
        match store.append_event(app, user, id, s.version, &e).await {
            Ok(_) => {
                if let Some(runner) = state.cached_runner(app) {
                    runner.forget(user, id);
                }
                return store
                    .get_session(app, user, id, EventWindow::All)
                    .await?
                    .ok_or_else(|| ApiError::not_found(format!("session {id} not found")));
            }
            Err(vana_core::StoreError::Conflict { .. }) => continue,
            Err(e) => return Err(e.into()),
        }
    }
    Err(ApiError::new(StatusCode::CONFLICT, format!("session {id} is busy; try the state change again")))
}

/// `PATCH /apps/{app}/users/{user}/sessions/{id}`: changes the session's state without running
/// the agent (a user event whose actions carry the delta); returns the session.
pub async fn update_session(
    State(state): State<Shared>,
    Extension(p): Extension<Principal>,
    JsonPath((app, user, id)): JsonPath<(String, String, String)>,
    JsonBody(body): JsonBody<UpdateSession>,
) -> Result<Response, ApiError> {
    check_app(&state, &app)?;
    let user = p.user_for(&user)?;
    let s = append_state_delta(&state, &app, &user, &id, body.state_delta).await?;
    Ok(labeled(&app, Json(session_json(&s))))
}

/// ADK's UpdateMemoryRequest.
#[derive(Debug, Deserialize)]
pub struct UpdateMemory {
    /// The session whose events would be added to memory.
    #[serde(alias = "session_id", rename = "sessionId")]
    pub session_id: String,
}

/// `PATCH /apps/{app}/users/{user}/memory`: VANA has no memory service; like ADK's server
/// without one, this is a 400 that says so (after checking that the session exists).
pub async fn patch_memory(
    State(state): State<Shared>,
    Extension(p): Extension<Principal>,
    JsonPath((app, user)): JsonPath<(String, String)>,
    JsonBody(body): JsonBody<UpdateMemory>,
) -> Result<Response, ApiError> {
    check_app(&state, &app)?;
    let user = p.user_for(&user)?;
    state
        .app
        .store
        .get_session(&app, &user, &body.session_id, EventWindow::Last(0))
        .await?
        .ok_or_else(|| ApiError::not_found(format!("session {} not found", body.session_id)))?;
    Err(ApiError::bad_request(
        "Memory service is not configured: VANA keeps no long-term memory across sessions; a session's own history and state are kept in the session",
    ))
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
    /// The user's message (ADK: optional when resuming with `invocationId`).
    #[serde(default, deserialize_with = "opt_message")]
    pub new_message: Option<Content>,
    /// Token-level partial events (`/run_sse`).
    #[serde(default)]
    pub streaming: bool,
    /// State changes applied before the run (as ADK's runner does).
    #[serde(default)]
    pub state_delta: Option<JsonMap>,
    /// ADK's resumption of a paused invocation: with a `newMessage` holding the
    /// `adk_request_confirmation` function response, the decision is recorded and the paused
    /// invocation resumes.
    #[serde(default)]
    pub invocation_id: Option<String>,
    /// ADK's long-running-function resumption id (accepted; VANA resumes by invocation).
    #[serde(default)]
    pub function_call_event_id: Option<String>,
    /// ADK's custom metadata of the run (accepted, not used).
    #[serde(default)]
    pub custom_metadata: Option<JsonMap>,
}

fn opt_message<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Option<Content>, D::Error> {
    let v = Option::<Value>::deserialize(d)?;
    match v {
        None | Some(Value::Null) => Ok(None),
        Some(v) => message(v).map(Some).map_err(serde::de::Error::custom),
    }
}

/// Reads `newMessage` as ADK Content: an object whose parts are objects (and their
/// `functionCall`, `functionResponse` and `inlineData` objects or null).
fn message(v: Value) -> Result<Content, serde_json::Error> {
    crate::error::object_field(v, |v| {
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
    mut req: RunRequest,
    stream: bool,
) -> Result<(RunInfo, mpsc::Receiver<Event>), ApiError> {
    let runner = state.runner(&req.app_name).await?;
    let user = p.user_for(&req.user_id)?;
    let message = req.new_message.take().unwrap_or_default();
    if let Some(resumed) = resume_by_confirmation(state, &runner, &user, &req, &message).await? {
        let info = RunInfo { agent: req.app_name, user, session: req.session_id };
        return Ok((info.clone(), drive(state.clone(), info, resumed)));
    }
    if message.parts.is_empty() {
        return Err(ApiError::bad_request(
            "newMessage has no parts; send {\"role\": \"user\", \"parts\": [{\"text\": \"...\"}]}",
        ));
    }
    if let Some(delta) = req.state_delta.take().filter(|d| !d.is_empty()) {
        append_state_delta(state, &req.app_name, &user, &req.session_id, delta).await?;
    }
    let text = message.text();
    let inv = runner.run(&user, &req.session_id, message, stream).await?;
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

/// ADK's resumption: `invocationId` with a `newMessage` whose parts answer
/// `adk_request_confirmation` calls records each decision ([`vana_core::Runner::approve`]); the
/// invocation resumes after the last one. `None` when the message is no such answer.
async fn resume_by_confirmation(
    state: &Shared,
    runner: &vana_core::Runner,
    user: &str,
    req: &RunRequest,
    message: &Content,
) -> Result<Option<vana_core::Invocation>, ApiError> {
    let answers: Vec<_> = message
        .parts
        .iter()
        .filter_map(|p| p.function_response.as_ref())
        .filter(|r| r.name == "adk_request_confirmation")
        .collect();
    if answers.is_empty() {
        if req.invocation_id.is_some() && message.parts.is_empty() {
            return Err(ApiError::bad_request(
                "invocationId without a newMessage: VANA resumes a paused invocation when newMessage answers its adk_request_confirmation call(s) (or use POST .../approvals/{call_id})",
            ));
        }
        return Ok(None);
    }
    let mut resumed = None;
    for r in answers {
        let Some(call) = r.id.as_deref() else {
            return Err(ApiError::bad_request("the adk_request_confirmation response has no id"));
        };
        let approved = r.response.get("confirmed").and_then(Value::as_bool).unwrap_or(false);
        resumed = runner.approve(user, &req.session_id, call, approved).await?;
        state.audit.log(
            "approval",
            user,
            &req.app_name,
            &req.session_id,
            format!("approval {} tool call {call}", if approved { "approved" } else { "denied" }),
            json!({"callId": call, "approved": approved, "resumed": resumed.is_some(), "api": "adk"}),
        );
    }
    match resumed {
        Some(inv) => Ok(Some(inv)),
        None => Err(ApiError::new(
            StatusCode::ACCEPTED,
            "decision recorded; other calls of the pause still wait for theirs",
        )),
    }
}

/// ADK's runner does not hand the user's own message back (`yield_user_message` is off), so
/// neither do `/run` and `/run_sse`: events authored by `user` are stored, not streamed.
fn adk_visible(e: &Event) -> bool {
    e.author != "user"
}

async fn collect(mut rx: mpsc::Receiver<Event>) -> Vec<Event> {
    let mut out = Vec::new();
    while let Some(e) = rx.recv().await {
        if !e.is_partial() && adk_visible(&e) {
            out.push(e);
        }
    }
    out
}

/// Approval resumptions (VANA's own route) hand back every event, the decision included.
async fn collect_all(mut rx: mpsc::Receiver<Event>) -> Vec<Event> {
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
    keep: fn(&Event) -> bool,
) -> Sse<impl Stream<Item = Result<axum::response::sse::Event, Infallible>>> {
    let s = futures::stream::unfold((rx, guard), move |(mut rx, guard)| async move {
        let e = loop {
            let e = rx.recv().await?;
            if keep(&e) {
                break e;
            }
        };
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
        Ok((_, rx)) => labeled(&agent, event_stream(rx, guard, adk_visible)),
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
        Some(g) => labeled(&app, event_stream(rx, g, |_| true)),
        None => labeled(&app, Json(collect_all(rx).await)),
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
    // ADK's `latest` names the newest version.
    let v = if v == "latest" {
        None
    } else {
        Some(v.parse::<u64>().map_err(|_| ApiError::bad_request(format!("version {v:?} is not a number")))?)
    };
    artifact_part(&state, &p, &app, &user, &id, &name, v).await
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

/// ADK's `ArtifactVersion` of one stored version.
fn version_metadata(app: &str, user: &str, id: &str, a: &vana_store::records::Artifact) -> Value {
    json!({"version": a.version, "mimeType": a.mime_type, "createTime": a.created_at, "customMetadata": {},
           "canonicalUri": format!("vana://apps/{app}/users/{user}/sessions/{id}/artifacts/{}/versions/{}", a.name, a.version)})
}

/// `GET .../artifacts/{name}/versions/metadata`: ADK's metadata of every version, ascending.
pub async fn artifact_versions_metadata(
    State(state): State<Shared>,
    Extension(p): Extension<Principal>,
    JsonPath((app, user, id, name)): JsonPath<(String, String, String, String)>,
) -> Result<Response, ApiError> {
    let user = owned_scope(&state, &p, &app, &user, &id).await?;
    let scope = ArtifactScope { app: &app, user: &user, session: &id };
    let store = &state.app.stores.artifacts;
    let mut out = Vec::new();
    for v in store.artifact_versions(scope, &name).await? {
        if let Some(a) =
            store.artifact_get(ArtifactScope { app: &app, user: &user, session: &id }, &name, Some(v)).await?
        {
            out.push(version_metadata(&app, &user, &id, &a));
        }
    }
    Ok(labeled(&app, Json(out)))
}

/// `GET .../artifacts/{name}/versions/{v}/metadata`: ADK's metadata of one version (`latest`
/// names the newest).
pub async fn artifact_version_metadata(
    State(state): State<Shared>,
    Extension(p): Extension<Principal>,
    JsonPath((app, user, id, name, v)): JsonPath<(String, String, String, String, String)>,
) -> Result<Response, ApiError> {
    let version = if v == "latest" {
        None
    } else {
        Some(
            v.parse::<u64>()
                .map_err(|_| ApiError::bad_request(format!("version {v:?} is not a number or `latest`")))?,
        )
    };
    let user = owned_scope(&state, &p, &app, &user, &id).await?;
    let a = state
        .app
        .stores
        .artifacts
        .artifact_get(ArtifactScope { app: &app, user: &user, session: &id }, &name, version)
        .await?
        .ok_or_else(|| ApiError::not_found(format!("artifact {name} version {v} not found")))?;
    Ok(labeled(&app, Json(version_metadata(&app, &user, &id, &a))))
}

/// ADK's SaveArtifactRequest: a file name and a Part with `inlineData`.
#[derive(Debug, Deserialize)]
pub struct SaveArtifact {
    /// The artifact's name.
    pub filename: String,
    /// The content.
    pub artifact: vana_core::Part,
    /// ADK's custom metadata (accepted, not kept).
    #[serde(default, alias = "custom_metadata", rename = "customMetadata")]
    pub custom_metadata: Option<JsonMap>,
}

/// `POST .../artifacts`: saves a new version; answers its ADK `ArtifactVersion`.
pub async fn artifact_save(
    State(state): State<Shared>,
    Extension(p): Extension<Principal>,
    JsonPath((app, user, id)): JsonPath<(String, String, String)>,
    JsonBody(body): JsonBody<SaveArtifact>,
) -> Result<Response, ApiError> {
    let user = owned_scope(&state, &p, &app, &user, &id).await?;
    let name = body.filename.as_str();
    if name.is_empty()
        || name.chars().count() > 255
        || name.contains(['/', '\\', '\0'])
        || name == "."
        || name == ".."
    {
        return Err(ApiError::bad_request(format!(
            "artifact filename {:?} is not a plain file name (1-255 characters, no / or \\)",
            body.filename
        )));
    }
    let Some(blob) = &body.artifact.inline_data else {
        return Err(ApiError::bad_request(
            "artifact needs inlineData: {\"mimeType\": \"...\", \"data\": \"<base64>\"}",
        ));
    };
    let mime = blob.mime_type.clone();
    // Lenient as clients are: padding optional, stray low bits in the last symbol ignored.
    let lenient = base64::engine::GeneralPurpose::new(
        &base64::alphabet::STANDARD,
        base64::engine::GeneralPurposeConfig::new()
            .with_decode_allow_trailing_bits(true)
            .with_decode_padding_mode(base64::engine::DecodePaddingMode::Indifferent),
    );
    let bytes = base64::Engine::decode(&lenient, blob.data.as_bytes())
        .map_err(|e| ApiError::bad_request(format!("artifact.inlineData.data is not base64: {e}")))?;
    let scope = ArtifactScope { app: &app, user: &user, session: &id };
    let store = &state.app.stores.artifacts;
    store.artifact_put(scope, name, &mime, &bytes).await?;
    let a = store
        .artifact_get(ArtifactScope { app: &app, user: &user, session: &id }, name, None)
        .await?
        .ok_or_else(|| ApiError::internal("artifact saved but not found"))?;
    Ok(labeled(&app, Json(version_metadata(&app, &user, &id, &a))))
}
