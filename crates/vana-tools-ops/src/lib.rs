//! The `ops` suite crate: the security agent's tools ([`security`]: secret scanning, semgrep with
//! VANA's rule packs, security headers and TLS, ClamAV/YARA and VirusTotal). Session files are
//! reached only through the toolkit's `SessionFiles`; external scanners only ever see private
//! copies of them.

pub mod security;

use std::sync::Arc;
use vana_core::Tool;
use vana_toolkit::{SessionFiles, SuiteStatus, ToolSuite};

/// The suite.
pub struct OpsSuite {
    files: SessionFiles,
    security: Arc<security::SecurityConfig>,
}

impl OpsSuite {
    /// The tools over the session workspaces, VANA's data dir and the shared outbound policy.
    pub fn new(files: SessionFiles, data_dir: std::path::PathBuf, policy: vana_net::OutboundPolicy) -> Self {
        let mut config = security::SecurityConfig::for_data_dir(&data_dir);
        config.policy = policy;
        OpsSuite::with_security(files, config)
    }

    /// The tools with the security settings given in full.
    pub fn with_security(files: SessionFiles, security: security::SecurityConfig) -> Self {
        OpsSuite { files, security: Arc::new(security) }
    }
}

impl ToolSuite for OpsSuite {
    fn name(&self) -> &'static str {
        "ops"
    }
    fn description(&self) -> &'static str {
        "security scanners: secrets, semgrep, security headers and TLS, ClamAV/YARA, VirusTotal"
    }
    fn tools(&self) -> Vec<Arc<dyn Tool>> {
        security::tools(&self.files, &self.security)
    }
    fn config_sections(&self) -> &'static [&'static str] {
        &["security"]
    }
    fn status(&self) -> SuiteStatus {
        SuiteStatus { missing: security::missing(&self.security) }
    }
}
