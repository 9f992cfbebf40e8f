//! Traces in the shape ADK's web UI renders (its Trace tab and event details), derived from a
//! session's persisted events: one `invocation` span per invocation, an `invoke_agent <name>`
//! span per agent that ran in it (nested along the agent path), a `call_llm` span per model
//! call (its duration from the event's `timing.modelMs`, its token usage from
//! `usageMetadata`) and an `execute_tool <name>` span per tool call (duration from
//! `timing.toolMs`). Nothing is kept beside the events, so traces survive restarts and are
//! exactly what the session holds.
//!
//! Span and trace ids are derived from event and invocation ids (stable between requests) and
//! stay below 2^53 so that a browser reads them exactly. Times are nanoseconds since the
//! epoch, as OpenTelemetry writes them.

use serde_json::{json, Map, Value};
use std::collections::BTreeMap;
use vana_core::Event;

/// Attribute names ADK's UI reads.
pub mod attr {
    /// The operation of a span (`invoke_agent`, `generate_content`, `execute_tool`).
    pub const OPERATION: &str = "gen_ai.operation.name";
    /// The session of an agent span.
    pub const CONVERSATION: &str = "gen_ai.conversation.id";
    /// The agent of a span.
    pub const AGENT_NAME: &str = "gen_ai.agent.name";
    /// The invocation of a span.
    pub const INVOCATION: &str = "gcp.vertex.agent.invocation_id";
    /// The event a span produced.
    pub const EVENT: &str = "gcp.vertex.agent.event_id";
    /// Input tokens of a model call.
    pub const INPUT_TOKENS: &str = "gen_ai.usage.input_tokens";
    /// Output tokens of a model call.
    pub const OUTPUT_TOKENS: &str = "gen_ai.usage.output_tokens";
}

/// One span as ADK's UI takes it (`WebUiSpan`).
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct Span {
    /// `invocation`, `invoke_agent <agent>`, `call_llm`, `execute_tool <tool>`.
    pub name: String,
    /// Start, nanoseconds since the epoch.
    pub start_time: u64,
    /// End, nanoseconds since the epoch.
    pub end_time: u64,
    /// The invocation's trace.
    pub trace_id: u64,
    /// This span.
    pub span_id: u64,
    /// The enclosing span (`None` for the invocation).
    pub parent_span_id: Option<u64>,
    /// Attributes (OpenTelemetry GenAI and ADK names).
    pub attributes: Map<String, Value>,
    /// Log records under the span (none: the content is in the attributes).
    pub logs: Vec<Value>,
}

impl Span {
    /// Duration in milliseconds.
    pub fn duration_ms(&self) -> f64 {
        self.end_time.saturating_sub(self.start_time) as f64 / 1e6
    }
}

/// A stable id below 2^53 (FNV-1a of the parts).
fn id_of(parts: &[&str]) -> u64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for p in parts {
        for b in p.bytes().chain([0xff]) {
            h ^= b as u64;
            h = h.wrapping_mul(0x0100_0000_01b3);
        }
    }
    (h & ((1u64 << 53) - 1)).max(1)
}

fn ns(secs: f64) -> u64 {
    (secs.max(0.0) * 1e9) as u64
}

/// The spans of a session's events, invocation by invocation, in time order.
pub fn session_spans(session_id: &str, events: &[Event]) -> Vec<Span> {
    // Invocations in order of first appearance; VANA-internal ones (state changes) skipped.
    let mut order: Vec<&str> = Vec::new();
    let mut by_inv: BTreeMap<&str, Vec<&Event>> = BTreeMap::new();
    for e in events {
        if e.is_partial() || e.invocation_id.starts_with("p-") || e.invocation_id.starts_with("history-") {
            continue;
        }
        let list = by_inv.entry(e.invocation_id.as_str()).or_default();
        if list.is_empty() {
            order.push(e.invocation_id.as_str());
        }
        list.push(e);
    }
    let mut out = Vec::new();
    for inv in order {
        out.extend(invocation_spans(session_id, inv, &by_inv[inv]));
    }
    out
}

fn invocation_spans(session_id: &str, inv: &str, events: &[&Event]) -> Vec<Span> {
    let trace_id = id_of(&["trace", inv]);
    let root_id = id_of(&["invocation", inv]);
    let mut spans: Vec<Span> = Vec::new();
    // Agent spans by agent path; their extent grows with each of their events.
    let mut agents: BTreeMap<String, (u64, u64)> = BTreeMap::new();
    let mut prev_end = events.first().map(|e| e.timestamp).unwrap_or(0.0);
    let mut first = f64::MAX;
    let mut last: f64 = 0.0;
    for e in events {
        first = first.min(e.timestamp);
        last = last.max(e.timestamp);
        if e.author == "user" {
            prev_end = e.timestamp;
            continue;
        }
        let path = if e.agent_path.is_empty() { e.author.clone() } else { e.agent_path.clone() };
        let timing = e.timing.unwrap_or_default();
        let responses = e.function_responses();
        let (kind_ms, is_tool) =
            if !responses.is_empty() { (timing.tool_ms, true) } else { (timing.model_ms, false) };
        let start = if kind_ms > 0.0 { e.timestamp - kind_ms / 1000.0 } else { prev_end.min(e.timestamp) };
        let agent_span = id_of(&["agent", inv, &path]);
        if is_tool {
            let per = (e.timestamp - start) / responses.len().max(1) as f64;
            for (i, r) in responses.iter().enumerate() {
                let s = start + per * i as f64;
                let call_id = r.id.clone().unwrap_or_default();
                let mut a = Map::new();
                a.insert(attr::OPERATION.into(), json!("execute_tool"));
                a.insert("gen_ai.tool.name".into(), json!(r.name));
                a.insert("gen_ai.tool.call.id".into(), json!(call_id));
                a.insert(attr::AGENT_NAME.into(), json!(e.author));
                a.insert(attr::INVOCATION.into(), json!(inv));
                a.insert(attr::EVENT.into(), json!(e.id));
                a.insert("gcp.vertex.agent.tool_response".into(), json!(r.response.to_string()));
                if r.response.get("error").is_some_and(|v| !v.is_null()) {
                    a.insert("error.type".into(), json!("tool_error"));
                }
                if let Some(args) = call_args(events, &call_id) {
                    a.insert("gcp.vertex.agent.tool_call_args".into(), json!(args.to_string()));
                }
                spans.push(Span {
                    name: format!("execute_tool {}", r.name),
                    start_time: ns(s),
                    end_time: ns(s + per),
                    trace_id,
                    span_id: id_of(&["tool", inv, &e.id, &call_id, &i.to_string()]),
                    parent_span_id: Some(agent_span),
                    attributes: a,
                    logs: Vec::new(),
                });
            }
        } else if e.content.is_some() || e.usage_metadata.is_some() || e.is_error() {
            let mut a = Map::new();
            a.insert(attr::OPERATION.into(), json!("generate_content"));
            a.insert("gen_ai.system".into(), json!("vana"));
            a.insert(attr::AGENT_NAME.into(), json!(e.author));
            a.insert(attr::INVOCATION.into(), json!(inv));
            a.insert(attr::EVENT.into(), json!(e.id));
            a.insert("gcp.vertex.agent.session_id".into(), json!(session_id));
            if let Some(u) = e.usage_metadata {
                a.insert(attr::INPUT_TOKENS.into(), json!(u.prompt_token_count));
                a.insert(attr::OUTPUT_TOKENS.into(), json!(u.candidates_token_count));
            }
            a.insert("gcp.vertex.agent.llm_request".into(), json!("{}"));
            a.insert(
                "gcp.vertex.agent.llm_response".into(),
                json!(json!({"content": e.content, "usageMetadata": e.usage_metadata, "errorCode": e.error_code, "errorMessage": e.error_message}).to_string()),
            );
            if e.is_error() {
                a.insert(
                    "error.type".into(),
                    json!(e.error_code.clone().unwrap_or_else(|| "model_error".into())),
                );
            }
            spans.push(Span {
                name: "call_llm".into(),
                start_time: ns(start),
                end_time: ns(e.timestamp),
                trace_id,
                span_id: id_of(&["llm", inv, &e.id]),
                parent_span_id: Some(agent_span),
                attributes: a,
                logs: Vec::new(),
            });
        }
        // Every prefix of the path is an agent that ran (a parent that delegated).
        let segs: Vec<&str> = path.split('/').filter(|s| !s.is_empty()).collect();
        for n in 1..=segs.len() {
            let p = segs[..n].join("/");
            let ext = agents.entry(p).or_insert((ns(start), ns(e.timestamp)));
            ext.0 = ext.0.min(ns(start));
            ext.1 = ext.1.max(ns(e.timestamp));
        }
        prev_end = e.timestamp;
    }
    let mut out = vec![Span {
        name: "invocation".into(),
        start_time: ns(first.min(last)),
        end_time: ns(last),
        trace_id,
        span_id: root_id,
        parent_span_id: None,
        attributes: Map::from_iter([
            (attr::INVOCATION.to_string(), json!(inv)),
            (attr::CONVERSATION.to_string(), json!(session_id)),
        ]),
        logs: Vec::new(),
    }];
    for (path, (start, end)) in &agents {
        let name = path.rsplit('/').next().unwrap_or(path);
        let parent = match path.rsplit_once('/') {
            Some((up, _)) => id_of(&["agent", inv, up]),
            None => root_id,
        };
        out.push(Span {
            name: format!("invoke_agent {name}"),
            start_time: *start,
            end_time: *end,
            trace_id,
            span_id: id_of(&["agent", inv, path]),
            parent_span_id: Some(parent),
            attributes: Map::from_iter([
                (attr::OPERATION.to_string(), json!("invoke_agent")),
                (attr::CONVERSATION.to_string(), json!(session_id)),
                (attr::AGENT_NAME.to_string(), json!(name)),
                (attr::INVOCATION.to_string(), json!(inv)),
            ]),
            logs: Vec::new(),
        });
    }
    out.extend(spans);
    out
}

fn call_args(events: &[&Event], call_id: &str) -> Option<Value> {
    if call_id.is_empty() {
        return None;
    }
    events
        .iter()
        .flat_map(|e| e.function_calls())
        .find(|c| c.id.as_deref() == Some(call_id))
        .map(|c| c.args.clone())
}

/// ADK's per-event trace (`/dev/apps/{app}/debug/trace/{event_id}`): the attributes of the
/// span the event came from, with its trace and span ids; a user event gets its invocation.
pub fn event_trace(session_id: &str, events: &[Event], event_id: &str) -> Option<Value> {
    let e = events.iter().find(|e| e.id == event_id)?;
    let spans = session_spans(session_id, events);
    let span = spans.iter().find(|s| s.attributes.get(attr::EVENT).and_then(Value::as_str) == Some(event_id));
    Some(match span {
        Some(s) => {
            let mut a = s.attributes.clone();
            a.insert("trace_id".into(), json!(s.trace_id));
            a.insert("span_id".into(), json!(s.span_id));
            Value::Object(a)
        }
        None => {
            json!({attr::EVENT: e.id, attr::INVOCATION: e.invocation_id, "gcp.vertex.agent.session_id": session_id,
                       "trace_id": id_of(&["trace", &e.invocation_id])})
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use vana_core::event::Timing;
    use vana_core::{Content, FunctionCall, FunctionResponse, Part, UsageMetadata};

    fn ev(id: &str, author: &str, ts: f64) -> Event {
        let mut e = Event::new("inv1".to_string(), author);
        e.id = id.into();
        e.timestamp = ts;
        e.agent_path = if author == "user" { String::new() } else { format!("root/{author}") };
        e
    }

    #[test]
    fn spans_of_a_model_call_then_a_tool_call() {
        let user = ev("u", "user", 100.0).with_content(Content::user_text("hi"));
        let mut call = ev("c", "coder", 101.5);
        call.content = Some(Content {
            role: "model".into(),
            parts: vec![Part::function_call(FunctionCall {
                id: Some("k1".into()),
                name: "execute_code".into(),
                args: json!({"code": "1+1"}),
            })],
        });
        call.usage_metadata =
            Some(UsageMetadata { prompt_token_count: 12, candidates_token_count: 4, total_token_count: 16 });
        call.timing = Some(Timing { model_ms: 1500.0, tool_ms: 0.0 });
        let mut resp = ev("r", "coder", 102.0);
        resp.content = Some(Content {
            role: "user".into(),
            parts: vec![Part::function_response(FunctionResponse {
                id: Some("k1".into()),
                name: "execute_code".into(),
                response: json!({"stdout": "2"}),
            })],
        });
        resp.timing = Some(Timing { model_ms: 0.0, tool_ms: 250.0 });
        let spans = session_spans("s1", &[user, call, resp]);
        let names: Vec<&str> = spans.iter().map(|s| s.name.as_str()).collect();
        assert_eq!(
            names,
            [
                "invocation",
                "invoke_agent root",
                "invoke_agent coder",
                "call_llm",
                "execute_tool execute_code"
            ]
        );
        let llm = &spans[3];
        assert_eq!(llm.duration_ms().round(), 1500.0);
        assert_eq!(llm.attributes[attr::INPUT_TOKENS], 12);
        assert_eq!(llm.attributes[attr::EVENT], "c");
        let tool = &spans[4];
        assert_eq!(tool.duration_ms().round(), 250.0);
        assert_eq!(tool.attributes["gcp.vertex.agent.tool_call_args"], "{\"code\":\"1+1\"}");
        // Nesting: tool and model under the agent, the agent under its parent, under the invocation.
        assert_eq!(tool.parent_span_id, Some(spans[2].span_id));
        assert_eq!(spans[2].parent_span_id, Some(spans[1].span_id));
        assert_eq!(spans[1].parent_span_id, Some(spans[0].span_id));
        assert!(spans.iter().all(|s| s.span_id < (1 << 53) && s.trace_id == spans[0].trace_id));
        assert_eq!(spans[0].duration_ms().round(), 2000.0);
        let t = event_trace("s1", &[ev("u", "user", 1.0)], "u").unwrap();
        assert_eq!(t[attr::INVOCATION], "inv1");
    }
}
