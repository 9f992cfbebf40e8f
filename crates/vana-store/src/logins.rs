//! Browser login sessions of the server (`POST /api/login`): stored server-side, bound to the
//! API key they were opened with, and only as a hash of the cookie's token.
//!
//! A login is valid while it has not expired and its key is not revoked; both are checked by
//! the store on every lookup, so a `vana keys revoke` in another process ends the key's
//! logins at once, and logins survive a restart of the server.

use async_trait::async_trait;
use vana_core::StoreError;

/// One login as stored: never the cookie's token itself, only its hash.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct LoginRecord {
    /// Hex digest of the cookie's token (the lookup key).
    pub token_hash: String,
    /// Id of the API key the login was opened with.
    pub key_id: String,
    /// The key's user at login time.
    pub user_id: String,
    /// Creation time, seconds since the epoch.
    pub created_at: f64,
    /// Expiry time, seconds since the epoch; the login is refused from then on.
    pub expires_at: f64,
}

/// Keeps browser logins.
#[async_trait]
pub trait LoginStore: Send + Sync {
    /// Stores a new login and forgets every login that has expired. Durable when it returns.
    async fn login_create(&self, login: &LoginRecord) -> Result<(), StoreError>;
    /// The login with this token hash if it has not expired at `now` and its key is active
    /// (not revoked, still stored); `None` otherwise.
    async fn login_get(&self, token_hash: &str, now: f64) -> Result<Option<LoginRecord>, StoreError>;
    /// Forgets a login (logout); false when there was none.
    async fn login_delete(&self, token_hash: &str) -> Result<bool, StoreError>;
}
