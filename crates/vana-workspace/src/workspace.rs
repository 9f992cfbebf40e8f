//! One session's workspace: reading, writing and listing its files from the host side.
//!
//! Every operation starts from a directory fd of the workspace and walks one component at a
//! time with `O_NOFOLLOW`, so a symbolic link planted by sandboxed code is refused wherever it
//! sits, and swapping a directory for a link mid-operation cannot redirect us: each step is
//! relative to an fd already held. Files are opened non-blocking (a planted FIFO cannot hang
//! the host) and must be regular files. Writes go to a fresh temporary file that is renamed
//! over the target, so they never write into an existing inode (a hard link or a file the
//! sandbox holds open) and a reader never sees half a file.

use crate::error::{FileKind, Result, WorkspaceError};
use crate::fsat::{self, c_name};
use crate::lock::SessionLock;
use crate::rel::RelPath;
use crate::workspaces::Inner;
use std::collections::HashMap;
use std::ffi::{CStr, CString};
use std::fs::File;
use std::io::{self, Read, Write};
use std::os::fd::{AsFd, BorrowedFd, OwnedFd};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

/// Most directory entries visited when listing a workspace.
pub const MAX_SCAN_ENTRIES: usize = 100_000;
/// Deepest directory level listed.
const MAX_SCAN_DEPTH: usize = 64;

const READ_HINT: &str =
    "only regular files are read from a workspace and links are never followed (sandboxed code can plant them): save the data itself as a regular file";
const WRITE_HINT: &str =
    "only regular files are replaced in a workspace and links are never followed (sandboxed code can plant them): pick another name or delete it first";
const DIR_HINT: &str =
    "only real directories are entered in a workspace and links are never followed (sandboxed code can plant them)";

/// Counter for temporary file names.
static TMP: AtomicU64 = AtomicU64::new(0);

/// What a workspace entry is, without following it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FileInfo {
    /// Regular file, directory, link, ...
    pub kind: FileKind,
    /// Size in bytes.
    pub size: u64,
    /// Last modification, nanoseconds since the epoch.
    pub modified_ns: i128,
}

impl FileInfo {
    fn of(st: &libc::stat) -> FileInfo {
        FileInfo {
            kind: FileKind::of_mode(st.st_mode),
            size: st.st_size.max(0) as u64,
            modified_ns: st.st_mtime as i128 * 1_000_000_000 + st.st_mtime_nsec as i128,
        }
    }
}

/// A session's workspace, open on the host side. Cheap to hold; every path given to it is
/// relative to `/workspace` (the prefix itself is accepted).
#[derive(Debug)]
pub struct Workspace {
    pub(crate) inner: Arc<Inner>,
    pub(crate) session: String,
    pub(crate) host: PathBuf,
    pub(crate) dir: OwnedFd,
}

impl Workspace {
    /// The session this workspace belongs to.
    pub fn session_id(&self) -> &str {
        &self.session
    }

    /// The host directory, for the sandbox to bind-mount as `/workspace`. Nothing else may
    /// open paths beneath it (a test in this crate enforces that).
    pub fn mount_path(&self) -> &Path {
        &self.host
    }

    /// Takes the session's exclusive lock (held by sandbox runs too): while it is held, no
    /// sandboxed code of this session runs. Needed only around libraries that open files by
    /// path themselves (see [`Workspace::pinned_path`]).
    pub fn lock(&self) -> Result<SessionLock> {
        self.inner.lock(&self.session)
    }

    /// Opens a regular file for reading.
    pub fn open(&self, path: &str) -> Result<File> {
        let rel = RelPath::parse(path)?;
        let dir = self.parent(&rel, false)?;
        let name = c_name(rel.name());
        let flags = libc::O_RDONLY | libc::O_NONBLOCK | libc::O_NOCTTY;
        match fsat::openat(dir.as_fd(), &name, flags, 0) {
            Ok(fd) => {
                let st = fsat::fstat(fd.as_fd()).map_err(|e| self.io("stat", &rel, e))?;
                let kind = FileKind::of_mode(st.st_mode);
                if kind != FileKind::File {
                    return Err(refused(rel.display(), kind, String::new(), READ_HINT));
                }
                fsat::set_blocking(fd.as_fd()).map_err(|e| self.io("open", &rel, e))?;
                Ok(File::from(fd))
            }
            Err(e) => Err(self.open_error(dir.as_fd(), &name, &rel, e, READ_HINT)),
        }
    }

    /// Reads a regular file whole; a file larger than `max_bytes` is refused.
    pub fn read(&self, path: &str, max_bytes: u64) -> Result<Vec<u8>> {
        let mut f = self.open(path)?;
        let size = f.metadata().map(|m| m.len()).unwrap_or(0);
        if size > max_bytes {
            return Err(WorkspaceError::TooLarge { path: display(path), size, max: max_bytes });
        }
        let mut buf = Vec::with_capacity(size as usize);
        (&mut f).take(max_bytes.saturating_add(1)).read_to_end(&mut buf).map_err(|e| {
            WorkspaceError::io(format!("read `{}` in the session workspace", display(path)), e)
        })?;
        if buf.len() as u64 > max_bytes {
            return Err(WorkspaceError::TooLarge {
                path: display(path),
                size: buf.len() as u64,
                max: max_bytes,
            });
        }
        Ok(buf)
    }

    /// What `path` is (links are reported, not followed); `None` when it does not exist.
    /// A link or non-directory among its parents is an error.
    pub fn stat(&self, path: &str) -> Result<Option<FileInfo>> {
        let rel = RelPath::parse(path)?;
        let dir = match self.parent(&rel, false) {
            Ok(d) => d,
            Err(WorkspaceError::NotFound { .. }) => return Ok(None),
            Err(e) => return Err(e),
        };
        match fsat::lstatat(dir.as_fd(), &c_name(rel.name())) {
            Ok(st) => Ok(Some(FileInfo::of(&st))),
            Err(e) if e.raw_os_error() == Some(libc::ENOENT) => Ok(None),
            Err(e) => Err(self.io("stat", &rel, e)),
        }
    }

    /// Writes `data` as the file `path` (creating parent directories), owned by the sandbox
    /// user. An existing link, FIFO or directory there is refused and left as it was.
    pub fn write(&self, path: &str, data: &[u8]) -> Result<()> {
        let mut f = self.create(path)?;
        f.write_all(data)
            .map_err(|e| WorkspaceError::io(format!("write `{}` in the session workspace", f.display), e))?;
        f.commit()
    }

    /// Starts writing the file `path`: the data goes to a temporary file beside it, which
    /// [`NewFile::commit`] renames into place (dropping it uncommitted removes it).
    pub fn create(&self, path: &str) -> Result<NewFile> {
        let rel = RelPath::parse(path)?;
        let dir = self.parent(&rel, true)?;
        let name = c_name(rel.name());
        match fsat::lstatat(dir.as_fd(), &name) {
            Ok(st) if FileKind::of_mode(st.st_mode) != FileKind::File => {
                return Err(refusal(dir.as_fd(), &name, rel.display(), WRITE_HINT));
            }
            Ok(_) => {}
            Err(e) if e.raw_os_error() == Some(libc::ENOENT) => {}
            Err(e) => return Err(self.io("stat", &rel, e)),
        }
        let tmp =
            c_name(&format!(".vana-{}-{}.tmp", std::process::id(), TMP.fetch_add(1, Ordering::Relaxed)));
        let fd = fsat::openat(dir.as_fd(), &tmp, libc::O_WRONLY | libc::O_CREAT | libc::O_EXCL, 0o644)
            .map_err(|e| self.io("create", &rel, e))?;
        let new = NewFile { dir, tmp, name, file: Some(File::from(fd)), display: rel.display() };
        let owner = self.inner.owner;
        fsat::fchown(new.fd(), owner.uid, owner.gid).map_err(|e| self.io("chown", &rel, e))?;
        Ok(new)
    }

    /// Every regular file under the workspace by relative path (links and special files are
    /// skipped, never followed), at most `max_entries` entries visited.
    pub fn files(&self, max_entries: usize) -> HashMap<String, FileInfo> {
        let mut out = HashMap::new();
        let Ok(top) = fsat::openat(self.dir.as_fd(), c".", libc::O_RDONLY | libc::O_DIRECTORY, 0) else {
            return out;
        };
        let mut stack = vec![(top, String::new(), 0usize)];
        let mut seen = 0usize;
        while let Some((dir, prefix, depth)) = stack.pop() {
            let Ok(dup) = dir.try_clone() else { continue };
            let Ok(entries) = fsat::list(dup) else { continue };
            for entry in entries {
                seen += 1;
                if seen > max_entries {
                    return out;
                }
                let Ok(st) = fsat::lstatat(dir.as_fd(), &entry.name) else { continue };
                let name = entry.name.to_string_lossy();
                let rel = if prefix.is_empty() { name.into_owned() } else { format!("{prefix}/{name}") };
                match FileKind::of_mode(st.st_mode) {
                    FileKind::Directory if depth < MAX_SCAN_DEPTH => {
                        let flags = libc::O_RDONLY | libc::O_DIRECTORY;
                        if let Ok(sub) = fsat::openat(dir.as_fd(), &entry.name, flags, 0) {
                            stack.push((sub, rel, depth + 1));
                        }
                    }
                    FileKind::File => {
                        out.insert(rel, FileInfo::of(&st));
                    }
                    _ => {}
                }
            }
        }
        out
    }

    /// Total bytes of the regular files in the workspace.
    pub fn usage(&self) -> u64 {
        self.files(MAX_SCAN_ENTRIES).values().map(|f| f.size).sum()
    }

    /// A path to the regular file `path` for a library that opens files by name itself
    /// (SQLite): `/proc/self/fd/<dir>/<name>`, through a directory fd held by the result, so
    /// the directories above it are fixed. The file and each sibling `<name><suffix>` that
    /// exists (SQLite's `-journal`, `-wal`, `-shm`) must be regular files. The session lock is
    /// held until the result is dropped, so no sandboxed code of the session can swap them
    /// meanwhile; don't run the session's code while holding it.
    pub fn pinned_path(&self, path: &str, sidecars: &[&str]) -> Result<PinnedPath> {
        let rel = RelPath::parse(path)?;
        let lock = self.lock()?;
        let dir = self.parent(&rel, false)?;
        let name = c_name(rel.name());
        match fsat::lstatat(dir.as_fd(), &name) {
            Ok(st) if FileKind::of_mode(st.st_mode) == FileKind::File => {}
            Ok(_) => return Err(refusal(dir.as_fd(), &name, rel.display(), READ_HINT)),
            Err(e) if e.raw_os_error() == Some(libc::ENOENT) => {
                return Err(WorkspaceError::NotFound { path: rel.display() })
            }
            Err(e) => return Err(self.io("stat", &rel, e)),
        }
        for suffix in sidecars {
            let side = format!("{}{suffix}", rel.name());
            let side_c = c_name(&side);
            match fsat::lstatat(dir.as_fd(), &side_c) {
                Ok(st) if FileKind::of_mode(st.st_mode) != FileKind::File => {
                    let shown = format!("{}{suffix}", rel.display());
                    return Err(refusal(dir.as_fd(), &side_c, shown, READ_HINT));
                }
                _ => {}
            }
        }
        use std::os::fd::AsRawFd;
        let path = PathBuf::from(format!("/proc/self/fd/{}/{}", dir.as_raw_fd(), rel.name()));
        Ok(PinnedPath { path, _dir: dir, _lock: lock })
    }

    /// Walks to the directory that holds `rel`'s file, creating missing directories (owned by
    /// the sandbox user) when `create`.
    fn parent(&self, rel: &RelPath, create: bool) -> Result<OwnedFd> {
        let mut cur = self.dir.try_clone().map_err(|e| WorkspaceError::io("dup workspace fd", e))?;
        for (i, part) in rel.parents().iter().enumerate() {
            let name = c_name(part);
            let open = |d: BorrowedFd<'_>| fsat::openat(d, &name, libc::O_PATH | libc::O_DIRECTORY, 0);
            let next = match open(cur.as_fd()) {
                Err(e) if e.raw_os_error() == Some(libc::ENOENT) && create => {
                    match fsat::mkdirat(cur.as_fd(), &name, 0o700) {
                        Ok(()) => {
                            let owner = self.inner.owner;
                            let fd = open(cur.as_fd());
                            if let Ok(fd) = &fd {
                                // Through the fd just opened: the directory we made, whatever
                                // happens to the name meanwhile.
                                let rd =
                                    fsat::openat(fd.as_fd(), c".", libc::O_RDONLY | libc::O_DIRECTORY, 0)
                                        .map_err(|e| self.io("open", rel, e))?;
                                fsat::fchown(rd.as_fd(), owner.uid, owner.gid)
                                    .and_then(|()| fsat::fchmod(rd.as_fd(), 0o700))
                                    .map_err(|e| {
                                        WorkspaceError::io(format!("chown `{}`", rel.prefix(i + 1)), e)
                                    })?;
                            }
                            fd
                        }
                        Err(e) if e.raw_os_error() == Some(libc::EEXIST) => open(cur.as_fd()),
                        Err(e) => Err(e),
                    }
                }
                r => r,
            };
            cur = match next {
                Ok(fd) => fd,
                Err(e) if e.raw_os_error() == Some(libc::ENOENT) => {
                    return Err(WorkspaceError::NotFound { path: rel.prefix(i + 1) })
                }
                Err(e) if matches!(e.raw_os_error(), Some(libc::ELOOP | libc::ENOTDIR)) => {
                    return Err(refusal(cur.as_fd(), &name, rel.prefix(i + 1), DIR_HINT))
                }
                Err(e) => {
                    return Err(WorkspaceError::io(
                        format!("open `{}` in the session workspace", rel.prefix(i + 1)),
                        e,
                    ))
                }
            };
        }
        Ok(cur)
    }

    fn open_error(
        &self,
        dir: BorrowedFd<'_>,
        name: &CStr,
        rel: &RelPath,
        e: io::Error,
        hint: &'static str,
    ) -> WorkspaceError {
        match e.raw_os_error() {
            Some(libc::ENOENT) => WorkspaceError::NotFound { path: rel.display() },
            // ELOOP: a link; ENXIO: a socket; EISDIR: a directory opened for writing.
            Some(libc::ELOOP | libc::ENXIO | libc::EISDIR | libc::ENOTDIR) => {
                refusal(dir, name, rel.display(), hint)
            }
            _ => self.io("open", rel, e),
        }
    }

    fn io(&self, what: &str, rel: &RelPath, e: io::Error) -> WorkspaceError {
        WorkspaceError::io(format!("{what} `{}` in the session workspace", rel.display()), e)
    }
}

/// The `/workspace`-relative form of a path as given, for messages.
fn display(path: &str) -> String {
    RelPath::parse(path).map(|r| r.display()).unwrap_or_else(|_| path.to_string())
}

fn refused(path: String, found: FileKind, target: String, hint: &'static str) -> WorkspaceError {
    WorkspaceError::Refused { path, found, target, hint }
}

/// The refusal for the entry `name` of `dir`: what it is, and where a link points.
fn refusal(dir: BorrowedFd<'_>, name: &CStr, path: String, hint: &'static str) -> WorkspaceError {
    let found = fsat::lstatat(dir, name).map(|st| FileKind::of_mode(st.st_mode)).unwrap_or(FileKind::Symlink);
    let target = match found {
        FileKind::Symlink => {
            fsat::readlinkat(dir, name).map(|t| format!(" (pointing to {})", t.display())).unwrap_or_default()
        }
        _ => String::new(),
    };
    refused(path, found, target, hint)
}

/// A file being written into a workspace; invisible under its name until [`NewFile::commit`].
#[derive(Debug)]
pub struct NewFile {
    dir: OwnedFd,
    tmp: CString,
    name: CString,
    file: Option<File>,
    display: String,
}

impl NewFile {
    fn fd(&self) -> BorrowedFd<'_> {
        self.file.as_ref().map(|f| f.as_fd()).expect("open until committed")
    }

    /// Puts the file in place under its name (replacing a regular file there).
    pub fn commit(mut self) -> Result<()> {
        drop(self.file.take());
        let r = fsat::renameat(self.dir.as_fd(), &self.tmp, &self.name);
        match r {
            Ok(()) => {
                self.tmp = CString::default();
                Ok(())
            }
            Err(e) if matches!(e.raw_os_error(), Some(libc::EISDIR | libc::ENOTDIR | libc::ENOTEMPTY)) => {
                Err(refusal(self.dir.as_fd(), &self.name, self.display.clone(), WRITE_HINT))
            }
            Err(e) => {
                Err(WorkspaceError::io(format!("write `{}` in the session workspace", self.display), e))
            }
        }
    }
}

impl Write for NewFile {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.file.as_mut().ok_or(io::ErrorKind::BrokenPipe)?.write(buf)
    }
    fn flush(&mut self) -> io::Result<()> {
        self.file.as_mut().ok_or(io::ErrorKind::BrokenPipe)?.flush()
    }
}

impl Drop for NewFile {
    fn drop(&mut self) {
        if !self.tmp.as_bytes().is_empty() {
            let _ = fsat::unlinkat(self.dir.as_fd(), &self.tmp);
        }
    }
}

/// A path to a workspace file that stays valid (and the session locked) while this is held.
#[derive(Debug)]
pub struct PinnedPath {
    path: PathBuf,
    _dir: OwnedFd,
    _lock: SessionLock,
}

impl PinnedPath {
    /// The path to hand to the library.
    pub fn path(&self) -> &Path {
        &self.path
    }
}
