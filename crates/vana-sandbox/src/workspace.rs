//! Per-session persistent workspaces (`/workspace` inside the sandbox).
//!
//! A session's workspace is a host directory `<root>/<session_id>`, created on
//! first use and owned by the sandbox's host uid, so a file written in one run
//! is there in the next run of the same session. Each run bind-mounts only its
//! own session's directory, so sessions cannot see each other. Runs of the
//! same session are serialised by a per-session lock.
//!
//! Size cap: every file is limited by `RLIMIT_FSIZE` (= the workspace cap) and
//! the workspace size is measured after each run; when it is over the cap the
//! result says so and the next run of that session is refused until files are
//! deleted.

use std::collections::HashMap;
use std::fs;
use std::io::Read;
use std::os::unix::fs::{MetadataExt, OpenOptionsExt, PermissionsExt};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use base64::Engine as _;

use crate::error::{Result, SandboxError};
use crate::result::FileArtifact;

/// Most directory entries visited when scanning a workspace.
const MAX_SCAN_ENTRIES: usize = 100_000;
/// Deepest directory level scanned.
const MAX_SCAN_DEPTH: usize = 64;

/// Manages the per-session workspace directories under one root.
#[derive(Debug)]
pub struct WorkspaceManager {
    root: PathBuf,
    uid: u32,
    gid: u32,
    locks: Mutex<HashMap<String, Arc<Mutex<()>>>>,
}

/// Metadata of one file in a workspace snapshot.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct FileStamp {
    size: u64,
    mtime_ns: i128,
}

impl FileStamp {
    /// File size in bytes.
    pub(crate) fn size(&self) -> u64 {
        self.size
    }
}

/// Files of a workspace by relative path.
pub(crate) type Snapshot = HashMap<String, FileStamp>;

impl WorkspaceManager {
    /// A manager keeping workspaces under `root`, owned by host `uid`/`gid`
    /// (the ids the sandbox user is mapped to).
    pub fn new(root: impl Into<PathBuf>, uid: u32, gid: u32) -> Result<Self> {
        let root = root.into();
        fs::create_dir_all(&root)
            .map_err(|e| SandboxError::io(format!("create workspace root {}", root.display()), e))?;
        // Sandboxes must not list other sessions: only host root may read the root.
        fs::set_permissions(&root, fs::Permissions::from_mode(0o711))
            .map_err(|e| SandboxError::io(format!("chmod {}", root.display()), e))?;
        // Throw-away workspaces of engine processes that died mid-run.
        if let Ok(rd) = fs::read_dir(&root) {
            for e in rd.flatten() {
                let name = e.file_name().to_string_lossy().into_owned();
                let pid = name
                    .strip_prefix(".run-")
                    .and_then(|r| r.split('-').next())
                    .and_then(|p| p.parse::<u32>().ok());
                if let Some(pid) = pid {
                    if pid != std::process::id() && !Path::new(&format!("/proc/{pid}")).exists() {
                        let _ = fs::remove_dir_all(e.path());
                    }
                }
            }
        }
        Ok(Self { root, uid, gid, locks: Mutex::new(HashMap::new()) })
    }

    /// The directory holding all workspaces.
    pub fn root(&self) -> &Path {
        &self.root
    }

    /// Checks that `id` is a safe session id (`[A-Za-z0-9_-]{1,128}`, not starting with `.`).
    pub fn validate_session_id(id: &str) -> Result<()> {
        let ok = !id.is_empty()
            && id.len() <= 128
            && id.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-');
        if ok {
            Ok(())
        } else {
            Err(SandboxError::InvalidSessionId(id.to_string()))
        }
    }

    /// Host path of a session's workspace (not created).
    pub fn path(&self, session_id: &str) -> Result<PathBuf> {
        Self::validate_session_id(session_id)?;
        Ok(self.root.join(session_id))
    }

    /// Creates the session's workspace if needed and returns its host path.
    pub fn ensure(&self, session_id: &str) -> Result<PathBuf> {
        let path = self.path(session_id)?;
        self.create_owned_dir(&path)?;
        Ok(path)
    }

    /// Whether the session has a workspace.
    pub fn exists(&self, session_id: &str) -> Result<bool> {
        Ok(self.path(session_id)?.is_dir())
    }

    /// Deletes the session's workspace and everything in it.
    pub fn delete(&self, session_id: &str) -> Result<()> {
        let path = self.path(session_id)?;
        let lock = self.lock_for(session_id);
        let _guard = lock.lock().unwrap_or_else(|e| e.into_inner());
        match fs::remove_dir_all(&path) {
            Ok(()) => {}
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
            Err(e) => return Err(SandboxError::io(format!("delete workspace {}", path.display()), e)),
        }
        self.locks.lock().unwrap_or_else(|e| e.into_inner()).remove(session_id);
        Ok(())
    }

    /// Writes a file into a session workspace from the host side (owned by the sandbox user).
    pub fn write_file(&self, session_id: &str, rel_path: &str, data: &[u8]) -> Result<()> {
        let dir = self.ensure(session_id)?;
        let rel = sanitize_relative(rel_path)?;
        let lock = self.lock_for(session_id);
        let _guard = lock.lock().unwrap_or_else(|e| e.into_inner());
        // Sandboxed code may have planted symlinks: never follow one.
        let mut cur = dir.clone();
        if let Some(parent) = rel.parent() {
            for comp in parent.components() {
                cur.push(comp);
                match fs::symlink_metadata(&cur) {
                    Ok(md) if md.is_dir() => {}
                    Ok(_) => {
                        return Err(SandboxError::InvalidRequest(format!(
                            "{} in the workspace is not a directory (symlinks are not followed)",
                            cur.strip_prefix(&dir).unwrap_or(&cur).display()
                        )))
                    }
                    Err(_) => self.create_owned_dir(&cur)?,
                }
            }
        }
        let target = dir.join(&rel);
        let mut f = fs::OpenOptions::new()
            .write(true)
            .create(true)
            .truncate(true)
            .custom_flags(libc::O_NOFOLLOW | libc::O_NONBLOCK)
            .open(&target)
            .map_err(|e| SandboxError::io(format!("write {}", target.display()), e))?;
        if !f.metadata().map(|m| m.is_file()).unwrap_or(false) {
            return Err(SandboxError::InvalidRequest(format!("{rel_path} is not a regular file")));
        }
        std::io::Write::write_all(&mut f, data)
            .map_err(|e| SandboxError::io(format!("write {}", target.display()), e))?;
        std::os::unix::fs::fchown(&f, Some(self.uid), Some(self.gid))
            .map_err(|e| SandboxError::io(format!("chown {}", target.display()), e))?;
        Ok(())
    }

    /// Reads a file of a session workspace from the host side (symlinks are never followed).
    pub fn read_file(&self, session_id: &str, rel_path: &str) -> Result<Vec<u8>> {
        let dir = self.path(session_id)?;
        let rel = sanitize_relative(rel_path)?;
        let lock = self.lock_for(session_id);
        let _guard = lock.lock().unwrap_or_else(|e| e.into_inner());
        let mut cur = dir.clone();
        if let Some(parent) = rel.parent() {
            for comp in parent.components() {
                cur.push(comp);
                let md = fs::symlink_metadata(&cur)
                    .map_err(|e| SandboxError::io(format!("read {}", cur.display()), e))?;
                if !md.is_dir() {
                    return Err(SandboxError::InvalidRequest(format!(
                        "{} in the workspace is not a directory (symlinks are not followed)",
                        cur.strip_prefix(&dir).unwrap_or(&cur).display()
                    )));
                }
            }
        }
        read_no_follow(&dir.join(rel), u64::MAX)
    }

    /// Total bytes of regular files in a session workspace.
    pub fn usage(&self, session_id: &str) -> Result<u64> {
        let dir = self.path(session_id)?;
        if !dir.exists() {
            return Ok(0);
        }
        Ok(snapshot(&dir, MAX_SCAN_ENTRIES).values().map(|s| s.size).sum())
    }

    pub(crate) fn lock_for(&self, session_id: &str) -> Arc<Mutex<()>> {
        self.locks
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .entry(session_id.to_string())
            .or_default()
            .clone()
    }

    pub(crate) fn create_owned_dir(&self, path: &Path) -> Result<()> {
        match fs::create_dir(path) {
            Ok(()) => {}
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {
                let md = fs::symlink_metadata(path)
                    .map_err(|e| SandboxError::io(format!("stat {}", path.display()), e))?;
                if !md.is_dir() {
                    return Err(SandboxError::InvalidRequest(format!(
                        "{} exists and is not a directory",
                        path.display()
                    )));
                }
                return Ok(());
            }
            Err(e) => return Err(SandboxError::io(format!("create workspace {}", path.display()), e)),
        }
        std::os::unix::fs::chown(path, Some(self.uid), Some(self.gid))
            .map_err(|e| SandboxError::io(format!("chown {}", path.display()), e))?;
        fs::set_permissions(path, fs::Permissions::from_mode(0o700))
            .map_err(|e| SandboxError::io(format!("chmod {}", path.display()), e))?;
        Ok(())
    }
}

/// Validates a workspace-relative path (no `..`, not absolute, no NUL).
pub(crate) fn sanitize_relative(p: &str) -> Result<PathBuf> {
    let path = Path::new(p.trim_start_matches("/workspace/"));
    let bad = p.is_empty()
        || p.contains('\0')
        || path.is_absolute()
        || path.components().any(|c| !matches!(c, std::path::Component::Normal(_)));
    if bad {
        return Err(SandboxError::InvalidRequest(format!(
            "'{p}' is not a plain path relative to /workspace"
        )));
    }
    Ok(path.to_path_buf())
}

/// Regular files under `dir` (symlinks and special files are skipped, never followed).
pub(crate) fn snapshot(dir: &Path, max_entries: usize) -> Snapshot {
    let mut out = Snapshot::new();
    let mut stack = vec![(dir.to_path_buf(), String::new(), 0usize)];
    let mut seen = 0usize;
    while let Some((abs, rel, depth)) = stack.pop() {
        let Ok(rd) = fs::read_dir(&abs) else { continue };
        for entry in rd.flatten() {
            seen += 1;
            if seen > max_entries {
                return out;
            }
            let Ok(md) = entry.metadata() else { continue };
            let name = entry.file_name().to_string_lossy().into_owned();
            let child_rel = if rel.is_empty() { name } else { format!("{rel}/{name}") };
            let ft = md.file_type();
            if ft.is_dir() && depth < MAX_SCAN_DEPTH {
                stack.push((entry.path(), child_rel, depth + 1));
            } else if ft.is_file() {
                let mtime_ns = md.mtime() as i128 * 1_000_000_000 + md.mtime_nsec() as i128;
                out.insert(child_rel, FileStamp { size: md.size(), mtime_ns });
            }
        }
    }
    out
}

/// Files created or changed between two snapshots, newest first.
pub(crate) fn diff(
    dir: &Path,
    before: &Snapshot,
    after: &Snapshot,
    with_contents: bool,
    max_content: u64,
    max_files: usize,
) -> Vec<FileArtifact> {
    let mut changed: Vec<(&String, &FileStamp, bool)> = after
        .iter()
        .filter_map(|(p, st)| match before.get(p) {
            None => Some((p, st, true)),
            Some(old) if old != st => Some((p, st, false)),
            Some(_) => None,
        })
        .collect();
    changed.sort_by(|a, b| b.1.mtime_ns.cmp(&a.1.mtime_ns).then(a.0.cmp(b.0)));
    changed.truncate(max_files);
    changed
        .into_iter()
        .map(|(p, st, created)| {
            let content_base64 = if with_contents && st.size <= max_content {
                read_no_follow(&dir.join(p), max_content)
                    .ok()
                    .map(|d| base64::engine::general_purpose::STANDARD.encode(d))
            } else {
                None
            };
            let modified_ms = u64::try_from(st.mtime_ns / 1_000_000).unwrap_or(0);
            FileArtifact { path: p.clone(), size: st.size, modified_ms, created, content_base64 }
        })
        .collect()
}

fn read_no_follow(path: &Path, max: u64) -> Result<Vec<u8>> {
    let f = fs::OpenOptions::new()
        .read(true)
        .custom_flags(libc::O_NOFOLLOW | libc::O_NONBLOCK)
        .open(path)
        .map_err(|e| SandboxError::io(format!("read {}", path.display()), e))?;
    let md = f.metadata().map_err(|e| SandboxError::io(format!("stat {}", path.display()), e))?;
    if !md.is_file() {
        return Err(SandboxError::InvalidRequest(format!("{} is not a regular file", path.display())));
    }
    let mut buf = Vec::new();
    f.take(max).read_to_end(&mut buf).map_err(|e| SandboxError::io(format!("read {}", path.display()), e))?;
    Ok(buf)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn session_ids() {
        for ok in ["abc", "A-1_b", "x"] {
            WorkspaceManager::validate_session_id(ok).unwrap();
        }
        for bad in ["", "..", "../x", "a/b", "a b", ".hidden", "x\0"] {
            assert!(WorkspaceManager::validate_session_id(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn relative_paths() {
        assert!(sanitize_relative("a/b.py").is_ok());
        assert_eq!(sanitize_relative("/workspace/x.py").unwrap(), PathBuf::from("x.py"));
        for bad in ["../x", "/etc/passwd", "a/../../b", ""] {
            assert!(sanitize_relative(bad).is_err(), "{bad}");
        }
    }
}
