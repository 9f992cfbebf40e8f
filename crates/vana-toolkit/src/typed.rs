//! The typed-tool adapter: a struct with typed arguments becomes a [`Tool`].

use async_trait::async_trait;
use serde::de::DeserializeOwned;
use serde_json::Value;
use std::time::Duration;
use vana_core::{Tool, ToolContext, ToolError, ToolOutput};

/// A tool whose arguments are a Rust type: the JSON Schema the model sees is derived from
/// `Args` (field doc comments become descriptions), and a call's arguments are parsed into it
/// before [`TypedTool::run`] with uniform errors ([`crate::args::parse`]).
#[async_trait]
pub trait TypedTool: Send + Sync + 'static {
    /// The arguments.
    type Args: DeserializeOwned + schemars::JsonSchema + Send;
    /// Unique name, as the model calls it.
    fn name(&self) -> &'static str;
    /// What the tool does, for the model and `vana tools list`.
    fn description(&self) -> &'static str;
    /// When true, each call waits for a human's approval first.
    fn requires_confirmation(&self) -> bool {
        false
    }
    /// Per-call deadline; `None` uses the runner's default.
    fn timeout(&self) -> Option<Duration> {
        None
    }
    /// Runs the tool on parsed arguments.
    async fn run(&self, args: Self::Args, ctx: ToolContext) -> Result<ToolOutput, ToolError>;
}

/// A [`TypedTool`] as a [`Tool`], with its schema derived once.
pub struct Typed<T: TypedTool> {
    tool: T,
    schema: Value,
}

/// Wraps a typed tool for a [`vana_core::ToolRegistry`].
pub fn typed<T: TypedTool>(tool: T) -> std::sync::Arc<dyn Tool> {
    std::sync::Arc::new(Typed { schema: crate::schema::of::<T::Args>(), tool })
}

#[async_trait]
impl<T: TypedTool> Tool for Typed<T> {
    fn name(&self) -> &str {
        self.tool.name()
    }
    fn description(&self) -> &str {
        self.tool.description()
    }
    fn parameters(&self) -> Value {
        self.schema.clone()
    }
    fn requires_confirmation(&self) -> bool {
        self.tool.requires_confirmation()
    }
    fn timeout(&self) -> Option<Duration> {
        self.tool.timeout()
    }
    async fn call(&self, args: Value, ctx: ToolContext) -> Result<ToolOutput, ToolError> {
        let args = crate::args::parse::<T::Args>(args)?;
        self.tool.run(args, ctx).await
    }
}
