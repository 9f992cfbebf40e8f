//! `execute_code`: runs Python, JavaScript or shell in the session's sandbox workspace.

use super::sandbox::{image_artifacts, result_json, Sandbox};
use crate::args;
use async_trait::async_trait;
use serde_json::{json, Value};
use std::sync::Arc;
use std::time::Duration;
use vana_core::{Tool, ToolContext, ToolError, ToolOutput};
use vana_sandbox::ExecutionRequest;

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

/// Builds a request from `language`, `code`, `timeout` (seconds) and `stdin` arguments.
pub(crate) fn request_from(args: &Value, ctx: &ToolContext) -> Result<ExecutionRequest, ToolError> {
    let language = args::string(args, "language")?;
    let code = args::string(args, "code")?;
    let mut req = ExecutionRequest::new(language, code).session(ctx.session_id.clone()).with_file_contents();
    if let Some(t) = args::opt_f64(args, "timeout")? {
        if !(t > 0.0 && t.is_finite()) {
            return Err(ToolError::InvalidArgs(format!(
                "`timeout` must be a positive number of seconds, got {t}"
            )));
        }
        req = req.timeout(Duration::from_secs_f64(t));
    }
    if let Some(stdin) = args::opt_string(args, "stdin")? {
        req = req.stdin(stdin.as_bytes().to_vec());
    }
    Ok(req)
}

/// The JSON schema shared by execute_code and debug_code.
pub(crate) fn code_schema(extra: Value) -> Value {
    let mut props = json!({
        "language": {"type": "string", "description": "python, javascript, shell or bash"},
        "code": {"type": "string", "description": "The complete program to run."},
        "timeout": {"type": "number", "description": "Wall-clock limit in seconds (default 30)."},
        "stdin": {"type": "string", "description": "Text given to the program on standard input."}
    });
    if let (Some(p), Some(e)) = (props.as_object_mut(), extra.as_object()) {
        p.extend(e.clone());
    }
    json!({"type": "object", "properties": props, "required": ["language", "code"]})
}

#[async_trait]
impl Tool for ExecuteCode {
    fn name(&self) -> &str {
        "execute_code"
    }

    fn description(&self) -> &str {
        "Run Python, JavaScript or shell code in a secure sandbox (no network, 512 MB, 30 s by default). \
         Files written to /workspace persist for this session; images saved there are shown to the user. \
         Returns stdout, stderr, exit code, time and memory used."
    }

    fn parameters(&self) -> Value {
        code_schema(json!({}))
    }

    fn timeout(&self) -> Option<Duration> {
        // The sandbox enforces the run's own limit; this only bounds start-up plus the longest run.
        Some(Duration::from_secs(330))
    }

    async fn call(&self, args: Value, ctx: ToolContext) -> Result<ToolOutput, ToolError> {
        let result = self.sandbox.run(request_from(&args, &ctx)?).await?;
        Ok(ToolOutput {
            response: result_json(&result),
            artifacts: image_artifacts(&result),
            ..Default::default()
        })
    }
}
