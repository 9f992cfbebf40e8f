//! The Database Specialist's tools: SQL against SQLite files and PostgreSQL, read-only in the
//! database session unless a configured connection is writable and a human approves the write;
//! model-given SQL passes a parser-based check first (`classify`).

mod classify;
mod conn;
mod postgres;
mod result;
mod sqlite;
mod tools;

pub use conn::{SqlConfig, SqlConnection, SqliteFile, Target};
pub use result::ResultTable;
pub use tools::{
    CreateTable, DescribeTable, ExecuteSqlQuery, ExecuteSqlWrite, ListTables, TestDatabaseConnection,
};

use crate::workspace::SessionFiles;
use std::sync::Arc;
use vana_core::ToolRegistry;

/// Registers the SQL tools over the configured connections.
pub fn register(registry: &mut ToolRegistry, config: SqlConfig, ws: SessionFiles) {
    let shared = Arc::new(conn::Connections::new(config, ws));
    registry.register(Arc::new(ExecuteSqlQuery(shared.clone())));
    registry.register(Arc::new(ExecuteSqlWrite(shared.clone())));
    registry.register(Arc::new(ListTables(shared.clone())));
    registry.register(Arc::new(DescribeTable(shared.clone())));
    registry.register(Arc::new(CreateTable(shared.clone())));
    registry.register(Arc::new(TestDatabaseConnection(shared)));
}
