//! What VANA's tests share, so that no crate's tests need a part they do not test: the scripted
//! model (re-exported from `vana-scripted`, the only stand-in for an LLM), [`MemoryStore`] (a
//! session store in memory that passes the store [`conformance`] suite), helpers to run a
//! [`vana_core::Runner`] and read its events ([`runs`]), to call a model directly and check its
//! streaming contract ([`generate`]), and paths and names ([`paths`]).
//!
//! It depends only on `vana-core` and `vana-scripted`, and it is a dev-dependency only:
//! `tests/layers.rs` fails when a crate lists it under `[dependencies]`.

#![warn(missing_docs)]

pub mod conformance;
pub mod generate;
pub mod paths;
pub mod runs;
mod store;

pub use paths::{mcp_home, repo_root, tempdir, unique, TempDir};
pub use runs::{finals, run, run_on};
pub use store::MemoryStore;
pub use vana_scripted::{
    status, Script, ScriptedCall, ScriptedError, ScriptedHttp, ScriptedModel, ScriptedTurn, ScriptedUsage,
};
#[cfg(feature = "server")]
pub use vana_scripted::{RecordedRequest, ScriptedServer};
