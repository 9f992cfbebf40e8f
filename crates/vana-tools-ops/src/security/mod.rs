//! The security half of the suite (the `security` agent's tools): `scan_secrets` (VANA's own
//! scanner), `scan_code_semgrep` (semgrep with the rule packs VANA ships), `check_security_headers`
//! (a URL's response headers, cookies, CORS and TLS), `scan_file_malware` (ClamAV and YARA) and
//! `scan_file_virustotal` / `upload_file_virustotal` (VirusTotal v3).

pub mod config;
pub mod headers;
pub mod input;
pub mod malware;
pub mod managed_env;
pub mod secrets;
pub mod semgrep;
pub mod staging;
pub mod virustotal;

pub use config::{SecurityConfig, SecurityToml};

use std::sync::Arc;
use vana_core::Tool;
use vana_toolkit::{typed, MissingPart, SessionFiles};

/// The security tools over the session workspaces.
pub fn tools(files: &SessionFiles, config: &Arc<SecurityConfig>) -> Vec<Arc<dyn Tool>> {
    vec![
        typed(secrets::ScanSecrets::new(files.clone(), config.limits)),
        typed(semgrep::ScanCodeSemgrep::new(files.clone(), config.clone())),
        typed(headers::CheckSecurityHeaders::new(config.clone())),
        typed(malware::ScanFileMalware::new(files.clone(), config.clone())),
        typed(virustotal::ScanFileVirusTotal::new(files.clone(), config.clone())),
        typed(virustotal::UploadFileVirusTotal::new(files.clone(), config.clone())),
    ]
}

/// What the security tools lack (cheap: files looked at, nothing started).
pub fn missing(config: &SecurityConfig) -> Vec<MissingPart> {
    let mut out = Vec::new();
    let semgrep = semgrep::Semgrep::new(config);
    if !semgrep.looks_ready() {
        out.push(MissingPart {
            what: format!("semgrep {} (set up on first use of scan_code_semgrep)", semgrep::SEMGREP_VERSION),
            fix: semgrep.install_command(),
        });
    }
    if let Some((what, fix)) = malware::clamav_missing(config) {
        out.push(MissingPart { what: format!("{what} (scan_file_malware)"), fix });
    }
    if staging::find_executable(&config.yara).is_none() {
        out.push(MissingPart {
            what: "YARA (scan_file_malware)".into(),
            fix: "apt-get install -y yara".into(),
        });
    }
    out
}
