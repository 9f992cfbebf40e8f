//! Why a workspace operation was refused or failed.

use std::fmt;

/// What a refused path turned out to be.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FileKind {
    /// A regular file.
    File,
    /// A directory.
    Directory,
    /// A symbolic link.
    Symlink,
    /// A named pipe.
    Fifo,
    /// A Unix socket.
    Socket,
    /// A character or block device.
    Device,
}

impl FileKind {
    /// The kind of a `st_mode`.
    pub(crate) fn of_mode(mode: libc::mode_t) -> FileKind {
        match mode & libc::S_IFMT {
            libc::S_IFREG => FileKind::File,
            libc::S_IFDIR => FileKind::Directory,
            libc::S_IFLNK => FileKind::Symlink,
            libc::S_IFIFO => FileKind::Fifo,
            libc::S_IFSOCK => FileKind::Socket,
            _ => FileKind::Device,
        }
    }
}

impl fmt::Display for FileKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            FileKind::File => "a regular file",
            FileKind::Directory => "a directory",
            FileKind::Symlink => "a symbolic link",
            FileKind::Fifo => "a named pipe (FIFO)",
            FileKind::Socket => "a socket",
            FileKind::Device => "a device file",
        })
    }
}

/// Everything that can go wrong with a session workspace. Messages name the path (relative to
/// `/workspace`) and say why; a refused operation has changed nothing.
#[derive(Debug, thiserror::Error)]
pub enum WorkspaceError {
    /// A session id that cannot name a workspace.
    #[error("invalid session id `{0}`: use 1-128 characters from [A-Za-z0-9_-]")]
    InvalidSessionId(String),
    /// A path that is not a plain relative path inside the workspace.
    #[error("`{path}` must be a relative path inside the session workspace ({reason})")]
    InvalidPath {
        /// The path as given.
        path: String,
        /// What is wrong with it.
        reason: &'static str,
    },
    /// A path component is not what the operation needs (a planted symlink, a FIFO, a directory
    /// where a file was expected, ...). Links are never followed.
    #[error("`{path}` in the session workspace is {found}{target}; {hint}")]
    Refused {
        /// The offending component, relative to `/workspace`.
        path: String,
        /// What it is.
        found: FileKind,
        /// ` (pointing to X)` for a symbolic link, else empty.
        target: String,
        /// What the operation needed and what to do.
        hint: &'static str,
    },
    /// The path does not exist.
    #[error("`{path}` does not exist in the session workspace")]
    NotFound {
        /// The missing path (the first missing component), relative to `/workspace`.
        path: String,
    },
    /// A file is larger than the operation accepts.
    #[error("`{path}` in the session workspace is {size} bytes, more than the {max} bytes allowed here")]
    TooLarge {
        /// The file, relative to `/workspace`.
        path: String,
        /// Its size.
        size: u64,
        /// The limit.
        max: u64,
    },
    /// The operating system refused or failed an operation.
    #[error("{context}: {source}")]
    Io {
        /// What was being done, with the path.
        context: String,
        /// The OS error.
        source: std::io::Error,
    },
}

impl WorkspaceError {
    pub(crate) fn io(context: impl Into<String>, source: std::io::Error) -> Self {
        WorkspaceError::Io { context: context.into(), source }
    }
}

/// Result of workspace operations.
pub type Result<T, E = WorkspaceError> = std::result::Result<T, E>;
