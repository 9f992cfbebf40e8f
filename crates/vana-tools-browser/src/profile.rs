//! VANA's own files for Chromium, never a session workspace: a fresh `--user-data-dir` per
//! process under the temp dir (removed when the process goes), the folder Chromium saves
//! downloads into before they are moved into a workspace through the workspace API, and the
//! check that the Chromium binary is there.

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};

/// A temporary directory owned by VANA, removed on drop.
#[derive(Debug)]
pub struct Profile {
    root: PathBuf,
}

impl Profile {
    /// A fresh, empty directory (mode 0700) under the system temp dir.
    pub fn create() -> std::io::Result<Profile> {
        static N: AtomicU64 = AtomicU64::new(0);
        let name = format!("vana-chromium-{}-{}", std::process::id(), N.fetch_add(1, Ordering::Relaxed));
        let root = std::env::temp_dir().join(name);
        let _ = std::fs::remove_dir_all(&root);
        std::fs::create_dir_all(root.join("data"))?;
        std::fs::create_dir_all(root.join("downloads"))?;
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&root, std::fs::Permissions::from_mode(0o700))?;
        Ok(Profile { root })
    }

    /// Chromium's `--user-data-dir`.
    pub fn user_data(&self) -> PathBuf {
        self.root.join("data")
    }

    /// Where one browser context's downloads land (created).
    pub fn downloads(&self, context: &str) -> std::io::Result<PathBuf> {
        let dir = self.root.join("downloads").join(context.replace(['/', '.'], "_"));
        std::fs::create_dir_all(&dir)?;
        Ok(dir)
    }
}

impl Drop for Profile {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.root);
    }
}

/// Takes a finished download out of its download folder: its bytes (at most `max` bytes) and
/// removes the file. `None` when it is larger than `max` (the file is removed all the same).
pub fn take_download(dir: &Path, guid: &str, max: u64) -> std::io::Result<Option<Vec<u8>>> {
    if guid.is_empty() || guid.contains(['/', '.']) {
        return Err(std::io::Error::other("bad download id"));
    }
    let path = dir.join(guid);
    let size = std::fs::symlink_metadata(&path)?.len();
    let out = if size > max { None } else { Some(std::fs::read(&path)?) };
    let _ = std::fs::remove_file(&path);
    Ok(out)
}

/// Whether `path` is an executable file.
pub fn executable(path: &str) -> bool {
    use std::os::unix::fs::PermissionsExt;
    std::fs::metadata(path).is_ok_and(|m| m.is_file() && m.permissions().mode() & 0o111 != 0)
}
