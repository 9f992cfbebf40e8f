//! Turns session events into the conversation one agent sends to its model.

use crate::agent::{CONFIRMATION_CALL, TRANSFER_TOOL};
use crate::event::{Content, Event, Part};
use std::borrow::Borrow;

/// Builds the model's view of the conversation for agent `me` from the events it may see.
/// Its own turns are `model` messages; the user's messages and tool results are `user`
/// messages; other agents' words are passed as context text, so the model knows what was
/// said without mistaking it for its own output.
pub(crate) fn contents_for<E: Borrow<Event>>(me: &str, events: &[E]) -> Vec<Content> {
    let mut out = Vec::new();
    for e in events {
        let e: &Event = e.borrow();
        if e.is_partial() || e.is_error() {
            continue;
        }
        let Some(content) = &e.content else { continue };
        if e.author == me {
            let parts: Vec<Part> = content.parts.iter().filter(|p| !is_confirmation(p)).cloned().collect();
            if parts.is_empty() {
                continue;
            }
            let role = if parts.iter().any(|p| p.function_response.is_some()) { "user" } else { "model" };
            out.push(Content { role: role.into(), parts });
        } else if e.author == "user" {
            let parts: Vec<Part> = content
                .parts
                .iter()
                .filter(|p| !is_confirmation(p) && p.function_response.is_none())
                .cloned()
                .collect();
            if !parts.is_empty() {
                out.push(Content { role: "user".into(), parts });
            }
        } else if let Some(text) = foreign_context(e) {
            out.push(Content { role: "user".into(), parts: vec![Part::text(text)] });
        }
    }
    // A window of recent events may start mid-exchange: providers reject a conversation that
    // opens with a model turn or a tool result, so start at the first plain user message.
    let start = out
        .iter()
        .position(|c| c.role == "user" && c.parts.iter().all(|p| p.function_response.is_none()))
        .unwrap_or(0);
    out.drain(..start);
    out
}

fn is_confirmation(p: &Part) -> bool {
    p.function_call.as_ref().is_some_and(|c| c.name == CONFIRMATION_CALL)
        || p.function_response.as_ref().is_some_and(|r| r.name == CONFIRMATION_CALL)
}

/// Another agent's event rewritten as context text (`None` for bookkeeping such as transfers).
fn foreign_context(e: &Event) -> Option<String> {
    let content = e.content.as_ref()?;
    let mut lines = Vec::new();
    for p in &content.parts {
        if let Some(t) = p.text.as_deref().filter(|t| !t.trim().is_empty()) {
            lines.push(format!("[{}] said: {t}", e.author));
        } else if let Some(c) =
            p.function_call.as_ref().filter(|c| c.name != TRANSFER_TOOL && c.name != CONFIRMATION_CALL)
        {
            lines.push(format!("[{}] called tool `{}` with parameters: {}", e.author, c.name, c.args));
        } else if let Some(r) =
            p.function_response.as_ref().filter(|r| r.name != TRANSFER_TOOL && r.name != CONFIRMATION_CALL)
        {
            lines.push(format!("[{}] `{}` tool returned result: {}", e.author, r.name, r.response));
        }
    }
    if lines.is_empty() {
        None
    } else {
        Some(format!("For context:\n{}", lines.join("\n")))
    }
}
