//! `scan_secrets` against detect-secrets (the reference, PyPI, pinned in
//! scripts/setup-security.sh) on the same generated repository: recall at least detect-secrets',
//! decoys not reported, redaction, baselines, hostile paths.

mod common;

use common::corpus;
use common::Env;
use serde_json::{json, Value};
use std::collections::HashSet;
use std::path::Path;

fn write_tree(root: &Path, files: &[(String, String)]) {
    for (name, text) in files {
        let p = root.join(name);
        std::fs::create_dir_all(p.parent().unwrap()).unwrap();
        std::fs::write(p, text).unwrap();
    }
}

/// (file, line) pairs detect-secrets reports for the tree at `root`.
fn detect_secrets(root: &Path) -> HashSet<(String, usize)> {
    let out = std::process::Command::new(common::venv_bin("detect-secrets"))
        .args(["scan", "--all-files", "."])
        .current_dir(root)
        .output()
        .unwrap();
    assert!(out.status.success(), "detect-secrets failed: {}", String::from_utf8_lossy(&out.stderr));
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    let mut found = HashSet::new();
    for (file, items) in v["results"].as_object().unwrap() {
        for item in items.as_array().unwrap() {
            found.insert((
                file.trim_start_matches("./").to_string(),
                item["line_number"].as_u64().unwrap() as usize,
            ));
        }
    }
    found
}

fn ours(result: &Value) -> HashSet<(String, usize)> {
    result["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| (f["file"].as_str().unwrap().to_string(), f["line"].as_u64().unwrap() as usize))
        .collect()
}

#[tokio::test(flavor = "multi_thread")]
async fn recall_matches_or_beats_detect_secrets_on_the_same_repository() {
    let corpus = corpus::repository(7);
    let env = Env::new();
    for (name, text) in &corpus.files {
        env.put("s1", name, text.as_bytes());
    }
    let reference_dir = env.dir.join("reference-tree");
    write_tree(&reference_dir, &corpus.files);

    let result = env.ok("scan_secrets", json!({"path": "."})).await;
    let mine = ours(&result);
    let theirs = detect_secrets(&reference_dir);

    let planted: Vec<(String, usize)> = corpus.planted.iter().map(|p| (p.file.clone(), p.line)).collect();
    let hit = |found: &HashSet<(String, usize)>| planted.iter().filter(|p| found.contains(p)).count();
    let (our_hits, their_hits) = (hit(&mine), hit(&theirs));
    let decoys: HashSet<(String, usize)> = corpus.decoys.iter().cloned().collect();
    let our_false = mine.iter().filter(|f| !planted.contains(f)).count();
    let their_false = theirs.iter().filter(|f| !planted.contains(f)).count();
    let missed: Vec<_> =
        corpus.planted.iter().filter(|p| !mine.contains(&(p.file.clone(), p.line))).collect();
    eprintln!(
        "planted {}: vana found {our_hits} ({our_false} other findings), detect-secrets found {their_hits} ({their_false} other findings)",
        planted.len()
    );
    assert!(
        our_hits >= their_hits,
        "recall below detect-secrets': {our_hits} < {their_hits}; missed {missed:?}"
    );
    assert_eq!(our_hits, planted.len(), "every planted secret is found; missed {missed:?}");
    let decoy_hits: Vec<_> = mine.intersection(&decoys).collect();
    assert!(
        decoy_hits.is_empty(),
        "decoys (placeholders, env references, lock-file hashes) reported: {decoy_hits:?}"
    );
    assert!(our_false <= their_false, "more false findings than detect-secrets: {our_false} > {their_false}");

    // Every planted kind is named by the right rule on the right line.
    let by_line: std::collections::HashMap<(String, usize), String> = result["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| {
            (
                (f["file"].as_str().unwrap().into(), f["line"].as_u64().unwrap() as usize),
                f["rule"].as_str().unwrap().into(),
            )
        })
        .collect();
    for p in &corpus.planted {
        let rule = &by_line[&(p.file.clone(), p.line)];
        let expected = match p.kind {
            "password" => "password-assignment",
            "high-entropy" => "high-entropy-string",
            "stripe" => "stripe-key",
            "slack" => "slack-token",
            "google" => "google-api-key",
            "openai" => "openai-key",
            "npm" => "npm-token",
            "github" => "github",
            other => other,
        };
        assert!(rule.starts_with(expected), "{}:{} ({}) reported as {rule}", p.file, p.line, p.kind);
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn findings_are_redacted_and_a_baseline_accepts_them() {
    let env = Env::new();
    let mut rng = corpus::Rng(3);
    let token = corpus::Secrets(&mut rng).github();
    let aws = corpus::Secrets(&mut rng).aws_id();
    env.put("s1", "ci/deploy.sh", format!("#!/bin/sh\nexport GITHUB_TOKEN={token}\necho done\n").as_bytes());
    let r = env.ok("scan_secrets", json!({"path": "ci", "write_baseline": "secrets-baseline.json"})).await;
    assert_eq!(r["new_findings"], 1, "{r}");
    let f = &r["findings"][0];
    assert_eq!(
        (f["file"].as_str(), f["line"].as_u64(), f["rule"].as_str()),
        (Some("ci/deploy.sh"), Some(2), Some("github-token"))
    );
    let shown = serde_json::to_string(&r).unwrap();
    assert!(!shown.contains(&token), "the secret itself is never returned: {shown}");
    assert!(f["snippet"].as_str().unwrap().starts_with("export GITHUB_TOKEN=gh"), "{f}");
    assert!(String::from_utf8(env.get("s1", "secrets-baseline.json"))
        .unwrap()
        .contains(f["fingerprint"].as_str().unwrap()));

    // A new secret next to the accepted one: only the new one is reported.
    env.put(
        "s1",
        "ci/deploy.sh",
        format!("#!/bin/sh\n\nexport GITHUB_TOKEN={token}\nKEY={aws}\n").as_bytes(),
    );
    let r = env.ok("scan_secrets", json!({"path": "ci", "baseline": "secrets-baseline.json"})).await;
    assert_eq!((r["new_findings"].as_u64(), r["accepted_findings"].as_u64()), (Some(1), Some(1)), "{r}");
    assert_eq!(r["findings"][0]["rule"], "aws-access-key-id");
    let fp = r["findings"][0]["fingerprint"].as_str().unwrap().to_string();
    let r = env
        .ok("scan_secrets", json!({"path": "ci", "baseline": "secrets-baseline.json", "allow": [fp]}))
        .await;
    assert_eq!((r["new_findings"].as_u64(), r["accepted_findings"].as_u64()), (Some(0), Some(2)), "{r}");

    // An inline allow mark accepts its line.
    let r = env
        .ok("scan_secrets", json!({"text": format!("token = \"{token}\"  # pragma: allowlist secret\n")}))
        .await;
    assert_eq!(r["new_findings"], 0, "{r}");
}

#[tokio::test(flavor = "multi_thread")]
async fn inline_text_binary_files_and_bad_input() {
    let env = Env::new();
    let mut rng = corpus::Rng(5);
    let stripe = corpus::Secrets(&mut rng).stripe();
    let r =
        env.ok("scan_secrets", json!({"text": format!("line one\nstripe.api_key = \"{stripe}\"\n")})).await;
    assert_eq!(
        (r["findings"][0]["file"].as_str(), r["findings"][0]["line"].as_u64()),
        (Some("<text>"), Some(2)),
        "{r}"
    );
    assert_eq!(r["findings"][0]["rule"], "stripe-key");

    // A binary file holding a token shape is skipped and listed as skipped.
    let mut bin = vec![0u8, 1, 2, 3];
    bin.extend_from_slice(stripe.as_bytes());
    env.put("s1", "blob.bin", &bin);
    let r = env.ok("scan_secrets", json!({"path": "blob.bin"})).await;
    assert_eq!(r["new_findings"], 0, "{r}");
    assert_eq!(r["skipped"][0]["reason"], "binary", "{r}");

    // Hostile and bad input: refused with a clear error, nothing scanned.
    let e = env.err("scan_secrets", json!({"path": "../../etc/passwd"})).await.to_string();
    assert!(e.contains("no `..`"), "{e}");
    let e = env.err("scan_secrets", json!({"path": "/etc/passwd"})).await.to_string();
    assert!(e.contains("not absolute"), "{e}");
    let e = env.err("scan_secrets", json!({"path": "missing"})).await.to_string();
    assert!(e.contains("does not exist"), "{e}");
    let e = env.err("scan_secrets", json!({"text": "a", "path": "b"})).await.to_string();
    assert!(e.contains("not both"), "{e}");
    let e = env.err("scan_secrets", json!({"text": "x", "allow": ["nope"]})).await.to_string();
    assert!(e.contains("not a fingerprint"), "{e}");
    env.put("s1", "bad-baseline.json", b"{\"findings\": [1]}");
    let e = env.err("scan_secrets", json!({"text": "x", "baseline": "bad-baseline.json"})).await.to_string();
    assert!(e.contains("not a baseline"), "{e}");

    // A link planted in the workspace (as sandboxed code could) is refused, not followed.
    std::os::unix::fs::symlink("/etc/passwd", env.workspace_dir("s1").join("link")).unwrap();
    let e = env.err("scan_secrets", json!({"path": "link"})).await;
    assert!(matches!(e, vana_core::ToolError::Blocked(_)), "{e}");
}

#[tokio::test(flavor = "multi_thread")]
async fn recall_over_twenty_generated_repositories() {
    let env = Env::new();
    let reference_dir = env.dir.join("reference-tree");
    let mut planted = Vec::new();
    let mut files = Vec::new();
    for seed in 100..120u64 {
        let c = corpus::repository(seed);
        for (name, text) in c.files {
            files.push((format!("r{seed}/{name}"), text));
        }
        planted.extend(c.planted.into_iter().map(|p| (format!("r{seed}/{}", p.file), p.line, p.kind)));
    }
    for (name, text) in &files {
        env.put("s1", name, text.as_bytes());
    }
    write_tree(&reference_dir, &files);
    let r = env.ok("scan_secrets", json!({"path": "."})).await;
    assert_eq!(r["truncated"], false);
    let mine = ours(&r);
    let theirs = detect_secrets(&reference_dir);
    let missed: Vec<_> = planted.iter().filter(|(f, l, _)| !mine.contains(&(f.clone(), *l))).collect();
    let their_hits = planted.iter().filter(|(f, l, _)| theirs.contains(&(f.clone(), *l))).count();
    let truth: HashSet<(String, usize)> = planted.iter().map(|(f, l, _)| (f.clone(), *l)).collect();
    let our_false = mine.difference(&truth).count();
    let their_false = theirs.difference(&truth).count();
    eprintln!(
        "20 repositories, {} planted: vana {} ({our_false} other findings), detect-secrets {their_hits} ({their_false} other findings)",
        planted.len(),
        planted.len() - missed.len()
    );
    assert!(missed.is_empty(), "missed: {missed:?}");
    assert!(our_false <= their_false, "{our_false} false findings, detect-secrets {their_false}");
}
