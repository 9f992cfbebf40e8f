//! `[integration]` and `[github]` in `vana.toml`.

use serde::{Deserialize, Serialize};
use std::path::PathBuf;

/// `[integration]`: where the integration tools may connect, and their limits.
///
/// Integration work targets internal hosts, so the outbound allow-list is its own setting. When
/// `allow_private_networks` / `allowed_hosts` are not set here, the tools follow the same policy
/// as `fetch_url` (`[web]`, strict by default: loopback and private addresses refused).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct IntegrationConfig {
    /// Allow private, loopback, link-local and special-use addresses; unset: `[web]`'s setting.
    pub allow_private_networks: Option<bool>,
    /// Hosts allowed even when their address is private (names, `*.suffix` wildcards, addresses
    /// or networks); unset: `[web] allowed_hosts`.
    pub allowed_hosts: Option<Vec<String>>,
    /// Seconds one request may take when the call does not say (`timeout_ms`).
    pub timeout_secs: u64,
    /// Most seconds a call may ask for.
    pub max_timeout_secs: u64,
    /// Most repeats one `test_api_endpoint` call may ask for.
    pub max_repeat: u32,
    /// Bytes read from one response body (more is cut and marked `truncated`).
    pub max_body_bytes: u64,
    /// The User-Agent sent unless the call sets one.
    pub user_agent: String,
    /// A PEM file of extra CA certificates `test_api_endpoint` trusts besides the platform's
    /// (an internal CA); empty: none.
    pub ca_file: String,
    /// The OpenAPI Generator jar (`openapi-generator-cli.jar`); empty: looked for in the venv
    /// that `scripts/setup-integration.sh` makes (`$VANA_INTEGRATION_VENV`, else
    /// `.cache/integration-venv` under the working directory).
    pub generator_jar: String,
    /// The Java runtime that runs the generator.
    pub java: String,
    /// Seconds one client generation may take.
    pub generate_timeout_secs: u64,
}

impl Default for IntegrationConfig {
    fn default() -> Self {
        IntegrationConfig {
            allow_private_networks: None,
            allowed_hosts: None,
            timeout_secs: 30,
            max_timeout_secs: 120,
            max_repeat: 50,
            max_body_bytes: 10 * 1024 * 1024,
            user_agent: format!("VANA/{} (integration tools)", env!("CARGO_PKG_VERSION")),
            ca_file: String::new(),
            generator_jar: String::new(),
            java: "java".into(),
            generate_timeout_secs: 300,
        }
    }
}

impl IntegrationConfig {
    /// The outbound policy of the integration tools: this section's settings where given, else
    /// `web`'s (the policy of `fetch_url`).
    pub fn outbound(&self, web: &vana_net::OutboundPolicy) -> vana_net::OutboundPolicy {
        vana_net::OutboundPolicy {
            allow_private_networks: self.allow_private_networks.unwrap_or(web.allow_private_networks),
            allowed_hosts: self.allowed_hosts.clone().unwrap_or_else(|| web.allowed_hosts.clone()),
        }
    }

    /// The certificates of `ca_file` (none when it is empty).
    pub fn extra_roots(&self) -> Result<Vec<rustls::pki_types::CertificateDer<'static>>, String> {
        use rustls::pki_types::pem::PemObject;
        if self.ca_file.trim().is_empty() {
            return Ok(Vec::new());
        }
        let bytes = std::fs::read(&self.ca_file)
            .map_err(|e| format!("`[integration] ca_file` {}: {e}", self.ca_file))?;
        let certs: Vec<_> = rustls::pki_types::CertificateDer::pem_slice_iter(&bytes)
            .collect::<Result<_, _>>()
            .map_err(|e| format!("`[integration] ca_file` {}: {e}", self.ca_file))?;
        if certs.is_empty() {
            return Err(format!("`[integration] ca_file` {} holds no PEM certificate", self.ca_file));
        }
        Ok(certs)
    }

    /// Where the generator jar is, when it can be found.
    pub fn find_jar(&self) -> Option<PathBuf> {
        if !self.generator_jar.is_empty() {
            return Some(PathBuf::from(&self.generator_jar));
        }
        let venv = std::env::var_os("VANA_INTEGRATION_VENV")
            .map(PathBuf::from)
            .unwrap_or_else(|| PathBuf::from(".cache/integration-venv"));
        find_jar_in(&venv)
    }
}

/// The jar that PyPI's `openapi-generator-cli` ships, inside a venv
/// (`lib/python3.X/site-packages/openapi_generator_cli/openapi-generator.jar`).
pub fn find_jar_in(venv: &std::path::Path) -> Option<PathBuf> {
    let lib = std::fs::read_dir(venv.join("lib")).ok()?;
    for entry in lib.flatten() {
        let dir = entry.path().join("site-packages").join("openapi_generator_cli");
        let Ok(files) = std::fs::read_dir(&dir) else { continue };
        for f in files.flatten() {
            let p = f.path();
            if p.extension().is_some_and(|e| e == "jar") {
                return Some(p);
            }
        }
    }
    None
}

/// `[github]`: the REST v3 endpoint (api.github.com or a GitHub Enterprise server), the token and
/// how pagination and rate limits are handled.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct GithubConfig {
    /// The API base URL: `https://api.github.com`, or `https://HOST/api/v3` for Enterprise.
    /// The operator sets it, so its host is reachable even when it is on a private network.
    pub api_url: String,
    /// Environment variable holding the token (sent as `Authorization: Bearer`).
    pub token_env: String,
    /// Items asked for per page (GitHub allows at most 100).
    pub per_page: u32,
    /// Most pages one list call follows through `Link: rel="next"`.
    pub max_pages: u32,
    /// Retries after a rate-limit answer (403/429 with `retry-after` or an exhausted
    /// `x-ratelimit-remaining`).
    pub max_retries: u32,
    /// Longest wait for a rate limit to reset before giving up with an error, seconds.
    pub max_wait_secs: u64,
    /// Seconds one request may take.
    pub timeout_secs: u64,
    /// The User-Agent (GitHub refuses requests without one).
    pub user_agent: String,
}

impl Default for GithubConfig {
    fn default() -> Self {
        GithubConfig {
            api_url: "https://api.github.com".into(),
            token_env: "GITHUB_TOKEN".into(),
            per_page: 30,
            max_pages: 10,
            max_retries: 2,
            max_wait_secs: 60,
            timeout_secs: 30,
            user_agent: format!("VANA/{} (github tools)", env!("CARGO_PKG_VERSION")),
        }
    }
}
