//! The TLS side of `check_security_headers`: one handshake to the address the outbound policy
//! resolved, recording the negotiated version and cipher suite, whether the chain is trusted
//! (system roots plus the configured extra CAs) for the host name, and the leaf certificate's
//! validity and names. Verification is recorded rather than enforced, so an untrusted
//! certificate is reported, not just refused.

use super::x509::{self, CertInfo};
use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::pki_types::{CertificateDer, ServerName, UnixTime};
use rustls::{DigitallySignedStruct, SignatureScheme};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use vana_net::OutboundPolicy;

/// What one handshake showed.
#[derive(Debug, Clone)]
pub struct TlsReport {
    /// `TLSv1.3`, `TLSv1.2`.
    pub version: String,
    /// The cipher suite's name.
    pub cipher: String,
    /// Why the chain is not trusted for this host, if it is not.
    pub trust_error: Option<String>,
    /// The leaf certificate, if it could be read.
    pub cert: Option<CertInfo>,
}

#[derive(Debug)]
struct Recorder {
    inner: Arc<dyn ServerCertVerifier>,
    result: Mutex<Option<Result<(), String>>>,
}

impl ServerCertVerifier for Recorder {
    fn verify_server_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        intermediates: &[CertificateDer<'_>],
        server_name: &ServerName<'_>,
        ocsp_response: &[u8],
        now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        let r = self.inner.verify_server_cert(end_entity, intermediates, server_name, ocsp_response, now);
        *self.result.lock().unwrap_or_else(|e| e.into_inner()) =
            Some(r.map(|_| ()).map_err(|e| e.to_string()));
        Ok(ServerCertVerified::assertion())
    }
    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        self.inner.verify_tls12_signature(message, cert, dss)
    }
    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        self.inner.verify_tls13_signature(message, cert, dss)
    }
    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.inner.supported_verify_schemes()
    }
}

/// Extra CA roots from PEM bytes.
pub fn pem_roots(pem: &[u8]) -> Vec<CertificateDer<'static>> {
    use rustls::pki_types::pem::PemObject;
    CertificateDer::pem_slice_iter(pem).filter_map(Result::ok).collect()
}

/// Handshakes with `host:port` (resolved and checked by `policy`).
pub async fn probe(
    policy: &OutboundPolicy,
    host: &str,
    port: u16,
    extra_roots: Vec<CertificateDer<'static>>,
    timeout: Duration,
) -> Result<TlsReport, String> {
    let addrs = policy.resolve(host, port).await.map_err(|e| e.to_string())?;
    let provider = Arc::new(rustls::crypto::aws_lc_rs::default_provider());
    let verifier = rustls_platform_verifier::Verifier::new_with_extra_roots(extra_roots, provider.clone())
        .map_err(|e| format!("cannot load the trusted roots: {e}"))?;
    let recorder = Arc::new(Recorder { inner: Arc::new(verifier), result: Mutex::new(None) });
    let config = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| e.to_string())?
        .dangerous()
        .with_custom_certificate_verifier(recorder.clone())
        .with_no_client_auth();
    let bare = host.trim_start_matches('[').trim_end_matches(']').to_string();
    let name = ServerName::try_from(bare).map_err(|e| format!("`{host}` is not a TLS server name: {e}"))?;
    let connect = async {
        let tcp =
            tokio::net::TcpStream::connect(&addrs[..]).await.map_err(|e| format!("cannot connect: {e}"))?;
        tokio_rustls::TlsConnector::from(Arc::new(config))
            .connect(name, tcp)
            .await
            .map_err(|e| format!("the TLS handshake failed: {e}"))
    };
    let stream = tokio::time::timeout(timeout, connect)
        .await
        .map_err(|_| format!("no TLS handshake within {} s", timeout.as_secs()))??;
    let (_, conn) = stream.get_ref();
    let version = match conn.protocol_version() {
        Some(rustls::ProtocolVersion::TLSv1_3) => "TLSv1.3".to_string(),
        Some(rustls::ProtocolVersion::TLSv1_2) => "TLSv1.2".to_string(),
        Some(v) => format!("{v:?}"),
        None => "unknown".into(),
    };
    let cipher = conn.negotiated_cipher_suite().map(|s| format!("{:?}", s.suite())).unwrap_or_default();
    let cert = conn.peer_certificates().and_then(|c| c.first()).and_then(|c| x509::parse(c.as_ref()).ok());
    let trust_error = match recorder.result.lock().unwrap_or_else(|e| e.into_inner()).clone() {
        Some(Ok(())) => None,
        Some(Err(e)) => Some(e),
        None => Some("the server sent no certificate".into()),
    };
    Ok(TlsReport { version, cipher, trust_error, cert })
}
