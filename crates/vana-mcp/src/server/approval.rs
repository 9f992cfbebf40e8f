//! Asking the MCP client's user to approve a tool call, through MCP elicitation.
//!
//! - Protocols up to 2025-11-25 (an `initialize` handshake): an `elicitation/create` request
//!   to the client while the call waits ([`Asker::Inline`]).
//! - Protocol 2026-07-28, which forbids server-to-client requests: the call answers an
//!   `InputRequiredResult` holding the `elicitation/create` request and an opaque
//!   `requestState`; the client retries the call with the user's answer ([`Asker::Deferred`]).
//!   The state is a random handle to what waits, kept here (never trusted from the client),
//!   bound to the caller's user and to the call, used once, forgotten after [`PENDING_TTL`].
//! - A client that did not declare the elicitation capability cannot be asked
//!   ([`Asker::Unable`]): such calls are refused.

use rmcp::model::{
    ElicitRequest, ElicitRequestParams, ElicitResult, ElicitationAction, InputRequest, InputRequests,
    InputRequiredResult, InputResponses, ProtocolVersion,
};
use rmcp::service::{Peer, RequestContext, RoleServer};
use serde_json::{json, Value};
use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// How long the client's user has to answer an approval request.
pub const ELICIT_TIMEOUT: Duration = Duration::from_secs(600);
/// How long a deferred approval (protocol 2026-07-28) waits for the client's retry.
pub const PENDING_TTL: Duration = Duration::from_secs(600);
/// Most deferred approvals kept at once (the oldest go first).
const MAX_PENDING: usize = 4096;

/// The user's answer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Decision {
    /// Accepted: the call runs once.
    Approved,
    /// Declined: nothing runs.
    Declined,
    /// Dismissed without a choice: nothing runs.
    Cancelled,
    /// The client could not be asked or gave no usable answer: nothing runs.
    Failed(String),
}

impl Decision {
    /// The word audit records and messages use.
    pub fn word(&self) -> &'static str {
        match self {
            Decision::Approved => "approved",
            Decision::Declined => "declined",
            Decision::Cancelled => "cancelled",
            Decision::Failed(_) => "not answered",
        }
    }
}

/// How this request's client can be asked.
pub enum Asker {
    /// With an `elicitation/create` request while the call waits.
    Inline(Peer<RoleServer>),
    /// With an `InputRequiredResult` the client answers by retrying the call.
    Deferred,
    /// Not at all: the client did not declare the elicitation capability.
    Unable,
}

impl Asker {
    /// What the request's protocol version and the client's capabilities allow.
    pub fn of(ctx: &RequestContext<RoleServer>) -> Self {
        let form = ctx
            .client_capabilities()
            .and_then(|c| c.elicitation)
            .is_some_and(|e| e.form.is_some() || e.url.is_none());
        if !form {
            return Asker::Unable;
        }
        let modern =
            ctx.protocol_version().is_some_and(|v| v.as_str() >= ProtocolVersion::V_2026_07_28.as_str());
        if modern {
            Asker::Deferred
        } else {
            Asker::Inline(ctx.peer.clone())
        }
    }
}

/// The form shown to the client's user: the message and one optional `approve` checkbox
/// (accepting without it approves).
pub fn elicit_params(message: String) -> ElicitRequestParams {
    let schema = serde_json::from_value(json!({
        "type": "object",
        "properties": {"approve": {
            "type": "boolean",
            "title": "Approve",
            "description": "Run this tool call once (uncheck or decline to run nothing)",
            "default": true
        }}
    }))
    .expect("a valid elicitation schema");
    ElicitRequestParams::FormElicitationParams { meta: None, message, requested_schema: schema }
}

/// Asks now, over `peer`, and waits for the answer.
pub async fn elicit_inline(peer: &Peer<RoleServer>, message: String) -> Decision {
    match peer.create_elicitation_with_timeout(elicit_params(message), Some(ELICIT_TIMEOUT)).await {
        Ok(r) => decision_of(&r),
        Err(e) => Decision::Failed(format!("the MCP client did not answer the approval request: {e}")),
    }
}

/// The decision an elicitation result carries.
pub fn decision_of(r: &ElicitResult) -> Decision {
    match r.action {
        ElicitationAction::Accept => {
            if r.content.as_ref().and_then(|c| c.get("approve")).and_then(Value::as_bool) == Some(false) {
                Decision::Declined
            } else {
                Decision::Approved
            }
        }
        ElicitationAction::Decline => Decision::Declined,
        ElicitationAction::Cancel => Decision::Cancelled,
        _ => Decision::Failed("the MCP client answered the approval request with an unknown action".into()),
    }
}

/// The decision in a retried call's `inputResponses` under `key`.
pub fn decision_in(responses: &InputResponses, key: &str) -> Decision {
    match responses.get(key) {
        None => Decision::Failed(format!("the retried call carries no answer for `{key}` in inputResponses")),
        Some(v) => match serde_json::from_value::<ElicitResult>(v.clone()) {
            Ok(r) => decision_of(&r),
            Err(e) => Decision::Failed(format!("the answer for `{key}` is not an elicitation result: {e}")),
        },
    }
}

/// An `InputRequiredResult` asking each `(key, message)` and naming the waiting call `token`.
pub fn input_required(token: String, asks: Vec<(String, String)>) -> InputRequiredResult {
    let requests: InputRequests = asks
        .into_iter()
        .map(|(k, m)| (k, InputRequest::Elicitation(ElicitRequest::new(elicit_params(m)))))
        .collect();
    InputRequiredResult::new(Some(requests), Some(token))
}

/// A tool call an agent paused on, waiting for a human.
#[derive(Debug, Clone, PartialEq)]
pub struct PausedCall {
    /// Function call id (what `Runner::approve` takes).
    pub id: String,
    /// The agent that wants to call it.
    pub agent: String,
    /// The tool.
    pub tool: String,
    /// Its arguments.
    pub args: Value,
}

/// What a deferred approval resumes.
#[derive(Debug, Clone, PartialEq)]
pub enum Waiting {
    /// A direct call of a tool with these arguments.
    Tool {
        /// The tool.
        name: String,
        /// Its arguments, which the retry must repeat.
        args: Value,
    },
    /// An `ask_<agent>` run paused on these calls.
    Ask {
        /// The agent asked.
        agent: String,
        /// Its session.
        session: String,
        /// The calls waiting for a decision.
        calls: Vec<PausedCall>,
    },
}

struct Pending {
    user: String,
    waiting: Waiting,
    at: Instant,
}

/// Deferred approvals by their random handle, shared by every MCP session of a server.
#[derive(Default)]
pub struct PendingStore {
    map: Mutex<HashMap<String, Pending>>,
}

impl PendingStore {
    /// Keeps `waiting` for `user` and returns its handle.
    pub fn put(&self, user: &str, waiting: Waiting) -> String {
        let token = format!("vana-approval-{}", uuid::Uuid::new_v4().simple());
        let mut map = self.map.lock().unwrap_or_else(|e| e.into_inner());
        map.retain(|_, p| p.at.elapsed() < PENDING_TTL);
        if map.len() >= MAX_PENDING {
            if let Some(oldest) = map.iter().min_by_key(|(_, p)| p.at).map(|(k, _)| k.clone()) {
                map.remove(&oldest);
            }
        }
        map.insert(token.clone(), Pending { user: user.into(), waiting, at: Instant::now() });
        token
    }

    /// Takes (once) what `token` names, if it belongs to `user` and has not expired.
    pub fn take(&self, token: &str, user: &str) -> Result<Waiting, String> {
        let unknown = || {
            format!(
                "the approval this call answers is unknown, expired (after {} s) or already used; nothing ran: call the tool again",
                PENDING_TTL.as_secs()
            )
        };
        let mut map = self.map.lock().unwrap_or_else(|e| e.into_inner());
        match map.get(token) {
            Some(p) if p.user == user && p.at.elapsed() < PENDING_TTL => {}
            _ => return Err(unknown()),
        }
        map.remove(token).map(|p| p.waiting).ok_or_else(unknown)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_deferred_approval_is_taken_once_and_only_by_its_user() {
        let store = PendingStore::default();
        let w = Waiting::Tool { name: "execute_sql_write".into(), args: json!({"sql": "x"}) };
        let t = store.put("alice", w.clone());
        assert!(store.take(&t, "bob").is_err());
        assert_eq!(store.take(&t, "alice").unwrap(), w);
        assert!(store.take(&t, "alice").unwrap_err().contains("already used"));
        assert!(store.take("vana-approval-forged", "alice").is_err());
    }

    #[test]
    fn accepting_approves_unless_the_box_is_unchecked() {
        let accept = |c: Option<Value>| {
            let mut r = ElicitResult::new(ElicitationAction::Accept);
            r.content = c;
            decision_of(&r)
        };
        assert_eq!(accept(None), Decision::Approved);
        assert_eq!(accept(Some(json!({"approve": true}))), Decision::Approved);
        assert_eq!(accept(Some(json!({"approve": false}))), Decision::Declined);
        assert_eq!(decision_of(&ElicitResult::new(ElicitationAction::Decline)), Decision::Declined);
        assert_eq!(decision_of(&ElicitResult::new(ElicitationAction::Cancel)), Decision::Cancelled);
        let none = InputResponses::new();
        assert!(matches!(decision_in(&none, "approve"), Decision::Failed(_)));
    }
}
