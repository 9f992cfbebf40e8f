//! The audit log (FTS5), API keys, browser logins and artifacts on SQLite.

use crate::logins::{LoginRecord, LoginStore};
use crate::records::{
    ApiKeyRecord, Artifact, ArtifactScope, ArtifactStore, AuditQuery, AuditRecord, AuditStore, KeyStore,
};
use crate::sqlite::sql;
use crate::SqliteStore;
use async_trait::async_trait;
use rusqlite::{params, params_from_iter, OptionalExtension};
use vana_core::event::now_secs;
use vana_core::StoreError;

type R<T> = Result<T, StoreError>;

/// The FTS5 query for search terms: every term as a quoted word prefix, all required.
fn fts_query(terms: &[String]) -> String {
    terms.iter().map(|t| format!("\"{}\"*", t.replace('"', ""))).collect::<Vec<_>>().join(" ")
}

#[async_trait]
impl AuditStore for SqliteStore {
    async fn audit_append(&self, records: &[AuditRecord]) -> R<()> {
        let rows: Vec<(AuditRecord, String)> =
            records.iter().map(|r| (r.clone(), r.data.to_string())).collect();
        self.write(move |conn| {
            let op = |e| sql("append audit records", e);
            // Atomic through the writer's per-job savepoint.
            {
                let mut st = conn
                    .prepare_cached(
                        "INSERT INTO audit (time, kind, user_id, agent, session_id, summary, data) \
                         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
                    )
                    .map_err(op)?;
                for (r, data) in &rows {
                    st.execute(params![r.time, r.kind, r.user_id, r.agent, r.session_id, r.summary, data])
                        .map_err(op)?;
                }
            }
            Ok(())
        })
        .await
    }

    async fn audit_search(&self, query: &AuditQuery) -> R<Vec<AuditRecord>> {
        let query = query.clone();
        self.read(move |conn| {
            let mut wheres = Vec::new();
            let mut args: Vec<rusqlite::types::Value> = Vec::new();
            let terms = query.terms();
            if !terms.is_empty() {
                wheres.push("a.id IN (SELECT rowid FROM audit_fts WHERE audit_fts MATCH ?)".to_string());
                args.push(fts_query(&terms).into());
            }
            for (col, v) in [
                ("a.kind", &query.kind),
                ("a.agent", &query.agent),
                ("a.user_id", &query.user),
                ("a.session_id", &query.session),
            ] {
                if let Some(v) = v.as_ref().filter(|v| !v.is_empty()) {
                    wheres.push(format!("{col} = ?"));
                    args.push(v.clone().into());
                }
            }
            if let Some(f) = query.from {
                wheres.push("a.time >= ?".into());
                args.push(f.into());
            }
            if let Some(t) = query.to {
                wheres.push("a.time <= ?".into());
                args.push(t.into());
            }
            let filter =
                if wheres.is_empty() { String::new() } else { format!("WHERE {}", wheres.join(" AND ")) };
            let text = format!(
                "SELECT a.id, a.time, a.kind, a.user_id, a.agent, a.session_id, a.summary, a.data \
                 FROM audit a {filter} ORDER BY a.time DESC, a.id DESC LIMIT {}",
                query.effective_limit()
            );
            let op = |e| sql("search the audit log", e);
            let mut st = conn.prepare(&text).map_err(op)?;
            let rows = st
                .query_map(params_from_iter(args), |r| {
                    let data: String = r.get(7)?;
                    Ok(AuditRecord {
                        id: r.get(0)?,
                        time: r.get(1)?,
                        kind: r.get(2)?,
                        user_id: r.get(3)?,
                        agent: r.get(4)?,
                        session_id: r.get(5)?,
                        summary: r.get(6)?,
                        data: serde_json::from_str(&data).unwrap_or(serde_json::Value::String(data)),
                    })
                })
                .map_err(op)?;
            rows.collect::<Result<Vec<_>, _>>().map_err(op)
        })
        .await
    }
}

fn key_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<ApiKeyRecord> {
    Ok(ApiKeyRecord {
        id: r.get(0)?,
        name: r.get(1)?,
        user_id: r.get(2)?,
        hash: r.get(3)?,
        created_at: r.get(4)?,
        revoked_at: r.get(5)?,
    })
}

const KEY_COLUMNS: &str = "id, name, user_id, hash, created_at, revoked_at";

#[async_trait]
impl KeyStore for SqliteStore {
    async fn key_create(&self, key: &ApiKeyRecord) -> R<()> {
        let key = key.clone();
        self.write(move |conn| {
            let res = conn.execute(
                "INSERT INTO api_keys (id, name, user_id, hash, created_at, revoked_at) VALUES (?1, ?2, ?3, ?4, ?5, NULL)",
                params![key.id, key.name, key.user_id, key.hash, key.created_at],
            );
            match res {
                Ok(_) => Ok(()),
                Err(e) if e.sqlite_error_code() == Some(rusqlite::ErrorCode::ConstraintViolation) => {
                    Err(StoreError::AlreadyExists(format!("API key {}", key.name)))
                }
                Err(e) => Err(sql("create API key", e)),
            }
        })
        .await
    }

    async fn key_get(&self, id: &str) -> R<Option<ApiKeyRecord>> {
        let id = id.to_string();
        self.read(move |conn| {
            conn.prepare_cached(&format!("SELECT {KEY_COLUMNS} FROM api_keys WHERE id = ?1"))
                .and_then(|mut s| s.query_row([id], key_row).optional())
                .map_err(|e| sql("read API key", e))
        })
        .await
    }

    async fn key_list(&self) -> R<Vec<ApiKeyRecord>> {
        self.read(|conn| {
            let op = |e| sql("list API keys", e);
            let mut st = conn
                .prepare(&format!("SELECT {KEY_COLUMNS} FROM api_keys ORDER BY created_at, id"))
                .map_err(op)?;
            let rows = st.query_map([], key_row).map_err(op)?;
            rows.collect::<Result<Vec<_>, _>>().map_err(op)
        })
        .await
    }

    async fn key_revoke(&self, name_or_id: &str) -> R<bool> {
        let n = name_or_id.to_string();
        self.write(move |conn| {
            let op = |e| sql("revoke API key", e);
            // Atomic through the writer's per-job savepoint: the key and its logins go together.
            let ids: Vec<String> = {
                let mut st = conn
                    .prepare_cached(
                        "UPDATE api_keys SET revoked_at = ?1 WHERE (name = ?2 OR id = ?2) AND revoked_at IS NULL \
                         RETURNING id",
                    )
                    .map_err(op)?;
                let rows = st.query_map(params![now_secs(), n], |r| r.get(0)).map_err(op)?;
                rows.collect::<Result<_, _>>().map_err(op)?
            };
            for id in &ids {
                conn.execute("DELETE FROM logins WHERE key_id = ?1", [id]).map_err(op)?;
            }
            Ok(!ids.is_empty())
        })
        .await
    }
}

fn login_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<LoginRecord> {
    Ok(LoginRecord {
        token_hash: r.get(0)?,
        key_id: r.get(1)?,
        user_id: r.get(2)?,
        created_at: r.get(3)?,
        expires_at: r.get(4)?,
    })
}

#[async_trait]
impl LoginStore for SqliteStore {
    async fn login_create(&self, login: &LoginRecord) -> R<()> {
        let l = login.clone();
        self.write(move |conn| {
            let op = |e| sql("store login", e);
            conn.prepare_cached("DELETE FROM logins WHERE expires_at <= ?1")
                .and_then(|mut s| s.execute([l.created_at]))
                .map_err(op)?;
            conn.prepare_cached(
                "INSERT INTO logins (token_hash, key_id, user_id, created_at, expires_at) VALUES (?1, ?2, ?3, ?4, ?5)",
            )
            .and_then(|mut s| s.execute(params![l.token_hash, l.key_id, l.user_id, l.created_at, l.expires_at]))
            .map_err(op)?;
            Ok(())
        })
        .await
    }

    async fn login_get(&self, token_hash: &str, now: f64) -> R<Option<LoginRecord>> {
        let h = token_hash.to_string();
        self.read(move |conn| {
            conn.prepare_cached(
                "SELECT l.token_hash, l.key_id, l.user_id, l.created_at, l.expires_at \
                 FROM logins l JOIN api_keys k ON k.id = l.key_id \
                 WHERE l.token_hash = ?1 AND l.expires_at > ?2 AND k.revoked_at IS NULL",
            )
            .and_then(|mut s| s.query_row(params![h, now], login_row).optional())
            .map_err(|e| sql("read login", e))
        })
        .await
    }

    async fn login_delete(&self, token_hash: &str) -> R<bool> {
        let h = token_hash.to_string();
        self.write(move |conn| {
            conn.prepare_cached("DELETE FROM logins WHERE token_hash = ?1")
                .and_then(|mut s| s.execute([h]))
                .map(|n| n > 0)
                .map_err(|e| sql("delete login", e))
        })
        .await
    }
}

#[async_trait]
impl ArtifactStore for SqliteStore {
    async fn artifact_put(
        &self,
        scope: ArtifactScope<'_>,
        name: &str,
        mime_type: &str,
        data: &[u8],
    ) -> R<u64> {
        let (app, user, session) = (scope.app.to_string(), scope.user.to_string(), scope.session.to_string());
        let (name, mime, data) = (name.to_string(), mime_type.to_string(), data.to_vec());
        self.write(move |conn| {
            let op = |e| sql("save artifact", e);
            // Atomic through the writer's per-job savepoint.
            let owned: Option<i64> = conn
                .query_row(
                    "SELECT 1 FROM sessions WHERE id = ?1 AND app_name = ?2 AND user_id = ?3",
                    params![session, app, user],
                    |r| r.get(0),
                )
                .optional()
                .map_err(op)?;
            if owned.is_none() {
                return Err(StoreError::NotFound(session));
            }
            let next: i64 = conn
                .query_row(
                    "SELECT COALESCE(MAX(version) + 1, 0) FROM artifacts WHERE session_id = ?1 AND name = ?2",
                    params![session, name],
                    |r| r.get(0),
                )
                .map_err(op)?;
            conn.execute(
                "INSERT INTO artifacts (session_id, name, version, app_name, user_id, mime_type, data, created_at) \
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
                params![session, name, next, app, user, mime, data, now_secs()],
            )
            .map_err(op)?;
            Ok(next as u64)
        })
        .await
    }

    async fn artifact_names(&self, scope: ArtifactScope<'_>) -> R<Vec<String>> {
        let (app, user, session) = (scope.app.to_string(), scope.user.to_string(), scope.session.to_string());
        self.read(move |conn| {
            let op = |e| sql("list artifacts", e);
            let mut st = conn
                .prepare_cached(
                    "SELECT DISTINCT name FROM artifacts WHERE session_id = ?1 AND app_name = ?2 AND user_id = ?3 ORDER BY name",
                )
                .map_err(op)?;
            let rows = st.query_map(params![session, app, user], |r| r.get(0)).map_err(op)?;
            rows.collect::<Result<Vec<String>, _>>().map_err(op)
        })
        .await
    }

    async fn artifact_versions(&self, scope: ArtifactScope<'_>, name: &str) -> R<Vec<u64>> {
        let (app, user, session) = (scope.app.to_string(), scope.user.to_string(), scope.session.to_string());
        let name = name.to_string();
        self.read(move |conn| {
            let op = |e| sql("list artifact versions", e);
            let mut st = conn
                .prepare_cached(
                    "SELECT version FROM artifacts WHERE session_id = ?1 AND app_name = ?2 AND user_id = ?3 AND name = ?4 ORDER BY version",
                )
                .map_err(op)?;
            let rows = st.query_map(params![session, app, user, name], |r| r.get::<_, i64>(0)).map_err(op)?;
            rows.map(|v| v.map(|v| v as u64)).collect::<Result<Vec<u64>, _>>().map_err(op)
        })
        .await
    }

    async fn artifact_get(
        &self,
        scope: ArtifactScope<'_>,
        name: &str,
        version: Option<u64>,
    ) -> R<Option<Artifact>> {
        let (app, user, session) = (scope.app.to_string(), scope.user.to_string(), scope.session.to_string());
        let name = name.to_string();
        let version = version.map(|v| v as i64).unwrap_or(-1);
        self.read(move |conn| {
            conn.prepare_cached(
                "SELECT name, version, mime_type, data, created_at FROM artifacts \
                 WHERE session_id = ?1 AND app_name = ?2 AND user_id = ?3 AND name = ?4 AND (?5 < 0 OR version = ?5) \
                 ORDER BY version DESC LIMIT 1",
            )
            .and_then(|mut s| {
                s.query_row(params![session, app, user, name, version], |r| {
                    Ok(Artifact {
                        name: r.get(0)?,
                        version: r.get::<_, i64>(1)? as u64,
                        mime_type: r.get(2)?,
                        data: r.get(3)?,
                        created_at: r.get(4)?,
                    })
                })
                .optional()
            })
            .map_err(|e| sql("read artifact", e))
        })
        .await
    }

    async fn artifact_delete(&self, scope: ArtifactScope<'_>, name: &str) -> R<bool> {
        let (app, user, session) = (scope.app.to_string(), scope.user.to_string(), scope.session.to_string());
        let name = name.to_string();
        self.write(move |conn| {
            conn.execute(
                "DELETE FROM artifacts WHERE session_id = ?1 AND app_name = ?2 AND user_id = ?3 AND name = ?4",
                params![session, app, user, name],
            )
            .map(|n| n > 0)
            .map_err(|e| sql("delete artifact", e))
        })
        .await
    }
}
