//! `vana index add|list|remove` as a user runs it: a real Debian documentation file (python3-doc,
//! written by nobody here) and a page served on 127.0.0.1 go into the local index, `web_search`
//! finds them, and removing them takes them out; a missing file, a loopback URL the outbound
//! policy refuses, and an unknown id each get a clear error.

use serde_json::Value;
use std::io::{Read, Write};
use std::net::TcpListener;
use std::path::PathBuf;
use std::process::{Command, Output};
use std::sync::{Arc, Mutex};

const PYDOC: &str = "/usr/share/doc/python3-doc/html/library";

struct Home {
    _tmp: vana_testkit::TempDir,
    dir: PathBuf,
}

impl Home {
    fn new() -> Self {
        let tmp = vana_testkit::tempdir();
        let dir = tmp.path().to_path_buf();
        Home { _tmp: tmp, dir }
    }

    fn cmd(&self, args: &[&str]) -> Command {
        let mut c = Command::new(env!("CARGO_BIN_EXE_vana"));
        c.args(args)
            .current_dir(&self.dir)
            .env("VANA_HOME", &self.dir)
            .env("VANA_USER", "tester")
            .env("NO_COLOR", "1");
        for (k, _) in std::env::vars().filter(|(k, _)| k.starts_with("VANA_") && k != "VANA_HOME") {
            c.env_remove(k);
        }
        c
    }

    fn run(&self, args: &[&str]) -> Output {
        self.cmd(args).output().unwrap()
    }

    /// The same, with the operator's `[web] allow_private_networks = true` (the site is on loopback).
    fn run_private(&self, args: &[&str]) -> Output {
        self.cmd(args).env("VANA_WEB_ALLOW_PRIVATE_NETWORKS", "true").output().unwrap()
    }

    fn json(&self, args: &[&str]) -> Value {
        let out = self.run_private(args);
        assert!(out.status.success(), "{args:?}: {}", text(&out));
        serde_json::from_slice(&out.stdout).unwrap_or_else(|e| panic!("{args:?}: {e}: {}", text(&out)))
    }
}

fn text(o: &Output) -> String {
    format!("{}\n{}", String::from_utf8_lossy(&o.stdout), String::from_utf8_lossy(&o.stderr))
}

fn pydoc(name: &str) -> String {
    let p = format!("{PYDOC}/{name}");
    assert!(
        std::path::Path::new(&p).is_file(),
        "{p} is missing: run scripts/setup-research.sh (python3-doc)"
    );
    p
}

/// A site on 127.0.0.1 serving python3-doc's csv page at /csv.html (404 elsewhere, robots.txt
/// included); every request path is recorded.
fn site() -> (String, Arc<Mutex<Vec<String>>>) {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    let seen: Arc<Mutex<Vec<String>>> = Arc::default();
    let s = seen.clone();
    let page = std::fs::read(pydoc("csv.html")).unwrap();
    std::thread::spawn(move || {
        for conn in listener.incoming() {
            let Ok(mut conn) = conn else { continue };
            let mut buf = Vec::new();
            let mut chunk = [0u8; 4096];
            while !buf.windows(4).any(|w| w == b"\r\n\r\n") {
                match conn.read(&mut chunk) {
                    Ok(0) | Err(_) => break,
                    Ok(n) => buf.extend_from_slice(&chunk[..n]),
                }
            }
            let head = String::from_utf8_lossy(&buf).to_string();
            let path = head.split_whitespace().nth(1).unwrap_or("").to_string();
            s.lock().unwrap().push(path.clone());
            let (status, body): (&str, &[u8]) =
                if path == "/csv.html" { ("200 OK", &page) } else { ("404 Not Found", b"not found") };
            let _ = conn.write_all(
                format!(
                    "HTTP/1.1 {status}\r\nContent-Type: text/html; charset=utf-8\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
                    body.len()
                )
                .as_bytes(),
            );
            let _ = conn.write_all(body);
        }
    });
    (url, seen)
}

fn search(home: &Home, query: &str) -> Vec<String> {
    let out = home.json(&["tools", "call", "web_search", &format!(r#"{{"query": "{query}"}}"#)]);
    assert_eq!(out["result"]["provider"], "local", "{out}");
    out["result"]["results"]
        .as_array()
        .unwrap_or_else(|| panic!("{out}"))
        .iter()
        .map(|r| r["url"].as_str().unwrap().to_string())
        .collect()
}

#[test]
fn added_files_and_urls_are_listed_found_by_web_search_and_removed() {
    let home = Home::new();
    let (site, seen) = site();
    let json_doc = pydoc("json.html");
    // python3-doc's folder is a link; the index names the file by its real path.
    let file_url = format!("file://{}", std::fs::canonicalize(&json_doc).unwrap().display());

    let out = home.run(&["index", "list"]);
    assert!(text(&out).contains("the local index is empty"), "{}", text(&out));

    // A real documentation file.
    let added = home.json(&["index", "add", &json_doc, "--json"]);
    assert_eq!(added[0]["url"], file_url.as_str(), "{added}");
    assert!(added[0]["title"].as_str().unwrap().contains("json"), "{added}");
    assert!(added[0]["chars"].as_i64().unwrap() > 10_000, "the whole page text is indexed: {added}");

    // A URL on loopback, allowed by the operator, fetched for real.
    let page = format!("{site}/csv.html");
    let out = home.run_private(&["index", "add", &page]);
    assert!(out.status.success(), "{}", text(&out));
    assert!(text(&out).contains("indexed 1 document"), "{}", text(&out));
    assert!(seen.lock().unwrap().contains(&"/csv.html".to_string()));

    let list = home.json(&["index", "list", "--json"]);
    let urls: Vec<&str> = list.as_array().unwrap().iter().map(|d| d["url"].as_str().unwrap()).collect();
    assert_eq!(urls, [page.as_str(), file_url.as_str()], "newest first: {list}");
    assert!(list.as_array().unwrap().iter().all(|d| d["source"] == "added"), "{list}");
    let text_list = text(&home.run(&["index", "list"]));
    assert!(text_list.contains(&page) && text_list.contains(&file_url), "{text_list}");

    // web_search (the local index by default) finds each by words only it contains.
    assert_eq!(search(&home, "JSONDecoder")[0], file_url);
    assert_eq!(search(&home, "DictReader")[0], page);

    // Remove by id and by URL.
    let csv_id = list[0]["id"].to_string();
    let out = home.run(&["index", "remove", &csv_id]);
    assert!(out.status.success(), "{}", text(&out));
    assert!(!search(&home, "DictReader").contains(&page), "removed documents are not found");
    let out = home.run(&["index", "remove", &file_url]);
    assert!(out.status.success(), "{}", text(&out));
    assert!(search(&home, "JSONDecoder").is_empty());
    assert_eq!(home.json(&["index", "list", "--json"]), serde_json::json!([]));

    // Removing it again: a clear error naming the id and how to see the ids.
    let out = home.run(&["index", "remove", &csv_id]);
    assert_eq!(out.status.code(), Some(2), "{}", text(&out));
    let err = text(&out);
    assert!(err.contains(&format!("no document {csv_id}")) && err.contains("vana index list"), "{err}");
}

#[test]
fn bad_targets_get_clear_errors_and_index_nothing() {
    let home = Home::new();
    let (site, seen) = site();

    // A file that does not exist.
    let missing = home.dir.join("no-such-file.html");
    let out = home.run(&["index", "add", missing.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(2), "{}", text(&out));
    assert!(
        text(&out).contains("no-such-file.html") && text(&out).contains("No such file"),
        "{}",
        text(&out)
    );

    // A loopback URL without the operator's permission: refused, naming the setting, and the
    // server never sees a request.
    let out = home.run(&["index", "add", &format!("{site}/csv.html")]);
    assert_eq!(out.status.code(), Some(2), "{}", text(&out));
    let err = text(&out);
    assert!(err.contains("loopback") && err.contains("allow_private_networks"), "{err}");
    assert!(seen.lock().unwrap().is_empty(), "a refused URL sent a request: {:?}", seen.lock().unwrap());

    // Not http(s).
    let out = home.run_private(&["index", "add", "ftp://127.0.0.1/x"]);
    assert_eq!(out.status.code(), Some(2), "{}", text(&out));

    // A folder with nothing indexable.
    let empty = home.dir.join("empty");
    std::fs::create_dir_all(&empty).unwrap();
    std::fs::write(empty.join("data.bin"), [0u8, 1, 2]).unwrap();
    let out = home.run(&["index", "add", empty.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(2), "{}", text(&out));
    assert!(text(&out).contains("nothing to index"), "{}", text(&out));

    // An unknown id.
    let out = home.run(&["index", "remove", "4242"]);
    assert_eq!(out.status.code(), Some(2), "{}", text(&out));
    assert!(text(&out).contains("no document 4242"), "{}", text(&out));

    assert_eq!(home.json(&["index", "list", "--json"]), serde_json::json!([]));
}
