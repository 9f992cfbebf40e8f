//! VANA's session stores: an embedded SQLite file (the default) and PostgreSQL, both
//! implementing [`vana_core::SessionStore`], plus [`open`] to pick one from a URL and a
//! [`conformance`] suite that any store must pass.
//!
//! Events are numbered from 1: a session's `version` is its number of events and the `seq`
//! of its last one; `append_event(.., expected_version = v, ..)` stores the event at seq
//! `v + 1` and returns `v + 1`.

#![warn(missing_docs)]

mod common;
pub mod conformance;
pub mod conformance_records;
mod logins;
mod open;
mod postgres;
mod postgres_records;
mod records_schema;
pub mod schema;
mod sqlite;
mod sqlite_records;
mod stores;

pub use logins::{LoginRecord, LoginStore};
pub use open::{open, StoreUrl, ACCEPTED_URLS};
pub use postgres::PostgresStore;
pub use sqlite::SqliteStore;
pub use stores::{open_all, Stores};
