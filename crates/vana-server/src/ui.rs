//! The web UI, embedded from the repository's `web/` folder (release builds embed the files;
//! debug builds read them from disk, so UI edits show without a rebuild).

use axum::extract::Path;
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use serde_json::json;

#[derive(rust_embed::RustEmbed)]
#[folder = "../../web/"]
#[allow_missing = true]
struct Assets;

fn mime(path: &str) -> &'static str {
    match path.rsplit('.').next().unwrap_or("") {
        "html" => "text/html; charset=utf-8",
        "js" | "mjs" => "text/javascript; charset=utf-8",
        "css" => "text/css; charset=utf-8",
        "svg" => "image/svg+xml",
        "png" => "image/png",
        "jpg" | "jpeg" => "image/jpeg",
        "ico" => "image/x-icon",
        "json" => "application/json",
        "woff2" => "font/woff2",
        _ => "application/octet-stream",
    }
}

/// Serves one embedded file, or a JSON 404.
pub fn file(path: &str) -> Response {
    let path = path.trim_start_matches('/');
    let path = if path.is_empty() { "index.html" } else { path };
    match Assets::get(path) {
        Some(f) => {
            ([(header::CONTENT_TYPE, mime(path)), (header::CACHE_CONTROL, "no-cache")], f.data.into_owned())
                .into_response()
        }
        None => (
            StatusCode::NOT_FOUND,
            axum::Json(json!({"error": format!("no such page or endpoint: /{path}")})),
        )
            .into_response(),
    }
}

/// `GET /`: the chat page.
pub async fn index() -> Response {
    file("index.html")
}

/// `GET /ui/{*path}`.
pub async fn ui(Path(path): Path<String>) -> Response {
    file(&path)
}

/// Any other GET: an embedded file of that path (e.g. `/dashboard.html`, `/js/app.js`).
pub async fn fallback(uri: axum::http::Uri) -> Response {
    file(uri.path())
}
