//! One live MCP session: a supervised child process over stdio, or a streamable HTTP
//! connection. The child's stderr and any non-JSON-RPC output on its stdout are kept so a
//! failure can say what the server said.

use crate::config::Launch;
use rmcp::service::{RoleClient, RunningService, ServiceExt};
use std::collections::{HashMap, VecDeque};
use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};
use std::time::Duration;
use tokio::io::{AsyncBufReadExt, AsyncRead, ReadBuf};

const STDERR_LINES: usize = 12;

/// What a server said outside the protocol.
#[derive(Default)]
pub(crate) struct Diagnostics {
    stderr: Mutex<VecDeque<String>>,
    garbage: Mutex<(u64, Option<String>)>,
}

impl Diagnostics {
    fn push_stderr(&self, line: String) {
        let mut q = self.stderr.lock().unwrap_or_else(|e| e.into_inner());
        if q.len() == STDERR_LINES {
            q.pop_front();
        }
        q.push_back(line);
    }

    fn note_garbage(&self, sample: &[u8]) {
        let mut g = self.garbage.lock().unwrap_or_else(|e| e.into_inner());
        g.0 += 1;
        if g.1.is_none() {
            let s = String::from_utf8_lossy(&sample[..sample.len().min(120)]).trim_end().to_string();
            g.1 = Some(s);
        }
    }

    /// A sentence or two for an error message: non-protocol stdout output and stderr's tail.
    pub(crate) fn describe(&self) -> String {
        let mut out = String::new();
        let g = self.garbage.lock().unwrap_or_else(|e| e.into_inner());
        if let (n, Some(first)) = &*g {
            out.push_str(&format!(
                "; the server wrote {n} line(s) to stdout that are not JSON-RPC (stdout is reserved for the protocol), first: {first:?}"
            ));
        }
        let q = self.stderr.lock().unwrap_or_else(|e| e.into_inner());
        if !q.is_empty() {
            out.push_str("; its stderr ends with: ");
            out.push_str(&q.iter().cloned().collect::<Vec<_>>().join(" | "));
        }
        out
    }
}

/// Passes the child's stdout through, noting lines that cannot be JSON-RPC messages.
struct WatchedStdout<R> {
    inner: R,
    at_line_start: bool,
    diag: Arc<Diagnostics>,
}

impl<R: AsyncRead + Unpin> AsyncRead for WatchedStdout<R> {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<std::io::Result<()>> {
        let before = buf.filled().len();
        let r = Pin::new(&mut self.inner).poll_read(cx, buf);
        if let Poll::Ready(Ok(())) = &r {
            let new = &buf.filled()[before..];
            let mut i = 0;
            while i < new.len() {
                if self.at_line_start {
                    let b = new[i];
                    if b == b'\n' || b == b'\r' || b == b' ' || b == b'\t' {
                        i += 1;
                        continue;
                    }
                    self.at_line_start = false;
                    if b != b'{' && b != b'[' {
                        let end = new[i..].iter().position(|&c| c == b'\n').map_or(new.len(), |p| i + p);
                        self.diag.note_garbage(&new[i..end]);
                    }
                }
                match new[i..].iter().position(|&c| c == b'\n') {
                    Some(p) => {
                        i += p + 1;
                        self.at_line_start = true;
                    }
                    None => break,
                }
            }
        }
        r
    }
}

/// Kills the server's whole process group when the connection goes away.
struct ChildGuard {
    child: Mutex<tokio::process::Child>,
}

impl ChildGuard {
    fn exit_status(&self) -> Option<std::process::ExitStatus> {
        self.child.lock().unwrap_or_else(|e| e.into_inner()).try_wait().ok().flatten()
    }
}

impl Drop for ChildGuard {
    fn drop(&mut self) {
        let mut child = self.child.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(pid) = child.id() {
            // The server may have started helpers (npx, a browser): end the group it leads.
            unsafe {
                libc::kill(-(pid as i32), libc::SIGKILL);
            }
        }
        let _ = child.start_kill();
    }
}

/// A live MCP session.
pub(crate) struct Connection {
    pub(crate) service: RunningService<RoleClient, ()>,
    child: Option<ChildGuard>,
    pub(crate) diag: Arc<Diagnostics>,
}

impl Connection {
    /// Starts or reaches the server and completes the MCP handshake within `timeout`.
    pub(crate) async fn open(launch: &Launch, timeout: Duration) -> Result<Connection, String> {
        match launch {
            Launch::Stdio { program, args, env, cwd } => {
                let mut cmd = tokio::process::Command::new(program);
                // Only what the configuration declares: never VANA's own keys (see
                // `config::INHERITED_ENV`).
                cmd.args(args)
                    .env_clear()
                    .envs(env)
                    .stdin(std::process::Stdio::piped())
                    .stdout(std::process::Stdio::piped())
                    .stderr(std::process::Stdio::piped())
                    .kill_on_drop(true)
                    .process_group(0);
                if let Some(dir) = cwd {
                    cmd.current_dir(dir);
                }
                let mut child =
                    cmd.spawn().map_err(|e| format!("cannot start {}: {e}", program.display()))?;
                let diag = Arc::new(Diagnostics::default());
                let (Some(stdin), Some(stdout), Some(stderr)) =
                    (child.stdin.take(), child.stdout.take(), child.stderr.take())
                else {
                    return Err("the server's stdio pipes could not be opened".into());
                };
                let d = diag.clone();
                tokio::spawn(async move {
                    let mut lines = tokio::io::BufReader::new(stderr).lines();
                    while let Ok(Some(line)) = lines.next_line().await {
                        tracing::debug!(target: "vana_mcp::server_stderr", "{line}");
                        d.push_stderr(line);
                    }
                });
                let guard = ChildGuard { child: Mutex::new(child) };
                let reader = WatchedStdout { inner: stdout, at_line_start: true, diag: diag.clone() };
                let handshake = tokio::time::timeout(timeout, ().serve((reader, stdin))).await;
                let fail = |what: String| {
                    let status =
                        guard.exit_status().map(|s| format!("; the server exited ({s})")).unwrap_or_default();
                    format!("{what}{status}{}", diag.describe())
                };
                match handshake {
                    Ok(Ok(service)) => Ok(Connection { service, child: Some(guard), diag }),
                    Ok(Err(e)) => {
                        // Let the stderr reader catch the last words of a server that just died.
                        tokio::time::sleep(Duration::from_millis(50)).await;
                        Err(fail(format!("MCP handshake failed: {e}")))
                    }
                    Err(_) => Err(fail(format!("no MCP handshake within {timeout:?}"))),
                }
            }
            Launch::Http { url, headers } => {
                use rmcp::transport::streamable_http_client::StreamableHttpClientTransportConfig;
                use rmcp::transport::StreamableHttpClientTransport;
                let mut map = HashMap::new();
                for (k, v) in headers {
                    let name = reqwest::header::HeaderName::from_bytes(k.as_bytes())
                        .map_err(|e| format!("header name `{k}`: {e}"))?;
                    let value = reqwest::header::HeaderValue::from_str(v)
                        .map_err(|e| format!("header `{k}`: {e}"))?;
                    map.insert(name, value);
                }
                let client = reqwest::Client::builder()
                    .connect_timeout(timeout)
                    .build()
                    .map_err(|e| format!("HTTP client: {e}"))?;
                let cfg = StreamableHttpClientTransportConfig::with_uri(url.as_str()).custom_headers(map);
                let transport = StreamableHttpClientTransport::with_client(client, cfg);
                match tokio::time::timeout(timeout, ().serve(transport)).await {
                    Ok(Ok(service)) => Ok(Connection { service, child: None, diag: Default::default() }),
                    Ok(Err(e)) => Err(format!("MCP handshake with {url} failed: {e}")),
                    Err(_) => Err(format!("no MCP handshake from {url} within {timeout:?}")),
                }
            }
        }
    }

    /// The process id of a stdio server.
    pub(crate) fn pid(&self) -> Option<u32> {
        self.child.as_ref().and_then(|c| c.child.lock().unwrap_or_else(|e| e.into_inner()).id())
    }

    /// True when the session ended (the process died, the transport closed).
    pub(crate) fn is_closed(&self) -> bool {
        self.service.is_closed() || self.child.as_ref().is_some_and(|c| c.exit_status().is_some())
    }

    /// Why the session ended, as far as we can tell.
    pub(crate) fn describe_end(&self) -> String {
        let status = self
            .child
            .as_ref()
            .and_then(|c| c.exit_status())
            .map(|s| format!("the server exited ({s})"))
            .unwrap_or_else(|| "the connection closed".into());
        format!("{status}{}", self.diag.describe())
    }
}
