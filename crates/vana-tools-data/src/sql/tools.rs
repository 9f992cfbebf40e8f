//! The SQL tools. Reads run in read-only database sessions, only statements the parser reads as
//! reads, and (PostgreSQL) only as a role that cannot reach the server's files or programs;
//! writes need a connection marked `writable` in `[sql.connections]` and a human's approval
//! (`requires_confirmation`). Neither path runs statements or functions that reach past the
//! database (see `classify`).

use super::classify::{self, Access, Dialect};
use super::conn::{Connections, Resolved, SqliteFile, Target};
use super::error::SqlError;
use super::result::ResultTable;
use super::{mysql, postgres, sqlite};
use async_trait::async_trait;
use serde::Deserialize;
use serde_json::{json, Value};
use std::sync::Arc;
use std::time::{Duration, Instant};
use vana_core::{ToolContext, ToolError, ToolOutput};
use vana_toolkit::schemars::{json_schema, JsonSchema, Schema, SchemaGenerator};
use vana_toolkit::TypedTool;

/// The schema of `params`: placeholder values, each a string, number, boolean or null.
fn param_values(_: &mut SchemaGenerator) -> Schema {
    json_schema!({"type": "array", "items": {"anyOf": [{"type": "string"}, {"type": "number"}, {"type": "boolean"}, {"type": "null"}]}})
}

/// Arguments of `execute_sql_query`.
#[derive(Debug, Deserialize, JsonSchema)]
pub struct QueryArgs {
    /// A configured connection name or a SQLite file in the session workspace (a postgres:// URL
    /// only where the configuration allows ad-hoc URLs).
    connection: String,
    /// One read-only statement (SELECT, WITH, VALUES, EXPLAIN, SHOW).
    sql: String,
    /// Values for the placeholders, in order ($1, $2 in PostgreSQL; ?1, ?2 in SQLite).
    #[serde(default)]
    #[schemars(schema_with = "param_values")]
    params: Vec<Value>,
    /// At most this many rows (capped by [sql] max_rows).
    #[serde(default)]
    #[schemars(with = "Option<u32>")]
    max_rows: Option<f64>,
}

/// Arguments of `execute_sql_write`.
#[derive(Debug, Deserialize, JsonSchema)]
pub struct WriteArgs {
    /// A configured connection marked writable.
    connection: String,
    /// One writing statement (INSERT, UPDATE, DELETE, DDL).
    sql: String,
    /// Values for the placeholders, in order ($1, $2 in PostgreSQL; ?1, ?2 in SQLite).
    #[serde(default)]
    #[schemars(schema_with = "param_values")]
    params: Vec<Value>,
}

/// Arguments of `list_tables`.
#[derive(Debug, Deserialize, JsonSchema)]
pub struct ListArgs {
    /// A configured connection name or a SQLite file in the session workspace.
    connection: String,
    /// PostgreSQL: only this schema (default: every non-system schema).
    #[serde(default)]
    schema: Option<String>,
}

/// Arguments of `describe_table`.
#[derive(Debug, Deserialize, JsonSchema)]
pub struct DescribeArgs {
    /// A configured connection name or a SQLite file in the session workspace.
    connection: String,
    /// Name, or schema.name in PostgreSQL.
    table: String,
}

/// Arguments of `create_table`.
#[derive(Debug, Deserialize, JsonSchema)]
pub struct CreateArgs {
    /// A configured connection marked writable.
    connection: String,
    /// The new table's name (schema.name in PostgreSQL).
    table: String,
    /// Its columns.
    #[schemars(length(min = 1))]
    columns: Vec<ColumnSpec>,
}

/// One column of `create_table`.
#[derive(Debug, Deserialize, JsonSchema)]
pub struct ColumnSpec {
    /// Column name.
    name: String,
    /// SQL type, e.g. INTEGER, TEXT, NUMERIC(10,2).
    #[serde(rename = "type")]
    ty: String,
    /// false adds NOT NULL (default: nullable).
    #[serde(default)]
    nullable: Option<bool>,
    /// Part of the primary key.
    #[serde(default)]
    primary_key: Option<bool>,
}

/// Arguments of `test_database_connection`.
#[derive(Debug, Deserialize, JsonSchema)]
pub struct ConnectionArgs {
    /// A configured connection name or a SQLite file in the session workspace.
    #[serde(alias = "connection_string")]
    connection: String,
}

impl Connections {
    fn limits(&self, max_rows: Option<f64>) -> Result<(usize, Duration), ToolError> {
        let max = match max_rows {
            Some(n) if n >= 1.0 => (n as usize).min(self.config.max_rows.max(1)),
            Some(n) => return Err(ToolError::InvalidArgs(format!("`max_rows` must be at least 1, got {n}"))),
            None => self.config.max_rows.max(1),
        };
        Ok((max, Duration::from_secs(self.config.timeout_secs.max(1))))
    }

    /// Connects to PostgreSQL; a read-only session first checks the role (once per connect)
    /// unless the connection is configured with `allow_privileged`.
    async fn postgres(
        &self,
        r: &Resolved,
        url: &str,
        access: Access,
        timeout: Duration,
    ) -> Result<tokio_postgres::Client, ToolError> {
        let c = postgres::connect(url, timeout).await?;
        if access == Access::Read && !r.allow_privileged {
            postgres::check_role(&c, r.name.as_deref(), timeout).await?;
        }
        Ok(c)
    }

    /// Runs one model-given statement read-only or (for approved writes) read-write, after the
    /// statement check. PostgreSQL checks the role before the statement, so each defence
    /// refuses on its own.
    async fn execute(
        &self,
        r: Resolved,
        sql: String,
        params: Vec<Value>,
        access: Access,
        max: usize,
        timeout: Duration,
    ) -> Result<ResultTable, ToolError> {
        let writable = access == Access::Write;
        let checked =
            |dialect| classify::check(&sql, dialect, access).map_err(|e| ToolError::Blocked(e.to_string()));
        match &r.target {
            Target::Sqlite(file) => {
                checked(Dialect::Sqlite)?;
                with_sqlite(file, writable, timeout, move |c| {
                    if writable {
                        sqlite::write(c, &sql, &params, max, timeout)
                    } else {
                        sqlite::run(c, &sql, &params, max, timeout)
                    }
                })
                .await
            }
            Target::Postgres(url) => {
                let mut c = self.postgres(&r, url, access, timeout).await?;
                checked(Dialect::Postgres)?;
                postgres::run(&mut c, &sql, &params, writable, max, timeout).await.map_err(ToolError::from)
            }
            Target::MySql(_) => Err(mysql_unsupported(&r)),
        }
    }
}

/// Opens a SQLite database and runs `f` on it, off the async runtime.
async fn with_sqlite<T: Send + 'static>(
    file: &SqliteFile,
    writable: bool,
    timeout: Duration,
    f: impl FnOnce(&mut rusqlite::Connection) -> Result<T, SqlError> + Send + 'static,
) -> Result<T, ToolError> {
    let file = file.clone();
    tokio::task::spawn_blocking(move || {
        let mut db = file.open(writable, timeout)?;
        Ok(f(&mut db)?)
    })
    .await
    .map_err(|e| ToolError::Failed(format!("database task crashed: {e}")))?
}

/// `execute_sql_query`: runs SQL in a read-only session and returns a result table.
pub struct ExecuteSqlQuery(pub(crate) Arc<Connections>);

#[async_trait]
impl TypedTool for ExecuteSqlQuery {
    type Args = QueryArgs;

    fn name(&self) -> &'static str {
        "execute_sql_query"
    }
    fn description(&self) -> &'static str {
        "Run a SQL query (SQLite or PostgreSQL) in a READ-ONLY database session with row and time limits. \
         Use params for values ($1, $2 in PostgreSQL; ?1, ?2 in SQLite). Returns columns with types, rows and \
         `truncated`; the result can be passed as `source` to analyze_dataset and visualize_data. Only reads \
         run here (SELECT, WITH, VALUES, EXPLAIN, SHOW); use execute_sql_write on a writable connection for writes."
    }
    async fn run(&self, args: QueryArgs, ctx: ToolContext) -> Result<ToolOutput, ToolError> {
        let r = self.0.resolve(&ctx, &args.connection)?;
        let sql = args.sql.as_str().to_string();
        let (max, timeout) = self.0.limits(args.max_rows)?;
        let t = self.0.execute(r, sql, args.params, Access::Read, max, timeout).await?;
        Ok(ToolOutput::json(t.to_json()))
    }
}

/// `execute_sql_write`: a write on a writable connection, after a human approves it.
pub struct ExecuteSqlWrite(pub(crate) Arc<Connections>);

#[async_trait]
impl TypedTool for ExecuteSqlWrite {
    type Args = WriteArgs;

    fn name(&self) -> &'static str {
        "execute_sql_write"
    }
    fn description(&self) -> &'static str {
        "Run a writing SQL statement (INSERT, UPDATE, DELETE, DDL) in one committed transaction. Only for \
         connections marked writable in the configuration; every call waits for the user's approval. Explain \
         what it will change first."
    }
    fn requires_confirmation(&self) -> bool {
        true
    }
    async fn run(&self, args: WriteArgs, ctx: ToolContext) -> Result<ToolOutput, ToolError> {
        let name = args.connection.as_str();
        let r = writable(self.0.resolve(&ctx, name)?, name)?;
        let sql = args.sql.as_str().to_string();
        let (max, timeout) = self.0.limits(None)?;
        let t = self.0.execute(r, sql, args.params, Access::Write, max, timeout).await?;
        let mut v = t.to_json();
        v["committed"] = json!(true);
        Ok(ToolOutput::json(v))
    }
}

/// The resolved connection if it takes approved writes.
/// The refusal of a query tool on a MariaDB/MySQL connection: only test_database_connection
/// speaks to those so far.
fn mysql_unsupported(r: &Resolved) -> ToolError {
    let which =
        r.name.as_deref().map(|n| format!("connection `{n}`")).unwrap_or_else(|| "this connection".into());
    ToolError::InvalidArgs(format!(
        "{which} is MariaDB/MySQL: only test_database_connection supports it; execute_sql_query, \
         execute_sql_write, list_tables, describe_table and create_table work on SQLite and PostgreSQL"
    ))
}

fn writable(r: Resolved, name: &str) -> Result<Resolved, ToolError> {
    if r.writable {
        Ok(r)
    } else {
        Err(ToolError::Blocked(format!(
            "connection `{name}` is read-only; set `writable = true` under [sql.connections.{name}] to allow approved writes"
        )))
    }
}

/// `list_tables`: tables and views of a database.
pub struct ListTables(pub(crate) Arc<Connections>);

#[async_trait]
impl TypedTool for ListTables {
    type Args = ListArgs;

    fn name(&self) -> &'static str {
        "list_tables"
    }
    fn description(&self) -> &'static str {
        "List the tables and views of a database (PostgreSQL: all non-system schemas, or `schema`)."
    }
    async fn run(&self, args: ListArgs, ctx: ToolContext) -> Result<ToolOutput, ToolError> {
        let r = self.0.resolve(&ctx, &args.connection)?;
        let (_, timeout) = self.0.limits(None)?;
        let t = match &r.target {
            Target::Sqlite(file) => {
                with_sqlite(file, false, timeout, move |c| sqlite::list_tables(c, timeout)).await?
            }
            Target::Postgres(url) => {
                let schema = args.schema.as_deref();
                let mut c = self.0.postgres(&r, url, Access::Read, timeout).await?;
                postgres::list_tables(&mut c, schema, timeout).await.map_err(ToolError::from)?
            }
            Target::MySql(_) => return Err(mysql_unsupported(&r)),
        };
        Ok(ToolOutput::json(t.to_json()))
    }
}

/// `describe_table`: columns, types, keys and row count.
pub struct DescribeTable(pub(crate) Arc<Connections>);

#[async_trait]
impl TypedTool for DescribeTable {
    type Args = DescribeArgs;

    fn name(&self) -> &'static str {
        "describe_table"
    }
    fn description(&self) -> &'static str {
        "Describe a table: columns with types, nullability, defaults and primary key, and its row count."
    }
    async fn run(&self, args: DescribeArgs, ctx: ToolContext) -> Result<ToolOutput, ToolError> {
        let r = self.0.resolve(&ctx, &args.connection)?;
        let table = args.table.as_str().to_string();
        let (_, timeout) = self.0.limits(None)?;
        let v = match &r.target {
            Target::Sqlite(file) => {
                with_sqlite(file, false, timeout, move |c| sqlite::describe(c, &table, timeout)).await?
            }
            Target::Postgres(url) => {
                let mut c = self.0.postgres(&r, url, Access::Read, timeout).await?;
                postgres::describe(&mut c, &table, timeout).await.map_err(ToolError::from)?
            }
            Target::MySql(_) => return Err(mysql_unsupported(&r)),
        };
        Ok(ToolOutput::json(v))
    }
}

/// `create_table`: builds and runs a CREATE TABLE on a writable connection, after approval.
pub struct CreateTable(pub(crate) Arc<Connections>);

/// CREATE TABLE text from a name and column specs, with quoted identifiers and checked types.
pub fn create_table_sql(table: &str, cols: &[ColumnSpec]) -> Result<String, ToolError> {
    if cols.is_empty() {
        return Err(ToolError::InvalidArgs(
            "field `columns`: give at least one column {name, type, nullable?, primary_key?}".into(),
        ));
    }
    let quote_path = |t: &str| t.split('.').map(sqlite::quote).collect::<Vec<_>>().join(".");
    let mut defs = Vec::new();
    let mut pk = Vec::new();
    for c in cols {
        let (name, ty) = (c.name.as_str(), c.ty.as_str());
        if ty.is_empty() || !ty.chars().all(|ch| ch.is_ascii_alphanumeric() || " _(),".contains(ch)) {
            return Err(ToolError::InvalidArgs(format!("column `{name}`: type `{ty}` is not a plain SQL type (letters, digits, spaces, parentheses, commas)")));
        }
        let mut d = format!("{} {ty}", sqlite::quote(name));
        if c.nullable == Some(false) {
            d.push_str(" NOT NULL");
        }
        if c.primary_key == Some(true) {
            pk.push(sqlite::quote(name));
        }
        defs.push(d);
    }
    if !pk.is_empty() {
        defs.push(format!("PRIMARY KEY ({})", pk.join(", ")));
    }
    Ok(format!("CREATE TABLE {} ({})", quote_path(table), defs.join(", ")))
}

#[async_trait]
impl TypedTool for CreateTable {
    type Args = CreateArgs;

    fn name(&self) -> &'static str {
        "create_table"
    }
    fn description(&self) -> &'static str {
        "Create a table on a writable connection (needs the user's approval). Columns: [{name, type, nullable?, primary_key?}]."
    }
    fn requires_confirmation(&self) -> bool {
        true
    }
    async fn run(&self, args: CreateArgs, ctx: ToolContext) -> Result<ToolOutput, ToolError> {
        let name = args.connection.as_str();
        let sql = create_table_sql(&args.table, &args.columns)?;
        let r = writable(self.0.resolve(&ctx, name)?, name)?;
        let (max, timeout) = self.0.limits(None)?;
        self.0.execute(r, sql.clone(), Vec::new(), Access::Write, max, timeout).await?;
        Ok(ToolOutput::json(json!({"created": true, "sql": sql})))
    }
}

/// `test_database_connection`: connects and reports the server version and latency.
pub struct TestDatabaseConnection(pub(crate) Arc<Connections>);

#[async_trait]
impl TypedTool for TestDatabaseConnection {
    type Args = ConnectionArgs;

    fn name(&self) -> &'static str {
        "test_database_connection"
    }
    fn description(&self) -> &'static str {
        "Check that a database connection works (SQLite, PostgreSQL, MariaDB/MySQL): connects, reports the server version, round-trip latency and whether writes are allowed."
    }
    async fn run(&self, args: ConnectionArgs, ctx: ToolContext) -> Result<ToolOutput, ToolError> {
        let conn = args.connection.as_str();
        let r = self.0.resolve(&ctx, conn)?;
        let (_, timeout) = self.0.limits(None)?;
        let start = Instant::now();
        let mut extra = json!({});
        let (kind, version) = match &r.target {
            Target::Sqlite(file) => {
                let t = with_sqlite(file, false, timeout, move |c| {
                    sqlite::run(c, "SELECT sqlite_version()", &[], 1, timeout)
                })
                .await?;
                ("sqlite", t.rows[0][0].clone())
            }
            Target::Postgres(url) => {
                let mut c = self.0.postgres(&r, url, Access::Read, timeout).await?;
                let t = postgres::run(&mut c, "SELECT version()", &[], false, 1, timeout).await?;
                ("postgresql", t.rows[0][0].clone())
            }
            Target::MySql(url) => {
                let info = mysql::server_info(url, timeout).await?;
                let kind =
                    if info.version.to_ascii_lowercase().contains("mariadb") { "mariadb" } else { "mysql" };
                extra = json!({
                    "versionComment": info.comment, "user": info.user, "database": info.database,
                    "serverReadOnly": info.read_only,
                    "queryTools": "not supported on MariaDB/MySQL: only test_database_connection",
                });
                (kind, json!(info.version))
            }
        };
        let mut out = json!({
            "connected": true, "kind": kind, "serverVersion": version,
            "latencyMs": start.elapsed().as_secs_f64() * 1000.0, "writable": r.writable
        });
        if let (Some(o), Some(e)) = (out.as_object_mut(), extra.as_object()) {
            o.extend(e.clone());
        }
        Ok(ToolOutput::json(out))
    }
}
