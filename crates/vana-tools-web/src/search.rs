//! Search providers: the local index, Brave Search API, Tavily and SearXNG, each speaking its
//! documented wire format; results carry title, URL, snippet, provider and rank.

use crate::config::{SearchProvider, WebConfig};
use crate::store::Store;
use serde::Serialize;
use serde_json::{json, Value};
use std::time::Duration;

/// One result.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SearchResult {
    /// Title.
    pub title: String,
    /// URL.
    pub url: String,
    /// The matching passage or the provider's description.
    pub snippet: String,
    /// Which provider answered.
    pub provider: &'static str,
    /// 1 for the best result.
    pub rank: usize,
}

/// How recent results must be.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Freshness {
    /// The last day.
    Day,
    /// The last week.
    Week,
    /// The last month.
    Month,
    /// The last year.
    Year,
}

impl Freshness {
    /// Parses `day|week|month|year`.
    pub fn parse(s: &str) -> Result<Freshness, String> {
        match s {
            "day" => Ok(Freshness::Day),
            "week" => Ok(Freshness::Week),
            "month" => Ok(Freshness::Month),
            "year" => Ok(Freshness::Year),
            other => Err(format!("field `freshness`: `{other}` is not one of day, week, month, year")),
        }
    }
    fn word(self) -> &'static str {
        match self {
            Freshness::Day => "day",
            Freshness::Week => "week",
            Freshness::Month => "month",
            Freshness::Year => "year",
        }
    }
    fn secs(self) -> i64 {
        86_400
            * match self {
                Freshness::Day => 1,
                Freshness::Week => 7,
                Freshness::Month => 31,
                Freshness::Year => 366,
            }
    }
}

/// A search request.
#[derive(Debug, Clone)]
pub struct Query<'a> {
    /// What to search for.
    pub text: &'a str,
    /// How many results.
    pub count: usize,
    /// Only results from this site (a host and its subdomains).
    pub site: Option<&'a str>,
    /// Only results this recent.
    pub freshness: Option<Freshness>,
}

fn key(env: &str, provider: &str) -> Result<String, String> {
    std::env::var(env).ok().filter(|k| !k.trim().is_empty()).ok_or_else(|| {
        format!("`[web] search_provider = \"{provider}\"` needs an API key in the environment variable {env}, which is not set")
    })
}

async fn answer(res: Result<reqwest::Response, reqwest::Error>, provider: &str) -> Result<Value, String> {
    let res = res.map_err(|e| format!("{provider} could not be reached: {e}"))?;
    let status = res.status();
    let text = res.text().await.map_err(|e| format!("{provider}: reading the answer failed: {e}"))?;
    if !status.is_success() {
        let brief: String = text.chars().take(300).collect();
        return Err(format!("{provider} answered HTTP {}: {}", status.as_u16(), brief.trim()));
    }
    serde_json::from_str(&text).map_err(|e| format!("{provider} answered something that is not JSON: {e}"))
}

fn strip_tags(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut in_tag = false;
    for c in s.chars() {
        match c {
            '<' => in_tag = true,
            '>' if in_tag => in_tag = false,
            c if !in_tag => out.push(c),
            _ => {}
        }
    }
    out.replace("&amp;", "&")
        .replace("&quot;", "\"")
        .replace("&#39;", "'")
        .replace("&lt;", "<")
        .replace("&gt;", ">")
}

fn collect(
    items: Option<&Vec<Value>>,
    provider: &'static str,
    snippet_key: &str,
    count: usize,
) -> Vec<SearchResult> {
    items
        .into_iter()
        .flatten()
        .filter_map(|r| {
            let url = r.get("url")?.as_str()?.to_string();
            Some((url, r))
        })
        .take(count)
        .enumerate()
        .map(|(i, (url, r))| SearchResult {
            title: strip_tags(r.get("title").and_then(Value::as_str).unwrap_or("")),
            url,
            snippet: strip_tags(r.get(snippet_key).and_then(Value::as_str).unwrap_or("")),
            provider,
            rank: i + 1,
        })
        .collect()
}

/// Runs a search with the configured provider. Provider endpoints are the operator's
/// configuration (not the model's), so they are reached with a plain client.
pub async fn search(config: &WebConfig, store: &Store, q: &Query<'_>) -> Result<Vec<SearchResult>, String> {
    let client = reqwest::Client::builder()
        .user_agent(config.user_agent.clone())
        .timeout(Duration::from_secs(config.timeout_secs.max(1)))
        .build()
        .map_err(|e| e.to_string())?;
    let count = q.count;
    let with_site = |text: &str| match q.site {
        Some(site) => format!("{text} site:{site}"),
        None => text.to_string(),
    };
    match config.search_provider {
        SearchProvider::Local => {
            let since = q.freshness.map(|f| now() - f.secs());
            let hits = store.search(q.text, count, q.site, since)?;
            Ok(hits
                .into_iter()
                .enumerate()
                .map(|(i, h)| SearchResult {
                    title: h.title,
                    url: h.url,
                    snippet: h.snippet,
                    provider: "local",
                    rank: i + 1,
                })
                .collect())
        }
        SearchProvider::Brave => {
            // GET /res/v1/web/search?q=&count=&freshness=pd|pw|pm|py, X-Subscription-Token.
            let key = key(&config.brave_key_env, "brave")?;
            let mut params = vec![("q", with_site(q.text)), ("count", count.min(20).to_string())];
            if let Some(f) = q.freshness {
                let code = match f {
                    Freshness::Day => "pd",
                    Freshness::Week => "pw",
                    Freshness::Month => "pm",
                    Freshness::Year => "py",
                };
                params.push(("freshness", code.into()));
            }
            let res = client
                .get(with_params(&config.brave_url, &params)?)
                .header("Accept", "application/json")
                .header("X-Subscription-Token", key)
                .send()
                .await;
            let v = answer(res, "Brave Search").await?;
            Ok(collect(v.pointer("/web/results").and_then(Value::as_array), "brave", "description", count))
        }
        SearchProvider::Tavily => {
            // POST /search {query, max_results, include_domains, time_range}, Bearer key.
            let key = key(&config.tavily_key_env, "tavily")?;
            let mut body = json!({"query": q.text, "max_results": count.min(20), "search_depth": "basic"});
            if let Some(site) = q.site {
                body["include_domains"] = json!([site]);
            }
            if let Some(f) = q.freshness {
                body["time_range"] = json!(f.word());
            }
            let res = client.post(&config.tavily_url).bearer_auth(key).json(&body).send().await;
            let v = answer(res, "Tavily").await?;
            Ok(collect(v.get("results").and_then(Value::as_array), "tavily", "content", count))
        }
        SearchProvider::Searxng => {
            // GET {base}/search?q=&format=json&time_range=day|week|month|year.
            if config.searxng_url.trim().is_empty() {
                return Err("`[web] search_provider = \"searxng\"` needs `[web] searxng_url`, the base URL of the instance".into());
            }
            let endpoint = format!("{}/search", config.searxng_url.trim_end_matches('/'));
            let mut params = vec![("q", with_site(q.text)), ("format", "json".to_string())];
            if let Some(f) = q.freshness {
                params.push(("time_range", f.word().into()));
            }
            let mut req = client.get(with_params(&endpoint, &params)?).header("Accept", "application/json");
            if let Ok(k) = std::env::var(&config.searxng_key_env) {
                if !k.trim().is_empty() {
                    req = req.bearer_auth(k);
                }
            }
            let v = answer(req.send().await, "SearXNG").await?;
            Ok(collect(v.get("results").and_then(Value::as_array), "searxng", "content", count))
        }
    }
}

fn with_params(base: &str, params: &[(&str, String)]) -> Result<url::Url, String> {
    url::Url::parse_with_params(base, params)
        .map_err(|e| format!("the search endpoint `{base}` is not a URL: {e}"))
}

fn now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs() as i64)
        .unwrap_or(0)
}
