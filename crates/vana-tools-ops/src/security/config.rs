//! The security tools' settings: where the scanners are, the signature and rule files the
//! operator supplies, VirusTotal's endpoint and key, extra CA roots for TLS checks, read limits
//! and the outbound policy (`[web]`'s, shared with every network tool).

use crate::security::input::Limits;
use std::path::{Path, PathBuf};
use vana_net::OutboundPolicy;

/// Settings of the security tools.
#[derive(Debug, Clone)]
pub struct SecurityConfig {
    /// VANA's data dir: semgrep's managed environment lives at `<data>/security/semgrep-env`.
    pub data_dir: PathBuf,
    /// A semgrep executable to use as it is (`$VANA_SEMGREP`); skips provisioning.
    pub semgrep: Option<PathBuf>,
    /// The Python that creates the managed environment (`$VANA_PYTHON`, else `python3`).
    pub base_python: PathBuf,
    /// The `clamscan` executable.
    pub clamscan: PathBuf,
    /// ClamAV's signature database folder (`clamscan -d`); the operator supplies it.
    pub clamav_db: PathBuf,
    /// The `yara` executable.
    pub yara: PathBuf,
    /// YARA rule files (operator files) applied to every malware scan.
    pub yara_rules: Vec<PathBuf>,
    /// VirusTotal's base URL (overridable for a local test server).
    pub virustotal_url: String,
    /// The environment variable holding the VirusTotal API key.
    pub virustotal_key_env: String,
    /// The VirusTotal API key itself (from the config), used before the environment variable.
    pub virustotal_api_key: Option<String>,
    /// PEM files of CA certificates trusted by `check_security_headers` besides the system's.
    pub extra_ca_roots: Vec<PathBuf>,
    /// Where external scanners' private copies of workspace files go (a 0700 folder;
    /// [`crate::security::staging::default_scratch`]).
    pub scratch_dir: PathBuf,
    /// Read limits of every scan.
    pub limits: Limits,
    /// Where the network tools may connect.
    pub policy: OutboundPolicy,
}

impl SecurityConfig {
    /// The defaults for VANA's data dir: scanners from PATH, ClamAV's database at
    /// `/var/lib/clamav`, VirusTotal's public API, the strict outbound policy.
    pub fn for_data_dir(data_dir: &Path) -> Self {
        SecurityConfig {
            data_dir: data_dir.to_path_buf(),
            semgrep: std::env::var_os("VANA_SEMGREP").map(PathBuf::from),
            base_python: std::env::var_os("VANA_PYTHON")
                .map(PathBuf::from)
                .unwrap_or_else(|| "python3".into()),
            clamscan: "clamscan".into(),
            clamav_db: "/var/lib/clamav".into(),
            yara: "yara".into(),
            yara_rules: Vec::new(),
            virustotal_url: "https://www.virustotal.com".into(),
            virustotal_key_env: "VIRUSTOTAL_API_KEY".into(),
            virustotal_api_key: None,
            extra_ca_roots: Vec::new(),
            scratch_dir: crate::security::staging::default_scratch(data_dir),
            limits: Limits::default(),
            policy: OutboundPolicy::strict(),
        }
    }
}
