//! Signed calls to AWS (or the `[aws] endpoint_url` override) over the outbound policy's
//! reqwest client.

use super::creds::{self, Env};
use super::sigv4::{self, Credentials};
use crate::config::AwsConfig;
use std::time::{Duration, SystemTime};
use vana_net::OutboundPolicy;

/// A response: status, `content-type` and body.
pub struct Response {
    /// HTTP status.
    pub status: u16,
    /// The body.
    pub body: Vec<u8>,
}

/// The AWS client of one suite.
pub struct AwsClient {
    config: AwsConfig,
    env: Env,
    http: vana_net::Client,
}

/// Bytes read from one response.
const MAX_RESPONSE: usize = 64 << 20;

impl AwsClient {
    /// A client for `config`; `policy` is the shared outbound policy, widened by the host of
    /// `[aws] endpoint_url` (operator config: a loopback LocalStack or moto is allowed).
    pub fn new(
        config: AwsConfig,
        env: Env,
        mut policy: OutboundPolicy,
        timeout: Duration,
    ) -> Result<Self, String> {
        if !config.endpoint_url.is_empty() {
            let url = url::Url::parse(&config.endpoint_url)
                .map_err(|e| format!("[aws] endpoint_url {:?}: {e}", config.endpoint_url))?;
            if !matches!(url.scheme(), "http" | "https") || url.host_str().is_none() {
                return Err(format!("[aws] endpoint_url {:?} must be an http(s) URL", config.endpoint_url));
            }
            policy
                .allowed_hosts
                .push(url.host_str().unwrap_or_default().trim_matches(['[', ']']).to_string());
        }
        let http = policy
            .client(reqwest::Client::builder().timeout(timeout), 0)
            .map_err(|e| format!("HTTP client: {e}"))?;
        Ok(AwsClient { config, env, http })
    }

    /// The region calls go to.
    pub fn region(&self) -> Result<String, String> {
        creds::region(&self.config, &self.env)
    }

    /// The credentials (an error naming where they were looked for).
    pub fn credentials(&self) -> Result<Credentials, String> {
        creds::resolve(&self.config, &self.env)
    }

    /// The base URL of `service` (`s3`, `ec2`, `lambda`): the override, or AWS's regional one.
    pub fn endpoint(&self, service: &str, region: &str) -> String {
        if !self.config.endpoint_url.is_empty() {
            return self.config.endpoint_url.trim_end_matches('/').to_string();
        }
        format!("https://{service}.{region}.amazonaws.com")
    }

    /// Sends one signed request. `path` is already URI-encoded; `query` is decoded pairs.
    pub async fn send(
        &self,
        service: &str,
        method: &str,
        path: &str,
        query: &[(String, String)],
        extra_headers: &[(&str, String)],
        body: Vec<u8>,
    ) -> Result<Response, String> {
        let creds = self.credentials()?;
        let region = self.region()?;
        let base = self.endpoint(service, &region);
        let qs = sigv4::canonical_query(query);
        let url = if qs.is_empty() { format!("{base}{path}") } else { format!("{base}{path}?{qs}") };
        let parsed = url::Url::parse(&url).map_err(|e| format!("{url}: {e}"))?;
        let host = match parsed.port() {
            Some(p) => format!("{}:{p}", parsed.host_str().unwrap_or_default()),
            None => parsed.host_str().unwrap_or_default().to_string(),
        };
        let date = sigv4::amz_date(SystemTime::now());
        let payload_hash = sigv4::sha256_hex(&body);
        let mut headers: Vec<(String, String)> = vec![
            ("host".into(), host),
            ("x-amz-date".into(), date.clone()),
            ("x-amz-content-sha256".into(), payload_hash.clone()),
        ];
        if let Some(t) = &creds.session_token {
            headers.push(("x-amz-security-token".into(), t.clone()));
        }
        for (k, v) in extra_headers {
            headers.push((k.to_string(), v.clone()));
        }
        let signed = sigv4::sign(
            &creds,
            &region,
            service,
            &date,
            &sigv4::Request { method, path, query, headers: &headers, payload_hash: &payload_hash },
        );
        let m = reqwest::Method::from_bytes(method.as_bytes()).map_err(|e| e.to_string())?;
        let mut rb = self.http.request(m, &url).map_err(|e| e.to_string())?;
        for (k, v) in headers.iter().filter(|(k, _)| k != "host") {
            rb = rb.header(k.as_str(), v.as_str());
        }
        rb = rb.header("authorization", signed.authorization).body(body);
        let resp = rb.send().await.map_err(|e| format!("{service} at {base}: {e}"))?;
        let status = resp.status().as_u16();
        let body = resp.bytes().await.map_err(|e| format!("{service}: reading the response: {e}"))?;
        if body.len() > MAX_RESPONSE {
            return Err(format!("{service}: response larger than {MAX_RESPONSE} bytes"));
        }
        let body = body.to_vec();
        if status >= 300 {
            return Err(error_text(service, status, &body));
        }
        Ok(Response { status, body })
    }
}

/// AWS's error (XML `<Code>`/`<Message>` or JSON `message`/`__type`) as one line.
pub fn error_text(service: &str, status: u16, body: &[u8]) -> String {
    let text = String::from_utf8_lossy(body);
    if let Ok(doc) = roxmltree::Document::parse(&text) {
        let find = |name: &str| {
            doc.descendants()
                .find(|n| n.tag_name().name() == name)
                .and_then(|n| n.text())
                .unwrap_or("")
                .to_string()
        };
        let (code, msg) = (find("Code"), find("Message"));
        if !code.is_empty() {
            return format!("{service} refused ({status} {code}): {msg}");
        }
    }
    if let Ok(v) = serde_json::from_str::<serde_json::Value>(&text) {
        let code = v["__type"].as_str().or(v["Type"].as_str()).unwrap_or("");
        let msg = v["message"].as_str().or(v["Message"].as_str()).unwrap_or("");
        return format!("{service} refused ({status} {code}): {msg}");
    }
    format!("{service} refused ({status}): {}", text.chars().take(300).collect::<String>())
}
