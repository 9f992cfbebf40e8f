//! The OpenAPI document (`/openapi.json`) and Swagger UI (`/docs`, utoipa's vendored assets).

use serde_json::{json, Map, Value};

/// (method, path, tag, summary, request body schema name or "").
const ENDPOINTS: &[(&str, &str, &str, &str, &str)] = &[
    ("get", "/list-apps", "adk", "Every agent of the catalog (names)", ""),
    ("get", "/api/agents", "ui", "Every agent with its description", ""),
    ("get", "/apps/{app}/users/{user}/sessions", "adk", "The user's sessions of an app", ""),
    (
        "post",
        "/apps/{app}/users/{user}/sessions",
        "adk",
        "Create a session (optional state, sessionId)",
        "CreateSession",
    ),
    ("get", "/apps/{app}/users/{user}/sessions/{session}", "adk", "A session with its events", ""),
    (
        "post",
        "/apps/{app}/users/{user}/sessions/{session}",
        "adk",
        "Create a session with this id",
        "CreateSession",
    ),
    ("delete", "/apps/{app}/users/{user}/sessions/{session}", "adk", "Delete a session", ""),
    ("post", "/run", "adk", "Run an agent; returns the events", "RunAgentRequest"),
    ("post", "/run_sse", "adk", "Run an agent; streams events as text/event-stream", "RunAgentRequest"),
    (
        "post",
        "/apps/{app}/users/{user}/sessions/{session}/approvals/{call_id}",
        "adk",
        "Approve or deny a paused tool call; returns (or with ?stream=true streams) the resumed events",
        "Approval",
    ),
    ("get", "/apps/{app}/users/{user}/sessions/{session}/artifacts", "artifacts", "Artifact names", ""),
    (
        "get",
        "/apps/{app}/users/{user}/sessions/{session}/artifacts/{name}",
        "artifacts",
        "Latest version (or ?version=) as a Part with inlineData",
        "",
    ),
    (
        "delete",
        "/apps/{app}/users/{user}/sessions/{session}/artifacts/{name}",
        "artifacts",
        "Delete every version",
        "",
    ),
    (
        "get",
        "/apps/{app}/users/{user}/sessions/{session}/artifacts/{name}/versions",
        "artifacts",
        "Versions of an artifact",
        "",
    ),
    (
        "get",
        "/apps/{app}/users/{user}/sessions/{session}/artifacts/{name}/versions/{version}",
        "artifacts",
        "One version as a Part",
        "",
    ),
    (
        "post",
        "/v1/chat/completions",
        "openai",
        "OpenAI-compatible chat (model = agent name; X-Vana-Session continues a session)",
        "ChatCompletionRequest",
    ),
    ("get", "/v1/models", "openai", "One model per agent", ""),
    ("get", "/healthz", "ops", "Liveness", ""),
    ("get", "/readyz", "ops", "Readiness (store reachable)", ""),
    ("get", "/metrics", "ops", "Prometheus metrics", ""),
    ("get", "/api/dashboard", "ops", "Dashboard snapshot", ""),
    ("get", "/api/dashboard/stream", "ops", "Dashboard snapshots as server-sent events", ""),
    ("get", "/audit", "ops", "Search the audit log (q, kind, agent, user, session, from, to, limit)", ""),
    ("post", "/api/login", "auth", "Log in with an API key; sets the session cookie", "Login"),
    ("post", "/api/logout", "auth", "Log out", ""),
    ("get", "/api/me", "auth", "The caller's user", ""),
];

fn schemas() -> Value {
    json!({
        "Content": {"type": "object", "properties": {"role": {"type": "string"}, "parts": {"type": "array", "items": {"type": "object"}}}},
        "RunAgentRequest": {"type": "object", "required": ["appName", "userId", "sessionId", "newMessage"], "properties": {
            "appName": {"type": "string"}, "userId": {"type": "string"}, "sessionId": {"type": "string"},
            "newMessage": {"$ref": "#/components/schemas/Content"}, "streaming": {"type": "boolean"}}},
        "CreateSession": {"type": "object", "properties": {"state": {"type": "object"}, "sessionId": {"type": "string"}}},
        "Approval": {"type": "object", "required": ["approved"], "properties": {"approved": {"type": "boolean"}}},
        "Login": {"type": "object", "required": ["key"], "properties": {"key": {"type": "string"}}},
        "ChatCompletionRequest": {"type": "object", "required": ["model", "messages"], "properties": {
            "model": {"type": "string"}, "stream": {"type": "boolean"}, "user": {"type": "string"},
            "messages": {"type": "array", "items": {"type": "object", "properties": {"role": {"type": "string"}, "content": {"oneOf": [{"type": "string"}, {"type": "array", "items": {"type": "object"}}]}}}}}},
        "Error": {"type": "object", "properties": {"error": {"oneOf": [{"type": "string"}, {"type": "object"}]}}},
    })
}

/// The OpenAPI 3.1 document of every endpoint.
pub fn document() -> Value {
    let mut paths = Map::new();
    for (method, path, tag, summary, body) in ENDPOINTS {
        let params: Vec<Value> = path
            .split('/')
            .filter_map(|seg| seg.strip_prefix('{').and_then(|s| s.strip_suffix('}')))
            .map(|name| json!({"name": name, "in": "path", "required": true, "schema": {"type": "string"}}))
            .collect();
        let mut op = json!({
            "tags": [tag], "summary": summary, "parameters": params,
            "responses": {
                "200": {"description": "OK"},
                "4XX": {"description": "Client error", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}},
            },
        });
        if !body.is_empty() {
            op["requestBody"] = json!({"required": *body != "CreateSession", "content": {"application/json": {"schema": {"$ref": format!("#/components/schemas/{body}")}}}});
        }
        let entry = paths.entry(path.to_string()).or_insert_with(|| json!({}));
        entry[*method] = op;
    }
    json!({
        "openapi": "3.1.0",
        "info": {"title": "VANA API", "version": env!("CARGO_PKG_VERSION"),
                 "description": "Google ADK-compatible agent API, OpenAI-compatible chat, operations endpoints. Authenticate with `Authorization: Bearer <key>`."},
        "paths": paths,
        "components": {"schemas": schemas(), "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"}}},
        "security": [{"bearer": []}],
    })
}

/// The document as utoipa's model (what Swagger UI is given).
pub fn utoipa_document() -> utoipa::openapi::OpenApi {
    serde_json::from_value(document()).unwrap_or_else(|e| {
        tracing::error!("the OpenAPI document does not parse as utoipa's model: {e}");
        utoipa::openapi::OpenApi::default()
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn document_lists_every_endpoint_and_parses_as_utoipa() {
        let parsed: Result<utoipa::openapi::OpenApi, _> = serde_json::from_value(document());
        let parsed = parsed.unwrap_or_else(|e| panic!("utoipa cannot read the document: {e}"));
        assert_eq!(
            parsed.paths.paths.len(),
            ENDPOINTS.iter().map(|e| e.1).collect::<std::collections::BTreeSet<_>>().len()
        );
    }
}
