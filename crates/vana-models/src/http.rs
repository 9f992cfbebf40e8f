//! HTTP plumbing shared by the providers: the client, API keys, and HTTP status to `ModelError`.

use serde_json::Value;
use std::fmt;
use std::time::{Duration, SystemTime};
use vana_core::ModelError;

/// An API key; never printed (its `Debug` shows `***`).
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(String);

impl Secret {
    /// Wraps a key.
    pub fn new(value: impl Into<String>) -> Self {
        Secret(value.into())
    }

    /// The key itself, for a request header only.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Secret(***)")
    }
}

/// A shared HTTP client plus the per-request deadline.
#[derive(Debug, Clone)]
pub struct HttpClient {
    client: reqwest::Client,
    timeout: Duration,
}

impl HttpClient {
    /// A client whose requests time out after `timeout` (connect included).
    pub fn new(timeout: Duration) -> Result<Self, ModelError> {
        let client = reqwest::Client::builder()
            .connect_timeout(timeout)
            .user_agent(concat!("vana/", env!("CARGO_PKG_VERSION")))
            .build()
            .map_err(|e| {
                ModelError::NotConfigured(format!("could not initialise the HTTP client for models: {e}"))
            })?;
        Ok(HttpClient { client, timeout })
    }

    /// The per-request deadline.
    pub fn timeout(&self) -> Duration {
        self.timeout
    }

    /// The deadline of a request starting now.
    pub(crate) fn deadline(&self) -> tokio::time::Instant {
        tokio::time::Instant::now() + self.timeout
    }

    /// Posts `body` as JSON with `headers` and waits for the response head until `deadline`;
    /// non-2xx statuses become `ModelError`s.
    pub(crate) async fn post_json(
        &self,
        model: &str,
        url: &str,
        headers: &[(&str, String)],
        body: &Value,
        deadline: tokio::time::Instant,
    ) -> Result<reqwest::Response, ModelError> {
        let mut req = self.client.post(url).json(body);
        for (name, value) in headers {
            req = req.header(*name, value);
        }
        let resp = match tokio::time::timeout_at(deadline, req.send()).await {
            Err(_) => return Err(ModelError::Timeout { model: model.into(), after: self.timeout }),
            Ok(Err(e)) => return Err(transport_error(model, &e, self.timeout)),
            Ok(Ok(resp)) => resp,
        };
        let status = resp.status().as_u16();
        if (200..300).contains(&status) {
            return Ok(resp);
        }
        let retry_after =
            resp.headers().get(reqwest::header::RETRY_AFTER).and_then(|v| v.to_str().ok()).map(str::to_owned);
        let body = match tokio::time::timeout_at(deadline, resp.text()).await {
            Ok(Ok(text)) => text,
            _ => String::new(),
        };
        Err(error_from_status(model, status, retry_after.as_deref(), &body))
    }

    /// Reads a whole non-streaming response body as JSON until `deadline`.
    pub(crate) async fn read_json(
        &self,
        model: &str,
        resp: reqwest::Response,
        deadline: tokio::time::Instant,
    ) -> Result<Value, ModelError> {
        let bytes = match tokio::time::timeout_at(deadline, resp.bytes()).await {
            Err(_) => return Err(ModelError::Timeout { model: model.into(), after: self.timeout }),
            Ok(Err(e)) => return Err(transport_error(model, &e, self.timeout)),
            Ok(Ok(b)) => b,
        };
        serde_json::from_slice(&bytes).map_err(|e| ModelError::Protocol {
            model: model.into(),
            message: format!(
                "response body is not JSON ({e}): {}",
                truncate(&String::from_utf8_lossy(&bytes), 300)
            ),
        })
    }
}

/// Maps a reqwest failure (connect, reset, timeout) to `Transport` or `Timeout`.
pub(crate) fn transport_error(model: &str, e: &reqwest::Error, timeout: Duration) -> ModelError {
    if e.is_timeout() {
        return ModelError::Timeout { model: model.into(), after: timeout };
    }
    let mut message = e.to_string();
    let mut source = std::error::Error::source(e);
    while let Some(s) = source {
        message.push_str(": ");
        message.push_str(&s.to_string());
        source = s.source();
    }
    let hint = if e.is_connect() { " (is the server running and the base_url right?)" } else { "" };
    ModelError::Transport { model: model.into(), message: format!("{message}{hint}") }
}

/// Turns a non-2xx HTTP answer into a `ModelError`: 429 -> `RateLimited` (Retry-After parsed),
/// 5xx -> `Server`, context-window errors -> `ContextLength`, other 4xx -> `Rejected`.
pub fn error_from_status(model: &str, status: u16, retry_after: Option<&str>, body: &str) -> ModelError {
    let message = provider_error_message(body);
    if status == 429 {
        return ModelError::RateLimited {
            model: model.into(),
            retry_after: retry_after.and_then(|v| parse_retry_after(v, SystemTime::now())),
        };
    }
    if status >= 500 {
        return ModelError::Server { model: model.into(), status, message };
    }
    if is_context_length_error(body, &message) {
        return ModelError::ContextLength { model: model.into(), message };
    }
    let hint = match status {
        401 | 403 => " (check the API key in the provider's environment variable)",
        404 => " (check the model name and the provider's base_url)",
        _ => "",
    };
    ModelError::Rejected { model: model.into(), status, message: format!("{message}{hint}") }
}

/// Parses a Retry-After value: delay seconds (`"2"`, `"1.5"`) or an HTTP-date relative to `now`.
pub fn parse_retry_after(value: &str, now: SystemTime) -> Option<Duration> {
    let value = value.trim();
    if let Ok(secs) = value.parse::<f64>() {
        return (secs.is_finite() && secs >= 0.0).then(|| Duration::from_secs_f64(secs));
    }
    let at = httpdate::parse_http_date(value).ok()?;
    Some(at.duration_since(now).unwrap_or(Duration::ZERO))
}

/// The provider's human-readable error message from an error body (OpenAI, Anthropic, Gemini and
/// Ollama shapes), or the body itself, shortened.
pub fn provider_error_message(body: &str) -> String {
    let trimmed = body.trim();
    if trimmed.is_empty() {
        return "(empty body)".into();
    }
    if let Ok(json) = serde_json::from_str::<Value>(trimmed) {
        let json = match &json {
            // Gemini's streaming errors sometimes arrive as a one-element array.
            Value::Array(items) if items.len() == 1 => &items[0],
            other => other,
        };
        if let Some(msg) = json.pointer("/error/message").and_then(Value::as_str) {
            return msg.to_string();
        }
        if let Some(msg) = json.get("error").and_then(Value::as_str) {
            return msg.to_string();
        }
        if let Some(msg) = json.get("message").and_then(Value::as_str) {
            return msg.to_string();
        }
        if let Some(msg) = json.get("detail").and_then(Value::as_str) {
            return msg.to_string();
        }
    }
    truncate(trimmed, 500)
}

/// True when an error body says the prompt does not fit the context window.
fn is_context_length_error(body: &str, message: &str) -> bool {
    if let Ok(json) = serde_json::from_str::<Value>(body) {
        if json.pointer("/error/code").and_then(Value::as_str) == Some("context_length_exceeded") {
            return true;
        }
    }
    let m = message.to_ascii_lowercase();
    m.contains("context_length_exceeded")
        || m.contains("maximum context length")
        || m.contains("context window")
        || m.contains("prompt is too long")
        || m.contains("exceeds the maximum number of tokens")
        || (m.contains("token count") && m.contains("exceeds"))
}

/// Cuts `s` to at most `max` characters, marking the cut.
pub(crate) fn truncate(s: &str, max: usize) -> String {
    match s.char_indices().nth(max) {
        Some((idx, _)) => format!("{}…", &s[..idx]),
        None => s.to_string(),
    }
}

/// Joins a base URL and a path with exactly one slash.
pub(crate) fn join_url(base: &str, path: &str) -> String {
    format!("{}/{}", base.trim_end_matches('/'), path.trim_start_matches('/'))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn retry_after_seconds_and_dates() {
        let now = SystemTime::UNIX_EPOCH + Duration::from_secs(1_700_000_000);
        assert_eq!(parse_retry_after("3", now), Some(Duration::from_secs(3)));
        assert_eq!(parse_retry_after(" 1.5 ", now), Some(Duration::from_millis(1500)));
        let later = httpdate::fmt_http_date(now + Duration::from_secs(10));
        assert_eq!(parse_retry_after(&later, now), Some(Duration::from_secs(10)));
        let earlier = httpdate::fmt_http_date(now - Duration::from_secs(10));
        assert_eq!(parse_retry_after(&earlier, now), Some(Duration::ZERO));
        assert_eq!(parse_retry_after("soon", now), None);
        assert_eq!(parse_retry_after("-1", now), None);
    }

    #[test]
    fn statuses_map_to_errors() {
        let e = error_from_status("m", 429, Some("2"), "{}");
        assert_eq!(
            e,
            ModelError::RateLimited { model: "m".into(), retry_after: Some(Duration::from_secs(2)) }
        );
        assert!(matches!(error_from_status("m", 503, None, "busy"), ModelError::Server { status: 503, .. }));
        let e = error_from_status("m", 401, None, r#"{"error":{"message":"Incorrect API key"}}"#);
        match e {
            ModelError::Rejected { status: 401, message, .. } => {
                assert!(message.contains("Incorrect API key"))
            }
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn context_length_errors_are_recognised() {
        let openai = r#"{"error":{"message":"This model's maximum context length is 8192 tokens","code":"context_length_exceeded"}}"#;
        let anthropic = r#"{"type":"error","error":{"type":"invalid_request_error","message":"prompt is too long: 210000 tokens > 200000 maximum"}}"#;
        let gemini = r#"{"error":{"code":400,"message":"The input token count (1200000) exceeds the maximum number of tokens allowed (1048576).","status":"INVALID_ARGUMENT"}}"#;
        for body in [openai, anthropic, gemini] {
            assert!(
                matches!(error_from_status("m", 400, None, body), ModelError::ContextLength { .. }),
                "{body}"
            );
        }
    }

    #[test]
    fn secrets_are_not_printed() {
        assert_eq!(format!("{:?}", Secret::new("sk-123")), "Secret(***)");
    }
}

/// Where and how to reach one provider model.
#[derive(Debug, Clone)]
pub struct Endpoint {
    /// The model string VANA knows it by, e.g. `openai/gpt-4.1-mini`.
    pub name: String,
    /// The provider's model id, e.g. `gpt-4.1-mini`.
    pub model_id: String,
    /// Base URL of the API (see each provider for what it includes).
    pub base_url: String,
    /// API key, when the provider needs one.
    pub api_key: Option<Secret>,
    /// Shared client and deadline.
    pub http: HttpClient,
}
