//! transform_data against Debian's `jq` CLI on the same data and filters, in the same run: the
//! time of each (best of BENCH_ROUNDS, default 3) and their ratio. 200k generated order records
//! (BENCH_RECORDS), JSON in a workspace file for the tool and in a temp file for jq; each filter's
//! outputs are checked equal before timing counts. Lines starting with BENCH.
//! Run: scripts/bench-integration.sh (cargo bench -p vana-tools-integration --bench transform).

use serde_json::{json, Value};
use std::time::{Duration, Instant};
use vana_core::ToolContext;
use vana_toolkit::vana_workspace::Workspaces;
use vana_toolkit::{SessionFiles, ToolSuite};
use vana_tools_integration::{GithubConfig, IntegrationConfig, IntegrationSuite};

fn records(n: usize) -> String {
    let countries = ["BR", "NO", "CN", "FR", "US", "IN", "DE"];
    let rows: Vec<Value> = (0..n)
        .map(|i| {
            json!({
                "id": i,
                "created": format!("2026-{:02}-{:02}", i % 12 + 1, i % 28 + 1),
                "customer": {"name": format!("customer {}", i % 997), "country": countries[i % countries.len()]},
                "items": (0..(i % 4)).map(|k| json!({"sku": format!("S-{k}"), "qty": k + 1, "price": (i % 50) as f64 + 0.5})).collect::<Vec<_>>(),
                "total": ((i * 37) % 1000) as f64 + 0.25,
                "tags": if i % 3 == 0 { vec!["gift"] } else { vec![] },
            })
        })
        .collect();
    serde_json::to_string(&rows).unwrap()
}

fn best(rounds: usize, mut f: impl FnMut() -> Duration) -> Duration {
    (0..rounds).map(|_| f()).min().unwrap()
}

fn main() {
    let n: usize = std::env::var("BENCH_RECORDS").ok().and_then(|v| v.parse().ok()).unwrap_or(200_000);
    let rounds: usize = std::env::var("BENCH_ROUNDS").ok().and_then(|v| v.parse().ok()).unwrap_or(3);
    let dir = std::env::temp_dir().join(format!("vana-bench-transform-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let data = records(n);
    let file = dir.join("orders.json");
    std::fs::write(&file, &data).unwrap();
    let workspaces = Workspaces::new(dir.join("ws"), 0, 0);
    workspaces.ensure("s").unwrap().write("orders.json", data.as_bytes()).unwrap();
    let suite = IntegrationSuite::new(
        IntegrationConfig::default(),
        GithubConfig::default(),
        vana_net::OutboundPolicy::strict(),
        SessionFiles::new(workspaces.clone()),
    );
    let tool = suite.tools().into_iter().find(|t| t.name() == "transform_data").unwrap();
    let rt = tokio::runtime::Builder::new_multi_thread().enable_all().build().unwrap();
    println!(
        "BENCH transform_data vs jq {}: {n} records, {} MB, best of {rounds}",
        jq_version(),
        data.len() >> 20
    );
    for filter in [
        "map(select(.total > 500) | {id, total})",
        "group_by(.customer.country) | map({country: .[0].customer.country, n: length, sum: (map(.total) | add)})",
        "[.[] | .items[] | .qty * .price] | add",
    ] {
        let mut jq_out = Vec::new();
        let jq_t = best(rounds, || {
            let t = Instant::now();
            let out = std::process::Command::new("jq").arg("-c").arg(filter).arg(&file).output().expect("jq (apt-get install -y jq)");
            assert!(out.status.success());
            jq_out = out.stdout;
            t.elapsed()
        });
        let tool_t = best(rounds, || {
            let t = Instant::now();
            let r = rt
                .block_on(tool.call(
                    json!({"source": "orders.json", "filter": filter, "output": "out.json"}),
                    ToolContext::standalone("vana", "u", "s"),
                ))
                .unwrap();
            assert_eq!(r.response["filter_outputs"], 1);
            t.elapsed()
        });
        let ours: Value = serde_json::from_slice(&workspaces.open("s").unwrap().unwrap().read("out.json", 1 << 30).unwrap()).unwrap();
        let theirs: Value = serde_json::from_slice(&jq_out).unwrap();
        assert_eq!(norm(&ours), norm(&theirs), "{filter}: outputs differ");
        println!(
            "BENCH `{filter}`: jq {:.0} ms, transform_data {:.0} ms (read, run, write): {:.2}x jq's speed",
            jq_t.as_secs_f64() * 1000.0,
            tool_t.as_secs_f64() * 1000.0,
            jq_t.as_secs_f64() / tool_t.as_secs_f64()
        );
    }
    let _ = std::fs::remove_dir_all(&dir);
}

fn norm(v: &Value) -> Value {
    match v {
        Value::Number(n) => json!((n.as_f64().unwrap() * 1e6).round() / 1e6),
        Value::Array(a) => Value::Array(a.iter().map(norm).collect()),
        Value::Object(o) => Value::Object(o.iter().map(|(k, v)| (k.clone(), norm(v))).collect()),
        other => other.clone(),
    }
}

fn jq_version() -> String {
    std::process::Command::new("jq")
        .arg("--version")
        .output()
        .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_string())
        .unwrap_or_default()
}
