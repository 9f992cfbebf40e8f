//! OTLP/HTTP export of the traces (`[telemetry] otlp_endpoint`): a collector on 127.0.0.1
//! receives a scripted run's spans (invocation, agent, model calls with token counts, the
//! tool call) linked parent to child, the same spans ADK's UI shows; a server without an
//! endpoint sends nothing; an unreachable collector never fails a run.

use crate::common;
use common::{start, Opts, Server};
use serde_json::{json, Value};
use std::collections::HashMap;
use std::time::Duration;
use tokio::sync::mpsc;
use vana_testkit::ScriptedTurn;

/// A collector on loopback: its base URL and the request bodies POSTed to `/v1/traces`.
async fn collector() -> (String, mpsc::UnboundedReceiver<Value>) {
    use axum::routing::post;
    let (tx, rx) = mpsc::unbounded_channel::<Value>();
    let app = axum::Router::new().route(
        "/v1/traces",
        post(move |headers: axum::http::HeaderMap, body: String| {
            let tx = tx.clone();
            async move {
                assert_eq!(headers["content-type"], "application/json");
                let _ = tx.send(serde_json::from_str(&body).expect("an OTLP JSON body"));
                axum::Json(json!({}))
            }
        }),
    );
    let l = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", l.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(l, app).await });
    (url, rx)
}

/// The spans of one ExportTraceServiceRequest.
fn spans_of(body: &Value) -> Vec<Value> {
    body["resourceSpans"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|r| r["scopeSpans"].as_array().unwrap().iter())
        .flat_map(|s| s["spans"].as_array().unwrap().iter().cloned())
        .collect()
}

fn attr<'a>(span: &'a Value, key: &str) -> Option<&'a Value> {
    span["attributes"].as_array()?.iter().find(|a| a["key"] == key).map(|a| &a["value"])
}

/// Runs make_chart then answers, with token usage on both model calls; returns the session.
async fn scripted_run(s: &Server) -> String {
    let id = s.session("helper").await;
    s.model.push(ScriptedTurn::call("make_chart", json!({"title": "q3"})).with_usage(31, 9));
    s.model.push(ScriptedTurn::text("The chart is saved.").with_usage(48, 12));
    let (st, events) = s.post("/run", Server::run_body("helper", &id, "chart q3", false)).await;
    assert_eq!(st, 200, "{events}");
    assert_eq!(
        events.as_array().unwrap().last().unwrap()["content"]["parts"][0]["text"],
        "The chart is saved."
    );
    id
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_collector_receives_the_runs_spans_with_links_and_token_counts() {
    let (url, mut rx) = collector().await;
    // A server without an endpoint runs first, then one exporting to the collector: only the
    // second one's spans arrive.
    let quiet = start(Opts::default()).await;
    let quiet_session = scripted_run(&quiet).await;
    let s = start(Opts { otlp_endpoint: url.clone(), ..Default::default() }).await;
    let session = scripted_run(&s).await;

    let body =
        tokio::time::timeout(Duration::from_secs(60), rx.recv()).await.expect("spans exported").unwrap();
    let resource = &body["resourceSpans"][0]["resource"]["attributes"];
    assert!(resource
        .as_array()
        .unwrap()
        .contains(&json!({"key": "service.name", "value": {"stringValue": "vana"}})));
    let spans = spans_of(&body);
    let names: Vec<&str> = spans.iter().map(|s| s["name"].as_str().unwrap()).collect();
    assert_eq!(names.iter().filter(|n| **n == "call_llm").count(), 2, "two model calls: {names:?}");
    for n in ["invocation", "invoke_agent helper", "execute_tool make_chart"] {
        assert!(names.contains(&n), "{n} in {names:?}");
    }
    // Every span belongs to this run's session.
    let conv: Vec<&Value> = spans.iter().filter_map(|s| attr(s, "gen_ai.conversation.id")).collect();
    assert!(!conv.is_empty() && conv.iter().all(|c| c["stringValue"] == session.as_str()), "{conv:?}");
    assert!(!body.to_string().contains(&quiet_session), "the server without an endpoint sent nothing");

    // Ids in OTLP's hex form, one trace, times as strings, parent links.
    let by_name = |n: &str| spans.iter().find(|s| s["name"] == n).unwrap();
    let trace = by_name("invocation")["traceId"].as_str().unwrap();
    let hex = |s: &str, len: usize| s.len() == len && s.bytes().all(|b| b.is_ascii_hexdigit());
    assert!(hex(trace, 32) && trace.bytes().any(|b| b != b'0'), "{trace}");
    let ids: HashMap<&str, &str> =
        spans.iter().map(|s| (s["spanId"].as_str().unwrap(), s["name"].as_str().unwrap())).collect();
    for sp in &spans {
        assert_eq!(sp["traceId"], trace);
        assert!(hex(sp["spanId"].as_str().unwrap(), 16), "{sp}");
        let start: u64 = sp["startTimeUnixNano"].as_str().unwrap().parse().unwrap();
        let end: u64 = sp["endTimeUnixNano"].as_str().unwrap().parse().unwrap();
        assert!(start > 1_600_000_000_000_000_000 && end >= start, "{sp}");
    }
    let parent = |n: &str| by_name(n)["parentSpanId"].as_str().map(|p| ids[p]);
    assert_eq!(parent("invocation"), None);
    assert_eq!(parent("invoke_agent helper"), Some("invocation"));
    assert_eq!(parent("execute_tool make_chart"), Some("invoke_agent helper"));
    let llm: Vec<&Value> = spans.iter().filter(|s| s["name"] == "call_llm").collect();
    for l in &llm {
        assert_eq!(l["parentSpanId"].as_str().map(|p| ids[p]), Some("invoke_agent helper"));
    }
    // Token counts as OTLP intValues (decimal strings), per model call.
    let mut tokens: Vec<(String, String)> = llm
        .iter()
        .map(|l| {
            let get = |k| attr(l, k).unwrap()["intValue"].as_str().unwrap().to_string();
            (get("gen_ai.usage.input_tokens"), get("gen_ai.usage.output_tokens"))
        })
        .collect();
    tokens.sort();
    assert_eq!(tokens, [("31".to_string(), "9".to_string()), ("48".to_string(), "12".to_string())]);
    assert_eq!(
        attr(by_name("execute_tool make_chart"), "gen_ai.tool.name").unwrap()["stringValue"],
        "make_chart"
    );
    // Message contents stay out unless `capture_content` is on.
    assert!(attr(llm[0], "gcp.vertex.agent.llm_response").is_none());
    assert!(!body.to_string().contains("The chart is saved."));

    // The same spans as ADK's UI gets from the trace route (one derivation).
    let (st, ui) = s.get(&format!("/dev/apps/helper/debug/trace/session/{session}")).await;
    assert_eq!(st, 200);
    let mut ui_ids: Vec<String> =
        ui.as_array().unwrap().iter().map(|s| format!("{:016x}", s["span_id"].as_u64().unwrap())).collect();
    let mut otlp_ids: Vec<String> = ids.keys().map(|s| s.to_string()).collect();
    ui_ids.sort();
    otlp_ids.sort();
    assert_eq!(ui_ids, otlp_ids);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn an_unreachable_collector_never_fails_a_run() {
    // A port nothing listens on any more.
    let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}", l.local_addr().unwrap());
    drop(l);
    let s = start(Opts { otlp_endpoint: url, ..Default::default() }).await;
    scripted_run(&s).await;
    // And again: the exporter keeps going after a failure.
    scripted_run(&s).await;
}

#[tokio::test]
async fn an_endpoint_that_is_no_collector_url_is_refused_at_start() {
    let dir = tempfile::tempdir().unwrap();
    let mut config = vana_app::Config::default();
    config.store.url = format!("sqlite://{}", dir.path().join("vana.db").display());
    config.agents.dir = dir.path().join("agents").display().to_string();
    config.telemetry.otlp_endpoint = "file:///etc/passwd".into();
    let app = vana_app::App::open(config).await.unwrap();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let err =
        vana_server::serve_with_shutdown(app, listener, Default::default(), async {}).await.unwrap_err();
    let msg = err.to_string();
    assert!(msg.contains("otlp_endpoint") && msg.contains("http"), "{msg}");
}
