//! The embedded default store: one SQLite file in WAL mode.
//!
//! rusqlite is blocking, so no operation runs on the async scheduler. Writes go to one writer
//! thread that owns the writer connection (SQLite allows one writer at a time anyway) and
//! answers each job through a oneshot channel: under load, waiting writers are queued jobs, not
//! parked threads (blocking a tokio worker per waiting writer made tokio start hundreds of
//! threads and long tails at 200 concurrent clients). Reads run on the blocking pool, at most
//! [`MAX_READERS`] at once, on a small pool of reader connections that WAL lets run alongside
//! the writer. The writer commits the jobs queued at once in one transaction (group commit).
//! A background thread checkpoints the WAL so appends do not pay for it (see [`Checkpointer`]).

use crate::common::{
    corrupt, delta_persists, parse_status, persisted_state, refuse_partial, status_name, stored_version,
    title, unserializable, version_of, window_bounds,
};
use crate::schema::{latest, SQLITE_MIGRATIONS};
use async_trait::async_trait;
use rusqlite::{params, Connection, OpenFlags, OptionalExtension, TransactionBehavior};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;
use vana_core::event::{new_id, now_secs};
use vana_core::session::apply_state_delta;
use vana_core::{
    Event, EventWindow, JournalEntry, JsonMap, Session, SessionStore, SessionSummary, StoreError,
};

/// How long a connection waits for another process's write lock before failing.
const BUSY_TIMEOUT: Duration = Duration::from_secs(5);
/// Reads running at once (one reader connection each, kept open between reads).
const MAX_READERS: usize = 4;
/// Page cache of the writer connection, KiB (SQLite's default is 2 MiB).
const WRITER_CACHE_KIB: i64 = 16 << 10;
/// Most write jobs committed together in one transaction by the writer thread.
const MAX_BATCH: usize = 256;
/// Prepared statements cached per connection.
const STATEMENT_CACHE: usize = 32;
/// How often the background thread copies the WAL back into the database file.
const CHECKPOINT_EVERY: Duration = Duration::from_millis(100);
/// WAL length (pages) from which the checkpointer works to restart the WAL from its beginning.
const RESTART_PAGES: i64 = 4096;
/// Pages the writer may be left to copy itself when it finishes a restart.
const FINISH_PAGES: i64 = 512;
/// WAL size (pages) at which the writer checkpoints itself if the background thread lags.
const WRITER_AUTOCHECKPOINT_PAGES: u32 = 16_384;

type R<T> = Result<T, StoreError>;

/// Session store backed by one SQLite file (or memory, for tests).
///
/// Durability: WAL with `synchronous = NORMAL`. A returned append survives the process being
/// killed at any point; the last few transactions may be lost on power failure or an OS
/// crash (SQLite then recovers to a consistent earlier state).
#[derive(Clone)]
pub struct SqliteStore {
    inner: Arc<Inner>,
}

/// What a write job left to do once its batch's transaction has ended: answer its caller with
/// its own result, or with the commit's error (its text) when the batch could not be committed.
type Reply = Box<dyn FnOnce(Option<&str>) + Send>;

/// A unit of work for the writer thread.
trait WriteJob: Send {
    /// Runs the job inside the batch's transaction; says whether it succeeded.
    fn run(self: Box<Self>, conn: &mut Connection) -> (bool, Reply);
    /// Answers the job without running it (its batch could not start).
    fn fail(self: Box<Self>, e: StoreError);
}

type Job = Box<dyn WriteJob>;

/// A write waiting for the writer thread, and where its answer goes.
struct Pending<T, F> {
    f: F,
    answer: tokio::sync::oneshot::Sender<R<T>>,
}

impl<T, F> WriteJob for Pending<T, F>
where
    T: Send + 'static,
    F: FnOnce(&mut Connection) -> R<T> + Send + 'static,
{
    fn run(self: Box<Self>, conn: &mut Connection) -> (bool, Reply) {
        let Pending { f, answer } = *self;
        let out = f(conn);
        let ok = out.is_ok();
        let reply: Reply = Box::new(move |commit| {
            let _ = answer.send(match commit {
                Some(msg) if ok => Err(StoreError::Backend(msg.to_string())),
                _ => out,
            });
        });
        (ok, reply)
    }

    fn fail(self: Box<Self>, e: StoreError) {
        let _ = self.answer.send(Err(e));
    }
}

struct Inner {
    writer: Writer,
    readers: Mutex<Vec<Connection>>,
    /// At most [`MAX_READERS`] reads run at once; the others wait here, asynchronously (each
    /// running read occupies a thread).
    read_slots: tokio::sync::Semaphore,
    /// `None` for an in-memory database, whose reads must share the writer connection.
    path: Option<PathBuf>,
    /// Background WAL checkpoints, so appends do not pay for them (file databases only).
    _checkpointer: Option<Checkpointer>,
}

/// Set by the checkpointer when the WAL is long and almost all of it is copied back: the
/// writer then copies the rest between two batches, so its next transaction restarts the WAL.
type FinishRequest = Arc<AtomicBool>;

/// The thread that owns the writer connection and runs write jobs in arrival order; stopped
/// and joined on drop (so the file is closed when the store is gone).
struct Writer {
    jobs: Option<std::sync::mpsc::Sender<Job>>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl Writer {
    fn start(mut conn: Connection, finish: FinishRequest) -> R<Self> {
        let (jobs, queue) = std::sync::mpsc::channel::<Job>();
        let thread = std::thread::Builder::new()
            .name("vana-sqlite-writer".into())
            .spawn(move || {
                while let Ok(first) = queue.recv() {
                    let mut batch = vec![first];
                    while batch.len() < MAX_BATCH {
                        match queue.try_recv() {
                            Ok(job) => batch.push(job),
                            Err(_) => break,
                        }
                    }
                    run_batch(&mut conn, batch);
                    if finish.swap(false, Ordering::Relaxed) {
                        if let Err(e) = checkpoint(&conn) {
                            tracing::debug!("SQLite WAL checkpoint by the writer skipped: {e}");
                        }
                    }
                }
            })
            .map_err(|e| StoreError::Backend(format!("cannot start the SQLite writer thread: {e}")))?;
        Ok(Writer { jobs: Some(jobs), thread: Some(thread) })
    }

    async fn run<T, F>(&self, f: F) -> R<T>
    where
        T: Send + 'static,
        F: FnOnce(&mut Connection) -> R<T> + Send + 'static,
    {
        let (answer, rx) = tokio::sync::oneshot::channel::<R<T>>();
        let job: Job = Box::new(Pending { f, answer });
        let stopped = || StoreError::Backend("the SQLite writer thread has stopped".into());
        self.jobs.as_ref().ok_or_else(stopped)?.send(job).map_err(|_| stopped())?;
        rx.await.map_err(|_| {
            StoreError::Backend("a SQLite write failed inside the writer thread (panic)".into())
        })?
    }
}

/// Group commit: runs a batch of queued write jobs in one `BEGIN IMMEDIATE` transaction, each
/// job inside its own savepoint (a failing or panicking job is rolled back alone), and answers
/// every caller only after the `COMMIT` (so an acknowledged write is durable, and a failed
/// commit fails every write of the batch). One commit per batch instead of one per write
/// writes each touched page to the WAL once per batch, and takes the write lock once.
fn run_batch(conn: &mut Connection, batch: Vec<Job>) {
    let exec = exec_cached;
    if let Err(e) = exec(conn, "BEGIN IMMEDIATE") {
        let msg = sql_message("begin a write transaction", e);
        for job in batch {
            job.fail(StoreError::Backend(msg.clone()));
        }
        return;
    }
    let mut replies = Vec::with_capacity(batch.len());
    for job in batch {
        if let Err(e) = exec(conn, "SAVEPOINT job") {
            job.fail(sql("open a savepoint", e));
            continue;
        }
        match std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| job.run(conn))) {
            Ok((true, reply)) => {
                replies.push(reply);
                let _ = exec(conn, "RELEASE job");
            }
            // A failed job's partial work is undone; its caller gets its own error.
            Ok((false, reply)) => {
                replies.push(reply);
                let _ = exec(conn, "ROLLBACK TO job");
                let _ = exec(conn, "RELEASE job");
            }
            // The job's answer was dropped with it: its caller sees the writer error.
            Err(_) => {
                let _ = exec(conn, "ROLLBACK TO job");
                let _ = exec(conn, "RELEASE job");
            }
        }
    }
    let committed = exec(conn, "COMMIT").map_err(|e| sql_message("commit", e));
    if committed.is_err() && !conn.is_autocommit() {
        let _ = conn.execute_batch("ROLLBACK");
    }
    for reply in replies {
        reply(committed.as_ref().err().map(String::as_str));
    }
}

/// Runs a parameterless statement (transaction control) through the statement cache, so it is
/// parsed once per connection rather than on every use.
fn exec_cached(conn: &Connection, stmt: &str) -> rusqlite::Result<usize> {
    conn.prepare_cached(stmt).and_then(|mut s| s.execute([]))
}

impl Drop for Writer {
    fn drop(&mut self) {
        drop(self.jobs.take());
        if let Some(t) = self.thread.take() {
            if t.thread().id() != std::thread::current().id() {
                let _ = t.join();
            }
        }
    }
}

/// A thread that checkpoints the WAL periodically; stopped and joined on drop.
///
/// A PASSIVE checkpoint copies WAL pages into the database file and fsyncs it without
/// blocking the writer. But the WAL only restarts from its beginning when a write transaction
/// starts with every page copied, which under a steady stream of batches never happens by
/// itself: the WAL then grows until the writer's own auto-checkpoint copies thousands of pages
/// and fsyncs inside a commit (a ~100 ms stall for every client). So once the WAL is longer
/// than [`RESTART_PAGES`], this thread checkpoints again at once until a round finds at most
/// [`FINISH_PAGES`] new pages, then asks the writer to copy the last few between two batches
/// (a millisecond or so); its next transaction restarts the WAL.
struct Checkpointer {
    stop: Option<std::sync::mpsc::Sender<()>>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl Checkpointer {
    fn start(path: &Path, finish: FinishRequest) -> R<Self> {
        let conn = open_connection(path, true)?;
        let (stop, stopped) = std::sync::mpsc::channel::<()>();
        let thread = std::thread::Builder::new()
            .name("vana-sqlite-checkpoint".into())
            .spawn(move || {
                let (mut wait, mut previous) = (CHECKPOINT_EVERY, 0);
                while let Err(std::sync::mpsc::RecvTimeoutError::Timeout) = stopped.recv_timeout(wait) {
                    wait = CHECKPOINT_EVERY;
                    match checkpoint(&conn) {
                        Ok((wal, copied)) => {
                            match after_round(wal, copied, wal - previous) {
                                Next::Sleep => {}
                                Next::Again => wait = Duration::ZERO,
                                Next::Finish => finish.store(true, Ordering::Relaxed),
                            }
                            previous = wal;
                        }
                        // PASSIVE never blocks the writer; a failure (e.g. busy) is retried next tick.
                        Err(e) => tracing::debug!("SQLite WAL checkpoint skipped: {e}"),
                    }
                }
            })
            .map_err(|e| StoreError::Backend(format!("cannot start the SQLite checkpoint thread: {e}")))?;
        Ok(Checkpointer { stop: Some(stop), thread: Some(thread) })
    }
}

/// What the checkpointer does after a round.
#[derive(Debug, PartialEq, Eq)]
enum Next {
    /// Wait for the next tick.
    Sleep,
    /// Checkpoint again at once: the WAL is long and the round left many new pages.
    Again,
    /// Ask the writer to copy the few pages left, so the WAL restarts.
    Finish,
}

/// The decision after a round that found a WAL of `wal` pages, left `copied` of them copied
/// back, and saw `new` pages appended since the previous round began (negative after a restart).
fn after_round(wal: i64, copied: i64, new: i64) -> Next {
    // A reader still on an old snapshot keeps pages from being copied: nothing to finish yet.
    if wal < RESTART_PAGES || copied < wal {
        Next::Sleep
    } else if (0..=FINISH_PAGES).contains(&new) {
        Next::Finish
    } else {
        Next::Again
    }
}

/// Runs a PASSIVE checkpoint; returns the WAL's length and how much of it is now copied back
/// into the database file (pages).
fn checkpoint(conn: &Connection) -> rusqlite::Result<(i64, i64)> {
    conn.query_row("PRAGMA wal_checkpoint(PASSIVE)", [], |r| Ok((r.get(1)?, r.get(2)?)))
}

impl Drop for Checkpointer {
    fn drop(&mut self) {
        drop(self.stop.take());
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

impl std::fmt::Debug for SqliteStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SqliteStore").field("path", &self.inner.path).finish()
    }
}

impl SqliteStore {
    /// Opens (creating it and its parent directories if needed) the database file at `path`
    /// and brings its schema up to date.
    pub fn open(path: impl AsRef<Path>) -> R<Self> {
        let path = path.as_ref().to_path_buf();
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir).map_err(|e| {
                StoreError::Backend(format!(
                    "cannot create directory {} for the SQLite database: {e}; check permissions or choose another path",
                    dir.display()
                ))
            })?;
        }
        let mut writer = open_connection(&path, false)?;
        migrate(&mut writer).map_err(|e| at_path(&path, e))?;
        let finish = FinishRequest::default();
        let checkpointer = Checkpointer::start(&path, finish.clone())?;
        Ok(SqliteStore {
            inner: Arc::new(Inner {
                writer: Writer::start(writer, finish)?,
                readers: Mutex::new(Vec::new()),
                read_slots: tokio::sync::Semaphore::new(MAX_READERS),
                path: Some(path),
                _checkpointer: Some(checkpointer),
            }),
        })
    }

    /// Opens a private in-memory database (lost when the store is dropped), for tests.
    pub fn open_in_memory() -> R<Self> {
        let mut writer = Connection::open_in_memory().map_err(|e| sql("open in-memory database", e))?;
        configure(&writer, false).map_err(|e| sql("configure in-memory database", e))?;
        migrate(&mut writer)?;
        Ok(SqliteStore {
            inner: Arc::new(Inner {
                writer: Writer::start(writer, FinishRequest::default())?,
                readers: Mutex::new(Vec::new()),
                read_slots: tokio::sync::Semaphore::new(MAX_READERS),
                path: None,
                _checkpointer: None,
            }),
        })
    }

    /// The database file, or `None` for an in-memory store.
    pub fn path(&self) -> Option<&Path> {
        self.inner.path.as_deref()
    }

    /// Runs `f` on the writer connection, in the writer thread.
    pub(crate) async fn write<T, F>(&self, f: F) -> R<T>
    where
        T: Send + 'static,
        F: FnOnce(&mut Connection) -> R<T> + Send + 'static,
    {
        self.inner.writer.run(f).await
    }

    /// Runs `f` on a reader connection (the writer for in-memory stores), on the blocking pool.
    pub(crate) async fn read<T, F>(&self, f: F) -> R<T>
    where
        T: Send + 'static,
        F: FnOnce(&mut Connection) -> R<T> + Send + 'static,
    {
        let Some(path) = self.inner.path.clone() else {
            return self.write(f).await;
        };
        let _slot = self
            .inner
            .read_slots
            .acquire()
            .await
            .map_err(|_| StoreError::Backend("the SQLite reader pool is closed".into()))?;
        let inner = self.inner.clone();
        off_async(move || {
            let pooled = inner.readers.lock().unwrap_or_else(PoisonError::into_inner).pop();
            let mut conn = match pooled {
                Some(c) => c,
                None => open_connection(&path, true)?,
            };
            let out = f(&mut conn);
            let mut idle = inner.readers.lock().unwrap_or_else(PoisonError::into_inner);
            if idle.len() < MAX_READERS && conn.is_autocommit() {
                idle.push(conn);
            }
            out
        })
        .await
    }
}

/// Runs blocking SQLite work on the blocking pool (bounded by the caller: reads hold one of
/// [`MAX_READERS`] slots). `block_in_place` was ~10 µs cheaper per call but, under 200
/// concurrent requests, made tokio hand off worker cores to hundreds of new threads.
async fn off_async<T, F>(f: F) -> R<T>
where
    T: Send + 'static,
    F: FnOnce() -> R<T> + Send + 'static,
{
    tokio::task::spawn_blocking(f)
        .await
        .map_err(|e| StoreError::Backend(format!("SQLite worker task failed: {e}")))?
}

/// Opens and configures one connection to a database file.
fn open_connection(path: &Path, reader: bool) -> R<Connection> {
    let flags =
        OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_CREATE | OpenFlags::SQLITE_OPEN_NO_MUTEX;
    let conn = Connection::open_with_flags(path, flags).map_err(|e| at_path(path, sql("open", e)))?;
    configure(&conn, reader).map_err(|e| at_path(path, sql("configure", e)))?;
    if !reader {
        let mode: String = conn
            .pragma_update_and_check(None, "journal_mode", "WAL", |row| row.get(0))
            .map_err(|e| at_path(path, sql("enable WAL", e)))?;
        if !mode.eq_ignore_ascii_case("wal") {
            return Err(at_path(
                path,
                StoreError::Backend(format!(
                    "SQLite refused WAL mode (journal_mode is {mode}); put the database on a local filesystem"
                )),
            ));
        }
        conn.pragma_update(None, "wal_autocheckpoint", WRITER_AUTOCHECKPOINT_PAGES)
            .map_err(|e| at_path(path, sql("configure WAL checkpoints", e)))?;
    }
    Ok(conn)
}

/// Per-connection settings: busy timeout, durability level, foreign keys; for the writer, a
/// page cache that holds a batch's pages and savepoint journals kept in memory (on disk they
/// cost a write per job of a batch).
fn configure(conn: &Connection, reader: bool) -> rusqlite::Result<()> {
    conn.busy_timeout(BUSY_TIMEOUT)?;
    conn.set_prepared_statement_cache_capacity(STATEMENT_CACHE);
    conn.pragma_update(None, "synchronous", "NORMAL")?;
    conn.pragma_update(None, "foreign_keys", "ON")?;
    if reader {
        conn.pragma_update(None, "query_only", "ON")?;
    } else {
        conn.pragma_update(None, "cache_size", -WRITER_CACHE_KIB)?;
        conn.pragma_update(None, "temp_store", "MEMORY")?;
    }
    Ok(())
}

/// Applies the migrations newer than the database's `schema_version`, in one transaction.
fn migrate(conn: &mut Connection) -> R<()> {
    let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate).map_err(|e| sql("migrate", e))?;
    tx.execute_batch("CREATE TABLE IF NOT EXISTS schema_version (version INTEGER NOT NULL)")
        .map_err(|e| sql("create schema_version", e))?;
    let current: u32 = tx
        .query_row("SELECT COALESCE(MAX(version), 0) FROM schema_version", [], |r| r.get(0))
        .map_err(|e| sql("read schema_version", e))?;
    let newest = latest(SQLITE_MIGRATIONS);
    if current > newest {
        return Err(StoreError::Backend(format!(
            "database schema version {current} is newer than this VANA supports ({newest}); upgrade VANA"
        )));
    }
    for (n, script) in SQLITE_MIGRATIONS.iter().filter(|(n, _)| *n > current) {
        tx.execute_batch(script).map_err(|e| sql(&format!("apply migration {n}"), e))?;
        tx.execute("INSERT INTO schema_version (version) VALUES (?1)", [n])
            .map_err(|e| sql("record schema_version", e))?;
    }
    tx.commit().map_err(|e| sql("commit migrations", e))
}

/// Maps a rusqlite error to a `StoreError` naming the operation and what to do.
pub(crate) fn sql(op: &str, e: rusqlite::Error) -> StoreError {
    use rusqlite::ErrorCode::*;
    let hint = match e.sqlite_error_code() {
        Some(DatabaseBusy) | Some(DatabaseLocked) => {
            "; another process held the database's write lock too long: run only one VANA server per database file"
        }
        Some(ReadOnly) | Some(CannotOpen) | Some(PermissionDenied) => {
            "; check that the file and its directory exist and are writable"
        }
        Some(DiskFull) => "; the disk is full: free space",
        Some(NotADatabase) | Some(DatabaseCorrupt) => "; the file is not a valid VANA SQLite database",
        _ => "",
    };
    StoreError::Backend(format!("SQLite {op} failed: {e}{hint}"))
}

/// The text of [`sql`]'s error (for answering several callers with one failure).
fn sql_message(op: &str, e: rusqlite::Error) -> String {
    match sql(op, e) {
        StoreError::Backend(msg) => msg,
        other => other.to_string(),
    }
}

/// Prefixes an error with the database path.
fn at_path(path: &Path, e: StoreError) -> StoreError {
    match e {
        StoreError::Backend(msg) => StoreError::Backend(format!("{} ({})", msg, path.display())),
        other => other,
    }
}

fn extended_code(e: &rusqlite::Error) -> Option<std::ffi::c_int> {
    match e {
        rusqlite::Error::SqliteFailure(f, _) => Some(f.extended_code),
        _ => None,
    }
}

/// An event prepared for insertion off the async thread.
struct EventRow {
    event_id: String,
    invocation_id: String,
    author: String,
    timestamp: f64,
    body: String,
    delta: Option<JsonMap>,
}

fn append_blocking(
    conn: &mut Connection,
    app: &str,
    user: &str,
    id: &str,
    expected: u64,
    ev: EventRow,
) -> R<u64> {
    let op = |e| sql("append event", e);
    let next = expected + 1;
    let (next_i, expected_i) = (stored_version(next)?, stored_version(expected)?);
    // Atomic through the writer's per-job savepoint (see `run_batch`).
    let updated = conn
        .prepare_cached(
            "UPDATE sessions SET version = ?1, updated_at = ?2 \
             WHERE id = ?3 AND app_name = ?4 AND user_id = ?5 AND version = ?6",
        )
        .and_then(|mut s| s.execute(params![next_i, now_secs(), id, app, user, expected_i]))
        .map_err(op)?;
    if updated == 0 {
        let actual: Option<i64> = conn
            .prepare_cached("SELECT version FROM sessions WHERE id = ?1 AND app_name = ?2 AND user_id = ?3")
            .and_then(|mut s| s.query_row(params![id, app, user], |r| r.get(0)).optional())
            .map_err(op)?;
        return Err(match actual {
            None => StoreError::NotFound(id.to_string()),
            Some(v) => StoreError::Conflict { session: id.to_string(), expected, actual: version_of(v) },
        });
    }
    conn.prepare_cached(
        "INSERT INTO events (session_id, seq, event_id, invocation_id, author, timestamp, body) \
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
    )
    .and_then(|mut s| {
        s.execute(params![id, next_i, ev.event_id, ev.invocation_id, ev.author, ev.timestamp, ev.body])
    })
    .map_err(op)?;
    if let Some(delta) = ev.delta {
        let stored: String = conn
            .prepare_cached("SELECT state FROM sessions WHERE id = ?1")
            .and_then(|mut s| s.query_row([id], |r| r.get(0)))
            .map_err(op)?;
        let mut state: JsonMap = serde_json::from_str(&stored).map_err(|e| corrupt("state", id, e))?;
        apply_state_delta(&mut state, &delta, true);
        let text = serde_json::to_string(&state).map_err(|e| unserializable("state", e))?;
        conn.prepare_cached("UPDATE sessions SET state = ?1 WHERE id = ?2")
            .and_then(|mut s| s.execute(params![text, id]))
            .map_err(op)?;
    }
    Ok(next)
}

fn get_blocking(
    conn: &mut Connection,
    app: &str,
    user: &str,
    id: &str,
    window: EventWindow,
) -> R<Option<Session>> {
    let op = |e| sql("load session", e);
    // One read transaction: the session row and its events come from the same snapshot (in
    // the writer thread, an in-memory store's reads already run inside its transaction).
    let own_tx = conn.is_autocommit();
    if own_tx {
        exec_cached(conn, "BEGIN").map_err(op)?;
    }
    let out = read_session(conn, app, user, id, window);
    if own_tx {
        // A read-only transaction: ending it cannot lose anything.
        let _ = exec_cached(conn, "COMMIT");
    }
    out
}

fn read_session(
    conn: &Connection,
    app: &str,
    user: &str,
    id: &str,
    window: EventWindow,
) -> R<Option<Session>> {
    let op = |e| sql("load session", e);
    let row = conn
        .prepare_cached(
            "SELECT state, version, created_at, updated_at FROM sessions \
             WHERE id = ?1 AND app_name = ?2 AND user_id = ?3",
        )
        .and_then(|mut s| {
            s.query_row(params![id, app, user], |r| {
                Ok((r.get::<_, String>(0)?, r.get::<_, i64>(1)?, r.get::<_, f64>(2)?, r.get::<_, f64>(3)?))
            })
            .optional()
        })
        .map_err(op)?;
    let Some((state, version, created_at, updated_at)) = row else {
        return Ok(None);
    };
    let version = version_of(version);
    let (after, upto) = window_bounds(version, window);
    let mut events = Vec::with_capacity((upto - after).min(1024) as usize);
    if upto > after {
        let mut stmt = conn
            .prepare_cached(
                "SELECT body FROM events WHERE session_id = ?1 AND seq > ?2 AND seq <= ?3 ORDER BY seq",
            )
            .map_err(op)?;
        let mut rows = stmt.query(params![id, stored_version(after)?, stored_version(upto)?]).map_err(op)?;
        while let Some(r) = rows.next().map_err(op)? {
            let body = r.get_ref(0).map_err(op)?.as_str().map_err(|e| op(e.into()))?;
            events.push(serde_json::from_str::<Event>(body).map_err(|e| corrupt("event", id, e))?);
        }
    }
    Ok(Some(Session {
        id: id.to_string(),
        app_name: app.to_string(),
        user_id: user.to_string(),
        state: serde_json::from_str(&state).map_err(|e| corrupt("state", id, e))?,
        events,
        version,
        created_at,
        last_update_time: updated_at,
    }))
}

#[async_trait]
impl SessionStore for SqliteStore {
    async fn create_session(
        &self,
        app_name: &str,
        user_id: &str,
        id: Option<&str>,
        state: JsonMap,
    ) -> R<Session> {
        let id = id.map(str::to_string).unwrap_or_else(new_id);
        let state = persisted_state(&state);
        let text = serde_json::to_string(&state).map_err(|e| unserializable("state", e))?;
        let now = now_secs();
        let (app, user, sid) = (app_name.to_string(), user_id.to_string(), id.clone());
        self.write(move |conn| {
            conn.prepare_cached(
                "INSERT INTO sessions (id, app_name, user_id, state, version, created_at, updated_at) \
                 VALUES (?1, ?2, ?3, ?4, 0, ?5, ?5)",
            )
            .and_then(|mut s| s.execute(params![sid, app, user, text, now]))
            .map_err(|e| match extended_code(&e) {
                Some(rusqlite::ffi::SQLITE_CONSTRAINT_PRIMARYKEY) => StoreError::AlreadyExists(sid.clone()),
                _ => sql("create session", e),
            })
        })
        .await?;
        Ok(Session::created(id, app_name, user_id, state, now))
    }

    async fn get_session(
        &self,
        app_name: &str,
        user_id: &str,
        id: &str,
        window: EventWindow,
    ) -> R<Option<Session>> {
        let (app, user, id) = (app_name.to_string(), user_id.to_string(), id.to_string());
        self.read(move |conn| get_blocking(conn, &app, &user, &id, window)).await
    }

    async fn list_sessions(&self, app_name: Option<&str>, user_id: &str) -> R<Vec<SessionSummary>> {
        let (app, user) = (app_name.map(str::to_string), user_id.to_string());
        self.read(move |conn| {
            let mut stmt = conn
                .prepare_cached(
                    "SELECT id, app_name, user_id, version, created_at, updated_at, \
                     json_extract(state, '$.\"vana:title\"') FROM sessions \
                     WHERE user_id = ?1 AND (?2 IS NULL OR app_name = ?2) \
                     ORDER BY updated_at DESC, created_at DESC, id DESC",
                )
                .map_err(|e| sql("list sessions", e))?;
            let rows = stmt
                .query_map(params![user, app], |r| {
                    Ok(SessionSummary {
                        id: r.get(0)?,
                        app_name: r.get(1)?,
                        user_id: r.get(2)?,
                        version: version_of(r.get(3)?),
                        created_at: r.get(4)?,
                        last_update_time: r.get(5)?,
                        title: title(r.get::<_, Option<String>>(6).ok().flatten()),
                    })
                })
                .map_err(|e| sql("list sessions", e))?;
            rows.collect::<Result<Vec<_>, _>>().map_err(|e| sql("list sessions", e))
        })
        .await
    }

    async fn delete_session(&self, app_name: &str, user_id: &str, id: &str) -> R<bool> {
        let (app, user, id) = (app_name.to_string(), user_id.to_string(), id.to_string());
        self.write(move |conn| {
            // Events and journal entries go with the session (ON DELETE CASCADE).
            conn.prepare_cached("DELETE FROM sessions WHERE id = ?1 AND app_name = ?2 AND user_id = ?3")
                .and_then(|mut s| s.execute(params![id, app, user]))
                .map(|n| n > 0)
                .map_err(|e| sql("delete session", e))
        })
        .await
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
        let row = EventRow {
            event_id: event.id.clone(),
            invocation_id: event.invocation_id.clone(),
            author: event.author.clone(),
            timestamp: event.timestamp,
            body: serde_json::to_string(event).map_err(|e| unserializable("event", e))?,
            delta: delta_persists(delta).then(|| delta.clone()),
        };
        let (app, user, id) = (app_name.to_string(), user_id.to_string(), id.to_string());
        self.write(move |conn| append_blocking(conn, &app, &user, &id, expected_version, row)).await
    }

    async fn journal_get(&self, session_id: &str, call_id: &str) -> R<Option<JournalEntry>> {
        let (sid, cid) = (session_id.to_string(), call_id.to_string());
        self.read(move |conn| {
            let row = conn
                .prepare_cached(
                    "SELECT tool, status, result FROM journal WHERE session_id = ?1 AND call_id = ?2",
                )
                .and_then(|mut s| {
                    s.query_row(params![sid, cid], |r| {
                        Ok((r.get::<_, String>(0)?, r.get::<_, String>(1)?, r.get::<_, Option<String>>(2)?))
                    })
                    .optional()
                })
                .map_err(|e| sql("read journal", e))?;
            let Some((tool, status, result)) = row else { return Ok(None) };
            let result = match result {
                Some(text) => {
                    Some(serde_json::from_str(&text).map_err(|e| corrupt("journal result", &sid, e))?)
                }
                None => None,
            };
            Ok(Some(JournalEntry { tool, status: parse_status(&status)?, result }))
        })
        .await
    }

    async fn journal_put(&self, session_id: &str, call_id: &str, entry: &JournalEntry) -> R<()> {
        let result = match &entry.result {
            Some(v) => Some(serde_json::to_string(v).map_err(|e| unserializable("journal result", e))?),
            None => None,
        };
        let (sid, cid, tool, status) =
            (session_id.to_string(), call_id.to_string(), entry.tool.clone(), status_name(entry.status));
        self.write(move |conn| {
            conn.prepare_cached(
                "INSERT INTO journal (session_id, call_id, tool, status, result, updated_at) \
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6) \
                 ON CONFLICT (session_id, call_id) DO UPDATE SET \
                 tool = excluded.tool, status = excluded.status, result = excluded.result, \
                 updated_at = excluded.updated_at",
            )
            .and_then(|mut s| s.execute(params![sid, cid, tool, status, result, now_secs()]))
            .map(|_| ())
            .map_err(|e| match extended_code(&e) {
                Some(rusqlite::ffi::SQLITE_CONSTRAINT_FOREIGNKEY) => StoreError::NotFound(sid.clone()),
                _ => sql("write journal", e),
            })
        })
        .await
    }

    async fn ping(&self) -> R<()> {
        self.read(|conn| conn.query_row("SELECT 1", [], |_| Ok(())).map_err(|e| sql("ping", e))).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The checkpointer leaves a short WAL alone, catches up at once while a long one keeps
    /// growing, hands the last few pages to the writer, and waits while a reader pins pages.
    #[test]
    fn the_checkpointer_works_a_long_wal_down_to_a_restart() {
        assert_eq!(after_round(RESTART_PAGES - 1, RESTART_PAGES - 1, 3000), Next::Sleep);
        assert_eq!(after_round(9000, 9000, 9000), Next::Again, "first round over a long WAL");
        assert_eq!(after_round(9000, 9000, FINISH_PAGES + 1), Next::Again);
        assert_eq!(after_round(9000, 9000, FINISH_PAGES), Next::Finish);
        assert_eq!(after_round(9000, 9000, 0), Next::Finish, "an idle long WAL restarts on the next write");
        assert_eq!(
            after_round(5000, 5000, -4000),
            Next::Again,
            "restarted and long again: not yet caught up"
        );
        assert_eq!(after_round(9000, 7000, 10), Next::Sleep, "a reader's snapshot pins pages");
    }

    /// Jobs queued together commit together, and a job that fails or panics is undone alone:
    /// its caller gets its error, the others' writes are kept.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_failing_job_in_a_batch_is_rolled_back_alone() {
        let store = SqliteStore::open_in_memory().unwrap();
        store
            .write(|c| c.execute_batch("CREATE TABLE t (v TEXT NOT NULL)").map_err(|e| sql("create", e)))
            .await
            .unwrap();
        let insert = |c: &mut Connection, v: &str| {
            c.execute("INSERT INTO t (v) VALUES (?1)", [v]).map(|_| ()).map_err(|e| sql("insert", e))
        };
        // Keeps the writer busy so the next three jobs wait in the queue and form one batch.
        let (started_tx, started) = std::sync::mpsc::channel();
        type Work = Box<dyn FnOnce(&mut Connection) -> R<()> + Send>;
        let spawn = |f: Work| {
            let store = store.clone();
            tokio::spawn(async move { store.write(f).await })
        };
        let busy = spawn(Box::new(move |_| {
            started_tx.send(()).unwrap();
            std::thread::sleep(Duration::from_millis(200));
            Ok(())
        }));
        tokio::task::spawn_blocking(move || started.recv().unwrap()).await.unwrap();
        let failing = spawn(Box::new(move |c| {
            insert(c, "failed")?;
            Err(StoreError::Backend("this job fails after writing".into()))
        }));
        let panicking = spawn(Box::new(move |c| {
            insert(c, "panicked")?;
            panic!("this job panics after writing")
        }));
        let fine = spawn(Box::new(move |c| insert(c, "kept")));
        busy.await.unwrap().unwrap();
        let failed = failing.await.unwrap().unwrap_err().to_string();
        assert!(failed.contains("this job fails after writing"), "{failed}");
        let panicked = panicking.await.unwrap().unwrap_err().to_string();
        assert!(panicked.contains("panic"), "{panicked}");
        fine.await.unwrap().unwrap();
        let rows: Vec<String> = store
            .read(|c| {
                let mut st = c.prepare("SELECT v FROM t").map_err(|e| sql("select", e))?;
                let rows = st.query_map([], |r| r.get(0)).map_err(|e| sql("select", e))?;
                rows.collect::<Result<_, _>>().map_err(|e| sql("select", e))
            })
            .await
            .unwrap();
        assert_eq!(rows, vec!["kept".to_string()]);
    }

    /// A database written by an older VANA (events in a rowid table) keeps its events, in
    /// order, when migration 3 clusters them by session.
    #[test]
    fn migration_3_keeps_every_event() {
        let dir = std::env::temp_dir().join(format!("vana-mig3-{}", new_id()));
        let path = dir.join("old.db");
        std::fs::create_dir_all(&dir).unwrap();
        {
            let conn = Connection::open(&path).unwrap();
            conn.execute_batch("CREATE TABLE schema_version (version INTEGER NOT NULL)").unwrap();
            for (n, script) in &SQLITE_MIGRATIONS[..2] {
                conn.execute_batch(script).unwrap();
                conn.execute("INSERT INTO schema_version (version) VALUES (?1)", [n]).unwrap();
            }
            for (sid, n) in [("a", 3), ("b", 2)] {
                conn.execute(
                    "INSERT INTO sessions (id, app_name, user_id, version, created_at, updated_at) \
                     VALUES (?1, 'app', 'u', ?2, 0, 0)",
                    params![sid, n],
                )
                .unwrap();
            }
            for (sid, seq) in [("a", 1), ("b", 1), ("a", 2), ("b", 2), ("a", 3)] {
                let mut e = Event::new("inv", "model");
                e.id = format!("{sid}{seq}");
                conn.execute(
                    "INSERT INTO events (session_id, seq, event_id, invocation_id, author, timestamp, body) \
                     VALUES (?1, ?2, ?3, 'inv', 'model', 0, ?4)",
                    params![sid, seq, e.id, serde_json::to_string(&e).unwrap()],
                )
                .unwrap();
            }
        }
        let rt = tokio::runtime::Runtime::new().unwrap();
        let store = SqliteStore::open(&path).unwrap();
        for (sid, want) in [("a", vec!["a1", "a2", "a3"]), ("b", vec!["b1", "b2"])] {
            let s = rt.block_on(store.get_session("app", "u", sid, EventWindow::All)).unwrap().unwrap();
            let ids: Vec<&str> = s.events.iter().map(|e| e.id.as_str()).collect();
            assert_eq!(ids, want);
        }
        let clustered: String = rt
            .block_on(store.read(|c| {
                c.query_row("SELECT sql FROM sqlite_schema WHERE name = 'events'", [], |r| r.get(0))
                    .map_err(|e| sql("schema", e))
            }))
            .unwrap();
        assert!(clustered.contains("WITHOUT ROWID"), "{clustered}");
        drop(store);
        let _ = std::fs::remove_dir_all(&dir);
    }
}
