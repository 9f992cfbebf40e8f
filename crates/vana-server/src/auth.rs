//! Authentication and per-key limits: `Authorization: Bearer <key>` or the UI's session
//! cookie; `/api/login` and `/api/logout`; the request-rate bucket; request metrics.
//!
//! A login is a server-side session bound to its key ([`vana_store::LoginStore`]): the cookie
//! holds a random token, the store only its BLAKE2b-512 digest. Every request with the cookie
//! asks the store, which refuses a login that has expired (`server.session_ttl_secs`) or whose
//! key is revoked, so `vana keys revoke` ends the key's logins at once, from any process, and a
//! restart of the server logs nobody out.

use crate::error::{ApiError, JsonBody};
use crate::keys::KeyError;
use crate::state::Shared;
use axum::extract::{MatchedPath, Request, State};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use blake2::{Blake2b512, Digest};
use serde::Deserialize;
use serde_json::json;
use std::time::Instant;
use vana_core::event::now_secs;
use vana_store::LoginRecord;

/// Name of the UI's session cookie.
pub const COOKIE: &str = "vana_session";

/// Who is calling: the key's user (with auth) or nobody in particular (`--no-auth`).
#[derive(Debug, Clone)]
pub struct Principal {
    /// The key's user; `None` without auth (user ids then come from the request).
    pub user: Option<String>,
    /// What limits are counted against (key id, or `anonymous`).
    pub limit_key: String,
}

impl Principal {
    /// The user a request acts as: the key's user, who must be the one named in the request
    /// (another user's resources are "not found", never forbidden, so nothing leaks).
    pub fn user_for(&self, claimed: &str) -> Result<String, ApiError> {
        match &self.user {
            None if claimed.is_empty() => Err(ApiError::bad_request("name a user id (userId)")),
            None => Ok(claimed.to_string()),
            Some(u) if claimed.is_empty() || claimed == u => Ok(u.clone()),
            Some(_) => Err(ApiError::not_found("not found")),
        }
    }

    /// The key's user, or `fallback` without auth.
    pub fn user_or(&self, fallback: &str) -> String {
        self.user.clone().unwrap_or_else(|| fallback.to_string())
    }
}

/// The agent a request concerned, set by handlers for metrics.
#[derive(Debug, Clone)]
pub struct AgentLabel(pub String);

/// Adds the agent label to a response.
pub fn labeled(agent: &str, resp: impl IntoResponse) -> Response {
    let mut r = resp.into_response();
    r.extensions_mut().insert(AgentLabel(agent.to_string()));
    r
}

fn bearer(headers: &HeaderMap) -> Option<String> {
    let v = headers.get(header::AUTHORIZATION)?.to_str().ok()?;
    let (scheme, token) = v.split_once(' ')?;
    scheme.eq_ignore_ascii_case("bearer").then(|| token.trim().to_string())
}

fn cookie(headers: &HeaderMap) -> Option<String> {
    headers.get_all(header::COOKIE).iter().filter_map(|v| v.to_str().ok()).find_map(|v| {
        v.split(';').find_map(|kv| kv.trim().strip_prefix(&format!("{COOKIE}=")).map(str::to_string))
    })
}

/// Middleware: resolves the [`Principal`] (401 without a valid key when auth is on) and takes
/// a token from its rate bucket (429 with Retry-After when empty).
pub async fn authenticate(State(state): State<Shared>, mut req: Request, next: Next) -> Response {
    let principal = if state.options.no_auth {
        Principal { user: None, limit_key: "anonymous".into() }
    } else {
        match resolve(&state, req.headers()).await {
            Ok(p) => p,
            Err(e) => {
                state.audit.log(
                    "auth_failure",
                    "",
                    "",
                    "",
                    format!("auth failure {} {}: {}", req.method(), req.uri().path(), e.message),
                    json!({"method": req.method().as_str(), "path": req.uri().path()}),
                );
                let unauthorized = e.status == StatusCode::UNAUTHORIZED;
                let mut r = e.into_response();
                if unauthorized {
                    r.headers_mut().insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"));
                }
                return r;
            }
        }
    };
    if let Err(wait) = state.take_token(&principal.limit_key) {
        return ApiError::too_many(
            format!(
                "rate limit: at most {} requests per second per key (server.requests_per_second); retry after {wait} s",
                state.app.config.server.requests_per_second
            ),
            wait,
        )
        .into_response();
    }
    req.extensions_mut().insert(principal);
    next.run(req).await
}

/// The digest under which a login token is stored (hex BLAKE2b-512).
fn token_hash(token: &str) -> String {
    let mut h = Blake2b512::new();
    h.update(token.as_bytes());
    h.finalize().iter().map(|b| format!("{b:02x}")).collect()
}

async fn resolve(state: &Shared, headers: &HeaderMap) -> Result<Principal, ApiError> {
    if let Some(key) = bearer(headers) {
        return match state.keys.verify(&key).await {
            Ok(id) => Ok(Principal { user: Some(id.user_id), limit_key: id.key_id }),
            Err(KeyError::Store(e)) => {
                Err(ApiError::new(StatusCode::SERVICE_UNAVAILABLE, format!("cannot check the key: {e}")))
            }
            Err(e) => Err(ApiError::unauthorized(e.to_string())),
        };
    }
    if let Some(token) = cookie(headers) {
        return match state.app.stores.logins.login_get(&token_hash(&token), now_secs()).await {
            Ok(Some(l)) => Ok(Principal { user: Some(l.user_id), limit_key: l.key_id }),
            Ok(None) => Err(ApiError::unauthorized(
                "session cookie expired, revoked or unknown: log in again with an API key",
            )),
            Err(e) => Err(ApiError::new(
                StatusCode::SERVICE_UNAVAILABLE,
                format!("cannot check the session cookie: {e}"),
            )),
        };
    }
    Err(ApiError::unauthorized(
        "missing API key: send `Authorization: Bearer <key>` (create one with `vana keys create NAME`)",
    ))
}

/// Middleware: counts requests and latency by route template and agent.
pub async fn track(State(state): State<Shared>, req: Request, next: Next) -> Response {
    let route = req
        .extensions()
        .get::<MatchedPath>()
        .map(|m| m.as_str().to_string())
        .unwrap_or_else(|| "unmatched".into());
    let start = Instant::now();
    let resp = next.run(req).await;
    // Only catalog agents become label values (unknown names must not grow the series).
    let agent = resp
        .extensions()
        .get::<AgentLabel>()
        .filter(|a| state.app.catalog.get(&a.0).is_some())
        .map(|a| a.0.clone())
        .unwrap_or_default();
    state.metrics.request(&route, &agent, resp.status().as_u16(), start.elapsed());
    resp
}

/// `POST /api/login` body.
#[derive(Debug, Deserialize)]
pub struct LoginRequest {
    /// An API key.
    pub key: String,
}

/// The `Set-Cookie` value that ends the session cookie in the browser.
const CLEAR_COOKIE: &str = "vana_session=; HttpOnly; SameSite=Strict; Path=/; Max-Age=0";

/// `POST /api/login`: checks a key, stores a login bound to it (only the token's digest) and
/// sets an HttpOnly, SameSite=Strict session cookie living as long as the login.
pub async fn login(State(state): State<Shared>, JsonBody(body): JsonBody<LoginRequest>) -> Response {
    let id = match state.keys.verify(body.key.trim()).await {
        Ok(id) => id,
        Err(e) => {
            state.audit.log(
                "auth_failure",
                "",
                "",
                "",
                format!("login failed: {e}"),
                json!({"path": "/api/login"}),
            );
            let status = if matches!(e, KeyError::Store(_)) {
                StatusCode::SERVICE_UNAVAILABLE
            } else {
                StatusCode::UNAUTHORIZED
            };
            return ApiError::new(status, e.to_string()).into_response();
        }
    };
    let token = format!("{}{}", uuid::Uuid::new_v4().simple(), uuid::Uuid::new_v4().simple());
    let ttl = state.app.config.server.session_ttl_secs.max(1);
    let now = now_secs();
    let record = LoginRecord {
        token_hash: token_hash(&token),
        key_id: id.key_id.clone(),
        user_id: id.user_id.clone(),
        created_at: now,
        expires_at: now + ttl as f64,
    };
    if let Err(e) = state.app.stores.logins.login_create(&record).await {
        return ApiError::new(StatusCode::SERVICE_UNAVAILABLE, format!("cannot store the login: {e}"))
            .into_response();
    }
    state.audit.log(
        "login",
        &id.user_id,
        "",
        "",
        format!("login {} with key {}", id.user_id, id.key_id),
        json!({"keyId": id.key_id, "expiresAt": record.expires_at}),
    );
    let cookie = format!("{COOKIE}={token}; HttpOnly; SameSite=Strict; Path=/; Max-Age={ttl}");
    let mut r = axum::Json(json!({"user": id.user_id})).into_response();
    if let Ok(v) = HeaderValue::from_str(&cookie) {
        r.headers_mut().insert(header::SET_COOKIE, v);
    }
    r
}

/// `POST /api/logout`: ends the login of the session cookie (server-side too). Takes no body.
pub async fn logout(State(state): State<Shared>, headers: HeaderMap) -> Response {
    if let Some(token) = cookie(&headers) {
        if let Err(e) = state.app.stores.logins.login_delete(&token_hash(&token)).await {
            return ApiError::new(StatusCode::SERVICE_UNAVAILABLE, format!("cannot end the login: {e}"))
                .into_response();
        }
    }
    let mut r = axum::Json(json!({"loggedOut": true})).into_response();
    r.headers_mut().insert(header::SET_COOKIE, HeaderValue::from_static(CLEAR_COOKIE));
    r
}

/// `GET /api/me`: who the caller is.
pub async fn me(axum::Extension(p): axum::Extension<Principal>) -> Response {
    axum::Json(json!({"user": p.user, "auth": p.user.is_some()})).into_response()
}
