//! `sync_data_between_systems`: rows from a workspace file (CSV, TSV, JSON, JSON lines), a SQL
//! query on a configured connection, or a paginated JSON HTTP API, into a table on a configured
//! writable connection (PostgreSQL, MariaDB/MySQL or SQLite, the `[sql.connections]` of the
//! database tools).
//!
//! The source rows are first loaded into a temporary staging table shaped like the target's
//! columns (so the database converts them exactly as it would on insert), then compared with the
//! target in SQL: rows to insert (key absent), to update (key present, a column distinct), and
//! with `mirror` to delete (key absent from the source). `dry_run` (the default) reports those
//! counts with samples and changes nothing. A real run applies the staging rows in batches, each
//! in its own transaction (`INSERT … ON CONFLICT (key) DO UPDATE … WHERE distinct`), so a
//! failure leaves the target as it was before the failed batch and the error says how far it
//! got; running it again finishes the job, and a second run changes nothing.

use crate::jsonpath;
use async_trait::async_trait;
use serde::Deserialize;
use serde_json::{json, Value};
use std::collections::BTreeMap;
use std::time::{Duration, Instant};
use vana_core::{ToolContext, ToolError, ToolOutput};
use vana_net::OutboundPolicy;
use vana_toolkit::schemars::{self, JsonSchema};
use vana_toolkit::{SessionFiles, TypedTool};

/// A database the sync may read or write: a `[sql.connections.NAME]` entry as vana-app passes it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SyncConnection {
    /// `postgres://…`, `sqlite:///path` or a SQLite file path.
    pub url: String,
    /// Environment variable holding the URL (wins over `url`).
    pub url_env: String,
    /// Writes allowed (a sync target must be).
    pub writable: bool,
}

impl SyncConnection {
    fn resolve(&self, name: &str) -> Result<Db, ToolError> {
        let url = if self.url_env.is_empty() {
            self.url.clone()
        } else {
            std::env::var(&self.url_env).map_err(|_| {
                ToolError::Unavailable(format!(
                    "connection `{name}` reads its URL from ${}, which is not set",
                    self.url_env
                ))
            })?
        };
        if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            Ok(Db::Postgres(url))
        } else if url.starts_with("mysql://") || url.starts_with("mariadb://") {
            Ok(Db::Mysql(url))
        } else if let Some(scheme) = url.split_once("://").map(|(s, _)| s).filter(|s| *s != "sqlite") {
            Err(ToolError::Unavailable(format!(
                "connection `{name}`: `{scheme}://` is not supported by the sync (PostgreSQL, MariaDB/MySQL and SQLite are)"
            )))
        } else if url.is_empty() {
            Err(ToolError::Unavailable(format!("connection `{name}` has no url")))
        } else {
            let path = url.strip_prefix("sqlite://").or_else(|| url.strip_prefix("sqlite:")).unwrap_or(&url);
            Ok(Db::Sqlite(path.to_string()))
        }
    }
}

#[derive(Debug, Clone)]
enum Db {
    Postgres(String),
    Mysql(String),
    Sqlite(String),
}

/// Where the rows come from.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Source {
    /// A workspace file: CSV, TSV, JSON (an array of objects) or JSON lines.
    #[serde(default)]
    pub file: Option<String>,
    /// A configured connection to run `query` on (read-only).
    #[serde(default)]
    pub connection: Option<String>,
    /// One SELECT statement.
    #[serde(default)]
    pub query: Option<String>,
    /// A JSON HTTP API (under `[integration]`'s outbound policy).
    #[serde(default)]
    pub url: Option<String>,
    /// JSONPath to the array of records in each API page (default: the page itself, or its
    /// first array field).
    #[serde(default)]
    pub items: Option<String>,
    /// JSONPath to the next page's URL in the body (default: the `Link: rel="next"` header).
    #[serde(default)]
    pub next: Option<String>,
    /// Most API pages read (default 100).
    #[serde(default, deserialize_with = "vana_toolkit::args::whole")]
    pub max_pages: Option<u32>,
}

/// Arguments of `sync_data_between_systems`.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct SyncArgs {
    /// The source: `{"file": "customers.csv"}`, `{"connection": "crm", "query": "SELECT …"}` or
    /// `{"url": "https://api.example/customers", "items": "$.data", "next": "$.links.next"}`.
    pub source: Source,
    /// The configured writable connection holding the target table.
    pub target_connection: String,
    /// The target table (it must exist; `schema.table` on PostgreSQL).
    pub table: String,
    /// `append` (insert every source row), `upsert` (insert new keys, update changed rows;
    /// default) or `mirror` (upsert, then delete target rows whose key the source lacks).
    #[serde(default)]
    #[schemars(extend("enum" = ["append", "upsert", "mirror"]))]
    pub mode: Option<String>,
    /// Key columns for `upsert` and `mirror` (a primary key or unique constraint on the target).
    #[serde(default)]
    pub key: Vec<String>,
    /// The columns to sync (default: every source column).
    #[serde(default)]
    pub columns: Vec<String>,
    /// Report what would change without changing anything (default true).
    #[serde(default)]
    pub dry_run: Option<bool>,
    /// Rows per transaction (default 5000).
    #[serde(default, deserialize_with = "vana_toolkit::args::whole")]
    pub batch_size: Option<u32>,
}

/// `sync_data_between_systems`.
pub struct SyncData {
    pub(crate) connections: BTreeMap<String, SyncConnection>,
    pub(crate) policy: OutboundPolicy,
    pub(crate) files: SessionFiles,
    pub(crate) timeout: Duration,
}

/// Source rows: column names and text values (`None` is NULL).
pub(crate) struct Rows {
    pub(crate) columns: Vec<String>,
    pub(crate) rows: Vec<Vec<Option<String>>>,
    pub(crate) origin: String,
}

fn bad(m: impl Into<String>) -> ToolError {
    ToolError::InvalidArgs(m.into())
}

/// A SQL identifier the sync quotes: letters, digits, `_`, not starting with a digit.
fn ident(field: &str, s: &str) -> Result<String, ToolError> {
    let ok = !s.is_empty()
        && s.len() <= 63
        && !s.starts_with(|c: char| c.is_ascii_digit())
        && s.chars().all(|c| c.is_ascii_alphanumeric() || c == '_');
    if ok {
        Ok(format!("\"{s}\""))
    } else {
        Err(bad(format!("field `{field}`: `{s}` is not a plain SQL name (letters, digits, `_`)")))
    }
}

fn text_of(v: &Value) -> Option<String> {
    match v {
        Value::Null => None,
        Value::String(s) => Some(s.clone()),
        other => Some(other.to_string()),
    }
}

/// Objects into rows, columns in first-seen order.
fn rows_from_objects(objs: &[Value], origin: String) -> Result<Rows, ToolError> {
    let mut columns: Vec<String> = Vec::new();
    for (i, o) in objs.iter().enumerate() {
        let Value::Object(m) = o else {
            return Err(bad(format!("{origin}: record {} is not an object", i + 1)));
        };
        for k in m.keys() {
            if !columns.contains(k) {
                columns.push(k.clone());
            }
        }
    }
    let rows = objs.iter().map(|o| columns.iter().map(|c| o.get(c).and_then(text_of)).collect()).collect();
    Ok(Rows { columns, rows, origin })
}

impl SyncData {
    fn connection(&self, name: &str) -> Result<(&SyncConnection, Db), ToolError> {
        let c = self.connections.get(name).ok_or_else(|| {
            let names: Vec<&str> = self.connections.keys().map(String::as_str).collect();
            bad(format!(
                "unknown connection `{name}`: use one of [sql.connections] ({})",
                if names.is_empty() { "none configured".to_string() } else { names.join(", ") }
            ))
        })?;
        Ok((c, c.resolve(name)?))
    }

    async fn load(&self, ctx: &ToolContext, src: &Source) -> Result<Rows, ToolError> {
        match (&src.file, &src.connection, &src.url) {
            (Some(file), None, None) => {
                let rel = vana_toolkit::vana_workspace::normalize(file).map_err(vana_toolkit::tool_error)?;
                let bytes = self.files.read(ctx, &rel, 4 << 30)?;
                load_file(&rel, &bytes)
            }
            (None, Some(conn), None) => {
                let q = src
                    .query
                    .as_deref()
                    .ok_or_else(|| bad("`source.query` is required with `source.connection`"))?;
                let (_, db) = self.connection(conn)?;
                match db {
                    Db::Postgres(url) => pg_query(&url, q).await,
                    Db::Mysql(url) => crate::sync_mysql::query(&url, q).await,
                    Db::Sqlite(path) => {
                        let q = q.to_string();
                        tokio::task::spawn_blocking(move || sqlite_query(&path, &q))
                            .await
                            .map_err(|e| ToolError::Failed(e.to_string()))?
                    }
                }
            }
            (None, None, Some(url)) => self.load_api(url, src).await,
            _ => Err(bad(
                "give exactly one of `source.file`, `source.connection` + `source.query`, or `source.url`",
            )),
        }
    }

    async fn load_api(&self, url: &str, src: &Source) -> Result<Rows, ToolError> {
        let client = self
            .policy
            .client(reqwest::Client::builder().timeout(self.timeout), 5)
            .map_err(|e| ToolError::Failed(e.to_string()))?;
        let max_pages = src.max_pages.unwrap_or(100).max(1);
        let mut next = Some(url.to_string());
        let mut objs = Vec::new();
        let mut pages = 0;
        while let Some(u) = next.take() {
            if pages >= max_pages {
                return Err(bad(format!("the API has more than {max_pages} pages (`source.max_pages`)")));
            }
            pages += 1;
            let resp = client
                .get(&u)
                .map_err(|r| ToolError::Blocked(crate::api_test::refusal_message(&r)))?
                .header("accept", "application/json")
                .send()
                .await
                .map_err(|e| match vana_net::Refusal::find(&e) {
                    Some(r) => ToolError::Blocked(crate::api_test::refusal_message(r)),
                    None => ToolError::Failed(format!("GET {u} failed: {e}")),
                })?;
            if !resp.status().is_success() {
                return Err(ToolError::Failed(format!("GET {u} answered {}", resp.status())));
            }
            let link =
                resp.headers().get("link").and_then(|v| v.to_str().ok()).and_then(crate::github::next_link);
            let body: Value = resp
                .json()
                .await
                .map_err(|e| ToolError::Failed(format!("GET {u}: the body is not JSON: {e}")))?;
            let items = match &src.items {
                Some(p) => jsonpath::select(&body, p)
                    .map_err(bad)?
                    .first()
                    .map(|v| (*v).clone())
                    .unwrap_or(Value::Null),
                None if body.is_array() => body.clone(),
                None => body
                    .as_object()
                    .and_then(|o| o.values().find(|v| v.is_array()).cloned())
                    .unwrap_or(Value::Null),
            };
            let Value::Array(items) = items else {
                return Err(bad(format!("GET {u}: no array of records found (set `source.items`)")));
            };
            objs.extend(items);
            next = match &src.next {
                Some(p) => jsonpath::select(&body, p)
                    .map_err(bad)?
                    .first()
                    .and_then(|v| v.as_str())
                    .filter(|s| !s.is_empty())
                    .map(|s| {
                        url::Url::parse(&u)
                            .and_then(|b| b.join(s))
                            .map(|x| x.to_string())
                            .unwrap_or(s.to_string())
                    }),
                None => link,
            };
        }
        rows_from_objects(&objs, format!("{url} ({pages} pages)"))
    }
}

fn load_file(name: &str, bytes: &[u8]) -> Result<Rows, ToolError> {
    let lower = name.to_ascii_lowercase();
    if lower.ends_with(".csv") || lower.ends_with(".tsv") {
        let delim = if lower.ends_with(".tsv") { b'\t' } else { b',' };
        let mut rdr = csv::ReaderBuilder::new().delimiter(delim).from_reader(bytes);
        let columns: Vec<String> = rdr
            .headers()
            .map_err(|e| bad(format!("`{name}`: {e}")))?
            .iter()
            .map(|h| h.trim_start_matches('\u{feff}').to_string())
            .collect();
        let mut rows = Vec::new();
        for rec in rdr.records() {
            let rec = rec.map_err(|e| bad(format!("`{name}`: {e}")))?;
            // An empty CSV cell is NULL.
            rows.push(rec.iter().map(|c| (!c.is_empty()).then(|| c.to_string())).collect());
        }
        return Ok(Rows { columns, rows, origin: name.to_string() });
    }
    let objs: Vec<Value> = if lower.ends_with(".jsonl") || lower.ends_with(".ndjson") {
        bytes
            .split(|b| *b == b'\n')
            .filter(|l| !l.iter().all(u8::is_ascii_whitespace))
            .map(serde_json::from_slice)
            .collect::<Result<_, _>>()
            .map_err(|e| bad(format!("`{name}`: {e}")))?
    } else if lower.ends_with(".json") {
        match serde_json::from_slice(bytes).map_err(|e| bad(format!("`{name}` is not valid JSON: {e}")))? {
            Value::Array(a) => a,
            _ => return Err(bad(format!("`{name}` must hold an array of objects"))),
        }
    } else {
        return Err(bad(format!("`{name}`: use a .csv, .tsv, .json or .jsonl file")));
    };
    rows_from_objects(&objs, name.to_string())
}

async fn pg_connect(url: &str) -> Result<tokio_postgres::Client, ToolError> {
    let (client, conn) = tokio_postgres::connect(url, tokio_postgres::NoTls)
        .await
        .map_err(|e| ToolError::Failed(format!("PostgreSQL connection failed: {e}")))?;
    tokio::spawn(async move {
        let _ = conn.await;
    });
    Ok(client)
}

fn pg_err(e: tokio_postgres::Error) -> ToolError {
    let msg = e
        .as_db_error()
        .map(|d| match d.where_() {
            Some(w) => format!("{} ({w})", d.message()),
            None => d.message().to_string(),
        })
        .unwrap_or_else(|| e.to_string());
    ToolError::Failed(format!("PostgreSQL: {msg}"))
}

/// A read-only query on PostgreSQL: one statement (the extended protocol refuses several), inside
/// a READ ONLY transaction, its rows as JSON text.
async fn pg_query(url: &str, q: &str) -> Result<Rows, ToolError> {
    let mut client = pg_connect(url).await?;
    let tx = client.build_transaction().read_only(true).start().await.map_err(pg_err)?;
    let q = q.trim().trim_end_matches(';');
    let rows =
        tx.query(&format!("SELECT row_to_json(q)::text FROM ({q}) AS q"), &[]).await.map_err(pg_err)?;
    let objs: Vec<Value> =
        rows.iter().map(|r| serde_json::from_str(r.get::<_, &str>(0)).unwrap_or(Value::Null)).collect();
    let cols = tx
        .prepare(&format!("SELECT * FROM ({q}) AS q LIMIT 0"))
        .await
        .map_err(pg_err)?
        .columns()
        .iter()
        .map(|c| c.name().to_string())
        .collect::<Vec<_>>();
    tx.rollback().await.map_err(pg_err)?;
    let rows = objs.iter().map(|o| cols.iter().map(|c| o.get(c).and_then(text_of)).collect()).collect();
    Ok(Rows { columns: cols, rows, origin: "SQL query".into() })
}

fn sqlite_query(path: &str, q: &str) -> Result<Rows, ToolError> {
    let db = rusqlite::Connection::open_with_flags(path, rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY)
        .map_err(|e| ToolError::Failed(format!("SQLite {path}: {e}")))?;
    let mut stmt = db.prepare(q).map_err(|e| bad(format!("SQLite: {e}")))?;
    if !stmt.readonly() {
        return Err(ToolError::Blocked("the source query must only read (a SELECT)".into()));
    }
    let columns: Vec<String> = stmt.column_names().map(|s| s.to_string()).collect();
    let n = columns.len();
    let mut out = Vec::new();
    let mut rows = stmt.query([]).map_err(|e| ToolError::Failed(format!("SQLite: {e}")))?;
    while let Some(r) = rows.next().map_err(|e| ToolError::Failed(format!("SQLite: {e}")))? {
        let mut row = Vec::with_capacity(n);
        for i in 0..n {
            use rusqlite::types::ValueRef;
            row.push(match r.get_ref(i).map_err(|e| ToolError::Failed(e.to_string()))? {
                ValueRef::Null => None,
                ValueRef::Integer(x) => Some(x.to_string()),
                ValueRef::Real(x) => Some(x.to_string()),
                ValueRef::Text(t) => Some(String::from_utf8_lossy(t).into_owned()),
                ValueRef::Blob(b) => Some(String::from_utf8_lossy(b).into_owned()),
            });
        }
        out.push(row);
    }
    Ok(Rows { columns, rows: out, origin: "SQL query".into() })
}

/// What the sync will do (or did).
#[derive(Debug, Default)]
struct Plan {
    inserts: u64,
    updates: u64,
    deletes: u64,
    samples: Value,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Mode {
    Append,
    Upsert,
    Mirror,
}

/// The SQL pieces the plan and apply steps share (identifiers checked and quoted).
pub(crate) struct Shape {
    pub(crate) table: String,
    pub(crate) cols: Vec<String>,
    pub(crate) keys: Vec<String>,
    pub(crate) values: Vec<String>,
}

impl Shape {
    pub(crate) fn key_join(&self, a: &str, b: &str) -> String {
        self.keys.iter().map(|k| format!("{a}.{k} = {b}.{k}")).collect::<Vec<_>>().join(" AND ")
    }
    fn distinct(&self, a: &str, b: &str, not: &str) -> String {
        let l: Vec<String> = self.values.iter().map(|c| format!("{a}.{c}")).collect();
        let r: Vec<String> = self.values.iter().map(|c| format!("{b}.{c}")).collect();
        format!("({}) {not} ({})", l.join(", "), r.join(", "))
    }
    pub(crate) fn col_list(&self) -> String {
        self.cols.join(", ")
    }
}

fn copy_escape(v: &Option<String>) -> String {
    match v {
        None => "\\N".into(),
        Some(s) => s.replace('\\', "\\\\").replace('\t', "\\t").replace('\n', "\\n").replace('\r', "\\r"),
    }
}

async fn pg_sync(
    url: &str,
    shape: &Shape,
    rows: &Rows,
    idx: &[usize],
    mode: Mode,
    dry: bool,
    batch: usize,
) -> Result<Value, ToolError> {
    use futures::SinkExt;
    let client = pg_connect(url).await?;
    let t = &shape.table;
    client
        .batch_execute(&format!(
            "CREATE TEMP TABLE vana_sync_stage ON COMMIT PRESERVE ROWS AS SELECT {} FROM {t} WITH NO DATA; \
             ALTER TABLE vana_sync_stage ADD COLUMN vana_rn bigserial",
            shape.col_list()
        ))
        .await
        .map_err(pg_err)?;
    let sink = client
        .copy_in(&format!("COPY vana_sync_stage ({}) FROM STDIN", shape.col_list()))
        .await
        .map_err(pg_err)?;
    futures::pin_mut!(sink);
    let mut buf = String::new();
    for (n, r) in rows.rows.iter().enumerate() {
        let line: Vec<String> = idx.iter().map(|i| copy_escape(&r[*i])).collect();
        buf.push_str(&line.join("\t"));
        buf.push('\n');
        if buf.len() > 1 << 20 || n + 1 == rows.rows.len() {
            sink.send(bytes::Bytes::from(std::mem::take(&mut buf)))
                .await
                .map_err(|e| bad(format!("the source does not fit the target's columns: {}", pg_err(e))))?;
        }
    }
    sink.finish()
        .await
        .map_err(|e| bad(format!("the source does not fit the target's columns: {}", pg_err(e))))?;

    let one = |sql: String| {
        let client = &client;
        async move { client.query_one(&sql, &[]).await.map_err(pg_err).map(|r| r.get::<_, i64>(0) as u64) }
    };
    let sample = |sql: String| {
        let client = &client;
        async move {
            let rows = client.query(&sql, &[]).await.map_err(pg_err)?;
            Ok::<Vec<Value>, ToolError>(
                rows.iter()
                    .map(|r| serde_json::from_str(r.get::<_, &str>(0)).unwrap_or(Value::Null))
                    .collect(),
            )
        }
    };
    let cols_json =
        shape.cols.iter().map(|c| format!("'{}', s.{c}", c.trim_matches('"'))).collect::<Vec<_>>().join(", ");
    let obj = format!("json_build_object({cols_json})::text");
    let mut plan = Plan::default();
    if mode == Mode::Append {
        plan.inserts = one("SELECT count(*) FROM vana_sync_stage".into()).await?;
        plan.samples = json!({"inserts": sample(format!("SELECT {obj} FROM vana_sync_stage s ORDER BY vana_rn LIMIT 5")).await?});
    } else {
        let dup = client
            .query(
                &format!(
                    "SELECT {} FROM vana_sync_stage GROUP BY {} HAVING count(*) > 1 LIMIT 5",
                    shape.keys.join(", "),
                    shape.keys.join(", ")
                ),
                &[],
            )
            .await
            .map_err(pg_err)?;
        if !dup.is_empty() {
            return Err(bad(format!(
                "the source repeats {} key(s) (e.g. {} rows share a key); keys must be unique",
                dup.len(),
                dup.len()
            )));
        }
        let missing = format!("NOT EXISTS (SELECT 1 FROM {t} t WHERE {})", shape.key_join("t", "s"));
        plan.inserts = one(format!("SELECT count(*) FROM vana_sync_stage s WHERE {missing}")).await?;
        let changed = if shape.values.is_empty() {
            "false".to_string()
        } else {
            shape.distinct("t", "s", "IS DISTINCT FROM")
        };
        plan.updates = one(format!(
            "SELECT count(*) FROM vana_sync_stage s JOIN {t} t ON {} WHERE {changed}",
            shape.key_join("t", "s")
        ))
        .await?;
        let gone = format!("NOT EXISTS (SELECT 1 FROM vana_sync_stage s WHERE {})", shape.key_join("s", "t"));
        if mode == Mode::Mirror {
            plan.deletes = one(format!("SELECT count(*) FROM {t} t WHERE {gone}")).await?;
        }
        let tobj = obj.replace("s.", "t.");
        plan.samples = json!({
            "inserts": sample(format!("SELECT {obj} FROM vana_sync_stage s WHERE {missing} ORDER BY vana_rn LIMIT 5")).await?,
            "updates": sample(format!("SELECT {obj} FROM vana_sync_stage s JOIN {t} t ON {} WHERE {changed} ORDER BY vana_rn LIMIT 5", shape.key_join("t", "s"))).await?,
            "deletes": if mode == Mode::Mirror { json!(sample(format!("SELECT {tobj} FROM {t} t WHERE {gone} LIMIT 5")).await?) } else { json!([]) },
        });
    }
    let mut report = json!({"inserts": plan.inserts, "updates": plan.updates, "deletes": plan.deletes, "samples": plan.samples});
    if dry {
        return Ok(report);
    }
    let total = rows.rows.len();
    let upsert = match mode {
        Mode::Append => format!("INSERT INTO {t} ({c}) SELECT {c} FROM vana_sync_stage WHERE vana_rn > $1 AND vana_rn <= $2", c = shape.col_list()),
        _ if shape.values.is_empty() => format!(
            "INSERT INTO {t} AS t ({c}) SELECT {c} FROM vana_sync_stage WHERE vana_rn > $1 AND vana_rn <= $2 ON CONFLICT ({k}) DO NOTHING",
            c = shape.col_list(),
            k = shape.keys.join(", ")
        ),
        _ => format!(
            "INSERT INTO {t} AS t ({c}) SELECT {c} FROM vana_sync_stage WHERE vana_rn > $1 AND vana_rn <= $2 \
             ON CONFLICT ({k}) DO UPDATE SET {set} WHERE {changed}",
            c = shape.col_list(),
            k = shape.keys.join(", "),
            set = shape.values.iter().map(|v| format!("{v} = EXCLUDED.{v}")).collect::<Vec<_>>().join(", "),
            changed = shape.distinct("t", "EXCLUDED", "IS DISTINCT FROM"),
        ),
    };
    let mut done = 0usize;
    let mut batches = 0usize;
    let mut written = 0u64;
    while done < total {
        let end = (done + batch).min(total);
        let r = async {
            client.batch_execute("BEGIN").await?;
            let n = client.execute(&upsert, &[&(done as i64), &(end as i64)]).await?;
            client.batch_execute("COMMIT").await?;
            Ok::<u64, tokio_postgres::Error>(n)
        }
        .await;
        match r {
            Ok(n) => written += n,
            Err(e) => {
                let _ = client.batch_execute("ROLLBACK").await;
                return Err(batch_failed(&pg_err(e), batches, done, end, total));
            }
        }
        batches += 1;
        done = end;
    }
    let mut deleted = 0;
    if mode == Mode::Mirror {
        deleted = client
            .execute(
                &format!(
                    "DELETE FROM {t} t WHERE NOT EXISTS (SELECT 1 FROM vana_sync_stage s WHERE {})",
                    shape.key_join("s", "t")
                ),
                &[],
            )
            .await
            .map_err(pg_err)?;
    }
    report["applied"] = json!({"batches": batches, "rows_written": written, "rows_deleted": deleted});
    Ok(report)
}

fn sqlite_sync(
    path: &str,
    shape: &Shape,
    rows: &Rows,
    idx: &[usize],
    mode: Mode,
    dry: bool,
    batch: usize,
) -> Result<Value, ToolError> {
    let err = |e: rusqlite::Error| ToolError::Failed(format!("SQLite: {e}"));
    let mut db = rusqlite::Connection::open(path).map_err(err)?;
    db.busy_timeout(Duration::from_secs(30)).map_err(err)?;
    let t = &shape.table;
    db.execute_batch(&format!(
        "CREATE TEMP TABLE vana_sync_stage AS SELECT {} FROM main.{t} WHERE 0",
        shape.col_list()
    ))
    .map_err(err)?;
    {
        let tx = db.transaction().map_err(err)?;
        {
            let marks = vec!["?"; shape.cols.len()].join(", ");
            let mut ins = tx
                .prepare(&format!("INSERT INTO temp.vana_sync_stage ({}) VALUES ({marks})", shape.col_list()))
                .map_err(err)?;
            for r in &rows.rows {
                ins.execute(rusqlite::params_from_iter(idx.iter().map(|i| r[*i].as_deref()))).map_err(err)?;
            }
        }
        tx.commit().map_err(err)?;
    }
    let one = |sql: &str| db.query_row(sql, [], |r| r.get::<_, i64>(0)).map(|n| n as u64).map_err(err);
    let cols_json =
        shape.cols.iter().map(|c| format!("'{}', s.{c}", c.trim_matches('"'))).collect::<Vec<_>>().join(", ");
    let sample = |sql: String| -> Result<Vec<Value>, ToolError> {
        let mut st = db.prepare(&sql).map_err(err)?;
        let v = st
            .query_map([], |r| r.get::<_, String>(0))
            .map_err(err)?
            .filter_map(Result::ok)
            .map(|s| serde_json::from_str(&s).unwrap_or(Value::Null))
            .collect();
        Ok(v)
    };
    let obj = format!("json_object({cols_json})");
    let mut plan = Plan::default();
    let changed = if shape.values.is_empty() { "0".to_string() } else { shape.distinct("t", "s", "IS NOT") };
    let missing = format!("NOT EXISTS (SELECT 1 FROM main.{t} t WHERE {})", shape.key_join("t", "s"));
    let gone =
        format!("NOT EXISTS (SELECT 1 FROM temp.vana_sync_stage s WHERE {})", shape.key_join("s", "t"));
    if mode == Mode::Append {
        plan.inserts = one("SELECT count(*) FROM temp.vana_sync_stage")?;
        plan.samples = json!({"inserts": sample(format!("SELECT {obj} FROM temp.vana_sync_stage s ORDER BY rowid LIMIT 5"))?});
    } else {
        let k = shape.keys.join(", ");
        let dups = one(&format!(
            "SELECT count(*) FROM (SELECT 1 FROM temp.vana_sync_stage GROUP BY {k} HAVING count(*) > 1)"
        ))?;
        if dups > 0 {
            return Err(bad(format!("the source repeats {dups} key(s); keys must be unique")));
        }
        plan.inserts = one(&format!("SELECT count(*) FROM temp.vana_sync_stage s WHERE {missing}"))?;
        plan.updates = one(&format!(
            "SELECT count(*) FROM temp.vana_sync_stage s JOIN main.{t} t ON {} WHERE {changed}",
            shape.key_join("t", "s")
        ))?;
        if mode == Mode::Mirror {
            plan.deletes = one(&format!("SELECT count(*) FROM main.{t} t WHERE {gone}"))?;
        }
        plan.samples = json!({
            "inserts": sample(format!("SELECT {obj} FROM temp.vana_sync_stage s WHERE {missing} ORDER BY s.rowid LIMIT 5"))?,
            "updates": sample(format!("SELECT {obj} FROM temp.vana_sync_stage s JOIN main.{t} t ON {} WHERE {changed} ORDER BY s.rowid LIMIT 5", shape.key_join("t", "s")))?,
            "deletes": if mode == Mode::Mirror { json!(sample(format!("SELECT {} FROM main.{t} t WHERE {gone} LIMIT 5", obj.replace("s.", "t.")))?) } else { json!([]) },
        });
    }
    let mut report = json!({"inserts": plan.inserts, "updates": plan.updates, "deletes": plan.deletes, "samples": plan.samples});
    if dry {
        return Ok(report);
    }
    let c = shape.col_list();
    let upsert = match mode {
        Mode::Append => format!("INSERT INTO main.{t} ({c}) SELECT {c} FROM temp.vana_sync_stage WHERE rowid > ?1 AND rowid <= ?2"),
        _ if shape.values.is_empty() => format!(
            "INSERT INTO main.{t} ({c}) SELECT {c} FROM temp.vana_sync_stage WHERE rowid > ?1 AND rowid <= ?2 ON CONFLICT ({}) DO NOTHING",
            shape.keys.join(", ")
        ),
        _ => format!(
            "INSERT INTO main.{t} AS t ({c}) SELECT {c} FROM temp.vana_sync_stage WHERE rowid > ?1 AND rowid <= ?2 \
             ON CONFLICT ({}) DO UPDATE SET {} WHERE {}",
            shape.keys.join(", "),
            shape.values.iter().map(|v| format!("{v} = excluded.{v}")).collect::<Vec<_>>().join(", "),
            shape.distinct("t", "excluded", "IS NOT"),
        ),
    };
    let total = rows.rows.len();
    let (mut done, mut batches, mut written) = (0usize, 0usize, 0u64);
    while done < total {
        let end = (done + batch).min(total);
        let r = (|| {
            let tx = db.transaction()?;
            let n = tx.execute(&upsert, rusqlite::params![done as i64, end as i64])?;
            tx.commit()?;
            Ok::<usize, rusqlite::Error>(n)
        })();
        match r {
            Ok(n) => written += n as u64,
            Err(e) => {
                return Err(batch_failed(&format!("SQLite: {e}"), batches, done, end, total));
            }
        }
        batches += 1;
        done = end;
    }
    let mut deleted = 0;
    if mode == Mode::Mirror {
        deleted = db.execute(&format!("DELETE FROM main.{t} AS t WHERE {gone}"), []).map_err(err)?;
    }
    report["applied"] = json!({"batches": batches, "rows_written": written, "rows_deleted": deleted});
    Ok(report)
}

#[async_trait]
impl TypedTool for SyncData {
    type Args = SyncArgs;
    fn name(&self) -> &'static str {
        "sync_data_between_systems"
    }
    fn description(&self) -> &'static str {
        "Sync rows from a workspace file (CSV/TSV/JSON/JSONL), a SQL query on a configured connection, or a paginated \
         JSON API into a table on a configured writable connection (PostgreSQL, SQLite): append, upsert by key, or \
         mirror (upsert and delete what the source lacks). dry_run (default true) reports the inserts, updates and \
         deletes with samples and changes nothing; a real run asks for approval, runs in batches inside transactions \
         and is safe to re-run."
    }
    fn requires_confirmation(&self) -> bool {
        true
    }
    fn timeout(&self) -> Option<Duration> {
        Some(Duration::from_secs(3600))
    }
    async fn run(&self, args: SyncArgs, ctx: ToolContext) -> Result<ToolOutput, ToolError> {
        self.sync(args, ctx).await
    }
}

/// `preview_data_sync`: the dry run of `sync_data_between_systems` without an approval (VANA asks
/// per tool, so the approved tool would ask for dry runs too); it never writes.
pub struct PreviewDataSync(pub(crate) SyncData);

#[async_trait]
impl TypedTool for PreviewDataSync {
    type Args = SyncArgs;
    fn name(&self) -> &'static str {
        "preview_data_sync"
    }
    fn description(&self) -> &'static str {
        "Dry run of sync_data_between_systems (same arguments): the inserts, updates and deletes a sync would make, \
         with samples, without changing anything and without asking for approval. `dry_run: false` is refused here."
    }
    fn timeout(&self) -> Option<Duration> {
        Some(Duration::from_secs(3600))
    }
    async fn run(&self, mut args: SyncArgs, ctx: ToolContext) -> Result<ToolOutput, ToolError> {
        if args.dry_run == Some(false) {
            return Err(bad("preview_data_sync only previews; apply with sync_data_between_systems (it asks for approval)"));
        }
        args.dry_run = Some(true);
        self.0.sync(args, ctx).await
    }
}

impl SyncData {
    async fn sync(&self, args: SyncArgs, ctx: ToolContext) -> Result<ToolOutput, ToolError> {
        let start = Instant::now();
        let mode = match args.mode.as_deref().unwrap_or("upsert") {
            "append" => Mode::Append,
            "upsert" => Mode::Upsert,
            "mirror" => Mode::Mirror,
            other => return Err(bad(format!("field `mode`: `{other}` is not append, upsert or mirror"))),
        };
        if mode != Mode::Append && args.key.is_empty() {
            return Err(bad("field `key`: upsert and mirror need the key column(s)"));
        }
        let table = match args.table.split_once('.') {
            Some((s, t)) => format!("{}.{}", ident("table", s)?, ident("table", t)?),
            None => ident("table", &args.table)?,
        };
        let (conn, db) = self.connection(&args.target_connection)?;
        if !conn.writable {
            return Err(ToolError::Blocked(format!(
                "connection `{}` is not writable; set `writable = true` under [sql.connections.{}] to sync into it",
                args.target_connection, args.target_connection
            )));
        }
        let rows = self.load(&ctx, &args.source).await?;
        let wanted: Vec<String> =
            if args.columns.is_empty() { rows.columns.clone() } else { args.columns.clone() };
        let mut idx = Vec::new();
        for c in &wanted {
            ident("columns", c)?;
            idx.push(rows.columns.iter().position(|x| x == c).ok_or_else(|| {
                bad(format!(
                    "column `{c}` is not in the source ({}); source columns: {}",
                    rows.origin,
                    rows.columns.join(", ")
                ))
            })?);
        }
        for k in &args.key {
            if !wanted.contains(k) {
                return Err(bad(format!("key column `{k}` is not among the synced columns")));
            }
        }
        let shape = Shape {
            table,
            cols: wanted.iter().map(|c| format!("\"{c}\"")).collect(),
            keys: args.key.iter().map(|c| format!("\"{c}\"")).collect(),
            values: wanted.iter().filter(|c| !args.key.contains(c)).map(|c| format!("\"{c}\"")).collect(),
        };
        let (source_rows, origin) = (rows.rows.len(), rows.origin.clone());
        let dry = args.dry_run.unwrap_or(true);
        let batch = args.batch_size.unwrap_or(5000).max(1) as usize;
        let mut report = match db {
            Db::Postgres(url) => pg_sync(&url, &shape, &rows, &idx, mode, dry, batch).await?,
            Db::Mysql(url) => crate::sync_mysql::sync(&url, &shape, &rows, &idx, mode, dry, batch).await?,
            Db::Sqlite(path) => {
                let rows_moved = rows;
                tokio::task::spawn_blocking(move || {
                    sqlite_sync(&path, &shape, &rows_moved, &idx, mode, dry, batch)
                })
                .await
                .map_err(|e| ToolError::Failed(e.to_string()))??
            }
        };
        report["dry_run"] = json!(dry);
        report["source"] = json!(origin);
        report["source_rows"] = json!(source_rows);
        report["mode"] = json!(args.mode.as_deref().unwrap_or("upsert"));
        report["target"] = json!(format!("{}.{}", args.target_connection, args.table));
        report["seconds"] = json!((start.elapsed().as_secs_f64() * 1000.0).round() / 1000.0);
        if dry {
            report["note"] = json!("dry run: nothing was changed; call again with dry_run=false to apply");
        }
        Ok(ToolOutput::json(report))
    }
}

/// A batch failed and was rolled back: how far the sync got, and that re-running is safe.
pub(crate) fn batch_failed(
    cause: &dyn std::fmt::Display,
    batches: usize,
    done: usize,
    end: usize,
    total: usize,
) -> ToolError {
    ToolError::Failed(format!(
        "batch {} (source rows {}–{end}) failed and was rolled back: {cause}; {batches} batch(es) before it are \
         committed ({done} of {total} source rows); the target holds those. Fix the cause and run the sync \
         again: upsert and mirror only change what still differs",
        batches + 1,
        done + 1,
    ))
}
