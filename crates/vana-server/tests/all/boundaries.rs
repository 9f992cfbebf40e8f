//! The server's trust boundaries against a web page the user visits: foreign `Host` names
//! (DNS rebinding) and foreign origins are refused, state changes take JSON only, login
//! cookies are server-side sessions that end with their key and expire, and `/metrics` needs
//! a key unless configured public. Every hostile request is planted by the test, and each
//! refusal is checked to have changed nothing.

use crate::common;

use common::{start, Opts, Server};
use reqwest::Method;
use serde_json::{json, Value};
use std::time::Duration;

fn port(s: &Server) -> &str {
    s.base.rsplit(':').next().unwrap()
}

/// The sessions alice has of `app` (through a legitimate request).
async fn sessions(s: &Server, app: &str) -> usize {
    let (st, v) = s.get(&format!("/apps/{app}/users/alice/sessions")).await;
    assert_eq!(st, 200, "{v}");
    v.as_array().unwrap().len()
}

async fn error_of(r: reqwest::Response) -> (u16, String) {
    let st = r.status().as_u16();
    let v: Value = r.json().await.unwrap_or(Value::Null);
    (st, v["error"].as_str().unwrap_or_default().to_string())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn foreign_hosts_get_403_on_every_route_and_loopback_names_pass() {
    let s = start(Opts { allowed_hosts: vec!["vana.example.com".into()], ..Default::default() }).await;
    let init = json!({"jsonrpc": "2.0", "id": 1, "method": "initialize", "params": {
        "protocolVersion": "2025-03-26", "capabilities": {}, "clientInfo": {"name": "test", "version": "0"}}});
    let create = "/apps/helper/users/alice/sessions";
    let hostile = "attacker.example";
    for (method, path, body) in [
        (Method::GET, "/healthz", None),
        (Method::GET, "/list-apps", None),
        (Method::GET, "/", None),
        (Method::GET, "/no/such/page", None),
        (Method::GET, "/openapi.json", None),
        (Method::POST, create, Some(json!({}))),
        (Method::POST, "/mcp", Some(init.clone())),
    ] {
        let mut r = s.req(method.clone(), path).header("host", format!("{hostile}:{}", port(&s)));
        if let Some(b) = &body {
            r = r.header("accept", "application/json, text/event-stream").json(b);
        }
        let (st, msg) = error_of(r.send().await.unwrap()).await;
        assert_eq!(st, 403, "{method} {path} with a foreign Host");
        assert!(msg.contains("server.allowed_hosts") && msg.contains(hostile), "{msg}");
    }
    assert_eq!(sessions(&s, "helper").await, 0, "a refused request created nothing");
    for host in [
        format!("localhost:{}", port(&s)),
        format!("app.localhost:{}", port(&s)),
        format!("127.0.0.1:{}", port(&s)),
        format!("[::1]:{}", port(&s)),
        "vana.example.com".to_string(),
    ] {
        let r = s.req(Method::GET, "/list-apps").header("host", &host).send().await.unwrap();
        assert_eq!(r.status(), 200, "Host {host} is served");
    }
    // A name the operator allowed reaches /mcp too (no second, loopback-only check there).
    let r = s
        .req(Method::POST, "/mcp")
        .header("host", "vana.example.com")
        .header("accept", "application/json, text/event-stream")
        .json(&init)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200, "an allowed Host is served at /mcp");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn cross_origin_state_changes_get_403_and_same_or_listed_origins_pass() {
    let s =
        start(Opts { allowed_origins: vec!["https://app.example.com".into()], ..Default::default() }).await;
    let create = "/apps/helper/users/alice/sessions";
    for (name, value) in [
        ("origin", "http://evil.example"),
        ("origin", "null"),
        ("origin", "http://127.0.0.1:1"),
        ("sec-fetch-site", "cross-site"),
    ] {
        let r = s.req(Method::POST, create).header(name, value).json(&json!({})).send().await.unwrap();
        let (st, msg) = error_of(r).await;
        assert_eq!(st, 403, "{name}: {value}");
        assert!(msg.contains("server.allowed_origins"), "{msg}");
        let r = s.req(Method::DELETE, &format!("{create}/x")).header(name, value).send().await.unwrap();
        assert_eq!(r.status(), 403, "DELETE with {name}: {value}");
    }
    assert_eq!(sessions(&s, "helper").await, 0, "refused requests created nothing");
    let own = s.base.clone();
    for origin in [own.as_str(), "https://app.example.com"] {
        let r = s.req(Method::POST, create).header("origin", origin).json(&json!({})).send().await.unwrap();
        assert_eq!(r.status(), 200, "Origin {origin} may change things");
    }
    let r = s.req(Method::GET, "/list-apps").header("origin", "http://evil.example").send().await.unwrap();
    assert_eq!(r.status(), 200, "reads are not state changes");
    assert_eq!(sessions(&s, "helper").await, 2);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_text_plain_form_post_cannot_drive_run() {
    let s = start(Opts::default()).await;
    let id = s.session("helper").await;
    s.model.push(vana_testkit::ScriptedTurn::text("ran"));
    // What a cross-site <form enctype="text/plain"> sends: valid JSON under another type.
    let body = Server::run_body("helper", &id, "delete everything", false).to_string();
    for ct in ["text/plain", "application/x-www-form-urlencoded", "multipart/form-data; boundary=x"] {
        let r =
            s.req(Method::POST, "/run").header("content-type", ct).body(body.clone()).send().await.unwrap();
        let (st, msg) = error_of(r).await;
        assert_eq!(st, 415, "{ct}");
        assert!(msg.contains("application/json"), "{msg}");
    }
    let r = s.req(Method::POST, "/run").body(body.clone()).send().await.unwrap();
    assert_eq!(r.status(), 415, "a body without a Content-Type");
    let r = s
        .req(Method::POST, "/api/login")
        .header("content-type", "text/plain")
        .body("{\"key\": \"x\"}")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 415);
    assert!(s.model.requests().is_empty(), "no refused request reached the model");
    let (_, v) = s.get(&format!("/apps/helper/users/alice/sessions/{id}")).await;
    assert_eq!(v["events"].as_array().unwrap().len(), 0, "nothing was stored: {v}");
    // Bodiless state changes need no Content-Type; JSON ones run.
    let r = s.http.post(format!("{}/api/logout", s.base)).send().await.unwrap();
    assert_eq!(r.status(), 200);
    let r = s
        .req(Method::POST, "/run")
        .header("content-type", "application/json")
        .body(body)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    assert!(r.text().await.unwrap().contains("ran"));
}

async fn login(s: &Server) -> String {
    let r = s.http.post(format!("{}/api/login", s.base)).json(&json!({"key": s.key})).send().await.unwrap();
    assert_eq!(r.status(), 200);
    let cookie = r.headers()["set-cookie"].to_str().unwrap().to_string();
    cookie.split(';').next().unwrap().to_string()
}

async fn me(s: &Server, cookie: &str) -> u16 {
    s.http.get(format!("{}/api/me", s.base)).header("cookie", cookie).send().await.unwrap().status().as_u16()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn revoking_the_key_ends_its_login_cookies_at_once() {
    let s = start(Opts::default()).await;
    let cookie = login(&s).await;
    assert_eq!(me(&s, &cookie).await, 200);
    // As `vana keys revoke alice` does it: another handle on the same database.
    let other = vana_store::open_all(&format!("sqlite://{}", s.dir.join("vana.db").display())).await.unwrap();
    assert!(other.keys.key_revoke("alice").await.unwrap());
    let r = s.http.get(format!("{}/api/me", s.base)).header("cookie", &cookie).send().await.unwrap();
    let (st, msg) = error_of(r).await;
    assert_eq!(st, 401, "the revoked key's cookie is refused at once");
    assert!(msg.contains("log in again"), "{msg}");
    let r = s
        .http
        .post(format!("{}/apps/helper/users/alice/sessions", s.base))
        .header("cookie", &cookie)
        .json(&json!({}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 401);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn logins_expire_server_side() {
    let s = start(Opts { session_ttl_secs: 1, ..Default::default() }).await;
    let r = s.http.post(format!("{}/api/login", s.base)).json(&json!({"key": s.key})).send().await.unwrap();
    let set = r.headers()["set-cookie"].to_str().unwrap().to_string();
    assert!(set.contains("Max-Age=1"), "the cookie lives as long as the login: {set}");
    let cookie = set.split(';').next().unwrap().to_string();
    assert_eq!(me(&s, &cookie).await, 200);
    tokio::time::sleep(Duration::from_millis(1300)).await;
    assert_eq!(me(&s, &cookie).await, 401, "an expired login is refused whatever the browser sends");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn logins_survive_a_restart_and_only_a_hash_is_stored() {
    let s = start(Opts::default()).await;
    let cookie = login(&s).await;
    let token = cookie.split_once('=').unwrap().1.to_string();
    let s = s.restart().await;
    assert_eq!(me(&s, &cookie).await, 200, "a restart logs nobody out");
    let mut stored = Vec::new();
    for f in ["vana.db", "vana.db-wal"] {
        stored.extend(std::fs::read(s.dir.join(f)).unwrap_or_default());
    }
    assert!(!stored.is_empty());
    assert!(
        !stored.windows(token.len()).any(|w| w == token.as_bytes()),
        "the cookie's token itself is never stored"
    );
    let r = s.http.post(format!("{}/api/logout", s.base)).header("cookie", &cookie).send().await.unwrap();
    assert_eq!(r.status(), 200);
    assert_eq!(me(&s, &cookie).await, 401, "logout ends the login server-side");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn metrics_need_a_key_unless_public() {
    let s = start(Opts::default()).await;
    let r = s.http.get(format!("{}/metrics", s.base)).send().await.unwrap();
    assert_eq!(r.status(), 401);
    let r = s.req(Method::GET, "/metrics").send().await.unwrap();
    assert_eq!(r.status(), 200);
    assert!(r.text().await.unwrap().contains("process_uptime_seconds"));
    let doc: Value =
        s.http.get(format!("{}/openapi.json", s.base)).send().await.unwrap().json().await.unwrap();
    assert!(doc["paths"]["/metrics"]["get"]["responses"]["401"].is_object(), "the document says so");
    for opts in
        [Opts { metrics_public: true, ..Default::default() }, Opts { no_auth: true, ..Default::default() }]
    {
        let s = start(opts).await;
        let r = s.http.get(format!("{}/metrics", s.base)).send().await.unwrap();
        assert_eq!(r.status(), 200);
        let doc: Value =
            s.http.get(format!("{}/openapi.json", s.base)).send().await.unwrap().json().await.unwrap();
        assert_eq!(doc["paths"]["/metrics"]["get"]["security"], json!([]));
    }
}
