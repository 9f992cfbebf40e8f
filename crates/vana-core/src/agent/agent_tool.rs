//! Agent-as-tool: another agent called like a function; its events still stream, tagged
//! with its agent path, on its own branch.

use crate::agent::{Agent, Outcome, Start};
use crate::event::Content;
use crate::tool::{Tool, ToolContext, ToolError, ToolOutput};
use async_trait::async_trait;
use serde_json::{json, Value};
use std::sync::Arc;

/// Wraps an agent so a parent's model can call it with a `request` and get its final answer.
pub struct AgentTool {
    agent: Arc<dyn Agent>,
}

impl AgentTool {
    /// Wraps `agent`.
    pub fn new(agent: Arc<dyn Agent>) -> Arc<Self> {
        Arc::new(AgentTool { agent })
    }
}

#[async_trait]
impl Tool for AgentTool {
    fn name(&self) -> &str {
        self.agent.name()
    }

    fn description(&self) -> &str {
        self.agent.description()
    }

    fn parameters(&self) -> Value {
        json!({
            "type": "object",
            "properties": {"request": {"type": "string", "description": "The task for this agent, in full."}},
            "required": ["request"]
        })
    }

    async fn call(&self, args: Value, ctx: ToolContext) -> Result<ToolOutput, ToolError> {
        let request = args
            .get("request")
            .and_then(Value::as_str)
            .ok_or_else(|| ToolError::InvalidArgs("`request` (string) is required".into()))?;
        let parent_ctx = ctx.invocation.as_ref().ok_or_else(|| {
            ToolError::Unavailable("an agent can only be called as a tool from within an agent run".into())
        })?;
        // The child gets its own branch named after the call, so two calls never share history.
        let segment = format!("{}#{}", self.agent.name(), ctx.function_call_id);
        let child_ctx = parent_ctx.child_on_branch(None, &segment, true);
        let mut first = child_ctx.new_event(&ctx.agent_name);
        first.content = Some(Content::user_text(request));
        child_ctx.emit(first).await.map_err(|e| ToolError::Failed(e.to_string()))?;
        let outcome = self.agent.run(self.agent.clone(), child_ctx.clone(), Start::Fresh).await;
        let events = child_ctx.visible_events().await;
        match outcome {
            Outcome::Done | Outcome::Escalate | Outcome::TransferTo(_) => {
                let answer = events
                    .iter()
                    .rev()
                    .find(|e| e.author == self.agent.name() && e.is_final_response())
                    .map(|e| e.text())
                    .unwrap_or_default();
                Ok(ToolOutput::json(json!({ "result": answer })))
            }
            Outcome::Paused => Err(ToolError::Failed(format!(
                "agent `{}` paused for a tool approval, which is not supported inside an agent-as-tool call; \
                 delegate to it with transfer_to_agent instead",
                self.agent.name()
            ))),
            Outcome::Ended => {
                let why = events.iter().rev().find_map(|e| e.error_message.clone()).unwrap_or_default();
                Err(ToolError::Failed(format!("agent `{}` failed: {why}", self.agent.name())))
            }
        }
    }
}
