//! `manage_packages`: lists the libraries the sandbox's Python and Node provide; installs
//! into the session workspace only when the policy allows network access.

use super::sandbox::Sandbox;
use async_trait::async_trait;
use serde::Deserialize;
use serde_json::{json, Value};
use std::sync::Arc;
use std::time::Duration;
use vana_core::{ToolContext, ToolError, ToolOutput};
use vana_sandbox::ExecutionRequest;
use vana_toolkit::schemars::JsonSchema;
use vana_toolkit::TypedTool;

/// What to do with packages.
#[derive(Debug, Deserialize, JsonSchema)]
pub struct PackagesArgs {
    /// `list` the packages available, or `install` new ones into this session's workspace.
    action: Action,
    /// Whose packages: python or javascript.
    language: Language,
    /// Packages to install (action=install), e.g. `requests==2.32.3`.
    #[serde(default)]
    packages: Vec<String>,
}

/// `action` of manage_packages.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
enum Action {
    List,
    Install,
}

/// `language` of manage_packages.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
enum Language {
    #[serde(alias = "py")]
    Python,
    #[serde(alias = "js", alias = "node")]
    Javascript,
}

/// Lists or installs packages for the sandbox.
pub struct ManagePackages {
    sandbox: Arc<Sandbox>,
}

impl ManagePackages {
    /// The tool over a shared sandbox.
    pub fn new(sandbox: Arc<Sandbox>) -> Self {
        ManagePackages { sandbox }
    }
}

const LIST_PYTHON: &str = "import importlib.metadata as m, json\n\
seen = {}\n\
for d in m.distributions():\n    n = d.metadata['Name']\n    if n: seen[n.lower()] = d.version\n\
print(json.dumps(sorted(seen.items())))\n";

const LIST_NODE: &str = "const fs = require('fs'), path = require('path');\n\
const out = {};\n\
for (const dir of ['/usr/lib/node_modules', '/usr/local/lib/node_modules', '/usr/share/nodejs', '/workspace/node_modules']) {\n\
  let names = []; try { names = fs.readdirSync(dir); } catch (e) { continue; }\n\
  for (const n of names.flatMap(n => n.startsWith('@') ? fs.readdirSync(path.join(dir, n)).map(s => n + '/' + s) : [n])) {\n\
    try { out[n] = JSON.parse(fs.readFileSync(path.join(dir, n, 'package.json'))).version || ''; } catch (e) {}\n\
  }\n\
}\n\
console.log(JSON.stringify(Object.entries(out).sort()));\n";

/// A package spec safe to pass as an argument: name with optional extras/version constraint.
fn valid_spec(s: &str) -> bool {
    !s.is_empty()
        && s.len() <= 200
        && !s.starts_with('-')
        && s.chars().all(|c| c.is_ascii_alphanumeric() || "._-[]=<>!~,@/".contains(c))
}

#[async_trait]
impl TypedTool for ManagePackages {
    type Args = PackagesArgs;

    fn name(&self) -> &'static str {
        "manage_packages"
    }

    fn description(&self) -> &'static str {
        "List the packages available to sandboxed Python or JavaScript (action=list), or install packages \
         into this session's workspace (action=install; only when the sandbox policy allows network access)."
    }

    fn timeout(&self) -> Option<Duration> {
        Some(Duration::from_secs(330))
    }

    async fn run(&self, args: PackagesArgs, ctx: ToolContext) -> Result<ToolOutput, ToolError> {
        let python = args.language == Language::Python;
        let language = if python { "python" } else { "javascript" };
        match args.action {
            Action::List => {
                let code = if python { LIST_PYTHON } else { LIST_NODE };
                let req = ExecutionRequest::new(if python { "python" } else { "javascript" }, code)
                    .session(ctx.session_id.clone());
                let r = self.sandbox.run(req).await?;
                if !r.success() {
                    return Err(ToolError::Failed(format!("listing packages failed: {}", r.stderr.trim())));
                }
                let pairs: Vec<(String, String)> = serde_json::from_str(r.stdout.trim())
                    .map_err(|e| ToolError::Failed(format!("unexpected package listing: {e}")))?;
                let packages: Vec<Value> =
                    pairs.iter().map(|(n, v)| json!({"name": n, "version": v})).collect();
                Ok(ToolOutput::json(
                    json!({"language": language, "count": packages.len(), "packages": packages}),
                ))
            }
            Action::Install => {
                let packages = args.packages;
                if packages.is_empty() {
                    return Err(ToolError::InvalidArgs("`packages` must list at least one package".into()));
                }
                if let Some(bad) = packages.iter().find(|p| !valid_spec(p)) {
                    return Err(ToolError::InvalidArgs(format!("`{bad}` is not a valid package name")));
                }
                if !self.sandbox.policy()?.security.network {
                    return Err(ToolError::Unavailable(
                        "installing packages needs network access, which the sandbox policy denies \
                         (security_policies.yaml has `network: false`); use the packages listed by action=list, \
                         or ask an administrator to allow network for the sandbox"
                            .into(),
                    ));
                }
                let script = if python {
                    "python3 -m pip install --disable-pip-version-check --no-input --target /workspace/.packages \"$@\""
                } else {
                    "cd /workspace && npm install --no-audit --no-fund \"$@\""
                };
                let mut req = ExecutionRequest::new("shell", script)
                    .session(ctx.session_id.clone())
                    .timeout(Duration::from_secs(300));
                req.args = packages.clone();
                let r = self.sandbox.run(req).await?;
                Ok(ToolOutput::json(json!({
                    "status": if r.success() { "success" } else { "error" },
                    "installed": if r.success() { packages } else { vec![] },
                    "location": if python { "/workspace/.packages (on PYTHONPATH)" } else { "/workspace/node_modules" },
                    "stdout": r.stdout, "stderr": r.stderr, "exitCode": r.exit_code
                })))
            }
        }
    }
}
