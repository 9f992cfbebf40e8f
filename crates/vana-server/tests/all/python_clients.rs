//! The official `openai` Python package and `httpx-sse` against a real server. The venv comes
//! from `scripts/setup-server.sh` (`.cache/server-venv`); without it this test fails, saying so.

use crate::common;

use common::{start, Opts};
use vana_testkit::ScriptedTurn;

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn openai_package_and_httpx_sse_talk_to_the_server() {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    let python = root.join(".cache/server-venv/bin/python");
    assert!(
        python.exists(),
        "{} missing: run scripts/setup-server.sh first (installs openai and httpx-sse from PyPI)",
        python.display()
    );
    let s = start(Opts::default()).await;
    s.model.push(ScriptedTurn::text("Paris.").with_usage(7, 5));
    s.model.push(ScriptedTurn::text("one two three"));
    s.model.push(ScriptedTurn::text("alpha beta gamma delta"));
    let script = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/openai_client.py");
    let out = tokio::process::Command::new(&python)
        .arg(&script)
        .arg(&s.base)
        .arg(&s.key)
        .output()
        .await
        .expect("run python");
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "python client failed:\nstdout: {stdout}\nstderr: {stderr}");
    let v: serde_json::Value = serde_json::from_str(stdout.trim()).expect("json line");
    assert_eq!(v["text"], "Paris.");
    assert!(v["sse_events"].as_u64().unwrap() >= 3);
}
