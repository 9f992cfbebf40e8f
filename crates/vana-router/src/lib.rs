//! VANA's in-process semantic router.
//!
//! [`Embedder`] computes all-MiniLM-L6-v2 sentence embeddings in plain Rust (own safetensors
//! reader, WordPiece tokenizer and BERT encoder; weights from [`vana_assets::MINILM_L6_V2`]).
//! [`Router`] embeds each agent's description and example requests once, then sends a request to
//! the agent whose references are nearest (a soft maximum of cosine similarities); below a
//! confidence threshold the orchestrator (`vana`) keeps it. [`eval`] measures routing accuracy and latency on a labelled set such as
//! `eval/routing.yaml`.
//!
//! ```no_run
//! use std::sync::Arc;
//! use vana_router::{AgentProfile, Embedder, Router};
//!
//! let embedder = Arc::new(Embedder::load_default()?);
//! let agents = AgentProfile::load_dir("agents".as_ref())?;
//! let router = Router::new(embedder, &agents);
//! let decision = router.route("plot the monthly revenue from sales.csv");
//! println!("{} ({:.2}, confident: {})", decision.target, decision.score, decision.confident);
//! # Ok::<(), vana_router::RouterError>(())
//! ```

#![warn(missing_docs)]

pub mod embedder;
pub mod error;
pub mod eval;
pub mod linear;
pub mod router;
mod safetensors;
pub mod tokenizer;
mod unicode_tables;

pub use embedder::{Embedder, DIM};
pub use error::RouterError;
pub use eval::{evaluate, EvalCase, EvalReport, EvalSet, Miss};
pub use router::{
    AgentProfile, RouteDecision, Router, DEFAULT_FALLBACK, DEFAULT_THRESHOLD, SCORE_TEMPERATURE,
};
pub use tokenizer::Tokenizer;
