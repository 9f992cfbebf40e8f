//! `vana serve` as a user runs it: a key from `vana keys create`, the real binary listening on
//! loopback, a run through the HTTP API with the scripted model, then `vana audit search`
//! finding that run; `--no-auth` refused on a public address.

use serde_json::{json, Value};
use std::io::{BufRead, BufReader};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

struct Home(PathBuf);

impl Drop for Home {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

fn vana(home: &Home, model: &str) -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_vana"));
    for (k, _) in std::env::vars().filter(|(k, _)| k.starts_with("VANA_")) {
        c.env_remove(k);
    }
    c.current_dir(&home.0)
        .env("VANA_HOME", &home.0)
        .env("VANA_MODELS_DEFAULT_MODEL", model)
        .env("NO_COLOR", "1");
    c
}

struct Killed(Child);
impl Drop for Killed {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

/// Minimal HTTP/1.1 client over std (the CLI crate has no HTTP client): returns status, body.
fn http(port: u16, method: &str, path: &str, key: &str, body: &Value) -> (u16, String) {
    use std::io::{Read, Write};
    let mut s = std::net::TcpStream::connect(("127.0.0.1", port)).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(20))).unwrap();
    let body = body.to_string();
    write!(s, "{method} {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nAuthorization: Bearer {key}\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}", body.len()).unwrap();
    let mut out = String::new();
    s.read_to_string(&mut out).unwrap();
    let status = out.split_whitespace().nth(1).unwrap().parse().unwrap();
    let body = out.split_once("\r\n\r\n").map(|(_, b)| b.to_string()).unwrap_or_default();
    // Chunked bodies: keep the JSON between the first '[' or '{' and the last bracket.
    let start = body.find(['[', '{']).unwrap_or(0);
    let end = body.rfind([']', '}']).map(|i| i + 1).unwrap_or(body.len());
    (status, body[start..end].to_string())
}

#[test]
fn serve_runs_an_agent_over_http_and_audit_search_finds_it() {
    let home = Home(std::env::temp_dir().join(format!("vana-serve-{}", uuid_like())));
    std::fs::create_dir_all(&home.0).unwrap();
    let script = home.0.join("script.json");
    std::fs::write(&script, json!([{"text": "pelican count is 7"}]).to_string()).unwrap();
    let model = format!("scripted:{}", script.display());
    let out = vana(&home, &model).args(["keys", "create", "dana"]).output().unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let key = String::from_utf8(out.stdout).unwrap().trim().to_string();
    assert!(key.starts_with("vana_"), "{key}");
    let listed = vana(&home, &model).args(["keys", "list"]).output().unwrap();
    let listed = String::from_utf8(listed.stdout).unwrap();
    assert!(listed.contains("dana") && !listed.contains(&key), "{listed}");

    let port = free_port();
    let mut child = vana(&home, &model)
        .args(["serve", "--bind", &format!("127.0.0.1:{port}")])
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let stderr = child.stderr.take().unwrap();
    let _child = Killed(child);
    let mut line = String::new();
    BufReader::new(stderr).read_line(&mut line).unwrap();
    assert!(line.contains("serving on"), "{line}");
    let deadline = Instant::now() + Duration::from_secs(20);
    while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
        assert!(Instant::now() < deadline, "server did not listen");
        std::thread::sleep(Duration::from_millis(100));
    }
    let (st, _) = http(port, "GET", "/list-apps", "wrong", &json!({}));
    assert_eq!(st, 401);
    let (st, body) = http(port, "POST", "/apps/code_execution/users/dana/sessions", &key, &json!({}));
    assert_eq!(st, 200, "{body}");
    let session = serde_json::from_str::<Value>(&body).unwrap()["id"].as_str().unwrap().to_string();
    let run = json!({"appName": "code_execution", "userId": "dana", "sessionId": session,
                     "newMessage": {"role": "user", "parts": [{"text": "count the pelicans"}]}});
    let (st, body) = http(port, "POST", "/run", &key, &run);
    assert_eq!(st, 200, "{body}");
    assert!(body.contains("pelican count is 7"), "{body}");
    drop(_child);

    let out = vana(&home, &model)
        .args(["audit", "search", "pelicans", "--agent", "code_execution"])
        .output()
        .unwrap();
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    assert!(text.contains("run code_execution: count the pelicans") && text.contains(&session), "{text}");

    let out = vana(&home, &model).args(["keys", "revoke", "dana"]).output().unwrap();
    assert!(out.status.success());
    let out = vana(&home, &model).args(["serve", "--bind", "0.0.0.0:0", "--no-auth"]).output().unwrap();
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("refusing to run without authentication"));
}

fn uuid_like() -> String {
    format!("{}-{:?}", std::process::id(), Instant::now())
        .chars()
        .filter(|c| c.is_ascii_alphanumeric())
        .collect()
}
