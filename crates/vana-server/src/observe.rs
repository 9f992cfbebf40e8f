//! Watching an invocation's events on their way to the client: metrics (tokens, model and
//! tool time, tool calls, sandbox executions), audit records (tool calls, MCP calls, sandbox
//! findings), artifacts (inline data with a display name) and sandbox-finding alerts.
//! A task drains each invocation, so all of this happens even when the client goes away; when
//! it ends, its spans go to the OTLP exporter if one is configured ([`crate::otlp`]).

use crate::audit_log::{truncate, truncate_value};
use crate::state::Shared;
use base64::Engine;
use serde_json::{json, Value};
use tokio::sync::mpsc;
use vana_core::{Event, Invocation, Outcome};
use vana_store::records::ArtifactScope;

/// Name of the pseudo-tool that carries approval decisions.
const CONFIRMATION_CALL: &str = "adk_request_confirmation";
/// Tools whose results are sandbox executions.
const SANDBOX_TOOLS: &[&str] = &["execute_code", "debug_code"];

/// Who and where an invocation runs.
#[derive(Debug, Clone)]
pub struct RunInfo {
    /// App (root agent).
    pub agent: String,
    /// User.
    pub user: String,
    /// Session.
    pub session: String,
}

/// Drains `inv` in a task, observing every event, and hands the events on.
pub fn drive(state: Shared, info: RunInfo, mut inv: Invocation) -> mpsc::Receiver<Event> {
    let (tx, rx) = mpsc::channel(256);
    state.saw_session(&info.session, &info.agent, &info.user);
    tokio::spawn(async move {
        let mut client = Some(tx);
        let mut error_event = false;
        // The invocation's events, kept only to derive the spans an OTLP exporter sends.
        let mut traced: Option<Vec<Event>> = state.otlp.as_ref().map(|_| Vec::new());
        while let Some(e) = inv.next().await {
            if !e.is_partial() {
                state.seen.lock().unwrap_or_else(|p| p.into_inner()).event(&e.id, &info.session);
                error_event |= e.is_error();
                observe(&state, &info, &e).await;
                if let Some(t) = &mut traced {
                    t.push(e.clone());
                }
            }
            if let Some(tx) = &client {
                if tx.send(e).await.is_err() {
                    client = None;
                }
            }
        }
        let outcome = match inv.outcome().await {
            Outcome::Done | Outcome::TransferTo(_) | Outcome::Escalate if !error_event => "done",
            Outcome::Paused => "paused",
            _ if error_event => "error",
            _ => "ended",
        };
        state.metrics.invocation(&info.agent, outcome, error_event);
        if let (Some(x), Some(events)) = (&state.otlp, traced) {
            x.export(crate::traces::session_spans(&info.session, &events));
        }
    });
    rx
}

/// Observes one persisted event.
pub async fn observe(state: &Shared, info: &RunInfo, e: &Event) {
    let author = if e.author.is_empty() { info.agent.as_str() } else { e.author.as_str() };
    if e.author != "user" {
        if let Some(u) = e.usage_metadata {
            let t = e.timing.unwrap_or_default();
            state.metrics.usage(author, u.prompt_token_count, u.candidates_token_count, t.model_ms, 0.0);
        } else if let Some(t) = e.timing.filter(|t| t.model_ms > 0.0) {
            state.metrics.usage(author, 0, 0, t.model_ms, 0.0);
        }
    }
    let mcp_prefixes: Vec<String> = if e.function_calls().is_empty() {
        Vec::new()
    } else {
        state
            .options
            .mcp_status
            .as_ref()
            .map(|s| s.health().into_iter().map(|h| h.tool_prefix).collect())
            .unwrap_or_default()
    };
    for call in e.function_calls() {
        if call.name == CONFIRMATION_CALL {
            continue;
        }
        if let Some(router) = call.args.get("router").filter(|_| call.name == "transfer_to_agent") {
            route(state, info, author, &call.args, router);
            continue;
        }
        let kind = if mcp_prefixes.iter().any(|p| call.name.starts_with(p.as_str())) {
            "mcp_call"
        } else {
            "tool_call"
        };
        let args = truncate_value(&call.args);
        state.audit.log(
            kind,
            &info.user,
            author,
            &info.session,
            format!("{} {} {}", kind, call.name, truncate(&call.args.to_string(), 200)),
            json!({"tool": call.name, "callId": call.id, "args": args, "agentPath": e.agent_path}),
        );
    }
    let responses: Vec<_> =
        e.function_responses().into_iter().filter(|r| r.name != CONFIRMATION_CALL).collect();
    if e.author != "user" && !responses.is_empty() {
        let tool_ms = e.timing.map(|t| t.tool_ms).unwrap_or(0.0);
        state.metrics.usage(author, 0, 0, 0.0, tool_ms);
        let per_call = tool_ms / responses.len() as f64;
        for r in &responses {
            let failed = r.response.get("error").is_some_and(|v| !v.is_null());
            state.metrics.tool_call(&r.name, failed, per_call);
            if SANDBOX_TOOLS.contains(&r.name.as_str()) {
                sandbox_result(state, info, author, &r.name, &r.response);
            }
        }
    }
    for part in e.content.iter().flat_map(|c| c.parts.iter()) {
        let Some(blob) = &part.inline_data else { continue };
        let Some(name) = blob.display_name.as_deref().filter(|n| !n.is_empty()) else { continue };
        let bytes = match base64::engine::general_purpose::STANDARD.decode(blob.data.as_bytes()) {
            Ok(b) => b,
            Err(err) => {
                tracing::warn!("artifact {name} of session {} is not valid base64: {err}", info.session);
                continue;
            }
        };
        let scope = ArtifactScope { app: &info.agent, user: &info.user, session: &info.session };
        if let Err(err) = state.app.stores.artifacts.artifact_put(scope, name, &blob.mime_type, &bytes).await
        {
            tracing::error!("cannot save artifact {name} of session {}: {err}", info.session);
        }
    }
}

/// Audits a routing decision: who chose the specialist (the semantic router or the model) and,
/// in shadow mode, whether the model agreed with the router.
fn route(state: &Shared, info: &RunInfo, agent: &str, args: &Value, router: &Value) {
    let chosen = args.get("agent_name").and_then(Value::as_str).unwrap_or_default();
    let score = router.get("score").and_then(Value::as_f64).unwrap_or(0.0);
    let summary = match router.get("agreed").and_then(Value::as_bool) {
        Some(agreed) => format!(
            "route {chosen} chosen by the model; router chose {} ({score:.2}): {}",
            router.get("agent").and_then(Value::as_str).unwrap_or_default(),
            if agreed { "agreed" } else { "disagreed" }
        ),
        None => format!("route {chosen} chosen by the semantic router ({score:.2})"),
    };
    state.audit.log(
        "route",
        &info.user,
        agent,
        &info.session,
        summary,
        json!({"agent": chosen, "router": router}),
    );
}

/// Counts a sandbox execution and audits it with its findings (alerting on findings).
fn sandbox_result(state: &Shared, info: &RunInfo, agent: &str, tool: &str, response: &Value) {
    let r = response.get("result").filter(|v| v.is_object()).unwrap_or(response);
    let Some(wall) = r.get("wallTimeMs").and_then(Value::as_f64) else { return };
    let oom = r.get("oomKilled").and_then(Value::as_bool).unwrap_or(false);
    let timed_out = r.get("timedOut").and_then(Value::as_bool).unwrap_or(false);
    let findings = r.get("findings").and_then(Value::as_array).cloned().unwrap_or_default();
    state.metrics.sandbox(wall, oom, timed_out, findings.len() as u64);
    let summary = format!(
        "sandbox {tool} {} exit {} in {wall:.0} ms{}{}{}",
        r.get("language").and_then(Value::as_str).unwrap_or(""),
        r.get("exitCode").map(|v| v.to_string()).unwrap_or_default(),
        if oom { ", OOM killed" } else { "" },
        if timed_out { ", timed out" } else { "" },
        if findings.is_empty() { String::new() } else { format!(", {} security finding(s)", findings.len()) },
    );
    state.audit.log(
        "sandbox",
        &info.user,
        agent,
        &info.session,
        summary,
        json!({
            "tool": tool, "wallTimeMs": wall, "oomKilled": oom, "timedOut": timed_out,
            "exitCode": r.get("exitCode"), "peakMemoryBytes": r.get("peakMemoryBytes"),
            "findings": truncate_value(&Value::Array(findings.clone())),
        }),
    );
    if !findings.is_empty() && state.alerts.config().sandbox_findings {
        state.alerts.raise(
            "sandbox_finding",
            tool,
            format!("{} security finding(s) in code run by {agent} (session {})", findings.len(), info.session),
            json!({"user": info.user, "agent": agent, "session": info.session, "findings": truncate_value(&Value::Array(findings))}),
        );
    }
}
