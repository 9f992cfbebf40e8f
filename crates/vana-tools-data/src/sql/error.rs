//! Why a SQL call failed once it passed the statement check: typed, with messages that say what
//! to do.

use vana_core::ToolError;

/// A failure of the database or of the call's values.
#[derive(Debug, thiserror::Error)]
pub enum SqlError {
    /// The SQLite file to read does not exist.
    #[error("SQLite file {0} does not exist")]
    NoSuchFile(String),
    /// Opening or securing a SQLite connection failed.
    #[error("cannot {action} {file}: {source}")]
    Open {
        /// `open` or `secure`.
        action: &'static str,
        /// The file, as the user named it.
        file: String,
        /// SQLite's error.
        source: rusqlite::Error,
    },
    /// The statement ran past its limit and was stopped.
    #[error("the query ran longer than {0}s and was stopped")]
    Timeout(f64),
    /// The placeholders and the values given do not match.
    #[error("the SQL has {expected} parameter(s) but {given} were given")]
    ParamCount {
        /// Placeholders in the SQL.
        expected: usize,
        /// Values given.
        given: usize,
    },
    /// A parameter is not a value SQL can take.
    #[error("parameter {0} must be a string, number, boolean or null")]
    Param(String),
    /// SQLite reported an error.
    #[error("SQLite error: {0}")]
    Sqlite(#[from] rusqlite::Error),
    /// A write's transaction could not be committed.
    #[error("commit failed: {0}")]
    Commit(String),
    /// Connecting to PostgreSQL failed or took longer than the limit.
    #[error("{0}")]
    Connect(String),
    /// PostgreSQL reported an error (the server's message, with detail and hint).
    #[error("PostgreSQL error: {0}")]
    Postgres(String),
    /// A value of a result column could not be read.
    #[error("column `{column}`: {message}")]
    Column {
        /// The column.
        column: String,
        /// Why.
        message: String,
    },
    /// The table asked about does not exist.
    #[error("no table or view named `{0}`; list_tables shows what exists")]
    NoSuchTable(String),
    /// A read-only PostgreSQL connection's role could reach the server's files or programs (the
    /// message gives the SQL of a read-only role).
    #[error("{0}")]
    PrivilegedRole(String),
}

impl From<SqlError> for ToolError {
    fn from(e: SqlError) -> Self {
        match e {
            SqlError::PrivilegedRole(_) => ToolError::Blocked(e.to_string()),
            SqlError::ParamCount { .. }
            | SqlError::Param(_)
            | SqlError::NoSuchTable(_)
            | SqlError::NoSuchFile(_) => ToolError::InvalidArgs(e.to_string()),
            _ => ToolError::Failed(e.to_string()),
        }
    }
}
