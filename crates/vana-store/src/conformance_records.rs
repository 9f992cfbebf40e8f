//! Conformance suite for the audit log, API keys, browser logins and artifacts ([`Stores`]): each check
//! panics with a message naming what went wrong. Checks use fresh random names, so they can
//! share one database; [`run_all`] runs them all.

use crate::records::{ApiKeyRecord, ArtifactScope, AuditQuery, AuditRecord};
use crate::{LoginRecord, Stores};
use serde_json::json;
use vana_core::event::{new_id, now_secs};
use vana_core::StoreError;

/// Runs every check against one set of stores.
pub async fn run_all(stores: &Stores) {
    eprintln!("conformance: audit_append_and_search");
    audit_append_and_search(stores).await;
    eprintln!("conformance: keys_create_get_list_revoke");
    keys_create_get_list_revoke(stores).await;
    eprintln!("conformance: logins_expire_and_end_with_their_key");
    logins_expire_and_end_with_their_key(stores).await;
    eprintln!("conformance: artifacts_versions_and_isolation");
    artifacts_versions_and_isolation(stores).await;
}

/// Audit records come back by full-text terms (word prefixes, punctuation ignored) and
/// filters, newest first.
pub async fn audit_append_and_search(stores: &Stores) {
    let tag = new_id().replace('-', "");
    let user = format!("u{tag}");
    let t0 = now_secs();
    let rec = |kind: &str, agent: &str, summary: String, data: serde_json::Value, dt: f64| AuditRecord {
        id: 0,
        time: t0 + dt,
        kind: kind.into(),
        user_id: user.clone(),
        agent: agent.into(),
        session_id: format!("s{tag}"),
        summary,
        data,
    };
    stores
        .audit
        .audit_append(&[
            rec("run", "code_execution", format!("run zebra{tag}"), json!({"text": "hello"}), 0.0),
            rec(
                "tool_call",
                "code_execution",
                format!("execute_code zebra{tag}"),
                json!({"args": {"code": "print('quokka')"}}),
                1.0,
            ),
            rec(
                "tool_call",
                "research",
                "web_search".into(),
                json!({"args": {"query": format!("zebra{tag}")}}),
                2.0,
            ),
        ])
        .await
        .unwrap_or_else(|e| panic!("[audit] append failed: {e}"));
    let search = |q: AuditQuery| async move {
        stores.audit.audit_search(&q).await.unwrap_or_else(|e| panic!("[audit] search {q:?} failed: {e}"))
    };
    let all = search(AuditQuery { user: Some(user.clone()), ..Default::default() }).await;
    assert_eq!(all.len(), 3, "[audit] a user filter must return the user's 3 records, got {all:?}");
    assert!(all[0].time >= all[1].time && all[1].time >= all[2].time, "[audit] newest first: {all:?}");
    assert_eq!(all[0].data["args"]["query"], json!(format!("zebra{tag}")), "[audit] data round trip");
    let by_word = search(AuditQuery { q: Some(format!("zebra{tag}")), ..Default::default() }).await;
    assert_eq!(by_word.len(), 3, "[audit] the term must match summary and data: {by_word:?}");
    let two_terms =
        search(AuditQuery { q: Some(format!("execute_code zebra{tag}")), ..Default::default() }).await;
    assert_eq!(two_terms.len(), 1, "[audit] all terms must match: {two_terms:?}");
    assert_eq!(two_terms[0].kind, "tool_call");
    let prefix =
        search(AuditQuery { q: Some("quokk".into()), user: Some(user.clone()), ..Default::default() }).await;
    assert_eq!(prefix.len(), 1, "[audit] a word prefix inside data must match: {prefix:?}");
    let agent = search(AuditQuery {
        q: Some(format!("zebra{tag}")),
        agent: Some("research".into()),
        ..Default::default()
    })
    .await;
    assert_eq!(agent.len(), 1, "[audit] agent filter: {agent:?}");
    let window = search(AuditQuery {
        user: Some(user.clone()),
        from: Some(t0 + 0.5),
        to: Some(t0 + 1.5),
        ..Default::default()
    })
    .await;
    assert_eq!(window.len(), 1, "[audit] time window: {window:?}");
    let odd = search(AuditQuery {
        q: Some("\"' OR 1=1 -- *(".into()),
        user: Some(user.clone()),
        ..Default::default()
    })
    .await;
    assert!(odd.iter().all(|r| r.user_id == user), "[audit] punctuation must be harmless: {odd:?}");
    let none = search(AuditQuery { q: Some(format!("nothing{tag}")), ..Default::default() }).await;
    assert!(none.is_empty(), "[audit] unknown term must match nothing: {none:?}");
}

/// Keys are stored, listed and revoked by name or id; an active name is unique.
pub async fn keys_create_get_list_revoke(stores: &Stores) {
    let name = format!("k{}", new_id().replace('-', ""));
    let key = ApiKeyRecord {
        id: new_id(),
        name: name.clone(),
        user_id: "alice".into(),
        hash: "$argon2id$v=19$m=19456,t=2,p=1$c2FsdA$aGFzaA".into(),
        created_at: now_secs(),
        revoked_at: None,
    };
    stores.keys.key_create(&key).await.unwrap_or_else(|e| panic!("[keys] create failed: {e}"));
    let got = stores.keys.key_get(&key.id).await.unwrap_or_else(|e| panic!("[keys] get failed: {e}"));
    assert_eq!(got.as_ref(), Some(&key), "[keys] get must return the stored key");
    let dup = ApiKeyRecord { id: new_id(), ..key.clone() };
    match stores.keys.key_create(&dup).await {
        Err(StoreError::AlreadyExists(_)) => {}
        other => panic!("[keys] a second active key named {name} must be refused, got {other:?}"),
    }
    let listed = stores.keys.key_list().await.unwrap_or_else(|e| panic!("[keys] list failed: {e}"));
    assert!(listed.iter().any(|k| k.id == key.id), "[keys] list must include the key");
    assert!(stores.keys.key_revoke(&name).await.unwrap(), "[keys] revoke by name must succeed");
    assert!(!stores.keys.key_revoke(&name).await.unwrap(), "[keys] revoking twice must report false");
    let got = stores.keys.key_get(&key.id).await.unwrap().expect("[keys] revoked keys stay readable");
    assert!(got.revoked_at.is_some(), "[keys] revoked_at must be set");
    stores.keys.key_create(&dup).await.unwrap_or_else(|e| panic!("[keys] name reuse after revoke: {e}"));
    assert!(stores.keys.key_revoke(&dup.id).await.unwrap(), "[keys] revoke by id must succeed");
}

/// A login is found by its token hash while it has not expired and its key is active;
/// revoking the key ends it at once (and forgets it), logout forgets it, and storing a new
/// login forgets the expired ones.
pub async fn logins_expire_and_end_with_their_key(stores: &Stores) {
    let tag = new_id().replace('-', "");
    let key = ApiKeyRecord {
        id: format!("k{tag}"),
        name: format!("login{tag}"),
        user_id: "alice".into(),
        hash: "$argon2id$v=19$m=19456,t=2,p=1$c2FsdA$aGFzaA".into(),
        created_at: now_secs(),
        revoked_at: None,
    };
    stores.keys.key_create(&key).await.unwrap_or_else(|e| panic!("[logins] create key failed: {e}"));
    let now = now_secs();
    let login = |n: &str, expires_at: f64| LoginRecord {
        token_hash: format!("{n}{tag}"),
        key_id: key.id.clone(),
        user_id: "alice".into(),
        created_at: now,
        expires_at,
    };
    let (a, b, old) = (login("a", now + 3600.0), login("b", now + 3600.0), login("old", now - 1.0));
    for l in [&old, &a, &b] {
        stores.logins.login_create(l).await.unwrap_or_else(|e| panic!("[logins] create failed: {e}"));
    }
    let get = |h: String, at: f64| async move {
        stores.logins.login_get(&h, at).await.unwrap_or_else(|e| panic!("[logins] get failed: {e}"))
    };
    assert_eq!(get(a.token_hash.clone(), now).await.as_ref(), Some(&a), "[logins] a live login is found");
    assert_eq!(get(format!("nope{tag}"), now).await, None, "[logins] an unknown hash finds nothing");
    assert_eq!(get(a.token_hash.clone(), now + 3600.0).await, None, "[logins] an expired login is refused");
    assert_eq!(
        get(old.token_hash.clone(), now - 10.0).await,
        None,
        "[logins] logins expired at creation are forgotten"
    );
    assert!(stores.logins.login_delete(&b.token_hash).await.unwrap(), "[logins] logout forgets the login");
    assert!(
        !stores.logins.login_delete(&b.token_hash).await.unwrap(),
        "[logins] a second logout reports false"
    );
    assert_eq!(get(b.token_hash.clone(), now).await, None, "[logins] a logged-out login is refused");
    assert!(stores.keys.key_revoke(&key.name).await.unwrap(), "[logins] revoke the key");
    assert_eq!(get(a.token_hash.clone(), now).await, None, "[logins] revoking the key ends its logins");
    assert!(
        !stores.logins.login_delete(&a.token_hash).await.unwrap(),
        "[logins] revoking forgets the key's logins"
    );
}

/// Artifact versions count from 0; reads are scoped to app, user and session; deleting the
/// session removes them.
pub async fn artifacts_versions_and_isolation(stores: &Stores) {
    let user = format!("u{}", new_id());
    let s = stores.sessions.create_session("app", &user, None, Default::default()).await.unwrap();
    let scope = ArtifactScope { app: "app", user: &user, session: &s.id };
    let put = |data: &'static [u8]| async move {
        stores.artifacts.artifact_put(scope, "chart.png", "image/png", data).await.unwrap()
    };
    assert_eq!(put(b"v0").await, 0, "[artifacts] first version is 0");
    assert_eq!(put(b"v1").await, 1, "[artifacts] second version is 1");
    stores.artifacts.artifact_put(scope, "a.txt", "text/plain", b"x").await.unwrap();
    assert_eq!(stores.artifacts.artifact_names(scope).await.unwrap(), vec!["a.txt", "chart.png"]);
    assert_eq!(stores.artifacts.artifact_versions(scope, "chart.png").await.unwrap(), vec![0, 1]);
    let latest = stores.artifacts.artifact_get(scope, "chart.png", None).await.unwrap().unwrap();
    assert_eq!(
        (latest.version, latest.data.as_slice(), latest.mime_type.as_str()),
        (1, &b"v1"[..], "image/png")
    );
    let v0 = stores.artifacts.artifact_get(scope, "chart.png", Some(0)).await.unwrap().unwrap();
    assert_eq!(v0.data, b"v0");
    assert!(stores.artifacts.artifact_get(scope, "chart.png", Some(7)).await.unwrap().is_none());
    let other = ArtifactScope { app: "app", user: "mallory", session: &s.id };
    assert!(
        stores.artifacts.artifact_names(other).await.unwrap().is_empty(),
        "[artifacts] other user sees none"
    );
    assert!(stores.artifacts.artifact_get(other, "chart.png", None).await.unwrap().is_none());
    match stores.artifacts.artifact_put(other, "x", "text/plain", b"x").await {
        Err(StoreError::NotFound(_)) => {}
        r => panic!("[artifacts] saving into another user's session must be NotFound, got {r:?}"),
    }
    assert!(stores.artifacts.artifact_delete(scope, "a.txt").await.unwrap());
    assert!(!stores.artifacts.artifact_delete(scope, "a.txt").await.unwrap());
    stores.sessions.delete_session("app", &user, &s.id).await.unwrap();
    assert!(
        stores.artifacts.artifact_names(scope).await.unwrap().is_empty(),
        "[artifacts] deleting the session removes its artifacts"
    );
}
