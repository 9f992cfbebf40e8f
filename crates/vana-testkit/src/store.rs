//! [`MemoryStore`]: a `SessionStore` kept in this process's memory, for tests of the runtime
//! that need no database. It passes the same conformance suite as the SQLite and PostgreSQL
//! stores (this crate's `tests/memory_store.rs`), so a test over it sees what it would see over
//! a real store; events are kept as JSON, so what comes back is what a real store gives back.

use async_trait::async_trait;
use std::collections::HashMap;
use std::sync::Mutex;
use vana_core::event::{new_id, now_secs};
use vana_core::session::apply_state_delta;
use vana_core::{
    Event, EventWindow, JournalEntry, JsonMap, Session, SessionStore, SessionSummary, StoreError,
};

/// One stored session: its row, its events as JSON, its journal.
struct Stored {
    app_name: String,
    user_id: String,
    state: JsonMap,
    events: Vec<String>,
    created_at: f64,
    updated_at: f64,
    journal: HashMap<String, JournalEntry>,
}

/// Sessions, events and the tool-effect journal in memory; clones of the `Arc` share them, so
/// a fresh `Runner` over the same store sees what an earlier one wrote (a "restart").
#[derive(Default)]
pub struct MemoryStore {
    sessions: Mutex<HashMap<String, Stored>>,
}

impl MemoryStore {
    /// An empty store.
    pub fn new() -> Self {
        MemoryStore::default()
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<String, Stored>> {
        self.sessions.lock().unwrap_or_else(|e| e.into_inner())
    }
}

fn owned<'a>(
    map: &'a mut HashMap<String, Stored>,
    app: &str,
    user: &str,
    id: &str,
) -> Option<&'a mut Stored> {
    map.get_mut(id).filter(|s| s.app_name == app && s.user_id == user)
}

fn corrupt(id: &str, e: serde_json::Error) -> StoreError {
    StoreError::Backend(format!("stored event of session {id} is not valid JSON ({e})"))
}

#[async_trait]
impl SessionStore for MemoryStore {
    async fn create_session(
        &self,
        app_name: &str,
        user_id: &str,
        id: Option<&str>,
        state: JsonMap,
    ) -> Result<Session, StoreError> {
        let id = id.map(str::to_string).unwrap_or_else(new_id);
        let mut persisted = JsonMap::new();
        apply_state_delta(&mut persisted, &state, true);
        let now = now_secs();
        let mut map = self.lock();
        if map.contains_key(&id) {
            return Err(StoreError::AlreadyExists(id));
        }
        map.insert(
            id.clone(),
            Stored {
                app_name: app_name.to_string(),
                user_id: user_id.to_string(),
                state: persisted.clone(),
                events: Vec::new(),
                created_at: now,
                updated_at: now,
                journal: HashMap::new(),
            },
        );
        Ok(Session::created(id, app_name, user_id, persisted, now))
    }

    async fn get_session(
        &self,
        app_name: &str,
        user_id: &str,
        id: &str,
        window: EventWindow,
    ) -> Result<Option<Session>, StoreError> {
        let mut map = self.lock();
        let Some(s) = owned(&mut map, app_name, user_id, id) else { return Ok(None) };
        let skip = match window {
            EventWindow::All => 0,
            EventWindow::Last(n) => s.events.len().saturating_sub(n),
        };
        let events = s.events[skip..]
            .iter()
            .map(|e| serde_json::from_str::<Event>(e).map_err(|e| corrupt(id, e)))
            .collect::<Result<Vec<_>, _>>()?;
        Ok(Some(Session {
            id: id.to_string(),
            app_name: s.app_name.clone(),
            user_id: s.user_id.clone(),
            state: s.state.clone(),
            events,
            version: s.events.len() as u64,
            created_at: s.created_at,
            last_update_time: s.updated_at,
        }))
    }

    async fn list_sessions(
        &self,
        app_name: Option<&str>,
        user_id: &str,
    ) -> Result<Vec<SessionSummary>, StoreError> {
        let map = self.lock();
        let mut out: Vec<SessionSummary> = map
            .iter()
            .filter(|(_, s)| s.user_id == user_id && app_name.is_none_or(|a| s.app_name == a))
            .map(|(id, s)| SessionSummary {
                id: id.clone(),
                app_name: s.app_name.clone(),
                user_id: s.user_id.clone(),
                version: s.events.len() as u64,
                created_at: s.created_at,
                last_update_time: s.updated_at,
                title: vana_core::session::title_of(&s.state),
            })
            .collect();
        // Newest first, as the SQL stores order them: updated, then created, then id.
        out.sort_by(|a, b| {
            b.last_update_time
                .total_cmp(&a.last_update_time)
                .then(b.created_at.total_cmp(&a.created_at))
                .then(b.id.cmp(&a.id))
        });
        Ok(out)
    }

    async fn delete_session(&self, app_name: &str, user_id: &str, id: &str) -> Result<bool, StoreError> {
        let mut map = self.lock();
        if owned(&mut map, app_name, user_id, id).is_none() {
            return Ok(false);
        }
        Ok(map.remove(id).is_some())
    }

    async fn append_event(
        &self,
        app_name: &str,
        user_id: &str,
        id: &str,
        expected_version: u64,
        event: &Event,
    ) -> Result<u64, StoreError> {
        if event.is_partial() {
            return Err(StoreError::Backend(format!(
                "refusing to persist partial event {}: streamed chunks (partial = true) are never stored",
                event.id
            )));
        }
        let body = serde_json::to_string(event)
            .map_err(|e| StoreError::Backend(format!("cannot serialize the event to JSON: {e}")))?;
        let mut map = self.lock();
        let s = owned(&mut map, app_name, user_id, id).ok_or_else(|| StoreError::NotFound(id.to_string()))?;
        let actual = s.events.len() as u64;
        if actual != expected_version {
            return Err(StoreError::Conflict { session: id.to_string(), expected: expected_version, actual });
        }
        s.events.push(body);
        apply_state_delta(&mut s.state, &event.actions.state_delta, true);
        s.updated_at = now_secs();
        Ok(actual + 1)
    }

    async fn journal_get(&self, session_id: &str, call_id: &str) -> Result<Option<JournalEntry>, StoreError> {
        Ok(self.lock().get(session_id).and_then(|s| s.journal.get(call_id).cloned()))
    }

    async fn journal_put(
        &self,
        session_id: &str,
        call_id: &str,
        entry: &JournalEntry,
    ) -> Result<(), StoreError> {
        let mut map = self.lock();
        let s = map.get_mut(session_id).ok_or_else(|| StoreError::NotFound(session_id.to_string()))?;
        s.journal.insert(call_id.to_string(), entry.clone());
        Ok(())
    }

    async fn ping(&self) -> Result<(), StoreError> {
        Ok(())
    }
}
