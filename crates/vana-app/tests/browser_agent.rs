//! End to end with the scripted model: the `browser_automation` agent of the shipped catalog
//! opens a form served on loopback in the real Chromium, fills and submits it, and takes a
//! screenshot that reaches the session's events as an inline PNG.

use serde_json::{json, Value};
use std::sync::{Arc, Mutex};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use vana_app::{App, Config};
use vana_core::{Content, Event, Model};
use vana_testkit::{ScriptedModel, ScriptedTurn};

const FORM: &str = "<!doctype html><title>Order</title><main><h1>Order</h1><form method=post action=/submit>\
<label for=who>Name</label><input id=who name=who required>\
<label for=qty>Quantity</label><select id=qty name=qty><option>1</option><option>2</option><option>3</option></select>\
<label><input type=checkbox name=gift value=yes> Gift wrap</label><button>Place order</button></form></main>";

/// A tiny HTTP server: GET serves the form, POST /submit echoes the body; every body posted is
/// recorded.
async fn site() -> (String, Arc<Mutex<Vec<String>>>) {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    let posts: Arc<Mutex<Vec<String>>> = Arc::default();
    let p = posts.clone();
    tokio::spawn(async move {
        loop {
            let (mut s, _) = listener.accept().await.unwrap();
            let p = p.clone();
            tokio::spawn(async move {
                let mut buf = Vec::new();
                let mut chunk = [0u8; 4096];
                loop {
                    let n = s.read(&mut chunk).await.unwrap_or(0);
                    if n == 0 {
                        return;
                    }
                    buf.extend_from_slice(&chunk[..n]);
                    let text = String::from_utf8_lossy(&buf).to_string();
                    let Some(end) = text.find("\r\n\r\n") else { continue };
                    let len = text[..end]
                        .lines()
                        .find_map(|l| {
                            l.to_ascii_lowercase()
                                .strip_prefix("content-length:")
                                .map(|v| v.trim().parse::<usize>().unwrap_or(0))
                        })
                        .unwrap_or(0);
                    if buf.len() < end + 4 + len {
                        continue;
                    }
                    let body = text[end + 4..end + 4 + len].to_string();
                    let html = if text.starts_with("POST /submit") {
                        p.lock().unwrap().push(body.clone());
                        format!(
                            "<!doctype html><title>Thanks</title><p>Order received: {}</p>",
                            body.replace('<', "&lt;")
                        )
                    } else {
                        FORM.to_string()
                    };
                    let resp = format!(
                        "HTTP/1.1 200 OK\r\nContent-Type: text/html\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{html}",
                        html.len()
                    );
                    let _ = s.write_all(resp.as_bytes()).await;
                    return;
                }
            });
        }
    });
    (url, posts)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn browser_automation_fills_and_submits_a_form_and_takes_a_screenshot() {
    let (url, posts) = site().await;
    let model = ScriptedModel::named(
        "scripted-browser",
        vec![
            ScriptedTurn::call("navigate_to_url", json!({"url": format!("{url}/order")})),
            ScriptedTurn::call(
                "fill_form",
                json!({"fields": [{"label": "Name", "value": "Ada"}, {"label": "Quantity", "value": "2"},
                                  {"label": "Gift wrap", "checked": true}], "submit": true}),
            ),
            ScriptedTurn::call("take_screenshot", json!({})),
            ScriptedTurn::text("The order was placed; the confirmation page is in the screenshot."),
        ],
    );
    let dir = vana_testkit::tempdir();
    let mut config = Config::default();
    config.store.url = format!("sqlite://{}", dir.path().join("vana.db").display());
    config.agents.dir = dir.path().join("agents").display().to_string();
    config.models.default_model = model.name().to_string();
    // The form is on loopback: the operator allows private networks.
    config.web.allow_private_networks = true;
    let app = App::open(config).await.unwrap();
    app.models.register(model.name(), Arc::new(model.clone()));
    let runner = app.runner(Some("browser_automation")).unwrap();
    let session =
        app.store.create_session("browser_automation", "u", None, Default::default()).await.unwrap();
    let mut inv = runner
        .run("u", &session.id, Content::user_text("order 2 gift-wrapped for Ada"), false)
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
    assert_eq!(response("navigate_to_url")["title"], "Order", "{}", response("navigate_to_url"));
    let filled = response("fill_form");
    assert_eq!(
        (filled["submitted"].as_bool(), filled["title"].as_str()),
        (Some(true), Some("Thanks")),
        "{filled}"
    );
    assert_eq!(posts.lock().unwrap().as_slice(), ["who=Ada&qty=2&gift=yes"]);
    assert_eq!(response("take_screenshot")["width"], 1280);
    let png = events
        .iter()
        .flat_map(|e| e.content.iter().flat_map(|c| c.parts.iter()))
        .filter_map(|p| p.inline_data.as_ref())
        .find(|b| b.mime_type == "image/png")
        .expect("the screenshot is attached to the session's events");
    assert!(png.data.starts_with("iVBORw0KGgo"), "not a PNG");
    let last = events.iter().rev().map(|e| e.text()).find(|t| !t.is_empty()).unwrap_or_default();
    assert!(last.contains("order was placed"), "{last}");
}
