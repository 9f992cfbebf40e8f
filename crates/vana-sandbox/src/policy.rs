//! Sandbox policies loaded from `security_policies.yaml` and `resource_limits.yaml`.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::error::{Result, SandboxError};
use crate::security::Severity;

/// Built-in copy of `config/security_policies.yaml`.
pub const DEFAULT_SECURITY_POLICIES_YAML: &str = include_str!("../config/security_policies.yaml");
/// Built-in copy of `config/resource_limits.yaml`.
pub const DEFAULT_RESOURCE_LIMITS_YAML: &str = include_str!("../config/resource_limits.yaml");

/// How Landlock is used.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum LandlockMode {
    /// Refuse to run when the kernel lacks Landlock.
    Required,
    /// Use Landlock when the kernel supports it.
    BestEffort,
    /// Never use Landlock.
    Off,
}

/// A read-only bind mount added to every sandbox.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReadOnlyMount {
    /// Absolute host path.
    pub source: PathBuf,
    /// Absolute path inside the sandbox.
    pub target: PathBuf,
}

/// Executor settings of one language.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LanguageConfig {
    /// Absolute interpreter path inside the sandbox.
    pub interpreter: PathBuf,
    /// Arguments placed before the script path (`{heap_mb}` is substituted).
    #[serde(default)]
    pub args: Vec<String>,
    /// File extension of the script file written for inline code.
    pub extension: String,
    /// Other names accepted for this language.
    #[serde(default)]
    pub aliases: Vec<String>,
    /// Environment variables added for this language.
    #[serde(default)]
    pub env: BTreeMap<String, String>,
    /// Show the value of inline code's last expression, as a notebook cell does (`python` or
    /// `node`; none when absent). Code run from a workspace file runs as a plain script.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub echo: Option<crate::echo::Echo>,
}

/// Security part of the policy (`security_policies.yaml`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SecurityPolicy {
    /// Allow network access (skips the network namespace).
    pub network: bool,
    /// Landlock usage.
    pub landlock: LandlockMode,
    /// Refuse code whose static findings reach this severity.
    #[serde(default)]
    pub block_on_severity: Option<Severity>,
    /// Host uid the sandbox user is mapped to.
    pub sandbox_uid: u32,
    /// Host gid the sandbox group is mapped to.
    pub sandbox_gid: u32,
    /// Extra read-only mounts.
    #[serde(default)]
    pub extra_readonly_mounts: Vec<ReadOnlyMount>,
    /// Executors by language name.
    pub languages: BTreeMap<String, LanguageConfig>,
}

/// Resource limits (`resource_limits.yaml`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ResourceLimits {
    /// Memory limit in MiB (cgroup, swap included).
    pub memory_mb: u64,
    /// CPU bandwidth in cores.
    pub cpus: f64,
    /// Maximum number of tasks.
    pub pids: u64,
    /// Default wall-clock timeout in seconds.
    pub timeout_secs: f64,
    /// Largest timeout a request may ask for.
    pub max_timeout_secs: f64,
    /// Output cap per stream in bytes.
    pub output_bytes: usize,
    /// Size of the /tmp tmpfs in MiB.
    pub tmp_mb: u64,
    /// Workspace size cap in MiB.
    pub workspace_mb: u64,
    /// RLIMIT_NOFILE.
    pub open_files: u64,
    /// RLIMIT_CPU in seconds.
    pub cpu_time_secs: u64,
    /// Largest accepted source in bytes.
    pub max_code_bytes: usize,
    /// Largest file whose contents are returned.
    pub max_artifact_bytes: u64,
    /// Most changed files listed per run.
    pub max_artifacts: usize,
    /// Number of warm sandboxes kept ready.
    pub pool_size: usize,
}

/// The complete sandbox policy.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SandboxPolicy {
    /// Security settings.
    pub security: SecurityPolicy,
    /// Resource limits.
    pub limits: ResourceLimits,
}

impl Default for SandboxPolicy {
    fn default() -> Self {
        Self::builtin()
    }
}

impl SandboxPolicy {
    /// The built-in policy (the embedded YAML defaults).
    pub fn builtin() -> Self {
        Self::from_yaml_strs(DEFAULT_SECURITY_POLICIES_YAML, DEFAULT_RESOURCE_LIMITS_YAML)
            .expect("built-in sandbox policy YAML is valid")
    }

    /// Parses a policy from the contents of the two YAML files.
    pub fn from_yaml_strs(security_yaml: &str, limits_yaml: &str) -> Result<Self> {
        let security: SecurityPolicy = serde_yaml::from_str(security_yaml).map_err(|e| {
            SandboxError::Policy { path: PathBuf::from("security_policies.yaml"), message: e.to_string() }
        })?;
        let limits: ResourceLimits = serde_yaml::from_str(limits_yaml).map_err(|e| SandboxError::Policy {
            path: PathBuf::from("resource_limits.yaml"),
            message: e.to_string(),
        })?;
        let policy = Self { security, limits };
        policy.validate()?;
        Ok(policy)
    }

    /// Loads `security_policies.yaml` and `resource_limits.yaml` from `config_dir`;
    /// a file that does not exist is replaced by its built-in default.
    pub fn load_dir(config_dir: &Path) -> Result<Self> {
        let read = |name: &str, default: &str| -> Result<String> {
            let path = config_dir.join(name);
            match std::fs::read_to_string(&path) {
                Ok(s) => Ok(s),
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(default.to_string()),
                Err(e) => Err(SandboxError::Policy { path, message: e.to_string() }),
            }
        };
        let sec = read("security_policies.yaml", DEFAULT_SECURITY_POLICIES_YAML)?;
        let lim = read("resource_limits.yaml", DEFAULT_RESOURCE_LIMITS_YAML)?;
        Self::from_yaml_strs(&sec, &lim).map_err(|e| match e {
            SandboxError::Policy { path, message } => {
                SandboxError::Policy { path: config_dir.join(path), message }
            }
            other => other,
        })
    }

    /// Checks values for consistency.
    pub fn validate(&self) -> Result<()> {
        let bad = |message: String| SandboxError::Policy { path: PathBuf::from("sandbox policy"), message };
        let l = &self.limits;
        if l.memory_mb < 16 {
            return Err(bad("memory_mb must be at least 16".into()));
        }
        if l.pids < 4 {
            return Err(bad("pids must be at least 4".into()));
        }
        if l.cpus.is_nan()
            || l.cpus <= 0.0
            || l.timeout_secs.is_nan()
            || l.timeout_secs <= 0.0
            || l.max_timeout_secs < l.timeout_secs
        {
            return Err(bad(
                "cpus and timeout_secs must be positive and max_timeout_secs >= timeout_secs".into()
            ));
        }
        if l.output_bytes == 0 || l.tmp_mb == 0 || l.workspace_mb == 0 || l.open_files < 16 {
            return Err(bad("output_bytes, tmp_mb, workspace_mb must be > 0 and open_files >= 16".into()));
        }
        let s = &self.security;
        if s.sandbox_uid == 0 || s.sandbox_gid == 0 {
            return Err(bad(
                "sandbox_uid/sandbox_gid must not be 0: the sandbox is never mapped to host root".into(),
            ));
        }
        if s.languages.is_empty() {
            return Err(bad("at least one language must be configured".into()));
        }
        for (name, lang) in &s.languages {
            if !lang.interpreter.is_absolute() {
                return Err(bad(format!("interpreter of '{name}' must be an absolute path")));
            }
            if lang.extension.is_empty() || !lang.extension.chars().all(|c| c.is_ascii_alphanumeric()) {
                return Err(bad(format!("extension of '{name}' must be alphanumeric")));
            }
        }
        for m in &s.extra_readonly_mounts {
            if !m.source.is_absolute() || !m.target.is_absolute() {
                return Err(bad(format!(
                    "extra mount {} -> {} must use absolute paths",
                    m.source.display(),
                    m.target.display()
                )));
            }
            let t = m.target.to_string_lossy();
            if t.contains("..")
                || ["/", "/workspace", "/tmp", "/proc", "/dev", "/sandbox", "/etc"]
                    .iter()
                    .any(|r| t == *r || t.starts_with(&format!("{r}/")) && *r != "/")
            {
                return Err(bad(format!("extra mount target {t} overlaps a sandbox-managed path")));
            }
        }
        Ok(())
    }

    /// Resolves a language name or alias to its canonical name and config.
    pub fn language(&self, name: &str) -> Result<(&str, &LanguageConfig)> {
        let wanted = name.trim().to_ascii_lowercase();
        for (canon, cfg) in &self.security.languages {
            if *canon == wanted || cfg.aliases.contains(&wanted) {
                return Ok((canon.as_str(), cfg));
            }
        }
        Err(SandboxError::UnsupportedLanguage {
            language: name.to_string(),
            supported: self.supported_languages().join(", "),
        })
    }

    /// Canonical names of the configured languages.
    pub fn supported_languages(&self) -> Vec<String> {
        self.security.languages.keys().cloned().collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn builtin_parses() {
        let p = SandboxPolicy::builtin();
        assert_eq!(p.limits.memory_mb, 512);
        assert_eq!(p.limits.pids, 64);
        assert!(!p.security.network);
        assert_eq!(p.language("py").unwrap().0, "python");
        assert_eq!(p.language("node").unwrap().0, "javascript");
        let err = p.language("cobol").unwrap_err().to_string();
        assert!(err.contains("bash, javascript, python, shell"), "{err}");
    }

    #[test]
    fn root_mapping_rejected() {
        let sec = DEFAULT_SECURITY_POLICIES_YAML.replace("sandbox_uid: 100000", "sandbox_uid: 0");
        assert!(SandboxPolicy::from_yaml_strs(&sec, DEFAULT_RESOURCE_LIMITS_YAML).is_err());
    }
}
