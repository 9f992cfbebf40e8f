//! The two naming rules: which session ids name a workspace, and which paths name a file in one.

use crate::error::{Result, WorkspaceError};

/// Longest session id that names a workspace.
const MAX_SESSION_ID: usize = 128;
/// Most components in a workspace path.
const MAX_DEPTH: usize = 64;

/// Checks that `id` can name a workspace: 1-128 characters from `[A-Za-z0-9_-]` (so never `.`,
/// `..`, a path separator or a hidden name). Every session store id (UUIDs) passes.
pub fn validate_session_id(id: &str) -> Result<()> {
    let ok = !id.is_empty()
        && id.len() <= MAX_SESSION_ID
        && id.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-');
    if ok {
        Ok(())
    } else {
        Err(WorkspaceError::InvalidSessionId(id.to_string()))
    }
}

/// The normalised form of a workspace path (`/workspace/a//b` -> `a/b`), or why it is not
/// one: absolute, with `..`, empty or NUL.
pub fn normalize(path: &str) -> Result<String> {
    RelPath::parse(path).map(|r| r.display())
}

/// A validated path relative to `/workspace`: its components, none empty, `.` or `..`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct RelPath {
    parts: Vec<String>,
}

impl RelPath {
    /// Parses `p` (a `/workspace/` prefix is allowed; `a//b` and `./a` are normalised).
    pub(crate) fn parse(p: &str) -> Result<RelPath> {
        let bad = |reason| Err(WorkspaceError::InvalidPath { path: p.to_string(), reason });
        if p.contains('\0') {
            return bad("it contains a NUL byte");
        }
        let rel = p.strip_prefix("/workspace/").unwrap_or(p);
        if rel.starts_with('/') {
            return bad("not absolute: name it relative to /workspace, e.g. `data.csv`");
        }
        let mut parts = Vec::new();
        for c in rel.split('/') {
            match c {
                "" | "." => {}
                ".." => return bad("no `..`"),
                c if c.len() > 255 => return bad("a name is longer than 255 bytes"),
                c => parts.push(c.to_string()),
            }
        }
        if parts.is_empty() {
            return bad("it names no file");
        }
        if parts.len() > MAX_DEPTH {
            return bad("more than 64 levels deep");
        }
        Ok(RelPath { parts })
    }

    /// The directories above the file.
    pub(crate) fn parents(&self) -> &[String] {
        &self.parts[..self.parts.len() - 1]
    }

    /// The file's own name.
    pub(crate) fn name(&self) -> &str {
        &self.parts[self.parts.len() - 1]
    }

    /// The first `n` components joined, for messages.
    pub(crate) fn prefix(&self, n: usize) -> String {
        self.parts[..n.min(self.parts.len())].join("/")
    }

    /// The whole path, normalised.
    pub(crate) fn display(&self) -> String {
        self.parts.join("/")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn session_ids() {
        for ok in ["abc", "A-1_b", "x", "0190e5a4-7b1c-7def-8a00-123456789abc"] {
            validate_session_id(ok).unwrap();
        }
        for bad in ["", ".", "..", "../x", "a/b", "a b", ".hidden", "x\0", &"a".repeat(129)] {
            assert!(validate_session_id(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn relative_paths() {
        assert_eq!(RelPath::parse("a/b.py").unwrap().display(), "a/b.py");
        assert_eq!(RelPath::parse("/workspace/x.py").unwrap().display(), "x.py");
        assert_eq!(RelPath::parse("./a//b").unwrap().display(), "a/b");
        for bad in ["../x", "/etc/passwd", "a/../../b", "", ".", "/workspace/", "a\0b"] {
            let e = RelPath::parse(bad).unwrap_err();
            assert!(e.to_string().contains("relative path inside the session workspace"), "{bad}: {e}");
        }
    }
}
