//! Code run in the sandbox directly, without an agent (`vana exec`): the faces' path to the
//! sandbox, so they never name the sandbox or the code suite themselves.

use crate::config::{self, Config};
use std::time::Duration;
use vana_core::ToolError;
use vana_sandbox::{ExecutionRequest, ExecutionResult};

/// One piece of code to run.
#[derive(Debug, Clone)]
pub struct CodeRun {
    /// Language: `python`, `javascript`, `shell` or `bash`.
    pub language: String,
    /// The source.
    pub code: String,
    /// The session whose workspace it runs in (its files persist between runs); `None`: a
    /// throwaway workspace, deleted after the run.
    pub session: Option<String>,
    /// Wall-clock limit; the policy's default when `None`.
    pub timeout: Option<Duration>,
}

/// Runs `run` in the sandbox `config` describes (its policy dir, the data dir's workspaces),
/// opening no store, catalog or model; the result says how it ended and what it used.
pub async fn run_code(config: &Config, run: CodeRun) -> Result<ExecutionResult, ToolError> {
    let sandbox = vana_tools_code::Sandbox::new(&config.sandbox.policy_dir, config::data_dir());
    let throwaway = run.session.is_none();
    let session = run.session.unwrap_or_else(|| format!("exec-{}", std::process::id()));
    let mut req = ExecutionRequest::new(run.language, run.code).session(session.clone());
    if let Some(t) = run.timeout {
        req = req.timeout(t);
    }
    let result = sandbox.run(req).await;
    if throwaway {
        let _ = sandbox.delete_session(&session).await;
    }
    result
}
