//! The VirusTotal v3 client against a local server (127.0.0.1) speaking v3's wire format
//! (VirusTotal itself is on the internet only): hash lookup of a known and an unknown file
//! without sending the file, an upload that requires approval, key errors, no key.

mod common;

use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::routing::{get, post};
use axum::{Json, Router};
use common::Env;
use serde_json::{json, Value};
use sha2::{Digest, Sha256};
use std::sync::{Arc, Mutex};

const KEY: &str = "test-key-0123456789";

#[derive(Default)]
struct Seen {
    lookups: Vec<String>,
    uploads: Vec<Vec<u8>>,
}

type Shared = Arc<Mutex<(Seen, String)>>;

fn authorised(h: &HeaderMap) -> bool {
    h.get("x-apikey").and_then(|v| v.to_str().ok()) == Some(KEY)
}

fn wrong_key() -> (StatusCode, Json<Value>) {
    (
        StatusCode::UNAUTHORIZED,
        Json(json!({"error": {"code": "WrongCredentialsError", "message": "Wrong API key"}})),
    )
}

async fn file(State(s): State<Shared>, h: HeaderMap, Path(id): Path<String>) -> (StatusCode, Json<Value>) {
    if !authorised(&h) {
        return wrong_key();
    }
    let mut g = s.lock().unwrap();
    g.0.lookups.push(id.clone());
    if id != g.1 {
        return (
            StatusCode::NOT_FOUND,
            Json(json!({"error": {"code": "NotFoundError", "message": format!("File \"{id}\" not found")}})),
        );
    }
    (
        StatusCode::OK,
        Json(json!({"data": {"type": "file", "id": id, "attributes": {
            "meaningful_name": "invoice.exe",
            "type_description": "Win32 EXE",
            "size": 68,
            "reputation": -42,
            "last_analysis_date": 1_760_000_000,
            "last_analysis_stats": {"harmless": 0, "malicious": 2, "suspicious": 1, "undetected": 60, "timeout": 0},
            "last_analysis_results": {
                "EngineA": {"category": "malicious", "engine_name": "EngineA", "result": "Trojan.Generic"},
                "EngineB": {"category": "malicious", "engine_name": "EngineB", "result": "W32/Agent"},
                "EngineC": {"category": "suspicious", "engine_name": "EngineC", "result": "heuristic"},
                "EngineD": {"category": "undetected", "engine_name": "EngineD", "result": null}
            }
        }}})),
    )
}

async fn upload(State(s): State<Shared>, h: HeaderMap, body: axum::body::Bytes) -> (StatusCode, Json<Value>) {
    if !authorised(&h) {
        return wrong_key();
    }
    let ct = h.get("content-type").and_then(|v| v.to_str().ok()).unwrap_or("");
    if !ct.starts_with("multipart/form-data; boundary=") || !body.windows(13).any(|w| w == b"name=\"file\"; ")
    {
        return (
            StatusCode::BAD_REQUEST,
            Json(json!({"error": {"code": "BadRequestError", "message": "no file part"}})),
        );
    }
    s.lock().unwrap().0.uploads.push(body.to_vec());
    (
        StatusCode::OK,
        Json(json!({"data": {"type": "analysis", "id": "YW5hbHlzaXMtMQ==", "links": {"self": "x"}}})),
    )
}

async fn analysis(h: HeaderMap, Path(id): Path<String>) -> (StatusCode, Json<Value>) {
    if !authorised(&h) {
        return wrong_key();
    }
    (
        StatusCode::OK,
        Json(
            json!({"data": {"type": "analysis", "id": id, "attributes": {"status": "queued", "stats": {"malicious": 0}}}}),
        ),
    )
}

async fn server(known: String) -> (String, Shared) {
    let state: Shared = Arc::new(Mutex::new((Seen::default(), known)));
    let app = Router::new()
        .route("/api/v3/files/{id}", get(file))
        .route("/api/v3/files", post(upload))
        .route("/api/v3/analyses/{id}", get(analysis))
        .with_state(state.clone());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    (url, state)
}

fn sha(b: &[u8]) -> String {
    Sha256::digest(b).iter().map(|x| format!("{x:02x}")).collect()
}

fn env_for(url: &str, key: Option<&str>) -> Env {
    let url = url.to_string();
    let key = key.map(str::to_string);
    Env::with(move |c| {
        c.virustotal_url = url;
        c.virustotal_api_key = key;
        c.virustotal_key_env = "VANA_TEST_VT_KEY_NEVER_SET".into();
        c.policy.allowed_hosts = vec!["127.0.0.1".into()];
    })
}

#[tokio::test(flavor = "multi_thread")]
async fn lookup_by_hash_first_and_upload_only_as_an_approved_call() {
    let known = b"MZ pretend this is an executable".to_vec();
    let (url, seen) = server(sha(&known)).await;
    let env = env_for(&url, Some(KEY));
    env.put("s1", "mail/invoice.exe", &known);
    env.put("s1", "mail/notes.txt", b"fresh file nobody has seen\n");

    let r = env.ok("scan_file_virustotal", json!({"path": "mail/invoice.exe"})).await;
    assert_eq!((r["known"].as_bool(), r["verdict"].as_str()), (Some(true), Some("malicious")), "{r:#}");
    assert_eq!(r["stats"]["malicious"], 2);
    assert_eq!(
        r["detections"].as_array().unwrap().len(),
        3,
        "malicious and suspicious engines listed: {r:#}"
    );
    assert_eq!(r["sha256"], sha(&known));

    let r = env.ok("scan_file_virustotal", json!({"path": "mail/notes.txt"})).await;
    assert_eq!(r["known"], false, "{r:#}");
    assert!(r["next"].as_str().unwrap().contains("upload_file_virustotal"));
    {
        let g = seen.lock().unwrap();
        assert_eq!(g.0.lookups.len(), 2);
        assert!(g.0.uploads.is_empty(), "a lookup never sends the file");
    }

    // The upload tool asks for approval before it runs (the runner pauses on this flag).
    let upload_tool = env.tools.get("upload_file_virustotal").unwrap();
    assert!(upload_tool.requires_confirmation());
    assert!(!env.tools.get("scan_file_virustotal").unwrap().requires_confirmation());
    let r = env.ok("upload_file_virustotal", json!({"path": "mail/notes.txt"})).await;
    assert_eq!(
        (r["analysis_id"].as_str(), r["status"].as_str()),
        (Some("YW5hbHlzaXMtMQ=="), Some("queued")),
        "{r:#}"
    );
    let g = seen.lock().unwrap();
    assert_eq!(g.0.uploads.len(), 1);
    assert!(g.0.uploads[0].windows(26).any(|w| w == b"fresh file nobody has seen"));
    assert!(g.0.uploads[0].windows(20).any(|w| w == b"filename=\"notes.txt\""));
}

#[tokio::test(flavor = "multi_thread")]
async fn no_key_a_wrong_key_and_bad_input_are_clear_errors() {
    let (url, seen) = server(String::new()).await;
    let env = env_for(&url, None);
    let e = env.err("scan_file_virustotal", json!({"sha256": "a".repeat(64)})).await;
    assert!(matches!(e, vana_core::ToolError::Unavailable(_)), "{e}");
    assert!(e.to_string().contains("set VANA_TEST_VT_KEY_NEVER_SET"), "{e}");
    assert!(seen.lock().unwrap().0.lookups.is_empty(), "nothing is sent without a key");

    let env = env_for(&url, Some("wrong"));
    let e = env.err("scan_file_virustotal", json!({"sha256": "b".repeat(64)})).await.to_string();
    assert!(e.contains("refused the API key") && e.contains("WrongCredentialsError"), "{e}");

    let env = env_for(&url, Some(KEY));
    let e = env.err("scan_file_virustotal", json!({"sha256": "xyz"})).await.to_string();
    assert!(e.contains("not 64 hex digits"), "{e}");
    let e = env.err("scan_file_virustotal", json!({"path": "a", "sha256": "b"})).await.to_string();
    assert!(e.contains("not both"), "{e}");
    let e = env.err("upload_file_virustotal", json!({"path": "../../etc/shadow"})).await.to_string();
    assert!(e.contains("no `..`"), "{e}");

    // The default policy refuses a loopback VirusTotal URL (only the test allows it).
    let strict = {
        let url = url.clone();
        Env::with(move |c| {
            c.virustotal_url = url;
            c.virustotal_api_key = Some(KEY.into());
        })
    };
    let e = strict.err("scan_file_virustotal", json!({"sha256": "c".repeat(64)})).await;
    assert!(matches!(e, vana_core::ToolError::Blocked(_)), "{e}");
}
