//! The outbound guard in front of Chromium: an HTTP proxy on 127.0.0.1 through which every
//! request of a browser context goes (Chromium is started with the proxy and
//! `<-loopback>`, so even loopback is not bypassed). `CONNECT host:port` (https, WebSockets)
//! and absolute-form requests (plain http) are resolved once by the outbound policy
//! ([`vana_net::OutboundPolicy::resolve`]) and connected to the address it checked, so there is
//! no DNS rebinding between check and connect; anything refused is answered 403 and never
//! reaches its address. Each context has its own proxy, so what it refused is reported to the
//! session whose page asked for it.

use bytes::Bytes;
use http_body_util::{combinators::BoxBody, BodyExt, Full};
use hyper::body::Incoming;
use hyper::{Method, Request, Response, StatusCode};
use hyper_util::rt::TokioIo;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::net::{TcpListener, TcpStream};
use vana_net::OutboundPolicy;

type Body = BoxBody<Bytes, hyper::Error>;

/// A request the proxy refused.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Blocked {
    /// The URL (plain http) or `host:port` (a tunnel) that was asked for.
    pub target: String,
    /// Why, as the policy says it.
    pub reason: String,
}

/// What one proxy let through and refused.
#[derive(Debug, Default)]
pub struct ProxyLog {
    refused: Mutex<Vec<Blocked>>,
    forwarded: AtomicU64,
}

impl ProxyLog {
    /// Takes the refusals recorded since the last call.
    pub fn take_refused(&self) -> Vec<Blocked> {
        std::mem::take(&mut *self.refused.lock().unwrap())
    }

    /// The refusals recorded since the last [`ProxyLog::take_refused`], left in place.
    pub fn refused(&self) -> Vec<Blocked> {
        self.refused.lock().unwrap().clone()
    }

    /// How many requests and tunnels were let through.
    pub fn forwarded(&self) -> u64 {
        self.forwarded.load(Ordering::Relaxed)
    }

    fn refuse(&self, target: String, reason: String) {
        let mut r = self.refused.lock().unwrap();
        if r.len() < 200 {
            r.push(Blocked { target, reason });
        }
    }
}

/// A running proxy; stops accepting when dropped.
pub struct Proxy {
    /// Its port on 127.0.0.1.
    pub port: u16,
    /// What it let through and refused.
    pub log: Arc<ProxyLog>,
    task: tokio::task::JoinHandle<()>,
}

impl Drop for Proxy {
    fn drop(&mut self) {
        self.task.abort();
    }
}

impl Proxy {
    /// Starts a proxy that follows `policy`; `None` refuses everything (the browser-wide
    /// proxy, for anything outside a session's context).
    pub async fn start(policy: Option<OutboundPolicy>) -> std::io::Result<Proxy> {
        let listener = TcpListener::bind(("127.0.0.1", 0)).await?;
        let port = listener.local_addr()?.port();
        let log = Arc::new(ProxyLog::default());
        let policy = Arc::new(policy);
        let l = log.clone();
        let task = tokio::spawn(async move {
            loop {
                let Ok((stream, _)) = listener.accept().await else { continue };
                let (policy, log) = (policy.clone(), l.clone());
                tokio::spawn(async move {
                    let service = hyper::service::service_fn(move |req| {
                        let (policy, log) = (policy.clone(), log.clone());
                        async move { Ok::<_, std::convert::Infallible>(handle(req, &policy, &log).await) }
                    });
                    let _ = hyper::server::conn::http1::Builder::new()
                        .serve_connection(TokioIo::new(stream), service)
                        .with_upgrades()
                        .await;
                });
            }
        });
        Ok(Proxy { port, log, task })
    }
}

fn text(status: StatusCode, msg: String) -> Response<Body> {
    let mut r = Response::new(Full::new(Bytes::from(msg)).map_err(|never| match never {}).boxed());
    *r.status_mut() = status;
    r.headers_mut().insert("content-type", "text/plain; charset=utf-8".parse().unwrap());
    r.headers_mut().insert("x-vana-refused", "1".parse().unwrap());
    r
}

async fn handle(req: Request<Incoming>, policy: &Option<OutboundPolicy>, log: &ProxyLog) -> Response<Body> {
    let tunnel = req.method() == Method::CONNECT;
    let uri = req.uri().clone();
    let (host, port, target) = match uri.host() {
        Some(h) if tunnel || uri.scheme_str() == Some("http") => {
            let port = uri.port_u16().unwrap_or(if tunnel { 443 } else { 80 });
            let target = if tunnel { format!("{h}:{port}") } else { uri.to_string() };
            (h.to_string(), port, target)
        }
        _ => {
            let target = uri.to_string();
            log.refuse(target.clone(), "only http and https requests are proxied".into());
            return text(StatusCode::BAD_REQUEST, format!("VANA's browser proxy refused `{target}`"));
        }
    };
    let Some(policy) = policy else {
        let reason = "requests outside a session's browser context are refused".to_string();
        log.refuse(target, reason.clone());
        return text(StatusCode::FORBIDDEN, reason);
    };
    let addrs = match policy.resolve(&host, port).await {
        Ok(a) => a,
        Err(refusal) => {
            let reason = refusal.to_string();
            log.refuse(target, reason.clone());
            return text(StatusCode::FORBIDDEN, format!("blocked by VANA's outbound policy: {reason}"));
        }
    };
    let upstream = match connect(&addrs).await {
        Ok(s) => s,
        Err(e) => return text(StatusCode::BAD_GATEWAY, format!("cannot connect to {target}: {e}")),
    };
    log.forwarded.fetch_add(1, Ordering::Relaxed);
    if tunnel {
        tokio::spawn(async move {
            if let Ok(upgraded) = hyper::upgrade::on(req).await {
                let mut upstream = upstream;
                let _ = tokio::io::copy_bidirectional(&mut TokioIo::new(upgraded), &mut upstream).await;
            }
        });
        return Response::new(Full::new(Bytes::new()).map_err(|never| match never {}).boxed());
    }
    forward(req, upstream).await.unwrap_or_else(|e| text(StatusCode::BAD_GATEWAY, format!("{target}: {e}")))
}

async fn connect(addrs: &[SocketAddr]) -> std::io::Result<TcpStream> {
    let mut last = std::io::Error::other("no address");
    for a in addrs {
        match tokio::time::timeout(Duration::from_secs(15), TcpStream::connect(a)).await {
            Ok(Ok(s)) => return Ok(s),
            Ok(Err(e)) => last = e,
            Err(_) => last = std::io::Error::new(std::io::ErrorKind::TimedOut, "connect timed out"),
        }
    }
    Err(last)
}

/// Hop-by-hop headers a proxy does not pass on.
const HOP: &[&str] =
    &["proxy-connection", "proxy-authorization", "connection", "keep-alive", "upgrade", "te", "trailer"];

async fn forward(req: Request<Incoming>, upstream: TcpStream) -> Result<Response<Body>, hyper::Error> {
    let (mut parts, body) = req.into_parts();
    let path = parts.uri.path_and_query().map(|p| p.as_str().to_string()).unwrap_or_else(|| "/".into());
    if let Some(auth) = parts.uri.authority().cloned() {
        if !parts.headers.contains_key(hyper::header::HOST) {
            parts
                .headers
                .insert(hyper::header::HOST, auth.as_str().parse().expect("authority is a header value"));
        }
    }
    parts.uri = path.parse().unwrap_or_else(|_| hyper::Uri::from_static("/"));
    for h in HOP {
        parts.headers.remove(*h);
    }
    let (mut sender, conn) = hyper::client::conn::http1::handshake(TokioIo::new(upstream)).await?;
    tokio::spawn(conn);
    let resp = sender.send_request(Request::from_parts(parts, body)).await?;
    let (mut parts, body) = resp.into_parts();
    for h in HOP {
        parts.headers.remove(*h);
    }
    Ok(Response::from_parts(parts, body.boxed()))
}
