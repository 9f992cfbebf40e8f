//! PostgreSQL: every statement runs in a transaction that is `READ ONLY` unless the write path
//! asked otherwise, with `statement_timeout` and a row limit; read-only sessions refuse roles
//! that can reach the server's files or programs.

use super::error::SqlError;
use super::result::ResultTable;
use bytes::BytesMut;
use futures::{pin_mut, TryStreamExt};
use serde_json::{json, Value};
use std::error::Error;
use std::time::Duration;
use tokio_postgres::types::{to_sql_checked, FromSql, IsNull, ToSql, Type};
use tokio_postgres::{Client, NoTls};

type BoxError = Box<dyn Error + Sync + Send>;

/// Connects (within `timeout`); the connection task ends when the client is dropped.
pub async fn connect(url: &str, timeout: Duration) -> Result<Client, SqlError> {
    let fut = tokio_postgres::connect(url, NoTls);
    let (client, conn) = tokio::time::timeout(timeout, fut)
        .await
        .map_err(|_| SqlError::Connect(format!("connecting took longer than {}s", timeout.as_secs())))?
        .map_err(|e| SqlError::Connect(format!("cannot connect to PostgreSQL: {}", pg_error(&e))))?;
    tokio::spawn(async move {
        let _ = conn.await;
    });
    Ok(client)
}

/// The login role and the role it acts as (they differ after `options=-c role=...`), each with
/// whether it can reach past the database, in one query; the login role first.
const ROLE_SQL: &str = "SELECT r.rolname::text, r.rolsuper, \
    pg_has_role(r.oid, 'pg_read_server_files', 'MEMBER'), \
    pg_has_role(r.oid, 'pg_write_server_files', 'MEMBER'), \
    pg_has_role(r.oid, 'pg_execute_server_program', 'MEMBER'), \
    current_database()::text, array_to_string(current_schemas(false), ',') \
    FROM pg_roles r WHERE r.rolname IN (session_user, current_user) ORDER BY r.rolname = session_user DESC";

/// The name the suggested read-only role gets.
pub const READONLY_ROLE: &str = "vana_readonly";

/// Refuses a connection whose login role or current role is a superuser or a member of
/// `pg_read_server_files`, `pg_write_server_files` or `pg_execute_server_program`; the error
/// gives the SQL that creates a read-only role instead. `connection` is the configured name
/// (`None` for an ad-hoc URL).
pub async fn check_role(
    client: &Client,
    connection: Option<&str>,
    timeout: Duration,
) -> Result<(), SqlError> {
    let rows = tokio::time::timeout(timeout, client.query(ROLE_SQL, &[]))
        .await
        .map_err(|_| {
            SqlError::PrivilegedRole(format!(
                "checking the connection's role took longer than {}s",
                timeout.as_secs()
            ))
        })?
        .map_err(|e| {
            SqlError::PrivilegedRole(format!("cannot check the connection's role: {}", pg_error(&e)))
        })?;
    for row in &rows {
        let (role, superuser): (String, bool) = (row.get(0), row.get(1));
        let groups: Vec<&str> =
            ["pg_read_server_files", "pg_write_server_files", "pg_execute_server_program"]
                .into_iter()
                .enumerate()
                .filter(|(i, _)| row.get::<_, bool>(i + 2))
                .map(|(_, g)| g)
                .collect();
        if !superuser && groups.is_empty() {
            continue;
        }
        let what = if superuser {
            "is a superuser".to_string()
        } else {
            format!("is a member of {}", groups.join(", "))
        };
        let database: String = row.get(5);
        let schemas: Vec<String> =
            row.get::<_, String>(6).split(',').filter(|s| !s.is_empty()).map(str::to_string).collect();
        let schemas = if schemas.is_empty() { vec!["public".to_string()] } else { schemas };
        let fix = match connection {
            Some(name) => format!(
                "log in as that role in the url (or url_env) of [sql.connections.{name}]; or, to accept the risk, \
                 set `allow_privileged = true` under [sql.connections.{name}]"
            ),
            None => "log in as that role: ad-hoc URLs never accept a privileged role (a configured connection \
                     can accept one with `allow_privileged = true` under [sql.connections.NAME])"
                .to_string(),
        };
        return Err(SqlError::PrivilegedRole(format!(
            "PostgreSQL role `{role}` {what}: it can read and write the database server's files or run programs \
             there, so VANA refuses it for read-only calls. Create a read-only role (as `{role}`, choosing a password):\n\n{}\n\nThen {fix}.",
            readonly_role_sql(&database, &role, &schemas)
        )));
    }
    if rows.is_empty() {
        return Err(SqlError::PrivilegedRole(
            "cannot check the connection's role: it is not in pg_roles".into(),
        ));
    }
    Ok(())
}

/// SQL that creates a login role able to read every table of `schemas` (now and, for tables
/// `owner` creates later, by default privileges) and nothing else.
pub fn readonly_role_sql(database: &str, owner: &str, schemas: &[String]) -> String {
    let r = READONLY_ROLE;
    let mut sql = vec![
        format!("CREATE ROLE {r} LOGIN PASSWORD 'choose-a-password';"),
        format!("GRANT CONNECT ON DATABASE {} TO {r};", quote(database)),
    ];
    for s in schemas {
        let s = quote(s);
        sql.push(format!("GRANT USAGE ON SCHEMA {s} TO {r};"));
        sql.push(format!("GRANT SELECT ON ALL TABLES IN SCHEMA {s} TO {r};"));
        sql.push(format!(
            "ALTER DEFAULT PRIVILEGES FOR ROLE {} IN SCHEMA {s} GRANT SELECT ON TABLES TO {r};",
            quote(owner)
        ));
    }
    sql.join("\n")
}

/// The server's message (with detail and hint) rather than tokio-postgres' generic "db error".
pub fn pg_error(e: &tokio_postgres::Error) -> String {
    match e.as_db_error() {
        Some(d) => {
            let mut s = format!("{}: {} (SQLSTATE {})", d.severity(), d.message(), d.code().code());
            if let Some(h) = d.hint() {
                s.push_str(&format!("; hint: {h}"));
            }
            s
        }
        None => match e.source() {
            Some(src) => format!("{e}: {src}"),
            None => e.to_string(),
        },
    }
}

/// Runs one statement inside a transaction (read-only unless `writable`), committing writes.
pub async fn run(
    client: &mut Client,
    sql: &str,
    params: &[Value],
    writable: bool,
    max_rows: usize,
    timeout: Duration,
) -> Result<ResultTable, SqlError> {
    let tx = client
        .build_transaction()
        .read_only(!writable)
        .start()
        .await
        .map_err(|e| SqlError::Postgres(pg_error(&e)))?;
    // Standard strings (no backslash escapes outside E'...') as the statement check reads them.
    tx.batch_execute(&format!(
        "SET LOCAL statement_timeout = {}; SET LOCAL standard_conforming_strings = on",
        timeout.as_millis().max(1)
    ))
    .await
    .map_err(|e| SqlError::Postgres(pg_error(&e)))?;
    let err = |e: tokio_postgres::Error| SqlError::Postgres(pg_error(&e));
    let stmt = tx.prepare(sql).await.map_err(err)?;
    if stmt.params().len() != params.len() {
        return Err(SqlError::ParamCount { expected: stmt.params().len(), given: params.len() });
    }
    let bound: Vec<Param> = params.iter().map(|v| Param(v.clone())).collect();
    let columns: Vec<(String, String)> =
        stmt.columns().iter().map(|c| (c.name().to_string(), c.type_().name().to_string())).collect();
    let stream = tx.query_raw(&stmt, bound.iter()).await.map_err(err)?;
    pin_mut!(stream);
    let mut rows = Vec::new();
    let mut truncated = false;
    while let Some(row) = stream.try_next().await.map_err(err)? {
        if rows.len() == max_rows {
            truncated = true;
            break;
        }
        let mut out = Vec::with_capacity(columns.len());
        for (i, (name, _)) in columns.iter().enumerate() {
            let Cell(v) = row
                .try_get(i)
                .map_err(|e| SqlError::Column { column: name.clone(), message: source_text(&e) })?;
            out.push(v);
        }
        rows.push(out);
    }
    let affected = if truncated { None } else { stream.rows_affected() };
    if writable {
        tx.commit().await.map_err(err)?;
    } else {
        tx.rollback().await.map_err(err)?;
    }
    Ok(ResultTable { columns, rows, truncated, rows_affected: if writable { affected } else { None } })
}

fn source_text(e: &tokio_postgres::Error) -> String {
    e.source().map(|s| s.to_string()).unwrap_or_else(|| e.to_string())
}

/// A JSON parameter encoded as the type the server inferred for it.
#[derive(Debug)]
struct Param(Value);

impl ToSql for Param {
    fn to_sql(&self, ty: &Type, out: &mut BytesMut) -> Result<IsNull, BoxError> {
        let v = &self.0;
        if v.is_null() {
            return Ok(IsNull::Yes);
        }
        let bad = || -> BoxError { format!("parameter {v} cannot be sent as {}", ty.name()).into() };
        let int = || v.as_i64().or_else(|| v.as_str().and_then(|s| s.parse().ok())).ok_or_else(bad);
        let float = || v.as_f64().or_else(|| v.as_str().and_then(|s| s.parse().ok())).ok_or_else(bad);
        match *ty {
            Type::BOOL => v.as_bool().ok_or_else(bad)?.to_sql(ty, out),
            Type::INT2 => i16::try_from(int()?).map_err(|_| bad())?.to_sql(ty, out),
            Type::INT4 => i32::try_from(int()?).map_err(|_| bad())?.to_sql(ty, out),
            Type::INT8 => int()?.to_sql(ty, out),
            Type::FLOAT4 => (float()? as f32).to_sql(ty, out),
            Type::FLOAT8 => float()?.to_sql(ty, out),
            Type::JSON => {
                out.extend_from_slice(v.to_string().as_bytes());
                Ok(IsNull::No)
            }
            Type::JSONB => {
                out.extend_from_slice(&[1]);
                out.extend_from_slice(v.to_string().as_bytes());
                Ok(IsNull::No)
            }
            Type::TEXT | Type::VARCHAR | Type::BPCHAR | Type::NAME | Type::UNKNOWN => match v {
                Value::String(s) => s.as_str().to_sql(ty, out),
                other => other.to_string().as_str().to_sql(ty, out),
            },
            _ => Err(format!(
                "parameters of type {} are not supported; write the placeholder with a cast, e.g. $1::text::{}",
                ty.name(),
                ty.name()
            )
            .into()),
        }
    }

    fn accepts(_: &Type) -> bool {
        true
    }

    to_sql_checked!();
}

/// One result value decoded into JSON from PostgreSQL's binary format.
struct Cell(Value);

impl<'a> FromSql<'a> for Cell {
    fn from_sql(ty: &Type, raw: &'a [u8]) -> Result<Self, BoxError> {
        let v = match *ty {
            Type::BOOL => json!(bool::from_sql(ty, raw)?),
            Type::INT2 => json!(i16::from_sql(ty, raw)?),
            Type::INT4 => json!(i32::from_sql(ty, raw)?),
            Type::INT8 => json!(i64::from_sql(ty, raw)?),
            Type::OID => json!(u32::from_sql(ty, raw)?),
            Type::FLOAT4 => json!(f32::from_sql(ty, raw)? as f64),
            Type::FLOAT8 => json!(f64::from_sql(ty, raw)?),
            Type::NUMERIC => numeric(raw)?,
            Type::TEXT | Type::VARCHAR | Type::BPCHAR | Type::NAME | Type::UNKNOWN => {
                json!(String::from_utf8_lossy(raw))
            }
            Type::JSON => serde_json::from_slice(raw)?,
            Type::JSONB => serde_json::from_slice(raw.get(1..).unwrap_or_default())?,
            Type::DATE => json!(date(i32::from_sql(&Type::INT4, raw)? as i64)),
            Type::TIMESTAMP | Type::TIMESTAMPTZ => {
                let us = i64::from_sql(&Type::INT8, raw)?;
                let (days, rem) = (us.div_euclid(86_400_000_000), us.rem_euclid(86_400_000_000));
                let secs = rem / 1_000_000;
                let frac = rem % 1_000_000;
                let tz = if *ty == Type::TIMESTAMPTZ { "Z" } else { "" };
                let f = if frac == 0 { String::new() } else { format!(".{frac:06}") };
                json!(format!(
                    "{}T{:02}:{:02}:{:02}{f}{tz}",
                    date(days),
                    secs / 3600,
                    secs / 60 % 60,
                    secs % 60
                ))
            }
            Type::UUID if raw.len() == 16 => {
                let h: String = raw.iter().map(|b| format!("{b:02x}")).collect();
                json!(format!("{}-{}-{}-{}-{}", &h[0..8], &h[8..12], &h[12..16], &h[16..20], &h[20..]))
            }
            Type::BYTEA => json!(raw.iter().map(|b| format!("{b:02x}")).collect::<String>()),
            _ => {
                return Err(format!(
                    "type {} is not supported; cast it in the SQL, e.g. `col::text`",
                    ty.name()
                )
                .into())
            }
        };
        Ok(Cell(v))
    }

    fn from_sql_null(_: &Type) -> Result<Self, BoxError> {
        Ok(Cell(Value::Null))
    }

    fn accepts(_: &Type) -> bool {
        true
    }
}

/// `YYYY-MM-DD` of a day count from 2000-01-01 (PostgreSQL's epoch, 10 957 days after 1970-01-01).
fn date(days_since_2000: i64) -> String {
    vana_core::civil::format_date(days_since_2000 + 10_957)
}

/// NUMERIC's binary form (base-10000 digits) as a JSON number.
fn numeric(raw: &[u8]) -> Result<Value, BoxError> {
    let rd = |i: usize| -> Result<i16, BoxError> {
        Ok(i16::from_be_bytes(raw.get(i..i + 2).ok_or("short numeric")?.try_into()?))
    };
    let (n, weight, sign) = (rd(0)? as usize, rd(2)? as i32, rd(4)? as u16);
    if sign == 0xC000 {
        return Ok(Value::Null); // NaN
    }
    let mut v = 0f64;
    for i in 0..n {
        let d = rd(8 + 2 * i)? as f64;
        v += d * 10000f64.powi(weight - i as i32);
    }
    if sign == 0x4000 {
        v = -v;
    }
    Ok(json!(v))
}

/// Tables and views outside the system schemas.
pub async fn list_tables(
    client: &mut Client,
    schema: Option<&str>,
    timeout: Duration,
) -> Result<ResultTable, SqlError> {
    let sql = "SELECT table_schema, table_name, table_type FROM information_schema.tables \
               WHERE table_schema NOT IN ('pg_catalog', 'information_schema') AND ($1::text IS NULL OR table_schema = $1) \
               ORDER BY 1, 2";
    run(client, sql, &[schema.map(|s| json!(s)).unwrap_or(Value::Null)], false, 100_000, timeout).await
}

/// Columns, primary key and row count of `schema.table` (schema defaults to the search path).
pub async fn describe(client: &mut Client, table: &str, timeout: Duration) -> Result<Value, SqlError> {
    let (schema, name) = match table.split_once('.') {
        Some((s, t)) => (Some(s), t),
        None => (None, table),
    };
    // The primary key from pg_index: information_schema's constraint views show only tables the
    // role owns, so a read-only role would see no keys there.
    let sql = "SELECT c.column_name, c.data_type, c.is_nullable = 'YES', c.column_default, c.table_schema, \
               EXISTS (SELECT 1 FROM pg_index i JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = ANY(i.indkey) \
                 WHERE i.indisprimary AND i.indrelid = format('%I.%I', c.table_schema, c.table_name)::regclass \
                 AND a.attname = c.column_name) \
               FROM information_schema.columns c WHERE c.table_name = $1 \
               AND c.table_schema = COALESCE($2::text, (SELECT n.nspname FROM pg_class r JOIN pg_namespace n ON n.oid = r.relnamespace \
                   WHERE r.oid = to_regclass(quote_ident($1))::oid)) ORDER BY c.ordinal_position";
    let cols = run(
        client,
        sql,
        &[json!(name), schema.map(|s| json!(s)).unwrap_or(Value::Null)],
        false,
        10_000,
        timeout,
    )
    .await?;
    if cols.rows.is_empty() {
        return Err(SqlError::NoSuchTable(table.to_string()));
    }
    let real_schema = cols.rows[0][4].as_str().unwrap_or("public").to_string();
    let q = format!("{}.{}", quote(&real_schema), quote(name));
    let count = run(client, &format!("SELECT count(*) FROM {q}"), &[], false, 1, timeout).await?;
    Ok(json!({
        "table": format!("{real_schema}.{name}"),
        "columns": cols.rows.iter().map(|r| json!({
            "name": r[0], "type": r[1], "nullable": r[2], "default": r[3], "primaryKey": r[5]
        })).collect::<Vec<_>>(),
        "rowCount": count.rows[0][0],
    }))
}

/// A quoted identifier.
pub fn quote(id: &str) -> String {
    format!("\"{}\"", id.replace('"', "\"\""))
}
