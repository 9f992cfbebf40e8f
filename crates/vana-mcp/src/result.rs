//! MCP tool results as VANA tool outputs: text for the model, images and binary resources as
//! artifacts, structured content and resources carried in the response, `isError` as an error.

use rmcp::model::CallToolResult;
use serde_json::{json, Map, Value};
use vana_core::{Blob, ToolError, ToolOutput};

/// Converts one `tools/call` result.
pub(crate) fn to_output(server: &str, tool: &str, result: CallToolResult) -> Result<ToolOutput, ToolError> {
    let blocks = serde_json::to_value(&result.content).unwrap_or(Value::Array(Vec::new()));
    let mut texts: Vec<String> = Vec::new();
    let mut images: Vec<Value> = Vec::new();
    let mut resources: Vec<Value> = Vec::new();
    let mut other: Vec<Value> = Vec::new();
    let mut artifacts: Vec<Blob> = Vec::new();
    let mut artifact = |mime: &str, data: &str, hint: &str| {
        let name = format!("{server}__{tool}-{}.{}", artifacts.len() + 1, extension(mime, hint));
        artifacts.push(Blob {
            mime_type: mime.to_string(),
            data: data.to_string(),
            display_name: Some(name.clone()),
        });
        name
    };
    for block in blocks.as_array().into_iter().flatten() {
        let s = |k: &str| block.get(k).and_then(Value::as_str).unwrap_or_default();
        match s("type") {
            "text" => texts.push(s("text").to_string()),
            "image" | "audio" => {
                let name = artifact(s("mimeType"), s("data"), "");
                images.push(json!({"mimeType": s("mimeType"), "artifact": name}));
            }
            "resource" => {
                let r = block.get("resource").cloned().unwrap_or(Value::Null);
                let rs = |k: &str| r.get(k).and_then(Value::as_str).unwrap_or_default().to_string();
                let mut entry = Map::new();
                entry.insert("uri".into(), json!(rs("uri")));
                if let Some(m) = r.get("mimeType") {
                    entry.insert("mimeType".into(), m.clone());
                }
                if let Some(t) = r.get("text") {
                    entry.insert("text".into(), t.clone());
                } else if let Some(b) = r.get("blob").and_then(Value::as_str) {
                    let mime =
                        r.get("mimeType").and_then(Value::as_str).unwrap_or("application/octet-stream");
                    entry.insert("artifact".into(), json!(artifact(mime, b, &rs("uri"))));
                }
                resources.push(Value::Object(entry));
            }
            "resource_link" => {
                let mut link = block.clone();
                if let Some(m) = link.as_object_mut() {
                    m.remove("type");
                }
                resources.push(link);
            }
            _ => other.push(block.clone()),
        }
    }
    let text = texts.join("\n");
    if result.is_error == Some(true) {
        let msg = if text.is_empty() {
            result.structured_content.as_ref().map(|v| v.to_string()).unwrap_or_else(|| {
                format!("`{tool}` on MCP server `{server}` reported an error without a message")
            })
        } else {
            text
        };
        return Err(ToolError::Failed(msg));
    }
    let mut response = Map::new();
    if !text.is_empty() || (images.is_empty() && resources.is_empty() && result.structured_content.is_none())
    {
        response.insert("text".into(), json!(text));
    }
    if let Some(sc) = result.structured_content {
        response.insert("structuredContent".into(), sc);
    }
    if !images.is_empty() {
        response.insert("images".into(), json!(images));
    }
    if !resources.is_empty() {
        response.insert("resources".into(), json!(resources));
    }
    if !other.is_empty() {
        response.insert("content".into(), json!(other));
    }
    Ok(ToolOutput { response: Value::Object(response), artifacts, ..Default::default() })
}

fn extension(mime: &str, hint: &str) -> String {
    if let Some(ext) =
        hint.rsplit_once('.').map(|(_, e)| e).filter(|e| !e.is_empty() && e.len() <= 5 && !e.contains('/'))
    {
        return ext.to_string();
    }
    match mime {
        "image/png" => "png",
        "image/jpeg" => "jpg",
        "image/gif" => "gif",
        "image/webp" => "webp",
        "image/svg+xml" => "svg",
        "audio/wav" | "audio/x-wav" => "wav",
        "audio/mpeg" => "mp3",
        "application/pdf" => "pdf",
        "application/json" => "json",
        "text/plain" => "txt",
        _ => "bin",
    }
    .to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn result(v: Value) -> CallToolResult {
        serde_json::from_value(v).unwrap()
    }

    #[test]
    fn text_images_resources_and_structured_content_are_carried() {
        let r = result(json!({
            "content": [
                {"type": "text", "text": "hello"},
                {"type": "image", "data": "iVBORw0KGgo=", "mimeType": "image/png"},
                {"type": "resource", "resource": {"uri": "test://static/resource/1", "mimeType": "text/plain", "text": "res"}},
                {"type": "resource", "resource": {"uri": "test://b.bin", "mimeType": "application/octet-stream", "blob": "AAE="}},
                {"type": "resource_link", "uri": "test://x", "name": "x"}
            ],
            "structuredContent": {"sum": 3}
        }));
        let out = to_output("everything", "t", r).unwrap();
        assert_eq!(out.response["text"], "hello");
        assert_eq!(out.response["structuredContent"]["sum"], 3);
        assert_eq!(out.response["images"][0]["mimeType"], "image/png");
        assert_eq!(out.response["resources"][0]["text"], "res");
        assert_eq!(out.response["resources"][2]["uri"], "test://x");
        assert_eq!(out.artifacts.len(), 2);
        assert_eq!(out.artifacts[0].mime_type, "image/png");
        assert_eq!(out.artifacts[0].data, "iVBORw0KGgo=");
        assert_eq!(out.artifacts[1].display_name.as_deref(), Some("everything__t-2.bin"));
    }

    #[test]
    fn is_error_results_become_failures_with_the_servers_text() {
        let r = result(json!({"content": [{"type": "text", "text": "no such table: x"}], "isError": true}));
        assert_eq!(
            to_output("sqlite", "read_query", r).unwrap_err(),
            ToolError::Failed("no such table: x".into())
        );
    }
}
