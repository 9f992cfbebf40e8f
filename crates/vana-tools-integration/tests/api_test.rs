//! `test_api_endpoint` against a real HTTP server on 127.0.0.1.

mod common;

use common::*;
use serde_json::json;
use std::sync::atomic::Ordering;
use std::time::Instant;
use vana_core::ToolError;
use vana_tools_integration::{GithubConfig, IntegrationConfig};

#[tokio::test]
async fn timings_are_measured_and_ordered_the_schema_is_inferred_and_assertions_pass_and_fail() {
    let (addr, hits) = api_server().await;
    let f = local();
    // Through the name `localhost`, so the DNS phase happens (and is measured).
    let url = format!("http://localhost:{}/items", addr.port());
    let out = f
        .ok(
            "test_api_endpoint",
            json!({
                "url": url,
                "repeat": 5,
                "assertions": [
                    {"status": 200},
                    {"status": 201},
                    {"jsonpath": "$.items[1].name", "equals": "beta"},
                    {"jsonpath": "$.items[0].name", "equals": "beta"},
                    {"jsonpath": "$.items[*].name", "contains": "alp"},
                    {"jsonpath": "$.items[0].tags", "contains": "b"},
                    {"jsonpath": "$.missing"},
                    {"header": "x-request-id"},
                    {"header": "content-type", "contains": "json"},
                    {"header": "x-absent"},
                    {"latency_under_ms": 5000},
                    {"latency_under_ms": 0.001}
                ]
            }),
        )
        .await;
    assert_eq!(hits.total.load(Ordering::SeqCst), 5, "five repeats, five requests");
    assert_eq!(out["status"], 200);
    assert_eq!(out["repeats"], 5);
    assert_eq!(out["statuses"], json!([200, 200, 200, 200, 200]));
    assert_eq!(out["headers"]["x-request-id"], "req-42");
    assert!(out["size_bytes"].as_u64().unwrap() > 100);

    let t = &out["timing_ms"];
    let dns = t["dns_ms"].as_f64().expect("DNS measured for a host name");
    let connect = t["connect_ms"].as_f64().unwrap();
    let first = t["first_byte_ms"].as_f64().unwrap();
    let total = t["total_ms"].as_f64().unwrap();
    assert!(t["tls_ms"].is_null(), "no TLS on http: {t}");
    assert!(dns >= 0.0 && connect >= 0.0 && dns + connect <= first && first <= total, "{t}");
    assert!(t["server_ms"].as_f64().unwrap() <= first, "{t}");
    let stats = &out["timing_stats_ms"];
    for phase in ["dns", "connect", "first_byte", "total"] {
        let s = &stats[phase];
        let (min, p50, p95, max) = (
            s["min"].as_f64().unwrap(),
            s["p50"].as_f64().unwrap(),
            s["p95"].as_f64().unwrap(),
            s["max"].as_f64().unwrap(),
        );
        assert!(min <= p50 && p50 <= p95 && p95 <= max, "{phase}: {s}");
    }
    assert!(stats["tls"].is_null());

    let schema = &out["body_schema"];
    assert_eq!(schema["type"], "object");
    assert_eq!(schema["properties"]["items"]["type"], "array");
    let item = &schema["properties"]["items"]["items"];
    assert_eq!(item["properties"]["price"]["type"], "number", "9.5 and 12 merge to number: {item}");
    assert_eq!(item["properties"]["id"]["type"], "integer");
    assert_eq!(item["required"], json!(["id", "name", "price", "tags"]), "discontinued is not in every item");
    assert_eq!(schema["properties"]["next"]["type"], "null");

    let passed: Vec<bool> =
        out["assertions"].as_array().unwrap().iter().map(|a| a["passed"].as_bool().unwrap()).collect();
    assert_eq!(
        passed,
        vec![true, false, true, false, true, true, false, true, true, false, true, false],
        "{}",
        out["assertions"]
    );
    assert_eq!(out["assertions_passed"], 7);
    assert_eq!(out["assertions_failed"], 5);
    assert_eq!(out["assertions"][3]["actual"], "alpha", "a failed assertion shows what it found");
}

#[tokio::test]
async fn a_literal_address_has_no_dns_phase_and_auth_and_bodies_reach_the_server() {
    let (addr, _) = api_server().await;
    let f = local();
    let url = format!("http://{addr}/echo");
    let out = f
        .ok(
            "test_api_endpoint",
            json!({"url": url, "method": "post", "body": {"a": [1, 2]}, "auth": {"type": "bearer", "token": "tok-123"},
                   "headers": {"X-Trace": "t1"}}),
        )
        .await;
    assert!(out["timing_ms"]["dns_ms"].is_null(), "no name was resolved: {}", out["timing_ms"]);
    let echo: serde_json::Value = serde_json::from_str(out["body"].as_str().unwrap()).unwrap();
    assert_eq!(echo["method"], "POST");
    assert_eq!(echo["headers"]["authorization"], "Bearer tok-123");
    assert_eq!(echo["headers"]["x-trace"], "t1");
    assert_eq!(echo["headers"]["content-type"], "application/json");
    assert_eq!(echo["body"], r#"{"a":[1,2]}"#);

    let basic = f
        .ok(
            "test_api_endpoint",
            json!({"url": url, "auth": {"type": "basic", "username": "ann", "password": "s3cret"}}),
        )
        .await;
    let echo: serde_json::Value = serde_json::from_str(basic["body"].as_str().unwrap()).unwrap();
    assert_eq!(echo["headers"]["authorization"], "Basic YW5uOnMzY3JldA==");
    let key = f
        .ok(
            "test_api_endpoint",
            json!({"url": url, "auth": {"type": "api_key", "header": "X-Api-Token", "value": "k9"}}),
        )
        .await;
    let echo: serde_json::Value = serde_json::from_str(key["body"].as_str().unwrap()).unwrap();
    assert_eq!(echo["headers"]["x-api-token"], "k9");

    // A status other than 2xx is a result to report, not an error; a text body has no schema.
    let st = f
        .ok(
            "test_api_endpoint",
            json!({"url": format!("http://{addr}/status/503"), "assertions": [{"status": 503}]}),
        )
        .await;
    assert_eq!(st["status"], 503);
    assert_eq!(st["assertions"][0]["passed"], true);
    assert!(st["body_schema"].is_null(), "{}", st["body_schema"]);
}

#[tokio::test]
async fn a_five_second_timeout_is_honoured_against_a_slow_server() {
    let (addr, hits) = api_server().await;
    let f = local();
    let start = Instant::now();
    let err = f
        .call("test_api_endpoint", json!({"url": format!("http://{addr}/slow"), "timeout_ms": 5000}))
        .await
        .unwrap_err();
    let took = start.elapsed().as_secs_f64();
    assert!((4.9..7.0).contains(&took), "took {took} s");
    assert!(matches!(err, ToolError::Failed(_)), "{err:?}");
    assert!(err.to_string().contains("within 5000 ms"), "{err}");
    assert_eq!(hits.total.load(Ordering::SeqCst), 1);
}

#[tokio::test]
async fn refused_hosts_get_no_request_and_the_allow_list_is_its_own_setting() {
    let (addr, hits) = api_server().await;
    let url = format!("http://{addr}/items");

    // Default: the policy of fetch_url, strict: loopback refused, nothing sent.
    let strict = fixture_with(
        IntegrationConfig::default(),
        GithubConfig::default(),
        vana_net::OutboundPolicy::strict(),
    );
    let err = strict.call("test_api_endpoint", json!({"url": url})).await.unwrap_err();
    assert!(matches!(err, ToolError::Blocked(_)), "{err:?}");
    assert!(err.to_string().contains("[integration] allowed_hosts"), "the message names the setting: {err}");
    let by_name = strict
        .call("test_api_endpoint", json!({"url": format!("http://localhost:{}/items", addr.port())}))
        .await;
    assert!(matches!(by_name, Err(ToolError::Blocked(_))), "{by_name:?}");
    assert_eq!(hits.total.load(Ordering::SeqCst), 0, "a refused host gets no request");

    // Unset here, `[web]` allowing 127.0.0.1 lets it through (the default is fetch_url's policy)…
    let web =
        vana_net::OutboundPolicy { allow_private_networks: false, allowed_hosts: vec!["127.0.0.1".into()] };
    let inherits = fixture_with(IntegrationConfig::default(), GithubConfig::default(), web.clone());
    inherits.ok("test_api_endpoint", json!({"url": url})).await;
    assert_eq!(hits.total.load(Ordering::SeqCst), 1);
    // …but `[integration] allowed_hosts = []` is its own list and wins.
    let own = IntegrationConfig { allowed_hosts: Some(vec![]), ..IntegrationConfig::default() };
    let refuses = fixture_with(own, GithubConfig::default(), web);
    assert!(matches!(
        refuses.call("test_api_endpoint", json!({"url": url})).await,
        Err(ToolError::Blocked(_))
    ));
    // Metadata addresses and other schemes are refused whatever the list says.
    let f = local();
    for bad in ["http://169.254.169.254/latest/meta-data/", "file:///etc/passwd", "ftp://127.0.0.1/x"] {
        assert!(
            matches!(f.call("test_api_endpoint", json!({"url": bad})).await, Err(ToolError::Blocked(_))),
            "{bad}"
        );
    }
    assert_eq!(hits.total.load(Ordering::SeqCst), 1);
}

#[tokio::test]
async fn hostile_headers_methods_and_assertions_are_refused_before_anything_is_sent() {
    let (addr, hits) = api_server().await;
    let f = local();
    let url = format!("http://{addr}/echo");
    let cases = [
        json!({"url": url, "headers": {"X-A": "v\r\nX-Injected: 1"}}),
        json!({"url": url, "headers": {"Bad Name": "v"}}),
        json!({"url": url, "method": "CONNECT"}),
        json!({"url": url, "repeat": 0}),
        json!({"url": url, "repeat": 1000}),
        json!({"url": url, "timeout_ms": 0}),
        json!({"url": url, "assertions": [{"jsonpath": "$..id"}]}),
        json!({"url": url, "auth": {"type": "bearer", "token": "a\nb"}}),
    ];
    for args in cases {
        let err = f.call("test_api_endpoint", args.clone()).await.unwrap_err();
        assert!(matches!(err, ToolError::InvalidArgs(_)), "{args}: {err:?}");
    }
    let err = f
        .call("test_api_endpoint", json!({"url": url, "assertions": [{"status": 200, "header": "x"}]}))
        .await
        .unwrap_err();
    assert!(err.to_string().contains("exactly one"), "{err}");
    assert_eq!(hits.total.load(Ordering::SeqCst), 0, "nothing was sent");
}

/// A CA and a certificate for `localhost` / 127.0.0.1 signed by it, made with the openssl CLI.
fn make_certs(dir: &std::path::Path) -> (std::path::PathBuf, Vec<u8>, Vec<u8>) {
    let sh = |args: &[&str]| {
        let out =
            std::process::Command::new("openssl").args(args).current_dir(dir).output().expect("openssl CLI");
        assert!(out.status.success(), "openssl {args:?}: {}", String::from_utf8_lossy(&out.stderr));
    };
    std::fs::write(
        dir.join("leaf.ext"),
        "subjectAltName=DNS:localhost,IP:127.0.0.1\nbasicConstraints=CA:FALSE\nkeyUsage=digitalSignature\nextendedKeyUsage=serverAuth\n",
    )
    .unwrap();
    sh(&["ecparam", "-name", "prime256v1", "-genkey", "-noout", "-out", "ca.key.sec1"]);
    sh(&["pkcs8", "-topk8", "-nocrypt", "-in", "ca.key.sec1", "-out", "ca.key"]);
    sh(&[
        "req",
        "-x509",
        "-new",
        "-key",
        "ca.key",
        "-out",
        "ca.pem",
        "-days",
        "2",
        "-subj",
        "/CN=VANA Test CA",
        "-addext",
        "basicConstraints=critical,CA:TRUE",
        "-addext",
        "keyUsage=critical,keyCertSign,cRLSign",
    ]);
    sh(&["ecparam", "-name", "prime256v1", "-genkey", "-noout", "-out", "leaf.key.sec1"]);
    sh(&["pkcs8", "-topk8", "-nocrypt", "-in", "leaf.key.sec1", "-out", "leaf.key"]);
    sh(&["req", "-new", "-key", "leaf.key", "-out", "leaf.csr", "-subj", "/CN=localhost"]);
    sh(&[
        "x509",
        "-req",
        "-in",
        "leaf.csr",
        "-CA",
        "ca.pem",
        "-CAkey",
        "ca.key",
        "-CAcreateserial",
        "-out",
        "leaf.pem",
        "-days",
        "2",
        "-extfile",
        "leaf.ext",
    ]);
    (
        dir.join("ca.pem"),
        std::fs::read(dir.join("leaf.pem")).unwrap(),
        std::fs::read(dir.join("leaf.key")).unwrap(),
    )
}

/// An HTTPS server on 127.0.0.1 answering every request with a small JSON document.
async fn tls_server(cert: &[u8], key: &[u8]) -> std::net::SocketAddr {
    use rustls::pki_types::pem::PemObject;
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let certs: Vec<_> =
        rustls::pki_types::CertificateDer::pem_slice_iter(cert).collect::<Result<_, _>>().unwrap();
    let key = rustls::pki_types::PrivateKeyDer::from_pem_slice(key).unwrap();
    let provider = std::sync::Arc::new(rustls::crypto::aws_lc_rs::default_provider());
    let config = rustls::ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_no_client_auth()
        .with_single_cert(certs, key)
        .unwrap();
    let acceptor = tokio_rustls::TlsAcceptor::from(std::sync::Arc::new(config));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        loop {
            let Ok((tcp, _)) = listener.accept().await else { return };
            let acceptor = acceptor.clone();
            tokio::spawn(async move {
                let Ok(mut tls) = acceptor.accept(tcp).await else { return };
                let mut buf = Vec::new();
                let mut chunk = [0u8; 1024];
                while !buf.windows(4).any(|w| w == b"\r\n\r\n") {
                    match tls.read(&mut chunk).await {
                        Ok(0) | Err(_) => return,
                        Ok(n) => buf.extend_from_slice(&chunk[..n]),
                    }
                }
                let body = r#"{"secure": true}"#;
                let resp = format!(
                    "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{body}",
                    body.len()
                );
                let _ = tls.write_all(resp.as_bytes()).await;
                let _ = tls.shutdown().await;
            });
        }
    });
    addr
}

#[tokio::test]
async fn https_measures_the_tls_handshake_with_an_internal_ca_and_refuses_an_unknown_issuer() {
    let dir = vana_testkit::tempdir();
    let (ca, cert, key) = make_certs(dir.path());
    let addr = tls_server(&cert, &key).await;
    let url = format!("https://localhost:{}/health", addr.port());

    // Without the internal CA the certificate is refused: a clear TLS error, no response.
    let f = local();
    let err = f.call("test_api_endpoint", json!({"url": url})).await.unwrap_err();
    assert!(err.to_string().contains("TLS handshake"), "{err}");

    // With `[integration] ca_file` it is trusted and the handshake is measured.
    let config = IntegrationConfig {
        allowed_hosts: Some(vec!["localhost".into()]),
        ca_file: ca.display().to_string(),
        ..IntegrationConfig::default()
    };
    let f = fixture_with(config, GithubConfig::default(), vana_net::OutboundPolicy::strict());
    let out = f
        .ok(
            "test_api_endpoint",
            json!({"url": url, "repeat": 3, "assertions": [{"jsonpath": "$.secure", "equals": true}]}),
        )
        .await;
    assert_eq!(out["status"], 200);
    assert_eq!(out["assertions"][0]["passed"], true);
    let t = &out["timing_ms"];
    let (dns, connect, tls) = (
        t["dns_ms"].as_f64().unwrap(),
        t["connect_ms"].as_f64().unwrap(),
        t["tls_ms"].as_f64().expect("TLS measured"),
    );
    let (first, total) = (t["first_byte_ms"].as_f64().unwrap(), t["total_ms"].as_f64().unwrap());
    assert!(tls > 0.0 && dns + connect + tls <= first && first <= total, "{t}");
    let s = &out["timing_stats_ms"]["tls"];
    assert!(s["p50"].as_f64().unwrap() <= s["p95"].as_f64().unwrap(), "{s}");

    // A CA file that is not PEM is a configuration error, not a silent fallback.
    std::fs::write(dir.path().join("junk.pem"), "not a certificate").unwrap();
    let config = IntegrationConfig {
        allowed_hosts: Some(vec!["localhost".into()]),
        ca_file: dir.path().join("junk.pem").display().to_string(),
        ..IntegrationConfig::default()
    };
    let f = fixture_with(config, GithubConfig::default(), vana_net::OutboundPolicy::strict());
    let err = f.call("test_api_endpoint", json!({"url": url})).await.unwrap_err();
    assert!(matches!(err, ToolError::Unavailable(_)) && err.to_string().contains("ca_file"), "{err:?}");
}
