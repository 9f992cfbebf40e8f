//! What a scan reads: inline text, or a file or folder of the session workspace, read through
//! the workspace API (links and special files are never followed; sandboxed code can plant them).
//! Sizes are bounded; what was left out is reported, never silently dropped.

use serde::Serialize;
use vana_core::{ToolContext, ToolError};
use vana_toolkit::vana_workspace::{self, FileKind, Workspace};
use vana_toolkit::{tool_error, SessionFiles};

/// Bounds on what one scan reads.
#[derive(Debug, Clone, Copy)]
pub struct Limits {
    /// Files larger than this are skipped (and listed as skipped).
    pub max_file_bytes: u64,
    /// The scan stops reading once this many bytes were read (the rest is listed as skipped).
    pub max_total_bytes: u64,
    /// Most files read.
    pub max_files: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Limits { max_file_bytes: 8 * 1024 * 1024, max_total_bytes: 1024 * 1024 * 1024, max_files: 100_000 }
    }
}

/// A file (or the inline text) to scan.
#[derive(Debug, Clone)]
pub struct Source {
    /// Its workspace-relative name (`<text>` for inline text).
    pub name: String,
    /// Its bytes.
    pub bytes: Vec<u8>,
}

/// A file the scan did not read, and why.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct Skipped {
    /// Workspace-relative name.
    pub file: String,
    /// Why (`larger than 8388608 bytes`, `binary`, …).
    pub reason: String,
}

/// True when `path` names the whole workspace.
pub fn is_root(path: &str) -> bool {
    matches!(path.trim(), "" | "." | "./" | "/workspace" | "/workspace/")
}

/// The workspace-relative names of the regular files at `path` (a file, or every file under a
/// folder; the whole workspace for `.`), sorted. A missing path is an argument error naming it.
pub fn list(
    files: &SessionFiles,
    ctx: &ToolContext,
    path: &str,
) -> Result<(Workspace, Vec<(String, u64)>), ToolError> {
    let root = is_root(path);
    let rel = if root { String::new() } else { vana_workspace::normalize(path).map_err(tool_error)? };
    let Some(ws) = files.open(ctx)? else {
        return Err(ToolError::InvalidArgs(format!(
            "`{path}` does not exist: this session's workspace is empty (write or upload the files first)"
        )));
    };
    if !root {
        match ws.stat(&rel).map_err(tool_error)? {
            None => {
                return Err(ToolError::InvalidArgs(format!(
                    "`{rel}` does not exist in the session workspace"
                )))
            }
            Some(info) if info.kind == FileKind::File => return Ok((ws, vec![(rel, info.size)])),
            Some(info) if info.kind == FileKind::Directory => {}
            Some(info) => {
                return Err(ToolError::Blocked(format!(
                    "`{rel}` is a {:?}, not a regular file or folder: links and special files in a workspace are never \
                     followed (sandboxed code can plant them)",
                    info.kind
                )))
            }
        }
    }
    let prefix = format!("{rel}/");
    let mut names: Vec<(String, u64)> = ws
        .files(vana_workspace::MAX_SCAN_ENTRIES)
        .into_iter()
        .filter(|(name, _)| root || name.starts_with(&prefix))
        .filter(|(name, _)| !name.split('/').any(|c| c == ".git"))
        .map(|(name, info)| (name, info.size))
        .collect();
    names.sort();
    Ok((ws, names))
}

/// Reads the files `list` named, within `limits`: what was read and what was skipped.
pub fn read_all(ws: &Workspace, names: &[(String, u64)], limits: Limits) -> (Vec<Source>, Vec<Skipped>) {
    let mut out = Vec::new();
    let mut skipped = Vec::new();
    let mut total = 0u64;
    for (name, size) in names {
        if *size > limits.max_file_bytes {
            skipped.push(Skipped {
                file: name.clone(),
                reason: format!("larger than {} bytes", limits.max_file_bytes),
            });
            continue;
        }
        if out.len() >= limits.max_files || total + size > limits.max_total_bytes {
            skipped.push(Skipped {
                file: name.clone(),
                reason: "over the scan's total size or file limit".into(),
            });
            continue;
        }
        match ws.read(name, limits.max_file_bytes) {
            Ok(bytes) => {
                total += bytes.len() as u64;
                out.push(Source { name: name.clone(), bytes });
            }
            Err(e) => skipped.push(Skipped { file: name.clone(), reason: e.to_string() }),
        }
    }
    (out, skipped)
}

/// The one input of a scan: `text` inline or `path` in the workspace; exactly one.
pub fn text_or_path(text: &Option<String>, path: &Option<String>) -> Result<(), ToolError> {
    match (text, path) {
        (Some(_), Some(_)) => Err(ToolError::InvalidArgs("give either `text` or `path`, not both".into())),
        (None, None) => Err(ToolError::InvalidArgs(
            "give `text` (the content to scan) or `path` (a file or folder in the session workspace, `.` for all)".into(),
        )),
        (Some(t), None) if t.trim().is_empty() => Err(ToolError::InvalidArgs("`text` is empty".into())),
        _ => Ok(()),
    }
}

/// True when the bytes look binary (a NUL in the first 8 KiB), as git decides.
pub fn is_binary(bytes: &[u8]) -> bool {
    bytes[..bytes.len().min(8192)].contains(&0)
}

/// A workspace path checked before anything is read (`..`, absolute paths and NUL refused
/// with the reason, even in a session that has no workspace yet).
pub fn checked(path: &str) -> Result<String, ToolError> {
    vana_workspace::normalize(path).map_err(tool_error)
}
