//! Agents: the [`Agent`] trait, the model-driven [`LlmAgent`], workflow agents and
//! agent-as-tool.

mod agent_tool;
mod history;
mod llm;
mod tools;
mod workflow;

pub use agent_tool::AgentTool;
pub use llm::{LlmAgent, LlmAgentBuilder};
pub(crate) use tools::{decision_for as decision, Decision};
pub use workflow::{WorkflowAgent, WorkflowKind};

use crate::context::InvocationContext;
use async_trait::async_trait;
use std::sync::Arc;

/// Name of the built-in tool a model calls to hand the task to another agent.
pub const TRANSFER_TOOL: &str = "transfer_to_agent";
/// Name of the function call that asks a human to approve a tool call (ADK's name).
pub const CONFIRMATION_CALL: &str = "adk_request_confirmation";

/// How an agent's run ended, as seen by its parent.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    /// Finished normally.
    Done,
    /// Asked to hand control to an agent it does not own (its parent or a peer).
    TransferTo(String),
    /// Asked the enclosing loop to stop.
    Escalate,
    /// Waiting for a human decision; the invocation stops and resumes later.
    Paused,
    /// The invocation must end (error, budget, loop guard, cancellation); an event says why.
    Ended,
}

/// Where an agent's run starts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Start {
    /// A new task: run from the beginning.
    Fresh,
    /// Resume after a pause: first answer the pending function calls of its last turn.
    ResumePending,
    /// Resume after a child finished with this outcome.
    AfterChild(Outcome),
}

/// Anything that can take part in an invocation.
#[async_trait]
pub trait Agent: Send + Sync {
    /// Unique name within the tree.
    fn name(&self) -> &str;
    /// What the agent is for (shown to users and to agents choosing whom to delegate to).
    fn description(&self) -> &str;
    /// Sub-agents it can hand work to.
    fn sub_agents(&self) -> &[Arc<dyn Agent>];
    /// Runs the agent. `me` is this agent as an `Arc` (children need it as their parent).
    async fn run(&self, me: Arc<dyn Agent>, ctx: InvocationContext, start: Start) -> Outcome;
    /// True when the agent can continue after a pause (see [`Start`]); workflow agents cannot.
    fn resumable(&self) -> bool {
        false
    }
    /// Names of the tools this agent can call directly (for listings).
    fn tool_names(&self) -> Vec<String> {
        Vec::new()
    }
}

/// Finds an agent by name in a tree (depth-first, including the root).
pub fn find_agent(root: &Arc<dyn Agent>, name: &str) -> Option<Arc<dyn Agent>> {
    if root.name() == name {
        return Some(root.clone());
    }
    root.sub_agents().iter().find_map(|a| find_agent(a, name))
}

/// Every agent of a tree, root first.
pub fn all_agents(root: &Arc<dyn Agent>) -> Vec<Arc<dyn Agent>> {
    let mut out = vec![root.clone()];
    for a in root.sub_agents() {
        out.extend(all_agents(a));
    }
    out
}
