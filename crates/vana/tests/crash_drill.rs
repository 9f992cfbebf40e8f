//! The crash drill: 20 `/run_sse` streams run against a real `vana serve` (scripted model,
//! sandboxed `execute_code` that sleeps), and an approved `debug_code` call (needs
//! confirmation) has finished its effect while a second approved call of the same turn (a
//! `fetch_url` of a site that never answers) still runs; then the server is killed with SIGKILL and restarted on the same data dir. After the
//! restart every non-partial event any client received is in the store, every session
//! reopens and takes a new run, and resuming the paused turn does not run the finished call
//! again (the effect journal): its effect happened exactly once, and the interrupted call is
//! reported, not re-run.

mod served;

use futures::StreamExt;
use serde_json::{json, Value};
use served::{create_key, Home, Served};
use std::collections::HashSet;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// Streams running when the server is killed.
const STREAMS: usize = 20;
/// Non-partial events each stream must have received before the kill.
const EVENTS_BEFORE_KILL: usize = 3;

/// What one stream received: ids of non-partial events, and whether it ended.
#[derive(Default)]
struct Received {
    ids: Vec<String>,
    partials: usize,
    ended: bool,
}

struct Client {
    http: reqwest::Client,
    base: String,
    key: String,
}

impl Client {
    fn req(&self, method: reqwest::Method, path: &str) -> reqwest::RequestBuilder {
        self.http.request(method, format!("{}{path}", self.base)).bearer_auth(&self.key)
    }

    async fn json(&self, method: reqwest::Method, path: &str, body: Option<Value>) -> (u16, Value) {
        let mut r = self.req(method, path);
        if let Some(b) = body {
            r = r.json(&b);
        }
        let r = r.send().await.unwrap();
        let st = r.status().as_u16();
        (st, r.json().await.unwrap_or(Value::Null))
    }

    async fn session(&self, app: &str) -> String {
        let (st, v) = self
            .json(reqwest::Method::POST, &format!("/apps/{app}/users/drill/sessions"), Some(json!({})))
            .await;
        assert_eq!(st, 200, "{v}");
        v["id"].as_str().unwrap().to_string()
    }

    async fn stored(&self, app: &str, id: &str) -> Value {
        let r = self
            .req(reqwest::Method::GET, &format!("/apps/{app}/users/drill/sessions/{id}"))
            .send()
            .await
            .unwrap();
        let st = r.status().as_u16();
        // The session is ADK's Session; VANA's version counter comes as a header.
        let version: Option<u64> = r
            .headers()
            .get("x-vana-session-version")
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.parse().ok());
        let mut v: Value = r.json().await.unwrap_or(Value::Null);
        assert_eq!(st, 200, "session {id} reopens after the crash: {v}");
        v["version"] = json!(version.expect("x-vana-session-version"));
        v
    }

    fn run_body(app: &str, session: &str, text: &str) -> Value {
        json!({"appName": app, "userId": "drill", "sessionId": session, "streaming": true,
               "newMessage": {"role": "user", "parts": [{"text": text}]}})
    }
}

/// Reads an SSE response into `into` until it ends or fails (the server was killed).
async fn read_stream(resp: reqwest::Response, into: Arc<Mutex<Received>>) {
    let mut parser = vana_models::sse::SseParser::new();
    let mut body = resp.bytes_stream();
    while let Some(chunk) = body.next().await {
        let Ok(chunk) = chunk else { break };
        for e in parser.push(&chunk) {
            let Ok(ev) = serde_json::from_str::<Value>(&e.data) else { continue };
            let mut r = into.lock().unwrap();
            if ev["partial"] == json!(true) {
                r.partials += 1;
            } else if let Some(id) = ev["id"].as_str() {
                r.ids.push(id.to_string());
            }
        }
    }
    into.lock().unwrap().ended = true;
}

/// Waits until `ok`; false when `limit` passed first.
fn wait_until(limit: Duration, mut ok: impl FnMut() -> bool) -> bool {
    let deadline = Instant::now() + limit;
    while !ok() {
        if Instant::now() >= deadline {
            return false;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    true
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn kill_9_mid_run_loses_no_event_and_runs_no_approved_call_twice() {
    let home = Home::new("crash");
    // The drill agent: every model turn says something and runs code that takes a while.
    let drill = home.write(
        "drill.json",
        &json!({"repeat": true, "turns": [{"text": "working on it", "function_calls": [
            {"name": "execute_code", "args": {"language": "python", "code": "import time; time.sleep(0.3); print('tick')"}}]}]})
        .to_string(),
    );
    // A site that accepts connections and never answers.
    let silent = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let silent_url = format!("http://{}/report", silent.local_addr().unwrap());
    std::thread::spawn(move || {
        let mut held = Vec::new();
        for conn in silent.incoming().flatten() {
            held.push(conn);
        }
    });
    // The approver: one turn with two calls that need approval; the first has an effect on
    // the workspace, the second outlives the server. (The second is no sandbox run: a
    // session's sandbox runs take turns, so a slow one could keep the effect from running.)
    let approver = home.write(
        "approver.json",
        &json!([{"function_calls": [
            {"id": "call_effect", "name": "debug_code", "args": {"language": "python",
             "code": "open('/workspace/effect.txt', 'a').write('ran\\n')"}},
            {"id": "call_slow", "name": "fetch_url", "args": {"url": silent_url}}]}])
        .to_string(),
    );
    home.write(
        "agents/drill.yaml",
        &format!("name: drill\ndescription: Crash drill agent.\ninstruction: Work.\nmodel: scripted:{}\ntools: [execute_code]\n", drill.display()),
    );
    home.write(
        "agents/approver.yaml",
        &format!("name: approver\ndescription: Crash drill approvals.\ninstruction: Work.\nmodel: scripted:{}\ntools: [debug_code, fetch_url]\n", approver.display()),
    );
    let env = [
        ("VANA_MODELS_DEFAULT_MODEL", format!("scripted:{}", drill.display())),
        ("VANA_AGENTS_DIR", home.path("agents").display().to_string()),
        ("VANA_GUARDRAILS_REQUIRE_CONFIRMATION", "[\"debug_code\", \"fetch_url\"]".into()),
        ("VANA_WEB_ALLOWED_HOSTS", "[\"127.0.0.1\"]".into()),
        ("VANA_WEB_TIMEOUT_SECS", "300".into()),
        ("VANA_LIMITS_MAX_MODEL_CALLS", "40".into()),
        ("VANA_SERVER_MAX_STREAMS_PER_KEY", "64".into()),
        ("VANA_SERVER_REQUESTS_PER_SECOND", "1000".into()),
        ("VANA_SERVER_BURST", "1000".into()),
    ];
    let key = create_key(&home, &env, "drill");
    let mut server = Served::start(&home, &env, &[]);
    let c = Client { http: reqwest::Client::new(), base: server.base.clone(), key: key.clone() };

    // The approval: pause on both calls, approve the effect (recorded), then the slow one
    // (the turn resumes: both run, the effect finishes, the slow one keeps running).
    let paused = c.session("approver").await;
    let (st, events) =
        c.json(reqwest::Method::POST, "/run", Some(Client::run_body("approver", &paused, "do both"))).await;
    assert_eq!(st, 200, "{events}");
    let asked = events
        .as_array()
        .unwrap()
        .iter()
        .any(|e| e["longRunningToolIds"] == json!(["call_effect", "call_slow"]));
    assert!(asked, "the turn pauses for both approvals: {events}");
    let approve = |call: &str| format!("/apps/approver/users/drill/sessions/{paused}/approvals/{call}");
    let (st, v) =
        c.json(reqwest::Method::POST, &approve("call_effect"), Some(json!({"approved": true}))).await;
    assert_eq!(st, 202, "{v}");
    let resumed = c
        .req(reqwest::Method::POST, &format!("{}?stream=true", approve("call_slow")))
        .json(&json!({"approved": true}))
        .send()
        .await
        .unwrap();
    assert_eq!(resumed.status(), 200);
    let resumed_events = Arc::new(Mutex::new(Received::default()));
    let resumed_task = tokio::spawn(read_stream(resumed, resumed_events.clone()));

    // The 20 streams.
    let mut sessions = Vec::new();
    let mut tasks = Vec::new();
    for i in 0..STREAMS {
        let id = c.session("drill").await;
        let r = c
            .req(reqwest::Method::POST, "/run_sse")
            .json(&Client::run_body("drill", &id, &format!("task {i}")))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 200, "stream {i}");
        let got = Arc::new(Mutex::new(Received::default()));
        tasks.push(tokio::spawn(read_stream(r, got.clone())));
        sessions.push((id, got));
    }
    let effect = home.path(&format!("workspaces/{paused}/effect.txt"));
    let (s2, e2) = (sessions.iter().map(|(_, g)| g.clone()).collect::<Vec<_>>(), effect.clone());
    let waited = tokio::task::spawn_blocking(move || {
        if !wait_until(Duration::from_secs(60), || e2.is_file()) {
            return Err("the approved call's effect");
        }
        if !wait_until(Duration::from_secs(90), || {
            s2.iter().all(|g| g.lock().unwrap().ids.len() >= EVENTS_BEFORE_KILL)
        }) {
            return Err("events on every stream");
        }
        Ok(())
    })
    .await
    .unwrap();
    if let Err(what) = waited {
        let r = resumed_events.lock().unwrap();
        panic!(
            "timed out waiting for {what}; the resumed approval stream got {:?} (ended: {}); the server said:\n{}",
            r.ids,
            r.ended,
            server.log()
        );
    }
    // The effect's journal entry (`done`) is written right after the call returns.
    tokio::time::sleep(Duration::from_millis(500)).await;
    for (i, (_, got)) in sessions.iter().enumerate() {
        assert!(!got.lock().unwrap().ended, "stream {i} was still running when the server was killed");
    }
    assert!(!resumed_events.lock().unwrap().ended, "the slow approved call was still running");
    server.kill9();
    for t in tasks {
        tokio::time::timeout(Duration::from_secs(10), t).await.expect("streams end with the server").unwrap();
    }
    tokio::time::timeout(Duration::from_secs(10), resumed_task).await.unwrap().unwrap();
    let received: usize = sessions.iter().map(|(_, g)| g.lock().unwrap().ids.len()).sum();
    let partials: usize = sessions.iter().map(|(_, g)| g.lock().unwrap().partials).sum();
    assert!(partials > 0, "the streams carried token-level partial events too");

    // Restart on the same data. The approver's model now answers the resumed turn.
    std::fs::write(&approver, json!([{"text": "all done"}]).to_string()).unwrap();
    let server = Served::start(&home, &env, &[]);
    let c = Client { http: reqwest::Client::new(), base: server.base.clone(), key };
    for (i, (id, got)) in sessions.iter().enumerate() {
        let s = c.stored("drill", id).await;
        let events = s["events"].as_array().unwrap();
        assert_eq!(
            s["version"].as_u64().unwrap() as usize,
            events.len(),
            "session {i}: no gap in the stored events"
        );
        assert!(
            events.iter().all(|e| e.get("partial").is_none()),
            "session {i}: partial events are never stored"
        );
        let stored: HashSet<&str> = events.iter().filter_map(|e| e["id"].as_str()).collect();
        for ev in &got.lock().unwrap().ids {
            assert!(
                stored.contains(ev.as_str()),
                "session {i}: event {ev} was streamed to the client but is not stored"
            );
        }
        // It takes a new invocation: the new message is stored at the next version.
        let r = c
            .req(reqwest::Method::POST, "/run_sse")
            .json(&Client::run_body("drill", id, "again"))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 200, "session {i} runs again after the crash");
        let mut parser = vana_models::sse::SseParser::new();
        let mut body = r.bytes_stream();
        let first = loop {
            let chunk = body.next().await.expect("an event").unwrap();
            if let Some(e) = parser.push(&chunk).into_iter().next() {
                break serde_json::from_str::<Value>(&e.data).unwrap();
            }
        };
        // As ADK's runner, /run_sse does not echo the user's own event: the agent's comes first.
        assert_ne!(first["author"], "user", "session {i}: {first}");
        drop(body);
        let again = c.stored("drill", id).await;
        assert!(again["version"].as_u64().unwrap() > s["version"].as_u64().unwrap(), "session {i} grew");
    }
    eprintln!("crash drill: {received} non-partial events ({partials} partial) received by {STREAMS} streams, all stored");

    // Resume the paused turn: the finished call is not run again, the interrupted one is
    // reported, and the model answers.
    assert_eq!(std::fs::read_to_string(&effect).unwrap(), "ran\n");
    let (st, events) =
        c.json(reqwest::Method::POST, &approve("call_effect"), Some(json!({"approved": true}))).await;
    assert_eq!(st, 200, "{events}");
    let responses: Vec<&Value> = events
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|e| e["content"]["parts"].as_array().into_iter().flatten())
        .filter_map(|p| p.get("functionResponse"))
        .collect();
    let of = |id: &str| {
        responses
            .iter()
            .find(|r| r["id"] == id)
            .copied()
            .unwrap_or_else(|| panic!("no response to {id}: {events}"))
    };
    assert!(
        of("call_effect")["response"].get("error").is_none(),
        "the finished call's recorded result is reused: {}",
        of("call_effect")
    );
    let slow = of("call_slow")["response"]["error"].as_str().unwrap_or_default().to_string();
    assert!(slow.contains("interrupted") && slow.contains("not run again"), "{slow}");
    assert!(events.to_string().contains("all done"), "{events}");
    assert_eq!(
        std::fs::read_to_string(&effect).unwrap(),
        "ran\n",
        "the approved call that had finished before the kill ran exactly once"
    );
    let s = c.stored("approver", &paused).await;
    assert_eq!(s["version"].as_u64().unwrap() as usize, s["events"].as_array().unwrap().len());
}
