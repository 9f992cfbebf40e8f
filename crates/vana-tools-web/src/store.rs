//! The research database under the data dir (`<data dir>/web/research.sqlite`): the HTTP cache
//! (ETag / Last-Modified) and the local search index (FTS5, BM25).

use rusqlite::{params, Connection, OptionalExtension};
use serde::Serialize;
use std::path::{Path, PathBuf};
use std::sync::Mutex;

const SCHEMA: &str = "
PRAGMA journal_mode = WAL;
PRAGMA busy_timeout = 5000;
CREATE TABLE IF NOT EXISTS http_cache (
    url TEXT PRIMARY KEY,
    etag TEXT,
    last_modified TEXT,
    content_type TEXT,
    final_url TEXT NOT NULL,
    body BLOB NOT NULL,
    stored_at INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS documents (
    id INTEGER PRIMARY KEY,
    url TEXT NOT NULL UNIQUE,
    host TEXT NOT NULL,
    title TEXT NOT NULL,
    source TEXT NOT NULL,
    added_at INTEGER NOT NULL,
    chars INTEGER NOT NULL
);
CREATE VIRTUAL TABLE IF NOT EXISTS documents_fts USING fts5(title, body, tokenize = 'unicode61 remove_diacritics 2');
";

/// A cached response.
#[derive(Debug, Clone)]
pub struct Cached {
    /// `ETag` as served.
    pub etag: Option<String>,
    /// `Last-Modified` as served.
    pub last_modified: Option<String>,
    /// `Content-Type` as served.
    pub content_type: Option<String>,
    /// The URL after redirects.
    pub final_url: String,
    /// The body.
    pub body: Vec<u8>,
}

/// A document in the local index.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Document {
    /// Its id in the index (`vana index remove ID`).
    pub id: i64,
    /// Its URL (`file://` for a local file).
    pub url: String,
    /// Its title.
    pub title: String,
    /// `fetched` (by a session) or `added` (`vana index add`).
    pub source: String,
    /// When it was indexed, seconds since the epoch.
    pub added_at: i64,
    /// Characters of text indexed.
    pub chars: i64,
}

/// A local-index hit.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Hit {
    /// Title.
    pub title: String,
    /// URL.
    pub url: String,
    /// The matching passage.
    pub snippet: String,
}

/// The research database (opened on first use).
pub struct Store {
    path: PathBuf,
    conn: Mutex<Option<Connection>>,
}

fn now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs() as i64)
        .unwrap_or(0)
}

impl Store {
    /// The database under `data_dir` (nothing is created until it is used).
    pub fn new(data_dir: &Path) -> Self {
        Store { path: data_dir.join("web").join("research.sqlite"), conn: Mutex::new(None) }
    }

    /// Where the database lives.
    pub fn path(&self) -> &Path {
        &self.path
    }

    fn with<T>(&self, f: impl FnOnce(&Connection) -> rusqlite::Result<T>) -> Result<T, String> {
        let mut guard = self.conn.lock().unwrap_or_else(|e| e.into_inner());
        if guard.is_none() {
            if let Some(dir) = self.path.parent() {
                std::fs::create_dir_all(dir).map_err(|e| format!("create {}: {e}", dir.display()))?;
            }
            let conn =
                Connection::open(&self.path).map_err(|e| format!("open {}: {e}", self.path.display()))?;
            conn.execute_batch(SCHEMA).map_err(|e| format!("set up {}: {e}", self.path.display()))?;
            *guard = Some(conn);
        }
        f(guard.as_ref().expect("opened"))
            .map_err(|e| format!("the research database {}: {e}", self.path.display()))
    }

    /// The cached response for `url`.
    pub fn cached(&self, url: &str) -> Result<Option<Cached>, String> {
        self.with(|c| {
            c.query_row(
                "SELECT etag, last_modified, content_type, final_url, body FROM http_cache WHERE url = ?1",
                [url],
                |r| {
                    Ok(Cached {
                        etag: r.get(0)?,
                        last_modified: r.get(1)?,
                        content_type: r.get(2)?,
                        final_url: r.get(3)?,
                        body: r.get(4)?,
                    })
                },
            )
            .optional()
        })
    }

    /// Keeps a response that has a validator (`ETag` or `Last-Modified`).
    pub fn store_cached(&self, url: &str, entry: &Cached) -> Result<(), String> {
        self.with(|c| {
            c.execute(
                "INSERT OR REPLACE INTO http_cache (url, etag, last_modified, content_type, final_url, body, stored_at)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
                params![url, entry.etag, entry.last_modified, entry.content_type, entry.final_url, entry.body, now()],
            )
            .map(|_| ())
        })
    }

    /// Adds or replaces a document in the local index.
    pub fn index(&self, url: &str, title: &str, body: &str, source: &str) -> Result<(), String> {
        let host = url::Url::parse(url)
            .ok()
            .and_then(|u| u.host_str().map(|h| h.to_ascii_lowercase()))
            .unwrap_or_default();
        self.with(|c| {
            let tx = c.unchecked_transaction()?;
            if let Some(id) =
                tx.query_row("SELECT id FROM documents WHERE url = ?1", [url], |r| r.get::<_, i64>(0)).optional()?
            {
                tx.execute("DELETE FROM documents_fts WHERE rowid = ?1", [id])?;
                tx.execute("DELETE FROM documents WHERE id = ?1", [id])?;
            }
            tx.execute(
                "INSERT INTO documents (url, host, title, source, added_at, chars) VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
                params![url, host, title, source, now(), body.chars().count() as i64],
            )?;
            let id = tx.last_insert_rowid();
            tx.execute("INSERT INTO documents_fts (rowid, title, body) VALUES (?1, ?2, ?3)", params![id, title, body])?;
            tx.commit()
        })
    }

    /// Every indexed document, newest first.
    pub fn list(&self) -> Result<Vec<Document>, String> {
        self.with(|c| {
            let mut st = c.prepare(
                "SELECT id, url, title, source, added_at, chars FROM documents ORDER BY added_at DESC, id DESC",
            )?;
            let rows = st.query_map([], |r| {
                Ok(Document {
                    id: r.get(0)?,
                    url: r.get(1)?,
                    title: r.get(2)?,
                    source: r.get(3)?,
                    added_at: r.get(4)?,
                    chars: r.get(5)?,
                })
            })?;
            rows.collect()
        })
    }

    /// Removes a document; false when no document has that URL.
    pub fn remove(&self, url: &str) -> Result<bool, String> {
        self.remove_where("url = ?1", url.to_string())
    }

    /// Removes a document by its id; false when no document has that id.
    pub fn remove_id(&self, id: i64) -> Result<bool, String> {
        self.remove_where("id = ?1", id)
    }

    fn remove_where(&self, cond: &str, key: impl rusqlite::ToSql) -> Result<bool, String> {
        self.with(|c| {
            let id = c
                .query_row(&format!("SELECT id FROM documents WHERE {cond}"), [key], |r| r.get::<_, i64>(0))
                .optional()?;
            if let Some(id) = id {
                c.execute("DELETE FROM documents_fts WHERE rowid = ?1", [id])?;
                c.execute("DELETE FROM documents WHERE id = ?1", [id])?;
            }
            Ok(id.is_some())
        })
    }

    /// BM25 search (title weighted 4x the body): every word of `query` as a term, any may match.
    /// `site` keeps hosts equal to it or under it; `since` keeps documents indexed after it.
    pub fn search(
        &self,
        query: &str,
        count: usize,
        site: Option<&str>,
        since: Option<i64>,
    ) -> Result<Vec<Hit>, String> {
        let terms: Vec<String> = query
            .split(|c: char| !c.is_alphanumeric())
            .filter(|t| !t.is_empty())
            .map(|t| format!("\"{}\"", t.to_lowercase()))
            .collect();
        if terms.is_empty() {
            return Err(format!("the query `{query}` has no words to search for"));
        }
        let fts = terms.join(" OR ");
        let site = site.map(|s| s.trim().trim_start_matches("*.").to_ascii_lowercase());
        self.with(|c| {
            let mut st = c.prepare(
                "SELECT d.title, d.url, snippet(documents_fts, 1, '', '', ' … ', 32)
                 FROM documents_fts JOIN documents d ON d.id = documents_fts.rowid
                 WHERE documents_fts MATCH ?1
                   AND (?2 IS NULL OR d.host = ?2 OR d.host LIKE '%.' || ?2)
                   AND d.added_at >= ?3
                 ORDER BY bm25(documents_fts, 4.0, 1.0) LIMIT ?4",
            )?;
            let rows = st.query_map(params![fts, site, since.unwrap_or(0), count as i64], |r| {
                Ok(Hit {
                    title: r.get(0)?,
                    url: r.get(1)?,
                    snippet: r.get::<_, String>(2)?.split_whitespace().collect::<Vec<_>>().join(" "),
                })
            })?;
            rows.collect()
        })
    }
}
