//! The identity of an MCP request: turns the [`Principal`] the authentication middleware put
//! into the request's extensions into the [`Caller`] VANA's MCP server acts as (the key's user
//! and key id; without auth, the shared user [`vana_mcp::server::ANONYMOUS_USER`]).

use crate::auth::Principal;
use axum::extract::Request;
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use vana_mcp::server::Caller;

/// Middleware (behind [`crate::auth::authenticate`]): inserts the request's [`Caller`]; a
/// request without a principal is refused (the layers are misordered).
pub async fn attach(mut req: Request, next: Next) -> Response {
    let Some(p) = req.extensions().get::<Principal>().cloned() else {
        return crate::ApiError::unauthorized("no authenticated principal for /mcp").into_response();
    };
    let caller = match &p.user {
        Some(user) => Caller::with_key(user, &p.limit_key, "http"),
        None => Caller::anonymous(),
    };
    req.extensions_mut().insert(caller);
    next.run(req).await
}
