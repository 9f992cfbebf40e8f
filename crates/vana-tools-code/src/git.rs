//! Local git tools on a checkout in the session workspace: `git_status`, `git_log`, `git_diff`
//! and `git_commit` (approval).
//!
//! A workspace repository is untrusted: its `.git/config` (and `.gitattributes`) can name
//! programs git runs by itself (`core.fsmonitor`, hooks, `diff.external`, textconv and filter
//! drivers, `core.pager`, `gpg.program`, ...). So git never runs on the host: every call runs
//! git inside the session's sandbox (no network, only `/workspace` writable), and there with
//! every such setting overridden from the command line or environment (which win over the
//! repository's files), the system and global configuration ignored, hooks and external diff
//! and textconv off. Arguments (folder, paths, message, author) travel as environment
//! variables, positional arguments and standard input, never inside the script's text.

use super::sandbox::Sandbox;
use async_trait::async_trait;
use serde::Deserialize;
use serde_json::{json, Value};
use std::sync::Arc;
use std::time::Duration;
use vana_core::{ToolContext, ToolError, ToolOutput};
use vana_sandbox::{ExecutionRequest, ExecutionResult};
use vana_toolkit::schemars::JsonSchema;
use vana_toolkit::vana_workspace::{normalize, FileKind};
use vana_toolkit::{tool_error, TypedTool};

/// Most bytes of git output a call passes back from the sandbox (its own cap per stream is
/// 1 MiB; a run writing more is killed).
const OUTPUT_CAP: usize = 900_000;
/// Default and largest `max_bytes` of `git_diff`.
const DIFF_DEFAULT: usize = 100_000;
const DIFF_MAX: usize = 500_000;
/// Most bytes of file names `git_diff` lists.
const NAMES_CAP: usize = 200_000;
/// Default and largest `max_count` of `git_log`.
const LOG_DEFAULT: usize = 20;
const LOG_MAX: usize = 1000;
/// Default author and committer of `git_commit`.
const DEFAULT_NAME: &str = "VANA";
const DEFAULT_EMAIL: &str = "vana@localhost";

/// Exit codes of the scripts' own refusals (git itself exits 0, 1, 128 or 129).
const EXIT_NO_FOLDER: i32 = 90;
const EXIT_ESCAPES: i32 = 91;
const EXIT_NOT_REPO: i32 = 92;
const EXIT_NOTHING: i32 = 93;

/// The shared start of every script (bash): enter the folder (refusing one that resolves
/// outside /workspace), check it is in a repository, define `G` (git with every
/// program-running setting neutralised) and blank every filter, diff and merge driver the
/// repository's configuration names (their names are arbitrary, so they are read first and
/// overridden through GIT_CONFIG_KEY_n/VALUE_n, which takes names with any characters).
const PRELUDE: &str = r#"set -u
export GIT_CONFIG_NOSYSTEM=1 GIT_CONFIG_GLOBAL=/dev/null GIT_TERMINAL_PROMPT=0 GIT_OPTIONAL_LOCKS=0 \
  GIT_LITERAL_PATHSPECS=1 GIT_PAGER=cat PAGER=cat GIT_EDITOR=false GIT_ASKPASS= SSH_ASKPASS= \
  GIT_EXTERNAL_DIFF= GIT_SSH_COMMAND=false GIT_CEILING_DIRECTORIES=/
unset GIT_DIR GIT_WORK_TREE GIT_INDEX_FILE GIT_CONFIG GIT_CONFIG_PARAMETERS
d=/workspace${VANA_GIT_PATH:+/$VANA_GIT_PATH}
cd -P -- "$d" 2>/dev/null || { echo "no folder \`${VANA_GIT_PATH:-.}\` in the workspace" >&2; exit 90; }
case "$(pwd -P)" in /workspace|/workspace/*) ;; *) echo "\`$VANA_GIT_PATH\` leads outside the workspace" >&2; exit 91;; esac
G=(git --no-pager -c core.hooksPath=/dev/null -c core.fsmonitor=false -c diff.external= -c core.pager=cat
  -c core.editor=false -c sequence.editor=false -c core.sshCommand=false -c core.askPass= -c credential.helper=
  -c core.alternateRefsCommand= -c commit.gpgSign=false -c tag.gpgSign=false -c log.showSignature=false
  -c gpg.program=false -c gpg.ssh.program=false -c gpg.x509.program=false -c protocol.allow=never
  -c gc.auto=0 -c maintenance.auto=false -c core.untrackedCache=false -c status.submoduleSummary=false
  -c diff.ignoreSubmodules=all -c submodule.recurse=false -c color.ui=false -c core.quotePath=false
  -c safe.directory=* -c init.templateDir=)
"${G[@]}" rev-parse --git-dir >/dev/null 2>&1 || { echo "\`${VANA_GIT_PATH:-.}\` is not in a git repository" >&2; exit 92; }
n=0
declare -A seen=()
while IFS= read -r -d '' k; do
  drv=${k%.*}
  [[ -n ${seen[$drv]:-} ]] && continue
  seen[$drv]=1
  case $drv in
    filter.*) set_keys="clean= smudge= process= required=false" ;;
    diff.*) set_keys="textconv= command= cachetextconv=false" ;;
    *) set_keys="driver=" ;;
  esac
  for kv in $set_keys; do
    export "GIT_CONFIG_KEY_$n=$drv.${kv%%=*}" "GIT_CONFIG_VALUE_$n=${kv#*=}"
    n=$((n+1))
  done
done < <("${G[@]}" config -z --name-only --get-regexp '^(filter|diff|merge)\.' 2>/dev/null)
export GIT_CONFIG_COUNT=$n
out=/tmp/vana-git.out
# Prints the size of $out, a newline and at most VANA_GIT_CAP bytes of it.
emit() { printf '%s\n' "$(wc -c <"$out")"; head -c "$VANA_GIT_CAP" "$out"; }
"#;

const STATUS: &str = r#"
"${G[@]}" status --porcelain=v2 --branch -z --untracked-files=all --ignore-submodules=all >"$out" || exit $?
emit
"#;

const LOG: &str = r#"
"${G[@]}" rev-parse -q --verify HEAD >/dev/null || { : >"$out"; emit; exit 0; }
"${G[@]}" log --no-color --no-show-signature -n "$VANA_GIT_MAX" --format='%H%x00%an%x00%ae%x00%aI%x00%s%x00' >"$out" || exit $?
emit
"#;

const DIFF: &str = r#"
opts=(--no-ext-diff --no-textconv --no-color --ignore-submodules=all)
[[ ${VANA_GIT_STAGED:-} == 1 ]] && opts+=(--cached)
"${G[@]}" diff "${opts[@]}" --name-only -z -- "$@" >/tmp/vana-git.names || exit $?
printf '%s\n' "$(wc -c </tmp/vana-git.names)"
head -c "$VANA_GIT_NAMES_CAP" /tmp/vana-git.names
printf '\0\0'
"${G[@]}" diff "${opts[@]}" -- "$@" >"$out" || exit $?
emit
"#;

const COMMIT: &str = r#"
if [[ ${VANA_GIT_ALL:-} == 1 ]]; then "${G[@]}" add -A || exit $?
elif [[ $# -gt 0 ]]; then "${G[@]}" add -- "$@" || exit $?
fi
if "${G[@]}" rev-parse -q --verify HEAD >/dev/null; then
  "${G[@]}" diff --cached --quiet --ignore-submodules=all --no-ext-diff && { echo "nothing to commit: no staged changes" >&2; exit 93; }
else
  [[ -n $("${G[@]}" ls-files -z | head -c 1) ]] || { echo "nothing to commit: no staged changes" >&2; exit 93; }
fi
export GIT_AUTHOR_NAME=$VANA_GIT_NAME GIT_AUTHOR_EMAIL=$VANA_GIT_EMAIL GIT_COMMITTER_NAME=$VANA_GIT_NAME GIT_COMMITTER_EMAIL=$VANA_GIT_EMAIL
"${G[@]}" commit --no-verify --no-gpg-sign --cleanup=strip -q -F - || exit $?
"${G[@]}" log -1 --no-show-signature --format='%H%x00%an%x00%ae%x00%aI%x00%s%x00' >"$out" || exit $?
"${G[@]}" diff-tree --no-commit-id --name-only -r -z --root --no-ext-diff HEAD >>"$out" || exit $?
"${G[@]}" symbolic-ref -q --short HEAD | tr -d '\n' >>"$out"
emit
"#;

/// The checked folder: `""` for the workspace root, else a normalised relative path naming a
/// directory (not a link, no link among its parents) that exists in the session's workspace.
fn check_folder(sandbox: &Sandbox, ctx: &ToolContext, path: Option<&str>) -> Result<String, ToolError> {
    let raw = path.unwrap_or("").trim();
    if raw.is_empty() || raw == "." || raw == "/workspace" || raw == "/workspace/" {
        return Ok(String::new());
    }
    let rel = normalize(raw).map_err(|e| ToolError::InvalidArgs(format!("field `path`: {e}")))?;
    let ws = sandbox.workspaces().open(&ctx.session_id).map_err(tool_error)?.ok_or_else(|| {
        ToolError::InvalidArgs(format!("field `path`: no folder `{rel}`: this session's workspace is empty"))
    })?;
    match ws.stat(&rel) {
        Ok(Some(info)) if info.kind == FileKind::Directory => Ok(rel),
        Ok(Some(info)) if info.kind == FileKind::Symlink => Err(ToolError::InvalidArgs(format!(
            "field `path`: `{rel}` is a symbolic link; name the repository's folder itself"
        ))),
        Ok(Some(_)) => Err(ToolError::InvalidArgs(format!("field `path`: `{rel}` is not a folder"))),
        Ok(None) => Err(ToolError::InvalidArgs(format!("field `path`: no folder `{rel}` in the workspace"))),
        Err(e) => Err(ToolError::InvalidArgs(format!("field `path`: {e}"))),
    }
}

/// Pathspecs relative to the repository folder: each a normalised relative path.
fn check_paths(field: &str, paths: &[String]) -> Result<Vec<String>, ToolError> {
    paths
        .iter()
        .map(|p| normalize(p).map_err(|e| ToolError::InvalidArgs(format!("field `{field}`: {e}"))))
        .collect()
}

/// Runs `body` after the prelude in the session's sandbox; a failing git becomes a tool error
/// with git's message.
async fn run_git(
    sandbox: &Sandbox,
    ctx: &ToolContext,
    folder: &str,
    body: &str,
    mut req_fn: impl FnMut(ExecutionRequest) -> ExecutionRequest,
) -> Result<ExecutionResult, ToolError> {
    let req = ExecutionRequest::new("bash", format!("{PRELUDE}{body}"))
        .session(ctx.session_id.clone())
        .timeout(Duration::from_secs(120))
        .env("VANA_GIT_PATH", folder)
        .env("VANA_GIT_CAP", OUTPUT_CAP.to_string());
    let r = sandbox.run(req_fn(req)).await?;
    if r.timed_out {
        return Err(ToolError::Failed("git took longer than 120 s in the sandbox".into()));
    }
    match r.exit_code {
        Some(0) => Ok(r),
        Some(EXIT_NO_FOLDER | EXIT_ESCAPES | EXIT_NOT_REPO | EXIT_NOTHING) => {
            Err(ToolError::InvalidArgs(r.stderr.trim().to_string()))
        }
        code => {
            let how = code.map(|c| format!("exit status {c}")).unwrap_or_else(|| "a signal".into());
            Err(ToolError::Failed(format!("git failed ({how}): {}", r.stderr.trim())))
        }
    }
}

/// Splits `emit`'s output (size line, then at most the cap of content) into content and
/// whether it was cut.
fn emitted(s: &str) -> (&str, usize, bool) {
    let (size, rest) = s.split_once('\n').unwrap_or((s, ""));
    let size: usize = size.trim().parse().unwrap_or(rest.len());
    (rest, size, size > rest.len())
}

/// One entry of porcelain v2 status.
fn entry(path: &str, code: char, orig: Option<&str>) -> Value {
    let mut v = json!({"path": path, "status": status_word(code)});
    if let Some(o) = orig {
        v["origPath"] = json!(o);
    }
    v
}

fn status_word(c: char) -> &'static str {
    match c {
        'M' => "modified",
        'T' => "typechange",
        'A' => "added",
        'D' => "deleted",
        'R' => "renamed",
        'C' => "copied",
        'U' => "unmerged",
        _ => "changed",
    }
}

/// Parses `git status --porcelain=v2 --branch -z`.
fn parse_status(text: &str, truncated: bool) -> Value {
    let mut recs: Vec<&str> = text.split('\0').collect();
    // The last record is empty (output ends with NUL) or, when cut, partial.
    recs.pop();
    let (mut oid, mut head, mut upstream, mut ahead, mut behind) = (None, None, None, 0i64, 0i64);
    let (mut staged, mut unstaged, mut untracked, mut conflicted) = (vec![], vec![], vec![], vec![]);
    let mut it = recs.into_iter();
    while let Some(rec) = it.next() {
        if let Some(h) = rec.strip_prefix("# ") {
            let (k, v) = h.split_once(' ').unwrap_or((h, ""));
            match k {
                "branch.oid" => oid = (v != "(initial)").then(|| v.to_string()),
                "branch.head" => head = Some(v.to_string()),
                "branch.upstream" => upstream = Some(v.to_string()),
                "branch.ab" => {
                    for part in v.split(' ') {
                        if let Some(a) = part.strip_prefix('+') {
                            ahead = a.parse().unwrap_or(0);
                        } else if let Some(b) = part.strip_prefix('-') {
                            behind = b.parse().unwrap_or(0);
                        }
                    }
                }
                _ => {}
            }
            continue;
        }
        let kind = rec.chars().next().unwrap_or(' ');
        match kind {
            '1' | '2' => {
                let fields = if kind == '1' { 9 } else { 10 };
                let parts: Vec<&str> = rec.splitn(fields, ' ').collect();
                let Some(path) = parts.get(fields - 1).copied() else { continue };
                let orig = if kind == '2' { it.next() } else { None };
                let xy: Vec<char> = parts.get(1).copied().unwrap_or("..").chars().collect();
                let (x, y) = (xy.first().copied().unwrap_or('.'), xy.get(1).copied().unwrap_or('.'));
                if x != '.' {
                    staged.push(entry(path, x, orig));
                }
                if y != '.' {
                    unstaged.push(entry(path, y, None));
                }
            }
            'u' => {
                if let Some(path) = rec.splitn(11, ' ').nth(10) {
                    conflicted.push(json!(path));
                }
            }
            '?' => untracked.push(json!(&rec[2.min(rec.len())..])),
            _ => {}
        }
    }
    let detached = head.as_deref() == Some("(detached)");
    let clean = staged.is_empty() && unstaged.is_empty() && untracked.is_empty() && conflicted.is_empty();
    json!({
        "branch": if detached { Value::Null } else { json!(head) },
        "detached": detached,
        "head": oid,
        "upstream": upstream,
        "ahead": ahead,
        "behind": behind,
        "staged": staged,
        "unstaged": unstaged,
        "untracked": untracked,
        "conflicted": conflicted,
        "clean": clean && !truncated,
        "truncated": truncated,
    })
}

/// Parses commits printed as `%H %an %ae %aI %s`, each field NUL-terminated; returns the
/// commits and the rest.
fn parse_commits(text: &str, max: usize) -> (Vec<Value>, &str) {
    let mut commits = Vec::new();
    let mut rest = text;
    while commits.len() < max {
        let mut fields = Vec::with_capacity(5);
        let mut r = rest;
        for _ in 0..5 {
            match r.split_once('\0') {
                Some((f, tail)) => {
                    fields.push(f);
                    r = tail;
                }
                None => break,
            }
        }
        if fields.len() < 5 {
            break;
        }
        let hash = fields[0];
        if hash.len() < 40 || !hash.bytes().all(|b| b.is_ascii_hexdigit()) {
            break;
        }
        commits.push(json!({
            "hash": hash, "author": fields[1], "email": fields[2], "date": fields[3], "subject": fields[4]
        }));
        // `--format` ends each commit with a newline.
        rest = r.strip_prefix('\n').unwrap_or(r);
    }
    (commits, rest)
}

/// `path` and nothing else (git_status).
#[derive(Debug, Deserialize, JsonSchema)]
pub struct GitStatusArgs {
    /// Folder of the repository, relative to /workspace (default: the workspace itself).
    #[serde(default)]
    pub path: Option<String>,
}

/// `git_status`: branch, ahead/behind, staged, unstaged, untracked and conflicted files.
pub struct GitStatus {
    sandbox: Arc<Sandbox>,
}

impl GitStatus {
    /// The tool over a shared sandbox.
    pub fn new(sandbox: Arc<Sandbox>) -> Self {
        GitStatus { sandbox }
    }
}

#[async_trait]
impl TypedTool for GitStatus {
    type Args = GitStatusArgs;

    fn name(&self) -> &'static str {
        "git_status"
    }

    fn description(&self) -> &'static str {
        "Status of a git repository in the session workspace (git runs in the sandbox, the repository's \
         hooks and configured programs never run): branch, upstream ahead/behind, staged, unstaged, untracked \
         and conflicted files."
    }

    fn timeout(&self) -> Option<Duration> {
        Some(Duration::from_secs(180))
    }

    async fn run(&self, args: GitStatusArgs, ctx: ToolContext) -> Result<ToolOutput, ToolError> {
        let folder = check_folder(&self.sandbox, &ctx, args.path.as_deref())?;
        let r = run_git(&self.sandbox, &ctx, &folder, STATUS, |q| q).await?;
        let (text, _, truncated) = emitted(&r.stdout);
        let mut v = parse_status(text, truncated);
        v["path"] = json!(if folder.is_empty() { "." } else { &folder });
        Ok(ToolOutput::json(v))
    }
}

/// Arguments of git_log.
#[derive(Debug, Deserialize, JsonSchema)]
pub struct GitLogArgs {
    /// Folder of the repository, relative to /workspace (default: the workspace itself).
    #[serde(default)]
    pub path: Option<String>,
    /// Most commits to list, newest first (default 20, at most 1000).
    #[serde(default)]
    pub max_count: Option<usize>,
}

/// `git_log`: the newest commits of the current branch.
pub struct GitLog {
    sandbox: Arc<Sandbox>,
}

impl GitLog {
    /// The tool over a shared sandbox.
    pub fn new(sandbox: Arc<Sandbox>) -> Self {
        GitLog { sandbox }
    }
}

#[async_trait]
impl TypedTool for GitLog {
    type Args = GitLogArgs;

    fn name(&self) -> &'static str {
        "git_log"
    }

    fn description(&self) -> &'static str {
        "Recent commits of a git repository in the session workspace, newest first: hash, author, email, \
         date (ISO 8601) and subject; max_count (default 20)."
    }

    fn timeout(&self) -> Option<Duration> {
        Some(Duration::from_secs(180))
    }

    async fn run(&self, args: GitLogArgs, ctx: ToolContext) -> Result<ToolOutput, ToolError> {
        let max = args.max_count.unwrap_or(LOG_DEFAULT);
        if max == 0 || max > LOG_MAX {
            return Err(ToolError::InvalidArgs(format!("field `max_count`: 1 to {LOG_MAX}, got {max}")));
        }
        let folder = check_folder(&self.sandbox, &ctx, args.path.as_deref())?;
        let r =
            run_git(&self.sandbox, &ctx, &folder, LOG, |q| q.env("VANA_GIT_MAX", max.to_string())).await?;
        let (text, _, truncated) = emitted(&r.stdout);
        let (commits, _) = parse_commits(text, max);
        Ok(ToolOutput::json(json!({
            "path": if folder.is_empty() { "." } else { &folder },
            "count": commits.len(),
            "commits": commits,
            "truncated": truncated,
        })))
    }
}

/// Arguments of git_diff.
#[derive(Debug, Deserialize, JsonSchema)]
pub struct GitDiffArgs {
    /// Folder of the repository, relative to /workspace (default: the workspace itself).
    #[serde(default)]
    pub path: Option<String>,
    /// true: the staged changes (index against HEAD); false (default): unstaged changes (working tree against the index).
    #[serde(default)]
    pub staged: bool,
    /// Only these files or folders, relative to the repository folder (default: all).
    #[serde(default)]
    pub paths: Vec<String>,
    /// Most bytes of diff to return (default 100000, at most 500000); `truncated` says when it was cut.
    #[serde(default)]
    pub max_bytes: Option<usize>,
}

/// `git_diff`: the unified diff of staged or unstaged changes.
pub struct GitDiff {
    sandbox: Arc<Sandbox>,
}

impl GitDiff {
    /// The tool over a shared sandbox.
    pub fn new(sandbox: Arc<Sandbox>) -> Self {
        GitDiff { sandbox }
    }
}

#[async_trait]
impl TypedTool for GitDiff {
    type Args = GitDiffArgs;

    fn name(&self) -> &'static str {
        "git_diff"
    }

    fn description(&self) -> &'static str {
        "Unified diff of a git repository in the session workspace: unstaged changes, or staged ones \
         (staged=true), optionally only some paths; the files changed, and the diff cut at max_bytes \
         (truncated=true then)."
    }

    fn timeout(&self) -> Option<Duration> {
        Some(Duration::from_secs(180))
    }

    async fn run(&self, args: GitDiffArgs, ctx: ToolContext) -> Result<ToolOutput, ToolError> {
        let max = args.max_bytes.unwrap_or(DIFF_DEFAULT);
        if max == 0 || max > DIFF_MAX {
            return Err(ToolError::InvalidArgs(format!("field `max_bytes`: 1 to {DIFF_MAX}, got {max}")));
        }
        let folder = check_folder(&self.sandbox, &ctx, args.path.as_deref())?;
        let paths = check_paths("paths", &args.paths)?;
        let staged = args.staged;
        let r = run_git(&self.sandbox, &ctx, &folder, DIFF, |mut q| {
            q.args = paths.clone();
            q.env("VANA_GIT_STAGED", if staged { "1" } else { "0" })
                .env("VANA_GIT_CAP", max.to_string())
                .env("VANA_GIT_NAMES_CAP", NAMES_CAP.to_string())
        })
        .await?;
        let (names_size, rest) = r.stdout.split_once('\n').unwrap_or(("0", ""));
        let names_size: usize = names_size.trim().parse().unwrap_or(0);
        let (names, diff_part) = match rest.find("\0\0") {
            Some(i) => (&rest[..i], rest[i..].trim_start_matches('\0')),
            None => (rest, ""),
        };
        let files: Vec<&str> = names.split('\0').filter(|n| !n.is_empty()).collect();
        let (diff, bytes, truncated) = emitted(diff_part);
        let mut diff = diff.to_string();
        if truncated {
            // End on a whole line.
            if let Some(i) = diff.rfind('\n') {
                diff.truncate(i + 1);
            }
        }
        Ok(ToolOutput::json(json!({
            "path": if folder.is_empty() { "." } else { &folder },
            "staged": staged,
            "files": files,
            "filesTruncated": names_size > NAMES_CAP,
            "diff": diff,
            "bytes": bytes,
            "truncated": truncated,
            "maxBytes": max,
        })))
    }
}

/// Arguments of git_commit.
#[derive(Debug, Deserialize, JsonSchema)]
pub struct GitCommitArgs {
    /// Folder of the repository, relative to /workspace (default: the workspace itself).
    #[serde(default)]
    pub path: Option<String>,
    /// The commit message.
    pub message: String,
    /// Files or folders to stage first (`git add`), relative to the repository folder.
    #[serde(default)]
    pub paths: Vec<String>,
    /// Stage every change first, new and deleted files included (`git add -A`).
    #[serde(default)]
    pub all: bool,
    /// Author and committer name (default VANA).
    #[serde(default)]
    pub author_name: Option<String>,
    /// Author and committer email (default vana@localhost).
    #[serde(default)]
    pub author_email: Option<String>,
}

/// `git_commit`: stages the given paths (or all) and commits, after the user's approval.
pub struct GitCommit {
    sandbox: Arc<Sandbox>,
}

impl GitCommit {
    /// The tool over a shared sandbox.
    pub fn new(sandbox: Arc<Sandbox>) -> Self {
        GitCommit { sandbox }
    }
}

fn check_ident(field: &str, v: &str) -> Result<(), ToolError> {
    if v.trim().is_empty() || v.len() > 200 || v.chars().any(|c| c.is_control() || c == '<' || c == '>') {
        return Err(ToolError::InvalidArgs(format!(
            "field `{field}`: 1 to 200 characters, without `<`, `>` or control characters"
        )));
    }
    Ok(())
}

#[async_trait]
impl TypedTool for GitCommit {
    type Args = GitCommitArgs;

    fn name(&self) -> &'static str {
        "git_commit"
    }

    fn description(&self) -> &'static str {
        "Commit in a git repository in the session workspace (asks for the user's approval first): stages \
         `paths` (or every change with all=true), then commits the staged changes with `message`; hooks never \
         run. Returns the new commit's hash and the files it contains."
    }

    fn requires_confirmation(&self) -> bool {
        true
    }

    fn timeout(&self) -> Option<Duration> {
        Some(Duration::from_secs(180))
    }

    async fn run(&self, args: GitCommitArgs, ctx: ToolContext) -> Result<ToolOutput, ToolError> {
        if args.message.trim().is_empty() {
            return Err(ToolError::InvalidArgs("field `message`: empty".into()));
        }
        if args.message.len() > 65_536 || args.message.contains('\0') {
            return Err(ToolError::InvalidArgs("field `message`: at most 64 KiB, without NUL bytes".into()));
        }
        let name = args.author_name.as_deref().unwrap_or(DEFAULT_NAME);
        let email = args.author_email.as_deref().unwrap_or(DEFAULT_EMAIL);
        check_ident("author_name", name)?;
        check_ident("author_email", email)?;
        if args.all && !args.paths.is_empty() {
            return Err(ToolError::InvalidArgs("give either `paths` or all=true, not both".into()));
        }
        let folder = check_folder(&self.sandbox, &ctx, args.path.as_deref())?;
        let paths = check_paths("paths", &args.paths)?;
        let r = run_git(&self.sandbox, &ctx, &folder, COMMIT, |mut q| {
            q.args = paths.clone();
            q.env("VANA_GIT_ALL", if args.all { "1" } else { "0" })
                .env("VANA_GIT_NAME", name)
                .env("VANA_GIT_EMAIL", email)
                .stdin(args.message.as_bytes().to_vec())
        })
        .await?;
        let (text, _, _) = emitted(&r.stdout);
        let (commits, rest) = parse_commits(text, 1);
        let commit = commits.into_iter().next().ok_or_else(|| {
            ToolError::Failed(format!("git committed but its output was unexpected: {text:?}"))
        })?;
        let mut parts: Vec<&str> = rest.split('\0').collect();
        let branch = parts.pop().filter(|b| !b.is_empty());
        let files: Vec<&str> = parts.into_iter().filter(|f| !f.is_empty()).collect();
        Ok(ToolOutput::json(json!({
            "committed": true,
            "path": if folder.is_empty() { "." } else { &folder },
            "hash": commit["hash"],
            "branch": branch,
            "author": commit["author"],
            "email": commit["email"],
            "date": commit["date"],
            "subject": commit["subject"],
            "files": files,
        })))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn porcelain_v2_is_parsed() {
        let text = "# branch.oid 1111111111111111111111111111111111111111\0# branch.head main\0\
                    # branch.upstream origin/main\0# branch.ab +2 -1\0\
                    1 M. N... 100644 100644 100644 aaa bbb staged file.txt\0\
                    1 .M N... 100644 100644 100644 aaa aaa work.txt\0\
                    2 R. N... 100644 100644 100644 aaa aaa R100 new name.txt\0old name.txt\0\
                    u UU N... 100644 100644 100644 100644 a b c both.txt\0? new dir/x.txt\0";
        let v = parse_status(text, false);
        assert_eq!(v["branch"], "main");
        assert_eq!((v["ahead"].as_i64(), v["behind"].as_i64()), (Some(2), Some(1)));
        assert_eq!(v["staged"][0], json!({"path": "staged file.txt", "status": "modified"}));
        assert_eq!(
            v["staged"][1],
            json!({"path": "new name.txt", "status": "renamed", "origPath": "old name.txt"})
        );
        assert_eq!(v["unstaged"], json!([{"path": "work.txt", "status": "modified"}]));
        assert_eq!(v["conflicted"], json!(["both.txt"]));
        assert_eq!(v["untracked"], json!(["new dir/x.txt"]));
        assert_eq!(v["clean"], false);
    }
}
