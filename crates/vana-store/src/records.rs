//! Records kept beside sessions for the server: the searchable audit log, API keys (stored
//! hashed) and artifact versions. Every backend of this crate implements these traits.

use async_trait::async_trait;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use vana_core::StoreError;

/// One audit log entry: what happened, when, to whom.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct AuditRecord {
    /// Store-assigned id (0 before it is stored).
    #[serde(default)]
    pub id: i64,
    /// Seconds since the Unix epoch.
    pub time: f64,
    /// What happened: `run`, `tool_call`, `route`, `sandbox`, `mcp_call`, `approval`, `login`,
    /// `auth_failure`, `alert`, `key`.
    pub kind: String,
    /// The user (empty when unknown, e.g. a failed login).
    #[serde(default)]
    pub user_id: String,
    /// The agent (app) concerned, if any.
    #[serde(default)]
    pub agent: String,
    /// The session concerned, if any.
    #[serde(default)]
    pub session_id: String,
    /// One line a person can read, e.g. `execute_code {"code": "print(1)"}`.
    pub summary: String,
    /// Structured details (arguments, results, findings), already truncated by the writer.
    #[serde(default)]
    pub data: Value,
}

/// A search over the audit log; every field narrows it.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct AuditQuery {
    /// Full-text terms (all must match, each as a word prefix) over summary and data.
    #[serde(default)]
    pub q: Option<String>,
    /// Only this kind.
    #[serde(default)]
    pub kind: Option<String>,
    /// Only this agent.
    #[serde(default)]
    pub agent: Option<String>,
    /// Only this user.
    #[serde(default)]
    pub user: Option<String>,
    /// Only this session.
    #[serde(default)]
    pub session: Option<String>,
    /// Not before (seconds since the epoch).
    #[serde(default)]
    pub from: Option<f64>,
    /// Not after (seconds since the epoch).
    #[serde(default)]
    pub to: Option<f64>,
    /// Most records returned, newest first (0 means 100).
    #[serde(default)]
    pub limit: usize,
}

impl AuditQuery {
    /// The effective limit: `limit`, or 100 when unset, capped at 1000.
    pub fn effective_limit(&self) -> usize {
        if self.limit == 0 {
            100
        } else {
            self.limit.min(1000)
        }
    }

    /// The full-text terms: runs of letters and digits of `q`, lower-cased.
    pub fn terms(&self) -> Vec<String> {
        self.q
            .as_deref()
            .unwrap_or("")
            .split(|c: char| !c.is_alphanumeric())
            .filter(|t| !t.is_empty())
            .map(str::to_lowercase)
            .collect()
    }
}

/// Keeps the audit log.
#[async_trait]
pub trait AuditStore: Send + Sync {
    /// Appends records (their `id` is ignored). Durable when it returns.
    async fn audit_append(&self, records: &[AuditRecord]) -> Result<(), StoreError>;
    /// Records matching a query, newest first.
    async fn audit_search(&self, query: &AuditQuery) -> Result<Vec<AuditRecord>, StoreError>;
}

/// One API key as stored: never the key itself, only its argon2 hash.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ApiKeyRecord {
    /// Public key id (the part of the key before the secret), unique.
    pub id: String,
    /// Name given at creation, unique among active keys.
    pub name: String,
    /// User id requests with this key act as.
    pub user_id: String,
    /// argon2 hash of the whole key (PHC string).
    pub hash: String,
    /// Creation time, seconds since the epoch.
    pub created_at: f64,
    /// Revocation time, if revoked.
    #[serde(default)]
    pub revoked_at: Option<f64>,
}

/// Keeps API keys.
#[async_trait]
pub trait KeyStore: Send + Sync {
    /// Stores a new key; fails with `AlreadyExists` when an active key has this name.
    async fn key_create(&self, key: &ApiKeyRecord) -> Result<(), StoreError>;
    /// The key with this id (revoked ones included).
    async fn key_get(&self, id: &str) -> Result<Option<ApiKeyRecord>, StoreError>;
    /// Every key, oldest first (revoked ones included).
    async fn key_list(&self) -> Result<Vec<ApiKeyRecord>, StoreError>;
    /// Revokes the active key with this name or id; false when there is none.
    async fn key_revoke(&self, name_or_id: &str) -> Result<bool, StoreError>;
}

/// One stored version of an artifact.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Artifact {
    /// File name.
    pub name: String,
    /// Version, from 0.
    pub version: u64,
    /// MIME type.
    pub mime_type: String,
    /// The bytes.
    #[serde(skip)]
    pub data: Vec<u8>,
    /// Creation time, seconds since the epoch.
    pub created_at: f64,
}

/// Where an artifact lives: app, user and session.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ArtifactScope<'a> {
    /// App (root agent).
    pub app: &'a str,
    /// Owner.
    pub user: &'a str,
    /// Session.
    pub session: &'a str,
}

/// Keeps versioned artifacts (files tools produce) per session.
#[async_trait]
pub trait ArtifactStore: Send + Sync {
    /// Saves a new version of `name` and returns its number (0 for the first).
    async fn artifact_put(
        &self,
        scope: ArtifactScope<'_>,
        name: &str,
        mime_type: &str,
        data: &[u8],
    ) -> Result<u64, StoreError>;
    /// Names of the session's artifacts, sorted.
    async fn artifact_names(&self, scope: ArtifactScope<'_>) -> Result<Vec<String>, StoreError>;
    /// Versions of one artifact, ascending (empty when none).
    async fn artifact_versions(&self, scope: ArtifactScope<'_>, name: &str) -> Result<Vec<u64>, StoreError>;
    /// One version (the latest when `version` is `None`).
    async fn artifact_get(
        &self,
        scope: ArtifactScope<'_>,
        name: &str,
        version: Option<u64>,
    ) -> Result<Option<Artifact>, StoreError>;
    /// Deletes every version of an artifact; false when there was none.
    async fn artifact_delete(&self, scope: ArtifactScope<'_>, name: &str) -> Result<bool, StoreError>;
}
