//! The scanner: every rule over a whole file at once, matches judged (placeholders, entropy),
//! overlapping matches resolved in favour of the most specific rule, and each finding given its
//! line, a redacted snippet and a fingerprint (what a baseline records to accept it).

use super::rules::{self, Check};
use serde::Serialize;
use sha2::{Digest, Sha256};

/// One secret found.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct Finding {
    /// Workspace-relative file (`<text>` for inline text).
    pub file: String,
    /// 1-based line.
    pub line: usize,
    /// 1-based column (bytes) where the secret starts.
    pub column: usize,
    /// The rule's id, e.g. `github-token`.
    pub rule: &'static str,
    /// What it is, e.g. `GitHub token`.
    pub kind: &'static str,
    /// `high`, `medium` or `low`.
    pub severity: &'static str,
    /// The line with the secret redacted (never the secret itself).
    pub snippet: String,
    /// The secret's first characters and its length.
    pub redacted: String,
    /// Stable id of this secret under this rule (sha256 of rule and secret, 32 hex digits): list
    /// it in a baseline to accept the finding wherever the secret sits.
    pub fingerprint: String,
    /// Shannon entropy (bits per character) for entropy findings.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub entropy: Option<f64>,
}

/// Marks on a line that accept whatever it holds (detect-secrets' and VANA's spelling).
const ALLOW_MARKS: &[&[u8]] = &[b"pragma: allowlist secret", b"vana: allow-secret"];

/// Key names whose value is about a secret, not the secret (`password_file`, `token_url`, …).
fn key_is_meta(key: &[u8]) -> bool {
    let k = String::from_utf8_lossy(key).to_ascii_lowercase();
    const SUFFIXES: &[&str] = &[
        "_file",
        "_path",
        "_env",
        "_name",
        "_length",
        "_len",
        "_min",
        "_max",
        "_field",
        "_column",
        "_prompt",
        "_label",
        "_hint",
        "_policy",
        "_type",
        "_regex",
        "_pattern",
        "_url",
        "_uri",
        "_endpoint",
        "_id",
        "_header",
        "_param",
        "_id_env",
        "file",
        "path",
        "url",
        "_count",
        "_ttl",
        "_expiry",
        "_expires",
        "_enabled",
        "_required",
    ];
    SUFFIXES.iter().any(|s| k.ends_with(s)) || k.contains("reset") || k.contains("forgot")
}

struct Hit {
    start: usize,
    end: usize,
    secret_end: usize,
    rule: usize,
    entropy: Option<f64>,
}

/// Every secret in one file's bytes (`name` decides config-vs-code and generated-file handling).
pub fn scan(name: &str, bytes: &[u8]) -> Vec<Finding> {
    let config = rules::is_config_file(name);
    let generated = rules::is_generated(name);
    let all = rules::rules();
    let mut hits: Vec<Hit> = Vec::new();
    for (i, rule) in all.iter().enumerate() {
        if generated && rule.check == Check::Entropy {
            continue;
        }
        for caps in rule.regex.captures_iter(bytes) {
            let hit = match rule.check {
                Check::Shape => caps.get(1).map(|m| {
                    let mut secret_end = m.end();
                    if rule.id == "private-key" {
                        let tail = &bytes[m.end()..bytes.len().min(m.end() + 16 * 1024)];
                        if let Some(p) = find(tail, b"-----END") {
                            secret_end = m.end() + p;
                        }
                    }
                    Hit { start: m.start(), end: m.end(), secret_end, rule: i, entropy: None }
                }),
                Check::Assignment => {
                    let value = if rule.id == "url-credentials" {
                        caps.get(1)
                    } else {
                        caps.get(2).or_else(|| caps.get(3))
                    };
                    let quoted = caps.get(2).is_some() || rule.id == "url-credentials";
                    let meta = rule.id == "password-assignment"
                        && caps.get(1).is_some_and(|k| key_is_meta(k.as_bytes()));
                    value
                        .filter(|v| {
                            (quoted || config)
                                && !meta
                                && std::str::from_utf8(v.as_bytes()).is_ok_and(|s| !rules::is_placeholder(s))
                        })
                        .map(|v| Hit {
                            start: v.start(),
                            end: v.end(),
                            secret_end: v.end(),
                            rule: i,
                            entropy: None,
                        })
                }
                Check::Entropy => caps.get(1).and_then(|m| {
                    rules::high_entropy(m.as_bytes())
                        .or_else(|| {
                            let line_start =
                                memchr::memrchr(b'\n', &bytes[..m.start()]).map(|p| p + 1).unwrap_or(0);
                            rules::keyed_context(&bytes[line_start..m.start()])
                                .then(|| {
                                    rules::high_entropy_with(
                                        m.as_bytes(),
                                        rules::KEYED_BASE64_LIMIT,
                                        rules::KEYED_HEX_LIMIT,
                                    )
                                })
                                .flatten()
                        })
                        .map(|e| Hit {
                            start: m.start(),
                            end: m.end(),
                            secret_end: m.end(),
                            rule: i,
                            entropy: Some(e),
                        })
                }),
            };
            if let Some(h) = hit {
                hits.push(h);
            }
        }
    }
    if hits.is_empty() {
        return Vec::new();
    }
    // The most specific rule wins an overlap: rules are listed most specific first.
    hits.sort_by_key(|h| (h.rule, h.start));
    let mut kept: Vec<Hit> = Vec::new();
    for h in hits {
        if !kept.iter().any(|k| h.start < k.end && k.start < h.end) {
            kept.push(h);
        }
    }
    kept.sort_by_key(|h| h.start);
    let mut out = Vec::with_capacity(kept.len());
    let mut line = 1usize;
    let mut pos = 0usize;
    for h in kept {
        line += memchr::memchr_iter(b'\n', &bytes[pos..h.start]).count();
        pos = h.start;
        let line_start = memchr::memrchr(b'\n', &bytes[..h.start]).map(|p| p + 1).unwrap_or(0);
        let line_end = memchr::memchr(b'\n', &bytes[h.start..]).map(|p| h.start + p).unwrap_or(bytes.len());
        let line_bytes = &bytes[line_start..line_end];
        if ALLOW_MARKS.iter().any(|m| find(line_bytes, m).is_some()) {
            continue;
        }
        let rule = &all[h.rule];
        let secret = &bytes[h.start..h.secret_end];
        let shown = &bytes[h.start..h.end.min(line_end)];
        let redacted = redact(rule.id, shown, secret.len());
        let snippet = snippet(line_bytes, h.start - line_start, h.end.min(line_end) - line_start, &redacted);
        out.push(Finding {
            file: name.to_string(),
            line,
            column: h.start - line_start + 1,
            rule: rule.id,
            kind: rule.title,
            severity: rule.severity,
            snippet,
            redacted,
            fingerprint: fingerprint(rule.id, secret),
            entropy: h.entropy.map(|e| (e * 100.0).round() / 100.0),
        });
    }
    out
}

/// sha256 of the rule id and the secret, the first 32 hex digits.
pub fn fingerprint(rule: &str, secret: &[u8]) -> String {
    let mut h = Sha256::new();
    h.update(rule.as_bytes());
    h.update([0u8]);
    h.update(secret);
    h.finalize().iter().take(16).map(|b| format!("{b:02x}")).collect()
}

fn redact(rule: &str, shown: &[u8], len: usize) -> String {
    if rule == "private-key" {
        return format!("{} (a {len}-byte key block)", String::from_utf8_lossy(shown));
    }
    let keep = if len >= 16 { 4 } else { 2 };
    let head: String = String::from_utf8_lossy(&shown[..keep.min(shown.len())]).into_owned();
    format!("{head}…[{len} chars]")
}

fn snippet(line: &[u8], start: usize, end: usize, redacted: &str) -> String {
    const SIDE: usize = 60;
    let from = start.saturating_sub(SIDE);
    let to = (end + SIDE).min(line.len());
    let mut s = String::new();
    if from > 0 {
        s.push('…');
    }
    s.push_str(String::from_utf8_lossy(&line[from..start]).trim_start());
    s.push_str(redacted);
    s.push_str(&String::from_utf8_lossy(&line[end..to]));
    if to < line.len() {
        s.push('…');
    }
    s.trim_end().to_string()
}

fn find(hay: &[u8], needle: &[u8]) -> Option<usize> {
    memchr::memmem::find(hay, needle)
}

/// Scans many files on `threads` threads; findings in file order.
pub fn scan_all(sources: &[super::super::input::Source], threads: usize) -> Vec<Finding> {
    use std::sync::atomic::{AtomicUsize, Ordering};
    let next = AtomicUsize::new(0);
    let threads = threads.clamp(1, sources.len().max(1));
    let mut parts: Vec<Vec<(usize, Vec<Finding>)>> = Vec::new();
    std::thread::scope(|s| {
        let handles: Vec<_> = (0..threads)
            .map(|_| {
                s.spawn(|| {
                    let mut mine = Vec::new();
                    loop {
                        let i = next.fetch_add(1, Ordering::Relaxed);
                        let Some(src) = sources.get(i) else { break };
                        if super::super::input::is_binary(&src.bytes) {
                            continue;
                        }
                        let f = scan(&src.name, &src.bytes);
                        if !f.is_empty() {
                            mine.push((i, f));
                        }
                    }
                    mine
                })
            })
            .collect();
        for h in handles {
            parts.push(h.join().unwrap_or_default());
        }
    });
    let mut all: Vec<(usize, Vec<Finding>)> = parts.into_iter().flatten().collect();
    all.sort_by_key(|(i, _)| *i);
    all.into_iter().flat_map(|(_, f)| f).collect()
}
