//! The OpenAPI document (`/openapi.json`, served with Swagger UI at `/docs` from
//! utoipa-swagger-ui's vendored assets).
//!
//! The document states what the server really accepts and returns, operation by operation:
//! parameters with the types the handlers parse, request bodies with the fields serde
//! requires (optional fields that accept `null` say so), every status a handler, the guard
//! ([`crate::guard`]) or authentication can answer, the content type of each, and the schema
//! of each body. It is built for the running server: with `--no-auth` no operation needs a
//! key, and `/metrics` needs one unless `[metrics] public = true`. `scripts/test.sh` holds it
//! to that with schemathesis against a real `vana serve` (`crates/vana/tests/api_fuzz.rs`).
//! `/mcp` (MCP's own protocol) and the UI's files are not in it.

use serde_json::{json, Map, Value};

/// Who may call an operation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Access {
    /// No key needed.
    Public,
    /// A key (bearer or the login cookie) when auth is on.
    Key,
}

/// How an operation reads its body.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Body {
    /// No body.
    None,
    /// A required JSON body of this schema (axum's JSON extractor: 400 syntax, 422 data,
    /// 413 too large; 415 from the guard or the extractor).
    Json(&'static str),
    /// An optional JSON body of this schema (empty means none; any error is 400).
    OptionalJson(&'static str),
}

/// One operation: method, path, operation id, tag, summary, access, body, its extra
/// parameters (query, header), its success responses and its error statuses.
struct Op {
    method: &'static str,
    path: &'static str,
    id: &'static str,
    tag: &'static str,
    summary: &'static str,
    access: Access,
    body: Body,
    params: Vec<Value>,
    ok: Vec<(&'static str, Value)>,
    errors: &'static [u16],
}

fn schema_ref(name: &str) -> Value {
    json!({"$ref": format!("#/components/schemas/{name}")})
}

fn json_response(description: &str, schema: Value) -> Value {
    json!({"description": description, "content": {"application/json": {"schema": schema}}})
}

/// A `text/event-stream` response; `data` describes one event's `data` field (a JSON text).
fn sse_response(description: &str) -> Value {
    json!({"description": description, "content": {"text/event-stream": {"schema": schema_ref("ServerSentEvent")}}})
}

fn query(name: &str, description: &str, schema: Value) -> Value {
    json!({"name": name, "in": "query", "required": false, "description": description, "schema": schema})
}

/// Largest integer the handlers read (into `u64` or `usize`; larger ones get 400).
const MAX_INT: u64 = u64::MAX;

/// Ids a new session may be given (`vana_workspace::validate_session_id`: the id names its
/// workspace too).
const SESSION_ID_PATTERN: &str = "^[A-Za-z0-9_-]{1,128}$";

/// Time bounds of audit searches as `timeparse` reads them (empty: no bound).
const TIME_PATTERN: &str = r"^(|[0-9]+(\.[0-9]+)?[smhd]?|[0-9]{4}-(0[1-9]|1[0-2])-(0[1-9]|[12][0-9]|3[01])([T ][0-9]{2}:[0-9]{2}(:[0-9]{2})?)?Z?)$";

fn audit_params() -> Vec<Value> {
    let text = json!({"type": "string"});
    let time = json!({"type": "string", "pattern": TIME_PATTERN});
    vec![
        query("q", "Full-text terms, all required, each a word prefix", text.clone()),
        query("kind", "Only this kind of record", text.clone()),
        query("agent", "Only this agent", text.clone()),
        query("user", "Only this user (with auth, only one's own records are found)", text.clone()),
        query("session", "Only this session", text),
        query(
            "from",
            "Not before: epoch seconds, YYYY-MM-DD[THH:MM[:SS]] (UTC) or a duration ago (15m, 2h, 7d)",
            time.clone(),
        ),
        query("to", "Not after (as `from`)", time),
        query(
            "limit",
            "Most records (0 or absent: 100; at most 1000)",
            json!({"type": "integer", "minimum": 0, "maximum": MAX_INT}),
        ),
    ]
}

fn operations(auth: bool, metrics_public: bool) -> Vec<Op> {
    let events = || {
        json_response(
            "The invocation's events (partial ones left out)",
            json!({"type": "array", "items": schema_ref("Event")}),
        )
    };
    let session = || json_response("The session", schema_ref("Session"));
    let none = || json!({"description": "Done; no body"});
    let strings = |d: &str| json_response(d, json!({"type": "array", "items": {"type": "string"}}));
    let part = || json_response("The version as an ADK Part with inlineData", schema_ref("ArtifactPart"));
    let metrics_access = if metrics_public || !auth { Access::Public } else { Access::Key };
    vec![
        Op { method: "get", path: "/list-apps", id: "listApps", tag: "adk", summary: "Every agent of the catalog (names)", access: Access::Key, body: Body::None, params: vec![], ok: vec![("200", strings("Agent names"))], errors: &[] },
        Op { method: "get", path: "/api/agents", id: "listAgents", tag: "ui", summary: "Every agent with its description, tools and sub-agents", access: Access::Key, body: Body::None, params: vec![],
             ok: vec![("200", json_response("The agents", json!({"type": "array", "items": schema_ref("Agent")})))], errors: &[] },
        Op { method: "get", path: "/apps/{app}/users/{user}/sessions", id: "listSessions", tag: "adk", summary: "The user's sessions of an app, newest first (without events; state holds only the title, vana:title)", access: Access::Key, body: Body::None, params: vec![],
             ok: vec![("200", json_response("Sessions", json!({"type": "array", "items": schema_ref("Session")})))], errors: &[404, 503] },
        Op { method: "post", path: "/apps/{app}/users/{user}/sessions", id: "createSession", tag: "adk", summary: "Create a session (optional state and sessionId)", access: Access::Key, body: Body::OptionalJson("CreateSession"), params: vec![],
             ok: vec![("200", session())], errors: &[404, 409, 503] },
        Op { method: "get", path: "/apps/{app}/users/{user}/sessions/{session}", id: "getSession", tag: "adk", summary: "A session with its state and events", access: Access::Key, body: Body::None, params: vec![],
             ok: vec![("200", session())], errors: &[404, 503] },
        Op { method: "post", path: "/apps/{app}/users/{user}/sessions/{session}", id: "createSessionWithId", tag: "adk", summary: "Create a session with this id", access: Access::Key, body: Body::OptionalJson("CreateSession"), params: vec![],
             ok: vec![("200", session())], errors: &[404, 409, 503] },
        Op { method: "delete", path: "/apps/{app}/users/{user}/sessions/{session}", id: "deleteSession", tag: "adk", summary: "Delete a session, its events, artifacts and sandbox workspace", access: Access::Key, body: Body::None, params: vec![],
             ok: vec![("204", none())], errors: &[404, 503] },
        Op { method: "post", path: "/run", id: "run", tag: "adk", summary: "Run an agent; returns the events", access: Access::Key, body: Body::Json("RunAgentRequest"), params: vec![],
             ok: vec![("200", events())], errors: &[404, 409, 503] },
        Op { method: "post", path: "/run_sse", id: "runSse", tag: "adk", summary: "Run an agent; streams its events (`streaming: true` adds token-level partial events)", access: Access::Key, body: Body::Json("RunAgentRequest"), params: vec![],
             ok: vec![("200", sse_response("One `data: <Event JSON>` per event"))], errors: &[404, 409, 503] },
        Op { method: "post", path: "/apps/{app}/users/{user}/sessions/{session}/approvals/{call_id}", id: "approve", tag: "adk",
             summary: "Approve or deny a paused tool call; returns (or with ?stream=true or Accept: text/event-stream streams) the resumed events",
             access: Access::Key, body: Body::Json("Approval"),
             params: vec![query("stream", "Stream the resumed events as server-sent events", json!({"type": "boolean"}))],
             ok: vec![
                 ("200", {
                     let mut r = events();
                     r["content"]["text/event-stream"] = json!({"schema": schema_ref("ServerSentEvent")});
                     r
                 }),
                 ("202", json_response("Recorded; other calls of the pause still wait", schema_ref("ApprovalRecorded"))),
             ],
             errors: &[404, 409, 503] },
        Op { method: "get", path: "/apps/{app}/users/{user}/sessions/{session}/artifacts", id: "listArtifacts", tag: "artifacts", summary: "Artifact names, sorted", access: Access::Key, body: Body::None, params: vec![],
             ok: vec![("200", strings("Artifact names"))], errors: &[404, 503] },
        Op { method: "get", path: "/apps/{app}/users/{user}/sessions/{session}/artifacts/{name}", id: "getArtifact", tag: "artifacts", summary: "The latest version (or ?version=) as an ADK Part with inlineData", access: Access::Key, body: Body::None,
             params: vec![query("version", "A version (from 0); the latest when absent", json!({"type": "integer", "minimum": 0, "maximum": MAX_INT}))],
             ok: vec![("200", part())], errors: &[400, 404, 503] },
        Op { method: "delete", path: "/apps/{app}/users/{user}/sessions/{session}/artifacts/{name}", id: "deleteArtifact", tag: "artifacts", summary: "Delete every version of an artifact", access: Access::Key, body: Body::None, params: vec![],
             ok: vec![("204", none())], errors: &[404, 503] },
        Op { method: "get", path: "/apps/{app}/users/{user}/sessions/{session}/artifacts/{name}/versions", id: "listArtifactVersions", tag: "artifacts", summary: "Versions of an artifact, ascending", access: Access::Key, body: Body::None, params: vec![],
             ok: vec![("200", json_response("Versions", json!({"type": "array", "items": {"type": "integer", "minimum": 0}})))], errors: &[404, 503] },
        Op { method: "get", path: "/apps/{app}/users/{user}/sessions/{session}/artifacts/{name}/versions/{version}", id: "getArtifactVersion", tag: "artifacts", summary: "One version as an ADK Part", access: Access::Key, body: Body::None, params: vec![],
             ok: vec![("200", part())], errors: &[400, 404, 503] },
        Op { method: "post", path: "/v1/chat/completions", id: "chatCompletions", tag: "openai",
             summary: "OpenAI-compatible chat (model = agent name); X-Vana-Session continues a session, and every answer names its session in X-Vana-Session",
             access: Access::Key, body: Body::Json("ChatCompletionRequest"),
             params: vec![json!({"name": "X-Vana-Session", "in": "header", "required": false, "description": "Continue this session (its messages are the context)", "schema": {"type": "string"}})],
             ok: vec![("200", json!({"description": "The answer, or with stream: true `chat.completion.chunk`s and `data: [DONE]`",
                 "content": {"application/json": {"schema": schema_ref("ChatCompletion")}, "text/event-stream": {"schema": schema_ref("ServerSentEvent")}}}))],
             errors: &[404, 409, 502, 503] },
        Op { method: "get", path: "/v1/models", id: "listModels", tag: "openai", summary: "One model per agent (id = agent name)", access: Access::Key, body: Body::None, params: vec![],
             ok: vec![("200", json_response("Models", schema_ref("ModelList")))], errors: &[] },
        Op { method: "get", path: "/health", id: "health", tag: "adk", summary: "ADK's liveness answer", access: Access::Public, body: Body::None, params: vec![],
             ok: vec![("200", json_response("Alive", json!({"type": "object", "required": ["status"], "properties": {"status": {"const": "ok"}}})))], errors: &[] },
        Op { method: "get", path: "/version", id: "version", tag: "adk", summary: "Server version (ADK's web UI shows it)", access: Access::Key, body: Body::None, params: vec![],
             ok: vec![("200", json_response("Version", json!({"type": "object", "required": ["version", "language", "language_version"], "properties": {
                 "version": {"type": "string"}, "language": {"type": "string"}, "language_version": {"type": "string"}}})))], errors: &[] },
        Op { method: "get", path: "/config/telemetry", id: "telemetry", tag: "adk", summary: "Usage telemetry consent: always false (VANA collects none)", access: Access::Key, body: Body::None, params: vec![],
             ok: vec![("200", json_response("Consent", json!({"type": "object", "required": ["telemetry"], "properties": {"telemetry": {"const": false}}})))], errors: &[] },
        Op { method: "post", path: "/config/telemetry", id: "setTelemetry", tag: "adk", summary: "ADK's UI sets its telemetry consent: accepted, and the answer stays false (VANA collects none)", access: Access::Key, body: Body::Json("TelemetryConsent"), params: vec![],
             ok: vec![("200", json_response("Consent", json!({"type": "object", "required": ["telemetry"], "properties": {"telemetry": {"const": false}}})))], errors: &[] },
        Op { method: "get", path: "/apps/{app}/app-info", id: "appInfo", tag: "adk", summary: "ADK's AppInfo of an agent (its tree)", access: Access::Key, body: Body::None, params: vec![],
             ok: vec![("200", json_response("The app", schema_ref("AppInfo")))], errors: &[404] },
        Op { method: "patch", path: "/apps/{app}/users/{user}/sessions/{session}", id: "updateSession", tag: "adk", summary: "Change a session's state without running the agent", access: Access::Key, body: Body::Json("UpdateSession"), params: vec![],
             ok: vec![("200", session())], errors: &[404, 409, 503] },
        Op { method: "post", path: "/apps/{app}/users/{user}/sessions/{session}/artifacts", id: "saveArtifact", tag: "artifacts", summary: "Save a new version of an artifact", access: Access::Key, body: Body::Json("SaveArtifact"), params: vec![],
             ok: vec![("200", json_response("The new version", schema_ref("ArtifactVersion")))], errors: &[404, 503] },
        Op { method: "get", path: "/apps/{app}/users/{user}/sessions/{session}/artifacts/{name}/versions/metadata", id: "listArtifactVersionsMetadata", tag: "artifacts", summary: "ADK's metadata of every version", access: Access::Key, body: Body::None, params: vec![],
             ok: vec![("200", json_response("Versions", json!({"type": "array", "items": schema_ref("ArtifactVersion")})))], errors: &[404, 503] },
        Op { method: "get", path: "/apps/{app}/users/{user}/sessions/{session}/artifacts/{name}/versions/{version}/metadata", id: "getArtifactVersionMetadata", tag: "artifacts", summary: "ADK's metadata of one version", access: Access::Key, body: Body::None, params: vec![],
             ok: vec![("200", json_response("The version", schema_ref("ArtifactVersion")))], errors: &[400, 404, 503] },
        Op { method: "get", path: "/healthz", id: "healthz", tag: "ops", summary: "Liveness", access: Access::Public, body: Body::None, params: vec![],
             ok: vec![("200", json_response("Alive", json!({"type": "object", "required": ["status"], "properties": {"status": {"const": "ok"}}})))], errors: &[] },
        Op { method: "get", path: "/readyz", id: "readyz", tag: "ops", summary: "Readiness (the store answers; 503 when it does not)", access: Access::Public, body: Body::None, params: vec![],
             ok: vec![
                 ("200", json_response("Ready", json!({"type": "object", "required": ["status", "store"], "properties": {"status": {"const": "ready"}, "store": {"type": "string"}}}))),
                 ("503", json_response("Not ready", json!({"type": "object", "required": ["status", "error"], "properties": {"status": {"type": "string"}, "error": {"type": "string"}}}))),
             ], errors: &[] },
        Op { method: "get", path: "/metrics", id: "metrics", tag: "ops", summary: "Prometheus metrics (text format); needs a key unless [metrics] public = true", access: metrics_access, body: Body::None, params: vec![],
             ok: vec![("200", json!({"description": "Prometheus text format 0.0.4", "content": {"text/plain": {"schema": {"type": "string"}}}}))], errors: &[] },
        Op { method: "get", path: "/api/dashboard", id: "dashboard", tag: "ops", summary: "Dashboard snapshot: measurements of this process", access: Access::Key, body: Body::None, params: vec![],
             ok: vec![("200", json_response("The snapshot", schema_ref("Dashboard")))], errors: &[] },
        Op { method: "get", path: "/api/dashboard/stream", id: "dashboardStream", tag: "ops", summary: "Dashboard snapshots as server-sent events (`event: snapshot`), every second and on change; endless", access: Access::Key, body: Body::None, params: vec![],
             ok: vec![("200", sse_response("One `event: snapshot` per snapshot"))], errors: &[] },
        Op { method: "get", path: "/audit", id: "audit", tag: "ops", summary: "Search the audit log, newest first", access: Access::Key, body: Body::None, params: audit_params(),
             ok: vec![("200", json_response("Matching records", schema_ref("AuditResult")))], errors: &[400, 503] },
        Op { method: "get", path: "/api/audit", id: "apiAudit", tag: "ops", summary: "Search the audit log (as /audit)", access: Access::Key, body: Body::None, params: audit_params(),
             ok: vec![("200", json_response("Matching records", schema_ref("AuditResult")))], errors: &[400, 503] },
        Op { method: "post", path: "/api/login", id: "login", tag: "auth", summary: "Log in with an API key; sets the session cookie (a server-side login bound to the key)", access: Access::Public, body: Body::Json("Login"), params: vec![],
             ok: vec![("200", json_response("Logged in", json!({"type": "object", "required": ["user"], "properties": {"user": {"type": "string"}}})))], errors: &[401, 503] },
        Op { method: "post", path: "/api/logout", id: "logout", tag: "auth", summary: "Log out: ends the cookie's login (takes no body)", access: Access::Public, body: Body::None, params: vec![],
             ok: vec![("200", json_response("Logged out", json!({"type": "object", "required": ["loggedOut"], "properties": {"loggedOut": {"const": true}}})))], errors: &[503] },
        Op { method: "get", path: "/api/me", id: "me", tag: "auth", summary: "Who the caller is", access: Access::Key, body: Body::None, params: vec![],
             ok: vec![("200", json_response("The caller", json!({"type": "object", "required": ["user", "auth"], "properties": {"user": {"type": ["string", "null"]}, "auth": {"type": "boolean"}}})))], errors: &[] },
    ]
}

fn schemas(auth: bool) -> Value {
    let opt = |t: &str| json!({"type": [t, "null"]});
    // With keys, an empty userId means the key's user; without, a user must be named.
    let user_id = if auth { json!({"type": "string"}) } else { json!({"type": "string", "minLength": 1}) };
    let entries: Vec<(&str, Value)> = vec![
        (
            "Error",
            json!({"type": "object", "required": ["error"], "properties": {"error": {"type": "string"}}}),
        ),
        (
            "OpenAIError",
            json!({"type": "object", "required": ["error"], "properties": {"error": {"type": "object", "required": ["message", "type"], "properties": {
            "message": {"type": "string"}, "type": {"type": "string"}, "param": {}, "code": {}}}}}),
        ),
        (
            "ServerSentEvent",
            json!({"type": "object", "required": ["data"], "properties": {"data": {"type": "string", "description": "A JSON text (an Event, a chunk, a snapshot) or [DONE]"}, "event": {"type": "string"}}}),
        ),
        (
            "FunctionCall",
            json!({"type": "object", "required": ["name"], "properties": {"id": opt("string"), "name": {"type": "string"}, "args": {}}}),
        ),
        (
            "FunctionResponse",
            json!({"type": "object", "required": ["name"], "properties": {"id": opt("string"), "name": {"type": "string"}, "response": {}}}),
        ),
        (
            "Blob",
            json!({"type": "object", "required": ["mimeType", "data"], "properties": {"mimeType": {"type": "string"}, "data": {"type": "string", "description": "base64"}, "displayName": opt("string")}}),
        ),
        (
            "Part",
            json!({"type": "object", "properties": {
            "text": opt("string"),
            "functionCall": {"oneOf": [schema_ref("FunctionCall"), {"type": "null"}]},
            "functionResponse": {"oneOf": [schema_ref("FunctionResponse"), {"type": "null"}]},
            "inlineData": {"oneOf": [schema_ref("Blob"), {"type": "null"}]}}}),
        ),
        (
            "Content",
            json!({"type": "object", "properties": {"role": {"type": "string"}, "parts": {"type": "array", "items": schema_ref("Part")}}}),
        ),
        (
            "Message",
            json!({"type": "object", "required": ["parts"], "properties": {"role": {"type": "string"}, "parts": {"type": "array", "minItems": 1, "items": schema_ref("Part")}}}),
        ),
        (
            "Event",
            json!({"type": "object", "required": ["id", "invocationId", "author", "timestamp"], "properties": {
            "id": {"type": "string"}, "invocationId": {"type": "string"}, "author": {"type": "string"}, "branch": {"type": "string"},
            "timestamp": {"type": "number"}, "content": schema_ref("Content"), "actions": {"type": "object"},
            "longRunningToolIds": {"type": "array", "items": {"type": "string"}}, "partial": {"type": "boolean"},
            "turnComplete": {"type": "boolean"}, "errorCode": {"type": "string"}, "errorMessage": {"type": "string"},
            "usageMetadata": {"type": "object"}, "agentPath": {"type": "string"}, "timing": {"type": "object"}}}),
        ),
        (
            "Session",
            json!({"type": "object", "required": ["id", "appName", "userId", "state", "events", "lastUpdateTime"],
            "description": "ADK's Session: exactly these fields (ADK's client forbids others)", "properties": {
            "id": {"type": "string"}, "appName": {"type": "string"}, "userId": {"type": "string"}, "state": {"type": "object"},
            "events": {"type": "array", "items": schema_ref("Event")}, "lastUpdateTime": {"type": "number"}}}),
        ),
        (
            "CreateSession",
            json!({"type": "object", "properties": {"state": opt("object"), "sessionId": {
            "type": ["string", "null"], "pattern": "^[A-Za-z0-9_-]{0,128}$", "description": "1-128 characters from [A-Za-z0-9_-]; empty or null: a new id"}}}),
        ),
        (
            "RunAgentRequest",
            json!({"type": "object", "required": ["appName", "userId", "sessionId", "newMessage"], "properties": {
            "appName": {"type": "string"}, "userId": user_id, "sessionId": {"type": "string"},
            "newMessage": schema_ref("Message"), "streaming": {"type": "boolean"},
            "stateDelta": {"type": ["object", "null"], "description": "State changes applied before the run (a user event carrying them)"},
            "invocationId": {"type": ["string", "null"], "description": "Resume this paused invocation: newMessage answers its adk_request_confirmation call(s)"},
            "functionCallEventId": {"type": ["string", "null"]}, "customMetadata": {"type": ["object", "null"]}}}),
        ),
        (
            "UpdateSession",
            json!({"type": "object", "required": ["stateDelta"], "properties": {"stateDelta": {"type": "object", "description": "State changes (ADK's client sends state_delta, also accepted)"}}}),
        ),
        (
            "TelemetryConsent",
            json!({"type": "object", "required": ["telemetry"], "properties": {"telemetry": {"type": "boolean"}}}),
        ),
        (
            "SaveArtifact",
            json!({"type": "object", "required": ["filename", "artifact"], "properties": {
            "filename": {"type": "string", "minLength": 1, "maxLength": 255, "pattern": "^[^/\\\\\\x00]+$", "not": {"enum": [".", ".."]}},
            "artifact": {"type": "object", "required": ["inlineData"], "properties": {"inlineData": {"type": "object", "required": ["mimeType", "data"], "properties": {
                "mimeType": {"type": "string"}, "data": {"type": "string", "contentEncoding": "base64", "pattern": "^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}(?:==)?|[A-Za-z0-9+/]{3}=?)?$"}}}}},
            "customMetadata": {"type": ["object", "null"]}}}),
        ),
        (
            "ArtifactVersion",
            json!({"type": "object", "required": ["version", "canonicalUri", "createTime", "mimeType", "customMetadata"], "properties": {
            "version": {"type": "integer", "minimum": 0}, "canonicalUri": {"type": "string"}, "createTime": {"type": "number"},
            "mimeType": {"type": "string"}, "customMetadata": {"type": "object"}}}),
        ),
        (
            "AppInfo",
            json!({"type": "object", "required": ["name", "rootAgentName", "description", "language", "agents"], "properties": {
            "name": {"type": "string"}, "rootAgentName": {"type": "string"}, "description": {"type": "string"},
            "language": {"type": "string"}, "isComputerUse": {"type": "boolean"}, "agents": {"type": "object"}}}),
        ),
        (
            "Approval",
            json!({"type": "object", "required": ["approved"], "properties": {"approved": {"type": "boolean"}}}),
        ),
        (
            "ApprovalRecorded",
            json!({"type": "object", "required": ["recorded", "resumed", "events"], "properties": {
            "recorded": {"type": "boolean"}, "resumed": {"type": "boolean"}, "events": {"type": "array"}}}),
        ),
        (
            "ArtifactPart",
            json!({"type": "object", "required": ["inlineData"], "properties": {"inlineData": {"type": "object", "required": ["mimeType", "data", "displayName"], "properties": {
            "mimeType": {"type": "string"}, "data": {"type": "string", "description": "base64"}, "displayName": {"type": "string"}}}}}),
        ),
        (
            "Agent",
            json!({"type": "object", "required": ["name", "description", "tools", "subAgents", "root"], "properties": {
            "name": {"type": "string"}, "description": {"type": "string"}, "tools": {"type": "array", "items": {"type": "string"}},
            "subAgents": {"type": "array", "items": {"type": "string"}}, "root": {"type": "boolean"}}}),
        ),
        ("Login", json!({"type": "object", "required": ["key"], "properties": {"key": {"type": "string"}}})),
        (
            "ChatMessage",
            json!({"type": "object", "required": ["role"], "properties": {"role": {"type": "string"}, "content": {"description": "Text, or [{\"type\": \"text\", \"text\": ...}]"}}}),
        ),
        (
            "ChatCompletionRequest",
            json!({"type": "object", "required": ["model", "messages"], "properties": {
            "model": {"type": "string"}, "stream": {"type": "boolean"}, "user": opt("string"),
            "messages": {"type": "array", "items": schema_ref("ChatMessage"),
                         "contains": {"type": "object", "required": ["role"], "properties": {"role": {"const": "user"}}},
                         "description": "The conversation; the last user message is the task (one is required)"}}}),
        ),
        (
            "ChatCompletion",
            json!({"type": "object", "required": ["id", "object", "created", "model", "choices", "usage"], "properties": {
            "id": {"type": "string"}, "object": {"const": "chat.completion"}, "created": {"type": "integer"}, "model": {"type": "string"},
            "choices": {"type": "array", "items": {"type": "object", "required": ["index", "message", "finish_reason"], "properties": {
                "index": {"type": "integer"}, "finish_reason": {"type": "string"},
                "message": {"type": "object", "required": ["role", "content"], "properties": {"role": {"type": "string"}, "content": {"type": "string"}}}}}},
            "usage": {"type": "object", "required": ["prompt_tokens", "completion_tokens", "total_tokens"], "properties": {
                "prompt_tokens": {"type": "integer"}, "completion_tokens": {"type": "integer"}, "total_tokens": {"type": "integer"}}}}}),
        ),
        (
            "ModelList",
            json!({"type": "object", "required": ["object", "data"], "properties": {"object": {"const": "list"}, "data": {"type": "array", "items": {
            "type": "object", "required": ["id", "object", "created", "owned_by"], "properties": {
                "id": {"type": "string"}, "object": {"const": "model"}, "created": {"type": "integer"}, "owned_by": {"type": "string"}, "description": {"type": "string"}}}}}}),
        ),
        (
            "Dashboard",
            json!({"type": "object", "required": ["time", "process", "activeStreams", "metrics", "mcp", "alerts", "suites"], "properties": {
            "time": {"type": "number"}, "process": {"type": "object"}, "activeStreams": {"type": "integer"}, "metrics": {"type": "object"},
            "mcp": {"type": "object", "required": ["available", "servers"], "properties": {"available": {"type": "boolean"}, "servers": {"type": "array"}}},
            "alerts": {"type": "array"},
            "suites": {"type": "array", "items": {"type": "object", "required": ["name", "description", "tools", "configSections", "missing"], "properties": {
                "name": {"type": "string"}, "description": {"type": "string"}, "tools": {"type": "array", "items": {"type": "string"}},
                "configSections": {"type": "array", "items": {"type": "string"}},
                "missing": {"type": "array", "items": {"type": "object", "required": ["what", "fix"], "properties": {"what": {"type": "string"}, "fix": {"type": "string"}}}}}}}}}),
        ),
        (
            "AuditRecord",
            json!({"type": "object", "required": ["id", "time", "kind", "userId", "agent", "sessionId", "summary", "data"], "properties": {
            "id": {"type": "integer"}, "time": {"type": "number"}, "kind": {"type": "string"}, "userId": {"type": "string"}, "agent": {"type": "string"},
            "sessionId": {"type": "string"}, "summary": {"type": "string"}, "data": {}}}),
        ),
        (
            "AuditResult",
            json!({"type": "object", "required": ["records"], "properties": {"records": {"type": "array", "items": schema_ref("AuditRecord")}}}),
        ),
    ];
    Value::Object(entries.into_iter().map(|(k, v)| (k.to_string(), v)).collect())
}

/// What each error status means (every error body is `{"error": "..."}`; the OpenAI
/// endpoint's own errors use OpenAI's shape).
fn error_description(status: u16) -> &'static str {
    match status {
        400 => "Bad request: unreadable JSON or a parameter the handler cannot use",
        401 => "Missing, invalid or revoked API key, or an expired or revoked login",
        403 => "Foreign Host (server.allowed_hosts) or, on state changes, foreign Origin (server.allowed_origins)",
        404 => "No such app, session, call or artifact (another user's count as absent)",
        409 => "Conflict: already exists, or nothing or something else to resume",
        413 => "Body larger than server.max_body_bytes",
        415 => "A state change whose body is not JSON (Content-Type: application/json)",
        422 => "JSON of the wrong shape (a missing field or a wrong type)",
        429 => "Rate limit or open-stream limit of the key (Retry-After)",
        502 => "The agent failed",
        503 => "The store is unreachable",
        _ => "Error",
    }
}

/// The OpenAPI 3.1 document of every endpoint, as this server answers it (`auth`: keys are
/// required; `metrics_public`: `/metrics` needs none).
pub fn document_for(auth: bool, metrics_public: bool) -> Value {
    let mut paths = Map::new();
    for op in operations(auth, metrics_public) {
        let mut params: Vec<Value> = op
            .path
            .split('/')
            .filter_map(|seg| seg.strip_prefix('{').and_then(|s| s.strip_suffix('}')))
            .map(|name| {
                let schema = if name == "version" {
                    json!({"type": "integer", "minimum": 0, "maximum": MAX_INT})
                } else if name == "session" && op.id == "createSessionWithId" {
                    json!({"type": "string", "pattern": SESSION_ID_PATTERN})
                } else {
                    json!({"type": "string"})
                };
                json!({"name": name, "in": "path", "required": true, "schema": schema})
            })
            .collect();
        params.extend(op.params.iter().cloned());
        let mut responses = Map::new();
        for (status, r) in &op.ok {
            responses.insert(status.to_string(), r.clone());
        }
        let needs_key = auth && op.access == Access::Key;
        let state_changing = op.method != "get";
        let mut errors: Vec<u16> = op.errors.to_vec();
        errors.push(403);
        if needs_key {
            errors.extend([401, 503]);
        }
        if op.access == Access::Key {
            errors.push(429);
        }
        match op.body {
            Body::Json(_) => errors.extend([400, 413, 415, 422]),
            Body::OptionalJson(_) => errors.extend([400, 413, 415]),
            Body::None if state_changing => errors.push(415),
            Body::None => {}
        }
        errors.sort_unstable();
        errors.dedup();
        let error_schema = if op.tag == "openai" {
            json!({"anyOf": [schema_ref("Error"), schema_ref("OpenAIError")]})
        } else {
            schema_ref("Error")
        };
        for status in errors {
            responses
                .entry(status.to_string())
                .or_insert_with(|| json_response(error_description(status), error_schema.clone()));
        }
        let mut value = json!({
            "operationId": op.id, "tags": [op.tag], "summary": op.summary, "parameters": params,
            "responses": responses,
        });
        if !needs_key {
            value["security"] = json!([]);
        }
        match op.body {
            Body::Json(s) => {
                value["requestBody"] =
                    json!({"required": true, "content": {"application/json": {"schema": schema_ref(s)}}})
            }
            Body::OptionalJson(s) => {
                value["requestBody"] =
                    json!({"required": false, "content": {"application/json": {"schema": schema_ref(s)}}})
            }
            Body::None => {}
        }
        paths.entry(op.path.to_string()).or_insert_with(|| json!({}))[op.method] = value;
    }
    add_links(&mut paths);
    let security = if auth { json!([{"bearer": []}, {"cookie": []}]) } else { json!([]) };
    json!({
        "openapi": "3.1.0",
        "info": {"title": "VANA API", "version": env!("CARGO_PKG_VERSION"),
                 "description": "Google ADK-compatible agent API, OpenAI-compatible chat, operations endpoints. Authenticate with `Authorization: Bearer <key>` (or the cookie of POST /api/login). State-changing requests must come without an Origin or from the server's own (server.allowed_origins) and carry JSON bodies (Content-Type: application/json)."},
        "paths": paths,
        "components": {"schemas": schemas(auth), "securitySchemes": {
            "bearer": {"type": "http", "scheme": "bearer", "description": "An API key from `vana keys create NAME`"},
            "cookie": {"type": "apiKey", "in": "cookie", "name": crate::auth::COOKIE, "description": "The login cookie of POST /api/login"}}},
        "security": security,
    })
}

/// OpenAPI links from a created session to what uses it (schemathesis follows them).
fn add_links(paths: &mut Map<String, Value>) {
    let from_session = json!({"app": "$response.body#/appName", "user": "$response.body#/userId", "session": "$response.body#/id"});
    let links = json!({
        "GetSession": {"operationId": "getSession", "parameters": from_session},
        "DeleteSession": {"operationId": "deleteSession", "parameters": from_session},
        "ListArtifacts": {"operationId": "listArtifacts", "parameters": from_session},
        "UpdateSession": {"operationId": "updateSession", "parameters": from_session},
        "Run": {"operationId": "run", "requestBody": {"appName": "$response.body#/appName", "userId": "$response.body#/userId", "sessionId": "$response.body#/id"}},
        "RunSse": {"operationId": "runSse", "requestBody": {"appName": "$response.body#/appName", "userId": "$response.body#/userId", "sessionId": "$response.body#/id"}},
    });
    for (path, method) in [
        ("/apps/{app}/users/{user}/sessions", "post"),
        ("/apps/{app}/users/{user}/sessions/{session}", "post"),
    ] {
        if let Some(ok) =
            paths.get_mut(path).and_then(|p| p.get_mut(method)).and_then(|o| o["responses"].get_mut("200"))
        {
            ok["links"] = links.clone();
        }
    }
}

/// The document of a server with keys required and `/metrics` behind them.
pub fn document() -> Value {
    document_for(true, false)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn document_lists_every_endpoint_for_each_kind_of_server() {
        for (auth, public) in [(true, false), (true, true), (false, false)] {
            let doc = document_for(auth, public);
            let ops = operations(auth, public);
            let paths = doc["paths"].as_object().expect("paths");
            assert_eq!(
                paths.len(),
                ops.iter().map(|o| o.path).collect::<std::collections::BTreeSet<_>>().len()
            );
            for op in &ops {
                let o = &paths[op.path][op.method];
                assert_eq!(o["operationId"], op.id, "{} {}", op.method, op.path);
                for r in o["responses"].as_object().unwrap().values() {
                    for media in r["content"].as_object().into_iter().flat_map(|c| c.values()) {
                        let reference = media["schema"]["$ref"].as_str().unwrap_or("");
                        if let Some(name) = reference.strip_prefix("#/components/schemas/") {
                            assert!(doc["components"]["schemas"].get(name).is_some(), "{name} is defined");
                        }
                    }
                }
            }
            let metrics = &doc["paths"]["/metrics"]["get"];
            assert_eq!(metrics["security"] == json!([]), public || !auth, "{metrics}");
            assert_eq!(metrics["responses"].get("401").is_some(), auth && !public);
            let run = &doc["paths"]["/run"]["post"]["responses"];
            for status in ["200", "400", "403", "404", "413", "415", "422", "429"] {
                assert!(run.get(status).is_some(), "/run documents {status}: {run}");
            }
        }
    }
}
