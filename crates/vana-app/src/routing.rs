//! The semantic router in front of the orchestrator, as a model callback: on the first model
//! turn of an invocation it embeds the user's request and, when it is confident, answers in the
//! model's place with a `transfer_to_agent` call to the nearest specialist (mode `first`); or it
//! records its choice beside the model's own (mode `shadow`). The choice travels in the call's
//! arguments (`router`), so it is streamed, stored and audited with the transfer.

use crate::config::{RouterConfig, RouterMode};
use async_trait::async_trait;
use serde_json::{json, Value};
use std::collections::{BTreeMap, HashMap};
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use tokio::sync::OnceCell;
use vana_core::agent::TRANSFER_TOOL;
use vana_core::availability::ToolAvailability;
use vana_core::{Callback, CallbackContext, Content, FunctionCall, LlmRequest, LlmResponse, Part};
use vana_router::{AgentProfile, Embedder, RouteDecision, Router};

/// The routing candidates: the orchestrator `root` (it keeps the tasks nearest to its own
/// examples) and the agents it can transfer to, with their descriptions and examples.
pub fn profiles(catalog: &vana_core::catalog::Catalog, root: &str) -> Vec<AgentProfile> {
    let Some((spec, _)) = catalog.get(root) else { return Vec::new() };
    std::iter::once(spec)
        .chain(spec.sub_agents.iter().filter_map(|n| catalog.get(n).map(|(s, _)| s)))
        .map(|s| AgentProfile {
            name: s.name.clone(),
            description: s.description.clone(),
            examples: s.examples.clone(),
        })
        .collect()
}

/// The router, loaded on first use and shared by every runner of the app.
pub struct SharedRouter {
    profiles: Vec<AgentProfile>,
    models_dir: PathBuf,
    threshold: Option<f32>,
    router: OnceCell<Result<Arc<Router>, String>>,
}

impl SharedRouter {
    /// A router over these agents (the orchestrator first), loading its model from `models_dir`.
    pub fn new(profiles: Vec<AgentProfile>, models_dir: PathBuf, threshold: Option<f32>) -> Self {
        SharedRouter { profiles, models_dir, threshold, router: OnceCell::new() }
    }

    /// The loaded router (provisions the embedding model on first use).
    pub async fn get(&self) -> Result<Arc<Router>, String> {
        let (profiles, dir, threshold) = (self.profiles.clone(), self.models_dir.clone(), self.threshold);
        self.router
            .get_or_init(|| async move {
                tokio::task::spawn_blocking(move || {
                    let files =
                        vana_assets::ensure(&vana_assets::MINILM_L6_V2, &dir).map_err(|e| e.to_string())?;
                    let embedder = Arc::new(Embedder::load(&files).map_err(|e| e.to_string())?);
                    let mut router = Router::new(embedder, &profiles);
                    if let Some(root) = profiles.first() {
                        router = router.with_fallback(root.name.clone());
                    }
                    if let Some(t) = threshold {
                        router = router.with_threshold(t);
                    }
                    Ok(Arc::new(router))
                })
                .await
                .unwrap_or_else(|e| Err(format!("router start-up failed: {e}")))
            })
            .await
            .clone()
    }

    /// Routes one request off the async runtime.
    pub async fn route(&self, text: String) -> Result<RouteDecision, String> {
        let router = self.get().await?;
        tokio::task::spawn_blocking(move || router.route(&text)).await.map_err(|e| e.to_string())
    }
}

/// The callback installed on runners whose root is the orchestrator.
pub struct RoutingCallback {
    root: String,
    mode: RouterMode,
    router: Arc<SharedRouter>,
    /// Invocations already routed, with the router's choice (for shadow mode's comparison).
    seen: Mutex<HashMap<String, Option<RouteDecision>>>,
    /// Specialists with none of their tools here: never handed a task.
    unavailable: BTreeMap<String, ToolAvailability>,
}

impl RoutingCallback {
    /// Routes for `root` (the orchestrator) in `config`'s mode.
    pub fn new(root: impl Into<String>, config: &RouterConfig, router: Arc<SharedRouter>) -> Self {
        RoutingCallback {
            root: root.into(),
            mode: config.mode,
            router,
            seen: Mutex::default(),
            unavailable: BTreeMap::new(),
        }
    }

    /// Never hands a task to these agents (they have none of their tools); when one is the
    /// confident choice, the orchestrator answers which specialist would fit and what it lacks.
    pub fn with_unavailable(mut self, unavailable: BTreeMap<String, ToolAvailability>) -> Self {
        self.unavailable = unavailable;
        self
    }

    fn effective_mode(&self, model: &str) -> RouterMode {
        match self.mode {
            RouterMode::Auto if vana_local::is_local_model(model) => RouterMode::First,
            RouterMode::Auto => RouterMode::Off,
            m => m,
        }
    }

    /// True once per invocation: the orchestrator's first model turn is the one to route.
    fn first_turn(&self, invocation: &str) -> bool {
        let mut seen = self.seen.lock().unwrap_or_else(|e| e.into_inner());
        if seen.len() > 10_000 {
            seen.clear();
        }
        if seen.contains_key(invocation) {
            return false;
        }
        seen.insert(invocation.to_string(), None);
        true
    }
}

/// The user's request: the text of the last user message of the conversation.
fn request_text(request: &LlmRequest) -> Option<String> {
    let last = request.contents.last().filter(|c| c.role == "user")?;
    if last.parts.iter().any(|p| p.function_response.is_some()) {
        return None;
    }
    let text = last.text();
    (!text.trim().is_empty()).then_some(text)
}

fn decision_json(d: &RouteDecision) -> Value {
    json!({
        "agent": d.agent,
        "score": d.score,
        "confident": d.confident,
        "runnerUp": d.runner_up.as_ref().map(|(a, s)| json!({"agent": a, "score": s})),
        "ms": d.elapsed.as_secs_f64() * 1000.0,
    })
}

#[async_trait]
impl Callback for RoutingCallback {
    async fn before_model(&self, ctx: &CallbackContext, request: &mut LlmRequest) -> Option<LlmResponse> {
        let mode = self.effective_mode(&request.model);
        if mode == RouterMode::Off {
            return None;
        }
        let can_transfer = request.tools.iter().any(|t| t.name == TRANSFER_TOOL);
        if vana_local::is_local_model(&request.model) && mode == RouterMode::First {
            // A small local model must not route, in any agent: the router hands tasks to the
            // specialists, and control returns to the orchestrator when a specialist is done.
            request.tools.retain(|t| t.name != TRANSFER_TOOL);
        }
        if ctx.agent_name != self.root || !can_transfer || !self.first_turn(&ctx.invocation_id) {
            return None;
        }
        let text = request_text(request)?;
        let decision = match self.router.route(text).await {
            Ok(d) => d,
            Err(e) => {
                tracing::warn!("semantic router unavailable, the orchestrator's model decides: {e}");
                return None;
            }
        };
        tracing::info!(agent = %decision.agent, score = decision.score, confident = decision.confident, "routed");
        if mode == RouterMode::Shadow {
            self.seen
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .insert(ctx.invocation_id.clone(), Some(decision));
            return None;
        }
        if !decision.confident || decision.agent == self.root {
            return None;
        }
        if let Some(lacks) = self.unavailable.get(&decision.agent) {
            let text = format!(
                "This is a task for the `{}` specialist, but none of its tools is available in this installation \
                 (it lacks {}), so I cannot do it with real tools. I will not make up their results.",
                decision.agent,
                lacks.missing_list()
            );
            return Some(LlmResponse {
                content: Some(Content { role: "model".into(), parts: vec![Part::text(text)] }),
                partial: false,
                turn_complete: true,
                usage: None,
                finish_reason: Some("routed".into()),
            });
        }
        let mut router = decision_json(&decision);
        router["decidedBy"] = json!("router");
        let call = FunctionCall {
            id: None,
            name: TRANSFER_TOOL.into(),
            args: json!({"agent_name": decision.agent, "router": router}),
        };
        Some(LlmResponse {
            content: Some(Content { role: "model".into(), parts: vec![Part::function_call(call)] }),
            partial: false,
            turn_complete: true,
            usage: None,
            finish_reason: Some("routed".into()),
        })
    }

    async fn after_model(&self, ctx: &CallbackContext, response: &mut LlmResponse) {
        if ctx.agent_name != self.root {
            return;
        }
        let decision = self
            .seen
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .get_mut(&ctx.invocation_id)
            .and_then(Option::take);
        let (Some(decision), Some(content)) = (decision, response.content.as_mut()) else { return };
        for part in &mut content.parts {
            if let Some(call) = part.function_call.as_mut().filter(|c| c.name == TRANSFER_TOOL) {
                let chosen =
                    call.args.get("agent_name").and_then(Value::as_str).unwrap_or_default().to_string();
                let mut router = decision_json(&decision);
                router["decidedBy"] = json!("model");
                router["agreed"] = json!(chosen == decision.agent);
                call.args["router"] = router;
            }
        }
    }
}
