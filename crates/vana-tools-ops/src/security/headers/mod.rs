//! `check_security_headers`: fetches a URL through the shared outbound policy and grades what a
//! browser relies on: HSTS, Content-Security-Policy (parsed), X-Content-Type-Options,
//! X-Frame-Options, Referrer-Policy, Permissions-Policy, cookie flags (Secure, HttpOnly,
//! SameSite), CORS (a probe Origin is sent to see whether it is reflected, and with
//! credentials), version-revealing headers; for https, the negotiated TLS version and the
//! certificate's trust, expiry and names.

pub mod csp;
pub mod tls;
pub mod x509;

use crate::security::SecurityConfig;
use async_trait::async_trait;
use serde::{Deserialize, Serialize};
use serde_json::json;
use std::sync::Arc;
use std::time::Duration;
use vana_core::{ToolContext, ToolError, ToolOutput};
use vana_net::Refusal;
use vana_toolkit::{schemars, TypedTool};

/// The Origin sent to see how CORS answers a foreign site.
pub const PROBE_ORIGIN: &str = "https://cors-probe.vana.invalid";

/// One graded item.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct Check {
    /// What was checked, e.g. `strict-transport-security`.
    pub name: String,
    /// `pass`, `warn`, `fail` or `info`.
    pub status: &'static str,
    /// The value seen, if any.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub value: Option<String>,
    /// Why, in a sentence.
    pub detail: String,
    /// Points taken off the score.
    pub penalty: u32,
}

fn check(
    name: &str,
    status: &'static str,
    value: Option<&str>,
    detail: impl Into<String>,
    penalty: u32,
) -> Check {
    Check {
        name: name.into(),
        status,
        value: value.map(str::to_string),
        detail: detail.into(),
        penalty: if status == "pass" || status == "info" { 0 } else { penalty },
    }
}

/// The header checks of one response (`https`: whether it came over TLS).
pub fn grade_headers(headers: &reqwest::header::HeaderMap, https: bool) -> Vec<Check> {
    let get = |n: &str| headers.get(n).and_then(|v| v.to_str().ok()).map(str::trim);
    let mut out = Vec::new();
    if https {
        match get("strict-transport-security") {
            None => out.push(check(
                "strict-transport-security",
                "fail",
                None,
                "missing: browsers may be downgraded to plain HTTP",
                20,
            )),
            Some(v) => {
                let max_age = v
                    .split(';')
                    .filter_map(|p| p.trim().strip_prefix("max-age="))
                    .find_map(|n| n.trim_matches('"').parse::<u64>().ok());
                match max_age {
                    Some(a) if a >= 15_552_000 => out.push(check(
                        "strict-transport-security",
                        "pass",
                        Some(v),
                        format!("max-age {a} s (≥ 180 days)"),
                        0,
                    )),
                    Some(a) => out.push(check(
                        "strict-transport-security",
                        "warn",
                        Some(v),
                        format!("max-age {a} s is under 180 days"),
                        10,
                    )),
                    None => {
                        out.push(check("strict-transport-security", "fail", Some(v), "no valid max-age", 20))
                    }
                }
            }
        }
    } else {
        out.push(check(
            "https",
            "fail",
            None,
            "served over plain HTTP: everything can be read and changed in transit",
            30,
        ));
    }
    let csp = get("content-security-policy");
    match csp {
        None => {
            let report_only = get("content-security-policy-report-only");
            let detail = if report_only.is_some() {
                "only Content-Security-Policy-Report-Only is set: nothing is enforced"
            } else {
                "missing: nothing limits where scripts, frames and objects come from"
            };
            out.push(check("content-security-policy", "fail", report_only, detail, 25));
        }
        Some(v) => {
            let issues = csp::issues(v);
            if issues.is_empty() {
                out.push(check(
                    "content-security-policy",
                    "pass",
                    Some(v),
                    "no unsafe sources, default-src and frame-ancestors set",
                    0,
                ));
            } else {
                let penalty = (issues.len() as u32 * 5).min(20);
                out.push(check("content-security-policy", "warn", Some(v), issues.join("; "), penalty));
            }
        }
    }
    match get("x-content-type-options") {
        Some(v) if v.eq_ignore_ascii_case("nosniff") => {
            out.push(check("x-content-type-options", "pass", Some(v), "nosniff", 0))
        }
        v => out.push(check(
            "x-content-type-options",
            "fail",
            v,
            "not `nosniff`: browsers may sniff content types (script from uploads)",
            10,
        )),
    }
    let frame_ancestors = csp.is_some_and(|v| csp::parse(v).contains_key("frame-ancestors"));
    match get("x-frame-options") {
        Some(v) if v.eq_ignore_ascii_case("deny") || v.eq_ignore_ascii_case("sameorigin") => {
            out.push(check("x-frame-options", "pass", Some(v), "framing restricted", 0))
        }
        _ if frame_ancestors => {
            out.push(check("x-frame-options", "pass", None, "CSP frame-ancestors restricts framing", 0))
        }
        v => out.push(check(
            "x-frame-options",
            "fail",
            v,
            "neither X-Frame-Options nor CSP frame-ancestors: clickjacking",
            15,
        )),
    }
    match get("referrer-policy") {
        None => out.push(check("referrer-policy", "warn", None, "missing: the browser default applies", 5)),
        Some(v) if v.contains("unsafe-url") || v.contains("no-referrer-when-downgrade") => out.push(check(
            "referrer-policy",
            "warn",
            Some(v),
            "full URLs (with query strings) leak to other sites",
            5,
        )),
        Some(v) => out.push(check("referrer-policy", "pass", Some(v), "set", 0)),
    }
    match get("permissions-policy") {
        None => out.push(check(
            "permissions-policy",
            "warn",
            None,
            "missing: camera, microphone, geolocation… are left at browser defaults",
            5,
        )),
        Some(v) => out.push(check("permissions-policy", "pass", Some(v), "set", 0)),
    }
    // Cookies.
    for raw in headers.get_all("set-cookie").iter().filter_map(|v| v.to_str().ok()) {
        let mut parts = raw.split(';');
        let name = parts.next().unwrap_or("").split('=').next().unwrap_or("").trim().to_string();
        let attrs: Vec<String> = parts.map(|p| p.trim().to_ascii_lowercase()).collect();
        let has = |a: &str| attrs.iter().any(|x| x == a || x.starts_with(&format!("{a}=")));
        let same_site = attrs.iter().find_map(|a| a.strip_prefix("samesite=")).map(str::to_string);
        let mut problems = Vec::new();
        let mut penalty = 0;
        if https && !has("secure") {
            problems.push("no Secure (sent over plain HTTP too)");
            penalty += 10;
        }
        if !has("httponly") {
            problems.push("no HttpOnly (readable by scripts)");
            penalty += 5;
        }
        match same_site.as_deref() {
            None => {
                problems.push("no SameSite");
                penalty += 5;
            }
            Some("none") if !has("secure") => {
                problems.push("SameSite=None without Secure (browsers drop it)");
                penalty += 5;
            }
            _ => {}
        }
        let label = format!("cookie {name}");
        if problems.is_empty() {
            out.push(check(&label, "pass", Some(raw), "Secure, HttpOnly and SameSite set", 0));
        } else {
            out.push(check(&label, "warn", Some(raw), problems.join("; "), penalty.min(15)));
        }
    }
    // CORS.
    let acao = get("access-control-allow-origin");
    let creds = get("access-control-allow-credentials").is_some_and(|v| v.eq_ignore_ascii_case("true"));
    match acao {
        None => {
            out.push(check("cors", "pass", None, "no Access-Control-Allow-Origin for a foreign Origin", 0))
        }
        Some("*") if creds => {
            out.push(check("cors", "fail", Some("*"), "wildcard origin with credentials allowed", 25))
        }
        Some("*") => out.push(check(
            "cors",
            "info",
            Some("*"),
            "any site may read responses (fine for public, credential-free APIs)",
            0,
        )),
        Some(v) if v == PROBE_ORIGIN && creds => out.push(check(
            "cors",
            "fail",
            Some(v),
            "a foreign Origin is reflected with credentials: any site can read users' data",
            25,
        )),
        Some(v) if v == PROBE_ORIGIN => {
            out.push(check("cors", "warn", Some(v), "a foreign Origin is reflected", 10))
        }
        Some("null") => out.push(check(
            "cors",
            "fail",
            Some("null"),
            "the `null` origin is allowed (sandboxed frames, files)",
            15,
        )),
        Some(v) => out.push(check("cors", "pass", Some(v), "a fixed origin, not the probe's", 0)),
    }
    for h in ["server", "x-powered-by", "x-aspnet-version"] {
        if let Some(v) = get(h) {
            if v.chars().any(|c| c.is_ascii_digit()) {
                out.push(check(h, "warn", Some(v), "reveals software versions", 2));
            }
        }
    }
    out
}

/// The letter for a score.
pub fn letter(score: u32) -> &'static str {
    match score {
        95.. => "A+",
        85..=94 => "A",
        75..=84 => "B",
        60..=74 => "C",
        45..=59 => "D",
        _ => "F",
    }
}

/// The `check_security_headers` tool.
pub struct CheckSecurityHeaders {
    config: Arc<SecurityConfig>,
}

impl CheckSecurityHeaders {
    /// With the security settings (outbound policy, extra CA roots).
    pub fn new(config: Arc<SecurityConfig>) -> Self {
        CheckSecurityHeaders { config }
    }
}

/// Arguments of `check_security_headers`.
#[derive(Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct CheckHeadersArgs {
    /// The http(s) URL to fetch, e.g. `https://app.example.org/login`.
    pub url: String,
}

fn blocked_or_failed(e: reqwest::Error, url: &str) -> ToolError {
    if let Some(r) = Refusal::find(&e) {
        return ToolError::Blocked(r.to_string());
    }
    let mut msg = e.to_string();
    let mut src = std::error::Error::source(&e);
    while let Some(s) = src {
        msg.push_str(": ");
        msg.push_str(&s.to_string());
        src = s.source();
    }
    ToolError::Failed(format!("fetching {url} failed: {msg}"))
}

#[async_trait]
impl TypedTool for CheckSecurityHeaders {
    type Args = CheckHeadersArgs;
    fn name(&self) -> &'static str {
        "check_security_headers"
    }
    fn description(&self) -> &'static str {
        "Fetches a URL and grades its security headers: HSTS, Content-Security-Policy (unsafe-inline, unsafe-eval, \
         wildcards, missing default-src/frame-ancestors), X-Content-Type-Options, X-Frame-Options, Referrer-Policy, \
         Permissions-Policy, cookie flags (Secure, HttpOnly, SameSite) and CORS; for https also the TLS version and \
         the certificate's trust, expiry and names. Returns a score, a letter grade and each check with a fix hint."
    }
    async fn run(&self, args: CheckHeadersArgs, _ctx: ToolContext) -> Result<ToolOutput, ToolError> {
        let policy = &self.config.policy;
        let url = policy.check_url(&args.url).map_err(|r| match r {
            Refusal::InvalidUrl { .. } | Refusal::Scheme { .. } => ToolError::InvalidArgs(r.to_string()),
            other => ToolError::Blocked(other.to_string()),
        })?;
        let timeout = Duration::from_secs(20);
        let mut roots_pem = Vec::new();
        for p in &self.config.extra_ca_roots {
            roots_pem.extend(crate::security::staging::read_operator_file(p, "the extra CA roots file")?);
            roots_pem.push(b'\n');
        }
        let extra = tls::pem_roots(&roots_pem);
        let mut builder =
            reqwest::Client::builder().timeout(timeout).user_agent("VANA check_security_headers");
        if !extra.is_empty() {
            let certs: Vec<reqwest::Certificate> =
                extra.iter().filter_map(|c| reqwest::Certificate::from_der(c.as_ref()).ok()).collect();
            builder = builder.tls_certs_merge(certs);
        }
        let client = policy
            .client(builder, 5)
            .map_err(|e| ToolError::Failed(format!("cannot build the HTTP client: {e}")))?;
        let request = client.get(url.as_str()).map_err(|r| ToolError::Blocked(r.to_string()))?;
        let fetched = request.header("origin", PROBE_ORIGIN).send().await;
        let (status, final_url, headers, fetch_error) = match fetched {
            Ok(resp) => {
                (Some(resp.status().as_u16()), resp.url().clone(), Some(resp.headers().clone()), None)
            }
            Err(e) => {
                let err = blocked_or_failed(e, url.as_str());
                if matches!(err, ToolError::Blocked(_)) || url.scheme() != "https" {
                    return Err(err);
                }
                (None, url.clone(), None, Some(err.to_string()))
            }
        };
        let https = final_url.scheme() == "https";
        let mut checks = match &headers {
            Some(h) => grade_headers(h, https),
            None => Vec::new(),
        };
        let mut tls_json = serde_json::Value::Null;
        if https {
            let host = final_url.host_str().unwrap_or_default().to_string();
            let port = final_url.port_or_known_default().unwrap_or(443);
            match tls::probe(policy, &host, port, extra, timeout).await {
                Ok(t) => {
                    let now = std::time::SystemTime::now()
                        .duration_since(std::time::UNIX_EPOCH)
                        .map(|d| d.as_secs() as i64)
                        .unwrap_or(0);
                    match &t.trust_error {
                        None => checks.push(check(
                            "tls-certificate",
                            "pass",
                            None,
                            format!("trusted for {host}"),
                            0,
                        )),
                        Some(e) => checks.push(check(
                            "tls-certificate",
                            "fail",
                            None,
                            format!("not trusted for {host}: {e}"),
                            40,
                        )),
                    }
                    if t.version == "TLSv1.3" || t.version == "TLSv1.2" {
                        checks.push(check(
                            "tls-version",
                            "pass",
                            Some(&t.version),
                            "TLS 1.2 or later negotiated",
                            0,
                        ));
                    } else {
                        checks.push(check(
                            "tls-version",
                            "fail",
                            Some(&t.version),
                            "an obsolete TLS version",
                            20,
                        ));
                    }
                    if let Some(c) = &t.cert {
                        let days = (c.not_after - now).div_euclid(86_400);
                        let expiry = x509::date(c.not_after);
                        if c.not_after < now {
                            checks.push(check(
                                "tls-expiry",
                                "fail",
                                Some(&expiry),
                                format!("expired {} days ago", -days),
                                40,
                            ));
                        } else if days < 14 {
                            checks.push(check(
                                "tls-expiry",
                                "warn",
                                Some(&expiry),
                                format!("expires in {days} days"),
                                10,
                            ));
                        } else {
                            checks.push(check(
                                "tls-expiry",
                                "pass",
                                Some(&expiry),
                                format!("expires in {days} days"),
                                0,
                            ));
                        }
                    }
                    tls_json = json!({
                        "version": t.version,
                        "cipher": t.cipher,
                        "trusted": t.trust_error.is_none(),
                        "trust_error": t.trust_error,
                        "certificate": t.cert.as_ref().map(|c| json!({
                            "subject_cn": c.subject_cn,
                            "issuer_cn": c.issuer_cn,
                            "names": c.names,
                            "not_before": x509::date(c.not_before),
                            "not_after": x509::date(c.not_after),
                            "days_left": (c.not_after - now).div_euclid(86_400),
                        })),
                    });
                }
                Err(e) => {
                    checks.push(check("tls", "fail", None, format!("no TLS handshake: {e}"), 40));
                }
            }
        }
        let penalty: u32 = checks.iter().map(|c| c.penalty).sum();
        let score = 100u32.saturating_sub(penalty);
        let summary: Vec<String> = checks
            .iter()
            .filter(|c| c.status == "fail" || c.status == "warn")
            .map(|c| format!("{}: {}", c.name, c.detail))
            .collect();
        Ok(ToolOutput::json(json!({
            "url": args.url,
            "final_url": final_url.as_str(),
            "status": status,
            "fetch_error": fetch_error,
            "score": score,
            "grade": letter(score),
            "checks": checks,
            "problems": summary,
            "tls": tls_json,
        })))
    }
}
