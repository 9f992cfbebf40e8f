//! `[web]` in `vana.toml`: the outbound policy every network tool shares, fetch limits and the
//! search provider.

use serde::{Deserialize, Serialize};

/// Which search provider `web_search` asks.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum SearchProvider {
    /// The local index (SQLite FTS5 over fetched pages and added documents): works offline.
    #[default]
    Local,
    /// Brave Search API (key from `brave_key_env`).
    Brave,
    /// Tavily (key from `tavily_key_env`).
    Tavily,
    /// A self-hosted SearXNG instance's JSON API (`searxng_url`).
    Searxng,
}

impl SearchProvider {
    /// The name in results and config.
    pub fn as_str(self) -> &'static str {
        match self {
            SearchProvider::Local => "local",
            SearchProvider::Brave => "brave",
            SearchProvider::Tavily => "tavily",
            SearchProvider::Searxng => "searxng",
        }
    }
}

/// `[web]`: the outbound policy every network tool shares, plus fetch and search settings.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct WebConfig {
    /// Allow private, loopback, link-local and special-use addresses (an intranet). Cloud
    /// metadata endpoints still need an `allowed_hosts` entry.
    pub allow_private_networks: bool,
    /// Hosts allowed even when their address is private: names (`intranet.example`), suffix
    /// wildcards (`*.corp.example`), addresses (`10.0.0.5`) or networks (`10.0.0.0/8`).
    pub allowed_hosts: Vec<String>,
    /// The User-Agent of every request (and the name looked up in robots.txt: `VANA`).
    pub user_agent: String,
    /// Honour robots.txt (RFC 9309) for the `VANA` user agent.
    pub respect_robots: bool,
    /// Redirects followed per fetch, each re-checked against the policy.
    pub max_redirects: usize,
    /// Bytes read from one response body; past it the body is cut and marked `truncated`.
    pub max_bytes: u64,
    /// Seconds one fetch (connect, redirects, body) may take.
    pub timeout_secs: u64,
    /// Characters of content returned when the call does not say (`max_chars`).
    pub max_chars: usize,
    /// Requests in flight to one host at a time.
    pub per_host_concurrency: usize,
    /// URLs one `fetch_url` call may name.
    pub max_urls: usize,
    /// Add every page fetched by a session to the local search index.
    pub index_fetched: bool,
    /// The search provider of `web_search`.
    pub search_provider: SearchProvider,
    /// Brave Search API endpoint.
    pub brave_url: String,
    /// Environment variable holding the Brave Search API key.
    pub brave_key_env: String,
    /// Tavily search endpoint.
    pub tavily_url: String,
    /// Environment variable holding the Tavily API key.
    pub tavily_key_env: String,
    /// Base URL of a SearXNG instance (its `/search?format=json` must be enabled).
    pub searxng_url: String,
    /// Environment variable holding an optional bearer token for SearXNG behind a proxy.
    pub searxng_key_env: String,
}

impl Default for WebConfig {
    fn default() -> Self {
        WebConfig {
            allow_private_networks: false,
            allowed_hosts: Vec::new(),
            user_agent: format!(
                "VANA/{} (research agent; +https://github.com/vana)",
                env!("CARGO_PKG_VERSION")
            ),
            respect_robots: true,
            max_redirects: 5,
            max_bytes: 5 * 1024 * 1024,
            timeout_secs: 20,
            max_chars: 20_000,
            per_host_concurrency: 2,
            max_urls: 10,
            index_fetched: true,
            search_provider: SearchProvider::Local,
            brave_url: "https://api.search.brave.com/res/v1/web/search".into(),
            brave_key_env: "BRAVE_API_KEY".into(),
            tavily_url: "https://api.tavily.com/search".into(),
            tavily_key_env: "TAVILY_API_KEY".into(),
            searxng_url: String::new(),
            searxng_key_env: "SEARXNG_API_KEY".into(),
        }
    }
}

impl WebConfig {
    /// The outbound policy these settings give (shared with the browser).
    pub fn outbound(&self) -> vana_net::OutboundPolicy {
        vana_net::OutboundPolicy {
            allow_private_networks: self.allow_private_networks,
            allowed_hosts: self.allowed_hosts.clone(),
        }
    }
}
