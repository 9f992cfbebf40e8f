//! Round trip of a trivial tool call (`echo` of npm `@modelcontextprotocol/server-everything`
//! over stdio), in one run:
//! - VANA's client the way an agent calls it (`McpTool::call`: breaker, deadline, counters,
//!   result conversion),
//! - the bare rmcp SDK on its own connection (the floor our layer adds to), in alternating
//!   rounds with the above so machine load hits both alike,
//! - the official Python `mcp` SDK client (PyPI `mcp`, installed by scripts/setup-mcp.sh).
//!
//! Prints the means and the ratios. `VANA_BENCH_CALLS` sets the number of calls (default 2000).

use rmcp::model::CallToolRequestParams;
use rmcp::ServiceExt;
use serde_json::{json, Value};
use std::path::PathBuf;
use std::time::{Duration, Instant};
use vana_core::ToolContext;
use vana_mcp::{McpConfig, McpManager};

const WARMUP: usize = 100;

fn mcp_home() -> PathBuf {
    std::env::var_os("VANA_MCP_HOME")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../.cache/mcp"))
}

struct Stats {
    mean_us: f64,
    p50_us: f64,
}

fn stats(mut v: Vec<Duration>) -> Stats {
    v.sort();
    let mean = v.iter().map(|d| d.as_secs_f64()).sum::<f64>() / v.len() as f64;
    Stats { mean_us: mean * 1e6, p50_us: v[v.len() / 2].as_secs_f64() * 1e6 }
}

/// Runs VANA's client and the bare SDK in alternating rounds, so load on the machine hits both.
async fn ours_and_bare(home: &std::path::Path, n: usize) -> (Stats, Stats) {
    const ROUNDS: usize = 10;
    let mut ours_t = Vec::with_capacity(n);
    let mut bare_t = Vec::with_capacity(n);
    let mut c = McpConfig::default();
    c.add_yaml("servers:\n  everything:\n    command: mcp-server-everything\n    args: [stdio]\n", "bench")
        .unwrap();
    let m = McpManager::new(c, home.to_path_buf(), None);
    let server = m.server("everything").unwrap().clone();
    let tools = m.tools(&server).await.expect("server-everything starts (run scripts/setup-mcp.sh)");
    let echo = tools.into_iter().find(|t| t.name() == "everything__echo").unwrap();
    let ctx = ToolContext::standalone("bench", "bench", "bench");
    let mut child = tokio::process::Command::new(home.join("node/node_modules/.bin/mcp-server-everything"))
        .arg("stdio")
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::null())
        .kill_on_drop(true)
        .spawn()
        .unwrap();
    let (stdin, stdout) = (child.stdin.take().unwrap(), child.stdout.take().unwrap());
    let client = ().serve((stdout, stdin)).await.unwrap();
    let args = json!({"message": "ping"});
    let Value::Object(args) = args else { unreachable!() };
    for round in 0..ROUNDS {
        let warm = if round == 0 { WARMUP } else { 0 };
        for i in 0..warm + n / ROUNDS {
            let t = Instant::now();
            let out = echo.call(json!({"message": "ping"}), ctx.clone()).await.unwrap();
            if i >= warm {
                ours_t.push(t.elapsed());
            }
            assert!(out.response["text"].as_str().unwrap().contains("ping"));
        }
        for i in 0..warm + n / ROUNDS {
            let t = Instant::now();
            let params = CallToolRequestParams::new("echo").with_arguments(args.clone());
            let r = client.call_tool(params).await.unwrap();
            if i >= warm {
                bare_t.push(t.elapsed());
            }
            assert!(!r.content.is_empty());
        }
    }
    let _ = client.cancel().await;
    m.shutdown().await;
    (stats(ours_t), stats(bare_t))
}

const PYTHON_CLIENT: &str = r#"
import asyncio, json, statistics, sys, time
from mcp import ClientSession, StdioServerParameters
from mcp.client.stdio import stdio_client

async def main(cmd, n, warmup):
    params = StdioServerParameters(command=cmd, args=["stdio"])
    async with stdio_client(params) as (r, w):
        async with ClientSession(r, w) as s:
            await s.initialize()
            times = []
            for i in range(warmup + n):
                t = time.perf_counter()
                res = await s.call_tool("echo", {"message": "ping"})
                if i >= warmup:
                    times.append(time.perf_counter() - t)
                assert "ping" in res.content[0].text
    times.sort()
    print(json.dumps({"mean_us": statistics.mean(times) * 1e6, "p50_us": times[len(times) // 2] * 1e6}))

asyncio.run(main(sys.argv[1], int(sys.argv[2]), int(sys.argv[3])))
"#;

fn python(home: &std::path::Path, n: usize) -> Stats {
    let script = std::env::temp_dir().join(format!("vana-mcp-bench-{}.py", std::process::id()));
    std::fs::write(&script, PYTHON_CLIENT).unwrap();
    let out = std::process::Command::new(home.join("py/mcp/bin/python"))
        .arg(&script)
        .arg(home.join("node/node_modules/.bin/mcp-server-everything"))
        .arg(n.to_string())
        .arg(WARMUP.to_string())
        .stderr(std::process::Stdio::null())
        .output()
        .expect("the Python MCP SDK is installed (scripts/setup-mcp.sh)");
    let _ = std::fs::remove_file(&script);
    assert!(out.status.success(), "python client failed: {}", String::from_utf8_lossy(&out.stdout));
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    Stats { mean_us: v["mean_us"].as_f64().unwrap(), p50_us: v["p50_us"].as_f64().unwrap() }
}

fn main() {
    let home = mcp_home();
    let n: usize = std::env::var("VANA_BENCH_CALLS").ok().and_then(|v| v.parse().ok()).unwrap_or(2000);
    let rt = tokio::runtime::Runtime::new().unwrap();
    let (ours, bare) = rt.block_on(ours_and_bare(&home, n));
    let py = python(&home, n);
    println!(
        "MCP tool-call round trip, server-everything `echo` over stdio, {n} calls after {WARMUP} warm-up"
    );
    println!("{:<40} {:>10} {:>10}", "client", "mean µs", "p50 µs");
    for (name, s) in
        [("vana McpTool (agent path)", &ours), ("bare rmcp SDK", &bare), ("python mcp SDK 2.3.0", &py)]
    {
        println!("{name:<40} {:>10.1} {:>10.1}", s.mean_us, s.p50_us);
    }
    println!("vana overhead over bare rmcp: {:+.1} µs (target < 1000 µs)", ours.mean_us - bare.mean_us);
    println!(
        "python / vana: {:.2}x (target >= 1.0: vana at least as fast as the Python client)",
        py.mean_us / ours.mean_us
    );
}
