//! Cost of one delegated task with and without the orchestrator's recap turn, on the scripted
//! model: `cargo bench -p vana-core --bench delegation`.
//!
//! The orchestrator hands the task to a specialist, which calls a tool and answers. Each model
//! call of the scripted model waits `MODEL_MS` (a stand-in for a provider's latency), so the
//! wall time follows the number of model calls. Both settings run interleaved in the same
//! process; the figures are medians over `TASKS` tasks and the ratio is after/before.

use async_trait::async_trait;
use serde_json::{json, Value};
use std::sync::Arc;
use std::time::{Duration, Instant};
use vana_core::agent::TRANSFER_TOOL;
use vana_core::{LlmAgent, RunConfig, Runner, Tool, ToolContext, ToolError, ToolOutput};
use vana_testkit::{run, MemoryStore, ScriptedModel, ScriptedTurn};

const TASKS: usize = 30;
const MODEL_MS: u64 = 20;

/// Adds two numbers (the specialist's tool).
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
        let sum = args["a"].as_f64().unwrap_or(0.0) + args["b"].as_f64().unwrap_or(0.0);
        Ok(ToolOutput::json(json!({"sum": sum})))
    }
}

/// One delegated task; returns its model calls and wall time.
async fn task(return_to_parent: bool) -> (usize, Duration) {
    let d = Duration::from_millis(MODEL_MS);
    let mut vana_turns =
        vec![ScriptedTurn::call(TRANSFER_TOOL, json!({"agent_name": "data_science"})).with_delay(d)];
    if return_to_parent {
        vana_turns.push(ScriptedTurn::text("data_science says the sum is 3.").with_delay(d));
    }
    let vana_model = Arc::new(ScriptedModel::named("vana-model", vana_turns));
    let ds_model = Arc::new(ScriptedModel::named(
        "ds-model",
        vec![
            ScriptedTurn::call("add", json!({"a": 1, "b": 2})).with_delay(d),
            ScriptedTurn::text("The sum is 3.").with_delay(d),
        ],
    ));
    let ds =
        LlmAgent::builder("data_science", ds_model.clone()).description("Data").tool(Arc::new(Add)).build();
    let vana =
        LlmAgent::builder("vana", vana_model.clone()).description("Orchestrator").sub_agent(ds).build();
    let runner = Runner::new(vana, Arc::new(MemoryStore::new()))
        .with_config(RunConfig { return_to_parent, ..Default::default() });
    let started = Instant::now();
    let (_, events, _) = run(&runner, "add 1 and 2").await;
    let wall = started.elapsed();
    assert!(events.iter().any(|e| e.text().contains("The sum is 3.")));
    (vana_model.requests().len() + ds_model.requests().len(), wall)
}

fn median(mut v: Vec<Duration>) -> Duration {
    v.sort();
    v[v.len() / 2]
}

#[tokio::main(flavor = "current_thread")]
async fn main() {
    let (mut before, mut after) = (Vec::new(), Vec::new());
    let (mut calls_before, mut calls_after) = (0, 0);
    for _ in 0..TASKS {
        let (c, t) = task(true).await;
        calls_before = c;
        before.push(t);
        let (c, t) = task(false).await;
        calls_after = c;
        after.push(t);
    }
    let (b, a) = (median(before), median(after));
    println!("delegated task on the scripted model ({MODEL_MS} ms per model call, median of {TASKS}):");
    println!(
        "  return_to_parent = true  (recap, before): {calls_before} model calls, {:.1} ms",
        b.as_secs_f64() * 1e3
    );
    println!(
        "  return_to_parent = false (ADK, default):  {calls_after} model calls, {:.1} ms",
        a.as_secs_f64() * 1e3
    );
    println!(
        "  after/before: model calls {:.2}, wall time {:.2}",
        calls_after as f64 / calls_before as f64,
        a.as_secs_f64() / b.as_secs_f64()
    );
}
