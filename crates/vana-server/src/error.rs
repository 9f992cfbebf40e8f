//! JSON errors: every failure the API reports is `{"error": "..."}` with a 4xx/5xx status, and
//! body extraction failures (bad JSON, too large) become such errors instead of axum's text.

use axum::extract::rejection::JsonRejection;
use axum::extract::{FromRequest, Request};
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use serde::de::DeserializeOwned;
use serde_json::json;

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
        match axum::Json::<T>::from_request(req, state).await {
            Ok(axum::Json(v)) => Ok(JsonBody(v)),
            Err(rej) => Err(json_rejection(rej)),
        }
    }
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

/// An optional JSON body: empty means `None`; otherwise as [`JsonBody`] (any content type).
pub struct OptJsonBody<T>(pub Option<T>);

impl<S, T> FromRequest<S> for OptJsonBody<T>
where
    T: DeserializeOwned,
    S: Send + Sync,
{
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        let bytes = bytes::Bytes::from_request(req, state).await.map_err(|rej| {
            let status = rej.status();
            if status == StatusCode::PAYLOAD_TOO_LARGE {
                ApiError::new(status, "request body too large; send less (see server.max_body_bytes)")
            } else {
                ApiError::new(status, format!("cannot read the request body: {}", rej.body_text()))
            }
        })?;
        if bytes.iter().all(u8::is_ascii_whitespace) {
            return Ok(OptJsonBody(None));
        }
        serde_json::from_slice(&bytes)
            .map(|v| OptJsonBody(Some(v)))
            .map_err(|e| ApiError::bad_request(format!("invalid JSON body: {e}")))
    }
}
