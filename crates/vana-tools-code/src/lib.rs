//! The Code Execution suite: run, debug and check code in the sandbox, list packages and
//! languages, recall earlier runs, and git on workspace checkouts (run inside the sandbox too). Every tool runs code only inside `vana-sandbox`; a host that
//! cannot isolate gets the sandbox's error, never a run outside it.

mod debug;
mod execute;
mod git;
mod inspect;
mod packages;
mod sandbox;

pub use debug::DebugCode;
pub use execute::{CodeArgs, ExecuteCode};
pub use git::{GitCommit, GitDiff, GitLog, GitStatus};
pub use inspect::{ExecutionHistory, SupportedLanguages, ValidateCodeSecurity};
pub use packages::ManagePackages;
pub use sandbox::Sandbox;

use std::sync::Arc;
use vana_core::Tool;
use vana_toolkit::{typed, MissingPart, SuiteStatus, ToolSuite};

/// The code tools over one shared, lazily started sandbox.
pub struct CodeSuite {
    sandbox: Arc<Sandbox>,
}

impl CodeSuite {
    /// The suite over `sandbox` (shared with whoever else needs it, e.g. `vana exec`).
    pub fn new(sandbox: Arc<Sandbox>) -> Self {
        CodeSuite { sandbox }
    }
}

impl ToolSuite for CodeSuite {
    fn name(&self) -> &'static str {
        "code"
    }

    fn description(&self) -> &'static str {
        "run, debug and check Python, JavaScript and shell in the sandbox; git on workspace checkouts"
    }

    /// `execute_code`, `debug_code`, `manage_packages`, `validate_code_security`,
    /// `get_execution_history`, `get_supported_languages`, and `git_status`, `git_log`,
    /// `git_diff` and `git_commit` (approval).
    fn tools(&self) -> Vec<Arc<dyn Tool>> {
        let sb = &self.sandbox;
        vec![
            typed(ExecuteCode::new(sb.clone())),
            typed(DebugCode::new(sb.clone())),
            typed(ManagePackages::new(sb.clone())),
            typed(ValidateCodeSecurity),
            typed(ExecutionHistory),
            typed(SupportedLanguages::new(sb.clone())),
            typed(GitStatus::new(sb.clone())),
            typed(GitLog::new(sb.clone())),
            typed(GitDiff::new(sb.clone())),
            typed(GitCommit::new(sb.clone())),
        ]
    }

    /// The host's isolation (user namespaces, cgroups, Landlock, root) and the interpreters the
    /// policy names, checked without starting a sandbox.
    fn status(&self) -> SuiteStatus {
        let policy = match self.sandbox.policy() {
            Ok(p) => p,
            Err(e) => {
                return SuiteStatus {
                    missing: vec![MissingPart {
                        what: "a valid sandbox policy".into(),
                        fix: format!("fix the policy files: {e}"),
                    }],
                }
            }
        };
        let mut missing = Vec::new();
        if let Err(e) = vana_sandbox::ExecutionEngine::check_host(&policy) {
            missing.push(MissingPart { what: "sandbox isolation on this host".into(), fix: e.to_string() });
        }
        for (name, lang) in &policy.security.languages {
            if !lang.interpreter.exists() {
                missing.push(MissingPart {
                    what: format!("the {name} interpreter {}", lang.interpreter.display()),
                    fix: format!(
                        "install it, or change languages.{name}.interpreter in security_policies.yaml"
                    ),
                });
            }
        }
        SuiteStatus { missing }
    }
}
