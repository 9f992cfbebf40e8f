//! HTTP plumbing shared by the providers: the client, API keys, and HTTP status to `ModelError`
//! (the mapping itself lives in `vana_scripted::status`, shared with the scripted model).

use serde_json::Value;
use std::fmt;
use std::time::Duration;
use vana_core::ModelError;
pub(crate) use vana_scripted::status::truncate;
pub use vana_scripted::status::{error_from_status, parse_retry_after, provider_error_message};

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

/// Joins a base URL and a path with exactly one slash.
pub(crate) fn join_url(base: &str, path: &str) -> String {
    format!("{}/{}", base.trim_end_matches('/'), path.trim_start_matches('/'))
}

#[cfg(test)]
mod tests {
    use super::*;

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
