//! Sessions: an append-only event log with a version number, and the store trait that keeps them.

use crate::event::{Event, JsonMap};
use async_trait::async_trait;
use serde::{Deserialize, Serialize};
use serde_json::Value;

/// A conversation: who, with which app (root agent), its state and its events.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Session {
    /// Session id (globally unique).
    pub id: String,
    /// App (root agent) the session belongs to.
    pub app_name: String,
    /// Owner.
    pub user_id: String,
    /// State derived from the events' state deltas.
    pub state: JsonMap,
    /// Events, oldest first (possibly only the most recent ones: see [`EventWindow`]).
    pub events: Vec<Event>,
    /// Number of events ever appended; the next append must name this version.
    pub version: u64,
    /// Creation time, seconds since the epoch.
    pub created_at: f64,
    /// Time of the last append, seconds since the epoch.
    pub last_update_time: f64,
}

impl Session {
    /// A session just created: no events yet, version 0, created and updated at `now`.
    pub fn created(id: String, app_name: &str, user_id: &str, state: JsonMap, now: f64) -> Self {
        Session {
            id,
            app_name: app_name.to_string(),
            user_id: user_id.to_string(),
            state,
            events: Vec::new(),
            version: 0,
            created_at: now,
            last_update_time: now,
        }
    }
}

/// A session without its events, for listings.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SessionSummary {
    /// Session id.
    pub id: String,
    /// App name.
    pub app_name: String,
    /// Owner.
    pub user_id: String,
    /// Number of events.
    pub version: u64,
    /// Creation time.
    pub created_at: f64,
    /// Time of the last append.
    pub last_update_time: f64,
    /// The session's title (state key [`TITLE_KEY`]), if it has one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub title: Option<String>,
}

/// The state key that holds a session's title: set from the first user message by the runner,
/// changed by the user with a state delta (the session PATCH of the HTTP API).
pub const TITLE_KEY: &str = "vana:title";

/// The longest title made from a message, in characters.
const TITLE_CHARS: usize = 80;

/// A session title made from a user's message: its whitespace collapsed, cut to 80 characters at
/// a word boundary where one is near (with "…" when cut); `None` for a message without text.
pub fn title_from(text: &str) -> Option<String> {
    let words: Vec<&str> = text.split_whitespace().collect();
    if words.is_empty() {
        return None;
    }
    let full = words.join(" ");
    if full.chars().count() <= TITLE_CHARS {
        return Some(full);
    }
    let cut: String = full.chars().take(TITLE_CHARS - 1).collect();
    let at_word = match cut.rfind(' ') {
        Some(i) if i >= TITLE_CHARS / 2 => &cut[..i],
        _ => &cut,
    };
    Some(format!("{}…", at_word.trim_end()))
}

/// The title held in a session's state, if any (a non-empty string under [`TITLE_KEY`]).
pub fn title_of(state: &JsonMap) -> Option<String> {
    state.get(TITLE_KEY).and_then(Value::as_str).filter(|t| !t.trim().is_empty()).map(str::to_string)
}

/// Which events to load with a session.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EventWindow {
    /// Every event.
    All,
    /// Only the most recent `n` events (state is always complete).
    Last(usize),
}

/// Where a journaled tool effect stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum JournalStatus {
    /// The call began; if no `Done` follows, the process died during it.
    Started,
    /// The call finished and its result is recorded.
    Done,
}

/// One entry of the tool-effect journal, keyed by session and function-call id.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct JournalEntry {
    /// Tool name.
    pub tool: String,
    /// Started or done.
    pub status: JournalStatus,
    /// The function response recorded when done.
    pub result: Option<Value>,
}

/// Why a store operation failed.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// No such session (or it belongs to another app/user).
    #[error("session {0} not found")]
    NotFound(String),
    /// A session with this id already exists.
    #[error("session {0} already exists")]
    AlreadyExists(String),
    /// Another writer appended first.
    #[error("conflict on session {session}: expected version {expected}, found {actual}; reload the session and retry")]
    Conflict {
        /// Session id.
        session: String,
        /// Version the writer expected.
        expected: u64,
        /// Version in the store.
        actual: u64,
    },
    /// The backend failed (I/O, connection, SQL).
    #[error("store backend error: {0}")]
    Backend(String),
}

/// Keeps sessions and their events. SQLite and PostgreSQL implement it (crate `vana-store`).
#[async_trait]
pub trait SessionStore: Send + Sync {
    /// Creates a session; `id` defaults to a fresh UUID.
    async fn create_session(
        &self,
        app_name: &str,
        user_id: &str,
        id: Option<&str>,
        state: JsonMap,
    ) -> Result<Session, StoreError>;

    /// Loads a session with its state and the requested window of events; `None` if it does
    /// not exist or belongs to another app or user.
    async fn get_session(
        &self,
        app_name: &str,
        user_id: &str,
        id: &str,
        window: EventWindow,
    ) -> Result<Option<Session>, StoreError>;

    /// Lists a user's sessions, of one app or of all apps, newest first.
    async fn list_sessions(
        &self,
        app_name: Option<&str>,
        user_id: &str,
    ) -> Result<Vec<SessionSummary>, StoreError>;

    /// Deletes a session, its events and its journal. Returns false if it did not exist.
    async fn delete_session(&self, app_name: &str, user_id: &str, id: &str) -> Result<bool, StoreError>;

    /// Appends one event if the session is at `expected_version`, applying the event's state
    /// delta (keys starting with `temp:` are not persisted) in the same transaction.
    /// Returns the new version. Durable when it returns.
    async fn append_event(
        &self,
        app_name: &str,
        user_id: &str,
        id: &str,
        expected_version: u64,
        event: &Event,
    ) -> Result<u64, StoreError>;

    /// Reads the journal entry of a function call.
    async fn journal_get(&self, session_id: &str, call_id: &str) -> Result<Option<JournalEntry>, StoreError>;

    /// Writes (inserts or replaces) the journal entry of a function call. Durable when it returns.
    async fn journal_put(
        &self,
        session_id: &str,
        call_id: &str,
        entry: &JournalEntry,
    ) -> Result<(), StoreError>;

    /// Checks the store is reachable.
    async fn ping(&self) -> Result<(), StoreError>;
}

/// Applies a state delta to a state map: `null` removes a key; `temp:` keys are skipped when
/// `persist_only` is set.
pub fn apply_state_delta(state: &mut JsonMap, delta: &JsonMap, persist_only: bool) {
    for (k, v) in delta {
        if persist_only && k.starts_with("temp:") {
            continue;
        }
        if v.is_null() {
            state.remove(k);
        } else {
            state.insert(k.clone(), v.clone());
        }
    }
}
