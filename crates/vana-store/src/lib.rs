//! VANA's session stores: an embedded SQLite file (the default) and PostgreSQL, both
//! implementing [`vana_core::SessionStore`], plus [`open`] to pick one from a URL. Both pass the
//! session store conformance suite of `vana_testkit::conformance` (this crate's tests).
//!
//! Events are numbered from 1: a session's `version` is its number of events and the `seq`
//! of its last one; `append_event(.., expected_version = v, ..)` stores the event at seq
//! `v + 1` and returns `v + 1`.

#![warn(missing_docs)]

mod common;
pub mod conformance_records;
mod logins;
mod open;
mod postgres;
mod postgres_records;
pub mod records;
mod records_schema;
pub mod schema;
mod sqlite;
mod sqlite_records;
mod stores;

pub use logins::{LoginRecord, LoginStore};
pub use open::{open, StoreUrl, ACCEPTED_URLS};
pub use postgres::PostgresStore;
pub use records::{
    ApiKeyRecord, Artifact, ArtifactScope, ArtifactStore, AuditQuery, AuditRecord, AuditStore, KeyStore,
};
pub use sqlite::SqliteStore;
pub use stores::{open_all, Stores};
