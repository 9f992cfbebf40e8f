//! Per-session exclusive locks: `flock` on a lock file under the workspace root (outside every
//! workspace, so sandboxed code cannot touch it). Each lock opens the file anew, so two threads
//! of one process exclude each other as two processes do.

use std::os::fd::{AsFd, OwnedFd};

/// Held while a session's sandboxed code runs, and by host-side code that must not run beside
/// it; released on drop.
#[derive(Debug)]
pub struct SessionLock {
    _fd: OwnedFd,
}

impl SessionLock {
    /// Blocks until the lock file `fd` is exclusively locked.
    pub(crate) fn acquire(fd: OwnedFd) -> std::io::Result<SessionLock> {
        crate::fsat::flock_exclusive(fd.as_fd())?;
        Ok(SessionLock { _fd: fd })
    }
}
