//! Load benchmark: the server runs in this process on loopback with the scripted model
//! answering instantly; the load comes from second processes (`wrk` for `/run`, this binary
//! re-executed as an SSE client for `/run_sse`).
//!
//! Phases (bounded in count and time):
//! 1. 1,000 concurrent `/run_sse` streams held open (the model answers after 3 s, streaming
//!    tokens), every event of every stream counted; the server's RSS sampled while they are
//!    open and its peak (VmHWM) read after.
//! 2. `wrk -t2 -c200 -d10s`: `/healthz` (baseline: same server, same load, no agent) then
//!    `/run` on 2,000 sessions, each after a 3 s warm-up run that is reported but not counted;
//!    requests/s, p50/p90/p99 and server CPU per request of both, and p99 added latency.
//! 3. The same load on an agent whose scripted model answers after 100 ms, as a fast hosted
//!    model would: the latency the server adds is the request's latency less the model's.
//!
//! Run: `scripts/setup-server.sh && cargo bench -p vana-server --bench load`.

use serde_json::{json, Value};
use std::process::Command;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};
use vana_app::{App, Config};
use vana_testkit::{ScriptedModel, ScriptedTurn};

/// The allocator of the `vana` binary, so the server measured here allocates as it does there.
#[global_allocator]
static ALLOC: mimalloc::MiMalloc = mimalloc::MiMalloc;

const STREAMS: usize = 1000;
const RUN_SESSIONS: usize = 2000;
const CONNECTIONS: usize = 200;
const WRK_SECS: u64 = 10;
const WARMUP_SECS: u64 = 3;
/// Phase 3's model latency: a fast hosted model's time to answer a short turn.
const MODEL_MS: u64 = 100;

fn raise_fd_limit() {
    // SAFETY: plain libc calls on a local struct.
    unsafe {
        let mut l = libc::rlimit { rlim_cur: 0, rlim_max: 0 };
        if libc::getrlimit(libc::RLIMIT_NOFILE, &mut l) == 0 && l.rlim_cur < 8192 {
            l.rlim_cur = l.rlim_max.min(65536);
            libc::setrlimit(libc::RLIMIT_NOFILE, &l);
        }
    }
}

fn main() {
    raise_fd_limit();
    let args: Vec<String> = std::env::args().collect();
    let rt = tokio::runtime::Builder::new_multi_thread().enable_all().build().expect("runtime");
    if args.get(1).map(String::as_str) == Some("--sse-client") {
        let (base, sessions) = (args[2].clone(), args[3].clone());
        rt.block_on(sse_client(base, sessions));
        return;
    }
    if args.iter().any(|a| a == "--list") {
        return;
    }
    rt.block_on(run());
}

async fn run() {
    let dir = std::env::temp_dir().join(format!("vana-load-{}", uuid::Uuid::new_v4()));
    std::fs::create_dir_all(&dir).unwrap();
    // `research` answers slowly (3 s, streamed) for the SSE phase; every other agent instantly.
    std::fs::create_dir_all(dir.join("agents")).unwrap();
    std::fs::write(
        dir.join("agents/research.yaml"),
        "name: research\ndescription: slow streaming agent for the benchmark\ninstruction: answer\nmodel: bench-slow\n",
    )
    .unwrap();
    // `bench_llm` stands for an agent on a real model: it answers after MODEL_MS, so phase 3
    // measures what the server adds on top of the model.
    std::fs::write(
        dir.join("agents/bench_llm.yaml"),
        "name: bench_llm\ndescription: agent whose model answers after a fixed delay\ninstruction: answer\nmodel: bench-llm\n",
    )
    .unwrap();
    let mut config = Config::default();
    config.store.url = format!("sqlite://{}", dir.join("vana.db").display());
    config.agents.dir = dir.join("agents").display().to_string();
    config.models.default_model = "bench-fast".into();
    config.sandbox.policy_dir = dir.display().to_string();
    config.server.requests_per_second = 1_000_000;
    config.server.burst = 1_000_000;
    config.server.max_streams_per_key = 100_000;
    let app = App::open(config).await.expect("open app");
    app.models.register(
        "bench-fast",
        Arc::new(ScriptedModel::repeating(
            "bench-fast",
            vec![ScriptedTurn::text("ok, done").with_usage(10, 3)],
        )),
    );
    let store = app.store.clone();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let base = format!("http://{addr}");
    let options = vana_server::ServerOptions { no_auth: true, ..Default::default() };
    let (slow_tx, app) = (
        ScriptedModel::repeating(
            "bench-slow",
            vec![ScriptedTurn::text("alpha beta gamma delta epsilon zeta").with_delay(Duration::from_secs(3))],
        ),
        app,
    );
    app.models.register("bench-slow", Arc::new(slow_tx));
    app.models.register(
        "bench-llm",
        Arc::new(ScriptedModel::repeating(
            "bench-llm",
            vec![ScriptedTurn::text("ok, done")
                .with_usage(10, 3)
                .with_delay(Duration::from_millis(MODEL_MS))],
        )),
    );
    tokio::spawn(async move { vana_server::serve(app, listener, options).await.expect("serve") });
    let http = reqwest::Client::new();
    for _ in 0..100 {
        if http.get(format!("{base}/healthz")).send().await.is_ok() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    println!(
        "vana-server load benchmark, server pid {}, {} CPU(s)",
        std::process::id(),
        std::thread::available_parallelism().map(|n| n.get()).unwrap_or(1)
    );
    let (rss0, _) = vana_server::metrics::rss_bytes();
    println!("server RSS at idle: {:.1} MB", rss0 as f64 / 1e6);

    // ---- Phase 1: 1,000 concurrent SSE streams.
    let mut ids = Vec::with_capacity(STREAMS);
    for i in 0..STREAMS {
        let s = store.create_session("research", &format!("sse{i}"), None, Default::default()).await.unwrap();
        ids.push(format!("sse{i}:{}", s.id));
    }
    let sessions_file = dir.join("sse_sessions.txt");
    std::fs::write(&sessions_file, ids.join("\n")).unwrap();
    let peak_streams = Arc::new(AtomicU64::new(0));
    let peak_rss = Arc::new(AtomicU64::new(0));
    let sampling = {
        let (peak_streams, peak_rss, http, base) =
            (peak_streams.clone(), peak_rss.clone(), http.clone(), base.clone());
        tokio::spawn(async move {
            loop {
                if let Ok(r) = http.get(format!("{base}/metrics")).send().await {
                    let text = r.text().await.unwrap_or_default();
                    if let Some(v) = text.lines().find_map(|l| l.strip_prefix("vana_active_streams ")) {
                        peak_streams.fetch_max(v.trim().parse().unwrap_or(0), Ordering::Relaxed);
                    }
                }
                peak_rss.fetch_max(vana_server::metrics::rss_bytes().0, Ordering::Relaxed);
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
        })
    };
    let exe = std::env::current_exe().unwrap();
    let t = Instant::now();
    let out = tokio::process::Command::new(&exe)
        .arg("--sse-client")
        .arg(&base)
        .arg(&sessions_file)
        .output()
        .await
        .expect("run the SSE client process");
    sampling.abort();
    let report = String::from_utf8_lossy(&out.stdout);
    let (_, hwm) = vana_server::metrics::rss_bytes();
    println!("\n/run_sse: {STREAMS} concurrent streams (streaming: true, model answers after 3 s), client in pid-separate process, {:.1} s", t.elapsed().as_secs_f64());
    print!("{report}");
    if !out.status.success() {
        eprintln!("{}", String::from_utf8_lossy(&out.stderr));
    }
    println!("  peak open streams seen by the server: {}", peak_streams.load(Ordering::Relaxed));
    println!("  server RSS while streams open (max sampled): {:.1} MB; peak RSS (VmHWM): {:.1} MB; target < 300 MB", peak_rss.load(Ordering::Relaxed) as f64 / 1e6, hwm as f64 / 1e6);

    // ---- Phase 2: /run with 200 concurrent clients, /healthz baseline.
    let lua = run_script(&store, &dir, "code_execution").await;
    // Warm-up (not counted): the first run on each session reads it from the store; the
    // measured phase is the steady state, where hot sessions are served from memory.
    wrk(&base, "/healthz", None, WARMUP_SECS);
    let warm = wrk(&base, "/run", Some(&lua), WARMUP_SECS);
    let health = wrk(&base, "/healthz", None, WRK_SECS);
    let runs = wrk(&base, "/run", Some(&lua), WRK_SECS);
    let cpu_us = |w: &WrkResult| w.server_cpu_secs * 1e6 / w.requests.max(1) as f64;
    println!("\nwrk -t2 -c{CONNECTIONS} -d{WRK_SECS}s (second process), scripted model answering instantly:");
    println!(
        "  warm-up, not counted ({WARMUP_SECS} s of each; /run's first touch of each of the {RUN_SESSIONS} sessions): /run {:.0} req/s p99 {:.2} ms",
        warm.rps, warm.p99
    );
    println!(
        "  baseline /healthz: {:>8.0} req/s  p50 {:>7.2} ms  p90 {:>7.2} ms  p99 {:>7.2} ms  non-2xx {}",
        health.rps, health.p50, health.p90, health.p99, health.non2xx
    );
    println!(
        "  /run             : {:>8.0} req/s  p50 {:>7.2} ms  p90 {:>7.2} ms  p99 {:>7.2} ms  non-2xx {}",
        runs.rps, runs.p50, runs.p90, runs.p99, runs.non2xx
    );
    println!(
        "  server CPU per request (user + system): /healthz {:.0} us, /run {:.0} us",
        cpu_us(&health),
        cpu_us(&runs)
    );
    println!("  p99 added latency of /run over /healthz: {:.2} ms (target < 50 ms); throughput ratio /run : /healthz = {:.3}", runs.p99 - health.p99, runs.rps / health.rps.max(1.0));

    // ---- Phase 3: the same load on an agent whose model takes MODEL_MS to answer.
    let lua = run_script(&store, &dir, "bench_llm").await;
    wrk(&base, "/run", Some(&lua), WARMUP_SECS);
    let llm = wrk(&base, "/run", Some(&lua), WRK_SECS);
    let added = |v: f64| v - MODEL_MS as f64;
    println!("\nwrk -t2 -c{CONNECTIONS} -d{WRK_SECS}s, scripted model answering after {MODEL_MS} ms (after a {WARMUP_SECS} s warm-up):");
    println!(
        "  /run             : {:>8.0} req/s  p50 {:>7.2} ms  p90 {:>7.2} ms  p99 {:>7.2} ms  non-2xx {}  server CPU {:.0} us/request",
        llm.rps, llm.p50, llm.p90, llm.p99, llm.non2xx, cpu_us(&llm)
    );
    println!(
        "  added latency (minus the model's {MODEL_MS} ms): p50 {:.2} ms  p90 {:.2} ms  p99 {:.2} ms (target < 50 ms)",
        added(llm.p50),
        added(llm.p90),
        added(llm.p99)
    );
    let check: Value = http.get(format!("{base}/api/dashboard")).send().await.unwrap().json().await.unwrap();
    let ce = check["metrics"]["agents"]
        .as_array()
        .unwrap()
        .iter()
        .find(|a| a["agent"] == "code_execution")
        .cloned()
        .unwrap_or(json!({}));
    println!(
        "  server-side: code_execution requests {} errors {} p50 {} ms p95 {} ms",
        ce["requests"], ce["errors"], ce["latencyP50Ms"], ce["latencyP95Ms"]
    );
    let (_, hwm) = vana_server::metrics::rss_bytes();
    println!("  server peak RSS (VmHWM) after all phases: {:.1} MB", hwm as f64 / 1e6);
    let _ = std::fs::remove_dir_all(&dir);
}

/// Creates [`RUN_SESSIONS`] sessions of `app` (over 50 users) and writes the wrk script that
/// posts one `/run` after another to them, round robin (the two wrk threads start 1,000 apart).
async fn run_script(
    store: &Arc<dyn vana_core::SessionStore>,
    dir: &std::path::Path,
    app: &str,
) -> std::path::PathBuf {
    let mut list = Vec::with_capacity(RUN_SESSIONS);
    for i in 0..RUN_SESSIONS {
        let user = format!("u{}", i % 50);
        let s = store.create_session(app, &user, None, Default::default()).await.unwrap();
        list.push(format!("{{\"{user}\",\"{}\"}}", s.id));
    }
    let lua = dir.join(format!("run-{app}.lua"));
    std::fs::write(
        &lua,
        format!(
            r#"local sessions = {{{}}}
local counter = 0
local offset = 0
local threads = 0
function setup(thread) thread:set("offset", threads * 1000); threads = threads + 1 end
function init(args) counter = 0 end
function request()
  counter = counter + 1
  local s = sessions[((offset + counter) % #sessions) + 1]
  local body = '{{"appName":"{app}","userId":"' .. s[1] .. '","sessionId":"' .. s[2] .. '","newMessage":{{"role":"user","parts":[{{"text":"hello"}}]}}}}'
  return wrk.format("POST", "/run", {{["Content-Type"]="application/json"}}, body)
end
function response(status, headers, body) if status ~= 200 then errors_seen = (errors_seen or 0) + 1 end end
"#,
            list.join(",")
        ),
    )
    .unwrap();
    lua
}

struct WrkResult {
    rps: f64,
    /// Requests completed.
    requests: u64,
    /// CPU seconds this (server) process used while wrk ran.
    server_cpu_secs: f64,
    p50: f64,
    p90: f64,
    p99: f64,
    non2xx: u64,
}

fn ms(v: &str) -> f64 {
    let v = v.trim();
    if let Some(x) = v.strip_suffix("us") {
        x.parse::<f64>().unwrap_or(0.0) / 1000.0
    } else if let Some(x) = v.strip_suffix("ms") {
        x.parse().unwrap_or(0.0)
    } else if let Some(x) = v.strip_suffix('s') {
        x.parse::<f64>().unwrap_or(0.0) * 1000.0
    } else {
        0.0
    }
}

fn wrk(base: &str, path: &str, script: Option<&std::path::Path>, secs: u64) -> WrkResult {
    let mut cmd = Command::new("wrk");
    cmd.args(["-t2", &format!("-c{CONNECTIONS}"), &format!("-d{secs}s"), "--latency", "--timeout", "10s"]);
    if let Some(s) = script {
        cmd.arg("-s").arg(s);
    }
    cmd.arg(format!("{base}{path}"));
    let cpu0 = vana_server::metrics::process_cpu_secs();
    let out = cmd.output().expect("wrk not found: run scripts/setup-server.sh (apt package wrk)");
    let server_cpu_secs = vana_server::metrics::process_cpu_secs() - cpu0;
    let text = String::from_utf8_lossy(&out.stdout).to_string();
    let find =
        |prefix: &str| text.lines().find_map(|l| l.trim().strip_prefix(prefix).map(|r| r.trim().to_string()));
    WrkResult {
        rps: find("Requests/sec:").and_then(|v| v.parse().ok()).unwrap_or(0.0),
        requests: text
            .lines()
            .find(|l| l.contains(" requests in "))
            .and_then(|l| l.split_whitespace().next())
            .and_then(|v| v.parse().ok())
            .unwrap_or(0),
        server_cpu_secs,
        p50: find("50%").map(|v| ms(&v)).unwrap_or(0.0),
        p90: find("90%").map(|v| ms(&v)).unwrap_or(0.0),
        p99: find("99%").map(|v| ms(&v)).unwrap_or(0.0),
        non2xx: find("Non-2xx or 3xx responses:").and_then(|v| v.parse().ok()).unwrap_or(0),
    }
}

/// The SSE client process: opens one `/run_sse` stream per session at once, counts every
/// event of every stream, prints a report.
async fn sse_client(base: String, sessions_file: String) {
    use futures::StreamExt;
    let lines: Vec<String> =
        std::fs::read_to_string(&sessions_file).unwrap().lines().map(str::to_string).collect();
    let http = reqwest::Client::builder().pool_max_idle_per_host(0).build().unwrap();
    let open = Arc::new(AtomicU64::new(0));
    let max_open = Arc::new(AtomicU64::new(0));
    let start = Instant::now();
    let mut tasks = Vec::new();
    for line in lines {
        let (user, session) = line.split_once(':').map(|(u, s)| (u.to_string(), s.to_string())).unwrap();
        let (http, base, open, max_open) = (http.clone(), base.clone(), open.clone(), max_open.clone());
        tasks.push(tokio::spawn(async move {
            let body = json!({"appName": "research", "userId": user, "sessionId": session, "streaming": true,
                              "newMessage": {"role": "user", "parts": [{"text": "hold on"}]}});
            let r =
                http.post(format!("{base}/run_sse")).json(&body).send().await.map_err(|e| e.to_string())?;
            if r.status() != 200 {
                return Err(format!("HTTP {}", r.status()));
            }
            let now = open.fetch_add(1, Ordering::SeqCst) + 1;
            max_open.fetch_max(now, Ordering::SeqCst);
            let mut parser = vana_models::sse::SseParser::new();
            let (mut events, mut partial, mut text) = (0u64, 0u64, String::new());
            let mut body = r.bytes_stream();
            while let Some(chunk) = body.next().await {
                for e in parser.push(&chunk.map_err(|e| e.to_string())?) {
                    let v: Value = serde_json::from_str(&e.data).map_err(|e| e.to_string())?;
                    events += 1;
                    if v["partial"] == true {
                        partial += 1;
                        text.push_str(v["content"]["parts"][0]["text"].as_str().unwrap_or(""));
                    }
                }
            }
            open.fetch_sub(1, Ordering::SeqCst);
            Ok::<_, String>((events, partial, text))
        }));
    }
    let mut counts = std::collections::BTreeMap::new();
    let mut failures = Vec::new();
    let mut text_ok = 0;
    for t in tasks {
        match t.await {
            Ok(Ok((events, partial, text))) => {
                *counts.entry((events, partial)).or_insert(0u64) += 1;
                text_ok += (text == "alpha beta gamma delta epsilon zeta") as u64;
            }
            Ok(Err(e)) => failures.push(e),
            Err(e) => failures.push(e.to_string()),
        }
    }
    println!(
        "  streams completed: {} of {}, failed: {}",
        counts.values().sum::<u64>(),
        STREAMS,
        failures.len()
    );
    for ((events, partial), n) in &counts {
        println!("  {n} stream(s) received {events} events ({partial} partial)");
    }
    println!("  streams whose partial tokens rebuild the full answer: {text_ok}");
    println!(
        "  most streams open at once (client side): {}; all done in {:.1} s",
        max_open.load(Ordering::SeqCst),
        start.elapsed().as_secs_f64()
    );
    if let Some(f) = failures.first() {
        println!("  first failure: {f}");
    }
    let lost = counts.len() != 1 || !failures.is_empty() || text_ok as usize != STREAMS;
    println!(
        "  events lost: {}",
        if lost {
            "YES (streams differ; see above)"
        } else {
            "none (every stream got the same, complete event sequence)"
        }
    );
}
