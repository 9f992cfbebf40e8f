//! The runtime tests' own fixtures: tools that add, wait for each other, need approval, fail,
//! hang or leave a loop, and a store that "crashes"; the scripted model, the in-memory store and
//! the run helpers come from `vana-testkit`.
#![allow(dead_code)]

use async_trait::async_trait;
use serde_json::{json, Value};
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::Arc;
use std::time::Duration;
use vana_core::{Event, SessionStore, Tool, ToolContext, ToolError, ToolOutput};
pub use vana_testkit::{finals, run, run_on, MemoryStore};
use vana_testkit::{ScriptedModel, ScriptedTurn};

/// A scripted model for one agent.
pub fn model(name: &str, turns: Vec<ScriptedTurn>) -> Arc<ScriptedModel> {
    Arc::new(ScriptedModel::named(name, turns))
}

/// A fresh in-memory store (it passes the conformance suite of the SQLite and PostgreSQL stores).
pub fn store() -> Arc<dyn SessionStore> {
    Arc::new(MemoryStore::new())
}

/// Adds two numbers.
pub struct Add;

#[async_trait]
impl Tool for Add {
    fn name(&self) -> &str {
        "add"
    }
    fn description(&self) -> &str {
        "Adds a and b."
    }
    fn parameters(&self) -> Value {
        json!({"type": "object", "properties": {"a": {"type": "number"}, "b": {"type": "number"}}, "required": ["a", "b"]})
    }
    async fn call(&self, args: Value, _ctx: ToolContext) -> Result<ToolOutput, ToolError> {
        let a = args["a"].as_f64().ok_or_else(|| ToolError::InvalidArgs("a must be a number".into()))?;
        let b = args["b"].as_f64().ok_or_else(|| ToolError::InvalidArgs("b must be a number".into()))?;
        Ok(ToolOutput::json(json!({"sum": a + b})))
    }
}

/// Waits until `n` calls are inside it at once (proves concurrency), with a deadline.
pub struct Rendezvous {
    pub name: String,
    pub barrier: Arc<tokio::sync::Barrier>,
}

#[async_trait]
impl Tool for Rendezvous {
    fn name(&self) -> &str {
        &self.name
    }
    fn description(&self) -> &str {
        "Waits for its peers."
    }
    fn parameters(&self) -> Value {
        json!({"type": "object", "properties": {}})
    }
    async fn call(&self, args: Value, _ctx: ToolContext) -> Result<ToolOutput, ToolError> {
        match tokio::time::timeout(Duration::from_secs(5), self.barrier.wait()).await {
            Ok(_) => Ok(ToolOutput::json(json!({"met": true, "args": args}))),
            Err(_) => Err(ToolError::Failed("peers never arrived: calls did not run concurrently".into())),
        }
    }
}

/// Counts its runs; needs human approval.
pub struct Transfer {
    pub runs: Arc<AtomicU32>,
}

#[async_trait]
impl Tool for Transfer {
    fn name(&self) -> &str {
        "send_money"
    }
    fn description(&self) -> &str {
        "Sends money (needs approval)."
    }
    fn parameters(&self) -> Value {
        json!({"type": "object", "properties": {"amount": {"type": "number"}}})
    }
    fn requires_confirmation(&self) -> bool {
        true
    }
    async fn call(&self, args: Value, _ctx: ToolContext) -> Result<ToolOutput, ToolError> {
        let n = self.runs.fetch_add(1, Ordering::SeqCst) + 1;
        Ok(ToolOutput::json(json!({"sent": args["amount"], "run": n})))
    }
}

/// Always fails.
pub struct Broken;

#[async_trait]
impl Tool for Broken {
    fn name(&self) -> &str {
        "broken"
    }
    fn description(&self) -> &str {
        "Fails."
    }
    fn parameters(&self) -> Value {
        json!({"type": "object", "properties": {}})
    }
    async fn call(&self, _args: Value, _ctx: ToolContext) -> Result<ToolOutput, ToolError> {
        Err(ToolError::Failed("disk on fire".into()))
    }
}

/// Never returns unless cancelled; records whether its token fired.
pub struct Hang {
    pub cancelled: Arc<AtomicU32>,
}

#[async_trait]
impl Tool for Hang {
    fn name(&self) -> &str {
        "hang"
    }
    fn description(&self) -> &str {
        "Hangs."
    }
    fn parameters(&self) -> Value {
        json!({"type": "object", "properties": {}})
    }
    fn timeout(&self) -> Option<Duration> {
        Some(Duration::from_millis(200))
    }
    async fn call(&self, _args: Value, ctx: ToolContext) -> Result<ToolOutput, ToolError> {
        let flag = self.cancelled.clone();
        let token = ctx.cancel.clone();
        tokio::spawn(async move {
            token.cancelled().await;
            flag.fetch_add(1, Ordering::SeqCst);
        });
        std::future::pending::<()>().await;
        unreachable!()
    }
}

/// Sets escalate: leaves the enclosing loop.
pub struct ExitLoop;

#[async_trait]
impl Tool for ExitLoop {
    fn name(&self) -> &str {
        "exit_loop"
    }
    fn description(&self) -> &str {
        "Stops the loop."
    }
    fn parameters(&self) -> Value {
        json!({"type": "object", "properties": {}})
    }
    async fn call(&self, _args: Value, _ctx: ToolContext) -> Result<ToolOutput, ToolError> {
        let mut out = ToolOutput::json(json!({"stopped": true}));
        out.actions.escalate = Some(true);
        Ok(out)
    }
}

/// A store that fails the next append of a function-response event once armed: simulates a
/// process dying after a tool ran but before its result was written.
pub struct CrashOnResponse {
    inner: Arc<dyn SessionStore>,
    armed: std::sync::atomic::AtomicBool,
}

impl CrashOnResponse {
    pub fn new(inner: Arc<dyn SessionStore>) -> Self {
        CrashOnResponse { inner, armed: Default::default() }
    }
    pub fn arm(&self) {
        self.armed.store(true, Ordering::SeqCst);
    }
}

#[async_trait]
impl SessionStore for CrashOnResponse {
    async fn create_session(
        &self,
        a: &str,
        u: &str,
        id: Option<&str>,
        s: vana_core::JsonMap,
    ) -> Result<vana_core::Session, vana_core::StoreError> {
        self.inner.create_session(a, u, id, s).await
    }
    async fn get_session(
        &self,
        a: &str,
        u: &str,
        id: &str,
        w: vana_core::EventWindow,
    ) -> Result<Option<vana_core::Session>, vana_core::StoreError> {
        self.inner.get_session(a, u, id, w).await
    }
    async fn list_sessions(
        &self,
        a: Option<&str>,
        u: &str,
    ) -> Result<Vec<vana_core::SessionSummary>, vana_core::StoreError> {
        self.inner.list_sessions(a, u).await
    }
    async fn delete_session(&self, a: &str, u: &str, id: &str) -> Result<bool, vana_core::StoreError> {
        self.inner.delete_session(a, u, id).await
    }
    async fn append_event(
        &self,
        a: &str,
        u: &str,
        id: &str,
        v: u64,
        e: &Event,
    ) -> Result<u64, vana_core::StoreError> {
        if !e.function_responses().is_empty()
            && e.author != "user"
            && self.armed.swap(false, Ordering::SeqCst)
        {
            return Err(vana_core::StoreError::Backend("simulated crash".into()));
        }
        self.inner.append_event(a, u, id, v, e).await
    }
    async fn journal_get(
        &self,
        s: &str,
        c: &str,
    ) -> Result<Option<vana_core::JournalEntry>, vana_core::StoreError> {
        self.inner.journal_get(s, c).await
    }
    async fn journal_put(
        &self,
        s: &str,
        c: &str,
        e: &vana_core::JournalEntry,
    ) -> Result<(), vana_core::StoreError> {
        self.inner.journal_put(s, c, e).await
    }
    async fn ping(&self) -> Result<(), vana_core::StoreError> {
        self.inner.ping().await
    }
}
