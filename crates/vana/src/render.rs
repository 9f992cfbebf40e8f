//! Prints events to the terminal as they stream.

use std::io::Write;
use vana_core::agent::{CONFIRMATION_CALL, TRANSFER_TOOL};
use vana_core::{Event, Outcome};

/// Prints a stream of events, human-readable or as JSON lines.
pub struct Renderer {
    json: bool,
    /// True while a streamed message is being printed (so the final one is not repeated).
    streaming_open: bool,
    /// Set when an error event was seen.
    pub failed: bool,
    /// Approval requests seen: (call id, hint).
    pub approvals: Vec<(String, String)>,
}

const MAX_RESULT: usize = 600;

impl Renderer {
    /// A renderer; `json` prints every non-partial event as one JSON line.
    pub fn new(json: bool) -> Self {
        Renderer { json, streaming_open: false, failed: false, approvals: Vec::new() }
    }

    /// Prints one event.
    pub fn event(&mut self, e: &Event) {
        let crate::style::Codes { sb, s0, sd, sred, sy, sc } = crate::style::codes();
        if e.is_error() {
            self.failed = true;
        }
        for (id, req) in &e.actions.requested_tool_confirmations {
            let hint = req.get("hint").and_then(|h| h.as_str()).unwrap_or_default().to_string();
            self.approvals.push((id.clone(), hint));
        }
        if self.json {
            if !e.is_partial() {
                println!("{}", serde_json::to_string(e).unwrap_or_default());
            }
            return;
        }
        let mut out = std::io::stdout().lock();
        let who = if e.agent_path.is_empty() { e.author.clone() } else { e.agent_path.clone() };
        if e.is_partial() {
            if !self.streaming_open {
                let _ = write!(out, "{sb}[{who}]{s0} ");
                self.streaming_open = true;
            }
            let _ = write!(out, "{}", e.text());
            let _ = out.flush();
            return;
        }
        if let Some(code) = &e.error_code {
            self.close(&mut out);
            eprintln!("{sred}✗ [{who}] {code}: {}{s0}", e.error_message.as_deref().unwrap_or(""));
            return;
        }
        if e.author == "user" {
            return;
        }
        let Some(content) = &e.content else { return };
        let text = content.text();
        if !text.trim().is_empty() {
            if self.streaming_open {
                let _ = writeln!(out);
                self.streaming_open = false;
            } else {
                let _ = writeln!(out, "{sb}[{who}]{s0} {text}");
            }
        }
        for p in &content.parts {
            if let Some(c) = &p.function_call {
                if c.name == TRANSFER_TOOL {
                    let to = c.args.get("agent_name").and_then(|v| v.as_str()).unwrap_or("?");
                    let _ = writeln!(out, "{sc}⇢ {who} hands over to {to}{s0}");
                } else if c.name == CONFIRMATION_CALL {
                    let id = c.id.as_deref().unwrap_or("");
                    let hint =
                        c.args.pointer("/toolConfirmation/hint").and_then(|h| h.as_str()).unwrap_or("");
                    let _ = writeln!(out, "{sy}⏸ approval needed for call {id}: {hint}{s0}");
                } else {
                    let _ = writeln!(out, "{sd}→ [{who}] {}({}){s0}", c.name, c.args);
                }
            }
            if let Some(r) = &p.function_response {
                if r.name == TRANSFER_TOOL {
                    continue;
                }
                let mut s = r.response.to_string();
                if s.len() > MAX_RESULT {
                    let cut = (0..=MAX_RESULT).rev().find(|i| s.is_char_boundary(*i)).unwrap_or(0);
                    s.truncate(cut);
                    s.push('…');
                }
                let _ = writeln!(out, "{sd}← [{who}] {}: {s}{s0}", r.name);
            }
            if let Some(b) = &p.inline_data {
                let _ = writeln!(
                    out,
                    "{sd}📎 [{who}] {} ({}, {} bytes base64){s0}",
                    b.display_name.as_deref().unwrap_or("attachment"),
                    b.mime_type,
                    b.data.len()
                );
            }
        }
    }

    fn close(&mut self, out: &mut impl Write) {
        if self.streaming_open {
            let _ = writeln!(out);
            self.streaming_open = false;
        }
    }

    /// Closes an open streamed line.
    pub fn finish(&mut self) {
        let mut out = std::io::stdout().lock();
        self.close(&mut out);
    }
}

/// Process exit code for an invocation outcome.
pub fn exit_code(outcome: &Outcome, failed: bool) -> i32 {
    match outcome {
        Outcome::Ended => 1,
        _ if failed => 1,
        _ => 0,
    }
}
