//! Measurements of this process: requests and latency by route and agent, tokens and model/
//! tool time by agent, tool calls and errors, sandbox executions, invocations by outcome.
//! Rendered as Prometheus text (`/metrics`) and as the dashboard snapshot. Hand-rolled: a
//! mutex over small maps costs less than an exporter stack and gives exact recent percentiles.

use serde::Serialize;
use std::collections::{BTreeMap, VecDeque};
use std::fmt::Write as _;
use std::sync::atomic::{AtomicI64, AtomicU64, Ordering};
use std::sync::Mutex;

/// A Prometheus counter over agent stats: metric name, help text, value.
type AgentCounter = (&'static str, &'static str, fn(&AgentStats) -> f64);
use std::time::{Duration, Instant};

/// Upper bounds (seconds) of the latency histogram buckets.
const BUCKETS: &[f64] =
    &[0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0];
/// Recent samples kept per series for exact percentiles.
const RECENT: usize = 1024;
/// Window of the error-rate alert.
pub const RATE_WINDOW: Duration = Duration::from_secs(60);

/// A latency histogram with its recent samples.
#[derive(Debug, Clone, Default)]
pub struct Histogram {
    counts: Vec<u64>,
    sum: f64,
    count: u64,
    recent: VecDeque<f64>,
}

impl Histogram {
    /// Records one observation in seconds.
    pub fn observe(&mut self, secs: f64) {
        if self.counts.is_empty() {
            self.counts = vec![0; BUCKETS.len()];
        }
        if let Some(i) = BUCKETS.iter().position(|b| secs <= *b) {
            self.counts[i] += 1;
        }
        self.sum += secs;
        self.count += 1;
        if self.recent.len() == RECENT {
            self.recent.pop_front();
        }
        self.recent.push_back(secs);
    }

    /// The `q` quantile (0..=1) of the recent samples, in milliseconds; 0 when empty.
    pub fn quantile_ms(&self, q: f64) -> f64 {
        if self.recent.is_empty() {
            return 0.0;
        }
        let mut v: Vec<f64> = self.recent.iter().copied().collect();
        v.sort_by(|a, b| a.total_cmp(b));
        let idx = ((v.len() as f64 - 1.0) * q).round() as usize;
        (v[idx.min(v.len() - 1)] * 1000.0 * 1000.0).round() / 1000.0
    }

    fn render(&self, out: &mut String, name: &str, labels: &str) {
        let mut cum = 0;
        let sep = if labels.is_empty() { "" } else { "," };
        for (i, b) in BUCKETS.iter().enumerate() {
            cum += self.counts.get(i).copied().unwrap_or(0);
            let _ = writeln!(out, "{name}_bucket{{{labels}{sep}le=\"{b}\"}} {cum}");
        }
        let _ = writeln!(out, "{name}_bucket{{{labels}{sep}le=\"+Inf\"}} {}", self.count);
        let _ = writeln!(out, "{name}_sum{{{labels}}} {}", self.sum);
        let _ = writeln!(out, "{name}_count{{{labels}}} {}", self.count);
    }
}

/// Per-agent totals.
#[derive(Debug, Clone, Default)]
pub struct AgentStats {
    /// Requests naming this agent.
    pub requests: u64,
    /// Requests that failed (status >= 400) or invocations ending in an error event.
    pub errors: u64,
    /// Request latency.
    pub latency: Histogram,
    /// Prompt tokens.
    pub tokens_in: u64,
    /// Generated tokens.
    pub tokens_out: u64,
    /// Milliseconds waiting for models.
    pub model_ms: f64,
    /// Milliseconds running tools.
    pub tool_ms: f64,
    /// (time, failed) of recent requests, for the error-rate alert.
    pub recent: VecDeque<(Instant, bool)>,
}

/// Per-tool totals.
#[derive(Debug, Clone, Default)]
pub struct ToolStats {
    /// Calls answered.
    pub calls: u64,
    /// Calls answered with an error.
    pub errors: u64,
    /// Duration of the calls.
    pub latency: Histogram,
}

/// Sandbox executions reported by the code tools.
#[derive(Debug, Clone, Default)]
pub struct SandboxStats {
    /// Executions.
    pub executions: u64,
    /// Killed for memory.
    pub oom: u64,
    /// Killed at the timeout.
    pub timeouts: u64,
    /// Security findings reported.
    pub findings: u64,
    /// Wall time of executions.
    pub wall: Histogram,
}

#[derive(Debug, Default)]
struct Inner {
    requests: BTreeMap<(String, String, u16), u64>,
    route_latency: BTreeMap<(String, String), Histogram>,
    agents: BTreeMap<String, AgentStats>,
    tools: BTreeMap<String, ToolStats>,
    sandbox: SandboxStats,
    invocations: BTreeMap<(String, String), u64>,
    auth_failures: u64,
    rate_limited: u64,
}

/// Every measurement of this process.
#[derive(Debug)]
pub struct Metrics {
    inner: Mutex<Inner>,
    /// Server-sent-event streams open now (chat and dashboard).
    pub active_streams: AtomicI64,
    /// Bumped on every change, so the dashboard stream knows when to push.
    pub generation: AtomicU64,
    started: Instant,
    cpu: Mutex<(Instant, f64)>,
}

impl Default for Metrics {
    fn default() -> Self {
        Metrics {
            inner: Mutex::default(),
            active_streams: AtomicI64::new(0),
            generation: AtomicU64::new(0),
            started: Instant::now(),
            cpu: Mutex::new((Instant::now(), process_cpu_secs())),
        }
    }
}

impl Metrics {
    fn with<T>(&self, f: impl FnOnce(&mut Inner) -> T) -> T {
        let mut g = self.inner.lock().unwrap_or_else(|e| e.into_inner());
        let out = f(&mut g);
        self.generation.fetch_add(1, Ordering::Relaxed);
        out
    }

    /// Records one HTTP request: its route template, agent (may be empty), status and latency.
    pub fn request(&self, route: &str, agent: &str, status: u16, elapsed: Duration) {
        self.with(|m| {
            *m.requests.entry((route.to_string(), agent.to_string(), status)).or_default() += 1;
            m.route_latency
                .entry((route.to_string(), agent.to_string()))
                .or_default()
                .observe(elapsed.as_secs_f64());
            if status == 401 {
                m.auth_failures += 1;
            }
            if status == 429 {
                m.rate_limited += 1;
            }
            if !agent.is_empty() {
                let a = m.agents.entry(agent.to_string()).or_default();
                a.requests += 1;
                let failed = status >= 400;
                if failed {
                    a.errors += 1;
                }
                a.latency.observe(elapsed.as_secs_f64());
                let now = Instant::now();
                a.recent.push_back((now, failed));
                while a.recent.front().is_some_and(|(t, _)| now.duration_since(*t) > RATE_WINDOW) {
                    a.recent.pop_front();
                }
            }
        })
    }

    /// Adds one event's usage to its agent.
    pub fn usage(&self, agent: &str, tokens_in: u64, tokens_out: u64, model_ms: f64, tool_ms: f64) {
        self.with(|m| {
            let a = m.agents.entry(agent.to_string()).or_default();
            a.tokens_in += tokens_in;
            a.tokens_out += tokens_out;
            a.model_ms += model_ms;
            a.tool_ms += tool_ms;
        })
    }

    /// Records one answered tool call.
    pub fn tool_call(&self, tool: &str, failed: bool, ms: f64) {
        self.with(|m| {
            let t = m.tools.entry(tool.to_string()).or_default();
            t.calls += 1;
            if failed {
                t.errors += 1;
            }
            t.latency.observe(ms / 1000.0);
        })
    }

    /// Records one sandbox execution.
    pub fn sandbox(&self, wall_ms: f64, oom: bool, timed_out: bool, findings: u64) {
        self.with(|m| {
            let s = &mut m.sandbox;
            s.executions += 1;
            s.oom += oom as u64;
            s.timeouts += timed_out as u64;
            s.findings += findings;
            s.wall.observe(wall_ms / 1000.0);
        })
    }

    /// Records how an invocation ended (`done`, `paused`, `ended`, `error`, ...).
    pub fn invocation(&self, agent: &str, outcome: &str, error_event: bool) {
        self.with(|m| {
            *m.invocations.entry((agent.to_string(), outcome.to_string())).or_default() += 1;
            if error_event {
                m.agents.entry(agent.to_string()).or_default().errors += 1;
            }
        })
    }

    /// Error rate (percent) and request count of each agent over the last minute.
    pub fn error_rates(&self) -> Vec<(String, f64, u64)> {
        let g = self.inner.lock().unwrap_or_else(|e| e.into_inner());
        let now = Instant::now();
        g.agents
            .iter()
            .map(|(name, a)| {
                let recent: Vec<_> =
                    a.recent.iter().filter(|(t, _)| now.duration_since(*t) <= RATE_WINDOW).collect();
                let n = recent.len() as u64;
                let failed = recent.iter().filter(|(_, f)| *f).count() as f64;
                (name.clone(), if n == 0 { 0.0 } else { failed * 100.0 / n as f64 }, n)
            })
            .collect()
    }

    /// Process CPU percent since the previous call (of one core), RSS and peak RSS in bytes.
    pub fn process(&self) -> ProcessStats {
        let now = Instant::now();
        let cpu = process_cpu_secs();
        let mut last = self.cpu.lock().unwrap_or_else(|e| e.into_inner());
        let dt = now.duration_since(last.0).as_secs_f64();
        let percent = if dt > 0.05 { ((cpu - last.1) / dt * 100.0).max(0.0) } else { 0.0 };
        if dt > 0.05 {
            *last = (now, cpu);
        }
        let (rss, hwm) = rss_bytes();
        ProcessStats {
            cpu_percent: (percent * 10.0).round() / 10.0,
            cpu_seconds_total: cpu,
            rss_bytes: rss,
            peak_rss_bytes: hwm,
            uptime_secs: self.started.elapsed().as_secs_f64(),
        }
    }

    /// The dashboard's per-agent, per-tool and sandbox figures.
    pub fn snapshot(&self) -> MetricsSnapshot {
        let g = self.inner.lock().unwrap_or_else(|e| e.into_inner());
        let agents = g
            .agents
            .iter()
            .map(|(name, a)| AgentRow {
                agent: name.clone(),
                requests: a.requests,
                errors: a.errors,
                latency_p50_ms: a.latency.quantile_ms(0.5),
                latency_p95_ms: a.latency.quantile_ms(0.95),
                tokens_in: a.tokens_in,
                tokens_out: a.tokens_out,
                model_ms: a.model_ms.round(),
                tool_ms: a.tool_ms.round(),
            })
            .collect();
        let tools = g
            .tools
            .iter()
            .map(|(name, t)| ToolRow {
                tool: name.clone(),
                calls: t.calls,
                errors: t.errors,
                p50_ms: t.latency.quantile_ms(0.5),
            })
            .collect();
        let s = &g.sandbox;
        let mut invocations: BTreeMap<String, u64> = BTreeMap::new();
        for ((_, outcome), n) in &g.invocations {
            *invocations.entry(outcome.clone()).or_default() += n;
        }
        MetricsSnapshot {
            agents,
            tools,
            sandbox: SandboxRow {
                executions: s.executions,
                p50_ms: s.wall.quantile_ms(0.5),
                p95_ms: s.wall.quantile_ms(0.95),
                oom_killed: s.oom,
                timed_out: s.timeouts,
                security_findings: s.findings,
            },
            invocations,
            auth_failures: g.auth_failures,
            rate_limited: g.rate_limited,
            requests_total: g.requests.values().sum(),
        }
    }

    /// Prometheus text exposition of everything.
    pub fn render_prometheus(&self) -> String {
        let p = self.process();
        let g = self.inner.lock().unwrap_or_else(|e| e.into_inner());
        let mut o = String::with_capacity(8192);
        let esc = |s: &str| s.replace('\\', "\\\\").replace('"', "\\\"").replace('\n', "\\n");
        o.push_str("# HELP vana_http_requests_total HTTP requests by route template, agent and status.\n");
        o.push_str("# TYPE vana_http_requests_total counter\n");
        for ((route, agent, status), n) in &g.requests {
            let _ = writeln!(
                o,
                "vana_http_requests_total{{route=\"{}\",agent=\"{}\",status=\"{status}\"}} {n}",
                esc(route),
                esc(agent)
            );
        }
        o.push_str(
            "# HELP vana_http_request_duration_seconds Time to the response head by route and agent.\n",
        );
        o.push_str("# TYPE vana_http_request_duration_seconds histogram\n");
        for ((route, agent), h) in &g.route_latency {
            h.render(
                &mut o,
                "vana_http_request_duration_seconds",
                &format!("route=\"{}\",agent=\"{}\"", esc(route), esc(agent)),
            );
        }
        let agent_counters: [AgentCounter; 4] = [
            ("vana_agent_prompt_tokens_total", "Prompt tokens by agent.", |a| a.tokens_in as f64),
            ("vana_agent_completion_tokens_total", "Generated tokens by agent.", |a| a.tokens_out as f64),
            ("vana_agent_model_seconds_total", "Time waiting for models by agent.", |a| a.model_ms / 1000.0),
            ("vana_agent_tool_seconds_total", "Time running tools by agent.", |a| a.tool_ms / 1000.0),
        ];
        for (name, help, f) in agent_counters {
            let _ = writeln!(o, "# HELP {name} {help}\n# TYPE {name} counter");
            for (agent, a) in &g.agents {
                let _ = writeln!(o, "{name}{{agent=\"{}\"}} {}", esc(agent), f(a));
            }
        }
        o.push_str("# HELP vana_tool_calls_total Tool calls by tool and result.\n# TYPE vana_tool_calls_total counter\n");
        for (tool, t) in &g.tools {
            let _ = writeln!(
                o,
                "vana_tool_calls_total{{tool=\"{}\",result=\"ok\"}} {}",
                esc(tool),
                t.calls - t.errors
            );
            let _ =
                writeln!(o, "vana_tool_calls_total{{tool=\"{}\",result=\"error\"}} {}", esc(tool), t.errors);
        }
        o.push_str("# HELP vana_invocations_total Invocations by agent and outcome.\n# TYPE vana_invocations_total counter\n");
        for ((agent, outcome), n) in &g.invocations {
            let _ = writeln!(
                o,
                "vana_invocations_total{{agent=\"{}\",outcome=\"{}\"}} {n}",
                esc(agent),
                esc(outcome)
            );
        }
        let s = &g.sandbox;
        let _ = writeln!(o, "# HELP vana_sandbox_executions_total Sandbox executions.\n# TYPE vana_sandbox_executions_total counter\nvana_sandbox_executions_total {}", s.executions);
        let _ = writeln!(o, "# HELP vana_sandbox_oom_total Executions killed for memory.\n# TYPE vana_sandbox_oom_total counter\nvana_sandbox_oom_total {}", s.oom);
        let _ = writeln!(o, "# HELP vana_sandbox_timeouts_total Executions killed at the timeout.\n# TYPE vana_sandbox_timeouts_total counter\nvana_sandbox_timeouts_total {}", s.timeouts);
        let _ = writeln!(o, "# HELP vana_sandbox_findings_total Security findings reported.\n# TYPE vana_sandbox_findings_total counter\nvana_sandbox_findings_total {}", s.findings);
        let _ = writeln!(o, "# HELP vana_auth_failures_total Requests refused for a missing or invalid key.\n# TYPE vana_auth_failures_total counter\nvana_auth_failures_total {}", g.auth_failures);
        let _ = writeln!(o, "# HELP vana_active_streams Server-sent-event streams open now.\n# TYPE vana_active_streams gauge\nvana_active_streams {}", self.active_streams.load(Ordering::Relaxed));
        let _ = writeln!(o, "# HELP process_cpu_seconds_total CPU time of this process.\n# TYPE process_cpu_seconds_total counter\nprocess_cpu_seconds_total {}", p.cpu_seconds_total);
        let _ = writeln!(o, "# HELP process_resident_memory_bytes Resident memory.\n# TYPE process_resident_memory_bytes gauge\nprocess_resident_memory_bytes {}", p.rss_bytes);
        let _ = writeln!(o, "# HELP process_resident_memory_max_bytes Peak resident memory (VmHWM).\n# TYPE process_resident_memory_max_bytes gauge\nprocess_resident_memory_max_bytes {}", p.peak_rss_bytes);
        let _ = writeln!(o, "# HELP process_uptime_seconds Seconds since the server started.\n# TYPE process_uptime_seconds gauge\nprocess_uptime_seconds {}", p.uptime_secs);
        o
    }
}

/// CPU and memory of this process.
#[derive(Debug, Clone, Copy, Default, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ProcessStats {
    /// CPU use since the previous sample, percent of one core.
    pub cpu_percent: f64,
    /// CPU seconds used since start.
    pub cpu_seconds_total: f64,
    /// Resident memory (VmRSS).
    pub rss_bytes: u64,
    /// Peak resident memory (VmHWM).
    pub peak_rss_bytes: u64,
    /// Seconds since start.
    pub uptime_secs: f64,
}

/// One agent's row of the dashboard.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct AgentRow {
    /// Agent name.
    pub agent: String,
    /// Requests.
    pub requests: u64,
    /// Failed requests and invocations ending in an error.
    pub errors: u64,
    /// Median request latency of the recent requests.
    pub latency_p50_ms: f64,
    /// 95th percentile request latency of the recent requests.
    pub latency_p95_ms: f64,
    /// Prompt tokens.
    pub tokens_in: u64,
    /// Generated tokens.
    pub tokens_out: u64,
    /// Model time.
    pub model_ms: f64,
    /// Tool time.
    pub tool_ms: f64,
}

/// One tool's row of the dashboard.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ToolRow {
    /// Tool name.
    pub tool: String,
    /// Calls.
    pub calls: u64,
    /// Calls that returned an error.
    pub errors: u64,
    /// Median duration of the recent calls.
    pub p50_ms: f64,
}

/// Sandbox figures of the dashboard.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct SandboxRow {
    /// Executions.
    pub executions: u64,
    /// Median wall time.
    pub p50_ms: f64,
    /// 95th percentile wall time.
    pub p95_ms: f64,
    /// Killed for memory.
    pub oom_killed: u64,
    /// Killed at the timeout.
    pub timed_out: u64,
    /// Security findings.
    pub security_findings: u64,
}

/// The measured part of the dashboard snapshot.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct MetricsSnapshot {
    /// Per agent.
    pub agents: Vec<AgentRow>,
    /// Per tool.
    pub tools: Vec<ToolRow>,
    /// Sandbox executions.
    pub sandbox: SandboxRow,
    /// Invocations by outcome.
    pub invocations: BTreeMap<String, u64>,
    /// Requests refused with 401.
    pub auth_failures: u64,
    /// Requests refused with 429.
    pub rate_limited: u64,
    /// All HTTP requests.
    pub requests_total: u64,
}

/// CPU seconds (user + system) of this process from `/proc/self/stat`.
pub fn process_cpu_secs() -> f64 {
    let Ok(stat) = std::fs::read_to_string("/proc/self/stat") else { return 0.0 };
    // Fields after the command name (which may contain spaces) start after the last ')'.
    let Some(rest) = stat.rsplit_once(')').map(|(_, r)| r) else { return 0.0 };
    let f: Vec<&str> = rest.split_whitespace().collect();
    // utime and stime are fields 14 and 15 of the line: 12 and 13 after the name.
    let ticks = |i: usize| f.get(i).and_then(|v| v.parse::<f64>().ok()).unwrap_or(0.0);
    // SAFETY: sysconf has no preconditions.
    let hz = unsafe { libc::sysconf(libc::_SC_CLK_TCK) };
    let hz = if hz > 0 { hz as f64 } else { 100.0 };
    (ticks(11) + ticks(12)) / hz
}

/// VmRSS and VmHWM of this process from `/proc/self/status`, in bytes.
pub fn rss_bytes() -> (u64, u64) {
    let Ok(status) = std::fs::read_to_string("/proc/self/status") else { return (0, 0) };
    let field = |name: &str| {
        status
            .lines()
            .find(|l| l.starts_with(name))
            .and_then(|l| l.split_whitespace().nth(1))
            .and_then(|v| v.parse::<u64>().ok())
            .map(|kb| kb * 1024)
            .unwrap_or(0)
    };
    (field("VmRSS:"), field("VmHWM:"))
}
