//! A real `vana serve` process for tests: a fresh `VANA_HOME`, keys from `vana keys create`,
//! the scripted model (the only stand-in), the server's output kept in `serve.log`, and
//! `kill -9` for crash drills.

#![allow(dead_code)]

use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// A temporary `VANA_HOME`, removed when dropped.
pub struct Home(pub PathBuf);

impl Home {
    /// A new empty home (world-readable: the sandbox's unprivileged user reaches the
    /// workspaces below it).
    pub fn new(tag: &str) -> Home {
        let nanos = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_nanos();
        let dir = std::env::temp_dir().join(format!("vana-{tag}-{}-{nanos}", std::process::id()));
        std::fs::create_dir_all(dir.join("agents")).unwrap();
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&dir, std::fs::Permissions::from_mode(0o755)).unwrap();
        Home(dir)
    }

    /// A path inside the home.
    pub fn path(&self, rel: &str) -> PathBuf {
        self.0.join(rel)
    }

    /// Writes a file inside the home.
    pub fn write(&self, rel: &str, text: &str) -> PathBuf {
        let p = self.path(rel);
        std::fs::write(&p, text).unwrap();
        p
    }
}

impl Drop for Home {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// The `vana` binary with this home, no inherited `VANA_*` settings, and `env` on top.
pub fn vana(home: &Home, env: &[(&str, String)]) -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_vana"));
    for (k, _) in std::env::vars().filter(|(k, _)| k.starts_with("VANA_")) {
        if k != "VANA_MCP_HOME" && k != "VANA_MODELS_DIR" {
            c.env_remove(k);
        }
    }
    c.current_dir(&home.0).env("VANA_HOME", &home.0).env("NO_COLOR", "1").env("RUST_LOG", "warn");
    for (k, v) in env {
        c.env(k, v);
    }
    c
}

/// `vana keys create NAME`: the key it prints once.
pub fn create_key(home: &Home, env: &[(&str, String)], name: &str) -> String {
    let out = vana(home, env).args(["keys", "create", name]).output().unwrap();
    assert!(out.status.success(), "keys create: {}", String::from_utf8_lossy(&out.stderr));
    let text = String::from_utf8(out.stdout).unwrap();
    let key = text.split_whitespace().find(|w| w.starts_with("vana_")).unwrap_or_default().to_string();
    assert!(!key.is_empty(), "no key printed: {text}");
    key
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

/// A running `vana serve`; killed (SIGKILL) when dropped.
pub struct Served {
    child: Child,
    /// `http://127.0.0.1:<port>`.
    pub base: String,
    log: PathBuf,
}

impl Served {
    /// Starts `vana serve` on a free loopback port with `extra` arguments and waits until
    /// `/healthz` answers.
    pub fn start(home: &Home, env: &[(&str, String)], extra: &[&str]) -> Served {
        let port = free_port();
        let log = home.path(&format!("serve-{port}.log"));
        let out = std::fs::File::create(&log).unwrap();
        let child = vana(home, env)
            .args(["serve", "--bind", &format!("127.0.0.1:{port}")])
            .args(extra)
            .stdout(Stdio::null())
            .stderr(out)
            .spawn()
            .unwrap();
        let mut served = Served { child, base: format!("http://127.0.0.1:{port}"), log };
        let deadline = Instant::now() + Duration::from_secs(60);
        loop {
            if let Some(status) = served.child.try_wait().unwrap() {
                panic!("vana serve exited early ({status}):\n{}", served.log());
            }
            if healthz(port) {
                return served;
            }
            assert!(Instant::now() < deadline, "vana serve did not answer /healthz:\n{}", served.log());
            std::thread::sleep(Duration::from_millis(100));
        }
    }

    /// What the server wrote to stderr so far.
    pub fn log(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }

    /// Still running?
    pub fn alive(&mut self) -> bool {
        self.child.try_wait().unwrap().is_none()
    }

    /// `kill -9`, and waits for the process to be gone.
    pub fn kill9(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Drop for Served {
    fn drop(&mut self) {
        self.kill9();
    }
}

fn healthz(port: u16) -> bool {
    use std::io::{Read, Write};
    let Ok(mut s) = std::net::TcpStream::connect(("127.0.0.1", port)) else { return false };
    let _ = s.set_read_timeout(Some(Duration::from_secs(2)));
    if write!(s, "GET /healthz HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nConnection: close\r\n\r\n").is_err() {
        return false;
    }
    let mut out = String::new();
    let _ = s.read_to_string(&mut out);
    out.starts_with("HTTP/1.1 200")
}
