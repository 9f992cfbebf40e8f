//! Helpers shared by the backends: validation, state deltas, journal status names.

use vana_core::session::apply_state_delta;
use vana_core::{Event, JournalStatus, JsonMap, StoreError};

/// Refuses streamed chunks, which are never persisted.
pub(crate) fn refuse_partial(event: &Event) -> Result<(), StoreError> {
    if event.is_partial() {
        return Err(StoreError::Backend(format!(
            "refusing to persist partial event {}: streamed chunks (partial = true) are never stored; \
             append the final, non-partial event instead",
            event.id
        )));
    }
    Ok(())
}

/// The part of an initial state that is persisted: no `temp:` keys, no nulls.
pub(crate) fn persisted_state(state: &JsonMap) -> JsonMap {
    let mut out = JsonMap::new();
    apply_state_delta(&mut out, state, true);
    out
}

/// Splits a state delta into keys to set and keys to remove, skipping `temp:` keys.
///
/// Applying `(state - removed) || set` is equivalent to
/// `apply_state_delta(state, delta, true)`; PostgreSQL uses it to update state in SQL.
pub(crate) fn split_delta(delta: &JsonMap) -> (JsonMap, Vec<String>) {
    let mut set = JsonMap::new();
    let mut removed = Vec::new();
    for (k, v) in delta {
        if k.starts_with("temp:") {
            continue;
        }
        if v.is_null() {
            removed.push(k.clone());
        } else {
            set.insert(k.clone(), v.clone());
        }
    }
    (set, removed)
}

/// True when the delta changes persisted state at all.
pub(crate) fn delta_persists(delta: &JsonMap) -> bool {
    delta.keys().any(|k| !k.starts_with("temp:"))
}

/// Stored name of a journal status.
pub(crate) fn status_name(status: JournalStatus) -> &'static str {
    match status {
        JournalStatus::Started => "started",
        JournalStatus::Done => "done",
    }
}

/// Parses a stored journal status.
pub(crate) fn parse_status(name: &str) -> Result<JournalStatus, StoreError> {
    match name {
        "started" => Ok(JournalStatus::Started),
        "done" => Ok(JournalStatus::Done),
        other => Err(StoreError::Backend(format!(
            "journal holds an unknown status {other:?}; the database was written by a newer VANA, upgrade"
        ))),
    }
}

/// Converts a stored (signed) count back to a version.
pub(crate) fn version_of(v: i64) -> u64 {
    u64::try_from(v).unwrap_or(0)
}

/// Converts a version to the signed integer stored by both backends.
pub(crate) fn stored_version(v: u64) -> Result<i64, StoreError> {
    i64::try_from(v).map_err(|_| StoreError::Backend(format!("version {v} is out of range")))
}

/// Error for a stored JSON document that does not parse.
pub(crate) fn corrupt(what: &str, session: &str, e: serde_json::Error) -> StoreError {
    StoreError::Backend(format!(
        "stored {what} of session {session} is not valid JSON ({e}); the database is damaged"
    ))
}

/// Error for a value that cannot be serialized.
pub(crate) fn unserializable(what: &str, e: serde_json::Error) -> StoreError {
    StoreError::Backend(format!("cannot serialize {what} to JSON: {e}"))
}

/// Range of `seq` values that a window selects from a session at `version`: `(after, upto)`,
/// meaning `after < seq <= upto`.
pub(crate) fn window_bounds(version: u64, window: vana_core::EventWindow) -> (u64, u64) {
    match window {
        vana_core::EventWindow::All => (0, version),
        vana_core::EventWindow::Last(n) => (version.saturating_sub(n as u64), version),
    }
}

/// A listed session's title: the string under `vana:title` in its state, unless blank.
pub(crate) fn title(stored: Option<String>) -> Option<String> {
    stored.filter(|t| !t.trim().is_empty())
}
