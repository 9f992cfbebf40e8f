//! Runtime overhead benchmark: per model turn with the scripted in-process model and SQLite
//! persistence, memory per idle stored session, and invocation cost as a session grows.
//! Every figure is printed with a baseline measured in the same run.
//!
//! It lives with the store because it measures the runtime over the real SQLite file store
//! (vana-core's own tests use no store crate).
//!
//! Run: `cargo bench -p vana-store --bench runtime` (add `-- --quick` for a short run).

use async_trait::async_trait;
use serde_json::{json, Value};
use std::sync::Arc;
use std::time::{Duration, Instant};
use vana_core::{
    Content, Event, EventWindow, LlmAgent, LlmRequest, Model, Runner, SessionStore, Tool, ToolContext,
    ToolError, ToolOutput,
};
use vana_testkit::{ScriptedModel, ScriptedTurn};

struct Add;

#[async_trait]
impl Tool for Add {
    fn name(&self) -> &str {
        "add"
    }
    fn description(&self) -> &str {
        "Adds a and b."
    }
    fn parameters(&self) -> Value {
        json!({"type": "object", "properties": {"a": {"type": "number"}, "b": {"type": "number"}}})
    }
    async fn call(&self, args: Value, _ctx: ToolContext) -> Result<ToolOutput, ToolError> {
        Ok(ToolOutput::json(
            json!({"sum": args["a"].as_f64().unwrap_or(0.0) + args["b"].as_f64().unwrap_or(0.0)}),
        ))
    }
}

fn script() -> Vec<ScriptedTurn> {
    vec![
        ScriptedTurn::call("add", json!({"a": 1, "b": 2})).with_usage(50, 10),
        ScriptedTurn::text("The sum is 3.").with_usage(70, 5),
    ]
}

/// An instant model that alternates a tool call and an answer and keeps nothing (the scripted
/// model records every request, which a long benchmark must not measure).
struct Instant2 {
    n: std::sync::atomic::AtomicU64,
}

#[async_trait]
impl Model for Instant2 {
    fn name(&self) -> &str {
        "instant"
    }
    async fn generate(
        &self,
        _req: std::sync::Arc<LlmRequest>,
        _stream: bool,
    ) -> Result<vana_core::LlmResponseStream, vana_core::ModelError> {
        let i = self.n.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let part = if i.is_multiple_of(2) {
            vana_core::Part::function_call(vana_core::FunctionCall {
                id: None,
                name: "add".into(),
                args: json!({"a": 1, "b": 2}),
            })
        } else {
            vana_core::Part::text("The sum is 3.")
        };
        let r = vana_core::LlmResponse {
            content: Some(Content { role: "model".into(), parts: vec![part] }),
            partial: false,
            turn_complete: true,
            usage: Some(vana_core::UsageMetadata::new(60, 8)),
            finish_reason: None,
        };
        Ok(Box::pin(futures::stream::iter(vec![Ok(r)])))
    }
}

fn percentile(v: &mut [Duration], p: f64) -> Duration {
    v.sort();
    v[((v.len() - 1) as f64 * p).round() as usize]
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

fn rss_kib() -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmRSS:"))
                .and_then(|l| l.split_whitespace().nth(1)?.parse().ok())
        })
        .unwrap_or(0)
}

fn temp_store() -> (Arc<dyn SessionStore>, std::path::PathBuf) {
    let path = std::env::temp_dir().join(format!("vana-bench-{}.db", uuid::Uuid::new_v4()));
    (Arc::new(vana_store::SqliteStore::open(&path).expect("sqlite")), path)
}

fn runner(store: Arc<dyn SessionStore>) -> Runner {
    let model = Arc::new(Instant2 { n: Default::default() });
    let agent = LlmAgent::builder("vana", model).tool(Arc::new(Add)).build();
    Runner::new(agent, store)
}

async fn invoke(r: &Runner, session: &str) -> Duration {
    let t = Instant::now();
    let inv = r.run("u", session, Content::user_text("add 1 and 2"), false).await.expect("run");
    let (events, _) = inv.collect().await;
    assert_eq!(events.len(), 4, "user, call, response, answer");
    t.elapsed()
}

/// The same work without the runtime: the model calls and the four event writes, done directly.
async fn bare(
    model: &ScriptedModel,
    store: &Arc<dyn SessionStore>,
    session: &str,
    version: &mut u64,
) -> Duration {
    use futures::StreamExt;
    let t = Instant::now();
    let mut e = Event::new("i", "user");
    e.content = Some(Content::user_text("add 1 and 2"));
    *version = store.append_event("vana", "u", session, *version, &e).await.unwrap();
    for _ in 0..2 {
        let mut s = model.generate(LlmRequest::default().into(), false).await.unwrap();
        while let Some(r) = s.next().await {
            let r = r.unwrap();
            let mut e = Event::new("i", "vana");
            e.content = r.content;
            *version = store.append_event("vana", "u", session, *version, &e).await.unwrap();
        }
    }
    let mut e = Event::new("i", "vana");
    e.content = Some(Content::user_text("{\"sum\":3}"));
    *version = store.append_event("vana", "u", session, *version, &e).await.unwrap();
    t.elapsed()
}

fn main() {
    let quick = std::env::args().any(|a| a == "--quick");
    let rt = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().unwrap();
    rt.block_on(async move {
        let n = if quick { 300 } else { 2000 };
        println!("== per-turn overhead: invocation of 2 model turns + 1 tool call, SQLite file store, fresh sessions ==");
        let (store, path) = temp_store();
        let r = runner(store.clone());
        let model = ScriptedModel::repeating("bare", script());
        // Warm up both paths.
        for _ in 0..50 {
            let s = r.create_session("u").await.unwrap().id;
            invoke(&r, &s).await;
        }
        let mut runtime = Vec::with_capacity(n);
        let mut baseline = Vec::with_capacity(n);
        for _ in 0..n {
            let s = r.create_session("u").await.unwrap().id;
            runtime.push(invoke(&r, &s).await);
            let s = store.create_session("vana", "u", None, Default::default()).await.unwrap().id;
            let mut v = 0;
            baseline.push(bare(&model, &store, &s, &mut v).await);
        }
        let (rp50, rp99) = (percentile(&mut runtime, 0.5), percentile(&mut runtime, 0.99));
        let (bp50, bp99) = (percentile(&mut baseline, 0.5), percentile(&mut baseline, 0.99));
        println!("baseline (model calls + 4 event writes, no runtime): p50 {:.3} ms  p99 {:.3} ms", ms(bp50), ms(bp99));
        println!("runtime invocation:                                  p50 {:.3} ms  p99 {:.3} ms", ms(rp50), ms(rp99));
        println!(
            "per model turn (invocation / 2):                     p50 {:.3} ms  (target < 1 ms; ratio runtime/baseline {:.2}x)",
            ms(rp50) / 2.0,
            rp50.as_secs_f64() / bp50.as_secs_f64()
        );
        let _ = std::fs::remove_file(&path);

        println!("\n== resident memory per idle stored session ==");
        let (store, path) = temp_store();
        let r = runner(store.clone());
        let sessions = if quick { 2000 } else { 10_000 };
        // Warm the allocator and SQLite's page cache first so the baseline is steady.
        for _ in 0..200 {
            let s = r.create_session("u").await.unwrap().id;
            invoke(&r, &s).await;
        }
        let before = rss_kib();
        for _ in 0..sessions {
            let s = r.create_session("u").await.unwrap().id;
            invoke(&r, &s).await;
        }
        let after = rss_kib();
        let per = (after.saturating_sub(before) as f64 * 1024.0) / sessions as f64;
        println!(
            "RSS before {before} KiB, after {sessions} sessions with one invocation each {after} KiB: {per:.0} bytes per idle session (target < 1024; ADK 2.13 in-memory: 1.6 KB empty, 5.8 KB with one event)"
        );
        let _ = std::fs::remove_file(&path);

        println!("\n== invocation cost on one growing session ==");
        let (store, path) = temp_store();
        let r = runner(store.clone());
        let s = r.create_session("u").await.unwrap().id;
        let total = 1000;
        let mut times = Vec::with_capacity(total);
        for _ in 0..total {
            times.push(invoke(&r, &s).await);
        }
        let window = |from: usize| {
            let mut w: Vec<Duration> = times[from..(from + 10).min(total)].to_vec();
            percentile(&mut w, 0.5)
        };
        let first = window(0);
        for (label, from) in [("1", 0usize), ("100", 95), ("1000", 990)] {
            let t = window(from);
            println!(
                "invocation #{label:<5} median of 10: {:.3} ms  ratio to #1: {:.2}x",
                ms(t),
                t.as_secs_f64() / first.as_secs_f64()
            );
        }
        let mut loads = Vec::new();
        for _ in 0..20 {
            let t = Instant::now();
            store.get_session("vana", "u", &s, EventWindow::Last(400)).await.unwrap();
            loads.push(t.elapsed());
        }
        println!("of which loading the 400-event history window: {:.3} ms", ms(percentile(&mut loads, 0.5)));
        let stored = store.get_session("vana", "u", &s, EventWindow::Last(1)).await.unwrap().unwrap();
        println!("session length at the end: {} events (target: flat cost)", stored.version);
        let _ = std::fs::remove_file(&path);
    });
}
