//! The audit log (tsvector full-text search), API keys, browser logins and artifacts on
//! PostgreSQL.

use crate::logins::{LoginRecord, LoginStore};
use crate::postgres::pg;
use crate::records::{
    ApiKeyRecord, Artifact, ArtifactScope, ArtifactStore, AuditQuery, AuditRecord, AuditStore, KeyStore,
};
use crate::PostgresStore;
use async_trait::async_trait;
use tokio_postgres::error::SqlState;
use tokio_postgres::types::ToSql;
use vana_core::event::now_secs;
use vana_core::StoreError;

type R<T> = Result<T, StoreError>;

/// The `to_tsquery` text for search terms: every term as a word prefix, all required.
fn ts_query(terms: &[String]) -> String {
    terms.iter().map(|t| format!("'{}':*", t.replace('\'', ""))).collect::<Vec<_>>().join(" & ")
}

#[async_trait]
impl AuditStore for PostgresStore {
    async fn audit_append(&self, records: &[AuditRecord]) -> R<()> {
        let mut client = self.client().await?;
        let op = |e| pg("append audit records", e);
        let tx = client.transaction().await.map_err(op)?;
        let st = tx
            .prepare_cached(
                "INSERT INTO audit (time, kind, user_id, agent, session_id, summary, data) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7)",
            )
            .await
            .map_err(op)?;
        for r in records {
            let data = r.data.to_string().replace('\u{0}', "");
            let summary = r.summary.replace('\u{0}', "");
            tx.execute(&st, &[&r.time, &r.kind, &r.user_id, &r.agent, &r.session_id, &summary, &data])
                .await
                .map_err(op)?;
        }
        tx.commit().await.map_err(op)
    }

    async fn audit_search(&self, query: &AuditQuery) -> R<Vec<AuditRecord>> {
        let client = self.client().await?;
        let mut wheres: Vec<String> = Vec::new();
        let mut args: Vec<Box<dyn ToSql + Sync + Send>> = Vec::new();
        let terms = query.terms();
        if !terms.is_empty() {
            args.push(Box::new(ts_query(&terms)));
            wheres.push(format!("tsv @@ to_tsquery('simple', ${})", args.len()));
        }
        for (col, v) in [
            ("kind", &query.kind),
            ("agent", &query.agent),
            ("user_id", &query.user),
            ("session_id", &query.session),
        ] {
            if let Some(v) = v.as_ref().filter(|v| !v.is_empty()) {
                args.push(Box::new(v.clone()));
                wheres.push(format!("{col} = ${}", args.len()));
            }
        }
        if let Some(f) = query.from {
            args.push(Box::new(f));
            wheres.push(format!("time >= ${}", args.len()));
        }
        if let Some(t) = query.to {
            args.push(Box::new(t));
            wheres.push(format!("time <= ${}", args.len()));
        }
        let filter =
            if wheres.is_empty() { String::new() } else { format!("WHERE {}", wheres.join(" AND ")) };
        let text = format!(
            "SELECT id, time, kind, user_id, agent, session_id, summary, data FROM audit {filter} \
             ORDER BY time DESC, id DESC LIMIT {}",
            query.effective_limit()
        );
        let refs: Vec<&(dyn ToSql + Sync)> = args.iter().map(|a| a.as_ref() as &(dyn ToSql + Sync)).collect();
        let rows = client.query(&text, &refs).await.map_err(|e| pg("search the audit log", e))?;
        Ok(rows
            .iter()
            .map(|r| {
                let data: String = r.get(7);
                AuditRecord {
                    id: r.get(0),
                    time: r.get(1),
                    kind: r.get(2),
                    user_id: r.get(3),
                    agent: r.get(4),
                    session_id: r.get(5),
                    summary: r.get(6),
                    data: serde_json::from_str(&data).unwrap_or(serde_json::Value::String(data)),
                }
            })
            .collect())
    }
}

fn key_row(r: &tokio_postgres::Row) -> ApiKeyRecord {
    ApiKeyRecord {
        id: r.get(0),
        name: r.get(1),
        user_id: r.get(2),
        hash: r.get(3),
        created_at: r.get(4),
        revoked_at: r.get(5),
    }
}

const KEY_COLUMNS: &str = "id, name, user_id, hash, created_at, revoked_at";

#[async_trait]
impl KeyStore for PostgresStore {
    async fn key_create(&self, key: &ApiKeyRecord) -> R<()> {
        let client = self.client().await?;
        let res = client
            .execute(
                "INSERT INTO api_keys (id, name, user_id, hash, created_at, revoked_at) VALUES ($1, $2, $3, $4, $5, NULL)",
                &[&key.id, &key.name, &key.user_id, &key.hash, &key.created_at],
            )
            .await;
        match res {
            Ok(_) => Ok(()),
            Err(e) if e.code() == Some(&SqlState::UNIQUE_VIOLATION) => {
                Err(StoreError::AlreadyExists(format!("API key {}", key.name)))
            }
            Err(e) => Err(pg("create API key", e)),
        }
    }

    async fn key_get(&self, id: &str) -> R<Option<ApiKeyRecord>> {
        let client = self.client().await?;
        let row = client
            .query_opt(&format!("SELECT {KEY_COLUMNS} FROM api_keys WHERE id = $1"), &[&id])
            .await
            .map_err(|e| pg("read API key", e))?;
        Ok(row.as_ref().map(key_row))
    }

    async fn key_list(&self) -> R<Vec<ApiKeyRecord>> {
        let client = self.client().await?;
        let rows = client
            .query(&format!("SELECT {KEY_COLUMNS} FROM api_keys ORDER BY created_at, id"), &[])
            .await
            .map_err(|e| pg("list API keys", e))?;
        Ok(rows.iter().map(key_row).collect())
    }

    async fn key_revoke(&self, name_or_id: &str) -> R<bool> {
        let mut client = self.client().await?;
        let op = |e| pg("revoke API key", e);
        // One transaction: the key and its logins go together.
        let tx = client.transaction().await.map_err(op)?;
        let rows = tx
            .query(
                "UPDATE api_keys SET revoked_at = $1 WHERE (name = $2 OR id = $2) AND revoked_at IS NULL RETURNING id",
                &[&now_secs(), &name_or_id],
            )
            .await
            .map_err(op)?;
        for row in &rows {
            let id: String = row.get(0);
            tx.execute("DELETE FROM logins WHERE key_id = $1", &[&id]).await.map_err(op)?;
        }
        tx.commit().await.map_err(op)?;
        Ok(!rows.is_empty())
    }
}

fn login_row(r: &tokio_postgres::Row) -> LoginRecord {
    LoginRecord {
        token_hash: r.get(0),
        key_id: r.get(1),
        user_id: r.get(2),
        created_at: r.get(3),
        expires_at: r.get(4),
    }
}

#[async_trait]
impl LoginStore for PostgresStore {
    async fn login_create(&self, login: &LoginRecord) -> R<()> {
        let mut client = self.client().await?;
        let op = |e| pg("store login", e);
        let tx = client.transaction().await.map_err(op)?;
        tx.execute("DELETE FROM logins WHERE expires_at <= $1", &[&login.created_at]).await.map_err(op)?;
        tx.execute(
            "INSERT INTO logins (token_hash, key_id, user_id, created_at, expires_at) VALUES ($1, $2, $3, $4, $5)",
            &[&login.token_hash, &login.key_id, &login.user_id, &login.created_at, &login.expires_at],
        )
        .await
        .map_err(op)?;
        tx.commit().await.map_err(op)
    }

    async fn login_get(&self, token_hash: &str, now: f64) -> R<Option<LoginRecord>> {
        let client = self.client().await?;
        let row = client
            .query_opt(
                "SELECT l.token_hash, l.key_id, l.user_id, l.created_at, l.expires_at \
                 FROM logins l JOIN api_keys k ON k.id = l.key_id \
                 WHERE l.token_hash = $1 AND l.expires_at > $2 AND k.revoked_at IS NULL",
                &[&token_hash, &now],
            )
            .await
            .map_err(|e| pg("read login", e))?;
        Ok(row.as_ref().map(login_row))
    }

    async fn login_delete(&self, token_hash: &str) -> R<bool> {
        let client = self.client().await?;
        let n = client
            .execute("DELETE FROM logins WHERE token_hash = $1", &[&token_hash])
            .await
            .map_err(|e| pg("delete login", e))?;
        Ok(n > 0)
    }
}

#[async_trait]
impl ArtifactStore for PostgresStore {
    async fn artifact_put(
        &self,
        scope: ArtifactScope<'_>,
        name: &str,
        mime_type: &str,
        data: &[u8],
    ) -> R<u64> {
        let mut client = self.client().await?;
        let op = |e| pg("save artifact", e);
        let tx = client.transaction().await.map_err(op)?;
        // Lock the session row: concurrent saves of one session get consecutive versions.
        let owned = tx
            .query_opt(
                "SELECT 1 FROM sessions WHERE id = $1 AND app_name = $2 AND user_id = $3 FOR UPDATE",
                &[&scope.session, &scope.app, &scope.user],
            )
            .await
            .map_err(op)?;
        if owned.is_none() {
            return Err(StoreError::NotFound(scope.session.to_string()));
        }
        let next: i64 = tx
            .query_one(
                "SELECT COALESCE(MAX(version) + 1, 0) FROM artifacts WHERE session_id = $1 AND name = $2",
                &[&scope.session, &name],
            )
            .await
            .map_err(op)?
            .get(0);
        tx.execute(
            "INSERT INTO artifacts (session_id, name, version, app_name, user_id, mime_type, data, created_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
            &[&scope.session, &name, &next, &scope.app, &scope.user, &mime_type, &data, &now_secs()],
        )
        .await
        .map_err(op)?;
        tx.commit().await.map_err(op)?;
        Ok(next as u64)
    }

    async fn artifact_names(&self, scope: ArtifactScope<'_>) -> R<Vec<String>> {
        let client = self.client().await?;
        let rows = client
            .query(
                "SELECT DISTINCT name FROM artifacts WHERE session_id = $1 AND app_name = $2 AND user_id = $3 ORDER BY name",
                &[&scope.session, &scope.app, &scope.user],
            )
            .await
            .map_err(|e| pg("list artifacts", e))?;
        Ok(rows.iter().map(|r| r.get(0)).collect())
    }

    async fn artifact_versions(&self, scope: ArtifactScope<'_>, name: &str) -> R<Vec<u64>> {
        let client = self.client().await?;
        let rows = client
            .query(
                "SELECT version FROM artifacts WHERE session_id = $1 AND app_name = $2 AND user_id = $3 AND name = $4 ORDER BY version",
                &[&scope.session, &scope.app, &scope.user, &name],
            )
            .await
            .map_err(|e| pg("list artifact versions", e))?;
        Ok(rows.iter().map(|r| r.get::<_, i64>(0) as u64).collect())
    }

    async fn artifact_get(
        &self,
        scope: ArtifactScope<'_>,
        name: &str,
        version: Option<u64>,
    ) -> R<Option<Artifact>> {
        let client = self.client().await?;
        let v: i64 = version.map(|v| v as i64).unwrap_or(-1);
        let row = client
            .query_opt(
                "SELECT name, version, mime_type, data, created_at FROM artifacts \
                 WHERE session_id = $1 AND app_name = $2 AND user_id = $3 AND name = $4 AND ($5::BIGINT < 0 OR version = $5::BIGINT) \
                 ORDER BY version DESC LIMIT 1",
                &[&scope.session, &scope.app, &scope.user, &name, &v],
            )
            .await
            .map_err(|e| pg("read artifact", e))?;
        Ok(row.map(|r| Artifact {
            name: r.get(0),
            version: r.get::<_, i64>(1) as u64,
            mime_type: r.get(2),
            data: r.get(3),
            created_at: r.get(4),
        }))
    }

    async fn artifact_delete(&self, scope: ArtifactScope<'_>, name: &str) -> R<bool> {
        let client = self.client().await?;
        let n = client
            .execute(
                "DELETE FROM artifacts WHERE session_id = $1 AND app_name = $2 AND user_id = $3 AND name = $4",
                &[&scope.session, &scope.app, &scope.user, &name],
            )
            .await
            .map_err(|e| pg("delete artifact", e))?;
        Ok(n > 0)
    }
}
