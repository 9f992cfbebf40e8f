//! Shared helpers for the integration tests (one engine per test binary).

#![allow(dead_code)]

use std::path::PathBuf;
use std::sync::OnceLock;
use std::time::Duration;

use vana_sandbox::{ExecutionEngine, ExecutionRequest, ExecutionResult, SandboxPolicy};

/// Workspace root of this test process.
pub fn root() -> PathBuf {
    std::env::temp_dir().join(format!("vana-sandbox-tests-{}", std::process::id()))
}

/// The shared engine (pool of 2 warm sandboxes).
pub fn engine() -> &'static ExecutionEngine {
    static E: OnceLock<ExecutionEngine> = OnceLock::new();
    E.get_or_init(|| {
        // Remove workspace roots of earlier test processes that have exited.
        if let Ok(rd) = std::fs::read_dir(std::env::temp_dir()) {
            for e in rd.flatten() {
                let name = e.file_name().to_string_lossy().into_owned();
                if let Some(pid) = name.strip_prefix("vana-sandbox-tests-") {
                    if !std::path::Path::new(&format!("/proc/{pid}")).exists() {
                        let _ = std::fs::remove_dir_all(e.path());
                    }
                }
            }
        }
        let mut policy = SandboxPolicy::builtin();
        policy.limits.pool_size = 2;
        ExecutionEngine::new(policy, root()).expect("sandbox engine")
    })
}

/// Runs code with a timeout (default 10 s) and returns the result.
pub fn run(lang: &str, code: &str) -> ExecutionResult {
    run_req(ExecutionRequest::new(lang, code).timeout(Duration::from_secs(10)))
}

/// Runs a request and panics on engine errors.
pub fn run_req(req: ExecutionRequest) -> ExecutionResult {
    engine().execute(req).expect("execute")
}

/// A unique session id.
pub fn session(tag: &str) -> String {
    use std::sync::atomic::{AtomicU32, Ordering};
    static N: AtomicU32 = AtomicU32::new(0);
    format!("{tag}-{}-{}", std::process::id(), N.fetch_add(1, Ordering::Relaxed))
}
