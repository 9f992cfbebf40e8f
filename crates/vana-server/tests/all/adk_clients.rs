//! Google ADK's own `AdkWebServerClient` (google-adk 2.13, `google/adk/cli/conformance/
//! adk_web_server_client.py`) and the official `openai` package against a real server. The
//! venv comes from `scripts/setup-adk.sh` (`.cache/adk-venv`); without it these tests fail,
//! saying so.

use crate::common;

use common::{start, Opts};
use serde_json::{json, Value};
use vana_testkit::ScriptedTurn;

fn python() -> std::path::PathBuf {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    let python = root.join(".cache/adk-venv/bin/python");
    assert!(
        python.exists(),
        "{} missing: run scripts/setup-adk.sh first (installs google-adk and openai from PyPI)",
        python.display()
    );
    python
}

async fn run_script(script: &str, args: &[&str]) -> Value {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests").join(script);
    let out =
        tokio::process::Command::new(python()).arg(&path).args(args).output().await.expect("run python");
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{script} failed:\nstdout: {stdout}\nstderr: {stderr}");
    serde_json::from_str(stdout.trim().lines().last().unwrap_or("")).expect("one JSON line")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn adk_web_server_client_drives_sessions_runs_and_artifacts() {
    // ADK's client sends no key: a dev server on loopback, as `adk web` is.
    let s = start(Opts { no_auth: true, ..Opts::default() }).await;
    s.model.push(ScriptedTurn::call("make_chart", json!({})).with_usage(9, 2));
    s.model.push(ScriptedTurn::text("Here is the chart.").with_usage(14, 5));
    let v = run_script("adk_client.py", &[&s.base]).await;
    assert_eq!(v["artifact"], "image/png", "{v}");
    // make_chart's call, its response (with the artifact) and the answer; never the user's event.
    assert_eq!(v["events"], 3, "{v}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn official_openai_client_chats_streams_lists_and_gets_openai_errors() {
    let s = start(Opts::default()).await;
    s.model.push(ScriptedTurn::text("Paris.").with_usage(7, 5));
    s.model.push(ScriptedTurn::text("one two three").with_usage(3, 3));
    let v = run_script("openai_compat.py", &[&s.base, &s.key]).await;
    assert_eq!(v["text"], "Paris.", "{v}");
    assert_eq!(v["usage"], json!([7, 5, 12]), "{v}");
    assert_eq!(v["streamed"], "one two three", "{v}");
    assert_eq!(v["unknown_model"], 404, "{v}");
    assert_eq!(v["bad_key"], 401, "{v}");
    assert_eq!(v["bad_request"], 400, "{v}");
}

/// One SSE body's events.
fn sse_events(body: &str) -> Vec<Value> {
    body.lines()
        .filter_map(|l| l.strip_prefix("data:"))
        .filter_map(|d| serde_json::from_str(d.trim()).ok())
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn run_sse_streams_no_user_echo_and_dev_routes_answer() {
    let s = start(Opts::default()).await;
    let id = s.session("helper").await;
    s.model.push(ScriptedTurn::call("make_chart", json!({"title": "q3"})).with_usage(10, 2));
    s.model.push(ScriptedTurn::text("Done: the chart is saved.").with_usage(20, 6));
    let mut body = common::Server::run_body("helper", &id, "chart it", true);
    body["stateDelta"] = json!({"quarter": "Q3"});
    let r = s.http.post(format!("{}/run_sse", s.base)).bearer_auth(&s.key).json(&body).send().await.unwrap();
    assert_eq!(r.status(), 200);
    let events: Vec<Value> =
        sse_events(&r.text().await.unwrap()).into_iter().filter(|e| e["partial"] != true).collect();
    let authors: Vec<&str> = events.iter().map(|e| e["author"].as_str().unwrap_or("")).collect();
    assert!(!authors.contains(&"user"), "no echo of the user's own event: {authors:?}");
    assert_eq!(authors.len(), 3, "{events:?}");
    let (_, got) = s.get(&format!("/apps/helper/users/alice/sessions/{id}")).await;
    assert_eq!(got["state"]["quarter"], "Q3", "{got}");

    // Traces: invocation, agent, model calls with usage and durations, the tool call.
    let (st, spans) = s.get(&format!("/dev/apps/helper/debug/trace/session/{id}")).await;
    assert_eq!(st, 200, "{spans}");
    let spans = spans.as_array().unwrap();
    let names: Vec<&str> = spans.iter().map(|s| s["name"].as_str().unwrap()).collect();
    assert!(names.contains(&"invocation") && names.contains(&"invoke_agent helper"), "{names:?}");
    assert_eq!(names.iter().filter(|n| **n == "call_llm").count(), 2, "{names:?}");
    let tool = spans.iter().find(|s| s["name"] == "execute_tool make_chart").expect("tool span");
    assert!(tool["end_time"].as_u64() >= tool["start_time"].as_u64());
    let llm = spans.iter().find(|s| s["name"] == "call_llm").unwrap();
    assert_eq!(llm["attributes"]["gen_ai.usage.input_tokens"], 10);
    let event_id = llm["attributes"]["gcp.vertex.agent.event_id"].as_str().unwrap();
    let (st, t) = s.get(&format!("/dev/apps/helper/debug/trace/{event_id}")).await;
    assert_eq!(st, 200, "{t}");
    assert_eq!(t["gen_ai.usage.output_tokens"], 2);
    // Another user's session has no spans for bob.
    let r = s
        .http
        .get(format!("{}/dev/apps/helper/debug/trace/session/{id}", s.base))
        .bearer_auth(&s.bob_key)
        .send()
        .await
        .unwrap();
    assert_eq!(r.json::<Value>().await.unwrap(), json!([]));

    // The graph: DOT for ADK's UI, an SVG rendered here, per-event highlights.
    let (st, g) = s.get("/dev/apps/helper/build_graph_image?dark_mode=true").await;
    assert_eq!(st, 200, "{g}");
    assert!(g[""]["dotSrc"].as_str().unwrap().contains("\"helper\" -> \"make_chart\""), "{g}");
    assert!(g[""]["svg"].as_str().unwrap().starts_with("<svg"));
    let r = s
        .http
        .get(format!("{}/dev/apps/helper/graph?format=svg", s.base))
        .bearer_auth(&s.key)
        .send()
        .await
        .unwrap();
    assert_eq!(r.headers()["content-type"], "image/svg+xml");
    let call_event = events.iter().find(|e| e["content"]["parts"][0]["functionCall"].is_object()).unwrap();
    let (st, eg) = s
        .get(&format!(
            "/dev/apps/helper/users/alice/sessions/{id}/events/{}/graph",
            call_event["id"].as_str().unwrap()
        ))
        .await;
    assert_eq!(st, 200);
    assert!(
        eg["dotSrc"].as_str().unwrap().contains("\"helper\" -> \"make_chart\" [color=\"#69CB87\"]"),
        "{eg}"
    );

    // ADK's other UI routes answer (no 404): version, telemetry, app info, builder, tests.
    for path in [
        "/version",
        "/config/telemetry",
        "/apps/helper/app-info",
        "/dev/apps/helper/builder",
        "/dev/apps/helper/tests",
        "/dev/apps/helper/metrics-info",
        "/dev/apps/helper/eval_sets",
        "/dev/apps/helper/eval_results",
        "/health",
    ] {
        let r = s.http.get(format!("{}{path}", s.base)).bearer_auth(&s.key).send().await.unwrap();
        assert_eq!(r.status(), 200, "{path}");
    }
    let (_, t) = s.get("/config/telemetry").await;
    assert_eq!(t["telemetry"], false);
    let r = s
        .http
        .post(format!("{}/dev/apps/helper/builder/save", s.base))
        .bearer_auth(&s.key)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 501);
    assert!(r.text().await.unwrap().contains("agents dir"));
}
