//! Recently used sessions kept in memory (state, version and history window), so an
//! invocation on a hot session neither reads nor re-parses its history.
//!
//! An entry is trusted optimistically: the invocation's first append names the cached version
//! as the version it expects, so if any other writer (another process, another runner) changed
//! the session meanwhile, that append fails with a conflict before anything ran; the runner then
//! drops the entry, reloads from the store and tries again. The cache is bounded by an estimate
//! of the bytes its events hold; the least recently used sessions go first.

use crate::context::SessionLog;
use crate::event::{Event, Part};
use serde_json::Value;
use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, Mutex};

struct Entry {
    tick: u64,
    /// Estimated bytes of the whole entry, and of its events alone.
    bytes: usize,
    events_bytes: usize,
    log: SessionLog,
}

#[derive(Default)]
struct Inner {
    tick: u64,
    bytes: usize,
    entries: HashMap<(String, String), Entry>,
    /// Ticks of last use, oldest first: the eviction order.
    by_tick: BTreeMap<u64, (String, String)>,
}

/// Bounded LRU map (user id, session id) -> cached log.
pub(crate) struct SessionCache {
    budget: usize,
    inner: Mutex<Inner>,
}

impl SessionCache {
    /// A cache holding at most about `budget` bytes of events (0 disables it).
    pub fn new(budget: usize) -> Self {
        SessionCache { budget, inner: Mutex::new(Inner::default()) }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Inner> {
        self.inner.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// The cached log of a session, marked as used.
    pub fn get(&self, user_id: &str, session_id: &str) -> Option<SessionLog> {
        let mut inner = self.lock();
        inner.tick += 1;
        let tick = inner.tick;
        let key = (user_id.to_string(), session_id.to_string());
        let entry = inner.entries.get_mut(&key)?;
        let old = std::mem::replace(&mut entry.tick, tick);
        let log = entry.log.clone();
        inner.by_tick.remove(&old);
        inner.by_tick.insert(tick, key);
        Some(log)
    }

    /// True when some version of the session is cached.
    #[cfg(test)]
    pub fn contains(&self, user_id: &str, session_id: &str) -> bool {
        self.lock().entries.contains_key(&(user_id.to_string(), session_id.to_string()))
    }

    /// Forgets a session (its cached copy proved stale, or it was deleted).
    pub fn remove(&self, user_id: &str, session_id: &str) {
        let mut inner = self.lock();
        if let Some(e) = inner.entries.remove(&(user_id.to_string(), session_id.to_string())) {
            inner.bytes -= e.bytes;
            inner.by_tick.remove(&e.tick);
        }
    }

    /// Stores a session's log after an invocation, keeping at most `window` events, then
    /// evicts the least recently used sessions while the cache is over its budget.
    pub fn put(&self, user_id: &str, session_id: &str, mut log: SessionLog, window: usize) {
        if self.budget == 0 {
            return;
        }
        let key = (user_id.to_string(), session_id.to_string());
        let excess = log.events.len().saturating_sub(window);
        let mut inner = self.lock();
        // Usually the log is the cached window plus this invocation's events: only those and
        // the ones leaving the window are measured.
        let full = &log.events;
        let known = inner.entries.get(&key).map(|e| (&e.log.events, e.events_bytes)).filter(|(old, _)| {
            !old.is_empty()
                && full.len() >= old.len()
                && Arc::ptr_eq(&full[0], &old[0])
                && Arc::ptr_eq(&full[old.len() - 1], &old[old.len() - 1])
        });
        let events_bytes = match known {
            Some((old, bytes)) => bytes + full[old.len()..].iter().map(|e| event_bytes(e)).sum::<usize>(),
            None => full.iter().map(|e| event_bytes(e)).sum(),
        } - full[..excess].iter().map(|e| event_bytes(e)).sum::<usize>();
        log.events.drain(..excess);
        let bytes = 512 + events_bytes + json_map_bytes(&log.state);
        if let Some(old) = inner.entries.remove(&key) {
            inner.bytes -= old.bytes;
            inner.by_tick.remove(&old.tick);
        }
        if bytes > self.budget {
            return;
        }
        inner.tick += 1;
        let tick = inner.tick;
        while inner.bytes + bytes > self.budget {
            let Some((_, oldest)) = inner.by_tick.pop_first() else { break };
            if let Some(e) = inner.entries.remove(&oldest) {
                inner.bytes -= e.bytes;
            }
        }
        inner.bytes += bytes;
        inner.by_tick.insert(tick, key.clone());
        inner.entries.insert(key, Entry { tick, bytes, events_bytes, log });
    }
}

/// Rough heap size of an event: its strings and JSON values, plus a fixed overhead.
fn event_bytes(e: &Event) -> usize {
    let parts: usize = e.content.as_ref().map_or(0, |c| c.parts.iter().map(part_bytes).sum());
    256 + e.id.len()
        + e.invocation_id.len()
        + e.author.len()
        + e.agent_path.len()
        + parts
        + json_map_bytes(&e.actions.state_delta)
        + json_map_bytes(&e.actions.artifact_delta)
        + json_map_bytes(&e.actions.requested_tool_confirmations)
        + e.error_message.as_ref().map_or(0, String::len)
}

fn part_bytes(p: &Part) -> usize {
    64 + p.text.as_ref().map_or(0, String::len)
        + p.function_call.as_ref().map_or(0, |c| c.name.len() + json_bytes(&c.args))
        + p.function_response.as_ref().map_or(0, |r| r.name.len() + json_bytes(&r.response))
        + p.inline_data.as_ref().map_or(0, |b| b.data.len() + b.mime_type.len())
}

fn json_map_bytes(m: &serde_json::Map<String, Value>) -> usize {
    m.iter().map(|(k, v)| 32 + k.len() + json_bytes(v)).sum()
}

fn json_bytes(v: &Value) -> usize {
    match v {
        Value::String(s) => 32 + s.len(),
        Value::Array(a) => 32 + a.iter().map(json_bytes).sum::<usize>(),
        Value::Object(m) => 32 + json_map_bytes(m),
        _ => 16,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn log(version: u64, n: usize, text_len: usize) -> SessionLog {
        let events = (0..n)
            .map(|_| {
                let text = crate::event::Content::model_text("x".repeat(text_len));
                Arc::new(Event::new("inv", "model").with_content(text))
            })
            .collect();
        SessionLog { state: Default::default(), events, version }
    }

    #[test]
    fn keeps_the_window_and_scopes_by_user() {
        let cache = SessionCache::new(1 << 20);
        cache.put("u", "s", log(7, 10, 10), 4);
        let got = cache.get("u", "s").expect("cached");
        assert_eq!((got.version, got.events.len()), (7, 4));
        assert!(cache.get("other-user", "s").is_none(), "another user's request must not see it");
        cache.remove("u", "s");
        assert!(cache.get("u", "s").is_none());
    }

    #[test]
    fn the_size_kept_up_to_date_equals_a_full_recount() {
        let cache = SessionCache::new(1 << 20);
        let mut l = log(1, 6, 100);
        cache.put("u", "s", l.clone(), 8);
        for round in 0..5 {
            l = cache.get("u", "s").unwrap();
            l.events.extend(log(0, 3, 50 + round).events);
            cache.put("u", "s", l.clone(), 8);
        }
        let inner = cache.lock();
        let e = &inner.entries[&("u".to_string(), "s".to_string())];
        assert_eq!(e.log.events.len(), 8);
        assert_eq!(e.events_bytes, e.log.events.iter().map(|x| event_bytes(x)).sum::<usize>());
        assert_eq!(inner.bytes, e.bytes);
    }

    #[test]
    fn evicts_least_recently_used_within_its_byte_budget() {
        // Each session holds ~12.5 KB; the budget fits three.
        let cache = SessionCache::new(40_000);
        for id in ["a", "b", "c"] {
            cache.put("u", id, log(1, 5, 2000), 100);
        }
        assert!(cache.get("u", "a").is_some()); // a is now the most recently used
        cache.put("u", "d", log(1, 5, 2000), 100);
        assert!(cache.contains("u", "a") && cache.contains("u", "c") && cache.contains("u", "d"));
        assert!(!cache.contains("u", "b"), "b was the least recently used");
        assert!(cache.lock().bytes <= 40_000);
        // A session bigger than the whole budget is not kept (and drops its stale copy).
        cache.put("u", "a", log(2, 50, 2000), 100);
        assert!(!cache.contains("u", "a"));
    }
}
