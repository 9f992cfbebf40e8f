//! API tests against a real server on loopback: every endpoint and its error cases, with the
//! scripted model driving the agents.

use crate::common;

use common::{sse_data, start, Opts, Server, PNG};
use reqwest::Method;
use serde_json::{json, Value};
use std::time::Duration;
use vana_testkit::ScriptedTurn;

fn is_json_error(v: &Value) -> bool {
    v.get("error").is_some()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn catalog_health_docs_and_metrics() {
    let s = start(Opts::default()).await;
    let (st, apps) = s.get("/list-apps").await;
    assert_eq!(st, 200);
    let apps: Vec<String> = serde_json::from_value(apps).unwrap();
    for a in ["vana", "code_execution", "data_science", "helper"] {
        assert!(apps.contains(&a.to_string()), "{a} missing from {apps:?}");
    }
    let (_, agents) = s.get("/api/agents").await;
    let ce = agents.as_array().unwrap().iter().find(|a| a["name"] == "code_execution").unwrap();
    assert!(ce["description"].as_str().unwrap().contains("sandbox"), "{ce}");
    let (_, models) = s.get("/v1/models").await;
    assert_eq!(models["object"], "list");
    assert!(models["data"].as_array().unwrap().iter().any(|m| m["id"] == "helper"));
    let h = s.http.get(format!("{}/healthz", s.base)).send().await.unwrap();
    assert_eq!(h.status(), 200);
    let r = s.http.get(format!("{}/readyz", s.base)).send().await.unwrap();
    assert_eq!(r.status(), 200);
    assert_eq!(r.json::<Value>().await.unwrap()["store"], "ok");
    let doc: Value =
        s.http.get(format!("{}/openapi.json", s.base)).send().await.unwrap().json().await.unwrap();
    assert!(doc["paths"]["/run_sse"]["post"].is_object(), "openapi lacks /run_sse");
    assert!(doc["paths"]["/v1/chat/completions"]["post"].is_object());
    let docs = s.http.get(format!("{}/docs/", s.base)).send().await.unwrap();
    assert_eq!(docs.status(), 200);
    assert!(docs.text().await.unwrap().contains("swagger"), "Swagger UI page expected");
    let anonymous = s.http.get(format!("{}/metrics", s.base)).send().await.unwrap();
    assert_eq!(anonymous.status(), 401, "/metrics needs a key unless [metrics] public = true");
    let metrics = s.req(Method::GET, "/metrics").send().await.unwrap().text().await.unwrap();
    assert!(
        metrics.contains("vana_http_requests_total{route=\"/list-apps\",agent=\"\",status=\"200\"} 1"),
        "{metrics}"
    );
    assert!(metrics.contains("process_resident_memory_bytes "), "{metrics}");
    // Unknown paths are JSON 404s.
    let (st, v) = s.get("/no/such/thing").await;
    assert_eq!(st, 404);
    assert!(is_json_error(&v));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn missing_malformed_and_invalid_keys_are_refused() {
    let s = start(Opts::default()).await;
    let r = s.http.get(format!("{}/list-apps", s.base)).send().await.unwrap();
    assert_eq!(r.status(), 401);
    assert!(r.headers().get("www-authenticate").is_some());
    assert!(r.json::<Value>().await.unwrap()["error"].as_str().unwrap().contains("missing API key"));
    for bad in ["nonsense", "vana_0123456789ab_ffffffffffffffffffffffffffffffff"] {
        let r = s.http.get(format!("{}/list-apps", s.base)).bearer_auth(bad).send().await.unwrap();
        assert_eq!(r.status(), 401, "{bad}");
        assert!(is_json_error(&r.json().await.unwrap()));
    }
    // A real key with one character changed fails argon2 verification.
    let mut tampered = s.key.clone();
    let last = tampered.pop().unwrap();
    tampered.push(if last == '0' { '1' } else { '0' });
    let r = s.http.get(format!("{}/list-apps", s.base)).bearer_auth(&tampered).send().await.unwrap();
    assert_eq!(r.status(), 401);
    let (st, _) = s.get("/list-apps").await;
    assert_eq!(st, 200);
    // Auth failures are audited.
    let (_, found) = s.get("/audit?kind=auth_failure&limit=10").await;
    // With auth, users see only their own records; auth failures have no user.
    assert_eq!(found["records"].as_array().unwrap().len(), 0);
    let failures = s
        .stores
        .audit
        .audit_search(&vana_store::records::AuditQuery {
            kind: Some("auth_failure".into()),
            ..Default::default()
        })
        .await
        .unwrap();
    assert!(failures.len() >= 4, "{failures:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn sessions_crud_and_user_isolation() {
    let s = start(Opts::default()).await;
    let (st, created) = s.post("/apps/helper/users/alice/sessions", json!({"state": {"topic": "x"}})).await;
    assert_eq!(st, 200, "{created}");
    assert_eq!(created["state"]["topic"], "x");
    assert_eq!(created["appName"], "helper");
    let id = created["id"].as_str().unwrap().to_string();
    // Create with an id in the path, and with an empty body.
    let r = s.req(Method::POST, "/apps/helper/users/alice/sessions/my-session").send().await.unwrap();
    assert_eq!(r.status(), 200);
    let (st, dup) = s.post("/apps/helper/users/alice/sessions/my-session", json!({})).await;
    assert_eq!(st, 409, "{dup}");
    let (st, list) = s.get("/apps/helper/users/alice/sessions").await;
    assert_eq!(st, 200);
    assert_eq!(list.as_array().unwrap().len(), 2);
    let (st, got) = s.get(&format!("/apps/helper/users/alice/sessions/{id}")).await;
    assert_eq!(st, 200);
    assert_eq!(got["id"], id.as_str());
    assert!(got["events"].as_array().unwrap().is_empty());
    // Alice's key on bob's path, and bob's key on alice's session: 404 either way.
    let (st, v) = s.get("/apps/helper/users/bob/sessions").await;
    assert_eq!(st, 404, "{v}");
    let r = s
        .http
        .get(format!("{}/apps/helper/users/bob/sessions/{id}", s.base))
        .bearer_auth(&s.bob_key)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 404);
    let r = s
        .http
        .get(format!("{}/apps/helper/users/alice/sessions/{id}", s.base))
        .bearer_auth(&s.bob_key)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 404);
    let r = s
        .http
        .delete(format!("{}/apps/helper/users/bob/sessions/{id}", s.base))
        .bearer_auth(&s.bob_key)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 404);
    // Unknown app.
    let (st, v) = s.get("/apps/nosuch/users/alice/sessions").await;
    assert_eq!(st, 404);
    assert!(v["error"].as_str().unwrap().contains("unknown app"), "{v}");
    // Bad JSON on create.
    let r = s
        .req(Method::POST, "/apps/helper/users/alice/sessions")
        .header("content-type", "application/json")
        .body("{not json")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 400);
    assert!(is_json_error(&r.json().await.unwrap()));
    // Delete, then it is gone.
    let r = s.req(Method::DELETE, &format!("/apps/helper/users/alice/sessions/{id}")).send().await.unwrap();
    assert_eq!(r.status(), 204);
    let (st, _) = s.get(&format!("/apps/helper/users/alice/sessions/{id}")).await;
    assert_eq!(st, 404);
    let r = s.req(Method::DELETE, &format!("/apps/helper/users/alice/sessions/{id}")).send().await.unwrap();
    assert_eq!(r.status(), 404);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn run_returns_events_and_refuses_bad_requests() {
    let s = start(Opts::default()).await;
    let id = s.session("helper").await;
    s.model.push(ScriptedTurn::text("forty-two").with_usage(11, 3));
    let (st, events) =
        s.post("/run", Server::run_body("helper", &id, "what is six times seven?", false)).await;
    assert_eq!(st, 200, "{events}");
    let events = events.as_array().unwrap();
    // As ADK's runner: the user's own message is stored but not handed back.
    assert_eq!(events.len(), 1, "{events:?}");
    assert_eq!(events[0]["author"], "helper");
    assert_eq!(events[0]["content"]["parts"][0]["text"], "forty-two");
    assert_eq!(events[0]["usageMetadata"]["promptTokenCount"], 11);
    // Persisted: the session now holds both events, in ADK's Session shape.
    let (_, got) = s.get(&format!("/apps/helper/users/alice/sessions/{id}")).await;
    assert_eq!(got["events"].as_array().unwrap().len(), 2);
    assert_eq!(got["events"][0]["author"], "user");
    let mut keys: Vec<&str> = got.as_object().unwrap().keys().map(String::as_str).collect();
    keys.sort_unstable();
    assert_eq!(keys, ["appName", "events", "id", "lastUpdateTime", "state", "userId"]);
    // Malformed JSON, wrong type, missing field: 4xx JSON, never 500.
    for (body, ct) in [
        ("{\"appName\": ", "application/json"),
        ("[1,2]", "application/json"),
        ("{}", "application/json"),
        ("x", "text/plain"),
    ] {
        let r = s.req(Method::POST, "/run").header("content-type", ct).body(body).send().await.unwrap();
        let st = r.status().as_u16();
        assert!((400..500).contains(&st), "{body}: {st}");
        assert!(is_json_error(&r.json().await.unwrap()), "{body}");
    }
    // Oversized body: 413 JSON.
    let big = "x".repeat(100 * 1024);
    let r =
        s.req(Method::POST, "/run").json(&Server::run_body("helper", &id, &big, false)).send().await.unwrap();
    assert_eq!(r.status(), 413);
    assert!(r.json::<Value>().await.unwrap()["error"].as_str().unwrap().contains("too large"));
    // Unknown app, unknown session, another user's session.
    let (st, v) = s.post("/run", Server::run_body("nosuch", &id, "hi", false)).await;
    assert_eq!(st, 404, "{v}");
    let (st, _) = s.post("/run", Server::run_body("helper", "no-such-session", "hi", false)).await;
    assert_eq!(st, 404);
    let mut other = Server::run_body("helper", &id, "hi", false);
    other["userId"] = json!("bob");
    let (st, _) = s.post("/run", other).await;
    assert_eq!(st, 404);
    let r = s
        .http
        .post(format!("{}/run", s.base))
        .bearer_auth(&s.bob_key)
        .json(&{
            let mut b = Server::run_body("helper", &id, "hi", false);
            b["userId"] = json!("bob");
            b
        })
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 404, "bob must not run in alice's session");
    // Nothing of that reached the model: the script was used once.
    assert_eq!(s.model.requests().len(), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn run_sse_streams_token_events_to_an_sse_parser() {
    let s = start(Opts::default()).await;
    let id = s.session("helper").await;
    s.model.push(ScriptedTurn::text("The quick brown fox jumps over the lazy dog"));
    let r = s
        .req(Method::POST, "/run_sse")
        .json(&Server::run_body("helper", &id, "tell me", true))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    assert!(r.headers()["content-type"].to_str().unwrap().starts_with("text/event-stream"));
    let events: Vec<Value> = sse_data(r).await.iter().map(|d| serde_json::from_str(d).unwrap()).collect();
    let partial: Vec<&Value> = events.iter().filter(|e| e["partial"] == true).collect();
    assert!(partial.len() >= 2, "token-level partial events expected: {events:?}");
    let streamed: String =
        partial.iter().map(|e| e["content"]["parts"][0]["text"].as_str().unwrap_or("")).collect();
    assert_eq!(streamed, "The quick brown fox jumps over the lazy dog");
    let last = events.last().unwrap();
    assert!(last["partial"].is_null());
    assert_eq!(last["content"]["parts"][0]["text"], "The quick brown fox jumps over the lazy dog");
    // Without streaming: no partial events.
    s.model.push(ScriptedTurn::text("plain answer"));
    let r = s
        .req(Method::POST, "/run_sse")
        .json(&Server::run_body("helper", &id, "again", false))
        .send()
        .await
        .unwrap();
    let events: Vec<Value> = sse_data(r).await.iter().map(|d| serde_json::from_str(d).unwrap()).collect();
    assert!(events.iter().all(|e| e["partial"].is_null()), "{events:?}");
    assert_eq!(events.len(), 1, "the answer only: the user's own event is not echoed: {events:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn approvals_resume_the_paused_call() {
    let s = start(Opts::default()).await;
    let id = s.session("helper").await;
    s.model.push(ScriptedTurn::default().with_call_id("call-1", "needs_ok", json!({"path": "/tmp/x"})));
    s.model.push(ScriptedTurn::text("deleted it"));
    let (st, events) = s.post("/run", Server::run_body("helper", &id, "delete /tmp/x", false)).await;
    assert_eq!(st, 200);
    let paused = events
        .as_array()
        .unwrap()
        .iter()
        .any(|e| e["longRunningToolIds"].as_array().is_some_and(|l| !l.is_empty()));
    assert!(paused, "the run must pause for approval: {events}");
    // Unknown call id: 404; bad body: 4xx JSON.
    let (st, _) = s
        .post(&format!("/apps/helper/users/alice/sessions/{id}/approvals/nope"), json!({"approved": true}))
        .await;
    assert_eq!(st, 404);
    let (st, v) =
        s.post(&format!("/apps/helper/users/alice/sessions/{id}/approvals/call-1"), json!({"ok": 1})).await;
    assert_eq!(st, 422, "{v}");
    let call = events
        .as_array()
        .unwrap()
        .iter()
        .find_map(|e| e["longRunningToolIds"][0].as_str())
        .unwrap()
        .to_string();
    let r = s
        .req(Method::POST, &format!("/apps/helper/users/alice/sessions/{id}/approvals/{call}?stream=true"))
        .json(&json!({"approved": true}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let resumed: Vec<Value> = sse_data(r).await.iter().map(|d| serde_json::from_str(d).unwrap()).collect();
    let response = resumed.iter().find_map(|e| {
        e["content"]["parts"]
            .as_array()?
            .iter()
            .find_map(|p| p.get("functionResponse").filter(|f| f["name"] == "needs_ok").cloned())
    });
    assert_eq!(response.expect("tool ran after approval")["response"]["deleted"], "/tmp/x");
    assert_eq!(resumed.last().unwrap()["content"]["parts"][0]["text"], "deleted it");
    let (_, audit) = s.get("/audit?kind=approval").await;
    assert_eq!(audit["records"].as_array().unwrap().len(), 1, "{audit}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn tool_inline_data_becomes_versioned_artifacts() {
    let s = start(Opts::default()).await;
    let id = s.session("helper").await;
    for _ in 0..2 {
        s.model.push(ScriptedTurn::call("make_chart", json!({})));
        s.model.push(ScriptedTurn::text("here is your chart"));
        let (st, _) = s.post("/run", Server::run_body("helper", &id, "chart please", false)).await;
        assert_eq!(st, 200);
    }
    let base = format!("/apps/helper/users/alice/sessions/{id}/artifacts");
    let (st, names) = s.get(&base).await;
    assert_eq!(st, 200);
    assert_eq!(names, json!(["chart.png"]));
    let (_, versions) = s.get(&format!("{base}/chart.png/versions")).await;
    assert_eq!(versions, json!([0, 1]));
    let (st, part) = s.get(&format!("{base}/chart.png")).await;
    assert_eq!(st, 200);
    assert_eq!(part["inlineData"]["mimeType"], "image/png");
    use base64::Engine;
    let bytes = base64::engine::general_purpose::STANDARD
        .decode(part["inlineData"]["data"].as_str().unwrap())
        .unwrap();
    assert_eq!(bytes, PNG);
    let (st, _) = s.get(&format!("{base}/chart.png/versions/0")).await;
    assert_eq!(st, 200);
    let (st, _) = s.get(&format!("{base}/chart.png/versions/9")).await;
    assert_eq!(st, 404);
    let (st, _) = s.get(&format!("{base}/chart.png/versions/x")).await;
    assert_eq!(st, 400);
    // Bob cannot see them.
    let r = s
        .http
        .get(format!("{}/apps/helper/users/bob/sessions/{id}/artifacts", s.base))
        .bearer_auth(&s.bob_key)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 404);
    let r = s.req(Method::DELETE, &format!("{base}/chart.png")).send().await.unwrap();
    assert_eq!(r.status(), 204);
    let (_, names) = s.get(&base).await;
    assert_eq!(names, json!([]));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn openai_chat_completions_streaming_and_not() {
    let s = start(Opts::default()).await;
    s.model.push(ScriptedTurn::text("Paris is the capital.").with_usage(7, 5));
    let (st, v) = s
        .post(
            "/v1/chat/completions",
            json!({"model": "helper", "messages": [
        {"role": "system", "content": "be brief"},
        {"role": "user", "content": "I am planning a trip."},
        {"role": "assistant", "content": "Where to?"},
        {"role": "user", "content": "What is the capital of France?"}]}),
        )
        .await;
    assert_eq!(st, 200, "{v}");
    assert_eq!(v["object"], "chat.completion");
    assert_eq!(v["choices"][0]["message"]["content"], "Paris is the capital.");
    assert_eq!(v["usage"]["total_tokens"], 12);
    // The earlier messages reached the model as history.
    let req = s.model.requests().pop().unwrap();
    let texts: Vec<String> = req.contents.iter().map(|c| c.text()).collect();
    assert!(
        texts.iter().any(|t| t == "I am planning a trip.") && texts.iter().any(|t| t == "Where to?"),
        "{texts:?}"
    );
    s.model.push(ScriptedTurn::text("one two three four five six"));
    let r = s
        .req(Method::POST, "/v1/chat/completions")
        .json(&json!({"model": "helper", "stream": true, "messages": [{"role": "user", "content": "count"}]}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let session = r.headers()["x-vana-session"].to_str().unwrap().to_string();
    let data = sse_data(r).await;
    assert_eq!(data.last().unwrap(), "[DONE]");
    let chunks: Vec<Value> =
        data[..data.len() - 1].iter().map(|d| serde_json::from_str(d).unwrap()).collect();
    assert!(chunks.iter().all(|c| c["object"] == "chat.completion.chunk"));
    let text: String = chunks.iter().filter_map(|c| c["choices"][0]["delta"]["content"].as_str()).collect();
    assert_eq!(text, "one two three four five six");
    assert!(chunks.len() >= 4, "streamed in several chunks: {chunks:?}");
    assert_eq!(chunks.last().unwrap()["choices"][0]["finish_reason"], "stop");
    // Continue that session with the header.
    s.model.push(ScriptedTurn::text("seven"));
    let r = s
        .req(Method::POST, "/v1/chat/completions")
        .header("x-vana-session", &session)
        .json(&json!({"model": "helper", "messages": [{"role": "user", "content": "next"}]}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let (_, got) = s.get(&format!("/apps/helper/users/alice/sessions/{session}")).await;
    assert_eq!(got["events"].as_array().unwrap().len(), 4);
    // Unknown model: OpenAI-shaped 404.
    let (st, v) = s
        .post(
            "/v1/chat/completions",
            json!({"model": "gpt-9", "messages": [{"role": "user", "content": "x"}]}),
        )
        .await;
    assert_eq!(st, 404);
    assert!(v["error"]["message"].as_str().unwrap().contains("unknown app"));
    let (st, v) = s.post("/v1/chat/completions", json!({"model": "helper", "messages": []})).await;
    assert_eq!(st, 400, "{v}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn rate_limit_answers_429_with_retry_after() {
    let s = start(Opts { rps: 1, burst: 3, ..Default::default() }).await;
    let mut statuses = Vec::new();
    let mut retry = None;
    for _ in 0..6 {
        let r = s.req(Method::GET, "/list-apps").send().await.unwrap();
        statuses.push(r.status().as_u16());
        if r.status() == 429 {
            retry = r.headers().get("retry-after").map(|v| v.to_str().unwrap().to_string());
            assert!(is_json_error(&r.json().await.unwrap()));
        }
    }
    assert_eq!(&statuses[..3], &[200, 200, 200], "{statuses:?}");
    assert!(statuses[3..].contains(&429), "{statuses:?}");
    assert_eq!(retry.as_deref(), Some("1"));
    // Another key has its own bucket.
    let r = s.http.get(format!("{}/list-apps", s.base)).bearer_auth(&s.bob_key).send().await.unwrap();
    assert_eq!(r.status(), 200);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn sse_connections_per_key_are_limited() {
    let s = start(Opts { max_streams: 1, ..Default::default() }).await;
    let first = s.req(Method::GET, "/api/dashboard/stream").send().await.unwrap();
    assert_eq!(first.status(), 200);
    let second = s.req(Method::GET, "/api/dashboard/stream").send().await.unwrap();
    assert_eq!(second.status(), 429);
    assert!(second.headers().get("retry-after").is_some());
    let r =
        s.http.get(format!("{}/api/dashboard/stream", s.base)).bearer_auth(&s.bob_key).send().await.unwrap();
    assert_eq!(r.status(), 200, "bob has his own limit");
    drop(first);
    // The slot frees when the client goes away.
    let mut ok = false;
    for _ in 0..50 {
        tokio::time::sleep(Duration::from_millis(100)).await;
        let r = s.req(Method::GET, "/api/dashboard/stream").send().await.unwrap();
        if r.status() == 200 {
            ok = true;
            break;
        }
    }
    assert!(ok, "the stream slot must be released after the client disconnects");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn login_sets_a_strict_httponly_cookie_and_logout_ends_it() {
    let s = start(Opts::default()).await;
    let r = s
        .http
        .post(format!("{}/api/login", s.base))
        .json(&json!({"key": "vana_0123456789ab_ffffffffffffffffffff"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 401);
    let r = s
        .http
        .post(format!("{}/api/login", s.base))
        .body("{")
        .header("content-type", "application/json")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 400);
    let r = s.http.post(format!("{}/api/login", s.base)).json(&json!({"key": s.key})).send().await.unwrap();
    assert_eq!(r.status(), 200);
    let cookie = r.headers()["set-cookie"].to_str().unwrap().to_string();
    assert!(cookie.contains("HttpOnly") && cookie.contains("SameSite=Strict"), "{cookie}");
    assert_eq!(r.json::<Value>().await.unwrap()["user"], "alice");
    let pair = cookie.split(';').next().unwrap().to_string();
    let me: Value = s
        .http
        .get(format!("{}/api/me", s.base))
        .header("cookie", &pair)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(me["user"], "alice");
    let r = s.http.post(format!("{}/api/logout", s.base)).header("cookie", &pair).send().await.unwrap();
    assert_eq!(r.status(), 200);
    let r = s.http.get(format!("{}/api/me", s.base)).header("cookie", &pair).send().await.unwrap();
    assert_eq!(r.status(), 401);
    let (_, audit) = s.get("/audit?kind=login").await;
    assert_eq!(audit["records"].as_array().unwrap().len(), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn dashboard_and_audit_reflect_a_run() {
    let s = start(Opts::default()).await;
    let (_, before) = s.get("/api/dashboard").await;
    assert!(before["metrics"]["agents"].as_array().unwrap().iter().all(|a| a["agent"] != "helper"));
    let stream = s.req(Method::GET, "/api/dashboard/stream").send().await.unwrap();
    let id = s.session("helper").await;
    s.model.push(ScriptedTurn::call("make_chart", json!({"title": "zebra sales"})).with_usage(20, 4));
    s.model.push(ScriptedTurn::text("done").with_usage(30, 2));
    let (st, _) =
        s.post("/run", Server::run_body("helper", &id, "draw the quarterly zebra chart", false)).await;
    assert_eq!(st, 200);
    let (_, snap) = s.get("/api/dashboard").await;
    let helper = snap["metrics"]["agents"]
        .as_array()
        .unwrap()
        .iter()
        .find(|a| a["agent"] == "helper")
        .cloned()
        .expect("helper row");
    assert_eq!(helper["tokensIn"], 50);
    assert_eq!(helper["tokensOut"], 6);
    assert!(helper["requests"].as_u64().unwrap() >= 2, "{helper}");
    let tool = snap["metrics"]["tools"]
        .as_array()
        .unwrap()
        .iter()
        .find(|t| t["tool"] == "make_chart")
        .cloned()
        .expect("tool row");
    assert_eq!(tool["calls"], 1);
    assert!(snap["process"]["rssBytes"].as_u64().unwrap() > 1_000_000);
    assert_eq!(snap["metrics"]["invocations"]["done"], 1);
    // The live stream pushed snapshots, the later ones showing the run.
    use futures::StreamExt;
    let mut parser = vana_models::sse::SseParser::new();
    let mut body = stream.bytes_stream();
    let mut saw_run = false;
    let deadline = tokio::time::Instant::now() + Duration::from_secs(5);
    while !saw_run && tokio::time::Instant::now() < deadline {
        let Ok(Some(chunk)) = tokio::time::timeout(Duration::from_secs(3), body.next()).await else { break };
        for e in parser.push(&chunk.unwrap()) {
            let v: Value = serde_json::from_str(&e.data).unwrap();
            saw_run |= v["metrics"]["agents"]
                .as_array()
                .unwrap()
                .iter()
                .any(|a| a["agent"] == "helper" && a["tokensIn"] == 50);
        }
    }
    assert!(saw_run, "the dashboard stream must push the run's numbers");
    // The audit log finds the run and the tool call with its arguments.
    let (_, runs) = s.get("/audit?q=zebra&kind=run").await;
    let runs = runs["records"].as_array().unwrap().clone();
    assert_eq!(runs.len(), 1, "{runs:?}");
    assert_eq!(runs[0]["agent"], "helper");
    assert_eq!(runs[0]["sessionId"], id.as_str());
    let (_, calls) = s.get("/audit?q=zebra+sales&agent=helper").await;
    let calls = calls["records"].as_array().unwrap().clone();
    assert!(
        calls.iter().any(|r| r["kind"] == "tool_call" && r["data"]["args"]["title"] == "zebra sales"),
        "{calls:?}"
    );
    let (_, none) = s.get("/audit?q=zebra&from=1h&to=2000-01-01").await;
    assert!(none["records"].as_array().unwrap().is_empty());
    let (st, v) = s.get("/audit?from=yesterday").await;
    assert_eq!(st, 400, "{v}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn no_auth_uses_path_users_and_refuses_public_binds() {
    let s = start(Opts { no_auth: true, ..Default::default() }).await;
    let r = s.http.post(format!("{}/apps/helper/users/carol/sessions", s.base)).send().await.unwrap();
    assert_eq!(r.status(), 200);
    let v: Value = r.json().await.unwrap();
    assert_eq!(v["userId"], "carol");
    let mut config = vana_app::Config::default();
    config.store.url = "sqlite::memory:".into();
    config.agents.dir = "/nonexistent".into();
    let app = vana_app::App::open(config).await.unwrap();
    let listener = tokio::net::TcpListener::bind("0.0.0.0:0").await.unwrap();
    let err = vana_server::serve_with_shutdown(
        app,
        listener,
        vana_server::ServerOptions { no_auth: true, ..Default::default() },
        async {},
    )
    .await
    .unwrap_err();
    assert!(err.to_string().contains("refusing to run without authentication"), "{err}");
}

/// A webhook receiver on loopback: its URL and the alerts it got.
async fn webhook() -> (String, tokio::sync::mpsc::UnboundedReceiver<Value>) {
    use axum::routing::post;
    let (tx, rx) = tokio::sync::mpsc::unbounded_channel::<Value>();
    let hook = axum::Router::new().route(
        "/hook",
        post(move |axum::Json(v): axum::Json<Value>| {
            let tx = tx.clone();
            async move {
                let _ = tx.send(v);
                "ok"
            }
        }),
    );
    let l = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/hook", l.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(l, hook).await });
    (url, rx)
}

/// The audit records of kind `alert`, waiting for the asynchronous writer.
async fn alert_records(s: &Server, want: usize) -> Vec<vana_store::records::AuditRecord> {
    let mut recs = Vec::new();
    for _ in 0..50 {
        recs = s
            .stores
            .audit
            .audit_search(&vana_store::records::AuditQuery {
                kind: Some("alert".into()),
                ..Default::default()
            })
            .await
            .unwrap();
        if recs.len() >= want {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    recs
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn error_rate_alert_reaches_dashboard_audit_and_webhook() {
    let (hook_url, mut rx) = webhook().await;
    let s = start(Opts { webhook: hook_url, error_rate_percent: 50.0, ..Default::default() }).await;
    for _ in 0..4 {
        let (st, _) = s.post("/run", Server::run_body("helper", "missing-session", "hi", false)).await;
        assert_eq!(st, 404);
    }
    let alert =
        tokio::time::timeout(Duration::from_secs(5), rx.recv()).await.expect("webhook called").unwrap();
    assert_eq!(alert["rule"], "error_rate");
    assert_eq!(alert["subject"], "helper");
    let (_, snap) = s.get("/api/dashboard").await;
    assert_eq!(snap["alerts"][0]["rule"], "error_rate");
    let recs = alert_records(&s, 1).await;
    assert_eq!(recs.len(), 1, "{recs:?}");
    assert!(recs[0].summary.contains("error_rate"), "{recs:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn sandbox_security_finding_raises_an_alert() {
    let (hook_url, mut rx) = webhook().await;
    let s = start(Opts { webhook: hook_url, ..Default::default() }).await;
    let id = s.session("helper").await;
    let code =
        "import subprocess\nprint(subprocess.run(['echo', 'hi'], capture_output=True).stdout.decode())";
    s.model.push(ScriptedTurn::call("execute_code", json!({"code": code, "language": "python"})));
    s.model.push(ScriptedTurn::text("ran it"));
    let (st, events) = s.post("/run", Server::run_body("helper", &id, "run my script", false)).await;
    assert_eq!(st, 200, "{events}");
    let alert = tokio::time::timeout(Duration::from_secs(10), rx.recv())
        .await
        .unwrap_or_else(|_| panic!("no alert; the run: {events}"))
        .unwrap();
    assert_eq!(alert["rule"], "sandbox_finding", "{alert}");
    assert_eq!(alert["subject"], "execute_code");
    assert_eq!(alert["data"]["session"], id.as_str());
    assert!(alert["data"]["findings"].to_string().contains("py.subprocess"), "{alert}");
    let (_, snap) = s.get("/api/dashboard").await;
    assert_eq!(snap["alerts"][0]["rule"], "sandbox_finding", "{snap}");
    assert!(snap["metrics"]["sandbox"]["securityFindings"].as_u64().unwrap_or(0) >= 1, "{snap}");
    let recs = alert_records(&s, 1).await;
    assert_eq!(recs.len(), 1, "{recs:?}");
    assert!(recs[0].summary.contains("sandbox_finding"), "{recs:?}");
    // Code without findings raises nothing more.
    s.model.push(ScriptedTurn::call("execute_code", json!({"code": "print(2 + 2)", "language": "python"})));
    s.model.push(ScriptedTurn::text("4"));
    let (st, _) = s.post("/run", Server::run_body("helper", &id, "add", false)).await;
    assert_eq!(st, 200);
    assert!(tokio::time::timeout(Duration::from_millis(500), rx.recv()).await.is_err(), "no second alert");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn mcp_server_down_raises_one_alert() {
    let (hook_url, mut rx) = webhook().await;
    // A server that dies at start: every connection attempt fails.
    let yaml = "servers:\n  flaky:\n    command: sh\n    args: ['-c', 'echo crashed >&2; exit 3']\n    agents: [helper]\n";
    let s =
        start(Opts { webhook: hook_url, mcp_down_secs: 1, mcp_yaml: Some(yaml), ..Default::default() }).await;
    let alert =
        tokio::time::timeout(Duration::from_secs(10), rx.recv()).await.expect("webhook called").unwrap();
    assert_eq!(alert["rule"], "mcp_down", "{alert}");
    assert_eq!(alert["subject"], "flaky");
    assert!(alert["data"]["downSecs"].as_f64().unwrap() >= 1.0, "{alert}");
    let (_, snap) = s.get("/api/dashboard").await;
    assert!(snap["alerts"].as_array().unwrap().iter().any(|a| a["rule"] == "mcp_down"), "{snap}");
    let flaky = snap["mcp"]["servers"].as_array().into_iter().flatten().find(|m| m["name"] == "flaky");
    assert_eq!(flaky.expect("flaky in the dashboard")["up"], false, "{snap}");
    assert_eq!(alert_records(&s, 1).await.len(), 1);
    // A lasting condition alerts once, not every second.
    assert!(tokio::time::timeout(Duration::from_millis(2500), rx.recv()).await.is_err(), "alerted twice");
    // The helper agent still answers with its other tools.
    let id = s.session("helper").await;
    s.model.push(ScriptedTurn::text("still here"));
    let (st, events) = s.post("/run", Server::run_body("helper", &id, "hello", false)).await;
    assert_eq!(st, 200);
    assert!(events.to_string().contains("still here"), "{events}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn routing_decisions_and_the_models_agreement_are_audited() {
    let s = start(Opts { router: vana_app::config::RouterMode::Shadow, ..Default::default() }).await;
    let id = s.session("vana").await;
    s.model.push(ScriptedTurn::call("transfer_to_agent", json!({"agent_name": "research"})));
    s.model.push(ScriptedTurn::text("found it"));
    let ask = "write a SQL query that lists customers with no orders";
    let (st, events) = s.post("/run", Server::run_body("vana", &id, ask, false)).await;
    assert_eq!(st, 200, "{events}");
    let (_, audit) = s.get("/audit?kind=route").await;
    let recs = audit["records"].as_array().unwrap();
    assert_eq!(recs.len(), 1, "{audit}");
    let summary = recs[0]["summary"].as_str().unwrap();
    assert!(
        summary.contains("research chosen by the model") && summary.contains("router chose database"),
        "{summary}"
    );
    assert!(summary.ends_with("disagreed"), "{summary}");
    assert_eq!(recs[0]["data"]["router"]["agreed"], false);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn mcp_server_is_mounted_behind_auth() {
    let s = start(Opts::default()).await;
    let init = json!({"jsonrpc": "2.0", "id": 1, "method": "initialize", "params": {
        "protocolVersion": "2025-03-26", "capabilities": {}, "clientInfo": {"name": "test", "version": "0"}}});
    let r = s.http.post(format!("{}/mcp", s.base)).json(&init).send().await.unwrap();
    assert_eq!(r.status(), 401, "/mcp needs a key");
    let r = s
        .req(Method::POST, "/mcp")
        .header("accept", "application/json, text/event-stream")
        .json(&init)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let body = r.text().await.unwrap();
    assert!(body.contains("serverInfo"), "{body}");
    let (_, snap) = s.get("/api/dashboard").await;
    assert_eq!(snap["mcp"]["available"], true, "{snap}");
}
