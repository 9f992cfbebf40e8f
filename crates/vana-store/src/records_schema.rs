//! Migration 2 of both backends: the audit log (with full-text search), API keys and
//! artifact versions.
//!
//! - `audit(id, time, kind, user_id, agent, session_id, summary, data)`: SQLite indexes
//!   `summary` and `data` in the FTS5 table `audit_fts` (kept in sync by a trigger);
//!   PostgreSQL in a generated `tsvector` column with a GIN index (`simple` configuration).
//! - `api_keys(id PK, name, user_id, hash, created_at, revoked_at)`: argon2 hashes only.
//! - `artifacts(session_id FK, name, version, app_name, user_id, mime_type, data, created_at)`,
//!   primary key `(session_id, name, version)`, removed with their session.
//!
//! And the later migration of browser logins (`logins`): a hash of the cookie's token, the
//! key it was opened with, its user and its expiry; only the hash is stored.

/// SQLite tables of migration 2.
pub const SQLITE_RECORDS: &str = r#"
CREATE TABLE audit (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    time        REAL    NOT NULL,
    kind        TEXT    NOT NULL,
    user_id     TEXT    NOT NULL,
    agent       TEXT    NOT NULL,
    session_id  TEXT    NOT NULL,
    summary     TEXT    NOT NULL,
    data        TEXT    NOT NULL
) STRICT;
CREATE INDEX audit_by_time ON audit (time);
CREATE VIRTUAL TABLE audit_fts USING fts5 (summary, data, content = 'audit', content_rowid = 'id');
CREATE TRIGGER audit_fts_insert AFTER INSERT ON audit BEGIN
    INSERT INTO audit_fts (rowid, summary, data) VALUES (new.id, new.summary, new.data);
END;
CREATE TABLE api_keys (
    id          TEXT NOT NULL PRIMARY KEY,
    name        TEXT NOT NULL,
    user_id     TEXT NOT NULL,
    hash        TEXT NOT NULL,
    created_at  REAL NOT NULL,
    revoked_at  REAL
) STRICT;
CREATE UNIQUE INDEX api_keys_active_name ON api_keys (name) WHERE revoked_at IS NULL;
CREATE TABLE artifacts (
    session_id  TEXT    NOT NULL REFERENCES sessions (id) ON DELETE CASCADE,
    name        TEXT    NOT NULL,
    version     INTEGER NOT NULL,
    app_name    TEXT    NOT NULL,
    user_id     TEXT    NOT NULL,
    mime_type   TEXT    NOT NULL,
    data        BLOB    NOT NULL,
    created_at  REAL    NOT NULL,
    PRIMARY KEY (session_id, name, version)
) STRICT;
"#;

/// PostgreSQL tables of migration 2.
pub const POSTGRES_RECORDS: &str = r#"
CREATE TABLE audit (
    id          BIGSERIAL        PRIMARY KEY,
    time        DOUBLE PRECISION NOT NULL,
    kind        TEXT             NOT NULL,
    user_id     TEXT             NOT NULL,
    agent       TEXT             NOT NULL,
    session_id  TEXT             NOT NULL,
    summary     TEXT             NOT NULL,
    data        TEXT             NOT NULL,
    tsv         TSVECTOR GENERATED ALWAYS AS (to_tsvector('simple', summary || ' ' || data)) STORED
);
CREATE INDEX audit_by_time ON audit (time);
CREATE INDEX audit_tsv ON audit USING GIN (tsv);
CREATE TABLE api_keys (
    id          TEXT             NOT NULL PRIMARY KEY,
    name        TEXT             NOT NULL,
    user_id     TEXT             NOT NULL,
    hash        TEXT             NOT NULL,
    created_at  DOUBLE PRECISION NOT NULL,
    revoked_at  DOUBLE PRECISION
);
CREATE UNIQUE INDEX api_keys_active_name ON api_keys (name) WHERE revoked_at IS NULL;
CREATE TABLE artifacts (
    session_id  TEXT             NOT NULL REFERENCES sessions (id) ON DELETE CASCADE,
    name        TEXT             NOT NULL,
    version     BIGINT           NOT NULL,
    app_name    TEXT             NOT NULL,
    user_id     TEXT             NOT NULL,
    mime_type   TEXT             NOT NULL,
    data        BYTEA            NOT NULL,
    created_at  DOUBLE PRECISION NOT NULL,
    PRIMARY KEY (session_id, name, version)
);
"#;

/// SQLite table of browser logins (migration 4).
pub const SQLITE_LOGINS: &str = r#"
CREATE TABLE logins (
    token_hash  TEXT NOT NULL PRIMARY KEY,
    key_id      TEXT NOT NULL,
    user_id     TEXT NOT NULL,
    created_at  REAL NOT NULL,
    expires_at  REAL NOT NULL
) STRICT;
CREATE INDEX logins_by_key ON logins (key_id);
CREATE INDEX logins_by_expiry ON logins (expires_at);
"#;

/// PostgreSQL table of browser logins (migration 3).
pub const POSTGRES_LOGINS: &str = r#"
CREATE TABLE logins (
    token_hash  TEXT             NOT NULL PRIMARY KEY,
    key_id      TEXT             NOT NULL,
    user_id     TEXT             NOT NULL,
    created_at  DOUBLE PRECISION NOT NULL,
    expires_at  DOUBLE PRECISION NOT NULL
);
CREATE INDEX logins_by_key ON logins (key_id);
CREATE INDEX logins_by_expiry ON logins (expires_at);
"#;
