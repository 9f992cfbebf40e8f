//! The SQL tools against a real SQLite file and the real PostgreSQL on 127.0.0.1:5432:
//! read-only calls run only what the statement check reads as reads, in sessions the database
//! itself keeps read-only, and (PostgreSQL) only as roles that cannot reach the server's files or
//! programs; writes need a writable connection and a human's approval through the runtime; no
//! call reaches files, programs or other sessions of the host or the server.

mod data_common;

use data_common::*;
use serde_json::{json, Value};
use std::sync::Arc;
use vana_core::{Content, LlmAgent, Outcome, Runner};
use vana_testkit::{ScriptedModel, ScriptedTurn};
use vana_tools_data::sql::{SqlConfig, SqlConnection};

const PG: &str = "postgres://postgres@127.0.0.1:5432/test";

fn conn(url: &str, writable: bool) -> SqlConnection {
    SqlConnection { url: url.into(), writable, ..Default::default() }
}

fn privileged(url: &str) -> SqlConnection {
    SqlConnection { url: url.into(), allow_privileged: true, ..Default::default() }
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
    let store: Arc<dyn vana_core::SessionStore> = Arc::new(vana_testkit::MemoryStore::new());
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

    // A write through the read-only tool is refused, on both connections (the statement check
    // first; the session is read-only in SQLite as well, see sqlite.rs' unit tests).
    for c in ["shop", "shop_rw"] {
        let e = env
            .call("execute_sql_query", "s", json!({"connection": c, "sql": "DELETE FROM orders"}))
            .await
            .unwrap_err()
            .to_string();
        assert!(e.contains("`DELETE` is not a read") && e.contains("execute_sql_write"), "{c}: {e}");
    }
    // Hiding the write in a CTE does not help.
    let e = env
        .call("execute_sql_query", "s", json!({"connection": "shop", "sql": "WITH x AS (SELECT 1) INSERT INTO orders (customer) SELECT 'evil' FROM x"}))
        .await
        .unwrap_err()
        .to_string();
    assert!(e.contains("INSERT (inside WITH)") && e.contains("not a read"), "{e}");
    // Read-only pragmas are reads; ones that set something are not.
    let p = env
        .call("execute_sql_query", "s", json!({"connection": "shop", "sql": "PRAGMA table_info(orders)"}))
        .await
        .unwrap()
        .response;
    assert_eq!(p["rows"][1][1], "customer", "{p}");
    let e = env
        .call("execute_sql_query", "s", json!({"connection": "shop", "sql": "PRAGMA query_only = OFF"}))
        .await
        .unwrap_err()
        .to_string();
    assert!(e.contains("`PRAGMA query_only = OFF` is refused"), "{e}");
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
    assert!(e.contains("could not be parsed") && e.contains("not run"), "{e}");
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

#[tokio::test]
async fn sqlite_attach_and_vacuum_into_are_refused_on_reads_and_approved_writes() {
    let dir = std::env::temp_dir().join(unique("vana-sql"));
    std::fs::create_dir_all(&dir).unwrap();
    let db = dir.join("shop.db");
    sqlite_fixture(&db);
    // Another database on the host that SQL must not reach.
    let other = dir.join("other.db");
    rusqlite::Connection::open(&other)
        .unwrap()
        .execute_batch("CREATE TABLE secret (s TEXT); INSERT INTO secret VALUES ('x');")
        .unwrap();
    let mut cfg = SqlConfig::default();
    cfg.connections.insert("shop".into(), conn(db.to_str().unwrap(), false));
    cfg.connections.insert("shop_rw".into(), conn(db.to_str().unwrap(), true));
    let env = Env::new(cfg);
    // A SQLite file in the session workspace, named ad hoc.
    sqlite_fixture(&env.workspace("s").join("ws.db"));
    let hostile = |copy: &std::path::Path| {
        vec![
            (format!("ATTACH '{}' AS x", other.display()), "`ATTACH` is refused"),
            (format!("ATTACH DATABASE '{}' AS x", other.display()), "`ATTACH` is refused"),
            (format!("VACUUM INTO '{}'", copy.display()), "`VACUUM INTO` is refused"),
            ("DETACH DATABASE main".to_string(), "`DETACH` is refused"),
        ]
    };
    for (tool, connection) in [
        ("execute_sql_query", "shop"),
        ("execute_sql_query", "ws.db"),
        ("execute_sql_query", "shop_rw"),
        ("execute_sql_write", "shop_rw"),
    ] {
        let copy = dir.join(format!("copy-{tool}-{connection}.db"));
        for (sql, named) in hostile(&copy) {
            let e = env
                .call(tool, "s", json!({"connection": connection, "sql": sql}))
                .await
                .unwrap_err()
                .to_string();
            assert!(e.contains(named), "{tool} on {connection}: `{sql}`: {e}");
        }
        assert!(!copy.exists(), "{} was created", copy.display());
    }
    // Approved through the runtime, as a human would: still refused, still no file.
    let copy = dir.join("approved-copy.db");
    let (outcome, _, after) = approve_write(
        &env,
        json!({"connection": "shop_rw", "sql": format!("VACUUM INTO '{}'", copy.display())}),
        true,
    )
    .await;
    assert_eq!(outcome, Outcome::Done);
    let r = response_of(&after, "execute_sql_write").to_string();
    assert!(r.contains("`VACUUM INTO` is refused"), "{r}");
    assert!(!copy.exists());
    let files: Vec<String> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    assert!(files.iter().all(|f| f.starts_with("shop.db") || f.starts_with("other.db")), "{files:?}");
    assert_eq!(count_sqlite(&db), 250);
    let _ = std::fs::remove_dir_all(&dir);
}

async fn pg_admin() -> tokio_postgres::Client {
    let (c, conn) = tokio_postgres::connect(PG, tokio_postgres::NoTls)
        .await
        .expect("PostgreSQL on 127.0.0.1:5432 (database test, user postgres)");
    tokio::spawn(conn);
    c
}

/// A test's own schema with a table, dropped by `Cleanup`.
async fn pg_schema(admin: &tokio_postgres::Client) -> String {
    let schema = unique("vana_sql").replace('-', "_");
    admin
        .batch_execute(&format!(
            "CREATE SCHEMA {schema};
             CREATE TABLE {schema}.items (id serial PRIMARY KEY, name text NOT NULL, price numeric(10,2), qty int4, added date, meta jsonb, ok boolean);
             INSERT INTO {schema}.items (name, price, qty, added, meta, ok)
               SELECT 'item' || g, g * 1.25, g % 7, DATE '2025-01-01' + g, jsonb_build_object('g', g), g % 2 = 0 FROM generate_series(1, 40) g;"
        ))
        .await
        .unwrap();
    schema
}

/// What a PostgreSQL test leaves behind, removed even when an assertion failed.
#[derive(Default)]
struct Cleanup<'a> {
    schema: &'a str,
    role: Option<&'a str>,
    large_object: Option<u32>,
    dir: Option<&'a std::path::Path>,
}

impl Cleanup<'_> {
    /// Runs `test`, then removes everything, then re-raises a failure.
    async fn after(self, admin: &tokio_postgres::Client, test: impl std::future::Future<Output = ()>) {
        let r = futures::FutureExt::catch_unwind(std::panic::AssertUnwindSafe(test)).await;
        // A test whose hostile SQL got through may have ended this session: use a fresh one.
        let fresh;
        let admin = if admin.is_closed() {
            fresh = pg_admin().await;
            &fresh
        } else {
            admin
        };
        admin.batch_execute(&format!("DROP SCHEMA IF EXISTS {} CASCADE", self.schema)).await.unwrap();
        if let Some(role) = self.role {
            let exists =
                admin.query_opt("SELECT 1 FROM pg_roles WHERE rolname = $1", &[&role]).await.unwrap();
            if exists.is_some() {
                admin.batch_execute(&format!("DROP OWNED BY {role}; DROP ROLE {role}")).await.unwrap();
            }
        }
        if let Some(oid) = self.large_object {
            admin.execute("SELECT lo_unlink($1)", &[&oid]).await.unwrap();
        }
        if let Some(dir) = self.dir {
            let _ = std::fs::remove_dir_all(dir);
        }
        if let Err(p) = r {
            std::panic::resume_unwind(p);
        }
    }
}

/// The superuser, with the search path set to the test's schema (so the suggested grants name it).
fn pg_in(schema: &str) -> String {
    format!("{PG}?options=-c%20search_path%3D{schema}")
}

/// A temp dir the database server (another OS user) may write to, so a planted file would appear.
fn server_writable_dir(prefix: &str) -> std::path::PathBuf {
    use std::os::unix::fs::PermissionsExt;
    let dir = std::env::temp_dir().join(unique(prefix));
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::set_permissions(&dir, std::fs::Permissions::from_mode(0o777)).unwrap();
    dir
}

#[tokio::test]
async fn postgres_read_only_role_from_the_refusal_reads_describes_and_an_approved_write_applies() {
    let admin = pg_admin().await;
    let schema = pg_schema(&admin).await;
    let role = format!("{schema}_ro");
    let role_url = format!("postgres://{role}@127.0.0.1:5432/test");
    let rw_env = format!("VANA_TEST_PG_{}", schema.to_uppercase());
    std::env::set_var(&rw_env, PG);
    let mut cfg = SqlConfig::default();
    cfg.connections.insert("pg_super".into(), conn(&pg_in(&schema), false));
    cfg.connections.insert("pg".into(), conn(&role_url, false));
    cfg.connections.insert("pg_priv".into(), privileged(PG));
    cfg.connections.insert("pg_as_role".into(), conn(&format!("{PG}?options=-c%20role%3D{role}"), false));
    cfg.connections.insert(
        "pg_rw".into(),
        SqlConnection { url_env: rw_env.clone(), writable: true, ..Default::default() },
    );
    cfg.max_rows = 25;
    let env = Env::new(cfg);
    let test = async {
        // The superuser is refused for every read-only tool, with the SQL of a read-only role.
        let mut refusal = String::new();
        for (tool, args) in [
            ("list_tables", json!({"connection": "pg_super"})),
            ("describe_table", json!({"connection": "pg_super", "table": "items"})),
            ("test_database_connection", json!({"connection": "pg_super"})),
            ("execute_sql_query", json!({"connection": "pg_super", "sql": "SELECT 1"})),
        ] {
            refusal = env.call(tool, "s", args).await.unwrap_err().to_string();
            for f in [
                "PostgreSQL role `postgres` is a superuser",
                "`allow_privileged = true` under [sql.connections.pg_super]",
                "CREATE ROLE vana_readonly LOGIN",
                "GRANT CONNECT ON DATABASE \"test\" TO vana_readonly;",
                &format!("GRANT USAGE ON SCHEMA \"{schema}\" TO vana_readonly;"),
                &format!("GRANT SELECT ON ALL TABLES IN SCHEMA \"{schema}\" TO vana_readonly;"),
                &format!("ALTER DEFAULT PRIVILEGES FOR ROLE \"postgres\" IN SCHEMA \"{schema}\" GRANT SELECT ON TABLES TO vana_readonly;"),
            ] {
                assert!(refusal.contains(f), "{tool}: `{refusal}` lacks `{f}`");
            }
        }
        // Run exactly the SQL the message gives, for a role of this test's own.
        let statements: Vec<&str> = refusal.lines().filter(|l| l.trim_end().ends_with(';')).collect();
        assert_eq!(statements.len(), 5, "{refusal}");
        for st in statements {
            admin.batch_execute(&st.replace("vana_readonly", &role)).await.unwrap();
        }

        // Logging in as the superuser and acting as the read-only role is still the superuser.
        let e =
            env.call("list_tables", "s", json!({"connection": "pg_as_role"})).await.unwrap_err().to_string();
        assert!(
            e.contains("role `postgres` is a superuser") && e.contains("[sql.connections.pg_as_role]"),
            "{e}"
        );

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
        // Writes through the query tool are not reads; the writable superuser connection is
        // checked for reads like any other.
        let e = env
            .call(
                "execute_sql_query",
                "s",
                json!({"connection": "pg", "sql": format!("DELETE FROM {schema}.items")}),
            )
            .await
            .unwrap_err()
            .to_string();
        assert!(e.contains("`DELETE` is not a read"), "{e}");
        let e = env
            .call(
                "execute_sql_query",
                "s",
                json!({"connection": "pg_rw", "sql": format!("SELECT * FROM {schema}.items")}),
            )
            .await
            .unwrap_err()
            .to_string();
        assert!(e.contains("is a superuser") && e.contains("[sql.connections.pg_rw]"), "{e}");
        // A function with side effects that the check admits is still stopped by the read-only
        // transaction (on the privileged connection, so grants play no part).
        let e = env
            .call("execute_sql_query", "s", json!({"connection": "pg_priv", "sql": format!("SELECT * FROM (SELECT 1) x, LATERAL (SELECT nextval('{schema}.items_id_seq')) y")}))
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

        // Ad-hoc URLs: refused by default, naming the setting and the configured connections.
        let e = env
            .call("execute_sql_query", "s", json!({"connection": role_url, "sql": "SELECT 1"}))
            .await
            .unwrap_err()
            .to_string();
        assert!(
            e.contains("`[sql] allow_adhoc_urls` is false")
                && e.contains("pg, pg_as_role, pg_priv, pg_rw, pg_super"),
            "{e}"
        );
        assert!(!e.contains(&role), "the URL is not echoed: {e}");
        let e = env
            .call("test_database_connection", "s", json!({"connection": "mysql://root@127.0.0.1/x"}))
            .await
            .unwrap_err()
            .to_string();
        assert!(e.contains("allow_adhoc_urls"), "{e}");
        // Allowed: the read-only role's URL works; a superuser's URL never does.
        let adhoc = Env::new(SqlConfig { allow_adhoc_urls: true, ..Default::default() });
        let q = adhoc
            .call(
                "execute_sql_query",
                "s",
                json!({"connection": role_url, "sql": format!("SELECT count(*) AS n FROM {schema}.items")}),
            )
            .await
            .unwrap()
            .response;
        assert_eq!(q["rows"], json!([[40]]));
        let e = adhoc
            .call("execute_sql_query", "s", json!({"connection": PG, "sql": "SELECT 1"}))
            .await
            .unwrap_err()
            .to_string();
        assert!(
            e.contains("is a superuser") && e.contains("ad-hoc URLs never accept a privileged role"),
            "{e}"
        );
        let e = adhoc
            .call("test_database_connection", "s", json!({"connection": "mssql://sa@127.0.0.1/x"}))
            .await
            .unwrap_err()
            .to_string();
        assert!(e.contains("`mssql://` databases are not supported"), "{e}");
    };
    Cleanup { schema: &schema, role: Some(&role), ..Default::default() }.after(&admin, test).await;
    std::env::remove_var(&rw_env);
}

/// Hostile SQL a model might send, each with an effect the test can look for.
struct Planted {
    dir: std::path::PathBuf,
    admin_pid: i32,
    large_object: u32,
}

impl Planted {
    fn file(&self, name: &str) -> std::path::PathBuf {
        self.dir.join(name)
    }

    /// (what, sql, what the statement check's refusal says).
    fn hostile(&self) -> Vec<(&'static str, String, &'static str)> {
        let touched = self.file("copy-program");
        let exported = self.file("lo-export");
        let from_do = self.file("do-block");
        vec![
            (
                "COPY TO PROGRAM",
                format!("COPY (SELECT 1) TO PROGRAM 'touch {}'", touched.display()),
                "`COPY` is refused",
            ),
            ("pg_read_file", "SELECT pg_read_file('/etc/passwd')".into(), "function `pg_read_file` is refused"),
            (
                "pg_read_file, qualified and quoted in a subquery",
                "SELECT length(x) FROM (SELECT \"pg_catalog\".\"PG_READ_FILE\"('/etc/passwd') AS x) s".into(),
                "is refused: it reads or writes files on the database server",
            ),
            (
                "lo_export",
                format!("SELECT lo_export({}, '{}')", self.large_object, exported.display()),
                "function `lo_export` is refused",
            ),
            (
                "pg_terminate_backend",
                format!("SELECT pg_terminate_backend({})", self.admin_pid),
                "function `pg_terminate_backend` is refused",
            ),
            (
                "DO block",
                format!(
                    "DO $$BEGIN PERFORM pg_terminate_backend({}); EXECUTE 'COPY (SELECT 1) TO PROGRAM ''touch {}'''; END$$",
                    self.admin_pid,
                    from_do.display()
                ),
                "`DO` is refused",
            ),
        ]
    }

    /// Nothing happened: no file appeared and the other session is alive.
    async fn assert_no_effect(&self, admin: &tokio_postgres::Client) {
        for f in ["copy-program", "lo-export", "do-block"] {
            assert!(!self.file(f).exists(), "{} was created", self.file(f).display());
        }
        let pid: i32 =
            admin.query_one("SELECT pg_backend_pid()", &[]).await.expect("the admin session is alive").get(0);
        assert_eq!(pid, self.admin_pid);
    }
}

#[tokio::test]
async fn postgres_hostile_sql_is_refused_by_the_role_check_and_by_the_statement_check() {
    let admin = pg_admin().await;
    let schema = pg_schema(&admin).await;
    let dir = server_writable_dir("vana-pg-hostile");
    let admin_pid: i32 = admin.query_one("SELECT pg_backend_pid()", &[]).await.unwrap().get(0);
    let large_object: u32 = admin.query_one("SELECT lo_from_bytea(0, 'planted')", &[]).await.unwrap().get(0);
    let planted = Planted { dir: dir.clone(), admin_pid, large_object };
    let test = async {
        // Control: the server runs the planted program when asked directly, so an absent file
        // below means the tool refused, not that the server could not.
        let control = planted.file("control");
        admin
            .batch_execute(&format!("COPY (SELECT 1) TO PROGRAM 'touch {}'", control.display()))
            .await
            .unwrap();
        assert!(control.exists(), "the server can create files in {}", dir.display());

        // Default config on the superuser: the role check refuses before any statement runs.
        let mut cfg = SqlConfig::default();
        cfg.connections.insert("pg".into(), conn(PG, false));
        let default = Env::new(cfg);
        // allow_privileged = true: the statement check refuses each of them.
        let mut cfg = SqlConfig::default();
        cfg.connections.insert("pg".into(), privileged(PG));
        let privileged_env = Env::new(cfg);
        for (what, sql, named) in planted.hostile() {
            let e = default
                .call("execute_sql_query", "s", json!({"connection": "pg", "sql": sql}))
                .await
                .unwrap_err()
                .to_string();
            assert!(e.contains("is a superuser") && e.contains("allow_privileged = true"), "{what}: {e}");
            planted.assert_no_effect(&admin).await;
            let e = privileged_env
                .call("execute_sql_query", "s", json!({"connection": "pg", "sql": sql}))
                .await
                .unwrap_err()
                .to_string();
            assert!(e.contains(named), "{what}: `{e}` lacks `{named}`");
            assert!(!e.contains("root:"), "{what}: {e}");
            planted.assert_no_effect(&admin).await;
        }
        // A plain read on the privileged connection still works: the refusals are specific.
        let ok = privileged_env
            .call(
                "execute_sql_query",
                "s",
                json!({"connection": "pg", "sql": format!("SELECT count(*) FROM {schema}.items")}),
            )
            .await
            .unwrap()
            .response;
        assert_eq!(ok["rows"], json!([[40]]));
    };
    let cleanup =
        Cleanup { schema: &schema, large_object: Some(large_object), dir: Some(&dir), ..Default::default() };
    cleanup.after(&admin, test).await;
}

#[tokio::test]
async fn postgres_approved_writes_refuse_programs_files_and_other_sessions() {
    let admin = pg_admin().await;
    let schema = pg_schema(&admin).await;
    let dir = server_writable_dir("vana-pg-write");
    let admin_pid: i32 = admin.query_one("SELECT pg_backend_pid()", &[]).await.unwrap().get(0);
    let mut cfg = SqlConfig::default();
    cfg.connections.insert("pg_rw".into(), conn(PG, true));
    let env = Env::new(cfg);
    let test = async {
        let touched = dir.join("written");
        for (sql, named) in [
            (format!("COPY {schema}.items TO PROGRAM 'touch {}'", touched.display()), "`COPY` is refused"),
            (
                format!("INSERT INTO {schema}.items (name) SELECT pg_read_file('/etc/passwd')"),
                "function `pg_read_file` is refused",
            ),
            (
                format!("DELETE FROM {schema}.items WHERE pg_terminate_backend({admin_pid})"),
                "function `pg_terminate_backend` is refused",
            ),
            (
                format!(
                    "DO $$BEGIN EXECUTE 'COPY (SELECT 1) TO PROGRAM ''touch {}'''; END$$",
                    touched.display()
                ),
                "`DO` is refused",
            ),
        ] {
            // Approved through the runtime, as a human would.
            let (outcome, _, after) =
                approve_write(&env, json!({"connection": "pg_rw", "sql": sql}), true).await;
            assert_eq!(outcome, Outcome::Done);
            let r = response_of(&after, "execute_sql_write").to_string();
            assert!(r.contains(named), "`{sql}`: {r}");
        }
        assert!(!touched.exists(), "{} was created", touched.display());
        let n: i64 =
            admin.query_one(&format!("SELECT count(*) FROM {schema}.items"), &[]).await.unwrap().get(0);
        assert_eq!(n, 40, "nothing was inserted or deleted");
        let pid: i32 = admin.query_one("SELECT pg_backend_pid()", &[]).await.unwrap().get(0);
        assert_eq!(pid, admin_pid);
    };
    Cleanup { schema: &schema, dir: Some(&dir), ..Default::default() }.after(&admin, test).await;
}

#[tokio::test]
async fn postgres_statement_timeout_and_bad_urls_are_clear_errors() {
    let mut cfg = SqlConfig::default();
    cfg.connections.insert("pg".into(), privileged(PG));
    cfg.timeout_secs = 1;
    cfg.allow_adhoc_urls = true;
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

const MARIADB: &str = "mysql://root@127.0.0.1:3306/test";

#[tokio::test]
async fn mariadb_connection_reports_the_server_and_the_query_tools_refuse_it_clearly() {
    let mut cfg = SqlConfig::default();
    cfg.connections.insert("maria".into(), conn(MARIADB, false));
    cfg.connections.insert("maria_scheme".into(), conn("mariadb://root@127.0.0.1:3306/test", true));
    cfg.connections
        .insert("maria_badpw".into(), conn("mysql://root:wrong-secret-pw@127.0.0.1:3306/test", false));
    cfg.connections
        .insert("maria_baduser".into(), conn("mysql://no_such_user_vana@127.0.0.1:3306/test", false));
    cfg.connections.insert("maria_port".into(), conn("mysql://root@127.0.0.1:1/test", false));
    cfg.timeout_secs = 5;
    let env = Env::new(cfg);

    let ok =
        env.call("test_database_connection", "s", json!({"connection": "maria"})).await.unwrap().response;
    assert_eq!(ok["connected"], true);
    assert_eq!(ok["kind"], "mariadb", "{ok}");
    assert!(ok["serverVersion"].as_str().unwrap().contains("MariaDB"), "{ok}");
    assert_eq!(ok["database"], "test");
    assert!(ok["user"].as_str().unwrap().starts_with("root@"), "{ok}");
    assert_eq!(ok["writable"], false);
    let ms = ok["latencyMs"].as_f64().unwrap();
    assert!(ms > 0.0 && ms < 5000.0, "{ok}");
    let ok = env
        .call("test_database_connection", "s", json!({"connection": "maria_scheme"}))
        .await
        .unwrap()
        .response;
    assert_eq!((ok["kind"].as_str(), ok["writable"].as_bool()), (Some("mariadb"), Some(true)), "{ok}");

    // A wrong password, an unknown user and a closed port: clear errors, never the password.
    for (name, says) in
        [("maria_badpw", "Access denied"), ("maria_baduser", "Access denied"), ("maria_port", "127.0.0.1:1")]
    {
        let e = env
            .call("test_database_connection", "s", json!({"connection": name}))
            .await
            .unwrap_err()
            .to_string();
        assert!(e.contains("MariaDB/MySQL connection to 127.0.0.1:") && e.contains(says), "{name}: {e}");
        assert!(!e.contains("wrong-secret-pw"), "{name}: the password is not echoed: {e}");
    }

    // The query tools say that only test_database_connection speaks MariaDB.
    for (tool, args) in [
        ("execute_sql_query", json!({"connection": "maria", "sql": "SELECT 1"})),
        ("list_tables", json!({"connection": "maria"})),
        ("describe_table", json!({"connection": "maria", "table": "t"})),
    ] {
        let e = env.call(tool, "s", args).await.unwrap_err().to_string();
        assert!(
            e.contains("connection `maria` is MariaDB/MySQL: only test_database_connection supports it"),
            "{tool}: {e}"
        );
    }
    // A hostile read is refused the same way, before anything reaches the server.
    let e = env
        .call(
            "execute_sql_query",
            "s",
            json!({"connection": "maria", "sql": "SELECT LOAD_FILE('/etc/passwd')"}),
        )
        .await
        .unwrap_err()
        .to_string();
    assert!(e.contains("only test_database_connection supports it"), "{e}");

    // Ad-hoc mysql:// URLs follow `allow_adhoc_urls` like postgres:// ones.
    let e = env
        .call("test_database_connection", "s", json!({"connection": MARIADB}))
        .await
        .unwrap_err()
        .to_string();
    assert!(e.contains("allow_adhoc_urls"), "{e}");
    let adhoc = Env::new(SqlConfig { allow_adhoc_urls: true, ..Default::default() });
    let ok =
        adhoc.call("test_database_connection", "s", json!({"connection": MARIADB})).await.unwrap().response;
    assert_eq!((ok["kind"].as_str(), ok["writable"].as_bool()), (Some("mariadb"), Some(false)), "{ok}");
}
