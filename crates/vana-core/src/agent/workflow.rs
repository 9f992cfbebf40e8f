//! Workflow agents: run sub-agents in order, concurrently, or in a loop.

use crate::agent::{Agent, Outcome, Start};
use crate::context::InvocationContext;
use async_trait::async_trait;
use std::sync::Arc;

/// How a workflow agent runs its sub-agents.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WorkflowKind {
    /// One after another on the same branch.
    Sequential,
    /// Concurrently, each on its own branch of the event log.
    Parallel,
    /// In order, again and again, until one escalates or after this many rounds.
    Loop {
        /// The iteration limit.
        max_iterations: u32,
    },
}

/// An agent that runs its sub-agents without a model of its own.
pub struct WorkflowAgent {
    name: String,
    description: String,
    sub_agents: Vec<Arc<dyn Agent>>,
    kind: WorkflowKind,
}

impl WorkflowAgent {
    /// A workflow agent of `kind` over `sub_agents`.
    pub fn new(
        kind: WorkflowKind,
        name: impl Into<String>,
        description: impl Into<String>,
        sub_agents: Vec<Arc<dyn Agent>>,
    ) -> Arc<Self> {
        Arc::new(WorkflowAgent { name: name.into(), description: description.into(), sub_agents, kind })
    }

    /// Runs sub-agents in order; any outcome other than `Done` stops the sequence and is returned.
    async fn run_in_order(&self, me: &Arc<dyn Agent>, ctx: &InvocationContext) -> Outcome {
        for sub in &self.sub_agents {
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

    async fn run_concurrently(&self, ctx: &InvocationContext) -> Outcome {
        let runs = self.sub_agents.iter().map(|sub| {
            let segment = format!("{}.{}", self.name, sub.name());
            sub.run(sub.clone(), ctx.child_on_branch(None, &segment, false), Start::Fresh)
        });
        let outcomes = futures::future::join_all(runs).await;
        [Outcome::Ended, Outcome::Paused]
            .into_iter()
            .find(|worst| outcomes.contains(worst))
            .unwrap_or(Outcome::Done)
    }
}

#[async_trait]
impl Agent for WorkflowAgent {
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
        match self.kind {
            WorkflowKind::Sequential => self.run_in_order(&me, &ctx).await,
            WorkflowKind::Parallel => self.run_concurrently(&ctx).await,
            WorkflowKind::Loop { max_iterations } => {
                for _ in 0..max_iterations {
                    match self.run_in_order(&me, &ctx).await {
                        Outcome::Done => {}
                        Outcome::Escalate => return Outcome::Done,
                        other => return other,
                    }
                }
                Outcome::Done
            }
        }
    }
}
