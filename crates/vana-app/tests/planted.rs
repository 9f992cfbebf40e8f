//! The trust boundary between sandboxed code and the host-side tools, planted for real:
//! code in the sandbox makes links to a host file and a host directory, and a FIFO, in its
//! workspace; every tool that reads or writes workspace files refuses them with a clear error,
//! and the host file and directory are unchanged.

use serde_json::{json, Value};
use std::path::PathBuf;
use std::sync::Arc;
use vana_core::{ToolContext, ToolError, ToolRegistry};
use vana_testkit::unique;
use vana_tools_code::Sandbox;

const SECRET: &str = "user,hash\nroot,$6$planted\nadmin,$6$other\n";

struct Env {
    tools: ToolRegistry,
    sandbox: Arc<Sandbox>,
    /// Outside every workspace: stands for /etc/shadow, VANA's own database, /etc.
    host: PathBuf,
    session: String,
}

impl Env {
    fn secret(&self) -> PathBuf {
        self.host.join("secret.csv")
    }
    fn host_dir(&self) -> PathBuf {
        self.host.join("etc")
    }

    async fn call(&self, tool: &str, args: Value) -> Result<Value, ToolError> {
        let t = self.tools.get(tool).unwrap_or_else(|| panic!("no tool {tool}"));
        t.call(args, ToolContext::standalone("test", "u", &self.session)).await.map(|o| o.response)
    }

    /// Asserts that the call is refused because of what was planted, and that the host is
    /// untouched.
    async fn refused(&self, tool: &str, args: Value, planted: &str, kind: &str) {
        let e = self
            .call(tool, args.clone())
            .await
            .expect_err(&format!("{tool} {args} must be refused"))
            .to_string();
        assert!(
            e.starts_with("blocked:")
                && e.contains(&format!("`{planted}`"))
                && e.contains(kind)
                && e.contains("never followed"),
            "{tool} {args}: {e}"
        );
        assert!(!e.contains("$6$planted"), "{tool} leaked the host file: {e}");
        assert_eq!(std::fs::read_to_string(self.secret()).unwrap(), SECRET, "{tool} changed the host file");
        assert_eq!(std::fs::read_dir(self.host_dir()).unwrap().count(), 0, "{tool} wrote into the host dir");
    }
}

async fn planted_env() -> Env {
    let base = std::env::temp_dir().join(unique("vana-planted"));
    let data = base.join("data");
    let host = base.join("host");
    std::fs::create_dir_all(host.join("etc")).unwrap();
    std::fs::create_dir_all(&data).unwrap();
    std::fs::write(host.join("secret.csv"), SECRET).unwrap();
    // Stands for VANA's own store: every user's sessions and key hashes.
    let store = rusqlite::Connection::open(host.join("vana.db")).unwrap();
    store
        .execute_batch("CREATE TABLE api_keys (hash TEXT); INSERT INTO api_keys VALUES ('argon2-hash')")
        .unwrap();
    drop(store);
    // No policy files: the built-in sandbox policy.
    let sandbox = Arc::new(Sandbox::new(&data, &data));
    let mut tools = ToolRegistry::new();
    vana_app::suites::register(&mut tools, &vana_app::suites::all(&vana_app::Config::default(), &sandbox));
    let env = Env { tools, sandbox, host, session: unique("planted") };
    let (secret, dir) = (env.secret().display().to_string(), env.host_dir().display().to_string());
    let store = env.host.join("vana.db").display().to_string();
    let script = format!(
        "set -e\n\
         ln -s /etc/shadow shadow.csv\n\
         ln -s {secret} secret.csv\n\
         ln -s {secret} secret.json\n\
         ln -s {secret} out.csv\n\
         ln -s {secret} chart.png\n\
         ln -s {secret} m.json\n\
         ln -s {dir} charts\n\
         ln -s {dir} models\n\
         ln -s {dir} linked\n\
         mkfifo pipe.csv\n\
         ln -s {store} vana.db\n\
         ln -s {dir} dbs\n\
         mkfifo pipe.db\n\
         python3 -c \"import sqlite3; c = sqlite3.connect('own.db'); c.execute('create table t (x)'); c.execute('insert into t values (42)'); c.commit()\"\n\
         cp own.db sidecar.db && ln -s {secret} sidecar.db-wal\n\
         printf 'month,region,revenue,species\\n' > real.csv\n\
         for i in $(seq 1 40); do printf '2024-%02d-01,r%d,%d,s%d\\n' $(( (i % 12) + 1 )) $((i % 3)) $((i * 7)) $((i % 2)) >> real.csv; done\n\
         echo planted"
    );
    let r = env.call("execute_code", json!({"language": "sh", "code": script})).await.unwrap();
    assert_eq!(r["stdout"], "planted\n", "{r}");
    env
}

/// Every data and analytics tool, reading each planted source.
#[tokio::test]
async fn data_tools_refuse_planted_sources() {
    let env = planted_env().await;
    let with_source = |tool: &str, source: &str| -> Value {
        match tool {
            "analyze_dataset" => json!({"source": source}),
            "clean_data" => json!({"source": source, "operations": [{"op": "drop_duplicates"}]}),
            "visualize_data" => json!({"source": source, "chart": "bar", "x": "month", "y": "revenue"}),
            "statistical_analysis" => {
                json!({"source": source, "test": "t_test", "column": "revenue", "group": "region"})
            }
            "train_model" => json!({"source": source, "target_column": "species"}),
            "perform_predictive_analysis" => {
                json!({"source": source, "date_column": "month", "value_column": "revenue"})
            }
            "generate_business_insights" => json!({"source": source, "value_column": "revenue"}),
            other => panic!("{other}"),
        }
    };
    let tools = [
        "analyze_dataset",
        "clean_data",
        "visualize_data",
        "statistical_analysis",
        "train_model",
        "perform_predictive_analysis",
        "generate_business_insights",
    ];
    for tool in tools {
        for (source, planted, kind) in [
            ("shadow.csv", "shadow.csv", "symbolic link"),
            ("secret.csv", "secret.csv", "symbolic link"),
            ("secret.json", "secret.json", "symbolic link"),
            ("/workspace/secret.csv", "secret.csv", "symbolic link"),
            ("pipe.csv", "pipe.csv", "named pipe"),
            ("linked/secret.csv", "linked", "symbolic link"),
        ] {
            env.refused(tool, with_source(tool, source), planted, kind).await;
            env.refused(
                tool,
                with_source(tool, source)
                    .as_object()
                    .cloned()
                    .map(|mut o| {
                        o.insert("source".into(), json!({"path": source}));
                        Value::Object(o)
                    })
                    .unwrap(),
                planted,
                kind,
            )
            .await;
        }
    }
    // The real file next to them works, so the refusals are about what was planted.
    env.call("analyze_dataset", json!({"source": "real.csv"})).await.unwrap();
}

/// Every tool that writes workspace files, aimed at planted links.
#[tokio::test]
async fn writing_tools_never_write_through_planted_links() {
    let env = planted_env().await;
    let clean = |output: &str| json!({"source": "real.csv", "operations": [{"op": "drop_duplicates"}], "output": output});
    env.refused("clean_data", clean("out.csv"), "out.csv", "symbolic link").await;
    env.refused("clean_data", clean("charts/clean.csv"), "charts", "symbolic link").await;
    env.refused("clean_data", clean("pipe.csv"), "pipe.csv", "named pipe").await;
    let chart = |file: Option<&str>| {
        let mut a =
            json!({"source": "real.csv", "chart": "bar", "x": "region", "y": "revenue", "format": "png"});
        if let Some(f) = file {
            a["file"] = json!(f);
        }
        a
    };
    env.refused("visualize_data", chart(None), "charts", "symbolic link").await;
    env.refused("visualize_data", chart(Some("chart")), "chart.png", "symbolic link").await;
    env.refused("visualize_data", chart(Some("linked/c")), "linked", "symbolic link").await;
    env.refused(
        "perform_predictive_analysis",
        json!({"source": "real.csv", "date_column": "month", "value_column": "revenue"}),
        "charts",
        "symbolic link",
    )
    .await;
    env.refused(
        "train_model",
        json!({"source": "real.csv", "target_column": "species"}),
        "models",
        "symbolic link",
    )
    .await;
    env.refused(
        "predict",
        json!({"model": "m.json", "rows": [{"month": "2024-01-01"}]}),
        "m.json",
        "symbolic link",
    )
    .await;
    env.refused(
        "predict",
        json!({"model": "linked/m.json", "rows": [{"month": "2024-01-01"}]}),
        "linked",
        "symbolic link",
    )
    .await;
    // Files the user attaches go through the same API.
    let e = env.sandbox.put_file(&env.session, "out.csv", b"x").unwrap_err().to_string();
    assert!(e.contains("`out.csv`") && e.contains("symbolic link"), "{e}");
    let e = env.sandbox.put_file(&env.session, "charts/a.csv", b"x").unwrap_err().to_string();
    assert!(e.contains("`charts`") && e.contains("symbolic link"), "{e}");
    assert_eq!(std::fs::read_to_string(env.secret()).unwrap(), SECRET);
    assert_eq!(std::fs::read_dir(env.host_dir()).unwrap().count(), 0);
    // The same writes to plain names work.
    env.call("clean_data", clean("fresh.csv")).await.unwrap();
    env.call("visualize_data", chart(Some("plots/c"))).await.unwrap();
}

/// The SQL tools open a SQLite file of the workspace only when it is a regular file, and so
/// are its journal, WAL and shared-memory files.
#[tokio::test]
async fn sql_tools_refuse_planted_database_files() {
    let env = planted_env().await;
    let before = std::fs::read(env.host.join("vana.db")).unwrap();
    for (conn, planted, kind) in [
        ("vana.db", "vana.db", "symbolic link"),
        ("sqlite:vana.db", "vana.db", "symbolic link"),
        ("dbs/vana.db", "dbs", "symbolic link"),
        ("pipe.db", "pipe.db", "named pipe"),
        ("sidecar.db", "sidecar.db-wal", "symbolic link"),
    ] {
        env.refused(
            "execute_sql_query",
            json!({"connection": conn, "sql": "SELECT * FROM api_keys"}),
            planted,
            kind,
        )
        .await;
        env.refused("list_tables", json!({"connection": conn}), planted, kind).await;
        env.refused("describe_table", json!({"connection": conn, "table": "api_keys"}), planted, kind).await;
        env.refused("test_database_connection", json!({"connection": conn}), planted, kind).await;
    }
    assert_eq!(std::fs::read(env.host.join("vana.db")).unwrap(), before, "the store is untouched");
    // The sandbox's own database file works.
    let r = env
        .call("execute_sql_query", json!({"connection": "own.db", "sql": "SELECT x FROM t"}))
        .await
        .unwrap();
    assert_eq!(r["rows"], json!([[42]]), "{r}");
}

/// The sandbox's own listing of what a run created never reads through a planted link.
#[tokio::test]
async fn run_artifacts_never_follow_planted_links() {
    let env = planted_env().await;
    let r = env
        .call(
            "execute_code",
            json!({"language": "sh", "code": format!("ln -s {} new.png && echo ok", env.secret().display())}),
        )
        .await
        .unwrap();
    assert_eq!(r["stdout"], "ok\n");
    assert_eq!(r["files"], json!([]), "a link is no artifact: {r}");
}
