//! Who calls VANA's MCP server. Over HTTP the server's authentication decides (a layer in front
//! of `/mcp` puts a [`Caller`] into the request's extensions); over stdio `vana mcp serve`
//! decides once at start. A request without a caller is refused.

/// User of MCP calls when the HTTP server runs without authentication (`--no-auth`).
pub const ANONYMOUS_USER: &str = "mcp";

/// The identity one MCP request acts as: its VANA user (sessions, workspaces, audit records)
/// and the API key that proved it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Caller {
    /// The VANA user the call acts as.
    pub user: String,
    /// Id of the API key that identified the caller (none for the local operator or `--no-auth`).
    pub key_id: Option<String>,
    /// How the caller reached VANA: `http` or `stdio`.
    pub transport: &'static str,
}

impl Caller {
    /// A caller identified by an API key (the key's user).
    pub fn with_key(user: &str, key_id: &str, transport: &'static str) -> Self {
        Caller { user: user.into(), key_id: Some(key_id.into()), transport }
    }

    /// The operator who started `vana mcp serve` without a key, as the named local user.
    pub fn local(user: &str) -> Self {
        Caller { user: user.into(), key_id: None, transport: "stdio" }
    }

    /// An HTTP caller of a server without authentication: user [`ANONYMOUS_USER`].
    pub fn anonymous() -> Self {
        Caller { user: ANONYMOUS_USER.into(), key_id: None, transport: "http" }
    }

    /// `user alice (key 1a2b...)`, for messages and audit summaries.
    pub fn describe(&self) -> String {
        match &self.key_id {
            Some(k) => format!("user {} (key {k})", self.user),
            None => format!("user {}", self.user),
        }
    }
}
