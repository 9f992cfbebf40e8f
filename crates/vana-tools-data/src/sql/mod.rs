//! The Database Specialist's tools: SQL against SQLite files and PostgreSQL, read-only in the
//! database session unless a configured connection is writable and a human approves the write;
//! model-given SQL passes a parser-based check first (`classify`). MariaDB/MySQL connections
//! (`mysql://`, `mariadb://`) work with `test_database_connection` only; the query tools refuse
//! them with a message saying so.

mod classify;
mod conn;
mod error;
mod mysql;
mod postgres;
mod result;
mod sqlite;
mod tools;

pub use conn::{SqlConfig, SqlConnection, SqliteFile, Target};
pub use error::SqlError;
pub use result::ResultTable;
pub use tools::{
    CreateTable, DescribeTable, ExecuteSqlQuery, ExecuteSqlWrite, ListTables, TestDatabaseConnection,
};

use std::sync::Arc;
use vana_core::Tool;
use vana_toolkit::{typed, SessionFiles};

/// `execute_sql_query`, `execute_sql_write`, `list_tables`, `describe_table`, `create_table`
/// and `test_database_connection` over the configured connections.
pub fn tools(config: SqlConfig, ws: &SessionFiles) -> Vec<Arc<dyn Tool>> {
    let shared = Arc::new(conn::Connections::new(config, ws.clone()));
    vec![
        typed(ExecuteSqlQuery(shared.clone())),
        typed(ExecuteSqlWrite(shared.clone())),
        typed(ListTables(shared.clone())),
        typed(DescribeTable(shared.clone())),
        typed(CreateTable(shared.clone())),
        typed(TestDatabaseConnection(shared)),
    ]
}
