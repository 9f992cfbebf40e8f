//! OTLP/HTTP export of the traces (`[telemetry] otlp_endpoint`; off by default, and then
//! nothing is sent anywhere).
//!
//! The spans are the ones ADK's UI shows ([`crate::traces::session_spans`] over the events an
//! invocation produced): `invocation`, `invoke_agent <name>`, `call_llm` (with
//! `gen_ai.usage.*` token counts) and `execute_tool <name>`, with the same trace and span ids.
//! They are encoded as an OTLP `ExportTraceServiceRequest` in its JSON form (ids in hex, times
//! as decimal strings of nanoseconds, attributes as `{key, value: {stringValue|intValue|...}}`)
//! and POSTed to `{otlp_endpoint}/v1/traces` by a background task: a run only hands its spans
//! to a bounded queue (when the queue is full the spans are dropped and counted), and an
//! unreachable or failing collector is logged, never an error of the run.
//!
//! Message contents (the model's response, tool arguments and results) stay out of the
//! export unless `[telemetry] capture_content = true`, as OpenTelemetry's GenAI conventions
//! make content capture opt-in.

use crate::traces::{attr, Span};
use serde_json::{json, Map, Value};
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;
use tokio::sync::{mpsc, oneshot};
use vana_app::config::TelemetryConfig;

/// Invocations' span batches the queue holds before new ones are dropped.
pub const QUEUE_BATCHES: usize = 256;
/// Most spans in one request to the collector.
const MAX_SPANS_PER_REQUEST: usize = 512;
/// How long one request to the collector may take.
const REQUEST_TIMEOUT: Duration = Duration::from_secs(10);
/// Attributes that carry message content (exported only with `capture_content`).
const CONTENT_ATTRIBUTES: &[&str] = &[
    "gcp.vertex.agent.llm_request",
    "gcp.vertex.agent.llm_response",
    "gcp.vertex.agent.tool_call_args",
    "gcp.vertex.agent.tool_response",
];

/// Checks `[telemetry] otlp_endpoint`: empty is off (`Ok(None)`); otherwise an `http` or
/// `https` URL with a host and no query or fragment, whose traces URL is returned.
pub fn traces_url(endpoint: &str) -> Result<Option<reqwest::Url>, String> {
    let endpoint = endpoint.trim();
    if endpoint.is_empty() {
        return Ok(None);
    }
    let bad = |why: &str| {
        format!("[telemetry] otlp_endpoint {endpoint:?} {why}: give the collector's OTLP/HTTP base URL, e.g. http://127.0.0.1:4318")
    };
    let url = reqwest::Url::parse(endpoint).map_err(|e| bad(&format!("is not a URL ({e})")))?;
    if !matches!(url.scheme(), "http" | "https") {
        return Err(bad("is not an http or https URL"));
    }
    if url.host_str().is_none_or(str::is_empty) {
        return Err(bad("has no host"));
    }
    if url.query().is_some() || url.fragment().is_some() {
        return Err(bad("has a query or fragment"));
    }
    let base = url.as_str().trim_end_matches('/');
    let full = if base.ends_with("/v1/traces") { base.to_string() } else { format!("{base}/v1/traces") };
    reqwest::Url::parse(&full).map(Some).map_err(|e| bad(&e.to_string()))
}

enum Msg {
    Spans(Vec<Span>),
    Flush(oneshot::Sender<()>),
}

/// The background exporter: a bounded queue in front of a task that POSTs to the collector.
pub struct Exporter {
    tx: mpsc::Sender<Msg>,
    dropped: AtomicU64,
    capture_content: bool,
}

impl Exporter {
    /// Starts the exporter of `cfg` on the current Tokio runtime; `Ok(None)` when no endpoint is
    /// configured, `Err` for an invalid endpoint.
    pub fn start(cfg: &TelemetryConfig) -> Result<Option<Exporter>, String> {
        let Some(url) = traces_url(&cfg.otlp_endpoint)? else { return Ok(None) };
        let runtime = tokio::runtime::Handle::try_current()
            .map_err(|_| "the OTLP exporter needs a Tokio runtime".to_string())?;
        let service = if cfg.service_name.trim().is_empty() { "vana" } else { cfg.service_name.trim() };
        let (tx, rx) = mpsc::channel(QUEUE_BATCHES);
        let http = reqwest::Client::builder()
            .timeout(REQUEST_TIMEOUT)
            .build()
            .map_err(|e| format!("cannot build the OTLP HTTP client: {e}"))?;
        tracing::info!("exporting traces over OTLP/HTTP to {url}");
        runtime.spawn(worker(rx, http, url, service.to_string()));
        Ok(Some(Exporter { tx, dropped: AtomicU64::new(0), capture_content: cfg.capture_content }))
    }

    /// Queues one invocation's spans (never waits: a full queue drops them, counted and logged).
    pub fn export(&self, mut spans: Vec<Span>) {
        if spans.is_empty() {
            return;
        }
        if !self.capture_content {
            for s in &mut spans {
                for k in CONTENT_ATTRIBUTES {
                    s.attributes.remove(*k);
                }
            }
        }
        let n = spans.len() as u64;
        if self.tx.try_send(Msg::Spans(spans)).is_err() {
            let total = self.dropped.fetch_add(n, Ordering::Relaxed) + n;
            tracing::warn!("OTLP export queue full or closed: {n} span(s) dropped ({total} in all)");
        }
    }

    /// Spans dropped because the queue was full.
    pub fn dropped(&self) -> u64 {
        self.dropped.load(Ordering::Relaxed)
    }

    /// Waits (at most `timeout`) until everything queued before this call was sent or given up.
    pub async fn flush(&self, timeout: Duration) {
        let (done, wait) = oneshot::channel();
        let sent = tokio::time::timeout(timeout, async {
            if self.tx.send(Msg::Flush(done)).await.is_ok() {
                let _ = wait.await;
            }
        });
        if sent.await.is_err() {
            tracing::warn!("OTLP export: spans still queued at shutdown were not sent");
        }
    }
}

async fn worker(mut rx: mpsc::Receiver<Msg>, http: reqwest::Client, url: reqwest::Url, service: String) {
    let mut failing = false;
    while let Some(msg) = rx.recv().await {
        let mut batch = Vec::new();
        let mut flushes = Vec::new();
        match msg {
            Msg::Spans(s) => batch.extend(s),
            Msg::Flush(f) => flushes.push(f),
        }
        // Whatever else is queued goes in the same request, up to the request's size.
        while batch.len() < MAX_SPANS_PER_REQUEST {
            match rx.try_recv() {
                Ok(Msg::Spans(s)) => batch.extend(s),
                Ok(Msg::Flush(f)) => flushes.push(f),
                Err(_) => break,
            }
        }
        if !batch.is_empty() {
            let body = request_json(&batch, &service);
            let result = http.post(url.clone()).json(&body).send().await;
            let error = match result {
                Ok(r) if r.status().is_success() => None,
                Ok(r) => Some(format!("the collector answered {}", r.status())),
                Err(e) => Some(format!("cannot reach the collector: {e}")),
            };
            match error {
                // The first failure is a warning; while it keeps failing, debug only.
                Some(e) if !failing => {
                    failing = true;
                    tracing::warn!("OTLP export to {url}: {e}; {} span(s) not exported", batch.len());
                }
                Some(e) => tracing::debug!("OTLP export to {url}: {e}; {} span(s) not exported", batch.len()),
                None if failing => {
                    failing = false;
                    tracing::info!("OTLP export to {url} works again");
                }
                None => {}
            }
        }
        for f in flushes {
            let _ = f.send(());
        }
    }
}

/// An attribute value in OTLP's JSON form (`AnyValue`).
fn any_value(v: &Value) -> Value {
    match v {
        Value::String(s) => json!({"stringValue": s}),
        Value::Bool(b) => json!({"boolValue": b}),
        // int64 is a decimal string in protobuf's JSON mapping.
        Value::Number(n) if n.is_i64() || n.is_u64() => json!({"intValue": n.to_string()}),
        Value::Number(n) => json!({"doubleValue": n.as_f64()}),
        Value::Array(items) => {
            json!({"arrayValue": {"values": items.iter().map(any_value).collect::<Vec<_>>()}})
        }
        other => json!({"stringValue": other.to_string()}),
    }
}

fn key_values(attrs: &Map<String, Value>) -> Vec<Value> {
    attrs.iter().map(|(k, v)| json!({"key": k, "value": any_value(v)})).collect()
}

/// One span in OTLP's JSON form.
pub fn span_json(s: &Span) -> Value {
    // SPAN_KIND_CLIENT for the call to the model (a remote service), else SPAN_KIND_INTERNAL.
    let kind = if s.attributes.get(attr::OPERATION).and_then(Value::as_str) == Some("generate_content") {
        3
    } else {
        1
    };
    let mut out = json!({
        "traceId": format!("{:032x}", s.trace_id),
        "spanId": format!("{:016x}", s.span_id),
        "name": s.name,
        "kind": kind,
        "startTimeUnixNano": s.start_time.to_string(),
        "endTimeUnixNano": s.end_time.max(s.start_time).to_string(),
        "attributes": key_values(&s.attributes),
    });
    if let Some(p) = s.parent_span_id {
        out["parentSpanId"] = json!(format!("{p:016x}"));
    }
    if let Some(e) = s.attributes.get("error.type").and_then(Value::as_str) {
        // STATUS_CODE_ERROR.
        out["status"] = json!({"code": 2, "message": e});
    }
    out
}

/// The `ExportTraceServiceRequest` JSON of `spans` for the resource `service`.
pub fn request_json(spans: &[Span], service: &str) -> Value {
    let resource = Map::from_iter([
        ("service.name".to_string(), json!(service)),
        ("service.version".to_string(), json!(env!("CARGO_PKG_VERSION"))),
        ("telemetry.sdk.name".to_string(), json!("vana")),
        ("telemetry.sdk.language".to_string(), json!("rust")),
    ]);
    json!({"resourceSpans": [{
        "resource": {"attributes": key_values(&resource)},
        "scopeSpans": [{
            "scope": {"name": "vana-server", "version": env!("CARGO_PKG_VERSION")},
            "spans": spans.iter().map(span_json).collect::<Vec<_>>(),
        }],
    }]})
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn endpoints_are_checked_and_get_the_traces_path() {
        assert_eq!(traces_url("").unwrap(), None);
        assert_eq!(
            traces_url("http://127.0.0.1:4318").unwrap().unwrap().as_str(),
            "http://127.0.0.1:4318/v1/traces"
        );
        assert_eq!(
            traces_url("https://otel.example.com/base/").unwrap().unwrap().as_str(),
            "https://otel.example.com/base/v1/traces"
        );
        assert_eq!(
            traces_url("http://127.0.0.1:4318/v1/traces").unwrap().unwrap().as_str(),
            "http://127.0.0.1:4318/v1/traces"
        );
        for bad in ["file:///etc/passwd", "127.0.0.1:4318", "ftp://h/", "http://h/?x=1", "not a url"] {
            let e = traces_url(bad).unwrap_err();
            assert!(e.contains("otlp_endpoint"), "{bad}: {e}");
        }
    }

    #[test]
    fn spans_are_encoded_as_otlp_json() {
        let span = Span {
            name: "call_llm".into(),
            start_time: 1_700_000_000_000_000_000,
            end_time: 1_700_000_000_250_000_000,
            trace_id: 0xabc,
            span_id: 0x12,
            parent_span_id: Some(0x11),
            attributes: Map::from_iter([
                (attr::OPERATION.to_string(), json!("generate_content")),
                (attr::INPUT_TOKENS.to_string(), json!(31)),
                ("error.type".to_string(), json!("model_error")),
            ]),
            logs: Vec::new(),
        };
        let body = request_json(&[span], "svc");
        let rs = &body["resourceSpans"][0];
        assert_eq!(
            rs["resource"]["attributes"][0],
            json!({"key": "service.name", "value": {"stringValue": "svc"}})
        );
        let s = &rs["scopeSpans"][0]["spans"][0];
        assert_eq!(s["traceId"], "00000000000000000000000000000abc");
        assert_eq!(s["spanId"], "0000000000000012");
        assert_eq!(s["parentSpanId"], "0000000000000011");
        assert_eq!(s["startTimeUnixNano"], "1700000000000000000");
        assert_eq!(s["endTimeUnixNano"], "1700000000250000000");
        assert_eq!(s["kind"], 3);
        assert_eq!(s["status"]["code"], 2);
        let tokens =
            s["attributes"].as_array().unwrap().iter().find(|a| a["key"] == attr::INPUT_TOKENS).unwrap();
        assert_eq!(tokens["value"], json!({"intValue": "31"}));
    }

    fn one_span(i: u64) -> Vec<Span> {
        vec![Span {
            name: "invocation".into(),
            start_time: 1,
            end_time: 2,
            trace_id: i + 1,
            span_id: i + 1,
            parent_span_id: None,
            attributes: Map::from_iter([("gcp.vertex.agent.llm_response".to_string(), json!("secret"))]),
            logs: Vec::new(),
        }]
    }

    #[tokio::test]
    async fn off_by_default_and_the_queue_is_bounded() {
        assert!(Exporter::start(&TelemetryConfig::default()).unwrap().is_none(), "no endpoint, no exporter");
        // A collector that accepts connections and never answers: the worker is stuck on its
        // first request while runs keep exporting.
        let l = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let cfg = TelemetryConfig {
            otlp_endpoint: format!("http://{}", l.local_addr().unwrap()),
            ..Default::default()
        };
        let x = Exporter::start(&cfg).unwrap().unwrap();
        // Nothing awaits in between (one-thread runtime): the worker has not taken any yet.
        for i in 0..(QUEUE_BATCHES as u64 + 44) {
            x.export(one_span(i));
        }
        assert_eq!(x.dropped(), 44, "the spans past the queue's bound are dropped, not waited for");
        drop(l);
    }
}
