//! vana-store's integration tests in one binary: one link instead of one per backend.

mod common;

mod postgres;
mod records;
mod sqlite;
