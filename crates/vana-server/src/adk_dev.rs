//! ADK's development routes (`google/adk/cli/dev_server.py` of google-adk 2.13), which ADK's
//! web UI calls: traces ([`crate::traces`]), agent graphs ([`crate::graph`]), eval sets and
//! their runs ([`vana_app::adk_eval`]), metrics info, the agent tests list, and the builder
//! (read answers that the agent has no ADK builder YAML; saving is 501: VANA's agents are
//! its own YAML in the agents dir, edited there and validated by `vana agents list`).
//! Every route sits behind the same authentication as the API; a session or event of
//! another user is "not found".

use crate::adk::check_app;
use crate::auth::{labeled, Principal};
use crate::error::{ApiError, JsonBody, JsonPath, JsonQuery};
use crate::graph::{event_highlights, AgentGraph};
use crate::state::Shared;
use crate::traces;
use axum::extract::State;
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Extension, Json, Router};
use serde::Deserialize;
use serde_json::{json, Value};
use vana_app::adk_eval::{self, to_camel, EvalError};
use vana_core::EventWindow;

impl From<EvalError> for ApiError {
    fn from(e: EvalError) -> Self {
        match e {
            EvalError::NotFound(m) => ApiError::not_found(m),
            EvalError::Invalid(m) => ApiError::bad_request(m),
            other => ApiError::internal(other.to_string()),
        }
    }
}

/// Every ADK dev route.
pub fn routes() -> Router<Shared> {
    let app = "/dev/apps/{app}";
    Router::new()
        .route(&format!("{app}/debug/trace/session/{{session}}"), get(session_trace))
        .route(&format!("{app}/debug/trace/{{event}}"), get(event_trace))
        .route(&format!("{app}/build_graph"), get(build_graph))
        .route(&format!("{app}/build_graph_image"), get(build_graph_image))
        .route(&format!("{app}/graph"), get(app_graph))
        .route(&format!("{app}/users/{{user}}/sessions/{{session}}/events/{{event}}/graph"), get(event_graph))
        .route(&format!("{app}/builder"), get(builder_get))
        .route(&format!("{app}/builder/save"), post(builder_unsupported))
        .route(&format!("{app}/builder/cancel"), post(builder_unsupported))
        .route(&format!("{app}/tests"), get(tests_list))
        .route(&format!("{app}/tests/run"), post(tests_unsupported))
        .route(&format!("{app}/tests/rebuild"), post(tests_unsupported))
        .route(
            &format!("{app}/tests/{{test}}"),
            get(tests_unsupported).put(tests_unsupported).delete(tests_unsupported),
        )
        .route(&format!("{app}/metrics-info"), get(metrics_info))
        .route(&format!("{app}/eval-sets"), get(list_sets).post(create_set))
        .route(&format!("{app}/eval_sets"), get(list_sets_legacy))
        .route(&format!("{app}/eval_sets/{{set}}"), post(create_set_legacy))
        .route(&format!("{app}/eval-sets/{{set}}"), get(get_set).delete(delete_set))
        .route(&format!("{app}/eval-sets/{{set}}/add-session"), post(add_session))
        .route(&format!("{app}/eval_sets/{{set}}/add_session"), post(add_session))
        .route(&format!("{app}/eval_sets/{{set}}/evals"), get(list_cases))
        .route(
            &format!("{app}/eval-sets/{{set}}/eval-cases/{{case}}"),
            get(get_case).put(update_case).delete(delete_case),
        )
        .route(
            &format!("{app}/eval_sets/{{set}}/evals/{{case}}"),
            get(get_case).put(update_case).delete(delete_case),
        )
        .route(&format!("{app}/eval-sets/{{set}}/run"), post(run_set))
        .route(&format!("{app}/eval_sets/{{set}}/run_eval"), post(run_set_legacy))
        .route(&format!("{app}/eval-results"), get(list_results))
        .route(&format!("{app}/eval_results"), get(list_results_legacy))
        .route(&format!("{app}/eval-results/{{result}}"), get(get_result))
        .route(&format!("{app}/eval_results/{{result}}"), get(get_result))
}

/// The user a dev route acts as for a session named without one: the key's user, else (no
/// auth) the owner this process saw, else ADK web's default `user`.
fn session_user(state: &Shared, p: &Principal, session: &str) -> String {
    match &p.user {
        Some(u) => u.clone(),
        None => state.session_owner(session).map(|(_, u)| u).unwrap_or_else(|| "user".into()),
    }
}

async fn session_events(
    state: &Shared,
    app: &str,
    user: &str,
    session: &str,
) -> Result<Option<vana_core::Session>, ApiError> {
    Ok(state.app.store.get_session(app, user, session, EventWindow::All).await?)
}

/// `GET /dev/apps/{app}/debug/trace/session/{session}`: the session's spans (an unknown session
/// has none, as in ADK).
async fn session_trace(
    State(state): State<Shared>,
    Extension(p): Extension<Principal>,
    JsonPath((app, session)): JsonPath<(String, String)>,
) -> Result<Response, ApiError> {
    check_app(&state, &app)?;
    let user = session_user(&state, &p, &session);
    let spans = match session_events(&state, &app, &user, &session).await? {
        Some(s) => traces::session_spans(&session, &s.events),
        None => Vec::new(),
    };
    Ok(labeled(&app, Json(spans)))
}

/// `GET /dev/apps/{app}/debug/trace/{event}`: the attributes of the span an event came from.
async fn event_trace(
    State(state): State<Shared>,
    Extension(p): Extension<Principal>,
    JsonPath((app, event)): JsonPath<(String, String)>,
) -> Result<Response, ApiError> {
    check_app(&state, &app)?;
    let session = state.seen.lock().unwrap_or_else(|e| e.into_inner()).events.get(&event).cloned();
    let not_found =
        || ApiError::not_found(format!("Trace not found: no event {event} was run by this server"));
    let session = session.ok_or_else(not_found)?;
    let user = session_user(&state, &p, &session);
    let s = session_events(&state, &app, &user, &session).await?.ok_or_else(not_found)?;
    let t = traces::event_trace(&session, &s.events, &event).ok_or_else(not_found)?;
    Ok(labeled(&app, Json(t)))
}

/// Query of the graph routes.
#[derive(Debug, Default, Deserialize)]
struct GraphQuery {
    /// Dark background.
    #[serde(default)]
    dark_mode: Option<bool>,
    /// Only the subtree of this agent (ADK's `node`, a path like `root/child`).
    #[serde(default)]
    node: Option<String>,
    /// `dot` (default, ADK's `{"dotSrc": ...}`) or `svg` (the SVG itself).
    #[serde(default)]
    format: Option<String>,
}

fn graph_answer(
    g: &AgentGraph,
    highlights: &[(String, String)],
    q: &GraphQuery,
) -> Result<Response, ApiError> {
    let dark = q.dark_mode.unwrap_or(false);
    match q.format.as_deref().unwrap_or("dot") {
        "dot" => Ok(Json(json!({"dotSrc": g.dot(highlights, dark)})).into_response()),
        "svg" => Ok(([(header::CONTENT_TYPE, "image/svg+xml")], g.svg(highlights, dark)).into_response()),
        other => Err(ApiError::bad_request(format!("format {other:?}: use dot or svg"))),
    }
}

/// ADK's `build_graph`: the app's agent tree (`{"name", "root_agent": {...}}`).
async fn build_graph(
    State(state): State<Shared>,
    JsonPath(app): JsonPath<String>,
) -> Result<Response, ApiError> {
    check_app(&state, &app)?;
    fn agent(state: &Shared, name: &str, depth: usize) -> Value {
        let Some((s, _)) = state.app.catalog.get(name) else { return json!({"name": name}) };
        let children: Vec<Value> = if depth > 8 {
            Vec::new()
        } else {
            s.sub_agents.iter().map(|a| agent(state, a, depth + 1)).collect()
        };
        let mut tools: Vec<Value> = s.tools.iter().map(|t| json!({"name": t})).collect();
        tools.extend(s.agent_tools.iter().map(|a| json!({"name": a, "agent": agent(state, a, depth + 1)})));
        tools
            .extend(s.mcp_servers.iter().map(|m| json!({"name": format!("mcp:{m}"), "type": "mcp_toolset"})));
        json!({"name": s.name, "description": s.description, "instruction": s.instruction,
               "model": s.model.clone().unwrap_or_else(|| state.app.config.models.default_model.clone()),
               "tools": tools, "sub_agents": children})
    }
    Ok(labeled(&app, Json(json!({"name": app, "root_agent": agent(&state, &app, 0)}))))
}

fn node_root(app: &str, node: Option<&str>) -> String {
    node.and_then(|n| n.trim_matches('/').rsplit('/').next().filter(|s| !s.is_empty()))
        .unwrap_or(app)
        .to_string()
}

/// ADK's `build_graph_image`: `{path: {"dotSrc"}}` for the app (or the `node` subtree), plus
/// `svg` with VANA's own rendering.
async fn build_graph_image(
    State(state): State<Shared>,
    JsonPath(app): JsonPath<String>,
    JsonQuery(q): JsonQuery<GraphQuery>,
) -> Result<Response, ApiError> {
    check_app(&state, &app)?;
    let root = node_root(&app, q.node.as_deref());
    if state.app.catalog.get(&root).is_none() {
        return Err(ApiError::not_found(format!("Node not found: {root}")));
    }
    let g = AgentGraph::of(&state.app.catalog, &root);
    let dark = q.dark_mode.unwrap_or(false);
    let key = q.node.clone().unwrap_or_default();
    Ok(labeled(&app, Json(json!({ key: {"dotSrc": g.dot(&[], dark), "svg": g.svg(&[], dark)} }))))
}

/// ADK's `graph`: the base graph without highlights (`?format=svg` answers the SVG).
async fn app_graph(
    State(state): State<Shared>,
    JsonPath(app): JsonPath<String>,
    JsonQuery(q): JsonQuery<GraphQuery>,
) -> Result<Response, ApiError> {
    check_app(&state, &app)?;
    let g = AgentGraph::of(&state.app.catalog, &node_root(&app, q.node.as_deref()));
    Ok(labeled(&app, graph_answer(&g, &[], &q)?))
}

/// ADK's per-event graph: the graph with the event's edges highlighted (`{}` for an unknown
/// event, as in ADK).
async fn event_graph(
    State(state): State<Shared>,
    Extension(p): Extension<Principal>,
    JsonPath((app, user, session, event)): JsonPath<(String, String, String, String)>,
    JsonQuery(q): JsonQuery<GraphQuery>,
) -> Result<Response, ApiError> {
    check_app(&state, &app)?;
    let user = p.user_for(&user)?;
    let events = session_events(&state, &app, &user, &session).await?.map(|s| s.events).unwrap_or_default();
    let Some(e) = events.iter().find(|e| e.id == event) else {
        return Ok(labeled(&app, Json(json!({}))));
    };
    let g = AgentGraph::of(&state.app.catalog, &app);
    Ok(labeled(&app, graph_answer(&g, &event_highlights(e), &q)?))
}

/// ADK's builder read: VANA's agents are not ADK Agent Config YAML, so there is no builder
/// file (ADK answers the same empty text for an agent written in Python).
async fn builder_get(
    State(state): State<Shared>,
    JsonPath(app): JsonPath<String>,
) -> Result<Response, ApiError> {
    check_app(&state, &app)?;
    Ok(labeled(&app, ([(header::CONTENT_TYPE, "text/plain; charset=utf-8")], String::new())))
}

async fn builder_unsupported() -> ApiError {
    ApiError::new(
        StatusCode::NOT_IMPLEMENTED,
        "VANA does not save agents from ADK's visual builder: VANA's agents are YAML files in the agents dir ([agents] dir); edit them there and check them with `vana agents list` (errors name the file, line and field)",
    )
}

/// ADK's agent tests list: VANA has none (ADK answers `[]` when an app has no tests dir).
async fn tests_list(
    State(state): State<Shared>,
    JsonPath(app): JsonPath<String>,
) -> Result<Response, ApiError> {
    check_app(&state, &app)?;
    Ok(labeled(&app, Json(Vec::<String>::new())))
}

async fn tests_unsupported() -> ApiError {
    ApiError::new(
        StatusCode::NOT_IMPLEMENTED,
        "ADK's pytest-based agent tests are not run by VANA; use eval sets (Evals tab, `vana eval adk SET.json`)",
    )
}

async fn metrics_info(
    State(state): State<Shared>,
    JsonPath(app): JsonPath<String>,
) -> Result<Response, ApiError> {
    check_app(&state, &app)?;
    Ok(labeled(&app, Json(adk_eval::metrics_info())))
}

async fn list_sets(
    State(state): State<Shared>,
    JsonPath(app): JsonPath<String>,
) -> Result<Response, ApiError> {
    check_app(&state, &app)?;
    Ok(labeled(&app, Json(json!({"evalSetIds": state.evals.list_sets(&app)?}))))
}

async fn list_sets_legacy(
    State(state): State<Shared>,
    JsonPath(app): JsonPath<String>,
) -> Result<Response, ApiError> {
    check_app(&state, &app)?;
    Ok(labeled(&app, Json(state.evals.list_sets(&app)?)))
}

/// ADK's CreateEvalSetRequest (`{"eval_set": {"eval_set_id": ...}}`, either case).
async fn create_set(
    State(state): State<Shared>,
    JsonPath(app): JsonPath<String>,
    JsonBody(body): JsonBody<Value>,
) -> Result<Response, ApiError> {
    check_app(&state, &app)?;
    let body = adk_eval::to_snake(body);
    let id = body["eval_set"]["eval_set_id"]
        .as_str()
        .ok_or_else(|| ApiError::bad_request("send {\"eval_set\": {\"eval_set_id\": \"...\"}}"))?;
    let v = state.evals.create_set(&app, id)?;
    Ok(labeled(&app, Json(to_camel(v))))
}

async fn create_set_legacy(
    State(state): State<Shared>,
    JsonPath((app, set)): JsonPath<(String, String)>,
) -> Result<Response, ApiError> {
    check_app(&state, &app)?;
    state.evals.create_set(&app, &set)?;
    Ok(labeled(&app, Json(Value::Null)))
}

async fn get_set(
    State(state): State<Shared>,
    JsonPath((app, set)): JsonPath<(String, String)>,
) -> Result<Response, ApiError> {
    check_app(&state, &app)?;
    Ok(labeled(&app, Json(to_camel(state.evals.get_set(&app, &set)?))))
}

async fn delete_set(
    State(state): State<Shared>,
    JsonPath((app, set)): JsonPath<(String, String)>,
) -> Result<Response, ApiError> {
    check_app(&state, &app)?;
    state.evals.delete_set(&app, &set)?;
    Ok(labeled(&app, Json(Value::Null)))
}

/// ADK's AddSessionToEvalSetRequest.
#[derive(Debug, Deserialize)]
struct AddSession {
    #[serde(alias = "eval_id", rename = "evalId")]
    eval_id: String,
    #[serde(alias = "session_id", rename = "sessionId")]
    session_id: String,
    #[serde(alias = "user_id", rename = "userId", default)]
    user_id: String,
}

async fn add_session(
    State(state): State<Shared>,
    Extension(p): Extension<Principal>,
    JsonPath((app, set)): JsonPath<(String, String)>,
    JsonBody(body): JsonBody<AddSession>,
) -> Result<Response, ApiError> {
    check_app(&state, &app)?;
    let user = p.user_for(&body.user_id)?;
    let s = session_events(&state, &app, &user, &body.session_id)
        .await?
        .ok_or_else(|| ApiError::not_found("Session not found"))?;
    let case = adk_eval::case_from_session(&body.eval_id, &app, &user, &s.events);
    state.evals.add_case(&app, &set, case)?;
    Ok(labeled(&app, Json(Value::Null)))
}

async fn list_cases(
    State(state): State<Shared>,
    JsonPath((app, set)): JsonPath<(String, String)>,
) -> Result<Response, ApiError> {
    check_app(&state, &app)?;
    let v = state.evals.get_set(&app, &set)?;
    let mut ids: Vec<String> = v["eval_cases"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|c| c["eval_id"].as_str().map(str::to_string))
        .collect();
    ids.sort();
    Ok(labeled(&app, Json(ids)))
}

async fn get_case(
    State(state): State<Shared>,
    JsonPath((app, set, case)): JsonPath<(String, String, String)>,
) -> Result<Response, ApiError> {
    check_app(&state, &app)?;
    Ok(labeled(&app, Json(to_camel(state.evals.get_case(&app, &set, &case)?))))
}

async fn update_case(
    State(state): State<Shared>,
    JsonPath((app, set, case)): JsonPath<(String, String, String)>,
    JsonBody(body): JsonBody<Value>,
) -> Result<Response, ApiError> {
    check_app(&state, &app)?;
    let body = adk_eval::to_snake(body);
    if !body.is_object() {
        return Err(ApiError::bad_request("send an EvalCase object"));
    }
    if let Some(id) = body["eval_id"].as_str().filter(|i| !i.is_empty() && *i != case) {
        return Err(ApiError::bad_request(format!(
            "Eval id in EvalCase ({id}) should match the eval id in the API route ({case})"
        )));
    }
    state.evals.update_case(&app, &set, &case, body)?;
    Ok(labeled(&app, Json(Value::Null)))
}

async fn delete_case(
    State(state): State<Shared>,
    JsonPath((app, set, case)): JsonPath<(String, String, String)>,
) -> Result<Response, ApiError> {
    check_app(&state, &app)?;
    state.evals.delete_case(&app, &set, &case)?;
    Ok(labeled(&app, Json(Value::Null)))
}

/// Runs a set for the caller and keeps the result; the camelCase `RunEvalResult`s.
async fn run(
    state: &Shared,
    p: &Principal,
    app: &str,
    set: &str,
    body: Value,
) -> Result<Vec<Value>, ApiError> {
    check_app(state, app)?;
    let body = adk_eval::to_snake(body);
    let mut ids: Vec<String> = Vec::new();
    for key in ["eval_case_ids", "eval_ids"] {
        ids.extend(body[key].as_array().into_iter().flatten().filter_map(|v| v.as_str().map(str::to_string)));
    }
    let metrics = adk_eval::requested_metrics(&body["eval_metrics"])?;
    let v = state.evals.get_set(app, set)?;
    let runner = state.runner(app).await?;
    let user = p.user_or("eval_user");
    let result = adk_eval::run_set(&runner, state.app.store.as_ref(), app, &user, &v, &ids, &metrics).await?;
    state.evals.save_result(app, &result)?;
    // ADK's UI opens a result's session and its traces by session and event id only: record
    // whose they are, as for the sessions run through /run.
    for case in result["eval_case_results"].as_array().into_iter().flatten() {
        let Some(session) = case["session_id"].as_str() else { continue };
        state.saw_session(session, app, &user);
        if let Some(s) = session_events(state, app, &user, session).await? {
            let mut seen = state.seen.lock().unwrap_or_else(|e| e.into_inner());
            for e in &s.events {
                seen.event(&e.id, session);
            }
        }
    }
    Ok(result["eval_case_results"]
        .as_array()
        .cloned()
        .unwrap_or_default()
        .into_iter()
        .map(to_camel)
        .collect())
}

async fn run_set(
    State(state): State<Shared>,
    Extension(p): Extension<Principal>,
    JsonPath((app, set)): JsonPath<(String, String)>,
    JsonBody(body): JsonBody<Value>,
) -> Result<Response, ApiError> {
    let results = run(&state, &p, &app, &set, body).await?;
    Ok(labeled(&app, Json(json!({ "runEvalResults": results }))))
}

async fn run_set_legacy(
    State(state): State<Shared>,
    Extension(p): Extension<Principal>,
    JsonPath((app, set)): JsonPath<(String, String)>,
    JsonBody(body): JsonBody<Value>,
) -> Result<Response, ApiError> {
    let results = run(&state, &p, &app, &set, body).await?;
    Ok(labeled(&app, Json(results)))
}

async fn list_results(
    State(state): State<Shared>,
    JsonPath(app): JsonPath<String>,
) -> Result<Response, ApiError> {
    check_app(&state, &app)?;
    Ok(labeled(&app, Json(json!({"evalResultIds": state.evals.list_results(&app)?}))))
}

async fn list_results_legacy(
    State(state): State<Shared>,
    JsonPath(app): JsonPath<String>,
) -> Result<Response, ApiError> {
    check_app(&state, &app)?;
    Ok(labeled(&app, Json(state.evals.list_results(&app)?)))
}

async fn get_result(
    State(state): State<Shared>,
    JsonPath((app, result)): JsonPath<(String, String)>,
) -> Result<Response, ApiError> {
    check_app(&state, &app)?;
    Ok(labeled(&app, Json(to_camel(state.evals.get_result(&app, &result)?))))
}
