//! MCP server configuration: the shipped catalog (`config/mcp_servers.yaml`), a user's
//! `mcp_servers.yaml` layered over it, and the common `mcpServers` JSON (`.mcp.json`, as
//! Claude Desktop and Cursor write it; a project's `.mcp.json` only once `vana mcp trust`
//! recorded its sha256, see [`crate::trust`]). `${VAR}` / `${VAR:-default}` are expanded from
//! the environment when a server starts; a reference to an unset variable makes the server
//! unavailable with that variable named. A started server's environment holds only
//! [`INHERITED_ENV`], its `required_env` and its declared `env`.

use crate::install::Package;
use crate::trust::{sha256_hex, ProjectFile, Trust, TrustStore};
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::time::Duration;

/// The catalog shipped with VANA.
pub const BUILTIN_CATALOG: &str = include_str!("../../../config/mcp_servers.yaml");

/// The only variables of VANA's own environment a started server gets without declaring them
/// (when VANA has them). Everything else (model keys, `VANA_*`, tokens) reaches a server only
/// through its `env` or `required_env`.
pub const INHERITED_ENV: [&str; 4] = ["PATH", "HOME", "LANG", "TMPDIR"];

/// Name of a project's MCP file, read from the working directory once trusted.
pub const PROJECT_FILE: &str = ".mcp.json";

/// One MCP server as configured.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ServerConfig {
    /// What the server offers, for listings.
    pub description: String,
    /// Off servers are listed but never started.
    pub enabled: bool,
    /// Program to start (stdio transport); looked up in the MCP home's `node/node_modules/.bin`
    /// and `bin` before `$PATH`.
    pub command: Option<String>,
    /// Its arguments.
    pub args: Vec<String>,
    /// The program's environment besides [`INHERITED_ENV`] and `required_env` (values may use
    /// `${VAR}`: `GITHUB_TOKEN: ${GITHUB_TOKEN}` passes that one variable).
    pub env: BTreeMap<String, String>,
    /// Working directory of the program.
    pub cwd: Option<String>,
    /// Endpoint of a streamable HTTP server (instead of `command`).
    pub url: Option<String>,
    /// HTTP headers sent with every request (e.g. `Authorization: Bearer ${TOKEN}`).
    pub headers: BTreeMap<String, String>,
    /// Environment variables that must be set (account tokens, database URLs); a stdio server
    /// gets them from VANA's environment.
    #[serde(alias = "environment_vars")]
    pub required_env: Vec<String>,
    /// The server's tools (its names; `*` and `?` globs) whose every call waits for a human's
    /// approval, as `requires_confirmation` tools do.
    pub require_confirmation: Vec<String>,
    /// Lower comes first when an agent gets tools from several servers.
    pub priority: i32,
    /// Agents that get this server's tools (besides agents whose YAML lists the server).
    pub agents: Vec<String>,
    /// Which of the server's tools to expose.
    pub tools: ToolFilter,
    /// Deadlines.
    pub timeouts: Timeouts,
    /// Where the server comes from (registry and pinned package), shown when it is missing.
    pub package: Option<String>,
    /// Anything a user should know (e.g. which account the token belongs to).
    pub note: Option<String>,
}

/// Tool allow/deny lists (names as the server spells them).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ToolFilter {
    /// When not empty, only these tools.
    pub allow: BTreeSet<String>,
    /// Never these tools.
    pub deny: BTreeSet<String>,
}

impl ToolFilter {
    /// True when the tool passes the lists.
    pub fn admits(&self, tool: &str) -> bool {
        (self.allow.is_empty() || self.allow.contains(tool)) && !self.deny.contains(tool)
    }
}

/// True when `name` matches `pattern`, where `*` stands for any run of characters and `?` for
/// one character (no other syntax).
pub fn glob_match(pattern: &str, name: &str) -> bool {
    let (p, n): (Vec<char>, Vec<char>) = (pattern.chars().collect(), name.chars().collect());
    let (mut pi, mut ni) = (0, 0);
    let mut star: Option<(usize, usize)> = None;
    while ni < n.len() {
        if pi < p.len() && (p[pi] == '?' || p[pi] == n[ni]) {
            pi += 1;
            ni += 1;
        } else if pi < p.len() && p[pi] == '*' {
            star = Some((pi, ni));
            pi += 1;
        } else if let Some((sp, sn)) = star {
            pi = sp + 1;
            ni = sn + 1;
            star = Some((sp, sn + 1));
        } else {
            return false;
        }
    }
    p[pi..].iter().all(|&c| c == '*')
}

impl ServerConfig {
    /// True when calls of the server's tool `tool` need a human's approval
    /// (`require_confirmation`).
    pub fn requires_confirmation(&self, tool: &str) -> bool {
        self.require_confirmation.iter().any(|p| glob_match(p, tool))
    }
}

/// Connect and call deadlines, seconds.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Timeouts {
    /// Starting the server and the MCP handshake.
    pub connect_secs: f64,
    /// One tool call.
    pub call_secs: f64,
}

impl Default for Timeouts {
    fn default() -> Self {
        Timeouts { connect_secs: 30.0, call_secs: 60.0 }
    }
}

impl Timeouts {
    /// The connect deadline.
    pub fn connect(&self) -> Duration {
        Duration::from_secs_f64(self.connect_secs.max(0.001))
    }
    /// The per-call deadline.
    pub fn call(&self) -> Duration {
        Duration::from_secs_f64(self.call_secs.max(0.001))
    }
}

/// Why a configuration file could not be used: VANA's own (`vana-app` re-exports this), an
/// MCP server file or the trust store.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    /// The file could not be read.
    #[error("cannot read {path}: {message}")]
    Read {
        /// The file.
        path: String,
        /// The I/O error.
        message: String,
    },
    /// The file, an override or a setting is not valid.
    #[error("{origin}: {message}")]
    Invalid {
        /// The file, `environment` or the setting (`guardrails.require_confirmation`).
        origin: String,
        /// What is wrong (with line, key and field where they are known).
        message: String,
    },
}

/// The servers, by name, and where each came from.
#[derive(Debug, Clone, Default)]
pub struct McpConfig {
    /// Server name -> configuration.
    pub servers: BTreeMap<String, ServerConfig>,
    /// Server name -> the file that last defined or changed it.
    pub sources: BTreeMap<String, String>,
    /// The working directory's `.mcp.json`, when there is one, and whether it is trusted (an
    /// untrusted or changed file adds and changes nothing).
    pub project: Option<ProjectFile>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct YamlFile {
    #[serde(default)]
    servers: BTreeMap<String, serde_yaml::Value>,
}

/// One entry of the `mcpServers` JSON.
#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct JsonServer {
    command: Option<String>,
    #[serde(default)]
    args: Vec<String>,
    #[serde(default)]
    env: BTreeMap<String, String>,
    cwd: Option<String>,
    url: Option<String>,
    #[serde(default)]
    headers: BTreeMap<String, String>,
    #[serde(default, rename = "type")]
    kind: Option<String>,
    #[serde(default)]
    disabled: bool,
    /// VANA extension: agents that get the tools.
    #[serde(default)]
    agents: Vec<String>,
    /// VANA extension: tools (names or globs) whose calls wait for a human's approval.
    #[serde(default)]
    require_confirmation: Option<Vec<String>>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct JsonFile {
    #[serde(default)]
    mcp_servers: BTreeMap<String, JsonServer>,
}

impl McpConfig {
    /// The shipped catalog alone.
    pub fn builtin() -> Self {
        let mut c = McpConfig::default();
        c.add_yaml(BUILTIN_CATALOG, "built-in config/mcp_servers.yaml")
            .expect("the built-in MCP catalog is valid (checked by a test)");
        c
    }

    /// The shipped catalog, then `<config dir>/mcp_servers.yaml` and `<config dir>/mcp.json`,
    /// then `.mcp.json` in `cwd` when `trust` holds its current sha256 (each when it exists);
    /// later files change or add servers. An untrusted or changed project file is only
    /// described in [`McpConfig::project`]; even a malformed one is not an error.
    pub fn load(config_dir: &Path, cwd: &Path, trust: &TrustStore) -> Result<Self, ConfigError> {
        let mut c = Self::load_user(config_dir)?;
        let p = cwd.join(PROJECT_FILE);
        if p.is_file() {
            c.add_project(&p, trust)?;
        }
        Ok(c)
    }

    /// The shipped catalog, then `<config dir>/mcp_servers.yaml` and `<config dir>/mcp.json`
    /// (the operator's own files), each when it exists.
    pub fn load_user(config_dir: &Path) -> Result<Self, ConfigError> {
        let mut c = Self::builtin();
        for name in ["mcp_servers.yaml", "mcp_servers.yml"] {
            let p = config_dir.join(name);
            if p.is_file() {
                c.add_yaml(&read(&p)?, &p.display().to_string())?;
            }
        }
        let p = config_dir.join("mcp.json");
        if p.is_file() {
            c.add_json(&read(&p)?, &p.display().to_string())?;
        }
        Ok(c)
    }

    /// Layers a project's `mcpServers` file when `trust` holds the sha256 of the bytes read now;
    /// otherwise records it in [`McpConfig::project`] and leaves every server as it was.
    pub fn add_project(&mut self, path: &Path, trust: &TrustStore) -> Result<(), ConfigError> {
        let bytes = std::fs::read(path)
            .map_err(|e| ConfigError::Read { path: path.display().to_string(), message: e.to_string() })?;
        self.add_project_bytes(path, &bytes, trust)
    }

    /// [`McpConfig::add_project`] with the file's bytes already read (what is hashed is what is
    /// parsed and shown).
    pub fn add_project_bytes(
        &mut self,
        path: &Path,
        bytes: &[u8],
        trust: &TrustStore,
    ) -> Result<(), ConfigError> {
        let path = path.canonicalize().unwrap_or_else(|_| path.to_path_buf());
        let sha256 = sha256_hex(bytes);
        let state = trust.state(&path, &sha256);
        let text = String::from_utf8_lossy(bytes);
        let origin = path.display().to_string();
        // What the file would add or change, for listings (parsed on a copy).
        let mut scratch = self.clone();
        let (servers, error) = match scratch.add_json(&text, &origin) {
            Ok(names) => {
                let rows = names
                    .into_iter()
                    .map(|n| {
                        let cfg = scratch.servers.get(&n);
                        let transport = cfg.map(|s| s.transport_label()).unwrap_or_default();
                        let reads_env = cfg.map(|s| s.referenced_env()).unwrap_or_default();
                        let replaces = self.servers.contains_key(&n);
                        (n, crate::trust::ProjectServer { transport, replaces, reads_env })
                    })
                    .collect();
                (rows, None)
            }
            Err(e) => (BTreeMap::new(), Some(e.to_string())),
        };
        if state == Trust::Trusted {
            if let Some(e) = error {
                return Err(ConfigError::Invalid { origin, message: e });
            }
            *self = scratch;
        }
        self.project = Some(ProjectFile { path, sha256, trust: state, servers, error });
        Ok(())
    }

    /// Layers a `servers:` YAML file: fields given change the named server, new names add one.
    pub fn add_yaml(&mut self, text: &str, origin: &str) -> Result<(), ConfigError> {
        let invalid = |e: &dyn std::fmt::Display| ConfigError::Invalid {
            origin: origin.to_string(),
            message: e.to_string(),
        };
        let file: YamlFile = serde_yaml::from_str(text).map_err(|e| invalid(&e))?;
        for (name, over) in file.servers {
            check_name(&name).map_err(|m| invalid(&m))?;
            let mut base = match self.servers.get(&name) {
                Some(existing) => serde_yaml::to_value(existing).map_err(|e| invalid(&e))?,
                None => serde_yaml::to_value(ServerConfig { enabled: true, ..Default::default() })
                    .map_err(|e| invalid(&e))?,
            };
            if let serde_yaml::Value::Mapping(m) = &over {
                // A new transport replaces the old one rather than mixing with it.
                if m.contains_key("url") || m.contains_key("command") {
                    if let serde_yaml::Value::Mapping(b) = &mut base {
                        for k in ["url", "command", "args", "headers"] {
                            b.remove(k);
                        }
                    }
                }
            }
            merge_yaml(&mut base, over);
            let cfg: ServerConfig =
                serde_yaml::from_value(base).map_err(|e| invalid(&format!("server `{name}`: {e}")))?;
            validate(&name, &cfg).map_err(|m| invalid(&m))?;
            self.servers.insert(name.clone(), cfg);
            self.sources.insert(name, origin.to_string());
        }
        Ok(())
    }

    /// Layers an `mcpServers` JSON file (`.mcp.json`, `claude_desktop_config.json`); returns
    /// the (tool-safe) names of the servers it defined or changed.
    pub fn add_json(&mut self, text: &str, origin: &str) -> Result<Vec<String>, ConfigError> {
        let invalid = |e: &dyn std::fmt::Display| ConfigError::Invalid {
            origin: origin.to_string(),
            message: e.to_string(),
        };
        let file: JsonFile = serde_json::from_str(text).map_err(|e| invalid(&e))?;
        let mut names = Vec::new();
        for (name, s) in file.mcp_servers {
            let name = sanitize_server_name(&name);
            if let Some(kind) = &s.kind {
                if kind == "sse" {
                    return Err(invalid(&format!(
                        "server `{name}`: the legacy SSE transport is not supported; use the server's streamable HTTP endpoint (type \"http\")"
                    )));
                }
            }
            let mut cfg = self.servers.get(&name).cloned().unwrap_or_default();
            cfg.enabled = !s.disabled;
            cfg.command = s.command;
            cfg.args = s.args;
            cfg.env.extend(s.env);
            cfg.cwd = s.cwd;
            cfg.url = s.url;
            cfg.headers = s.headers;
            if !s.agents.is_empty() {
                cfg.agents = s.agents;
            }
            if let Some(patterns) = s.require_confirmation {
                cfg.require_confirmation = patterns;
            }
            validate(&name, &cfg).map_err(|m| invalid(&m))?;
            self.servers.insert(name.clone(), cfg);
            self.sources.insert(name.clone(), origin.to_string());
            names.push(name);
        }
        Ok(names)
    }
}

fn read(p: &Path) -> Result<String, ConfigError> {
    std::fs::read_to_string(p)
        .map_err(|e| ConfigError::Read { path: p.display().to_string(), message: e.to_string() })
}

fn merge_yaml(base: &mut serde_yaml::Value, over: serde_yaml::Value) {
    match (base, over) {
        (serde_yaml::Value::Mapping(b), serde_yaml::Value::Mapping(o)) => {
            for (k, v) in o {
                match b.get_mut(&k) {
                    Some(existing) if existing.is_mapping() && v.is_mapping() => merge_yaml(existing, v),
                    _ => {
                        b.insert(k, v);
                    }
                }
            }
        }
        (b, o) => *b = o,
    }
}

fn check_name(name: &str) -> Result<(), String> {
    let ok = !name.is_empty()
        && name.len() <= 32
        && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-');
    if ok {
        Ok(())
    } else {
        Err(format!("`{name}` is not a valid server name (1-32 letters, digits, _ or -)"))
    }
}

/// A `.mcp.json` key made usable as a tool-name prefix.
fn sanitize_server_name(name: &str) -> String {
    let s: String = name
        .chars()
        .map(|c| if c.is_ascii_alphanumeric() || c == '_' || c == '-' { c } else { '_' })
        .take(32)
        .collect();
    if s.is_empty() {
        "server".into()
    } else {
        s
    }
}

fn validate(name: &str, c: &ServerConfig) -> Result<(), String> {
    match (&c.command, &c.url) {
        (Some(_), Some(_)) => Err(format!("server `{name}`: give either `command` or `url`, not both")),
        (None, None) => Err(format!("server `{name}`: give `command` (stdio) or `url` (streamable HTTP)")),
        _ => Ok(()),
    }
}

/// Expands `${VAR}` and `${VAR:-default}` with `lookup` (a default may itself hold `${...}`);
/// names of unset variables without a default are pushed to `missing`.
pub fn expand(text: &str, lookup: &dyn Fn(&str) -> Option<String>, missing: &mut Vec<String>) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(start) = rest.find("${") {
        out.push_str(&rest[..start]);
        let after = &rest[start + 2..];
        let Some(end) = closing_brace(after) else {
            out.push_str(&rest[start..]);
            return out;
        };
        let inner = &after[..end];
        let (var, default) = match inner.split_once(":-") {
            Some((v, d)) => (v, Some(d)),
            None => (inner, None),
        };
        match lookup(var).filter(|v| !v.is_empty()) {
            Some(v) => out.push_str(&v),
            None => match default {
                Some(d) => out.push_str(&expand(d, lookup, missing)),
                None => {
                    if !missing.iter().any(|m| m == var) {
                        missing.push(var.to_string());
                    }
                }
            },
        }
        rest = &after[end + 1..];
    }
    out.push_str(rest);
    out
}

/// Index of the `}` that closes a `${` whose body starts `text`, skipping nested `${...}`.
fn closing_brace(text: &str) -> Option<usize> {
    let bytes = text.as_bytes();
    let mut depth = 0usize;
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'$' if bytes.get(i + 1) == Some(&b'{') => {
                depth += 1;
                i += 1;
            }
            b'}' if depth == 0 => return Some(i),
            b'}' => depth -= 1,
            _ => {}
        }
        i += 1;
    }
    None
}

/// A server's configuration with the environment applied: what to start or where to connect.
#[derive(Debug, Clone, PartialEq)]
pub enum Launch {
    /// Start a program and speak MCP over its stdin/stdout.
    Stdio {
        /// The resolved program path.
        program: PathBuf,
        /// Arguments.
        args: Vec<String>,
        /// The program's whole environment: [`INHERITED_ENV`], `required_env` and `env`.
        env: BTreeMap<String, String>,
        /// Working directory.
        cwd: Option<PathBuf>,
    },
    /// Connect to a streamable HTTP endpoint.
    Http {
        /// Endpoint URL.
        url: String,
        /// Headers for every request.
        headers: BTreeMap<String, String>,
    },
}

/// Why a server cannot be started right now.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum Unavailable {
    /// Switched off in the configuration.
    #[error("disabled in the configuration (set `enabled: true` to use it)")]
    Disabled,
    /// Required environment variables are not set.
    #[error("set {} to enable it", .0.join(" and "))]
    MissingEnv(Vec<String>),
    /// The program is not installed.
    #[error("`{command}` is not installed{}", .hint.as_deref().map(|h| format!(" ({h}; `vana mcp install` installs the pinned servers)")).unwrap_or_default())]
    NotInstalled {
        /// The command looked for.
        command: String,
        /// Where it comes from (the catalog's `package:` text).
        hint: Option<String>,
        /// The pinned npm or PyPI package that provides it, when the catalog names one: VANA
        /// can install it ([`crate::install`]).
        package: Option<Package>,
    },
}

impl ServerConfig {
    /// Applies the environment and finds the program; `mcp_home` holds the locally installed
    /// servers and is also `${MCP_HOME}`.
    pub fn launch(&self, mcp_home: &Path) -> Result<Launch, Unavailable> {
        self.launch_with(mcp_home, &|k| std::env::var(k).ok())
    }

    /// [`ServerConfig::launch`] with an explicit environment lookup.
    pub fn launch_with(
        &self,
        mcp_home: &Path,
        env: &dyn Fn(&str) -> Option<String>,
    ) -> Result<Launch, Unavailable> {
        if !self.enabled {
            return Err(Unavailable::Disabled);
        }
        let home = mcp_home.display().to_string();
        let lookup = |k: &str| if k == "MCP_HOME" { Some(home.clone()) } else { env(k) };
        let mut missing: Vec<String> =
            self.required_env.iter().filter(|v| lookup(v).is_none_or(|x| x.is_empty())).cloned().collect();
        let mut x = |s: &str| expand(s, &lookup, &mut missing);
        let launch = match (&self.command, &self.url) {
            (Some(command), _) => {
                let command = x(command);
                let args: Vec<String> = self.args.iter().map(|a| x(a)).collect();
                let declared: BTreeMap<String, String> =
                    self.env.iter().map(|(k, v)| (k.clone(), x(v))).collect();
                let cwd = self.cwd.as_deref().map(|c| PathBuf::from(x(c)));
                if !missing.is_empty() {
                    return Err(Unavailable::MissingEnv(missing));
                }
                let program =
                    find_program(&command, mcp_home, declared.get("PATH").cloned().or_else(|| env("PATH")))
                        .ok_or_else(|| Unavailable::NotInstalled {
                        command: command.clone(),
                        hint: self.package.clone(),
                        package: self.install_package(),
                    })?;
                let mut child_env: BTreeMap<String, String> = INHERITED_ENV
                    .into_iter()
                    .chain(self.required_env.iter().map(String::as_str))
                    .filter_map(|k| env(k).map(|v| (k.to_string(), v)))
                    .collect();
                child_env.extend(declared);
                Launch::Stdio { program, args, env: child_env, cwd }
            }
            (None, Some(url)) => {
                let url = x(url);
                let headers = self.headers.iter().map(|(k, v)| (k.clone(), x(v))).collect();
                if !missing.is_empty() {
                    return Err(Unavailable::MissingEnv(missing));
                }
                Launch::Http { url, headers }
            }
            (None, None) => return Err(Unavailable::Disabled),
        };
        Ok(launch)
    }

    /// The variables of VANA's environment the server reads: its `required_env` and every
    /// `${VAR}` in its command, arguments, environment, working directory, URL and headers.
    pub fn referenced_env(&self) -> Vec<String> {
        let mut names = self.required_env.clone();
        let texts = self
            .command
            .iter()
            .chain(&self.args)
            .chain(self.env.values())
            .chain(&self.cwd)
            .chain(&self.url)
            .chain(self.headers.values());
        for t in texts {
            let mut rest = t.as_str();
            while let Some(i) = rest.find("${") {
                rest = &rest[i + 2..];
                let v = &rest[..rest.find(['}', ':']).unwrap_or(rest.len())];
                if v != "MCP_HOME" && !v.is_empty() && !names.iter().any(|n| n == v) {
                    names.push(v.to_string());
                }
            }
        }
        names.sort();
        names
    }

    /// The pinned npm or PyPI package its `package:` field names, when it names one.
    pub fn install_package(&self) -> Option<Package> {
        self.package.as_deref().and_then(Package::parse)
    }

    /// True when the server needs no account or service setting: no `required_env`, and no
    /// `${VAR}` without a default (the servers `vana mcp install` installs by default).
    pub fn needs_no_key(&self) -> bool {
        self.launch_with(Path::new("/"), &|_| None)
            .err()
            .is_none_or(|u| !matches!(u, Unavailable::MissingEnv(_)))
    }

    /// A one-line description of the transport, for listings.
    pub fn transport_label(&self) -> String {
        match (&self.command, &self.url) {
            (Some(c), _) => format!("stdio: {} {}", c, self.args.join(" ")).trim_end().to_string(),
            (None, Some(u)) => format!("http: {u}"),
            _ => "none".into(),
        }
    }
}

/// Looks for a program in the MCP home's install folders, then in `path`.
fn find_program(command: &str, mcp_home: &Path, path: Option<String>) -> Option<PathBuf> {
    let is_exe = |p: &Path| {
        use std::os::unix::fs::PermissionsExt;
        p.is_file() && p.metadata().map(|m| m.permissions().mode() & 0o111 != 0).unwrap_or(false)
    };
    if command.contains('/') {
        let p = PathBuf::from(command);
        return is_exe(&p).then_some(p);
    }
    let mut dirs = vec![mcp_home.join("node/node_modules/.bin"), mcp_home.join("bin")];
    dirs.extend(std::env::split_paths(&path.unwrap_or_default()));
    dirs.into_iter().map(|d| d.join(command)).find(|p| is_exe(p))
}

/// Where locally installed MCP servers live: `$VANA_MCP_HOME`, else `<data dir>/mcp`.
pub fn mcp_home(data_dir: &Path) -> PathBuf {
    std::env::var_os("VANA_MCP_HOME").map(PathBuf::from).unwrap_or_else(|| data_dir.join("mcp"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn builtin_catalog_parses_and_holds_the_plans_servers() {
        let c = McpConfig::builtin();
        for s in [
            "github",
            "brave_search",
            "fetch",
            "playwright",
            "sqlite",
            "postgresql",
            "filesystem",
            "memory",
            "git",
            "time",
            "aws",
            "docker",
            "image_generation",
            "virustotal",
            "semgrep",
            "grafana",
            "sentry",
            "everything",
            "sequential_thinking",
            "redis",
            "gitlab",
            "slack",
            "kubernetes",
        ] {
            let cfg = c.servers.get(s).unwrap_or_else(|| panic!("{s} missing from the catalog"));
            assert!(!cfg.description.is_empty(), "{s} has no description");
            assert!(cfg.package.is_some() || cfg.url.is_some(), "{s} names no package");
        }
        assert!(c.servers.len() >= 20, "the plan asks for 20+ servers, the catalog has {}", c.servers.len());
        // Every program the catalog starts comes from a registry at an exact version.
        for (name, cfg) in &c.servers {
            if cfg.command.is_some() {
                let p = cfg.install_package();
                assert!(
                    p.is_some(),
                    "{name}: `package: {:?}` names no npm/pypi spec with an exact version",
                    cfg.package
                );
            }
        }
    }

    #[test]
    fn expansion_names_missing_variables_and_applies_defaults() {
        let env = |k: &str| (k == "A").then(|| "1".to_string());
        let mut missing = Vec::new();
        assert_eq!(expand("x${A}y${B:-2}z${C}", &env, &mut missing), "x1y2z");
        assert_eq!(missing, vec!["C"]);
        // A default naming another variable (config/mcp_servers.yaml's sqlite server does).
        let env = |k: &str| (k == "HOME_DIR").then(|| "/h".to_string());
        let mut missing = Vec::new();
        assert_eq!(expand("${DB:-${HOME_DIR}/data/x.db}!", &env, &mut missing), "/h/data/x.db!");
        let env = |k: &str| (k == "DB").then(|| "/set.db".to_string());
        assert_eq!(expand("${DB:-${HOME_DIR}/data/x.db}", &env, &mut missing), "/set.db");
        assert!(missing.is_empty(), "{missing:?}");
    }

    #[test]
    fn missing_required_env_makes_the_server_unavailable_with_the_names() {
        let c = McpConfig::builtin();
        let none = |_: &str| None;
        let err = c.servers["brave_search"].launch_with(Path::new("/nonexistent"), &none).unwrap_err();
        assert_eq!(err, Unavailable::MissingEnv(vec!["BRAVE_API_KEY".into()]));
        assert_eq!(err.to_string(), "set BRAVE_API_KEY to enable it");
        let err = c.servers["github"].launch_with(Path::new("/nonexistent"), &none).unwrap_err();
        assert!(err.to_string().contains("GITHUB_TOKEN"), "{err}");
    }

    #[test]
    fn a_started_server_gets_only_the_environment_it_declares() {
        let mut c = McpConfig::default();
        c.add_yaml(
            "servers:\n  s:\n    command: /bin/sh\n    env: {GITHUB_TOKEN: \"${GITHUB_TOKEN}\", FIXED: x}\n    required_env: [DB_URL]\n",
            "t.yaml",
        )
        .unwrap();
        let vana_env = |k: &str| {
            match k {
                "PATH" => Some("/usr/bin"),
                "HOME" => Some("/home/me"),
                "OPENAI_API_KEY" | "GEMINI_API_KEY" | "VANA_HOME" | "AWS_SECRET_ACCESS_KEY" => Some("secret"),
                "GITHUB_TOKEN" => Some("gh-token"),
                "DB_URL" => Some("postgres://db"),
                _ => None,
            }
            .map(String::from)
        };
        let Launch::Stdio { env, .. } = c.servers["s"].launch_with(Path::new("/x"), &vana_env).unwrap()
        else {
            panic!("a stdio launch")
        };
        let keys: Vec<&str> = env.keys().map(String::as_str).collect();
        assert_eq!(keys, ["DB_URL", "FIXED", "GITHUB_TOKEN", "HOME", "PATH"], "{env:?}");
        assert_eq!(env["GITHUB_TOKEN"], "gh-token");
    }

    #[test]
    fn globs_and_the_catalogs_writers_require_confirmation() {
        assert!(
            glob_match("write_*", "write_file") && glob_match("*", "") && glob_match("git_?dd", "git_add")
        );
        assert!(!glob_match("write_*", "read_file") && !glob_match("git_?dd", "git_adds"));
        assert!(glob_match("a*b*c", "aXbYbc") && !glob_match("a*b*c", "aXbYb"));
        let c = McpConfig::builtin();
        let needs = |s: &str, t: &str| c.servers[s].requires_confirmation(t);
        for (s, t) in [
            ("sqlite", "write_query"),
            ("sqlite", "create_table"),
            ("filesystem", "write_file"),
            ("filesystem", "edit_file"),
            ("filesystem", "move_file"),
            ("filesystem", "create_directory"),
            ("git", "git_commit"),
            ("git", "git_reset"),
            ("git", "git_add"),
            ("git", "git_checkout"),
            ("git", "git_create_branch"),
            ("github", "create_pull_request"),
            ("github", "merge_pull_request"),
            ("aws", "call_aws"),
            ("docker", "run_container"),
        ] {
            assert!(needs(s, t), "{s}__{t} should need approval");
        }
        for (s, t) in [
            ("sqlite", "read_query"),
            ("filesystem", "read_text_file"),
            ("git", "git_status"),
            ("github", "get_issue"),
        ] {
            assert!(!needs(s, t), "{s}__{t} should not need approval");
        }
        // A user's YAML can change the list; a .mcp.json entry can set it (VANA's extension).
        let mut c = McpConfig::builtin();
        c.add_yaml("servers:\n  sqlite:\n    require_confirmation: []\n", "u.yaml").unwrap();
        assert!(!c.servers["sqlite"].requires_confirmation("write_query"));
        c.add_json(
            r#"{"mcpServers": {"x": {"command": "/bin/true", "requireConfirmation": ["do_*"]}}}"#,
            "p.json",
        )
        .unwrap();
        assert!(c.servers["x"].requires_confirmation("do_it"));
    }

    #[test]
    fn user_yaml_changes_fields_and_mcp_json_adds_servers() {
        let mut c = McpConfig::builtin();
        c.add_yaml("servers:\n  time:\n    enabled: false\n    timeouts: {call_secs: 5}\n", "user.yaml")
            .unwrap();
        assert!(!c.servers["time"].enabled);
        assert_eq!(c.servers["time"].timeouts.call_secs, 5.0);
        assert_eq!(c.servers["time"].timeouts.connect_secs, 30.0);
        assert_eq!(c.servers["time"].command.as_deref(), Some("mcp-server-time"));
        let json = r#"{"mcpServers": {"my files": {"command": "npx", "args": ["-y", "x"], "env": {"K": "v"}},
            "remote": {"type": "http", "url": "https://example.com/mcp", "headers": {"Authorization": "Bearer ${TOK}"}}}}"#;
        c.add_json(json, ".mcp.json").unwrap();
        assert_eq!(c.servers["my_files"].args, vec!["-y", "x"]);
        assert!(c.servers["my_files"].enabled);
        let err = c.servers["remote"].launch_with(Path::new("/x"), &|_| None).unwrap_err();
        assert_eq!(err, Unavailable::MissingEnv(vec!["TOK".into()]));
        let err = c.add_yaml("servers:\n  bad:\n    comand: x\n", "u.yaml").unwrap_err().to_string();
        assert!(err.contains("u.yaml") && err.contains("comand"), "{err}");
    }
}
