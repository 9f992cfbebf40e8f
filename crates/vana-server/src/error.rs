//! JSON errors: every failure the API reports is `{"error": "..."}` with a 4xx/5xx status, and
//! body extraction failures (bad JSON, too large) become such errors instead of axum's text.

use axum::extract::rejection::JsonRejection;
use axum::extract::{FromRequest, FromRequestParts, Request};
use axum::http::request::Parts;
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use serde::de::DeserializeOwned;
use serde::Deserialize;
use serde_json::{json, Value};

/// An API error: a status and a message saying what to do.
#[derive(Debug, Clone)]
pub struct ApiError {
    /// HTTP status.
    pub status: StatusCode,
    /// Human-readable message.
    pub message: String,
    /// Seconds to wait, sent as `Retry-After` (429).
    pub retry_after: Option<u64>,
}

impl ApiError {
    /// An error with a status and message.
    pub fn new(status: StatusCode, message: impl Into<String>) -> Self {
        ApiError { status, message: message.into(), retry_after: None }
    }
    /// 400.
    pub fn bad_request(message: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, message)
    }
    /// 404.
    pub fn not_found(message: impl Into<String>) -> Self {
        Self::new(StatusCode::NOT_FOUND, message)
    }
    /// 401.
    pub fn unauthorized(message: impl Into<String>) -> Self {
        Self::new(StatusCode::UNAUTHORIZED, message)
    }
    /// 500 for a store or runtime failure (the message says which).
    pub fn internal(message: impl Into<String>) -> Self {
        Self::new(StatusCode::INTERNAL_SERVER_ERROR, message)
    }
    /// 429 with a Retry-After.
    pub fn too_many(message: impl Into<String>, retry_after: u64) -> Self {
        ApiError { retry_after: Some(retry_after), ..Self::new(StatusCode::TOO_MANY_REQUESTS, message) }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let mut r = (self.status, axum::Json(json!({ "error": self.message }))).into_response();
        if let Some(s) = self.retry_after {
            if let Ok(v) = HeaderValue::from_str(&s.to_string()) {
                r.headers_mut().insert(header::RETRY_AFTER, v);
            }
        }
        r
    }
}

impl From<vana_core::StoreError> for ApiError {
    fn from(e: vana_core::StoreError) -> Self {
        match e {
            vana_core::StoreError::NotFound(id) => ApiError::not_found(format!("session {id} not found")),
            vana_core::StoreError::AlreadyExists(id) => {
                ApiError::new(StatusCode::CONFLICT, format!("{id} already exists; choose another id"))
            }
            vana_core::StoreError::Conflict { .. } => ApiError::new(StatusCode::CONFLICT, e.to_string()),
            vana_core::StoreError::Backend(m) => ApiError::new(StatusCode::SERVICE_UNAVAILABLE, m),
        }
    }
}

impl From<vana_core::RunError> for ApiError {
    fn from(e: vana_core::RunError) -> Self {
        use vana_core::RunError::*;
        match e {
            SessionNotFound(id) => ApiError::not_found(format!("session {id} not found")),
            Store(s) => s.into(),
            AwaitingDecisions(_) | NothingToResume(_) => ApiError::new(StatusCode::CONFLICT, e.to_string()),
            UnknownCall { .. } => ApiError::not_found(e.to_string()),
            AgentNotFound(_) => ApiError::new(StatusCode::CONFLICT, e.to_string()),
        }
    }
}

/// A JSON body whose rejections are JSON errors (400 bad JSON, 413 too large, 415 wrong type).
pub struct JsonBody<T>(pub T);

impl<S, T> FromRequest<S> for JsonBody<T>
where
    T: DeserializeOwned,
    S: Send + Sync,
{
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        if !is_json(req.headers()) {
            return Err(ApiError::new(
                StatusCode::UNSUPPORTED_MEDIA_TYPE,
                "expected a JSON body: send `Content-Type: application/json`",
            ));
        }
        let bytes = read_body(req, state).await?;
        not_an_object(&bytes).map_or(Ok(()), |m| Err(ApiError::new(StatusCode::UNPROCESSABLE_ENTITY, m)))?;
        axum::Json::<T>::from_bytes(&bytes).map(|axum::Json(v)| JsonBody(v)).map_err(json_rejection)
    }
}

/// True when the request says its body is JSON (`application/json` or `application/*+json`).
fn is_json(headers: &axum::http::HeaderMap) -> bool {
    headers.get(header::CONTENT_TYPE).and_then(|v| v.to_str().ok()).is_some_and(|v| {
        let essence = v.split(';').next().unwrap_or("").trim().to_ascii_lowercase();
        essence == "application/json" || (essence.starts_with("application/") && essence.ends_with("+json"))
    })
}

async fn read_body<S: Send + Sync>(req: Request, state: &S) -> Result<bytes::Bytes, ApiError> {
    bytes::Bytes::from_request(req, state).await.map_err(|rej| {
        let status = rej.status();
        if status == StatusCode::PAYLOAD_TOO_LARGE {
            ApiError::new(status, "request body too large; send less (see server.max_body_bytes)")
        } else {
            ApiError::new(status, format!("cannot read the request body: {}", rej.body_text()))
        }
    })
}

/// Every request body is a JSON object; serde would also read a struct from an array
/// (`[true]` as `{"approved": true}`), which the API does not accept. `Some(message)` for
/// valid JSON that is not an object (invalid JSON is left to the parser's own error).
fn not_an_object(bytes: &[u8]) -> Option<String> {
    let first = bytes.iter().find(|b| !b.is_ascii_whitespace())?;
    if *first == b'{' || serde_json::from_slice::<serde::de::IgnoredAny>(bytes).is_err() {
        return None;
    }
    Some("invalid JSON body: expected a JSON object ({...})".into())
}

/// Maps axum's JSON rejection to a JSON error, keeping its status.
pub fn json_rejection(rej: JsonRejection) -> ApiError {
    let status = rej.status();
    let message = match status {
        StatusCode::PAYLOAD_TOO_LARGE => {
            "request body too large; send less (see server.max_body_bytes)".to_string()
        }
        StatusCode::UNSUPPORTED_MEDIA_TYPE => {
            "expected a JSON body: send `Content-Type: application/json`".to_string()
        }
        _ => format!("invalid JSON body: {}", rej.body_text()),
    };
    ApiError::new(status, message)
}

/// An optional JSON body: empty means `None`; otherwise a JSON object as [`JsonBody`] (any
/// error is a 400; the guard has refused non-JSON content types already).
pub struct OptJsonBody<T>(pub Option<T>);

impl<S, T> FromRequest<S> for OptJsonBody<T>
where
    T: DeserializeOwned,
    S: Send + Sync,
{
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        let bytes = read_body(req, state).await?;
        if bytes.iter().all(u8::is_ascii_whitespace) {
            return Ok(OptJsonBody(None));
        }
        if let Some(m) = not_an_object(&bytes) {
            return Err(ApiError::bad_request(m));
        }
        serde_json::from_slice(&bytes)
            .map(|v| OptJsonBody(Some(v)))
            .map_err(|e| ApiError::bad_request(format!("invalid JSON body: {e}")))
    }
}

/// Query parameters whose rejection is a JSON 400 naming the parameter (not axum's text).
pub struct JsonQuery<T>(pub T);

impl<S, T> FromRequestParts<S> for JsonQuery<T>
where
    T: DeserializeOwned,
    S: Send + Sync,
{
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        axum::extract::Query::<T>::from_request_parts(parts, state)
            .await
            .map(|axum::extract::Query(v)| JsonQuery(v))
            .map_err(|rej| ApiError::bad_request(format!("invalid query: {}", rej.body_text())))
    }
}

/// Path parameters whose rejection is a JSON error (not axum's text).
pub struct JsonPath<T>(pub T);

impl<S, T> FromRequestParts<S> for JsonPath<T>
where
    T: DeserializeOwned + Send,
    S: Send + Sync,
{
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        axum::extract::Path::<T>::from_request_parts(parts, state)
            .await
            .map(|axum::extract::Path(v)| JsonPath(v))
            .map_err(|rej| ApiError::new(rej.status(), format!("invalid path: {}", rej.body_text())))
    }
}

/// Deserializes a field that must be a JSON object (and whose own objects must be objects,
/// as `check` says) before reading it as `T`: serde alone would take an array for a struct.
pub fn object_field<'de, D, T>(d: D, check: fn(&Value) -> Result<(), String>) -> Result<T, D::Error>
where
    D: serde::Deserializer<'de>,
    T: DeserializeOwned,
{
    use serde::de::Error;
    let v = Value::deserialize(d)?;
    check(&v).map_err(D::Error::custom)?;
    serde_json::from_value(v).map_err(D::Error::custom)
}

/// Checks that `v` is an object, naming `what` otherwise.
pub fn must_be_object(v: &Value, what: &str) -> Result<(), String> {
    if v.is_object() {
        Ok(())
    } else {
        Err(format!("{what} must be a JSON object"))
    }
}
