//! The offline default, end to end: no API key, no network service. `vana run` routes the task
//! with the semantic router and the specialist runs on the embedded local model (SmolLM2-135M
//! through llama.cpp), calling a real tool. Model files come from `$VANA_MODELS_DIR` (the test
//! script shares one provisioned copy), else the fresh home's models dir.

use serde_json::Value;
use std::path::{Path, PathBuf};
use std::process::Command;

fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn vana(home: &Path) -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_vana"));
    c.current_dir(home).env("VANA_HOME", home).env("VANA_USER", "tester").env("NO_COLOR", "1");
    for (k, _) in std::env::vars() {
        let cloud_key = k.ends_with("_API_KEY");
        if cloud_key || (k.starts_with("VANA_") && k != "VANA_MODELS_DIR") {
            c.env_remove(&k);
        }
    }
    c
}

#[test]
fn with_no_api_key_a_data_task_reaches_data_science_on_the_local_model_and_calls_a_tool() {
    let home = std::env::temp_dir().join(format!("vana-local-e2e-{}", std::process::id()));
    std::fs::create_dir_all(home.join("examples")).unwrap();
    std::fs::copy(repo().join("examples/sales.csv"), home.join("examples/sales.csv")).unwrap();

    let out = vana(&home).args(["config", "show"]).output().unwrap();
    let shown = String::from_utf8_lossy(&out.stdout);
    assert!(shown.contains("default model: local/smollm2-135m"), "{shown}");

    let out = vana(&home)
        .args(["run", "--json", "analyze examples/sales.csv and give me summary statistics"])
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    let events: Vec<Value> =
        String::from_utf8_lossy(&out.stdout).lines().filter_map(|l| serde_json::from_str(l).ok()).collect();
    assert!(!events.is_empty(), "no events; stderr: {stderr}");
    let calls: Vec<&Value> = events
        .iter()
        .flat_map(|e| e["content"]["parts"].as_array().into_iter().flatten())
        .filter_map(|p| p.get("functionCall"))
        .collect();
    let transfer = calls.iter().find(|c| c["name"] == "transfer_to_agent").expect("a transfer");
    assert_eq!(transfer["args"]["agent_name"], "data_science", "{transfer}");
    assert_eq!(transfer["args"]["router"]["decidedBy"], "router", "{transfer}");
    let by_specialist: Vec<&Value> = events
        .iter()
        .filter(|e| e["author"] == "data_science")
        .flat_map(|e| e["content"]["parts"].as_array().into_iter().flatten())
        .filter_map(|p| p.get("functionCall"))
        .filter(|c| c["name"] != "transfer_to_agent")
        .collect();
    assert!(!by_specialist.is_empty(), "data_science called no tool: {events:#?}");
    // Every call the local model made is well formed: a declared tool with object arguments.
    for call in &by_specialist {
        assert!(call["args"].is_object(), "{call}");
    }
    let responses = events
        .iter()
        .filter(|e| e["author"] == "data_science")
        .flat_map(|e| e["content"]["parts"].as_array().into_iter().flatten())
        .filter(|p| p.get("functionResponse").is_some())
        .count();
    assert!(responses >= 1, "the tool ran and answered: {events:#?}");
    assert_eq!(out.status.code(), Some(0), "stderr: {stderr}");
    let _ = std::fs::remove_dir_all(&home);
}
