//! The browser tools against Debian's real Chromium and pages served on loopback: script-built
//! content, a form that echoes what was posted, a redirect chain, a slow page, a listing with
//! next links, a download; the outbound policy (a denied address gets no request, from a
//! navigation, a redirect or a page's images and scripts); per-session contexts, the cap, the
//! idle close, a crash; and what a missing Chromium says.

mod common;

use common::{point_at, ref_of, serve, Env};
use serde_json::json;
use std::time::Duration;
use vana_core::ToolError;
use vana_net::OutboundPolicy;
use vana_toolkit::ToolSuite;
use vana_tools_browser::BrowserConfig;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_default_policy_refuses_loopback_and_the_server_gets_no_request() {
    let site = serve("127.0.0.1").await;
    let env = Env::new(OutboundPolicy::default(), BrowserConfig::default());
    let e = env.call("s1", "navigate_to_url", json!({"url": format!("{}/", site.url)})).await.unwrap_err();
    let msg = e.to_string();
    assert!(matches!(e, ToolError::Blocked(_)), "{e:?}");
    assert!(msg.contains("loopback") && msg.contains("allow_private_networks"), "{msg}");
    // `localhost` is a name that resolves to loopback: refused the same way.
    let port = site.url.rsplit(':').next().unwrap();
    let e = env
        .call("s1", "navigate_to_url", json!({"url": format!("http://localhost:{port}/")}))
        .await
        .unwrap_err();
    assert!(e.to_string().contains("loopback"), "{e}");
    for url in [
        "file:///etc/passwd",
        "chrome://version",
        "data:text/html,<h1>x</h1>",
        "javascript:alert(1)",
        "ftp://127.0.0.1/",
    ] {
        let e = env.call("s1", "navigate_to_url", json!({"url": url})).await.unwrap_err();
        assert!(
            matches!(e, ToolError::Blocked(_)) && e.to_string().contains("only http and https"),
            "{url}: {e}"
        );
    }
    tokio::time::sleep(Duration::from_millis(200)).await;
    assert_eq!(site.requests(), Vec::<String>::new(), "the denied server received requests");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_allowed_page_never_reaches_a_denied_address_through_its_images_scripts_or_redirects() {
    let allowed = serve("127.0.0.1").await;
    let denied = serve("127.0.0.2").await;
    point_at(&allowed, &denied.url);
    // 127.0.0.1 is allowed by address; 127.0.0.2 (also loopback) is not.
    let env = Env::new(
        OutboundPolicy { allow_private_networks: false, allowed_hosts: vec!["127.0.0.1".into()] },
        BrowserConfig::default(),
    );
    let r = env
        .ok(
            "s",
            "navigate_to_url",
            json!({"url": format!("{}/other/x", allowed.url), "wait_until": "network_idle"}),
        )
        .await;
    assert_eq!(r["title"], "Embeds", "{r}");
    let blocked =
        r["blocked_requests"].as_array().unwrap_or_else(|| panic!("no blocked requests reported: {r}"));
    assert!(blocked.iter().any(|b| b["target"].as_str().unwrap().contains("127.0.0.2")), "{r}");
    assert!(blocked[0]["reason"].as_str().unwrap().contains("loopback"), "{r}");
    // A redirect from the allowed server to the denied one.
    let e = env
        .call("s", "navigate_to_url", json!({"url": format!("{}/redirect-to/x", allowed.url)}))
        .await
        .unwrap_err();
    assert!(matches!(e, ToolError::Blocked(_)) && e.to_string().contains("127.0.0.2"), "{e:?}");
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(denied.requests(), Vec::<String>::new(), "the denied server received requests");
    assert!(allowed.requests().iter().any(|r| r.contains("/other/x")), "{:?}", allowed.requests());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pages_built_by_script_redirect_chains_and_slow_pages() {
    let site = serve("127.0.0.1").await;
    let env = Env::open();
    let r = env.ok("s", "navigate_to_url", json!({"url": format!("{}/js", site.url)})).await;
    assert_eq!((r["title"].as_str(), r["status"].as_u64()), (Some("Scripted"), Some(200)), "{r}");
    let t = env.ok("s", "extract_text", json!({})).await;
    assert!(t["text"].as_str().unwrap().contains("Rendered by script: 42 widgets"), "{t}");
    assert!(t["untrusted"].is_string(), "{t}");
    // Content that arrives later: wait for it.
    let w = env.ok("s", "wait_for", json!({"text": "Arrived late", "timeout_ms": 5000})).await;
    assert_eq!(w["found"], true);
    let t = env.ok("s", "extract_text", json!({"selector": ".late"})).await;
    assert_eq!(t["texts"], json!(["Arrived late"]), "{t}");
    let e = env.call("s", "wait_for", json!({"selector": ".never", "timeout_ms": 300})).await.unwrap_err();
    assert!(e.to_string().contains("did not appear within 300 ms"), "{e}");
    let e = env.call("s", "extract_text", json!({"selector": "p[["})).await.unwrap_err();
    assert!(matches!(e, ToolError::InvalidArgs(_)), "{e:?}");

    // A redirect chain ends on its last page.
    let r = env.ok("s", "navigate_to_url", json!({"url": format!("{}/redirect/3", site.url)})).await;
    assert_eq!(r["url"], format!("{}/final", site.url), "{r}");
    assert_eq!(r["status"], 200);
    assert_eq!(site.requests().iter().filter(|r| r.starts_with("GET /redirect/")).count(), 4);

    // A slow page: a clear timeout, and the browser stays usable.
    let e = env
        .call("s", "navigate_to_url", json!({"url": format!("{}/slow", site.url), "timeout_secs": 1}))
        .await
        .unwrap_err();
    assert!(e.to_string().contains("did not finish loading within 1 s"), "{e}");
    let r = env.ok("s", "navigate_to_url", json!({"url": format!("{}/", site.url)})).await;
    assert_eq!(r["title"], "Home");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn forms_are_filled_by_ref_label_and_selector_and_submitted() {
    let site = serve("127.0.0.1").await;
    let env = Env::open();
    env.ok("s", "navigate_to_url", json!({"url": format!("{}/form", site.url)})).await;
    let snap = env.ok("s", "get_page_snapshot", json!({})).await;
    let outline = snap["snapshot"].as_str().unwrap();
    assert!(outline.contains("heading \"Sign up\" [level=1]"), "{outline}");
    let name = ref_of(outline, "textbox \"Name\"");
    // The same element keeps its ref in the next snapshot.
    let again = env.ok("s", "get_page_snapshot", json!({})).await;
    assert_eq!(ref_of(again["snapshot"].as_str().unwrap(), "textbox \"Name\""), name);

    // A bad field changes nothing.
    let e = env
        .call(
            "s",
            "fill_form",
            json!({"fields": [{"ref": name, "value": "Ada"}, {"label": "No such field", "value": "x"}]}),
        )
        .await
        .unwrap_err();
    assert!(e.to_string().contains("No such field"), "{e}");
    let v = env.ok("s", "extract_text", json!({"selector": "#name"})).await;
    assert_eq!(v["texts"], json!([""]), "{v}");
    let e = env
        .call("s", "fill_form", json!({"fields": [{"label": "Colour", "value": "Purple"}]}))
        .await
        .unwrap_err();
    assert!(e.to_string().contains("no option \"Purple\"") && e.to_string().contains("\"Green\""), "{e}");

    let r = env
        .ok(
            "s",
            "fill_form",
            json!({"fields": [
                {"ref": name, "value": "Ada Lovelace"},
                {"label": "Email", "value": "ada@example.org"},
                {"label": "Colour", "value": "Green"},
                {"label": "Subscribe", "checked": true},
                {"selector": "input[value=pro]", "checked": true},
                {"selector": "#note", "value": "two\nlines"},
            ], "submit": true}),
        )
        .await;
    assert_eq!((r["submitted"].as_bool(), r["navigated"].as_bool()), (Some(true), Some(true)), "{r}");
    assert_eq!(r["title"], "Received", "{r}");
    let posted = site.posts.lock().unwrap().last().cloned().unwrap();
    assert_eq!(posted["name"], "Ada Lovelace");
    assert_eq!(posted["email"], "ada@example.org");
    assert_eq!(posted["color"], "g");
    assert_eq!(posted["subscribe"], "yes");
    assert_eq!(posted["plan"], "pro");
    assert_eq!(posted["note"], "two\r\nlines");
    let t = env.ok("s", "extract_text", json!({})).await;
    assert!(t["text"].as_str().unwrap().contains("name=Ada Lovelace"), "{t}");
    // An old ref after the page changed is refused with what to do.
    let e = env.call("s", "click_element", json!({"ref": name})).await.unwrap_err();
    assert!(e.to_string().contains("take a new snapshot"), "{e}");

    // Enter in a field submits its form; a required field left empty stops `submit`.
    env.ok("s", "navigate_to_url", json!({"url": format!("{}/form", site.url)})).await;
    let e = env
        .call("s", "fill_form", json!({"fields": [{"label": "Email", "value": "x@y.z"}], "submit": true}))
        .await
        .unwrap_err();
    assert!(e.to_string().contains("not valid") && e.to_string().contains("name"), "{e}");
    env.ok("s", "fill_form", json!({"fields": [{"label": "Name", "value": "Grace"}]})).await;
    let k = env.ok("s", "press_key", json!({"key": "Enter", "selector": "#name"})).await;
    assert_eq!((k["navigated"].as_bool(), k["title"].as_str()), (Some(true), Some("Received")), "{k}");
    assert_eq!(site.posts.lock().unwrap().last().unwrap()["name"], "Grace");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn clicks_screenshots_scraping_and_downloads() {
    let site = serve("127.0.0.1").await;
    let env = Env::open();
    env.ok("s", "navigate_to_url", json!({"url": format!("{}/links", site.url)})).await;
    let r = env.ok("s", "click_element", json!({"text": "Press me"})).await;
    assert_eq!((r["navigated"].as_bool(), r["title"].as_str()), (Some(false), Some("clicked")), "{r}");
    let r = env.ok("s", "click_element", json!({"text": "Go to the end"})).await;
    assert_eq!(r["url"], format!("{}/final", site.url), "{r}");
    let e = env.call("s", "click_element", json!({"selector": "#missing"})).await.unwrap_err();
    assert!(e.to_string().contains("no element on the page matches selector `#missing`"), "{e}");

    // Screenshots: a PNG artifact of the viewport, the full page and one element.
    env.ok("s", "navigate_to_url", json!({"url": format!("{}/form", site.url)})).await;
    let shot = env.call("s", "take_screenshot", json!({"save_as": "shots/form.png"})).await.unwrap();
    assert_eq!(
        (shot.response["width"].as_u64(), shot.response["height"].as_u64()),
        (Some(1280), Some(800)),
        "{}",
        shot.response
    );
    let blob = &shot.artifacts[0];
    assert_eq!(blob.mime_type, "image/png");
    use base64::Engine;
    let png = base64::engine::general_purpose::STANDARD.decode(&blob.data).unwrap();
    assert_eq!(&png[..8], b"\x89PNG\r\n\x1a\n");
    assert_eq!(env.read("s", "shots/form.png"), png);
    let el = env.call("s", "take_screenshot", json!({"selector": "select"})).await.unwrap();
    let w = el.response["width"].as_u64().unwrap();
    assert!(w > 10 && w < 400, "{}", el.response);

    // Scraping three pages by their next link into a CSV in the workspace.
    env.ok("s", "navigate_to_url", json!({"url": format!("{}/list?page=1", site.url)})).await;
    let r = env
        .ok(
            "s",
            "scrape_website",
            json!({"row_selector": ".product", "columns": [
                {"name": "name", "selector": ".name"}, {"name": "price", "selector": ".price"},
                {"name": "link", "selector": "a", "attribute": "href"}],
              "next_selector": "a.next", "output": "products.csv"}),
        )
        .await;
    assert_eq!(r["rows"], 12, "{r}");
    assert_eq!(r["pages"].as_array().unwrap().len(), 3, "{r}");
    let csv = String::from_utf8(env.read("s", "products.csv")).unwrap();
    let lines: Vec<&str> = csv.lines().collect();
    assert_eq!(lines[0], "name,price,link");
    assert_eq!(lines[1], format!("Widget 1,3.50,{}/item/1", site.url));
    assert_eq!(lines[12], format!("Widget 12,36.50,{}/item/12", site.url));

    // A download lands in the workspace.
    env.ok("s", "navigate_to_url", json!({"url": format!("{}/", site.url)})).await;
    let r = env.ok("s", "navigate_to_url", json!({"url": format!("{}/download", site.url)})).await;
    assert_eq!(r["downloads"], json!(["downloads/report.csv"]), "{r}");
    assert_eq!(env.read("s", "downloads/report.csv"), b"a,b\n1,2\n");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn each_session_has_its_own_context_up_to_the_cap() {
    let site = serve("127.0.0.1").await;
    let config = BrowserConfig { max_contexts: 2, ..Default::default() };
    let env = Env::new(OutboundPolicy { allow_private_networks: true, allowed_hosts: vec![] }, config);
    env.ok("alice", "navigate_to_url", json!({"url": format!("{}/set-cookie", site.url)})).await;
    env.ok("alice", "navigate_to_url", json!({"url": format!("{}/show-cookie", site.url)})).await;
    let t = env.ok("alice", "extract_text", json!({})).await;
    assert!(t["text"].as_str().unwrap().contains("cookie: who=alice"), "{t}");
    env.ok("bob", "navigate_to_url", json!({"url": format!("{}/show-cookie", site.url)})).await;
    let t = env.ok("bob", "extract_text", json!({})).await;
    assert!(t["text"].as_str().unwrap().contains("cookie: none"), "bob saw alice's cookie: {t}");
    // One Chromium for both.
    assert_eq!(env.suite.browser().open_contexts().await, 2);
    let e = env.call("carol", "navigate_to_url", json!({"url": format!("{}/", site.url)})).await.unwrap_err();
    assert!(matches!(e, ToolError::Unavailable(_)) && e.to_string().contains("max_contexts"), "{e:?}");
    assert_eq!(env.ok("bob", "close_browser", json!({})).await["closed"], true);
    env.ok("carol", "navigate_to_url", json!({"url": format!("{}/", site.url)})).await;
    // Alice's page and cookies are still there.
    let t = env.ok("alice", "extract_text", json!({})).await;
    assert!(t["text"].as_str().unwrap().contains("cookie: who=alice"), "{t}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_crash_is_reported_once_and_the_browser_restarts() {
    let site = serve("127.0.0.1").await;
    let env = Env::open();
    env.ok("s", "navigate_to_url", json!({"url": format!("{}/", site.url)})).await;
    let pid = env.suite.browser().pid().await.expect("chromium runs");
    unsafe { libc::kill(pid, libc::SIGKILL) };
    tokio::time::sleep(Duration::from_millis(300)).await;
    let e = env.call("s", "extract_text", json!({})).await.unwrap_err();
    assert!(
        e.to_string().contains("Chromium exited unexpectedly") && e.to_string().contains("navigate again"),
        "{e}"
    );
    let r = env.ok("s", "navigate_to_url", json!({"url": format!("{}/", site.url)})).await;
    assert_eq!(r["title"], "Home");
    assert_ne!(env.suite.browser().pid().await, Some(pid));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn idle_contexts_close_and_chromium_exits() {
    let site = serve("127.0.0.1").await;
    let config = BrowserConfig { idle_timeout_secs: 1, ..Default::default() };
    let env = Env::new(OutboundPolicy { allow_private_networks: true, allowed_hosts: vec![] }, config);
    env.ok("s", "navigate_to_url", json!({"url": format!("{}/", site.url)})).await;
    let pid = env.suite.browser().pid().await.unwrap();
    tokio::time::sleep(Duration::from_millis(2600)).await;
    assert_eq!(env.suite.browser().open_contexts().await, 0);
    assert_eq!(env.suite.browser().pid().await, None);
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert!(!std::path::Path::new(&format!("/proc/{pid}/cmdline")).exists(), "chromium {pid} still runs");
}

#[tokio::test]
async fn a_missing_chromium_says_what_to_install() {
    let config = BrowserConfig { chromium: "/nonexistent/chromium".into(), ..Default::default() };
    let env = Env::new(OutboundPolicy { allow_private_networks: true, allowed_hosts: vec![] }, config);
    let status = env.suite.status();
    assert_eq!(status.missing.len(), 1);
    assert_eq!(status.missing[0].fix, "apt-get install -y chromium");
    let e = env.call("s", "navigate_to_url", json!({"url": "http://127.0.0.1:9/"})).await.unwrap_err();
    assert!(
        matches!(e, ToolError::Unavailable(_)) && e.to_string().contains("apt-get install -y chromium"),
        "{e:?}"
    );
}
