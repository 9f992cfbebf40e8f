//! robots.txt (RFC 9309): the group for `VANA` (else `*`), longest matching Allow/Disallow rule
//! wins, Allow on a tie; `*` and `$` in paths.

/// A group: its user agents and its `(allow, pattern)` rules.
type Group = (Vec<String>, Vec<(bool, String)>);

/// The rules of one robots.txt that apply to one user agent.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Robots {
    /// `(allow, pattern)` in file order.
    rules: Vec<(bool, String)>,
    /// Everything disallowed (the file was unreachable with a server error).
    deny_all: bool,
}

impl Robots {
    /// No rules: everything allowed (no robots.txt, or a 4xx for it).
    pub fn allow_all() -> Self {
        Robots::default()
    }

    /// Everything disallowed (a 5xx or unreachable robots.txt, as RFC 9309 §2.3.1.4 says).
    pub fn deny_all() -> Self {
        Robots { rules: Vec::new(), deny_all: true }
    }

    /// The rules in `text` for `agent` (matched case-insensitively against `User-agent` lines).
    pub fn parse(text: &str, agent: &str) -> Self {
        let agent = agent.to_ascii_lowercase();
        let mut groups: Vec<Group> = Vec::new();
        let mut in_agents = false;
        for line in text.lines() {
            let line = line.split('#').next().unwrap_or("").trim();
            let Some((key, value)) = line.split_once(':') else { continue };
            let (key, value) = (key.trim().to_ascii_lowercase(), value.trim());
            match key.as_str() {
                "user-agent" => {
                    if !in_agents {
                        groups.push((Vec::new(), Vec::new()));
                    }
                    in_agents = true;
                    if let Some(g) = groups.last_mut() {
                        g.0.push(value.to_ascii_lowercase());
                    }
                }
                "allow" | "disallow" => {
                    in_agents = false;
                    if let Some(g) = groups.last_mut() {
                        if !value.is_empty() {
                            g.1.push((key == "allow", value.to_string()));
                        }
                    }
                }
                _ => {}
            }
        }
        let pick = |want: &dyn Fn(&str) -> bool| -> Option<Vec<(bool, String)>> {
            let mut found = None;
            for (agents, rules) in &groups {
                if agents.iter().any(|a| want(a)) {
                    found.get_or_insert_with(Vec::new).extend(rules.iter().cloned());
                }
            }
            found
        };
        let rules = pick(&|a: &str| a != "*" && agent.contains(a))
            .or_else(|| pick(&|a: &str| a == "*"))
            .unwrap_or_default();
        Robots { rules, deny_all: false }
    }

    /// Whether `path` (with its query) may be fetched.
    pub fn allowed(&self, path: &str) -> bool {
        if self.deny_all {
            return false;
        }
        if path == "/robots.txt" {
            return true;
        }
        let mut best: Option<(usize, bool)> = None;
        for (allow, pattern) in &self.rules {
            if matches(pattern, path) {
                let len = pattern.len();
                best = match best {
                    Some((l, a)) if l > len || (l == len && a) => Some((l, a)),
                    _ => Some((len, *allow)),
                };
            }
        }
        best.is_none_or(|(_, allow)| allow)
    }
}

/// Whether the robots pattern matches a prefix of `path` (`*` any run, `$` the end).
fn matches(pattern: &str, path: &str) -> bool {
    let (pattern, anchored) = match pattern.strip_suffix('$') {
        Some(p) => (p, true),
        None => (pattern, false),
    };
    glob(pattern.as_bytes(), path.as_bytes(), anchored)
}

fn glob(p: &[u8], s: &[u8], anchored: bool) -> bool {
    match p.split_first() {
        None => !anchored || s.is_empty(),
        Some((b'*', rest)) => (0..=s.len()).any(|i| glob(rest, &s[i..], anchored)),
        Some((c, rest)) => s.first() == Some(c) && glob(rest, &s[1..], anchored),
    }
}
