//! The git tools against the real git inside the real sandbox: a status/diff/commit/log round
//! trip; a planted hostile repository (fsmonitor, hooks, filter, diff and pager programs,
//! signing) whose programs never run; hostile folders, paths and messages refused or passed
//! as plain data; and a denied commit that changes nothing.

use serde_json::{json, Value};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use vana_core::{Content, LlmAgent, Outcome, Runner, ToolContext, ToolError, ToolRegistry};
use vana_testkit::{ScriptedModel, ScriptedTurn};
use vana_toolkit::ToolSuite;
use vana_tools_code::{CodeSuite, Sandbox};

fn unique(prefix: &str) -> String {
    use std::time::{SystemTime, UNIX_EPOCH};
    static N: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
    format!(
        "{prefix}-{}-{}-{}",
        std::process::id(),
        SystemTime::now().duration_since(UNIX_EPOCH).unwrap().as_nanos(),
        N.fetch_add(1, std::sync::atomic::Ordering::SeqCst)
    )
}

struct Env {
    sb: Arc<Sandbox>,
    dir: PathBuf,
    reg: ToolRegistry,
}

impl Env {
    fn new() -> Env {
        let dir = std::env::temp_dir().join(unique("vana-git-test"));
        std::fs::create_dir_all(&dir).unwrap();
        let sb = Arc::new(Sandbox::new(&dir, &dir));
        let mut reg = ToolRegistry::new();
        for tool in CodeSuite::new(sb.clone()).tools() {
            reg.register(tool);
        }
        Env { sb, dir, reg }
    }

    async fn call(&self, name: &str, session: &str, args: Value) -> Result<Value, ToolError> {
        self.reg
            .get(name)
            .unwrap()
            .call(args, ToolContext::standalone("test", "u", session))
            .await
            .map(|o| o.response)
    }

    /// Runs a shell script in the session's sandbox (how a user's code would set a repo up).
    async fn sh(&self, session: &str, code: &str) -> Value {
        let r = self.call("execute_code", session, json!({"language": "bash", "code": code})).await.unwrap();
        assert_eq!(r["exitCode"], 0, "{r}");
        r
    }

    fn workspace(&self, session: &str) -> PathBuf {
        self.dir.join("workspaces").join(session)
    }
}

impl Drop for Env {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// A repo made with plain git (the user's own commands, in the sandbox) with one commit.
const INIT: &str = "set -e; mkdir -p proj && cd proj && git init -q -b main . && \
    git config user.name Tester && git config user.email t@example.com && \
    printf 'one\\ntwo\\n' > a.txt && git add a.txt && git commit -q -m 'first commit'";

#[tokio::test]
async fn status_diff_commit_log_round_trip() {
    let env = Env::new();
    env.sh("s", INIT).await;

    let st = env.call("git_status", "s", json!({"path": "proj"})).await.unwrap();
    assert_eq!(st["branch"], "main");
    assert_eq!(st["clean"], true, "{st}");
    let log = env.call("git_log", "s", json!({"path": "proj"})).await.unwrap();
    assert_eq!(log["count"], 1);
    assert_eq!(log["commits"][0]["subject"], "first commit");
    assert_eq!(log["commits"][0]["author"], "Tester");
    assert_eq!(log["commits"][0]["hash"].as_str().unwrap().len(), 40);

    // A change, a staged new file and an untracked one (with a space in its name).
    env.sh(
        "s",
        "cd proj && printf 'one\\nTWO\\n' > a.txt && echo b > b.txt && git add b.txt && echo c > 'c d.txt'",
    )
    .await;
    let st = env.call("git_status", "s", json!({"path": "proj"})).await.unwrap();
    assert_eq!(st["staged"], json!([{"path": "b.txt", "status": "added"}]), "{st}");
    assert_eq!(st["unstaged"], json!([{"path": "a.txt", "status": "modified"}]));
    assert_eq!(st["untracked"], json!(["c d.txt"]));
    assert_eq!(st["clean"], false);

    let d = env.call("git_diff", "s", json!({"path": "proj"})).await.unwrap();
    assert_eq!(d["files"], json!(["a.txt"]));
    assert!(d["diff"].as_str().unwrap().contains("-two\n+TWO\n"), "{d}");
    assert_eq!(d["truncated"], false);
    let d = env.call("git_diff", "s", json!({"path": "proj", "staged": true})).await.unwrap();
    assert_eq!(d["files"], json!(["b.txt"]));
    assert!(d["diff"].as_str().unwrap().contains("+b\n"), "{d}");
    // The path filter and the size cap.
    let d = env.call("git_diff", "s", json!({"path": "proj", "paths": ["b.txt"]})).await.unwrap();
    assert_eq!(d["files"], json!([]));
    assert_eq!(d["diff"], "");
    let d = env.call("git_diff", "s", json!({"path": "proj", "max_bytes": 40})).await.unwrap();
    assert_eq!(d["truncated"], true);
    assert!(d["bytes"].as_u64().unwrap() > 40 && d["diff"].as_str().unwrap().len() <= 40, "{d}");

    // Commit only the staged file (default author), then everything with another author.
    let c = env.call("git_commit", "s", json!({"path": "proj", "message": "add b"})).await.unwrap();
    assert_eq!(c["files"], json!(["b.txt"]), "{c}");
    assert_eq!(c["branch"], "main");
    assert_eq!((c["author"].as_str(), c["email"].as_str()), (Some("VANA"), Some("vana@localhost")));
    let c2 = env
        .call(
            "git_commit",
            "s",
            json!({"path": "proj", "message": "the rest\n\nbody", "all": true, "author_name": "Ada", "author_email": "ada@example.com"}),
        )
        .await
        .unwrap();
    assert_eq!(c2["files"], json!(["a.txt", "c d.txt"]), "{c2}");
    let st = env.call("git_status", "s", json!({"path": "proj"})).await.unwrap();
    assert_eq!(st["clean"], true, "{st}");
    // Nothing left to commit is a clear error.
    let e = env
        .call("git_commit", "s", json!({"path": "proj", "message": "again", "all": true}))
        .await
        .unwrap_err();
    assert!(e.to_string().contains("nothing to commit"), "{e}");

    let log = env.call("git_log", "s", json!({"path": "proj", "max_count": 2})).await.unwrap();
    assert_eq!(log["count"], 2);
    assert_eq!(log["commits"][0]["hash"], c2["hash"]);
    assert_eq!(log["commits"][0]["subject"], "the rest");
    assert_eq!(log["commits"][0]["author"], "Ada");
    assert_eq!(log["commits"][1]["hash"], c["hash"]);
    // The hashes are the repository's own (checked with plain git in the sandbox).
    let r = env.sh("s", "cd proj && git rev-parse HEAD HEAD~1").await;
    assert_eq!(r["stdout"], format!("{}\n{}\n", c2["hash"].as_str().unwrap(), c["hash"].as_str().unwrap()));
}

#[tokio::test]
async fn an_empty_repository_and_a_folder_without_one() {
    let env = Env::new();
    env.sh("s", "mkdir -p fresh plain && cd fresh && git init -q -b trunk . && echo x > x.txt").await;
    let log = env.call("git_log", "s", json!({"path": "fresh"})).await.unwrap();
    assert_eq!(log["commits"], json!([]));
    let st = env.call("git_status", "s", json!({"path": "fresh"})).await.unwrap();
    assert_eq!((st["branch"].as_str(), st["head"].clone()), (Some("trunk"), Value::Null));
    let c = env
        .call("git_commit", "s", json!({"path": "fresh", "message": "root", "paths": ["x.txt"]}))
        .await
        .unwrap();
    assert_eq!(c["files"], json!(["x.txt"]));
    let e = env.call("git_status", "s", json!({"path": "plain"})).await.unwrap_err();
    assert!(
        matches!(e, ToolError::InvalidArgs(_)) && e.to_string().contains("not in a git repository"),
        "{e}"
    );
}

/// Files whose appearance would mean a repository's program ran.
fn markers(ws: &Path) -> Vec<PathBuf> {
    ["fsmonitor", "hook", "filter", "diffext", "textconv", "pager", "gpg", "postcommit"]
        .iter()
        .flat_map(|m| [ws.join(format!("proj/pwned-{m}")), PathBuf::from(format!("/tmp/vana-git-pwned-{m}"))])
        .collect()
}

#[tokio::test]
async fn a_hostile_repository_runs_none_of_its_programs() {
    let env = Env::new();
    env.sh("s", INIT).await;
    // Every program a repository can name, each touching a marker in the workspace and in /tmp
    // (the sandbox's /tmp is its own; the host's must stay clean too).
    let plant = r#"set -e; cd /workspace/proj
t() { echo "touch /workspace/proj/pwned-$1 /tmp/vana-git-pwned-$1"; }
cat >> .git/config <<EOF
[core]
	fsmonitor = $(t fsmonitor)
	pager = $(t pager); cat
[diff]
	external = $(t diffext)
[diff "evil"]
	textconv = $(t textconv); cat
[filter "evil"]
	clean = $(t filter); cat
	smudge = $(t filter); cat
	required = true
[filter "with \"quote\" and = sign"]
	clean = $(t filter); cat
[commit]
	gpgSign = true
[gpg]
	program = $(t gpg); false
[log]
	showSignature = true
EOF
printf '* filter=evil diff=evil\n*.md filter="with \\"quote\\" and = sign"\n' > .git/info/attributes
for h in pre-commit commit-msg prepare-commit-msg post-commit post-index-change; do
  printf '#!/bin/sh\ntouch /workspace/proj/pwned-hook /tmp/vana-git-pwned-hook\n' > .git/hooks/$h; chmod +x .git/hooks/$h
done
echo change >> a.txt; echo doc > r.md
"#;
    env.sh("s", plant).await;
    let ws = env.workspace("s");
    let st = env.call("git_status", "s", json!({"path": "proj"})).await.unwrap();
    assert_eq!(st["unstaged"], json!([{"path": "a.txt", "status": "modified"}]), "{st}");
    let d = env.call("git_diff", "s", json!({"path": "proj"})).await.unwrap();
    assert!(d["diff"].as_str().unwrap().contains("+change"), "{d}");
    let c = env
        .call("git_commit", "s", json!({"path": "proj", "message": "hostile", "all": true}))
        .await
        .unwrap();
    assert_eq!(c["files"], json!(["a.txt", "r.md"]), "{c}");
    env.call("git_log", "s", json!({"path": "proj"})).await.unwrap();
    env.call("git_diff", "s", json!({"path": "proj", "staged": true})).await.unwrap();
    for m in markers(&ws) {
        assert!(!m.exists(), "{} appeared: a repository program ran", m.display());
    }
    // Sanity: the same repository under plain git does run them (so the test plants real traps).
    env.sh(
        "s",
        "cd proj && git status >/dev/null 2>&1; git add -A >/dev/null 2>&1; ls pwned-fsmonitor pwned-filter",
    )
    .await;
}

#[tokio::test]
async fn hostile_folders_paths_and_messages_are_refused_or_stay_data() {
    let env = Env::new();
    env.sh("s", &format!("{INIT}; cd /workspace && ln -s /etc etc-link && ln -s proj proj-link")).await;
    for (path, why) in [
        ("/etc", "not absolute"),
        ("../other", "no `..`"),
        ("proj/../../x", "no `..`"),
        ("etc-link", "symbolic link"),
        ("proj-link", "symbolic link"),
        ("missing", "no folder"),
        ("proj/a.txt", "not a folder"),
    ] {
        let e = env.call("git_status", "s", json!({"path": path})).await.unwrap_err();
        assert!(matches!(e, ToolError::InvalidArgs(_)), "{path}: {e}");
        assert!(e.to_string().contains(why), "{path}: {e}");
    }
    let e =
        env.call("git_diff", "s", json!({"path": "proj", "paths": ["../../etc/passwd"]})).await.unwrap_err();
    assert!(e.to_string().contains("`paths`"), "{e}");
    let e = env
        .call("git_commit", "s", json!({"path": "proj", "message": "m", "author_email": "a>\n<b"}))
        .await
        .unwrap_err();
    assert!(e.to_string().contains("author_email"), "{e}");

    // Shell metacharacters in a file name and a message are data, not commands.
    let evil_msg =
        "x'; touch /tmp/vana-git-pwned-inject; ' $(touch /workspace/proj/pwned-inject) `touch pwned-inject`";
    let evil = "x'; touch pwned-inject; '$(touch pwned-inject)\"`touch pwned-inject`";
    env.sb.put_file("s", &format!("proj/{evil}"), b"hi\n").unwrap();
    let c = env
        .call("git_commit", "s", json!({"path": "proj", "message": evil_msg, "paths": [evil]}))
        .await
        .unwrap();
    assert_eq!(c["files"], json!([evil]), "{c}");
    assert_eq!(c["subject"], evil_msg, "{c}");
    let d = env.call("git_diff", "s", json!({"path": "proj", "paths": [evil]})).await.unwrap();
    assert_eq!(d["files"], json!([]));
    // The same in a folder name: the repository there is found, nothing else runs.
    let dir = "q'; touch pwned-inject; '$(touch pwned-inject)";
    env.sb.put_file("s", &format!("{dir}/f.txt"), b"f\n").unwrap();
    env.sh("s", "cd /workspace/q* && git init -q -b main .").await;
    let st = env.call("git_status", "s", json!({"path": dir})).await.unwrap();
    assert_eq!(st["untracked"], json!(["f.txt"]), "{st}");
    assert!(!Path::new("/tmp/vana-git-pwned-inject").exists());
    assert!(!env.workspace("s").join("proj/pwned-inject").exists());
    assert!(!env.workspace("s").join("pwned-inject").exists());
    assert!(!env.workspace("s").join(dir).join("pwned-inject").exists());
}

#[tokio::test]
async fn a_denied_commit_changes_nothing_and_an_approved_one_commits() {
    let env = Env::new();
    for approve in [false, true] {
        let model = Arc::new(ScriptedModel::named(
            "code",
            vec![
                ScriptedTurn::default().with_call_id(
                    "call_c",
                    "git_commit",
                    json!({"path": "proj", "message": "by the agent", "all": true}),
                ),
                ScriptedTurn::text("Done."),
            ],
        ));
        let agent =
            LlmAgent::builder("code_execution", model).tool(env.reg.get("git_commit").unwrap()).build();
        let store: Arc<dyn vana_core::SessionStore> = Arc::new(vana_testkit::MemoryStore::new());
        let runner = Runner::new(agent, store);
        let session = runner.create_session("u").await.unwrap().id;
        env.sh(&session, &format!("{INIT}; echo more >> a.txt")).await;
        let state = "cd proj && git rev-parse HEAD && git status --porcelain && git rev-list --count HEAD";
        let before = env.sh(&session, state).await["stdout"].clone();
        let inv = runner.run("u", &session, Content::user_text("commit it"), false).await.unwrap();
        let (paused, outcome) = inv.collect().await;
        assert_eq!(outcome, Outcome::Paused, "git_commit waits for approval");
        assert!(paused.last().unwrap().actions.requested_tool_confirmations.contains_key("call_c"));
        runner.approve("u", &session, "call_c", approve).await.unwrap().expect("resumed").collect().await;
        let now = env.sh(&session, state).await["stdout"].clone();
        if approve {
            assert_ne!(now, before, "an approved commit commits");
            let log = env.call("git_log", &session, json!({"path": "proj"})).await.unwrap();
            assert_eq!(log["commits"][0]["subject"], "by the agent");
        } else {
            assert_eq!(now, before, "a denied commit changes nothing");
        }
    }
}
