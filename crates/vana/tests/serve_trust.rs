//! `vana serve` as a hostile web page meets it, against the real binary: a foreign `Host`
//! (DNS rebinding) gets 403, a cross-origin POST 403, a `text/plain` POST 415 (none of them
//! runs anything), and the login cookie of a key that `vana keys revoke` revoked gets 401 at
//! once. `--no-auth` (the README's main command) keeps the same guard.

mod served;

use serde_json::{json, Value};
use served::{create_key, vana, Home, Served};

fn setup(home: &Home) -> Vec<(&'static str, String)> {
    let script =
        home.write("script.json", &json!({"repeat": true, "turns": [{"text": "ran the task"}]}).to_string());
    vec![("VANA_MODELS_DEFAULT_MODEL", format!("scripted:{}", script.display()))]
}

async fn status(r: reqwest::RequestBuilder) -> (u16, String) {
    let r = r.send().await.unwrap();
    let st = r.status().as_u16();
    let v: Value = r.json().await.unwrap_or(Value::Null);
    (st, v["error"].as_str().unwrap_or_default().to_string())
}

/// The hostile requests; none may create a session or run the agent.
async fn hostile_requests_are_refused(base: &str, key: Option<&str>, user: &str) {
    let http = reqwest::Client::new();
    let auth = |r: reqwest::RequestBuilder| match key {
        Some(k) => r.bearer_auth(k),
        None => r,
    };
    let port = base.rsplit(':').next().unwrap();
    let create = format!("{base}/apps/code_execution/users/{user}/sessions");
    let (st, msg) =
        status(auth(http.post(&create)).header("host", format!("attacker.example:{port}")).json(&json!({})))
            .await;
    assert_eq!(st, 403, "foreign Host: {msg}");
    assert!(msg.contains("server.allowed_hosts"), "{msg}");
    let (st, msg) =
        status(auth(http.post(&create)).header("origin", "http://attacker.example").json(&json!({}))).await;
    assert_eq!(st, 403, "cross-origin POST: {msg}");
    assert!(msg.contains("server.allowed_origins"), "{msg}");
    let (st, v) = {
        let r = auth(http.post(&create)).json(&json!({})).send().await.unwrap();
        (r.status().as_u16(), r.json::<Value>().await.unwrap())
    };
    assert_eq!(st, 200, "{v}");
    let session = v["id"].as_str().unwrap().to_string();
    let run = json!({"appName": "code_execution", "userId": user, "sessionId": session,
                     "newMessage": {"role": "user", "parts": [{"text": "run it"}]}});
    let (st, msg) = status(
        auth(http.post(format!("{base}/run"))).header("content-type", "text/plain").body(run.to_string()),
    )
    .await;
    assert_eq!(st, 415, "text/plain POST: {msg}");
    let r = auth(http.get(format!("{create}/{session}"))).send().await.unwrap();
    let stored: Value = r.json().await.unwrap();
    assert_eq!(stored["events"], json!([]), "nothing ran: {stored}");
    let listed: Value = auth(http.get(&create)).send().await.unwrap().json().await.unwrap();
    assert_eq!(listed.as_array().unwrap().len(), 1, "only the legitimate session exists: {listed}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hostile_pages_are_refused_and_a_revoked_keys_cookie_is_401() {
    let home = Home::new("trust");
    let env = setup(&home);
    let key = create_key(&home, &env, "erin");
    let server = Served::start(&home, &env, &[]);
    hostile_requests_are_refused(&server.base, Some(&key), "erin").await;

    let http = reqwest::Client::new();
    let r = http.post(format!("{}/api/login", server.base)).json(&json!({"key": key})).send().await.unwrap();
    assert_eq!(r.status(), 200);
    let cookie = r.headers()["set-cookie"].to_str().unwrap().split(';').next().unwrap().to_string();
    let me = || http.get(format!("{}/api/me", server.base)).header("cookie", &cookie).send();
    assert_eq!(me().await.unwrap().status(), 200);
    let out = vana(&home, &env).args(["keys", "revoke", "erin"]).output().unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    assert_eq!(me().await.unwrap().status(), 401, "the revoked key's cookie ends at once");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn no_auth_keeps_the_guard() {
    let home = Home::new("trust-noauth");
    let env = setup(&home);
    let server = Served::start(&home, &env, &["--no-auth"]);
    hostile_requests_are_refused(&server.base, None, "dana").await;
}
