//! Store benchmark: append and `get_session(Last(50))` latency at growing session sizes, and
//! resident memory per idle stored session. Run with `cargo bench -p vana-store`.
//!
//! SQLite always (a file in a temp dir); PostgreSQL too when `VANA_BENCH_POSTGRES_URL` is set
//! (it works in a scratch schema that it drops afterwards).

use serde_json::json;
use std::sync::Arc;
use std::time::{Duration, Instant};
use vana_core::{Content, Event, EventWindow, FunctionCall, JsonMap, Part, SessionStore, UsageMetadata};
use vana_store::{PostgresStore, SqliteStore};

/// Session sizes measured on SQLite.
const SIZES: [u64; 3] = [10, 1_000, 100_000];
/// Session sizes measured on PostgreSQL (filling 100,000 events one commit at a time takes minutes).
const PG_SIZES: [u64; 3] = [10, 1_000, 10_000];
const APPENDS: usize = 2_000;
const GETS: usize = 1_000;
const IDLE_SESSIONS: usize = 10_000;

/// A model turn of realistic size (~400 bytes of JSON) with no state delta.
fn model_turn(n: u64) -> Event {
    let mut e = Event::new(format!("inv-{}", n / 4), "data_science").with_content(Content {
        role: "model".into(),
        parts: vec![
            Part::text(format!("Step {n}: running the query over the orders table to compute revenue.")),
            Part::function_call(FunctionCall {
                id: Some(format!("call-{n}")),
                name: "run_sql".into(),
                args: json!({"query": "SELECT region, SUM(total) FROM orders GROUP BY region", "limit": 100}),
            }),
        ],
    });
    e.usage_metadata = Some(UsageMetadata::new(1200, 80));
    e.agent_path = "vana/data_science".into();
    e
}

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    sorted[((sorted.len() as f64 - 1.0) * p).round() as usize]
}

fn us(d: Duration) -> f64 {
    d.as_secs_f64() * 1e6
}

struct Row {
    size: u64,
    append_p50: Duration,
    append_p99: Duration,
    get_p50: Duration,
    get_p99: Duration,
}

async fn measure(store: &Arc<dyn SessionStore>, label: &str, sizes: &[u64]) {
    println!("\n== {label} ==");
    println!(
        "{:>8} | {:>10} {:>10} {:>7} | {:>12} {:>12} {:>7} | fill",
        "events", "append p50", "append p99", "x p50", "get50 p50", "get50 p99", "x p50"
    );
    let mut rows: Vec<Row> = Vec::new();
    for &size in sizes {
        let s = store.create_session("bench", "u", None, JsonMap::new()).await.expect("create");
        let fill_start = Instant::now();
        let mut version = 0;
        while version < size {
            version =
                store.append_event("bench", "u", &s.id, version, &model_turn(version)).await.expect("fill");
        }
        let fill = fill_start.elapsed();
        let mut appends = Vec::with_capacity(APPENDS);
        for _ in 0..APPENDS {
            let e = model_turn(version);
            let t = Instant::now();
            version = store.append_event("bench", "u", &s.id, version, &e).await.expect("append");
            appends.push(t.elapsed());
        }
        let mut gets = Vec::with_capacity(GETS);
        for _ in 0..GETS {
            let t = Instant::now();
            let got = store.get_session("bench", "u", &s.id, EventWindow::Last(50)).await.expect("get");
            gets.push(t.elapsed());
            assert_eq!(got.expect("session").events.len(), 50);
        }
        appends.sort();
        gets.sort();
        let row = Row {
            size,
            append_p50: percentile(&appends, 0.5),
            append_p99: percentile(&appends, 0.99),
            get_p50: percentile(&gets, 0.5),
            get_p99: percentile(&gets, 0.99),
        };
        let first = rows.first().unwrap_or(&row);
        println!(
            "{:>8} | {:>8.1}us {:>8.1}us {:>6.2}x | {:>10.1}us {:>10.1}us {:>6.2}x | {} events in {:.2}s ({:.1}us/event)",
            row.size,
            us(row.append_p50),
            us(row.append_p99),
            us(row.append_p50) / us(first.append_p50),
            us(row.get_p50),
            us(row.get_p99),
            us(row.get_p50) / us(first.get_p50),
            size,
            fill.as_secs_f64(),
            fill.as_secs_f64() * 1e6 / size as f64,
        );
        rows.push(row);
    }
}

fn vm_rss_kb() -> u64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .unwrap_or(0)
}

async fn idle_sessions(store: &Arc<dyn SessionStore>) {
    let before = vm_rss_kb();
    for i in 0..IDLE_SESSIONS {
        let mut state = JsonMap::new();
        state.insert("user:name".into(), json!(format!("user {i}")));
        let s = store.create_session("idle", &format!("u{}", i % 100), None, state).await.expect("create");
        store.append_event("idle", &s.user_id, &s.id, 0, &model_turn(0)).await.expect("append");
    }
    let after = vm_rss_kb();
    let per = (after.saturating_sub(before) * 1024) as f64 / IDLE_SESSIONS as f64;
    println!(
        "RSS: {before} kB before, {after} kB after creating {IDLE_SESSIONS} sessions (1 event each): \
         {per:.0} bytes per idle session (target < 1024)"
    );
}

fn main() {
    // `cargo bench` passes --bench; `cargo test --all-targets` does not, and a debug build
    // of this benchmark would only slow the test run down.
    if !std::env::args().any(|a| a == "--bench") {
        println!("store benchmark: skipped (run it with `cargo bench -p vana-store --bench store`)");
        return;
    }
    let rt = tokio::runtime::Builder::new_multi_thread().enable_all().build().expect("runtime");
    rt.block_on(async {
        let dir = std::env::temp_dir().join(format!("vana-store-bench-{}", vana_core::event::new_id()));
        // Memory first, on a fresh store, so that growth of SQLite's page cache is counted.
        let idle: Arc<dyn SessionStore> =
            Arc::new(SqliteStore::open(dir.join("idle.db")).expect("open sqlite"));
        idle_sessions(&idle).await;
        drop(idle);

        let path = dir.join("bench.db");
        let store: Arc<dyn SessionStore> = Arc::new(SqliteStore::open(&path).expect("open sqlite"));
        measure(&store, &format!("SQLite (WAL, synchronous=NORMAL) at {}", path.display()), &SIZES).await;
        drop(store);
        let size = std::fs::metadata(&path).map(|m| m.len()).unwrap_or(0);
        println!("database file: {:.1} MB", size as f64 / 1e6);
        let _ = std::fs::remove_dir_all(&dir);

        if let Ok(url) = std::env::var("VANA_BENCH_POSTGRES_URL") {
            let schema = format!("vana_bench_{}", vana_core::event::new_id().replace('-', ""));
            let store: Arc<dyn SessionStore> =
                Arc::new(PostgresStore::connect(&url, Some(&schema)).await.expect("connect postgres"));
            measure(&store, &format!("PostgreSQL at {url} (schema {schema})"), &PG_SIZES).await;
            drop(store);
            let (client, conn) = tokio_postgres::connect(&url, tokio_postgres::NoTls).await.expect("connect");
            tokio::spawn(conn);
            client.batch_execute(&format!("DROP SCHEMA {schema} CASCADE")).await.expect("drop bench schema");
        }
    });
}
