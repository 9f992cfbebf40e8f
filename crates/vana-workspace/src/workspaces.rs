//! The directory of all session workspaces: `<root>/<session id>`, each created on first use,
//! owned by the sandbox's host uid and mode 0700; the root itself is 0711, so a sandbox can
//! reach only the workspace it has mounted.

use crate::error::{Result, WorkspaceError};
use crate::fsat::{self, c_name};
use crate::lock::SessionLock;
use crate::rel::validate_session_id;
use crate::workspace::Workspace;
use std::os::fd::{AsFd, OwnedFd};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, OnceLock};

/// Folder of the per-session lock files, under the root.
const LOCKS: &str = ".locks";
/// Prefix of throw-away workspaces: `.run-<pid>-<n>`.
const SCRATCH: &str = ".run-";

/// Who owns workspace files on the host (the ids the sandbox user maps to).
#[derive(Debug, Clone, Copy)]
pub(crate) struct Owner {
    pub uid: u32,
    pub gid: u32,
}

#[derive(Debug)]
pub(crate) struct Inner {
    root: PathBuf,
    pub(crate) owner: Owner,
    ready: OnceLock<std::result::Result<(), std::io::ErrorKind>>,
}

/// Numbers throw-away workspaces: one counter per process, since several `Workspaces` of one
/// process may share a root (two apps over the same data dir).
static SCRATCH_SEQ: AtomicU64 = AtomicU64::new(0);

impl Inner {
    /// Creates the root (0711) and the lock folder once, and removes the throw-away
    /// workspaces of processes that died mid-run.
    fn ready(&self) -> Result<()> {
        let r = self.ready.get_or_init(|| {
            use std::os::unix::fs::PermissionsExt;
            let root = &self.root;
            std::fs::create_dir_all(root.join(LOCKS))
                .and_then(|()| std::fs::set_permissions(root, std::fs::Permissions::from_mode(0o711)))
                .and_then(|()| {
                    std::fs::set_permissions(root.join(LOCKS), std::fs::Permissions::from_mode(0o700))
                })
                .map_err(|e| e.kind())?;
            for e in std::fs::read_dir(root).into_iter().flatten().flatten() {
                let name = e.file_name().to_string_lossy().into_owned();
                let pid = name
                    .strip_prefix(SCRATCH)
                    .and_then(|r| r.split('-').next())
                    .and_then(|p| p.parse::<u32>().ok());
                if let Some(pid) = pid {
                    if pid != std::process::id() && !Path::new(&format!("/proc/{pid}")).exists() {
                        let _ = std::fs::remove_dir_all(e.path());
                    }
                }
            }
            Ok(())
        });
        r.map_err(|kind| {
            WorkspaceError::io(format!("create the workspace root {}", self.root.display()), kind.into())
        })
    }

    fn root_fd(&self) -> Result<OwnedFd> {
        self.ready()?;
        fsat::open_dir_path(&self.root)
            .map_err(|e| WorkspaceError::io(format!("open the workspace root {}", self.root.display()), e))
    }

    pub(crate) fn lock(&self, session: &str) -> Result<SessionLock> {
        validate_session_id(session)?;
        self.ready()?;
        let path = self.root.join(LOCKS).join(session);
        let what = || format!("lock session workspace {session}");
        let fd = fsat::open_dir_path(&self.root.join(LOCKS))
            .and_then(|d| fsat::openat(d.as_fd(), &c_name(session), libc::O_RDWR | libc::O_CREAT, 0o600))
            .map_err(|e| WorkspaceError::io(format!("{} ({})", what(), path.display()), e))?;
        SessionLock::acquire(fd).map_err(|e| WorkspaceError::io(what(), e))
    }
}

/// All session workspaces under one root; the one way host-side code reaches session files.
/// Clones share the same root.
#[derive(Debug, Clone)]
pub struct Workspaces {
    inner: Arc<Inner>,
}

impl Workspaces {
    /// Workspaces under `root`, owned on the host by `uid`/`gid` (the ids the sandbox user is
    /// mapped to). Touches nothing until first used.
    pub fn new(root: impl Into<PathBuf>, uid: u32, gid: u32) -> Self {
        let inner = Inner { root: root.into(), owner: Owner { uid, gid }, ready: OnceLock::new() };
        Workspaces { inner: Arc::new(inner) }
    }

    /// The directory holding every workspace.
    pub fn root(&self) -> &Path {
        &self.inner.root
    }

    /// Host `(uid, gid)` that owns workspace files.
    pub fn owner(&self) -> (u32, u32) {
        (self.inner.owner.uid, self.inner.owner.gid)
    }

    /// The session's workspace, created (empty, owned by the sandbox user) if it has none.
    pub fn ensure(&self, session: &str) -> Result<Workspace> {
        validate_session_id(session)?;
        let root = self.inner.root_fd()?;
        let name = c_name(session);
        match fsat::mkdirat(root.as_fd(), &name, 0o700) {
            Ok(()) => {
                let owner = self.inner.owner;
                let dir = fsat::openat(root.as_fd(), &name, libc::O_RDONLY | libc::O_DIRECTORY, 0)
                    .map_err(|e| self.io("open", session, e))?;
                fsat::fchown(dir.as_fd(), owner.uid, owner.gid)
                    .and_then(|()| fsat::fchmod(dir.as_fd(), 0o700))
                    .map_err(|e| self.io("chown", session, e))?;
            }
            Err(e) if e.raw_os_error() == Some(libc::EEXIST) => {}
            Err(e) => return Err(self.io("create", session, e)),
        }
        self.open_in(&root, session)?
            .ok_or_else(|| self.io("open", session, std::io::ErrorKind::NotFound.into()))
    }

    /// The session's workspace, or `None` when it has none yet.
    pub fn open(&self, session: &str) -> Result<Option<Workspace>> {
        validate_session_id(session)?;
        if !self.inner.root.exists() {
            return Ok(None);
        }
        self.open_in(&self.inner.root_fd()?, session)
    }

    fn open_in(&self, root: &OwnedFd, session: &str) -> Result<Option<Workspace>> {
        match fsat::openat(root.as_fd(), &c_name(session), libc::O_PATH | libc::O_DIRECTORY, 0) {
            Ok(dir) => Ok(Some(Workspace {
                inner: self.inner.clone(),
                session: session.to_string(),
                host: self.inner.root.join(session),
                dir,
            })),
            Err(e) if e.raw_os_error() == Some(libc::ENOENT) => Ok(None),
            Err(e) => Err(self.io("open", session, e)),
        }
    }

    /// Whether the session has a workspace.
    pub fn exists(&self, session: &str) -> Result<bool> {
        Ok(self.open(session)?.is_some())
    }

    /// Deletes the session's workspace and everything in it (waiting for a run of its code to
    /// end first). False when it had none.
    pub fn delete(&self, session: &str) -> Result<bool> {
        if self.open(session)?.is_none() {
            return Ok(false);
        }
        let lock = self.lock(session)?;
        let path = self.inner.root.join(session);
        // remove_dir_all never follows links inside the tree it removes.
        let r = match std::fs::remove_dir_all(&path) {
            Ok(()) => Ok(true),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(false),
            Err(e) => Err(self.io("delete", session, e)),
        };
        drop(lock);
        let _ = std::fs::remove_file(self.inner.root.join(LOCKS).join(session));
        r
    }

    /// The session's exclusive lock (see [`Workspace::lock`]).
    pub fn lock(&self, session: &str) -> Result<SessionLock> {
        self.inner.lock(session)
    }

    /// A throw-away workspace for a run that belongs to no session, removed when dropped.
    pub fn scratch(&self) -> Result<Scratch> {
        let id = format!("{SCRATCH}{}-{}", std::process::id(), SCRATCH_SEQ.fetch_add(1, Ordering::Relaxed));
        let root = self.inner.root_fd()?;
        let name = c_name(&id);
        fsat::mkdirat(root.as_fd(), &name, 0o700).map_err(|e| self.io("create", &id, e))?;
        let mut scratch = Scratch { path: self.inner.root.join(&id), ws: None };
        let owner = self.inner.owner;
        let dir = fsat::openat(root.as_fd(), &name, libc::O_RDONLY | libc::O_DIRECTORY, 0)
            .map_err(|e| self.io("open", &id, e))?;
        fsat::fchown(dir.as_fd(), owner.uid, owner.gid).map_err(|e| self.io("chown", &id, e))?;
        let dir = fsat::openat(root.as_fd(), &name, libc::O_PATH | libc::O_DIRECTORY, 0)
            .map_err(|e| self.io("open", &id, e))?;
        let ws =
            Workspace { inner: self.inner.clone(), session: id.clone(), host: scratch.path.clone(), dir };
        scratch.ws = Some(ws);
        Ok(scratch)
    }

    fn io(&self, what: &str, session: &str, e: std::io::Error) -> WorkspaceError {
        WorkspaceError::io(
            format!("{what} the workspace of session {session} under {}", self.inner.root.display()),
            e,
        )
    }
}

/// A throw-away workspace; it and its files are removed on drop.
#[derive(Debug)]
pub struct Scratch {
    path: PathBuf,
    ws: Option<Workspace>,
}

impl std::ops::Deref for Scratch {
    type Target = Workspace;
    fn deref(&self) -> &Workspace {
        self.ws.as_ref().expect("set at creation")
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        drop(self.ws.take());
        let _ = std::fs::remove_dir_all(&self.path);
    }
}
