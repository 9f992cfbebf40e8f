//! `execute_code`: runs Python, JavaScript or shell in the session's sandbox workspace.

use super::sandbox::{image_artifacts, result_json, Sandbox};
use async_trait::async_trait;
use serde::Deserialize;
use std::sync::Arc;
use std::time::Duration;
use vana_core::{ToolContext, ToolError, ToolOutput};
use vana_sandbox::ExecutionRequest;
use vana_toolkit::schemars::JsonSchema;
use vana_toolkit::TypedTool;

/// Runs code in the sandbox and returns output, exit status, resource usage and new files.
pub struct ExecuteCode {
    sandbox: Arc<Sandbox>,
}

impl ExecuteCode {
    /// The tool over a shared sandbox.
    pub fn new(sandbox: Arc<Sandbox>) -> Self {
        ExecuteCode { sandbox }
    }
}

/// The program to run, shared by `execute_code` and `debug_code`.
#[derive(Debug, Deserialize, JsonSchema)]
pub struct CodeArgs {
    /// python, javascript, shell or bash
    pub language: String,
    /// The complete program to run.
    pub code: String,
    /// Wall-clock limit in seconds (default 30).
    #[serde(default)]
    pub timeout: Option<f64>,
    /// Text given to the program on standard input.
    #[serde(default)]
    pub stdin: Option<String>,
}

/// Builds a sandbox request for the calling session.
pub(crate) fn request_from(args: &CodeArgs, ctx: &ToolContext) -> Result<ExecutionRequest, ToolError> {
    let mut req = ExecutionRequest::new(&args.language, &args.code)
        .session(ctx.session_id.clone())
        .with_file_contents();
    if let Some(t) = args.timeout {
        if !(t > 0.0 && t.is_finite()) {
            return Err(ToolError::InvalidArgs(format!(
                "field `timeout`: expected a positive number of seconds, got {t}"
            )));
        }
        req = req.timeout(Duration::from_secs_f64(t));
    }
    if let Some(stdin) = &args.stdin {
        req = req.stdin(stdin.as_bytes().to_vec());
    }
    Ok(req)
}

#[async_trait]
impl TypedTool for ExecuteCode {
    type Args = CodeArgs;

    fn name(&self) -> &'static str {
        "execute_code"
    }

    fn description(&self) -> &'static str {
        "Run Python, JavaScript or shell code in a secure sandbox (no network, 512 MB, 30 s by default). \
         Files written to /workspace persist for this session; images saved there are shown to the user. \
         Returns stdout, stderr, exit code, time and memory used."
    }

    fn timeout(&self) -> Option<Duration> {
        // The sandbox enforces the run's own limit; this only bounds start-up plus the longest run.
        Some(Duration::from_secs(330))
    }

    async fn run(&self, args: CodeArgs, ctx: ToolContext) -> Result<ToolOutput, ToolError> {
        let result = self.sandbox.run(request_from(&args, &ctx)?).await?;
        Ok(ToolOutput {
            response: result_json(&result),
            artifacts: image_artifacts(&result),
            ..Default::default()
        })
    }
}
