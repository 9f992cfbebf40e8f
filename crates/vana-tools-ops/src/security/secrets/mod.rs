//! `scan_secrets`: VANA's own secret scanner (regex and entropy, in Rust) over inline text or
//! workspace files, with a baseline of accepted fingerprints. Measured against detect-secrets on
//! the same corpus (recall in `tests/secrets.rs`, throughput in `scripts/bench-security.sh`).

pub mod baseline;
pub mod rules;
pub mod scan;

use crate::security::input::{self, Limits, Source};
use async_trait::async_trait;
use serde::Deserialize;
use serde_json::json;
use vana_core::{ToolContext, ToolError, ToolOutput};
use vana_toolkit::{schemars, SessionFiles, TypedTool};

/// Largest inline text scanned.
pub const MAX_TEXT_BYTES: usize = 8 * 1024 * 1024;
/// Most findings returned in one answer (all of them go to `write_baseline`).
pub const MAX_REPORTED: usize = 500;

/// The `scan_secrets` tool.
pub struct ScanSecrets {
    files: SessionFiles,
    limits: Limits,
}

impl ScanSecrets {
    /// Over the session workspaces, with the given read limits.
    pub fn new(files: SessionFiles, limits: Limits) -> Self {
        ScanSecrets { files, limits }
    }
}

/// Arguments of `scan_secrets`.
#[derive(Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ScanSecretsArgs {
    /// Text to scan (a config file's content, a diff, a log). Give this or `path`.
    #[serde(default)]
    pub text: Option<String>,
    /// A file or folder in the session workspace to scan (`.` for all of it); binary files,
    /// `.git` and files over the size limit are skipped and listed.
    #[serde(default)]
    pub path: Option<String>,
    /// A baseline file in the workspace (written earlier with `write_baseline`, or a JSON list of
    /// fingerprints): findings it lists are reported as accepted, not as new.
    #[serde(default)]
    pub baseline: Option<String>,
    /// Fingerprints to accept in addition to the baseline's.
    #[serde(default)]
    pub allow: Vec<String>,
    /// Write every finding's fingerprint to this workspace file (a baseline to pass later).
    #[serde(default)]
    pub write_baseline: Option<String>,
}

#[async_trait]
impl TypedTool for ScanSecrets {
    type Args = ScanSecretsArgs;
    fn name(&self) -> &'static str {
        "scan_secrets"
    }
    fn description(&self) -> &'static str {
        "Finds leaked secrets in text or workspace files: cloud and SaaS tokens (AWS, GitHub, GitLab, Slack, Stripe, \
         Google, OpenAI, npm, PyPI, SendGrid, Twilio, …), private keys, JWTs, passwords in URLs and config, and \
         high-entropy strings. Each finding has file:line, type, a redacted snippet and a fingerprint; a baseline \
         (or `allow`) of fingerprints marks known findings as accepted."
    }
    async fn run(&self, args: ScanSecretsArgs, ctx: ToolContext) -> Result<ToolOutput, ToolError> {
        input::text_or_path(&args.text, &args.path)?;
        if let Some(w) = &args.write_baseline {
            input::checked(w).map_err(|e| ToolError::InvalidArgs(format!("field `write_baseline`: {e}")))?;
        }
        if let Some(bad) = args.allow.iter().find(|f| !baseline::is_fingerprint(f)) {
            return Err(ToolError::InvalidArgs(format!(
                "field `allow`: `{bad}` is not a fingerprint (32 hex digits, as findings report them)"
            )));
        }
        let mut accepted = baseline::Baseline::from_list(&args.allow);
        if let Some(b) = &args.baseline {
            let bytes = self.files.read(&ctx, &input::checked(b)?, 16 * 1024 * 1024)?;
            accepted.extend(baseline::Baseline::parse(&bytes).map_err(|e| {
                ToolError::InvalidArgs(format!("field `baseline`: `{b}` is not a baseline: {e}"))
            })?);
        }
        let started = std::time::Instant::now();
        let limits = self.limits;
        let files = self.files.clone();
        let wctx = ctx.clone();
        let text = args.text.clone();
        let path = args.path.clone();
        let (findings, skipped, scanned, bytes) = tokio::task::spawn_blocking(move || {
            let (sources, skipped) = match (text, path) {
                (Some(t), _) => {
                    if t.len() > MAX_TEXT_BYTES {
                        return Err(ToolError::InvalidArgs(format!(
                            "`text` is {} bytes; the limit is {MAX_TEXT_BYTES}: write it to a workspace file and pass `path`",
                            t.len()
                        )));
                    }
                    (vec![Source { name: "<text>".into(), bytes: t.into_bytes() }], Vec::new())
                }
                (None, Some(p)) => {
                    let (ws, names) = input::list(&files, &ctx, &p)?;
                    input::read_all(&ws, &names, limits)
                }
                (None, None) => unreachable!("checked above"),
            };
            let mut skipped = skipped;
            for s in &sources {
                if input::is_binary(&s.bytes) {
                    skipped.push(input::Skipped { file: s.name.clone(), reason: "binary".into() });
                }
            }
            let bytes: usize = sources.iter().map(|s| s.bytes.len()).sum();
            let threads = std::thread::available_parallelism().map(|n| n.get()).unwrap_or(1);
            let findings = scan::scan_all(&sources, threads);
            Ok((findings, skipped, sources.len(), bytes))
        })
        .await
        .map_err(|e| ToolError::Failed(format!("the scan stopped: {e}")))??;
        let new: Vec<&scan::Finding> =
            findings.iter().filter(|f| !accepted.contains(&f.fingerprint)).collect();
        let accepted_n = findings.len() - new.len();
        let written = match &args.write_baseline {
            Some(name) => Some(self.files.write(&wctx, name, &baseline::Baseline::render(&findings))?),
            None => None,
        };
        let mut by_rule = std::collections::BTreeMap::<&str, usize>::new();
        for f in &new {
            *by_rule.entry(f.rule).or_default() += 1;
        }
        let shown: Vec<&&scan::Finding> = new.iter().take(MAX_REPORTED).collect();
        Ok(ToolOutput::json(json!({
            "engine": "vana (Rust regex + entropy rules)",
            "files_scanned": scanned,
            "bytes_scanned": bytes,
            "seconds": (started.elapsed().as_secs_f64() * 1000.0).round() / 1000.0,
            "new_findings": new.len(),
            "accepted_findings": accepted_n,
            "by_rule": by_rule,
            "findings": shown,
            "truncated": new.len() > MAX_REPORTED,
            "skipped": skipped,
            "baseline_written": written,
            "note": "secrets are shown redacted; accept a known finding by listing its fingerprint in a baseline",
        })))
    }
}
