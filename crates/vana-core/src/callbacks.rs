//! Callbacks and guardrails: hooks before/after agents, model calls and tool calls that can
//! inspect, change or block.

use crate::event::Content;
use crate::model::{LlmRequest, LlmResponse};
use async_trait::async_trait;
use serde_json::{json, Value};
use std::collections::{BTreeMap, BTreeSet};

/// What a callback knows about the step it observes.
#[derive(Debug, Clone)]
pub struct CallbackContext {
    /// Agent running the step.
    pub agent_name: String,
    /// Delegation path of that agent.
    pub agent_path: String,
    /// Invocation id.
    pub invocation_id: String,
    /// Session id.
    pub session_id: String,
    /// User id.
    pub user_id: String,
}

/// A hook into the run loop. Every method has a no-op default; implement the ones you need.
#[async_trait]
pub trait Callback: Send + Sync {
    /// Before an agent runs; returning content skips the agent and uses it as its answer.
    async fn before_agent(&self, _ctx: &CallbackContext) -> Option<Content> {
        None
    }
    /// After an agent finished; returning content adds it as a final answer.
    async fn after_agent(&self, _ctx: &CallbackContext) -> Option<Content> {
        None
    }
    /// Before a model call; may edit the request, or return a response to skip the call.
    async fn before_model(&self, _ctx: &CallbackContext, _request: &mut LlmRequest) -> Option<LlmResponse> {
        None
    }
    /// After a model call; may edit the response.
    async fn after_model(&self, _ctx: &CallbackContext, _response: &mut LlmResponse) {}
    /// Before a tool call; may edit the arguments, or return a response to skip (block) the call.
    async fn before_tool(&self, _ctx: &CallbackContext, _tool: &str, _args: &mut Value) -> Option<Value> {
        None
    }
    /// After a tool call; may edit the result.
    async fn after_tool(&self, _ctx: &CallbackContext, _tool: &str, _args: &Value, _result: &mut Value) {}
}

/// Per-agent tool allow/deny lists from config: a blocked tool is hidden from the model and
/// any call to it answers with an error instead of running.
#[derive(Debug, Clone, Default)]
pub struct ToolPolicy {
    /// Agent name -> the only tools it may call (absent: all its tools).
    pub allow: BTreeMap<String, BTreeSet<String>>,
    /// Agent name -> tools it may never call (`*` applies to every agent).
    pub deny: BTreeMap<String, BTreeSet<String>>,
}

impl ToolPolicy {
    /// True when `agent` may call `tool`.
    pub fn allows(&self, agent: &str, tool: &str) -> bool {
        if tool == crate::agent::TRANSFER_TOOL {
            return true;
        }
        let denied = |key: &str| self.deny.get(key).is_some_and(|s| s.contains(tool));
        if denied(agent) || denied("*") {
            return false;
        }
        self.allow.get(agent).is_none_or(|s| s.contains(tool))
    }
}

#[async_trait]
impl Callback for ToolPolicy {
    async fn before_model(&self, ctx: &CallbackContext, request: &mut LlmRequest) -> Option<LlmResponse> {
        request.tools.retain(|t| self.allows(&ctx.agent_name, &t.name));
        None
    }

    async fn before_tool(&self, ctx: &CallbackContext, tool: &str, _args: &mut Value) -> Option<Value> {
        if self.allows(&ctx.agent_name, tool) {
            None
        } else {
            Some(
                json!({"error": format!("tool '{tool}' is not allowed for agent '{}' by the tool policy in the config", ctx.agent_name)}),
            )
        }
    }
}
