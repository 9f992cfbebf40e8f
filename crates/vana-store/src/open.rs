//! Opening a store from a URL.

use crate::{PostgresStore, SqliteStore};
use std::sync::Arc;
use vana_core::{SessionStore, StoreError};

/// The URL forms [`open`] accepts, for error messages and help text.
pub const ACCEPTED_URLS: &str = "sqlite://PATH (or a bare file path), sqlite::memory:, \
     postgres://USER[:PASSWORD]@HOST[:PORT]/DATABASE[?schema=NAME] (or postgresql://...)";

/// Where a store URL points.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StoreUrl {
    /// A SQLite database file.
    SqliteFile(String),
    /// A private in-memory SQLite database.
    SqliteMemory,
    /// A PostgreSQL server: the connection URL without `schema`, and the schema if given.
    Postgres {
        /// Connection URL as tokio-postgres accepts it.
        url: String,
        /// PostgreSQL schema to use (`?schema=NAME`).
        schema: Option<String>,
    },
}

impl StoreUrl {
    /// Parses a store URL; see [`ACCEPTED_URLS`].
    pub fn parse(url: &str) -> Result<Self, StoreError> {
        let url = url.trim();
        if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            let (url, schema) = take_schema_param(url);
            return Ok(StoreUrl::Postgres { url, schema });
        }
        if url == "sqlite::memory:" || url == ":memory:" || url == "sqlite://:memory:" {
            return Ok(StoreUrl::SqliteMemory);
        }
        let path = if let Some(rest) = url.strip_prefix("sqlite://") {
            rest
        } else if let Some(rest) = url.strip_prefix("sqlite:") {
            rest
        } else if url.contains("://") {
            return Err(StoreError::Backend(format!(
                "unsupported store URL {:?}; use one of: {ACCEPTED_URLS}",
                redact(url)
            )));
        } else {
            url
        };
        if path.is_empty() {
            return Err(StoreError::Backend(format!(
                "store URL {url:?} names no file; use one of: {ACCEPTED_URLS}"
            )));
        }
        Ok(StoreUrl::SqliteFile(path.to_string()))
    }
}

/// Removes a `schema=NAME` query parameter (ours, not libpq's) from a PostgreSQL URL.
fn take_schema_param(url: &str) -> (String, Option<String>) {
    let Some((base, query)) = url.split_once('?') else {
        return (url.to_string(), None);
    };
    let mut schema = None;
    let kept: Vec<&str> = query
        .split('&')
        .filter(|kv| match kv.strip_prefix("schema=") {
            Some(name) => {
                schema = Some(name.to_string());
                false
            }
            None => !kv.is_empty(),
        })
        .collect();
    let url = if kept.is_empty() { base.to_string() } else { format!("{base}?{}", kept.join("&")) };
    (url, schema)
}

/// Hides a password in a URL for messages.
fn redact(url: &str) -> String {
    match (url.find("://"), url.find('@')) {
        (Some(s), Some(at)) if at > s => {
            let creds = &url[s + 3..at];
            match creds.split_once(':') {
                Some((user, _)) => format!("{}{}:***{}", &url[..s + 3], user, &url[at..]),
                None => url.to_string(),
            }
        }
        _ => url.to_string(),
    }
}

/// Opens the session store a URL names: `sqlite://PATH` or a bare path (file created with
/// its directories), `sqlite::memory:`, or `postgres://` / `postgresql://` (optionally with
/// `?schema=NAME`). Migrations run before it returns.
pub async fn open(url: &str) -> Result<Arc<dyn SessionStore>, StoreError> {
    Ok(match StoreUrl::parse(url)? {
        StoreUrl::SqliteFile(path) => {
            // Opening creates files and runs migrations: keep it off the async threads.
            let store = tokio::task::spawn_blocking(move || SqliteStore::open(path))
                .await
                .map_err(|e| StoreError::Backend(format!("opening the SQLite store failed: {e}")))??;
            Arc::new(store)
        }
        StoreUrl::SqliteMemory => Arc::new(SqliteStore::open_in_memory()?),
        StoreUrl::Postgres { url, schema } => {
            Arc::new(PostgresStore::connect(&url, schema.as_deref()).await?)
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_the_accepted_forms() {
        assert_eq!(StoreUrl::parse("sqlite:///var/x.db").unwrap(), StoreUrl::SqliteFile("/var/x.db".into()));
        assert_eq!(StoreUrl::parse("sqlite://data/x.db").unwrap(), StoreUrl::SqliteFile("data/x.db".into()));
        assert_eq!(StoreUrl::parse("./x.db").unwrap(), StoreUrl::SqliteFile("./x.db".into()));
        assert_eq!(StoreUrl::parse("sqlite::memory:").unwrap(), StoreUrl::SqliteMemory);
        assert_eq!(
            StoreUrl::parse("postgres://u@h:1/db?schema=s1&application_name=a").unwrap(),
            StoreUrl::Postgres {
                url: "postgres://u@h:1/db?application_name=a".into(),
                schema: Some("s1".into())
            }
        );
        assert_eq!(
            StoreUrl::parse("postgresql://u@h/db").unwrap(),
            StoreUrl::Postgres { url: "postgresql://u@h/db".into(), schema: None }
        );
    }

    #[test]
    fn rejects_other_schemes_naming_the_accepted_forms() {
        let err = StoreUrl::parse("mysql://u:secret@h/db").unwrap_err().to_string();
        assert!(err.contains("sqlite://PATH") && err.contains("postgres://"), "{err}");
        assert!(!err.contains("secret"), "password leaked: {err}");
        assert!(StoreUrl::parse("sqlite://").is_err());
    }
}
