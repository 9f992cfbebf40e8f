//! VANA and the Model Context Protocol.
//!
//! - As a client ([`McpManager`]): every configured server (stdio child processes VANA starts
//!   and supervises, or streamable HTTP endpoints) with connect deadlines, per-call deadlines,
//!   reconnection with backoff and a circuit breaker; its tools become ordinary
//!   [`vana_core::Tool`]s named `<server>__<tool>` for the agents the configuration names.
//! - As a server ([`server`]): VANA's tools and agents (`ask_<agent>`) for any MCP client, over
//!   stdio or streamable HTTP.

pub mod client;
pub mod config;
mod connection;
pub mod manager;
mod result;
pub mod server;

pub use client::{RemoteTool, Server, ServerStatus};
pub use config::{McpConfig, ServerConfig, Unavailable};
pub use manager::{tool_name, McpManager, McpTool};
