//! VANA as an MCP server: its registered tools and each agent (`ask_<agent>`, taking a task
//! and returning the agent's final answer), over stdio (`vana mcp serve`) or streamable HTTP
//! (an axum router the HTTP server mounts), under the same policy as the runner:
//!
//! - **Who.** Every request acts as a [`Caller`]: over HTTP the one the server's authentication
//!   put into the request's extensions (no caller: refused), over stdio the one `vana mcp serve`
//!   chose at start. Direct tool calls of one user share one VANA session (and so one sandbox
//!   workspace) per server process; each `ask_<agent>` runs in a new session of that user.
//! - **Guardrails.** `[guardrails]` allow/deny lists apply with the agent name [`MCP_AGENT`]
//!   (and `*` in `deny`), to VANA's tools and to the `ask_<agent>` tools alike: a blocked tool
//!   is not listed and a call to it is refused.
//! - **Approval.** A tool that `requires_confirmation()` runs only after the client's user
//!   accepted an elicitation naming the tool and its arguments (see [`approval`]); a client
//!   that cannot be asked is refused. An `ask_<agent>` run that pauses for an approval asks the
//!   same way and resumes with `Runner::approve`.
//! - **Audit.** Every call is recorded (kind `mcp_call`, each approval decision of an agent's
//!   call as `approval`) with the caller's user and key.

pub mod approval;
pub mod audit;
pub mod caller;

pub use audit::{AuditEntry, AuditKind};
pub use caller::{Caller, ANONYMOUS_USER};

use approval::{Asker, Decision, PausedCall, PendingStore, Waiting};
use async_trait::async_trait;
use rmcp::model::{
    CallToolRequestParams, CallToolResponse, CallToolResult, ContentBlock, Implementation, InputResponses,
    ListToolsResult, PaginatedRequestParams, ServerCapabilities, ServerConfig,
};
use rmcp::service::{RequestContext, RoleServer};
use rmcp::{ErrorData, ServerHandler};
use serde_json::{json, Value};
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use vana_core::{Content, Runner, Tool, ToolContext, ToolOutput, ToolPolicy};

/// Prefix of the tools that hand a task to an agent.
pub const ASK_PREFIX: &str = "ask_";

/// The agent name `[guardrails]` allow/deny lists use for direct MCP calls (a direct call has
/// no agent): `deny = { mcp = ["execute_code"] }` blocks it for MCP clients only, `*` for all.
pub const MCP_AGENT: &str = "mcp";

/// Longest text of arguments or errors kept in an audit record or a message.
const MAX_TEXT: usize = 2000;

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
    /// The guardrails (`[guardrails]` allow/deny), applied with agent name [`MCP_AGENT`].
    fn policy(&self) -> ToolPolicy;
    /// Stores an audit record durably before the call's result is returned (failures are the
    /// backend's to log).
    async fn audit(&self, entry: AuditEntry);
}

/// State every MCP session of one server shares.
struct Shared {
    backend: Arc<dyn Backend>,
    /// The caller of every request (stdio); `None`: each request's extensions name it (HTTP).
    caller: Option<Caller>,
    /// Approvals waiting for a client's retry (protocol 2026-07-28).
    pending: PendingStore,
    /// User -> the VANA session of that user's direct tool calls.
    sessions: Mutex<HashMap<String, String>>,
}

/// The MCP server handler over a [`Backend`].
#[derive(Clone)]
pub struct VanaServer {
    shared: Arc<Shared>,
}

/// One call's circumstances: who, and how to ask them.
struct Call<'a> {
    caller: &'a Caller,
    asker: &'a Asker,
    /// A retry answering an `InputRequiredResult`: its `requestState` and `inputResponses`.
    answer: Option<(String, InputResponses)>,
}

impl VanaServer {
    /// A server whose requests name their caller in their HTTP extensions (what
    /// [`http_service`] builds).
    pub fn new(backend: Arc<dyn Backend>) -> Self {
        Self::build(backend, None)
    }

    /// A server whose every request acts as `caller` (stdio).
    pub fn for_caller(backend: Arc<dyn Backend>, caller: Caller) -> Self {
        Self::build(backend, Some(caller))
    }

    fn build(backend: Arc<dyn Backend>, caller: Option<Caller>) -> Self {
        VanaServer {
            shared: Arc::new(Shared {
                backend,
                caller,
                pending: PendingStore::default(),
                sessions: Mutex::new(HashMap::new()),
            }),
        }
    }

    fn backend(&self) -> &dyn Backend {
        self.shared.backend.as_ref()
    }

    /// The tool declarations the server lists (MCP `Tool` JSON), without those the guardrails
    /// block for [`MCP_AGENT`].
    pub fn tool_list(&self) -> Vec<Value> {
        let policy = self.backend().policy();
        let mut out: Vec<Value> = self
            .backend()
            .tools()
            .iter()
            .filter(|t| policy.allows(MCP_AGENT, t.name()))
            .map(|t| {
                let mut description = t.description().to_string();
                if t.requires_confirmation() {
                    description.push_str(
                        " (VANA asks you to approve each call through MCP elicitation; clients without it are refused.)",
                    );
                }
                json!({"name": t.name(), "description": description, "inputSchema": object_schema(t.parameters())})
            })
            .collect();
        for (name, description) in self.backend().agents() {
            let tool = format!("{ASK_PREFIX}{name}");
            if !policy.allows(MCP_AGENT, &tool) {
                continue;
            }
            out.push(json!({
                "name": tool,
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

    /// The caller of a request: the server's own, else the one the HTTP layer in front of the
    /// endpoint put into the request's extensions.
    fn caller_of(&self, ctx: &RequestContext<RoleServer>) -> Result<Caller, String> {
        if let Some(c) = &self.shared.caller {
            return Ok(c.clone());
        }
        ctx.extensions
            .get::<axum::http::request::Parts>()
            .and_then(|p| p.extensions.get::<Caller>())
            .cloned()
            .ok_or_else(|| {
                "this MCP endpoint knows no caller for the request (the server must authenticate it and pass a vana_mcp::server::Caller); nothing ran".to_string()
            })
    }

    /// The VANA session of `user`'s direct tool calls.
    fn session_of(&self, user: &str) -> String {
        let mut map = self.shared.sessions.lock().unwrap_or_else(|e| e.into_inner());
        map.entry(user.to_string()).or_insert_with(|| format!("mcp-{}", vana_core::event::new_id())).clone()
    }

    /// Runs one tool or agent under the guardrails; every outcome is audited and errors come
    /// back as `isError` results with the reason.
    async fn call(&self, name: &str, args: Value, call: Call<'_>) -> CallToolResponse {
        let policy = self.backend().policy();
        let agent =
            name.strip_prefix(ASK_PREFIX).filter(|a| self.backend().agents().iter().any(|(n, _)| n == a));
        let tool = if agent.is_none() {
            self.backend().tools().into_iter().find(|t| t.name() == name)
        } else {
            None
        };
        if agent.is_none() && tool.is_none() {
            self.audit(call.caller, MCP_AGENT, "", name, &args, "unknown", Some("no such tool")).await;
            return error_result(&format!("unknown tool `{name}`")).into();
        }
        if !policy.allows(MCP_AGENT, name) {
            self.audit(call.caller, MCP_AGENT, "", name, &args, "denied", None).await;
            return error_result(&format!(
                "tool `{name}` is not allowed for MCP callers by the tool policy in the config ([guardrails] deny/allow for agent `{MCP_AGENT}` or `*`); nothing ran"
            ))
            .into();
        }
        match (agent, tool) {
            (Some(agent), _) => self.ask(agent, name, args, call).await,
            (None, Some(tool)) => self.call_tool_directly(tool, args, call).await,
            (None, None) => unreachable!("checked above"),
        }
    }

    async fn call_tool_directly(&self, tool: Arc<dyn Tool>, args: Value, call: Call<'_>) -> CallToolResponse {
        let name = tool.name().to_string();
        let session = self.session_of(&call.caller.user);
        let caller = call.caller;
        let mut decision = "allowed";
        if tool.requires_confirmation() {
            let answered = match call.answer {
                Some((token, responses)) => match self.shared.pending.take(&token, &caller.user) {
                    Ok(Waiting::Tool { name: n, args: a }) if n == name && a == args => {
                        approval::decision_in(&responses, "approve")
                    }
                    Ok(_) => Decision::Failed(
                        "the approval this call answers was given for another tool or other arguments".into(),
                    ),
                    Err(e) => Decision::Failed(e),
                },
                None => match call.asker {
                    Asker::Unable => {
                        self.audit(
                            caller,
                            MCP_AGENT,
                            &session,
                            &name,
                            &args,
                            "refused",
                            Some("the client cannot be asked (no elicitation capability)"),
                        )
                        .await;
                        return error_result(&format!(
                            "`{name}` runs only after a person approves each call, and this MCP client did not declare the elicitation capability, so VANA cannot ask; nothing ran. Use an MCP client that supports elicitation, or let an agent call it (`vana run`, the web UI or /run), where the approval waits for `vana approve` or the UI."
                        ))
                        .into();
                    }
                    Asker::Inline(peer) => approval::elicit_inline(peer, tool_message(&name, &args)).await,
                    Asker::Deferred => {
                        let token = self
                            .shared
                            .pending
                            .put(&caller.user, Waiting::Tool { name: name.clone(), args: args.clone() });
                        return approval::input_required(
                            token,
                            vec![("approve".into(), tool_message(&name, &args))],
                        )
                        .into();
                    }
                },
            };
            if answered != Decision::Approved {
                let why = match &answered {
                    Decision::Failed(e) => e.clone(),
                    d => format!("the user {} it", d.word()),
                };
                self.audit(caller, MCP_AGENT, &session, &name, &args, answered.word(), Some(&why)).await;
                return error_result(&format!("`{name}` did not run: {why}; nothing was changed")).into();
            }
            decision = "approved";
        }
        let ctx = ToolContext::standalone(MCP_AGENT, &caller.user, &session);
        let timeout = tool.timeout().unwrap_or_else(|| self.backend().tool_timeout());
        let cancel = ctx.cancel.clone();
        let result = match tokio::time::timeout(timeout, tool.call(args.clone(), ctx)).await {
            Ok(r) => r.map_err(|e| e.to_string()),
            Err(_) => {
                cancel.cancel();
                Err(format!("timed out after {timeout:?}"))
            }
        };
        match result {
            Ok(out) => {
                self.audit(caller, MCP_AGENT, &session, &name, &args, decision, None).await;
                output_result(out).into()
            }
            Err(e) => {
                self.audit(caller, MCP_AGENT, &session, &name, &args, decision, Some(&e)).await;
                error_result(&e).into()
            }
        }
    }

    /// `ask_<agent>`: runs the agent as the caller's user in a new session; when it pauses for
    /// approvals, asks the client's user and resumes.
    async fn ask(&self, agent: &str, name: &str, args: Value, call: Call<'_>) -> CallToolResponse {
        let caller = call.caller;
        match self.drive(agent, &args, call).await {
            Ok(Driven::Answer { session, answer }) => {
                self.audit(caller, agent, &session, name, &args, "allowed", None).await;
                CallToolResult::success(vec![ContentBlock::text(answer)]).into()
            }
            Ok(Driven::Ask(r)) => r.into(),
            Err((session, e)) => {
                self.audit(caller, agent, &session, name, &args, "allowed", Some(&e)).await;
                error_result(&e).into()
            }
        }
    }

    async fn drive(&self, agent: &str, args: &Value, call: Call<'_>) -> Result<Driven, (String, String)> {
        let user = call.caller.user.clone();
        let runner = self.backend().runner(agent).await.map_err(|e| (String::new(), e))?;
        let (session, mut inv) = match call.answer {
            None => {
                let task = args.get("task").and_then(Value::as_str).unwrap_or_default();
                if task.trim().is_empty() {
                    return Err((String::new(), "`task` (a non-empty string) is required".into()));
                }
                let session =
                    runner.create_session(&user).await.map_err(|e| (String::new(), e.to_string()))?;
                let inv = runner
                    .run(&user, &session.id, Content::user_text(task), false)
                    .await
                    .map_err(|e| (session.id.clone(), e.to_string()))?;
                (session.id, inv)
            }
            Some((token, responses)) => {
                let (session, calls) = match self.shared.pending.take(&token, &user) {
                    Ok(Waiting::Ask { agent: a, session, calls }) if a == agent => (session, calls),
                    Ok(_) => {
                        return Err((
                            String::new(),
                            "the approval this call answers was given for another agent".into(),
                        ))
                    }
                    Err(e) => return Err((String::new(), e)),
                };
                let decided = calls
                    .into_iter()
                    .map(|c| (approval::decision_in(&responses, &c.id), c))
                    .collect::<Vec<_>>();
                let inv = self
                    .decide(&runner, call.caller, &session, decided)
                    .await
                    .map_err(|e| (session.clone(), e))?;
                (session, inv)
            }
        };
        let mut events: Vec<vana_core::Event> = Vec::new();
        loop {
            let (evs, outcome) = inv.collect().await;
            events.extend(evs);
            if outcome != vana_core::Outcome::Paused {
                return answer_of(agent, &session, &events, outcome)
                    .map(|answer| Driven::Answer { session: session.clone(), answer })
                    .map_err(|e| (session.clone(), e));
            }
            let calls = paused_calls(&events);
            let decided = match call.asker {
                Asker::Unable => {
                    let ids: Vec<&str> = calls.iter().map(|c| c.id.as_str()).collect();
                    return Err((
                        session.clone(),
                        format!(
                            "agent `{agent}` is waiting for a human to approve a tool call (session {session}, call {}); this MCP client did not declare the elicitation capability, so VANA cannot ask it: approve with `vana approve --user {user} {session} CALL_ID`, the web UI or the approvals endpoint",
                            ids.join(", ")
                        ),
                    ));
                }
                Asker::Deferred => {
                    let asks = calls.iter().map(|c| (c.id.clone(), agent_message(c, &session))).collect();
                    let token = self.shared.pending.put(
                        &user,
                        Waiting::Ask { agent: agent.to_string(), session: session.clone(), calls },
                    );
                    return Ok(Driven::Ask(approval::input_required(token, asks)));
                }
                Asker::Inline(peer) => {
                    let mut decided = Vec::new();
                    for c in calls {
                        decided.push((approval::elicit_inline(peer, agent_message(&c, &session)).await, c));
                    }
                    decided
                }
            };
            inv = self
                .decide(&runner, call.caller, &session, decided)
                .await
                .map_err(|e| (session.clone(), e))?;
        }
    }

    /// Records each decision (`Runner::approve`, audited as `approval`) and returns the resumed
    /// invocation.
    async fn decide(
        &self,
        runner: &Runner,
        caller: &Caller,
        session: &str,
        decided: Vec<(Decision, PausedCall)>,
    ) -> Result<vana_core::Invocation, String> {
        let mut resumed = None;
        for (d, c) in decided {
            let approved = d == Decision::Approved;
            let mut data = json!({
                "callId": c.id, "tool": c.tool, "args": clip_value(&c.args), "approved": approved,
                "decision": d.word(), "via": "mcp elicitation", "keyId": caller.key_id, "transport": caller.transport
            });
            if let Decision::Failed(e) = &d {
                data["error"] = json!(clip(e));
            }
            self.shared
                .backend
                .audit(AuditEntry {
                    time: vana_core::event::now_secs(),
                    kind: AuditKind::Approval,
                    user_id: caller.user.clone(),
                    agent: c.agent.clone(),
                    session_id: session.to_string(),
                    summary: clip(&format!(
                        "approval {} tool call {} ({}) by {} over MCP",
                        if approved { "approved" } else { "denied" },
                        c.id,
                        c.tool,
                        caller.describe()
                    )),
                    data,
                })
                .await;
            if let Some(inv) =
                runner.approve(&caller.user, session, &c.id, approved).await.map_err(|e| e.to_string())?
            {
                resumed = Some(inv);
            }
        }
        resumed.ok_or_else(|| format!("the paused run of session {session} did not resume"))
    }

    #[allow(clippy::too_many_arguments)]
    async fn audit(
        &self,
        caller: &Caller,
        agent: &str,
        session: &str,
        tool: &str,
        args: &Value,
        decision: &str,
        error: Option<&str>,
    ) {
        let outcome = match error {
            None => String::new(),
            Some(e) => format!(": {}", clip_to(e, 160)),
        };
        let mut data = json!({
            "tool": tool, "args": clip_value(args), "decision": decision, "ok": error.is_none(),
            "keyId": caller.key_id, "transport": caller.transport
        });
        if let Some(e) = error {
            data["error"] = json!(clip(e));
        }
        self.shared
            .backend
            .audit(AuditEntry {
                time: vana_core::event::now_secs(),
                kind: AuditKind::ToolCall,
                user_id: caller.user.clone(),
                agent: agent.to_string(),
                session_id: session.to_string(),
                summary: clip_to(
                    &format!("mcp_call {tool} by {}: {decision}{outcome}", caller.describe()),
                    300,
                ),
                data,
            })
            .await;
    }
}

/// How a drive of an agent ended.
enum Driven {
    /// The agent's final answer.
    Answer { session: String, answer: String },
    /// Waiting for the client's retry with its user's decisions.
    Ask(rmcp::model::InputRequiredResult),
}

/// The calls the last pause waits for.
fn paused_calls(events: &[vana_core::Event]) -> Vec<PausedCall> {
    let Some(pause) = events.iter().rev().find(|e| !e.actions.requested_tool_confirmations.is_empty()) else {
        return Vec::new();
    };
    pause
        .actions
        .requested_tool_confirmations
        .iter()
        .map(|(id, v)| PausedCall {
            id: id.clone(),
            agent: pause.author.clone(),
            tool: v.get("tool").and_then(Value::as_str).unwrap_or_default().to_string(),
            args: v.get("args").cloned().unwrap_or(Value::Null),
        })
        .collect()
}

/// The agent's final answer, or why there is none.
fn answer_of(
    agent: &str,
    session: &str,
    events: &[vana_core::Event],
    outcome: vana_core::Outcome,
) -> Result<String, String> {
    let finals: Vec<&vana_core::Event> = events.iter().filter(|e| e.is_final_response()).collect();
    let answer = finals.iter().rev().find(|e| e.author == agent).or_else(|| finals.last()).map(|e| e.text());
    if let Some(err) = events.iter().rev().find(|e| e.is_error()) {
        if answer.is_none() || outcome == vana_core::Outcome::Ended {
            return Err(format!(
                "agent `{agent}` failed: {} (session {session})",
                err.error_message.as_deref().unwrap_or(err.error_code.as_deref().unwrap_or("error"))
            ));
        }
    }
    answer.ok_or_else(|| format!("agent `{agent}` finished without an answer (session {session})"))
}

fn tool_message(name: &str, args: &Value) -> String {
    format!(
        "VANA: run the tool `{name}` with these arguments?\n{}\n\nIt needs your approval because it can change data. Accept to run it once; decline to run nothing.",
        clip(&serde_json::to_string_pretty(args).unwrap_or_default())
    )
}

fn agent_message(c: &PausedCall, session: &str) -> String {
    format!(
        "VANA: agent `{}` wants to run the tool `{}` with these arguments (session {session})?\n{}\n\nAccept to run it once; decline and the agent goes on without it.",
        c.agent,
        c.tool,
        clip(&serde_json::to_string_pretty(&c.args).unwrap_or_default())
    )
}

fn clip(s: &str) -> String {
    clip_to(s, MAX_TEXT)
}

fn clip_to(s: &str, max: usize) -> String {
    if s.chars().count() <= max {
        return s.to_string();
    }
    let mut out: String = s.chars().take(max).collect();
    out.push_str("…[truncated]");
    out
}

/// A JSON value whole when short, else its clipped JSON text.
fn clip_value(v: &Value) -> Value {
    let text = v.to_string();
    if text.chars().count() <= MAX_TEXT {
        v.clone()
    } else {
        Value::String(clip(&text))
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
    // `resultType` is required on protocol 2026-07-28 (rmcp drops it for older peers).
    let mut result = json!({"resultType": "complete", "content": blocks});
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
                 returns the agent's final answer. Tools that change data ask you to approve each call \
                 (MCP elicitation).",
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
        context: RequestContext<RoleServer>,
    ) -> Result<CallToolResponse, ErrorData> {
        let caller = match self.caller_of(&context) {
            Ok(c) => c,
            Err(e) => return Ok(error_result(&e).into()),
        };
        let asker = Asker::of(&context);
        let answer = request.request_state.map(|s| (s, request.input_responses.unwrap_or_default()));
        let args = request.arguments.map(Value::Object).unwrap_or_else(|| json!({}));
        Ok(self.call(&request.name, args, Call { caller: &caller, asker: &asker, answer }).await)
    }
}

/// Serves `backend` over this process's stdin/stdout as `caller` until the client disconnects.
pub async fn serve_stdio(backend: Arc<dyn Backend>, caller: Caller) -> Result<(), String> {
    use rmcp::ServiceExt;
    let service = VanaServer::for_caller(backend, caller)
        .serve(rmcp::transport::stdio())
        .await
        .map_err(|e| format!("MCP handshake on stdio failed: {e}"))?;
    service.waiting().await.map_err(|e| e.to_string())?;
    Ok(())
}

/// The streamable HTTP MCP endpoint as a tower service (mount it where you like). Each request
/// must carry a [`Caller`] in its extensions (put there by the authentication in front).
pub fn http_service(
    backend: Arc<dyn Backend>,
    config: rmcp::transport::StreamableHttpServerConfig,
) -> rmcp::transport::streamable_http_server::StreamableHttpService<
    VanaServer,
    rmcp::transport::streamable_http_server::session::local::LocalSessionManager,
> {
    let server = VanaServer::new(backend);
    rmcp::transport::streamable_http_server::StreamableHttpService::new(
        move || Ok(server.clone()),
        Default::default(),
        config,
    )
}

/// An axum router serving the MCP endpoint at `/mcp` (merge it into the HTTP server's router,
/// behind a layer that inserts each request's [`Caller`]). Requests must name a loopback `Host`
/// (DNS-rebinding protection); use [`http_service`] with your own config to allow others.
pub fn http_router(backend: Arc<dyn Backend>) -> axum::Router {
    axum::Router::new().route_service("/mcp", http_service(backend, Default::default()))
}

/// [`http_router`] for a server whose own layer in front already checks every request's `Host`
/// against its allow-list (vana-server's guard): no second, loopback-only check here, so the
/// names the operator allowed reach `/mcp` too.
pub fn http_router_behind_host_check(backend: Arc<dyn Backend>) -> axum::Router {
    let config = rmcp::transport::StreamableHttpServerConfig::default().disable_allowed_hosts();
    axum::Router::new().route_service("/mcp", http_service(backend, config))
}
