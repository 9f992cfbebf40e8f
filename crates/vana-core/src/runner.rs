//! The runner: starts invocations on a session, streams their events, and resumes paused ones.

use crate::agent::{Agent, Outcome, Start, CONFIRMATION_CALL};
use crate::callbacks::Callback;
use crate::context::{InvocationContext, SessionLog, Shared};
use crate::event::{new_id, Content, Event, FunctionResponse, Part};
use crate::session::{EventWindow, Session, SessionStore, StoreError};
use crate::session_cache::SessionCache;
use serde_json::json;
use std::collections::HashMap;
use std::sync::atomic::{AtomicU32, AtomicU64};
use std::sync::{Arc, Mutex as StdMutex, Weak};
use std::time::Duration;
use tokio::sync::{mpsc, Mutex, OwnedMutexGuard};
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;

/// Limits and settings of every invocation a runner starts.
#[derive(Debug, Clone)]
pub struct RunConfig {
    /// Most transfers between agents in one invocation before the loop guard stops it.
    pub max_transfers: u32,
    /// Most model calls in one invocation (all agents together) before it is stopped.
    pub max_model_calls: u32,
    /// Deadline of a tool call when the tool names none.
    pub tool_timeout: Duration,
    /// Tokens one invocation may use; checked before each model call.
    pub token_budget: Option<u64>,
    /// How many of a session's most recent events are loaded as context.
    pub max_history_events: usize,
    /// Events buffered for a slow client before the run waits for it.
    pub event_buffer: usize,
    /// Estimated bytes of recently used sessions' history windows kept in memory (0 disables
    /// the cache); the least recently used go first.
    pub session_cache_bytes: usize,
    /// When a specialist that was handed the task answers, give its parent another turn (a
    /// recap). Off (ADK's behaviour): the specialist's answer is the reply and ends the
    /// invocation; its parent runs again only when the specialist transfers back.
    pub return_to_parent: bool,
}

impl Default for RunConfig {
    fn default() -> Self {
        RunConfig {
            max_transfers: 10,
            max_model_calls: 100,
            tool_timeout: Duration::from_secs(120),
            token_budget: None,
            max_history_events: 400,
            event_buffer: 256,
            session_cache_bytes: 64 << 20,
            return_to_parent: false,
        }
    }
}

/// Why an invocation could not start.
#[derive(Debug, thiserror::Error)]
pub enum RunError {
    /// No such session for this app and user.
    #[error("session {0} not found (create it first, or list sessions with `vana sessions list`)")]
    SessionNotFound(String),
    /// The store failed.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// Some paused tool calls still wait for a decision.
    #[error("still waiting for a decision on tool call(s): {}", .0.join(", "))]
    AwaitingDecisions(Vec<String>),
    /// The session has no paused invocation.
    #[error("session {0} has no paused invocation to resume")]
    NothingToResume(String),
    /// The call id is not a pending approval of this session.
    #[error("no tool call {call} awaits approval in session {session}")]
    UnknownCall {
        /// Session id.
        session: String,
        /// Call id given.
        call: String,
    },
    /// The paused agent is not in this runner's tree.
    #[error("agent `{0}` of the paused invocation is not part of this app")]
    AgentNotFound(String),
}

/// A running invocation: its id and its stream of events.
pub struct Invocation {
    /// Invocation id.
    pub id: String,
    events: mpsc::Receiver<Event>,
    handle: JoinHandle<Outcome>,
    cancel: CancellationToken,
}

impl Invocation {
    /// The next event, or `None` when the invocation finished.
    pub async fn next(&mut self) -> Option<Event> {
        self.events.recv().await
    }

    /// Cancels the invocation; running tools get their cancellation token fired.
    pub fn cancel(&self) {
        self.cancel.cancel();
    }

    /// Waits for the end, collecting the remaining events.
    pub async fn collect(mut self) -> (Vec<Event>, Outcome) {
        let mut out = Vec::new();
        while let Some(e) = self.events.recv().await {
            out.push(e);
        }
        let outcome = self.handle.await.unwrap_or(Outcome::Ended);
        (out, outcome)
    }

    /// Waits for the end and returns how the invocation ended.
    pub async fn outcome(self) -> Outcome {
        self.collect().await.1
    }
}

/// Runs an agent tree over a session store.
pub struct Runner {
    app_name: String,
    root: Arc<dyn Agent>,
    store: Arc<dyn SessionStore>,
    config: RunConfig,
    callbacks: Vec<Arc<dyn Callback>>,
    locks: StdMutex<HashMap<String, Weak<Mutex<()>>>>,
    cache: Arc<SessionCache>,
}

impl Runner {
    /// A runner for the app named after `root`.
    pub fn new(root: Arc<dyn Agent>, store: Arc<dyn SessionStore>) -> Self {
        Runner {
            app_name: root.name().to_string(),
            root,
            store,
            config: RunConfig::default(),
            callbacks: Vec::new(),
            locks: StdMutex::new(HashMap::new()),
            cache: Arc::new(SessionCache::new(RunConfig::default().session_cache_bytes)),
        }
    }

    /// Replaces the run settings.
    pub fn with_config(mut self, config: RunConfig) -> Self {
        self.cache = Arc::new(SessionCache::new(config.session_cache_bytes));
        self.config = config;
        self
    }

    /// Adds a callback applied to every agent.
    pub fn with_callback(mut self, cb: Arc<dyn Callback>) -> Self {
        self.callbacks.push(cb);
        self
    }

    /// The app name (sessions are scoped by it).
    pub fn app_name(&self) -> &str {
        &self.app_name
    }

    /// The root agent.
    pub fn root(&self) -> &Arc<dyn Agent> {
        &self.root
    }

    /// The session store.
    pub fn store(&self) -> &Arc<dyn SessionStore> {
        &self.store
    }

    /// Creates a session for this app.
    pub async fn create_session(&self, user_id: &str) -> Result<Session, StoreError> {
        self.store.create_session(&self.app_name, user_id, None, Default::default()).await
    }

    /// One invocation per session at a time: later ones wait for the running one.
    async fn session_lock(&self, session_id: &str) -> OwnedMutexGuard<()> {
        let lock = {
            let mut locks = self.locks.lock().unwrap_or_else(|e| e.into_inner());
            locks.retain(|_, w| w.strong_count() > 0);
            match locks.get(session_id).and_then(Weak::upgrade) {
                Some(l) => l,
                None => {
                    let l = Arc::new(Mutex::new(()));
                    locks.insert(session_id.to_string(), Arc::downgrade(&l));
                    l
                }
            }
        };
        lock.lock_owned().await
    }

    /// Loads a session's state and history window, checked against the store: the cached
    /// window when the store is still at its version, else read from the store.
    async fn load(&self, user_id: &str, session_id: &str) -> Result<SessionLog, RunError> {
        if let Some(cached) = self.cache.get(user_id, session_id) {
            let head =
                self.store.get_session(&self.app_name, user_id, session_id, EventWindow::Last(0)).await?;
            match head {
                Some(head) if head.version == cached.version => return Ok(cached),
                _ => self.cache.remove(user_id, session_id),
            }
        }
        self.read(user_id, session_id).await
    }

    /// Reads a session's state and history window from the store.
    async fn read(&self, user_id: &str, session_id: &str) -> Result<SessionLog, RunError> {
        let session = self
            .store
            .get_session(
                &self.app_name,
                user_id,
                session_id,
                EventWindow::Last(self.config.max_history_events),
            )
            .await?
            .ok_or_else(|| RunError::SessionNotFound(session_id.to_string()))?;
        let events = session.events.into_iter().map(Arc::new).collect();
        Ok(SessionLog { state: session.state, events, version: session.version })
    }

    /// Keeps the session's history in the cache after an invocation.
    fn remember(cache: &SessionCache, shared: &Shared, log: &SessionLog, window: usize) {
        cache.put(&shared.user_id, &shared.session_id, log.clone(), window);
    }

    /// Forgets this process's cached copy of a session (call it when the session is deleted).
    pub fn forget(&self, user_id: &str, session_id: &str) {
        self.cache.remove(user_id, session_id);
    }

    fn shared(
        &self,
        invocation_id: String,
        user_id: &str,
        session_id: &str,
        log: SessionLog,
        stream: bool,
    ) -> (Arc<Shared>, mpsc::Receiver<Event>) {
        let (tx, rx) = mpsc::channel(self.config.event_buffer);
        let tokens: u64 = log
            .events
            .iter()
            .filter(|e| e.invocation_id == invocation_id)
            .filter_map(|e| e.usage_metadata.map(|u| u.total_token_count))
            .sum();
        let shared = Arc::new(Shared {
            invocation_id,
            app_name: self.app_name.clone(),
            user_id: user_id.to_string(),
            session_id: session_id.to_string(),
            log: Mutex::new(log),
            store: self.store.clone(),
            out: tx,
            cancel: CancellationToken::new(),
            config: self.config.clone(),
            callbacks: self.callbacks.clone(),
            transfers: AtomicU32::new(0),
            model_calls: AtomicU32::new(0),
            tokens_used: AtomicU64::new(tokens),
            stream,
        });
        (shared, rx)
    }

    fn root_context(&self, shared: Arc<Shared>) -> InvocationContext {
        InvocationContext {
            shared,
            agent_path: self.root.name().to_string(),
            branch: None,
            isolated: false,
            parent: None,
        }
    }

    /// Starts an invocation: persists the user's message, then runs the root agent. When this
    /// returns `Ok`, the message is durable.
    pub async fn run(
        &self,
        user_id: &str,
        session_id: &str,
        mut message: Content,
        stream: bool,
    ) -> Result<Invocation, RunError> {
        let guard = self.session_lock(session_id).await;
        // A cached session is used without asking the store; the append of the user's message
        // proves it current (it expects the cached version), else the session is read afresh.
        let mut cached = self.cache.get(user_id, session_id);
        let (shared, rx, ctx) = loop {
            let from_cache = cached.is_some();
            let log = match cached.take() {
                Some(log) => log,
                None => self.read(user_id, session_id).await?,
            };
            let untitled = crate::session::title_of(&log.state).is_none();
            let (shared, rx) = self.shared(new_id(), user_id, session_id, log, stream);
            let ctx = self.root_context(shared.clone());
            let mut user_event = ctx.new_event("user");
            user_event.agent_path = String::new();
            // Only an attempt on a cached session may be retried, so only it needs a copy.
            let parts = if from_cache { message.parts.clone() } else { std::mem::take(&mut message.parts) };
            user_event.content = Some(Content { role: "user".into(), parts });
            // A session without a title takes one from its first message with text.
            if let Some(title) = untitled.then(|| crate::session::title_from(&user_event.text())).flatten() {
                user_event.actions.state_delta.insert(crate::session::TITLE_KEY.into(), title.into());
            }
            match ctx.emit(user_event).await {
                Ok(()) => break (shared, rx, ctx),
                Err(e)
                    if from_cache && matches!(e.0, StoreError::Conflict { .. } | StoreError::NotFound(_)) =>
                {
                    self.cache.remove(user_id, session_id);
                }
                Err(e) => return Err(RunError::Store(e.0)),
            }
        };
        let root = self.root.clone();
        let (cache, window) = (self.cache.clone(), self.config.max_history_events);
        let handle = tokio::spawn(async move {
            let _guard = guard;
            let shared = ctx.shared.clone();
            let outcome = root.run(root.clone(), ctx, Start::Fresh).await;
            Self::remember(&cache, &shared, &*shared.log.lock().await, window);
            outcome
        });
        Ok(Invocation { id: shared.invocation_id.clone(), events: rx, handle, cancel: shared.cancel.clone() })
    }

    /// Records a human decision on a paused tool call. When it was the last decision the
    /// pause waited for, the invocation resumes and is returned.
    pub async fn approve(
        &self,
        user_id: &str,
        session_id: &str,
        call_id: &str,
        approved: bool,
    ) -> Result<Option<Invocation>, RunError> {
        {
            let _guard = self.session_lock(session_id).await;
            let SessionLog { state, events, version } = self.load(user_id, session_id).await?;
            let pause = last_pause(&events).ok_or_else(|| RunError::NothingToResume(session_id.into()))?;
            if !pause.actions.requested_tool_confirmations.contains_key(call_id) || answered(&events, call_id)
            {
                return Err(RunError::UnknownCall { session: session_id.into(), call: call_id.into() });
            }
            let mut e = Event::new(pause.invocation_id.clone(), "user");
            e.branch = pause.branch.clone();
            e.content = Some(Content {
                role: "user".into(),
                parts: vec![Part::function_response(FunctionResponse {
                    id: Some(call_id.into()),
                    name: CONFIRMATION_CALL.into(),
                    response: json!({ "confirmed": approved }),
                })],
            });
            let version = self.store.append_event(&self.app_name, user_id, session_id, version, &e).await?;
            let mut events = events;
            events.push(Arc::new(e));
            let log = SessionLog { state, events, version };
            self.cache.put(user_id, session_id, log, self.config.max_history_events);
        }
        match self.resume(user_id, session_id).await {
            Ok(inv) => Ok(Some(inv)),
            Err(RunError::AwaitingDecisions(_)) => Ok(None),
            Err(e) => Err(e),
        }
    }

    /// Continues a paused invocation whose tool calls all have decisions (also after a crash:
    /// approved calls that already ran are not run again).
    pub async fn resume(&self, user_id: &str, session_id: &str) -> Result<Invocation, RunError> {
        let guard = self.session_lock(session_id).await;
        let loaded = self.load(user_id, session_id).await?;
        let events = &loaded.events;
        let pause = last_pause(events).ok_or_else(|| RunError::NothingToResume(session_id.into()))?.clone();
        let ids: Vec<&String> = pause.actions.requested_tool_confirmations.keys().collect();
        if ids.iter().all(|id| answered(events, id)) {
            return Err(RunError::NothingToResume(session_id.into()));
        }
        let waiting: Vec<String> = ids
            .iter()
            .filter(|id| crate::agent::decision(events, id) == crate::agent::Decision::Pending)
            .map(|s| s.to_string())
            .collect();
        if !waiting.is_empty() {
            return Err(RunError::AwaitingDecisions(waiting));
        }
        // Walk the agent path of the paused agent down from the root.
        let names: Vec<String> = pause.agent_path.split('/').map(str::to_string).collect();
        if names.first().map(String::as_str) != Some(self.root.name()) {
            return Err(RunError::AgentNotFound(pause.agent_path.clone()));
        }
        let mut chain = vec![self.root.clone()];
        for name in &names[1..] {
            let next = chain
                .last()
                .and_then(|a| a.sub_agents().iter().find(|s| s.name() == name).cloned())
                .ok_or_else(|| RunError::AgentNotFound(name.to_string()))?;
            chain.push(next);
        }
        let (shared, rx) = self.shared(pause.invocation_id.clone(), user_id, session_id, loaded, false);
        let root_ctx = self.root_context(shared.clone());
        let mut contexts = vec![root_ctx];
        for pair in chain.windows(2) {
            let mut c = contexts.last().expect("root context").child(pair[0].clone(), pair[1].name());
            if !pair[0].resumable() {
                c.parent = None;
            }
            contexts.push(c);
        }
        if let Some(last) = contexts.last_mut() {
            last.branch = pause.branch.clone();
        }
        let depth = names.len();
        let (cache, window, inner) = (self.cache.clone(), self.config.max_history_events, shared.clone());
        let handle = tokio::spawn(async move {
            let _guard = guard;
            let mut outcome = Outcome::Done;
            for (i, (agent, ctx)) in chain.iter().zip(contexts).enumerate().rev() {
                let start =
                    if i == depth - 1 { Start::ResumePending } else { Start::AfterChild(outcome.clone()) };
                if i != depth - 1 && !agent.resumable() {
                    break;
                }
                outcome = agent.run(agent.clone(), ctx, start).await;
            }
            Self::remember(&cache, &inner, &*inner.log.lock().await, window);
            outcome
        });
        Ok(Invocation { id: shared.invocation_id.clone(), events: rx, handle, cancel: shared.cancel.clone() })
    }
}

/// The last event that asked for tool approvals.
fn last_pause(events: &[Arc<Event>]) -> Option<&Arc<Event>> {
    events.iter().rev().find(|e| !e.actions.requested_tool_confirmations.is_empty())
}

/// True when an agent already answered call `id` (it ran, was denied, or failed).
fn answered(events: &[Arc<Event>], id: &str) -> bool {
    events.iter().any(|e| {
        e.author != "user"
            && e.function_responses()
                .iter()
                .any(|r| r.id.as_deref() == Some(id) && r.name != CONFIRMATION_CALL)
    })
}
