//! The SQL tools. Reads run in read-only database sessions, only statements the parser reads as
//! reads, and (PostgreSQL) only as a role that cannot reach the server's files or programs;
//! writes need a connection marked `writable` in `[sql.connections]` and a human's approval
//! (`requires_confirmation`). Neither path runs statements or functions that reach past the
//! database (see `classify`).

use super::classify::{self, Access, Dialect};
use super::conn::{Connections, Resolved, SqliteFile, Target};
use super::result::ResultTable;
use super::{postgres, sqlite};
use crate::args;
use async_trait::async_trait;
use serde_json::{json, Value};
use std::sync::Arc;
use std::time::{Duration, Instant};
use vana_core::{Tool, ToolContext, ToolError, ToolOutput};

fn conn_schema() -> Value {
    json!({"type": "string", "description": "A configured connection name or a SQLite file in the session workspace (a postgres:// URL only where the configuration allows ad-hoc URLs)."})
}

fn params_of(args: &Value) -> Result<Vec<Value>, ToolError> {
    match args.get("params") {
        None | Some(Value::Null) => Ok(Vec::new()),
        Some(Value::Array(a)) => Ok(a.clone()),
        Some(other) => Err(ToolError::InvalidArgs(format!(
            "`params` must be an array of values for $1/?1..., got {other}"
        ))),
    }
}

impl Connections {
    fn limits(&self, args: &Value) -> Result<(usize, Duration), ToolError> {
        let max = match args::opt_f64(args, "max_rows")? {
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
        let c = postgres::connect(url, timeout).await.map_err(ToolError::Failed)?;
        if access == Access::Read && !r.allow_privileged {
            postgres::check_role(&c, r.name.as_deref(), timeout).await.map_err(ToolError::Blocked)?;
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
                postgres::run(&mut c, &sql, &params, writable, max, timeout).await.map_err(ToolError::Failed)
            }
        }
    }
}

/// Opens a SQLite database and runs `f` on it, off the async runtime.
async fn with_sqlite<T: Send + 'static>(
    file: &SqliteFile,
    writable: bool,
    timeout: Duration,
    f: impl FnOnce(&mut rusqlite::Connection) -> Result<T, String> + Send + 'static,
) -> Result<T, ToolError> {
    let file = file.clone();
    tokio::task::spawn_blocking(move || {
        let mut db = file.open(writable, timeout)?;
        f(&mut db).map_err(ToolError::Failed)
    })
    .await
    .map_err(|e| ToolError::Failed(format!("database task crashed: {e}")))?
}

/// `execute_sql_query`: runs SQL in a read-only session and returns a result table.
pub struct ExecuteSqlQuery(pub(crate) Arc<Connections>);

#[async_trait]
impl Tool for ExecuteSqlQuery {
    fn name(&self) -> &str {
        "execute_sql_query"
    }
    fn description(&self) -> &str {
        "Run a SQL query (SQLite or PostgreSQL) in a READ-ONLY database session with row and time limits. \
         Use params for values ($1, $2 in PostgreSQL; ?1, ?2 in SQLite). Returns columns with types, rows and \
         `truncated`; the result can be passed as `source` to analyze_dataset and visualize_data. Only reads \
         run here (SELECT, WITH, VALUES, EXPLAIN, SHOW); use execute_sql_write on a writable connection for writes."
    }
    fn parameters(&self) -> Value {
        json!({"type": "object", "properties": {
            "connection": conn_schema(),
            "sql": {"type": "string"},
            "params": {"type": "array", "description": "Values for the placeholders, in order."},
            "max_rows": {"type": "integer", "description": "At most this many rows (capped by [sql] max_rows)."}
        }, "required": ["connection", "sql"]})
    }
    async fn call(&self, args: Value, ctx: ToolContext) -> Result<ToolOutput, ToolError> {
        let r = self.0.resolve(&ctx, args::string(&args, "connection")?)?;
        let sql = args::string(&args, "sql")?.to_string();
        let (max, timeout) = self.0.limits(&args)?;
        let t = self.0.execute(r, sql, params_of(&args)?, Access::Read, max, timeout).await?;
        Ok(ToolOutput::json(t.to_json()))
    }
}

/// `execute_sql_write`: a write on a writable connection, after a human approves it.
pub struct ExecuteSqlWrite(pub(crate) Arc<Connections>);

#[async_trait]
impl Tool for ExecuteSqlWrite {
    fn name(&self) -> &str {
        "execute_sql_write"
    }
    fn description(&self) -> &str {
        "Run a writing SQL statement (INSERT, UPDATE, DELETE, DDL) in one committed transaction. Only for \
         connections marked writable in the configuration; every call waits for the user's approval. Explain \
         what it will change first."
    }
    fn parameters(&self) -> Value {
        json!({"type": "object", "properties": {
            "connection": conn_schema(),
            "sql": {"type": "string"},
            "params": {"type": "array"}
        }, "required": ["connection", "sql"]})
    }
    fn requires_confirmation(&self) -> bool {
        true
    }
    async fn call(&self, args: Value, ctx: ToolContext) -> Result<ToolOutput, ToolError> {
        let name = args::string(&args, "connection")?;
        let r = writable(self.0.resolve(&ctx, name)?, name)?;
        let sql = args::string(&args, "sql")?.to_string();
        let (max, timeout) = self.0.limits(&args)?;
        let t = self.0.execute(r, sql, params_of(&args)?, Access::Write, max, timeout).await?;
        let mut v = t.to_json();
        v["committed"] = json!(true);
        Ok(ToolOutput::json(v))
    }
}

/// The resolved connection if it takes approved writes.
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
impl Tool for ListTables {
    fn name(&self) -> &str {
        "list_tables"
    }
    fn description(&self) -> &str {
        "List the tables and views of a database (PostgreSQL: all non-system schemas, or `schema`)."
    }
    fn parameters(&self) -> Value {
        json!({"type": "object", "properties": {"connection": conn_schema(), "schema": {"type": "string"}}, "required": ["connection"]})
    }
    async fn call(&self, args: Value, ctx: ToolContext) -> Result<ToolOutput, ToolError> {
        let r = self.0.resolve(&ctx, args::string(&args, "connection")?)?;
        let (_, timeout) = self.0.limits(&args)?;
        let t = match &r.target {
            Target::Sqlite(file) => {
                with_sqlite(file, false, timeout, move |c| sqlite::list_tables(c, timeout)).await?
            }
            Target::Postgres(url) => {
                let schema = args::opt_string(&args, "schema")?;
                let mut c = self.0.postgres(&r, url, Access::Read, timeout).await?;
                postgres::list_tables(&mut c, schema, timeout).await.map_err(ToolError::Failed)?
            }
        };
        Ok(ToolOutput::json(t.to_json()))
    }
}

/// `describe_table`: columns, types, keys and row count.
pub struct DescribeTable(pub(crate) Arc<Connections>);

#[async_trait]
impl Tool for DescribeTable {
    fn name(&self) -> &str {
        "describe_table"
    }
    fn description(&self) -> &str {
        "Describe a table: columns with types, nullability, defaults and primary key, and its row count."
    }
    fn parameters(&self) -> Value {
        json!({"type": "object", "properties": {"connection": conn_schema(), "table": {"type": "string", "description": "Name, or schema.name in PostgreSQL."}}, "required": ["connection", "table"]})
    }
    async fn call(&self, args: Value, ctx: ToolContext) -> Result<ToolOutput, ToolError> {
        let r = self.0.resolve(&ctx, args::string(&args, "connection")?)?;
        let table = args::string(&args, "table")?.to_string();
        let (_, timeout) = self.0.limits(&args)?;
        let v = match &r.target {
            Target::Sqlite(file) => {
                with_sqlite(file, false, timeout, move |c| sqlite::describe(c, &table, timeout)).await?
            }
            Target::Postgres(url) => {
                let mut c = self.0.postgres(&r, url, Access::Read, timeout).await?;
                postgres::describe(&mut c, &table, timeout).await.map_err(ToolError::Failed)?
            }
        };
        Ok(ToolOutput::json(v))
    }
}

/// `create_table`: builds and runs a CREATE TABLE on a writable connection, after approval.
pub struct CreateTable(pub(crate) Arc<Connections>);

/// CREATE TABLE text from a name and column specs, with quoted identifiers and checked types.
pub fn create_table_sql(table: &str, columns: &Value) -> Result<String, ToolError> {
    let cols = columns.as_array().filter(|c| !c.is_empty()).ok_or_else(|| {
        ToolError::InvalidArgs(
            "`columns` must be a non-empty array of {name, type, nullable?, primary_key?}".into(),
        )
    })?;
    let quote_path = |t: &str| t.split('.').map(sqlite::quote).collect::<Vec<_>>().join(".");
    let mut defs = Vec::new();
    let mut pk = Vec::new();
    for c in cols {
        let name = c
            .get("name")
            .and_then(Value::as_str)
            .ok_or_else(|| ToolError::InvalidArgs("each column needs a `name`".into()))?;
        let ty = c
            .get("type")
            .and_then(Value::as_str)
            .ok_or_else(|| ToolError::InvalidArgs(format!("column `{name}` needs a `type`")))?;
        if ty.is_empty() || !ty.chars().all(|ch| ch.is_ascii_alphanumeric() || " _(),".contains(ch)) {
            return Err(ToolError::InvalidArgs(format!("column `{name}`: type `{ty}` is not a plain SQL type (letters, digits, spaces, parentheses, commas)")));
        }
        let mut d = format!("{} {ty}", sqlite::quote(name));
        if c.get("nullable").and_then(Value::as_bool) == Some(false) {
            d.push_str(" NOT NULL");
        }
        if c.get("primary_key").and_then(Value::as_bool) == Some(true) {
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
impl Tool for CreateTable {
    fn name(&self) -> &str {
        "create_table"
    }
    fn description(&self) -> &str {
        "Create a table on a writable connection (needs the user's approval). Columns: [{name, type, nullable?, primary_key?}]."
    }
    fn parameters(&self) -> Value {
        json!({"type": "object", "properties": {
            "connection": conn_schema(),
            "table": {"type": "string"},
            "columns": {"type": "array", "items": {"type": "object", "properties": {
                "name": {"type": "string"}, "type": {"type": "string"}, "nullable": {"type": "boolean"}, "primary_key": {"type": "boolean"}
            }, "required": ["name", "type"]}}
        }, "required": ["connection", "table", "columns"]})
    }
    fn requires_confirmation(&self) -> bool {
        true
    }
    async fn call(&self, args: Value, ctx: ToolContext) -> Result<ToolOutput, ToolError> {
        let name = args::string(&args, "connection")?;
        let sql =
            create_table_sql(args::string(&args, "table")?, args.get("columns").unwrap_or(&Value::Null))?;
        let r = writable(self.0.resolve(&ctx, name)?, name)?;
        let (max, timeout) = self.0.limits(&args)?;
        self.0.execute(r, sql.clone(), Vec::new(), Access::Write, max, timeout).await?;
        Ok(ToolOutput::json(json!({"created": true, "sql": sql})))
    }
}

/// `test_database_connection`: connects and reports the server version and latency.
pub struct TestDatabaseConnection(pub(crate) Arc<Connections>);

#[async_trait]
impl Tool for TestDatabaseConnection {
    fn name(&self) -> &str {
        "test_database_connection"
    }
    fn description(&self) -> &str {
        "Check that a database connection works: connects, reports the server version, round-trip latency and whether writes are allowed."
    }
    fn parameters(&self) -> Value {
        json!({"type": "object", "properties": {"connection": conn_schema()}, "required": ["connection"]})
    }
    async fn call(&self, args: Value, ctx: ToolContext) -> Result<ToolOutput, ToolError> {
        let conn = args::opt_string(&args, "connection")?.or(args::opt_string(&args, "connection_string")?);
        let conn = conn.ok_or_else(|| ToolError::InvalidArgs("`connection` (string) is required".into()))?;
        let r = self.0.resolve(&ctx, conn)?;
        let (_, timeout) = self.0.limits(&args)?;
        let start = Instant::now();
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
                let t = postgres::run(&mut c, "SELECT version()", &[], false, 1, timeout)
                    .await
                    .map_err(ToolError::Failed)?;
                ("postgresql", t.rows[0][0].clone())
            }
        };
        Ok(ToolOutput::json(json!({
            "connected": true, "kind": kind, "serverVersion": version,
            "latencyMs": start.elapsed().as_secs_f64() * 1000.0, "writable": r.writable
        })))
    }
}
