//! The GitHub tools: REST v3 against `[github] api_url` (api.github.com or a GitHub Enterprise
//! server's `/api/v3`), with the token from `GITHUB_TOKEN`, pagination through `Link: rel="next"`
//! (only to the same server), and rate limits honoured: a 429, or a 403 with `retry-after` or an
//! exhausted `x-ratelimit-remaining`, waits and retries within `[github] max_retries` and
//! `max_wait_secs`, else ends with an error that says when the limit resets. Creating issues and
//! pull requests asks a human first (`requires_confirmation`).

use crate::GithubConfig;
use async_trait::async_trait;
use base64::Engine;
use serde::Deserialize;
use serde_json::{json, Value};
use std::sync::Arc;
use std::time::Duration;
use vana_core::{Tool, ToolContext, ToolError, ToolOutput};
use vana_toolkit::schemars::{self, JsonSchema};
use vana_toolkit::{typed, TypedTool};

/// The client the tools share.
pub struct Github {
    config: GithubConfig,
    base: Result<url::Url, String>,
    client: Result<vana_net::Client, String>,
}

/// A response: status, the headers that matter, the body.
#[derive(Debug)]
pub struct Reply {
    /// The status code.
    pub status: u16,
    /// The next page's URL (`Link: rel="next"`).
    pub next: Option<String>,
    /// `x-ratelimit-remaining`, `-limit`, `-reset` as reported.
    pub rate: Value,
    /// The body as text.
    pub text: String,
}

impl Reply {
    fn json(&self) -> Result<Value, ToolError> {
        serde_json::from_str(&self.text).map_err(|e| {
            ToolError::Failed(format!("GitHub answered {} with a body that is not JSON: {e}", self.status))
        })
    }
}

/// The URL of `rel="next"` in a `Link` header.
pub fn next_link(link: &str) -> Option<String> {
    link.split(',').find_map(|part| {
        let (url, params) = part.split_once(';')?;
        let is_next = params.split(';').any(|p| {
            let p = p.trim().replace(' ', "");
            p == "rel=\"next\"" || p == "rel=next"
        });
        is_next.then(|| url.trim().trim_start_matches('<').trim_end_matches('>').to_string())
    })
}

/// A name GitHub allows for an owner or a repository.
fn check_name(field: &str, v: &str) -> Result<(), ToolError> {
    let ok = !v.is_empty()
        && v.len() <= 100
        && v != "."
        && v != ".."
        && v.chars().all(|c| c.is_ascii_alphanumeric() || "-_.".contains(c));
    if ok {
        Ok(())
    } else {
        Err(ToolError::InvalidArgs(format!(
            "field `{field}`: `{v}` is not a GitHub owner or repository name (letters, digits, `-`, `_`, `.`)"
        )))
    }
}

/// A path inside a repository, each segment percent-encoded; `..` and empty segments are refused.
fn repo_path(p: &str) -> Result<String, ToolError> {
    let trimmed = p.trim().trim_matches('/');
    let mut out = Vec::new();
    for seg in trimmed.split('/') {
        if seg.is_empty()
            || seg == "."
            || seg == ".."
            || seg.contains('\\')
            || seg.chars().any(char::is_control)
        {
            return Err(ToolError::InvalidArgs(format!(
                "field `path`: `{p}` is not a path inside the repository"
            )));
        }
        out.push(
            url::form_urlencoded::byte_serialize(seg.as_bytes()).collect::<String>().replace('+', "%20"),
        );
    }
    Ok(out.join("/"))
}

impl Github {
    /// The client over `[github]`; the configured server is reachable even on a private network
    /// (the operator named it), everything else follows `web` (the policy of `fetch_url`).
    pub fn new(config: GithubConfig, web: &vana_net::OutboundPolicy) -> Self {
        let base = url::Url::parse(config.api_url.trim_end_matches('/'))
            .map_err(|e| format!("`[github] api_url` `{}` is not a URL: {e}", config.api_url))
            .and_then(|u| {
                if matches!(u.scheme(), "http" | "https") && u.host_str().is_some() {
                    Ok(u)
                } else {
                    Err(format!("`[github] api_url` `{}` must be an http(s) URL", config.api_url))
                }
            });
        let client = base.clone().and_then(|b| {
            let mut policy = web.clone();
            if let Some(h) = b.host_str() {
                policy.allowed_hosts.push(h.trim_matches(['[', ']']).to_string());
            }
            let builder = reqwest::Client::builder()
                .user_agent(config.user_agent.clone())
                .timeout(Duration::from_secs(config.timeout_secs.max(1)));
            policy.client(builder, 3).map_err(|e| format!("the HTTP client cannot be built: {e}"))
        });
        Github { config, base, client }
    }

    fn base(&self) -> Result<&url::Url, ToolError> {
        self.base.as_ref().map_err(|e| ToolError::Unavailable(e.clone()))
    }

    /// `base` + `path` (a path starting with `/`).
    fn url(&self, path: &str) -> Result<String, ToolError> {
        Ok(format!("{}{}", self.base()?.as_str().trim_end_matches('/'), path))
    }

    /// Whether `url` is on the configured server (pages are followed only there: the token goes
    /// with them).
    fn same_server(&self, url: &str) -> bool {
        let Ok(base) = self.base() else { return false };
        url::Url::parse(url).is_ok_and(|u| {
            u.origin() == base.origin() && u.path().starts_with(base.path().trim_end_matches('/'))
        })
    }

    /// One request, retried after rate limits within the configured bounds.
    pub async fn send(
        &self,
        method: reqwest::Method,
        url: &str,
        accept: &str,
        body: Option<&Value>,
    ) -> Result<Reply, ToolError> {
        let client = self.client.as_ref().map_err(|e| ToolError::Unavailable(e.clone()))?;
        let token = std::env::var(&self.config.token_env).ok().filter(|t| !t.trim().is_empty());
        let mut attempt = 0;
        loop {
            let mut req = client
                .request(method.clone(), url)
                .map_err(|r| ToolError::Blocked(r.to_string()))?
                .header("accept", accept)
                .header("x-github-api-version", "2022-11-28");
            if let Some(t) = &token {
                req = req.bearer_auth(t.trim());
            }
            if let Some(b) = body {
                req = req.json(b);
            }
            let resp = req.send().await.map_err(|e| match vana_net::Refusal::find(&e) {
                Some(r) => ToolError::Blocked(r.to_string()),
                None if e.is_timeout() => ToolError::Failed(format!(
                    "GitHub did not answer within {} s ([github] timeout_secs)",
                    self.config.timeout_secs
                )),
                None => ToolError::Failed(format!("GitHub request to {url} failed: {e}")),
            })?;
            let status = resp.status().as_u16();
            let h = resp.headers();
            let get = |n: &str| h.get(n).and_then(|v| v.to_str().ok()).map(str::to_string);
            let rate = json!({
                "limit": get("x-ratelimit-limit").and_then(|v| v.parse::<u64>().ok()),
                "remaining": get("x-ratelimit-remaining").and_then(|v| v.parse::<u64>().ok()),
                "reset": get("x-ratelimit-reset").and_then(|v| v.parse::<u64>().ok()),
            });
            let retry_after = get("retry-after").and_then(|v| v.trim().parse::<u64>().ok());
            let exhausted = rate["remaining"].as_u64() == Some(0);
            let next = get("link").as_deref().and_then(next_link);
            let limited = status == 429 || (status == 403 && (retry_after.is_some() || exhausted));
            if limited {
                let wait = retry_after.or_else(|| {
                    let reset = rate["reset"].as_u64()?;
                    let now =
                        std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).ok()?.as_secs();
                    Some(reset.saturating_sub(now) + 1)
                });
                let text = resp.text().await.unwrap_or_default();
                match wait {
                    Some(w) if attempt < self.config.max_retries && w <= self.config.max_wait_secs => {
                        attempt += 1;
                        tokio::time::sleep(Duration::from_secs(w)).await;
                        continue;
                    }
                    _ => {
                        let when = match wait {
                            Some(w) => format!("retry in {w} s"),
                            None => "no retry-after or reset time given".into(),
                        };
                        return Err(ToolError::Failed(format!(
                            "GitHub rate limit hit ({status}; {when}; {attempt} retries made, `[github] max_retries` = {}, \
                             `max_wait_secs` = {}): {}",
                            self.config.max_retries,
                            self.config.max_wait_secs,
                            message_of(&text)
                        )));
                    }
                }
            }
            let text = resp
                .text()
                .await
                .map_err(|e| ToolError::Failed(format!("GitHub's answer broke off: {e}")))?;
            if !(200..300).contains(&status) {
                let hint = match status {
                    401 => format!(" (is ${} set to a valid token?)", self.config.token_env),
                    403 => " (the token lacks the permission)".to_string(),
                    404 => " (no such repository, or the token cannot see it)".to_string(),
                    422 => " (GitHub refused the fields)".to_string(),
                    _ => String::new(),
                };
                return Err(ToolError::Failed(format!(
                    "GitHub answered {status}{hint}: {}",
                    message_of(&text)
                )));
            }
            return Ok(Reply { status, next, rate, text });
        }
    }

    /// GET of a JSON document.
    async fn get_json(&self, path: &str) -> Result<(Value, Value), ToolError> {
        let r =
            self.send(reqwest::Method::GET, &self.url(path)?, "application/vnd.github+json", None).await?;
        Ok((r.json()?, r.rate))
    }

    /// A list, page after page (`per_page`, `Link: rel="next"`), until `limit` items, the last
    /// page, or `[github] max_pages`. `items_key` names the array inside an object answer
    /// (search). Returns the items, the pages read, whether more were left, and the answer's
    /// other fields from the first page.
    async fn list(&self, path: &str, limit: usize, items_key: Option<&str>) -> Result<Listed, ToolError> {
        let per_page = self.config.per_page.clamp(1, 100).min(limit.max(1) as u32);
        let sep = if path.contains('?') { '&' } else { '?' };
        let mut url = self.url(&format!("{path}{sep}per_page={per_page}"))?;
        let mut items = Vec::new();
        let mut pages = 0;
        let mut first = Value::Null;
        loop {
            let r = self.send(reqwest::Method::GET, &url, "application/vnd.github+json", None).await?;
            pages += 1;
            let rate = r.rate.clone();
            let v = r.json()?;
            let page: Vec<Value> = match items_key {
                Some(k) => v[k].as_array().cloned().unwrap_or_default(),
                None => v.as_array().cloned().ok_or_else(|| {
                    ToolError::Failed("GitHub answered with something other than a list".into())
                })?,
            };
            if pages == 1 {
                first = v;
            }
            let got = page.len();
            items.extend(page);
            if items.len() >= limit {
                let more = items.len() > limit || r.next.is_some();
                items.truncate(limit);
                return Ok(Listed { items, pages, more, first, rate });
            }
            match r.next {
                Some(next) if got > 0 && pages < self.config.max_pages as usize => {
                    if !self.same_server(&next) {
                        return Err(ToolError::Failed(format!(
                            "GitHub's next page points to another server ({next}); not followed (the token would go with it)"
                        )));
                    }
                    url = next;
                }
                Some(_) => return Ok(Listed { items, pages, more: true, first, rate }),
                None => return Ok(Listed { items, pages, more: false, first, rate }),
            }
        }
    }
}

struct Listed {
    items: Vec<Value>,
    pages: usize,
    more: bool,
    first: Value,
    rate: Value,
}

/// GitHub's `message` field, or the start of the body.
fn message_of(text: &str) -> String {
    serde_json::from_str::<Value>(text)
        .ok()
        .and_then(|v| v["message"].as_str().map(String::from))
        .unwrap_or_else(|| text.chars().take(300).collect())
}

fn limit_of(limit: Option<u32>) -> usize {
    limit.unwrap_or(30).clamp(1, 1000) as usize
}

fn pick(v: &Value, keys: &[&str]) -> Value {
    let mut out = serde_json::Map::new();
    for k in keys {
        if let Some(x) = v.get(*k) {
            out.insert((*k).to_string(), x.clone());
        }
    }
    Value::Object(out)
}

fn repo_summary(r: &Value) -> Value {
    let mut s = pick(
        r,
        &[
            "full_name",
            "description",
            "html_url",
            "private",
            "fork",
            "archived",
            "default_branch",
            "language",
            "stargazers_count",
            "forks_count",
            "open_issues_count",
            "topics",
            "updated_at",
            "pushed_at",
        ],
    );
    s["owner"] = r["owner"]["login"].clone();
    s["license"] = r["license"]["spdx_id"].clone();
    s
}

fn issue_summary(i: &Value) -> Value {
    let mut s =
        pick(i, &["number", "title", "state", "html_url", "created_at", "updated_at", "comments", "body"]);
    s["user"] = i["user"]["login"].clone();
    s["labels"] = Value::Array(
        i["labels"]
            .as_array()
            .into_iter()
            .flatten()
            .map(|l| l.get("name").cloned().unwrap_or_else(|| l.clone()))
            .collect(),
    );
    if let Some(b) = s.get_mut("body") {
        if let Some(t) = b.as_str() {
            if t.chars().count() > 2000 {
                *b = json!(format!("{}…", t.chars().take(2000).collect::<String>()));
            }
        }
    }
    s
}

fn pr_summary(p: &Value) -> Value {
    let mut s = pick(
        p,
        &[
            "number",
            "title",
            "state",
            "draft",
            "merged",
            "mergeable",
            "html_url",
            "created_at",
            "updated_at",
            "merged_at",
            "body",
            "commits",
            "additions",
            "deletions",
            "changed_files",
        ],
    );
    s["user"] = p["user"]["login"].clone();
    s["head"] = p["head"]["ref"].clone();
    s["base"] = p["base"]["ref"].clone();
    s
}

/// Owner and repository, the arguments of most tools.
#[derive(Debug, Deserialize, JsonSchema)]
pub struct RepoRef {
    /// The owner (user or organisation), e.g. `octocat`.
    pub owner: String,
    /// The repository name, e.g. `Hello-World`.
    pub repo: String,
}

impl RepoRef {
    fn path(&self) -> Result<String, ToolError> {
        check_name("owner", &self.owner)?;
        check_name("repo", &self.repo)?;
        Ok(format!("/repos/{}/{}", self.owner, self.repo))
    }
}

fn enc(v: &str) -> String {
    url::form_urlencoded::byte_serialize(v.as_bytes()).collect()
}

macro_rules! tool {
    ($ty:ident, $args:ty, $name:literal, $desc:literal, $confirm:literal, |$gh:ident, $a:ident| $body:expr) => {
        #[doc = concat!("`", $name, "`.")]
        pub struct $ty(pub Arc<Github>);
        #[async_trait]
        impl TypedTool for $ty {
            type Args = $args;
            fn name(&self) -> &'static str {
                $name
            }
            fn description(&self) -> &'static str {
                $desc
            }
            fn requires_confirmation(&self) -> bool {
                $confirm
            }
            fn timeout(&self) -> Option<Duration> {
                let c = &self.0.config;
                Some(Duration::from_secs(
                    (c.timeout_secs + 1) * (c.max_pages as u64 + 1) * (c.max_retries as u64 + 1)
                        + c.max_wait_secs * c.max_retries as u64
                        + 10,
                ))
            }
            async fn run(&self, $a: $args, ctx: ToolContext) -> Result<ToolOutput, ToolError> {
                let $gh = &self.0;
                let work = async move { $body };
                tokio::select! {
                    r = work => r.map(ToolOutput::json),
                    _ = ctx.cancel.cancelled() => Err(ToolError::Cancelled),
                }
            }
        }
    };
}

/// Arguments of `github_search_repositories`.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct SearchArgs {
    /// GitHub search syntax, e.g. `tetris language:rust stars:>10`.
    pub query: String,
    /// `stars`, `forks`, `help-wanted-issues` or `updated` (default: best match).
    #[serde(default)]
    pub sort: Option<String>,
    /// `desc` (default) or `asc`.
    #[serde(default)]
    pub order: Option<String>,
    /// Most repositories returned (default 30).
    #[serde(default, deserialize_with = "vana_toolkit::args::whole")]
    pub limit: Option<u32>,
}

tool!(
    SearchRepositories,
    SearchArgs,
    "github_search_repositories",
    "Search GitHub repositories (GitHub search syntax: `topic:cli language:go stars:>100`). Returns name, \
     description, URL, stars, language and update time of each, and the total count.",
    false,
    |gh, a| {
        if a.query.trim().is_empty() {
            return Err(ToolError::InvalidArgs("field `query`: empty".into()));
        }
        let mut path = format!("/search/repositories?q={}", enc(a.query.trim()));
        if let Some(s) = &a.sort {
            if !["stars", "forks", "help-wanted-issues", "updated"].contains(&s.as_str()) {
                return Err(ToolError::InvalidArgs(format!(
                    "field `sort`: `{s}` is not stars, forks, help-wanted-issues or updated"
                )));
            }
            path.push_str(&format!("&sort={s}"));
        }
        if let Some(o) = &a.order {
            if o != "asc" && o != "desc" {
                return Err(ToolError::InvalidArgs(format!("field `order`: `{o}` is not asc or desc")));
            }
            path.push_str(&format!("&order={o}"));
        }
        let l = gh.list(&path, limit_of(a.limit), Some("items")).await?;
        Ok(json!({
            "total_count": l.first["total_count"],
            "incomplete_results": l.first["incomplete_results"],
            "repositories": l.items.iter().map(repo_summary).collect::<Vec<_>>(),
            "pages_read": l.pages,
            "more": l.more,
            "rate_limit": l.rate,
        }))
    }
);

tool!(
    GetRepository,
    RepoRef,
    "github_get_repository",
    "Get one GitHub repository: description, default branch, visibility, language, stars, forks, open \
     issues, topics, license and dates.",
    false,
    |gh, a| {
        let (v, rate) = gh.get_json(&a.path()?).await?;
        let mut s = repo_summary(&v);
        s["rate_limit"] = rate;
        Ok(s)
    }
);

/// Arguments of `github_get_file_contents`.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct FileArgs {
    /// The owner.
    pub owner: String,
    /// The repository.
    pub repo: String,
    /// The file or folder path in the repository, e.g. `src/main.rs` (empty: the root folder).
    #[serde(default)]
    pub path: String,
    /// A branch, tag or commit (default: the default branch).
    #[serde(default, rename = "ref")]
    pub git_ref: Option<String>,
    /// Characters of a file's text returned (default 20000).
    #[serde(default, deserialize_with = "vana_toolkit::args::whole")]
    pub max_chars: Option<u32>,
}

tool!(
    GetFileContents,
    FileArgs,
    "github_get_file_contents",
    "Read a file from a GitHub repository (decoded text) or list a folder, at a branch, tag or commit.",
    false,
    |gh, a| {
        let base = RepoRef { owner: a.owner.clone(), repo: a.repo.clone() }.path()?;
        let p = if a.path.trim().trim_matches('/').is_empty() { String::new() } else { repo_path(&a.path)? };
        let mut path = format!("{base}/contents/{p}");
        if let Some(r) = a.git_ref.as_deref().filter(|r| !r.trim().is_empty()) {
            path.push_str(&format!("?ref={}", enc(r.trim())));
        }
        let (v, rate) = gh.get_json(&path).await?;
        if let Some(entries) = v.as_array() {
            let list: Vec<Value> =
                entries.iter().map(|e| pick(e, &["name", "path", "type", "size", "sha"])).collect();
            return Ok(json!({"type": "dir", "path": a.path, "entries": list, "rate_limit": rate}));
        }
        let mut out = pick(&v, &["type", "name", "path", "size", "sha", "encoding", "html_url"]);
        out["rate_limit"] = rate;
        if v["encoding"] == "base64" {
            let raw = v["content"].as_str().unwrap_or("");
            let cleaned: String = raw.replace("\\n", "").chars().filter(|c| !c.is_whitespace()).collect();
            match base64::engine::general_purpose::STANDARD.decode(cleaned.as_bytes()) {
                Ok(bytes) => match String::from_utf8(bytes) {
                    Ok(text) => {
                        let max = a.max_chars.unwrap_or(20_000) as usize;
                        out["truncated"] = json!(text.chars().count() > max);
                        out["content"] = json!(text.chars().take(max).collect::<String>());
                    }
                    Err(e) => {
                        out["content"] = Value::Null;
                        out["note"] =
                            json!(format!("binary file ({} bytes), not shown", e.into_bytes().len()));
                    }
                },
                Err(e) => {
                    out["content"] = Value::Null;
                    out["note"] = json!(format!("GitHub sent content that is not valid base64 ({e})"));
                }
            }
        } else if let Some(t) = v["content"].as_str() {
            out["content"] = json!(t);
        }
        Ok(out)
    }
);

/// Arguments of `github_list_issues`.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ListIssuesArgs {
    /// The owner.
    pub owner: String,
    /// The repository.
    pub repo: String,
    /// `open` (default), `closed` or `all`.
    #[serde(default)]
    pub state: Option<String>,
    /// Only issues with all these labels.
    #[serde(default)]
    pub labels: Vec<String>,
    /// Most issues returned (default 30); pages are followed up to `[github] max_pages`.
    #[serde(default, deserialize_with = "vana_toolkit::args::whole")]
    pub limit: Option<u32>,
    /// Also list pull requests (GitHub's issues endpoint returns both; default false).
    #[serde(default)]
    pub include_pull_requests: Option<bool>,
}

fn state_of(s: &Option<String>) -> Result<&str, ToolError> {
    let s = s.as_deref().unwrap_or("open");
    if ["open", "closed", "all"].contains(&s) {
        Ok(s)
    } else {
        Err(ToolError::InvalidArgs(format!("field `state`: `{s}` is not open, closed or all")))
    }
}

tool!(
    ListIssues,
    ListIssuesArgs,
    "github_list_issues",
    "List issues of a GitHub repository (not pull requests): number, title, state, labels, author, dates, \
     following pages as needed.",
    false,
    |gh, a| {
        let base = RepoRef { owner: a.owner.clone(), repo: a.repo.clone() }.path()?;
        let mut path = format!("{base}/issues?state={}", state_of(&a.state)?);
        if !a.labels.is_empty() {
            path.push_str(&format!("&labels={}", enc(&a.labels.join(","))));
        }
        let l = gh.list(&path, limit_of(a.limit), None).await?;
        let with_prs = a.include_pull_requests.unwrap_or(false);
        let issues: Vec<Value> = l
            .items
            .iter()
            .filter(|i| with_prs || i.get("pull_request").is_none())
            .map(|i| {
                let mut s = issue_summary(i);
                s["is_pull_request"] = json!(i.get("pull_request").is_some());
                s
            })
            .collect();
        Ok(json!({"issues": issues, "pages_read": l.pages, "more": l.more, "rate_limit": l.rate}))
    }
);

/// Arguments of `github_create_issue`.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateIssueArgs {
    /// The owner.
    pub owner: String,
    /// The repository.
    pub repo: String,
    /// The title.
    pub title: String,
    /// The text (Markdown).
    #[serde(default)]
    pub body: Option<String>,
    /// Labels to set.
    #[serde(default)]
    pub labels: Vec<String>,
    /// Logins to assign.
    #[serde(default)]
    pub assignees: Vec<String>,
}

tool!(
    CreateIssue,
    CreateIssueArgs,
    "github_create_issue",
    "Create an issue in a GitHub repository (asks for approval first). Returns its number and URL.",
    true,
    |gh, a| {
        let base = RepoRef { owner: a.owner.clone(), repo: a.repo.clone() }.path()?;
        if a.title.trim().is_empty() {
            return Err(ToolError::InvalidArgs("field `title`: empty".into()));
        }
        let mut body = json!({"title": a.title});
        if let Some(b) = &a.body {
            body["body"] = json!(b);
        }
        if !a.labels.is_empty() {
            body["labels"] = json!(a.labels);
        }
        if !a.assignees.is_empty() {
            body["assignees"] = json!(a.assignees);
        }
        let r = gh
            .send(
                reqwest::Method::POST,
                &gh.url(&format!("{base}/issues"))?,
                "application/vnd.github+json",
                Some(&body),
            )
            .await?;
        let v = r.json()?;
        Ok(
            json!({"created": true, "number": v["number"], "html_url": v["html_url"], "title": v["title"], "state": v["state"]}),
        )
    }
);

/// Arguments of `github_list_pull_requests`.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ListPullsArgs {
    /// The owner.
    pub owner: String,
    /// The repository.
    pub repo: String,
    /// `open` (default), `closed` or `all`.
    #[serde(default)]
    pub state: Option<String>,
    /// Only pull requests into this branch.
    #[serde(default)]
    pub base: Option<String>,
    /// Only pull requests from this branch (`user:branch`).
    #[serde(default)]
    pub head: Option<String>,
    /// Most pull requests returned (default 30).
    #[serde(default, deserialize_with = "vana_toolkit::args::whole")]
    pub limit: Option<u32>,
}

tool!(
    ListPullRequests,
    ListPullsArgs,
    "github_list_pull_requests",
    "List pull requests of a GitHub repository: number, title, state, draft, author, head and base branch, \
     dates, following pages as needed.",
    false,
    |gh, a| {
        let base = RepoRef { owner: a.owner.clone(), repo: a.repo.clone() }.path()?;
        let mut path = format!("{base}/pulls?state={}", state_of(&a.state)?);
        if let Some(b) = a.base.as_deref().filter(|b| !b.is_empty()) {
            path.push_str(&format!("&base={}", enc(b)));
        }
        if let Some(h) = a.head.as_deref().filter(|h| !h.is_empty()) {
            path.push_str(&format!("&head={}", enc(h)));
        }
        let l = gh.list(&path, limit_of(a.limit), None).await?;
        Ok(json!({
            "pull_requests": l.items.iter().map(pr_summary).collect::<Vec<_>>(),
            "pages_read": l.pages,
            "more": l.more,
            "rate_limit": l.rate,
        }))
    }
);

/// Arguments of `github_get_pull_request`.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct GetPullArgs {
    /// The owner.
    pub owner: String,
    /// The repository.
    pub repo: String,
    /// The pull request number.
    #[serde(deserialize_with = "number")]
    pub number: u64,
    /// Include the unified diff (default true).
    #[serde(default)]
    pub include_diff: Option<bool>,
    /// Characters of diff returned (default 50000).
    #[serde(default, deserialize_with = "vana_toolkit::args::whole")]
    pub max_diff_chars: Option<u32>,
}

fn number<'de, D: serde::Deserializer<'de>>(d: D) -> Result<u64, D::Error> {
    use serde::de::Error;
    vana_toolkit::args::whole::<D, u64>(d)?
        .ok_or_else(|| D::Error::custom("a pull request number is required"))
}

tool!(
    GetPullRequest,
    GetPullArgs,
    "github_get_pull_request",
    "Get one pull request of a GitHub repository: title, state, author, branches, mergeability, counts, and \
     its unified diff.",
    false,
    |gh, a| {
        let base = RepoRef { owner: a.owner.clone(), repo: a.repo.clone() }.path()?;
        let path = format!("{base}/pulls/{}", a.number);
        let (v, rate) = gh.get_json(&path).await?;
        let mut out = pr_summary(&v);
        out["rate_limit"] = rate;
        if a.include_diff.unwrap_or(true) {
            let r =
                gh.send(reqwest::Method::GET, &gh.url(&path)?, "application/vnd.github.diff", None).await?;
            let max = a.max_diff_chars.unwrap_or(50_000) as usize;
            if r.text.trim_start().starts_with('{') {
                out["diff"] = Value::Null;
                out["diff_note"] = json!("the server answered the diff request with JSON, not a diff");
            } else {
                out["diff_truncated"] = json!(r.text.chars().count() > max);
                out["diff"] = json!(r.text.chars().take(max).collect::<String>());
            }
        }
        Ok(out)
    }
);

/// Arguments of `github_create_pull_request`.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct CreatePullArgs {
    /// The owner.
    pub owner: String,
    /// The repository.
    pub repo: String,
    /// The title.
    pub title: String,
    /// The branch with the changes (`branch`, or `user:branch` from a fork).
    pub head: String,
    /// The branch to merge into, e.g. `main`.
    pub base: String,
    /// The description (Markdown).
    #[serde(default)]
    pub body: Option<String>,
    /// Open it as a draft.
    #[serde(default)]
    pub draft: Option<bool>,
}

tool!(
    CreatePullRequest,
    CreatePullArgs,
    "github_create_pull_request",
    "Open a pull request in a GitHub repository from `head` into `base` (asks for approval first). Returns \
     its number and URL.",
    true,
    |gh, a| {
        let base = RepoRef { owner: a.owner.clone(), repo: a.repo.clone() }.path()?;
        for (f, v) in [("title", &a.title), ("head", &a.head), ("base", &a.base)] {
            if v.trim().is_empty() {
                return Err(ToolError::InvalidArgs(format!("field `{f}`: empty")));
            }
        }
        let mut body = json!({"title": a.title, "head": a.head, "base": a.base});
        if let Some(b) = &a.body {
            body["body"] = json!(b);
        }
        if let Some(d) = a.draft {
            body["draft"] = json!(d);
        }
        let r = gh
            .send(
                reqwest::Method::POST,
                &gh.url(&format!("{base}/pulls"))?,
                "application/vnd.github+json",
                Some(&body),
            )
            .await?;
        let v = r.json()?;
        Ok(
            json!({"created": true, "number": v["number"], "html_url": v["html_url"], "title": v["title"], "state": v["state"]}),
        )
    }
);

/// The eight GitHub tools over one client.
pub fn tools(gh: Arc<Github>) -> Vec<Arc<dyn Tool>> {
    vec![
        typed(SearchRepositories(gh.clone())),
        typed(GetRepository(gh.clone())),
        typed(GetFileContents(gh.clone())),
        typed(ListIssues(gh.clone())),
        typed(CreateIssue(gh.clone())),
        typed(ListPullRequests(gh.clone())),
        typed(GetPullRequest(gh.clone())),
        typed(CreatePullRequest(gh)),
    ]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn next_links_names_and_paths() {
        let link = r#"<https://api.github.com/repositories/1/issues?page=2>; rel="next", <https://api.github.com/repositories/1/issues?page=5>; rel="last""#;
        assert_eq!(next_link(link).as_deref(), Some("https://api.github.com/repositories/1/issues?page=2"));
        assert_eq!(next_link(r#"<https://x/?page=1>; rel="prev""#), None);
        assert!(check_name("owner", "octo-cat.x_1").is_ok());
        assert!(check_name("owner", "..").is_err());
        assert!(check_name("repo", "a/b").is_err());
        assert_eq!(repo_path("src/a b.rs").unwrap(), "src/a%20b.rs");
        assert!(repo_path("../secrets").is_err());
        assert!(repo_path("a//b").is_err());
    }
}
