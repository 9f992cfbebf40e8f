//! The scripted model, VANA's only stand-in for an LLM: a [`ScriptedModel`] plays back the
//! turns of a [`Script`] in process and records every request, and (feature `server`) a
//! `ScriptedServer` on 127.0.0.1 answers from the same turns in the OpenAI, Gemini and
//! Anthropic wire formats so the real providers can be pointed at it.
//!
//! It depends only on `vana-core`, so the runtime's tests use it without any provider, and the
//! model registry (crate `vana-models`) resolves `scripted:<file>` model strings to it at run
//! time. [`status`] is how a provider's HTTP failure becomes a `ModelError`; the providers share
//! it, so a scripted `http` turn fails in process exactly as a provider would.

#![warn(missing_docs)]

mod model;
mod script;
#[cfg(feature = "server")]
mod server;
pub mod status;

pub use model::ScriptedModel;
pub use script::{Script, ScriptedCall, ScriptedError, ScriptedHttp, ScriptedTurn, ScriptedUsage};
#[cfg(feature = "server")]
pub use server::{RecordedRequest, ScriptedServer};
