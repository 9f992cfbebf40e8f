//! Runs the records conformance suite (audit log, API keys, artifacts) against SQLite
//! (file and memory) and PostgreSQL (a fresh schema, dropped afterwards; needs the server at
//! `VANA_TEST_POSTGRES_URL` or `postgres://postgres@127.0.0.1:5432/test`).

use vana_store::{conformance_records, open_all};

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn sqlite_file_and_memory() {
    let dir = vana_testkit::tempdir();
    let url = format!("sqlite://{}", dir.path().join("records.db").display());
    conformance_records::run_all(&open_all(&url).await.expect("open sqlite")).await;
    conformance_records::run_all(&open_all("sqlite::memory:").await.expect("open memory")).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn postgres_fresh_schema() {
    let base = std::env::var("VANA_TEST_POSTGRES_URL")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/test".to_string());
    let schema = format!("vana_test_{}", vana_core::event::new_id().replace('-', ""));
    let stores = open_all(&format!("{base}?schema={schema}"))
        .await
        .unwrap_or_else(|e| panic!("PostgreSQL at {base} is needed for this test: {e}"));
    let result =
        futures::FutureExt::catch_unwind(std::panic::AssertUnwindSafe(conformance_records::run_all(&stores)))
            .await;
    drop(stores);
    let (client, conn) =
        tokio_postgres::connect(&base, tokio_postgres::NoTls).await.expect("connect to drop schema");
    let task = tokio::spawn(conn);
    client.batch_execute(&format!("DROP SCHEMA IF EXISTS {schema} CASCADE")).await.expect("drop test schema");
    drop(client);
    let _ = task.await;
    if let Err(p) = result {
        std::panic::resume_unwind(p);
    }
}
