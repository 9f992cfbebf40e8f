//! Runs the conformance suite and the kill-9 crash test against `SqliteStore`.

use crate::common;

use std::sync::Arc;
use vana_core::{EventWindow, JsonMap, SessionStore};
use vana_store::SqliteStore;
use vana_testkit::conformance;

/// Each check against its own fresh database file.
macro_rules! file_checks {
    ($($name:ident),* $(,)?) => {$(
        #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
        async fn $name() {
            let dir = vana_testkit::tempdir();
            let store = SqliteStore::open(dir.path().join("nested/dir/vana.db")).expect("open sqlite store");
            conformance::$name(Arc::new(store)).await;
        }
    )*};
}

file_checks!(
    ping,
    create_get_list_delete,
    user_and_app_isolation,
    already_exists,
    append_version_and_state_delta,
    event_window_last,
    event_json_round_trip,
    concurrent_same_version,
    concurrent_appends_with_retry,
    journal_put_get_overwrite,
    delete_removes_events_and_journal,
    partial_event_refused,
);

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn all_checks_in_memory() {
    conformance::run_all(Arc::new(SqliteStore::open_in_memory().expect("open in-memory store"))).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn all_checks_through_open_url() {
    let dir = vana_testkit::tempdir();
    let url = format!("sqlite://{}", dir.path().join("via-url.db").display());
    conformance::run_all(vana_store::open(&url).await.expect("open sqlite:// url")).await;
    conformance::run_all(vana_store::open("sqlite::memory:").await.expect("open sqlite::memory:")).await;
}

#[tokio::test]
async fn data_survives_reopen() {
    let dir = vana_testkit::tempdir();
    let path = dir.path().join("reopen.db");
    let store = SqliteStore::open(&path).expect("open");
    let s = store.create_session("app", "u", None, JsonMap::new()).await.expect("create");
    let e = conformance::full_event();
    store.append_event("app", "u", &s.id, 0, &e).await.expect("append");
    drop(store);
    let store = SqliteStore::open(&path).expect("reopen (migrations must be idempotent)");
    let got = store.get_session("app", "u", &s.id, EventWindow::All).await.expect("get").expect("session");
    assert_eq!(got.events, vec![e]);
}

#[test]
fn unsupported_url_names_the_accepted_forms() {
    let rt = tokio::runtime::Runtime::new().unwrap();
    let err = rt.block_on(vana_store::open("redis://localhost")).err().expect("must fail").to_string();
    assert!(err.contains("sqlite://PATH") && err.contains("postgres://"), "{err}");
}

/// Child side of the crash test (does nothing in a normal run).
#[test]
fn crash_child() {
    common::child_main();
}

#[test]
fn acknowledged_appends_survive_sigkill() {
    let dir = vana_testkit::tempdir();
    let url = format!("sqlite://{}", dir.path().join("crash.db").display());
    common::crash_and_verify(&url, "sqlite::crash_child");
}
