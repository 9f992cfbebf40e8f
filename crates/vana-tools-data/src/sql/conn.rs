//! Named connections from `[sql]` in vana.toml and ad-hoc connection strings: SQLite files in the
//! session workspace, and database URLs only where `[sql] allow_adhoc_urls` says so.

use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::Arc;
use vana_core::{ToolContext, ToolError};
use vana_toolkit::{tool_error, vana_workspace, SessionFiles};
use vana_workspace::Workspace;

/// `[sql]` settings: named connections and per-query limits.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct SqlConfig {
    /// Connections by name (`[sql.connections.NAME]`).
    pub connections: BTreeMap<String, SqlConnection>,
    /// Most rows a query returns (more sets `truncated`).
    pub max_rows: usize,
    /// Longest a statement may run, seconds.
    pub timeout_secs: u64,
    /// Accept `postgres://` URLs the model writes itself (read-only, never a privileged role);
    /// off by default: the model names configured connections or workspace SQLite files.
    pub allow_adhoc_urls: bool,
}

impl Default for SqlConfig {
    fn default() -> Self {
        SqlConfig { connections: BTreeMap::new(), max_rows: 1000, timeout_secs: 30, allow_adhoc_urls: false }
    }
}

/// One named database.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct SqlConnection {
    /// `sqlite:///abs/path.db`, a file path, `postgres://user@host/db`, or
    /// `mysql://user:password@host:3306/db` (also `mariadb://`; test_database_connection only).
    pub url: String,
    /// Environment variable holding the URL (keeps passwords out of the file); wins over `url`.
    pub url_env: String,
    /// Allow writes (each still needs a human's approval).
    pub writable: bool,
    /// PostgreSQL: accept a role that is a superuser or may read or write the server's files or
    /// run programs there (`pg_read_server_files`, `pg_write_server_files`,
    /// `pg_execute_server_program`) for read-only calls. Off: such a role is refused.
    pub allow_privileged: bool,
}

/// A resolved database.
#[derive(Debug, Clone)]
pub enum Target {
    /// A SQLite file.
    Sqlite(SqliteFile),
    /// A PostgreSQL URL.
    Postgres(String),
    /// A MariaDB/MySQL URL (`mysql://` or `mariadb://`): only `test_database_connection` uses it.
    MySql(String),
}

/// Where a SQLite database lives.
#[derive(Debug, Clone)]
pub enum SqliteFile {
    /// A file the operator configured in `[sql.connections]` (trusted, opened by its path).
    Configured(PathBuf),
    /// A file in the session workspace (sandboxed code owns it): opened only as a
    /// [`vana_workspace::PinnedPath`], so a planted link or FIFO is refused.
    Workspace(Arc<Workspace>, String),
}

impl SqliteFile {
    /// Opens the database (blocking); a workspace file stays pinned, and its session locked
    /// against sandboxed code, while the connection is open.
    pub(crate) fn open(
        &self,
        writable: bool,
        timeout: std::time::Duration,
    ) -> Result<super::sqlite::Db, ToolError> {
        match self {
            SqliteFile::Configured(path) => {
                Ok(super::sqlite::open(path, &path.display().to_string(), writable, timeout, None)?)
            }
            SqliteFile::Workspace(ws, name) => {
                let pinned = ws.pinned_path(name, &["-journal", "-wal", "-shm"]).map_err(tool_error)?;
                let path = pinned.path().to_path_buf();
                Ok(super::sqlite::open(&path, name, writable, timeout, Some(pinned))?)
            }
        }
    }
}

/// A `connection` argument resolved against the config.
#[derive(Debug, Clone)]
pub(crate) struct Resolved {
    /// Where the database is.
    pub target: Target,
    /// Approved writes are allowed (configured with `writable = true`).
    pub writable: bool,
    /// A privileged PostgreSQL role is accepted for reads (configured `allow_privileged`).
    pub allow_privileged: bool,
    /// The configured connection's name; `None` for ad-hoc ones.
    pub name: Option<String>,
}

/// Config plus workspaces: turns a `connection` argument into a target.
pub(crate) struct Connections {
    pub config: SqlConfig,
    ws: SessionFiles,
}

impl Connections {
    pub fn new(config: SqlConfig, ws: SessionFiles) -> Self {
        Connections { config, ws }
    }

    /// Resolves a configured name or an ad-hoc string. Ad-hoc connections are read-only and never
    /// privileged; ad-hoc URLs need `[sql] allow_adhoc_urls = true`.
    pub fn resolve(&self, ctx: &ToolContext, conn: &str) -> Result<Resolved, ToolError> {
        if let Some(c) = self.config.connections.get(conn) {
            let url = if c.url_env.is_empty() {
                c.url.clone()
            } else {
                std::env::var(&c.url_env).map_err(|_| {
                    ToolError::Unavailable(format!(
                        "connection `{conn}` reads its URL from ${}, which is not set",
                        c.url_env
                    ))
                })?
            };
            if url.is_empty() {
                return Err(ToolError::Unavailable(format!(
                    "connection `{conn}` has no url or url_env in [sql]"
                )));
            }
            return Ok(Resolved {
                target: parse(&url, None)?,
                writable: c.writable,
                allow_privileged: c.allow_privileged,
                name: Some(conn.to_string()),
            });
        }
        let adhoc = |target| Resolved { target, writable: false, allow_privileged: false, name: None };
        if let Some(scheme) = url_scheme(conn) {
            if !self.config.allow_adhoc_urls {
                return Err(ToolError::Blocked(format!(
                    "database URLs written in the call ({scheme}://...) are refused because `[sql] allow_adhoc_urls` is false: \
                     use a configured connection ({}) or a SQLite file in the session workspace, or set \
                     `allow_adhoc_urls = true` under [sql] in vana.toml",
                    self.names()
                )));
            }
            return match parse(conn, None)? {
                Target::Sqlite(_) => Err(ToolError::InvalidArgs(format!(
                    "`{scheme}://` databases are not supported: use a postgres:// or mysql:// URL, a configured connection ({}) or a SQLite file",
                    self.names()
                ))),
                target => Ok(adhoc(target)),
            };
        }
        if looks_like_file(conn) {
            // Ad-hoc SQLite files must be inside the session workspace; always read-only.
            return Ok(adhoc(parse(conn, Some((&self.ws, ctx)))?));
        }
        Err(ToolError::InvalidArgs(format!(
            "unknown connection `{conn}`: use a configured name ({}) or a SQLite file in the workspace",
            self.names()
        )))
    }

    /// The configured connection names, for messages.
    fn names(&self) -> String {
        let names: Vec<&str> = self.config.connections.keys().map(String::as_str).collect();
        if names.is_empty() {
            "none configured in [sql.connections]".to_string()
        } else {
            names.join(", ")
        }
    }
}

/// The scheme of a `scheme://...` URL other than SQLite's, lower-cased.
fn url_scheme(s: &str) -> Option<String> {
    let (scheme, _) = s.split_once("://")?;
    let ok = !scheme.is_empty()
        && scheme.chars().all(|c| c.is_ascii_alphanumeric() || "+-.".contains(c))
        && !scheme.eq_ignore_ascii_case("sqlite");
    ok.then(|| scheme.to_ascii_lowercase())
}

fn looks_like_file(s: &str) -> bool {
    s.starts_with("sqlite:")
        || [".db", ".sqlite", ".sqlite3"].iter().any(|e| s.to_ascii_lowercase().ends_with(e))
}

fn parse(url: &str, workspace: Option<(&SessionFiles, &ToolContext)>) -> Result<Target, ToolError> {
    match url_scheme(url).as_deref() {
        Some("postgres" | "postgresql") => return Ok(Target::Postgres(url.to_string())),
        Some("mysql" | "mariadb") => return Ok(Target::MySql(url.to_string())),
        Some(other) => {
            return Err(ToolError::InvalidArgs(format!(
                "`{other}://` databases are not supported; VANA speaks PostgreSQL, SQLite and (test_database_connection) MariaDB/MySQL"
            )))
        }
        None => {}
    }
    let path = url.strip_prefix("sqlite://").or_else(|| url.strip_prefix("sqlite:")).unwrap_or(url);
    match workspace {
        None => Ok(Target::Sqlite(SqliteFile::Configured(PathBuf::from(path)))),
        Some((ws, ctx)) => {
            let name = vana_workspace::normalize(path).map_err(|_| {
                ToolError::InvalidArgs(format!(
                    "`{url}`: ad-hoc SQLite files must be inside the session workspace; configure other databases in [sql.connections]"
                ))
            })?;
            let workspace = ws.open(ctx)?.ok_or_else(|| {
                ToolError::InvalidArgs(format!("`{name}` does not exist in the session workspace"))
            })?;
            Ok(Target::Sqlite(SqliteFile::Workspace(Arc::new(workspace), name)))
        }
    }
}
