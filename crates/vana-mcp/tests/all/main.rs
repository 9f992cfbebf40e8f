//! vana-mcp's integration tests in one binary: one link instead of one per file.

mod common;

mod catalog;
mod faults;
mod servers;
