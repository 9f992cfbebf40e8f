//! Running the function calls of one model turn: concurrently, each with a timeout and a
//! cancellation token, through the tool callbacks, with human approval and an effect journal
//! for tools that need confirmation.

use crate::agent::CONFIRMATION_CALL;
use crate::callbacks::Callback;
use crate::context::InvocationContext;
use crate::event::{Blob, Event, EventActions, FunctionCall, FunctionResponse, Part};
use crate::session::{JournalEntry, JournalStatus};
use crate::tool::{Tool, ToolContext, ToolError, ToolOutput};
use serde_json::{json, Value};
use std::sync::Arc;
use std::time::Instant;

/// A human's decision on a tool call that needed approval.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Decision {
    Approved,
    Denied,
    Pending,
}

/// Finds the decision on call `id` among the user's confirmation responses.
pub(crate) fn decision_for<E: std::borrow::Borrow<Event>>(events: &[E], id: &str) -> Decision {
    for e in events.iter().rev() {
        let e: &Event = e.borrow();
        if e.author != "user" {
            continue;
        }
        for r in e.function_responses() {
            if r.name == CONFIRMATION_CALL && r.id.as_deref() == Some(id) {
                return if r.response.get("confirmed").and_then(Value::as_bool) == Some(true) {
                    Decision::Approved
                } else {
                    Decision::Denied
                };
            }
        }
    }
    Decision::Pending
}

/// The result of running a batch of calls.
pub(crate) struct Batch {
    /// One response per executed call, in call order.
    pub responses: Vec<FunctionResponse>,
    /// Artifacts produced by the tools.
    pub artifacts: Vec<Blob>,
    /// Merged actions of all tools.
    pub actions: EventActions,
}

/// Runs `calls` concurrently and collects their responses.
pub(crate) async fn run_calls(
    ctx: &InvocationContext,
    agent_name: &str,
    agent_callbacks: &[Arc<dyn Callback>],
    tools: &[Arc<dyn Tool>],
    calls: Vec<(FunctionCall, bool)>,
) -> Batch {
    let events = Arc::new(ctx.visible_events().await);
    let state = ctx.state().await;
    let futures = calls.into_iter().map(|(call, journaled)| {
        let events = events.clone();
        let state = state.clone();
        async move {
            let id = call.id.clone().unwrap_or_default();
            let tool = tools.iter().find(|t| t.name() == call.name).cloned();
            let out = match tool {
                None => Err(ToolError::Failed(format!(
                    "unknown tool '{}'; this agent's tools are: {}",
                    call.name,
                    tools.iter().map(|t| t.name()).collect::<Vec<_>>().join(", ")
                ))),
                Some(tool) => {
                    let tctx = ToolContext {
                        app_name: ctx.app_name().to_string(),
                        user_id: ctx.user_id().to_string(),
                        session_id: ctx.session_id().to_string(),
                        invocation_id: ctx.invocation_id().to_string(),
                        agent_name: agent_name.to_string(),
                        agent_path: ctx.agent_path.clone(),
                        function_call_id: id.clone(),
                        state,
                        cancel: ctx.cancel_token().child_token(),
                        events,
                        invocation: Some(ctx.clone()),
                    };
                    if journaled {
                        run_journaled(ctx, agent_name, agent_callbacks, tool, call.args.clone(), tctx).await
                    } else {
                        run_one(ctx, agent_name, agent_callbacks, tool, call.args.clone(), tctx).await
                    }
                }
            };
            (call, out)
        }
    });
    let results = futures::future::join_all(futures).await;
    let mut batch = Batch { responses: Vec::new(), artifacts: Vec::new(), actions: EventActions::default() };
    for (call, out) in results {
        let response = match out {
            Ok(o) => {
                batch.artifacts.extend(o.artifacts);
                merge_actions(&mut batch.actions, o.actions);
                wrap_object(o.response)
            }
            Err(e) => json!({"error": e.to_string()}),
        };
        batch.responses.push(FunctionResponse { id: call.id, name: call.name, response });
    }
    batch
}

/// Runs one tool call with callbacks, timeout and cancellation.
async fn run_one(
    ctx: &InvocationContext,
    agent_name: &str,
    agent_callbacks: &[Arc<dyn Callback>],
    tool: Arc<dyn Tool>,
    mut args: Value,
    tctx: ToolContext,
) -> Result<ToolOutput, ToolError> {
    let cb_ctx = ctx.callback_context(agent_name);
    let callbacks: Vec<&Arc<dyn Callback>> = ctx.callbacks().iter().chain(agent_callbacks).collect();
    for cb in &callbacks {
        if let Some(blocked) = cb.before_tool(&cb_ctx, tool.name(), &mut args).await {
            return Ok(ToolOutput::json(blocked));
        }
    }
    let timeout = tool.timeout().unwrap_or(ctx.config().tool_timeout);
    let cancel = tctx.cancel.clone();
    let result = tokio::select! {
        r = tokio::time::timeout(timeout, tool.call(args.clone(), tctx)) => match r {
            Ok(r) => r,
            Err(_) => {
                cancel.cancel();
                Err(ToolError::Timeout(timeout))
            }
        },
        _ = ctx.cancel_token().cancelled() => Err(ToolError::Cancelled),
    };
    let mut out = result?;
    for cb in &callbacks {
        cb.after_tool(&cb_ctx, tool.name(), &args, &mut out.response).await;
    }
    Ok(out)
}

/// Runs an approved call exactly once across crashes: the journal records `started` before
/// and the result after; a call found `done` reuses its result, one found `started` (the
/// process died while it ran) is reported, not run again.
async fn run_journaled(
    ctx: &InvocationContext,
    agent_name: &str,
    agent_callbacks: &[Arc<dyn Callback>],
    tool: Arc<dyn Tool>,
    args: Value,
    tctx: ToolContext,
) -> Result<ToolOutput, ToolError> {
    let store = &ctx.shared.store;
    let session = ctx.session_id();
    let call_id = tctx.function_call_id.clone();
    let journal_err = |e| ToolError::Failed(format!("tool journal unavailable, call not run: {e}"));
    match store.journal_get(session, &call_id).await.map_err(journal_err)? {
        Some(JournalEntry { status: JournalStatus::Done, result, .. }) => {
            return Ok(ToolOutput::json(result.unwrap_or(Value::Null)));
        }
        Some(JournalEntry { status: JournalStatus::Started, .. }) => {
            return Err(ToolError::Failed(format!(
                "the approved call {call_id} to '{}' was interrupted while running (the process stopped); \
                 it was not run again so that it never runs twice; check its effect before retrying",
                tool.name()
            )));
        }
        None => {}
    }
    let entry = JournalEntry { tool: tool.name().to_string(), status: JournalStatus::Started, result: None };
    store.journal_put(session, &call_id, &entry).await.map_err(journal_err)?;
    let out = run_one(ctx, agent_name, agent_callbacks, tool.clone(), args, tctx).await;
    let recorded = match &out {
        Ok(o) => wrap_object(o.response.clone()),
        Err(e) => json!({"error": e.to_string()}),
    };
    let done =
        JournalEntry { tool: tool.name().to_string(), status: JournalStatus::Done, result: Some(recorded) };
    store.journal_put(session, &call_id, &done).await.map_err(journal_err)?;
    out
}

/// Tool results sent to models must be objects: wrap anything else as `{"result": v}`.
pub(crate) fn wrap_object(v: Value) -> Value {
    if v.is_object() {
        v
    } else {
        json!({ "result": v })
    }
}

fn merge_actions(into: &mut EventActions, from: EventActions) {
    into.state_delta.extend(from.state_delta);
    into.artifact_delta.extend(from.artifact_delta);
    if from.escalate == Some(true) {
        into.escalate = Some(true);
    }
    if from.skip_summarization == Some(true) {
        into.skip_summarization = Some(true);
    }
    if from.transfer_to_agent.is_some() {
        into.transfer_to_agent = from.transfer_to_agent;
    }
}

/// Builds the response event of a batch.
pub(crate) fn response_event(
    ctx: &InvocationContext,
    agent_name: &str,
    batch: Batch,
    started: Instant,
) -> Event {
    let mut e = ctx.new_event(agent_name);
    let mut parts: Vec<Part> = batch.responses.into_iter().map(Part::function_response).collect();
    parts.extend(batch.artifacts.into_iter().map(Part::inline_data));
    e.content = Some(crate::event::Content { role: "user".into(), parts });
    e.actions = batch.actions;
    e.timing =
        Some(crate::event::Timing { model_ms: 0.0, tool_ms: started.elapsed().as_secs_f64() * 1000.0 });
    e
}
