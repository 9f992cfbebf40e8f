//! `sync_data_between_systems` against the real PostgreSQL on 127.0.0.1:5432 (started by
//! scripts/services.sh) and SQLite files: CSV → PostgreSQL, PostgreSQL → SQLite, a paginated
//! local HTTP API → SQLite; dry runs change nothing, second runs report 0 changes, a run that
//! fails mid-way keeps its committed batches and a re-run ends with the same table as an
//! uninterrupted run.

mod common;

use axum::extract::{Query, State};
use axum::routing::get;
use axum::Router;
use common::*;
use serde_json::{json, Value};
use std::collections::{BTreeMap, HashMap};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use vana_core::ToolError;
use vana_tools_integration::sync::SyncConnection;
use vana_tools_integration::{GithubConfig, IntegrationConfig, IntegrationSuite};

const PG: &str = "postgres://postgres@127.0.0.1:5432/test";

async fn pg() -> tokio_postgres::Client {
    let (c, conn) = tokio_postgres::connect(PG, tokio_postgres::NoTls)
        .await
        .expect("PostgreSQL is not running on 127.0.0.1:5432: run scripts/services.sh");
    tokio::spawn(conn);
    c
}

fn unique(prefix: &str) -> String {
    let n = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_nanos();
    format!("{prefix}_{}_{}", std::process::id(), n % 1_000_000_000)
}

/// The suite with connections `pg` (writable), `pg_ro` (read-only) and `lite` (a SQLite file).
fn sync_fixture(sqlite: &std::path::Path) -> Fixture {
    let config =
        IntegrationConfig { allowed_hosts: Some(vec!["127.0.0.1".into()]), ..IntegrationConfig::default() };
    let mut f = fixture_with(config.clone(), GithubConfig::default(), vana_net::OutboundPolicy::strict());
    let mut conns = BTreeMap::new();
    conns.insert("pg".to_string(), SyncConnection { url: PG.into(), url_env: String::new(), writable: true });
    conns.insert(
        "pg_ro".to_string(),
        SyncConnection { url: PG.into(), url_env: String::new(), writable: false },
    );
    conns.insert(
        "lite".to_string(),
        SyncConnection {
            url: format!("sqlite://{}", sqlite.display()),
            url_env: String::new(),
            writable: true,
        },
    );
    f.suite = IntegrationSuite::new(
        config,
        GithubConfig::default(),
        vana_net::OutboundPolicy::strict(),
        vana_toolkit::SessionFiles::new(f.workspaces.clone()),
    )
    .with_connections(conns);
    f
}

fn customers_csv(n: usize, renamed: Option<usize>, bad_balance_at: Option<usize>) -> String {
    let mut s = String::from("id,name,balance,active\n");
    for i in 1..=n {
        let name = if Some(i) == renamed { format!("Renamed {i}") } else { format!("Customer {i}") };
        let balance = if Some(i) == bad_balance_at { "-1.00".to_string() } else { format!("{}.50", i * 10) };
        s.push_str(&format!("{i},{name},{balance},{}\n", i % 2 == 0));
    }
    s
}

async fn table_rows(c: &tokio_postgres::Client, table: &str) -> Vec<String> {
    c.query(&format!("SELECT row_to_json(t)::text FROM {table} t ORDER BY id"), &[])
        .await
        .unwrap()
        .iter()
        .map(|r| r.get::<_, String>(0))
        .collect()
}

#[tokio::test]
async fn csv_into_postgresql_dry_run_upsert_rerun_and_mirror() {
    let db = pg().await;
    let t = unique("sync_customers");
    db.batch_execute(&format!(
        "CREATE TABLE {t} (id int PRIMARY KEY, name text NOT NULL, balance numeric(10,2), active boolean)"
    ))
    .await
    .unwrap();
    let dir = vana_testkit::tempdir();
    let f = sync_fixture(&dir.path().join("x.db"));
    assert!(f.confirms("sync_data_between_systems"), "a sync asks for approval");
    f.put("customers.csv", customers_csv(12, None, None).as_bytes());
    let args = |extra: Value| {
        let mut a = json!({"source": {"file": "customers.csv"}, "target_connection": "pg", "table": t, "key": ["id"], "batch_size": 5});
        a.as_object_mut().unwrap().extend(extra.as_object().unwrap().clone());
        a
    };

    // Dry run (the default): the plan, with samples, and nothing written.
    let plan = f.ok("sync_data_between_systems", args(json!({}))).await;
    assert_eq!(plan["dry_run"], true);
    assert_eq!(
        (plan["inserts"].as_u64(), plan["updates"].as_u64(), plan["deletes"].as_u64()),
        (Some(12), Some(0), Some(0))
    );
    assert_eq!(plan["samples"]["inserts"][0]["name"], "Customer 1");
    assert_eq!(plan["samples"]["inserts"][0]["balance"], 10.5, "{}", plan["samples"]);
    assert!(table_rows(&db, &t).await.is_empty(), "a dry run writes nothing");
    // The preview tool gives the same plan without an approval, and never applies.
    assert!(!f.confirms("preview_data_sync"));
    let preview = f.ok("preview_data_sync", args(json!({}))).await;
    assert_eq!((preview["inserts"].as_u64(), preview["dry_run"].as_bool()), (Some(12), Some(true)));
    let err = f.call("preview_data_sync", args(json!({"dry_run": false}))).await.unwrap_err();
    assert!(matches!(err, ToolError::InvalidArgs(_)), "{err:?}");
    assert!(table_rows(&db, &t).await.is_empty());

    let run = f.ok("sync_data_between_systems", args(json!({"dry_run": false}))).await;
    assert_eq!(run["applied"]["batches"], 3, "{run}");
    assert_eq!(run["applied"]["rows_written"], 12);
    let after_first = table_rows(&db, &t).await;
    assert_eq!(after_first.len(), 12);
    assert_eq!(after_first[0], r#"{"id":1,"name":"Customer 1","balance":10.50,"active":false}"#);

    // The same source again: nothing to do, nothing done (numeric 10.50 vs "10.50" compares equal).
    let again = f.ok("sync_data_between_systems", args(json!({"dry_run": false}))).await;
    assert_eq!((again["inserts"].as_u64(), again["updates"].as_u64()), (Some(0), Some(0)), "{again}");
    assert_eq!(again["applied"]["rows_written"], 0);
    assert_eq!(table_rows(&db, &t).await, after_first);

    // Mirror: customer 3 renamed, 12 gone (the source has 11), so one update and one delete.
    f.put("customers.csv", customers_csv(11, Some(3), None).as_bytes());
    let plan = f.ok("sync_data_between_systems", args(json!({"mode": "mirror"}))).await;
    assert_eq!(
        (plan["inserts"].as_u64(), plan["updates"].as_u64(), plan["deletes"].as_u64()),
        (Some(0), Some(1), Some(1)),
        "{plan}"
    );
    assert_eq!(plan["samples"]["updates"][0]["name"], "Renamed 3");
    assert_eq!(plan["samples"]["deletes"][0]["id"], 12);
    let run = f.ok("sync_data_between_systems", args(json!({"mode": "mirror", "dry_run": false}))).await;
    assert_eq!(run["applied"]["rows_deleted"], 1);
    let rows = table_rows(&db, &t).await;
    assert_eq!(rows.len(), 11);
    assert!(rows[2].contains("Renamed 3"));
    let again = f.ok("sync_data_between_systems", args(json!({"mode": "mirror"}))).await;
    assert_eq!(
        (again["inserts"].as_u64(), again["updates"].as_u64(), again["deletes"].as_u64()),
        (Some(0), Some(0), Some(0))
    );

    // A value the column cannot hold: a clear error naming the line, and nothing changed.
    f.put("customers.csv", b"id,name,balance,active\n1,Ann,12.00,true\n2,Bo,lots,false\n");
    let err = f.call("sync_data_between_systems", args(json!({"dry_run": false}))).await.unwrap_err();
    assert!(matches!(err, ToolError::InvalidArgs(_)), "{err:?}");
    assert!(err.to_string().contains("numeric") && err.to_string().contains("line 2"), "{err}");
    assert_eq!(table_rows(&db, &t).await, rows);
    db.batch_execute(&format!("DROP TABLE {t}")).await.unwrap();
}

#[tokio::test]
async fn a_run_that_fails_mid_way_keeps_its_committed_batches_and_a_rerun_ends_like_an_uninterrupted_run() {
    let db = pg().await;
    let (broken, clean) = (unique("sync_broken"), unique("sync_clean"));
    for t in [&broken, &clean] {
        db.batch_execute(&format!(
            "CREATE TABLE {t} (id int PRIMARY KEY, name text NOT NULL, balance numeric(10,2) CHECK (balance >= 0), active boolean)"
        ))
        .await
        .unwrap();
    }
    let dir = vana_testkit::tempdir();
    let f = sync_fixture(&dir.path().join("x.db"));
    // Row 8 breaks the CHECK: batch 2 (rows 6–10) fails, batch 1 stays committed.
    f.put("bad.csv", customers_csv(14, None, Some(8)).as_bytes());
    f.put("good.csv", customers_csv(14, None, None).as_bytes());
    let sync = |file: &str, table: &str| json!({"source": {"file": file}, "target_connection": "pg", "table": table, "key": ["id"], "batch_size": 5, "dry_run": false});
    let err = f.call("sync_data_between_systems", sync("bad.csv", &broken)).await.unwrap_err();
    let msg = err.to_string();
    assert!(
        msg.contains("batch 2 (source rows 6–10) failed")
            && msg.contains("1 batch(es) before it are committed (5 of 14"),
        "{msg}"
    );
    assert!(msg.contains("check constraint"), "{msg}");
    assert_eq!(table_rows(&db, &broken).await.len(), 5, "the failed batch left nothing behind");

    // Fixed and run again: the same table as an uninterrupted run.
    f.ok("sync_data_between_systems", sync("good.csv", &broken)).await;
    f.ok("sync_data_between_systems", sync("good.csv", &clean)).await;
    assert_eq!(table_rows(&db, &broken).await, table_rows(&db, &clean).await);
    assert_eq!(table_rows(&db, &clean).await.len(), 14);
    db.batch_execute(&format!("DROP TABLE {broken}; DROP TABLE {clean}")).await.unwrap();
}

#[tokio::test]
async fn postgresql_into_sqlite_and_refusals() {
    let db = pg().await;
    let t = unique("sync_source");
    db.batch_execute(&format!(
        "CREATE TABLE {t} (id int PRIMARY KEY, city text, temp double precision); \
         INSERT INTO {t} VALUES (1, 'Oslo', -3.5), (2, 'Lima', 19.25), (3, 'Pune', NULL)"
    ))
    .await
    .unwrap();
    let dir = vana_testkit::tempdir();
    let lite = dir.path().join("warehouse.db");
    rusqlite::Connection::open(&lite)
        .unwrap()
        .execute_batch("CREATE TABLE cities (id INTEGER PRIMARY KEY, city TEXT, temp REAL)")
        .unwrap();
    let f = sync_fixture(&lite);
    let args = json!({"source": {"connection": "pg", "query": format!("SELECT id, city, temp FROM {t} ORDER BY id")},
                      "target_connection": "lite", "table": "cities", "key": ["id"], "dry_run": false});
    let run = f.ok("sync_data_between_systems", args.clone()).await;
    assert_eq!(run["inserts"], 3, "{run}");
    let got: Vec<(i64, Option<String>, Option<f64>)> = rusqlite::Connection::open(&lite)
        .unwrap()
        .prepare("SELECT id, city, temp FROM cities ORDER BY id")
        .unwrap()
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))
        .unwrap()
        .map(Result::unwrap)
        .collect();
    assert_eq!(
        got,
        vec![
            (1, Some("Oslo".into()), Some(-3.5)),
            (2, Some("Lima".into()), Some(19.25)),
            (3, Some("Pune".into()), None)
        ]
    );
    let again = f.ok("sync_data_between_systems", args).await;
    assert_eq!((again["inserts"].as_u64(), again["updates"].as_u64()), (Some(0), Some(0)), "{again}");

    // Refusals, and nothing changed by them.
    let base = |extra: Value| {
        let mut a = json!({"source": {"connection": "pg", "query": format!("SELECT id, city FROM {t}")}, "target_connection": "lite", "table": "cities", "key": ["id"], "dry_run": false});
        a.as_object_mut().unwrap().extend(extra.as_object().unwrap().clone());
        a
    };
    let cases = [
        (base(json!({"target_connection": "pg_ro", "table": t})), "not writable"),
        (base(json!({"table": "cities; DROP TABLE cities"})), "plain SQL name"),
        (base(json!({"target_connection": "nope"})), "unknown connection"),
        (base(json!({"key": []})), "need the key"),
        (base(json!({"mode": "replace"})), "not append"),
        (
            base(json!({"source": {"connection": "pg", "query": format!("SELECT 1 AS id; DROP TABLE {t}")}})),
            "PostgreSQL",
        ),
        (
            base(json!({"source": {"connection": "pg", "query": format!("DELETE FROM {t} RETURNING id")}})),
            "PostgreSQL",
        ),
        (base(json!({"source": {"connection": "lite", "query": "DELETE FROM cities"}})), "only read"),
        (base(json!({"columns": ["id", "missing"]})), "not in the source"),
    ];
    for (args, want) in cases {
        let err = f.call("sync_data_between_systems", args.clone()).await.unwrap_err();
        assert!(err.to_string().contains(want), "{args}: {err}");
        assert!(!matches!(err, ToolError::Timeout(_)));
    }
    assert_eq!(table_rows(&db, &t).await.len(), 3, "the source table is intact");
    db.batch_execute(&format!("DROP TABLE {t}")).await.unwrap();
}

#[derive(Default)]
struct Pages {
    hits: AtomicUsize,
}

async fn page(State(p): State<Arc<Pages>>, Query(q): Query<HashMap<String, String>>) -> axum::Json<Value> {
    p.hits.fetch_add(1, Ordering::SeqCst);
    let n: usize = q.get("page").and_then(|v| v.parse().ok()).unwrap_or(1);
    let data: Vec<Value> = ((n - 1) * 4 + 1..=(n * 4).min(10))
        .map(|i| json!({"sku": format!("S-{i}"), "stock": i * 3, "meta": {"bin": i}}))
        .collect();
    let next = if n < 3 { json!(format!("/stock?page={}", n + 1)) } else { Value::Null };
    axum::Json(json!({"data": data, "links": {"next": next}}))
}

#[tokio::test]
async fn a_paginated_json_api_into_sqlite_twice_changes_nothing_the_second_time() {
    let pages = Arc::new(Pages::default());
    let app = Router::new().route("/stock", get(page)).with_state(pages.clone());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    let dir = vana_testkit::tempdir();
    let lite = dir.path().join("stock.db");
    rusqlite::Connection::open(&lite)
        .unwrap()
        .execute_batch("CREATE TABLE stock (sku TEXT PRIMARY KEY, stock INTEGER, meta TEXT)")
        .unwrap();
    let f = sync_fixture(&lite);
    let args = json!({"source": {"url": format!("http://{addr}/stock?page=1"), "items": "$.data", "next": "$.links.next"},
                      "target_connection": "lite", "table": "stock", "key": ["sku"], "dry_run": false});
    let run = f.ok("sync_data_between_systems", args.clone()).await;
    assert_eq!(run["source_rows"], 10, "{run}");
    assert_eq!(run["inserts"], 10);
    assert_eq!(pages.hits.load(Ordering::SeqCst), 3, "three pages");
    let again = f.ok("sync_data_between_systems", args).await;
    assert_eq!((again["inserts"].as_u64(), again["updates"].as_u64()), (Some(0), Some(0)), "{again}");
    let (n, meta): (i64, String) = rusqlite::Connection::open(&lite)
        .unwrap()
        .query_row("SELECT count(*), (SELECT meta FROM stock WHERE sku = 'S-7') FROM stock", [], |r| {
            Ok((r.get(0)?, r.get(1)?))
        })
        .unwrap();
    assert_eq!((n, meta.as_str()), (10, r#"{"bin":7}"#));

    // The API host must pass the integration policy.
    let strict = fixture_with(
        IntegrationConfig::default(),
        GithubConfig::default(),
        vana_net::OutboundPolicy::strict(),
    );
    let mut conns = BTreeMap::new();
    conns.insert(
        "lite".to_string(),
        SyncConnection { url: lite.display().to_string(), url_env: String::new(), writable: true },
    );
    let s = IntegrationSuite::new(
        IntegrationConfig::default(),
        GithubConfig::default(),
        vana_net::OutboundPolicy::strict(),
        vana_toolkit::SessionFiles::new(strict.workspaces.clone()),
    )
    .with_connections(conns);
    use vana_toolkit::ToolSuite;
    let tool = s.tools().into_iter().find(|t| t.name() == "sync_data_between_systems").unwrap();
    let before = pages.hits.load(Ordering::SeqCst);
    let err = tool
        .call(
            json!({"source": {"url": format!("http://{addr}/stock")}, "target_connection": "lite", "table": "stock", "key": ["sku"]}),
            vana_core::ToolContext::standalone("vana", "u", "s"),
        )
        .await
        .unwrap_err();
    assert!(matches!(err, ToolError::Blocked(_)), "{err:?}");
    assert_eq!(pages.hits.load(Ordering::SeqCst), before, "a refused host gets no request");
}

const MARIADB: &str = "mysql://root@127.0.0.1:3306/test";

fn mariadb(sql: &str) -> String {
    let out = std::process::Command::new("mariadb")
        .args(["-h", "127.0.0.1", "-P", "3306", "-u", "root", "test", "-N", "-B", "-e", sql])
        .output()
        .expect("the mariadb client is missing (apt-get install -y mariadb-client)");
    assert!(
        out.status.success(),
        "MariaDB on 127.0.0.1:3306 ({sql}): {} (is MariaDB running? scripts/services.sh)",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).trim().to_string()
}

#[tokio::test]
async fn postgresql_into_mariadb_and_csv_mirrored_into_mariadb() {
    let db = pg().await;
    let src = unique("sync_pg_src");
    db.batch_execute(&format!(
        "CREATE TABLE {src} (id int PRIMARY KEY, sku text, qty int, price numeric(8,2), updated date); \
         INSERT INTO {src} SELECT g, 'S-' || g, g * 2, g + 0.25, date '2026-01-01' + g FROM generate_series(1, 23) g"
    ))
    .await
    .unwrap();
    let target = unique("sync_maria");
    mariadb(&format!(
        "CREATE TABLE {target} (id INT PRIMARY KEY, sku VARCHAR(20) NOT NULL, qty INT, price DECIMAL(8,2), updated DATE)"
    ));
    let dir = vana_testkit::tempdir();
    let config = IntegrationConfig::default();
    let mut conns = BTreeMap::new();
    conns
        .insert("pg".to_string(), SyncConnection { url: PG.into(), url_env: String::new(), writable: false });
    conns.insert(
        "maria".to_string(),
        SyncConnection { url: MARIADB.into(), url_env: String::new(), writable: true },
    );
    let mut f = fixture_with(config.clone(), GithubConfig::default(), vana_net::OutboundPolicy::strict());
    f.suite = IntegrationSuite::new(
        config,
        GithubConfig::default(),
        vana_net::OutboundPolicy::strict(),
        vana_toolkit::SessionFiles::new(f.workspaces.clone()),
    )
    .with_connections(conns);
    let args = json!({"source": {"connection": "pg", "query": format!("SELECT id, sku, qty, price, updated FROM {src}")},
                      "target_connection": "maria", "table": target, "key": ["id"], "batch_size": 10, "dry_run": false});
    let run = f.ok("sync_data_between_systems", args.clone()).await;
    assert_eq!(run["inserts"], 23, "{run}");
    assert_eq!(run["applied"]["batches"], 3);
    assert_eq!(
        mariadb(&format!("SELECT count(*), sum(qty), sum(price), max(updated) FROM {target}")),
        "23\t552\t281.75\t2026-01-24"
    );
    let again = f.ok("sync_data_between_systems", args).await;
    assert_eq!((again["inserts"].as_u64(), again["updates"].as_u64()), (Some(0), Some(0)), "{again}");
    assert_eq!(again["applied"]["rows_written"], 0);

    // A CSV mirrored into the same table: two rows changed, the rest gone.
    f.put("two.csv", b"id,sku,qty,price,updated\n1,S-1,99,1.25,2026-01-02\n2,S-2b,4,2.25,2026-01-03\n");
    let plan = f
        .ok("preview_data_sync", json!({"source": {"file": "two.csv"}, "target_connection": "maria", "table": target, "key": ["id"], "mode": "mirror"}))
        .await;
    assert_eq!(
        (plan["inserts"].as_u64(), plan["updates"].as_u64(), plan["deletes"].as_u64()),
        (Some(0), Some(2), Some(21)),
        "{plan}"
    );
    assert_eq!(plan["samples"]["updates"][0]["qty"], 99);
    f.ok(
        "sync_data_between_systems",
        json!({"source": {"file": "two.csv"}, "target_connection": "maria", "table": target, "key": ["id"], "mode": "mirror", "dry_run": false}),
    )
    .await;
    assert_eq!(mariadb(&format!("SELECT id, sku, qty FROM {target} ORDER BY id")), "1\tS-1\t99\n2\tS-2b\t4");
    // A source PostgreSQL connection that is not writable is still a source; MariaDB refuses a bad value clearly.
    f.put("bad.csv", b"id,sku,qty,price,updated\n3,S-3,many,1.00,2026-01-04\n");
    let err = f
        .call("sync_data_between_systems", json!({"source": {"file": "bad.csv"}, "target_connection": "maria", "table": target, "key": ["id"], "dry_run": false}))
        .await
        .unwrap_err();
    assert!(err.to_string().contains("does not fit") && err.to_string().contains("qty"), "{err}");
    assert_eq!(mariadb(&format!("SELECT count(*) FROM {target}")), "2");

    // MariaDB as a source (read-only, one statement): into a SQLite file.
    let lite = dir.path().join("copy.db");
    rusqlite::Connection::open(&lite)
        .unwrap()
        .execute_batch("CREATE TABLE items (id INTEGER PRIMARY KEY, sku TEXT, price REAL, updated TEXT)")
        .unwrap();
    let mut conns = BTreeMap::new();
    conns.insert(
        "maria".to_string(),
        SyncConnection { url: MARIADB.into(), url_env: String::new(), writable: false },
    );
    conns.insert(
        "lite".to_string(),
        SyncConnection { url: lite.display().to_string(), url_env: String::new(), writable: true },
    );
    f.suite = IntegrationSuite::new(
        IntegrationConfig::default(),
        GithubConfig::default(),
        vana_net::OutboundPolicy::strict(),
        vana_toolkit::SessionFiles::new(f.workspaces.clone()),
    )
    .with_connections(conns);
    let q = format!("SELECT id, sku, price, updated FROM {target}");
    let run = f
        .ok("sync_data_between_systems", json!({"source": {"connection": "maria", "query": q}, "target_connection": "lite", "table": "items", "key": ["id"], "dry_run": false}))
        .await;
    assert_eq!(run["inserts"], 2, "{run}");
    let got: (f64, String) = rusqlite::Connection::open(&lite)
        .unwrap()
        .query_row("SELECT price, updated FROM items WHERE id = 2", [], |r| Ok((r.get(0)?, r.get(1)?)))
        .unwrap();
    assert_eq!(got, (2.25, "2026-01-03".to_string()));
    let err = f
        .call("sync_data_between_systems", json!({"source": {"connection": "maria", "query": format!("DELETE FROM {target}")}, "target_connection": "lite", "table": "items", "key": ["id"]}))
        .await
        .unwrap_err();
    assert!(err.to_string().contains("MariaDB"), "{err}");
    assert_eq!(
        mariadb(&format!("SELECT count(*) FROM {target}")),
        "2",
        "the read-only transaction kept the rows"
    );
    mariadb(&format!("DROP TABLE {target}"));
    db.batch_execute(&format!("DROP TABLE {src}")).await.unwrap();
}
