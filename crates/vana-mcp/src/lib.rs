//! VANA and the Model Context Protocol.
//!
//! - As a client ([`McpManager`]): every configured server (stdio child processes VANA starts
//!   and supervises, or streamable HTTP endpoints) with connect deadlines, per-call deadlines,
//!   reconnection with backoff and a circuit breaker; its tools become ordinary
//!   [`vana_core::Tool`]s named `<server>__<tool>` for the agents the configuration names.
//!   A started server gets only the environment it declares; a project's `.mcp.json` is used
//!   only once trusted ([`trust`]); writing tools can require a human's approval. A catalog
//!   server's pinned npm or PyPI package is installed on first use ([`install`]).
//! - As a server ([`server`]): VANA's tools and agents (`ask_<agent>`) for any MCP client, over
//!   stdio or streamable HTTP, under the runner's guardrails, approvals and audit log.

pub mod client;
pub mod config;
mod connection;
pub mod install;
pub mod manager;
mod result;
pub mod server;
pub mod trust;

pub use client::{RemoteTool, Server, ServerStatus};
pub use config::{glob_match, McpConfig, ServerConfig, Unavailable};
pub use install::{InstallError, Package, Registry};
pub use manager::{tool_name, McpManager, McpTool};
