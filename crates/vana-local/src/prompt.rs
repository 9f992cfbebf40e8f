//! Turns an [`LlmRequest`] into chat messages, and messages into a prompt when a GGUF carries no
//! chat template llama.cpp can apply.

use crate::grammar::ToolChoice;
use serde_json::{json, Value};
use vana_core::{Content, LlmRequest};

/// One chat message: a role (`system`, `user`, `assistant`) and its text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChatMessage {
    /// `system`, `user` or `assistant`.
    pub role: &'static str,
    /// The text.
    pub content: String,
}

/// The chat messages for `request`.
///
/// - the system instruction (plus, when tools are offered, a description of them and of the exact
///   JSON shape of a call) becomes a `system` message;
/// - `user` contents become `user` messages, `model` contents `assistant` messages;
/// - a function call the model made is written as the JSON it would produce:
///   `{"name": "...", "arguments": {...}}`;
/// - a function response becomes a `user` message `Tool result of <name>: <JSON>` (templates of
///   small models rarely know a `tool` role; every template knows `user`).
///
/// Consecutive messages of the same role are joined with a blank line.
pub fn chat_messages(request: &LlmRequest, choice: ToolChoice) -> Vec<ChatMessage> {
    let mut messages: Vec<ChatMessage> = Vec::new();
    let mut system = request.system_instruction.clone().unwrap_or_default();
    if !request.tools.is_empty() && choice != ToolChoice::None {
        if !system.is_empty() {
            system.push_str("\n\n");
        }
        system.push_str(&tools_instruction(request, choice));
    }
    if !system.trim().is_empty() {
        messages.push(ChatMessage { role: "system", content: system });
    }
    for content in &request.contents {
        for (role, text) in content_messages(content) {
            match messages.last_mut() {
                Some(last) if last.role == role && role != "system" => {
                    last.content.push_str("\n\n");
                    last.content.push_str(&text);
                }
                _ => messages.push(ChatMessage { role, content: text }),
            }
        }
    }
    // After a tool result, say how to answer from it (a small model otherwise tends to
    // paraphrase numbers, or call the tool again in prose).
    if request.contents.last().is_some_and(|c| c.parts.iter().any(|p| p.function_response.is_some())) {
        if let Some(last) = messages.last_mut().filter(|m| m.role == "user") {
            last.content.push_str("\n\n");
            last.content.push_str(ANSWER_FROM_RESULT);
        }
    }
    messages
}

/// What follows a tool result in the prompt.
pub const ANSWER_FROM_RESULT: &str =
    "Answer the request from this result in one or two sentences, quoting its values exactly as they appear.";

fn content_messages(content: &Content) -> Vec<(&'static str, String)> {
    let role = if content.role == "model" || content.role == "assistant" { "assistant" } else { "user" };
    let mut out: Vec<(&'static str, String)> = Vec::new();
    let mut push = |role: &'static str, text: String| match out.last_mut() {
        Some((r, t)) if *r == role => {
            t.push('\n');
            t.push_str(&text);
        }
        _ => out.push((role, text)),
    };
    for part in &content.parts {
        if let Some(text) = &part.text {
            if !text.is_empty() {
                push(role, text.clone());
            }
        }
        if let Some(call) = &part.function_call {
            let args = if call.args.is_null() { json!({}) } else { call.args.clone() };
            push(
                "assistant",
                format!("{{\"name\": {}, \"arguments\": {args}}}", Value::String(call.name.clone())),
            );
        }
        if let Some(resp) = &part.function_response {
            push("user", format!("Tool result of {}: {}", resp.name, resp.response));
        }
        if let Some(blob) = &part.inline_data {
            let name = blob.display_name.as_deref().unwrap_or("unnamed");
            push(
                role,
                format!("[attachment {name} ({}) omitted: this model reads text only]", blob.mime_type),
            );
        }
    }
    out
}

/// The system-prompt section describing the tools and how to call one.
fn tools_instruction(request: &LlmRequest, choice: ToolChoice) -> String {
    let mut s = String::from("You can call these tools:\n");
    for tool in &request.tools {
        let params = if tool.parameters.is_null() {
            Value::Object(Default::default())
        } else {
            tool.parameters.clone()
        };
        s.push_str(&format!(
            "- {}: {} Arguments (JSON Schema): {}\n",
            tool.name,
            tool.description.trim(),
            params
        ));
    }
    let example = request.tools.first().map(|t| t.name.as_str()).unwrap_or("tool_name");
    s.push_str(&format!(
        "To call a tool, reply with only one JSON object, exactly of the form \
         {{\"name\": \"{example}\", \"arguments\": {{...}}}}, and nothing else."
    ));
    match choice {
        ToolChoice::Required => s.push_str(" You must call a tool now."),
        _ => s.push_str(" If no tool is needed, reply with plain text that does not start with '{'."),
    }
    s
}

/// The plain chat format used when the GGUF has no chat template (or one llama.cpp cannot apply),
/// e.g. a base model such as Gemma 3 270M (pt):
///
/// ```text
/// <system text>
///
/// User: <text>
/// Assistant: <text>
/// User: <text>
/// Assistant:
/// ```
///
/// Generation stops at [`FALLBACK_STOP`] (a new `User:` line), so a base model does not go on to
/// write both sides of the dialogue.
pub fn fallback_prompt(messages: &[ChatMessage]) -> String {
    let mut out = String::new();
    for m in messages {
        match m.role {
            "system" => {
                out.push_str(m.content.trim());
                out.push_str("\n\n");
            }
            "assistant" => {
                out.push_str("Assistant: ");
                out.push_str(m.content.trim());
                out.push('\n');
            }
            _ => {
                out.push_str("User: ");
                out.push_str(m.content.trim());
                out.push('\n');
            }
        }
    }
    out.push_str("Assistant:");
    out
}

/// Stop sequence added for the [`fallback_prompt`] format.
pub const FALLBACK_STOP: &str = "\nUser:";

#[cfg(test)]
mod tests {
    use super::*;
    use vana_core::{FunctionCall, FunctionResponse, Part, ToolDeclaration};

    #[test]
    fn maps_turns_calls_and_responses() {
        let request = LlmRequest {
            system_instruction: Some("Be brief.".into()),
            contents: vec![
                Content::user_text("analyze a.csv"),
                Content {
                    role: "model".into(),
                    parts: vec![Part::function_call(FunctionCall {
                        id: Some("c1".into()),
                        name: "analyze".into(),
                        args: json!({"source": "a.csv"}),
                    })],
                },
                Content {
                    role: "user".into(),
                    parts: vec![Part::function_response(FunctionResponse {
                        id: Some("c1".into()),
                        name: "analyze".into(),
                        response: json!({"rows": 3}),
                    })],
                },
                Content::user_text("and now?"),
            ],
            tools: vec![ToolDeclaration {
                name: "analyze".into(),
                description: "Analyzes a file.".into(),
                parameters: json!({"type": "object"}),
            }],
            ..Default::default()
        };
        let m = chat_messages(&request, ToolChoice::Auto);
        assert_eq!(m.len(), 4, "{m:?}");
        assert_eq!(m[0].role, "system");
        assert!(m[0]
            .content
            .starts_with("Be brief.\n\nYou can call these tools:\n- analyze: Analyzes a file."));
        assert_eq!(m[2].content, r#"{"name": "analyze", "arguments": {"source":"a.csv"}}"#);
        assert_eq!(m[3].content, "Tool result of analyze: {\"rows\":3}\n\nand now?");
        let none = chat_messages(&request, ToolChoice::None);
        assert_eq!(none[0].content, "Be brief.");
    }

    #[test]
    fn fallback_format() {
        let m = vec![
            ChatMessage { role: "system", content: "S".into() },
            ChatMessage { role: "user", content: "hi".into() },
        ];
        assert_eq!(fallback_prompt(&m), "S\n\nUser: hi\nAssistant:");
    }
}
