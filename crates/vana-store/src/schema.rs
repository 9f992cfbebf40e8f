//! Numbered schema migrations for both backends, applied in order at open/connect.
//!
//! Layout (both backends):
//! - `sessions(id PK, app_name, user_id, state JSON, version, created_at, updated_at)`
//! - `events(session_id FK, seq, event_id, invocation_id, author, timestamp, body JSON)`,
//!   primary key `(session_id, seq)` (in SQLite a `WITHOUT ROWID` table clustered on it);
//!   `seq` is 1-based, so a session's `version` equals the number of its events and the `seq`
//!   of its last one.
//! - `journal(session_id FK, call_id, tool, status, result JSON, updated_at)`, primary key
//!   `(session_id, call_id)`.
//! - `logins(token_hash PK, key_id, user_id, created_at, expires_at)`: browser logins of the
//!   server (SQLite migration 4, PostgreSQL migration 3; see [`crate::LoginStore`]).
//! - `schema_version(version)`: the highest migration applied.
//!
//! Events and journal entries reference their session with `ON DELETE CASCADE`.

/// One migration: its number (strictly increasing from 1) and the SQL that performs it.
pub type Migration = (u32, &'static str);

/// SQLite migrations (JSON kept as TEXT, times as REAL seconds since the epoch).
pub const SQLITE_MIGRATIONS: &[Migration] = &[
    (
        1,
        r#"
CREATE TABLE sessions (
    id          TEXT    NOT NULL PRIMARY KEY,
    app_name    TEXT    NOT NULL,
    user_id     TEXT    NOT NULL,
    state       TEXT    NOT NULL DEFAULT '{}',
    version     INTEGER NOT NULL DEFAULT 0,
    created_at  REAL    NOT NULL,
    updated_at  REAL    NOT NULL
) STRICT;
CREATE INDEX sessions_by_user ON sessions (user_id, app_name, updated_at);
CREATE TABLE events (
    session_id     TEXT    NOT NULL REFERENCES sessions (id) ON DELETE CASCADE,
    seq            INTEGER NOT NULL,
    event_id       TEXT    NOT NULL,
    invocation_id  TEXT    NOT NULL,
    author         TEXT    NOT NULL,
    timestamp      REAL    NOT NULL,
    body           TEXT    NOT NULL,
    PRIMARY KEY (session_id, seq)
) STRICT;
CREATE TABLE journal (
    session_id  TEXT NOT NULL REFERENCES sessions (id) ON DELETE CASCADE,
    call_id     TEXT NOT NULL,
    tool        TEXT NOT NULL,
    status      TEXT NOT NULL,
    result      TEXT,
    updated_at  REAL NOT NULL,
    PRIMARY KEY (session_id, call_id)
) STRICT;
"#,
    ),
    (2, crate::records_schema::SQLITE_RECORDS),
    // Events clustered by session: a session's events share a few b-tree pages instead of
    // one page each (rows of a rowid table lie in insertion order, interleaved across
    // sessions), so loading a history window reads ~10x fewer pages. The user index leaves
    // out `updated_at`, which every append changes (one index page less to write per append;
    // a user's sessions are sorted in memory when listed).
    (
        3,
        r#"
CREATE TABLE events_by_session (
    session_id     TEXT    NOT NULL REFERENCES sessions (id) ON DELETE CASCADE,
    seq            INTEGER NOT NULL,
    event_id       TEXT    NOT NULL,
    invocation_id  TEXT    NOT NULL,
    author         TEXT    NOT NULL,
    timestamp      REAL    NOT NULL,
    body           TEXT    NOT NULL,
    PRIMARY KEY (session_id, seq)
) STRICT, WITHOUT ROWID;
INSERT INTO events_by_session (session_id, seq, event_id, invocation_id, author, timestamp, body)
    SELECT session_id, seq, event_id, invocation_id, author, timestamp, body FROM events;
DROP TABLE events;
ALTER TABLE events_by_session RENAME TO events;
DROP INDEX sessions_by_user;
CREATE INDEX sessions_by_user ON sessions (user_id, app_name);
"#,
    ),
    (4, crate::records_schema::SQLITE_LOGINS),
];

/// PostgreSQL migrations (JSON kept as JSONB, times as DOUBLE PRECISION seconds).
pub const POSTGRES_MIGRATIONS: &[Migration] = &[
    (
        1,
        r#"
CREATE TABLE sessions (
    id          TEXT             NOT NULL PRIMARY KEY,
    app_name    TEXT             NOT NULL,
    user_id     TEXT             NOT NULL,
    state       JSONB            NOT NULL DEFAULT '{}',
    version     BIGINT           NOT NULL DEFAULT 0,
    created_at  DOUBLE PRECISION NOT NULL,
    updated_at  DOUBLE PRECISION NOT NULL
);
CREATE INDEX sessions_by_user ON sessions (user_id, app_name, updated_at);
CREATE TABLE events (
    session_id     TEXT             NOT NULL REFERENCES sessions (id) ON DELETE CASCADE,
    seq            BIGINT           NOT NULL,
    event_id       TEXT             NOT NULL,
    invocation_id  TEXT             NOT NULL,
    author         TEXT             NOT NULL,
    timestamp      DOUBLE PRECISION NOT NULL,
    body           JSONB            NOT NULL,
    PRIMARY KEY (session_id, seq)
);
CREATE TABLE journal (
    session_id  TEXT             NOT NULL REFERENCES sessions (id) ON DELETE CASCADE,
    call_id     TEXT             NOT NULL,
    tool        TEXT             NOT NULL,
    status      TEXT             NOT NULL,
    result      JSONB,
    updated_at  DOUBLE PRECISION NOT NULL,
    PRIMARY KEY (session_id, call_id)
);
"#,
    ),
    (2, crate::records_schema::POSTGRES_RECORDS),
    (3, crate::records_schema::POSTGRES_LOGINS),
];

/// The newest schema version this binary knows for a migration list.
pub fn latest(migrations: &[Migration]) -> u32 {
    migrations.last().map(|m| m.0).unwrap_or(0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn migrations_are_numbered_from_one_without_gaps() {
        for list in [SQLITE_MIGRATIONS, POSTGRES_MIGRATIONS] {
            for (i, (n, _)) in list.iter().enumerate() {
                assert_eq!(*n as usize, i + 1, "migration numbers must be 1, 2, 3, ...");
            }
        }
    }
}
