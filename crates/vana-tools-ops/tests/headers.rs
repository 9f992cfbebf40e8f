//! `check_security_headers` against real local servers (TCP on 127.0.0.1, TLS with a test CA
//! made here with rcgen): one configured well, one badly, one with an expired certificate, one
//! whose CA is not trusted; loopback refused by the default policy; hostile URLs refused.

mod common;

use common::Env;
use rustls::pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer};
use serde_json::{json, Value};
use std::sync::Arc;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

/// A one-response HTTP/1.1 server on 127.0.0.1 (TLS when `tls` is given); returns its port.
async fn serve(headers: Vec<(&'static str, String)>, tls: Option<Arc<rustls::ServerConfig>>) -> u16 {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    let mut head = String::from(
        "HTTP/1.1 200 OK\r\ncontent-type: text/html\r\ncontent-length: 2\r\nconnection: close\r\n",
    );
    for (k, v) in &headers {
        head.push_str(&format!("{k}: {v}\r\n"));
    }
    head.push_str("\r\nok");
    let head = Arc::new(head);
    tokio::spawn(async move {
        loop {
            let Ok((tcp, _)) = listener.accept().await else { return };
            let head = head.clone();
            let tls = tls.clone();
            tokio::spawn(async move {
                async fn answer<S: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin>(
                    mut s: S,
                    head: &str,
                ) {
                    let mut buf = Vec::new();
                    let mut chunk = [0u8; 1024];
                    while !buf.windows(4).any(|w| w == b"\r\n\r\n") {
                        match s.read(&mut chunk).await {
                            Ok(0) | Err(_) => return,
                            Ok(n) => buf.extend_from_slice(&chunk[..n]),
                        }
                    }
                    let _ = s.write_all(head.as_bytes()).await;
                    let _ = s.shutdown().await;
                }
                match tls {
                    Some(cfg) => {
                        if let Ok(s) = tokio_rustls::TlsAcceptor::from(cfg).accept(tcp).await {
                            answer(s, &head).await;
                        }
                    }
                    None => answer(tcp, &head).await,
                }
            });
        }
    });
    port
}

struct Pki {
    ca_pem: String,
    good: Arc<rustls::ServerConfig>,
    expired: Arc<rustls::ServerConfig>,
}

fn pki() -> Pki {
    let ca_key = rcgen::KeyPair::generate().unwrap();
    let mut ca = rcgen::CertificateParams::new(Vec::<String>::new()).unwrap();
    ca.is_ca = rcgen::IsCa::Ca(rcgen::BasicConstraints::Unconstrained);
    ca.distinguished_name.push(rcgen::DnType::CommonName, "VANA Test CA");
    ca.key_usages = vec![rcgen::KeyUsagePurpose::KeyCertSign, rcgen::KeyUsagePurpose::CrlSign];
    let issuer = rcgen::CertifiedIssuer::self_signed(ca, ca_key).unwrap();
    let leaf = |not_after: (i32, u8, u8)| {
        let key = rcgen::KeyPair::generate().unwrap();
        let mut p =
            rcgen::CertificateParams::new(vec!["localhost".to_string(), "127.0.0.1".to_string()]).unwrap();
        p.distinguished_name.push(rcgen::DnType::CommonName, "localhost");
        p.not_before = rcgen::date_time_ymd(2020, 1, 1);
        p.not_after = rcgen::date_time_ymd(not_after.0, not_after.1, not_after.2);
        let cert = p.signed_by(&key, &issuer).unwrap();
        let chain =
            vec![CertificateDer::from(cert.der().to_vec()), CertificateDer::from(issuer.der().to_vec())];
        let key = PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(key.serialize_der()));
        let provider = Arc::new(rustls::crypto::aws_lc_rs::default_provider());
        Arc::new(
            rustls::ServerConfig::builder_with_provider(provider)
                .with_safe_default_protocol_versions()
                .unwrap()
                .with_no_client_auth()
                .with_single_cert(chain, key)
                .unwrap(),
        )
    };
    Pki { ca_pem: issuer.pem(), good: leaf((2099, 1, 1)), expired: leaf((2021, 6, 1)) }
}

fn loopback_env(ca: Option<&str>) -> Env {
    let ca_file = ca.map(|pem| {
        let p = std::env::temp_dir().join(vana_testkit::unique("vana-test-ca")).with_extension("pem");
        std::fs::write(&p, pem).unwrap();
        p
    });
    Env::with(|c| {
        c.policy.allowed_hosts = vec!["127.0.0.1".into(), "localhost".into()];
        c.extra_ca_roots = ca_file.into_iter().collect();
    })
}

fn by_name<'a>(r: &'a Value, name: &str) -> &'a Value {
    r["checks"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["name"] == name)
        .unwrap_or_else(|| panic!("no check {name} in {r}"))
}

const GOOD: &[(&str, &str)] = &[
    ("strict-transport-security", "max-age=63072000; includeSubDomains; preload"),
    (
        "content-security-policy",
        "default-src 'self'; script-src 'self'; object-src 'none'; frame-ancestors 'none'",
    ),
    ("x-content-type-options", "nosniff"),
    ("x-frame-options", "DENY"),
    ("referrer-policy", "strict-origin-when-cross-origin"),
    ("permissions-policy", "camera=(), microphone=(), geolocation=()"),
    ("set-cookie", "session=abc123; Path=/; Secure; HttpOnly; SameSite=Lax"),
];

#[tokio::test(flavor = "multi_thread")]
async fn a_well_configured_https_server_grades_a_plus_with_its_certificate() {
    let pki = pki();
    let port = serve(GOOD.iter().map(|(k, v)| (*k, v.to_string())).collect(), Some(pki.good.clone())).await;
    let env = loopback_env(Some(&pki.ca_pem));
    let r = env.ok("check_security_headers", json!({"url": format!("https://localhost:{port}/")})).await;
    assert_eq!(r["grade"], "A+", "{r:#}");
    assert_eq!(r["score"], 100);
    assert_eq!(r["problems"], json!([]), "{r:#}");
    assert!(r["tls"]["version"] == "TLSv1.3" || r["tls"]["version"] == "TLSv1.2", "{}", r["tls"]);
    assert_eq!(r["tls"]["trusted"], true, "{}", r["tls"]);
    let cert = &r["tls"]["certificate"];
    assert_eq!(cert["not_after"], "2099-01-01");
    assert_eq!(cert["issuer_cn"], "VANA Test CA");
    assert_eq!(cert["names"], json!(["localhost", "127.0.0.1"]));
    assert_eq!(by_name(&r, "cookie session")["status"], "pass");

    // The same server without the extra CA: the certificate is reported as untrusted.
    let env = loopback_env(None);
    let r = env.ok("check_security_headers", json!({"url": format!("https://localhost:{port}/")})).await;
    assert_eq!(r["tls"]["trusted"], false, "{r:#}");
    assert_eq!(by_name(&r, "tls-certificate")["status"], "fail");
    assert!(r["fetch_error"].as_str().unwrap().contains("certificate"), "{}", r["fetch_error"]);
    assert_eq!(r["grade"], "C", "{r:#}");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_badly_configured_server_fails_each_check_it_gets_wrong() {
    let bad = vec![
        (
            "content-security-policy",
            "script-src 'self' 'unsafe-inline' 'unsafe-eval' *.cdn.example; img-src *".to_string(),
        ),
        ("referrer-policy", "unsafe-url".to_string()),
        ("set-cookie", "sid=xyz; Path=/".to_string()),
        ("set-cookie", "pref=dark; SameSite=None".to_string()),
        ("access-control-allow-origin", common_probe_origin()),
        ("access-control-allow-credentials", "true".to_string()),
        ("server", "Apache/2.4.49 (Unix)".to_string()),
    ];
    let port = serve(bad, None).await;
    let env = loopback_env(None);
    let r = env.ok("check_security_headers", json!({"url": format!("http://127.0.0.1:{port}/login")})).await;
    assert_eq!(r["grade"], "F", "{r:#}");
    assert_eq!(by_name(&r, "https")["status"], "fail");
    let csp = by_name(&r, "content-security-policy");
    assert_eq!(csp["status"], "warn");
    let detail = csp["detail"].as_str().unwrap();
    for expected in [
        "'unsafe-inline'",
        "'unsafe-eval'",
        "no default-src",
        "no frame-ancestors",
        "`*.cdn.example`",
        "img-src allows `*`",
    ] {
        assert!(detail.contains(expected), "CSP finding {expected} missing from: {detail}");
    }
    assert_eq!(by_name(&r, "x-content-type-options")["status"], "fail");
    assert_eq!(by_name(&r, "x-frame-options")["status"], "fail");
    assert_eq!(by_name(&r, "referrer-policy")["status"], "warn");
    assert_eq!(by_name(&r, "permissions-policy")["status"], "warn");
    let sid = by_name(&r, "cookie sid");
    assert!(
        sid["detail"].as_str().unwrap().contains("no HttpOnly")
            && sid["detail"].as_str().unwrap().contains("no SameSite"),
        "{sid}"
    );
    assert!(by_name(&r, "cookie pref")["detail"].as_str().unwrap().contains("SameSite=None without Secure"));
    let cors = by_name(&r, "cors");
    assert_eq!(cors["status"], "fail", "{cors}");
    assert!(cors["detail"].as_str().unwrap().contains("reflected with credentials"));
    assert_eq!(by_name(&r, "server")["status"], "warn");

    // An expired certificate (trusted CA) fails the expiry check.
    let pki = pki();
    let port =
        serve(GOOD.iter().map(|(k, v)| (*k, v.to_string())).collect(), Some(pki.expired.clone())).await;
    let env = loopback_env(Some(&pki.ca_pem));
    let r = env.ok("check_security_headers", json!({"url": format!("https://localhost:{port}/")})).await;
    let expiry = by_name(&r, "tls-expiry");
    assert_eq!(
        (expiry["status"].as_str(), expiry["value"].as_str()),
        (Some("fail"), Some("2021-06-01")),
        "{r:#}"
    );
    assert!(r["tls"]["trust_error"].as_str().unwrap().to_lowercase().contains("expired"), "{}", r["tls"]);
}

fn common_probe_origin() -> String {
    vana_tools_ops::security::headers::PROBE_ORIGIN.to_string()
}

#[tokio::test(flavor = "multi_thread")]
async fn loopback_is_refused_by_default_and_hostile_urls_are_refused() {
    let port = serve(vec![], None).await;
    let env = Env::new();
    let e = env.err("check_security_headers", json!({"url": format!("http://127.0.0.1:{port}/")})).await;
    assert!(matches!(e, vana_core::ToolError::Blocked(_)), "{e}");
    assert!(e.to_string().contains("allowed_hosts"), "the refusal names the setting: {e}");
    let e = env.err("check_security_headers", json!({"url": format!("http://localhost:{port}/")})).await;
    assert!(
        matches!(e, vana_core::ToolError::Blocked(_)),
        "a name resolving to loopback is refused too: {e}"
    );
    let e =
        env.err("check_security_headers", json!({"url": "http://169.254.169.254/latest/meta-data/"})).await;
    assert!(matches!(e, vana_core::ToolError::Blocked(_)), "{e}");
    let e = env.err("check_security_headers", json!({"url": "file:///etc/passwd"})).await.to_string();
    assert!(e.contains("only http and https"), "{e}");
    let e = env.err("check_security_headers", json!({"url": "not a url"})).await.to_string();
    assert!(e.contains("not a usable URL"), "{e}");
}
