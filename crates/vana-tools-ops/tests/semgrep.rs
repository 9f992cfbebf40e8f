//! `scan_code_semgrep` with real semgrep (the pinned PyPI release in the venv
//! scripts/setup-security.sh makes) and VANA's rule packs: every shipped rule finds its positive
//! fixture and not its negative one (all fixtures in one scan), inline code, SARIF in the
//! workspace, and a missing semgrep named with its install command.

mod common;

use common::Env;
use serde_json::{json, Value};
use std::collections::{BTreeSet, HashMap, HashSet};
use std::path::Path;

fn fixtures() -> Vec<(String, Vec<u8>)> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/semgrep");
    let mut out = Vec::new();
    for rule in std::fs::read_dir(&root).unwrap().flatten() {
        for f in std::fs::read_dir(rule.path()).unwrap().flatten() {
            let name = format!(
                "fixtures/{}/{}",
                rule.file_name().to_string_lossy(),
                f.file_name().to_string_lossy()
            );
            out.push((name, std::fs::read(f.path()).unwrap()));
        }
    }
    out.sort();
    out
}

/// The ids of the shipped rules, read from the packs.
fn shipped_rules() -> BTreeSet<String> {
    let mut ids = BTreeSet::new();
    for (_, yaml) in vana_tools_ops::security::semgrep::RULE_PACKS {
        let v: serde_yaml::Value = serde_yaml::from_str(yaml).unwrap();
        for r in v["rules"].as_sequence().unwrap() {
            ids.insert(r["id"].as_str().unwrap().to_string());
        }
    }
    ids
}

#[tokio::test(flavor = "multi_thread")]
async fn every_shipped_rule_finds_its_positive_and_not_its_negative() {
    let env = Env::new();
    let fx = fixtures();
    for (name, bytes) in &fx {
        env.put("s1", name, bytes);
    }
    let rules = shipped_rules();
    let with_fixtures: BTreeSet<String> =
        fx.iter().map(|(n, _)| n.split('/').nth(1).unwrap().to_string()).collect();
    assert_eq!(rules, with_fixtures, "every shipped rule has a fixture pair and every fixture a rule");
    assert!(rules.len() >= 50, "{} rules", rules.len());

    let r = env.ok("scan_code_semgrep", json!({"path": "fixtures"})).await;
    assert_eq!(r["scan_errors"], json!([]), "{}", r["scan_errors"]);
    assert_eq!(r["files_scanned"].as_u64(), Some(fx.len() as u64), "{r}");
    let mut hits: HashMap<String, HashSet<String>> = HashMap::new();
    for f in r["findings"].as_array().unwrap() {
        hits.entry(f["file"].as_str().unwrap().to_string())
            .or_default()
            .insert(f["rule"].as_str().unwrap().to_string());
        for k in ["cwe", "severity", "message", "snippet", "fix"] {
            assert!(!f[k].as_str().unwrap_or("").is_empty(), "finding without {k}: {f}");
        }
        assert!(f["cwe"].as_str().unwrap().starts_with("CWE-"), "{f}");
        assert!(f["line"].as_u64().unwrap() >= 1);
    }
    let mut failures = Vec::new();
    for rule in &rules {
        let of = |kind: &str| {
            fx.iter()
                .find(|(n, _)| n.starts_with(&format!("fixtures/{rule}/{kind}.")))
                .map(|(n, _)| hits.get(n).is_some_and(|s| s.contains(rule)))
                .unwrap()
        };
        if !of("positive") {
            failures.push(format!("{rule}: positive not found"));
        }
        if of("negative") {
            failures.push(format!("{rule}: negative reported"));
        }
    }
    assert!(failures.is_empty(), "{failures:#?}");

    // The SARIF report is in the workspace, with the same results.
    let sarif: Value = serde_json::from_slice(&env.get("s1", r["sarif"].as_str().unwrap())).unwrap();
    assert_eq!(sarif["version"], "2.1.0");
    assert_eq!(
        sarif["runs"][0]["results"].as_array().unwrap().len() as u64,
        r["findings_total"].as_u64().unwrap()
    );
    let uri = sarif["runs"][0]["results"][0]["locations"][0]["physicalLocation"]["artifactLocation"]["uri"]
        .as_str()
        .unwrap();
    assert!(uri.starts_with("fixtures/"), "SARIF paths are workspace paths: {uri}");

    // Inline code, language guessed, one pack, SARIF to a chosen path.
    let code = "import os\n\ndef handler(name):\n    os.system(\"convert \" + name)\n";
    let r = env
        .ok(
            "scan_code_semgrep",
            json!({"code": code, "packs": ["injection"], "sarif_path": "out/inline.sarif"}),
        )
        .await;
    let f = &r["findings"][0];
    assert_eq!(
        (f["rule"].as_str(), f["line"].as_u64(), f["file"].as_str()),
        (Some("py-command-injection"), Some(4), Some("code.py")),
        "{r}"
    );
    assert_eq!(f["snippet"], "    os.system(\"convert \" + name)");
    assert_eq!(f["cwe"], "CWE-78: OS Command Injection");
    assert_eq!(r["sarif"], "out/inline.sarif");
}

#[tokio::test(flavor = "multi_thread")]
async fn bad_input_and_a_missing_semgrep_are_clear_errors() {
    let env = Env::with(|c| c.semgrep = Some("/nonexistent/bin/semgrep".into()));
    let e = env.err("scan_code_semgrep", json!({"code": "x = 1\n", "language": "python"})).await.to_string();
    assert!(e.contains("/nonexistent/bin/semgrep") && e.contains("pip install 'semgrep==1.187.0'"), "{e}");

    // No semgrep configured and the managed environment cannot be made (no such Python): the
    // error says what failed and the exact commands to set it up by hand.
    let env = Env::with(|c| {
        c.semgrep = None;
        c.base_python = "/nonexistent/bin/python3".into();
    });
    let e = env.err("scan_code_semgrep", json!({"code": "x = 1\n", "language": "python"})).await;
    let msg = e.to_string();
    assert!(matches!(e, vana_core::ToolError::Unavailable(_)), "{msg}");
    assert!(msg.contains("could not run python3 -m venv"), "{msg}");
    assert!(
        msg.contains("/nonexistent/bin/python3 -m venv")
            && msg.contains("semgrep-env/bin/python -m pip install 'semgrep==1.187.0'"),
        "{msg}"
    );

    let env = Env::new();
    let e = env.err("scan_code_semgrep", json!({"code": "x", "language": "cobol"})).await.to_string();
    assert!(e.contains("`cobol` is not covered"), "{e}");
    let e = env.err("scan_code_semgrep", json!({"code": "x = 1", "packs": ["nope"]})).await.to_string();
    assert!(e.contains("`nope` is not one of VANA's rule packs"), "{e}");
    let e = env.err("scan_code_semgrep", json!({"path": "../x"})).await.to_string();
    assert!(e.contains("no `..`"), "{e}");
    let e = env
        .err("scan_code_semgrep", json!({"code": "x = 1", "sarif_path": "/etc/x.sarif"}))
        .await
        .to_string();
    assert!(e.contains("sarif_path"), "{e}");
}
