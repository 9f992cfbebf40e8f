//! The server store: PostgreSQL (JSONB) through tokio-postgres and a small connection pool.

use crate::common::{
    delta_persists, parse_status, persisted_state, refuse_partial, split_delta, status_name, stored_version,
    title, version_of, window_bounds,
};
use crate::schema::{latest, POSTGRES_MIGRATIONS};
use async_trait::async_trait;
use deadpool_postgres::{Manager, ManagerConfig, Object, Pool, PoolError, RecyclingMethod};
use serde_json::Value;
use std::time::Duration;
use tokio_postgres::config::Host;
use tokio_postgres::error::SqlState;
use tokio_postgres::types::Json;
use tokio_postgres::NoTls;
use vana_core::event::{new_id, now_secs};
use vana_core::{
    Event, EventWindow, JournalEntry, JsonMap, Session, SessionStore, SessionSummary, StoreError,
};

type R<T> = Result<T, StoreError>;

/// Connections kept by the pool.
const POOL_SIZE: usize = 8;
/// Connect timeout used when the URL sets none.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(5);
/// Advisory lock key that serializes concurrent migrations ("vana" in ASCII).
const MIGRATION_LOCK: i64 = 0x7661_6e61;

/// Session store backed by PostgreSQL.
///
/// Durability: each append is one committed statement, durable as the server's
/// `synchronous_commit` setting makes it (durable on disk by default).
#[derive(Clone)]
pub struct PostgresStore {
    pool: Pool,
    schema: Option<String>,
    target: String,
}

impl std::fmt::Debug for PostgresStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PostgresStore").field("target", &self.target).field("schema", &self.schema).finish()
    }
}

impl PostgresStore {
    /// Connects to `url` (`postgres://USER[:PASSWORD]@HOST[:PORT]/DATABASE`) and brings the
    /// schema up to date. With `schema`, everything lives in that PostgreSQL schema (created if
    /// missing and put on every pooled connection's `search_path`); names must match
    /// `[a-z_][a-z0-9_]*`. Without it, the server's default `search_path` applies. No TLS.
    pub async fn connect(url: &str, schema: Option<&str>) -> R<Self> {
        let mut config: tokio_postgres::Config = url.parse().map_err(|e| {
            StoreError::Backend(format!(
                "invalid PostgreSQL URL: {e}; expected postgres://USER[:PASSWORD]@HOST[:PORT]/DATABASE"
            ))
        })?;
        if let Some(schema) = schema {
            check_schema_name(schema)?;
            let option = format!("-c search_path={schema}");
            let options = match config.get_options() {
                Some(existing) if !existing.is_empty() => format!("{existing} {option}"),
                _ => option,
            };
            config.options(&options);
        }
        if config.get_connect_timeout().is_none() {
            config.connect_timeout(CONNECT_TIMEOUT);
        }
        if config.get_application_name().is_none() {
            config.application_name("vana");
        }
        let target = describe(&config);
        let manager =
            Manager::from_config(config, NoTls, ManagerConfig { recycling_method: RecyclingMethod::Fast });
        let pool = Pool::builder(manager).max_size(POOL_SIZE).build().map_err(|e| {
            StoreError::Backend(format!("cannot build the PostgreSQL pool for {target}: {e}"))
        })?;
        let store = PostgresStore { pool, schema: schema.map(str::to_string), target };
        store.migrate().await?;
        Ok(store)
    }

    /// The PostgreSQL schema this store uses, if one was given.
    pub fn schema(&self) -> Option<&str> {
        self.schema.as_deref()
    }

    /// Takes a pooled connection.
    pub(crate) async fn client(&self) -> R<Object> {
        self.pool.get().await.map_err(|e| match e {
            PoolError::Backend(e) => StoreError::Backend(format!(
                "cannot connect to PostgreSQL at {}: {}; check the server is running and the URL \
                 (postgres://USER@HOST:PORT/DATABASE) is right",
                self.target,
                chain(&e)
            )),
            other => StoreError::Backend(format!("PostgreSQL pool for {} failed: {other}", self.target)),
        })
    }

    /// Creates the schema if asked and applies pending migrations, under an advisory lock.
    async fn migrate(&self) -> R<()> {
        let mut client = self.client().await?;
        let op = |e| pg("migrate", e);
        let tx = client.transaction().await.map_err(op)?;
        tx.execute("SELECT pg_advisory_xact_lock($1)", &[&MIGRATION_LOCK]).await.map_err(op)?;
        if let Some(schema) = &self.schema {
            tx.batch_execute(&format!("CREATE SCHEMA IF NOT EXISTS {schema}")).await.map_err(op)?;
        }
        tx.batch_execute("CREATE TABLE IF NOT EXISTS schema_version (version INTEGER NOT NULL)")
            .await
            .map_err(op)?;
        let current: i32 = tx
            .query_one("SELECT COALESCE(MAX(version), 0) FROM schema_version", &[])
            .await
            .map_err(op)?
            .get(0);
        let newest = latest(POSTGRES_MIGRATIONS);
        if current as u32 > newest {
            return Err(StoreError::Backend(format!(
                "database schema version {current} is newer than this VANA supports ({newest}); upgrade VANA"
            )));
        }
        for (n, script) in POSTGRES_MIGRATIONS.iter().filter(|(n, _)| *n as i32 > current) {
            tx.batch_execute(script).await.map_err(|e| pg(&format!("apply migration {n}"), e))?;
            tx.execute("INSERT INTO schema_version (version) VALUES ($1)", &[&(*n as i32)])
                .await
                .map_err(op)?;
        }
        tx.commit().await.map_err(op)
    }
}

/// Refuses schema names that would need quoting (or could inject SQL).
fn check_schema_name(name: &str) -> R<()> {
    let mut chars = name.chars();
    let ok_first = chars.next().is_some_and(|c| c.is_ascii_lowercase() || c == '_');
    let ok_rest = chars.all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_');
    if ok_first && ok_rest && name.len() <= 63 {
        Ok(())
    } else {
        Err(StoreError::Backend(format!(
            "invalid PostgreSQL schema name {name:?}: use 1 to 63 characters from [a-z0-9_], not starting with a digit"
        )))
    }
}

/// `user@host:port/db`, without the password, for messages.
fn describe(config: &tokio_postgres::Config) -> String {
    let host = match config.get_hosts().first() {
        Some(Host::Tcp(h)) => h.clone(),
        Some(Host::Unix(p)) => p.display().to_string(),
        None => "localhost".into(),
    };
    let port = config.get_ports().first().copied().unwrap_or(5432);
    format!("{}@{}:{}/{}", config.get_user().unwrap_or("?"), host, port, config.get_dbname().unwrap_or("?"))
}

/// An error and its causes on one line.
fn chain(e: &dyn std::error::Error) -> String {
    let mut out = e.to_string();
    let mut source = e.source();
    while let Some(s) = source {
        let text = s.to_string();
        if !out.contains(&text) {
            out.push_str(": ");
            out.push_str(&text);
        }
        source = s.source();
    }
    out
}

/// Maps a tokio-postgres error to a `StoreError` naming the operation.
pub(crate) fn pg(op: &str, e: tokio_postgres::Error) -> StoreError {
    if let Some(db) = e.as_db_error() {
        let hint = match *db.code() {
            SqlState::UNDEFINED_TABLE => "; the schema is missing: reconnect so migrations run",
            SqlState::INSUFFICIENT_PRIVILEGE => "; grant the VANA database user rights on the schema",
            SqlState::UNTRANSLATABLE_CHARACTER => {
                "; PostgreSQL JSONB cannot store the \\u0000 character: strip NUL characters from tool output"
            }
            _ => "",
        };
        return StoreError::Backend(format!(
            "PostgreSQL {op} failed: {} (SQLSTATE {}){hint}",
            db.message(),
            db.code().code()
        ));
    }
    if e.is_closed() {
        return StoreError::Backend(format!("PostgreSQL {op} failed: the connection closed; retry"));
    }
    StoreError::Backend(format!("PostgreSQL {op} failed: {}", chain(&e)))
}

fn decode<T>(what: &str, session: &str, r: Result<T, tokio_postgres::Error>) -> R<T> {
    r.map_err(|e| {
        StoreError::Backend(format!(
            "stored {what} of session {session} cannot be decoded ({}); the database is damaged",
            chain(&e)
        ))
    })
}

#[async_trait]
impl SessionStore for PostgresStore {
    async fn create_session(
        &self,
        app_name: &str,
        user_id: &str,
        id: Option<&str>,
        state: JsonMap,
    ) -> R<Session> {
        let id = id.map(str::to_string).unwrap_or_else(new_id);
        let state = persisted_state(&state);
        let now = now_secs();
        let client = self.client().await?;
        let op = |e| pg("create session", e);
        let stmt = client
            .prepare_cached(
                "INSERT INTO sessions (id, app_name, user_id, state, version, created_at, updated_at) \
                 VALUES ($1, $2, $3, $4, 0, $5, $5) ON CONFLICT (id) DO NOTHING",
            )
            .await
            .map_err(op)?;
        let inserted =
            client.execute(&stmt, &[&id, &app_name, &user_id, &Json(&state), &now]).await.map_err(op)?;
        if inserted == 0 {
            return Err(StoreError::AlreadyExists(id));
        }
        Ok(Session::created(id, app_name, user_id, state, now))
    }

    async fn get_session(
        &self,
        app_name: &str,
        user_id: &str,
        id: &str,
        window: EventWindow,
    ) -> R<Option<Session>> {
        let client = self.client().await?;
        let op = |e| pg("load session", e);
        let stmt = client
            .prepare_cached(
                "SELECT state, version, created_at, updated_at FROM sessions \
                 WHERE id = $1 AND app_name = $2 AND user_id = $3",
            )
            .await
            .map_err(op)?;
        let Some(row) = client.query_opt(&stmt, &[&id, &app_name, &user_id]).await.map_err(op)? else {
            return Ok(None);
        };
        let state: Json<JsonMap> = decode("state", id, row.try_get(0))?;
        let version = version_of(row.get(1));
        let (after, upto) = window_bounds(version, window);
        let mut events = Vec::new();
        if upto > after {
            // Events are immutable and numbered 1..=version, so bounding by the version read
            // above gives a consistent snapshot without a transaction.
            let stmt = client
                .prepare_cached(
                    "SELECT body FROM events WHERE session_id = $1 AND seq > $2 AND seq <= $3 ORDER BY seq",
                )
                .await
                .map_err(op)?;
            let rows = client
                .query(&stmt, &[&id, &stored_version(after)?, &stored_version(upto)?])
                .await
                .map_err(op)?;
            events.reserve(rows.len());
            for r in rows {
                let Json(event): Json<Event> = decode("event", id, r.try_get(0))?;
                events.push(event);
            }
        }
        Ok(Some(Session {
            id: id.to_string(),
            app_name: app_name.to_string(),
            user_id: user_id.to_string(),
            state: state.0,
            events,
            version,
            created_at: row.get(2),
            last_update_time: row.get(3),
        }))
    }

    async fn list_sessions(&self, app_name: Option<&str>, user_id: &str) -> R<Vec<SessionSummary>> {
        let client = self.client().await?;
        let op = |e| pg("list sessions", e);
        let stmt = client
            .prepare_cached(
                "SELECT id, app_name, user_id, version, created_at, updated_at, state->>'vana:title' \
                 FROM sessions WHERE user_id = $1 AND ($2::text IS NULL OR app_name = $2) \
                 ORDER BY updated_at DESC, created_at DESC, id DESC",
            )
            .await
            .map_err(op)?;
        let rows = client.query(&stmt, &[&user_id, &app_name]).await.map_err(op)?;
        Ok(rows
            .iter()
            .map(|r| SessionSummary {
                id: r.get(0),
                app_name: r.get(1),
                user_id: r.get(2),
                version: version_of(r.get(3)),
                created_at: r.get(4),
                last_update_time: r.get(5),
                title: title(r.get(6)),
            })
            .collect())
    }

    async fn delete_session(&self, app_name: &str, user_id: &str, id: &str) -> R<bool> {
        let client = self.client().await?;
        let op = |e| pg("delete session", e);
        // Events and journal entries go with the session (ON DELETE CASCADE).
        let stmt = client
            .prepare_cached("DELETE FROM sessions WHERE id = $1 AND app_name = $2 AND user_id = $3")
            .await
            .map_err(op)?;
        Ok(client.execute(&stmt, &[&id, &app_name, &user_id]).await.map_err(op)? > 0)
    }

    async fn append_event(
        &self,
        app_name: &str,
        user_id: &str,
        id: &str,
        expected_version: u64,
        event: &Event,
    ) -> R<u64> {
        refuse_partial(event)?;
        let delta = &event.actions.state_delta;
        let touches_state = delta_persists(delta);
        let (set, removed) = if touches_state { split_delta(delta) } else { (JsonMap::new(), Vec::new()) };
        let expected = stored_version(expected_version)?;
        let client = self.client().await?;
        let op = |e| pg("append event", e);
        // One statement, so one round trip and atomic: the conditional UPDATE bumps the version
        // only if nobody appended first (a concurrent writer blocks on the row lock, then sees
        // the new version and matches nothing), and the INSERT only runs if it did.
        let stmt = client
            .prepare_cached(
                "WITH bumped AS ( \
                    UPDATE sessions SET version = version + 1, updated_at = $5, \
                        state = CASE WHEN $6 THEN (state - $7::text[]) || $8::jsonb ELSE state END \
                    WHERE id = $1 AND app_name = $2 AND user_id = $3 AND version = $4 \
                    RETURNING version) \
                 INSERT INTO events (session_id, seq, event_id, invocation_id, author, timestamp, body) \
                 SELECT $1, version, $9, $10, $11, $12, $13 FROM bumped",
            )
            .await
            .map_err(op)?;
        let inserted = client
            .execute(
                &stmt,
                &[
                    &id,
                    &app_name,
                    &user_id,
                    &expected,
                    &now_secs(),
                    &touches_state,
                    &removed,
                    &Json(&set),
                    &event.id,
                    &event.invocation_id,
                    &event.author,
                    &event.timestamp,
                    &Json(event),
                ],
            )
            .await
            .map_err(op)?;
        if inserted == 1 {
            return Ok(expected_version + 1);
        }
        let stmt = client
            .prepare_cached("SELECT version FROM sessions WHERE id = $1 AND app_name = $2 AND user_id = $3")
            .await
            .map_err(op)?;
        Err(match client.query_opt(&stmt, &[&id, &app_name, &user_id]).await.map_err(op)? {
            None => StoreError::NotFound(id.to_string()),
            Some(row) => StoreError::Conflict {
                session: id.to_string(),
                expected: expected_version,
                actual: version_of(row.get(0)),
            },
        })
    }

    async fn journal_get(&self, session_id: &str, call_id: &str) -> R<Option<JournalEntry>> {
        let client = self.client().await?;
        let op = |e| pg("read journal", e);
        let stmt = client
            .prepare_cached("SELECT tool, status, result FROM journal WHERE session_id = $1 AND call_id = $2")
            .await
            .map_err(op)?;
        let Some(row) = client.query_opt(&stmt, &[&session_id, &call_id]).await.map_err(op)? else {
            return Ok(None);
        };
        let result: Option<Json<Value>> = decode("journal result", session_id, row.try_get(2))?;
        Ok(Some(JournalEntry {
            tool: row.get(0),
            status: parse_status(row.get(1))?,
            result: result.map(|j| j.0),
        }))
    }

    async fn journal_put(&self, session_id: &str, call_id: &str, entry: &JournalEntry) -> R<()> {
        let client = self.client().await?;
        let op = |e| pg("write journal", e);
        let stmt = client
            .prepare_cached(
                "INSERT INTO journal (session_id, call_id, tool, status, result, updated_at) \
                 VALUES ($1, $2, $3, $4, $5, $6) \
                 ON CONFLICT (session_id, call_id) DO UPDATE SET \
                 tool = EXCLUDED.tool, status = EXCLUDED.status, result = EXCLUDED.result, \
                 updated_at = EXCLUDED.updated_at",
            )
            .await
            .map_err(op)?;
        let result = entry.result.as_ref().map(Json);
        client
            .execute(
                &stmt,
                &[&session_id, &call_id, &entry.tool, &status_name(entry.status), &result, &now_secs()],
            )
            .await
            .map(|_| ())
            .map_err(|e| match e.code() {
                Some(&SqlState::FOREIGN_KEY_VIOLATION) => StoreError::NotFound(session_id.to_string()),
                _ => op(e),
            })
    }

    async fn ping(&self) -> R<()> {
        let client = self.client().await?;
        client.simple_query("SELECT 1").await.map(|_| ()).map_err(|e| pg("ping", e))
    }
}
