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

/// ADK's UI's eval flow without auth (as in front of `adk web`): a set, the session added as a
/// case, a run with the UI's metrics, and the run's session with its traces, which the UI opens
/// by session and event id only.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn eval_set_from_a_session_runs_and_its_sessions_traces_open() {
    let s = start(Opts { no_auth: true, ..Default::default() }).await;
    let post = |path: &str, body: Value| {
        let r = s.http.post(format!("{}{path}", s.base)).json(&body).send();
        async move {
            let r = r.await.unwrap();
            (r.status().as_u16(), r.json::<Value>().await.unwrap_or(Value::Null))
        }
    };
    let get = |path: &str| {
        let r = s.http.get(format!("{}{path}", s.base)).send();
        async move {
            let r = r.await.unwrap();
            (r.status().as_u16(), r.json::<Value>().await.unwrap_or(Value::Null))
        }
    };
    let (_, session) = post("/apps/helper/users/user/sessions", json!({})).await;
    let id = session["id"].as_str().unwrap().to_string();
    for _ in 0..2 {
        s.model.push(ScriptedTurn::call("make_chart", json!({"title": "q3"})).with_usage(10, 2));
        s.model.push(ScriptedTurn::text("Done: the chart is saved.").with_usage(20, 6));
    }
    let mut body = common::Server::run_body("helper", &id, "chart it", false);
    body["userId"] = json!("user");
    assert_eq!(post("/run", body).await.0, 200);

    let (st, v) = post("/dev/apps/helper/eval-sets", json!({"evalSet": {"evalSetId": "ui_set"}})).await;
    assert_eq!(st, 200, "{v}");
    let (st, v) = post(
        "/dev/apps/helper/eval_sets/ui_set/add_session",
        json!({"evalId": "chart_case", "sessionId": id, "userId": "user"}),
    )
    .await;
    assert_eq!(st, 200, "{v}");
    let (_, cases) = get("/dev/apps/helper/eval_sets/ui_set/evals").await;
    assert_eq!(cases, json!(["chart_case"]));
    let metrics = json!([{"metricName": "tool_trajectory_avg_score", "threshold": 1.0},
                         {"metricName": "response_match_score", "threshold": 0.7}]);
    let (st, run) =
        post("/dev/apps/helper/eval-sets/ui_set/run", json!({"evalCaseIds": [], "evalMetrics": metrics}))
            .await;
    assert_eq!(st, 200, "{run}");
    let case = &run["runEvalResults"][0];
    assert_eq!(case["finalEvalStatus"], 1, "PASSED: {case}");
    let scores: Vec<f64> = case["overallEvalMetricResults"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["score"].as_f64().unwrap())
        .collect();
    assert_eq!(scores, [1.0, 1.0]);

    // The run's session, its traces and an event's trace, as the UI opens them.
    let (eval_session, eval_user) = (case["sessionId"].as_str().unwrap(), case["userId"].as_str().unwrap());
    let (st, sess) = get(&format!("/apps/helper/users/{eval_user}/sessions/{eval_session}")).await;
    assert_eq!(st, 200, "{sess}");
    let (st, spans) = get(&format!("/dev/apps/helper/debug/trace/session/{eval_session}")).await;
    assert_eq!(st, 200);
    let names: Vec<&str> = spans.as_array().unwrap().iter().map(|s| s["name"].as_str().unwrap()).collect();
    assert!(names.contains(&"call_llm") && names.contains(&"execute_tool make_chart"), "{names:?}");
    let event = sess["events"].as_array().unwrap().last().unwrap()["id"].as_str().unwrap();
    let (st, t) = get(&format!("/dev/apps/helper/debug/trace/{event}")).await;
    assert_eq!(st, 200, "{t}");
    let (_, results) = get("/dev/apps/helper/eval_results").await;
    assert_eq!(results.as_array().map(Vec::len), Some(1), "{results}");
}
