//! The session workspace as tools reach it: the calling session's
//! [`vana_workspace::Workspace`] (the one owner of session files, which never follows what
//! sandboxed code planted), and its refusals as tool errors the model can act on.

use vana_core::{ToolContext, ToolError};
use vana_workspace::{Workspace, WorkspaceError, Workspaces};

/// The calling session's files, for tools. Cheap to clone.
#[derive(Clone, Debug)]
pub struct SessionFiles {
    workspaces: Workspaces,
}

impl SessionFiles {
    /// Session files over the process's shared workspaces.
    pub fn new(workspaces: Workspaces) -> Self {
        SessionFiles { workspaces }
    }

    /// The calling session's workspace, `None` when it has none yet.
    pub fn open(&self, ctx: &ToolContext) -> Result<Option<Workspace>, ToolError> {
        self.workspaces.open(&ctx.session_id).map_err(tool_error)
    }

    /// The calling session's workspace, created if needed.
    pub fn ensure(&self, ctx: &ToolContext) -> Result<Workspace, ToolError> {
        self.workspaces.ensure(&ctx.session_id).map_err(tool_error)
    }

    /// Writes `bytes` as the workspace file `name` (folders created); returns its
    /// `/workspace`-relative name.
    pub fn write(&self, ctx: &ToolContext, name: &str, bytes: &[u8]) -> Result<String, ToolError> {
        let rel = vana_workspace::normalize(name).map_err(tool_error)?;
        self.ensure(ctx)?.write(&rel, bytes).map_err(tool_error)?;
        Ok(rel)
    }

    /// Reads the workspace file `name` whole (at most `max_bytes`).
    pub fn read(&self, ctx: &ToolContext, name: &str, max_bytes: u64) -> Result<Vec<u8>, ToolError> {
        match self.open(ctx)? {
            Some(ws) => ws.read(name, max_bytes).map_err(tool_error),
            None => Err(tool_error(WorkspaceError::NotFound {
                path: vana_workspace::normalize(name).unwrap_or_else(|_| name.to_string()),
            })),
        }
    }
}

/// A workspace error as the model reads it: a refused path is blocked (nothing was touched),
/// a bad or missing name is an argument to fix, anything else a failure.
pub fn tool_error(e: WorkspaceError) -> ToolError {
    match e {
        WorkspaceError::Refused { .. } => ToolError::Blocked(e.to_string()),
        WorkspaceError::Io { .. } => ToolError::Failed(e.to_string()),
        _ => ToolError::InvalidArgs(e.to_string()),
    }
}
