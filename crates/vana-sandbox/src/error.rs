//! Error type of the sandbox crate.

use std::path::PathBuf;

/// Everything that can go wrong when preparing or running a sandboxed execution.
///
/// Messages say what is missing and how to fix it; the sandbox never falls
/// back to running code on the host when isolation cannot be provided.
#[derive(Debug, thiserror::Error)]
pub enum SandboxError {
    /// The requested language has no executor.
    #[error("unsupported language '{language}': supported languages are {supported}")]
    UnsupportedLanguage {
        /// The language name that was requested.
        language: String,
        /// Comma-separated list of the supported language names.
        supported: String,
    },
    /// The host cannot provide an isolation layer the policy demands.
    #[error("sandbox isolation unavailable: {what}; to enable it: {fix}")]
    IsolationUnavailable {
        /// The missing isolation feature.
        what: String,
        /// How to enable it.
        fix: String,
    },
    /// The request is malformed (bad env name, bad file path, missing code...).
    #[error("invalid execution request: {0}")]
    InvalidRequest(String),
    /// A session id is empty, too long or contains characters other than `[A-Za-z0-9_-]`.
    #[error("invalid session id '{0}': use 1-128 characters from [A-Za-z0-9_-]")]
    InvalidSessionId(String),
    /// The session workspace is over its size cap; delete files before running more code.
    #[error("workspace of session '{session}' uses {used} bytes, over the cap of {cap} bytes: delete files from the workspace (or raise workspace_mb in resource_limits.yaml)")]
    WorkspaceOverQuota {
        /// Session id.
        session: String,
        /// Bytes in use.
        used: u64,
        /// Configured cap.
        cap: u64,
    },
    /// The static pre-check found a finding at or above the policy's block severity.
    #[error("code refused by security policy: {0}")]
    BlockedByPolicy(String),
    /// A policy file could not be read or parsed.
    #[error("invalid sandbox policy {path}: {message}")]
    Policy {
        /// File (or built-in name) the policy came from.
        path: PathBuf,
        /// Parse or validation error.
        message: String,
    },
    /// Setting up the sandbox failed in the child before exec.
    #[error("sandbox setup failed at step '{step}': {source}")]
    Setup {
        /// Name of the setup step that failed.
        step: String,
        /// The OS error reported by that step.
        source: std::io::Error,
    },
    /// A host-side operation (cgroup, pipe, clone, workspace I/O) failed.
    #[error("{context}: {source}")]
    Io {
        /// What was being done.
        context: String,
        /// Underlying error.
        source: std::io::Error,
    },
    /// A session workspace refused a path or failed (see [`vana_workspace::WorkspaceError`]).
    #[error(transparent)]
    Workspace(vana_workspace::WorkspaceError),
    /// The engine's blocking task was cancelled or panicked.
    #[error("sandbox task failed: {0}")]
    Task(String),
}

impl SandboxError {
    /// Builds an [`SandboxError::Io`] with a context string.
    pub fn io(context: impl Into<String>, source: std::io::Error) -> Self {
        SandboxError::Io { context: context.into(), source }
    }

    /// Builds an [`SandboxError::Io`] from the current `errno`.
    pub(crate) fn last_os(context: impl Into<String>) -> Self {
        Self::io(context, std::io::Error::last_os_error())
    }
}

impl From<vana_workspace::WorkspaceError> for SandboxError {
    fn from(e: vana_workspace::WorkspaceError) -> Self {
        match e {
            vana_workspace::WorkspaceError::InvalidSessionId(id) => SandboxError::InvalidSessionId(id),
            other => SandboxError::Workspace(other),
        }
    }
}

/// Result alias used throughout the crate.
pub type Result<T> = std::result::Result<T, SandboxError>;
