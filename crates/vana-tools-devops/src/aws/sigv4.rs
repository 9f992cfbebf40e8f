//! AWS Signature Version 4 (header form): the canonical request, the string to sign, the
//! derived signing key and the `Authorization` header, as AWS's SigV4 documentation defines
//! them. Checked against AWS's published test suite (`get-vanilla` and friends).

use hmac::{Hmac, KeyInit, Mac};
use sha2::{Digest, Sha256};

/// An access key, its secret and (for temporary credentials) the session token.
#[derive(Clone, PartialEq, Eq)]
pub struct Credentials {
    /// `AKIA...` / `ASIA...`.
    pub access_key_id: String,
    /// The secret (never printed: [`std::fmt::Debug`] hides it).
    pub secret_access_key: String,
    /// `AWS_SESSION_TOKEN`, sent as `x-amz-security-token`.
    pub session_token: Option<String>,
}

impl std::fmt::Debug for Credentials {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Credentials").field("access_key_id", &self.access_key_id).finish_non_exhaustive()
    }
}

/// Lower-case hex.
pub fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// Hex SHA-256 (the payload hash of `x-amz-content-sha256`).
pub fn sha256_hex(data: &[u8]) -> String {
    hex(&Sha256::digest(data))
}

fn hmac(key: &[u8], data: &[u8]) -> Vec<u8> {
    let mut mac = <Hmac<Sha256> as KeyInit>::new_from_slice(key).expect("HMAC takes any key length");
    mac.update(data);
    mac.finalize().into_bytes().to_vec()
}

/// URI-encodes as SigV4 wants: every byte but `A-Z a-z 0-9 - _ . ~` (and `/` when `keep_slash`).
pub fn uri_encode(s: &str, keep_slash: bool) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || b"-_.~".contains(&b) || (keep_slash && b == b'/') {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// The canonical query string of `pairs` (decoded): each name and value encoded, sorted.
pub fn canonical_query(pairs: &[(String, String)]) -> String {
    let mut enc: Vec<(String, String)> =
        pairs.iter().map(|(k, v)| (uri_encode(k, false), uri_encode(v, false))).collect();
    enc.sort();
    enc.iter().map(|(k, v)| format!("{k}={v}")).collect::<Vec<_>>().join("&")
}

/// One request to sign.
pub struct Request<'a> {
    /// `GET`, `PUT`, ...
    pub method: &'a str,
    /// The path as sent (already URI-encoded, e.g. `/bucket/my%20key`).
    pub path: &'a str,
    /// The decoded query pairs.
    pub query: &'a [(String, String)],
    /// The headers to sign (any case; `host` and `x-amz-date` must be among them).
    pub headers: &'a [(String, String)],
    /// Hex SHA-256 of the body (or `UNSIGNED-PAYLOAD`).
    pub payload_hash: &'a str,
}

/// The result: the `Authorization` header value and the pieces it came from.
pub struct Signed {
    /// `AWS4-HMAC-SHA256 Credential=..., SignedHeaders=..., Signature=...`.
    pub authorization: String,
    /// The canonical request (for debugging a signature mismatch).
    pub canonical_request: String,
    /// The hex signature.
    pub signature: String,
}

/// Signs `req` for `service` in `region` at `amz_date` (`YYYYMMDDTHHMMSSZ`).
pub fn sign(creds: &Credentials, region: &str, service: &str, amz_date: &str, req: &Request) -> Signed {
    let date = &amz_date[..8.min(amz_date.len())];
    // S3 signs the path as sent; every other service encodes it once more.
    let canonical_uri = if service == "s3" { req.path.to_string() } else { uri_encode(req.path, true) };
    let canonical_uri = if canonical_uri.is_empty() { "/".to_string() } else { canonical_uri };
    let mut headers: Vec<(String, String)> = req
        .headers
        .iter()
        .map(|(k, v)| (k.to_ascii_lowercase(), v.split_whitespace().collect::<Vec<_>>().join(" ")))
        .collect();
    headers.sort();
    let canonical_headers: String = headers.iter().map(|(k, v)| format!("{k}:{v}\n")).collect();
    let signed_headers = headers.iter().map(|(k, _)| k.as_str()).collect::<Vec<_>>().join(";");
    let canonical_request = format!(
        "{}\n{}\n{}\n{}\n{}\n{}",
        req.method,
        canonical_uri,
        canonical_query(req.query),
        canonical_headers,
        signed_headers,
        req.payload_hash
    );
    let scope = format!("{date}/{region}/{service}/aws4_request");
    let string_to_sign =
        format!("AWS4-HMAC-SHA256\n{amz_date}\n{scope}\n{}", sha256_hex(canonical_request.as_bytes()));
    let k_date = hmac(format!("AWS4{}", creds.secret_access_key).as_bytes(), date.as_bytes());
    let k_region = hmac(&k_date, region.as_bytes());
    let k_service = hmac(&k_region, service.as_bytes());
    let k_signing = hmac(&k_service, b"aws4_request");
    let signature = hex(&hmac(&k_signing, string_to_sign.as_bytes()));
    let authorization = format!(
        "AWS4-HMAC-SHA256 Credential={}/{scope}, SignedHeaders={signed_headers}, Signature={signature}",
        creds.access_key_id
    );
    Signed { authorization, canonical_request, signature }
}

/// `YYYYMMDDTHHMMSSZ` for a time.
pub fn amz_date(t: std::time::SystemTime) -> String {
    let secs = t.duration_since(std::time::UNIX_EPOCH).map(|d| d.as_secs()).unwrap_or(0) as i64;
    let (days, rem) = (secs.div_euclid(86_400), secs.rem_euclid(86_400));
    // Howard Hinnant's civil-from-days.
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + i64::from(m <= 2);
    format!("{y:04}{m:02}{d:02}T{:02}{:02}{:02}Z", rem / 3600, rem % 3600 / 60, rem % 60)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn example() -> Credentials {
        Credentials {
            access_key_id: "AKIDEXAMPLE".into(),
            secret_access_key: "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY".into(),
            session_token: None,
        }
    }

    fn headers() -> Vec<(String, String)> {
        vec![
            ("Host".into(), "example.amazonaws.com".into()),
            ("X-Amz-Date".into(), "20150830T123600Z".into()),
        ]
    }

    /// AWS's SigV4 test suite, `get-vanilla` and `get-vanilla-query-order-key-case`.
    #[test]
    fn aws_published_test_vectors() {
        let h = headers();
        let empty = sha256_hex(b"");
        let req = Request { method: "GET", path: "/", query: &[], headers: &h, payload_hash: &empty };
        let s = sign(&example(), "us-east-1", "service", "20150830T123600Z", &req);
        assert_eq!(
            s.authorization,
            "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/service/aws4_request, \
             SignedHeaders=host;x-amz-date, Signature=5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf31"
        );
        let q =
            vec![("Param2".to_string(), "value2".to_string()), ("Param1".to_string(), "value1".to_string())];
        let req = Request { method: "GET", path: "/", query: &q, headers: &h, payload_hash: &empty };
        let s = sign(&example(), "us-east-1", "service", "20150830T123600Z", &req);
        assert_eq!(s.signature, "b97d918cfa904a5beff61c982a1b6f458b799221646efd99d3219ec94cdf2500");
        // A different secret gives a different signature (the check can fail).
        let mut other = example();
        other.secret_access_key.push('x');
        assert_ne!(sign(&other, "us-east-1", "service", "20150830T123600Z", &req).signature, s.signature);
    }

    #[test]
    fn dates_and_encoding() {
        let t = std::time::UNIX_EPOCH + std::time::Duration::from_secs(1_440_938_160);
        assert_eq!(amz_date(t), "20150830T123600Z");
        assert_eq!(uri_encode("a b/ü~", true), "a%20b/%C3%BC~");
        assert_eq!(uri_encode("a/b", false), "a%2Fb");
    }
}
