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

/// `[security]` in `vana.toml`: the operator's scanner paths, signature and rule files, extra CA
/// roots and VirusTotal settings (empty fields keep [`SecurityConfig::for_data_dir`]'s defaults).
#[derive(Debug, Clone, Default, PartialEq, serde::Serialize, serde::Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct SecurityToml {
    /// A semgrep executable to use as it is (else VANA provisions the pinned one under the data dir).
    pub semgrep: Option<String>,
    /// The `clamscan` executable (default: `clamscan` on PATH).
    pub clamscan: Option<String>,
    /// ClamAV's signature database folder (default `/var/lib/clamav`; VANA never runs freshclam).
    pub clamav_db: Option<String>,
    /// The `yara` executable (default: `yara` on PATH).
    pub yara: Option<String>,
    /// YARA rule files applied to every `scan_file_malware` call.
    pub yara_rules: Vec<String>,
    /// PEM files of CA certificates `check_security_headers` trusts besides the system's.
    pub extra_ca_roots: Vec<String>,
    /// VirusTotal's base URL (default `https://www.virustotal.com`).
    pub virustotal_url: Option<String>,
    /// The environment variable holding the VirusTotal API key (default `VIRUSTOTAL_API_KEY`).
    pub virustotal_key_env: Option<String>,
    /// Largest file one scan reads, in bytes (default 8 MiB).
    pub max_file_bytes: Option<u64>,
    /// Most bytes one scan reads, in bytes (default 1 GiB).
    pub max_total_bytes: Option<u64>,
}

impl SecurityConfig {
    /// The defaults for `data_dir` with `[security]`'s settings and the shared outbound policy.
    pub fn from_toml(data_dir: &Path, toml: &SecurityToml, policy: OutboundPolicy) -> Self {
        let mut c = SecurityConfig::for_data_dir(data_dir);
        if let Some(s) = &toml.semgrep {
            c.semgrep = Some(s.into());
        }
        if let Some(s) = &toml.clamscan {
            c.clamscan = s.into();
        }
        if let Some(s) = &toml.clamav_db {
            c.clamav_db = s.into();
        }
        if let Some(s) = &toml.yara {
            c.yara = s.into();
        }
        c.yara_rules = toml.yara_rules.iter().map(PathBuf::from).collect();
        c.extra_ca_roots = toml.extra_ca_roots.iter().map(PathBuf::from).collect();
        if let Some(s) = &toml.virustotal_url {
            c.virustotal_url = s.clone();
        }
        if let Some(s) = &toml.virustotal_key_env {
            c.virustotal_key_env = s.clone();
        }
        if let Some(n) = toml.max_file_bytes {
            c.limits.max_file_bytes = n;
        }
        if let Some(n) = toml.max_total_bytes {
            c.limits.max_total_bytes = n;
        }
        c.policy = policy;
        c
    }
}
