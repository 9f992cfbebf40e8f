//! SQLite: read-only sessions (`SQLITE_OPEN_READ_ONLY` + `PRAGMA query_only`), row and time limits,
//! and on every connection the hardening that keeps SQL inside the one database file: an
//! authorizer that refuses ATTACH / DETACH (VACUUM INTO attaches its output, so it is refused
//! too), extension loading and pragmas that undo the rest; `trusted_schema` off; defensive mode.

use super::classify::{pragma_allowed, refused_function};
use super::error::SqlError;
use super::result::ResultTable;
use rusqlite::config::DbConfig;
use rusqlite::hooks::{AuthAction, AuthContext, Authorization};
use rusqlite::types::{Value as Sql, ValueRef};
use rusqlite::{ffi, Connection, OpenFlags};
use serde_json::{json, Value};
use std::path::Path;
use std::time::{Duration, Instant};

/// Opens the file; read-only sessions cannot write whatever the SQL says.
/// An open database; a workspace file's pin (and its session's lock) is held as long.
pub struct Db {
    conn: Connection,
    _pinned: Option<vana_toolkit::vana_workspace::PinnedPath>,
}

impl std::ops::Deref for Db {
    type Target = Connection;
    fn deref(&self) -> &Connection {
        &self.conn
    }
}

impl std::ops::DerefMut for Db {
    fn deref_mut(&mut self) -> &mut Connection {
        &mut self.conn
    }
}

/// Opens the file at `path` (`shown` in messages); `pinned` is kept with the connection.
pub fn open(
    path: &Path,
    shown: &str,
    writable: bool,
    timeout: Duration,
    pinned: Option<vana_toolkit::vana_workspace::PinnedPath>,
) -> Result<Db, SqlError> {
    if !writable && !path.is_file() {
        return Err(SqlError::NoSuchFile(shown.to_string()));
    }
    let flags = if writable {
        OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_CREATE | OpenFlags::SQLITE_OPEN_NO_MUTEX
    } else {
        OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX
    };
    let mut conn = Connection::open_with_flags(path, flags).map_err(|source| SqlError::Open {
        action: "open",
        file: shown.into(),
        source,
    })?;
    harden(&mut conn, writable).map_err(|source| SqlError::Open {
        action: "secure",
        file: shown.into(),
        source,
    })?;
    conn.busy_timeout(Duration::from_secs(5))?;
    let deadline = Instant::now() + timeout;
    conn.progress_handler(10_000, Some(move || Instant::now() > deadline))?;
    Ok(Db { conn, _pinned: pinned })
}

/// Defensive mode, untrusted schema, `query_only` on read-only sessions, then the authorizer
/// (installed last, so VANA's own pragmas above are not subject to it).
fn harden(conn: &mut Connection, writable: bool) -> rusqlite::Result<()> {
    conn.set_db_config(DbConfig::SQLITE_DBCONFIG_DEFENSIVE, true)?;
    conn.set_db_config(DbConfig::SQLITE_DBCONFIG_TRUSTED_SCHEMA, false)?;
    if !writable {
        conn.execute_batch("PRAGMA query_only = ON")?;
    }
    // Extension loading is off unless enabled through the C API, which nothing here does;
    // the authorizer refuses the load_extension() SQL function as well.
    conn.authorizer(Some(move |ctx: AuthContext<'_>| authorize(ctx.action, writable)))
}

/// The authorizer's decision for one action found while a statement is prepared (including the
/// statements SQLite prepares itself, such as VACUUM INTO's ATTACH of its output file).
fn authorize(action: AuthAction<'_>, writable: bool) -> Authorization {
    match action {
        AuthAction::Attach { .. } | AuthAction::Detach { .. } => Authorization::Deny,
        // ATTACH of a computed file name arrives without a name, as an unknown action.
        AuthAction::Unknown { code, .. } if code == ffi::SQLITE_ATTACH || code == ffi::SQLITE_DETACH => {
            Authorization::Deny
        }
        AuthAction::Function { function_name } if refused_function(function_name).is_some() => {
            Authorization::Deny
        }
        AuthAction::Pragma { pragma_name, pragma_value } => {
            if pragma_allowed(pragma_name, pragma_value.is_some(), writable) {
                Authorization::Allow
            } else {
                Authorization::Deny
            }
        }
        _ => Authorization::Allow,
    }
}

fn to_sql(v: &Value) -> Result<Sql, SqlError> {
    Ok(match v {
        Value::Null => Sql::Null,
        Value::Bool(b) => Sql::Integer(*b as i64),
        Value::Number(n) => match n.as_i64() {
            Some(i) => Sql::Integer(i),
            None => Sql::Real(n.as_f64().unwrap_or(f64::NAN)),
        },
        Value::String(s) => Sql::Text(s.clone()),
        other => return Err(SqlError::Param(other.to_string())),
    })
}

fn cell(v: ValueRef<'_>) -> Value {
    match v {
        ValueRef::Null => Value::Null,
        ValueRef::Integer(i) => json!(i),
        ValueRef::Real(f) => json!(f),
        ValueRef::Text(t) => json!(String::from_utf8_lossy(t)),
        ValueRef::Blob(b) => json!(b.iter().map(|x| format!("{x:02x}")).collect::<String>()),
    }
}

fn kind(v: &Value) -> &'static str {
    match v {
        Value::Number(n) if n.is_i64() => "INTEGER",
        Value::Number(_) => "REAL",
        Value::String(_) => "TEXT",
        _ => "NULL",
    }
}

/// Runs one statement; returns up to `max_rows` rows and the number of rows changed.
pub fn run(
    conn: &Connection,
    sql: &str,
    params: &[Value],
    max_rows: usize,
    timeout: Duration,
) -> Result<ResultTable, SqlError> {
    let params: Vec<Sql> = params.iter().map(to_sql).collect::<Result<_, _>>()?;
    let mut stmt = conn.prepare(sql).map_err(|e| explain(e, timeout))?;
    if stmt.parameter_count() != params.len() {
        return Err(SqlError::ParamCount { expected: stmt.parameter_count(), given: params.len() });
    }
    let names: Vec<String> = stmt.column_names().map(|s| s.to_string()).collect();
    let decl: Vec<Option<String>> = stmt.columns().map(|c| c.decl_type().map(str::to_string)).collect();
    let ncols = names.len();
    let before = conn.total_changes();
    let mut rows_out = Vec::new();
    let mut truncated = false;
    {
        let mut rows =
            stmt.query(rusqlite::params_from_iter(params.iter())).map_err(|e| explain(e, timeout))?;
        while let Some(row) = rows.next().map_err(|e| explain(e, timeout))? {
            if rows_out.len() == max_rows {
                truncated = true;
                break;
            }
            rows_out.push(
                (0..ncols).map(|i| row.get_ref(i).map(cell).unwrap_or(Value::Null)).collect::<Vec<_>>(),
            );
        }
    }
    let columns = names
        .into_iter()
        .enumerate()
        .map(|(i, n)| {
            let t = decl[i].clone().unwrap_or_else(|| {
                rows_out
                    .iter()
                    .map(|r: &Vec<Value>| kind(&r[i]))
                    .find(|k| *k != "NULL")
                    .unwrap_or("NULL")
                    .to_string()
            });
            (n, t)
        })
        .collect();
    let changed = conn.total_changes() - before;
    Ok(ResultTable {
        columns,
        rows: rows_out,
        truncated,
        rows_affected: (ncols == 0 || changed > 0).then_some(changed),
    })
}

fn explain(e: rusqlite::Error, timeout: Duration) -> SqlError {
    if let rusqlite::Error::SqliteFailure(f, _) = &e {
        if f.code == rusqlite::ErrorCode::OperationInterrupted {
            return SqlError::Timeout(timeout.as_secs_f64());
        }
    }
    SqlError::Sqlite(e)
}

/// Runs a write statement in a transaction and commits it.
pub fn write(
    conn: &mut Connection,
    sql: &str,
    params: &[Value],
    max_rows: usize,
    timeout: Duration,
) -> Result<ResultTable, SqlError> {
    let tx = conn.transaction()?;
    let r = run(&tx, sql, params, max_rows, timeout)?;
    tx.commit().map_err(|e| SqlError::Commit(e.to_string()))?;
    Ok(r)
}

/// Tables and views.
pub fn list_tables(conn: &Connection, timeout: Duration) -> Result<ResultTable, SqlError> {
    run(
        conn,
        "SELECT name, type FROM sqlite_master WHERE type IN ('table','view') AND name NOT LIKE 'sqlite_%' ORDER BY name",
        &[],
        100_000,
        timeout,
    )
}

/// Columns of a table, its row count and indexes.
pub fn describe(conn: &Connection, table: &str, timeout: Duration) -> Result<Value, SqlError> {
    let q = quote(table);
    let cols = run(
        conn,
        &format!("SELECT name, type, \"notnull\", dflt_value, pk FROM pragma_table_info({})", lit(table)),
        &[],
        10_000,
        timeout,
    )?;
    if cols.rows.is_empty() {
        return Err(SqlError::NoSuchTable(table.to_string()));
    }
    let count = run(conn, &format!("SELECT count(*) FROM {q}"), &[], 1, timeout)?;
    let idx = run(
        conn,
        &format!("SELECT name, \"unique\" FROM pragma_index_list({})", lit(table)),
        &[],
        10_000,
        timeout,
    )?;
    Ok(json!({
        "table": table,
        "columns": cols.rows.iter().map(|r| json!({
            "name": r[0], "type": r[1], "nullable": r[2] == json!(0), "default": r[3], "primaryKey": r[4] != json!(0)
        })).collect::<Vec<_>>(),
        "rowCount": count.rows[0][0],
        "indexes": idx.rows.iter().map(|r| json!({"name": r[0], "unique": r[1] == json!(1)})).collect::<Vec<_>>(),
    }))
}

/// A quoted identifier.
pub fn quote(id: &str) -> String {
    format!("\"{}\"", id.replace('"', "\"\""))
}

fn lit(s: &str) -> String {
    format!("'{}'", s.replace('\'', "''"))
}

#[cfg(test)]
mod tests {
    //! The hardening on its own, below the statement check: SQL sent straight to the connection.
    use super::*;
    use std::path::PathBuf;

    fn scratch(name: &str) -> PathBuf {
        let nanos = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_nanos();
        let dir = std::env::temp_dir().join(format!("vana-sqlite-{name}-{}-{nanos}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let db = dir.join("main.db");
        Connection::open(&db)
            .unwrap()
            .execute_batch("CREATE TABLE t (a INTEGER); INSERT INTO t VALUES (1);")
            .unwrap();
        Connection::open(dir.join("other.db"))
            .unwrap()
            .execute_batch("CREATE TABLE secret (s TEXT);")
            .unwrap();
        dir
    }

    const T: Duration = Duration::from_secs(5);

    #[test]
    fn attach_detach_and_vacuum_into_are_refused_on_read_and_write_connections() {
        let dir = scratch("attach");
        for writable in [false, true] {
            let conn = open(&dir.join("main.db"), "main.db", writable, T, None).unwrap();
            let other = dir.join("other.db");
            let copy = dir.join(format!("copy-{writable}.db"));
            for sql in [
                format!("ATTACH '{}' AS x", other.display()),
                format!("ATTACH '{}' || '' AS x", other.display()),
                format!("VACUUM INTO '{}'", copy.display()),
                "DETACH main".to_string(),
            ] {
                let e = run(&conn, &sql, &[], 10, T).unwrap_err().to_string();
                // Refused while prepared ("not authorized") or, for VACUUM INTO's own ATTACH of
                // its output, while it runs ("authorization denied").
                assert!(
                    e.contains("not authorized") || e.contains("authorization denied"),
                    "writable={writable} `{sql}`: {e}"
                );
            }
            assert!(!copy.exists(), "VACUUM INTO created {}", copy.display());
            let dbs = run(&conn, "SELECT name FROM pragma_database_list", &[], 10, T).unwrap();
            assert_eq!(dbs.rows, vec![vec![json!("main")]], "nothing was attached");
        }
        let _ = std::fs::remove_dir_all(&dir);
    }

    #[test]
    fn trusted_schema_is_off_extensions_do_not_load_and_pragmas_cannot_undo_it() {
        let dir = scratch("pragma");
        for writable in [false, true] {
            let conn = open(&dir.join("main.db"), "main.db", writable, T, None).unwrap();
            let t = run(&conn, "PRAGMA trusted_schema", &[], 1, T).unwrap();
            assert_eq!(t.rows[0][0], json!(0), "writable={writable}");
            for sql in [
                "PRAGMA trusted_schema = ON",
                "PRAGMA writable_schema = ON",
                "SELECT load_extension('/nonexistent.so')",
            ] {
                let e = run(&conn, sql, &[], 1, T).unwrap_err().to_string();
                assert!(e.contains("not authorized"), "writable={writable} `{sql}`: {e}");
            }
            assert_eq!(run(&conn, "PRAGMA trusted_schema", &[], 1, T).unwrap().rows[0][0], json!(0));
            // The reads VANA itself uses still work under the authorizer.
            assert_eq!(describe(&conn, "t", T).unwrap()["rowCount"], json!(1));
        }
        let ro = open(&dir.join("main.db"), "main.db", false, T, None).unwrap();
        for sql in ["PRAGMA query_only = OFF", "PRAGMA user_version = 7", "PRAGMA journal_mode = DELETE"] {
            let e = run(&ro, sql, &[], 1, T).unwrap_err().to_string();
            assert!(e.contains("not authorized"), "`{sql}`: {e}");
        }
        assert_eq!(run(&ro, "PRAGMA query_only", &[], 1, T).unwrap().rows[0][0], json!(1));
        let e = run(&ro, "DELETE FROM t", &[], 1, T).unwrap_err().to_string();
        assert!(e.contains("readonly"), "{e}");
        let _ = std::fs::remove_dir_all(&dir);
    }
}
