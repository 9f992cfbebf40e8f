//! Workflow agents: run sub-agents in order, concurrently, or in a loop.

use crate::agent::{Agent, Outcome, Start};
use crate::context::InvocationContext;
use async_trait::async_trait;
use std::sync::Arc;

/// Runs its sub-agents one after another on the same branch.
pub struct SequentialAgent {
    name: String,
    description: String,
    sub_agents: Vec<Arc<dyn Agent>>,
}

impl SequentialAgent {
    /// A sequential agent over `sub_agents`.
    pub fn new(
        name: impl Into<String>,
        description: impl Into<String>,
        sub_agents: Vec<Arc<dyn Agent>>,
    ) -> Arc<Self> {
        Arc::new(SequentialAgent { name: name.into(), description: description.into(), sub_agents })
    }
}

/// Runs sub-agents in order; any outcome other than `Done` stops the sequence and is returned.
async fn run_in_order(me: &Arc<dyn Agent>, subs: &[Arc<dyn Agent>], ctx: &InvocationContext) -> Outcome {
    for sub in subs {
        // Children of workflow agents hand control back by finishing, not by transferring.
        let mut child_ctx = ctx.child(me.clone(), sub.name());
        child_ctx.parent = None;
        let outcome = sub.run(sub.clone(), child_ctx, Start::Fresh).await;
        if outcome != Outcome::Done {
            return outcome;
        }
    }
    Outcome::Done
}

#[async_trait]
impl Agent for SequentialAgent {
    fn name(&self) -> &str {
        &self.name
    }
    fn description(&self) -> &str {
        &self.description
    }
    fn sub_agents(&self) -> &[Arc<dyn Agent>] {
        &self.sub_agents
    }
    async fn run(&self, me: Arc<dyn Agent>, ctx: InvocationContext, _start: Start) -> Outcome {
        run_in_order(&me, &self.sub_agents, &ctx).await
    }
}

/// Runs its sub-agents concurrently, each on its own branch of the event log.
pub struct ParallelAgent {
    name: String,
    description: String,
    sub_agents: Vec<Arc<dyn Agent>>,
}

impl ParallelAgent {
    /// A parallel agent over `sub_agents`.
    pub fn new(
        name: impl Into<String>,
        description: impl Into<String>,
        sub_agents: Vec<Arc<dyn Agent>>,
    ) -> Arc<Self> {
        Arc::new(ParallelAgent { name: name.into(), description: description.into(), sub_agents })
    }
}

#[async_trait]
impl Agent for ParallelAgent {
    fn name(&self) -> &str {
        &self.name
    }
    fn description(&self) -> &str {
        &self.description
    }
    fn sub_agents(&self) -> &[Arc<dyn Agent>] {
        &self.sub_agents
    }
    async fn run(&self, me: Arc<dyn Agent>, ctx: InvocationContext, _start: Start) -> Outcome {
        let runs = self.sub_agents.iter().map(|sub| {
            let _ = &me;
            let segment = format!("{}.{}", self.name, sub.name());
            let child_ctx = ctx.child_on_branch(None, &segment, false);
            sub.run(sub.clone(), child_ctx, Start::Fresh)
        });
        let outcomes = futures::future::join_all(runs).await;
        for worst in [Outcome::Ended, Outcome::Paused] {
            if outcomes.contains(&worst) {
                return worst;
            }
        }
        Outcome::Done
    }
}

/// Runs its sub-agents in order, again and again, until one escalates or the iteration limit.
pub struct LoopAgent {
    name: String,
    description: String,
    sub_agents: Vec<Arc<dyn Agent>>,
    max_iterations: u32,
}

impl LoopAgent {
    /// A loop agent over `sub_agents`, at most `max_iterations` rounds.
    pub fn new(
        name: impl Into<String>,
        description: impl Into<String>,
        sub_agents: Vec<Arc<dyn Agent>>,
        max_iterations: u32,
    ) -> Arc<Self> {
        Arc::new(LoopAgent { name: name.into(), description: description.into(), sub_agents, max_iterations })
    }
}

#[async_trait]
impl Agent for LoopAgent {
    fn name(&self) -> &str {
        &self.name
    }
    fn description(&self) -> &str {
        &self.description
    }
    fn sub_agents(&self) -> &[Arc<dyn Agent>] {
        &self.sub_agents
    }
    async fn run(&self, me: Arc<dyn Agent>, ctx: InvocationContext, _start: Start) -> Outcome {
        for _ in 0..self.max_iterations {
            match run_in_order(&me, &self.sub_agents, &ctx).await {
                Outcome::Done => {}
                Outcome::Escalate => return Outcome::Done,
                other => return other,
            }
        }
        Outcome::Done
    }
}
