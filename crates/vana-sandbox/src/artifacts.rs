//! The files a run created or changed in its workspace, found by comparing listings taken
//! through the workspace API before and after the run (links and special files are never
//! listed, read or followed).

use std::collections::HashMap;

use base64::Engine as _;
use vana_workspace::{FileInfo, Workspace};

use crate::result::FileArtifact;

/// A listing of a workspace's regular files.
pub(crate) type Snapshot = HashMap<String, FileInfo>;

/// Files created or changed between two listings, newest first, at most `max_files`, with
/// their contents (base64) when asked and not larger than `max_content`.
pub(crate) fn diff(
    ws: &Workspace,
    before: &Snapshot,
    after: &Snapshot,
    with_contents: bool,
    max_content: u64,
    max_files: usize,
) -> Vec<FileArtifact> {
    let mut changed: Vec<(&String, &FileInfo, bool)> = after
        .iter()
        .filter_map(|(p, st)| match before.get(p) {
            None => Some((p, st, true)),
            Some(old) if old != st => Some((p, st, false)),
            Some(_) => None,
        })
        .collect();
    changed.sort_by(|a, b| b.1.modified_ns.cmp(&a.1.modified_ns).then(a.0.cmp(b.0)));
    changed.truncate(max_files);
    changed
        .into_iter()
        .map(|(p, st, created)| {
            let content_base64 = (with_contents && st.size <= max_content)
                .then(|| ws.read(p, max_content).ok())
                .flatten()
                .map(|d| base64::engine::general_purpose::STANDARD.encode(d));
            let modified_ms = u64::try_from(st.modified_ns / 1_000_000).unwrap_or(0);
            FileArtifact { path: p.clone(), size: st.size, modified_ms, created, content_base64 }
        })
        .collect()
}
