//! An MCP session belongs to the key that opened it: another key holder who learns the session
//! id gets 404 (as for a session that does not exist), the owner keeps using it.

use crate::common;

use reqwest::header::{HeaderMap, HeaderValue, ACCEPT, CONTENT_TYPE};
use serde_json::{json, Value};

fn mcp_headers(session: Option<&str>) -> HeaderMap {
    let mut h = HeaderMap::new();
    h.insert(CONTENT_TYPE, HeaderValue::from_static("application/json"));
    h.insert(ACCEPT, HeaderValue::from_static("application/json, text/event-stream"));
    h.insert("mcp-protocol-version", HeaderValue::from_static("2025-06-18"));
    if let Some(s) = session {
        h.insert("mcp-session-id", HeaderValue::from_str(s).unwrap());
    }
    h
}

async fn post(s: &common::Server, key: &str, session: Option<&str>, body: Value) -> reqwest::Response {
    s.http
        .post(format!("{}/mcp", s.base))
        .bearer_auth(key)
        .headers(mcp_headers(session))
        .json(&body)
        .send()
        .await
        .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_session_opened_with_one_key_is_not_found_for_another() {
    let s = common::start(common::Opts::default()).await;
    let init = json!({"jsonrpc": "2.0", "id": 1, "method": "initialize", "params": {
        "protocolVersion": "2025-06-18", "capabilities": {}, "clientInfo": {"name": "test", "version": "1"}}});
    let resp = post(&s, &s.key, None, init).await;
    assert_eq!(resp.status(), 200);
    let session = resp.headers().get("mcp-session-id").expect("a session id").to_str().unwrap().to_string();
    drop(resp.text().await);
    let initialized = json!({"jsonrpc": "2.0", "method": "notifications/initialized"});
    assert!(post(&s, &s.key, Some(&session), initialized).await.status().is_success());

    let list = json!({"jsonrpc": "2.0", "id": 2, "method": "tools/list"});
    let stolen = post(&s, &s.bob_key, Some(&session), list.clone()).await;
    assert_eq!(stolen.status(), 404, "bob cannot use alice's session");
    let body = stolen.text().await.unwrap();
    assert!(body.contains("unknown MCP session"), "{body}");

    let own = post(&s, &s.key, Some(&session), list).await;
    assert_eq!(own.status(), 200);
    let text = own.text().await.unwrap();
    assert!(text.contains("execute_sql_query"), "alice still lists the tools: {text}");
}
