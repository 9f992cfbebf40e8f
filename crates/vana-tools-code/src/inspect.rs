//! Tools that answer without running code: the static security pre-check, the supported
//! languages, and the session's execution history.

use super::sandbox::Sandbox;
use async_trait::async_trait;
use serde::Deserialize;
use serde_json::{json, Value};
use std::sync::Arc;
use vana_core::{ToolContext, ToolError, ToolOutput};
use vana_toolkit::schemars::JsonSchema;
use vana_toolkit::TypedTool;

/// Code to check without running it.
#[derive(Debug, Deserialize, JsonSchema)]
pub struct CheckArgs {
    /// python, javascript, shell or bash
    language: String,
    /// The code to check.
    code: String,
}

/// No arguments.
#[derive(Debug, Deserialize, JsonSchema)]
pub struct NoArgs {}

/// How much history to show.
#[derive(Debug, Deserialize, JsonSchema)]
pub struct HistoryArgs {
    /// Most runs to return (default 10, at most 100).
    #[serde(default, deserialize_with = "vana_toolkit::args::whole")]
    limit: Option<u32>,
}

/// Reports risky patterns in code (the sandbox's static pre-check).
pub struct ValidateCodeSecurity;

#[async_trait]
impl TypedTool for ValidateCodeSecurity {
    type Args = CheckArgs;
    fn name(&self) -> &'static str {
        "validate_code_security"
    }
    fn description(&self) -> &'static str {
        "Statically check code for risky patterns (process spawning, network, file system escapes, eval, \
         fork loops, destructive shell commands). Reports findings with rule, severity and line."
    }
    async fn run(&self, args: CheckArgs, _ctx: ToolContext) -> Result<ToolOutput, ToolError> {
        let findings = vana_sandbox::validate_code(&args.code, &args.language);
        let worst = findings.iter().map(|f| f.severity).max();
        Ok(ToolOutput::json(json!({
            "findings": findings,
            "count": findings.len(),
            "highestSeverity": worst,
            "note": "a static pre-check of known risky patterns; it cannot prove code safe. \
                     Code always runs isolated in the sandbox whatever the findings."
        })))
    }
}

/// Lists the languages the sandbox runs, with their interpreters.
pub struct SupportedLanguages {
    sandbox: Arc<Sandbox>,
}

impl SupportedLanguages {
    /// The tool over a shared sandbox.
    pub fn new(sandbox: Arc<Sandbox>) -> Self {
        SupportedLanguages { sandbox }
    }
}

#[async_trait]
impl TypedTool for SupportedLanguages {
    type Args = NoArgs;
    fn name(&self) -> &'static str {
        "get_supported_languages"
    }
    fn description(&self) -> &'static str {
        "List the programming languages the sandbox can run, with interpreter and accepted aliases."
    }
    async fn run(&self, _args: NoArgs, _ctx: ToolContext) -> Result<ToolOutput, ToolError> {
        let policy = self.sandbox.policy()?;
        let languages: Vec<Value> = policy
            .security
            .languages
            .iter()
            .map(|(name, l)| {
                json!({
                    "name": name,
                    "interpreter": l.interpreter,
                    "aliases": l.aliases,
                    "available": l.interpreter.exists(),
                })
            })
            .collect();
        let lim = &policy.limits;
        Ok(ToolOutput::json(json!({
            "languages": languages,
            "limits": {"memoryMb": lim.memory_mb, "cpus": lim.cpus, "timeoutSecs": lim.timeout_secs, "pids": lim.pids},
            "network": policy.security.network
        })))
    }
}

/// Earlier code runs of this session, from its events.
pub struct ExecutionHistory;

const CODE_TOOLS: &[&str] = &["execute_code", "debug_code"];

#[async_trait]
impl TypedTool for ExecutionHistory {
    type Args = HistoryArgs;
    fn name(&self) -> &'static str {
        "get_execution_history"
    }
    fn description(&self) -> &'static str {
        "List the code this session has run (language, a preview of the code, status, exit code, time), newest first."
    }
    async fn run(&self, args: HistoryArgs, ctx: ToolContext) -> Result<ToolOutput, ToolError> {
        let limit = args.limit.unwrap_or(10).clamp(1, 100) as usize;
        let mut runs = Vec::new();
        for e in ctx.events.iter() {
            for call in e.function_calls().into_iter().filter(|c| CODE_TOOLS.contains(&c.name.as_str())) {
                let response = ctx
                    .events
                    .iter()
                    .flat_map(|r| r.function_responses())
                    .find(|r| r.id.is_some() && r.id == call.id)
                    .map(|r| r.response.clone());
                let code = call.args.get("code").and_then(Value::as_str).unwrap_or("");
                let preview: String = code.chars().take(200).collect();
                let r = response.unwrap_or(Value::Null);
                runs.push(json!({
                    "time": e.timestamp,
                    "agent": e.author,
                    "tool": call.name,
                    "language": call.args.get("language"),
                    "code": preview,
                    "status": r.get("status").cloned().unwrap_or_else(|| if r.get("error").is_some() { json!("error") } else { json!("no result recorded") }),
                    "exitCode": r.get("exitCode"),
                    "wallTimeMs": r.get("wallTimeMs"),
                    "stdoutPreview": r.get("stdout").and_then(Value::as_str).map(|s| s.chars().take(200).collect::<String>()),
                    "error": r.get("error"),
                }));
            }
        }
        runs.reverse();
        runs.truncate(limit);
        Ok(ToolOutput::json(json!({"runs": runs, "count": runs.len()})))
    }
}
