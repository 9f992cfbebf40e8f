//! `web_search`: the local index for real (fed by fetch_url and `index_add`), and each provider
//! against a local server speaking its documented wire format.

mod common;

use axum::extract::{Query, State};
use axum::http::HeaderMap;
use axum::routing::{get, post};
use axum::{Json, Router};
use common::*;
use serde_json::{json, Value};
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use vana_tools_web::{SearchProvider, WebConfig};

#[tokio::test]
async fn the_local_index_ranks_fetched_and_added_pages_with_bm25() {
    let (addr, _) = site().await;
    let (s, d) = suite(local_config());
    // Nothing indexed yet: an honest empty answer.
    let out = call(&s, "web_search", json!({"query": "json encoder"})).await.unwrap().response;
    assert_eq!(out["results"].as_array().unwrap().len(), 0);
    assert!(out["note"].as_str().unwrap().contains("vana index add"));

    for page in ["library/json.html", "library/csv.html", "library/sqlite3.html"] {
        call(&s, "fetch_url", json!({"url": format!("http://{addr}/docs/{page}")})).await.unwrap();
    }
    let notes = d.path().join("notes.md");
    std::fs::write(&notes, "# Tidal notes\n\nTidal lagoons store energy between high and low water.")
        .unwrap();
    let added = s.index_add(notes.to_str().unwrap()).await.unwrap();
    assert_eq!(added.len(), 1);
    assert_eq!(added[0].source, "added");

    let out =
        call(&s, "web_search", json!({"query": "JSON encoder decoder", "count": 3})).await.unwrap().response;
    let results = out["results"].as_array().unwrap();
    assert!(!results.is_empty());
    assert_eq!(results[0]["url"], format!("http://{addr}/docs/library/json.html"));
    assert_eq!(results[0]["provider"], "local");
    assert_eq!(results[0]["rank"], 1);
    assert!(results[0]["snippet"].as_str().unwrap().to_lowercase().contains("json"));
    let out = call(&s, "web_search", json!({"query": "tidal lagoons"})).await.unwrap().response;
    assert!(out["results"][0]["url"].as_str().unwrap().starts_with("file://"), "{out}");
    // Site filter and FTS syntax from the model taken as words.
    let out = call(&s, "web_search", json!({"query": "csv OR NEAR(\"x\" *", "site": "example.org"}))
        .await
        .unwrap()
        .response;
    assert_eq!(out["results"].as_array().unwrap().len(), 0);
    let out = call(&s, "web_search", json!({"query": "csv reader", "site": "127.0.0.1", "freshness": "day"}))
        .await
        .unwrap()
        .response;
    assert_eq!(out["results"][0]["url"], format!("http://{addr}/docs/library/csv.html"));

    assert_eq!(s.index_list().unwrap().len(), 4);
    assert!(s.index_remove(notes.to_str().unwrap()).unwrap());
    assert!(!s.index_remove(notes.to_str().unwrap()).unwrap());
    let out = call(&s, "web_search", json!({"query": "tidal lagoons"})).await.unwrap().response;
    assert_eq!(out["results"].as_array().unwrap().len(), 0);
}

type Seen = Arc<Mutex<Vec<(HashMap<String, String>, HeaderMap, Value)>>>;

async fn provider_server() -> (String, Seen) {
    let seen: Seen = Arc::default();
    let app = Router::new()
        // Brave: GET /res/v1/web/search, X-Subscription-Token, {"web":{"results":[{title,url,description}]}}.
        .route(
            "/res/v1/web/search",
            get(|State(seen): State<Seen>, Query(q): Query<HashMap<String, String>>, h: HeaderMap| async move {
                seen.lock().unwrap().push((q, h, Value::Null));
                Json(json!({"type": "search", "web": {"type": "search", "results": [
                    {"title": "Tidal <strong>power</strong>", "url": "https://example.org/tidal", "description": "Energy from <strong>tides</strong>.", "age": "2 days ago"},
                    {"title": "Second", "url": "https://example.org/2", "description": "two"}
                ]}}))
            }),
        )
        // Tavily: POST /search, Bearer key, {"results":[{title,url,content,score}]}.
        .route(
            "/search",
            post(|State(seen): State<Seen>, h: HeaderMap, Json(body): Json<Value>| async move {
                seen.lock().unwrap().push((HashMap::new(), h, body));
                Json(json!({"query": "q", "answer": null, "results": [
                    {"title": "Tavily hit", "url": "https://tavily.example/a", "content": "tidal content", "score": 0.9}
                ], "response_time": 0.5}))
            })
            // SearXNG: GET /search?format=json, {"results":[{title,url,content,engine}]}.
            .get(|State(seen): State<Seen>, Query(q): Query<HashMap<String, String>>, h: HeaderMap| async move {
                seen.lock().unwrap().push((q, h, Value::Null));
                Json(json!({"query": "q", "number_of_results": 1, "results": [
                    {"title": "SearX hit", "url": "https://searx.example/a", "content": "from searx", "engine": "duckduckgo", "score": 1.0}
                ]}))
            }),
        )
        .with_state(seen.clone());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    (format!("http://{addr}"), seen)
}

#[tokio::test]
async fn brave_tavily_and_searxng_speak_their_wire_formats() {
    let (base, seen) = provider_server().await;
    let brave_env = vana_testkit::unique("BRAVE_KEY").replace('-', "_");
    let tavily_env = vana_testkit::unique("TAVILY_KEY").replace('-', "_");
    let config = WebConfig {
        brave_url: format!("{base}/res/v1/web/search"),
        brave_key_env: brave_env.clone(),
        tavily_url: format!("{base}/search"),
        tavily_key_env: tavily_env.clone(),
        searxng_url: base.clone(),
        ..WebConfig::default()
    };
    // A missing key is a clear error naming the variable.
    let (s, _d) = suite(WebConfig { search_provider: SearchProvider::Brave, ..config.clone() });
    let err = call(&s, "web_search", json!({"query": "tides"})).await.unwrap_err().to_string();
    assert!(err.contains(&brave_env) && err.contains("not set"), "{err}");
    assert!(seen.lock().unwrap().is_empty());
    // SAFETY: these variable names are unique to this test.
    unsafe {
        std::env::set_var(&brave_env, "brave-secret");
        std::env::set_var(&tavily_env, "tavily-secret");
    }

    let out = call(
        &s,
        "web_search",
        json!({"query": "tides", "count": 2, "site": "example.org", "freshness": "week"}),
    )
    .await
    .unwrap()
    .response;
    assert_eq!(
        out["results"][0],
        json!({"title": "Tidal power", "url": "https://example.org/tidal", "snippet": "Energy from tides.", "provider": "brave", "rank": 1})
    );
    assert_eq!(out["results"][1]["rank"], 2);
    {
        let s = seen.lock().unwrap();
        let (q, h, _) = &s[0];
        assert_eq!(q["q"], "tides site:example.org");
        assert_eq!(q["count"], "2");
        assert_eq!(q["freshness"], "pw");
        assert_eq!(h["x-subscription-token"], "brave-secret");
    }

    let (s, _d) = suite(WebConfig { search_provider: SearchProvider::Tavily, ..config.clone() });
    let out = call(&s, "web_search", json!({"query": "tides", "site": "example.org", "freshness": "month"}))
        .await
        .unwrap()
        .response;
    assert_eq!(
        out["results"][0],
        json!({"title": "Tavily hit", "url": "https://tavily.example/a", "snippet": "tidal content", "provider": "tavily", "rank": 1})
    );
    {
        let s = seen.lock().unwrap();
        let (_, h, body) = &s[1];
        assert_eq!(h["authorization"], "Bearer tavily-secret");
        assert_eq!(body["query"], "tides");
        assert_eq!(body["max_results"], 5);
        assert_eq!(body["include_domains"], json!(["example.org"]));
        assert_eq!(body["time_range"], "month");
    }

    let (s, _d) = suite(WebConfig { search_provider: SearchProvider::Searxng, ..config.clone() });
    let out = call(&s, "web_search", json!({"query": "tides", "freshness": "year"})).await.unwrap().response;
    assert_eq!(
        out["results"][0],
        json!({"title": "SearX hit", "url": "https://searx.example/a", "snippet": "from searx", "provider": "searxng", "rank": 1})
    );
    let s = seen.lock().unwrap();
    let (q, _, _) = &s[2];
    assert_eq!(q["format"], "json");
    assert_eq!(q["time_range"], "year");
    assert_eq!(q["q"], "tides");
}
