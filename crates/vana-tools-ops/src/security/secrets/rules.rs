//! The secret patterns: provider tokens with a fixed shape (matched by regex alone), private key
//! blocks, JWTs, credentials in URLs, passwords and keys assigned in config or code, and
//! high-entropy strings (Shannon entropy over base64 and hex alphabets, detect-secrets'
//! default limits: 4.5 and 3.0 bits per character).
//!
//! Every regex keeps to one line (`[ \t]`, never `\s`), so a whole file is matched at once
//! and each match maps to one line.

use regex::bytes::Regex;

/// How a rule's match is judged before it becomes a finding.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Check {
    /// The shape is the evidence.
    Shape,
    /// A value assigned to a password-like key: placeholders and references are dropped.
    Assignment,
    /// A string judged by its entropy.
    Entropy,
}

/// One secret pattern.
#[derive(Debug)]
pub struct Rule {
    /// Stable id, e.g. `aws-access-key-id` (what a baseline records).
    pub id: &'static str,
    /// What it finds, for people.
    pub title: &'static str,
    /// `high` for live credentials, `medium` for likely ones, `low` for entropy-only hits.
    pub severity: &'static str,
    /// The regex; capture group 1 is the secret.
    pub regex: Regex,
    /// How a match is judged.
    pub check: Check,
}

const PATTERNS: &[(&str, &str, &str, &str, Check)] = &[
    (
        "aws-access-key-id",
        "AWS access key id",
        "high",
        r"\b((?:AKIA|ASIA|ABIA|ACCA|A3T[A-Z0-9])[A-Z0-9]{16})\b",
        Check::Shape,
    ),
    (
        "aws-secret-access-key",
        "AWS secret access key",
        "high",
        r#"(?i)(?:aws)?[_\-.]?secret[_\-.]?(?:access[_\-.]?)?key["']?[ \t]*(?::=|=>|=|:)[ \t]*["']?([A-Za-z0-9/+]{40})(?:[^A-Za-z0-9/+=]|$)"#,
        Check::Shape,
    ),
    (
        "github-token",
        "GitHub token",
        "high",
        r"\b((?:ghp|gho|ghu|ghs|ghr)_[A-Za-z0-9]{36,255})\b",
        Check::Shape,
    ),
    (
        "github-fine-grained-token",
        "GitHub fine-grained token",
        "high",
        r"\b(github_pat_[A-Za-z0-9_]{22,255})\b",
        Check::Shape,
    ),
    ("gitlab-token", "GitLab personal access token", "high", r"\b(glpat-[A-Za-z0-9_\-]{20,})", Check::Shape),
    ("slack-token", "Slack token", "high", r"\b(xox[abposre]-[A-Za-z0-9-]{10,})", Check::Shape),
    (
        "slack-webhook",
        "Slack incoming webhook",
        "high",
        r"(https://hooks\.slack\.com/(?:services|workflows)/[A-Za-z0-9_]+/[A-Za-z0-9_]+/[A-Za-z0-9_]+)",
        Check::Shape,
    ),
    ("stripe-key", "Stripe live key", "high", r"\b((?:sk|rk)_live_[A-Za-z0-9]{20,})", Check::Shape),
    ("google-api-key", "Google API key", "high", r"\b(AIza[0-9A-Za-z_\-]{35})", Check::Shape),
    (
        "openai-key",
        "OpenAI API key",
        "high",
        r"\b(sk-(?:proj-|svcacct-|admin-)?[A-Za-z0-9_\-]{20,})",
        Check::Shape,
    ),
    ("anthropic-key", "Anthropic API key", "high", r"\b(sk-ant-[A-Za-z0-9_\-]{20,})", Check::Shape),
    ("npm-token", "npm access token", "high", r"\b(npm_[A-Za-z0-9]{36})\b", Check::Shape),
    ("pypi-token", "PyPI upload token", "high", r"\b(pypi-AgEIcHlwaS5vcmc[A-Za-z0-9_\-]{50,})", Check::Shape),
    (
        "sendgrid-key",
        "SendGrid API key",
        "high",
        r"\b(SG\.[A-Za-z0-9_\-]{22}\.[A-Za-z0-9_\-]{43})",
        Check::Shape,
    ),
    ("twilio-key", "Twilio API key", "high", r"\b(SK[0-9a-fA-F]{32})\b", Check::Shape),
    ("mailchimp-key", "Mailchimp API key", "high", r"\b([0-9a-f]{32}-us[0-9]{1,2})\b", Check::Shape),
    (
        "telegram-bot-token",
        "Telegram bot token",
        "high",
        r"\b([0-9]{8,10}:AA[0-9A-Za-z_\-]{32,33})\b",
        Check::Shape,
    ),
    (
        "discord-bot-token",
        "Discord bot token",
        "high",
        r"\b([MNO][A-Za-z0-9_\-]{23,25}\.[A-Za-z0-9_\-]{6}\.[A-Za-z0-9_\-]{27,})",
        Check::Shape,
    ),
    (
        "azure-storage-key",
        "Azure storage account key",
        "high",
        r"AccountKey=([A-Za-z0-9+/]{86}==)",
        Check::Shape,
    ),
    (
        "private-key",
        "private key",
        "high",
        r"(-----BEGIN[ A-Z0-9]{0,20} PRIVATE KEY(?: BLOCK)?-----)",
        Check::Shape,
    ),
    (
        "jwt",
        "JSON Web Token",
        "medium",
        r"\b(eyJ[A-Za-z0-9_\-]{8,}\.eyJ[A-Za-z0-9_\-]{8,}\.[A-Za-z0-9_\-]*)",
        Check::Shape,
    ),
    (
        "url-credentials",
        "password in a URL",
        "high",
        r#"\b[a-zA-Z][a-zA-Z0-9+.\-]{1,15}://[^\s:/@'"<>]{1,64}:([^\s:/@'"<>]{3,128})@[A-Za-z0-9.\-\[\]]+"#,
        Check::Assignment,
    ),
    (
        "password-assignment",
        "password or key assigned in config or code",
        "medium",
        r#"(?i)([a-z0-9_.\-]*(?:passw(?:or)?d|passwd|\bpwd|\bpass\b|secret|api[_\-.]?key|apikey|access[_\-.]?key|auth[_\-.]?key|(?:auth|access|api|bearer|refresh|session)[_\-.]?token|private[_\-.]?key|credentials?)[a-z0-9_.\-]*)["']?[ \t]*(?::=|=>|==?|:)[ \t]*(?:["']([^"'\r\n]{4,200})["']|([^\s"'#,;]{4,200}))"#,
        Check::Assignment,
    ),
    (
        "high-entropy-string",
        "high-entropy string",
        "low",
        r#"(?:["'`]|[=:][ \t]{0,3})([A-Za-z0-9+/_\-]{20,}={0,2})"#,
        Check::Entropy,
    ),
];

/// The compiled rules (built once).
pub fn rules() -> &'static [Rule] {
    static RULES: std::sync::OnceLock<Vec<Rule>> = std::sync::OnceLock::new();
    RULES.get_or_init(|| {
        PATTERNS
            .iter()
            .map(|(id, title, severity, re, check)| Rule {
                id,
                title,
                severity,
                regex: Regex::new(&format!("(?-u){re}")).unwrap_or_else(|e| panic!("secret rule {id}: {e}")),
                check: *check,
            })
            .collect()
    })
}

/// detect-secrets' default limit for base64-alphabet strings (bits per character).
pub const BASE64_LIMIT: f64 = 4.5;
/// detect-secrets' default limit for hex strings.
pub const HEX_LIMIT: f64 = 3.0;

/// Shannon entropy of `s` in bits per byte.
pub fn entropy(s: &[u8]) -> f64 {
    if s.is_empty() {
        return 0.0;
    }
    let mut counts = [0u32; 256];
    for &b in s {
        counts[b as usize] += 1;
    }
    let n = s.len() as f64;
    counts
        .iter()
        .filter(|&&c| c > 0)
        .map(|&c| {
            let p = c as f64 / n;
            -p * p.log2()
        })
        .sum()
}

/// Whether a candidate string is high-entropy: hex strings against [`HEX_LIMIT`] (all-digit
/// strings are discounted, as detect-secrets does), others against [`BASE64_LIMIT`]. Returns the
/// entropy when it is.
pub fn high_entropy(s: &[u8]) -> Option<f64> {
    high_entropy_with(s, BASE64_LIMIT, HEX_LIMIT)
}

/// The limits for a string assigned to a key-like name (`signing_key`, `hmac_secret`, `salt`):
/// the name is evidence too, so less entropy is asked of the value.
pub const KEYED_BASE64_LIMIT: f64 = 3.5;
/// The hex limit for a key-like name.
pub const KEYED_HEX_LIMIT: f64 = 2.5;

/// Whether the text before a value on its line names a key, secret, token, salt or signature.
pub fn keyed_context(before: &[u8]) -> bool {
    let lower = before.to_ascii_lowercase();
    ["key", "secret", "token", "salt", "signature", "hmac", "signing", "cipher", "credential"]
        .iter()
        .any(|w| memchr::memmem::find(&lower, w.as_bytes()).is_some())
}

/// [`high_entropy`] with explicit limits.
pub fn high_entropy_with(s: &[u8], base64_limit: f64, hex_limit: f64) -> Option<f64> {
    let trimmed: &[u8] = {
        let mut end = s.len();
        while end > 0 && s[end - 1] == b'=' {
            end -= 1;
        }
        &s[..end]
    };
    if trimmed.len() < 20 || looks_like_identifier(trimmed) || is_sequential(trimmed) {
        return None;
    }
    let e = entropy(trimmed);
    if trimmed.iter().all(u8::is_ascii_hexdigit) {
        let mut adjusted = e;
        if trimmed.iter().all(u8::is_ascii_digit) {
            adjusted -= 1.2 / (trimmed.len() as f64).log2();
        }
        (adjusted > hex_limit).then_some(e)
    } else {
        (e > base64_limit).then_some(e)
    }
}

/// Alphabets and counting strings (`abcdefgh…`, `0123456789…`, `ABCDEF…`): a run of eight
/// characters each one above the last, which random strings practically never have.
fn is_sequential(s: &[u8]) -> bool {
    let mut run = 1;
    for w in s.windows(2) {
        if w[1] == w[0].wrapping_add(1) {
            run += 1;
            if run >= 8 {
                return true;
            }
        } else {
            run = 1;
        }
    }
    false
}

/// Paths, dotted or dashed words and other strings that are long but not random: a `/` or `-`
/// separated run of lower-case words, or a string without a single digit made of letters that
/// alternate case no more than a camelCase name does.
fn looks_like_identifier(s: &[u8]) -> bool {
    let words = s.split(|b| matches!(b, b'/' | b'-' | b'_' | b'.' | b'+'));
    let mut n = 0;
    let mut all_words = true;
    for w in words {
        n += 1;
        if !(w.is_empty()
            || w.iter().all(|b| b.is_ascii_lowercase())
            || w.iter().all(|b| b.is_ascii_uppercase()))
        {
            all_words = false;
        }
    }
    if n > 1 && all_words {
        return true;
    }
    false
}

/// Values of password-like keys that are not secrets: placeholders, references to the
/// environment or a secret store, template holes, code, booleans, types.
pub fn is_placeholder(value: &str) -> bool {
    let v = value.trim();
    let lower = v.to_ascii_lowercase();
    if v.len() < 4 {
        return true;
    }
    const WORDS: &[&str] = &[
        "null",
        "none",
        "nil",
        "true",
        "false",
        "undefined",
        "string",
        "str",
        "password",
        "secret",
        "required",
        "optional",
        "example",
        "redacted",
        "placeholder",
        "changeit_placeholder",
        "your_password",
        "your-password",
        "<password>",
        "dummy",
        "empty",
        "bool",
        "boolean",
        "number",
        "int",
        "integer",
    ];
    if WORDS.contains(&lower.as_str()) {
        return true;
    }
    let starts = [
        "$",
        "%",
        "{",
        "<",
        "[",
        "(",
        "@",
        "&",
        "*",
        "#",
        "!",
        "env.",
        "process.env",
        "os.environ",
        "os.getenv",
        "getenv",
        "env:",
        "vault:",
        "secrets.",
        "ref+",
        "file:",
    ];
    if starts.iter().any(|p| lower.starts_with(p)) {
        return true;
    }
    let contains = [
        "${",
        "{{",
        "}}",
        "<%",
        "%>",
        "os.environ",
        "getenv(",
        "process.env",
        "env[",
        "environ[",
        "xxxx",
        "****",
        "....",
        "your_",
        "your-",
        "_here",
        "-here",
        "change_me",
        "changeme",
        "example.com",
        "placeholder",
        "redacted",
        "dummy",
    ];
    if contains.iter().any(|p| lower.contains(p)) {
        return true;
    }
    // Code, not a value: calls, member access on a name, type annotations.
    if v.contains('(') || v.contains(')') || v.ends_with(':') {
        return true;
    }
    // One character repeated (`aaaaaaaa`, `--------`).
    let first = v.as_bytes()[0];
    v.bytes().all(|b| b == first)
}

/// Files whose assignments are config (an unquoted value is a value there, while in code it is
/// a name).
pub fn is_config_file(name: &str) -> bool {
    let base = name.rsplit('/').next().unwrap_or(name).to_ascii_lowercase();
    if base.starts_with(".env")
        || base == "dockerfile"
        || base.ends_with(".dockerfile")
        || !base.contains('.')
    {
        return true;
    }
    let ext = base.rsplit('.').next().unwrap_or("");
    matches!(
        ext,
        "env"
            | "ini"
            | "cfg"
            | "conf"
            | "config"
            | "properties"
            | "yaml"
            | "yml"
            | "toml"
            | "json"
            | "tf"
            | "tfvars"
            | "xml"
            | "txt"
            | "netrc"
            | "pgpass"
            | "npmrc"
            | "pypirc"
            | "htpasswd"
            | "sh"
            | "bash"
            | "zsh"
            | "md"
            | "rst"
            | "log"
    )
}

/// Lock files and other generated files where long random-looking strings are hashes.
pub fn is_generated(name: &str) -> bool {
    let base = name.rsplit('/').next().unwrap_or(name).to_ascii_lowercase();
    matches!(
        base.as_str(),
        "package-lock.json"
            | "yarn.lock"
            | "pnpm-lock.yaml"
            | "cargo.lock"
            | "poetry.lock"
            | "pipfile.lock"
            | "composer.lock"
            | "gemfile.lock"
            | "go.sum"
            | "uv.lock"
            | "flake.lock"
            | "packages.lock.json"
    ) || base.ends_with(".min.js")
        || base.ends_with(".min.css")
        || base.ends_with(".map")
        || base.ends_with(".svg")
}
