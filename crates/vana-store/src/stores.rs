//! Every store one backend provides, as trait objects over the same connection(s).

use crate::records::{ArtifactStore, AuditStore, KeyStore};
use crate::{LoginStore, PostgresStore, SqliteStore, StoreUrl};
use std::sync::Arc;
use vana_core::{SessionStore, StoreError};

/// Sessions, audit log, API keys, browser logins and artifacts of one database.
#[derive(Clone)]
pub struct Stores {
    /// Sessions and events.
    pub sessions: Arc<dyn SessionStore>,
    /// The audit log.
    pub audit: Arc<dyn AuditStore>,
    /// API keys.
    pub keys: Arc<dyn KeyStore>,
    /// Artifact versions.
    pub artifacts: Arc<dyn ArtifactStore>,
    /// Browser logins of the server.
    pub logins: Arc<dyn LoginStore>,
}

impl std::fmt::Debug for Stores {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Stores")
    }
}

impl Stores {
    /// Every view of one backend.
    pub fn of<S>(store: S) -> Stores
    where
        S: SessionStore + AuditStore + KeyStore + ArtifactStore + LoginStore + 'static,
    {
        let s = Arc::new(store);
        Stores { sessions: s.clone(), audit: s.clone(), keys: s.clone(), artifacts: s.clone(), logins: s }
    }
}

/// Opens every store of the database a URL names (see [`crate::open`] for the forms).
pub async fn open_all(url: &str) -> Result<Stores, StoreError> {
    Ok(match StoreUrl::parse(url)? {
        StoreUrl::SqliteFile(path) => {
            let store = tokio::task::spawn_blocking(move || SqliteStore::open(path))
                .await
                .map_err(|e| StoreError::Backend(format!("opening the SQLite store failed: {e}")))??;
            Stores::of(store)
        }
        StoreUrl::SqliteMemory => Stores::of(SqliteStore::open_in_memory()?),
        StoreUrl::Postgres { url, schema } => {
            Stores::of(PostgresStore::connect(&url, schema.as_deref()).await?)
        }
    })
}
