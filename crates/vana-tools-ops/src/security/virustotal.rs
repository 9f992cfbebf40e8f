//! VirusTotal v3: `scan_file_virustotal` looks a file up by its SHA-256
//! (`GET /api/v3/files/{sha256}`) and never sends the file; `upload_file_virustotal` submits it
//! (`POST /api/v3/files`, multipart) and requires the user's approval, since the file leaves
//! the machine and becomes visible to VirusTotal's partners. The key comes from
//! `VIRUSTOTAL_API_KEY` (or the configured variable); the base URL is configurable (a local
//! server speaking v3's wire format in the tests). Requests follow the shared outbound policy.

use crate::security::SecurityConfig;
use async_trait::async_trait;
use serde::Deserialize;
use serde_json::{json, Value};
use sha2::{Digest, Sha256};
use std::sync::Arc;
use std::time::Duration;
use vana_core::{ToolContext, ToolError, ToolOutput};
use vana_net::Refusal;
use vana_toolkit::{schemars, SessionFiles, TypedTool};

/// Largest file `POST /api/v3/files` takes (larger ones need an upload URL; not done).
pub const MAX_UPLOAD: u64 = 32 * 1024 * 1024;
/// Largest file hashed for a lookup.
const MAX_HASHED: u64 = 650 * 1024 * 1024;

/// A VirusTotal v3 client over the outbound policy.
#[derive(Clone)]
pub struct VirusTotal {
    config: Arc<SecurityConfig>,
}

impl VirusTotal {
    /// From the security settings.
    pub fn new(config: Arc<SecurityConfig>) -> Self {
        VirusTotal { config }
    }

    fn key(&self) -> Result<String, ToolError> {
        if let Some(k) = self.config.virustotal_api_key.as_ref().filter(|k| !k.trim().is_empty()) {
            return Ok(k.trim().to_string());
        }
        match std::env::var(&self.config.virustotal_key_env) {
            Ok(k) if !k.trim().is_empty() => Ok(k.trim().to_string()),
            _ => Err(ToolError::Unavailable(format!(
                "VirusTotal needs an API key: set {} to your key (https://www.virustotal.com/gui/my-apikey); ClamAV and \
                 YARA (scan_file_malware) work without one",
                self.config.virustotal_key_env
            ))),
        }
    }

    fn client(&self) -> Result<vana_net::Client, ToolError> {
        self.config
            .policy
            .client(
                reqwest::Client::builder()
                    .timeout(Duration::from_secs(120))
                    .user_agent("VANA scan_file_virustotal"),
                3,
            )
            .map_err(|e| ToolError::Failed(format!("cannot build the HTTP client: {e}")))
    }

    fn url(&self, path: &str) -> String {
        format!("{}{path}", self.config.virustotal_url.trim_end_matches('/'))
    }

    async fn send(&self, req: Result<reqwest::RequestBuilder, Refusal>) -> Result<(u16, Value), ToolError> {
        let key = self.key()?;
        let req = req.map_err(|r| ToolError::Blocked(r.to_string()))?;
        let resp =
            req.header("x-apikey", key).header("accept", "application/json").send().await.map_err(|e| {
                match Refusal::find(&e) {
                    Some(r) => ToolError::Blocked(r.to_string()),
                    None => ToolError::Failed(format!("VirusTotal did not answer: {e}")),
                }
            })?;
        let status = resp.status().as_u16();
        let body: Value = resp.json().await.unwrap_or(Value::Null);
        match status {
            200..=299 | 404 => Ok((status, body)),
            401 | 403 => Err(ToolError::Unavailable(format!(
                "VirusTotal refused the API key in {} ({}): check it",
                self.config.virustotal_key_env,
                error_message(&body)
            ))),
            429 => Err(ToolError::Failed(format!(
                "VirusTotal's quota for this key is used up ({}); try again later",
                error_message(&body)
            ))),
            s => Err(ToolError::Failed(format!("VirusTotal answered HTTP {s}: {}", error_message(&body)))),
        }
    }

    /// `GET /api/v3/files/{sha256}`: the report, or `None` when VirusTotal does not know the file.
    pub async fn lookup(&self, sha256: &str) -> Result<Option<Value>, ToolError> {
        let client = self.client()?;
        let (status, body) = self.send(client.get(&self.url(&format!("/api/v3/files/{sha256}")))).await?;
        Ok(if status == 404 { None } else { Some(body) })
    }

    /// `POST /api/v3/files`: the analysis id.
    pub async fn upload(&self, name: &str, bytes: Vec<u8>) -> Result<String, ToolError> {
        let client = self.client()?;
        let boundary = format!("vana-{:016x}", rand_u64());
        let safe_name: String = name
            .rsplit('/')
            .next()
            .unwrap_or("file")
            .chars()
            .filter(|c| !matches!(c, '"' | '\r' | '\n' | '\\'))
            .collect();
        let mut body = format!(
            "--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"{safe_name}\"\r\nContent-Type: application/octet-stream\r\n\r\n"
        )
        .into_bytes();
        body.extend_from_slice(&bytes);
        body.extend_from_slice(format!("\r\n--{boundary}--\r\n").as_bytes());
        let req = client.request(reqwest::Method::POST, &self.url("/api/v3/files")).map(|r| {
            r.header("content-type", format!("multipart/form-data; boundary={boundary}")).body(body)
        });
        let (status, body) = self.send(req).await?;
        if status == 404 {
            return Err(ToolError::Failed(format!(
                "VirusTotal answered 404 to the upload: {}",
                error_message(&body)
            )));
        }
        body["data"]["id"]
            .as_str()
            .map(str::to_string)
            .ok_or_else(|| ToolError::Failed(format!("VirusTotal's answer has no analysis id: {body}")))
    }

    /// `GET /api/v3/analyses/{id}`: the analysis' status and counts so far.
    pub async fn analysis(&self, id: &str) -> Result<Value, ToolError> {
        let client = self.client()?;
        let (_, body) = self.send(client.get(&self.url(&format!("/api/v3/analyses/{id}")))).await?;
        Ok(body)
    }
}

fn rand_u64() -> u64 {
    let t =
        std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.as_nanos()).unwrap_or(0);
    (t as u64) ^ ((std::process::id() as u64) << 32)
}

fn error_message(body: &Value) -> String {
    let e = &body["error"];
    match (e["code"].as_str(), e["message"].as_str()) {
        (Some(c), Some(m)) => format!("{c}: {m}"),
        (Some(c), None) => c.to_string(),
        _ => "no error details".into(),
    }
}

/// The part of a file report the model needs.
pub fn summarise(report: &Value) -> Value {
    let a = &report["data"]["attributes"];
    let stats = &a["last_analysis_stats"];
    let mut detections: Vec<Value> = a["last_analysis_results"]
        .as_object()
        .map(|m| {
            m.values()
                .filter(|r| matches!(r["category"].as_str(), Some("malicious") | Some("suspicious")))
                .map(
                    |r| json!({"engine": r["engine_name"], "category": r["category"], "result": r["result"]}),
                )
                .collect()
        })
        .unwrap_or_default();
    detections.truncate(20);
    let malicious = stats["malicious"].as_u64().unwrap_or(0);
    let suspicious = stats["suspicious"].as_u64().unwrap_or(0);
    let verdict = if malicious > 0 {
        "malicious"
    } else if suspicious > 0 {
        "suspicious"
    } else {
        "no engine flagged it"
    };
    json!({
        "known": true,
        "verdict": verdict,
        "stats": stats,
        "detections": detections,
        "name": a["meaningful_name"],
        "type": a["type_description"],
        "size": a["size"],
        "reputation": a["reputation"],
        "last_analysis_date": a["last_analysis_date"],
    })
}

fn sha256_hex(bytes: &[u8]) -> String {
    Sha256::digest(bytes).iter().map(|b| format!("{b:02x}")).collect()
}

/// The `scan_file_virustotal` tool (lookup by hash only).
pub struct ScanFileVirusTotal {
    files: SessionFiles,
    vt: VirusTotal,
}

impl ScanFileVirusTotal {
    /// Over the session workspaces.
    pub fn new(files: SessionFiles, config: Arc<SecurityConfig>) -> Self {
        ScanFileVirusTotal { files, vt: VirusTotal::new(config) }
    }
}

/// Arguments of `scan_file_virustotal`.
#[derive(Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct VtLookupArgs {
    /// A file in the session workspace (only its SHA-256 is sent). Give this or `sha256`.
    #[serde(default)]
    pub path: Option<String>,
    /// A SHA-256 (64 hex digits) to look up.
    #[serde(default)]
    pub sha256: Option<String>,
}

#[async_trait]
impl TypedTool for ScanFileVirusTotal {
    type Args = VtLookupArgs;
    fn name(&self) -> &'static str {
        "scan_file_virustotal"
    }
    fn description(&self) -> &'static str {
        "Looks a file up on VirusTotal by its SHA-256 (the file itself is not sent): how many engines flag it and as \
         what. Needs VIRUSTOTAL_API_KEY. Unknown files can be submitted with upload_file_virustotal (asks for approval)."
    }
    async fn run(&self, args: VtLookupArgs, ctx: ToolContext) -> Result<ToolOutput, ToolError> {
        let (hash, file) = match (args.path, args.sha256) {
            (Some(_), Some(_)) => {
                return Err(ToolError::InvalidArgs("give either `path` or `sha256`, not both".into()))
            }
            (None, None) => {
                return Err(ToolError::InvalidArgs("give `path` (a workspace file) or `sha256`".into()))
            }
            (None, Some(h)) => {
                let h = h.trim().to_ascii_lowercase();
                if h.len() != 64 || !h.bytes().all(|b| b.is_ascii_hexdigit()) {
                    return Err(ToolError::InvalidArgs(format!(
                        "field `sha256`: `{h}` is not 64 hex digits"
                    )));
                }
                (h, None)
            }
            (Some(p), None) => {
                let p = crate::security::input::checked(&p)?;
                let bytes = self.files.read(&ctx, &p, MAX_HASHED)?;
                (sha256_hex(&bytes), Some(p))
            }
        };
        let out = match self.vt.lookup(&hash).await? {
            Some(report) => {
                let mut s = summarise(&report);
                s["sha256"] = json!(hash);
                s["file"] = json!(file);
                s
            }
            None => json!({
                "known": false,
                "sha256": hash,
                "file": file,
                "verdict": "not known to VirusTotal",
                "next": "upload_file_virustotal submits the file for analysis (it asks the user first: the file leaves this machine)",
            }),
        };
        Ok(ToolOutput::json(out))
    }
}

/// The `upload_file_virustotal` tool (requires approval).
pub struct UploadFileVirusTotal {
    files: SessionFiles,
    vt: VirusTotal,
}

impl UploadFileVirusTotal {
    /// Over the session workspaces.
    pub fn new(files: SessionFiles, config: Arc<SecurityConfig>) -> Self {
        UploadFileVirusTotal { files, vt: VirusTotal::new(config) }
    }
}

/// Arguments of `upload_file_virustotal`.
#[derive(Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct VtUploadArgs {
    /// The workspace file to submit (at most 32 MiB).
    pub path: String,
}

#[async_trait]
impl TypedTool for UploadFileVirusTotal {
    type Args = VtUploadArgs;
    fn name(&self) -> &'static str {
        "upload_file_virustotal"
    }
    fn description(&self) -> &'static str {
        "Uploads a workspace file to VirusTotal for analysis (after the user approves: the file leaves this machine and \
         is shared with VirusTotal's partners). Returns the analysis id and its status. Prefer scan_file_virustotal \
         (hash lookup) first."
    }
    fn requires_confirmation(&self) -> bool {
        true
    }
    async fn run(&self, args: VtUploadArgs, ctx: ToolContext) -> Result<ToolOutput, ToolError> {
        crate::security::input::checked(&args.path)?;
        let bytes = self.files.read(&ctx, &args.path, MAX_UPLOAD).map_err(|e| match e {
            ToolError::InvalidArgs(m) if m.contains("bytes allowed") => ToolError::InvalidArgs(format!(
                "{m}; VirusTotal's direct upload takes at most 32 MiB (larger files need an upload URL, which VANA does not do)"
            )),
            other => other,
        })?;
        let hash = sha256_hex(&bytes);
        let id = self.vt.upload(&args.path, bytes).await?;
        let analysis = self.vt.analysis(&id).await.ok();
        let status =
            analysis.as_ref().and_then(|a| a["data"]["attributes"]["status"].as_str()).unwrap_or("queued");
        Ok(ToolOutput::json(json!({
            "uploaded": args.path,
            "sha256": hash,
            "analysis_id": id,
            "status": status,
            "stats": analysis.as_ref().map(|a| a["data"]["attributes"]["stats"].clone()),
            "next": "call scan_file_virustotal with this sha256 once the analysis has completed",
        })))
    }
}
