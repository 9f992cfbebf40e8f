//! The tool interface: built-in tools, MCP tools and agents-as-tools all implement [`Tool`].

use crate::event::{Blob, EventActions};
use async_trait::async_trait;
use serde_json::Value;
use std::sync::Arc;
use std::time::Duration;
use tokio_util::sync::CancellationToken;

/// What a tool call knows about where it runs.
#[derive(Clone, Debug)]
pub struct ToolContext {
    /// App (root agent) name.
    pub app_name: String,
    /// The user on whose behalf the tool runs.
    pub user_id: String,
    /// Session id; tools keep per-session resources (sandbox workspace) under it.
    pub session_id: String,
    /// Invocation id.
    pub invocation_id: String,
    /// Name of the agent calling the tool.
    pub agent_name: String,
    /// Agent path of the caller, e.g. `vana/code_execution`.
    pub agent_path: String,
    /// Function call id (stable across resume: the effect journal is keyed by it).
    pub function_call_id: String,
    /// Snapshot of session state at the time of the call.
    pub state: crate::event::JsonMap,
    /// Cancelled when the invocation is cancelled or the tool's timeout passes.
    pub cancel: CancellationToken,
    /// Session events so far (read-only), for tools that report on history.
    pub events: Arc<Vec<Arc<crate::event::Event>>>,
    /// The invocation the call belongs to (agents-as-tools stream their events through it).
    pub(crate) invocation: Option<crate::context::InvocationContext>,
}

impl ToolContext {
    /// A context for calling a tool outside any agent run (e.g. `vana tools call`).
    pub fn standalone(app_name: &str, user_id: &str, session_id: &str) -> Self {
        ToolContext {
            app_name: app_name.into(),
            user_id: user_id.into(),
            session_id: session_id.into(),
            invocation_id: crate::event::new_id(),
            agent_name: String::new(),
            agent_path: String::new(),
            function_call_id: crate::event::new_id(),
            state: Default::default(),
            cancel: CancellationToken::new(),
            events: Arc::new(Vec::new()),
            invocation: None,
        }
    }
}

/// The result of a tool call.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct ToolOutput {
    /// JSON result sent back to the model (an object; scalars are wrapped as `{"result": v}`).
    pub response: Value,
    /// Files to hand to the user as artifacts (charts, screenshots), attached as inline data.
    pub artifacts: Vec<Blob>,
    /// State delta, escalate etc. to apply with the response event.
    pub actions: EventActions,
}

impl ToolOutput {
    /// A plain JSON result.
    pub fn json(response: Value) -> Self {
        ToolOutput { response, ..Default::default() }
    }
}

impl From<Value> for ToolOutput {
    fn from(v: Value) -> Self {
        ToolOutput::json(v)
    }
}

/// Why a tool call failed; the model reads this as `{"error": "..."}`.
#[derive(Debug, Clone, thiserror::Error, PartialEq)]
pub enum ToolError {
    /// Arguments do not match the schema or are unusable.
    #[error("invalid arguments: {0}")]
    InvalidArgs(String),
    /// The tool tried and failed.
    #[error("{0}")]
    Failed(String),
    /// The tool needs something this host or config does not have.
    #[error("unavailable: {0}")]
    Unavailable(String),
    /// The call took longer than its timeout.
    #[error("timed out after {0:?}")]
    Timeout(Duration),
    /// The invocation was cancelled.
    #[error("cancelled")]
    Cancelled,
    /// Blocked by a guardrail or denied by a human.
    #[error("blocked: {0}")]
    Blocked(String),
}

/// Anything an agent can call.
#[async_trait]
pub trait Tool: Send + Sync {
    /// Unique name (MCP tools are prefixed by their server).
    fn name(&self) -> &str;
    /// What the tool does, for the model and `vana tools list`.
    fn description(&self) -> &str;
    /// JSON Schema (object) of the arguments.
    fn parameters(&self) -> Value;
    /// When true, each call waits for a human's approval first.
    fn requires_confirmation(&self) -> bool {
        false
    }
    /// Per-call deadline; `None` uses the runner's default.
    fn timeout(&self) -> Option<Duration> {
        None
    }
    /// Runs the tool. Errors become a function response the model can read.
    async fn call(&self, args: Value, ctx: ToolContext) -> Result<ToolOutput, ToolError>;
}

/// The declaration the model sees for a tool.
pub fn declaration(tool: &dyn Tool) -> crate::model::ToolDeclaration {
    crate::model::ToolDeclaration {
        name: tool.name().to_string(),
        description: tool.description().to_string(),
        parameters: tool.parameters(),
    }
}

/// Every tool available to agents, by name.
#[derive(Default, Clone)]
pub struct ToolRegistry {
    tools: std::collections::BTreeMap<String, Arc<dyn Tool>>,
}

impl ToolRegistry {
    /// An empty registry.
    pub fn new() -> Self {
        Self::default()
    }
    /// Adds (or replaces) a tool under its name.
    pub fn register(&mut self, tool: Arc<dyn Tool>) {
        self.tools.insert(tool.name().to_string(), tool);
    }
    /// The tool with this name.
    pub fn get(&self, name: &str) -> Option<Arc<dyn Tool>> {
        self.tools.get(name).cloned()
    }
    /// All tools, sorted by name.
    pub fn all(&self) -> impl Iterator<Item = &Arc<dyn Tool>> {
        self.tools.values()
    }
    /// Number of tools.
    pub fn len(&self) -> usize {
        self.tools.len()
    }
    /// True when there are no tools.
    pub fn is_empty(&self) -> bool {
        self.tools.is_empty()
    }
}

/// Wraps a tool so every call waits for a human's approval first (set from config, e.g.
/// `[guardrails] require_confirmation = ["execute_code"]`).
pub struct RequireConfirmation(pub Arc<dyn Tool>);

#[async_trait]
impl Tool for RequireConfirmation {
    fn name(&self) -> &str {
        self.0.name()
    }
    fn description(&self) -> &str {
        self.0.description()
    }
    fn parameters(&self) -> Value {
        self.0.parameters()
    }
    fn requires_confirmation(&self) -> bool {
        true
    }
    fn timeout(&self) -> Option<Duration> {
        self.0.timeout()
    }
    async fn call(&self, args: Value, ctx: ToolContext) -> Result<ToolOutput, ToolError> {
        self.0.call(args, ctx).await
    }
}
