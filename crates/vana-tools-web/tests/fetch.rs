//! `fetch_url` against the real test site on 127.0.0.1.

mod common;

use common::*;
use serde_json::json;
use std::sync::atomic::Ordering;
use vana_core::ToolError;
use vana_tools_web::WebConfig;

fn text(v: &serde_json::Value, k: &str) -> String {
    v[k].as_str().unwrap_or_default().to_string()
}

#[tokio::test]
async fn real_documentation_becomes_readable_markdown_with_metadata_and_links() {
    let (addr, _) = site().await;
    let (s, _d) = suite(local_config());
    let url = format!("http://{addr}/docs/library/json.html");
    let out = call(&s, "fetch_url", json!({"url": url, "max_chars": 1_000_000})).await.unwrap().response;
    let md = text(&out, "content");
    assert!(out["title"].as_str().unwrap().contains("json"), "{}", out["title"]);
    assert!(md.starts_with("# "), "{}", &md[..200]);
    // The main content is there, as Markdown (headings, code), and the navigation is not.
    assert!(md.contains("json.dumps"), "no API text");
    assert!(md.contains("```") || md.contains("    "), "no code block");
    assert!(md.contains("\n## ") || md.contains("\n### "), "no sub-headings");
    assert!(!md.contains("Navigation"), "the navigation bar leaked into the content");
    assert_eq!(out["format"], "markdown");
    assert_eq!(out["truncated"], false);
    assert!(text(&out, "untrusted").starts_with("untrusted"));
    let links = out["links"].as_array().unwrap();
    assert!(
        links.iter().any(|l| l["url"].as_str().unwrap().starts_with(&format!("http://{addr}/docs/"))),
        "relative links made absolute"
    );
    assert!(
        out["canonical_url"].as_str().unwrap_or("").ends_with("library/json.html"),
        "{}",
        out["canonical_url"]
    );

    let plain = call(&s, "fetch_url", json!({"url": url, "format": "text"})).await.unwrap().response;
    assert!(!text(&plain, "content").contains("```") && text(&plain, "content").contains("json.dumps"));
    let raw = call(&s, "fetch_url", json!({"url": url, "format": "raw"})).await.unwrap().response;
    assert!(text(&raw, "content").contains("<!DOCTYPE html>") || text(&raw, "content").contains("<html"));
}

#[tokio::test]
async fn charsets_are_decoded_from_the_header_and_from_meta() {
    let (addr, _) = site().await;
    let (s, _d) = suite(local_config());
    let latin = call(&s, "fetch_url", json!({"url": format!("http://{addr}/latin1"), "format": "text"}))
        .await
        .unwrap()
        .response;
    assert!(text(&latin, "content").contains(LATIN1_TEXT), "{}", latin["content"]);
    assert_eq!(latin["charset"], "windows-1252");
    let sjis = call(&s, "fetch_url", json!({"url": format!("http://{addr}/sjis"), "format": "text"}))
        .await
        .unwrap()
        .response;
    assert!(text(&sjis, "content").contains(SJIS_TEXT), "{}", sjis["content"]);
    assert_eq!(sjis["charset"], "Shift_JIS");
}

#[tokio::test]
async fn pdfs_become_text_json_is_pretty_images_and_binaries_are_refused() {
    let (addr, _) = site().await;
    let (s, _d) = suite(local_config());
    let pdf = call(&s, "fetch_url", json!({"url": format!("http://{addr}/doc.pdf")})).await.unwrap().response;
    assert!(
        text(&pdf, "content").contains("Quarterly research report on tidal energy"),
        "{}",
        pdf["content"]
    );
    assert_eq!(pdf["content_type"], "application/pdf");

    let js =
        call(&s, "fetch_url", json!({"url": format!("http://{addr}/data.json")})).await.unwrap().response;
    assert_eq!(
        text(&js, "content"),
        "{\n  \"n\": 3,\n  \"name\": \"vana\",\n  \"tags\": [\n    \"a\",\n    \"b\"\n  ]\n}"
    );

    let img = call(&s, "fetch_url", json!({"url": format!("http://{addr}/image.png")})).await.unwrap_err();
    let msg = img.to_string();
    assert!(msg.contains("is an image (image/png") && msg.contains("as_artifact"), "{msg}");
    let art = call(&s, "fetch_url", json!({"url": format!("http://{addr}/image.png"), "as_artifact": true}))
        .await
        .unwrap();
    assert_eq!(art.artifacts.len(), 1);
    assert_eq!(art.artifacts[0].mime_type, "image/png");
    assert_eq!(art.artifacts[0].display_name.as_deref(), Some("image.png"));

    let bin = call(&s, "fetch_url", json!({"url": format!("http://{addr}/binary")})).await.unwrap_err();
    assert!(bin.to_string().contains("is a binary file (application/octet-stream, 512 bytes)"), "{bin}");
}

#[tokio::test]
async fn limits_are_honest_redirects_bytes_time_and_characters() {
    let (addr, hits) = site().await;
    let config = WebConfig { max_bytes: 100_000, timeout_secs: 2, max_redirects: 3, ..local_config() };
    let (s, _d) = suite(config);
    // Three hops are followed; four are one too many.
    let ok = call(&s, "fetch_url", json!({"url": format!("http://{addr}/hop/2")})).await.unwrap().response;
    assert!(text(&ok, "final_url").ends_with("/docs/library/json.html"));
    let err = call(&s, "fetch_url", json!({"url": format!("http://{addr}/hop/5")})).await.unwrap_err();
    assert!(matches!(err, ToolError::Blocked(ref m) if m.contains("more than 3 redirects")), "{err}");

    let large = call(&s, "fetch_url", json!({"url": format!("http://{addr}/large"), "max_chars": 1_000_000}))
        .await
        .unwrap()
        .response;
    assert_eq!(large["truncated"], true);
    assert_eq!(large["total_chars"], 100_000);
    assert!(
        text(&large, "truncated_reason").contains("cut at 100000 bytes"),
        "{}",
        large["truncated_reason"]
    );

    let short = call(
        &s,
        "fetch_url",
        json!({"url": format!("http://{addr}/docs/library/json.html"), "max_chars": 500}),
    )
    .await
    .unwrap()
    .response;
    assert_eq!(short["truncated"], true);
    assert_eq!(short["returned_chars"], 500);
    assert!(short["total_chars"].as_u64().unwrap() > 500);
    assert_eq!(text(&short, "content").chars().count(), 500);

    let started = std::time::Instant::now();
    let slow = call(&s, "fetch_url", json!({"url": format!("http://{addr}/slow")})).await.unwrap_err();
    assert!(slow.to_string().contains("took longer than 2 s"), "{slow}");
    assert!(started.elapsed().as_secs() < 5);

    let missing = call(&s, "fetch_url", json!({"url": format!("http://{addr}/missing")})).await.unwrap_err();
    assert!(missing.to_string().contains("answered HTTP 404: no such page"), "{missing}");
    assert!(hits.count("slow") == 1);
}

#[tokio::test]
async fn robots_txt_is_honoured_and_the_user_agent_names_vana() {
    let (addr, hits) = site().await;
    let (s, _d) = suite(local_config());
    let err =
        call(&s, "fetch_url", json!({"url": format!("http://{addr}/private/secret")})).await.unwrap_err();
    assert!(
        matches!(err, ToolError::Blocked(ref m) if m.contains("robots.txt") && m.contains("/private/secret") && m.contains("respect_robots")),
        "{err}"
    );
    assert_eq!(hits.count("private/secret"), 0, "a disallowed page was requested");
    call(&s, "fetch_url", json!({"url": format!("http://{addr}/private/ok")})).await.unwrap();
    call(&s, "fetch_url", json!({"url": format!("http://{addr}/data.json")})).await.unwrap();
    assert_eq!(hits.count("robots.txt"), 1, "robots.txt is fetched once per origin");

    let (off, _d2) = suite(WebConfig { respect_robots: false, ..local_config() });
    call(&off, "fetch_url", json!({"url": format!("http://{addr}/private/secret")})).await.unwrap();
    assert_eq!(hits.count("private/secret"), 1);
    assert!(vana_tools_web::WebConfig::default().user_agent.starts_with("VANA/"));
}

#[tokio::test]
async fn the_http_cache_revalidates_with_the_etag() {
    let (addr, hits) = site().await;
    let (s, _d) = suite(local_config());
    let url = format!("http://{addr}/etag");
    let first = call(&s, "fetch_url", json!({"url": url})).await.unwrap().response;
    assert_eq!(first["from_cache"], false);
    let second = call(&s, "fetch_url", json!({"url": url})).await.unwrap().response;
    assert_eq!(second["from_cache"], true);
    assert_eq!(second["content"], "cached body v1");
    assert_eq!(hits.not_modified.load(Ordering::SeqCst), 1);
    assert_eq!(hits.count("etag"), 2);
}

#[tokio::test]
async fn a_list_is_fetched_in_parallel_within_the_per_host_limit() {
    let (addr, hits) = site().await;
    let (s, _d) = suite(WebConfig { per_host_concurrency: 2, ..local_config() });
    let mut urls: Vec<String> = (0..6).map(|i| format!("http://{addr}/busy/{i}")).collect();
    urls.push("file:///etc/passwd".into());
    let out = call(&s, "fetch_url", json!({"urls": urls})).await.unwrap().response;
    let results = out["results"].as_array().unwrap();
    assert_eq!(results.len(), 7);
    for (i, r) in results.iter().take(6).enumerate() {
        assert_eq!(text(r, "content"), format!("busy page busy/{i}"));
    }
    assert!(text(&results[6], "error").contains("only http and https"), "{}", results[6]);
    assert_eq!(hits.max_in_flight.load(Ordering::SeqCst), 2, "parallel, but never more than 2 at once");
}

#[tokio::test]
async fn the_outbound_policy_applies_and_a_denied_server_gets_no_request() {
    let (addr, hits) = site().await;
    let (strict, _d) = suite(WebConfig::default());
    for url in [format!("http://{addr}/data.json"), format!("http://localhost:{}/data.json", addr.port())] {
        let err = call(&strict, "fetch_url", json!({"url": url})).await.unwrap_err();
        let msg = err.to_string();
        assert!(matches!(err, ToolError::Blocked(_)), "{msg}");
        assert!(msg.contains("loopback") && msg.contains("[web] allow_private_networks"), "{msg}");
    }
    for url in
        ["http://169.254.169.254/latest/meta-data/", "ftp://example.org/x", "http://[::ffff:127.0.0.1]/"]
    {
        let err = call(&strict, "fetch_url", json!({"url": url})).await.unwrap_err();
        assert!(matches!(err, ToolError::Blocked(_)), "{url}: {err}");
    }
    assert_eq!(hits.total(), 0, "the refused test site received a request (robots.txt included)");
}
