//! What a provider's HTTP failure means, shared by the real providers (crate `vana-models`) and
//! the scripted model (so a scripted `http` turn fails exactly as a provider would): the status
//! mapped to a `ModelError`, Retry-After parsed, the provider's message read from its error body.

use serde_json::Value;
use std::time::{Duration, SystemTime};
use vana_core::ModelError;

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
pub fn truncate(s: &str, max: usize) -> String {
    match s.char_indices().nth(max) {
        Some((idx, _)) => format!("{}…", &s[..idx]),
        None => s.to_string(),
    }
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
}
