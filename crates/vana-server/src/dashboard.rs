//! Operations endpoints: `/healthz`, `/readyz`, `/metrics`, the dashboard snapshot and its
//! live stream, and the audit search.

use crate::auth::Principal;
use crate::error::ApiError;
use crate::state::Shared;
use crate::timeparse::parse_time;
use axum::extract::{Query, State};
use axum::http::{header, StatusCode};
use axum::response::sse::{Event as SseEvent, KeepAlive, Sse};
use axum::response::{IntoResponse, Response};
use axum::{Extension, Json};
use serde::Deserialize;
use serde_json::{json, Value};
use std::convert::Infallible;
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};
use vana_core::event::now_secs;
use vana_store::records::AuditQuery;

/// `GET /healthz`: the process answers.
pub async fn healthz() -> Json<Value> {
    Json(json!({"status": "ok"}))
}

/// `GET /readyz`: the store answers (503 when it does not).
pub async fn readyz(State(state): State<Shared>) -> Response {
    match state.app.store.ping().await {
        Ok(()) => Json(json!({"status": "ready", "store": "ok"})).into_response(),
        Err(e) => (
            StatusCode::SERVICE_UNAVAILABLE,
            Json(json!({"status": "not ready", "error": format!("store unreachable: {e}")})),
        )
            .into_response(),
    }
}

/// `GET /metrics`: Prometheus text format.
pub async fn metrics(State(state): State<Shared>) -> Response {
    ([(header::CONTENT_TYPE, "text/plain; version=0.0.4; charset=utf-8")], state.metrics.render_prometheus())
        .into_response()
}

/// The dashboard snapshot: real measurements of this process.
pub fn snapshot(state: &Shared) -> Value {
    let mcp = state.options.mcp_status.as_ref().map(|s| s.health());
    json!({
        "time": now_secs(),
        "process": state.metrics.process(),
        "activeStreams": state.metrics.active_streams.load(Ordering::Relaxed),
        "metrics": state.metrics.snapshot(),
        "mcp": match mcp { Some(list) => json!({"available": true, "servers": list}), None => json!({"available": false, "servers": []}) },
        "alerts": state.alerts.recent(),
        "suites": state.app.suite_reports(),
    })
}

/// `GET /api/dashboard`.
pub async fn dashboard(State(state): State<Shared>) -> Json<Value> {
    Json(snapshot(&state))
}

/// `GET /api/dashboard/stream`: the snapshot every second and whenever a measurement changes
/// (checked every 250 ms).
pub async fn dashboard_stream(
    State(state): State<Shared>,
    Extension(p): Extension<Principal>,
) -> Result<Response, ApiError> {
    let guard = state.open_stream(&p.limit_key)?;
    let stream =
        futures::stream::unfold((state, guard, None::<(u64, Instant)>), |(state, guard, last)| async move {
            if let Some((generation, at)) = last {
                loop {
                    tokio::time::sleep(Duration::from_millis(250)).await;
                    let changed = state.metrics.generation.load(Ordering::Relaxed) != generation;
                    if changed || at.elapsed() >= Duration::from_secs(1) {
                        break;
                    }
                }
            }
            let generation = state.metrics.generation.load(Ordering::Relaxed);
            let data = snapshot(&state).to_string();
            Some((
                Ok::<_, Infallible>(SseEvent::default().event("snapshot").data(data)),
                (state, guard, Some((generation, Instant::now()))),
            ))
        });
    Ok(Sse::new(stream).keep_alive(KeepAlive::new().interval(Duration::from_secs(15))).into_response())
}

/// Query of `GET /audit`.
#[derive(Debug, Default, Deserialize)]
pub struct AuditParams {
    /// Full-text terms.
    #[serde(default)]
    pub q: Option<String>,
    /// Kind of record.
    #[serde(default)]
    pub kind: Option<String>,
    /// Agent.
    #[serde(default)]
    pub agent: Option<String>,
    /// User (with auth, only one's own records are searchable).
    #[serde(default)]
    pub user: Option<String>,
    /// Session.
    #[serde(default)]
    pub session: Option<String>,
    /// Not before: epoch seconds, a date, or a duration ago (`2h`).
    #[serde(default)]
    pub from: Option<String>,
    /// Not after.
    #[serde(default)]
    pub to: Option<String>,
    /// Most records (default 100, at most 1000).
    #[serde(default)]
    pub limit: Option<usize>,
}

/// `GET /audit` (and `/api/audit`): searches the audit log, newest first. With auth, a user
/// sees only records about themself.
pub async fn audit(
    State(state): State<Shared>,
    Extension(p): Extension<Principal>,
    q: Result<Query<AuditParams>, axum::extract::rejection::QueryRejection>,
) -> Result<Response, ApiError> {
    let Query(q) = q.map_err(|e| ApiError::bad_request(format!("invalid query: {}", e.body_text())))?;
    let now = now_secs();
    let time = |v: &Option<String>| {
        v.as_deref()
            .filter(|s| !s.is_empty())
            .map(|s| parse_time(s, now))
            .transpose()
            .map_err(ApiError::bad_request)
    };
    // Every parameter is read (and a bad one refused) before anything is decided.
    let (from, to) = (time(&q.from)?, time(&q.to)?);
    let user = match (&p.user, q.user.filter(|u| !u.is_empty())) {
        (Some(me), Some(asked)) if &asked != me => return Ok(Json(json!({"records": []})).into_response()),
        (Some(me), _) => Some(me.clone()),
        (None, asked) => asked,
    };
    let query = AuditQuery {
        q: q.q,
        kind: q.kind.filter(|s| !s.is_empty()),
        agent: q.agent.filter(|s| !s.is_empty()),
        user,
        session: q.session.filter(|s| !s.is_empty()),
        from,
        to,
        limit: q.limit.unwrap_or(0),
    };
    state.audit.flush().await;
    let records = state.app.stores.audit.audit_search(&query).await?;
    Ok(Json(json!({"records": records})).into_response())
}
