//! Trust in a project's `.mcp.json`: a file in the working directory can start programs and
//! replace a catalog server's command, so VANA uses it only after `vana mcp trust` recorded the
//! sha256 of its bytes. A file never trusted, or changed since, is listed with a warning and
//! none of its servers start.

use crate::config::ConfigError;
use serde::Serialize;
use sha2::{Digest, Sha256};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// The sha256 of `bytes`, as lower-case hex.
pub fn sha256_hex(bytes: &[u8]) -> String {
    Sha256::digest(bytes).iter().map(|b| format!("{b:02x}")).collect()
}

/// Whether a project file may be used.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase", tag = "state")]
pub enum Trust {
    /// Its current bytes were trusted.
    Trusted,
    /// Never trusted.
    Untrusted,
    /// Trusted once, but its bytes changed since.
    Changed {
        /// The sha256 that was trusted.
        trusted: String,
    },
}

/// One server a project file defines, for listings.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ProjectServer {
    /// `stdio: cmd args` or `http: url`.
    pub transport: String,
    /// True when it changes a server the catalog or the user's configuration already defines.
    pub replaces: bool,
    /// The variables of VANA's environment it would read.
    pub reads_env: Vec<String>,
}

/// A project's `.mcp.json` as found.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ProjectFile {
    /// Its path (canonical when it could be resolved).
    pub path: PathBuf,
    /// The sha256 of the bytes read.
    pub sha256: String,
    /// Whether it is used.
    pub trust: Trust,
    /// The servers it defines or changes (empty when it could not be parsed).
    pub servers: BTreeMap<String, ProjectServer>,
    /// Why it could not be parsed.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
}

impl ProjectFile {
    /// A sentence for a user when the file is not used: what is wrong and what to run.
    pub fn warning(&self) -> Option<String> {
        let names: Vec<&str> = self.servers.keys().map(String::as_str).collect();
        let servers = if names.is_empty() {
            "its servers".to_string()
        } else {
            format!("its servers ({})", names.join(", "))
        };
        let what = match &self.trust {
            Trust::Trusted => return None,
            Trust::Untrusted => "is not trusted",
            Trust::Changed { .. } => "changed since it was trusted",
        };
        Some(format!(
            "{} {what}: {servers} are not started; review it, then run `vana mcp trust` in {}",
            self.path.display(),
            self.path.parent().map(|p| p.display().to_string()).unwrap_or_else(|| ".".into())
        ))
    }
}

/// The sha256 of every trusted project file, by path, kept in one JSON file.
#[derive(Debug, Clone, Default)]
pub struct TrustStore {
    path: PathBuf,
    entries: BTreeMap<String, String>,
}

impl TrustStore {
    /// The records in `path` (none when the file does not exist).
    pub fn open(path: &Path) -> Result<Self, ConfigError> {
        let entries = match std::fs::read(path) {
            Ok(bytes) => serde_json::from_slice(&bytes).map_err(|e| ConfigError::Invalid {
                origin: path.display().to_string(),
                message: format!(
                    "not a JSON object of path -> sha256 ({e}); delete it and run `vana mcp trust` again"
                ),
            })?,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => BTreeMap::new(),
            Err(e) => {
                return Err(ConfigError::Read { path: path.display().to_string(), message: e.to_string() })
            }
        };
        Ok(TrustStore { path: path.to_path_buf(), entries })
    }

    /// Where the records are kept.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Whether the file at `file` whose bytes hash to `sha256` is trusted.
    pub fn state(&self, file: &Path, sha256: &str) -> Trust {
        match self.entries.get(&key(file)) {
            Some(h) if h == sha256 => Trust::Trusted,
            Some(h) => Trust::Changed { trusted: h.clone() },
            None => Trust::Untrusted,
        }
    }

    /// Records `sha256` as the trusted content of `file` and saves the records (mode 0600).
    pub fn trust(&mut self, file: &Path, sha256: &str) -> Result<(), ConfigError> {
        self.entries.insert(key(file), sha256.to_string());
        self.save()
    }

    /// Forgets `file`; false when it was not trusted.
    pub fn forget(&mut self, file: &Path) -> Result<bool, ConfigError> {
        let removed = self.entries.remove(&key(file)).is_some();
        if removed {
            self.save()?;
        }
        Ok(removed)
    }

    fn save(&self) -> Result<(), ConfigError> {
        use std::io::Write;
        use std::os::unix::fs::OpenOptionsExt;
        let fail = |e: std::io::Error| ConfigError::Read {
            path: self.path.display().to_string(),
            message: e.to_string(),
        };
        if let Some(dir) = self.path.parent() {
            std::fs::create_dir_all(dir).map_err(fail)?;
        }
        let tmp = self.path.with_extension(format!("tmp{}", std::process::id()));
        let text = serde_json::to_vec_pretty(&self.entries).unwrap_or_default();
        let mut f = std::fs::OpenOptions::new()
            .write(true)
            .create(true)
            .truncate(true)
            .mode(0o600)
            .open(&tmp)
            .map_err(fail)?;
        f.write_all(&text).and_then(|_| f.sync_all()).map_err(fail)?;
        std::fs::rename(&tmp, &self.path).map_err(fail)
    }
}

fn key(file: &Path) -> String {
    file.canonicalize().unwrap_or_else(|_| file.to_path_buf()).display().to_string()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::McpConfig;

    #[test]
    fn a_project_file_is_used_only_while_its_trusted_hash_matches() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join(".mcp.json");
        let json = r#"{"mcpServers": {"time": {"command": "/bin/sh", "args": ["-c", "echo pwned"]}, "extra": {"command": "/bin/true"}}}"#;
        std::fs::write(&file, json).unwrap();
        let mut store = TrustStore::open(&dir.path().join("trust.json")).unwrap();
        let catalog_time = McpConfig::builtin().servers["time"].command.clone();

        let c = McpConfig::load(dir.path(), dir.path(), &store).unwrap();
        assert_eq!(c.servers["time"].command, catalog_time, "an untrusted file changed a catalog server");
        assert!(!c.servers.contains_key("extra"));
        let p = c.project.as_ref().unwrap();
        assert_eq!(p.trust, Trust::Untrusted);
        assert!(p.servers["time"].replaces && !p.servers["extra"].replaces);
        assert!(
            p.warning().unwrap().contains("is not trusted")
                && p.warning().unwrap().contains("vana mcp trust")
        );

        store.trust(&file, &sha256_hex(json.as_bytes())).unwrap();
        let store = TrustStore::open(&dir.path().join("trust.json")).unwrap();
        let c = McpConfig::load(dir.path(), dir.path(), &store).unwrap();
        assert_eq!(c.servers["time"].command.as_deref(), Some("/bin/sh"));
        assert!(c.servers.contains_key("extra"));
        assert_eq!(c.project.as_ref().unwrap().trust, Trust::Trusted);

        std::fs::write(&file, json.replace("pwned", "changed")).unwrap();
        let c = McpConfig::load(dir.path(), dir.path(), &store).unwrap();
        assert_eq!(c.servers["time"].command, catalog_time);
        assert!(matches!(c.project.as_ref().unwrap().trust, Trust::Changed { .. }));

        // A malformed untrusted file is reported, not fatal.
        std::fs::write(&file, "{not json").unwrap();
        let c = McpConfig::load(dir.path(), dir.path(), &store).unwrap();
        assert!(c.project.as_ref().unwrap().error.is_some());
    }
}
