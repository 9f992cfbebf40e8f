//! Helpers shared by the data, analytics and SQL tests: a temp data dir, the tool registry,
//! the pandas/scikit-learn venv (scripts/setup-data.sh), and a seeded generator.
#![allow(dead_code)]

use serde_json::Value;
use std::path::{Path, PathBuf};
use vana_core::{ToolContext, ToolError, ToolOutput, ToolRegistry};
use vana_toolkit::ToolSuite;

/// The built-in policy's sandbox uid/gid (what workspace files are owned by).
pub const SANDBOX_UID: u32 = 100_000;

/// A fresh data dir with the data tools registered over it.
pub struct Env {
    /// The data dir (workspaces live under it).
    pub dir: PathBuf,
    /// The registered tools.
    pub tools: ToolRegistry,
}

pub use vana_testkit::unique;

impl Env {
    pub fn new(sql: vana_tools_data::sql::SqlConfig) -> Env {
        let dir = std::env::temp_dir().join(unique("vana-data-test"));
        std::fs::create_dir_all(&dir).unwrap();
        let mut tools = ToolRegistry::new();
        let workspaces =
            vana_toolkit::vana_workspace::Workspaces::new(dir.join("workspaces"), SANDBOX_UID, SANDBOX_UID);
        let files = vana_toolkit::SessionFiles::new(workspaces);
        let suites: [&dyn ToolSuite; 3] = [
            &vana_tools_data::DataSuite(files.clone()),
            &vana_tools_data::AnalyticsSuite(files.clone()),
            &vana_tools_data::SqlSuite { config: sql, files },
        ];
        for tool in suites.iter().flat_map(|s| s.tools()) {
            tools.register(tool);
        }
        Env { dir, tools }
    }

    /// The workspace of a session (created).
    pub fn workspace(&self, session: &str) -> PathBuf {
        let p = self.dir.join("workspaces").join(session);
        std::fs::create_dir_all(&p).unwrap();
        p
    }

    pub async fn call(&self, tool: &str, session: &str, args: Value) -> Result<ToolOutput, ToolError> {
        let t = self.tools.get(tool).unwrap_or_else(|| panic!("tool {tool} is not registered"));
        t.call(args, ToolContext::standalone("test", "u", session)).await
    }
}

impl Drop for Env {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// The venv python with pandas, numpy, scikit-learn and scipy (scripts/setup-data.sh).
pub fn python() -> PathBuf {
    let venv = std::env::var_os("VANA_DATA_VENV")
        .map(PathBuf::from)
        .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("../../.cache/data-venv"));
    let py = venv.join("bin/python");
    assert!(py.is_file(), "{} is missing: run scripts/setup-data.sh first", py.display());
    py
}

/// Runs a Python script with arguments and parses its stdout as JSON.
pub fn py_json(script: &str, args: &[&str]) -> Value {
    let out = std::process::Command::new(python()).arg("-c").arg(script).args(args).output().unwrap();
    assert!(out.status.success(), "python failed: {}", String::from_utf8_lossy(&out.stderr));
    serde_json::from_slice(&out.stdout)
        .unwrap_or_else(|e| panic!("bad JSON from python ({e}): {}", String::from_utf8_lossy(&out.stdout)))
}

/// SplitMix64 for reproducible test data.
pub struct Rng(pub u64);

impl Rng {
    pub fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }
    /// Uniform in [0, 1).
    pub fn f(&mut self) -> f64 {
        (self.next() >> 11) as f64 / (1u64 << 53) as f64
    }
    /// Standard normal (Box-Muller).
    pub fn normal(&mut self) -> f64 {
        let (u, v) = (self.f().max(1e-12), self.f());
        (-2.0 * u.ln()).sqrt() * (2.0 * std::f64::consts::PI * v).cos()
    }
}

/// A mixed-type CSV: ints, floats and booleans with and without missing values, skewed
/// categories, pandas NA spellings, a column that turns to text late, and duplicate rows.
pub fn mixed_csv(rows: usize, seed: u64) -> String {
    let mut r = Rng(seed);
    let mut lines = vec!["id,region,price,qty,active,flag,note,date,score,code,revenue".to_string()];
    let regions = ["north", "south", "east", "west", "central"];
    for i in 0..rows {
        let region = regions[((r.f().powi(2)) * 5.0) as usize];
        let price = if r.f() < 0.05 { String::new() } else { format!("{:.4}", 10.0 + 90.0 * r.f()) };
        let qty = if r.f() < 0.03 { "NA".into() } else { format!("{}", (r.f() * 50.0) as i64) };
        let active = if r.f() < 0.6 { "True" } else { "False" };
        let flag = match r.f() {
            x if x < 0.1 => "",
            x if x < 0.5 => "true",
            _ => "false",
        };
        let note = match r.f() {
            x if x < 0.2 => "n/a".to_string(),
            x if x < 0.5 => "ok".into(),
            x if x < 0.7 => "late".into(),
            _ => format!("note {}", i % 37),
        };
        let date = format!("2024-{:02}-{:02}", 1 + (i % 12), 1 + (i % 28));
        let score = format!("{:.6}", 1.0e6 + 1000.0 * r.normal());
        let code = if i == rows * 3 / 4 { "X12".to_string() } else { format!("{}", (r.f() * 4.0) as i64) };
        let revenue = format!("{:.2}", 500.0 + 200.0 * r.normal());
        lines.push(format!(
            "{i},{region},{price},{qty},{active},{flag},\"{note}\",{date},{score},{code},{revenue}"
        ));
    }
    // Exact duplicates of earlier rows.
    for k in 0..25 {
        let l = lines[1 + k * 7].clone();
        lines.push(l);
    }
    lines.join("\n") + "\n"
}
