//! Retries with exponential backoff and full jitter, then fallback to the next model.

use crate::config::RetryConfig;
use async_trait::async_trait;
use futures::StreamExt;
use std::sync::Arc;
use std::time::Duration;
use vana_core::{LlmRequest, LlmResponseStream, Model, ModelError};

/// How often and how patiently to retry one model.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RetryPolicy {
    /// Attempts per model, the first included (at least 1).
    pub max_attempts: u32,
    /// Upper bound of the first backoff; doubles on every retry.
    pub initial_backoff: Duration,
    /// Cap of any wait, Retry-After included.
    pub max_backoff: Duration,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        RetryPolicy::from(&RetryConfig::default())
    }
}

impl From<&RetryConfig> for RetryPolicy {
    fn from(c: &RetryConfig) -> Self {
        RetryPolicy {
            max_attempts: c.max_attempts.max(1),
            initial_backoff: Duration::from_millis(c.initial_backoff_ms),
            max_backoff: Duration::from_millis(c.max_backoff_ms),
        }
    }
}

impl RetryPolicy {
    /// The wait before retry number `retry` (1 = first retry) after `error`: the Retry-After
    /// when the provider sent one, else a random delay up to `initial * 2^(retry-1)`; both capped.
    pub fn delay(&self, retry: u32, error: &ModelError) -> Duration {
        if let ModelError::RateLimited { retry_after: Some(after), .. } = error {
            return (*after).min(self.max_backoff);
        }
        let factor = 2u32.saturating_pow(retry.saturating_sub(1).min(30));
        let ceiling = self.initial_backoff.saturating_mul(factor).min(self.max_backoff);
        let ceiling_ms = ceiling.as_millis() as u64;
        if ceiling_ms == 0 {
            return Duration::ZERO;
        }
        Duration::from_millis(rand::random_range(0..=ceiling_ms))
    }
}

/// A `Model` over an ordered list of models: each is retried on retryable errors (429, 5xx,
/// timeout, connection failure) up to `max_attempts`, then the next one is tried; other errors
/// move straight to the next. Streams are only retried before their first chunk.
pub struct ResilientModel {
    models: Vec<Arc<dyn Model>>,
    policy: RetryPolicy,
}

impl ResilientModel {
    /// Wraps `models` (the primary first, then the fallbacks); the list must not be empty.
    pub fn new(models: Vec<Arc<dyn Model>>, policy: RetryPolicy) -> Result<Self, ModelError> {
        if models.is_empty() {
            return Err(ModelError::NotConfigured("no model to call: the model list is empty".into()));
        }
        Ok(ResilientModel { models, policy })
    }

    /// The wrapped models, primary first.
    pub fn models(&self) -> &[Arc<dyn Model>] {
        &self.models
    }

    /// One attempt: the stream with its first item already received, so errors before any
    /// output can be retried.
    async fn attempt(
        model: &dyn Model,
        request: Arc<LlmRequest>,
        stream: bool,
    ) -> Result<LlmResponseStream, ModelError> {
        let mut s = model.generate(request, stream).await?;
        match s.next().await {
            Some(Ok(first)) => Ok(futures::stream::once(async move { Ok(first) }).chain(s).boxed()),
            Some(Err(e)) => Err(e),
            None => Err(ModelError::Protocol {
                model: model.name().to_string(),
                message: "the model returned an empty response stream".into(),
            }),
        }
    }
}

/// One model's outcome, for the final error.
struct Failure {
    model: String,
    attempts: u32,
    error: ModelError,
}

#[async_trait]
impl Model for ResilientModel {
    fn name(&self) -> &str {
        self.models[0].name()
    }

    async fn generate(
        &self,
        request: Arc<LlmRequest>,
        stream: bool,
    ) -> Result<LlmResponseStream, ModelError> {
        let mut failures: Vec<Failure> = Vec::new();
        for (i, model) in self.models.iter().enumerate() {
            let mut attempt = 1;
            loop {
                match Self::attempt(model.as_ref(), request.clone(), stream).await {
                    Ok(s) => {
                        if i > 0 {
                            tracing::warn!(
                                model = model.name(),
                                primary = self.name(),
                                "answered by fallback model"
                            );
                        }
                        return Ok(s);
                    }
                    Err(ModelError::Cancelled) => return Err(ModelError::Cancelled),
                    Err(e) if e.is_retryable() && attempt < self.policy.max_attempts => {
                        let wait = self.policy.delay(attempt, &e);
                        tracing::warn!(model = model.name(), attempt, wait_ms = wait.as_millis() as u64,
                            error = %e, "model call failed; retrying");
                        tokio::time::sleep(wait).await;
                        attempt += 1;
                    }
                    Err(e) => {
                        tracing::warn!(model = model.name(), attempt, error = %e, "model failed; trying the next fallback");
                        failures.push(Failure {
                            model: model.name().to_string(),
                            attempts: attempt,
                            error: e,
                        });
                        break;
                    }
                }
            }
        }
        Err(combine(failures))
    }
}

/// The final error: the last model's error, with every model tried and why it failed appended.
fn combine(mut failures: Vec<Failure>) -> ModelError {
    let Some(last) = failures.pop() else {
        return ModelError::NotConfigured("no model was tried".into());
    };
    if failures.is_empty() {
        return last.error;
    }
    failures.push(last);
    let summary = format!(
        "all {} models failed: {}",
        failures.len(),
        failures
            .iter()
            .map(|f| {
                let plural = if f.attempts == 1 { "" } else { "s" };
                let error = f.error.to_string();
                let error = if error.contains(&f.model) { error } else { format!("{}: {error}", f.model) };
                format!("[{error} ({} attempt{plural})]", f.attempts)
            })
            .collect::<Vec<_>>()
            .join("; ")
    );
    let last = failures.pop().map(|f| f.error).unwrap_or(ModelError::Cancelled);
    match last {
        ModelError::RateLimited { model, retry_after } => {
            ModelError::RateLimited { model: format!("{model} — {summary}"), retry_after }
        }
        ModelError::Timeout { model, after } => {
            ModelError::Timeout { model: format!("{model} — {summary}"), after }
        }
        ModelError::Server { model, status, .. } => ModelError::Server { model, status, message: summary },
        ModelError::Transport { model, .. } => ModelError::Transport { model, message: summary },
        ModelError::Rejected { model, status, .. } => {
            ModelError::Rejected { model, status, message: summary }
        }
        ModelError::ContextLength { model, .. } => ModelError::ContextLength { model, message: summary },
        ModelError::Protocol { model, .. } => ModelError::Protocol { model, message: summary },
        ModelError::NotConfigured(_) => ModelError::NotConfigured(summary),
        ModelError::Cancelled => ModelError::Cancelled,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn delays_grow_jitter_and_honour_retry_after() {
        let p = RetryPolicy {
            max_attempts: 5,
            initial_backoff: Duration::from_millis(100),
            max_backoff: Duration::from_millis(250),
        };
        let server = ModelError::Server { model: "m".into(), status: 500, message: String::new() };
        for _ in 0..50 {
            assert!(p.delay(1, &server) <= Duration::from_millis(100));
            assert!(p.delay(2, &server) <= Duration::from_millis(200));
            assert!(p.delay(9, &server) <= Duration::from_millis(250));
        }
        let limited =
            ModelError::RateLimited { model: "m".into(), retry_after: Some(Duration::from_secs(9)) };
        assert_eq!(p.delay(1, &limited), Duration::from_millis(250));
        let limited =
            ModelError::RateLimited { model: "m".into(), retry_after: Some(Duration::from_millis(20)) };
        assert_eq!(p.delay(1, &limited), Duration::from_millis(20));
    }
}
