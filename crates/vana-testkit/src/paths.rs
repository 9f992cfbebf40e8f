//! Where tests find things and how they name them: the repository, the installed MCP test
//! servers, temporary directories, unique names.

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};

pub use tempfile::TempDir;

/// The repository root (where `agents/`, `config/`, `eval/` and `.cache/` are).
pub fn repo_root() -> PathBuf {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    root.canonicalize().unwrap_or(root)
}

/// Where `scripts/setup-mcp.sh` installed the MCP test servers: `$VANA_MCP_HOME`, else
/// `<repo>/.cache/mcp`; panics with the command to run when one of `needs` (paths relative to
/// it, e.g. `bin/mcp-server-time`) is missing.
pub fn mcp_home(needs: &[&str]) -> PathBuf {
    let home = std::env::var_os("VANA_MCP_HOME")
        .map(PathBuf::from)
        .unwrap_or_else(|| repo_root().join(".cache/mcp"));
    let missing: Vec<&str> = needs.iter().copied().filter(|n| !home.join(n).exists()).collect();
    assert!(
        missing.is_empty(),
        "the MCP test servers are not installed in {} (missing {}); run `VANA_MCP_HOME={} scripts/setup-mcp.sh`",
        home.display(),
        missing.join(", "),
        home.display()
    );
    home.canonicalize().unwrap_or(home)
}

/// A fresh temporary directory, removed when dropped.
pub fn tempdir() -> TempDir {
    tempfile::tempdir().expect("create a temporary directory")
}

/// A name no other call in any test process gives: `<prefix>-<pid>-<counter>-<nanos>`.
pub fn unique(prefix: &str) -> String {
    static N: AtomicU64 = AtomicU64::new(0);
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.subsec_nanos())
        .unwrap_or(0);
    format!("{prefix}-{}-{}-{nanos}", std::process::id(), N.fetch_add(1, Ordering::Relaxed))
}
