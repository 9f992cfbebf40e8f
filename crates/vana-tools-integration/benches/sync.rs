//! sync_data_between_systems (CSV → PostgreSQL, mode upsert, one run) against two baselines in the
//! same run on the same data: pandas `DataFrame.to_sql(method="multi")` (PyPI pandas, SQLAlchemy,
//! psycopg2-binary, pinned in scripts/bench-integration.sh) and `psql \copy` (the floor: a bare
//! COPY with no comparison). 1M generated rows (BENCH_ROWS); each target starts empty; row counts
//! are checked. Lines starting with BENCH. Needs PostgreSQL on 127.0.0.1:5432 (scripts/services.sh).

use serde_json::json;
use std::collections::BTreeMap;
use std::process::Command;
use std::time::Instant;
use vana_core::ToolContext;
use vana_toolkit::vana_workspace::Workspaces;
use vana_toolkit::{SessionFiles, ToolSuite};
use vana_tools_integration::sync::SyncConnection;
use vana_tools_integration::{GithubConfig, IntegrationConfig, IntegrationSuite};

const PG: &str = "postgres://postgres@127.0.0.1:5432/test";

fn psql(sql: &str) -> String {
    let out = Command::new("psql").args([PG, "-v", "ON_ERROR_STOP=1", "-tAc", sql]).output().expect("psql");
    assert!(out.status.success(), "psql {sql}: {}", String::from_utf8_lossy(&out.stderr));
    String::from_utf8_lossy(&out.stdout).trim().to_string()
}

fn fresh(table: &str) {
    psql(&format!(
        "DROP TABLE IF EXISTS {table}; CREATE TABLE {table} (id int PRIMARY KEY, name text NOT NULL, balance numeric(12,2), active boolean)"
    ));
}

fn main() {
    let n: usize = std::env::var("BENCH_ROWS").ok().and_then(|v| v.parse().ok()).unwrap_or(1_000_000);
    let python = std::env::var("BENCH_PYTHON").expect("BENCH_PYTHON: run scripts/bench-integration.sh");
    let reference = concat!(env!("CARGO_MANIFEST_DIR"), "/benches/reference/pandas_to_sql.py");
    let dir = std::env::temp_dir().join(format!("vana-bench-sync-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let mut csv = String::from("id,name,balance,active\n");
    for i in 1..=n {
        csv.push_str(&format!("{i},customer {},{}.{:02},{}\n", i % 9973, i % 100_000, i % 100, i % 3 == 0));
    }
    let file = dir.join("customers.csv");
    std::fs::write(&file, &csv).unwrap();
    println!("BENCH sync CSV -> PostgreSQL: {n} rows, {} MB", csv.len() >> 20);

    fresh("bench_copy");
    let t = Instant::now();
    psql(&format!("\\copy bench_copy FROM '{}' CSV HEADER", file.display()));
    let copy_s = t.elapsed().as_secs_f64();
    assert_eq!(psql("SELECT count(*) FROM bench_copy"), n.to_string());

    fresh("bench_pandas");
    let out = Command::new(&python)
        .args([reference, PG, "bench_pandas", &file.display().to_string()])
        .output()
        .unwrap();
    assert!(out.status.success(), "pandas: {}", String::from_utf8_lossy(&out.stderr));
    let text = String::from_utf8_lossy(&out.stdout);
    let pandas_s: f64 =
        text.lines().find_map(|l| l.strip_prefix("SECONDS ")).unwrap().trim().parse().unwrap();
    assert_eq!(psql("SELECT count(*) FROM bench_pandas"), n.to_string());

    fresh("bench_sync");
    let workspaces = Workspaces::new(dir.join("ws"), 0, 0);
    workspaces.ensure("s").unwrap().write("customers.csv", csv.as_bytes()).unwrap();
    let mut conns = BTreeMap::new();
    conns.insert("pg".to_string(), SyncConnection { url: PG.into(), url_env: String::new(), writable: true });
    let suite = IntegrationSuite::new(
        IntegrationConfig::default(),
        GithubConfig::default(),
        vana_net::OutboundPolicy::strict(),
        SessionFiles::new(workspaces),
    )
    .with_connections(conns);
    let tool = suite.tools().into_iter().find(|t| t.name() == "sync_data_between_systems").unwrap();
    let rt = tokio::runtime::Builder::new_multi_thread().enable_all().build().unwrap();
    let args = json!({"source": {"file": "customers.csv"}, "target_connection": "pg", "table": "bench_sync",
                      "mode": "upsert", "key": ["id"], "dry_run": false, "batch_size": 50_000});
    let t = Instant::now();
    let r = rt.block_on(tool.call(args.clone(), ToolContext::standalone("vana", "u", "s"))).unwrap();
    let sync_s = t.elapsed().as_secs_f64();
    assert_eq!(r.response["applied"]["rows_written"], n as u64);
    assert_eq!(psql("SELECT count(*) FROM bench_sync"), n.to_string());
    assert_eq!(psql("SELECT count(*) FROM bench_sync s JOIN bench_copy c USING (id) WHERE (s.*) IS DISTINCT FROM (c.*)"), "0");
    let t = Instant::now();
    let again = rt.block_on(tool.call(args, ToolContext::standalone("vana", "u", "s"))).unwrap();
    let again_s = t.elapsed().as_secs_f64();
    assert_eq!(again.response["applied"]["rows_written"], 0);

    println!("BENCH psql \\copy {copy_s:.2} s, pandas to_sql(method=\"multi\") {pandas_s:.2} s, sync upsert {sync_s:.2} s");
    println!("BENCH sync is {:.1}x pandas to_sql multi (target >= 5x)", pandas_s / sync_s);
    println!("BENCH sync takes {:.2}x the time of psql \\copy (the floor)", sync_s / copy_s);
    println!("BENCH second sync of the same rows (0 changes): {again_s:.2} s");
    for t in ["bench_copy", "bench_pandas", "bench_sync"] {
        psql(&format!("DROP TABLE {t}"));
    }
    let _ = std::fs::remove_dir_all(&dir);
}
