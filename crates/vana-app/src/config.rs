//! `vana.toml`: every setting, its defaults, the file search order and `VANA_*` overrides.

use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use toml::Value;

/// The whole configuration.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Config {
    /// Models, providers (API keys by env var name), retries and fallbacks.
    pub models: vana_models::ModelsConfig,
    /// Where sessions are stored.
    pub store: StoreConfig,
    /// The HTTP server.
    pub server: ServerConfig,
    /// Who may read the server's Prometheus metrics (`[metrics]`).
    pub metrics: MetricsConfig,
    /// Limits of each invocation.
    pub limits: LimitsConfig,
    /// The agent catalog.
    pub agents: AgentsConfig,
    /// Per-agent tool allow/deny lists.
    pub guardrails: GuardrailsConfig,
    /// The code sandbox.
    pub sandbox: SandboxConfig,
    /// Named SQL connections and query limits for the database tools.
    pub sql: vana_tools_data::sql::SqlConfig,
    /// The semantic router in front of the orchestrator.
    pub router: RouterConfig,
    /// Export of the server's traces over OTLP/HTTP (`[telemetry]`; off unless configured).
    pub telemetry: TelemetryConfig,
    /// Outbound policy, fetch and search settings of the network tools.
    #[cfg(feature = "web")]
    pub web: vana_tools_web::WebConfig,
    /// The headless browser.
    #[cfg(feature = "browser")]
    pub browser: vana_tools_browser::BrowserConfig,
    /// The integration tools' outbound allow-list and limits (`[integration]`).
    #[cfg(feature = "integration")]
    pub integration: vana_tools_integration::IntegrationConfig,
    /// The GitHub tools: API URL (GitHub Enterprise too), token variable, paging, rate limits.
    #[cfg(feature = "integration")]
    pub github: vana_tools_integration::GithubConfig,
    /// The Creative Design tools: the image provider, its URL, model and key variable.
    #[cfg(feature = "browser")]
    pub design: vana_tools_browser::DesignConfig,
    /// The DevOps tools' validators and Engine API socket (`[devops]`).
    #[cfg(feature = "devops")]
    pub devops: vana_tools_devops::DevopsConfig,
    /// The AWS tools' region, profile and endpoint override (`[aws]`).
    #[cfg(feature = "devops")]
    pub aws: vana_tools_devops::AwsConfig,
    /// The security tools: scanner paths, ClamAV database, YARA rules, extra CA roots,
    /// VirusTotal (`[security]`).
    #[cfg(feature = "ops")]
    pub security: vana_tools_ops::security::SecurityToml,
}

/// When the semantic router decides which specialist gets a task (`[router]`).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RouterMode {
    /// `first` when the orchestrator runs on a local model, else `off`.
    #[default]
    Auto,
    /// The router picks the specialist when it is confident; the orchestrator's model decides otherwise.
    First,
    /// The orchestrator's model decides; the router's choice is recorded beside it (agreement audit).
    Shadow,
    /// No router.
    Off,
}

/// Trace export (`[telemetry]`). VANA sends nothing anywhere unless `otlp_endpoint` is set.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct TelemetryConfig {
    /// Base URL of an OpenTelemetry collector's OTLP/HTTP receiver (`http://127.0.0.1:4318`):
    /// each invocation's spans are POSTed as JSON to `{otlp_endpoint}/v1/traces`. Empty (the
    /// default): nothing is exported.
    pub otlp_endpoint: String,
    /// `service.name` of the exported resource (empty: `vana`).
    pub service_name: String,
    /// Also export message contents (model responses, tool arguments and results); off by
    /// default, as OpenTelemetry's GenAI conventions make content capture opt-in.
    pub capture_content: bool,
}

/// Semantic router settings.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct RouterConfig {
    /// When the router is used.
    pub mode: RouterMode,
    /// Minimum similarity for a confident choice (the router's built-in default when absent).
    pub threshold: Option<f32>,
}

/// Code sandbox settings (limits and isolation live in the policy files).
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct SandboxConfig {
    /// Directory holding `security_policies.yaml` and `resource_limits.yaml` (built-in defaults
    /// for files that are absent).
    pub policy_dir: String,
}

impl Default for SandboxConfig {
    /// `./config` when it holds a sandbox policy file (a checkout of VANA), else the user
    /// config dir; absent files fall back to the built-in policy.
    fn default() -> Self {
        let local = Path::new("config");
        let dir = if local.join("security_policies.yaml").is_file()
            || local.join("resource_limits.yaml").is_file()
        {
            local.to_path_buf()
        } else {
            config_dir()
        };
        SandboxConfig { policy_dir: dir.display().to_string() }
    }
}

/// Session store settings.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct StoreConfig {
    /// `sqlite://PATH` (default: `<data dir>/vana/vana.db`) or `postgres://...`.
    pub url: String,
}

impl Default for StoreConfig {
    fn default() -> Self {
        StoreConfig { url: format!("sqlite://{}", data_dir().join("vana.db").display()) }
    }
}

/// HTTP server settings.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ServerConfig {
    /// Address to listen on.
    pub bind: String,
    /// Largest request body accepted, bytes (larger gets 413).
    pub max_body_bytes: usize,
    /// Requests per second per API key (user without auth); more gets 429 with Retry-After.
    pub requests_per_second: u32,
    /// Requests a key may send in one burst above the steady rate.
    pub burst: u32,
    /// Server-sent-event streams one key may hold open at once (more gets 429).
    pub max_streams_per_key: u32,
    /// Host names (`vana.example.com`, `*.example.com`, `name:port`, or `*` for any) accepted
    /// in the `Host` header besides loopback names and the bind address; any other gets 403
    /// (DNS rebinding). A comma-separated string is accepted too (`VANA_SERVER_ALLOWED_HOSTS`).
    #[serde(deserialize_with = "string_or_list")]
    pub allowed_hosts: Vec<String>,
    /// Origins (`https://app.example.com`) allowed to send state-changing requests besides the
    /// server's own; any other `Origin` gets 403. A comma-separated string is accepted too.
    #[serde(deserialize_with = "string_or_list")]
    pub allowed_origins: Vec<String>,
    /// Lifetime of a browser login (`POST /api/login`), seconds; the server refuses the cookie
    /// after it.
    pub session_ttl_secs: u64,
    /// Alert rules and where alerts go.
    pub alerts: AlertsConfig,
}

impl Default for ServerConfig {
    fn default() -> Self {
        ServerConfig {
            bind: "127.0.0.1:8080".into(),
            max_body_bytes: 4 * 1024 * 1024,
            requests_per_second: 20,
            burst: 40,
            max_streams_per_key: 16,
            allowed_hosts: Vec::new(),
            allowed_origins: Vec::new(),
            session_ttl_secs: 12 * 3600,
            alerts: AlertsConfig::default(),
        }
    }
}

/// Who may read `GET /metrics` (`[metrics]`).
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct MetricsConfig {
    /// Serve `/metrics` without a key (by default it needs one, like the API; without auth it
    /// is open anyway).
    pub public: bool,
}

/// A list setting given as a TOML array or as one comma-separated string (environment
/// overrides are strings); blank items are dropped.
fn string_or_list<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Vec<String>, D::Error> {
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum OneOrMany {
        One(String),
        Many(Vec<String>),
    }
    let items = match OneOrMany::deserialize(d)? {
        OneOrMany::One(s) => s.split(',').map(str::to_string).collect(),
        OneOrMany::Many(v) => v,
    };
    Ok(items.into_iter().map(|s| s.trim().to_string()).filter(|s| !s.is_empty()).collect())
}

/// Alert rules of the server (`[server.alerts]`); 0 turns a threshold rule off.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct AlertsConfig {
    /// Raise an alert for every sandbox security finding.
    pub sandbox_findings: bool,
    /// Raise an alert when an MCP server stays down this many seconds.
    pub mcp_down_secs: u64,
    /// Raise an alert when an agent's error rate over the last minute exceeds this percent.
    pub error_rate_percent: f64,
    /// Requests an agent needs in the last minute before its error rate is judged.
    pub error_rate_min_requests: u64,
    /// URL that receives each alert as a JSON POST; empty for none.
    pub webhook_url: String,
}

impl Default for AlertsConfig {
    fn default() -> Self {
        AlertsConfig {
            sandbox_findings: true,
            mcp_down_secs: 60,
            error_rate_percent: 20.0,
            error_rate_min_requests: 10,
            webhook_url: String::new(),
        }
    }
}

/// Limits of each invocation.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct LimitsConfig {
    /// Transfers between agents per invocation before the loop guard stops it.
    pub max_transfers: u32,
    /// Model calls per invocation (all agents together) before it is stopped.
    pub max_model_calls: u32,
    /// Default deadline of a tool call, seconds.
    pub tool_timeout_secs: u64,
    /// Tokens per invocation; 0 means no budget.
    pub token_budget: u64,
    /// Most recent events of a session sent as context.
    pub max_history_events: usize,
}

impl Default for LimitsConfig {
    fn default() -> Self {
        let d = vana_core::RunConfig::default();
        LimitsConfig {
            max_transfers: d.max_transfers,
            max_model_calls: d.max_model_calls,
            tool_timeout_secs: d.tool_timeout.as_secs(),
            token_budget: 0,
            max_history_events: d.max_history_events,
        }
    }
}

/// Agent catalog settings.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct AgentsConfig {
    /// Directory of the user's agent YAML files, which override or add to the built-in ones.
    pub dir: String,
    /// The agent that receives tasks when none is named.
    pub root: String,
    /// When a specialist answers a task handed to it, give the agent that handed it over
    /// another turn to recap the answer. Off (as in Google ADK): the specialist's answer is the
    /// reply; its parent runs again only when the specialist transfers back. Either way the
    /// next message starts at the root agent.
    pub return_to_parent: bool,
}

impl Default for AgentsConfig {
    fn default() -> Self {
        AgentsConfig {
            dir: config_dir().join("agents").display().to_string(),
            root: "vana".into(),
            return_to_parent: false,
        }
    }
}

/// Tool allow/deny lists per agent name (`*` in `deny` applies to all agents; direct calls
/// through VANA's MCP server use the agent name `mcp`). MCP tools are named `<server>__<tool>`.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct GuardrailsConfig {
    /// Agent -> the only tools it may call.
    pub allow: BTreeMap<String, BTreeSet<String>>,
    /// Agent -> tools it may never call.
    pub deny: BTreeMap<String, BTreeSet<String>>,
    /// Tools whose every call waits for a human's approval: built-in names, or MCP tools as
    /// `<server>__<tool>` (`*` / `?` globs allowed, e.g. `git__*`).
    pub require_confirmation: BTreeSet<String>,
}

/// Why the configuration could not be loaded: the same error as the MCP server files'
/// (`Read` names the file, `Invalid` its origin: the file, `environment` or a section).
pub use vana_mcp::config::ConfigError;

/// VANA's data directory (see [`vana_assets::data_dir`]: `$VANA_HOME`, `/var/lib/vana` for root,
/// else the platform's data dir + `vana`).
pub fn data_dir() -> PathBuf {
    vana_assets::data_dir()
}

/// Where model files for the local model and the router are kept: `$VANA_MODELS_DIR`, else
/// `<data dir>/models`.
pub fn models_dir() -> PathBuf {
    vana_assets::default_models_dir()
}

/// VANA's config directory (`$VANA_HOME` or the platform's config dir + `vana`).
pub fn config_dir() -> PathBuf {
    if let Some(h) = std::env::var_os("VANA_HOME") {
        return PathBuf::from(h);
    }
    dirs::config_dir().unwrap_or_else(|| PathBuf::from(".")).join("vana")
}

/// The config loaded, and where from.
#[derive(Debug, Clone)]
pub struct Loaded {
    /// The effective configuration.
    pub config: Config,
    /// The file read, if any.
    pub file: Option<PathBuf>,
    /// Environment variables that overrode a setting.
    pub overrides: Vec<String>,
}

impl Config {
    /// Loads `path` if given, else the first of `./vana.toml` and `<config dir>/vana.toml`
    /// that exists, else the defaults; then applies `VANA_*` environment overrides.
    pub fn load(path: Option<&Path>) -> Result<Loaded, ConfigError> {
        let env: Vec<(String, String)> = std::env::vars().filter(|(k, _)| k.starts_with("VANA_")).collect();
        let candidates: Vec<PathBuf> = match path {
            Some(p) => vec![p.to_path_buf()],
            None => vec![PathBuf::from("vana.toml"), config_dir().join("vana.toml")],
        };
        let file = candidates.into_iter().find(|p| path.is_some() || p.is_file());
        let text =
            match &file {
                Some(p) => Some(std::fs::read_to_string(p).map_err(|e| ConfigError::Read {
                    path: p.display().to_string(),
                    message: e.to_string(),
                })?),
                None => None,
            };
        let origin = file.as_ref().map(|p| p.display().to_string()).unwrap_or_default();
        let (config, overrides) = Self::from_parts(text.as_deref(), &origin, &env)?;
        Ok(Loaded { config, file, overrides })
    }

    /// Builds the config from file text (if any) and `(name, value)` overrides.
    pub fn from_parts(
        text: Option<&str>,
        origin: &str,
        env: &[(String, String)],
    ) -> Result<(Config, Vec<String>), ConfigError> {
        let invalid = |origin: &str, e: &dyn std::fmt::Display| ConfigError::Invalid {
            origin: origin.to_string(),
            message: e.to_string(),
        };
        let mut tree = Value::try_from(Config::default()).map_err(|e| invalid("defaults", &e))?;
        if let Some(text) = text {
            let file: Value = toml::from_str(text).map_err(|e| invalid(origin, &e))?;
            // Validate the file alone first so errors name the file, not the merged tree.
            Config::deserialize(file.clone()).map_err(|e| invalid(origin, &e))?;
            merge(&mut tree, file);
        }
        let mut overrides = Vec::new();
        let mut paths = Vec::new();
        leaf_paths(&tree, &mut Vec::new(), &mut paths);
        for (name, raw) in env {
            let Some(path) = paths.iter().find(|p| env_name(p) == *name) else { continue };
            set_path(&mut tree, path, parse_env_value(raw));
            overrides.push(name.clone());
        }
        let config = Config::deserialize(tree).map_err(|e| invalid("environment", &e))?;
        Ok((config, overrides))
    }

    /// The effective config as TOML, with secrets in URLs masked.
    pub fn to_masked_toml(&self) -> String {
        let mut c = self.clone();
        c.store.url = mask_url(&c.store.url);
        for conn in c.sql.connections.values_mut() {
            conn.url = mask_url(&conn.url);
        }
        toml::to_string_pretty(&c).unwrap_or_else(|e| format!("# cannot print config: {e}"))
    }

    /// The run settings for the runtime.
    pub fn run_config(&self) -> vana_core::RunConfig {
        vana_core::RunConfig {
            max_transfers: self.limits.max_transfers,
            max_model_calls: self.limits.max_model_calls,
            tool_timeout: std::time::Duration::from_secs(self.limits.tool_timeout_secs),
            token_budget: (self.limits.token_budget > 0).then_some(self.limits.token_budget),
            max_history_events: self.limits.max_history_events,
            return_to_parent: self.agents.return_to_parent,
            ..Default::default()
        }
    }
}

fn env_name(path: &[String]) -> String {
    format!("VANA_{}", path.join("_").to_uppercase())
}

fn leaf_paths(v: &Value, prefix: &mut Vec<String>, out: &mut Vec<Vec<String>>) {
    match v {
        Value::Table(t) => {
            for (k, v) in t {
                prefix.push(k.clone());
                leaf_paths(v, prefix, out);
                prefix.pop();
            }
        }
        _ => out.push(prefix.clone()),
    }
}

fn set_path(tree: &mut Value, path: &[String], value: Value) {
    let mut cur = tree;
    for (i, key) in path.iter().enumerate() {
        let Value::Table(t) = cur else { return };
        if i == path.len() - 1 {
            t.insert(key.clone(), value);
            return;
        }
        cur = t.entry(key.clone()).or_insert_with(|| Value::Table(Default::default()));
    }
}

/// An environment value: TOML syntax if it parses as a number, boolean or array; else a string.
fn parse_env_value(raw: &str) -> Value {
    toml::from_str::<toml::Table>(&format!("v = {raw}"))
        .ok()
        .and_then(|mut t| t.remove("v"))
        .filter(|v| !matches!(v, Value::Table(_)))
        .unwrap_or_else(|| Value::String(raw.to_string()))
}

fn merge(base: &mut Value, over: Value) {
    match (base, over) {
        (Value::Table(b), Value::Table(o)) => {
            for (k, v) in o {
                match b.get_mut(&k) {
                    Some(existing) => merge(existing, v),
                    None => {
                        b.insert(k, v);
                    }
                }
            }
        }
        (b, o) => *b = o,
    }
}

/// Hides the password of a URL (`postgres://user:secret@host` -> `postgres://user:***@host`).
pub fn mask_url(url: &str) -> String {
    let Some(scheme_end) = url.find("://") else { return url.to_string() };
    let rest = &url[scheme_end + 3..];
    let Some(at) = rest.find('@') else { return url.to_string() };
    let creds = &rest[..at];
    match creds.find(':') {
        Some(colon) => format!("{}://{}:***@{}", &url[..scheme_end], &creds[..colon], &rest[at + 1..]),
        None => url.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn file_then_env_overrides_apply_in_order() {
        let text = "[limits]\nmax_transfers = 3\n[models]\ndefault_model = \"openai/gpt-4.1-mini\"\n";
        let env = vec![
            ("VANA_LIMITS_MAX_TRANSFERS".to_string(), "7".to_string()),
            ("VANA_STORE_URL".to_string(), "postgres://u:pw@127.0.0.1/test".to_string()),
            ("VANA_UNRELATED".to_string(), "x".to_string()),
        ];
        let (c, overrides) = Config::from_parts(Some(text), "vana.toml", &env).unwrap();
        assert_eq!(c.limits.max_transfers, 7);
        assert_eq!(c.models.default_model, "openai/gpt-4.1-mini");
        assert_eq!(c.store.url, "postgres://u:pw@127.0.0.1/test");
        assert_eq!(overrides, vec!["VANA_LIMITS_MAX_TRANSFERS", "VANA_STORE_URL"]);
        assert!(c.to_masked_toml().contains("postgres://u:***@127.0.0.1/test"));
        assert!(!c.to_masked_toml().contains("pw@"));
    }

    #[test]
    fn server_lists_take_an_array_or_a_comma_separated_override() {
        let text = "[server]\nallowed_hosts = [\"vana.example.com\"]\n[metrics]\npublic = true\n";
        let env = vec![(
            "VANA_SERVER_ALLOWED_ORIGINS".to_string(),
            "https://a.example.com, https://b.example.com".to_string(),
        )];
        let (c, overrides) = Config::from_parts(Some(text), "vana.toml", &env).unwrap();
        assert_eq!(c.server.allowed_hosts, vec!["vana.example.com"]);
        assert_eq!(c.server.allowed_origins, vec!["https://a.example.com", "https://b.example.com"]);
        assert!(c.metrics.public);
        assert_eq!(overrides, vec!["VANA_SERVER_ALLOWED_ORIGINS"]);
        let env =
            vec![("VANA_SERVER_ALLOWED_HOSTS".to_string(), "[\"x.example\", \"y.example\"]".to_string())];
        let (c, _) = Config::from_parts(None, "", &env).unwrap();
        assert_eq!(c.server.allowed_hosts, vec!["x.example", "y.example"]);
        assert_eq!(c.server.session_ttl_secs, 12 * 3600);
        assert!(!c.metrics.public);
    }

    #[test]
    fn unknown_keys_and_bad_types_name_the_file_and_key() {
        let err = Config::from_parts(Some("[limits]\nmax_transferz = 3\n"), "my.toml", &[])
            .unwrap_err()
            .to_string();
        assert!(err.contains("my.toml") && err.contains("max_transferz"), "{err}");
        let env = vec![("VANA_LIMITS_MAX_TRANSFERS".to_string(), "lots".to_string())];
        let err = Config::from_parts(None, "", &env).unwrap_err().to_string();
        assert!(err.contains("environment"), "{err}");
    }
}
