//! What keeps a web page the user visits from driving the API through the user's browser:
//!
//! - a `Host` allow-list against DNS rebinding (a page of `attacker.example` whose name then
//!   resolves to 127.0.0.1 sends `Host: attacker.example`): loopback names, the bind address
//!   and `server.allowed_hosts` are served, anything else gets 403;
//! - an `Origin` check on state-changing requests (POST, PUT, PATCH, DELETE): an `Origin`
//!   other than the server's own (scheme, host and port of the request's `Host`) or one of
//!   `server.allowed_origins` gets 403, and so does `Sec-Fetch-Site: cross-site` without an
//!   `Origin`; requests without either (the CLI, SDKs, curl) pass;
//! - JSON-only state changes: a state-changing request with a body must say
//!   `Content-Type: application/json` (415 otherwise), so a cross-site HTML form, which can
//!   only send `text/plain`, urlencoded or multipart bodies, can never reach a handler. A
//!   request without a body (logout, DELETE) needs no `Content-Type`, but one that names
//!   another type is refused all the same.
//!
//! - CORS for the origins of `server.allowed_origins` only (so a page served elsewhere, such as
//!   Google ADK's own web UI pointed at this server, can read the answers): preflights of a
//!   listed origin get 204 with the allowed methods and headers, a preflight of any other
//!   origin gets 403, and answers to a listed origin carry `Access-Control-Allow-Origin`.
//!
//! The layer wraps every route, the MCP mount at `/mcp` included.

use crate::error::ApiError;
use crate::state::Shared;
use axum::extract::{Request, State};
use axum::http::{header, HeaderMap, Method, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use std::net::IpAddr;

/// One entry of `server.allowed_hosts`.
#[derive(Debug, Clone, PartialEq, Eq)]
enum HostPattern {
    /// `*`: every host.
    Any,
    /// `*.example.com`: every name below `example.com`.
    Suffix(String),
    /// `name` (any port) or `name:port`.
    Exact(String, Option<u16>),
}

/// An origin as compared: scheme, host and port (the scheme's default when absent).
#[derive(Debug, Clone, PartialEq, Eq)]
struct Origin {
    scheme: String,
    host: String,
    port: u16,
}

/// The rules of one server, built once from its configuration and bind address.
#[derive(Debug, Clone, Default)]
pub struct Guard {
    hosts: Vec<HostPattern>,
    any_origin: bool,
    origins: Vec<Origin>,
    bind: Option<IpAddr>,
}

/// Why a request was refused: the status and the message naming the setting.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Refusal {
    /// 403 or 415.
    pub status: StatusCode,
    /// What was refused and which setting allows it.
    pub message: String,
}

impl Guard {
    /// The rules for `allowed_hosts` and `allowed_origins` (as in `[server]`) on a server bound
    /// to `bind`. Entries that cannot be read are ignored with a warning.
    pub fn new(allowed_hosts: &[String], allowed_origins: &[String], bind: Option<IpAddr>) -> Guard {
        let hosts = allowed_hosts
            .iter()
            .filter_map(|h| {
                let h = h.trim().to_ascii_lowercase();
                if h == "*" {
                    return Some(HostPattern::Any);
                }
                if let Some(rest) = h.strip_prefix("*.") {
                    return Some(HostPattern::Suffix(format!(".{}", rest.trim_end_matches('.'))));
                }
                let parsed = split_authority(&h).map(|(host, port)| HostPattern::Exact(host, port));
                if parsed.is_none() {
                    tracing::warn!(
                        "server.allowed_hosts: cannot read {h:?} (expected name, name:port, *.domain or *)"
                    );
                }
                parsed
            })
            .collect();
        let any_origin = allowed_origins.iter().any(|o| o.trim() == "*");
        let origins = allowed_origins
            .iter()
            .filter(|o| o.trim() != "*")
            .filter_map(|o| {
                let parsed = parse_origin(o.trim());
                if parsed.is_none() {
                    tracing::warn!(
                        "server.allowed_origins: cannot read {o:?} (expected scheme://host[:port], e.g. https://app.example.com)"
                    );
                }
                parsed
            })
            .collect();
        Guard { hosts, any_origin, origins, bind }
    }

    /// Checks one request's headers; `Err` says why it must be refused.
    pub fn check(
        &self,
        method: &Method,
        uri_authority: Option<&str>,
        headers: &HeaderMap,
    ) -> Result<(), Refusal> {
        let host_value =
            headers.get(header::HOST).and_then(|v| v.to_str().ok()).or(uri_authority).map(str::to_string);
        let host = match &host_value {
            // No Host at all: not a browser (every browser sends one), nothing to rebind.
            None => None,
            Some(v) => match split_authority(&v.to_ascii_lowercase()) {
                Some(h) if self.host_allowed(&h) => Some(h),
                _ => return Err(self.foreign_host(v)),
            },
        };
        if !is_state_changing(method) {
            return Ok(());
        }
        if let Some(origin) = headers.get(header::ORIGIN) {
            let raw = origin.to_str().unwrap_or("");
            let parsed = parse_origin(raw);
            let own = match (&parsed, &host) {
                (Some(o), Some((h, port))) => {
                    o.host == *h && o.port == port.unwrap_or_else(|| default_port(&o.scheme))
                }
                _ => false,
            };
            let listed = self.any_origin || parsed.as_ref().is_some_and(|o| self.origins.contains(o));
            if !own && !listed {
                let own_origin = host_value.as_deref().map(|h| format!(" (http://{h})")).unwrap_or_default();
                return Err(Refusal {
                    status: StatusCode::FORBIDDEN,
                    message: format!(
                        "cross-origin request refused: Origin {raw:?} is not this server's own origin{own_origin}; \
                         to let pages of that origin change things here, add it to server.allowed_origins \
                         (VANA_SERVER_ALLOWED_ORIGINS)"
                    ),
                });
            }
        } else if headers
            .get("sec-fetch-site")
            .and_then(|v| v.to_str().ok())
            .is_some_and(|v| v.trim().eq_ignore_ascii_case("cross-site"))
        {
            return Err(Refusal {
                status: StatusCode::FORBIDDEN,
                message: "cross-site request refused (Sec-Fetch-Site: cross-site without an Origin): \
                          a browser page of another site cannot change things here; pages of an origin \
                          listed in server.allowed_origins must send their Origin"
                    .into(),
            });
        }
        json_body_only(headers)
    }

    /// The `Origin` of a request when it is one of `server.allowed_origins` (CORS answers go
    /// to those only).
    pub fn cors_origin<'a>(&self, headers: &'a HeaderMap) -> Option<&'a axum::http::HeaderValue> {
        let v = headers.get(header::ORIGIN)?;
        let parsed = parse_origin(v.to_str().ok()?)?;
        (self.any_origin || self.origins.contains(&parsed)).then_some(v)
    }

    fn host_allowed(&self, (host, port): &(String, Option<u16>)) -> bool {
        if host == "localhost" || host.ends_with(".localhost") {
            return true;
        }
        if let Ok(ip) = host.trim_start_matches('[').trim_end_matches(']').parse::<IpAddr>() {
            // An address cannot be rebound; the server's own answers, and when it listens on
            // every interface (0.0.0.0, ::) any of the machine's addresses is its own.
            if ip.is_loopback() || self.bind == Some(ip) || self.bind.is_some_and(|b| b.is_unspecified()) {
                return true;
            }
        }
        self.hosts.iter().any(|p| match p {
            HostPattern::Any => true,
            HostPattern::Suffix(s) => host.ends_with(s.as_str()),
            HostPattern::Exact(h, want) => h == host && want.is_none_or(|w| Some(w) == *port),
        })
    }

    fn foreign_host(&self, value: &str) -> Refusal {
        let bind = self.bind.filter(|b| !b.is_loopback()).map(|b| format!(", {b}")).unwrap_or_default();
        Refusal {
            status: StatusCode::FORBIDDEN,
            message: format!(
                "Host {value:?} is not served here: this server answers loopback names (localhost, 127.0.0.1, \
                 [::1]{bind}) so that a web page cannot reach it by DNS rebinding; to serve it under another \
                 name, add that name to server.allowed_hosts (VANA_SERVER_ALLOWED_HOSTS)"
            ),
        }
    }
}

/// POST, PUT, PATCH and DELETE change things; the other methods only read.
fn is_state_changing(method: &Method) -> bool {
    matches!(*method, Method::POST | Method::PUT | Method::PATCH | Method::DELETE)
}

/// A state-changing request's body must be JSON; one without a body may omit the type.
fn json_body_only(headers: &HeaderMap) -> Result<(), Refusal> {
    let refuse = |got: &str| Refusal {
        status: StatusCode::UNSUPPORTED_MEDIA_TYPE,
        message: format!(
            "state-changing requests take JSON: send `Content-Type: application/json` with the body \
             ({got}); a request without a body needs no Content-Type"
        ),
    };
    match headers.get(header::CONTENT_TYPE) {
        Some(v) => {
            let text = v.to_str().unwrap_or("");
            let essence = text.split(';').next().unwrap_or("").trim().to_ascii_lowercase();
            if essence == "application/json"
                || (essence.starts_with("application/") && essence.ends_with("+json"))
            {
                Ok(())
            } else {
                Err(refuse(&format!("got Content-Type {text:?}")))
            }
        }
        None => {
            let length = headers
                .get(header::CONTENT_LENGTH)
                .and_then(|v| v.to_str().ok())
                .and_then(|v| v.trim().parse::<u64>().ok())
                .unwrap_or(0);
            if length > 0 || headers.contains_key(header::TRANSFER_ENCODING) {
                Err(refuse("got a body without a Content-Type"))
            } else {
                Ok(())
            }
        }
    }
}

/// `host`, `host:port`, `[v6]`, `[v6]:port` -> (host, port); the host lower-cased, without a
/// trailing dot, IPv6 kept in brackets. `None` when it is not an authority.
fn split_authority(value: &str) -> Option<(String, Option<u16>)> {
    let v = value.trim();
    if v.is_empty() || v.contains(['/', '@', ' ', '\\']) {
        return None;
    }
    let (host, port) = if let Some(rest) = v.strip_prefix('[') {
        let (inner, after) = rest.split_once(']')?;
        inner.parse::<std::net::Ipv6Addr>().ok()?;
        let port = match after {
            "" => None,
            p => Some(p.strip_prefix(':')?.parse::<u16>().ok()?),
        };
        (format!("[{inner}]"), port)
    } else {
        match v.rsplit_once(':') {
            Some((h, p)) => (h.to_string(), Some(p.parse::<u16>().ok()?)),
            None => (v.to_string(), None),
        }
    };
    let host = host.trim_end_matches('.').to_ascii_lowercase();
    if host.is_empty() || host.contains(':') && !host.starts_with('[') {
        return None;
    }
    Some((host, port))
}

fn default_port(scheme: &str) -> u16 {
    if scheme == "https" {
        443
    } else {
        80
    }
}

/// `scheme://host[:port]` (a trailing `/` tolerated); `None` for `null` and anything else.
fn parse_origin(value: &str) -> Option<Origin> {
    let v = value.trim().to_ascii_lowercase();
    let (scheme, rest) = v.split_once("://")?;
    if scheme != "http" && scheme != "https" {
        return None;
    }
    let (host, port) = split_authority(rest.strip_suffix('/').unwrap_or(rest))?;
    Some(Origin { port: port.unwrap_or_else(|| default_port(scheme)), scheme: scheme.to_string(), host })
}

const CORS_METHODS: &str = "GET, POST, PUT, PATCH, DELETE, OPTIONS";
const CORS_HEADERS: &str = "content-type, authorization, x-vana-session, x-adk-telemetry-request";

fn cors_headers(resp: &mut Response, origin: axum::http::HeaderValue) {
    let h = resp.headers_mut();
    h.insert(header::ACCESS_CONTROL_ALLOW_ORIGIN, origin);
    h.insert(header::ACCESS_CONTROL_ALLOW_CREDENTIALS, axum::http::HeaderValue::from_static("true"));
    h.insert(
        header::ACCESS_CONTROL_EXPOSE_HEADERS,
        axum::http::HeaderValue::from_static("x-vana-session, retry-after"),
    );
    h.append(header::VARY, axum::http::HeaderValue::from_static("Origin"));
}

/// Middleware: refuses foreign hosts, foreign origins and non-JSON state changes; answers CORS
/// preflights of listed origins.
pub async fn guard(State(state): State<Shared>, req: Request, next: Next) -> Response {
    let authority = req.uri().authority().map(|a| a.as_str().to_string());
    let cors = state.guard.cors_origin(req.headers()).cloned();
    if req.method() == Method::OPTIONS && req.headers().contains_key(header::ACCESS_CONTROL_REQUEST_METHOD) {
        let Some(origin) = cors else {
            return ApiError::new(
                StatusCode::FORBIDDEN,
                "cross-origin preflight refused: the Origin is not in server.allowed_origins (VANA_SERVER_ALLOWED_ORIGINS)",
            )
            .into_response();
        };
        let mut resp = StatusCode::NO_CONTENT.into_response();
        cors_headers(&mut resp, origin);
        let h = resp.headers_mut();
        h.insert(header::ACCESS_CONTROL_ALLOW_METHODS, axum::http::HeaderValue::from_static(CORS_METHODS));
        h.insert(header::ACCESS_CONTROL_ALLOW_HEADERS, axum::http::HeaderValue::from_static(CORS_HEADERS));
        h.insert(header::ACCESS_CONTROL_MAX_AGE, axum::http::HeaderValue::from_static("600"));
        return resp;
    }
    match state.guard.check(req.method(), authority.as_deref(), req.headers()) {
        Ok(()) => {
            let mut resp = next.run(req).await;
            if let Some(origin) = cors {
                cors_headers(&mut resp, origin);
            }
            resp
        }
        Err(refusal) => {
            tracing::warn!(method = %req.method(), path = req.uri().path(), "refused: {}", refusal.message);
            ApiError::new(refusal.status, refusal.message).into_response()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::HeaderValue;

    fn headers(pairs: &[(&'static str, &str)]) -> HeaderMap {
        let mut h = HeaderMap::new();
        for (k, v) in pairs {
            h.append(*k, HeaderValue::from_str(v).unwrap());
        }
        h
    }

    fn status(g: &Guard, method: Method, pairs: &[(&'static str, &str)]) -> u16 {
        match g.check(&method, None, &headers(pairs)) {
            Ok(()) => 200,
            Err(r) => r.status.as_u16(),
        }
    }

    #[test]
    fn authorities_are_split_and_normalised() {
        assert_eq!(split_authority("LocalHost:8080"), Some(("localhost".into(), Some(8080))));
        assert_eq!(split_authority("[::1]:9"), Some(("[::1]".into(), Some(9))));
        assert_eq!(split_authority("[::1]"), Some(("[::1]".into(), None)));
        assert_eq!(split_authority("vana.example.com."), Some(("vana.example.com".into(), None)));
        for bad in ["", "a b", "x:notaport", "[zz]:1", "::1", "user@host", "h/p"] {
            assert_eq!(split_authority(bad), None, "{bad}");
        }
        assert_eq!(parse_origin("null"), None);
        assert_eq!(
            parse_origin("HTTPS://App.Example.com/"),
            Some(Origin { scheme: "https".into(), host: "app.example.com".into(), port: 443 })
        );
    }

    #[test]
    fn hosts_loopback_bind_and_listed_pass_others_get_403() {
        let g = Guard::new(
            &["vana.example.com".into(), "*.corp.example".into(), "pinned.example:8443".into()],
            &[],
            Some("10.0.0.5".parse().unwrap()),
        );
        for ok in [
            "localhost",
            "localhost:8080",
            "app.localhost:1",
            "127.0.0.1:8080",
            "127.9.9.9",
            "[::1]:8080",
            "10.0.0.5:8080",
            "vana.example.com:80",
            "a.corp.example",
            "pinned.example:8443",
        ] {
            assert_eq!(status(&g, Method::GET, &[("host", ok)]), 200, "{ok}");
        }
        for bad in [
            "attacker.example",
            "localhost.attacker.example",
            "10.0.0.6",
            "corp.example",
            "pinned.example:80",
            "x:y",
        ] {
            assert_eq!(status(&g, Method::GET, &[("host", bad)]), 403, "{bad}");
        }
        let any = Guard::new(&[], &[], Some("0.0.0.0".parse().unwrap()));
        assert_eq!(status(&any, Method::GET, &[("host", "192.168.1.20:8080")]), 200);
        assert_eq!(status(&any, Method::GET, &[("host", "evil.example")]), 403);
        assert_eq!(
            status(&Guard::new(&["*".into()], &[], None), Method::GET, &[("host", "evil.example")]),
            200
        );
        let msg = g.check(&Method::GET, None, &headers(&[("host", "attacker.example")])).unwrap_err().message;
        assert!(msg.contains("server.allowed_hosts") && msg.contains("attacker.example"), "{msg}");
    }

    #[test]
    fn origins_and_content_types_of_state_changes() {
        let g = Guard::new(&[], &["https://app.example.com".into()], None);
        let json = ("content-type", "application/json");
        let host = ("host", "127.0.0.1:8080");
        assert_eq!(status(&g, Method::POST, &[host, json, ("origin", "http://127.0.0.1:8080")]), 200);
        assert_eq!(
            status(&g, Method::POST, &[("host", "localhost"), json, ("origin", "http://localhost")]),
            200
        );
        assert_eq!(status(&g, Method::POST, &[host, json, ("origin", "https://app.example.com")]), 200);
        assert_eq!(status(&g, Method::POST, &[host, json]), 200, "no Origin: CLI, SDKs");
        for foreign in ["http://127.0.0.1:9999", "http://evil.example", "null", "http://localhost:8080"] {
            assert_eq!(status(&g, Method::POST, &[host, json, ("origin", foreign)]), 403, "{foreign}");
            assert_eq!(status(&g, Method::DELETE, &[host, ("origin", foreign)]), 403, "{foreign}");
        }
        assert_eq!(status(&g, Method::GET, &[host, ("origin", "http://evil.example")]), 200, "reads pass");
        assert_eq!(status(&g, Method::POST, &[host, json, ("sec-fetch-site", "cross-site")]), 403);
        assert_eq!(status(&g, Method::POST, &[host, json, ("sec-fetch-site", "same-origin")]), 200);
        let msg = g
            .check(&Method::POST, None, &headers(&[host, json, ("origin", "http://evil.example")]))
            .unwrap_err()
            .message;
        assert!(msg.contains("server.allowed_origins"), "{msg}");
        assert_eq!(
            status(&g, Method::POST, &[host, ("content-type", "text/plain"), ("content-length", "2")]),
            415
        );
        assert_eq!(
            status(&g, Method::POST, &[host, ("content-type", "application/x-www-form-urlencoded")]),
            415
        );
        assert_eq!(status(&g, Method::POST, &[host, ("content-length", "5")]), 415);
        assert_eq!(
            status(&g, Method::POST, &[host, ("content-type", "application/json; charset=utf-8")]),
            200
        );
        assert_eq!(status(&g, Method::POST, &[host]), 200, "a bodiless POST needs no type");
        assert_eq!(status(&g, Method::POST, &[host, ("content-length", "0")]), 200);
        assert_eq!(status(&g, Method::DELETE, &[host]), 200);
        assert_eq!(status(&g, Method::GET, &[host, ("content-type", "text/plain")]), 200);
    }
}
