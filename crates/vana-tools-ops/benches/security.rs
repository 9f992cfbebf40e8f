//! The security benchmark (scripts/bench-security.sh), each ratio against a baseline measured in
//! the same run:
//! 1. `scan_secrets` over a generated tree (50 MB by default, `VANA_BENCH_MB`) against
//!    detect-secrets (`scan --all-files`) on the same tree: throughput ratio, and recall of both on
//!    the planted secrets;
//! 2. `scan_code_semgrep` (VANA's wrapper: copy out of the workspace, rules, SARIF) against
//!    semgrep called directly on the same files with the same rules: overhead.

#[path = "../tests/common/mod.rs"]
mod common;

use serde_json::json;
use std::path::Path;
use std::time::Instant;

fn write_tree(root: &Path, files: &[(String, String)]) {
    for (name, text) in files {
        let p = root.join(name);
        std::fs::create_dir_all(p.parent().unwrap()).unwrap();
        std::fs::write(p, text).unwrap();
    }
}

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(|a, b| a.partial_cmp(b).unwrap());
    v[v.len() / 2]
}

#[tokio::main]
async fn main() {
    let mb: usize = std::env::var("VANA_BENCH_MB").ok().and_then(|v| v.parse().ok()).unwrap_or(50);
    let env = common::Env::new();

    // 1. Secrets.
    let files = common::corpus::big_tree(11, mb * 1024 * 1024);
    let bytes: usize = files.iter().map(|(_, t)| t.len()).sum();
    let mut truth = std::collections::HashSet::new();
    let mut i = 0u64;
    while files.iter().any(|(f, _)| f.starts_with(&format!("r{i:04}/"))) {
        for p in common::corpus::repository(11 + i).planted {
            truth.insert((format!("r{i:04}/{}", p.file), p.line));
        }
        i += 1;
    }
    let planted = truth.len();
    for (name, text) in &files {
        env.put("s1", name, text.as_bytes());
    }
    let tree = env.dir.join("tree");
    write_tree(&tree, &files);
    println!("secrets: {} files, {:.1} MB, {planted} planted secrets", files.len(), bytes as f64 / 1e6);

    let t = Instant::now();
    let r = env.ok("scan_secrets", json!({"path": ".", "write_baseline": "all-findings.json"})).await;
    let ours_s = t.elapsed().as_secs_f64();
    let ours_found = r["new_findings"].as_u64().unwrap();
    let baseline: serde_json::Value = serde_json::from_slice(&env.get("s1", "all-findings.json")).unwrap();
    let ours_set: std::collections::HashSet<(String, usize)> = baseline["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| (f["file"].as_str().unwrap().to_string(), f["line"].as_u64().unwrap() as usize))
        .collect();

    let t = Instant::now();
    let out = std::process::Command::new(common::venv_bin("detect-secrets"))
        .args(["scan", "--all-files", "."])
        .current_dir(&tree)
        .output()
        .unwrap();
    let theirs_s = t.elapsed().as_secs_f64();
    assert!(out.status.success(), "detect-secrets failed: {}", String::from_utf8_lossy(&out.stderr));
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let theirs_set: std::collections::HashSet<(String, usize)> = v["results"]
        .as_object()
        .unwrap()
        .iter()
        .flat_map(|(f, a)| {
            a.as_array().unwrap().iter().map(move |x| {
                (f.trim_start_matches("./").to_string(), x["line_number"].as_u64().unwrap() as usize)
            })
        })
        .collect();
    let theirs_found = theirs_set.len();
    let recall =
        |s: &std::collections::HashSet<(String, usize)>| truth.iter().filter(|t| s.contains(t)).count();
    let (ours_hit, theirs_hit) = (recall(&ours_set), recall(&theirs_set));
    let mbs = |s: f64| bytes as f64 / 1e6 / s;
    println!("  vana scan_secrets : {ours_s:8.2} s  {:8.1} MB/s  {ours_found} findings", mbs(ours_s));
    println!("  detect-secrets    : {theirs_s:8.2} s  {:8.1} MB/s  {theirs_found} findings", mbs(theirs_s));
    println!("  throughput ratio  : {:.1}x (target >= 10x)", theirs_s / ours_s);
    println!(
        "  recall            : vana {ours_hit}/{planted} ({} other lines), detect-secrets {theirs_hit}/{planted} ({} other lines)",
        ours_set.len() - ours_hit,
        theirs_set.len() - theirs_hit
    );

    // Real code nobody here wrote, with no secrets to find: what each reports is noise.
    let stdlib = Path::new("/usr/lib/python3.11");
    if stdlib.is_dir() {
        let mut real = Vec::new();
        for sub in ["email", "http", "json", "urllib", "logging", "xml", "html", "ctypes"] {
            let mut stack = vec![stdlib.join(sub)];
            while let Some(d) = stack.pop() {
                for e in std::fs::read_dir(&d).into_iter().flatten().flatten() {
                    let p = e.path();
                    if p.is_dir() {
                        stack.push(p);
                    } else if p.extension().is_some_and(|x| x == "py") {
                        let rel = p.strip_prefix(stdlib).unwrap().to_string_lossy().into_owned();
                        real.push((rel, std::fs::read_to_string(&p).unwrap_or_default()));
                    }
                }
            }
        }
        let real_bytes: usize = real.iter().map(|(_, t)| t.len()).sum();
        for (name, text) in &real {
            env.put("s3", name, text.as_bytes());
        }
        let real_dir = env.dir.join("stdlib");
        write_tree(&real_dir, &real);
        let r = env.call("scan_secrets", "s3", json!({"path": "."})).await.unwrap().response;
        let out = std::process::Command::new(common::venv_bin("detect-secrets"))
            .args(["scan", "--all-files", "."])
            .current_dir(&real_dir)
            .output()
            .unwrap();
        let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
        let theirs: usize =
            v["results"].as_object().unwrap().values().map(|a| a.as_array().unwrap().len()).sum();
        println!(
            "  noise on real code (Python 3.11 stdlib: {} files, {:.1} MB, no secrets): vana {} findings, detect-secrets {theirs}",
            real.len(),
            real_bytes as f64 / 1e6,
            r["new_findings"]
        );
        if let Some(list) = r["findings"].as_array() {
            for f in list.iter().take(8) {
                println!(
                    "    vana: {}:{} {} {}",
                    f["file"].as_str().unwrap_or(""),
                    f["line"],
                    f["rule"].as_str().unwrap_or(""),
                    f["snippet"].as_str().unwrap_or("")
                );
            }
        }
    }

    // 2. Semgrep: the fixtures, copied 10 times.
    let fx_root = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/semgrep");
    let mut code = Vec::new();
    for copy in 0..10 {
        for rule in std::fs::read_dir(&fx_root).unwrap().flatten() {
            for f in std::fs::read_dir(rule.path()).unwrap().flatten() {
                let name = format!(
                    "c{copy}/{}/{}",
                    rule.file_name().to_string_lossy(),
                    f.file_name().to_string_lossy()
                );
                code.push((name, std::fs::read_to_string(f.path()).unwrap()));
            }
        }
    }
    for (name, text) in &code {
        env.put("s2", name, text.as_bytes());
    }
    let direct_dir = env.dir.join("semgrep-direct");
    write_tree(&direct_dir.join("src"), &code);
    std::fs::write(direct_dir.join("src/.semgrepignore"), "").unwrap();
    std::fs::create_dir_all(direct_dir.join("rules")).unwrap();
    for (name, yaml) in vana_tools_ops::security::semgrep::RULE_PACKS {
        std::fs::write(direct_dir.join(format!("rules/{name}.yaml")), yaml).unwrap();
    }
    let semgrep = common::venv_bin("semgrep");
    let (mut direct, mut wrapped, mut inner) = (Vec::new(), Vec::new(), Vec::new());
    for _ in 0..5 {
        let t = Instant::now();
        let st = std::process::Command::new(&semgrep)
            .arg("scan")
            .arg("--config")
            .arg(direct_dir.join("rules"))
            .args([
                "--metrics=off",
                "--disable-version-check",
                "--no-rewrite-rule-ids",
                "--quiet",
                "--timeout",
                "30",
            ])
            .arg(format!("--json-output={}", direct_dir.join("out.json").display()))
            .arg(format!("--sarif-output={}", direct_dir.join("out.sarif").display()))
            .arg(".")
            .current_dir(direct_dir.join("src"))
            .stdout(std::process::Stdio::null())
            .status()
            .unwrap();
        assert!(st.success());
        direct.push(t.elapsed().as_secs_f64());
        let t = Instant::now();
        let call = env.call("scan_code_semgrep", "s2", json!({"path": "."})).await.unwrap();
        wrapped.push(t.elapsed().as_secs_f64());
        inner.push(call.response["seconds"].as_f64().unwrap());
        assert!(call.response["findings_total"].as_u64().unwrap() > 0);
    }
    let min = |v: &[f64]| v.iter().cloned().fold(f64::MAX, f64::min);
    println!("semgrep: {} files, 5 runs each, alternating (min, then median)", code.len());
    println!("  semgrep directly  : {:8.2} s (min)", min(&direct));
    println!("  scan_code_semgrep : {:8.2} s (min; semgrep inside it {:.2} s)", min(&wrapped), min(&inner));
    println!("  wrapper overhead  : {:+.1}% (min)", (min(&wrapped) - min(&direct)) / min(&direct) * 100.0);
    let (d, w) = (median(direct), median(wrapped));
    println!("  semgrep directly  : {d:8.2} s");
    println!("  scan_code_semgrep : {w:8.2} s");
    println!("  wrapper overhead  : {:+.1}% (target < 5%)", (w - d) / d * 100.0);
}
