//! The `vana` binary as a user runs it: a fresh home directory, no API keys, and the scripted
//! model (the one allowed stand-in) where a model must answer.

use serde_json::{json, Value};
use std::io::Write;
use std::path::PathBuf;
use std::process::{Command, Output, Stdio};

struct Home {
    dir: PathBuf,
}

impl Home {
    fn new() -> Self {
        let dir = std::env::temp_dir()
            .join(format!("vana-cli-{}", std::process::id()))
            .join(format!("{:x}", rand_suffix()));
        std::fs::create_dir_all(&dir).unwrap();
        Home { dir }
    }

    fn cmd(&self, args: &[&str]) -> Command {
        let mut c = Command::new(env!("CARGO_BIN_EXE_vana"));
        c.args(args)
            .current_dir(&self.dir)
            .env("VANA_HOME", &self.dir)
            .env("VANA_USER", "tester")
            .env("NO_COLOR", "1");
        for k in
            ["GEMINI_API_KEY", "GOOGLE_API_KEY", "OPENAI_API_KEY", "ANTHROPIC_API_KEY", "OPENROUTER_API_KEY"]
        {
            c.env_remove(k);
        }
        for (k, _) in std::env::vars().filter(|(k, _)| k.starts_with("VANA_") && k != "VANA_HOME") {
            c.env_remove(k);
        }
        c
    }

    fn run(&self, args: &[&str]) -> Output {
        self.cmd(args).output().unwrap()
    }

    fn script(&self, turns: Value) -> String {
        let p = self.dir.join(format!("script-{:x}.json", rand_suffix()));
        std::fs::write(&p, turns.to_string()).unwrap();
        format!("scripted:{}", p.display())
    }
}

impl Drop for Home {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

fn rand_suffix() -> u128 {
    use std::time::{SystemTime, UNIX_EPOCH};
    static N: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
    SystemTime::now().duration_since(UNIX_EPOCH).unwrap().as_nanos()
        + N.fetch_add(1, std::sync::atomic::Ordering::SeqCst) as u128
}

fn text(o: &Output) -> (String, String) {
    (String::from_utf8_lossy(&o.stdout).into_owned(), String::from_utf8_lossy(&o.stderr).into_owned())
}

#[test]
fn agents_list_shows_the_orchestrator_and_every_specialist_with_missing_tools() {
    let home = Home::new();
    // The user's own agent, whose one tool this build does not have.
    std::fs::create_dir_all(home.dir.join("agents")).unwrap();
    std::fs::write(
        home.dir.join("agents/hologram_studio.yaml"),
        "name: hologram_studio\ndescription: Renders holograms.\ninstruction: Render holograms with the tool.\ntools: [render_hologram]\n",
    )
    .unwrap();
    let out = home.run(&["agents", "list", "--json"]);
    assert!(out.status.success(), "{:?}", text(&out));
    let agents: Vec<Value> = serde_json::from_slice(&out.stdout).unwrap();
    let names: Vec<&str> = agents.iter().map(|a| a["name"].as_str().unwrap()).collect();
    for n in [
        "vana",
        "code_execution",
        "data_science",
        "browser_automation",
        "research",
        "database",
        "devops",
        "security",
        "creative_design",
        "enterprise_integration",
        "advanced_analytics",
        "nlp",
    ] {
        assert!(names.contains(&n), "{n} missing from {names:?}");
    }
    let design = agents.iter().find(|a| a["name"] == "creative_design").unwrap();
    assert!(design["description"].as_str().unwrap().contains("mockups"));
    // A tool this build lacks is reported as missing, never faked.
    let holo = agents.iter().find(|a| a["name"] == "hologram_studio").expect("the user's agent is listed");
    assert_eq!(holo["missingTools"], json!(["render_hologram"]), "{holo}");
    assert_eq!(holo["available"], false, "{holo}");
    let code = agents.iter().find(|a| a["name"] == "code_execution").unwrap();
    assert_eq!(code["available"], true, "{code}");
    let code = agents.iter().find(|a| a["name"] == "code_execution").unwrap();
    assert_eq!(code["missingTools"], json!([]), "every code tool exists: {code}");

    // The text listing ends with the tool suites: what each has and lacks.
    let out = home.run(&["agents", "list"]);
    let (stdout, _) = text(&out);
    let suites = stdout.split("tool suites").nth(1).expect("a tool suites section");
    for line in
        ["code: ", "data: ready (6 tools)", "analytics: ready (2 tools)", "sql: ready (6 tools)", "nlp: "]
    {
        assert!(suites.contains(line), "{line:?} in {suites}");
    }
}

#[test]
fn a_cloud_model_without_its_key_says_which_model_it_tried_and_how_to_configure_one() {
    let home = Home::new();
    let out =
        home.cmd(&["run", "hello"]).env("VANA_MODELS_DEFAULT_MODEL", "gemini-2.5-flash").output().unwrap();
    let (_, err) = text(&out);
    assert_eq!(out.status.code(), Some(1), "{err}");
    assert!(err.contains("gemini-2.5-flash"), "{err}");
    assert!(err.contains("GEMINI_API_KEY"), "{err}");
    assert!(err.contains("default_model"), "{err}");
}

#[test]
fn run_delegates_to_a_specialist_streams_and_persists_the_session() {
    let home = Home::new();
    let model = home.script(json!([
        {"function_calls": [{"name": "transfer_to_agent", "args": {"agent_name": "data_science"}}]},
        {"text": "Revenue grew 12%.", "usage": {"prompt_tokens": 40, "completion_tokens": 6}}
    ]));
    let out = home.run(&["run", "--model", &model, "is", "revenue", "up", "this", "year?"]);
    let (stdout, stderr) = text(&out);
    assert!(out.status.success(), "{stdout}\n{stderr}");
    assert!(stdout.contains("vana hands over to data_science"), "{stdout}");
    assert!(stdout.contains("Revenue grew 12%."), "{stdout}");

    let out = home.run(&["sessions", "list", "--json"]);
    let list: Vec<Value> = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(list.len(), 1);
    let id = list[0]["id"].as_str().unwrap().to_string();
    assert_eq!(list[0]["appName"], "vana");
    assert_eq!(
        list[0]["version"], 4,
        "user, transfer call, transfer response, data_science answer (the reply: no recap)"
    );
    // The plain listing gives the last update in UTC, as `date -u` writes that second.
    let secs = list[0]["lastUpdateTime"].as_f64().unwrap() as i64;
    let date = std::process::Command::new("date")
        .args(["-u", "-d", &format!("@{secs}"), "+%Y-%m-%d %H:%M:%SZ"])
        .output()
        .unwrap();
    let updated = format!("updated {}", String::from_utf8_lossy(&date.stdout).trim());
    let (stdout, _) = text(&home.run(&["sessions", "list"]));
    assert!(stdout.contains(&id) && stdout.trim_end().ends_with(&updated), "{stdout} vs {updated}");

    let out = home.run(&["sessions", "show", &id]);
    let (stdout, _) = text(&out);
    assert!(stdout.contains("is revenue up this year?"), "{stdout}");
    assert!(stdout.contains("46 tokens"), "usage is rolled up: {stdout}");

    let out = home.run(&["sessions", "show", &id, "--json"]);
    let shown: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(shown["usage"]["byAgent"]["data_science"]["totalTokens"], 46);

    assert!(home.run(&["sessions", "delete", &id]).status.success());
    let out = home.run(&["sessions", "show", &id]);
    assert!(!out.status.success());
    assert!(text(&out).1.contains("not found"));
}

#[test]
fn json_output_is_adk_event_json_lines() {
    let home = Home::new();
    let model = home.script(json!([{"text": "hi there"}]));
    let out = home.run(&["run", "--json", "--agent", "research", "--model", &model, "hello"]);
    assert!(out.status.success(), "{:?}", text(&out));
    let events: Vec<Value> =
        String::from_utf8_lossy(&out.stdout).lines().map(|l| serde_json::from_str(l).unwrap()).collect();
    let last = events.last().unwrap();
    assert_eq!(last["author"], "research");
    assert_eq!(last["content"]["parts"][0]["text"], "hi there");
    assert_eq!(last["content"]["role"], "model");
    assert!(
        last["invocationId"].is_string() && last["timestamp"].is_f64() && last["turnComplete"] == json!(true)
    );
    assert_eq!(last["agentPath"], "research");
}

#[test]
fn continuing_a_session_gives_the_model_the_earlier_conversation() {
    let home = Home::new();
    let model = home.script(json!({"turns": [{"text": "first answer"}], "repeat": true}));
    let out = home.run(&["run", "--json", "--agent", "nlp", "--model", &model, "remember: blue"]);
    let first: Value =
        serde_json::from_str(String::from_utf8_lossy(&out.stdout).lines().next().unwrap()).unwrap();
    let list: Vec<Value> = serde_json::from_slice(&home.run(&["sessions", "list", "--json"]).stdout).unwrap();
    let id = list[0]["id"].as_str().unwrap();
    assert_eq!(first["author"], "user");
    let out = home.run(&["run", "--session", id, "--model", &model, "what colour?"]);
    assert!(out.status.success(), "{:?}", text(&out));
    let list: Vec<Value> = serde_json::from_slice(&home.run(&["sessions", "list", "--json"]).stdout).unwrap();
    assert_eq!(list.len(), 1);
    assert_eq!(list[0]["version"], 4);
    assert_eq!(list[0]["appName"], "nlp", "the session keeps its agent");
}

#[test]
fn chat_streams_answers_on_one_session() {
    let home = Home::new();
    let model = home.script(json!([{"text": "Hello, human."}, {"text": "Still here."}]));
    let mut child = home
        .cmd(&["chat", "--agent", "nlp", "--model", &model])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child.stdin.take().unwrap().write_all(b"hi\nare you there?\n/exit\n").unwrap();
    let out = child.wait_with_output().unwrap();
    let (stdout, stderr) = text(&out);
    assert!(out.status.success(), "{stderr}");
    assert!(stdout.contains("Hello, human.") && stdout.contains("Still here."), "{stdout}");
    let list: Vec<Value> = serde_json::from_slice(&home.run(&["sessions", "list", "--json"]).stdout).unwrap();
    assert_eq!(list.len(), 1);
    assert_eq!(list[0]["version"], 4);
}

#[test]
fn bad_input_gets_a_clear_error_and_changes_nothing() {
    let home = Home::new();
    let out = home.run(&["run", "--agent", "nope", "hello"]);
    assert!(text(&out).1.contains("unknown agent `nope`"), "{:?}", text(&out));
    let out = home.run(&["tools", "call", "no_such_tool", "{}"]);
    assert!(text(&out).1.contains("unknown tool 'no_such_tool'"));
    let out = home.run(&["sessions", "delete", "not-a-session"]);
    assert!(!out.status.success() && text(&out).1.contains("not found"));
    let list: Vec<Value> = serde_json::from_slice(&home.run(&["sessions", "list", "--json"]).stdout).unwrap();
    assert!(list.is_empty(), "nothing was created: {list:?}");
}

#[test]
fn a_broken_user_agent_file_is_reported_with_file_line_and_field() {
    let home = Home::new();
    let dir = home.dir.join("agents");
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(dir.join("mine.yaml"), "name: mine\ndescription: mine\ninstructions: typo\n").unwrap();
    let out = home.cmd(&["agents", "list"]).env("VANA_AGENTS_DIR", &dir).output().unwrap();
    let (_, err) = text(&out);
    assert!(!out.status.success());
    assert!(err.contains("mine.yaml") && err.contains("line 3") && err.contains("instructions"), "{err}");
}

#[test]
fn a_user_agent_file_overrides_a_builtin_agent() {
    let home = Home::new();
    let dir = home.dir.join("agents");
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(dir.join("nlp.yaml"), "name: nlp\ndescription: My own NLP agent\ninstruction: be brief\n")
        .unwrap();
    let out = home.cmd(&["agents", "list", "--json"]).env("VANA_AGENTS_DIR", &dir).output().unwrap();
    let agents: Vec<Value> = serde_json::from_slice(&out.stdout).unwrap();
    let nlp = agents.iter().find(|a| a["name"] == "nlp").unwrap();
    assert_eq!(nlp["description"], "My own NLP agent");
    assert!(nlp["source"].as_str().unwrap().ends_with("nlp.yaml"));
}

#[test]
fn config_show_prints_effective_settings_with_secrets_masked() {
    let home = Home::new();
    std::fs::write(home.dir.join("vana.toml"), "[limits]\nmax_transfers = 3\n").unwrap();
    let out = home
        .cmd(&["config", "show"])
        .env("VANA_STORE_URL", "postgres://vana:hunter2@127.0.0.1:5432/test")
        .env("VANA_LIMITS_TOKEN_BUDGET", "5000")
        .output()
        .unwrap();
    let (stdout, stderr) = text(&out);
    assert!(out.status.success(), "{stderr}");
    assert!(stdout.contains("max_transfers = 3"), "{stdout}");
    assert!(stdout.contains("token_budget = 5000"), "{stdout}");
    assert!(stdout.contains("postgres://vana:***@127.0.0.1:5432/test"), "{stdout}");
    assert!(!stdout.contains("hunter2"));
    assert!(stdout.contains("GEMINI_API_KEY or GOOGLE_API_KEY NOT set"), "{stdout}");
    assert!(stdout.contains("# file: vana.toml"), "{stdout}");
}

#[test]
fn exec_runs_code_in_the_sandbox_and_reports_resources() {
    let home = Home::new();
    let out = home.run(&["exec", "--lang", "python", "-c", "import sys; print(6*7); sys.exit(5)"]);
    let (stdout, stderr) = text(&out);
    assert_eq!(stdout, "42\n");
    assert_eq!(out.status.code(), Some(5), "{stderr}");
    assert!(stderr.contains("exit 5") && stderr.contains("peak memory"), "{stderr}");
    let file = home.dir.join("hello.js");
    std::fs::write(&file, "console.log('from a file')").unwrap();
    let out = home.run(&["exec", file.to_str().unwrap()]);
    assert_eq!(text(&out).0, "from a file\n");
    let out = home.run(&["exec", "--json", "--lang", "sh", "-c", "echo hi >&2"]);
    let r: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(r["stderr"], "hi\n");
    assert_eq!(r["exitCode"], 0);
    let out = home.run(&["exec", "--lang", "cobol", "-c", "x"]);
    assert!(text(&out).1.contains("cobol"), "{:?}", text(&out));
}

#[test]
fn the_code_execution_agent_runs_real_code_from_the_cli() {
    let home = Home::new();
    let model = home.script(json!([
        {"function_calls": [{"name": "execute_code", "args": {"language": "python", "code": "print(2**20)"}}]},
        {"text": "2^20 is 1048576."}
    ]));
    let out = home.run(&["run", "--agent", "code_execution", "--model", &model, "what is 2^20?"]);
    let (stdout, stderr) = text(&out);
    assert!(out.status.success(), "{stderr}");
    assert!(stdout.contains("\"stdout\":\"1048576\\n\""), "{stdout}");
    assert!(stdout.contains("2^20 is 1048576."));
    let out = home.run(&["tools", "call", "execute_code", r#"{"language": "shell", "code": "echo direct"}"#]);
    let r: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(r["result"]["stdout"], "direct\n");
    let out = home.run(&["tools", "call", "execute_code", "{not json"]);
    assert!(text(&out).1.contains("not valid JSON"));
}
