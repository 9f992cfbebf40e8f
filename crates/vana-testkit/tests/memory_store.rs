//! The in-memory store passes the conformance suite the SQLite and PostgreSQL stores pass, so
//! the runtime's tests over it see what they would see over a real store.

use std::sync::Arc;
use vana_testkit::{conformance, MemoryStore};

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn memory_store_passes_the_store_conformance_suite() {
    conformance::run_all(Arc::new(MemoryStore::new())).await;
}
