//! `debug_code`: runs code, and when it fails, returns the traceback with the failing line in
//! context.

use super::execute::{request_from, CodeArgs};
use super::sandbox::{result_json, Sandbox};
use async_trait::async_trait;
use serde::Deserialize;
use serde_json::json;
use std::sync::Arc;
use std::time::Duration;
use vana_core::{ToolContext, ToolError, ToolOutput};
use vana_toolkit::schemars::JsonSchema;
use vana_toolkit::TypedTool;

/// The program to debug and what the user saw.
#[derive(Debug, Deserialize, JsonSchema)]
pub struct DebugArgs {
    #[serde(flatten)]
    run: CodeArgs,
    /// The error message the user reported, if any.
    #[serde(default)]
    error: Option<String>,
}

/// Runs code and explains a failure: error type and message, failing line, code around it.
pub struct DebugCode {
    sandbox: Arc<Sandbox>,
}

impl DebugCode {
    /// The tool over a shared sandbox.
    pub fn new(sandbox: Arc<Sandbox>) -> Self {
        DebugCode { sandbox }
    }
}

/// Where a run failed, read from its error output.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Failure {
    /// 1-based line in the submitted code, when the error names one.
    pub line: Option<usize>,
    /// The error's last line, e.g. `ZeroDivisionError: division by zero`.
    pub message: String,
}

/// Finds the failing line of the submitted script (`main.<ext>`) in an error output.
pub(crate) fn parse_failure(stderr: &str, extension: &str) -> Failure {
    let script = format!("main.{extension}");
    let mut line = None;
    for l in stderr.lines() {
        // Python: `  File "/sandbox/main.py", line 3, in <module>` (the innermost frame is last).
        if let Some(rest) = l.trim_start().strip_prefix("File \"") {
            if rest.split('"').next().is_some_and(|f| f.ends_with(&script)) {
                line = number_after(rest, "line ").or(line);
            }
            continue;
        }
        // Node: `/sandbox/main.js:4` or `at f (/sandbox/main.js:4:11)`: the first mention is the throw site.
        if line.is_none() && extension == "js" {
            if let Some(pos) = l.find(&format!("{script}:")) {
                line = l[pos + script.len() + 1..]
                    .split(|c: char| !c.is_ascii_digit())
                    .next()
                    .and_then(|n| n.parse().ok());
            }
        }
        // Shell: `/sandbox/main.sh: line 2: foo: command not found` or `/sandbox/main.sh: 2: foo: not found`.
        if line.is_none() && extension == "sh" {
            if let Some(pos) = l.find(&format!("{script}: ")) {
                let rest = &l[pos + script.len() + 2..];
                line = rest
                    .strip_prefix("line ")
                    .unwrap_or(rest)
                    .split(':')
                    .next()
                    .and_then(|n| n.trim().parse().ok());
            }
        }
    }
    let message = stderr.lines().rev().find(|l| !l.trim().is_empty()).unwrap_or("").trim().to_string();
    Failure { line, message }
}

fn number_after(s: &str, marker: &str) -> Option<usize> {
    let pos = s.find(marker)?;
    s[pos + marker.len()..].split(|c: char| !c.is_ascii_digit()).next()?.parse().ok()
}

/// The code around `line` (3 lines each side), the failing line marked with `>>`.
pub(crate) fn context(code: &str, line: usize) -> String {
    let lines: Vec<&str> = code.lines().collect();
    let from = line.saturating_sub(4);
    let to = (line + 3).min(lines.len());
    (from..to)
        .map(|i| format!("{} {:>4} | {}", if i + 1 == line { ">>" } else { "  " }, i + 1, lines[i]))
        .collect::<Vec<_>>()
        .join("\n")
}

#[async_trait]
impl TypedTool for DebugCode {
    type Args = DebugArgs;

    fn name(&self) -> &'static str {
        "debug_code"
    }

    fn description(&self) -> &'static str {
        "Run code in the sandbox to debug it: on failure returns the error type and message, the failing \
         line number and the code around it, plus the full traceback. Pass the error the user saw in `error`."
    }

    fn timeout(&self) -> Option<Duration> {
        Some(Duration::from_secs(330))
    }

    async fn run(&self, args: DebugArgs, ctx: ToolContext) -> Result<ToolOutput, ToolError> {
        let request = request_from(&args.run, &ctx)?;
        let reported = args.error;
        let extension = self
            .sandbox
            .policy()?
            .language(&request.language)
            .map(|(_, l)| l.extension.clone())
            .map_err(|e| ToolError::InvalidArgs(e.to_string()))?;
        let code = args.run.code;
        let result = self.sandbox.run(request).await?;
        let mut out = result_json(&result);
        if result.success() {
            out["diagnosis"] = json!(match reported {
                Some(e) => format!("the code ran without error here, so the reported error ({e}) did not reproduce; it may depend on input, files or environment"),
                None => "the code ran without error".into(),
            });
        } else {
            let f = parse_failure(&result.stderr, &extension);
            out["errorMessage"] = json!(f.message);
            out["errorType"] = json!(f.message.split(':').next().filter(|t| !t.contains(' ')).unwrap_or(""));
            out["line"] = json!(f.line);
            if let Some(l) = f.line {
                out["context"] = json!(context(&code, l));
            }
            if result.timed_out {
                out["diagnosis"] = json!(
                    "the run was stopped at its time limit: look for an infinite loop or blocking input"
                );
            } else if result.oom_killed {
                out["diagnosis"] = json!("the run was killed for using more memory than the sandbox allows");
            }
        }
        Ok(ToolOutput::json(out))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_the_failing_line_for_each_language() {
        let py = "Traceback (most recent call last):\n  File \"/sandbox/main.py\", line 5, in <module>\n    f()\n  File \"/sandbox/main.py\", line 2, in f\n    1/0\nZeroDivisionError: division by zero\n";
        assert_eq!(
            parse_failure(py, "py"),
            Failure { line: Some(2), message: "ZeroDivisionError: division by zero".into() }
        );
        let js = "/sandbox/main.js:3\nnull.x;\n     ^\n\nTypeError: Cannot read properties of null (reading 'x')\n    at Object.<anonymous> (/sandbox/main.js:3:6)\n";
        assert_eq!(parse_failure(js, "js").line, Some(3));
        let sh = "/sandbox/main.sh: line 2: nosuchcmd: command not found\n";
        assert_eq!(parse_failure(sh, "sh").line, Some(2));
        let dash = "/sandbox/main.sh: 4: nosuchcmd: not found\n";
        assert_eq!(parse_failure(dash, "sh").line, Some(4));
    }

    #[test]
    fn context_marks_the_line() {
        let c = context("a\nb\nc\nd\ne", 3);
        assert!(c.contains(">>    3 | c"), "{c}");
        assert!(c.contains("     1 | a"));
    }
}
