//! `validate_openapi_spec` and `generate_api_client` with the real OpenAPI Generator jar (PyPI
//! `openapi-generator-cli`, run with the machine's Java) and real checkers of what it writes:
//! `tsc` type-checks the TypeScript client, Python imports the Python client; and a client
//! generated from VANA's own `/openapi.json` creates a session on a running `vana serve` and
//! reads it back.

mod common;

use common::*;
use serde_json::{json, Value};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};
use vana_core::ToolError;
use vana_tools_integration::{find_jar_in, GithubConfig, IntegrationConfig};

const NOTES: &str = include_str!("fixtures/notes-api.yaml");

fn venv() -> PathBuf {
    repo_root().join(".cache/integration-venv")
}

/// The suite with the generator jar of the setup script's venv, allowed to reach 127.0.0.1.
fn generator_fixture() -> Fixture {
    let jar =
        find_jar_in(&venv()).expect("the OpenAPI Generator jar is missing: run scripts/setup-integration.sh");
    let config = IntegrationConfig {
        allowed_hosts: Some(vec!["127.0.0.1".into()]),
        generator_jar: jar.display().to_string(),
        ..IntegrationConfig::default()
    };
    fixture_with(config, GithubConfig::default(), vana_net::OutboundPolicy::strict())
}

fn workspace_dir(f: &Fixture) -> PathBuf {
    f.workspaces.open("s").unwrap().unwrap().mount_path().to_path_buf()
}

fn run(cmd: &mut Command) -> String {
    let out = cmd.output().unwrap_or_else(|e| panic!("{cmd:?}: {e}"));
    let text = format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
    assert!(out.status.success(), "{cmd:?} failed:\n{text}");
    text
}

/// `cargo check --offline` of a generated Rust client (rustls instead of native-tls, with the
/// lock file of the dependencies the setup script fetched), in a target dir kept under .cache.
fn cargo_check(dir: &Path) {
    let support = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/support/rust-client-deps");
    std::fs::copy(support.join("Cargo.lock"), dir.join("Cargo.lock")).unwrap();
    // A generated crate is its own workspace, wherever it lies.
    let manifest = dir.join("Cargo.toml");
    let text = std::fs::read_to_string(&manifest).unwrap();
    if !text.contains("[workspace]") {
        std::fs::write(&manifest, format!("{text}\n[workspace]\n")).unwrap();
    }
    run(Command::new(env!("CARGO"))
        .args(["check", "--offline", "--quiet", "--no-default-features", "--features", "rustls"])
        .current_dir(dir)
        .env("CARGO_TARGET_DIR", repo_root().join(".cache/integration-rust-target")));
}

#[tokio::test]
async fn specs_are_validated_from_the_workspace_and_from_urls() {
    let f = generator_fixture();
    f.put("api/notes.yaml", NOTES.as_bytes());
    let ok = f.ok("validate_openapi_spec", json!({"spec": "api/notes.yaml"})).await;
    assert_eq!(ok["valid"], true, "{ok}");
    assert_eq!(ok["openapi"], "3.0.3");
    assert_eq!(ok["operations"], 2);

    let broken =
        NOTES.replace("operationId: createNote", "operationId: listNotes").replace("/notes:", "/notes/{id}:");
    f.put("api/broken.yaml", broken.as_bytes());
    let bad = f.ok("validate_openapi_spec", json!({"spec": "api/broken.yaml"})).await;
    assert_eq!(bad["valid"], false);
    let errors = bad["errors"].to_string();
    assert!(errors.contains("used twice") && errors.contains("`id` is not declared"), "{errors}");

    // From a URL (through the integration allow-list) and refused where the policy says so.
    let (addr, _) = api_server().await;
    let spec_url = format!("http://{addr}/items");
    let err = f.call("validate_openapi_spec", json!({"spec": spec_url})).await.unwrap();
    assert_eq!(err.response["valid"], false, "a JSON document that is no OpenAPI is invalid");
    let strict = fixture_with(
        IntegrationConfig::default(),
        GithubConfig::default(),
        vana_net::OutboundPolicy::strict(),
    );
    let refused = strict.call("validate_openapi_spec", json!({"spec": spec_url})).await.unwrap_err();
    assert!(matches!(refused, ToolError::Blocked(_)), "{refused:?}");
    let missing = f.call("validate_openapi_spec", json!({"spec": "../outside.yaml"})).await.unwrap_err();
    assert!(matches!(missing, ToolError::Blocked(_) | ToolError::InvalidArgs(_)), "{missing:?}");
}

#[tokio::test]
async fn typescript_python_and_rust_clients_are_generated_into_the_workspace_and_the_checkers_accept_them() {
    let f = generator_fixture();
    f.put("notes.yaml", NOTES.as_bytes());
    let ts = f.ok("generate_api_client", json!({"spec": "notes.yaml", "language": "typescript"})).await;
    assert_eq!(ts["output_dir"], "clients/typescript");
    assert!(ts["files"].as_u64().unwrap() > 5, "{ts}");
    let py = f
        .ok(
            "generate_api_client",
            json!({"spec": "notes.yaml", "language": "python", "package_name": "notes_client"}),
        )
        .await;
    let rs = f
        .ok("generate_api_client", json!({"spec": "notes.yaml", "language": "rust", "output_dir": "rs"}))
        .await;
    assert_eq!(rs["package"], "notes_api");
    let root = workspace_dir(&f);

    // TypeScript: tsc type-checks it (npm typescript from the setup script).
    let tsc = repo_root().join(".cache/integration-node/node_modules/.bin/tsc");
    assert!(tsc.is_file(), "tsc is missing: run scripts/setup-integration.sh");
    run(Command::new(&tsc).arg("-p").arg(root.join("clients/typescript/tsconfig.json")).arg("--noEmit"));
    // …and a type error in code using it is caught (the check can fail).
    std::fs::write(
        root.join("clients/typescript/src/misuse.ts"),
        "import { Note } from './models';\nconst n: Note = { text: 42 };\nexport default n;\n",
    )
    .unwrap();
    let out = Command::new(&tsc)
        .arg("-p")
        .arg(root.join("clients/typescript/tsconfig.json"))
        .arg("--noEmit")
        .output()
        .unwrap();
    assert!(!out.status.success(), "tsc accepted a number for a string field");
    std::fs::remove_file(root.join("clients/typescript/src/misuse.ts")).unwrap();

    // Python: the package imports and its model validates.
    assert_eq!(py["package"], "notes_client");
    let python = venv().join("bin/python");
    let text = run(Command::new(&python).current_dir(root.join("clients/python")).arg("-c").arg(
        "import notes_client, json; n = notes_client.Note(text='hi', id=3); print(json.dumps(n.to_dict()))",
    ));
    assert_eq!(serde_json::from_str::<Value>(text.trim()).unwrap(), json!({"id": 3, "text": "hi"}));

    // Rust: `cargo check` passes (offline: the setup script fetched its dependencies).
    let manifest = std::fs::read_to_string(root.join("rs/Cargo.toml")).unwrap();
    assert!(manifest.contains("name = \"notes_api\"") && manifest.contains("reqwest"), "{manifest}");
    cargo_check(&root.join("rs"));

    // Refusals: unknown language, a path out of the workspace, a spec that is not valid.
    let err =
        f.call("generate_api_client", json!({"spec": "notes.yaml", "language": "cobol"})).await.unwrap_err();
    assert!(matches!(err, ToolError::InvalidArgs(_)));
    let err = f
        .call(
            "generate_api_client",
            json!({"spec": "notes.yaml", "language": "python", "output_dir": "../x"}),
        )
        .await
        .unwrap_err();
    assert!(matches!(err, ToolError::Blocked(_) | ToolError::InvalidArgs(_)), "{err:?}");
    f.put("bad.yaml", b"openapi: 3.0.0\ninfo: {title: x}\npaths: {}\n");
    let err =
        f.call("generate_api_client", json!({"spec": "bad.yaml", "language": "python"})).await.unwrap_err();
    assert!(err.to_string().contains("info.version"), "{err}");
}

#[tokio::test]
async fn a_missing_java_or_jar_is_a_clear_error_naming_the_fix() {
    let dir = vana_testkit::tempdir();
    let no_java = IntegrationConfig { java: "/nonexistent/java".into(), ..IntegrationConfig::default() };
    let f = fixture_with(no_java, GithubConfig::default(), vana_net::OutboundPolicy::strict());
    f.put("notes.yaml", NOTES.as_bytes());
    let err =
        f.call("generate_api_client", json!({"spec": "notes.yaml", "language": "python"})).await.unwrap_err();
    assert!(
        matches!(err, ToolError::Unavailable(_))
            && err.to_string().contains("apt-get install -y default-jre-headless"),
        "{err}"
    );
    let no_jar = IntegrationConfig {
        generator_jar: dir.path().join("none.jar").display().to_string(),
        ..IntegrationConfig::default()
    };
    let f = fixture_with(no_jar, GithubConfig::default(), vana_net::OutboundPolicy::strict());
    f.put("notes.yaml", NOTES.as_bytes());
    let err =
        f.call("generate_api_client", json!({"spec": "notes.yaml", "language": "python"})).await.unwrap_err();
    assert!(err.to_string().contains("scripts/setup-integration.sh"), "{err}");
}

/// `vana serve --no-auth` on a free port with a fresh home, killed when dropped.
struct Serve {
    child: std::process::Child,
    url: String,
    _home: vana_testkit::TempDir,
}

impl Drop for Serve {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn vana_bin() -> PathBuf {
    let bin = std::env::var_os("VANA_BIN")
        .map(PathBuf::from)
        .unwrap_or_else(|| repo_root().join("target/debug/vana"));
    assert!(
        bin.is_file(),
        "the vana binary is missing at {}: build it with `cargo build -p vana` or set VANA_BIN",
        bin.display()
    );
    bin
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

fn serve() -> Serve {
    let home = vana_testkit::tempdir();
    let port = free_port();
    let mut cmd = Command::new(vana_bin());
    for (k, _) in std::env::vars() {
        if k.starts_with("VANA_") {
            cmd.env_remove(k);
        }
    }
    let child = cmd
        .args(["serve", "--no-auth", "--bind", &format!("127.0.0.1:{port}")])
        .env("VANA_HOME", home.path())
        .env("VANA_MCP_AUTO_INSTALL", "0")
        .env("RUST_LOG", "warn")
        .current_dir(home.path())
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let url = format!("http://127.0.0.1:{port}");
    let s = Serve { child, url, _home: home };
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        if std::net::TcpStream::connect(("127.0.0.1", port)).is_ok() {
            return s;
        }
        assert!(Instant::now() < deadline, "vana serve did not listen within 60 s");
        std::thread::sleep(Duration::from_millis(150));
    }
}

fn find_dir(root: &Path, name: &str) -> Option<PathBuf> {
    std::fs::read_dir(root)
        .ok()?
        .flatten()
        .map(|e| e.path())
        .find(|p| p.is_dir() && p.file_name().is_some_and(|n| n == name))
}

#[tokio::test]
async fn a_client_generated_from_vanas_own_openapi_creates_a_session_on_vana_serve_and_reads_it_back() {
    let server = serve();
    let f = generator_fixture();
    let spec = format!("{}/openapi.json", server.url);
    let v = f.ok("validate_openapi_spec", json!({"spec": spec})).await;
    assert_eq!(v["valid"], true, "VANA's own description: {v}");
    assert!(v["operations"].as_u64().unwrap() > 20);

    let py = f
        .ok("generate_api_client", json!({"spec": spec, "language": "python", "package_name": "vana_client"}))
        .await;
    let ts = f.ok("generate_api_client", json!({"spec": spec, "language": "typescript"})).await;
    assert!(ts["files"].as_u64().unwrap() > 10);
    let root = workspace_dir(&f);
    let tsc = repo_root().join(".cache/integration-node/node_modules/.bin/tsc");
    let ts_config = root.join(ts["output_dir"].as_str().unwrap()).join("tsconfig.json");
    run(Command::new(&tsc).arg("-p").arg(&ts_config).arg("--noEmit"));

    // The TypeScript client, compiled, creates a session and reads it back (Node's fetch).
    let scratch = vana_testkit::tempdir();
    let dist = scratch.path().join("dist");
    run(Command::new(&tsc).arg("-p").arg(&ts_config).arg("--outDir").arg(&dist));
    let js = format!(
        r#"const {{ AdkApi, Configuration }} = require({dist:?});
(async () => {{
  const api = new AdkApi(new Configuration({{ basePath: {url:?} }}));
  const made = await api.createSession({{ app: 'vana', user: 'u2', createSession: {{ state: {{ project: 'gemini' }} }} }});
  const got = await api.getSession({{ app: 'vana', user: 'u2', session: made.id }});
  console.log(JSON.stringify({{ made: made.id, got: got.id, state: got.state }}));
}})().catch((e) => {{ console.error(e); process.exit(1); }});
"#,
        dist = dist.join("index.js").display().to_string(),
        url = server.url
    );
    std::fs::write(scratch.path().join("run.cjs"), js).unwrap();
    let out = run(Command::new("node").arg(scratch.path().join("run.cjs")));
    let v: Value = serde_json::from_str(out.lines().rev().find(|l| l.starts_with('{')).unwrap()).unwrap();
    assert_eq!(v["made"], v["got"], "{v}");
    assert_eq!(v["state"]["project"], "gemini", "{v}");

    // The Rust client of VANA's API passes `cargo check`.
    let rs = f
        .ok("generate_api_client", json!({"spec": spec, "language": "rust", "package_name": "vana_client"}))
        .await;
    cargo_check(&root.join(rs["output_dir"].as_str().unwrap()));

    let client_dir = root.join(py["output_dir"].as_str().unwrap());
    assert!(find_dir(&client_dir, "vana_client").is_some());
    let script = format!(
        r#"
import json, vana_client
cfg = vana_client.Configuration(host="{url}")
with vana_client.ApiClient(cfg) as c:
    api = vana_client.AdkApi(c)
    made = api.create_session("vana", "u1", create_session=vana_client.CreateSession(state={{"project": "apollo"}}))
    got = api.get_session("vana", "u1", made.id)
    print(json.dumps({{"made": made.id, "got": got.id, "state": got.state}}))
"#,
        url = server.url
    );
    let out = run(Command::new(venv().join("bin/python")).current_dir(&client_dir).arg("-c").arg(script));
    let line = out.lines().rev().find(|l| l.starts_with('{')).unwrap_or_else(|| panic!("{out}"));
    let v: Value = serde_json::from_str(line).unwrap();
    assert_eq!(v["made"], v["got"], "{v}");
    assert_eq!(v["state"]["project"], "apollo", "{v}");
}
