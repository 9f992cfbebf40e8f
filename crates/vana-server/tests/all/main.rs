//! vana-server's integration tests in one binary: one link instead of one per file (measured:
//! rebuilding the server's tests after an edit of the server takes about half as long).

mod common;

mod adk_clients;
mod api;
mod boundaries;
mod mcp_sessions;
mod otlp;
mod python_clients;
