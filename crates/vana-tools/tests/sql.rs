//! The SQL tools against a real SQLite file and the real PostgreSQL on 127.0.0.1:5432:
//! read-only sessions refuse writes in the database itself; writes need a writable connection
//! and a human's approval through the runtime.

mod data_common;

use data_common::*;
use serde_json::{json, Value};
use std::sync::Arc;
use vana_core::{Content, LlmAgent, Outcome, Runner};
use vana_models::{ScriptedModel, ScriptedTurn};
use vana_tools::sql::{SqlConfig, SqlConnection};

const PG: &str = "postgres://postgres@127.0.0.1:5432/test";

fn conn(url: &str, writable: bool) -> SqlConnection {
    SqlConnection { url: url.into(), url_env: String::new(), writable }
}

fn sqlite_fixture(path: &std::path::Path) {
    let c = rusqlite::Connection::open(path).unwrap();
    c.execute_batch(
        "CREATE TABLE orders (id INTEGER PRIMARY KEY, customer TEXT NOT NULL, amount REAL, placed DATE);
         CREATE INDEX orders_customer ON orders(customer);
         CREATE VIEW big_orders AS SELECT * FROM orders WHERE amount > 100;",
    )
    .unwrap();
    let tx = c.unchecked_transaction().unwrap();
    for i in 0..250 {
        tx.execute(
            "INSERT INTO orders (customer, amount, placed) VALUES (?1, ?2, ?3)",
            rusqlite::params![format!("c{}", i % 10), (i as f64) * 1.5, format!("2025-01-{:02}", 1 + i % 28)],
        )
        .unwrap();
    }
    tx.commit().unwrap();
}

fn count_sqlite(path: &std::path::Path) -> i64 {
    rusqlite::Connection::open(path)
        .unwrap()
        .query_row("SELECT count(*) FROM orders", [], |r| r.get(0))
        .unwrap()
}

async fn approve_write(
    env: &Env,
    call_args: Value,
    approve: bool,
) -> (Outcome, Vec<vana_core::Event>, Vec<vana_core::Event>) {
    let model = Arc::new(ScriptedModel::named(
        "db",
        vec![
            ScriptedTurn::default().with_call_id("call_w", "execute_sql_write", call_args),
            ScriptedTurn::text("The write is done."),
        ],
    ));
    let agent =
        LlmAgent::builder("database", model).tool(env.tools.get("execute_sql_write").unwrap()).build();
    let store: Arc<dyn vana_core::SessionStore> =
        Arc::new(vana_store::SqliteStore::open_in_memory().unwrap());
    let runner = Runner::new(agent, store);
    let session = runner.create_session("u1").await.unwrap().id;
    let inv = runner.run("u1", &session, Content::user_text("apply the change"), false).await.unwrap();
    let (paused, outcome) = inv.collect().await;
    assert_eq!(outcome, Outcome::Paused, "a write waits for approval");
    assert!(paused.last().unwrap().actions.requested_tool_confirmations.contains_key("call_w"));
    let (after, outcome) =
        runner.approve("u1", &session, "call_w", approve).await.unwrap().expect("resumed").collect().await;
    (outcome, paused, after)
}

fn response_of(events: &[vana_core::Event], name: &str) -> Value {
    events
        .iter()
        .flat_map(|e| e.function_responses())
        .find(|r| r.name == name)
        .map(|r| r.response.clone())
        .unwrap_or(Value::Null)
}

#[tokio::test]
async fn sqlite_reads_describe_and_refuses_writes_in_the_database() {
    let dir = std::env::temp_dir().join(unique("vana-sql"));
    std::fs::create_dir_all(&dir).unwrap();
    let db = dir.join("shop.db");
    sqlite_fixture(&db);
    let url = format!("sqlite://{}", db.display());
    let mut cfg = SqlConfig::default();
    cfg.connections.insert("shop".into(), conn(&url, false));
    cfg.connections.insert("shop_rw".into(), conn(&url, true));
    cfg.max_rows = 100;
    let env = Env::new(cfg);

    let t = env.call("list_tables", "s", json!({"connection": "shop"})).await.unwrap().response;
    assert_eq!(t["rows"], json!([["big_orders", "view"], ["orders", "table"]]));
    let d = env
        .call("describe_table", "s", json!({"connection": "shop", "table": "orders"}))
        .await
        .unwrap()
        .response;
    assert_eq!(d["rowCount"], 250);
    assert_eq!(
        d["columns"][0],
        json!({"name": "id", "type": "INTEGER", "nullable": true, "default": null, "primaryKey": true})
    );
    assert_eq!(d["columns"][1]["nullable"], false);
    assert_eq!(d["indexes"][0]["name"], "orders_customer");

    let q = env
        .call("execute_sql_query", "s", json!({"connection": "shop", "sql": "SELECT customer, sum(amount) AS total, count(*) AS n FROM orders WHERE amount >= ?1 GROUP BY customer ORDER BY customer", "params": [0]}))
        .await
        .unwrap()
        .response;
    assert_eq!(q["columns"][0], json!({"name": "customer", "type": "TEXT"}));
    assert_eq!(q["columns"][1]["type"], "REAL");
    assert_eq!(q["rowCount"], 10);
    assert_eq!(q["truncated"], false);
    // c0 has i = 0, 10, ..., 240 -> amounts 1.5 * (0 + 10 + ... + 240) = 1.5 * 3000.
    assert_eq!(q["rows"][0], json!(["c0", 4500.0, 25]));
    // Row limit: 100 of 250, flagged.
    let all = env
        .call("execute_sql_query", "s", json!({"connection": "shop", "sql": "SELECT * FROM orders"}))
        .await
        .unwrap()
        .response;
    assert_eq!((all["rowCount"].clone(), all["truncated"].clone()), (json!(100), json!(true)));
    // The result table feeds analyze_dataset and visualize_data directly.
    let a = env.call("analyze_dataset", "s", json!({"source": q})).await.unwrap().response;
    assert_eq!(a["shape"]["rows"], 10);
    assert_eq!(a["columns"][2]["mean"], 25.0);
    let v = env
        .call("visualize_data", "s", json!({"source": q, "chart": "bar", "x": "customer", "y": "total"}))
        .await
        .unwrap();
    assert_eq!(v.response["marks"], 10);

    // A write through the read-only tool is refused by SQLite itself, on both connections.
    for c in ["shop", "shop_rw"] {
        let e = env
            .call("execute_sql_query", "s", json!({"connection": c, "sql": "DELETE FROM orders"}))
            .await
            .unwrap_err()
            .to_string();
        assert!(e.contains("readonly") || e.contains("read-only"), "{c}: {e}");
    }
    // Hiding the write in a CTE does not help: the session is read-only, not the text check.
    let e = env
        .call("execute_sql_query", "s", json!({"connection": "shop", "sql": "WITH x AS (SELECT 1) INSERT INTO orders (customer) SELECT 'evil' FROM x"}))
        .await
        .unwrap_err()
        .to_string();
    assert!(e.contains("readonly"), "{e}");
    assert_eq!(count_sqlite(&db), 250);
    // The write tool refuses a connection that is not writable in config.
    let e = env
        .call("execute_sql_write", "s", json!({"connection": "shop", "sql": "DELETE FROM orders"}))
        .await
        .unwrap_err()
        .to_string();
    assert!(e.contains("read-only") && e.contains("writable = true"), "{e}");
    assert_eq!(count_sqlite(&db), 250);
    // Bad SQL and unknown connections are clear errors.
    let e = env
        .call("execute_sql_query", "s", json!({"connection": "shop", "sql": "SELEC 1"}))
        .await
        .unwrap_err()
        .to_string();
    assert!(e.contains("syntax error"), "{e}");
    let e = env
        .call("execute_sql_query", "s", json!({"connection": "nope", "sql": "SELECT 1"}))
        .await
        .unwrap_err()
        .to_string();
    assert!(e.contains("shop") && e.contains("shop_rw"), "{e}");
    let _ = std::fs::remove_dir_all(&dir);
}

#[tokio::test]
async fn sqlite_time_limit_stops_a_runaway_query() {
    let dir = std::env::temp_dir().join(unique("vana-sql"));
    std::fs::create_dir_all(&dir).unwrap();
    let db = dir.join("t.db");
    sqlite_fixture(&db);
    let mut cfg = SqlConfig::default();
    cfg.connections.insert("t".into(), conn(db.to_str().unwrap(), false));
    cfg.timeout_secs = 1;
    let env = Env::new(cfg);
    let start = std::time::Instant::now();
    let e = env
        .call("execute_sql_query", "s", json!({"connection": "t", "sql": "WITH RECURSIVE n(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM n) SELECT count(*) FROM n"}))
        .await
        .unwrap_err()
        .to_string();
    assert!(e.contains("longer than 1s"), "{e}");
    assert!(start.elapsed().as_secs() < 10);
    let _ = std::fs::remove_dir_all(&dir);
}

#[tokio::test]
async fn sqlite_approved_write_runs_once_and_a_denied_one_never() {
    let dir = std::env::temp_dir().join(unique("vana-sql"));
    std::fs::create_dir_all(&dir).unwrap();
    let db = dir.join("w.db");
    sqlite_fixture(&db);
    let mut cfg = SqlConfig::default();
    cfg.connections.insert("w".into(), conn(db.to_str().unwrap(), true));
    let env = Env::new(cfg);
    let args = json!({"connection": "w", "sql": "DELETE FROM orders WHERE customer = ?1", "params": ["c3"]});
    let (outcome, _, after) = approve_write(&env, args.clone(), false).await;
    assert_eq!(outcome, Outcome::Done);
    assert_eq!(count_sqlite(&db), 250, "a denied write changes nothing");
    let (outcome, _, after2) = approve_write(&env, args, true).await;
    assert_eq!(outcome, Outcome::Done);
    let r = response_of(&after2, "execute_sql_write");
    assert_eq!(r["rowsAffected"], 25, "{r}");
    assert_eq!(r["committed"], true);
    assert_eq!(count_sqlite(&db), 225);
    assert!(
        response_of(&after, "execute_sql_write").to_string().contains("denied")
            || response_of(&after, "execute_sql_write").get("error").is_some()
    );
    // create_table also needs approval and a writable connection.
    assert!(env.tools.get("create_table").unwrap().requires_confirmation());
    let out = env
        .call("create_table", "s", json!({"connection": "w", "table": "invoices", "columns": [
            {"name": "id", "type": "INTEGER", "primary_key": true}, {"name": "total", "type": "NUMERIC(10,2)", "nullable": false}]}))
        .await
        .unwrap()
        .response;
    assert_eq!(
        out["sql"],
        "CREATE TABLE \"invoices\" (\"id\" INTEGER, \"total\" NUMERIC(10,2) NOT NULL, PRIMARY KEY (\"id\"))"
    );
    let e = env
        .call("create_table", "s", json!({"connection": "w", "table": "x", "columns": [{"name": "a", "type": "INT; DROP TABLE orders"}]}))
        .await
        .unwrap_err()
        .to_string();
    assert!(e.contains("not a plain SQL type"), "{e}");
    assert_eq!(count_sqlite(&db), 225);
    let _ = std::fs::remove_dir_all(&dir);
}

async fn pg_admin() -> tokio_postgres::Client {
    let (c, conn) = tokio_postgres::connect(PG, tokio_postgres::NoTls)
        .await
        .expect("PostgreSQL on 127.0.0.1:5432 (database test, user postgres)");
    tokio::spawn(conn);
    c
}

#[tokio::test]
async fn postgres_reads_describes_refuses_writes_and_applies_an_approved_one() {
    let schema = unique("vana_sql").replace('-', "_");
    let admin = pg_admin().await;
    admin
        .batch_execute(&format!(
            "CREATE SCHEMA {schema};
             CREATE TABLE {schema}.items (id serial PRIMARY KEY, name text NOT NULL, price numeric(10,2), qty int4, added date, meta jsonb, ok boolean);
             INSERT INTO {schema}.items (name, price, qty, added, meta, ok)
               SELECT 'item' || g, g * 1.25, g % 7, DATE '2025-01-01' + g, jsonb_build_object('g', g), g % 2 = 0 FROM generate_series(1, 40) g;"
        ))
        .await
        .unwrap();
    let rw_env = format!("VANA_TEST_PG_{}", schema.to_uppercase());
    std::env::set_var(&rw_env, PG);
    let mut cfg = SqlConfig::default();
    cfg.connections.insert("pg".into(), conn(PG, false));
    cfg.connections.insert(
        "pg_rw".into(),
        SqlConnection { url: String::new(), url_env: rw_env.clone(), writable: true },
    );
    cfg.max_rows = 25;
    let env = Env::new(cfg);
    let result = async {
        let ok =
            env.call("test_database_connection", "s", json!({"connection": "pg"})).await.unwrap().response;
        assert_eq!(ok["kind"], "postgresql");
        assert!(ok["serverVersion"].as_str().unwrap().starts_with("PostgreSQL"), "{ok}");
        assert_eq!(ok["writable"], false);
        let t = env
            .call("list_tables", "s", json!({"connection": "pg", "schema": schema}))
            .await
            .unwrap()
            .response;
        assert_eq!(t["rows"], json!([[schema, "items", "BASE TABLE"]]));
        let d = env
            .call("describe_table", "s", json!({"connection": "pg", "table": format!("{schema}.items")}))
            .await
            .unwrap()
            .response;
        assert_eq!(d["rowCount"], 40);
        assert_eq!(d["columns"][0]["primaryKey"], true);
        assert_eq!(
            d["columns"][1],
            json!({"name": "name", "type": "text", "nullable": false, "default": null, "primaryKey": false})
        );
        let q = env
            .call("execute_sql_query", "s", json!({"connection": "pg", "sql": format!("SELECT id, name, price, qty, added, meta, ok FROM {schema}.items WHERE qty >= $1 AND name <> $2 ORDER BY id"), "params": [3, "item4"]}))
            .await
            .unwrap()
            .response;
        let types: Vec<&str> =
            q["columns"].as_array().unwrap().iter().map(|c| c["type"].as_str().unwrap()).collect();
        assert_eq!(types, vec!["int4", "text", "numeric", "int4", "date", "jsonb", "bool"]);
        assert_eq!(q["rows"][0], json!([3, "item3", 3.75, 3, "2025-01-04", {"g": 3}, false]));
        // qty = g % 7 >= 3 for 4 of every 7 values of g in 1..=40, minus item4: 22 rows, under the 25 limit.
        assert_eq!((q["rowCount"].clone(), q["truncated"].clone()), (json!(22), json!(false)));
        let all = env
            .call(
                "execute_sql_query",
                "s",
                json!({"connection": "pg", "sql": format!("SELECT * FROM {schema}.items")}),
            )
            .await
            .unwrap()
            .response;
        assert_eq!((all["rowCount"].clone(), all["truncated"].clone()), (json!(25), json!(true)));
        let a = env.call("analyze_dataset", "s", json!({"source": q})).await.unwrap().response;
        assert_eq!(a["shape"]["rows"], 22);
        // Writes through the query tool are refused by PostgreSQL's read-only transaction.
        for c in ["pg", "pg_rw"] {
            let e = env
                .call(
                    "execute_sql_query",
                    "s",
                    json!({"connection": c, "sql": format!("DELETE FROM {schema}.items")}),
                )
                .await
                .unwrap_err()
                .to_string();
            assert!(e.contains("cannot execute DELETE in a read-only transaction"), "{e}");
        }
        // Even a function with side effects is stopped by the session, not a text check.
        let e = env
            .call("execute_sql_query", "s", json!({"connection": "pg", "sql": format!("SELECT * FROM (SELECT 1) x, LATERAL (SELECT nextval('{schema}.items_id_seq')) y")}))
            .await
            .unwrap_err()
            .to_string();
        assert!(e.contains("read-only transaction"), "{e}");
        let n: i64 =
            admin.query_one(&format!("SELECT count(*) FROM {schema}.items"), &[]).await.unwrap().get(0);
        assert_eq!(n, 40);
        // The approved write on the writable connection commits.
        let (outcome, _, after) = approve_write(
            &env,
            json!({"connection": "pg_rw", "sql": format!("UPDATE {schema}.items SET qty = $1 WHERE id <= $2"), "params": [100, 5]}),
            true,
        )
        .await;
        assert_eq!(outcome, Outcome::Done);
        assert_eq!(response_of(&after, "execute_sql_write")["rowsAffected"], 5);
        let n: i64 = admin
            .query_one(&format!("SELECT count(*) FROM {schema}.items WHERE qty = 100"), &[])
            .await
            .unwrap()
            .get(0);
        assert_eq!(n, 5);
    };
    // Clean up even when an assertion fails.
    let r = futures::FutureExt::catch_unwind(std::panic::AssertUnwindSafe(result)).await;
    admin.batch_execute(&format!("DROP SCHEMA {schema} CASCADE")).await.unwrap();
    std::env::remove_var(&rw_env);
    if let Err(p) = r {
        std::panic::resume_unwind(p);
    }
}

#[tokio::test]
async fn postgres_statement_timeout_and_bad_urls_are_clear_errors() {
    let mut cfg = SqlConfig::default();
    cfg.connections.insert("pg".into(), conn(PG, false));
    cfg.timeout_secs = 1;
    let env = Env::new(cfg);
    let start = std::time::Instant::now();
    let e = env
        .call("execute_sql_query", "s", json!({"connection": "pg", "sql": "SELECT pg_sleep(5)"}))
        .await
        .unwrap_err()
        .to_string();
    assert!(e.contains("statement timeout"), "{e}");
    assert!(start.elapsed().as_secs_f64() < 4.0);
    let e = env
        .call(
            "test_database_connection",
            "s",
            json!({"connection": "postgres://postgres@127.0.0.1:5432/no_such_db_vana"}),
        )
        .await
        .unwrap_err()
        .to_string();
    assert!(e.contains("no_such_db_vana") && e.contains("does not exist"), "{e}");
    let e = env
        .call("execute_sql_query", "s", json!({"connection": "/etc/passwd.db", "sql": "SELECT 1"}))
        .await
        .unwrap_err()
        .to_string();
    assert!(e.contains("inside the session workspace"), "{e}");
}
