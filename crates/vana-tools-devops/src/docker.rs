//! The Docker Engine API (v1.41, which Docker and Podman's Docker-compatible service both
//! speak) over a unix socket: a small HTTP/1.1 client (`Connection: close`, chunked bodies), the
//! calls the docker tools make, and a ustar writer for build contexts.

use crate::config::DevopsConfig;
use serde_json::Value;
use std::path::PathBuf;
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

/// What to install or start when no socket answers.
pub const INSTALL: &str = "start a Docker-compatible Engine API: Docker (`systemctl start docker`, socket \
/var/run/docker.sock) or Podman (`apt-get install -y podman` then `podman system service --time=0 \
unix:///run/podman/podman.sock`), and set [devops] docker_socket or DOCKER_HOST=unix:///path if it is elsewhere";

/// API version prefix.
const API: &str = "/v1.41";
/// Bytes read from one response.
const MAX_RESPONSE: usize = 32 << 20;

/// The socket to use: config, `$DOCKER_HOST` (unix://), then the usual Docker and Podman paths.
pub fn socket(config: &DevopsConfig) -> Result<PathBuf, String> {
    if !config.docker_socket.is_empty() {
        let p = PathBuf::from(config.docker_socket.trim_start_matches("unix://"));
        return if p.exists() {
            Ok(p)
        } else {
            Err(format!("no Engine API socket at {} ([devops] docker_socket): {INSTALL}", p.display()))
        };
    }
    let mut candidates = Vec::new();
    if let Ok(h) = std::env::var("DOCKER_HOST") {
        if let Some(p) = h.strip_prefix("unix://") {
            candidates.push(PathBuf::from(p));
        }
    }
    candidates.push("/var/run/docker.sock".into());
    if let Ok(d) = std::env::var("XDG_RUNTIME_DIR") {
        candidates.push(PathBuf::from(d).join("podman/podman.sock"));
    }
    candidates.push("/run/podman/podman.sock".into());
    let tried: Vec<String> = candidates.iter().map(|p| p.display().to_string()).collect();
    candidates
        .into_iter()
        .find(|p| p.exists())
        .ok_or_else(|| format!("no Docker or Podman socket (looked at {}): {INSTALL}", tried.join(", ")))
}

/// A response: status and body (de-chunked).
pub struct Response {
    /// HTTP status.
    pub status: u16,
    /// Body.
    pub body: Vec<u8>,
}

impl Response {
    /// The body as JSON.
    pub fn json(&self) -> Result<Value, String> {
        serde_json::from_slice(&self.body).map_err(|e| format!("the Engine API answered no JSON: {e}"))
    }
}

/// One request over the socket.
pub async fn request(
    config: &DevopsConfig,
    method: &str,
    path_and_query: &str,
    content_type: Option<&str>,
    body: &[u8],
    timeout: Duration,
) -> Result<Response, String> {
    let sock = socket(config)?;
    let fut = async {
        let mut s = tokio::net::UnixStream::connect(&sock)
            .await
            .map_err(|e| format!("cannot connect to {}: {e}; {INSTALL}", sock.display()))?;
        let mut head = format!(
            "{method} {API}{path_and_query} HTTP/1.1\r\nHost: docker\r\nUser-Agent: VANA\r\nConnection: close\r\nContent-Length: {}\r\n",
            body.len()
        );
        if let Some(ct) = content_type {
            head.push_str(&format!("Content-Type: {ct}\r\n"));
        }
        head.push_str("\r\n");
        s.write_all(head.as_bytes()).await.map_err(|e| e.to_string())?;
        s.write_all(body).await.map_err(|e| e.to_string())?;
        let mut raw = Vec::new();
        let mut buf = [0u8; 16 * 1024];
        loop {
            let n = s.read(&mut buf).await.map_err(|e| e.to_string())?;
            if n == 0 {
                break;
            }
            raw.extend_from_slice(&buf[..n]);
            if raw.len() > MAX_RESPONSE {
                return Err(format!("Engine API response larger than {MAX_RESPONSE} bytes"));
            }
        }
        parse(&raw)
    };
    tokio::time::timeout(timeout, fut)
        .await
        .map_err(|_| format!("the Engine API took longer than {timeout:?}"))?
}

/// Parses an HTTP/1.1 response (Content-Length, chunked, or read to close).
pub fn parse(raw: &[u8]) -> Result<Response, String> {
    let end = raw.windows(4).position(|w| w == b"\r\n\r\n").ok_or("truncated HTTP response")?;
    let head = String::from_utf8_lossy(&raw[..end]);
    let mut lines = head.split("\r\n");
    let status: u16 = lines
        .next()
        .and_then(|l| l.split_whitespace().nth(1))
        .and_then(|s| s.parse().ok())
        .ok_or("no HTTP status line")?;
    let chunked = lines.any(|l| {
        let l = l.to_ascii_lowercase();
        l.starts_with("transfer-encoding:") && l.contains("chunked")
    });
    let rest = &raw[end + 4..];
    let body = if chunked {
        let mut out = Vec::new();
        let mut i = 0;
        while i < rest.len() {
            let le = rest[i..].windows(2).position(|w| w == b"\r\n").ok_or("bad chunk")?;
            let size_s = String::from_utf8_lossy(&rest[i..i + le]);
            let size = usize::from_str_radix(size_s.split(';').next().unwrap_or("").trim(), 16)
                .map_err(|_| "bad chunk size")?;
            i += le + 2;
            if size == 0 {
                break;
            }
            let chunk = rest.get(i..i + size).ok_or("truncated chunk")?;
            out.extend_from_slice(chunk);
            i += size + 2;
        }
        out
    } else {
        rest.to_vec()
    };
    Ok(Response { status, body })
}

/// The Engine API's error message (`{"message": ...}`) for a failed call.
pub fn error(what: &str, r: &Response) -> String {
    let msg = serde_json::from_slice::<Value>(&r.body)
        .ok()
        .and_then(|v| v["message"].as_str().map(str::to_string))
        .unwrap_or_else(|| String::from_utf8_lossy(&r.body).chars().take(300).collect());
    format!("{what} failed ({}): {msg}", r.status)
}

/// Demultiplexes a non-TTY log stream (8-byte frame headers: stream, 0, 0, 0, big-endian size);
/// returns the text as is when it is not framed.
pub fn demux_logs(body: &[u8]) -> String {
    let mut out = Vec::new();
    let mut i = 0;
    while i + 8 <= body.len() && matches!(body[i], 0..=2) && body[i + 1..i + 4] == [0, 0, 0] {
        let size = u32::from_be_bytes([body[i + 4], body[i + 5], body[i + 6], body[i + 7]]) as usize;
        let Some(frame) = body.get(i + 8..i + 8 + size) else { break };
        out.extend_from_slice(frame);
        i += 8 + size;
    }
    if i == 0 {
        return String::from_utf8_lossy(body).into_owned();
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// A ustar archive of `(path, bytes)` files (a build context).
pub fn tar(files: &[(String, Vec<u8>)]) -> Result<Vec<u8>, String> {
    let mut out = Vec::new();
    for (name, data) in files {
        if name.len() > 100 {
            return Err(format!("{name}: paths over 100 bytes are not supported in a build context"));
        }
        let mut h = [0u8; 512];
        h[..name.len()].copy_from_slice(name.as_bytes());
        h[100..108].copy_from_slice(b"0000644\0");
        h[108..116].copy_from_slice(b"0000000\0");
        h[116..124].copy_from_slice(b"0000000\0");
        h[124..136].copy_from_slice(format!("{:011o}\0", data.len()).as_bytes());
        h[136..148].copy_from_slice(b"00000000000\0");
        h[148..156].copy_from_slice(b"        ");
        h[156] = b'0';
        h[257..263].copy_from_slice(b"ustar\0");
        h[263..265].copy_from_slice(b"00");
        let sum: u32 = h.iter().map(|&b| b as u32).sum();
        h[148..156].copy_from_slice(format!("{sum:06o}\0 ").as_bytes());
        out.extend_from_slice(&h);
        out.extend_from_slice(data);
        out.resize(out.len().div_ceil(512) * 512, 0);
    }
    out.extend_from_slice(&[0u8; 1024]);
    Ok(out)
}

/// A container name or id, or an image reference, as the Engine API accepts in a path.
pub fn check_ref(what: &str, s: &str) -> Result<(), String> {
    let ok = !s.is_empty()
        && s.len() <= 255
        && s.bytes().all(|b| b.is_ascii_alphanumeric() || b"._-:/@".contains(&b));
    if ok && !s.contains("..") {
        Ok(())
    } else {
        Err(format!("{what} {s:?} is not a container name/id or image reference"))
    }
}
