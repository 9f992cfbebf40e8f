//! Conformance suite for [`SessionStore`] implementations.
//!
//! Each check is a public async function taking the store under test; it panics with a
//! message naming the check and what went wrong. Checks use fresh random ids and users, so
//! they can share one store and run in any order. [`CHECKS`] lists them by name and
//! [`run_all`] runs them all.

use futures::future::BoxFuture;
use serde_json::{json, Value};
use std::collections::HashSet;
use std::sync::Arc;
use tokio::sync::Barrier;
use vana_core::event::new_id;
use vana_core::{
    Blob, Content, Event, EventActions, EventWindow, FunctionCall, FunctionResponse, JournalEntry,
    JournalStatus, JsonMap, Part, SessionStore, StoreError, Timing, UsageMetadata,
};

/// A conformance check: runs against a store and panics on failure.
pub type Check = fn(Arc<dyn SessionStore>) -> BoxFuture<'static, ()>;

/// Every check, by name, in a sensible order.
pub const CHECKS: &[(&str, Check)] = &[
    ("ping", |s| Box::pin(ping(s))),
    ("create_get_list_delete", |s| Box::pin(create_get_list_delete(s))),
    ("user_and_app_isolation", |s| Box::pin(user_and_app_isolation(s))),
    ("already_exists", |s| Box::pin(already_exists(s))),
    ("append_version_and_state_delta", |s| Box::pin(append_version_and_state_delta(s))),
    ("event_window_last", |s| Box::pin(event_window_last(s))),
    ("event_json_round_trip", |s| Box::pin(event_json_round_trip(s))),
    ("concurrent_same_version", |s| Box::pin(concurrent_same_version(s))),
    ("concurrent_appends_with_retry", |s| Box::pin(concurrent_appends_with_retry(s))),
    ("journal_put_get_overwrite", |s| Box::pin(journal_put_get_overwrite(s))),
    ("delete_removes_events_and_journal", |s| Box::pin(delete_removes_events_and_journal(s))),
    ("partial_event_refused", |s| Box::pin(partial_event_refused(s))),
];

/// Runs every check in [`CHECKS`] against one store, printing each name as it starts.
pub async fn run_all(store: Arc<dyn SessionStore>) {
    for (name, check) in CHECKS {
        eprintln!("conformance: {name}");
        check(store.clone()).await;
    }
}

/// A unique name for this run.
fn uniq(prefix: &str) -> String {
    format!("{prefix}-{}", new_id())
}

fn map(v: Value) -> JsonMap {
    match v {
        Value::Object(m) => m,
        other => panic!("conformance helper: expected a JSON object, got {other}"),
    }
}

/// A plain event with a text part and an optional state delta.
fn text_event(text: &str, delta: Value) -> Event {
    let mut e = Event::new(uniq("inv"), "agent").with_content(Content::model_text(text));
    if !delta.is_null() {
        e.actions.state_delta = map(delta);
    }
    e
}

/// Appends `event` at `expected` and asserts it returns `expected + 1`.
async fn append_ok(store: &dyn SessionStore, app: &str, user: &str, id: &str, expected: u64, event: &Event) {
    match store.append_event(app, user, id, expected, event).await {
        Ok(v) => {
            assert_eq!(v, expected + 1, "append_event at version {expected} must return {}", expected + 1)
        }
        Err(e) => panic!("append_event at version {expected} on session {id} failed: {e}"),
    }
}

/// The store answers.
pub async fn ping(store: Arc<dyn SessionStore>) {
    store.ping().await.unwrap_or_else(|e| panic!("[ping] ping failed: {e}"));
}

/// Create, get, list (newest first, per app), delete.
pub async fn create_get_list_delete(store: Arc<dyn SessionStore>) {
    let (app, other_app, user) = (uniq("app"), uniq("app"), uniq("user"));
    let id = uniq("s");
    let initial = map(json!({"a": 1, "nested": {"x": [1, 2]}, "temp:scratch": true, "gone": null}));
    let created = store
        .create_session(&app, &user, Some(&id), initial)
        .await
        .unwrap_or_else(|e| panic!("[create_get_list_delete] create_session failed: {e}"));
    assert_eq!(created.id, id, "[create_get_list_delete] create_session must use the given id");
    assert_eq!((created.app_name.as_str(), created.user_id.as_str()), (app.as_str(), user.as_str()));
    assert_eq!(created.version, 0, "[create_get_list_delete] a new session is at version 0");
    assert!(created.events.is_empty(), "[create_get_list_delete] a new session has no events");
    assert_eq!(
        created.state,
        map(json!({"a": 1, "nested": {"x": [1, 2]}})),
        "[create_get_list_delete] initial state must drop temp: keys and nulls"
    );
    let loaded = store.get_session(&app, &user, &id, EventWindow::All).await.expect("get_session");
    assert_eq!(
        loaded.as_ref(),
        Some(&created),
        "[create_get_list_delete] get_session must return what create returned"
    );

    tokio::time::sleep(std::time::Duration::from_millis(5)).await;
    let second =
        store.create_session(&app, &user, None, JsonMap::new()).await.expect("create_session without id");
    assert!(
        !second.id.is_empty() && second.id != id,
        "[create_get_list_delete] a generated id must be fresh"
    );
    tokio::time::sleep(std::time::Duration::from_millis(5)).await;
    let elsewhere =
        store.create_session(&other_app, &user, None, JsonMap::new()).await.expect("create_session");

    let ids = |list: Vec<vana_core::SessionSummary>| list.into_iter().map(|s| s.id).collect::<Vec<_>>();
    let listed = ids(store.list_sessions(Some(&app), &user).await.expect("list_sessions"));
    assert_eq!(
        listed,
        vec![second.id.clone(), id.clone()],
        "[create_get_list_delete] list of one app, newest first"
    );
    let all = ids(store.list_sessions(None, &user).await.expect("list_sessions"));
    assert_eq!(
        all,
        vec![elsewhere.id.clone(), second.id.clone(), id.clone()],
        "[create_get_list_delete] list of all apps, newest first"
    );

    // An append makes a session the most recently updated.
    tokio::time::sleep(std::time::Duration::from_millis(5)).await;
    append_ok(&*store, &app, &user, &id, 0, &text_event("hi", Value::Null)).await;
    let listed = store.list_sessions(Some(&app), &user).await.expect("list_sessions");
    assert_eq!(
        ids(listed.clone()),
        vec![id.clone(), second.id.clone()],
        "[create_get_list_delete] the session appended to last must be listed first"
    );
    assert_eq!(listed[0].version, 1, "[create_get_list_delete] summaries carry the version");
    assert!(listed[0].last_update_time >= listed[0].created_at);

    assert!(store.delete_session(&app, &user, &id).await.expect("delete_session"), "delete must return true");
    assert!(
        store.get_session(&app, &user, &id, EventWindow::All).await.expect("get_session").is_none(),
        "[create_get_list_delete] a deleted session must be gone"
    );
    assert!(
        !store.delete_session(&app, &user, &id).await.expect("delete_session"),
        "[create_get_list_delete] deleting twice must return false"
    );
    let listed = ids(store.list_sessions(Some(&app), &user).await.expect("list_sessions"));
    assert_eq!(
        listed,
        vec![second.id.clone()],
        "[create_get_list_delete] deleted session must not be listed"
    );
}

/// Another user's or app's session is invisible whatever the id.
pub async fn user_and_app_isolation(store: Arc<dyn SessionStore>) {
    let (app, other_app, alice, bob) = (uniq("app"), uniq("app"), uniq("alice"), uniq("bob"));
    let s =
        store.create_session(&app, &alice, None, map(json!({"secret": 1}))).await.expect("create_session");
    let ev = text_event("x", Value::Null);
    for (a, u, who) in [(&app, &bob, "another user"), (&other_app, &alice, "another app")] {
        let got = store.get_session(a, u, &s.id, EventWindow::All).await.expect("get_session");
        assert!(got.is_none(), "[user_and_app_isolation] {who} must not see the session");
        match store.append_event(a, u, &s.id, 0, &ev).await {
            Err(StoreError::NotFound(id)) => assert_eq!(id, s.id),
            other => panic!("[user_and_app_isolation] append by {who} must be NotFound, got {other:?}"),
        }
        assert!(
            !store.delete_session(a, u, &s.id).await.expect("delete_session"),
            "[user_and_app_isolation] {who} must not delete the session"
        );
    }
    assert!(store.list_sessions(None, &bob).await.expect("list_sessions").is_empty(), "bob lists nothing");
    assert!(store.list_sessions(Some(&other_app), &alice).await.expect("list_sessions").is_empty());
    let missing = uniq("missing");
    assert!(store
        .get_session(&app, &alice, &missing, EventWindow::All)
        .await
        .expect("get_session")
        .is_none());
    match store.append_event(&app, &alice, &missing, 0, &ev).await {
        Err(StoreError::NotFound(_)) => {}
        other => {
            panic!("[user_and_app_isolation] append to a missing session must be NotFound, got {other:?}")
        }
    }
    let still = store.get_session(&app, &alice, &s.id, EventWindow::All).await.expect("get_session");
    let still = still.expect("[user_and_app_isolation] the owner must still see the session");
    assert_eq!(still.version, 0, "[user_and_app_isolation] nothing may have been appended");
    assert_eq!(still.state, map(json!({"secret": 1})));
}

/// Creating an existing id fails with AlreadyExists and changes nothing.
pub async fn already_exists(store: Arc<dyn SessionStore>) {
    let (app, user) = (uniq("app"), uniq("user"));
    let id = uniq("s");
    store.create_session(&app, &user, Some(&id), map(json!({"v": 1}))).await.expect("create_session");
    for (a, u) in [(app.clone(), user.clone()), (uniq("app"), uniq("user"))] {
        match store.create_session(&a, &u, Some(&id), map(json!({"v": 2}))).await {
            Err(StoreError::AlreadyExists(got)) => assert_eq!(got, id),
            other => panic!("[already_exists] creating id {id} again must be AlreadyExists, got {other:?}"),
        }
    }
    let s =
        store.get_session(&app, &user, &id, EventWindow::All).await.expect("get_session").expect("session");
    assert_eq!(s.state, map(json!({"v": 1})), "[already_exists] the original session must be unchanged");
}

/// Appends bump the version, apply state deltas (nulls remove, temp: skipped) and detect
/// stale versions.
pub async fn append_version_and_state_delta(store: Arc<dyn SessionStore>) {
    let (app, user) = (uniq("app"), uniq("user"));
    let s = store.create_session(&app, &user, None, map(json!({"a": 1, "keep": "k"}))).await.expect("create");
    let e1 = text_event("one", json!({"b": 2, "temp:t": 1, "a": {"deep": [true]}}));
    append_ok(&*store, &app, &user, &s.id, 0, &e1).await;
    let got = store.get_session(&app, &user, &s.id, EventWindow::All).await.expect("get").expect("session");
    assert_eq!(got.version, 1);
    assert_eq!(
        got.state,
        map(json!({"a": {"deep": [true]}, "b": 2, "keep": "k"})),
        "[append_version_and_state_delta] delta must set keys and skip temp: keys"
    );
    let e2 = text_event("two", json!({"a": null, "missing": null, "c": "x"}));
    append_ok(&*store, &app, &user, &s.id, 1, &e2).await;
    let e3 = text_event("three", Value::Null);
    append_ok(&*store, &app, &user, &s.id, 2, &e3).await;
    let got = store.get_session(&app, &user, &s.id, EventWindow::All).await.expect("get").expect("session");
    assert_eq!(got.version, 3, "[append_version_and_state_delta] version must count events");
    assert_eq!(
        got.state,
        map(json!({"b": 2, "c": "x", "keep": "k"})),
        "[append_version_and_state_delta] null must remove a key"
    );
    assert_eq!(got.events, vec![e1, e2, e3], "[append_version_and_state_delta] events in order, unchanged");
    assert!(got.last_update_time >= got.created_at);
    for stale in [0, 2, 7] {
        match store.append_event(&app, &user, &s.id, stale, &text_event("late", json!({"z": 1}))).await {
            Err(StoreError::Conflict { session, expected, actual }) => {
                assert_eq!((session.as_str(), expected, actual), (s.id.as_str(), stale, 3));
            }
            other => panic!(
                "[append_version_and_state_delta] append at version {stale} must conflict, got {other:?}"
            ),
        }
    }
    let got = store.get_session(&app, &user, &s.id, EventWindow::All).await.expect("get").expect("session");
    assert_eq!(got.version, 3, "[append_version_and_state_delta] a conflicting append must change nothing");
    assert!(
        !got.state.contains_key("z"),
        "[append_version_and_state_delta] a conflicting append's delta leaked"
    );
}

/// `EventWindow::Last(n)` returns the last n events oldest first, with the whole state.
pub async fn event_window_last(store: Arc<dyn SessionStore>) {
    let (app, user) = (uniq("app"), uniq("user"));
    let s = store.create_session(&app, &user, None, JsonMap::new()).await.expect("create");
    let mut sent = Vec::new();
    for i in 0..10u64 {
        let e = text_event(&format!("event {i}"), json!({ format!("k{i}"): i }));
        append_ok(&*store, &app, &user, &s.id, i, &e).await;
        sent.push(e);
    }
    let full_state: JsonMap = (0..10u64).map(|i| (format!("k{i}"), json!(i))).collect();
    for (window, expect) in [
        (EventWindow::Last(3), &sent[7..]),
        (EventWindow::Last(0), &sent[10..]),
        (EventWindow::Last(1), &sent[9..]),
        (EventWindow::Last(10), &sent[..]),
        (EventWindow::Last(1000), &sent[..]),
        (EventWindow::All, &sent[..]),
    ] {
        let got = store.get_session(&app, &user, &s.id, window).await.expect("get").expect("session");
        assert_eq!(got.events, expect, "[event_window_last] wrong events for {window:?}");
        assert_eq!(got.version, 10, "[event_window_last] version must not depend on the window");
        assert_eq!(got.state, full_state, "[event_window_last] state must be complete for {window:?}");
    }
}

/// An event with every field set, for the round-trip check.
pub fn full_event() -> Event {
    Event {
        id: new_id(),
        invocation_id: uniq("inv"),
        author: "data_science".into(),
        branch: Some("vana.data_science".into()),
        timestamp: 1_764_068_493.123_456_7,
        content: Some(Content {
            role: "model".into(),
            parts: vec![
                Part::text("Here is the chart — ünïcödé, \"quotes\", \\ backslash, \n newline, emoji 📈"),
                Part::function_call(FunctionCall {
                    id: Some("call-1".into()),
                    name: "run_sql".into(),
                    args: json!({"query": "SELECT 1", "limit": 10, "ratio": 0.1, "big": 9_007_199_254_740_993u64,
                                 "neg": -3, "flags": [true, false, null], "nested": {"a": {"b": []}}}),
                }),
                Part::function_response(FunctionResponse {
                    id: Some("call-1".into()),
                    name: "run_sql".into(),
                    response: json!({"rows": [[1, "a"], [2, "b"]], "elapsed": 12.5, "empty": {}}),
                }),
                Part::inline_data(Blob {
                    mime_type: "image/png".into(),
                    data: "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNkYPhfDwAChwGA60e6kgAAAABJRU5ErkJggg=="
                        .into(),
                    display_name: Some("chart.png".into()),
                }),
            ],
        }),
        actions: EventActions {
            state_delta: map(json!({"last_query": "SELECT 1", "temp:draft": "x", "removed": null})),
            artifact_delta: map(json!({"chart.png": 2})),
            transfer_to_agent: Some("vana".into()),
            escalate: Some(true),
            skip_summarization: Some(false),
            requested_tool_confirmations: map(json!({"call-1": {"hint": "approve?", "payload": {"n": 1}}})),
        },
        long_running_tool_ids: vec!["call-1".into(), "call-2".into()],
        partial: Some(false),
        turn_complete: Some(true),
        error_code: Some("TOOL_ERROR".into()),
        error_message: Some("the tool said no".into()),
        usage_metadata: Some(UsageMetadata::new(1_234, 5_678)),
        agent_path: "vana/data_science".into(),
        timing: Some(Timing { model_ms: 812.337_5, tool_ms: 0.000_123 }),
    }
}

/// Every field of an event comes back exactly as appended.
pub async fn event_json_round_trip(store: Arc<dyn SessionStore>) {
    let (app, user) = (uniq("app"), uniq("user"));
    let s = store.create_session(&app, &user, None, JsonMap::new()).await.expect("create");
    let full = full_event();
    let minimal =
        Event { id: new_id(), invocation_id: "i".into(), author: "user".into(), ..Default::default() };
    append_ok(&*store, &app, &user, &s.id, 0, &full).await;
    append_ok(&*store, &app, &user, &s.id, 1, &minimal).await;
    let got = store.get_session(&app, &user, &s.id, EventWindow::All).await.expect("get").expect("session");
    assert_eq!(got.events.len(), 2, "[event_json_round_trip] both events must be stored");
    for (sent, back) in [&full, &minimal].into_iter().zip(&got.events) {
        assert_eq!(back, sent, "[event_json_round_trip] event {} changed in the store", sent.id);
        assert_eq!(
            serde_json::to_value(back).expect("serialize"),
            serde_json::to_value(sent).expect("serialize"),
            "[event_json_round_trip] event {} serializes differently after the store",
            sent.id
        );
        assert_eq!(
            back.timestamp.to_bits(),
            sent.timestamp.to_bits(),
            "[event_json_round_trip] timestamp bits"
        );
    }
    assert_eq!(
        got.state,
        map(json!({"last_query": "SELECT 1"})),
        "[event_json_round_trip] state from the delta"
    );
}

/// Twenty writers append at the same version at once: exactly one wins, the rest conflict.
pub async fn concurrent_same_version(store: Arc<dyn SessionStore>) {
    const WRITERS: usize = 20;
    let (app, user) = (uniq("app"), uniq("user"));
    let s = store.create_session(&app, &user, None, JsonMap::new()).await.expect("create");
    let barrier = Arc::new(Barrier::new(WRITERS));
    let mut tasks = Vec::new();
    for i in 0..WRITERS {
        let (store, app, user, id, barrier) =
            (store.clone(), app.clone(), user.clone(), s.id.clone(), barrier.clone());
        tasks.push(tokio::spawn(async move {
            let e = text_event(&format!("writer {i}"), json!({ format!("w{i}"): i }));
            barrier.wait().await;
            (e.clone(), store.append_event(&app, &user, &id, 0, &e).await)
        }));
    }
    let mut winners = Vec::new();
    for t in tasks {
        let (event, result) = t.await.expect("[concurrent_same_version] writer task panicked");
        match result {
            Ok(v) => {
                assert_eq!(v, 1, "[concurrent_same_version] the winner must get version 1");
                winners.push(event);
            }
            Err(StoreError::Conflict { expected: 0, actual: 1, .. }) => {}
            Err(e) => {
                panic!("[concurrent_same_version] a loser must get Conflict(expected 0, actual 1), got {e}")
            }
        }
    }
    assert_eq!(winners.len(), 1, "[concurrent_same_version] exactly one of {WRITERS} writers must win");
    let got = store.get_session(&app, &user, &s.id, EventWindow::All).await.expect("get").expect("session");
    assert_eq!(got.version, 1, "[concurrent_same_version] version must be 1");
    assert_eq!(got.events, winners, "[concurrent_same_version] only the winner's event may be stored");
    assert_eq!(
        got.state, winners[0].actions.state_delta,
        "[concurrent_same_version] only the winner's delta"
    );
}

/// Many writers appending with retry-on-conflict end with exactly N events, no gaps or duplicates.
pub async fn concurrent_appends_with_retry(store: Arc<dyn SessionStore>) {
    const WRITERS: usize = 10;
    const EACH: usize = 10;
    let (app, user) = (uniq("app"), uniq("user"));
    let s = store.create_session(&app, &user, None, JsonMap::new()).await.expect("create");
    let mut tasks = Vec::new();
    for w in 0..WRITERS {
        let (store, app, user, id) = (store.clone(), app.clone(), user.clone(), s.id.clone());
        tasks.push(tokio::spawn(async move {
            let mut version = 0;
            let mut sent = Vec::new();
            for i in 0..EACH {
                let e = text_event(&format!("{w}:{i}"), json!({ format!("w{w}"): i }));
                let mut attempts = 0;
                loop {
                    attempts += 1;
                    assert!(attempts < 10_000, "[concurrent_appends_with_retry] writer {w} starved");
                    match store.append_event(&app, &user, &id, version, &e).await {
                        Ok(v) => {
                            version = v;
                            break;
                        }
                        Err(StoreError::Conflict { actual, .. }) => {
                            assert_ne!(
                                actual, version,
                                "[concurrent_appends_with_retry] a conflict must report the current version"
                            );
                            version = actual;
                            tokio::task::yield_now().await;
                        }
                        Err(other) => panic!("[concurrent_appends_with_retry] writer {w} failed: {other}"),
                    }
                }
                sent.push(e.id.clone());
            }
            sent
        }));
    }
    let mut sent = HashSet::new();
    for t in tasks {
        sent.extend(t.await.expect("[concurrent_appends_with_retry] writer task panicked"));
    }
    let total = WRITERS * EACH;
    let got = store.get_session(&app, &user, &s.id, EventWindow::All).await.expect("get").expect("session");
    assert_eq!(got.version as usize, total, "[concurrent_appends_with_retry] version must be {total}");
    assert_eq!(
        got.events.len(),
        total,
        "[concurrent_appends_with_retry] exactly {total} events must be stored"
    );
    let stored: HashSet<String> = got.events.iter().map(|e| e.id.clone()).collect();
    assert_eq!(stored.len(), total, "[concurrent_appends_with_retry] an event was stored twice");
    assert_eq!(stored, sent, "[concurrent_appends_with_retry] stored events differ from acknowledged ones");
    // Each writer's events must appear in the order it appended them.
    let mut next = [0usize; WRITERS];
    for e in &got.events {
        let text = e.text();
        let (w, i) = text.split_once(':').expect("event text w:i");
        let (w, i): (usize, usize) = (w.parse().expect("writer"), i.parse().expect("index"));
        assert_eq!(i, next[w], "[concurrent_appends_with_retry] writer {w}'s events out of order");
        next[w] += 1;
    }
    let expect_state: JsonMap = (0..WRITERS).map(|w| (format!("w{w}"), json!(EACH - 1))).collect();
    assert_eq!(
        got.state, expect_state,
        "[concurrent_appends_with_retry] state must reflect every delta in order"
    );
}

/// Journal entries are written, read back, overwritten, and scoped by session and call id.
pub async fn journal_put_get_overwrite(store: Arc<dyn SessionStore>) {
    let (app, user) = (uniq("app"), uniq("user"));
    let a = store.create_session(&app, &user, None, JsonMap::new()).await.expect("create");
    let b = store.create_session(&app, &user, None, JsonMap::new()).await.expect("create");
    assert_eq!(
        store.journal_get(&a.id, "call-1").await.expect("journal_get"),
        None,
        "[journal] empty at first"
    );
    let started = JournalEntry { tool: "send_email".into(), status: JournalStatus::Started, result: None };
    store.journal_put(&a.id, "call-1", &started).await.expect("journal_put");
    assert_eq!(store.journal_get(&a.id, "call-1").await.expect("journal_get").as_ref(), Some(&started));
    let done = JournalEntry {
        tool: "send_email".into(),
        status: JournalStatus::Done,
        result: Some(json!({"sent": true, "id": "m-1", "ratio": 0.25, "list": [1, {"x": null}]})),
    };
    store.journal_put(&a.id, "call-1", &done).await.expect("journal_put overwrite");
    assert_eq!(
        store.journal_get(&a.id, "call-1").await.expect("journal_get").as_ref(),
        Some(&done),
        "[journal] a second put must overwrite the entry"
    );
    assert_eq!(
        store.journal_get(&a.id, "call-2").await.expect("journal_get"),
        None,
        "[journal] other call id"
    );
    assert_eq!(
        store.journal_get(&b.id, "call-1").await.expect("journal_get"),
        None,
        "[journal] other session"
    );
    match store.journal_put(&uniq("missing"), "call-1", &started).await {
        Err(StoreError::NotFound(_)) => {}
        other => panic!("[journal] journal_put on a missing session must be NotFound, got {other:?}"),
    }
}

/// Deleting a session removes its events and journal: recreating the id starts empty.
pub async fn delete_removes_events_and_journal(store: Arc<dyn SessionStore>) {
    let (app, user) = (uniq("app"), uniq("user"));
    let id = uniq("s");
    store.create_session(&app, &user, Some(&id), JsonMap::new()).await.expect("create");
    for v in 0..3 {
        append_ok(&*store, &app, &user, &id, v, &text_event("e", json!({"k": v}))).await;
    }
    let entry = JournalEntry { tool: "t".into(), status: JournalStatus::Done, result: Some(json!(1)) };
    store.journal_put(&id, "c", &entry).await.expect("journal_put");
    assert!(store.delete_session(&app, &user, &id).await.expect("delete_session"));
    assert_eq!(
        store.journal_get(&id, "c").await.expect("journal_get"),
        None,
        "[delete] journal must be deleted"
    );
    let again = store.create_session(&app, &user, Some(&id), JsonMap::new()).await.expect("recreate same id");
    assert_eq!(again.version, 0);
    let got = store.get_session(&app, &user, &id, EventWindow::All).await.expect("get").expect("session");
    assert!(got.events.is_empty(), "[delete] old events must be gone after delete");
    assert!(got.state.is_empty(), "[delete] old state must be gone after delete");
    assert_eq!(
        store.journal_get(&id, "c").await.expect("journal_get"),
        None,
        "[delete] old journal resurfaced"
    );
    append_ok(&*store, &app, &user, &id, 0, &text_event("fresh", Value::Null)).await;
}

/// Partial (streamed) events are refused and change nothing.
pub async fn partial_event_refused(store: Arc<dyn SessionStore>) {
    let (app, user) = (uniq("app"), uniq("user"));
    let s = store.create_session(&app, &user, None, JsonMap::new()).await.expect("create");
    let mut chunk = text_event("chunk", json!({"leak": 1}));
    chunk.partial = Some(true);
    match store.append_event(&app, &user, &s.id, 0, &chunk).await {
        Err(StoreError::Backend(msg)) => {
            assert!(msg.contains("partial"), "[partial_event_refused] the error must say why: {msg}")
        }
        other => {
            panic!("[partial_event_refused] a partial event must be refused with Backend, got {other:?}")
        }
    }
    let got = store.get_session(&app, &user, &s.id, EventWindow::All).await.expect("get").expect("session");
    assert_eq!(got.version, 0, "[partial_event_refused] nothing may be stored");
    assert!(got.state.is_empty(), "[partial_event_refused] the partial event's delta must not apply");
    let mut last = text_event("final", Value::Null);
    last.partial = Some(false);
    append_ok(&*store, &app, &user, &s.id, 0, &last).await;
}
