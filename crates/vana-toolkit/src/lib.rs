//! What every VANA tool suite builds on.
//!
//! - [`TypedTool`]: a tool is a struct with typed arguments (`Args: Deserialize + JsonSchema`,
//!   a doc comment per field) and one `async fn run`; [`typed`] turns it into a
//!   [`vana_core::Tool`] whose JSON Schema is derived ([`schema`]) and whose argument errors
//!   all read `invalid arguments: field `x`: ...` ([`args`]).
//! - [`SessionFiles`]: the calling session's workspace, through `vana-workspace` (the one owner
//!   of session files, which never follows what sandboxed code planted).
//! - [`ToolSuite`]: a suite's name, tools, config section and the external parts it needs, for
//!   `vana agents list` and the dashboard.
//!
//! Suites depend on this crate and on `vana-core`, never on each other; `vana-app` assembles them.

pub mod args;
pub mod schema;
pub mod suite;
mod typed;
mod workspace;

pub use suite::{MissingPart, SuiteStatus, ToolSuite};
pub use typed::{typed, Typed, TypedTool};
pub use workspace::{tool_error, SessionFiles};

/// Re-exported so suites derive schemas with the same `schemars` as the toolkit.
pub use schemars;
/// The session-workspace API (for suites that need more than [`SessionFiles`]).
pub use vana_workspace;
