//! `test_api_endpoint`: one request, or several in a row, with the status, headers, size, the
//! measured phases (and p50/p95 over repeats), the body's inferred JSON Schema and the caller's
//! assertions as pass/fail.

use crate::jsonpath;
use crate::timing::{self, Measured, Phases, RequestError};
use crate::IntegrationConfig;
use async_trait::async_trait;
use base64::Engine;
use bytes::Bytes;
use serde::Deserialize;
use serde_json::{json, Map, Value};
use std::collections::BTreeMap;
use std::time::Duration;
use vana_core::{ToolContext, ToolError, ToolOutput};
use vana_net::OutboundPolicy;
use vana_toolkit::schemars::{self, JsonSchema};
use vana_toolkit::TypedTool;

/// How the request authenticates.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(tag = "type", rename_all = "snake_case", deny_unknown_fields)]
pub enum Auth {
    /// `Authorization: Bearer TOKEN`.
    Bearer {
        /// The token.
        token: String,
    },
    /// `Authorization: Basic base64(username:password)`.
    Basic {
        /// The user name.
        username: String,
        /// The password.
        #[serde(default)]
        password: String,
    },
    /// An API key in a header (default `X-API-Key`).
    ApiKey {
        /// The header name (default `X-API-Key`).
        #[serde(default)]
        header: Option<String>,
        /// The key.
        value: String,
    },
}

/// One check on the response. Give exactly one of `status`, `jsonpath`, `header` or
/// `latency_under_ms`.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Assertion {
    /// The status code expected (every repeat).
    #[serde(default)]
    pub status: Option<u16>,
    /// A JSONPath into the JSON body (`$.items[0].id`, `$.data[*].name`, `$['a b']`); with
    /// `equals` the first match must equal it, with `contains` a match must contain it (a
    /// substring of a string, an element of an array, a key of an object), with neither the path
    /// must match something.
    #[serde(default)]
    pub jsonpath: Option<String>,
    /// The value the JSONPath's first match must equal.
    #[serde(default)]
    #[schemars(schema_with = "equals_schema")]
    pub equals: Option<Value>,
    /// What a JSONPath match (or the `header` value) must contain.
    #[serde(default)]
    #[schemars(schema_with = "contains_schema")]
    pub contains: Option<Value>,
    /// A response header that must be present (with `contains`: whose value contains it).
    #[serde(default)]
    pub header: Option<String>,
    /// The total time must stay under this many milliseconds (p95 over the repeats).
    #[serde(default)]
    pub latency_under_ms: Option<f64>,
}

/// Arguments of `test_api_endpoint`.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ApiTestArgs {
    /// The http or https URL.
    pub url: String,
    /// GET (default), POST, PUT, PATCH, DELETE, HEAD or OPTIONS.
    #[serde(default)]
    pub method: Option<String>,
    /// Request headers.
    #[serde(default)]
    pub headers: Option<BTreeMap<String, String>>,
    /// The request body: a string is sent as it is; any other JSON value is sent as JSON
    /// (with `Content-Type: application/json` unless a header says otherwise).
    #[serde(default)]
    #[schemars(schema_with = "body_schema")]
    pub body: Option<Value>,
    /// Authentication: `{"type": "bearer", "token": ...}`, `{"type": "basic", "username": ...,
    /// "password": ...}` or `{"type": "api_key", "header": "X-API-Key", "value": ...}`.
    #[serde(default)]
    #[schemars(schema_with = "auth_schema")]
    pub auth: Option<Auth>,
    /// How many times to send it (default 1); timings get p50/p95 over the repeats. Each repeat
    /// opens a new connection, so DNS, connect and TLS are measured every time.
    #[serde(default, deserialize_with = "vana_toolkit::args::whole")]
    #[schemars(range(min = 1, max = 50))]
    pub repeat: Option<u32>,
    /// Milliseconds one request may take (default `[integration] timeout_secs`).
    #[serde(default, deserialize_with = "vana_toolkit::args::whole")]
    pub timeout_ms: Option<u64>,
    /// Checks on the response, each reported as passed or failed.
    #[serde(default)]
    pub assertions: Vec<Assertion>,
    /// Characters of the body returned (default 4000).
    #[serde(default, deserialize_with = "vana_toolkit::args::whole")]
    pub max_body_chars: Option<u32>,
}

/// `test_api_endpoint`.
pub struct TestApiEndpoint {
    pub(crate) config: IntegrationConfig,
    pub(crate) policy: OutboundPolicy,
}

const METHODS: [&str; 7] = ["GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS"];

/// A refusal as the integration tools' users fix it: through `[integration]`.
pub(crate) fn refusal_message(r: &vana_net::Refusal) -> String {
    r.to_string().replace("[web]", "[integration]")
}

impl TestApiEndpoint {
    fn build_headers(args: &ApiTestArgs) -> Result<(Vec<(String, String)>, Bytes), ToolError> {
        let bad = |m: String| ToolError::InvalidArgs(m);
        let mut headers: Vec<(String, String)> = Vec::new();
        for (k, v) in args.headers.iter().flatten() {
            http::HeaderName::from_bytes(k.as_bytes())
                .map_err(|_| bad(format!("field `headers`: `{k}` is not a valid header name")))?;
            http::HeaderValue::from_str(v).map_err(|_| {
                bad(format!("field `headers`: the value of `{k}` has characters a header cannot carry"))
            })?;
            headers.push((k.clone(), v.clone()));
        }
        let has = |h: &[(String, String)], name: &str| h.iter().any(|(k, _)| k.eq_ignore_ascii_case(name));
        if let Some(auth) = &args.auth {
            let (name, value) = match auth {
                Auth::Bearer { token } => ("authorization".to_string(), format!("Bearer {token}")),
                Auth::Basic { username, password } => {
                    let raw = format!("{username}:{password}");
                    (
                        "authorization".to_string(),
                        format!("Basic {}", base64::engine::general_purpose::STANDARD.encode(raw)),
                    )
                }
                Auth::ApiKey { header, value } => {
                    (header.clone().unwrap_or_else(|| "X-API-Key".into()), value.clone())
                }
            };
            http::HeaderName::from_bytes(name.as_bytes())
                .map_err(|_| bad(format!("field `auth.header`: `{name}` is not a valid header name")))?;
            http::HeaderValue::from_str(&value).map_err(|_| {
                bad("field `auth`: the credential has characters a header cannot carry".into())
            })?;
            headers.retain(|(k, _)| !k.eq_ignore_ascii_case(&name));
            headers.push((name, value));
        }
        let body = match &args.body {
            None | Some(Value::Null) => Bytes::new(),
            Some(Value::String(s)) => Bytes::from(s.clone()),
            Some(other) => {
                if !has(&headers, "content-type") {
                    headers.push(("content-type".into(), "application/json".into()));
                }
                Bytes::from(serde_json::to_vec(other).unwrap_or_default())
            }
        };
        if !body.is_empty() && !has(&headers, "content-length") {
            headers.push(("content-length".into(), body.len().to_string()));
        }
        Ok((headers, body))
    }
}

/// Nearest-rank percentile of sorted values.
fn percentile(sorted: &[f64], p: f64) -> f64 {
    if sorted.is_empty() {
        return 0.0;
    }
    let rank = ((p / 100.0) * sorted.len() as f64).ceil() as usize;
    sorted[rank.clamp(1, sorted.len()) - 1]
}

/// `{"p50": .., "p95": .., "min": .., "max": ..}` of a phase, `null` when it was not measured.
fn stats(values: Vec<Option<f64>>) -> Value {
    let mut v: Vec<f64> = values.into_iter().flatten().collect();
    if v.is_empty() {
        return Value::Null;
    }
    v.sort_by(|a, b| a.total_cmp(b));
    json!({"p50": percentile(&v, 50.0), "p95": percentile(&v, 95.0), "min": v[0], "max": v[v.len() - 1]})
}

/// The body: text, or JSON (an object).
fn body_schema(_: &mut schemars::SchemaGenerator) -> schemars::Schema {
    schemars::json_schema!({
        "description": "The request body: a string is sent as it is; an object is sent as JSON (with Content-Type: application/json unless a header says otherwise).",
        "anyOf": [{"type": "string"}, {"type": "object"}]
    })
}

/// [`Auth`] as one plain object (the providers' schemas have no tagged unions).
fn auth_schema(_: &mut schemars::SchemaGenerator) -> schemars::Schema {
    schemars::json_schema!({
        "type": "object",
        "description": "Authentication: {\"type\": \"bearer\", \"token\": ...}, {\"type\": \"basic\", \"username\": ..., \"password\": ...} or {\"type\": \"api_key\", \"header\": \"X-API-Key\", \"value\": ...}.",
        "properties": {
            "type": {"type": "string", "enum": ["bearer", "basic", "api_key"], "description": "Which scheme."},
            "token": {"type": "string", "description": "bearer: the token."},
            "username": {"type": "string", "description": "basic: the user name."},
            "password": {"type": "string", "description": "basic: the password."},
            "header": {"type": "string", "description": "api_key: the header (default X-API-Key)."},
            "value": {"type": "string", "description": "api_key: the key."}
        },
        "required": ["type"]
    })
}

/// A JSON value to compare with (a string, number or boolean; objects and arrays are accepted too).
fn equals_schema(_: &mut schemars::SchemaGenerator) -> schemars::Schema {
    schemars::json_schema!({
        "description": "The value the JSONPath's first match must equal (a string, number or boolean).",
        "anyOf": [{"type": "string"}, {"type": "number"}, {"type": "boolean"}]
    })
}

fn contains_schema(_: &mut schemars::SchemaGenerator) -> schemars::Schema {
    schemars::json_schema!({
        "description": "What a JSONPath match (or the `header` value) must contain: a substring, an array element or an object key.",
        "anyOf": [{"type": "string"}, {"type": "number"}, {"type": "boolean"}]
    })
}

fn header<'a>(m: &'a Measured, name: &str) -> Option<&'a str> {
    m.headers.iter().find(|(k, _)| k.eq_ignore_ascii_case(name)).map(|(_, v)| v.as_str())
}

fn contains(hay: &Value, needle: &Value) -> bool {
    match (hay, needle) {
        (Value::String(h), Value::String(n)) => h.contains(n.as_str()),
        (Value::String(h), n) => h.contains(&n.to_string()),
        (Value::Array(a), n) => a.iter().any(|x| x == n),
        (Value::Object(o), Value::String(k)) => o.contains_key(k),
        (h, n) => h == n,
    }
}

/// Checks one assertion against every response; returns the report entry.
/// Refuses an assertion that does not say one thing to check (before anything is sent).
fn precheck(a: &Assertion) -> Result<(), ToolError> {
    let given = [a.status.is_some(), a.jsonpath.is_some(), a.header.is_some(), a.latency_under_ms.is_some()];
    if given.iter().filter(|g| **g).count() != 1 {
        return Err(ToolError::InvalidArgs(
            "each assertion needs exactly one of `status`, `jsonpath`, `header` or `latency_under_ms`".into(),
        ));
    }
    if let Some(p) = &a.jsonpath {
        jsonpath::select(&Value::Null, p).map_err(ToolError::InvalidArgs)?;
        if a.equals.is_some() && a.contains.is_some() {
            return Err(ToolError::InvalidArgs(
                "a `jsonpath` assertion takes `equals` or `contains`, not both".into(),
            ));
        }
    }
    Ok(())
}

fn check(
    a: &Assertion,
    responses: &[Measured],
    body: Option<&Value>,
    p95_total: f64,
) -> Result<Value, ToolError> {
    let last = responses.last();
    if let Some(want) = a.status {
        let got: Vec<u16> = responses.iter().map(|r| r.status).collect();
        let passed = !got.is_empty() && got.iter().all(|s| *s == want);
        return Ok(json!({"assertion": format!("status == {want}"), "passed": passed, "actual": got}));
    }
    if let Some(limit) = a.latency_under_ms {
        let passed = !responses.is_empty() && p95_total < limit;
        return Ok(
            json!({"assertion": format!("total p95 < {limit} ms"), "passed": passed, "actual": p95_total}),
        );
    }
    if let Some(name) = &a.header {
        let value = last.and_then(|r| header(r, name));
        let (desc, passed) = match &a.contains {
            Some(n) => {
                let n = n.as_str().map(String::from).unwrap_or_else(|| n.to_string());
                (format!("header {name} contains {n:?}"), value.is_some_and(|v| v.contains(&n)))
            }
            None => (format!("header {name} present"), value.is_some()),
        };
        return Ok(json!({"assertion": desc, "passed": passed, "actual": value}));
    }
    let path = a.jsonpath.as_deref().unwrap_or("$");
    let Some(body) = body else {
        return Ok(
            json!({"assertion": format!("{path} (the body is not JSON)"), "passed": false, "actual": null}),
        );
    };
    let found = jsonpath::select(body, path).map_err(ToolError::InvalidArgs)?;
    let actual = found.first().map(|v| (*v).clone()).unwrap_or(Value::Null);
    let (desc, passed) = match (&a.equals, &a.contains) {
        (Some(_), Some(_)) => {
            return Err(ToolError::InvalidArgs(
                "a `jsonpath` assertion takes `equals` or `contains`, not both".into(),
            ))
        }
        (Some(want), None) => (format!("{path} == {want}"), found.first().is_some_and(|v| *v == want)),
        (None, Some(n)) => (format!("{path} contains {n}"), found.iter().any(|v| contains(v, n))),
        (None, None) => (format!("{path} exists"), !found.is_empty()),
    };
    Ok(json!({"assertion": desc, "passed": passed, "actual": actual}))
}

#[async_trait]
impl TypedTool for TestApiEndpoint {
    type Args = ApiTestArgs;
    fn name(&self) -> &'static str {
        "test_api_endpoint"
    }
    fn description(&self) -> &'static str {
        "Send an HTTP request to an API endpoint (optionally several times) and report status, headers, \
         size, measured timings (DNS, connect, TLS, first byte, total; p50/p95 over repeats), the JSON \
         Schema inferred from the body, and pass/fail of the assertions given (status, JSONPath equals/ \
         contains, header present, latency under N ms). Hosts follow `[integration] allowed_hosts`."
    }
    fn timeout(&self) -> Option<Duration> {
        let per = self.config.max_timeout_secs.max(1);
        Some(Duration::from_secs(per * self.config.max_repeat.max(1) as u64 + 10))
    }
    async fn run(&self, args: ApiTestArgs, ctx: ToolContext) -> Result<ToolOutput, ToolError> {
        let method_name = args.method.as_deref().unwrap_or("GET").trim().to_ascii_uppercase();
        if !METHODS.contains(&method_name.as_str()) {
            return Err(ToolError::InvalidArgs(format!(
                "field `method`: `{method_name}` is not allowed; use one of {}",
                METHODS.join(", ")
            )));
        }
        let method = http::Method::from_bytes(method_name.as_bytes())
            .map_err(|e| ToolError::InvalidArgs(e.to_string()))?;
        let url = self.policy.check_url(&args.url).map_err(|r| ToolError::Blocked(refusal_message(&r)))?;
        let repeat = args.repeat.unwrap_or(1);
        if repeat == 0 || repeat > self.config.max_repeat {
            return Err(ToolError::InvalidArgs(format!(
                "field `repeat`: give 1 to {} (`[integration] max_repeat`), not {repeat}",
                self.config.max_repeat
            )));
        }
        let max_ms = self.config.max_timeout_secs * 1000;
        let timeout_ms = args.timeout_ms.unwrap_or(self.config.timeout_secs * 1000);
        if timeout_ms == 0 || timeout_ms > max_ms {
            return Err(ToolError::InvalidArgs(format!(
                "field `timeout_ms`: give 1 to {max_ms} (`[integration] max_timeout_secs`), not {timeout_ms}"
            )));
        }
        let (mut headers, body) = Self::build_headers(&args)?;
        if !headers.iter().any(|(k, _)| k.eq_ignore_ascii_case("user-agent")) {
            headers.push(("user-agent".into(), self.config.user_agent.clone()));
        }
        for a in &args.assertions {
            precheck(a)?;
        }

        let roots = self.config.extra_roots().map_err(ToolError::Unavailable)?;
        let mut responses: Vec<Measured> = Vec::new();
        let mut failures = Vec::new();
        for i in 0..repeat {
            let req = timing::Request {
                url: &url,
                method: method.clone(),
                headers: &headers,
                body: body.clone(),
                max_body: self.config.max_body_bytes,
                extra_roots: &roots,
            };
            let sent = tokio::select! {
                r = timing::send(&self.policy, req, Duration::from_millis(timeout_ms)) => r,
                _ = ctx.cancel.cancelled() => return Err(ToolError::Cancelled),
            };
            match sent {
                Ok(m) => responses.push(m),
                Err(RequestError::Refused(r)) => return Err(ToolError::Blocked(refusal_message(&r))),
                Err(e) => failures.push(json!({"repeat": i + 1, "error": e.to_string()})),
            }
        }
        let Some(last) = responses.last() else {
            let first =
                failures.first().and_then(|f| f["error"].as_str()).unwrap_or("no response").to_string();
            return Err(ToolError::Failed(format!("{} {url}: {first}", method_name)));
        };

        let ctype = header(last, "content-type").unwrap_or("").to_ascii_lowercase();
        let json_body: Option<Value> = if last.truncated {
            None
        } else {
            serde_json::from_slice(&last.body)
                .ok()
                .filter(|_| ctype.contains("json") || !last.body.is_empty())
        };
        let text = String::from_utf8_lossy(&last.body);
        let max_chars = args.max_body_chars.unwrap_or(4000) as usize;
        let shown: String = text.chars().take(max_chars).collect();

        let phases: Vec<&Phases> = responses.iter().map(|r| &r.phases).collect();
        let mut totals: Vec<f64> = phases.iter().map(|p| p.total_ms).collect();
        totals.sort_by(|a, b| a.total_cmp(b));
        let p95_total = percentile(&totals, 95.0);
        let assertions = args
            .assertions
            .iter()
            .map(|a| check(a, &responses, json_body.as_ref(), p95_total))
            .collect::<Result<Vec<Value>, ToolError>>()?;
        let passed = assertions.iter().filter(|a| a["passed"] == true).count();

        let mut hdrs = Map::new();
        for (k, v) in &last.headers {
            match hdrs.get_mut(k) {
                Some(Value::String(old)) => {
                    old.push_str(", ");
                    old.push_str(v);
                }
                _ => {
                    hdrs.insert(k.clone(), json!(v));
                }
            }
        }
        let mut out = json!({
            "url": url.as_str(),
            "method": method_name,
            "address": last.addr.to_string(),
            "status": last.status,
            "reason": last.reason,
            "headers": hdrs,
            "size_bytes": last.size,
            "truncated": last.truncated,
            "body": shown,
            "body_truncated_to_chars": text.chars().count() > max_chars,
            "timing_ms": last.phases,
            "repeats": responses.len(),
            "timing_stats_ms": {
                "dns": stats(phases.iter().map(|p| p.dns_ms).collect()),
                "connect": stats(phases.iter().map(|p| Some(p.connect_ms)).collect()),
                "tls": stats(phases.iter().map(|p| p.tls_ms).collect()),
                "server": stats(phases.iter().map(|p| Some(p.server_ms)).collect()),
                "first_byte": stats(phases.iter().map(|p| Some(p.first_byte_ms)).collect()),
                "total": stats(phases.iter().map(|p| Some(p.total_ms)).collect()),
            },
            "statuses": responses.iter().map(|r| r.status).collect::<Vec<_>>(),
            "body_schema": json_body.as_ref().map(crate::schema_infer::infer),
            "assertions": assertions,
            "assertions_passed": passed,
            "assertions_failed": args.assertions.len() - passed,
        });
        if !failures.is_empty() {
            out["failures"] = Value::Array(failures);
        }
        Ok(ToolOutput::json(out))
    }
}
