//! Shared by the security tests: a temp data dir with the suite's tools registered over it,
//! the reference venv (scripts/setup-security.sh), and workspace helpers.
#![allow(dead_code)]

pub mod corpus;

use serde_json::Value;
use std::path::{Path, PathBuf};
use vana_core::{ToolContext, ToolError, ToolOutput, ToolRegistry};
use vana_toolkit::ToolSuite;
pub use vana_tools_ops::security::SecurityConfig;

/// The built-in policy's sandbox uid/gid (what workspace files are owned by).
pub const SANDBOX_UID: u32 = 100_000;

/// A fresh data dir with the security tools registered over it.
pub struct Env {
    pub dir: PathBuf,
    pub tools: ToolRegistry,
}

impl Env {
    /// Semgrep from the reference venv; everything else default.
    pub fn new() -> Env {
        Env::with(|_| {})
    }

    /// The settings `edit` makes from the test defaults.
    pub fn with(edit: impl FnOnce(&mut SecurityConfig)) -> Env {
        let dir = std::env::temp_dir().join(vana_testkit::unique("vana-sec-test"));
        std::fs::create_dir_all(&dir).unwrap();
        let mut config = SecurityConfig::for_data_dir(&dir);
        config.semgrep = Some(venv_bin("semgrep"));
        edit(&mut config);
        let suite = vana_tools_ops::OpsSuite::with_security(files(&dir), config);
        let mut tools = ToolRegistry::new();
        for tool in suite.tools() {
            tools.register(tool);
        }
        Env { dir, tools }
    }

    fn workspaces(&self) -> vana_toolkit::vana_workspace::Workspaces {
        vana_toolkit::vana_workspace::Workspaces::new(self.dir.join("workspaces"), SANDBOX_UID, SANDBOX_UID)
    }

    /// Writes a file into a session's workspace through the workspace API.
    pub fn put(&self, session: &str, name: &str, bytes: &[u8]) {
        self.workspaces().ensure(session).unwrap().write(name, bytes).unwrap();
    }

    /// Reads a workspace file through the workspace API.
    pub fn get(&self, session: &str, name: &str) -> Vec<u8> {
        self.workspaces().open(session).unwrap().unwrap().read(name, 1 << 30).unwrap()
    }

    /// The host folder of a session's workspace (for the tests' own planting only).
    pub fn workspace_dir(&self, session: &str) -> PathBuf {
        self.dir.join("workspaces").join(session)
    }

    pub async fn call(&self, tool: &str, session: &str, args: Value) -> Result<ToolOutput, ToolError> {
        let t = self.tools.get(tool).unwrap_or_else(|| panic!("tool {tool} is not registered"));
        t.call(args, ToolContext::standalone("test", "u", session)).await
    }

    pub async fn ok(&self, tool: &str, args: Value) -> Value {
        match self.call(tool, "s1", args).await {
            Ok(o) => o.response,
            Err(e) => panic!("{tool} failed: {e}"),
        }
    }

    pub async fn err(&self, tool: &str, args: Value) -> ToolError {
        match self.call(tool, "s1", args).await {
            Ok(o) => panic!("{tool} should have failed, returned {}", o.response),
            Err(e) => e,
        }
    }
}

impl Drop for Env {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

fn files(dir: &Path) -> vana_toolkit::SessionFiles {
    vana_toolkit::SessionFiles::new(vana_toolkit::vana_workspace::Workspaces::new(
        dir.join("workspaces"),
        SANDBOX_UID,
        SANDBOX_UID,
    ))
}

/// An executable of the reference venv (scripts/setup-security.sh); a missing one fails the test.
pub fn venv_bin(name: &str) -> PathBuf {
    let venv = std::env::var_os("VANA_SECURITY_VENV")
        .map(PathBuf::from)
        .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("../../.cache/security-venv"));
    let p = venv.join("bin").join(name);
    assert!(p.is_file(), "{} is missing: run scripts/setup-security.sh first", p.display());
    p
}

/// A system binary the setup script installs; a missing one fails the test.
pub fn system_bin(name: &str) -> PathBuf {
    let p = Path::new("/usr/bin").join(name);
    assert!(
        p.is_file(),
        "{} is missing: run scripts/setup-security.sh first (apt-get install clamav yara)",
        p.display()
    );
    p
}
