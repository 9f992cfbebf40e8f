//! The identity of an MCP request: turns the [`Principal`] the authentication middleware put
//! into the request's extensions into the [`Caller`] VANA's MCP server acts as (the key's user
//! and key id; without auth, the shared user [`vana_mcp::server::ANONYMOUS_USER`]), and binds
//! each MCP session to the key that opened it, so another key holder who learns a session id
//! cannot use that session (nor answer its pending approvals).

use crate::auth::Principal;
use axum::extract::{Request, State};
use axum::http::{HeaderMap, Method};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use vana_mcp::server::Caller;

/// The header carrying the MCP session id (streamable HTTP).
const SESSION_HEADER: &str = "mcp-session-id";
/// Most sessions remembered; beyond it, bindings idle longer than [`IDLE`] are forgotten.
const MAX_SESSIONS: usize = 10_000;
/// How long an idle session's binding is kept once [`MAX_SESSIONS`] is reached.
const IDLE: Duration = Duration::from_secs(24 * 3600);

/// MCP session id -> (the key id that opened it, last use).
#[derive(Clone, Default)]
pub struct Sessions(Arc<Mutex<HashMap<String, (String, Instant)>>>);

fn session_id(headers: &HeaderMap) -> Option<String> {
    headers.get(SESSION_HEADER).and_then(|v| v.to_str().ok()).map(str::to_string)
}

/// Middleware (behind [`crate::auth::authenticate`]): inserts the request's [`Caller`]; a
/// request without a principal is refused (the layers are misordered), and a request naming
/// another key's MCP session gets 404 as if the session did not exist.
pub async fn attach(State(sessions): State<Sessions>, mut req: Request, next: Next) -> Response {
    let Some(p) = req.extensions().get::<Principal>().cloned() else {
        return crate::ApiError::unauthorized("no authenticated principal for /mcp").into_response();
    };
    let caller = match &p.user {
        Some(user) => Caller::with_key(user, &p.limit_key, "http"),
        None => Caller::anonymous(),
    };
    let asked = session_id(req.headers());
    if let Some(id) = &asked {
        let mut map = sessions.0.lock().unwrap_or_else(|e| e.into_inner());
        match map.get_mut(id) {
            Some((owner, _)) if *owner != p.limit_key => {
                return crate::ApiError::not_found("unknown MCP session").into_response();
            }
            Some((_, used)) => *used = Instant::now(),
            None => {}
        }
        if req.method() == Method::DELETE {
            map.remove(id);
        }
    }
    req.extensions_mut().insert(caller);
    let resp = next.run(req).await;
    if let (None, Some(opened)) = (asked, session_id(resp.headers())) {
        let mut map = sessions.0.lock().unwrap_or_else(|e| e.into_inner());
        if map.len() >= MAX_SESSIONS {
            map.retain(|_, (_, used)| used.elapsed() < IDLE);
        }
        map.insert(opened, (p.limit_key.clone(), Instant::now()));
    }
    resp
}
