//! The model-driven agent: instruction + model + tools + sub-agents, run as a loop of model
//! turns and tool calls.

use crate::agent::tools::{decision_for, response_event, run_calls, Batch, Decision};
use crate::agent::{history, Agent, Outcome, Start, CONFIRMATION_CALL, TRANSFER_TOOL};
use crate::callbacks::Callback;
use crate::context::InvocationContext;
use crate::event::{new_call_id, Content, Event, EventActions, FunctionCall, FunctionResponse, Part, Timing};
use crate::model::{GenerationConfig, LlmRequest, LlmResponse, Model, ModelError, ToolDeclaration};
use crate::template;
use crate::tool::{declaration, Tool};
use async_trait::async_trait;
use futures::StreamExt;
use serde_json::{json, Value};
use std::sync::Arc;
use std::time::Instant;

/// An agent driven by a model: it answers, calls tools, or hands work to other agents.
pub struct LlmAgent {
    name: String,
    description: String,
    instruction: String,
    model: Arc<dyn Model>,
    tools: Vec<Arc<dyn Tool>>,
    /// The tools' declarations, built once (a tool's schema does not change).
    declarations: Vec<ToolDeclaration>,
    sub_agents: Vec<Arc<dyn Agent>>,
    output_key: Option<String>,
    callbacks: Vec<Arc<dyn Callback>>,
    generation: GenerationConfig,
}

/// Builds an [`LlmAgent`].
pub struct LlmAgentBuilder {
    agent: LlmAgent,
}

impl LlmAgentBuilder {
    /// What the agent is for.
    pub fn description(mut self, d: impl Into<String>) -> Self {
        self.agent.description = d.into();
        self
    }
    /// The system instruction; `{key}` placeholders are filled from session state.
    pub fn instruction(mut self, i: impl Into<String>) -> Self {
        self.agent.instruction = i.into();
        self
    }
    /// Adds a tool.
    pub fn tool(mut self, t: Arc<dyn Tool>) -> Self {
        self.agent.tools.push(t);
        self
    }
    /// Adds tools.
    pub fn tools(mut self, t: impl IntoIterator<Item = Arc<dyn Tool>>) -> Self {
        self.agent.tools.extend(t);
        self
    }
    /// Adds a sub-agent it may transfer to.
    pub fn sub_agent(mut self, a: Arc<dyn Agent>) -> Self {
        self.agent.sub_agents.push(a);
        self
    }
    /// Saves the final answer's text to this state key.
    pub fn output_key(mut self, k: impl Into<String>) -> Self {
        self.agent.output_key = Some(k.into());
        self
    }
    /// Adds a callback that applies to this agent only.
    pub fn callback(mut self, c: Arc<dyn Callback>) -> Self {
        self.agent.callbacks.push(c);
        self
    }
    /// Sampling settings.
    pub fn generation(mut self, g: GenerationConfig) -> Self {
        self.agent.generation = g;
        self
    }
    /// The agent.
    pub fn build(mut self) -> Arc<LlmAgent> {
        self.agent.declarations = self.agent.tools.iter().map(|t| declaration(t.as_ref())).collect();
        Arc::new(self.agent)
    }
}

/// What the run loop does after a step.
enum Step {
    Continue,
    Return(Outcome),
}

impl LlmAgent {
    /// Starts building an agent with a name and a model.
    pub fn builder(name: impl Into<String>, model: Arc<dyn Model>) -> LlmAgentBuilder {
        LlmAgentBuilder {
            agent: LlmAgent {
                name: name.into(),
                description: String::new(),
                instruction: String::new(),
                model,
                tools: Vec::new(),
                declarations: Vec::new(),
                sub_agents: Vec::new(),
                output_key: None,
                callbacks: Vec::new(),
                generation: GenerationConfig::default(),
            },
        }
    }

    /// The model this agent calls.
    pub fn model(&self) -> &Arc<dyn Model> {
        &self.model
    }

    /// The agent's own tools.
    pub fn tools(&self) -> &[Arc<dyn Tool>] {
        &self.tools
    }

    fn transfer_targets(&self, ctx: &InvocationContext) -> Vec<(String, String)> {
        let mut t: Vec<(String, String)> =
            self.sub_agents.iter().map(|a| (a.name().to_string(), a.description().to_string())).collect();
        if let Some(p) = &ctx.parent {
            t.push((p.name().to_string(), format!("your parent agent: {}", p.description())));
        }
        t
    }

    fn system_instruction(
        &self,
        rendered: String,
        targets: &[(String, String)],
        ctx: &InvocationContext,
    ) -> String {
        let mut s = rendered;
        s.push_str(&format!("\n\nYou are the agent `{}`.", self.name));
        if !self.description.is_empty() {
            s.push_str(&format!(" Your role: {}", self.description));
        }
        if !targets.is_empty() {
            s.push_str(
                "\n\nYou can hand the task to another agent by calling `transfer_to_agent` with its name \
                 when it is better suited than you:\n",
            );
            for (n, d) in targets {
                s.push_str(&format!("- `{n}`: {d}\n"));
            }
        }
        if let Some(p) = &ctx.parent {
            s.push_str(&format!(
                "\nWhen your part is done, give your answer; if the request is outside your expertise, \
                 transfer back to `{}`.",
                p.name()
            ));
        }
        s
    }

    fn transfer_declaration(targets: &[(String, String)]) -> ToolDeclaration {
        let names: Vec<&str> = targets.iter().map(|(n, _)| n.as_str()).collect();
        ToolDeclaration {
            name: TRANSFER_TOOL.into(),
            description: "Hand the current task to another agent, named by `agent_name`.".into(),
            parameters: json!({
                "type": "object",
                "properties": {"agent_name": {"type": "string", "enum": names, "description": "The agent to transfer to."}},
                "required": ["agent_name"]
            }),
        }
    }

    /// Emits an event; on a store failure, reports it to the client and ends the invocation.
    async fn emit(&self, ctx: &InvocationContext, e: Event) -> Result<(), Outcome> {
        match ctx.emit(e).await {
            Ok(()) => Ok(()),
            Err(err) => {
                let ev = ctx.new_event(&self.name).with_error("STORE_ERROR", err.to_string());
                ctx.send_only(ev).await;
                Err(Outcome::Ended)
            }
        }
    }

    async fn fail(&self, ctx: &InvocationContext, code: &str, message: String) -> Step {
        let e = ctx.new_event(&self.name).with_error(code, message);
        let _ = self.emit(ctx, e).await;
        Step::Return(Outcome::Ended)
    }

    /// One model turn and, if the model called tools, their execution.
    async fn turn(&self, me: &Arc<dyn Agent>, ctx: &InvocationContext) -> Step {
        if ctx.cancel_token().is_cancelled() {
            return self.fail(ctx, "CANCELLED", "the invocation was cancelled".into()).await;
        }
        if let Some(budget) = ctx.config().token_budget {
            let used = ctx.tokens_used();
            if used >= budget {
                return self
                    .fail(
                        ctx,
                        "BUDGET_EXCEEDED",
                        format!(
                            "token budget exhausted: {used} of {budget} tokens used in this invocation; \
                             agent `{}` did not call its model (raise `limits.token_budget` to allow more)",
                            self.name
                        ),
                    )
                    .await;
            }
        }
        let calls = ctx.count_model_call();
        let max_calls = ctx.config().max_model_calls;
        if calls > max_calls {
            return self
                .fail(
                    ctx,
                    "MODEL_CALL_LIMIT",
                    format!(
                        "model call limit: agent `{}` would make model call {calls} of this invocation, over \
                         the limit of {max_calls} (raise `limits.max_model_calls` to allow more)",
                        self.name
                    ),
                )
                .await;
        }
        let state = ctx.state().await;
        let rendered = match template::render(&self.instruction, &state) {
            Ok(r) => r,
            Err(msg) => {
                return self.fail(ctx, "INSTRUCTION_TEMPLATE", format!("agent `{}`: {msg}", self.name)).await
            }
        };
        let targets = self.transfer_targets(ctx);
        let mut tools = self.declarations.clone();
        if !targets.is_empty() {
            tools.push(Self::transfer_declaration(&targets));
        }
        let mut request = LlmRequest {
            model: self.model.name().to_string(),
            system_instruction: Some(self.system_instruction(rendered, &targets, ctx)),
            contents: history::contents_for(&self.name, &ctx.visible_events().await),
            tools,
            config: self.generation.clone(),
        };
        let cb_ctx = ctx.callback_context(&self.name);
        let callbacks: Vec<&Arc<dyn Callback>> = ctx.callbacks().iter().chain(&self.callbacks).collect();
        let mut short_circuit = None;
        for cb in &callbacks {
            if let Some(r) = cb.before_model(&cb_ctx, &mut request).await {
                short_circuit = Some(r);
                break;
            }
        }
        let started = Instant::now();
        let mut response = match short_circuit {
            Some(r) => r,
            None => match self.call_model(ctx, request).await {
                Ok(r) => r,
                Err(Step::Return(o)) => return Step::Return(o),
                Err(Step::Continue) => unreachable!("call_model never asks to continue"),
            },
        };
        let model_ms = started.elapsed().as_secs_f64() * 1000.0;
        for cb in &callbacks {
            cb.after_model(&cb_ctx, &mut response).await;
        }
        let mut content = response.content.unwrap_or_else(|| Content { role: "model".into(), parts: vec![] });
        content.role = "model".into();
        for p in &mut content.parts {
            if let Some(c) = &mut p.function_call {
                if c.id.as_deref().is_none_or(str::is_empty) {
                    c.id = Some(new_call_id());
                }
            }
        }
        let calls: Vec<FunctionCall> = content.parts.iter().filter_map(|p| p.function_call.clone()).collect();
        let mut event = ctx.new_event(&self.name).with_content(content);
        event.usage_metadata = response.usage;
        event.turn_complete = Some(true);
        event.timing = Some(Timing { model_ms, tool_ms: 0.0 });
        if calls.is_empty() {
            if let Some(key) = &self.output_key {
                event.actions.state_delta.insert(key.clone(), Value::String(event.text()));
            }
        }
        if let Some(u) = response.usage {
            ctx.add_tokens(u.total_token_count);
        }
        if let Err(o) = self.emit(ctx, event).await {
            return Step::Return(o);
        }
        if calls.is_empty() {
            return Step::Return(Outcome::Done);
        }
        self.handle_calls(me, ctx, calls).await
    }

    /// Calls the model, streaming partial events; returns the final response.
    async fn call_model(&self, ctx: &InvocationContext, request: LlmRequest) -> Result<LlmResponse, Step> {
        let stream = ctx.streaming();
        let result = tokio::select! {
            r = async {
                let mut s = self.model.generate(Arc::new(request), stream).await?;
                let mut last = None;
                while let Some(chunk) = s.next().await {
                    let chunk = chunk?;
                    if chunk.partial {
                        if stream {
                            let mut e = ctx.new_event(&self.name);
                            e.content = chunk.content;
                            e.partial = Some(true);
                            ctx.send_only(e).await;
                        }
                    } else {
                        last = Some(chunk);
                    }
                }
                last.ok_or_else(|| ModelError::Protocol {
                    model: self.model.name().to_string(),
                    message: "the stream ended without a final response".into(),
                })
            } => r,
            _ = ctx.cancel_token().cancelled() => Err(ModelError::Cancelled),
        };
        match result {
            Ok(r) => Ok(r),
            Err(e) => Err(self.fail(ctx, e.code(), format!("agent `{}`: {e}", self.name)).await),
        }
    }

    /// Answers the function calls of one model turn: transfers, approvals, tool runs.
    async fn handle_calls(
        &self,
        me: &Arc<dyn Agent>,
        ctx: &InvocationContext,
        calls: Vec<FunctionCall>,
    ) -> Step {
        let started = Instant::now();
        let events = ctx.visible_events().await;
        let targets = self.transfer_targets(ctx);
        let mut transfer = None;
        let mut fixed: Vec<(usize, FunctionResponse)> = Vec::new();
        let mut to_run = Vec::new();
        let mut run_index = Vec::new();
        let mut pending = Vec::new();
        for (i, call) in calls.into_iter().enumerate() {
            let id = call.id.clone().unwrap_or_default();
            if call.name == TRANSFER_TOOL {
                let target =
                    call.args.get("agent_name").and_then(Value::as_str).unwrap_or_default().to_string();
                let response = if transfer.is_some() {
                    json!({"error": "only one transfer per turn; this one was ignored"})
                } else if targets.iter().any(|(n, _)| *n == target) {
                    transfer = Some(target.clone());
                    json!({"result": format!("transferred to {target}")})
                } else {
                    let valid: Vec<&str> = targets.iter().map(|(n, _)| n.as_str()).collect();
                    json!({"error": format!("unknown agent '{target}'; you can transfer to: {}", valid.join(", "))})
                };
                fixed.push((i, FunctionResponse { id: call.id, name: call.name, response }));
                continue;
            }
            let needs_ok = self.tools.iter().any(|t| t.name() == call.name && t.requires_confirmation());
            if needs_ok {
                match decision_for(&events, &id) {
                    Decision::Approved => {
                        run_index.push(i);
                        to_run.push((call, true));
                    }
                    Decision::Denied => fixed.push((
                        i,
                        FunctionResponse {
                            id: call.id,
                            name: call.name,
                            response: json!({"error": "the user denied this tool call"}),
                        },
                    )),
                    Decision::Pending => pending.push(call),
                }
            } else {
                run_index.push(i);
                to_run.push((call, false));
            }
        }
        let Batch { responses, artifacts, mut actions } =
            run_calls(ctx, &self.name, &self.callbacks, &self.tools, to_run).await;
        let mut ordered: Vec<(usize, FunctionResponse)> = run_index.into_iter().zip(responses).collect();
        ordered.extend(fixed);
        ordered.sort_by_key(|(i, _)| *i);
        if !ordered.is_empty() {
            actions.transfer_to_agent = transfer.clone();
            let batch =
                Batch { responses: ordered.into_iter().map(|(_, r)| r).collect(), artifacts, actions };
            let escalate = batch.actions.escalate == Some(true);
            let skip = batch.actions.skip_summarization == Some(true);
            if let Err(o) = self.emit(ctx, response_event(ctx, &self.name, batch, started)).await {
                return Step::Return(o);
            }
            if escalate {
                return Step::Return(Outcome::Escalate);
            }
            if skip && pending.is_empty() && transfer.is_none() {
                return Step::Return(Outcome::Done);
            }
        }
        if !pending.is_empty() {
            let mut e = ctx.new_event(&self.name);
            let mut actions = EventActions::default();
            let mut parts = Vec::new();
            for call in &pending {
                let id = call.id.clone().unwrap_or_default();
                let hint = format!("`{}` wants to run tool `{}` with {}", self.name, call.name, call.args);
                actions.requested_tool_confirmations.insert(
                    id.clone(),
                    json!({"hint": hint, "tool": call.name, "args": call.args, "confirmed": false}),
                );
                parts.push(Part::function_call(FunctionCall {
                    id: Some(id.clone()),
                    name: CONFIRMATION_CALL.into(),
                    args: json!({"originalFunctionCall": call, "toolConfirmation": {"hint": hint, "confirmed": false}}),
                }));
                e.long_running_tool_ids.push(id);
            }
            e.content = Some(Content { role: "model".into(), parts });
            e.actions = actions;
            if let Err(o) = self.emit(ctx, e).await {
                return Step::Return(o);
            }
            return Step::Return(Outcome::Paused);
        }
        match transfer {
            Some(target) => self.transfer(me, ctx, target).await,
            None => Step::Continue,
        }
    }

    /// Counts a transfer against the loop guard, then routes it.
    async fn transfer(&self, me: &Arc<dyn Agent>, ctx: &InvocationContext, target: String) -> Step {
        let n = ctx.count_transfer();
        let max = ctx.config().max_transfers;
        if n > max {
            return self
                .fail(
                    ctx,
                    "DELEGATION_LOOP",
                    format!(
                        "delegation loop guard: {n} transfers in this invocation exceed the limit of {max} \
                         (last: `{}` -> `{target}`); the invocation was stopped",
                        self.name
                    ),
                )
                .await;
        }
        self.route(me, ctx, target).await
    }

    /// Runs a sub-agent, or passes the transfer up when the target is not ours.
    async fn route(&self, me: &Arc<dyn Agent>, ctx: &InvocationContext, target: String) -> Step {
        if target == self.name {
            return Step::Continue;
        }
        match self.sub_agents.iter().find(|a| a.name() == target) {
            Some(child) => {
                let outcome = child.run(child.clone(), ctx.child(me.clone(), &target), Start::Fresh).await;
                Box::pin(self.after_child(me, ctx, outcome)).await
            }
            None => Step::Return(Outcome::TransferTo(target)),
        }
    }

    /// Control came back from a child. A child that answered ends the invocation (its answer
    /// is the reply) unless the run asks for a recap (`return_to_parent`); a child that
    /// transferred back to this agent gives it another turn.
    async fn after_child(&self, me: &Arc<dyn Agent>, ctx: &InvocationContext, outcome: Outcome) -> Step {
        match outcome {
            Outcome::Done if ctx.config().return_to_parent => Step::Continue,
            Outcome::Done => Step::Return(Outcome::Done),
            Outcome::TransferTo(t) => self.route(me, ctx, t).await,
            other => Step::Return(other),
        }
    }

    /// After a pause: answers the calls of this agent's last model turn that have no response.
    async fn answer_pending(&self, me: &Arc<dyn Agent>, ctx: &InvocationContext) -> Step {
        let events = ctx.visible_events().await;
        let Some(pos) = events.iter().rposition(|e| {
            e.author == self.name && e.function_calls().iter().any(|c| c.name != CONFIRMATION_CALL)
        }) else {
            return Step::Continue;
        };
        let answered: Vec<String> = events[pos..]
            .iter()
            .filter(|e| e.author == self.name)
            .flat_map(|e| e.function_responses().into_iter().filter_map(|r| r.id.clone()).collect::<Vec<_>>())
            .collect();
        let pending: Vec<FunctionCall> = events[pos]
            .function_calls()
            .into_iter()
            .filter(|c| !answered.iter().any(|a| Some(a) == c.id.as_ref()))
            .cloned()
            .collect();
        if pending.is_empty() {
            return Step::Continue;
        }
        self.handle_calls(me, ctx, pending).await
    }
}

#[async_trait]
impl Agent for LlmAgent {
    fn name(&self) -> &str {
        &self.name
    }

    fn description(&self) -> &str {
        &self.description
    }

    fn sub_agents(&self) -> &[Arc<dyn Agent>] {
        &self.sub_agents
    }

    fn resumable(&self) -> bool {
        true
    }

    fn tool_names(&self) -> Vec<String> {
        self.tools.iter().map(|t| t.name().to_string()).collect()
    }

    async fn run(&self, me: Arc<dyn Agent>, ctx: InvocationContext, start: Start) -> Outcome {
        let cb_ctx = ctx.callback_context(&self.name);
        let callbacks: Vec<Arc<dyn Callback>> =
            ctx.callbacks().iter().chain(&self.callbacks).cloned().collect();
        let first = match start {
            Start::Fresh => {
                for cb in &callbacks {
                    if let Some(content) = cb.before_agent(&cb_ctx).await {
                        let e = ctx.new_event(&self.name).with_content(content);
                        return self.emit(&ctx, e).await.err().unwrap_or(Outcome::Done);
                    }
                }
                Step::Continue
            }
            Start::ResumePending => self.answer_pending(&me, &ctx).await,
            Start::AfterChild(o) => self.after_child(&me, &ctx, o).await,
        };
        let mut step = first;
        let outcome = loop {
            match step {
                Step::Return(o) => break o,
                Step::Continue => step = self.turn(&me, &ctx).await,
            }
        };
        if outcome == Outcome::Done {
            for cb in &callbacks {
                if let Some(content) = cb.after_agent(&cb_ctx).await {
                    let e = ctx.new_event(&self.name).with_content(content);
                    if let Err(o) = self.emit(&ctx, e).await {
                        return o;
                    }
                }
            }
        }
        outcome
    }
}
