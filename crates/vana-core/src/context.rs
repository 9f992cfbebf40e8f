//! The invocation context: what every agent of one invocation shares (session log, emitter,
//! limits, counters) and where in the agent tree it runs.

use crate::agent::Agent;
use crate::callbacks::{Callback, CallbackContext};
use crate::event::{Event, JsonMap};
use crate::runner::RunConfig;
use crate::session::{apply_state_delta, SessionStore, StoreError};
use std::sync::atomic::{AtomicU32, AtomicU64, Ordering};
use std::sync::Arc;
use tokio::sync::{mpsc, Mutex};
use tokio_util::sync::CancellationToken;

/// The session as one invocation sees it: state, recent events, version.
#[derive(Debug, Clone)]
pub(crate) struct SessionLog {
    pub state: JsonMap,
    pub events: Vec<Arc<Event>>,
    pub version: u64,
}

/// State shared by every agent of one invocation.
pub(crate) struct Shared {
    pub invocation_id: String,
    pub app_name: String,
    pub user_id: String,
    pub session_id: String,
    pub log: Mutex<SessionLog>,
    pub store: Arc<dyn SessionStore>,
    pub out: mpsc::Sender<Event>,
    pub cancel: CancellationToken,
    pub config: RunConfig,
    pub callbacks: Vec<Arc<dyn Callback>>,
    pub transfers: AtomicU32,
    pub model_calls: AtomicU32,
    pub tokens_used: AtomicU64,
    pub stream: bool,
}

/// Where an agent runs within an invocation: shared state plus its own path and branch.
#[derive(Clone)]
pub struct InvocationContext {
    pub(crate) shared: Arc<Shared>,
    /// Delegation path, e.g. `vana/data_science`.
    pub agent_path: String,
    /// Event-log branch (`None` is the main line).
    pub branch: Option<String>,
    /// When set, the agent sees only events of its own branch (agent-as-tool children).
    pub isolated: bool,
    /// The parent agent (for transfers back up).
    pub parent: Option<Arc<dyn Agent>>,
}

impl std::fmt::Debug for InvocationContext {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("InvocationContext")
            .field("invocation_id", &self.shared.invocation_id)
            .field("agent_path", &self.agent_path)
            .field("branch", &self.branch)
            .finish()
    }
}

/// Why emitting an event failed: the store refused it.
#[derive(Debug, thiserror::Error)]
#[error("could not persist event: {0}")]
pub struct EmitError(#[from] pub StoreError);

impl InvocationContext {
    /// Invocation id.
    pub fn invocation_id(&self) -> &str {
        &self.shared.invocation_id
    }
    /// Session id.
    pub fn session_id(&self) -> &str {
        &self.shared.session_id
    }
    /// User id.
    pub fn user_id(&self) -> &str {
        &self.shared.user_id
    }
    /// App name.
    pub fn app_name(&self) -> &str {
        &self.shared.app_name
    }
    /// The run's settings.
    pub fn config(&self) -> &RunConfig {
        &self.shared.config
    }
    /// Cancelled when the invocation is cancelled.
    pub fn cancel_token(&self) -> &CancellationToken {
        &self.shared.cancel
    }
    /// True when the client asked for token-level partial events.
    pub fn streaming(&self) -> bool {
        self.shared.stream
    }

    /// Context for a child agent: path extended, same branch, this agent as parent.
    pub fn child(&self, parent: Arc<dyn Agent>, child_name: &str) -> Self {
        InvocationContext {
            shared: self.shared.clone(),
            agent_path: format!("{}/{}", self.agent_path, child_name),
            branch: self.branch.clone(),
            isolated: self.isolated,
            parent: Some(parent),
        }
    }

    /// Context for a child on its own branch (parallel branches, agent-as-tool).
    pub fn child_on_branch(&self, parent: Option<Arc<dyn Agent>>, segment: &str, isolated: bool) -> Self {
        let name = segment.rsplit('.').next().unwrap_or(segment);
        let name = name.split('#').next().unwrap_or(name);
        let mut c = InvocationContext {
            shared: self.shared.clone(),
            agent_path: format!("{}/{}", self.agent_path, name),
            branch: None,
            isolated,
            parent,
        };
        c.branch = Some(match &self.branch {
            Some(b) => format!("{b}.{segment}"),
            None => segment.to_string(),
        });
        c
    }

    /// The callback context for the agent at this path.
    pub fn callback_context(&self, agent_name: &str) -> CallbackContext {
        CallbackContext {
            agent_name: agent_name.to_string(),
            agent_path: self.agent_path.clone(),
            invocation_id: self.shared.invocation_id.clone(),
            session_id: self.shared.session_id.clone(),
            user_id: self.shared.user_id.clone(),
        }
    }

    /// Global callbacks of the run.
    pub fn callbacks(&self) -> &[Arc<dyn Callback>] {
        &self.shared.callbacks
    }

    /// A new event of this invocation, authored by `author`, on this branch and path.
    pub fn new_event(&self, author: &str) -> Event {
        let mut e = Event::new(self.shared.invocation_id.clone(), author);
        e.branch = self.branch.clone();
        e.agent_path = self.agent_path.clone();
        e
    }

    /// Persists (unless partial) and streams an event. Persisting happens before the event is
    /// sent, so everything a client sees is durable.
    pub async fn emit(&self, event: Event) -> Result<(), EmitError> {
        if !event.is_partial() {
            let mut log = self.shared.log.lock().await;
            let version = self
                .shared
                .store
                .append_event(
                    &self.shared.app_name,
                    &self.shared.user_id,
                    &self.shared.session_id,
                    log.version,
                    &event,
                )
                .await?;
            log.version = version;
            apply_state_delta(&mut log.state, &event.actions.state_delta, false);
            log.events.push(Arc::new(event.clone()));
        }
        // A client that went away does not stop the run: its events are persisted all the same.
        let _ = self.shared.out.send(event).await;
        Ok(())
    }

    /// Streams an event without persisting it (used only when persisting failed).
    pub(crate) async fn send_only(&self, event: Event) {
        let _ = self.shared.out.send(event).await;
    }

    /// Snapshot of the session state.
    pub async fn state(&self) -> JsonMap {
        self.shared.log.lock().await.state.clone()
    }

    /// Snapshot of the events this agent may see (its branch rules applied).
    pub async fn visible_events(&self) -> Vec<Arc<Event>> {
        let log = self.shared.log.lock().await;
        log.events.iter().filter(|e| self.can_see(e)).cloned().collect()
    }

    /// Branch visibility: the main line and ancestors of this branch are visible; with
    /// `isolated`, only this branch and its descendants.
    pub fn can_see(&self, e: &Event) -> bool {
        match (&self.branch, &e.branch) {
            (_, None) => !self.isolated,
            (None, Some(_)) => false,
            (Some(mine), Some(theirs)) => {
                let related = |a: &str, b: &str| a == b || a.starts_with(&format!("{b}."));
                if self.isolated {
                    related(theirs, mine)
                } else {
                    related(mine, theirs)
                }
            }
        }
    }

    /// Counts one model call; returns the count so far.
    pub(crate) fn count_model_call(&self) -> u32 {
        self.shared.model_calls.fetch_add(1, Ordering::SeqCst) + 1
    }

    /// Counts one transfer; returns the count so far.
    pub(crate) fn count_transfer(&self) -> u32 {
        self.shared.transfers.fetch_add(1, Ordering::SeqCst) + 1
    }

    /// Tokens used so far in this invocation.
    pub fn tokens_used(&self) -> u64 {
        self.shared.tokens_used.load(Ordering::SeqCst)
    }

    pub(crate) fn add_tokens(&self, n: u64) {
        self.shared.tokens_used.fetch_add(n, Ordering::SeqCst);
    }
}
