//! The usage ledger: tokens and time per event, rolled up per agent, per invocation and per
//! session.

use crate::event::Event;
use serde::Serialize;
use std::collections::BTreeMap;

/// Totals of tokens, time and calls.
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Usage {
    /// Prompt tokens.
    pub prompt_tokens: u64,
    /// Generated tokens.
    pub completion_tokens: u64,
    /// Prompt + generated.
    pub total_tokens: u64,
    /// Model calls made.
    pub model_calls: u64,
    /// Milliseconds waiting for models.
    pub model_ms: f64,
    /// Tool calls made.
    pub tool_calls: u64,
    /// Milliseconds running tools.
    pub tool_ms: f64,
    /// Error events.
    pub errors: u64,
}

impl Usage {
    /// Adds one event's usage.
    pub fn add_event(&mut self, e: &Event) {
        if let Some(u) = e.usage_metadata {
            self.prompt_tokens += u.prompt_token_count;
            self.completion_tokens += u.candidates_token_count;
            self.total_tokens += u.total_token_count;
        }
        if let Some(t) = e.timing {
            if t.model_ms > 0.0 {
                self.model_calls += 1;
                self.model_ms += t.model_ms;
            }
            self.tool_ms += t.tool_ms;
        }
        self.tool_calls += e.function_responses().len() as u64;
        if e.is_error() {
            self.errors += 1;
        }
    }
}

/// Usage of a session, also split by agent and by invocation.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Rollup {
    /// The whole session.
    pub total: Usage,
    /// Per agent name.
    pub by_agent: BTreeMap<String, Usage>,
    /// Per invocation id.
    pub by_invocation: BTreeMap<String, Usage>,
}

/// Rolls up the usage of a list of events.
pub fn rollup<'a>(events: impl IntoIterator<Item = &'a Event>) -> Rollup {
    let mut r = Rollup::default();
    for e in events {
        r.total.add_event(e);
        r.by_agent.entry(e.author.clone()).or_default().add_event(e);
        r.by_invocation.entry(e.invocation_id.clone()).or_default().add_event(e);
    }
    r
}
