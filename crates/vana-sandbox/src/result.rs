//! The execution result.

use serde::{Deserialize, Serialize};

use crate::security::Finding;

/// A file created or modified in `/workspace` by a run.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct FileArtifact {
    /// Path relative to the workspace root (`/` separated).
    pub path: String,
    /// Size in bytes.
    pub size: u64,
    /// Modification time, milliseconds since the Unix epoch.
    pub modified_ms: u64,
    /// `true` when the file did not exist before the run.
    pub created: bool,
    /// Base64 contents, when requested and not larger than `max_artifact_bytes`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub content_base64: Option<String>,
}

/// Which isolation layers were in force for a run.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct IsolationReport {
    /// Network namespace (no network) was used.
    pub network_isolated: bool,
    /// Landlock ABI version applied (0 = not applied).
    pub landlock_abi: u32,
    /// Seccomp filter applied.
    pub seccomp: bool,
    /// Cgroup version used for limits (1 or 2).
    pub cgroup_version: u8,
}

/// Outcome of one sandboxed execution.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ExecutionResult {
    /// Unique id of this run.
    pub run_id: String,
    /// Canonical language name.
    pub language: String,
    /// Captured standard output (lossy UTF-8, at most `output_bytes`).
    pub stdout: String,
    /// Captured standard error (lossy UTF-8, at most `output_bytes`).
    pub stderr: String,
    /// Standard output was cut at the cap.
    pub stdout_truncated: bool,
    /// Standard error was cut at the cap.
    pub stderr_truncated: bool,
    /// Exit code when the program exited normally.
    pub exit_code: Option<i32>,
    /// Signal number when the program was killed by a signal.
    pub signal: Option<i32>,
    /// Wall-clock time from dispatch to reap, milliseconds.
    pub wall_time_ms: f64,
    /// CPU time (user + system) of the whole process tree, milliseconds.
    pub cpu_time_ms: f64,
    /// Peak memory of the sandbox cgroup, bytes.
    pub peak_memory_bytes: u64,
    /// Killed at the wall-clock timeout.
    pub timed_out: bool,
    /// Killed by the OOM killer at the memory limit.
    pub oom_killed: bool,
    /// A fork/clone failed because the pids limit was reached.
    pub pids_limit_hit: bool,
    /// An output stream reached its cap and the run was killed.
    pub output_truncated: bool,
    /// Files created or modified in `/workspace`.
    pub files: Vec<FileArtifact>,
    /// Bytes used by the workspace after the run.
    pub workspace_bytes: u64,
    /// The workspace is over its size cap (the next run of the session is refused).
    pub workspace_over_quota: bool,
    /// Findings of the static pre-check.
    pub findings: Vec<Finding>,
    /// The run used a pre-forked warm sandbox.
    pub warm_start: bool,
    /// Isolation layers that were applied.
    pub isolation: IsolationReport,
}

impl ExecutionResult {
    /// `true` when the program exited with code 0 and no limit was hit.
    pub fn success(&self) -> bool {
        self.exit_code == Some(0) && !self.timed_out && !self.oom_killed && !self.output_truncated
    }
}
