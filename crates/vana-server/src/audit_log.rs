//! The audit writer: records are queued and written in batches by one background task, so a
//! run never waits on the audit log; [`AuditLog::flush`] waits until everything queued is
//! stored (searches flush first, so they see every earlier record).

use serde_json::Value;
use std::sync::Arc;
use tokio::sync::{mpsc, oneshot};
use vana_core::event::now_secs;
use vana_store::records::{AuditRecord, AuditStore};

/// Longest text kept of one argument or result in an audit record.
pub const MAX_FIELD_CHARS: usize = 2000;

enum Msg {
    Record(AuditRecord),
    Flush(oneshot::Sender<()>),
}

/// Queue of audit records in front of an [`AuditStore`].
#[derive(Clone)]
pub struct AuditLog {
    tx: mpsc::UnboundedSender<Msg>,
}

impl AuditLog {
    /// Starts the writer task over `store`.
    pub fn start(store: Arc<dyn AuditStore>) -> Self {
        let (tx, mut rx) = mpsc::unbounded_channel::<Msg>();
        tokio::spawn(async move {
            while let Some(first) = rx.recv().await {
                let mut batch = Vec::new();
                let mut waiters = Vec::new();
                let mut next = Some(first);
                while let Some(m) = next.take() {
                    match m {
                        Msg::Record(r) => batch.push(r),
                        Msg::Flush(w) => waiters.push(w),
                    }
                    if batch.len() < 512 {
                        next = rx.try_recv().ok();
                    }
                }
                if !batch.is_empty() {
                    if let Err(e) = store.audit_append(&batch).await {
                        tracing::error!("cannot write {} audit records: {e}", batch.len());
                    }
                }
                for w in waiters {
                    let _ = w.send(());
                }
            }
        });
        AuditLog { tx }
    }

    /// Queues a record.
    pub fn record(&self, r: AuditRecord) {
        let _ = self.tx.send(Msg::Record(r));
    }

    /// Queues a record built from its parts, stamped now.
    pub fn log(&self, kind: &str, user: &str, agent: &str, session: &str, summary: String, data: Value) {
        self.record(AuditRecord {
            id: 0,
            time: now_secs(),
            kind: kind.into(),
            user_id: user.into(),
            agent: agent.into(),
            session_id: session.into(),
            summary: truncate(&summary, 300),
            data,
        })
    }

    /// Waits until every record queued before this call is stored.
    pub async fn flush(&self) {
        let (tx, rx) = oneshot::channel();
        if self.tx.send(Msg::Flush(tx)).is_ok() {
            let _ = rx.await;
        }
    }
}

/// Cuts text to `max` characters, marking the cut.
pub fn truncate(s: &str, max: usize) -> String {
    if s.chars().count() <= max {
        return s.to_string();
    }
    let mut out: String = s.chars().take(max).collect();
    out.push_str("…[truncated]");
    out
}

/// A JSON value kept whole when short, else as its truncated JSON text.
pub fn truncate_value(v: &Value) -> Value {
    let text = v.to_string();
    if text.chars().count() <= MAX_FIELD_CHARS {
        v.clone()
    } else {
        Value::String(truncate(&text, MAX_FIELD_CHARS))
    }
}
