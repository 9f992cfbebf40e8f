//! Every catalog server that needs no key, or only a service on this machine (PostgreSQL and
//! Redis on 127.0.0.1), started with the catalog's OWN command, arguments and environment
//! (`config/mcp_servers.yaml`, with its `${VAR}`s set as a user would) and called. The programs
//! are the pinned packages `scripts/setup-mcp.sh` (or `vana mcp install`) put in the MCP home.

use crate::common::{mcp_home, serve_page};
use serde_json::{json, Value};
use std::collections::BTreeMap;
use std::sync::Arc;
use tokio_util::sync::CancellationToken;
use vana_mcp::config::expand;
use vana_mcp::{McpConfig, McpManager, Server};
use vana_testkit::{tempdir, unique};

/// The servers this file starts; every server `vana mcp install` installs by default must be here.
const TESTED: &[&str] = &[
    "everything",
    "fetch",
    "filesystem",
    "git",
    "memory",
    "playwright",
    "postgresql",
    "redis",
    "semgrep",
    "sequential_thinking",
    "sqlite",
    "time",
];

#[test]
fn every_catalog_server_without_a_key_is_started_by_a_test_here() {
    let c = McpConfig::builtin();
    let default_set: Vec<&str> = c
        .servers
        .iter()
        .filter(|(n, cfg)| vana_mcp::install::in_default_set(n, cfg))
        .map(|(n, _)| n.as_str())
        .collect();
    for name in &default_set {
        assert!(TESTED.contains(name), "catalog server `{name}` needs no key but no test starts it");
    }
    for name in TESTED {
        assert!(default_set.contains(name), "`{name}` is tested here but not installed by default");
    }
}

/// `scripts/setup-mcp.sh` reads the same pins from the catalog as `vana mcp install`.
#[test]
fn the_setup_script_installs_the_catalogs_pins() {
    let script = vana_testkit::repo_root().join("scripts/setup-mcp.sh");
    for (flag, all) in [("--print", false), ("--print-all", true)] {
        let out = std::process::Command::new("bash").arg(&script).arg(flag).output().unwrap();
        assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
        let printed: Vec<String> = String::from_utf8_lossy(&out.stdout).lines().map(String::from).collect();
        let c = McpConfig::builtin();
        let mut expected: Vec<String> = c
            .servers
            .iter()
            .filter(|(n, cfg)| {
                if all {
                    cfg.install_package().is_some()
                } else {
                    vana_mcp::install::in_default_set(n, cfg)
                }
            })
            .map(|(n, cfg)| {
                let p = cfg.install_package().unwrap();
                let reg = match p.registry {
                    vana_mcp::Registry::Npm => "npm",
                    vana_mcp::Registry::Pypi => "pypi",
                };
                format!("{n} {reg} {}", p.specs.join(" "))
            })
            .collect();
        let mut printed_sorted = printed.clone();
        printed_sorted.sort();
        expected.sort();
        assert_eq!(printed_sorted, expected, "{flag}");
    }
}

/// A manager over the catalog's entry `name`, its `${VAR}`s taken from `vars` (`MCP_HOME` is a
/// fresh folder for the server's data); the programs come from the MCP home.
fn from_catalog(name: &str, vars: &[(&str, String)], data: &std::path::Path) -> (McpManager, Arc<Server>) {
    let mut cfg = McpConfig::builtin().servers[name].clone();
    let data_home = data.display().to_string();
    let lookup = |k: &str| {
        if k == "MCP_HOME" {
            return Some(data_home.clone());
        }
        vars.iter().find(|(n, _)| *n == k).map(|(_, v)| v.clone())
    };
    let mut missing = Vec::new();
    cfg.args = cfg.args.iter().map(|a| expand(a, &lookup, &mut missing)).collect();
    cfg.env = cfg.env.iter().map(|(k, v)| (k.clone(), expand(v, &lookup, &mut missing))).collect();
    let required: Vec<String> = std::mem::take(&mut cfg.required_env);
    for r in required {
        let v = lookup(&r).unwrap_or_else(|| panic!("the test sets {r}"));
        cfg.env.insert(r, v);
    }
    assert!(missing.is_empty(), "{name}: unset {missing:?}");
    let c = McpConfig { servers: BTreeMap::from([(name.to_string(), cfg)]), ..Default::default() };
    let m = McpManager::new(c, mcp_home(), None);
    m.set_auto_install(false);
    let s = m.server(name).unwrap().clone();
    assert!(s.unavailable().is_none(), "{name}: {:?}", s.unavailable());
    (m, s)
}

fn cancel() -> CancellationToken {
    CancellationToken::new()
}

fn text(v: &vana_core::ToolOutput) -> String {
    v.response["text"].as_str().map(String::from).unwrap_or_else(|| v.response.to_string())
}

#[tokio::test]
async fn everything_echoes() {
    let dir = tempdir();
    let (m, s) = from_catalog("everything", &[], dir.path());
    let out = s.call("echo", json!({"message": "catalog echo 7"}), &cancel()).await.unwrap();
    assert!(text(&out).contains("catalog echo 7"), "{:?}", out.response);
    m.shutdown().await;
}

#[tokio::test]
async fn fetch_refuses_loopback_as_the_catalog_configures_it() {
    let dir = tempdir();
    let url = serve_page("<html><body><p>internal page</p></body></html>").await;
    let (m, s) = from_catalog("fetch", &[], dir.path());
    let tools: Vec<String> = s.list_tools().await.unwrap().iter().map(|t| t.name.clone()).collect();
    assert!(tools.contains(&"fetch".to_string()), "{tools:?}");
    let err = s.call("fetch", json!({"url": url}), &cancel()).await.unwrap_err().to_string();
    assert!(!err.contains("internal page"), "{err}");
    m.shutdown().await;
}

#[tokio::test]
async fn filesystem_writes_and_reads_inside_its_root_only() {
    let dir = tempdir();
    let root = dir.path().canonicalize().unwrap();
    let (m, s) = from_catalog("filesystem", &[("VANA_FILES_ROOT", root.display().to_string())], dir.path());
    let f = root.join("plan.txt");
    s.call("write_file", json!({"path": f, "content": "ship friday"}), &cancel()).await.unwrap();
    assert_eq!(std::fs::read_to_string(&f).unwrap(), "ship friday");
    let err = s.call("read_text_file", json!({"path": "/etc/hostname"}), &cancel()).await;
    assert!(err.is_err(), "{err:?}");
    m.shutdown().await;
}

#[tokio::test]
async fn git_reports_a_repositorys_log_and_status() {
    let dir = tempdir();
    let repo = dir.path().join("repo");
    std::fs::create_dir_all(&repo).unwrap();
    let git = |args: &[&str]| {
        let out = std::process::Command::new("git").args(args).current_dir(&repo).output().unwrap();
        assert!(out.status.success(), "git {args:?}: {}", String::from_utf8_lossy(&out.stderr));
    };
    git(&["init", "-q", "-b", "main"]);
    std::fs::write(repo.join("a.txt"), "one\n").unwrap();
    git(&["add", "a.txt"]);
    git(&[
        "-c",
        "user.name=T",
        "-c",
        "user.email=t@example.com",
        "commit",
        "-q",
        "-m",
        "first commit of the catalog test",
    ]);
    std::fs::write(repo.join("b.txt"), "untracked\n").unwrap();
    let repo_s = repo.display().to_string();
    let (m, s) = from_catalog("git", &[("VANA_GIT_REPO", repo_s.clone())], dir.path());
    let log = s.call("git_log", json!({"repo_path": repo_s}), &cancel()).await.unwrap();
    assert!(text(&log).contains("first commit of the catalog test"), "{:?}", log.response);
    let st = s.call("git_status", json!({"repo_path": repo_s}), &cancel()).await.unwrap();
    assert!(text(&st).contains("b.txt"), "{:?}", st.response);
    m.shutdown().await;
}

#[tokio::test]
async fn memory_keeps_entities_in_its_file() {
    let dir = tempdir();
    std::fs::create_dir_all(dir.path().join("data")).unwrap();
    let (m, s) = from_catalog("memory", &[], dir.path());
    s.call(
        "create_entities",
        json!({"entities": [{"name": "Ada", "entityType": "person", "observations": ["likes tea"]}]}),
        &cancel(),
    )
    .await
    .unwrap();
    let found = s.call("search_nodes", json!({"query": "Ada"}), &cancel()).await.unwrap();
    assert!(text(&found).contains("likes tea"), "{:?}", found.response);
    let file = std::fs::read_to_string(dir.path().join("data/memory.jsonl")).unwrap();
    assert!(file.contains("likes tea"), "{file}");
    m.shutdown().await;
}

#[tokio::test]
async fn playwright_opens_a_local_page() {
    let dir = tempdir();
    let url =
        serve_page("<html><head><title>Catalog page</title></head><body><h1>Hi</h1></body></html>").await;
    let (m, s) = from_catalog("playwright", &[], dir.path());
    let out = s.call("browser_navigate", json!({"url": url}), &cancel()).await.unwrap();
    assert!(text(&out).contains("Catalog page"), "{:?}", out.response);
    let _ = s.call("browser_close", json!({}), &cancel()).await;
    m.shutdown().await;
}

#[tokio::test]
async fn postgresql_queries_the_local_database() {
    let dir = tempdir();
    let url = std::env::var("VANA_TEST_POSTGRES_URL")
        .unwrap_or_else(|_| "postgresql://postgres@127.0.0.1:5432/test".into());
    let (m, s) = from_catalog("postgresql", &[("POSTGRES_URL", url)], dir.path());
    let out = s.call("query", json!({"sql": "SELECT 6 * 7 AS answer"}), &cancel()).await.unwrap();
    assert!(text(&out).contains("42"), "{:?}", out.response);
    m.shutdown().await;
}

#[tokio::test]
async fn redis_sets_gets_and_deletes_a_key_on_the_local_redis() {
    let dir = tempdir();
    let url = std::env::var("VANA_TEST_REDIS_URL").unwrap_or_else(|_| "redis://127.0.0.1:6379".into());
    let (m, s) = from_catalog("redis", &[("REDIS_URL", url)], dir.path());
    let key = unique("vana-mcp-catalog");
    s.call("set", json!({"key": key, "value": "forty-two"}), &cancel()).await.unwrap();
    let got = s.call("get", json!({"key": key}), &cancel()).await.unwrap();
    assert!(text(&got).contains("forty-two"), "{:?}", got.response);
    s.call("delete", json!({"key": key}), &cancel()).await.unwrap();
    let gone = s.call("get", json!({"key": key}), &cancel()).await.unwrap();
    assert!(!text(&gone).contains("forty-two"), "{:?}", gone.response);
    // A write needs a human's approval, as the catalog declares.
    assert!(s.config().requires_confirmation("set") && !s.config().requires_confirmation("get"));
    m.shutdown().await;
}

#[tokio::test]
async fn semgrep_finds_a_pattern_with_a_custom_rule() {
    let dir = tempdir();
    // The catalog finds semgrep under ${MCP_HOME}; here MCP_HOME is the test's data folder.
    let semgrep = mcp_home().join("py/semgrep-mcp/bin/semgrep").display().to_string();
    let (m, s) = from_catalog("semgrep", &[("SEMGREP_PATH", semgrep)], dir.path());
    let tools: Vec<String> = s.list_tools().await.unwrap().iter().map(|t| t.name.clone()).collect();
    assert!(tools.iter().any(|t| t == "semgrep_scan_with_custom_rule"), "{tools:?}");
    let rule = "rules:\n- id: no-eval\n  pattern: eval(...)\n  message: eval is dangerous\n  languages: [python]\n  severity: ERROR\n";
    let out = s
        .call(
            "semgrep_scan_with_custom_rule",
            json!({"code_files": [{"filename": "app.py", "content": "x = 1\ny = eval(input())\n"}], "rule": rule}),
            &cancel(),
        )
        .await
        .unwrap();
    let t = text(&out);
    assert!(t.contains("no-eval") && t.contains("eval is dangerous"), "{t}");
    m.shutdown().await;
}

#[tokio::test]
async fn sequential_thinking_records_a_thought() {
    let dir = tempdir();
    let (m, s) = from_catalog("sequential_thinking", &[], dir.path());
    let out = s
        .call(
            "sequentialthinking",
            json!({"thought": "First split the task", "thoughtNumber": 1, "totalThoughts": 3, "nextThoughtNeeded": true}),
            &cancel(),
        )
        .await
        .unwrap();
    let v: Value = serde_json::from_str(&text(&out)).unwrap_or(Value::Null);
    assert_eq!(v["thoughtNumber"], 1, "{:?}", out.response);
    assert_eq!(v["totalThoughts"], 3, "{:?}", out.response);
    m.shutdown().await;
}

#[tokio::test]
async fn sqlite_writes_and_reads_its_database() {
    let dir = tempdir();
    let db = dir.path().join("catalog.sqlite");
    let (m, s) = from_catalog("sqlite", &[("VANA_SQLITE_DB", db.display().to_string())], dir.path());
    s.call("create_table", json!({"query": "CREATE TABLE t (n INTEGER)"}), &cancel()).await.unwrap();
    s.call("write_query", json!({"query": "INSERT INTO t VALUES (41), (1)"}), &cancel()).await.unwrap();
    let out =
        s.call("read_query", json!({"query": "SELECT sum(n) AS total FROM t"}), &cancel()).await.unwrap();
    assert!(text(&out).contains("42"), "{:?}", out.response);
    assert!(db.exists());
    m.shutdown().await;
}

#[tokio::test]
async fn time_converts_between_zones() {
    let dir = tempdir();
    let (m, s) = from_catalog("time", &[], dir.path());
    let out = s
        .call(
            "convert_time",
            json!({"source_timezone": "UTC", "time": "12:00", "target_timezone": "Asia/Tokyo"}),
            &cancel(),
        )
        .await
        .unwrap();
    assert!(text(&out).contains("21:00"), "{:?}", out.response);
    m.shutdown().await;
}
