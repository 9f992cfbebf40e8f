//! Runs the conformance suite and the kill-9 crash test against `PostgresStore`.
//!
//! Needs PostgreSQL at `postgres://postgres@127.0.0.1:5432/test` (override with
//! `VANA_TEST_POSTGRES_URL`). Each test works in its own fresh schema and drops it at the end.
//! If the server is unreachable the tests fail, saying how to start it.

use crate::common;

use futures::FutureExt;
use std::future::Future;
use std::panic::AssertUnwindSafe;
use std::sync::Arc;
use vana_core::SessionStore;
use vana_store::PostgresStore;
use vana_testkit::conformance;

const DEFAULT_URL: &str = "postgres://postgres@127.0.0.1:5432/test";

fn url() -> String {
    std::env::var("VANA_TEST_POSTGRES_URL").unwrap_or_else(|_| DEFAULT_URL.to_string())
}

fn fresh_schema() -> String {
    format!("vana_test_{}", vana_core::event::new_id().replace('-', ""))
}

fn unreachable(url: &str, e: impl std::fmt::Display) -> ! {
    panic!(
        "PostgreSQL is not reachable at {url}: {e}\n\
         These tests need a PostgreSQL server with a database `test` that user `postgres` can use \
         without a password. Start one, e.g. `pg_ctlcluster 15 main start` (Debian package \
         postgresql), or `docker run -d -p 5432:5432 -e POSTGRES_HOST_AUTH_METHOD=trust \
         -e POSTGRES_DB=test postgres:16`, or point VANA_TEST_POSTGRES_URL at another server."
    )
}

/// Drops a test schema and everything in it.
async fn drop_schema(url: &str, schema: &str) {
    let (client, conn) =
        tokio_postgres::connect(url, tokio_postgres::NoTls).await.unwrap_or_else(|e| unreachable(url, e));
    let task = tokio::spawn(conn);
    client.batch_execute(&format!("DROP SCHEMA IF EXISTS {schema} CASCADE")).await.expect("drop test schema");
    drop(client);
    let _ = task.await;
}

/// Runs `test` against a store in a fresh schema, dropping the schema afterwards even if
/// the test panics.
async fn with_store<F, Fut>(test: F)
where
    F: FnOnce(Arc<dyn SessionStore>) -> Fut,
    Fut: Future<Output = ()>,
{
    let (url, schema) = (url(), fresh_schema());
    let store = PostgresStore::connect(&url, Some(&schema)).await.unwrap_or_else(|e| unreachable(&url, e));
    assert_eq!(store.schema(), Some(schema.as_str()));
    let outcome = AssertUnwindSafe(test(Arc::new(store))).catch_unwind().await;
    drop_schema(&url, &schema).await;
    if let Err(panic) = outcome {
        std::panic::resume_unwind(panic);
    }
}

macro_rules! pg_checks {
    ($($name:ident),* $(,)?) => {$(
        #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
        async fn $name() {
            with_store(conformance::$name).await;
        }
    )*};
}

pg_checks!(
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
async fn all_checks_through_open_url() {
    let (url, schema) = (url(), fresh_schema());
    let sep = if url.contains('?') { '&' } else { '?' };
    let store = vana_store::open(&format!("{url}{sep}schema={schema}")).await;
    let outcome = match store {
        Ok(store) => AssertUnwindSafe(conformance::run_all(store)).catch_unwind().await,
        Err(e) => unreachable(&url, e),
    };
    drop_schema(&url, &schema).await;
    if let Err(panic) = outcome {
        std::panic::resume_unwind(panic);
    }
}

#[tokio::test]
async fn connecting_twice_to_one_schema_migrates_once() {
    let (url, schema) = (url(), fresh_schema());
    let (a, b) = tokio::join!(
        PostgresStore::connect(&url, Some(&schema)),
        PostgresStore::connect(&url, Some(&schema))
    );
    let outcome = AssertUnwindSafe(async {
        let (a, b) = (a.unwrap_or_else(|e| unreachable(&url, e)), b.expect("second concurrent connect"));
        let s = a.create_session("app", "u", None, Default::default()).await.expect("create");
        assert!(b.get_session("app", "u", &s.id, vana_core::EventWindow::All).await.expect("get").is_some());
    })
    .catch_unwind()
    .await;
    drop_schema(&url, &schema).await;
    if let Err(panic) = outcome {
        std::panic::resume_unwind(panic);
    }
}

#[tokio::test]
async fn bad_schema_name_is_refused() {
    let err = PostgresStore::connect(&url(), Some("x; DROP TABLE y")).await.expect_err("must fail");
    assert!(err.to_string().contains("invalid PostgreSQL schema name"), "{err}");
}

/// Child side of the crash test (does nothing in a normal run).
#[test]
fn crash_child() {
    common::child_main();
}

#[test]
fn acknowledged_appends_survive_sigkill() {
    let (url, schema) = (url(), fresh_schema());
    let store_url = format!("{url}{}schema={schema}", if url.contains('?') { '&' } else { '?' });
    let outcome = std::panic::catch_unwind(|| common::crash_and_verify(&store_url, "postgres::crash_child"));
    tokio::runtime::Runtime::new().expect("runtime").block_on(drop_schema(&url, &schema));
    if let Err(panic) = outcome {
        std::panic::resume_unwind(panic);
    }
}

#[tokio::test]
async fn nul_character_is_refused_with_a_clear_error() {
    with_store(|store| async move {
        let s = store.create_session("app", "u", None, Default::default()).await.expect("create");
        let e = vana_core::Event::new("inv", "agent").with_content(vana_core::Content::model_text("a\u{0}b"));
        let err = store.append_event("app", "u", &s.id, 0, &e).await.expect_err("JSONB cannot hold NUL");
        assert!(err.to_string().contains("\\u0000"), "{err}");
        let got = store.get_session("app", "u", &s.id, vana_core::EventWindow::All).await.expect("get");
        assert_eq!(got.expect("session").version, 0, "a refused append must change nothing");
    })
    .await;
}
