//! A managed Python environment under VANA's data dir for a PyPI-packaged scanner (semgrep),
//! provisioned on first use with the pinned version (as the NLP suite does for spaCy): a venv,
//! `pip install <pin>`, then a `.vana-ready` marker. One provisioner at a time (`flock`). When it
//! cannot be done the error says which command to run.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use vana_core::ToolError;

/// One managed environment.
#[derive(Debug, Clone)]
pub struct ManagedEnv {
    /// Its folder, e.g. `<data>/security/semgrep-env`.
    pub dir: PathBuf,
    /// The pip requirement, e.g. `semgrep==1.187.0`.
    pub requirement: String,
    /// The executable it provides, e.g. `semgrep`.
    pub program: &'static str,
    /// The Python that creates the venv.
    pub base_python: PathBuf,
}

impl ManagedEnv {
    /// The commands that set it up by hand.
    pub fn install_command(&self) -> String {
        format!(
            "{base} -m venv {env} && {env}/bin/python -m pip install '{req}'",
            base = self.base_python.display(),
            env = self.dir.display(),
            req = self.requirement
        )
    }

    /// The executable inside the environment.
    pub fn executable(&self) -> PathBuf {
        self.dir.join("bin").join(self.program)
    }

    /// True when it is there (cheap: nothing started).
    pub fn looks_ready(&self) -> bool {
        self.dir.join(".vana-ready").is_file() && self.executable().is_file()
    }

    /// The executable, provisioning the environment first when needed (blocking; minutes the
    /// first time).
    pub fn provision(&self) -> Result<PathBuf, ToolError> {
        let exe = self.executable();
        let ready = self.dir.join(".vana-ready");
        if ready.is_file() && exe.is_file() {
            return Ok(exe);
        }
        let fail = |why: String| {
            ToolError::Unavailable(format!(
                "{} is set up on first use under the data dir, and that failed ({why}). Run: {}",
                self.program,
                self.install_command()
            ))
        };
        std::fs::create_dir_all(&self.dir)
            .map_err(|e| fail(format!("cannot create {}: {e}", self.dir.display())))?;
        let _lock = lock(&self.dir.join(".lock")).map_err(|e| fail(e.to_string()))?;
        if ready.is_file() && exe.is_file() {
            return Ok(exe);
        }
        let run = |cmd: &mut Command, what: &str| -> Result<(), ToolError> {
            match cmd.stdin(Stdio::null()).output() {
                Ok(o) if o.status.success() => Ok(()),
                Ok(o) => {
                    let err = String::from_utf8_lossy(&o.stderr);
                    let tail: Vec<&str> = err.lines().rev().take(3).collect();
                    let tail: Vec<&str> = tail.into_iter().rev().collect();
                    Err(fail(format!("{what} failed: {}", tail.join(" / "))))
                }
                Err(e) => Err(fail(format!("could not run {what}: {e}"))),
            }
        };
        let py = self.dir.join("bin").join("python");
        if !py.is_file() {
            run(Command::new(&self.base_python).arg("-m").arg("venv").arg(&self.dir), "python3 -m venv")?;
        }
        run(
            Command::new(&py).args([
                "-m",
                "pip",
                "install",
                "--quiet",
                "--disable-pip-version-check",
                "--no-input",
                &self.requirement,
            ]),
            "pip install",
        )?;
        if !exe.is_file() {
            return Err(fail(format!("{} is not in the environment after pip install", exe.display())));
        }
        std::fs::write(&ready, format!("{}\n", self.requirement))
            .map_err(|e| fail(format!("cannot write {}: {e}", ready.display())))?;
        Ok(exe)
    }
}

/// An exclusive `flock` on `path` (created), held until the file is dropped.
fn lock(path: &Path) -> std::io::Result<std::fs::File> {
    use std::os::fd::AsRawFd;
    let f = std::fs::OpenOptions::new().create(true).truncate(false).write(true).open(path)?;
    loop {
        // SAFETY: flock on an open fd.
        if unsafe { libc::flock(f.as_raw_fd(), libc::LOCK_EX) } == 0 {
            return Ok(f);
        }
        let e = std::io::Error::last_os_error();
        if e.kind() != std::io::ErrorKind::Interrupted {
            return Err(e);
        }
    }
}
