//! `vana mcp` as a user runs it, against the MCP servers `scripts/setup-mcp.sh` installs; and
//! `vana mcp serve` checked by a real MCP client (the MCP Inspector's CLI mode).

use serde_json::{json, Value};
use std::path::PathBuf;
use std::process::{Command, Output};

fn mcp_home() -> PathBuf {
    let home = std::env::var_os("VANA_MCP_HOME")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../.cache/mcp"));
    assert!(
        home.join("node/node_modules/.bin/mcp-inspector").exists(),
        "the MCP test servers are not installed in {}; run `VANA_MCP_HOME={} scripts/setup-mcp.sh`",
        home.display(),
        home.display()
    );
    home.canonicalize().unwrap()
}

struct Home {
    dir: PathBuf,
}

impl Home {
    fn new() -> Self {
        static N: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
        let n = N.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
        let dir = std::env::temp_dir().join(format!("vana-mcp-cli-{}-{n}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        Home { dir }
    }

    /// Environment of a `vana` run: this home, the installed servers, no API keys.
    fn env(&self) -> Vec<(String, String)> {
        vec![
            ("VANA_HOME".into(), self.dir.display().to_string()),
            ("VANA_MCP_HOME".into(), mcp_home().display().to_string()),
            ("VANA_USER".into(), "tester".into()),
            ("NO_COLOR".into(), "1".into()),
        ]
    }

    fn cmd(&self, args: &[&str]) -> Command {
        let mut c = Command::new(env!("CARGO_BIN_EXE_vana"));
        c.args(args).current_dir(&self.dir).envs(self.env());
        for (k, _) in std::env::vars().filter(|(k, _)| {
            (k.starts_with("VANA_") && k != "VANA_HOME" && k != "VANA_MCP_HOME") || k.ends_with("_API_KEY")
        }) {
            c.env_remove(k);
        }
        for k in ["GITHUB_TOKEN", "POSTGRES_URL", "REPLICATE_API_TOKEN", "VTAI_TOKEN", "SENTRY_ACCESS_TOKEN"]
        {
            c.env_remove(k);
        }
        c
    }

    fn run(&self, args: &[&str]) -> Output {
        self.cmd(args).output().unwrap()
    }

    fn write(&self, name: &str, text: &str) -> PathBuf {
        let p = self.dir.join(name);
        std::fs::create_dir_all(p.parent().unwrap()).unwrap();
        std::fs::write(&p, text).unwrap();
        p
    }

    /// Runs the MCP Inspector's CLI against `vana mcp serve` with `args`.
    fn inspector(&self, extra_env: &[(&str, &str)], args: &[&str]) -> Value {
        let mut c = Command::new(mcp_home().join("node/node_modules/.bin/mcp-inspector"));
        c.arg("--cli").current_dir(&self.dir);
        // The inspector gives the server a minimal environment: pass ours explicitly.
        for (k, v) in self.env() {
            c.arg("-e").arg(format!("{k}={v}"));
        }
        for (k, v) in extra_env {
            c.arg("-e").arg(format!("{k}={v}"));
        }
        c.arg(env!("CARGO_BIN_EXE_vana")).args(["mcp", "serve"]).args(args);
        let out = c.output().unwrap();
        let stdout = String::from_utf8_lossy(&out.stdout);
        // The inspector exits non-zero when a tool answers `isError`; its JSON is still printed
        // (callers assert on `isError`). No JSON at all is a failure.
        let start = stdout.find('{').unwrap_or_else(|| {
            panic!("no JSON from the inspector: {stdout}\n{}", String::from_utf8_lossy(&out.stderr))
        });
        serde_json::from_str(&stdout[start..]).unwrap_or_else(|e| panic!("{e}: {stdout}"))
    }
}

impl Drop for Home {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

fn text(o: &Output) -> (String, String) {
    (String::from_utf8_lossy(&o.stdout).into_owned(), String::from_utf8_lossy(&o.stderr).into_owned())
}

#[test]
fn mcp_list_says_which_variable_to_set_and_starts_nothing() {
    let home = Home::new();
    let out = home.run(&["mcp", "list", "--json"]);
    assert!(out.status.success(), "{:?}", text(&out));
    let rows: Vec<Value> = serde_json::from_slice(&out.stdout).unwrap();
    let row =
        |n: &str| rows.iter().find(|r| r["name"] == n).unwrap_or_else(|| panic!("{n} not listed")).clone();
    assert_eq!(row("brave_search")["state"], "unavailable");
    assert_eq!(row("brave_search")["missingEnv"], json!(["BRAVE_API_KEY"]));
    assert_eq!(row("github")["missingEnv"], json!(["GITHUB_TOKEN"]));
    assert_eq!(row("postgresql")["missingEnv"], json!(["POSTGRES_URL"]));
    assert_eq!(row("docker")["state"], "disabled");
    for n in ["everything", "fetch", "time", "sqlite", "playwright", "filesystem", "memory", "git"] {
        assert_eq!(row(n)["state"], "ready", "{n}: {}", row(n));
        assert_eq!(row(n)["calls"], 0);
    }
    let out = home.run(&["mcp", "list"]);
    let (stdout, _) = text(&out);
    assert!(stdout.contains("set BRAVE_API_KEY to enable it"), "{stdout}");
    assert!(stdout.contains("set GRAFANA_URL and GRAFANA_SERVICE_ACCOUNT_TOKEN to enable it"), "{stdout}");
}

#[test]
fn mcp_tools_call_and_test_talk_to_a_real_server() {
    let home = Home::new();
    let out = home.run(&["mcp", "tools", "time"]);
    let (stdout, stderr) = text(&out);
    assert!(out.status.success(), "{stderr}");
    assert!(stdout.contains("time__get_current_time") && stdout.contains("time__convert_time"), "{stdout}");
    let out = home.run(&["mcp", "call", "time", "get_current_time", r#"{"timezone": "Europe/Paris"}"#]);
    let r: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert!(r["result"]["text"].as_str().unwrap().contains("Europe/Paris"), "{r}");
    let out = home.run(&["mcp", "test", "everything"]);
    let (stdout, stderr) = text(&out);
    assert!(out.status.success(), "{stdout}{stderr}");
    assert!(stdout.contains("OK") && stdout.contains("tools"), "{stdout}");
    // Errors a user can meet say what to do.
    let out = home.run(&["mcp", "call", "brave_search", "brave_web_search", "{}"]);
    assert!(text(&out).1.contains("set BRAVE_API_KEY to enable it"), "{:?}", text(&out));
    let out = home.run(&["mcp", "tools", "nosuch"]);
    assert!(text(&out).1.contains("unknown MCP server `nosuch`"), "{:?}", text(&out));
}

#[test]
fn an_agent_calls_mcp_tools_and_the_result_event_carries_text_and_image() {
    let home = Home::new();
    home.write("mcp_servers.yaml", "servers:\n  everything:\n    agents: [calc]\n");
    home.write(
        "agents/calc.yaml",
        "name: calc\ndescription: Adds numbers with an MCP server\ninstruction: Use the tools to answer exactly and briefly.\n",
    );
    let script = home.write(
        "script.json",
        &json!([
            {"function_calls": [
                {"name": "everything__get-sum", "args": {"a": 20, "b": 22}},
                {"name": "everything__get-tiny-image", "args": {}}
            ]},
            {"text": "20 + 22 = 42."}
        ])
        .to_string(),
    );
    let model = format!("scripted:{}", script.display());
    let out = home.run(&["run", "--json", "--agent", "calc", "--model", &model, "what is 20 + 22?"]);
    let (stdout, stderr) = text(&out);
    assert!(out.status.success(), "{stdout}\n{stderr}");
    let events: Vec<Value> = stdout.lines().map(|l| serde_json::from_str(l).unwrap()).collect();
    let responses: Vec<&Value> = events
        .iter()
        .flat_map(|e| e["content"]["parts"].as_array().into_iter().flatten())
        .filter(|p| p.get("functionResponse").is_some())
        .collect();
    let sum = responses.iter().find(|p| p["functionResponse"]["name"] == "everything__get-sum").unwrap();
    assert!(sum["functionResponse"]["response"]["text"].as_str().unwrap().contains("42"), "{sum}");
    let image = events
        .iter()
        .flat_map(|e| e["content"]["parts"].as_array().into_iter().flatten())
        .find(|p| p["inlineData"]["mimeType"] == "image/png")
        .unwrap_or_else(|| panic!("no image part in {stdout}"));
    assert!(image["inlineData"]["data"].as_str().unwrap().starts_with("iVBOR"));
    assert_eq!(events.last().unwrap()["content"]["parts"][0]["text"], "20 + 22 = 42.");
}

#[test]
fn the_mcp_inspector_lists_and_calls_our_tools_through_vana_mcp_serve() {
    let home = Home::new();
    let listed = home.inspector(&[], &["--method", "tools/list"]);
    let names: Vec<&str> =
        listed["tools"].as_array().unwrap().iter().map(|t| t["name"].as_str().unwrap()).collect();
    for n in ["ask_vana", "ask_research", "ask_nlp", "ask_code_execution"] {
        assert!(names.contains(&n), "{n} missing from {names:?}");
    }
    // Every tool VANA registers is offered.
    let out = home.run(&["tools", "list", "--json"]);
    let registered: Vec<Value> = serde_json::from_slice(&out.stdout).unwrap();
    assert!(!registered.is_empty());
    for t in &registered {
        assert!(names.contains(&t["name"].as_str().unwrap()), "{} not offered: {names:?}", t["name"]);
    }

    let r = home.inspector(
        &[],
        &[
            "--method",
            "tools/call",
            "--tool-name",
            "execute_code",
            "--tool-arg",
            "language=python",
            "--tool-arg",
            "code=print(6*7)",
        ],
    );
    assert_ne!(r["isError"], json!(true), "{r}");
    assert_eq!(r["structuredContent"]["stdout"], "42\n", "{r}");

    let script = home.write("script.json", &json!([{"text": "The review is positive."}]).to_string());
    let model = format!("scripted:{}", script.display());
    let r = home.inspector(
        &[("VANA_MODELS_DEFAULT_MODEL", &model)],
        &[
            "--method",
            "tools/call",
            "--tool-name",
            "ask_nlp",
            "--tool-arg",
            "task=is this review positive? 'Loved it'",
        ],
    );
    assert_ne!(r["isError"], json!(true), "{r}");
    assert_eq!(r["content"][0]["text"], "The review is positive.", "{r}");

    // An agent that fails answers with isError and the reason.
    let r = home.inspector(
        &[("VANA_MODELS_DEFAULT_MODEL", "openai/gpt-4.1-mini")],
        &["--method", "tools/call", "--tool-name", "ask_nlp", "--tool-arg", "task=hello"],
    );
    assert_eq!(r["isError"], json!(true), "{r}");
    assert!(r["content"][0]["text"].as_str().unwrap().contains("OPENAI_API_KEY"), "{r}");
}
