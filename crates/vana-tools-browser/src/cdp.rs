//! A small Chrome DevTools Protocol client over `--remote-debugging-pipe`: JSON messages
//! separated by NUL bytes on two pipes (commands to Chromium's fd 3, replies and events from its
//! fd 4). Commands are matched to replies by id; events are routed by their `sessionId` to
//! whoever subscribed to that session; events nobody knows are dropped (the protocol grows with
//! every Chromium release, and nothing here depends on its full shape).

use serde_json::{json, Value};
use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::sync::{broadcast, mpsc, oneshot};

/// Why a CDP command failed.
#[derive(Debug, Clone, thiserror::Error)]
pub enum CdpError {
    /// Chromium answered with a protocol error.
    #[error("{method}: {message}")]
    Protocol {
        /// The command.
        method: String,
        /// Chromium's message.
        message: String,
    },
    /// The pipe closed: Chromium exited.
    #[error("Chromium exited")]
    Closed,
}

/// One event: its method, params and the session it belongs to (`None`: the browser).
#[derive(Debug, Clone)]
pub struct CdpEvent {
    /// e.g. `Page.lifecycleEvent`.
    pub method: String,
    /// The event's parameters.
    pub params: Value,
}

type Pending = Mutex<HashMap<u64, (String, oneshot::Sender<Result<Value, CdpError>>)>>;

/// The connection to one Chromium process. Cheap to share (`Arc`).
pub struct Cdp {
    out: mpsc::UnboundedSender<Vec<u8>>,
    pending: Arc<Pending>,
    next_id: AtomicU64,
    sessions: Arc<Mutex<HashMap<String, broadcast::Sender<CdpEvent>>>>,
    browser_events: broadcast::Sender<CdpEvent>,
    alive: Arc<AtomicBool>,
}

impl Cdp {
    /// A client over Chromium's pipe ends (`to` is its fd 3, `from` its fd 4); spawns the
    /// reader and writer tasks on the current runtime.
    pub fn new(to: tokio::net::unix::pipe::Sender, from: tokio::net::unix::pipe::Receiver) -> Arc<Cdp> {
        let (out, mut rx) = mpsc::unbounded_channel::<Vec<u8>>();
        let pending: Arc<Pending> = Arc::default();
        let sessions: Arc<Mutex<HashMap<String, broadcast::Sender<CdpEvent>>>> = Arc::default();
        let (browser_events, _) = broadcast::channel(256);
        let alive = Arc::new(AtomicBool::new(true));
        let mut to = to;
        tokio::spawn(async move {
            while let Some(mut msg) = rx.recv().await {
                msg.push(0);
                if to.write_all(&msg).await.is_err() {
                    break;
                }
            }
        });
        let (p, s, b, a) = (pending.clone(), sessions.clone(), browser_events.clone(), alive.clone());
        tokio::spawn(async move {
            let mut from = from;
            let mut buf: Vec<u8> = Vec::with_capacity(1 << 16);
            let mut chunk = vec![0u8; 1 << 16];
            loop {
                match from.read(&mut chunk).await {
                    Ok(0) | Err(_) => break,
                    Ok(n) => {
                        let mut start = buf.len();
                        buf.extend_from_slice(&chunk[..n]);
                        while let Some(i) = buf[start..].iter().position(|&c| c == 0) {
                            let end = start + i;
                            dispatch(&buf[..end], &p, &s, &b);
                            buf.drain(..=end);
                            start = 0;
                        }
                    }
                }
            }
            a.store(false, Ordering::SeqCst);
            for (_, (_, tx)) in p.lock().unwrap().drain() {
                let _ = tx.send(Err(CdpError::Closed));
            }
            s.lock().unwrap().clear();
        });
        Arc::new(Cdp { out, pending, next_id: AtomicU64::new(1), sessions, browser_events, alive })
    }

    /// Whether the pipe is still open.
    pub fn alive(&self) -> bool {
        self.alive.load(Ordering::SeqCst)
    }

    /// Sends `method` (to the target attached as `session`, or the browser) and waits for its
    /// reply.
    pub async fn call(&self, session: Option<&str>, method: &str, params: Value) -> Result<Value, CdpError> {
        if !self.alive() {
            return Err(CdpError::Closed);
        }
        let id = self.next_id.fetch_add(1, Ordering::Relaxed);
        let mut msg = json!({"id": id, "method": method, "params": params});
        if let Some(s) = session {
            msg["sessionId"] = json!(s);
        }
        let (tx, rx) = oneshot::channel();
        self.pending.lock().unwrap().insert(id, (method.to_string(), tx));
        if self.out.send(serde_json::to_vec(&msg).expect("json")).is_err() {
            self.pending.lock().unwrap().remove(&id);
            return Err(CdpError::Closed);
        }
        rx.await.unwrap_or(Err(CdpError::Closed))
    }

    /// Events of one attached target session, from now on.
    pub fn subscribe(&self, session: &str) -> broadcast::Receiver<CdpEvent> {
        let mut map = self.sessions.lock().unwrap();
        map.entry(session.to_string()).or_insert_with(|| broadcast::channel(1024).0).subscribe()
    }

    /// Forgets a session's subscribers (after its target closed).
    pub fn forget(&self, session: &str) {
        self.sessions.lock().unwrap().remove(session);
    }

    /// Browser-level events (no session), from now on.
    pub fn browser_events(&self) -> broadcast::Receiver<CdpEvent> {
        self.browser_events.subscribe()
    }
}

fn dispatch(
    raw: &[u8],
    pending: &Pending,
    sessions: &Mutex<HashMap<String, broadcast::Sender<CdpEvent>>>,
    browser: &broadcast::Sender<CdpEvent>,
) {
    let Ok(mut msg) = serde_json::from_slice::<Value>(raw) else {
        tracing::debug!("unreadable CDP message ({} bytes)", raw.len());
        return;
    };
    if let Some(id) = msg.get("id").and_then(Value::as_u64) {
        let Some((method, tx)) = pending.lock().unwrap().remove(&id) else { return };
        let reply = match msg.get_mut("error") {
            Some(e) => Err(CdpError::Protocol {
                method,
                message: e.get("message").and_then(Value::as_str).unwrap_or("error").to_string(),
            }),
            None => Ok(msg.get_mut("result").map(Value::take).unwrap_or(Value::Null)),
        };
        let _ = tx.send(reply);
        return;
    }
    let Some(method) = msg.get("method").and_then(Value::as_str).map(str::to_string) else { return };
    let event = CdpEvent { method, params: msg.get_mut("params").map(Value::take).unwrap_or(Value::Null) };
    match msg.get("sessionId").and_then(Value::as_str) {
        Some(s) => {
            if let Some(tx) = sessions.lock().unwrap().get(s) {
                let _ = tx.send(event);
            }
        }
        None => {
            let _ = browser.send(event);
        }
    }
}
