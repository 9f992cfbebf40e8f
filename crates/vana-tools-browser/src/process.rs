//! One headless Chromium process: started with a fresh profile, the DevTools protocol on a pipe
//! (no debugging port another local process could reach), every request through the
//! browser-wide deny-all proxy unless a context names its own, and killed with its whole
//! process group when dropped.

use crate::cdp::Cdp;
use crate::profile::Profile;
use crate::proxy::Proxy;
use std::os::fd::{FromRawFd, OwnedFd, RawFd};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::io::AsyncReadExt;

/// Why Chromium could not be started.
#[derive(Debug, thiserror::Error)]
pub enum StartError {
    /// The binary is not there.
    #[error(
        "Chromium is not installed at `{0}`: install Debian's browser with `apt-get install -y chromium` \
         (or set `[browser] chromium` in vana.toml to its path)"
    )]
    Missing(String),
    /// It started but did not answer.
    #[error("Chromium (`{path}`) did not start: {reason}")]
    Failed {
        /// The binary.
        path: String,
        /// What went wrong, with the end of its error output.
        reason: String,
    },
}

/// A running Chromium.
pub struct Process {
    /// The protocol connection.
    pub cdp: Arc<Cdp>,
    /// Its profile and download folders (removed with it).
    pub profile: Profile,
    pid: i32,
    child: Mutex<Option<tokio::process::Child>>,
    stderr: Arc<Mutex<String>>,
    _deny: Proxy,
}

impl Drop for Process {
    fn drop(&mut self) {
        // The whole group: the browser, its zygote, renderers and utility processes.
        unsafe {
            libc::kill(-self.pid, libc::SIGKILL);
        }
        if let Some(mut c) = self.child.lock().unwrap().take() {
            let _ = c.start_kill();
            let _ = c.try_wait();
        }
    }
}

fn pipe() -> std::io::Result<(OwnedFd, OwnedFd)> {
    let mut fds = [0 as RawFd; 2];
    if unsafe { libc::pipe2(fds.as_mut_ptr(), libc::O_CLOEXEC) } != 0 {
        return Err(std::io::Error::last_os_error());
    }
    Ok(unsafe { (OwnedFd::from_raw_fd(fds[0]), OwnedFd::from_raw_fd(fds[1])) })
}

impl Process {
    /// The process id of the browser (for diagnostics and tests).
    pub fn pid(&self) -> i32 {
        self.pid
    }

    /// Whether the browser is still there.
    pub fn alive(&self) -> bool {
        if !self.cdp.alive() {
            return false;
        }
        match self.child.lock().unwrap().as_mut() {
            Some(c) => matches!(c.try_wait(), Ok(None)),
            None => false,
        }
    }

    /// How it ended, for the error a session reads.
    pub fn exit_status(&self) -> String {
        let status = self.child.lock().unwrap().as_mut().and_then(|c| c.try_wait().ok().flatten());
        let tail = self.stderr_tail();
        match status {
            Some(s) => format!("{s}{tail}"),
            None => format!("its protocol pipe closed{tail}"),
        }
    }

    fn stderr_tail(&self) -> String {
        let e = self.stderr.lock().unwrap();
        let lines: Vec<&str> = e.lines().filter(|l| !l.trim().is_empty()).collect();
        let tail = lines[lines.len().saturating_sub(3)..].join(" | ");
        if tail.is_empty() {
            String::new()
        } else {
            format!(" (its last output: {tail})")
        }
    }

    /// Starts Chromium at `path`.
    pub async fn start(path: &str, no_sandbox: bool) -> Result<Process, StartError> {
        if !crate::profile::executable(path) {
            return Err(StartError::Missing(path.to_string()));
        }
        let fail = |reason: String| StartError::Failed { path: path.to_string(), reason };
        let profile = Profile::create().map_err(|e| fail(format!("cannot create its profile dir: {e}")))?;
        let deny = Proxy::start(None).await.map_err(|e| fail(format!("cannot start the proxy: {e}")))?;
        // Our ends keep O_CLOEXEC; the child gets its ends as fds 3 and 4.
        let (cmd_r, cmd_w) = pipe().map_err(|e| fail(e.to_string()))?;
        let (ev_r, ev_w) = pipe().map_err(|e| fail(e.to_string()))?;
        let mut args: Vec<String> = [
            "--headless",
            "--disable-gpu",
            "--disable-quic",
            "--no-first-run",
            "--no-default-browser-check",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--disable-extensions",
            "--disable-default-apps",
            "--disable-domain-reliability",
            "--disable-client-side-phishing-detection",
            "--disable-breakpad",
            "--disable-dev-shm-usage",
            "--disable-features=Translate,MediaRouter,OptimizationHints,AutofillServerCommunication,DialMediaRouteProvider,InterestFeedContentSuggestions",
            "--force-webrtc-ip-handling-policy=disable_non_proxied_udp",
            "--webrtc-ip-handling-policy=disable_non_proxied_udp",
            "--password-store=basic",
            "--use-mock-keychain",
            "--mute-audio",
            "--hide-scrollbars",
            "--remote-debugging-pipe",
            "--proxy-bypass-list=<-loopback>",
        ]
        .iter()
        .map(|s| s.to_string())
        .collect();
        if no_sandbox || unsafe { libc::geteuid() } == 0 {
            args.push("--no-sandbox".into());
        }
        args.push(format!("--proxy-server=http://127.0.0.1:{}", deny.port));
        args.push(format!("--user-data-dir={}", profile.user_data().display()));
        args.push("about:blank".into());

        let mut cmd = tokio::process::Command::new(path);
        cmd.args(&args)
            .stdin(std::process::Stdio::null())
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::piped())
            .kill_on_drop(true)
            .process_group(0);
        use std::os::fd::AsRawFd;
        let (child_in, child_out) = (cmd_r.as_raw_fd(), ev_w.as_raw_fd());
        unsafe {
            cmd.pre_exec(move || {
                // Move both ends above 4 first, so dup2 onto 3 and 4 never clobbers the other.
                let a = libc::fcntl(child_in, libc::F_DUPFD_CLOEXEC, 10);
                let b = libc::fcntl(child_out, libc::F_DUPFD_CLOEXEC, 10);
                if a < 0 || b < 0 || libc::dup2(a, 3) < 0 || libc::dup2(b, 4) < 0 {
                    return Err(std::io::Error::last_os_error());
                }
                Ok(())
            });
        }
        let mut child = cmd.spawn().map_err(|e| match e.kind() {
            std::io::ErrorKind::NotFound => StartError::Missing(path.to_string()),
            _ => fail(e.to_string()),
        })?;
        drop((cmd_r, ev_w));
        let pid = child.id().map(|p| p as i32).unwrap_or(0);
        let stderr = Arc::new(Mutex::new(String::new()));
        if let Some(mut err) = child.stderr.take() {
            let keep = stderr.clone();
            tokio::spawn(async move {
                let mut buf = [0u8; 4096];
                while let Ok(n) = err.read(&mut buf).await {
                    if n == 0 {
                        break;
                    }
                    let mut k = keep.lock().unwrap();
                    k.push_str(&String::from_utf8_lossy(&buf[..n]));
                    if k.len() > 8192 {
                        let cut = k.len() - 4096;
                        let cut = (cut..k.len()).find(|&i| k.is_char_boundary(i)).unwrap_or(k.len());
                        k.drain(..cut);
                    }
                }
            });
        }
        let to = tokio::net::unix::pipe::Sender::from_owned_fd(cmd_w).map_err(|e| fail(e.to_string()))?;
        let from = tokio::net::unix::pipe::Receiver::from_owned_fd(ev_r).map_err(|e| fail(e.to_string()))?;
        let cdp = Cdp::new(to, from);
        let process = Process { cdp, profile, pid, child: Mutex::new(Some(child)), stderr, _deny: deny };
        match tokio::time::timeout(
            Duration::from_secs(30),
            process.cdp.call(None, "Browser.getVersion", serde_json::json!({})),
        )
        .await
        {
            Ok(Ok(_)) => Ok(process),
            Ok(Err(_)) => Err(fail(format!("it exited: {}", process.exit_status()))),
            Err(_) => Err(fail(format!("no answer within 30 s{}", process.stderr_tail()))),
        }
    }
}
