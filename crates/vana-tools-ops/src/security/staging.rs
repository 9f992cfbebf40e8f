//! A private copy of what an external scanner (semgrep, clamscan, yara) reads: files read from
//! the session workspace through its API are written under VANA's data dir
//! (`<data>/security/tmp/<unique>`), so the scanner never opens a path in the workspace itself
//! (where sandboxed code can plant links). The folder is removed when the staging is dropped.
//! VANA's own managed environments and the operator's rule and signature files are also
//! reached here.

use crate::security::input::Source;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use vana_core::ToolError;

static SEQ: AtomicU64 = AtomicU64::new(0);

/// A temporary folder of staged files.
#[derive(Debug)]
pub struct Staging {
    root: PathBuf,
}

impl Staging {
    /// A fresh folder under `scratch` (see [`default_scratch`]), which is created private
    /// (mode 0700) and must be owned by this user with no access for others.
    pub fn new(scratch: &Path) -> Result<Staging, ToolError> {
        use std::os::unix::fs::{DirBuilderExt, MetadataExt};
        let fail =
            |e: String| ToolError::Failed(format!("cannot use the scan folder {}: {e}", scratch.display()));
        if let Some(parent) = scratch.parent() {
            std::fs::create_dir_all(parent).map_err(|e| fail(e.to_string()))?;
        }
        match std::fs::DirBuilder::new().mode(0o700).create(scratch) {
            Ok(()) => {}
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {}
            Err(e) => return Err(fail(e.to_string())),
        }
        let meta = std::fs::symlink_metadata(scratch).map_err(|e| fail(e.to_string()))?;
        // SAFETY: geteuid has no preconditions.
        let me = unsafe { libc::geteuid() };
        if !meta.is_dir() || meta.uid() != me || meta.mode() & 0o077 != 0 {
            return Err(fail("it is not a private folder of this user (mode 0700)".into()));
        }
        let root = scratch.join(format!("{}-{}", std::process::id(), SEQ.fetch_add(1, Ordering::Relaxed)));
        std::fs::DirBuilder::new().mode(0o700).create(&root).map_err(|e| {
            ToolError::Failed(format!("cannot create the scan folder {}: {e}", root.display()))
        })?;
        Ok(Staging { root })
    }

    /// The folder.
    pub fn root(&self) -> &Path {
        &self.root
    }

    /// Writes `bytes` at `rel` below the folder (a workspace-normalised name: no `..`, not
    /// absolute), creating folders; returns its path.
    pub fn put(&self, rel: &str, bytes: &[u8]) -> Result<PathBuf, ToolError> {
        if rel.split('/').any(|c| c == ".." || c.is_empty()) || rel.starts_with('/') {
            return Err(ToolError::InvalidArgs(format!("`{rel}` is not a relative file name")));
        }
        let path = self.root.join(rel);
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent)
                .map_err(|e| ToolError::Failed(format!("cannot create {}: {e}", parent.display())))?;
        }
        std::fs::write(&path, bytes)
            .map_err(|e| ToolError::Failed(format!("cannot write {}: {e}", path.display())))?;
        Ok(path)
    }

    /// Writes every source under `dir` (a folder name below the root); returns that folder.
    pub fn put_all(&self, dir: &str, sources: &[Source]) -> Result<PathBuf, ToolError> {
        let base = self.root.join(dir);
        let mut made = std::collections::HashSet::new();
        std::fs::create_dir_all(&base)
            .map_err(|e| ToolError::Failed(format!("cannot create {}: {e}", base.display())))?;
        for s in sources {
            let rel = &s.name;
            if rel.split('/').any(|c| c == ".." || c.is_empty()) || rel.starts_with('/') {
                return Err(ToolError::InvalidArgs(format!("`{rel}` is not a relative file name")));
            }
            let path = base.join(rel);
            if let Some(parent) = path.parent() {
                if made.insert(parent.to_path_buf()) {
                    std::fs::create_dir_all(parent)
                        .map_err(|e| ToolError::Failed(format!("cannot create {}: {e}", parent.display())))?;
                }
            }
            std::fs::write(&path, &s.bytes)
                .map_err(|e| ToolError::Failed(format!("cannot write {}: {e}", path.display())))?;
        }
        Ok(base)
    }

    /// Removes the folder on another thread (a large copy takes a while to delete).
    pub fn remove_in_background(self) {
        std::thread::spawn(move || drop(self));
    }

    /// Reads a file the scanner wrote below the folder.
    pub fn read(&self, rel: &str) -> Option<Vec<u8>> {
        std::fs::read(self.root.join(rel)).ok()
    }
}

impl Drop for Staging {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.root);
    }
}

/// Where scan copies go: a private folder on `/dev/shm` (memory: the copies are written and
/// deleted fast, and never reach a disk) when it exists, else `<data>/security/tmp`.
pub fn default_scratch(data_dir: &Path) -> PathBuf {
    let shm = Path::new("/dev/shm");
    if shm.is_dir() {
        // SAFETY: geteuid has no preconditions.
        shm.join(format!("vana-security-{}", unsafe { libc::geteuid() }))
    } else {
        data_dir.join("security").join("tmp")
    }
}

/// Reads an operator's file (a rule file, a CA certificate): these are configured paths, never
/// workspace paths.
pub fn read_operator_file(path: &Path, what: &str) -> Result<Vec<u8>, ToolError> {
    std::fs::read(path)
        .map_err(|e| ToolError::Unavailable(format!("cannot read {what} {}: {e}", path.display())))
}

/// Whether an executable is reachable: a path that is a file, or a bare name found on PATH.
pub fn find_executable(program: &Path) -> Option<PathBuf> {
    if program.components().count() > 1 {
        return program.is_file().then(|| program.to_path_buf());
    }
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path).map(|d| d.join(program)).find(|p| p.is_file())
}

/// Whether a folder holds at least one file with one of the given extensions.
pub fn dir_has_files(dir: &Path, exts: &[&str]) -> bool {
    std::fs::read_dir(dir).is_ok_and(|rd| {
        rd.flatten().any(|e| e.path().extension().and_then(|x| x.to_str()).is_some_and(|x| exts.contains(&x)))
    })
}
