//! Retries, backoff, Retry-After and fallbacks, over real HTTP against scripted servers, and the
//! retrying model inside the runtime.

use crate::common;

use async_trait::async_trait;
use common::*;
use futures::StreamExt;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};
use vana_core::{LlmAgent, Outcome, Runner};
use vana_core::{LlmRequest, LlmResponseStream, Model, ModelError, ModelResolver};
use vana_models::{ProviderConfig, ResilientModel, RetryPolicy};
use vana_testkit::{runs, MemoryStore, ScriptedError, ScriptedModel, ScriptedServer, ScriptedTurn};

#[tokio::test]
async fn rate_limit_honours_retry_after_then_succeeds() {
    let server = ScriptedServer::start(vec![
        ScriptedTurn::http(429).with_retry_after("1"),
        ScriptedTurn::text("after the wait"),
    ])
    .await
    .unwrap();
    let reg = registry(config_for(&server));
    let model = reg.resolve("openai/gpt-4.1-mini").unwrap();
    let started = Instant::now();
    let (partials, fin) = generate(model.as_ref(), ask("hi"), true).await.unwrap();
    let waited = started.elapsed();
    assert_eq!(partial_text(&partials), "after the wait");
    assert_eq!(fin.content.unwrap().text(), "after the wait");
    assert!(waited >= Duration::from_millis(950), "Retry-After: 1 must be honoured, waited {waited:?}");
    assert!(waited < Duration::from_secs(5), "waited {waited:?}");
    assert_eq!(server.request_count(), 2);
}

#[tokio::test]
async fn server_errors_are_retried() {
    let server = ScriptedServer::start(vec![
        ScriptedTurn::http(503),
        ScriptedTurn::http(503),
        ScriptedTurn::text("third time lucky"),
    ])
    .await
    .unwrap();
    let reg = registry(config_for(&server));
    let model = reg.resolve("gemini-2.5-flash").unwrap();
    let (_, fin) = generate(model.as_ref(), ask("hi"), false).await.unwrap();
    assert_eq!(fin.content.unwrap().text(), "third time lucky");
    assert_eq!(server.request_count(), 3);
}

#[tokio::test]
async fn timeouts_are_retried() {
    let server = ScriptedServer::start(vec![
        ScriptedTurn::text("too late").with_delay(Duration::from_millis(2500)),
        ScriptedTurn::text("in time"),
    ])
    .await
    .unwrap();
    let mut cfg = config_for(&server);
    cfg.request_timeout_secs = 1;
    let reg = registry(cfg);
    let model = reg.resolve("anthropic/claude-sonnet-4-5").unwrap();
    let (_, fin) = generate(model.as_ref(), ask("hi"), false).await.unwrap();
    assert_eq!(fin.content.unwrap().text(), "in time");
    assert_eq!(server.request_count(), 2);
}

/// Two servers: the primary (openai) on `a`, the fallback (anthropic) on `b`.
fn two_server_registry(a: &ScriptedServer, b: &ScriptedServer) -> vana_models::ModelRegistry {
    let mut cfg = config_for(a);
    cfg.anthropic = ProviderConfig {
        base_url: Some(b.anthropic_base_url()),
        api_key_env: Some("TEST_ANTHROPIC_KEY".into()),
    };
    cfg.fallbacks = vec!["anthropic/claude-sonnet-4-5".into()];
    registry(cfg)
}

#[tokio::test]
async fn falls_back_after_retries() {
    let a = ScriptedServer::start(vec![
        ScriptedTurn::http(500),
        ScriptedTurn::http(500),
        ScriptedTurn::http(500),
    ])
    .await
    .unwrap();
    let b = ScriptedServer::start(vec![ScriptedTurn::text("from the fallback")]).await.unwrap();
    let reg = two_server_registry(&a, &b);
    let model = reg.resolve("openai/gpt-4.1-mini").unwrap();
    assert_eq!(model.name(), "openai/gpt-4.1-mini");
    let (_, fin) = generate(model.as_ref(), ask("hi"), true).await.unwrap();
    assert_eq!(fin.content.unwrap().text(), "from the fallback");
    assert_eq!(a.request_count(), 3, "the primary is tried max_attempts times");
    assert_eq!(b.request_count(), 1);
}

#[tokio::test]
async fn non_retryable_error_goes_straight_to_fallback() {
    let a =
        ScriptedServer::start(vec![ScriptedTurn::http(401).with_body(r#"{"error":{"message":"bad key"}}"#)])
            .await
            .unwrap();
    let b = ScriptedServer::start(vec![ScriptedTurn::text("fallback answer")]).await.unwrap();
    let reg = two_server_registry(&a, &b);
    let model = reg.resolve("openai/gpt-4.1-mini").unwrap();
    let (_, fin) = generate(model.as_ref(), ask("hi"), false).await.unwrap();
    assert_eq!(fin.content.unwrap().text(), "fallback answer");
    assert_eq!(a.request_count(), 1, "401 is not retried");
    assert_eq!(b.request_count(), 1);
}

#[tokio::test]
async fn final_error_names_every_model_tried() {
    let a = ScriptedServer::start(vec![
        ScriptedTurn::http(500),
        ScriptedTurn::http(500),
        ScriptedTurn::http(500),
    ])
    .await
    .unwrap();
    let b = ScriptedServer::start(vec![ScriptedTurn::http(401)]).await.unwrap();
    let reg = two_server_registry(&a, &b);
    let model = reg.resolve("openai/gpt-4.1-mini").unwrap();
    let err = generate(model.as_ref(), ask("hi"), false).await.unwrap_err();
    let msg = err.to_string();
    assert!(matches!(err, ModelError::Rejected { status: 401, .. }), "{err:?}");
    assert!(msg.contains("all 2 models failed"), "{msg}");
    assert!(msg.contains("[openai/gpt-4.1-mini: server error 500"), "{msg}");
    assert!(msg.contains("(3 attempts)"), "{msg}");
    assert!(msg.contains("[anthropic/claude-sonnet-4-5: request rejected (401)"), "{msg}");
    assert_eq!(a.request_count(), 3);
    assert_eq!(b.request_count(), 1);
}

#[tokio::test]
async fn unreachable_provider_is_a_transport_error() {
    // Bind then drop a listener to get a port nothing listens on.
    let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let server = ScriptedServer::start(vec![]).await.unwrap();
    let mut cfg = config_for(&server);
    cfg.openai.base_url = Some(format!("http://127.0.0.1:{port}/v1"));
    cfg.retry.max_attempts = 2;
    let reg = registry(cfg);
    let err =
        generate(reg.resolve("openai/gpt-4.1-mini").unwrap().as_ref(), ask("hi"), false).await.unwrap_err();
    assert!(matches!(err, ModelError::Transport { .. }), "{err:?}");
}

/// A model that yields one chunk then fails, counting its calls.
struct FailsMidStream(AtomicUsize);

#[async_trait]
impl Model for FailsMidStream {
    fn name(&self) -> &str {
        "mid-stream"
    }
    async fn generate(&self, _req: Arc<LlmRequest>, _stream: bool) -> Result<LlmResponseStream, ModelError> {
        self.0.fetch_add(1, Ordering::SeqCst);
        let items = vec![
            Ok(vana_core::LlmResponse {
                content: Some(vana_core::Content::model_text("partial ")),
                partial: true,
                ..Default::default()
            }),
            Err(ModelError::Server {
                model: "mid-stream".into(),
                status: 502,
                message: "connection reset".into(),
            }),
        ];
        Ok(futures::stream::iter(items).boxed())
    }
}

#[tokio::test]
async fn errors_after_the_first_chunk_pass_through() {
    let flaky = Arc::new(FailsMidStream(AtomicUsize::new(0)));
    let fallback = ScriptedModel::named("fallback", vec![ScriptedTurn::text("unused")]);
    let policy = RetryPolicy {
        max_attempts: 3,
        initial_backoff: Duration::from_millis(1),
        max_backoff: Duration::from_millis(5),
    };
    let model = ResilientModel::new(vec![flaky.clone(), Arc::new(fallback.clone())], policy).unwrap();
    let mut s = model.generate(ask("hi").into(), true).await.unwrap();
    assert!(s.next().await.unwrap().unwrap().partial);
    assert!(matches!(s.next().await.unwrap(), Err(ModelError::Server { status: 502, .. })));
    assert!(s.next().await.is_none());
    assert_eq!(flaky.0.load(Ordering::SeqCst), 1, "no retry once output was streamed");
    assert!(fallback.requests().is_empty(), "no fallback once output was streamed");
}

#[tokio::test]
async fn scripted_errors_drive_retries_in_process() {
    let policy = RetryPolicy {
        max_attempts: 3,
        initial_backoff: Duration::from_millis(1),
        max_backoff: Duration::from_millis(50),
    };
    let scripted = ScriptedModel::new(vec![
        ScriptedTurn::error(ScriptedError::RateLimited { retry_after_secs: Some(0.02) }),
        ScriptedTurn::text("ok"),
    ]);
    let model = ResilientModel::new(vec![Arc::new(scripted.clone())], policy).unwrap();
    let (_, fin) = generate(&model, ask("hi"), false).await.unwrap();
    assert_eq!(fin.content.unwrap().text(), "ok");
    assert_eq!(scripted.requests().len(), 2);

    // A non-retryable error moves to the next model without retrying.
    let unconfigured =
        ScriptedModel::new(vec![ScriptedTurn::error(ScriptedError::NotConfigured { message: "x".into() })]);
    let other = ScriptedModel::new(vec![ScriptedTurn::text("fallback")]);
    let model = ResilientModel::new(vec![Arc::new(unconfigured), Arc::new(other.clone())], policy).unwrap();
    let (_, fin) = generate(&model, ask("hi"), false).await.unwrap();
    assert_eq!(fin.content.unwrap().text(), "fallback", "NotConfigured moves to the next model");
}

/// A runner over the in-memory store (the runtime as a face runs it).
fn in_runner(agent: Arc<dyn vana_core::Agent>) -> Runner {
    Runner::new(agent, Arc::new(MemoryStore::new()))
}

/// Retries fast enough for a test.
fn fast_retries() -> RetryPolicy {
    RetryPolicy {
        max_attempts: 3,
        initial_backoff: std::time::Duration::from_millis(5),
        max_backoff: std::time::Duration::from_secs(5),
    }
}

#[tokio::test]
async fn a_429_with_retry_after_is_retried_after_the_wait_then_succeeds() {
    let m = Arc::new(ScriptedModel::named(
        "m",
        vec![
            ScriptedTurn::error(ScriptedError::RateLimited { retry_after_secs: Some(0.3) }),
            ScriptedTurn::text("after the wait"),
        ],
    ));
    let resilient = Arc::new(ResilientModel::new(vec![m.clone()], fast_retries()).unwrap());
    let agent = LlmAgent::builder("vana", resilient).build();
    let started = std::time::Instant::now();
    let (_, events, outcome) = runs::run(&in_runner(agent), "hi").await;
    assert_eq!(outcome, Outcome::Done);
    assert!(started.elapsed() >= std::time::Duration::from_millis(300), "Retry-After was honoured");
    assert_eq!(m.requests().len(), 2);
    assert!(!events.iter().any(|e| e.is_error()));
    assert_eq!(runs::finals(&events), vec![("vana".into(), "after the wait".into())]);
}

#[tokio::test]
async fn the_fallback_model_answers_when_the_primary_keeps_failing() {
    let primary = Arc::new(ScriptedModel::repeating(
        "primary",
        vec![ScriptedTurn::error(ScriptedError::Server { status: 503, message: "overloaded".into() })],
    ));
    let fallback = Arc::new(ScriptedModel::named("fallback", vec![ScriptedTurn::text("from the fallback")]));
    let resilient =
        Arc::new(ResilientModel::new(vec![primary.clone(), fallback.clone()], fast_retries()).unwrap());
    let agent = LlmAgent::builder("vana", resilient).build();
    let (_, events, outcome) = runs::run(&in_runner(agent), "hi").await;
    assert_eq!(outcome, Outcome::Done);
    assert_eq!(primary.requests().len(), 3, "the primary was retried up to max_attempts");
    assert_eq!(fallback.requests().len(), 1);
    assert_eq!(runs::finals(&events), vec![("vana".into(), "from the fallback".into())]);
}
