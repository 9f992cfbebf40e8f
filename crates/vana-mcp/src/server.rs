//! VANA as an MCP server: its registered tools and each agent (`ask_<agent>`, taking a task
//! and returning the agent's final answer), over stdio (`vana mcp serve`) or streamable HTTP
//! (an axum router the HTTP server mounts).

use async_trait::async_trait;
use rmcp::model::{
    CallToolRequestParams, CallToolResponse, CallToolResult, ContentBlock, Implementation, ListToolsResult,
    PaginatedRequestParams, ServerCapabilities, ServerConfig,
};
use rmcp::service::{RequestContext, RoleServer};
use rmcp::{ErrorData, ServerHandler};
use serde_json::{json, Value};
use std::sync::Arc;
use std::time::Duration;
use vana_core::{Content, Runner, Tool, ToolContext, ToolOutput};

/// Prefix of the tools that hand a task to an agent.
pub const ASK_PREFIX: &str = "ask_";

/// User id of sessions that MCP clients start.
pub const MCP_USER: &str = "mcp";

/// What the server exposes; `vana_app::App` implements it.
#[async_trait]
pub trait Backend: Send + Sync + 'static {
    /// VANA's own tools (the app's tool registry).
    fn tools(&self) -> Vec<Arc<dyn Tool>>;
    /// Agents offered as `ask_<name>` tools: (name, description).
    fn agents(&self) -> Vec<(String, String)>;
    /// A runner whose root is `agent`, with everything the agent needs (MCP tools included).
    async fn runner(&self, agent: &str) -> Result<Runner, String>;
    /// Deadline of a direct tool call.
    fn tool_timeout(&self) -> Duration {
        Duration::from_secs(300)
    }
}

/// The MCP server handler over a [`Backend`].
#[derive(Clone)]
pub struct VanaServer {
    backend: Arc<dyn Backend>,
    /// Tool calls of one MCP session share a VANA session (and so a sandbox workspace).
    session: String,
}

impl VanaServer {
    /// A server exposing `backend` (one per MCP session).
    pub fn new(backend: Arc<dyn Backend>) -> Self {
        VanaServer { backend, session: format!("mcp-{}", vana_core::event::new_id()) }
    }

    /// The tool declarations the server lists (MCP `Tool` JSON).
    pub fn tool_list(&self) -> Vec<Value> {
        let mut out: Vec<Value> = self
            .backend
            .tools()
            .iter()
            .map(|t| json!({"name": t.name(), "description": t.description(), "inputSchema": object_schema(t.parameters())}))
            .collect();
        for (name, description) in self.backend.agents() {
            out.push(json!({
                "name": format!("{ASK_PREFIX}{name}"),
                "description": format!("Ask VANA's `{name}` agent to do a task and return its final answer. {description}"),
                "inputSchema": {
                    "type": "object",
                    "properties": {"task": {"type": "string", "description": "What the agent should do, in plain language"}},
                    "required": ["task"]
                }
            }));
        }
        out
    }

    /// Runs one tool or agent; errors come back as `isError` results with the reason.
    pub async fn call(&self, name: &str, args: Value) -> CallToolResult {
        if let Some(agent) = name.strip_prefix(ASK_PREFIX) {
            if self.backend.agents().iter().any(|(n, _)| n == agent) {
                let task = args.get("task").and_then(Value::as_str).unwrap_or_default();
                if task.trim().is_empty() {
                    return error_result("`task` (a non-empty string) is required");
                }
                return match ask(self.backend.as_ref(), agent, task).await {
                    Ok(answer) => CallToolResult::success(vec![ContentBlock::text(answer)]),
                    Err(e) => error_result(&e),
                };
            }
        }
        let Some(tool) = self.backend.tools().into_iter().find(|t| t.name() == name) else {
            return error_result(&format!("unknown tool `{name}`"));
        };
        let ctx = ToolContext::standalone("mcp", MCP_USER, &self.session);
        let timeout = tool.timeout().unwrap_or_else(|| self.backend.tool_timeout());
        let cancel = ctx.cancel.clone();
        match tokio::time::timeout(timeout, tool.call(args, ctx)).await {
            Ok(Ok(out)) => output_result(out),
            Ok(Err(e)) => error_result(&e.to_string()),
            Err(_) => {
                cancel.cancel();
                error_result(&format!("timed out after {timeout:?}"))
            }
        }
    }
}

/// Runs `agent` on `task` in a new session and returns its final answer.
pub async fn ask(backend: &dyn Backend, agent: &str, task: &str) -> Result<String, String> {
    let runner = backend.runner(agent).await?;
    let session = runner.create_session(MCP_USER).await.map_err(|e| e.to_string())?;
    let inv = runner
        .run(MCP_USER, &session.id, Content::user_text(task), false)
        .await
        .map_err(|e| e.to_string())?;
    let (events, outcome) = inv.collect().await;
    let finals: Vec<&vana_core::Event> = events.iter().filter(|e| e.is_final_response()).collect();
    let answer = finals.iter().rev().find(|e| e.author == agent).or_else(|| finals.last()).map(|e| e.text());
    if let Some(err) = events.iter().rev().find(|e| e.is_error()) {
        if answer.is_none() || outcome == vana_core::Outcome::Ended {
            return Err(format!(
                "agent `{agent}` failed: {} (session {})",
                err.error_message.as_deref().unwrap_or(err.error_code.as_deref().unwrap_or("error")),
                session.id
            ));
        }
    }
    match (answer, outcome) {
        (_, vana_core::Outcome::Paused) => Err(format!(
            "agent `{agent}` is waiting for a human to approve a tool call (session {}; `vana approve`)",
            session.id
        )),
        (Some(a), _) => Ok(a),
        (None, _) => Err(format!("agent `{agent}` finished without an answer (session {})", session.id)),
    }
}

/// MCP requires an object schema: one without `type` gets it, anything else becomes `{}`-args.
fn object_schema(mut v: Value) -> Value {
    match v.as_object_mut() {
        Some(m) if m.get("type").is_none() => {
            m.insert("type".into(), json!("object"));
            v
        }
        Some(m) if m.get("type").and_then(Value::as_str) == Some("object") => v,
        _ => json!({"type": "object", "properties": {}}),
    }
}

fn error_result(msg: &str) -> CallToolResult {
    CallToolResult::error(vec![ContentBlock::text(msg.to_string())])
}

/// A tool's output as an MCP result: JSON text plus structured content, images as image
/// content and other artifacts as embedded resources.
fn output_result(out: ToolOutput) -> CallToolResult {
    let text = serde_json::to_string_pretty(&out.response).unwrap_or_default();
    let mut blocks = vec![json!({"type": "text", "text": text})];
    for a in &out.artifacts {
        if a.mime_type.starts_with("image/") {
            blocks.push(json!({"type": "image", "data": a.data, "mimeType": a.mime_type}));
        } else {
            let uri = format!("vana://artifact/{}", a.display_name.as_deref().unwrap_or("artifact"));
            blocks.push(json!({"type": "resource", "resource": {"uri": uri, "mimeType": a.mime_type, "blob": a.data}}));
        }
    }
    let mut result = json!({"content": blocks});
    if out.response.is_object() {
        result["structuredContent"] = out.response;
    }
    serde_json::from_value(result).unwrap_or_else(|e| error_result(&format!("cannot encode the result: {e}")))
}

impl ServerHandler for VanaServer {
    fn get_info(&self) -> ServerConfig {
        ServerConfig::new(ServerCapabilities::builder().enable_tools().build())
            .with_server_info(Implementation::new("vana", env!("CARGO_PKG_VERSION")))
            .with_instructions(
                "VANA's tools, and its agents as ask_<agent> tools: give one a task in plain language and it \
                 returns the agent's final answer.",
            )
    }

    async fn list_tools(
        &self,
        _request: Option<PaginatedRequestParams>,
        _context: RequestContext<RoleServer>,
    ) -> Result<ListToolsResult, ErrorData> {
        let tools = self
            .tool_list()
            .into_iter()
            .map(serde_json::from_value)
            .collect::<Result<Vec<rmcp::model::Tool>, _>>()
            .map_err(|e| ErrorData::internal_error(format!("tool declaration: {e}"), None))?;
        Ok(ListToolsResult::with_all_items(tools))
    }

    async fn call_tool(
        &self,
        request: CallToolRequestParams,
        _context: RequestContext<RoleServer>,
    ) -> Result<CallToolResponse, ErrorData> {
        let args = request.arguments.map(Value::Object).unwrap_or_else(|| json!({}));
        Ok(self.call(&request.name, args).await.into())
    }
}

/// Serves `backend` over this process's stdin/stdout until the client disconnects.
pub async fn serve_stdio(backend: Arc<dyn Backend>) -> Result<(), String> {
    use rmcp::ServiceExt;
    let service = VanaServer::new(backend)
        .serve(rmcp::transport::stdio())
        .await
        .map_err(|e| format!("MCP handshake on stdio failed: {e}"))?;
    service.waiting().await.map_err(|e| e.to_string())?;
    Ok(())
}

/// The streamable HTTP MCP endpoint as a tower service (mount it where you like).
pub fn http_service(
    backend: Arc<dyn Backend>,
    config: rmcp::transport::StreamableHttpServerConfig,
) -> rmcp::transport::streamable_http_server::StreamableHttpService<
    VanaServer,
    rmcp::transport::streamable_http_server::session::local::LocalSessionManager,
> {
    rmcp::transport::streamable_http_server::StreamableHttpService::new(
        move || Ok(VanaServer::new(backend.clone())),
        Default::default(),
        config,
    )
}

/// An axum router serving the MCP endpoint at `/mcp` (merge it into the HTTP server's router).
/// Requests must name a loopback `Host` (DNS-rebinding protection); use [`http_service`] with
/// your own config to allow others.
pub fn http_router(backend: Arc<dyn Backend>) -> axum::Router {
    axum::Router::new().route_service("/mcp", http_service(backend, Default::default()))
}
