//! `vana eval adk SET.json` on an eval set written by Google ADK's own tooling (google-adk's
//! `LocalEvalSetsManager`, from the venv of scripts/setup-adk.sh): the real binary runs each
//! case on the agent (the scripted model as the LLM) and scores ADK's metrics.

mod served;

use served::{vana, Home};
use std::process::Command;
use vana_testkit::repo_root;

#[test]
fn an_adk_written_evalset_runs_and_is_scored() {
    let python = repo_root().join(".cache/adk-venv/bin/python");
    assert!(python.is_file(), "{} missing: run scripts/setup-adk.sh", python.display());
    let home = Home::new("adk-eval");
    home.write(
        "agents/charter.yaml",
        "name: charter\ndescription: Answers arithmetic and draws charts.\ninstruction: Answer.\ntools: []\n",
    );
    let out = Command::new(&python)
        .arg(repo_root().join("crates/vana/tests/adk_write_evalset.py"))
        .arg(home.path("evals"))
        .arg("charter")
        .output()
        .unwrap();
    assert!(out.status.success(), "ADK's tooling: {}", String::from_utf8_lossy(&out.stderr));
    let file = String::from_utf8(out.stdout).unwrap().trim().to_string();
    let text = std::fs::read_to_string(&file).unwrap();
    assert!(text.contains("\"eval_set_id\"") && text.contains("\"user_content\""), "ADK's file form: {text}");
    // The faithful case: the expected tool call (with its arguments) and the expected answer.
    // The drifting case: an answer with half the expected words and a tool call not expected.
    let script = home.write(
        "script.json",
        r#"{"turns": [
            {"function_calls": [{"name": "make_chart", "args": {"title": "x"}}]},
            {"text": "Six times seven is 42."},
            {"function_calls": [{"name": "make_chart", "args": {}}]},
            {"text": "It is 64."}
        ]}"#,
    );
    let env = [
        ("VANA_MODELS_DEFAULT_MODEL", format!("scripted:{}", script.display())),
        ("VANA_AGENTS_DIR", home.path("agents").display().to_string()),
    ];
    let result = home.path("result.json");
    let out = vana(&home, &env)
        .args(["eval", "adk", &file, "--out", &result.display().to_string()])
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(
        out.status.code(),
        Some(1),
        "a failing case exits 1:\n{stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(stdout.contains("faithful: PASSED"), "{stdout}");
    assert!(stdout.contains("tool_trajectory_avg_score: 1.000"), "{stdout}");
    assert!(stdout.contains("drifting: FAILED"), "{stdout}");
    let v: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(&result).unwrap()).unwrap();
    let drifting =
        v["eval_case_results"].as_array().unwrap().iter().find(|c| c["eval_id"] == "drifting").unwrap();
    let score = |name: &str| {
        drifting["overall_eval_metric_results"]
            .as_array()
            .unwrap()
            .iter()
            .find(|m| m["metric_name"] == name)
            .unwrap()["score"]
            .as_f64()
            .unwrap()
    };
    assert_eq!(score("tool_trajectory_avg_score"), 0.0);
    // ROUGE-1 of "It is 64." against "Eight times eight is 64.": 2 shared of 3 and 5 tokens.
    assert!((score("response_match_score") - 0.5).abs() < 1e-9, "{drifting}");
    // A file that is not an eval set is refused with a clear message.
    let bad = home.write("bad.json", "{\"cases\": []}");
    let out = vana(&home, &env).args(["eval", "adk", &bad.display().to_string()]).output().unwrap();
    assert!(!out.status.success());
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("eval_set_id"),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}
