//! End to end with the scripted model: the shipped `research` agent answers a question with
//! `web_search` over the local index (a real Debian python3-doc page, indexed from a site on
//! loopback) and `fetch_url` of the page it found, and its answer cites that URL.

use serde_json::{json, Value};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use vana_app::{App, Config};
use vana_core::{Content, Event, Model};
use vana_testkit::{ScriptedModel, ScriptedTurn};

/// Debian's python3-doc page for the json module (scripts/setup-research.sh installs it).
const PAGE: &str = "/usr/share/doc/python3-doc/html/library/json.html";

/// Serves PAGE at /library/json.html (404 elsewhere, robots.txt included); counts page GETs.
async fn site() -> (String, Arc<AtomicUsize>) {
    let html = std::fs::read(PAGE).unwrap_or_else(|e| panic!("{PAGE}: {e} (run scripts/setup-research.sh)"));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    let hits = Arc::new(AtomicUsize::new(0));
    let h = hits.clone();
    tokio::spawn(async move {
        loop {
            let (mut s, _) = listener.accept().await.unwrap();
            let (html, h) = (html.clone(), h.clone());
            tokio::spawn(async move {
                let mut buf = Vec::new();
                let mut chunk = [0u8; 4096];
                while !String::from_utf8_lossy(&buf).contains("\r\n\r\n") {
                    let n = s.read(&mut chunk).await.unwrap_or(0);
                    if n == 0 {
                        return;
                    }
                    buf.extend_from_slice(&chunk[..n]);
                }
                let head = String::from_utf8_lossy(&buf).to_string();
                let (status, body): (&str, Vec<u8>) = if head.starts_with("GET /library/json.html ") {
                    h.fetch_add(1, Ordering::SeqCst);
                    ("200 OK", html)
                } else {
                    ("404 Not Found", b"not found".to_vec())
                };
                let resp = format!(
                    "HTTP/1.1 {status}\r\nContent-Type: text/html; charset=utf-8\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
                    body.len()
                );
                let _ = s.write_all(resp.as_bytes()).await;
                let _ = s.write_all(&body).await;
            });
        }
    });
    (url, hits)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn research_searches_the_local_index_fetches_the_page_and_cites_it() {
    let (base, hits) = site().await;
    let page = format!("{base}/library/json.html");
    let dir = vana_testkit::tempdir();
    // The research index lives under the data dir: this test's own.
    std::env::set_var("VANA_HOME", dir.path());
    let mut config = Config::default();
    config.store.url = format!("sqlite://{}", dir.path().join("vana.db").display());
    config.agents.dir = dir.path().join("agents").display().to_string();
    // The site is on loopback: the operator allows private networks.
    config.web.allow_private_networks = true;
    let added = vana_app::research::index_add(&config, &page).await.expect("the page is indexed");
    assert_eq!(added.len(), 1, "{added:?}");
    assert_eq!(hits.load(Ordering::SeqCst), 1, "indexing fetched the page once");

    let answer = format!("`json.dumps` serialises an object to a JSON string; see {page}");
    let model = ScriptedModel::named(
        "scripted-research",
        vec![
            ScriptedTurn::call("web_search", json!({"query": "serialize object JSON formatted str dumps"})),
            ScriptedTurn::call("fetch_url", json!({"url": page})),
            ScriptedTurn::text(&answer),
        ],
    );
    config.models.default_model = model.name().to_string();
    let app = App::open(config).await.unwrap();
    app.models.register(model.name(), Arc::new(model.clone()));
    let runner = app.runner(Some("research")).unwrap();
    let session = app.store.create_session("research", "u", None, Default::default()).await.unwrap();
    let mut inv = runner
        .run("u", &session.id, Content::user_text("How do I turn a Python object into a JSON string?"), false)
        .await
        .unwrap();
    let mut events: Vec<Event> = Vec::new();
    while let Some(e) = inv.next().await {
        events.push(e);
    }
    let response = |name: &str| -> Value {
        events
            .iter()
            .flat_map(|e| e.content.iter().flat_map(|c| c.parts.iter()))
            .filter_map(|p| p.function_response.as_ref())
            .find(|r| r.name == name)
            .map(|r| r.response.clone())
            .unwrap_or_else(|| panic!("no {name} response in {events:#?}"))
    };
    // The local index found the page by its words, with its URL and title.
    let search = response("web_search");
    assert!(search.get("error").is_none(), "{search}");
    let found = search.to_string();
    assert!(found.contains(&page), "the indexed page is a result: {search}");
    assert!(found.contains("json"), "{search}");
    // The fetch brought the real page text, marked as untrusted input.
    let fetched = response("fetch_url");
    assert!(fetched.get("error").is_none(), "{fetched}");
    assert_eq!(fetched["final_url"], page, "{fetched}");
    let content = fetched["content"].as_str().unwrap_or_default();
    assert!(content.contains("dumps") && content.contains("JSONDecoder"), "real page text: {content:.400}");
    assert!(fetched.get("untrusted").is_some(), "fetched text is marked untrusted: {fetched:.300}");
    assert_eq!(hits.load(Ordering::SeqCst), 2, "fetch_url reached the site once more");
    // The answer cites the URL it fetched.
    let last = events.iter().rev().map(|e| e.text()).find(|t| !t.is_empty()).unwrap_or_default();
    assert!(last.contains(&page), "{last}");
    // The model saw the fetched page in its request (the answer is built on it).
    let saw = model.requests().last().map(|r| format!("{:?}", r.contents)).unwrap_or_default();
    assert!(saw.contains("JSONDecoder"), "the model was given the page text");
}
