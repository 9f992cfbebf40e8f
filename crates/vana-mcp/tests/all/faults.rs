//! The failures peers get wrong: dead servers, silent servers, servers that write garbage,
//! missing credentials, HTTP servers that restart. None may hang the agent.

use crate::common;

use async_trait::async_trait;
use common::{manager, only};
use serde_json::{json, Value};
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio_util::sync::CancellationToken;
use vana_core::{Runner, Tool, ToolContext, ToolError, ToolOutput};

fn cancel() -> CancellationToken {
    CancellationToken::new()
}

#[tokio::test]
async fn a_server_killed_mid_session_is_restarted_and_the_next_call_succeeds() {
    let m = manager("servers:\n  everything:\n    command: mcp-server-everything\n    args: [stdio]\n");
    let s = only(&m, "everything");
    s.call("echo", json!({"message": "one"}), &cancel()).await.unwrap();
    let pid = s.pid().await.expect("a stdio server runs");
    unsafe {
        libc::kill(-(pid as i32), libc::SIGKILL);
    }
    tokio::time::sleep(Duration::from_millis(100)).await;
    let out = s.call("echo", json!({"message": "two"}), &cancel()).await.unwrap();
    assert!(out.response["text"].as_str().unwrap().contains("two"));
    let new_pid = s.pid().await.unwrap();
    assert_ne!(pid, new_pid, "a new process serves the call");
    assert!(s.status().last_error.unwrap_or_default().contains("connection lost"), "{:?}", s.status());

    // Killed right before a call, without a pause: still answered, by a fresh process.
    unsafe {
        libc::kill(-(new_pid as i32), libc::SIGKILL);
    }
    let out = s.call("echo", json!({"message": "three"}), &cancel()).await.unwrap();
    assert!(out.response["text"].as_str().unwrap().contains("three"));
    m.shutdown().await;
}

#[tokio::test]
async fn a_call_the_server_never_answers_fails_at_its_deadline() {
    let m = manager(
        "servers:\n  everything:\n    command: mcp-server-everything\n    args: [stdio]\n    timeouts: {call_secs: 1}\n",
    );
    let s = only(&m, "everything");
    s.list_tools().await.unwrap();
    let t = Instant::now();
    let err = s
        .call("trigger-long-running-operation", json!({"duration": 60, "steps": 2}), &cancel())
        .await
        .unwrap_err();
    let took = t.elapsed();
    assert_eq!(err, ToolError::Timeout(Duration::from_secs(1)));
    assert!(took < Duration::from_secs(5), "took {took:?}");
    // The server itself is fine: the next call works.
    s.call("echo", json!({"message": "still here"}), &cancel()).await.unwrap();
    m.shutdown().await;
}

#[tokio::test]
async fn a_server_that_never_completes_the_handshake_fails_at_the_connect_deadline() {
    let m = manager(
        "servers:\n  mute:\n    command: sleep\n    args: [\"600\"]\n    timeouts: {connect_secs: 1}\n",
    );
    let t = Instant::now();
    let err = only(&m, "mute").call("anything", json!({}), &cancel()).await.unwrap_err();
    assert!(t.elapsed() < Duration::from_secs(5), "took {:?}", t.elapsed());
    assert!(err.to_string().contains("no MCP handshake within 1s"), "{err}");
}

#[tokio::test]
async fn a_server_writing_garbage_to_stdout_gets_a_clear_error() {
    let m = manager(
        "servers:\n  noisy:\n    command: sh\n    args: [-c, 'while true; do echo \"Server listening on port 3000\"; sleep 0.2; done']\n    timeouts: {connect_secs: 1}\n",
    );
    let err = only(&m, "noisy").call("anything", json!({}), &cancel()).await.unwrap_err().to_string();
    assert!(err.contains("not JSON-RPC"), "{err}");
    assert!(err.contains("Server listening on port 3000"), "{err}");
}

#[tokio::test]
async fn a_server_that_dies_at_start_says_why_and_the_breaker_then_fails_fast() {
    let m = manager(
        "servers:\n  broken:\n    command: sh\n    args: [-c, 'echo \"fatal: DATABASE_URL is not a valid URL\" >&2; exit 3']\n",
    );
    let s = only(&m, "broken");
    let err = s.call("anything", json!({}), &cancel()).await.unwrap_err().to_string();
    assert!(err.contains("DATABASE_URL is not a valid URL"), "{err}");
    assert!(err.contains("exit status: 3"), "{err}");
    let t = Instant::now();
    let err = s.call("anything", json!({}), &cancel()).await.unwrap_err().to_string();
    assert!(t.elapsed() < Duration::from_millis(50), "the breaker must answer at once");
    assert!(err.contains("is down") && err.contains("next reconnect attempt"), "{err}");
    let st = s.status();
    assert_eq!(st.state, "down");
    assert_eq!(st.errors, 2);
}

#[tokio::test]
async fn a_missing_env_var_is_named_and_nothing_starts() {
    let m = manager(
        "servers:\n  search:\n    command: mcp-server-everything\n    env: {API_KEY: \"${VANA_TEST_UNSET_SEARCH_KEY}\"}\n    required_env: [VANA_TEST_UNSET_SEARCH_TOKEN]\n",
    );
    let s = only(&m, "search");
    let st = s.status();
    assert_eq!(st.state, "needs_key");
    assert_eq!(st.missing_env, vec!["VANA_TEST_UNSET_SEARCH_TOKEN", "VANA_TEST_UNSET_SEARCH_KEY"]);
    assert_eq!(
        st.reason.as_deref(),
        Some("set VANA_TEST_UNSET_SEARCH_TOKEN and VANA_TEST_UNSET_SEARCH_KEY to enable it")
    );
    let err = s.call("echo", json!({}), &cancel()).await.unwrap_err();
    assert!(
        matches!(&err, ToolError::Unavailable(m) if m.contains("VANA_TEST_UNSET_SEARCH_TOKEN")),
        "{err:?}"
    );
    assert!(s.pid().await.is_none());
    assert!(m.known_tools(&s).is_empty(), "agents get no tools from it, and keep their others");
}

/// A small real backend for VANA's MCP server: one tool that adds numbers.
struct Adder;

#[async_trait]
impl Tool for Adder {
    fn name(&self) -> &str {
        "add"
    }
    fn description(&self) -> &str {
        "Adds two numbers"
    }
    fn parameters(&self) -> Value {
        json!({"type": "object", "properties": {"a": {"type": "number"}, "b": {"type": "number"}}, "required": ["a", "b"]})
    }
    async fn call(&self, args: Value, _ctx: ToolContext) -> Result<ToolOutput, ToolError> {
        let n = |k: &str| {
            args[k].as_f64().ok_or_else(|| ToolError::InvalidArgs(format!("`{k}` must be a number")))
        };
        Ok(ToolOutput::json(json!({"sum": n("a")? + n("b")?})))
    }
}

struct Backend;

#[async_trait]
impl vana_mcp::server::Backend for Backend {
    fn tools(&self) -> Vec<Arc<dyn Tool>> {
        vec![Arc::new(Adder)]
    }
    fn agents(&self) -> Vec<(String, String)> {
        Vec::new()
    }
    async fn runner(&self, agent: &str) -> Result<Runner, String> {
        Err(format!("no agent {agent}"))
    }
    fn policy(&self) -> vana_core::ToolPolicy {
        Default::default()
    }
    async fn audit(&self, _entry: vana_mcp::server::AuditEntry) {}
}

/// Serves VANA's MCP endpoint on `port` (0: any), requiring a bearer token; returns the port.
async fn serve_http(port: u16, stop: CancellationToken) -> u16 {
    let router = vana_mcp::server::http_router(Arc::new(Backend)).layer(axum::middleware::from_fn(
        |req: axum::extract::Request, next: axum::middleware::Next| async move {
            let ok =
                req.headers().get("authorization").and_then(|v| v.to_str().ok()) == Some("Bearer s3cret");
            if ok {
                let mut req = req;
                req.extensions_mut().insert(vana_mcp::server::Caller::with_key("tester", "k1", "http"));
                next.run(req).await
            } else {
                axum::response::IntoResponse::into_response(axum::http::StatusCode::UNAUTHORIZED)
            }
        },
    ));
    let listener = tokio::net::TcpListener::bind(("127.0.0.1", port)).await.unwrap();
    let port = listener.local_addr().unwrap().port();
    tokio::spawn(async move {
        let _ = axum::serve(listener, router).with_graceful_shutdown(stop.cancelled_owned()).await;
    });
    port
}

#[tokio::test]
async fn streamable_http_sends_headers_from_env_and_survives_a_server_restart() {
    let stop = CancellationToken::new();
    let port = serve_http(0, stop.clone()).await;
    std::env::set_var("VANA_TEST_MCP_TOKEN", "s3cret");
    let yaml = format!(
        "servers:\n  remote:\n    url: http://127.0.0.1:{port}/mcp\n    headers: {{Authorization: \"Bearer ${{VANA_TEST_MCP_TOKEN}}\"}}\n    timeouts: {{connect_secs: 5, call_secs: 5}}\n  wrong:\n    url: http://127.0.0.1:{port}/mcp\n    headers: {{Authorization: \"Bearer nope\"}}\n    timeouts: {{connect_secs: 5}}\n"
    );
    let m = manager(&yaml);
    let s = only(&m, "remote");
    let tools = m.tools(&s).await.unwrap();
    assert_eq!(tools.iter().map(|t| t.name()).collect::<Vec<_>>(), vec!["remote__add"]);
    let out = s.call("add", json!({"a": 2, "b": 40}), &cancel()).await.unwrap();
    assert_eq!(out.response["structuredContent"]["sum"], 42.0);
    // A tool's own error is an isError result, and reaches the model as an error.
    let err = s.call("add", json!({"a": "x", "b": 1}), &cancel()).await.unwrap_err();
    assert!(err.to_string().contains("`a` must be a number"), "{err}");

    let err = only(&m, "wrong").call("add", json!({"a": 1, "b": 1}), &cancel()).await.unwrap_err();
    assert!(
        err.to_string().contains("401") || err.to_string().to_lowercase().contains("unauthorized"),
        "{err}"
    );

    // The server restarts (new process, sessions lost): the next call reconnects.
    stop.cancel();
    tokio::time::sleep(Duration::from_millis(200)).await;
    let stop2 = CancellationToken::new();
    serve_http(port, stop2.clone()).await;
    let out = s.call("add", json!({"a": 1, "b": 2}), &cancel()).await.unwrap();
    assert_eq!(out.response["structuredContent"]["sum"], 3.0);
    stop2.cancel();
}
