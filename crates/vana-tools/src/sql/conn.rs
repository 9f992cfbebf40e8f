//! Named connections from `[sql]` in vana.toml and ad-hoc connection strings.

use crate::data::Workspaces;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::path::PathBuf;
use vana_core::{ToolContext, ToolError};

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
}

impl Default for SqlConfig {
    fn default() -> Self {
        SqlConfig { connections: BTreeMap::new(), max_rows: 1000, timeout_secs: 30 }
    }
}

/// One named database.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct SqlConnection {
    /// `sqlite:///abs/path.db`, a file path, or `postgres://user@host/db`.
    pub url: String,
    /// Environment variable holding the URL (keeps passwords out of the file); wins over `url`.
    pub url_env: String,
    /// Allow writes (each still needs a human's approval).
    pub writable: bool,
}

/// A resolved database.
#[derive(Debug, Clone, PartialEq)]
pub enum Target {
    /// A SQLite file.
    Sqlite(PathBuf),
    /// A PostgreSQL URL.
    Postgres(String),
}

/// Config plus workspaces: turns a `connection` argument into a target.
pub(crate) struct Connections {
    pub config: SqlConfig,
    ws: Workspaces,
}

impl Connections {
    pub fn new(config: SqlConfig, ws: Workspaces) -> Self {
        Connections { config, ws }
    }

    /// Resolves a configured name or an ad-hoc string; returns the target and whether writes are
    /// allowed (only configured connections marked `writable`).
    pub fn resolve(&self, ctx: &ToolContext, conn: &str) -> Result<(Target, bool), ToolError> {
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
            return Ok((parse(&url, None)?, c.writable));
        }
        if conn.starts_with("postgres://") || conn.starts_with("postgresql://") || looks_like_file(conn) {
            // Ad-hoc SQLite files must be inside the session workspace; always read-only.
            return Ok((parse(conn, Some((&self.ws, ctx)))?, false));
        }
        let names: Vec<&str> = self.config.connections.keys().map(String::as_str).collect();
        Err(ToolError::InvalidArgs(format!(
            "unknown connection `{conn}`: use a configured name ({}) or a postgres:// URL or a SQLite file in the workspace",
            if names.is_empty() { "none configured in [sql.connections]".to_string() } else { names.join(", ") }
        )))
    }
}

fn looks_like_file(s: &str) -> bool {
    s.starts_with("sqlite:")
        || [".db", ".sqlite", ".sqlite3"].iter().any(|e| s.to_ascii_lowercase().ends_with(e))
}

fn parse(url: &str, workspace: Option<(&Workspaces, &ToolContext)>) -> Result<Target, ToolError> {
    if url.starts_with("postgres://") || url.starts_with("postgresql://") {
        return Ok(Target::Postgres(url.to_string()));
    }
    let path = url.strip_prefix("sqlite://").or_else(|| url.strip_prefix("sqlite:")).unwrap_or(url);
    match workspace {
        None => Ok(Target::Sqlite(PathBuf::from(path))),
        Some((ws, ctx)) => Ok(Target::Sqlite(ws.resolve(ctx, path).map_err(|_| {
            ToolError::InvalidArgs(format!(
                "`{url}`: ad-hoc SQLite files must be inside the session workspace; configure other databases in [sql.connections]"
            ))
        })?)),
    }
}
