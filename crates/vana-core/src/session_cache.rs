//! A small cache of recently used sessions' event windows, so an invocation on a hot session
//! does not reload and re-parse its history: a cached window is reused only when the store
//! confirms the session is still at the cached version (another process may have written).

use crate::event::Event;
use std::collections::HashMap;
use std::sync::{Arc, Mutex};

/// Cached history of one session.
#[derive(Clone)]
pub(crate) struct CachedLog {
    pub version: u64,
    pub events: Vec<Arc<Event>>,
}

/// Entries by session id, each with the tick of its last store, and the current tick.
type Entries = (u64, HashMap<String, (u64, CachedLog)>);

/// Bounded map session id -> cached log; the least recently stored entry is evicted.
pub(crate) struct SessionCache {
    capacity: usize,
    inner: Mutex<Entries>,
}

impl SessionCache {
    pub fn new(capacity: usize) -> Self {
        SessionCache { capacity, inner: Mutex::new((0, HashMap::new())) }
    }

    /// The cached log if it is at `version`.
    pub fn get(&self, session_id: &str, version: u64) -> Option<Vec<Arc<Event>>> {
        let inner = self.inner.lock().unwrap_or_else(|e| e.into_inner());
        inner.1.get(session_id).filter(|(_, c)| c.version == version).map(|(_, c)| c.events.clone())
    }

    /// Stores the log of a session after an invocation, keeping at most `window` events.
    pub fn put(&self, session_id: &str, version: u64, mut events: Vec<Arc<Event>>, window: usize) {
        if self.capacity == 0 {
            return;
        }
        let excess = events.len().saturating_sub(window);
        events.drain(..excess);
        let mut inner = self.inner.lock().unwrap_or_else(|e| e.into_inner());
        inner.0 += 1;
        let tick = inner.0;
        if inner.1.len() >= self.capacity && !inner.1.contains_key(session_id) {
            if let Some(oldest) = inner.1.iter().min_by_key(|(_, (t, _))| *t).map(|(k, _)| k.clone()) {
                inner.1.remove(&oldest);
            }
        }
        inner.1.insert(session_id.to_string(), (tick, CachedLog { version, events }));
    }
}
