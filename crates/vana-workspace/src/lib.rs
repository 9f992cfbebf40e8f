//! The one owner of VANA's session workspaces.
//!
//! A session's workspace is a host directory that sandboxed code owns: it is mounted as
//! `/workspace` inside the sandbox, where code can plant symbolic links (to `/etc/shadow`, to
//! VANA's own database), FIFOs, sockets and hard links. Every host-side read or write of a
//! workspace (data tools, charts, ML models, SQLite files, uploads, the sandbox's own file
//! listing) goes through this crate, which
//!
//! - names workspaces by one session-id rule ([`validate_session_id`]) and paths by one path
//!   rule (relative to `/workspace`, no `..`);
//! - resolves every path one component at a time from a directory fd with `O_NOFOLLOW`, so a
//!   planted link is refused wherever it sits and no check-then-use race exists;
//! - reads only regular files (opened non-blocking, so a FIFO cannot hang the host), and
//!   writes through a temporary file renamed into place, never into an existing inode;
//! - creates files and directories owned by the sandbox user, as the sandbox expects;
//! - refuses with a [`WorkspaceError`] naming the path and why, leaving the host untouched.
//!
//! Nothing else in the tree opens paths beneath the workspace root; a test of this crate
//! (`tests/ownership.rs`) fails when code elsewhere starts using the filesystem directly.

mod error;
mod fsat;
mod lock;
mod rel;
mod workspace;
mod workspaces;

pub use error::{FileKind, Result, WorkspaceError};
pub use lock::SessionLock;
pub use rel::{normalize, validate_session_id};
pub use workspace::{FileInfo, NewFile, PinnedPath, Workspace, MAX_SCAN_ENTRIES};
pub use workspaces::{Scratch, Workspaces};
