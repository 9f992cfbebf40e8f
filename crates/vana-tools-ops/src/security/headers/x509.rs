//! The few fields of an X.509 certificate the TLS check reports, read from its DER: validity,
//! subject and issuer common names, and the subject alternative names (DNS names and IP
//! addresses). A minimal DER walk: anything unexpected is an error, never a panic.

use std::net::IpAddr;

/// What the TLS check reports about a certificate.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CertInfo {
    /// notBefore, seconds since the epoch.
    pub not_before: i64,
    /// notAfter, seconds since the epoch.
    pub not_after: i64,
    /// The subject's common name, if any.
    pub subject_cn: Option<String>,
    /// The issuer's common name, if any.
    pub issuer_cn: Option<String>,
    /// DNS names and IP addresses from subjectAltName.
    pub names: Vec<String>,
}

fn tlv(input: &[u8]) -> Result<(u8, &[u8], &[u8]), String> {
    let short = || "truncated DER".to_string();
    let tag = *input.first().ok_or_else(short)?;
    let first = *input.get(1).ok_or_else(short)?;
    let (len, header) = if first < 0x80 {
        (first as usize, 2)
    } else {
        let n = (first & 0x7f) as usize;
        if n == 0 || n > 4 {
            return Err("unsupported DER length".into());
        }
        let bytes = input.get(2..2 + n).ok_or_else(short)?;
        (bytes.iter().fold(0usize, |a, &b| (a << 8) | b as usize), 2 + n)
    };
    let body = input.get(header..header + len).ok_or_else(short)?;
    Ok((tag, body, &input[header + len..]))
}

fn expect(input: &[u8], want: u8) -> Result<(&[u8], &[u8]), String> {
    let (tag, body, rest) = tlv(input)?;
    if tag != want {
        return Err(format!("expected DER tag {want:#x}, found {tag:#x}"));
    }
    Ok((body, rest))
}

const OID_CN: &[u8] = &[0x55, 0x04, 0x03];
const OID_SAN: &[u8] = &[0x55, 0x1d, 0x11];

fn common_name(name: &[u8]) -> Option<String> {
    let mut rdns = name;
    while !rdns.is_empty() {
        let (set, rest) = expect(rdns, 0x31).ok()?;
        rdns = rest;
        let mut atvs = set;
        while !atvs.is_empty() {
            let (atv, rest) = expect(atvs, 0x30).ok()?;
            atvs = rest;
            let (oid, value) = expect(atv, 0x06).ok()?;
            if oid == OID_CN {
                let (_, v, _) = tlv(value).ok()?;
                return Some(String::from_utf8_lossy(v).into_owned());
            }
        }
    }
    None
}

fn time(input: &[u8]) -> Result<(i64, &[u8]), String> {
    let (tag, body, rest) = tlv(input)?;
    let s = std::str::from_utf8(body).map_err(|_| "bad time".to_string())?;
    let digits =
        |a: usize, b: usize| s.get(a..b).and_then(|x| x.parse::<i64>().ok()).ok_or("bad time".to_string());
    let (year, off) = match tag {
        0x17 => {
            let y = digits(0, 2)?;
            (if y >= 50 { 1900 + y } else { 2000 + y }, 2)
        }
        0x18 => (digits(0, 4)?, 4),
        _ => return Err("bad time tag".into()),
    };
    let (mo, d, h, mi, se) = (
        digits(off, off + 2)?,
        digits(off + 2, off + 4)?,
        digits(off + 4, off + 6)?,
        digits(off + 6, off + 8)?,
        digits(off + 8, off + 10)?,
    );
    Ok((days_from_civil(year, mo, d) * 86_400 + h * 3600 + mi * 60 + se, rest))
}

/// Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's algorithm).
pub fn days_from_civil(y: i64, m: i64, d: i64) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = if y >= 0 { y } else { y - 399 } / 400;
    let yoe = y - era * 400;
    let doy = (153 * (m + if m > 2 { -3 } else { 9 }) + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// Reads a DER certificate.
pub fn parse(der: &[u8]) -> Result<CertInfo, String> {
    let (cert, _) = expect(der, 0x30)?;
    let (tbs, _) = expect(cert, 0x30)?;
    let mut rest = tbs;
    if rest.first() == Some(&0xa0) {
        rest = tlv(rest)?.2;
    }
    rest = expect(rest, 0x02)?.1; // serial
    rest = expect(rest, 0x30)?.1; // signature algorithm
    let (issuer, r) = expect(rest, 0x30)?;
    let (validity, r) = expect(r, 0x30)?;
    let (not_before, v) = time(validity)?;
    let (not_after, _) = time(v)?;
    let (subject, r) = expect(r, 0x30)?;
    let mut r = expect(r, 0x30)?.1; // subject public key info
    let mut names = Vec::new();
    while !r.is_empty() {
        let (tag, body, next) = tlv(r)?;
        r = next;
        if tag != 0xa3 {
            continue;
        }
        let (mut exts, _) = expect(body, 0x30)?;
        while !exts.is_empty() {
            let (ext, next) = expect(exts, 0x30)?;
            exts = next;
            let (oid, mut e) = expect(ext, 0x06)?;
            if oid != OID_SAN {
                continue;
            }
            if e.first() == Some(&0x01) {
                e = tlv(e)?.2;
            }
            let (octets, _) = expect(e, 0x04)?;
            let (mut gns, _) = expect(octets, 0x30)?;
            while !gns.is_empty() {
                let (tag, v, next) = tlv(gns)?;
                gns = next;
                match tag {
                    0x82 => names.push(String::from_utf8_lossy(v).into_owned()),
                    0x87 if v.len() == 4 => {
                        names.push(IpAddr::from(<[u8; 4]>::try_from(v).unwrap_or_default()).to_string())
                    }
                    0x87 if v.len() == 16 => {
                        names.push(IpAddr::from(<[u8; 16]>::try_from(v).unwrap_or_default()).to_string())
                    }
                    _ => {}
                }
            }
        }
    }
    Ok(CertInfo {
        not_before,
        not_after,
        subject_cn: common_name(subject),
        issuer_cn: common_name(issuer),
        names,
    })
}

/// A date as `YYYY-MM-DD` (UTC).
pub fn date(secs: i64) -> String {
    let days = secs.div_euclid(86_400);
    let z = days + 719_468;
    let era = if z >= 0 { z } else { z - 146_096 } / 146_097;
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + if m <= 2 { 1 } else { 0 };
    format!("{y:04}-{m:02}-{d:02}")
}
