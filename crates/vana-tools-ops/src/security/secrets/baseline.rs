//! Baselines: the fingerprints of findings accepted as known. The file `write_baseline` writes is
//! JSON (`{"generator": "vana scan_secrets", "version": 1, "findings": [{"fingerprint", "rule",
//! "file", "line"}]}`); a plain JSON list of fingerprints is accepted too.

use super::scan::Finding;
use serde_json::{json, Value};
use std::collections::HashSet;

/// Accepted fingerprints.
#[derive(Debug, Default, Clone)]
pub struct Baseline(HashSet<String>);

/// True for a fingerprint's shape: 32 lower-case hex digits.
pub fn is_fingerprint(s: &str) -> bool {
    s.len() == 32 && s.bytes().all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
}

impl Baseline {
    /// From a list of fingerprints (checked by the caller).
    pub fn from_list(list: &[String]) -> Self {
        Baseline(list.iter().map(|s| s.to_ascii_lowercase()).collect())
    }

    /// Parses a baseline file.
    pub fn parse(bytes: &[u8]) -> Result<Self, String> {
        let v: Value = serde_json::from_slice(bytes).map_err(|e| format!("not JSON ({e})"))?;
        let items: Vec<&Value> = match &v {
            Value::Array(a) => a.iter().collect(),
            Value::Object(o) => match o.get("findings").or_else(|| o.get("fingerprints")) {
                Some(Value::Array(a)) => a.iter().collect(),
                _ => return Err("expected a `findings` list".into()),
            },
            _ => return Err("expected a list of fingerprints or an object with `findings`".into()),
        };
        let mut set = HashSet::new();
        for item in items {
            let fp = match item {
                Value::String(s) => s.as_str(),
                Value::Object(o) => o.get("fingerprint").and_then(Value::as_str).unwrap_or(""),
                _ => "",
            };
            if !is_fingerprint(fp) {
                return Err(format!("`{item}` holds no fingerprint (32 hex digits)"));
            }
            set.insert(fp.to_string());
        }
        Ok(Baseline(set))
    }

    /// Adds another baseline's fingerprints.
    pub fn extend(&mut self, other: Baseline) {
        self.0.extend(other.0);
    }

    /// Whether a fingerprint is accepted.
    pub fn contains(&self, fp: &str) -> bool {
        self.0.contains(fp)
    }

    /// The baseline file for `findings`.
    pub fn render(findings: &[Finding]) -> Vec<u8> {
        let items: Vec<Value> = findings
            .iter()
            .map(|f| json!({"fingerprint": f.fingerprint, "rule": f.rule, "file": f.file, "line": f.line}))
            .collect();
        let mut out = serde_json::to_vec_pretty(&json!({
            "generator": "vana scan_secrets",
            "version": 1,
            "findings": items,
        }))
        .unwrap_or_default();
        out.push(b'\n');
        out
    }
}
