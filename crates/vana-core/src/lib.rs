//! VANA's agent runtime: the event model, agents, the runner, and the traits for models,
//! tools and session stores that the lower crates implement.

pub mod agent;
pub mod availability;
pub mod callbacks;
pub mod catalog;
pub mod civil;
pub mod context;
pub mod event;
pub mod ledger;
pub mod model;
pub mod runner;
pub mod session;
mod session_cache;
pub mod template;
pub mod tool;

pub use agent::{Agent, AgentTool, LlmAgent, Outcome, WorkflowAgent, WorkflowKind};
pub use callbacks::{Callback, CallbackContext, ToolPolicy};
pub use context::InvocationContext;
pub use event::{
    Blob, Content, Event, EventActions, FunctionCall, FunctionResponse, JsonMap, Part, Timing, UsageMetadata,
};
pub use model::{
    GenerationConfig, LlmRequest, LlmResponse, LlmResponseStream, Model, ModelError, ModelResolver,
    ToolDeclaration,
};
pub use runner::{Invocation, RunConfig, RunError, Runner};
pub use session::{
    EventWindow, JournalEntry, JournalStatus, Session, SessionStore, SessionSummary, StoreError,
};
pub use tool::{RequireConfirmation, Tool, ToolContext, ToolError, ToolOutput, ToolRegistry};
