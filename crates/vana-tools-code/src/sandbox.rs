//! The shared sandbox engine, started on first use, and the JSON shape of its results.

use serde_json::{json, Value};
use std::path::PathBuf;
use tokio::sync::OnceCell;
use vana_core::{Blob, ToolError};
use vana_sandbox::{ExecutionEngine, ExecutionRequest, ExecutionResult, SandboxPolicy, Workspaces};
use vana_toolkit::tool_error;

/// Lazily started sandbox engine: nothing is forked until a tool first needs it, so commands
/// that never run code pay nothing.
pub struct Sandbox {
    policy_dir: PathBuf,
    workspaces: Workspaces,
    engine: OnceCell<Result<ExecutionEngine, String>>,
}

impl Sandbox {
    /// A sandbox with policies from `policy_dir` (built-in defaults for missing files) and
    /// session workspaces under `<data_dir>/workspaces`, owned by the policy's sandbox user.
    /// (With a policy that does not load, the workspaces take the built-in policy's ids; the
    /// engine then refuses to start with the policy's error.)
    pub fn new(policy_dir: impl Into<PathBuf>, data_dir: impl Into<PathBuf>) -> Self {
        let policy_dir = policy_dir.into();
        let security = SandboxPolicy::load_dir(&policy_dir).unwrap_or_default().security;
        let workspaces =
            Workspaces::new(data_dir.into().join("workspaces"), security.sandbox_uid, security.sandbox_gid);
        Sandbox { policy_dir, workspaces, engine: OnceCell::new() }
    }

    /// The session workspaces, shared by the sandbox and every host-side tool of the process.
    pub fn workspaces(&self) -> &Workspaces {
        &self.workspaces
    }

    /// The engine, starting it on first use. A host that cannot isolate gets the engine's
    /// error (what is missing and how to enable it); code never runs outside the sandbox.
    pub async fn engine(&self) -> Result<&ExecutionEngine, ToolError> {
        let (dir, workspaces) = (self.policy_dir.clone(), self.workspaces.clone());
        let r = self
            .engine
            .get_or_init(|| async move {
                tokio::task::spawn_blocking(move || {
                    let policy = SandboxPolicy::load_dir(&dir).map_err(|e| e.to_string())?;
                    ExecutionEngine::with_workspaces(policy, workspaces).map_err(|e| e.to_string())
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
        self.workspaces.ensure(session_id).and_then(|w| w.write(rel_path, data)).map_err(tool_error)
    }

    /// Deletes a session's workspace (waiting for a run of its code to end; no-op when it has
    /// none).
    pub async fn delete_session(&self, session_id: &str) -> Result<(), ToolError> {
        let ws = self.workspaces.clone();
        let id = session_id.to_string();
        // An id no workspace can have (a session stored before the id rule) has none to delete.
        if vana_toolkit::vana_workspace::validate_session_id(&id).is_err() {
            return Ok(());
        }
        tokio::task::spawn_blocking(move || ws.delete(&id).map(drop).map_err(tool_error))
            .await
            .map_err(|e| ToolError::Failed(format!("workspace deletion crashed: {e}")))?
    }

    /// Runs a request; sandbox errors (bad language, oversize code, isolation missing) become
    /// tool errors with the engine's message.
    pub async fn run(&self, request: ExecutionRequest) -> Result<ExecutionResult, ToolError> {
        let engine = self.engine().await?;
        engine.execute_async(request).await.map_err(|e| match e {
            vana_sandbox::SandboxError::UnsupportedLanguage { .. } => ToolError::InvalidArgs(e.to_string()),
            vana_sandbox::SandboxError::Workspace(w) => tool_error(w),
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
