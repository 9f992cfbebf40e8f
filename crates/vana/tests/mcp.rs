//! `vana mcp` as a user runs it, against the MCP servers `scripts/setup-mcp.sh` installs;
//! `vana mcp serve` and `/mcp` of a real `vana serve` checked by real MCP clients (the MCP
//! Inspector's CLI mode, and the official Python SDK with and without elicitation); the
//! environment and trust rules of the MCP servers VANA starts.

use serde_json::{json, Value};
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

/// A real MCP client on the official Python SDK (`mcp`, installed by scripts/setup-mcp.sh in
/// `$VANA_MCP_HOME/py/mcp`). argv[1] is a JSON spec: `server` (a URL, or `{command, args, env,
/// cwd}`), `key` (HTTP bearer), `mode` (`auto`: the SDK's default negotiation, which reaches
/// protocol 2026-07-28; `legacy`: the initialize handshake), `elicit` (null: no elicitation
/// capability; else the answers to give, in order: accept, decline or cancel), `list`, `calls`.
/// Prints one JSON line: protocol, tools, results, and the elicitation messages it was shown.
const MCP_CLIENT_PY: &str = r#"
import asyncio, json, sys
import mcp_types as types
from mcp import Client
from mcp.client.stdio import StdioServerParameters

async def main():
    spec = json.loads(sys.argv[1])
    answers = list(spec.get("elicit") or [])
    asked = []

    async def on_elicit(context, params):
        asked.append(params.message)
        action = answers.pop(0) if answers else "decline"
        if action == "accept":
            return types.ElicitResult(action="accept", content={"approve": True})
        return types.ElicitResult(action=action)

    server = spec["server"]
    if isinstance(server, dict):
        target = StdioServerParameters(command=server["command"], args=server.get("args", []),
                                       env=server.get("env"), cwd=server.get("cwd"))
    else:
        from mcp.client.streamable_http import streamable_http_client
        from mcp.shared._httpx_utils import create_mcp_http_client
        headers = {"Authorization": "Bearer " + spec["key"]} if spec.get("key") else {}
        http = create_mcp_http_client(headers=headers)
        target = streamable_http_client(server, http_client=http)
    kwargs = {"mode": spec.get("mode", "auto")}
    if spec.get("elicit") is not None:
        kwargs["elicitation_callback"] = on_elicit
    out = {"tools": [], "results": [], "elicitations": asked}
    async with Client(target, **kwargs) as client:
        out["protocol"] = str(client.session.protocol_version)
        if spec.get("list"):
            out["tools"] = [t.name for t in (await client.list_tools()).tools]
        for call in spec.get("calls", []):
            r = await client.call_tool(call["name"], call.get("args", {}))
            text = "\n".join(c.text for c in r.content if getattr(c, "type", "") == "text")
            out["results"].append({"isError": bool(r.is_error), "text": text, "structured": r.structured_content})
    print(json.dumps(out))

asyncio.run(main())
"#;

/// A stdio MCP server (Python SDK) whose `env` tool returns its whole environment as JSON;
/// every start appends a line to `started.log` beside it.
const ENV_SERVER_PY: &str = r#"
import json, os
from mcp.server.mcpserver import MCPServer
with open(os.path.join(os.path.dirname(os.path.abspath(__file__)), "started.log"), "a") as f:
    f.write("started\n")
app = MCPServer("envdump")

@app.tool()
def env() -> str:
    """Returns this process's environment."""
    return json.dumps(dict(os.environ))

app.run()
"#;

/// The Python of the SDK's virtualenv.
fn python() -> PathBuf {
    let p = mcp_home().join("py/mcp/bin/python");
    assert!(p.exists(), "the Python MCP SDK is not installed in {}; run scripts/setup-mcp.sh", p.display());
    p
}

fn mcp_home() -> PathBuf {
    vana_testkit::mcp_home(&["node/node_modules/.bin/mcp-inspector"])
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

    /// A SQLite database `name` with an empty table `items(name)`, and a `vana.toml` naming it
    /// as the writable connection `shop` (plus `extra` TOML).
    fn shop(&self, name: &str, extra: &str) -> PathBuf {
        let db = self.dir.join(name);
        sql(&db, "CREATE TABLE items(name TEXT)");
        self.write(
            "vana.toml",
            &format!(
                "[sql.connections.shop]\nurl = \"sqlite://{}\"\nwritable = true\n\n{extra}",
                db.display()
            ),
        );
        db
    }

    /// Creates an API key for `user` and returns (key, key id).
    fn key(&self, user: &str) -> (String, String) {
        let out = self.run(&["keys", "create", user]);
        assert!(out.status.success(), "{:?}", text(&out));
        let key = String::from_utf8(out.stdout).unwrap().trim().to_string();
        let id = key.split('_').nth(1).unwrap().to_string();
        (key, id)
    }

    /// Runs the Python SDK client with `spec` and returns its JSON report.
    fn client(&self, spec: Value) -> Value {
        let script = self.write("mcp_client.py", MCP_CLIENT_PY);
        let out =
            Command::new(python()).arg(script).arg(spec.to_string()).current_dir(&self.dir).output().unwrap();
        let (stdout, stderr) = text(&out);
        assert!(out.status.success(), "the MCP client failed: {stdout}\n{stderr}");
        serde_json::from_str(stdout.lines().last().unwrap_or_default())
            .unwrap_or_else(|e| panic!("{e}: {stdout}"))
    }

    /// `vana mcp serve` as the Python client starts it: this home's environment plus `extra`.
    fn stdio_server(&self, extra: &[(&str, &str)]) -> Value {
        let mut env: serde_json::Map<String, Value> =
            self.env().into_iter().map(|(k, v)| (k, json!(v))).collect();
        env.insert("PATH".into(), json!(std::env::var("PATH").unwrap_or_default()));
        for (k, v) in extra {
            env.insert(k.to_string(), json!(v));
        }
        json!({"command": env!("CARGO_BIN_EXE_vana"), "args": ["mcp", "serve"], "env": env, "cwd": self.dir})
    }

    /// Starts `vana serve` with API keys on a free loopback port (`extra` environment added).
    fn serve(&self, extra: &[(&str, &str)]) -> Served {
        self.serve_with(&[], extra)
    }

    /// Starts `vana serve FLAGS` on a free loopback port (`extra` environment added).
    fn serve_with(&self, flags: &[&str], extra: &[(&str, &str)]) -> Served {
        let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
        let bind = format!("127.0.0.1:{port}");
        let mut child = self
            .cmd(&[&["serve", "--bind", bind.as_str()][..], flags].concat())
            .envs(extra.iter().map(|(k, v)| (k.to_string(), v.to_string())))
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let stderr = child.stderr.take().unwrap();
        let served = Served { child, port };
        let mut line = String::new();
        BufReader::new(stderr).read_line(&mut line).unwrap();
        assert!(line.contains("serving on"), "{line}");
        let deadline = Instant::now() + Duration::from_secs(20);
        while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
            assert!(Instant::now() < deadline, "vana serve did not listen");
            std::thread::sleep(Duration::from_millis(100));
        }
        served
    }

    /// The audit records of `kind` for `user`, newest first.
    fn audit(&self, user: &str, kind: &str) -> Vec<Value> {
        let out = self.run(&["--user", user, "audit", "search", "--kind", kind, "--json", "--limit", "100"]);
        assert!(out.status.success(), "{:?}", text(&out));
        String::from_utf8_lossy(&out.stdout).lines().map(|l| serde_json::from_str(l).unwrap()).collect()
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

/// A running `vana serve`, killed on drop.
struct Served {
    child: Child,
    port: u16,
}

impl Served {
    fn url(&self) -> String {
        format!("http://127.0.0.1:{}/mcp", self.port)
    }
}

impl Drop for Served {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Runs SQL on a SQLite file with the system's Python (`sqlite3` module); returns the first
/// column of the first row, if any.
fn sql(db: &Path, statement: &str) -> Option<String> {
    let code = "import sqlite3, sys\nc = sqlite3.connect(sys.argv[1])\nr = c.execute(sys.argv[2]).fetchone()\nc.commit()\nprint('' if r is None else r[0])";
    let out = Command::new("python3").args(["-c", code]).arg(db).arg(statement).output().unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let v = String::from_utf8_lossy(&out.stdout).trim().to_string();
    (!v.is_empty()).then_some(v)
}

fn rows(db: &Path) -> usize {
    sql(db, "SELECT count(*) FROM items").unwrap().parse().unwrap()
}

fn write_call(name: &str) -> Value {
    json!({"name": "execute_sql_write", "args": {"connection": "shop", "sql": format!("INSERT INTO items VALUES ('{name}')")}})
}

/// One result of a client report.
fn result(report: &Value, i: usize) -> &Value {
    &report["results"][i]
}

fn decisions(records: &[Value]) -> Vec<String> {
    records.iter().map(|r| r["data"]["decision"].as_str().unwrap_or_default().to_string()).collect()
}

#[test]
fn mcp_list_says_which_variable_to_set_and_starts_nothing() {
    let home = Home::new();
    let out = home.run(&["mcp", "list", "--json"]);
    assert!(out.status.success(), "{:?}", text(&out));
    let rows: Vec<Value> = serde_json::from_slice(&out.stdout).unwrap();
    let row =
        |n: &str| rows.iter().find(|r| r["name"] == n).unwrap_or_else(|| panic!("{n} not listed")).clone();
    assert_eq!(row("brave_search")["state"], "needs_key");
    assert_eq!(row("brave_search")["missingEnv"], json!(["BRAVE_API_KEY"]));
    assert_eq!(row("github")["missingEnv"], json!(["GITHUB_TOKEN"]));
    assert_eq!(row("postgresql")["missingEnv"], json!(["POSTGRES_URL"]));
    assert_eq!(row("docker")["state"], "disabled");
    for n in [
        "everything",
        "fetch",
        "time",
        "sqlite",
        "playwright",
        "filesystem",
        "memory",
        "git",
        "semgrep",
        "sequential_thinking",
    ] {
        assert_eq!(row(n)["state"], "ready", "{n}: {}", row(n));
        assert_eq!(row(n)["calls"], 0);
    }
    let out = home.run(&["mcp", "list"]);
    let (stdout, _) = text(&out);
    assert!(stdout.contains("set BRAVE_API_KEY to enable it"), "{stdout}");
    assert!(stdout.contains("set GRAFANA_URL and GRAFANA_SERVICE_ACCOUNT_TOKEN to enable it"), "{stdout}");
}

/// On a fresh machine (an empty MCP home) a server that needs no key is `not_installed` with the
/// one step, never `down`; naming a server without a package installs nothing, with the reason.
#[test]
fn a_fresh_machine_lists_servers_as_not_installed_and_none_as_down() {
    let home = Home::new();
    let empty = home.dir.join("empty-mcp-home");
    let run = |args: &[&str]| {
        let mut c = home.cmd(args);
        c.env("VANA_MCP_HOME", &empty).env("VANA_MCP_AUTO_INSTALL", "0");
        c.output().unwrap()
    };
    let out = run(&["mcp", "list", "--json"]);
    assert!(out.status.success(), "{:?}", text(&out));
    let rows: Vec<Value> = serde_json::from_slice(&out.stdout).unwrap();
    assert!(rows.len() >= 20, "{} servers", rows.len());
    assert!(rows.iter().all(|r| r["state"] != "down"), "{rows:?}");
    let time = rows.iter().find(|r| r["name"] == "time").unwrap();
    assert_eq!(time["state"], "not_installed", "{time}");
    assert_eq!(time["reason"], "install mcp-server-time 2026.10.19 with `vana mcp install time`");
    let out = run(&["mcp", "install", "github"]);
    let (_, stderr) = text(&out);
    assert!(!out.status.success() && stderr.contains("names no npm or PyPI package"), "{stderr}");
    assert!(!empty.join("node").exists() && !empty.join("py").exists());
    let out = run(&["mcp", "install", "no_such_server"]);
    assert!(!out.status.success() && text(&out).1.contains("unknown MCP server `no_such_server`"));
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

#[test]
fn mcp_over_http_writes_only_what_the_keys_user_approves_and_audits_every_call() {
    let home = Home::new();
    let db = home.shop("shop.db", "[guardrails.deny]\nmcp = [\"execute_code\"]\n");
    home.write(
        "agents/writer.yaml",
        "name: writer\ndescription: Writes rows to the shop database\ninstruction: Write what the user asks.\ntools: [execute_sql_write]\n",
    );
    let script = home.write(
        "script.json",
        &json!([
            {"function_calls": [{"name": "execute_sql_write", "args": {"connection": "shop", "sql": "INSERT INTO items VALUES ('agent')"}}]},
            {"text": "Done."}
        ])
        .to_string(),
    );
    let (ruby, ruby_id) = home.key("ruby");
    let (jade, jade_id) = home.key("jade");
    let model = format!("scripted:{}", script.display());
    let served = home.serve(&[("VANA_MODELS_DEFAULT_MODEL", &model)]);

    // Protocol 2026-07-28 (the SDK's default): the approval is an InputRequiredResult round trip.
    let r = home
        .client(json!({"server": served.url(), "key": ruby, "elicit": ["decline", "cancel"], "list": true,
                               "calls": [write_call("declined"), write_call("cancelled")]}));
    assert_eq!(r["protocol"], "2026-07-28", "{r}");
    let tools: Vec<&str> = r["tools"].as_array().unwrap().iter().map(|t| t.as_str().unwrap()).collect();
    assert!(tools.contains(&"execute_sql_write") && tools.contains(&"ask_writer"), "{tools:?}");
    assert!(!tools.contains(&"execute_code"), "a tool [guardrails] deny for `mcp` is listed: {tools:?}");
    let asked = r["elicitations"][0].as_str().unwrap();
    assert!(
        asked.contains("execute_sql_write") && asked.contains("INSERT INTO items VALUES ('declined')"),
        "{asked}"
    );
    for i in 0..2 {
        assert_eq!(result(&r, i)["isError"], true, "{r}");
        assert!(result(&r, i)["text"].as_str().unwrap().contains("did not run"), "{r}");
    }
    assert_eq!(rows(&db), 0, "a declined or cancelled write changed the database");

    let r = home.client(
        json!({"server": served.url(), "key": ruby, "elicit": ["accept"], "calls": [write_call("accepted")]}),
    );
    assert_eq!(result(&r, 0)["isError"], false, "{r}");
    assert_eq!(result(&r, 0)["structured"]["rowsAffected"], 1, "{r}");
    assert_eq!(rows(&db), 1);

    // Protocol 2025-11-25 (initialize handshake): an elicitation/create request mid-call.
    let r = home.client(
        json!({"server": served.url(), "key": jade, "mode": "legacy", "elicit": ["decline", "accept"],
                               "calls": [write_call("jade declined"), write_call("jade accepted")]}),
    );
    assert_eq!(r["protocol"], "2025-11-25", "{r}");
    assert_eq!(result(&r, 0)["isError"], true, "{r}");
    assert_eq!(result(&r, 1)["isError"], false, "{r}");
    assert_eq!(rows(&db), 2, "one accepted write, one row");
    assert_eq!(sql(&db, "SELECT group_concat(name, ',') FROM items").unwrap(), "accepted,jade accepted");

    // A client that cannot be asked is refused; a denied tool is refused.
    let r = home.client(json!({"server": served.url(), "key": ruby, "elicit": null,
                               "calls": [write_call("unasked"), {"name": "execute_code", "args": {"language": "python", "code": "print(1)"}}]}));
    let refusal = result(&r, 0)["text"].as_str().unwrap();
    assert!(
        refusal.contains("did not declare the elicitation capability") && refusal.contains("nothing ran"),
        "{refusal}"
    );
    assert!(result(&r, 1)["text"].as_str().unwrap().contains("not allowed for MCP callers"), "{r}");
    assert_eq!(rows(&db), 2);

    // ask_<agent> runs as the key's user; its paused write is approved through elicitation.
    let r = home.client(json!({"server": served.url(), "key": ruby, "mode": "legacy", "elicit": ["accept"],
                               "calls": [{"name": "ask_writer", "args": {"task": "add a row"}}]}));
    assert_eq!(result(&r, 0)["text"], "Done.", "{r}");
    assert!(
        r["elicitations"][0]
            .as_str()
            .unwrap()
            .contains("agent `writer` wants to run the tool `execute_sql_write`"),
        "{r}"
    );
    assert_eq!(rows(&db), 3);
    drop(served);

    let sessions = |user: &str| {
        let out = home.run(&["--user", user, "sessions", "list", "--json"]);
        String::from_utf8_lossy(&out.stdout).into_owned()
    };
    assert!(sessions("ruby").contains("writer"), "{}", sessions("ruby"));
    assert!(!sessions("jade").contains("writer") && !sessions("mcp").contains("writer"));

    let ruby_calls = home.audit("ruby", "mcp_call");
    let mut d = decisions(&ruby_calls);
    d.sort();
    assert_eq!(d, ["allowed", "approved", "cancelled", "declined", "denied", "refused"], "{ruby_calls:?}");
    assert!(
        ruby_calls.iter().all(|r| r["data"]["keyId"] == ruby_id.as_str() && r["userId"] == "ruby"),
        "{ruby_calls:?}"
    );
    let jade_calls = home.audit("jade", "mcp_call");
    assert_eq!(decisions(&jade_calls), ["approved", "declined"], "{jade_calls:?}");
    assert!(jade_calls.iter().all(|r| r["data"]["keyId"] == jade_id.as_str()));
    // Each key's direct calls have their own session (and so their own workspace).
    let direct =
        |records: &[Value]| records.iter().find(|r| r["agent"] == "mcp").unwrap()["sessionId"].clone();
    assert_ne!(direct(&ruby_calls), direct(&jade_calls));
    let approvals = home.audit("ruby", "approval");
    assert_eq!(approvals.len(), 1, "{approvals:?}");
    assert_eq!(approvals[0]["data"]["approved"], true);
    assert_eq!(approvals[0]["agent"], "writer");
}

#[test]
fn vana_mcp_serve_acts_as_the_key_in_vana_api_key_and_asks_before_writing() {
    let home = Home::new();
    let db = home.shop("shop.db", "");
    let (key, key_id) = home.key("opal");
    let server = home.stdio_server(&[("VANA_API_KEY", &key)]);
    let r = home.client(json!({"server": server, "elicit": ["decline", "accept"],
                               "calls": [write_call("no"), write_call("yes")]}));
    assert_eq!(result(&r, 0)["isError"], true, "{r}");
    assert_eq!(result(&r, 1)["isError"], false, "{r}");
    assert_eq!(rows(&db), 1);
    let r = home.client(
        json!({"server": server, "mode": "legacy", "elicit": ["accept"], "calls": [write_call("legacy")]}),
    );
    assert_eq!(result(&r, 0)["isError"], false, "{r}");
    assert_eq!(rows(&db), 2);
    let r = home.client(json!({"server": server, "elicit": null, "calls": [write_call("unasked")]}));
    assert!(result(&r, 0)["text"].as_str().unwrap().contains("elicitation capability"), "{r}");
    assert_eq!(rows(&db), 2);
    let calls = home.audit("opal", "mcp_call");
    assert_eq!(decisions(&calls), ["refused", "approved", "approved", "declined"], "{calls:?}");
    assert!(calls.iter().all(|c| c["data"]["keyId"] == key_id.as_str() && c["data"]["transport"] == "stdio"));

    // Without a key: the local user (VANA_USER), no key id.
    let r = home.client(
        json!({"server": home.stdio_server(&[]), "elicit": ["accept"], "calls": [write_call("local")]}),
    );
    assert_eq!(result(&r, 0)["isError"], false, "{r}");
    let local = home.audit("tester", "mcp_call");
    assert_eq!(local.len(), 1);
    assert!(local[0]["data"]["keyId"].is_null());

    // A bad key stops the server with the reason.
    let out = home
        .cmd(&["mcp", "serve"])
        .env("VANA_API_KEY", "vana_0123456789ab_0123456789abcdef0123")
        .output()
        .unwrap();
    assert!(!out.status.success());
    assert!(text(&out).1.contains("VANA_API_KEY: invalid or revoked API key"), "{:?}", text(&out));
    assert_eq!(rows(&db), 3);
}

#[test]
fn started_servers_get_only_their_declared_env_and_a_project_mcp_json_needs_trust() {
    let home = Home::new();
    let server = home.write("envdump/server.py", ENV_SERVER_PY);
    let started = home.dir.join("envdump/started.log");
    let mcp_json = json!({"mcpServers": {
        "envdump": {"command": python(), "args": [server], "env": {"DECLARED": "${MY_DECLARED}", "FIXED": "1"}},
        "time": {"command": python(), "args": [server]}
    }})
    .to_string();
    home.write(".mcp.json", &mcp_json);
    let secrets = [
        ("OPENAI_API_KEY", "sk-planted-openai"),
        ("GEMINI_API_KEY", "planted-gemini"),
        ("VANA_PLANTED_SECRET", "planted-vana"),
        ("MY_DECLARED", "declared-value"),
    ];
    let run = |args: &[&str]| home.cmd(args).envs(secrets).output().unwrap();

    // Untrusted: listed with a warning, not started, the catalog's `time` not replaced.
    let out = run(&["mcp", "list"]);
    assert!(
        text(&out).1.contains(".mcp.json is not trusted") && text(&out).1.contains("vana mcp trust"),
        "{:?}",
        text(&out)
    );
    let rows: Vec<Value> = serde_json::from_slice(&run(&["mcp", "list", "--json"]).stdout).unwrap();
    let untrusted: Vec<&Value> = rows.iter().filter(|r| r["state"] == "untrusted").collect();
    assert_eq!(untrusted.len(), 2, "{rows:?}");
    assert!(untrusted
        .iter()
        .any(|r| r["name"] == "time" && r["reason"].as_str().unwrap().contains("replace")));
    let out = run(&["mcp", "call", "envdump", "env"]);
    assert!(!out.status.success() && text(&out).1.contains("not trusted"), "{:?}", text(&out));
    let out = run(&["mcp", "call", "time", "get_current_time", r#"{"timezone": "UTC"}"#]);
    assert!(text(&out).0.contains("UTC"), "the catalog's time server should answer: {:?}", text(&out));
    assert!(!started.exists(), "an untrusted .mcp.json started a server");

    // Trusted: started, with only PATH/HOME/LANG/TMPDIR and what it declares.
    let out = run(&["mcp", "trust"]);
    let (stdout, stderr) = text(&out);
    assert!(out.status.success(), "{stderr}");
    assert!(stdout.contains("replaces the configured `time`") && stdout.contains("MY_DECLARED"), "{stdout}");
    let out = run(&["mcp", "call", "envdump", "env"]);
    assert!(out.status.success(), "{:?}", text(&out));
    let r: Value = serde_json::from_slice(&out.stdout).unwrap();
    let env: Value = serde_json::from_str(r["result"]["text"].as_str().unwrap()).unwrap();
    let keys: Vec<&str> = env.as_object().unwrap().keys().map(String::as_str).collect();
    for (k, _) in secrets.iter().take(3) {
        assert!(env.get(k).is_none(), "{k} reached a started MCP server: {keys:?}");
    }
    assert!(keys.iter().all(|k| !k.starts_with("VANA_")), "{keys:?}");
    assert_eq!(env["DECLARED"], "declared-value");
    assert_eq!(env["FIXED"], "1");
    assert!(env.get("PATH").is_some(), "{keys:?}");
    assert_eq!(std::fs::read_to_string(&started).unwrap().lines().count(), 1);

    // Edited after trust: not started again until trusted again.
    home.write(".mcp.json", &mcp_json.replace("\"FIXED\":\"1\"", "\"FIXED\":\"2\""));
    let out = run(&["mcp", "list"]);
    assert!(text(&out).1.contains("changed since it was trusted"), "{:?}", text(&out));
    let out = run(&["mcp", "call", "envdump", "env"]);
    assert!(
        !out.status.success() && text(&out).1.contains("changed since it was trusted"),
        "{:?}",
        text(&out)
    );
    assert_eq!(
        std::fs::read_to_string(&started).unwrap().lines().count(),
        1,
        "a changed .mcp.json started a server"
    );
}

#[test]
fn writing_tools_of_started_servers_wait_for_approval() {
    let home = Home::new();
    let db = home.dir.join("notes.sqlite");
    sql(&db, "CREATE TABLE items(name TEXT)");
    home.write(
        "mcp_servers.yaml",
        "servers:\n  sqlite:\n    agents: [notes]\n  time:\n    agents: [notes]\n",
    );
    home.write(
        "vana.toml",
        "[guardrails]\nrequire_confirmation = [\"time__*\"]\n[guardrails.deny]\n\"*\" = [\"sqlite__list_tables\"]\n",
    );
    home.write(
        "agents/notes.yaml",
        "name: notes\ndescription: Keeps notes in SQLite\ninstruction: Keep the notes.\n",
    );
    let script = home.write(
        "script.json",
        &json!([
            {"function_calls": [
                {"name": "sqlite__read_query", "args": {"query": "SELECT count(*) FROM items"}},
                {"name": "sqlite__list_tables", "args": {}},
                {"name": "sqlite__write_query", "args": {"query": "INSERT INTO items VALUES ('note')"}},
                {"name": "time__get_current_time", "args": {"timezone": "UTC"}}
            ]},
            {"text": "Noted."}
        ])
        .to_string(),
    );
    let model = format!("scripted:{}", script.display());
    let db_path = db.display().to_string();
    let out = home
        .cmd(&["run", "--json", "--agent", "notes", "--model", &model, "note this"])
        .env("VANA_SQLITE_DB", &db_path)
        .output()
        .unwrap();
    let (stdout, stderr) = text(&out);
    assert!(out.status.success(), "{stdout}\n{stderr}");
    let events: Vec<Value> = stdout.lines().map(|l| serde_json::from_str(l).unwrap()).collect();
    let pause = events
        .iter()
        .find(|e| e["actions"]["requestedToolConfirmations"].is_object())
        .unwrap_or_else(|| panic!("no approval was requested: {stdout}"));
    let waiting = pause["actions"]["requestedToolConfirmations"].as_object().unwrap();
    let mut tools: Vec<&str> = waiting.values().map(|v| v["tool"].as_str().unwrap()).collect();
    tools.sort();
    assert_eq!(tools, ["sqlite__write_query", "time__get_current_time"], "{waiting:?}");
    assert_eq!(rows(&db), 0, "the write ran before its approval");
    // [guardrails] deny matches the MCP tool's full name; the read ran without approval.
    let responses: Vec<&Value> = events
        .iter()
        .flat_map(|e| e["content"]["parts"].as_array().into_iter().flatten())
        .filter_map(|p| p.get("functionResponse"))
        .collect();
    let of = |n: &str| {
        responses.iter().find(|r| r["name"] == n).unwrap_or_else(|| panic!("no {n} response: {stdout}"))
    };
    assert!(
        of("sqlite__list_tables")["response"]["error"].as_str().unwrap().contains("not allowed"),
        "{stdout}"
    );
    assert!(of("sqlite__read_query")["response"].to_string().contains("count"), "{stdout}");

    // Approved: the write runs once (the resumed agent's model answers from a fresh script).
    let after = home.write("after.json", &json!([{"text": "Noted."}]).to_string());
    let model = format!("scripted:{}", after.display());
    let sessions: Vec<Value> =
        serde_json::from_slice(&home.run(&["sessions", "list", "--json"]).stdout).unwrap();
    let session = sessions[0]["id"].as_str().unwrap().to_string();
    for (id, v) in waiting {
        let deny = v["tool"] == "time__get_current_time";
        let mut args = vec!["approve", session.as_str(), id.as_str(), "--json"];
        if deny {
            args.push("--deny");
        }
        let out = home
            .cmd(&args)
            .env("VANA_SQLITE_DB", &db_path)
            .env("VANA_MODELS_DEFAULT_MODEL", &model)
            .output()
            .unwrap();
        assert!(out.status.success(), "{:?}", text(&out));
    }
    assert_eq!(rows(&db), 1);
}

#[test]
fn without_auth_every_mcp_caller_is_the_shared_user_mcp() {
    let home = Home::new();
    let db = home.shop("shop.db", "");
    let served = home.serve_with(&["--no-auth"], &[]);
    let r = home
        .client(json!({"server": served.url(), "elicit": ["accept"], "calls": [write_call("anonymous")]}));
    assert_eq!(result(&r, 0)["isError"], false, "{r}");
    assert_eq!(rows(&db), 1);
    drop(served);
    let calls = home.audit("mcp", "mcp_call");
    assert_eq!(decisions(&calls), ["approved"], "{calls:?}");
    assert!(calls[0]["data"]["keyId"].is_null() && calls[0]["data"]["transport"] == "http");
}
