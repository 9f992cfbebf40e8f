//! The shared sandbox engine, started on first use, and the JSON shape of its results.

use serde_json::{json, Value};
use std::path::PathBuf;
use tokio::sync::OnceCell;
use vana_core::{Blob, ToolError};
use vana_sandbox::{ExecutionEngine, ExecutionRequest, ExecutionResult, SandboxPolicy, WorkspaceManager};

/// Lazily started sandbox engine: nothing is forked until a tool first needs it, so commands
/// that never run code pay nothing.
pub struct Sandbox {
    policy_dir: PathBuf,
    data_dir: PathBuf,
    engine: OnceCell<Result<ExecutionEngine, String>>,
}

impl Sandbox {
    /// A sandbox with policies from `policy_dir` (built-in defaults for missing files) and
    /// session workspaces under `<data_dir>/workspaces`.
    pub fn new(policy_dir: impl Into<PathBuf>, data_dir: impl Into<PathBuf>) -> Self {
        Sandbox { policy_dir: policy_dir.into(), data_dir: data_dir.into(), engine: OnceCell::new() }
    }

    /// The engine, starting it on first use. A host that cannot isolate gets the engine's
    /// error (what is missing and how to enable it); code never runs outside the sandbox.
    pub async fn engine(&self) -> Result<&ExecutionEngine, ToolError> {
        let (dir, data) = (self.policy_dir.clone(), self.data_dir.clone());
        let r = self
            .engine
            .get_or_init(|| async move {
                tokio::task::spawn_blocking(move || {
                    ExecutionEngine::from_config_dir(&dir, &data).map_err(|e| e.to_string())
                })
                .await
                .unwrap_or_else(|e| Err(format!("sandbox start-up failed: {e}")))
            })
            .await;
        r.as_ref().map_err(|e| ToolError::Unavailable(format!("the code sandbox cannot run here: {e}")))
    }

    /// The policy without starting the engine.
    pub fn policy(&self) -> Result<SandboxPolicy, ToolError> {
        SandboxPolicy::load_dir(&self.policy_dir).map_err(|e| ToolError::Unavailable(e.to_string()))
    }

    /// Writes a file into a session's workspace from the host side, owned by the sandbox user
    /// (symlinks planted by sandboxed code are never followed), e.g. a file the user attached.
    pub fn put_file(&self, session_id: &str, rel_path: &str, data: &[u8]) -> Result<(), ToolError> {
        let security = self.policy()?.security;
        let failed = |e: vana_sandbox::SandboxError| ToolError::Failed(e.to_string());
        WorkspaceManager::new(self.data_dir.join("workspaces"), security.sandbox_uid, security.sandbox_gid)
            .map_err(failed)?
            .write_file(session_id, rel_path, data)
            .map_err(failed)
    }

    /// Deletes a session's workspace (no-op when the engine never started and none exists).
    pub async fn delete_session(&self, session_id: &str) -> Result<(), ToolError> {
        let ws = self.data_dir.join("workspaces").join(session_id);
        if !ws.exists() {
            return Ok(());
        }
        self.engine().await?.delete_session(session_id).map_err(|e| ToolError::Failed(e.to_string()))
    }

    /// Runs a request; sandbox errors (bad language, oversize code, isolation missing) become
    /// tool errors with the engine's message.
    pub async fn run(&self, request: ExecutionRequest) -> Result<ExecutionResult, ToolError> {
        let engine = self.engine().await?;
        engine.execute_async(request).await.map_err(|e| match e {
            vana_sandbox::SandboxError::UnsupportedLanguage { .. } => ToolError::InvalidArgs(e.to_string()),
            other => ToolError::Failed(other.to_string()),
        })
    }
}

const IMAGE_TYPES: &[(&str, &str)] = &[
    ("png", "image/png"),
    ("jpg", "image/jpeg"),
    ("jpeg", "image/jpeg"),
    ("gif", "image/gif"),
    ("webp", "image/webp"),
    ("svg", "image/svg+xml"),
];

/// The MIME type of an image file name, if it is one.
pub(crate) fn image_mime(path: &str) -> Option<&'static str> {
    let ext = path.rsplit('.').next()?.to_ascii_lowercase();
    IMAGE_TYPES.iter().find(|(e, _)| *e == ext).map(|(_, m)| *m)
}

/// The result as the model sees it (file contents are not repeated: images travel as artifacts).
pub(crate) fn result_json(r: &ExecutionResult) -> Value {
    let files: Vec<Value> =
        r.files.iter().map(|f| json!({"path": f.path, "size": f.size, "created": f.created})).collect();
    json!({
        "status": if r.success() { "success" } else { "error" },
        "language": r.language,
        "exitCode": r.exit_code,
        "signal": r.signal,
        "stdout": r.stdout,
        "stderr": r.stderr,
        "stdoutTruncated": r.stdout_truncated,
        "stderrTruncated": r.stderr_truncated,
        "wallTimeMs": r.wall_time_ms,
        "cpuTimeMs": r.cpu_time_ms,
        "peakMemoryBytes": r.peak_memory_bytes,
        "timedOut": r.timed_out,
        "oomKilled": r.oom_killed,
        "pidsLimitHit": r.pids_limit_hit,
        "outputTruncated": r.output_truncated,
        "files": files,
        "workspaceBytes": r.workspace_bytes,
        "findings": r.findings,
        "warmStart": r.warm_start,
    })
}

/// Images the run created or changed, as artifacts for the user.
pub(crate) fn image_artifacts(r: &ExecutionResult) -> Vec<Blob> {
    r.files
        .iter()
        .filter_map(|f| {
            let mime = image_mime(&f.path)?;
            let data = f.content_base64.clone()?;
            Some(Blob { mime_type: mime.into(), data, display_name: Some(f.path.clone()) })
        })
        .collect()
}
