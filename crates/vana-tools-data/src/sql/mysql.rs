//! MariaDB/MySQL for `test_database_connection`: connect within the limit, read the server's
//! version and a few facts, disconnect. The query tools do not run on these connections (see
//! `tools::mysql_unsupported`).

use super::error::SqlError;
use mysql_async::prelude::*;
use mysql_async::{Conn, Opts};
use std::time::Duration;

/// What the server says about itself.
pub(crate) struct ServerInfo {
    /// `VERSION()`, e.g. `11.4.5-MariaDB-deb12`.
    pub version: String,
    /// `@@version_comment`, e.g. `mariadb.org binary distribution`.
    pub comment: Option<String>,
    /// `CURRENT_USER()`, the account the server matched.
    pub user: Option<String>,
    /// `DATABASE()`, the default database (None when the URL names none).
    pub database: Option<String>,
    /// `@@read_only` of the server.
    pub read_only: bool,
}

/// The row of [`INFO_SQL`]: version, comment, user, database, read_only.
type InfoRow = (String, Option<String>, Option<String>, Option<String>, i64);
const INFO_SQL: &str = "SELECT VERSION(), @@version_comment, CURRENT_USER(), DATABASE(), @@read_only";

/// `host:port` of a URL, for messages (never the password).
fn endpoint(opts: &Opts) -> String {
    format!("{}:{}", opts.ip_or_hostname(), opts.tcp_port())
}

/// Connects to `url` (`mysql://` or `mariadb://`) within `timeout` and reads [`ServerInfo`].
pub(crate) async fn server_info(url: &str, timeout: Duration) -> Result<ServerInfo, SqlError> {
    let url = match url.split_once("://") {
        Some((scheme, rest))
            if scheme.eq_ignore_ascii_case("mariadb") || scheme.eq_ignore_ascii_case("mysql") =>
        {
            format!("mysql://{rest}")
        }
        _ => url.to_string(),
    };
    // mysql_async's URL errors quote the URL; say what is wrong without the password.
    let opts = Opts::from_url(&url).map_err(|e| {
        let why = match e {
            mysql_async::UrlError::Parse(p) => p.to_string(),
            other => other.to_string().split(':').next().unwrap_or("invalid").to_string(),
        };
        SqlError::Connect(format!(
            "invalid MariaDB/MySQL URL ({why}): expected mysql://user:password@host:port/database"
        ))
    })?;
    let at = endpoint(&opts);
    let secs = timeout.as_secs_f64();
    let work = async {
        let mut conn = Conn::new(opts)
            .await
            .map_err(|e| SqlError::Connect(format!("MariaDB/MySQL connection to {at} failed: {e}")))?;
        let row: Option<InfoRow> = conn
            .query_first(INFO_SQL)
            .await
            .map_err(|e| SqlError::Connect(format!("MariaDB/MySQL at {at}: {e}")))?;
        let _ = conn.disconnect().await;
        let (version, comment, user, database, read_only) =
            row.ok_or_else(|| SqlError::Connect(format!("MariaDB/MySQL at {at} returned no version")))?;
        Ok(ServerInfo { version, comment, user, database, read_only: read_only != 0 })
    };
    tokio::time::timeout(timeout, work).await.map_err(|_| {
        SqlError::Connect(format!("MariaDB/MySQL connection to {at} took longer than {secs}s"))
    })?
}
