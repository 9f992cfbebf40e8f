//! What VANA's MCP server asks its backend to put in the audit log: each direct tool call and
//! each decision on a paused call, in the server's own terms (the backend, `vana_app::App`,
//! stores them as the store's audit records).

use serde_json::Value;

/// Which event an entry records.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AuditKind {
    /// A tool called directly by an MCP client (kind `mcp_call` in the audit log).
    ToolCall,
    /// A user's decision on a paused call, asked over MCP (kind `approval`).
    Approval,
}

impl AuditKind {
    /// The audit log's name for this kind.
    pub fn as_str(self) -> &'static str {
        match self {
            AuditKind::ToolCall => "mcp_call",
            AuditKind::Approval => "approval",
        }
    }
}

/// One audit log entry from the MCP server.
#[derive(Debug, Clone, PartialEq)]
pub struct AuditEntry {
    /// When it happened, seconds since the Unix epoch.
    pub time: f64,
    /// What happened.
    pub kind: AuditKind,
    /// The caller's user.
    pub user_id: String,
    /// The agent concerned (`mcp`, [`super::MCP_AGENT`], for a tool called directly).
    pub agent: String,
    /// The VANA session concerned.
    pub session_id: String,
    /// One line a person can read.
    pub summary: String,
    /// Structured details (tool, arguments, decision, key id, transport), already clipped.
    pub data: Value,
}
