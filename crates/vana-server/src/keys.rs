//! API keys: creation (the key is shown once, only its argon2 hash is stored), verification
//! with an in-memory cache of verified keys, and revocation.

use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use argon2::Argon2;
use blake2::{Blake2b512, Digest};
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use vana_core::event::now_secs;
use vana_core::StoreError;
use vana_store::records::{ApiKeyRecord, KeyStore};

/// How long a verified key is trusted before its row is read again (revocations by another
/// process take effect within this time).
const RECHECK: Duration = Duration::from_secs(30);
/// Prefix of every key.
const PREFIX: &str = "vana_";

/// Why a key is refused.
#[derive(Debug, thiserror::Error)]
pub enum KeyError {
    /// Not of the form `vana_<id>_<secret>`.
    #[error(
        "malformed API key: keys look like vana_<id>_<secret> (create one with `vana keys create NAME`)"
    )]
    Malformed,
    /// Unknown, revoked or wrong secret.
    #[error("invalid or revoked API key")]
    Invalid,
    /// The store failed.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// Hashing failed.
    #[error("cannot hash the API key: {0}")]
    Hash(String),
}

/// A key just created: the secret to show once, and its record.
#[derive(Debug, Clone)]
pub struct CreatedKey {
    /// The full key, shown once.
    pub key: String,
    /// What was stored.
    pub record: ApiKeyRecord,
}

/// The identity a valid key grants.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KeyIdentity {
    /// Key id.
    pub key_id: String,
    /// User id the key acts as.
    pub user_id: String,
}

#[derive(Debug, Clone)]
struct Cached {
    identity: KeyIdentity,
    hash: String,
    checked: Instant,
}

/// Verifies keys against a [`KeyStore`], caching successes by a hash of the key.
#[derive(Clone)]
pub struct KeyVerifier {
    store: Arc<dyn KeyStore>,
    cache: Arc<Mutex<HashMap<[u8; 64], Cached>>>,
}

fn digest(key: &str) -> [u8; 64] {
    let mut h = Blake2b512::new();
    h.update(key.as_bytes());
    h.finalize().into()
}

/// Splits `vana_<id>_<secret>` into its id.
fn key_id(key: &str) -> Result<&str, KeyError> {
    let rest = key.strip_prefix(PREFIX).ok_or(KeyError::Malformed)?;
    let (id, secret) = rest.split_once('_').ok_or(KeyError::Malformed)?;
    if id.is_empty() || secret.len() < 16 || !id.chars().all(|c| c.is_ascii_hexdigit()) {
        return Err(KeyError::Malformed);
    }
    Ok(id)
}

/// Creates a key named `name` acting as `user` (defaults to `name`) and stores its hash.
pub async fn create_key(
    store: &dyn KeyStore,
    name: &str,
    user: Option<&str>,
) -> Result<CreatedKey, KeyError> {
    let id = uuid::Uuid::new_v4().simple().to_string()[..12].to_string();
    let secret = format!("{}{}", uuid::Uuid::new_v4().simple(), uuid::Uuid::new_v4().simple());
    let key = format!("{PREFIX}{id}_{secret}");
    let k = key.clone();
    let hash = tokio::task::spawn_blocking(move || {
        let salt = SaltString::encode_b64(uuid::Uuid::new_v4().as_bytes())
            .map_err(|e| KeyError::Hash(e.to_string()))?;
        Argon2::default()
            .hash_password(k.as_bytes(), &salt)
            .map(|h| h.to_string())
            .map_err(|e| KeyError::Hash(e.to_string()))
    })
    .await
    .map_err(|e| KeyError::Hash(e.to_string()))??;
    let record = ApiKeyRecord {
        id,
        name: name.to_string(),
        user_id: user.unwrap_or(name).to_string(),
        hash,
        created_at: now_secs(),
        revoked_at: None,
    };
    store.key_create(&record).await?;
    Ok(CreatedKey { key, record })
}

impl KeyVerifier {
    /// A verifier over a key store.
    pub fn new(store: Arc<dyn KeyStore>) -> Self {
        KeyVerifier { store, cache: Arc::default() }
    }

    /// The identity of a valid, unrevoked key. argon2 runs only on the first use of a key;
    /// later uses hit the cache (re-reading the key row every 30 s for revocations).
    pub async fn verify(&self, key: &str) -> Result<KeyIdentity, KeyError> {
        let id = key_id(key)?.to_string();
        let d = digest(key);
        let cached = self.cache.lock().unwrap_or_else(|e| e.into_inner()).get(&d).cloned();
        if let Some(c) = cached {
            if c.checked.elapsed() < RECHECK {
                return Ok(c.identity);
            }
            // Re-read the row (cheap, no argon2): still there, same hash, not revoked?
            let row = self.store.key_get(&id).await?;
            let valid = row.as_ref().is_some_and(|r| r.revoked_at.is_none() && r.hash == c.hash);
            let mut cache = self.cache.lock().unwrap_or_else(|e| e.into_inner());
            if !valid {
                cache.remove(&d);
                return Err(KeyError::Invalid);
            }
            cache.insert(d, Cached { checked: Instant::now(), ..c.clone() });
            return Ok(c.identity);
        }
        let row = self.store.key_get(&id).await?.ok_or(KeyError::Invalid)?;
        if row.revoked_at.is_some() {
            return Err(KeyError::Invalid);
        }
        let (k, h) = (key.to_string(), row.hash.clone());
        let ok = tokio::task::spawn_blocking(move || {
            PasswordHash::new(&h)
                .is_ok_and(|parsed| Argon2::default().verify_password(k.as_bytes(), &parsed).is_ok())
        })
        .await
        .unwrap_or(false);
        if !ok {
            return Err(KeyError::Invalid);
        }
        let identity = KeyIdentity { key_id: row.id.clone(), user_id: row.user_id.clone() };
        self.cache
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .insert(d, Cached { identity: identity.clone(), hash: row.hash, checked: Instant::now() });
        Ok(identity)
    }

    /// Forgets every cached verification (after a revocation in this process).
    pub fn clear(&self) {
        self.cache.lock().unwrap_or_else(|e| e.into_inner()).clear();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn key_ids_are_parsed_and_malformed_keys_refused() {
        assert_eq!(key_id("vana_0123456789ab_0123456789abcdef0123").unwrap(), "0123456789ab");
        for bad in ["", "vana_", "vana_zz_0123456789abcdef", "sk-123", "vana_abc_short"] {
            assert!(matches!(key_id(bad), Err(KeyError::Malformed)), "{bad}");
        }
    }
}
