//! The store tests' kill-9 crash harness (temporary directories come from `vana-testkit`).

#![allow(dead_code)]

use serde_json::json;
use std::io::{BufRead, BufReader, Write};
use std::process::{Command, Stdio};
use std::sync::mpsc;
use std::time::Duration;
use vana_core::{Content, Event, EventWindow, JsonMap};

const URL_ENV: &str = "VANA_STORE_CRASH_URL";
const SESSION_ENV: &str = "VANA_STORE_CRASH_SESSION";
const APP: &str = "crash-app";
const USER: &str = "crash-user";
/// Acknowledgements the parent waits for before killing the child.
const ACKS_BEFORE_KILL: u64 = 300;

fn crash_event(n: u64) -> Event {
    let mut e =
        Event::new(format!("inv-{n}"), "agent").with_content(Content::model_text(format!("crash {n}")));
    e.actions.state_delta = match json!({ "n": n, format!("k{}", n % 7): n }) {
        serde_json::Value::Object(m) => m,
        _ => unreachable!(),
    };
    e
}

/// Body of the child test: does nothing unless the crash harness started this process.
/// Appends events forever, printing `ACK <version>` after each append returns.
pub fn child_main() {
    let (Ok(url), Ok(session)) = (std::env::var(URL_ENV), std::env::var(SESSION_ENV)) else {
        return;
    };
    let rt =
        tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().expect("runtime");
    rt.block_on(async move {
        let store = vana_store::open(&url).await.expect("child: open store");
        let mut out = std::io::stdout().lock();
        let mut version = 0;
        loop {
            let event = crash_event(version + 1);
            version = store.append_event(APP, USER, &session, version, &event).await.expect("child: append");
            writeln!(out, "ACK {version}").and_then(|_| out.flush()).expect("child: write ack");
        }
    });
}

/// Kills the child process if the parent test fails early.
struct KillOnDrop(std::process::Child);

impl Drop for KillOnDrop {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// Starts the `child_test` of this test binary against `url`, SIGKILLs it after a few
/// hundred acknowledged appends, reopens the store and checks every acknowledged event.
pub fn crash_and_verify(url: &str, child_test: &str) {
    let rt = tokio::runtime::Runtime::new().expect("runtime");
    let session = rt.block_on(async {
        let store = vana_store::open(url).await.expect("open store");
        let s = store.create_session(APP, USER, None, JsonMap::new()).await.expect("create session");
        s.id
    });

    let exe = std::env::current_exe().expect("current_exe");
    let mut child = Command::new(exe)
        .args(["--exact", child_test, "--nocapture", "--test-threads=1"])
        .env(URL_ENV, url)
        .env(SESSION_ENV, &session)
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .expect("spawn child test process");
    let stdout = child.stdout.take().expect("child stdout");
    let mut child = KillOnDrop(child);
    let (tx, rx) = mpsc::channel();
    let reader = std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines() {
            let Ok(line) = line else { break };
            // libtest may print "test NAME ... " on the same line as the first ack.
            if let Some((_, v)) = line.rsplit_once("ACK ") {
                let _ = tx.send(v.trim().parse::<u64>().expect("ack number"));
            }
        }
    });
    let mut last_ack = 0;
    while last_ack < ACKS_BEFORE_KILL {
        match rx.recv_timeout(Duration::from_secs(60)) {
            Ok(v) => {
                assert_eq!(v, last_ack + 1, "child acknowledged versions out of order");
                last_ack = v;
            }
            Err(e) => {
                panic!("child stopped acknowledging after {last_ack} appends ({e}); see its stderr above");
            }
        }
    }
    child.0.kill().expect("SIGKILL child"); // std's kill is SIGKILL on Unix
    child.0.wait().expect("reap child");
    reader.join().expect("reader thread");
    // Lines the child printed before dying were acknowledged too.
    last_ack = rx.try_iter().fold(last_ack, |a, v| a.max(v));

    rt.block_on(async {
        let store = vana_store::open(url).await.expect("reopen store after crash");
        let s = store
            .get_session(APP, USER, &session, EventWindow::All)
            .await
            .expect("load after crash")
            .expect("session must survive the crash");
        assert!(
            s.version >= last_ack,
            "lost acknowledged appends: version {} < last ack {last_ack}",
            s.version
        );
        assert_eq!(s.events.len() as u64, s.version, "version must equal the number of stored events");
        for (i, e) in s.events.iter().enumerate() {
            let n = i as u64 + 1;
            assert_eq!(e.text(), format!("crash {n}"), "event {n} has wrong content after the crash");
            assert_eq!(e.invocation_id, format!("inv-{n}"));
        }
        assert_eq!(s.state.get("n"), Some(&json!(s.version)), "state must reflect the last stored event");
        // The store still works after recovery.
        let next = crash_event(s.version + 1);
        let v = store.append_event(APP, USER, &session, s.version, &next).await.expect("append after crash");
        assert_eq!(v, s.version + 1);
        eprintln!("crash test: {last_ack} acknowledged, {} stored after SIGKILL", s.version);
    });
}
