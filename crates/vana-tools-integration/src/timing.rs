//! One HTTP request with its phases measured: the name resolved through the outbound policy
//! (DNS), a TCP connection to a checked address (connect), the TLS handshake, the first byte of
//! the response, the whole body. reqwest does not expose these phases, so the request goes over a
//! hyper HTTP/1.1 connection pinned to the address the policy checked; a phase that did not happen
//! (DNS for a literal address, TLS for `http`) is `None`, never a guess.

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper_util::rt::TokioIo;
use std::io;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};
use std::time::{Duration, Instant};
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::TcpStream;
use vana_net::{OutboundPolicy, Refusal};

/// The measured phases of one request, milliseconds.
#[derive(Debug, Clone, Default, PartialEq, serde::Serialize)]
pub struct Phases {
    /// Resolving the host name; `None` when the URL holds an address.
    pub dns_ms: Option<f64>,
    /// The TCP connection (every address tried until one answered).
    pub connect_ms: f64,
    /// The TLS handshake; `None` for `http`.
    pub tls_ms: Option<f64>,
    /// From the request written to the first byte of the response (the server's time).
    pub server_ms: f64,
    /// From the start to the first byte of the response.
    pub first_byte_ms: f64,
    /// From the start to the last byte of the body.
    pub total_ms: f64,
}

/// A response as measured.
#[derive(Debug, Clone)]
pub struct Measured {
    /// The status code.
    pub status: u16,
    /// The reason phrase of the status.
    pub reason: String,
    /// Response headers, in order (names lower-case).
    pub headers: Vec<(String, String)>,
    /// The body, at most the limit.
    pub body: Vec<u8>,
    /// Bytes of body received (all of them, also past the limit).
    pub size: u64,
    /// The body was longer than the limit.
    pub truncated: bool,
    /// The address connected to.
    pub addr: SocketAddr,
    /// The phases.
    pub phases: Phases,
}

/// Why a request got no response.
#[derive(Debug, thiserror::Error)]
pub enum RequestError {
    /// The policy refused the URL or an address (nothing was sent).
    #[error("{0}")]
    Refused(Refusal),
    /// The deadline passed.
    #[error("no complete response within {0} ms (timeout_ms)")]
    Timeout(u64),
    /// Connecting, TLS or HTTP failed.
    #[error("{0}")]
    Failed(String),
}

/// What to send.
pub struct Request<'a> {
    /// The URL (already checked by the policy: http or https with a host).
    pub url: &'a url::Url,
    /// The method.
    pub method: http::Method,
    /// Headers as given (a `host` header is added).
    pub headers: &'a [(String, String)],
    /// The body.
    pub body: Bytes,
    /// Most body bytes kept.
    pub max_body: u64,
    /// CA certificates trusted besides the platform's.
    pub extra_roots: &'a [rustls::pki_types::CertificateDer<'static>],
}

/// Marks when the first byte arrives on a stream (after the request is written).
struct FirstByte<S> {
    inner: S,
    first: Arc<Mutex<Option<Instant>>>,
}

impl<S: AsyncRead + Unpin> AsyncRead for FirstByte<S> {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let before = buf.filled().len();
        let r = Pin::new(&mut self.inner).poll_read(cx, buf);
        if matches!(r, Poll::Ready(Ok(()))) && buf.filled().len() > before {
            let mut first = self.first.lock().unwrap_or_else(|e| e.into_inner());
            first.get_or_insert_with(Instant::now);
        }
        r
    }
}

impl<S: AsyncWrite + Unpin> AsyncWrite for FirstByte<S> {
    fn poll_write(mut self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &[u8]) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.inner).poll_write(cx, buf)
    }
    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_flush(cx)
    }
    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_shutdown(cx)
    }
}

fn ms(d: Duration) -> f64 {
    (d.as_secs_f64() * 1000.0 * 1000.0).round() / 1000.0
}

/// The TLS settings: the platform's trust store (as reqwest uses) plus `extra` roots, HTTP/1.1
/// by ALPN.
fn tls_config(
    extra: &[rustls::pki_types::CertificateDer<'static>],
) -> Result<Arc<rustls::ClientConfig>, String> {
    let provider = Arc::new(rustls::crypto::aws_lc_rs::default_provider());
    let verifier = rustls_platform_verifier::Verifier::new_with_extra_roots(extra.to_vec(), provider.clone())
        .map_err(|e| format!("TLS setup failed: {e}"))?;
    let mut config = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| format!("TLS setup failed: {e}"))?
        .dangerous()
        .with_custom_certificate_verifier(Arc::new(verifier))
        .with_no_client_auth();
    config.alpn_protocols = vec![b"http/1.1".to_vec()];
    Ok(Arc::new(config))
}

/// Sends `req` once under `policy`, within `timeout`.
pub async fn send(
    policy: &OutboundPolicy,
    req: Request<'_>,
    timeout: Duration,
) -> Result<Measured, RequestError> {
    let limit = timeout.as_millis() as u64;
    match tokio::time::timeout(timeout, send_inner(policy, req)).await {
        Ok(r) => r,
        Err(_) => Err(RequestError::Timeout(limit)),
    }
}

async fn send_inner(policy: &OutboundPolicy, req: Request<'_>) -> Result<Measured, RequestError> {
    let url = req.url;
    policy.check_parsed(url).map_err(RequestError::Refused)?;
    let host = url.host_str().ok_or_else(|| RequestError::Failed("the URL has no host".into()))?.to_string();
    let port = url.port_or_known_default().unwrap_or(80);
    let literal = matches!(url.host(), Some(url::Host::Ipv4(_) | url::Host::Ipv6(_)));
    let start = Instant::now();

    // DNS, through the policy (every address checked).
    let addrs = policy.resolve(&host, port).await.map_err(RequestError::Refused)?;
    let resolved = Instant::now();

    // Connect to the checked addresses, in order.
    let mut last_err = None;
    let mut stream = None;
    for addr in &addrs {
        match TcpStream::connect(addr).await {
            Ok(s) => {
                stream = Some((s, *addr));
                break;
            }
            Err(e) => last_err = Some(format!("{addr}: {e}")),
        }
    }
    let Some((tcp, addr)) = stream else {
        return Err(RequestError::Failed(format!(
            "could not connect to {host}:{port}: {}",
            last_err.unwrap_or_else(|| "no address".into())
        )));
    };
    let _ = tcp.set_nodelay(true);
    let connected = Instant::now();

    let first = Arc::new(Mutex::new(None));
    let https = url.scheme() == "https";
    let (io, handshaken): (Box<dyn Io>, Instant) = if https {
        let connector =
            tokio_rustls::TlsConnector::from(tls_config(req.extra_roots).map_err(RequestError::Failed)?);
        let server_name = rustls::pki_types::ServerName::try_from(host.trim_matches(['[', ']']).to_string())
            .map_err(|e| RequestError::Failed(format!("`{host}` is no TLS server name: {e}")))?;
        let tls = connector
            .connect(server_name, tcp)
            .await
            .map_err(|e| RequestError::Failed(format!("TLS handshake with {host} failed: {e}")))?;
        (Box::new(FirstByte { inner: tls, first: first.clone() }), Instant::now())
    } else {
        (Box::new(FirstByte { inner: tcp, first: first.clone() }), connected)
    };

    let (mut sender, conn) = hyper::client::conn::http1::handshake(TokioIo::new(io))
        .await
        .map_err(|e| RequestError::Failed(format!("HTTP handshake failed: {e}")))?;
    let driver = tokio::spawn(async move {
        let _ = conn.await;
    });

    let mut path = url.path().to_string();
    if let Some(q) = url.query() {
        path.push('?');
        path.push_str(q);
    }
    let host_header = match url.port() {
        Some(p) => format!("{host}:{p}"),
        None => host.clone(),
    };
    let mut builder = http::Request::builder().method(req.method.clone()).uri(path);
    let mut has_host = false;
    for (k, v) in req.headers {
        has_host |= k.eq_ignore_ascii_case("host");
        builder = builder.header(k.as_str(), v.as_str());
    }
    if !has_host {
        builder = builder.header(http::header::HOST, host_header);
    }
    let request = builder
        .body(Full::new(req.body))
        .map_err(|e| RequestError::Failed(format!("the request cannot be built: {e}")))?;
    let sent = Instant::now();
    let response = sender
        .send_request(request)
        .await
        .map_err(|e| RequestError::Failed(format!("no HTTP response from {host}: {e}")))?;
    let status = response.status();
    let headers: Vec<(String, String)> = response
        .headers()
        .iter()
        .map(|(k, v)| (k.as_str().to_string(), String::from_utf8_lossy(v.as_bytes()).into_owned()))
        .collect();
    let mut body = Vec::new();
    let mut size = 0u64;
    let mut incoming = response.into_body();
    while let Some(frame) = incoming.frame().await {
        let frame = frame.map_err(|e| RequestError::Failed(format!("the body broke off: {e}")))?;
        if let Some(data) = frame.data_ref() {
            size += data.len() as u64;
            let room = req.max_body.saturating_sub(body.len() as u64) as usize;
            body.extend_from_slice(&data[..data.len().min(room)]);
        }
    }
    let done = Instant::now();
    driver.abort();
    let first_at = first.lock().unwrap_or_else(|e| e.into_inner()).unwrap_or(done).max(sent);
    let phases = Phases {
        dns_ms: (!literal).then(|| ms(resolved - start)),
        connect_ms: ms(connected - resolved),
        tls_ms: https.then(|| ms(handshaken - connected)),
        server_ms: ms(first_at - sent),
        first_byte_ms: ms(first_at - start),
        total_ms: ms(done - start),
    };
    Ok(Measured {
        status: status.as_u16(),
        reason: status.canonical_reason().unwrap_or("").to_string(),
        headers,
        truncated: size > body.len() as u64,
        body,
        size,
        addr,
        phases,
    })
}

/// A stream hyper can drive.
trait Io: AsyncRead + AsyncWrite + Unpin + Send {}
impl<T: AsyncRead + AsyncWrite + Unpin + Send> Io for T {}
