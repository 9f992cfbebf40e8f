//! vana-models' integration tests in one binary: one link instead of one per provider.

mod common;

mod anthropic;
mod gemini;
mod openai;
mod registry;
mod resilience;
