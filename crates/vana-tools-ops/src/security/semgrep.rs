//! `scan_code_semgrep`: semgrep (PyPI, pinned) with the rule packs VANA ships
//! (`crates/vana-tools-ops/rules/*.yaml`, embedded in the binary), run offline: `--metrics=off`,
//! `--disable-version-check`, local rules only (registry rule sets need the internet). Code comes
//! inline or from the workspace (copied to a private folder first, see [`crate::security::staging`]).
//! Findings are normalised (rule, severity, CWE, file:line, snippet, fix) and the SARIF report is
//! written to the workspace.

use crate::security::input::{self, Source};
use crate::security::managed_env::ManagedEnv;
use crate::security::staging::{self, Staging};
use crate::security::SecurityConfig;
use async_trait::async_trait;
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;
use vana_core::{ToolContext, ToolError, ToolOutput};
use vana_toolkit::{schemars, SessionFiles, TypedTool};

/// The pinned semgrep release (PyPI).
pub const SEMGREP_VERSION: &str = "1.187.0";

/// The rule packs VANA ships: (name, YAML).
pub const RULE_PACKS: &[(&str, &str)] = &[
    ("injection", include_str!("../../rules/injection.yaml")),
    ("xss", include_str!("../../rules/xss.yaml")),
    ("path-traversal", include_str!("../../rules/path-traversal.yaml")),
    ("ssrf", include_str!("../../rules/ssrf.yaml")),
    ("deserialization", include_str!("../../rules/deserialization.yaml")),
    ("crypto", include_str!("../../rules/crypto.yaml")),
    ("credentials", include_str!("../../rules/credentials.yaml")),
    ("tls", include_str!("../../rules/tls.yaml")),
    ("xxe", include_str!("../../rules/xxe.yaml")),
    ("redirect", include_str!("../../rules/redirect.yaml")),
];

/// How long one semgrep run may take.
const RUN_TIMEOUT: Duration = Duration::from_secs(600);
/// Most findings returned in one answer (the SARIF file has them all).
const MAX_REPORTED: usize = 300;

/// Where semgrep comes from: `[security] semgrep` / `$VANA_SEMGREP` as is, else the managed
/// environment under the data dir.
#[derive(Debug, Clone)]
pub struct Semgrep {
    explicit: Option<PathBuf>,
    env: ManagedEnv,
}

impl Semgrep {
    /// From the security settings.
    pub fn new(config: &SecurityConfig) -> Self {
        Semgrep {
            explicit: config.semgrep.clone(),
            env: ManagedEnv {
                dir: config.data_dir.join("security").join("semgrep-env"),
                requirement: format!("semgrep=={SEMGREP_VERSION}"),
                program: "semgrep",
                base_python: config.base_python.clone(),
            },
        }
    }

    /// The command that installs it by hand.
    pub fn install_command(&self) -> String {
        self.env.install_command()
    }

    /// True when it is there (cheap).
    pub fn looks_ready(&self) -> bool {
        match &self.explicit {
            Some(p) => staging::find_executable(p).is_some(),
            None => self.env.looks_ready(),
        }
    }

    /// The executable, provisioning the managed environment when needed (blocking).
    pub fn executable(&self) -> Result<PathBuf, ToolError> {
        match &self.explicit {
            Some(p) => staging::find_executable(p).ok_or_else(|| {
                ToolError::Unavailable(format!(
                    "semgrep is configured as `{}`, which does not exist. Install it with: {} (or unset \
                     VANA_SEMGREP / `[security] semgrep` to let VANA provision it under the data dir)",
                    p.display(),
                    self.install_command()
                ))
            }),
            None => self.env.provision(),
        }
    }
}

/// One normalised finding.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct CodeFinding {
    /// The rule's id, e.g. `py-sql-injection`.
    pub rule: String,
    /// `high`, `medium` or `low` (semgrep's ERROR, WARNING, INFO).
    pub severity: String,
    /// The CWE, e.g. `CWE-89: SQL Injection`.
    pub cwe: String,
    /// The pack's category (`injection`, `xss`, …).
    pub category: String,
    /// Workspace-relative file (`<code>.<ext>` for inline code).
    pub file: String,
    /// 1-based first line.
    pub line: u64,
    /// 1-based last line.
    pub end_line: u64,
    /// 1-based column.
    pub column: u64,
    /// What is wrong.
    pub message: String,
    /// The matched source (first lines).
    pub snippet: String,
    /// How to fix it.
    pub fix: String,
}

/// A run's outcome.
#[derive(Debug, Clone)]
pub struct Report {
    /// The findings.
    pub findings: Vec<CodeFinding>,
    /// Files semgrep scanned.
    pub scanned: Vec<String>,
    /// Semgrep's own errors (a file it could not parse, a rule timeout).
    pub errors: Vec<String>,
    /// The SARIF report.
    pub sarif: Vec<u8>,
}

/// Writes VANA's rule packs (all, or those named) into `dir`.
pub fn write_rules(stage: &Staging, packs: &[String]) -> Result<PathBuf, ToolError> {
    for name in packs {
        if !RULE_PACKS.iter().any(|(n, _)| n == name) {
            let known: Vec<&str> = RULE_PACKS.iter().map(|(n, _)| *n).collect();
            return Err(ToolError::InvalidArgs(format!(
                "field `packs`: `{name}` is not one of VANA's rule packs ({})",
                known.join(", ")
            )));
        }
    }
    for (name, yaml) in RULE_PACKS {
        if packs.is_empty() || packs.iter().any(|p| p == name) {
            stage.put(&format!("rules/{name}.yaml"), yaml.as_bytes())?;
        }
    }
    Ok(stage.root().join("rules"))
}

/// Runs semgrep over `stage/src` with the rules in `stage/rules`.
pub async fn run(exe: &Path, stage: &Staging, sources: &[Source]) -> Result<Report, ToolError> {
    let src = stage.root().join("src");
    // An empty .semgrepignore replaces semgrep's default one (which skips tests/ and more).
    stage.put("src/.semgrepignore", b"")?;
    let json_out = stage.root().join("out.json");
    let sarif_out = stage.root().join("out.sarif");
    let mut cmd = tokio::process::Command::new(exe);
    cmd.arg("scan")
        .arg("--config")
        .arg(stage.root().join("rules"))
        .args([
            "--metrics=off",
            "--disable-version-check",
            "--no-rewrite-rule-ids",
            "--quiet",
            "--timeout",
            "30",
        ])
        .arg(format!("--json-output={}", json_out.display()))
        .arg(format!("--sarif-output={}", sarif_out.display()))
        .arg(".")
        .current_dir(&src)
        .env("SEMGREP_SEND_METRICS", "off")
        .env("SEMGREP_ENABLE_VERSION_CHECK", "0")
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::piped())
        .kill_on_drop(true);
    let out = tokio::time::timeout(RUN_TIMEOUT, cmd.output())
        .await
        .map_err(|_| {
            ToolError::Failed(format!("semgrep ran past {} s and was stopped", RUN_TIMEOUT.as_secs()))
        })?
        .map_err(|e| ToolError::Unavailable(format!("cannot run semgrep ({}): {e}", exe.display())))?;
    let Some(raw) = stage.read("out.json") else {
        let err = String::from_utf8_lossy(&out.stderr);
        let tail: Vec<&str> = err.lines().rev().take(5).collect();
        return Err(ToolError::Failed(format!(
            "semgrep failed ({}) without a report: {}",
            out.status,
            tail.into_iter().rev().collect::<Vec<_>>().join(" / ")
        )));
    };
    let parsed: SemgrepJson = serde_json::from_slice(&raw)
        .map_err(|e| ToolError::Failed(format!("semgrep's report is unreadable: {e}")))?;
    let by_name: std::collections::HashMap<&str, &[u8]> =
        sources.iter().map(|s| (s.name.as_str(), s.bytes.as_slice())).collect();
    let findings = parsed.results.iter().map(|r| normalise(r, &by_name)).collect();
    let errors = parsed
        .errors
        .iter()
        .map(|e| {
            let msg = e.get("message").and_then(Value::as_str).unwrap_or("error");
            let path = e.get("path").and_then(Value::as_str).unwrap_or("");
            format!("{path}{}{}", if path.is_empty() { "" } else { ": " }, msg.lines().next().unwrap_or(msg))
        })
        .collect();
    let mut scanned = parsed.paths.scanned;
    scanned.retain(|p| p != ".semgrepignore");
    Ok(Report { findings, scanned, errors, sarif: stage.read("out.sarif").unwrap_or_default() })
}

#[derive(Deserialize)]
struct SemgrepJson {
    #[serde(default)]
    results: Vec<SemgrepResult>,
    #[serde(default)]
    errors: Vec<Value>,
    #[serde(default)]
    paths: Paths,
}

#[derive(Deserialize, Default)]
struct Paths {
    #[serde(default)]
    scanned: Vec<String>,
}

#[derive(Deserialize)]
struct SemgrepResult {
    check_id: String,
    path: String,
    start: Pos,
    end: Pos,
    extra: Extra,
}

#[derive(Deserialize)]
struct Pos {
    line: u64,
    col: u64,
}

#[derive(Deserialize)]
struct Extra {
    #[serde(default)]
    message: String,
    #[serde(default)]
    severity: String,
    #[serde(default)]
    metadata: Value,
}

fn normalise(r: &SemgrepResult, sources: &std::collections::HashMap<&str, &[u8]>) -> CodeFinding {
    let meta = |k: &str| match r.extra.metadata.get(k) {
        Some(Value::String(s)) => s.clone(),
        Some(Value::Array(a)) => a.iter().filter_map(Value::as_str).collect::<Vec<_>>().join(", "),
        _ => String::new(),
    };
    let path = r.path.trim_start_matches("./").to_string();
    // Semgrep without a login prints "requires login" for the matched lines: read them here.
    let snippet = sources
        .get(path.as_str())
        .map(|b| {
            let text = String::from_utf8_lossy(b);
            let lines: Vec<&str> = text
                .lines()
                .skip(r.start.line.saturating_sub(1) as usize)
                .take((r.end.line.saturating_sub(r.start.line) + 1).min(3) as usize)
                .collect();
            let s = lines.join("\n");
            if s.chars().count() > 300 {
                s.chars().take(300).collect::<String>() + "…"
            } else {
                s
            }
        })
        .unwrap_or_default();
    CodeFinding {
        rule: r.check_id.rsplit('.').next().unwrap_or(&r.check_id).to_string(),
        severity: match r.extra.severity.as_str() {
            "ERROR" => "high",
            "WARNING" => "medium",
            _ => "low",
        }
        .to_string(),
        cwe: meta("cwe"),
        category: meta("category"),
        file: path,
        line: r.start.line,
        end_line: r.end.line,
        column: r.start.col,
        message: r.extra.message.clone(),
        snippet,
        fix: meta("fix"),
    }
}

/// The file extension for a language name, or `None` when VANA's packs do not cover it.
pub fn extension(language: &str) -> Option<&'static str> {
    Some(match language.trim().to_ascii_lowercase().as_str() {
        "python" | "py" => "py",
        "javascript" | "js" | "node" | "nodejs" => "js",
        "typescript" | "ts" => "ts",
        "go" | "golang" => "go",
        "java" => "java",
        "bash" | "sh" | "shell" => "sh",
        _ => return None,
    })
}

/// A guess at the language of a snippet (used when `language` is not given).
pub fn detect_language(code: &str) -> &'static str {
    let has = |s: &str| code.contains(s);
    if code.starts_with("#!") && (has("bash") || has("/sh")) {
        "sh"
    } else if has("package main") || has("func ") && has(":=") || has("import (\n") {
        "go"
    } else if has("public class")
        || has("import java.")
        || has("System.out")
        || (has("class ") && has("void "))
    {
        "java"
    } else if has("def ") || has("import os") || has("\nimport ") && has(":\n") || has("elif ") {
        "py"
    } else if has("function") || has("const ") || has("=>") || has("require(") || has("let ") {
        if has(": string") || has("interface ") {
            "ts"
        } else {
            "js"
        }
    } else {
        "py"
    }
}

/// The `scan_code_semgrep` tool.
pub struct ScanCodeSemgrep {
    files: SessionFiles,
    config: Arc<SecurityConfig>,
    semgrep: Semgrep,
}

impl ScanCodeSemgrep {
    /// Over the session workspaces.
    pub fn new(files: SessionFiles, config: Arc<SecurityConfig>) -> Self {
        let semgrep = Semgrep::new(&config);
        ScanCodeSemgrep { files, config, semgrep }
    }
}

/// Arguments of `scan_code_semgrep`.
#[derive(Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ScanCodeArgs {
    /// Source code to scan. Give this or `path`.
    #[serde(default)]
    pub code: Option<String>,
    /// The language of `code`: python, javascript, typescript, go, java or bash (guessed when left out).
    #[serde(default)]
    pub language: Option<String>,
    /// A file or folder in the session workspace to scan (`.` for all of it).
    #[serde(default)]
    pub path: Option<String>,
    /// Only these rule packs: injection, xss, path-traversal, ssrf, deserialization, crypto,
    /// credentials, tls, xxe, redirect (all when left out).
    #[serde(default)]
    pub packs: Vec<String>,
    /// Where to write the SARIF report in the workspace (default `semgrep-results.sarif`).
    #[serde(default)]
    pub sarif_path: Option<String>,
}

#[async_trait]
impl TypedTool for ScanCodeSemgrep {
    type Args = ScanCodeArgs;
    fn name(&self) -> &'static str {
        "scan_code_semgrep"
    }
    fn description(&self) -> &'static str {
        "Static analysis with semgrep and VANA's own rule packs (offline): SQL/NoSQL/command/code/LDAP/XPath \
         injection, XSS, XXE, open redirects, path traversal, SSRF, insecure deserialization, weak crypto and \
         randomness, hard-coded credentials, insecure TLS, for Python, JavaScript/TypeScript, Go, Java and shell. \
         Findings with rule, severity, CWE, file:line, snippet and fix; the SARIF report is written to the workspace."
    }
    fn timeout(&self) -> Option<Duration> {
        Some(RUN_TIMEOUT + Duration::from_secs(300))
    }
    async fn run(&self, args: ScanCodeArgs, ctx: ToolContext) -> Result<ToolOutput, ToolError> {
        input::text_or_path(&args.code, &args.path)?;
        let sarif_path = args.sarif_path.clone().unwrap_or_else(|| "semgrep-results.sarif".into());
        vana_toolkit::vana_workspace::normalize(&sarif_path)
            .map_err(|e| ToolError::InvalidArgs(format!("field `sarif_path`: {e}")))?;
        let sources: Vec<Source> = match (&args.code, &args.path) {
            (Some(code), _) => {
                let ext = match &args.language {
                    Some(l) => extension(l).ok_or_else(|| {
                        ToolError::InvalidArgs(format!(
                            "field `language`: `{l}` is not covered by VANA's rule packs (python, javascript, typescript, \
                             go, java, bash)"
                        ))
                    })?,
                    None => detect_language(code),
                };
                vec![Source { name: format!("code.{ext}"), bytes: code.clone().into_bytes() }]
            }
            (None, Some(p)) => {
                let (ws, names) = input::list(&self.files, &ctx, p)?;
                let (sources, _skipped) = input::read_all(&ws, &names, self.config.limits);
                sources.into_iter().filter(|s| !input::is_binary(&s.bytes)).collect()
            }
            (None, None) => unreachable!("checked above"),
        };
        let semgrep = self.semgrep.clone();
        let exe = tokio::task::spawn_blocking(move || semgrep.executable())
            .await
            .map_err(|e| ToolError::Failed(format!("provisioning semgrep stopped: {e}")))??;
        let stage = Staging::new(&self.config.scratch_dir)?;
        write_rules(&stage, &args.packs)?;
        stage.put_all("src", &sources)?;
        let started = std::time::Instant::now();
        let report = run(&exe, &stage, &sources).await?;
        let seconds = started.elapsed().as_secs_f64();
        stage.remove_in_background();
        let written = self.files.write(&ctx, &sarif_path, &report.sarif)?;
        let mut by_severity = std::collections::BTreeMap::<&str, usize>::new();
        for f in &report.findings {
            *by_severity.entry(f.severity.as_str()).or_default() += 1;
        }
        let shown: Vec<&CodeFinding> = report.findings.iter().take(MAX_REPORTED).collect();
        Ok(ToolOutput::json(json!({
            "engine": format!("semgrep {SEMGREP_VERSION} with VANA's rule packs (offline)"),
            "files_scanned": report.scanned.len(),
            "findings_total": report.findings.len(),
            "by_severity": by_severity,
            "findings": shown,
            "truncated": report.findings.len() > MAX_REPORTED,
            "scan_errors": report.errors,
            "sarif": written,
            "seconds": (seconds * 100.0).round() / 100.0,
            "note": "pattern and intra-procedural taint rules: a clean result means none of VANA's rules matched, not that the code is safe",
        })))
    }
}
