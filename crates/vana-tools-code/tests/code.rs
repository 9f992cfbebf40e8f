//! The code tools against the real sandbox, alone and driven by an agent with a scripted model.

use serde_json::{json, Value};
use std::sync::Arc;
use vana_core::{Content, LlmAgent, Outcome, Runner, ToolContext, ToolRegistry};
use vana_testkit::{ScriptedModel, ScriptedTurn};
use vana_toolkit::ToolSuite;
use vana_tools_code::{CodeSuite, Sandbox};

fn sandbox() -> (Arc<Sandbox>, std::path::PathBuf) {
    let dir = std::env::temp_dir().join(format!("vana-tools-test-{}", uuid_like()));
    std::fs::create_dir_all(&dir).unwrap();
    // No policy files in `dir`: the built-in policy applies.
    (Arc::new(Sandbox::new(&dir, &dir)), dir)
}

fn uuid_like() -> String {
    use std::time::{SystemTime, UNIX_EPOCH};
    static N: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
    format!(
        "{}-{}-{}",
        std::process::id(),
        SystemTime::now().duration_since(UNIX_EPOCH).unwrap().as_nanos(),
        N.fetch_add(1, std::sync::atomic::Ordering::SeqCst)
    )
}

fn tools(sb: &Arc<Sandbox>) -> ToolRegistry {
    let mut r = ToolRegistry::new();
    for tool in CodeSuite::new(sb.clone()).tools() {
        r.register(tool);
    }
    r
}

async fn call(
    reg: &ToolRegistry,
    name: &str,
    session: &str,
    args: Value,
) -> Result<vana_core::ToolOutput, vana_core::ToolError> {
    reg.get(name).unwrap().call(args, ToolContext::standalone("test", "u", session)).await
}

#[tokio::test]
async fn execute_code_returns_exact_output_resources_and_persists_workspace_files() {
    let (sb, dir) = sandbox();
    let reg = tools(&sb);
    let out = call(&reg, "execute_code", "s1", json!({"language": "python", "code": "import sys\nprint('hi')\nprint('oops', file=sys.stderr)\nopen('/workspace/note.txt','w').write('kept')\nsys.exit(3)"})).await.unwrap();
    let r = out.response;
    assert_eq!(r["stdout"], "hi\n");
    assert_eq!(r["stderr"], "oops\n");
    assert_eq!(r["exitCode"], 3);
    assert_eq!(r["status"], "error");
    assert!(r["wallTimeMs"].as_f64().unwrap() > 0.0 && r["peakMemoryBytes"].as_u64().unwrap() > 0);
    assert!(r["files"].as_array().unwrap().iter().any(|f| f["path"] == "note.txt"), "{r}");
    // The next run of the same session sees the file; another session does not.
    let r = call(&reg, "execute_code", "s1", json!({"language": "shell", "code": "cat /workspace/note.txt"}))
        .await
        .unwrap()
        .response;
    assert_eq!(r["stdout"], "kept");
    let r = call(&reg, "execute_code", "s2", json!({"language": "javascript", "code": "const fs=require('fs'); console.log(fs.existsSync('/workspace/note.txt'))"})).await.unwrap().response;
    assert_eq!(r["stdout"], "false\n");
    sb.delete_session("s1").await.unwrap();
    assert!(!dir.join("workspaces/s1").exists());
    let _ = std::fs::remove_dir_all(&dir);
}

#[tokio::test]
async fn images_written_by_code_come_back_as_artifacts() {
    let (sb, dir) = sandbox();
    let reg = tools(&sb);
    // A tiny valid SVG written by the program.
    let code = "open('/workspace/chart.svg','w').write('<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"10\" height=\"10\"><rect width=\"10\" height=\"10\"/></svg>')";
    let out = call(&reg, "execute_code", "s", json!({"language": "python", "code": code})).await.unwrap();
    assert_eq!(out.artifacts.len(), 1);
    assert_eq!(out.artifacts[0].mime_type, "image/svg+xml");
    assert_eq!(out.artifacts[0].display_name.as_deref(), Some("chart.svg"));
    assert!(out.response.to_string().len() < 4000, "contents are not repeated in the model's result");
    let _ = std::fs::remove_dir_all(&dir);
}

#[tokio::test]
async fn bad_arguments_and_unknown_languages_are_clear_errors() {
    let (sb, dir) = sandbox();
    let reg = tools(&sb);
    let e = call(&reg, "execute_code", "s", json!({"language": "cobol", "code": "x"}))
        .await
        .unwrap_err()
        .to_string();
    assert!(e.contains("cobol") && e.contains("python"), "{e}");
    let e = call(&reg, "execute_code", "s", json!({"code": "x"})).await.unwrap_err().to_string();
    assert!(e.contains("`language`"), "{e}");
    let e = call(&reg, "execute_code", "s", json!({"language": "python", "code": "1", "timeout": -1}))
        .await
        .unwrap_err()
        .to_string();
    assert!(e.contains("timeout"), "{e}");
    let _ = std::fs::remove_dir_all(&dir);
}

#[tokio::test]
async fn debug_code_points_at_the_failing_line() {
    let (sb, dir) = sandbox();
    let reg = tools(&sb);
    let code = "def ratio(a, b):\n    return a / b\n\nprint(ratio(1, 0))\n";
    let r =
        call(&reg, "debug_code", "s", json!({"language": "python", "code": code})).await.unwrap().response;
    assert_eq!(r["errorType"], "ZeroDivisionError");
    assert_eq!(r["line"], 2);
    assert!(r["context"].as_str().unwrap().contains(">>    2 |     return a / b"), "{r}");
    let r = call(
        &reg,
        "debug_code",
        "s",
        json!({"language": "javascript", "code": "const o = null;\nconsole.log(o.x);\n"}),
    )
    .await
    .unwrap()
    .response;
    assert_eq!(r["line"], 2, "{r}");
    assert!(
        r["errorMessage"].as_str().unwrap().contains("TypeError")
            || r["stderr"].as_str().unwrap().contains("TypeError")
    );
    let r = call(
        &reg,
        "debug_code",
        "s",
        json!({"language": "python", "code": "print(1)", "error": "KeyError: 'x'"}),
    )
    .await
    .unwrap()
    .response;
    assert!(r["diagnosis"].as_str().unwrap().contains("did not reproduce"));
    let _ = std::fs::remove_dir_all(&dir);
}

#[tokio::test]
async fn packages_languages_and_security_report_real_facts() {
    let (sb, dir) = sandbox();
    let reg = tools(&sb);
    let r = call(&reg, "manage_packages", "s", json!({"action": "list", "language": "python"}))
        .await
        .unwrap()
        .response;
    assert!(r["count"].as_u64().unwrap() > 0, "{r}");
    assert!(r["packages"].as_array().unwrap().iter().any(|p| p["name"] == "pip"), "{r}");
    let e = call(
        &reg,
        "manage_packages",
        "s",
        json!({"action": "install", "language": "python", "packages": ["requests"]}),
    )
    .await
    .unwrap_err()
    .to_string();
    assert!(e.contains("network"), "{e}");
    let e = call(
        &reg,
        "manage_packages",
        "s",
        json!({"action": "install", "language": "python", "packages": ["--index-url=evil"]}),
    )
    .await
    .unwrap_err()
    .to_string();
    assert!(e.contains("not a valid package name"), "{e}");
    let r = call(&reg, "get_supported_languages", "s", json!({})).await.unwrap().response;
    let names: Vec<&str> =
        r["languages"].as_array().unwrap().iter().map(|l| l["name"].as_str().unwrap()).collect();
    assert!(
        names.contains(&"python") && names.contains(&"javascript") && names.contains(&"shell"),
        "{names:?}"
    );
    let r = call(
        &reg,
        "validate_code_security",
        "s",
        json!({"language": "python", "code": "import os\nos.system('rm -rf /')"}),
    )
    .await
    .unwrap()
    .response;
    assert!(r["count"].as_u64().unwrap() >= 1, "{r}");
    let r = call(
        &reg,
        "validate_code_security",
        "s",
        json!({"language": "python", "code": "print(sum(range(10)))"}),
    )
    .await
    .unwrap()
    .response;
    assert_eq!(r["count"], 0, "{r}");
    let _ = std::fs::remove_dir_all(&dir);
}

#[tokio::test]
async fn the_code_execution_agent_runs_code_and_recalls_its_history() {
    let (sb, dir) = sandbox();
    let reg = tools(&sb);
    let model = Arc::new(ScriptedModel::named(
        "m",
        vec![
            ScriptedTurn::call(
                "execute_code",
                json!({"language": "python", "code": "print(sum(range(101)))"}),
            ),
            ScriptedTurn::call("get_execution_history", json!({})),
            ScriptedTurn::text("The sum is 5050."),
        ],
    ));
    let agent = LlmAgent::builder("code_execution", model.clone())
        .tools(["execute_code", "get_execution_history"].iter().map(|n| reg.get(n).unwrap()))
        .build();
    let store: Arc<dyn vana_core::SessionStore> = Arc::new(vana_testkit::MemoryStore::new());
    let runner = Runner::new(agent, store);
    let session = runner.create_session("u").await.unwrap().id;
    let (events, outcome) =
        runner.run("u", &session, Content::user_text("add 0..100"), false).await.unwrap().collect().await;
    assert_eq!(outcome, Outcome::Done);
    let responses: Vec<_> = events.iter().flat_map(|e| e.function_responses()).collect();
    assert_eq!(responses[0].response["stdout"], "5050\n");
    let history = &responses[1].response;
    assert_eq!(history["count"], 1, "{history}");
    assert_eq!(history["runs"][0]["stdoutPreview"], "5050\n");
    // The model read the real output.
    let second = &model.requests()[1];
    assert!(second.contents.iter().any(|c| c
        .parts
        .iter()
        .any(|p| p.function_response.as_ref().is_some_and(|r| r.response["stdout"] == "5050\n"))));
    let _ = std::fs::remove_dir_all(&dir);
}

#[tokio::test]
async fn deleting_a_session_whose_id_names_no_workspace_removes_nothing() {
    let (sb, dir) = sandbox();
    let outside = dir.join("keep.txt");
    std::fs::write(&outside, "kept").unwrap();
    // Sessions stored before the id rule may have such ids: deleting them is not an error.
    for id in ["a b", "../keep.txt", ".."] {
        sb.delete_session(id).await.unwrap();
    }
    assert_eq!(std::fs::read_to_string(&outside).unwrap(), "kept");
    let _ = std::fs::remove_dir_all(&dir);
}
