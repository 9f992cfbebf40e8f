//! Content-Security-Policy, parsed: directives and their sources, and what weakens it.

use std::collections::BTreeMap;

/// A parsed policy: directive name (lower case) to its sources.
pub fn parse(policy: &str) -> BTreeMap<String, Vec<String>> {
    let mut out = BTreeMap::new();
    for part in policy.split(';') {
        let mut words = part.split_ascii_whitespace();
        if let Some(name) = words.next() {
            // The first occurrence of a directive wins (CSP3 §2.2).
            out.entry(name.to_ascii_lowercase()).or_insert_with(|| words.map(str::to_string).collect());
        }
    }
    out
}

/// What weakens a policy, each as a short sentence.
pub fn issues(policy: &str) -> Vec<String> {
    let d = parse(policy);
    let mut out = Vec::new();
    if !d.contains_key("default-src") {
        out.push("no default-src: anything not covered by another directive is unrestricted".to_string());
    }
    let scripts = d.get("script-src").or_else(|| d.get("default-src"));
    let which = if d.contains_key("script-src") { "script-src" } else { "default-src" };
    if let Some(src) = scripts {
        let lower: Vec<String> = src.iter().map(|s| s.to_ascii_lowercase()).collect();
        let has_nonce = lower.iter().any(|s| s.starts_with("'nonce-") || s.starts_with("'sha"));
        if lower.iter().any(|s| s == "'unsafe-inline'") && !has_nonce {
            out.push(format!("{which} allows 'unsafe-inline': injected inline scripts run"));
        }
        if lower.iter().any(|s| s == "'unsafe-eval'") {
            out.push(format!("{which} allows 'unsafe-eval': eval() and new Function() run"));
        }
    } else {
        out.push("no script-src or default-src: scripts from anywhere run".to_string());
    }
    for (name, src) in &d {
        if !(name.ends_with("-src") || name == "frame-ancestors") {
            continue;
        }
        for s in src {
            let l = s.to_ascii_lowercase();
            if l == "*"
                || l == "http:"
                || l == "https:"
                || (l == "data:" && (name == "script-src" || name == "default-src"))
            {
                out.push(format!("{name} allows `{s}` (a wildcard source)"));
            } else if l.starts_with("*.") || l.contains("://*") {
                out.push(format!("{name} allows `{s}` (a wildcard host)"));
            }
        }
    }
    if !d.contains_key("frame-ancestors") {
        out.push(
            "no frame-ancestors: the page can be framed (clickjacking) unless X-Frame-Options says otherwise"
                .into(),
        );
    }
    out
}
