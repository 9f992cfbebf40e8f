//! Installing a catalog server's pinned package from its registry into the MCP home, as
//! `scripts/setup-mcp.sh` lays it out: npm packages in `node/` (programs in
//! `node/node_modules/.bin`), each PyPI package in its own virtualenv `py/<package>` with its
//! programs linked into `bin/`. The catalog's `package:` field is the only place a version is
//! pinned: `npm SPEC...` or `pypi SPEC...` with exact versions, then free text.

use serde::Serialize;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::Mutex;

/// The registry a package comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Registry {
    /// npmjs.org, installed with `npm`.
    Npm,
    /// PyPI, installed with `pip` into a virtualenv.
    Pypi,
}

/// A pinned package: its registry and exact specs (the server's package first, then extra pins
/// installed with it).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Package {
    /// Where it comes from.
    pub registry: Registry,
    /// `name@version` (npm) or `name==version` (PyPI), the server's own package first.
    pub specs: Vec<String>,
}

/// Why a package could not be installed, with the command that installs it by hand.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("cannot install {package}: {message}; to install it by hand run `{command}`")]
pub struct InstallError {
    /// The package spec.
    pub package: String,
    /// What went wrong (the installer's last lines).
    pub message: String,
    /// The exact command that installs it.
    pub command: String,
}

/// Catalog servers whose only setting names a service on this machine (a database on
/// 127.0.0.1): installed by default with the servers that need no key.
pub const LOCAL_SERVICE_SERVERS: [&str; 2] = ["postgresql", "redis"];

/// True for the servers `vana mcp install` (and `scripts/setup-mcp.sh`) install when no name is
/// given: enabled ones with a pinned package that need no key, or only a local service.
pub fn in_default_set(name: &str, cfg: &crate::ServerConfig) -> bool {
    cfg.enabled
        && cfg.install_package().is_some()
        && (cfg.needs_no_key() || LOCAL_SERVICE_SERVERS.contains(&name))
}

/// One install at a time in a process (npm must not run twice in one folder).
static INSTALLING: Mutex<()> = Mutex::new(());

impl Package {
    /// Reads a catalog `package:` text; `None` when it names no npm or PyPI package with an
    /// exact version (a hosted server, a free-form note).
    pub fn parse(text: &str) -> Option<Package> {
        let mut words = text.split_whitespace();
        let registry = match words.next()? {
            "npm" => Registry::Npm,
            "pypi" => Registry::Pypi,
            _ => return None,
        };
        let specs: Vec<String> =
            words.take_while(|w| split_spec(registry, w).is_some()).map(String::from).collect();
        (!specs.is_empty()).then_some(Package { registry, specs })
    }

    /// The server's own package name (without the version).
    pub fn name(&self) -> &str {
        split_spec(self.registry, &self.specs[0]).map(|(n, _)| n).unwrap_or(&self.specs[0])
    }

    /// The pinned version of the server's own package.
    pub fn version(&self) -> &str {
        split_spec(self.registry, &self.specs[0]).map(|(_, v)| v).unwrap_or("")
    }

    /// The virtualenv of a PyPI package.
    fn venv(&self, home: &Path) -> PathBuf {
        home.join("py").join(self.name())
    }

    /// True when the pinned version is installed under `home`.
    pub fn installed(&self, home: &Path) -> bool {
        match self.registry {
            Registry::Npm => {
                let manifest = home.join("node/node_modules").join(self.name()).join("package.json");
                std::fs::read(manifest)
                    .ok()
                    .and_then(|b| serde_json::from_slice::<serde_json::Value>(&b).ok())
                    .is_some_and(|v| v["version"] == self.version())
            }
            Registry::Pypi => std::fs::read_to_string(self.venv(home).join(".installed"))
                .is_ok_and(|s| s.trim() == self.specs.join(" ")),
        }
    }

    /// The shell command that installs it (what [`Package::install`] runs).
    pub fn command(&self, home: &Path) -> String {
        let specs = self.specs.join(" ");
        match self.registry {
            Registry::Npm => format!(
                "cd {} && npm install --no-audit --no-fund --save-exact {specs}",
                home.join("node").display()
            ),
            Registry::Pypi => {
                let venv = self.venv(home);
                format!(
                    "python3 -m venv {v} && {v}/bin/pip install {specs} && ln -sf {v}/bin/*mcp* {}/",
                    home.join("bin").display(),
                    v = venv.display()
                )
            }
        }
    }

    /// Installs the package under `home` unless the pinned version is there already (blocking:
    /// runs npm or pip). Returns whether it installed anything.
    pub fn install(&self, home: &Path) -> Result<bool, InstallError> {
        let _one = INSTALLING.lock().unwrap_or_else(|e| e.into_inner());
        if self.installed(home) {
            return Ok(false);
        }
        let fail = |message: String| InstallError {
            package: self.specs.join(" "),
            message,
            command: self.command(home),
        };
        match self.registry {
            Registry::Npm => {
                let dir = home.join("node");
                std::fs::create_dir_all(&dir)
                    .map_err(|e| fail(format!("cannot create {}: {e}", dir.display())))?;
                let manifest = dir.join("package.json");
                if !manifest.exists() {
                    std::fs::write(&manifest, r#"{"name":"vana-mcp-servers","private":true}"#)
                        .map_err(|e| fail(format!("cannot write {}: {e}", manifest.display())))?;
                }
                let mut cmd = Command::new("npm");
                cmd.current_dir(&dir)
                    .args(["install", "--no-audit", "--no-fund", "--loglevel=error", "--save-exact"])
                    .args(["--fetch-retries=1", "--fetch-timeout=60000"])
                    .args(&self.specs);
                run(cmd, "npm (Node.js 20 or later)").map_err(fail)?;
            }
            Registry::Pypi => {
                let venv = self.venv(home);
                if !venv.join("bin/python").exists() {
                    let python = std::env::var("PYTHON").unwrap_or_else(|_| "python3".into());
                    let mut cmd = Command::new(&python);
                    cmd.arg("-m").arg("venv").arg(&venv);
                    run(cmd, "python3 with its venv module (Debian: python3-venv)").map_err(fail)?;
                }
                let mut cmd = Command::new(venv.join("bin/pip"));
                cmd.args([
                    "install",
                    "-q",
                    "--disable-pip-version-check",
                    "--retries",
                    "1",
                    "--timeout",
                    "30",
                ])
                .args(&self.specs);
                run(cmd, "pip").map_err(fail)?;
                let bin = home.join("bin");
                std::fs::create_dir_all(&bin)
                    .map_err(|e| fail(format!("cannot create {}: {e}", bin.display())))?;
                link_programs(&venv.join("bin"), &bin)
                    .map_err(|e| fail(format!("cannot link its programs: {e}")))?;
                std::fs::write(venv.join(".installed"), self.specs.join(" "))
                    .map_err(|e| fail(format!("cannot record the install: {e}")))?;
            }
        }
        if !self.installed(home) {
            return Err(fail(format!("the installer finished but {} is not there", self.specs[0])));
        }
        Ok(true)
    }
}

/// `name` and `version` of an exact spec (`@scope/name@1.2.3`, `name==1.2.3`).
fn split_spec(registry: Registry, spec: &str) -> Option<(&str, &str)> {
    let (name, version) = match registry {
        Registry::Npm => spec.rsplit_once('@').filter(|(n, _)| !n.is_empty())?,
        Registry::Pypi => spec.split_once("==")?,
    };
    let exact = version.chars().next().is_some_and(|c| c.is_ascii_digit())
        && version.chars().all(|c| c.is_ascii_alphanumeric() || ".-+".contains(c));
    let named = name.chars().all(|c| c.is_ascii_alphanumeric() || "@/._-".contains(c));
    (exact && named).then_some((name, version))
}

/// Runs an installer, returning its last output lines when it fails.
fn run(mut cmd: Command, what: &str) -> Result<(), String> {
    let out =
        cmd.output().map_err(|e| format!("cannot run {:?} ({e}); install {what}", cmd.get_program()))?;
    if out.status.success() {
        return Ok(());
    }
    let text = String::from_utf8_lossy(&out.stderr).to_string() + &String::from_utf8_lossy(&out.stdout);
    let tail: Vec<&str> = text.lines().filter(|l| !l.trim().is_empty()).collect();
    let tail = tail[tail.len().saturating_sub(4)..].join(" | ");
    Err(format!("{:?} exited with {}: {tail}", cmd.get_program(), out.status))
}

/// Links a virtualenv's MCP programs (names holding `mcp`, but not the SDK's own `mcp`) into `bin`.
fn link_programs(venv_bin: &Path, bin: &Path) -> std::io::Result<()> {
    for entry in std::fs::read_dir(venv_bin)? {
        let entry = entry?;
        let name = entry.file_name().to_string_lossy().to_string();
        if name.contains("mcp") && name != "mcp" {
            let link = bin.join(&name);
            let _ = std::fs::remove_file(&link);
            std::os::unix::fs::symlink(entry.path(), &link)?;
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn package_texts_parse_into_exact_specs() {
        let p = Package::parse("npm @playwright/mcp@0.0.83 (uses Debian's chromium)").unwrap();
        assert_eq!((p.registry, p.specs.clone()), (Registry::Npm, vec!["@playwright/mcp@0.0.83".into()]));
        assert_eq!((p.name(), p.version()), ("@playwright/mcp", "0.0.83"));
        let p = Package::parse("pypi mcp-server-sqlite==2025.4.25 mcp==1.30.0 (its own pin)").unwrap();
        assert_eq!(p.specs, ["mcp-server-sqlite==2025.4.25", "mcp==1.30.0"]);
        assert_eq!(p.name(), "mcp-server-sqlite");
        for text in [
            "GitHub's hosted server (streamable HTTP)",
            "npm some-package",
            "npm some-package@latest",
            "pypi x>=1.0",
            "pypi x==1.0;rm -rf /",
            "npm",
        ] {
            assert_eq!(Package::parse(text), None, "{text}");
        }
    }
}
