//! Grounding a small model in what the user and the tools said.
//!
//! - [`spans`]: literal spans of a user's message (fenced and inline code, the text after
//!   `code:`/`script:`/`query:`…, quoted strings, URLs, file names, language names), which the
//!   tool-call grammar offers as the values of matching arguments ([`ArgKind`]), so a 135M
//!   model copies `print(2**100)` instead of paraphrasing it as `2**100`.
//! - [`check_reply`]: after a tool result, a reply that cites numbers found in no tool result
//!   and no user message is replaced by a plain rendering of the result ([`render_result`]);
//!   a reply that quotes none of a short result's values gets the rendering appended.
//! - [`Repetition`]: detects a generation that loops (the same block over and over), so the
//!   engine ends it with a note instead of filling the token limit.

use serde_json::Value;

/// Literal spans found in a user's message.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Spans {
    /// Code: fenced blocks, inline code, the text after `run this … code:`.
    pub code: Vec<String>,
    /// Quoted strings (`"…"`, `'…'`).
    pub quoted: Vec<String>,
    /// `http://` and `https://` URLs.
    pub urls: Vec<String>,
    /// Words that look like file names (`sales.csv`, `data/orders.json`).
    pub files: Vec<String>,
    /// Programming languages named (`python`, `javascript`, `bash`, `shell`).
    pub languages: Vec<String>,
    /// Table names: the word before or after `table` (`the orders table`, `table orders`).
    pub tables: Vec<String>,
    /// File names the message asks to write: within three words after `save`, `as`, `to`,
    /// `into`, `write`, `output`, `named` or `called` (`save the result as clean.csv`).
    pub outputs: Vec<String>,
    /// Words that may name a column (`revenue`, `region`): identifiers of two or more
    /// characters that are not common words, numbers, file names or code, in message order.
    pub identifiers: Vec<String>,
    /// The message's words, lowercased, `-` read as `_` (and each pair of words joined by `_`),
    /// for matching `enum` values (`t-test` names `t_test`).
    pub words: Vec<String>,
}

/// What kind of value an argument takes, judged by its name.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ArgKind {
    /// Program text: `code`, `script`, `command`, `program`, `snippet`, `source_code`.
    Code,
    /// A SQL statement or search query: `sql`, `query`, `statement`.
    Query,
    /// A URL: `url`, `href`, `link`, `start_url`.
    Url,
    /// A file or database: `path`, `file`, `filename`, `file_path`, `source`, `connection`,
    /// `database`, `dataset`.
    Path,
    /// A programming language: `language`, `lang`.
    Language,
    /// A table: `table`, `table_name`.
    Table,
    /// A file to write: `output`, `output_path`, `output_file`, `save_as`, `destination`.
    Output,
    /// A database: `connection`, `database`, `db`: a file named like one (`shop.db`,
    /// `x.sqlite`), or a database URL (`postgres://…`).
    Database,
    /// A column of a dataset: `x`, `y`, `column`, `group`, `target_column`, `label`, `by`.
    Column,
}

impl ArgKind {
    /// The kind of the argument named `name`, if it is one that grounding fills.
    pub fn of(name: &str) -> Option<ArgKind> {
        Some(match name.to_ascii_lowercase().as_str() {
            "code" | "script" | "command" | "cmd" | "program" | "snippet" | "source_code" => ArgKind::Code,
            "sql" | "query" | "statement" => ArgKind::Query,
            "url" | "href" | "link" | "start_url" => ArgKind::Url,
            "path" | "file" | "filename" | "file_name" | "file_path" | "source" | "dataset" => ArgKind::Path,
            "connection" | "database" | "db" => ArgKind::Database,
            "language" | "lang" => ArgKind::Language,
            "table" | "table_name" => ArgKind::Table,
            "output" | "output_path" | "output_file" | "out" | "save_as" | "save_to" | "destination"
            | "dest" => ArgKind::Output,
            "x" | "y" | "column" | "column_name" | "group" | "group_by" | "by" | "target"
            | "target_column" | "label" | "hue" | "category" => ArgKind::Column,
            _ => return None,
        })
    }
}

impl Spans {
    /// The grounded values for an argument of `kind`, most specific first; empty when the
    /// message holds none (the argument is then left free).
    pub fn values(&self, kind: ArgKind) -> Vec<String> {
        let mut out: Vec<String> = match kind {
            ArgKind::Code => self.code.clone(),
            ArgKind::Query => self.code.iter().chain(&self.quoted).cloned().collect(),
            ArgKind::Url => self.urls.clone(),
            // A file to read is one the message does not ask to write, when it names one.
            ArgKind::Path if self.files.iter().any(|f| !self.outputs.contains(f)) => {
                self.files.iter().filter(|f| !self.outputs.contains(f)).cloned().collect()
            }
            ArgKind::Path => self.files.clone(),
            ArgKind::Output => self.outputs.clone(),
            ArgKind::Database => self
                .files
                .iter()
                .chain(&self.urls)
                .filter(|f| {
                    let f = f.to_ascii_lowercase();
                    [".db", ".sqlite", ".sqlite3", ".duckdb"].iter().any(|e| f.ends_with(e))
                        || ["postgres://", "postgresql://", "mysql://", "mariadb://", "sqlite:"]
                            .iter()
                            .any(|p| f.starts_with(p))
                })
                .cloned()
                .collect(),
            ArgKind::Column => self.identifiers.clone(),
            ArgKind::Language => self.languages.clone(),
            ArgKind::Table => self.tables.clone(),
        };
        let mut seen = std::collections::HashSet::new();
        out.retain(|v| !v.trim().is_empty() && seen.insert(v.clone()));
        out
    }

    /// The values of `allowed` (an `enum`) that the message names: a word equal to the value
    /// or to its plural (`correlations`), `-` and `_` alike, two words joined by `_` too.
    pub fn enum_values(&self, allowed: &[Value]) -> Vec<String> {
        allowed
            .iter()
            .filter_map(Value::as_str)
            .filter(|v| {
                let v = v.to_lowercase();
                v.len() >= 2 && self.words.iter().any(|w| *w == v || w.strip_suffix('s') == Some(v.as_str()))
            })
            .map(str::to_string)
            .collect()
    }

    /// True when nothing was found.
    pub fn is_empty(&self) -> bool {
        self.code.is_empty()
            && self.quoted.is_empty()
            && self.urls.is_empty()
            && self.files.is_empty()
            && self.languages.is_empty()
    }
}

/// How well a tool fits a message: arguments the message grounds, and the message's words in
/// the tool's name and description.
fn tool_score(spans: &Spans, name: &str, description: &str, parameters: &Value) -> f64 {
    let mut score = 0.0;
    if let Some(props) = parameters.get("properties").and_then(Value::as_object) {
        let required: Vec<&str> = parameters
            .get("required")
            .and_then(Value::as_array)
            .map(|r| r.iter().filter_map(Value::as_str).collect())
            .unwrap_or_default();
        // Each kind of value the message holds counts once (a tool with two file arguments
        // fits no better); a column name is weak evidence (any word may be one).
        let mut kinds = Vec::new();
        for (key, schema) in props {
            let kind = match ArgKind::of(key) {
                Some(ArgKind::Path) if !required.contains(&key.as_str()) => Some(ArgKind::Output),
                kind => kind,
            };
            let grounded = kind.filter(|k| *k != ArgKind::Column && !spans.values(*k).is_empty());
            if let Some(k) = grounded {
                if !kinds.contains(&k) {
                    kinds.push(k);
                    score += 2.0;
                }
            }
            let named_enum = schema
                .get("enum")
                .and_then(Value::as_array)
                .is_some_and(|allowed| !spans.enum_values(allowed).is_empty());
            if named_enum {
                score += 2.0;
            }
        }
    }
    let has = |w: &str| {
        spans.words.iter().any(|m| {
            m == w
                || m.strip_suffix('s') == Some(w)
                || w.strip_suffix('s') == Some(m.as_str())
                || SYNONYMS.iter().any(|(a, b)| (*a == w && m == b) || (*b == w && m == a))
        })
    };
    for w in name.to_lowercase().split('_').filter(|w| w.len() >= 3) {
        if has(w) {
            score += 2.0;
        }
    }
    let mut seen = std::collections::HashSet::new();
    for w in description.to_lowercase().split(|c: char| !c.is_alphanumeric()) {
        if w.len() >= 4 && !DESCRIPTION_STOPWORDS.contains(&w) && seen.insert(w) && has(w) {
            score += 0.5;
        }
    }
    score
}

/// Verbs users write for a tool name's word.
const SYNONYMS: &[(&str, &str)] = &[
    ("execute", "run"),
    ("execute", "runs"),
    ("execute", "compute"),
    ("execute", "calculate"),
    ("debug", "fix"),
    ("debug", "crashes"),
];

/// Description words too common to tell tools apart.
const DESCRIPTION_STOPWORDS: &[&str] = &[
    "with",
    "from",
    "that",
    "this",
    "each",
    "every",
    "into",
    "returns",
    "return",
    "their",
    "they",
    "them",
    "when",
    "what",
    "which",
    "than",
    "then",
    "also",
    "only",
    "more",
    "most",
    "some",
    "data",
    "file",
    "files",
    "session",
    "workspace",
    "tool",
    "your",
    "does",
    "will",
    "have",
];

/// The indices of the tools that fit the message best (all of them when none fits at all): a
/// small model then chooses among those only. `tools` are (name, description, parameters).
pub fn best_tools(spans: &Spans, tools: &[(&str, &str, &Value)]) -> Vec<usize> {
    let scores: Vec<f64> = tools.iter().map(|(n, d, p)| tool_score(spans, n, d, p)).collect();
    let best = scores.iter().copied().fold(0.0, f64::max);
    if best <= 0.0 {
        return (0..tools.len()).collect();
    }
    (0..tools.len()).filter(|&i| scores[i] >= best - 1e-9).collect()
}

/// Words after which the rest of the message is code (`run this python code: print(1)`).
const CODE_LEADS: &[&str] =
    &["code:", "script:", "snippet:", "program:", "command:", "query:", "sql:", "statement:"];

/// The literal spans of `text` (a user's message).
pub fn spans(text: &str) -> Spans {
    let mut s = Spans::default();
    let mut rest = String::new();
    // Fenced blocks first; what is outside them is searched for the rest.
    let mut remaining = text;
    while let Some(start) = remaining.find("```") {
        rest.push_str(&remaining[..start]);
        let after = &remaining[start + 3..];
        let Some(end) = after.find("```") else {
            rest.push_str(&remaining[start..]);
            remaining = "";
            break;
        };
        let block = &after[..end];
        let (tag, body) = match block.split_once('\n') {
            Some((first, body)) if !first.trim().contains(' ') => (first.trim(), body),
            _ => ("", block),
        };
        if let Some(lang) = language_name(tag) {
            s.languages.push(lang.into());
        }
        let body = body.trim_matches('\n').trim_end();
        if !body.trim().is_empty() {
            s.code.push(body.to_string());
        }
        rest.push(' ');
        remaining = &after[end + 3..];
    }
    rest.push_str(remaining);

    // Inline code.
    let mut outside = String::new();
    let mut parts = rest.split('`');
    if let Some(first) = parts.next() {
        outside.push_str(first);
    }
    let pieces: Vec<&str> = parts.collect();
    for (i, piece) in pieces.iter().enumerate() {
        let closed = i + 1 < pieces.len() || rest.matches('`').count().is_multiple_of(2);
        if i % 2 == 0 && closed {
            if !piece.trim().is_empty() {
                let span = piece.trim().to_string();
                if looks_like_file(&span) {
                    s.files.push(span.clone());
                }
                s.code.push(span);
            }
            outside.push(' ');
        } else {
            outside.push_str(piece);
        }
    }

    // The text after "code:" and the like, when there was no delimited code.
    if s.code.is_empty() {
        let lower = outside.to_ascii_lowercase();
        if let Some((at, lead)) =
            CODE_LEADS.iter().filter_map(|l| lower.find(l).map(|i| (i, *l))).min_by_key(|(i, _)| *i)
        {
            let tail = outside[at + lead.len()..].trim();
            if !tail.is_empty() {
                s.code.push(tail.to_string());
            }
        } else if let Some((head, tail)) = outside.split_once(':') {
            // "Run this SQL on shop.db: SELECT …", "Use shop.db and run: SELECT …".
            let head = head.to_ascii_lowercase();
            let asks_to_run = head.split(|c: char| !c.is_alphanumeric()).any(|w| {
                matches!(w, "run" | "execute" | "evaluate" | "eval" | "code" | "script" | "sql" | "query")
            });
            let tail = tail.trim();
            if asks_to_run && looks_like_code(tail) {
                s.code.push(tail.to_string());
            }
        }
    }

    // Quoted strings: an opening quote at a word start, a closing one at a word end.
    for q in ['"', '\''] {
        let chars: Vec<(usize, char)> = outside.char_indices().collect();
        let mut open: Option<usize> = None;
        for (k, &(i, c)) in chars.iter().enumerate() {
            if c != q {
                continue;
            }
            let before = k.checked_sub(1).map(|p| chars[p].1);
            let after = chars.get(k + 1).map(|p| p.1);
            match open {
                None if before.is_none_or(|b| !b.is_alphanumeric()) => open = Some(i + 1),
                Some(from) if after.is_none_or(|a| !a.is_alphanumeric()) => {
                    let inner = &outside[from..i];
                    if !inner.trim().is_empty() {
                        s.quoted.push(inner.to_string());
                        if looks_like_file(inner) {
                            s.files.push(inner.to_string());
                        }
                    }
                    open = None;
                }
                _ => {}
            }
        }
    }

    // URLs, file names and languages among the words.
    for word in outside.split_whitespace() {
        let w = word.trim_matches(|c: char| {
            matches!(c, '"' | '\'' | ',' | ';' | '(' | ')' | '[' | ']' | '<' | '>' | '!' | '?')
        });
        let w = w.trim_end_matches(['.', ':']);
        if w.starts_with("http://") || w.starts_with("https://") {
            s.urls.push(w.to_string());
        } else if looks_like_file(w) {
            s.files.push(w.to_string());
        } else if let Some(lang) = language_name(w) {
            s.languages.push(lang.into());
        }
    }
    // Words (for enums) and table names.
    let lower = text.to_lowercase().replace('-', "_");
    let words: Vec<&str> =
        lower.split(|c: char| !(c.is_alphanumeric() || c == '_')).filter(|w| !w.is_empty()).collect();
    for (i, w) in words.iter().enumerate() {
        s.words.push(w.to_string());
        if let Some(next) = words.get(i + 1) {
            s.words.push(format!("{w}_{next}"));
        }
    }
    let plain: Vec<&str> = text
        .split(|c: char| c.is_whitespace() || matches!(c, ',' | ';' | '?' | '!' | '(' | ')'))
        .map(|w| w.trim_matches(|c: char| matches!(c, '`' | '"' | '\'' | '.' | ':')))
        .filter(|w| !w.is_empty())
        .collect();
    for (i, w) in plain.iter().enumerate() {
        let after_lead =
            plain[i.saturating_sub(3)..i].iter().any(|p| OUTPUT_LEADS.contains(&p.to_lowercase().as_str()));
        if after_lead && looks_like_file(w) {
            s.outputs.push(w.to_string());
        }
        let ident = w.chars().count() >= 2
            && w.chars().all(|c| c.is_alphanumeric() || c == '_')
            && w.chars().next().is_some_and(char::is_alphabetic);
        if ident && !COMMON_WORDS.contains(&w.to_lowercase().as_str()) {
            s.identifiers.push(w.to_string());
        }
        if !w.eq_ignore_ascii_case("table") {
            continue;
        }
        for cand in [i.checked_sub(1).map(|j| plain[j]), plain.get(i + 1).copied()].into_iter().flatten() {
            let ident = cand.chars().all(|c| c.is_alphanumeric() || c == '_' || c == '.')
                && cand.chars().next().is_some_and(|c| c.is_alphabetic());
            if ident && !TABLE_STOPWORDS.contains(&cand.to_lowercase().as_str()) && !looks_like_file(cand) {
                s.tables.push(cand.to_string());
            }
        }
    }
    for list in [
        &mut s.code,
        &mut s.quoted,
        &mut s.urls,
        &mut s.files,
        &mut s.languages,
        &mut s.tables,
        &mut s.outputs,
        &mut s.identifiers,
    ] {
        let mut seen = std::collections::HashSet::new();
        list.retain(|v| seen.insert(v.clone()));
    }
    s
}

/// Words of requests that name no column.
const COMMON_WORDS: &[&str] = &[
    "a",
    "an",
    "the",
    "and",
    "or",
    "of",
    "in",
    "on",
    "at",
    "from",
    "to",
    "by",
    "for",
    "with",
    "into",
    "as",
    "is",
    "are",
    "be",
    "it",
    "its",
    "this",
    "that",
    "these",
    "those",
    "me",
    "my",
    "i",
    "you",
    "your",
    "we",
    "our",
    "us",
    "please",
    "can",
    "could",
    "would",
    "will",
    "should",
    "do",
    "does",
    "did",
    "what",
    "which",
    "how",
    "many",
    "much",
    "each",
    "every",
    "all",
    "any",
    "some",
    "between",
    "per",
    "over",
    "against",
    "versus",
    "vs",
    "than",
    "then",
    "give",
    "show",
    "tell",
    "draw",
    "plot",
    "make",
    "create",
    "run",
    "compute",
    "calculate",
    "find",
    "get",
    "use",
    "using",
    "load",
    "read",
    "write",
    "save",
    "train",
    "predict",
    "predicts",
    "report",
    "analyze",
    "analyse",
    "describe",
    "list",
    "test",
    "chart",
    "graph",
    "bar",
    "line",
    "scatter",
    "histogram",
    "box",
    "heatmap",
    "pie",
    "file",
    "data",
    "dataset",
    "table",
    "column",
    "columns",
    "row",
    "rows",
    "value",
    "values",
    "result",
    "results",
    "differ",
    "differs",
    "difference",
    "distribution",
    "summary",
    "statistics",
    "model",
    "classifier",
    "regression",
    "accuracy",
    "correlation",
    "mean",
    "average",
    "sum",
    "total",
    "count",
    "number",
    "python",
    "code",
    "sql",
    "query",
    "csv",
    "json",
];

/// Whether `text` reads as a program or statement rather than prose: it starts with a SQL
/// keyword, or holds an operator or bracket that prose does not use.
fn looks_like_code(text: &str) -> bool {
    let first = text.split_whitespace().next().unwrap_or("").to_ascii_uppercase();
    const SQL: &[&str] = &["SELECT", "WITH", "INSERT", "UPDATE", "DELETE", "CREATE", "PRAGMA", "EXPLAIN"];
    !text.starts_with("//")
        && (SQL.contains(&first.as_str()) || text.contains(['(', '=', ';', '[', '{', '*', '<', '>', '+']))
}

/// Words after which a file name is one to write.
const OUTPUT_LEADS: &[&str] = &["save", "as", "to", "into", "write", "output", "named", "called"];

/// Words next to `table` that are not table names.
const TABLE_STOPWORDS: &[&str] = &[
    "the",
    "a",
    "an",
    "this",
    "that",
    "my",
    "our",
    "your",
    "each",
    "every",
    "which",
    "what",
    "new",
    "in",
    "of",
    "from",
    "to",
    "into",
    "on",
    "for",
    "and",
    "or",
    "is",
    "has",
    "have",
    "does",
    "do",
    "with",
    "temporary",
    "whole",
    "one",
    "same",
    "sql",
    "database",
    "db",
    "schema",
    "describe",
    "show",
    "list",
    "create",
    "drop",
    "holds",
    "hold",
    "contain",
    "contains",
    "called",
    "named",
    "then",
    "as",
    "at",
    "by",
    "all",
    "it",
];

/// The sandbox's name for a language word (`py` → `python`, `node`/`js` → `javascript`).
fn language_name(word: &str) -> Option<&'static str> {
    Some(match word.to_ascii_lowercase().as_str() {
        "python" | "python3" | "py" => "python",
        "javascript" | "js" | "node" | "nodejs" => "javascript",
        "bash" => "bash",
        "shell" | "sh" => "shell",
        _ => return None,
    })
}

/// A word with a file extension: `name.ext` (1-5 alphanumerics after the last dot, letters
/// before it), possibly in folders; not a URL, not a number.
fn looks_like_file(word: &str) -> bool {
    if word.contains("://") || word.contains(char::is_whitespace) || word.len() > 200 {
        return false;
    }
    let Some((stem, ext)) = word.rsplit_once('.') else { return false };
    let name = stem.rsplit('/').next().unwrap_or(stem);
    (name.chars().count() >= 2 || ext.len() >= 2)
        && !name.is_empty()
        && name.chars().all(|c| c.is_alphanumeric() || matches!(c, '_' | '-' | '.'))
        && name.chars().any(|c| c.is_alphabetic())
        && (1..=5).contains(&ext.len())
        && ext.chars().all(|c| c.is_ascii_alphanumeric())
        && ext.chars().any(|c| c.is_ascii_alphabetic())
        && stem.chars().all(|c| c.is_alphanumeric() || matches!(c, '_' | '-' | '.' | '/'))
}

/// The numbers written in `text` (`42`, `-3.5`, `1,234` read as `1234`), as written without
/// thousands separators. Ordinal list markers at a line start (`1.`, `2)`) are not counted.
pub fn numbers(text: &str) -> Vec<String> {
    let mut out = Vec::new();
    let chars: Vec<char> = text.chars().collect();
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        let inside_word = i > 0
            && (chars[i - 1].is_alphanumeric()
                || chars[i - 1] == '_'
                || (matches!(chars[i - 1], '.' | ',') && i > 1 && chars[i - 2].is_alphanumeric()));
        let starts = c.is_ascii_digit() && !inside_word;
        if !starts {
            i += 1;
            continue;
        }
        let negative = i > 0 && chars[i - 1] == '-' && (i == 1 || !chars[i - 2].is_alphanumeric());
        let begin = i;
        let mut num = String::new();
        while i < chars.len() {
            let c = chars[i];
            let next_digit = chars.get(i + 1).is_some_and(|n| n.is_ascii_digit());
            if c.is_ascii_digit() {
                num.push(c);
            } else if c == ',' && next_digit && chars.get(i + 3).is_some_and(|n| n.is_ascii_digit()) {
                // thousands separator
            } else if c == '.' && next_digit && !num.contains('.') {
                num.push(c);
            } else {
                break;
            }
            i += 1;
        }
        // A list marker: digits at a line start followed by `.` or `)` and a space.
        let line_start = chars[..begin].iter().rev().take_while(|c| **c != '\n').all(|c| c.is_whitespace());
        let marker = line_start
            && !num.contains('.')
            && matches!(chars.get(i), Some('.') | Some(')'))
            && chars.get(i + 1).is_none_or(|c| c.is_whitespace());
        if !marker && !num.is_empty() {
            out.push(if negative { format!("-{num}") } else { num });
        }
    }
    out
}

/// Every number `value` (a tool result) holds, in its JSON text and in its strings.
fn result_numbers(values: &[&Value]) -> std::collections::HashSet<String> {
    let mut set = std::collections::HashSet::new();
    for v in values {
        for n in numbers(&v.to_string()) {
            insert_forms(&mut set, &n);
        }
        walk_strings(v, &mut |s| {
            for n in numbers(s) {
                insert_forms(&mut set, &n);
            }
        });
    }
    set
}

/// A number and the forms a reply may cite it in: without a sign, and rounded to fewer
/// decimals (a result's `0.81234` may be cited as `0.81`).
fn insert_forms(set: &mut std::collections::HashSet<String>, n: &str) {
    let n = n.trim_start_matches('-');
    set.insert(n.to_string());
    if let Some((int, frac)) = n.split_once('.') {
        set.insert(int.to_string());
        let x: f64 = n.parse().unwrap_or(0.0);
        for d in 0..frac.len() {
            set.insert(format!("{x:.d$}"));
            set.insert(format!("{int}.{}", &frac[..d.max(1).min(frac.len())]));
        }
        if let Ok(v) = n.parse::<f64>() {
            if (v * 100.0).abs() < 1e12 {
                // A fraction cited as a percentage: 0.25 → 25.
                let pct = v * 100.0;
                set.insert(format!("{pct:.0}"));
                set.insert(format!("{pct:.1}"));
                set.insert(format!("{pct:.2}"));
            }
        }
    }
}

fn walk_strings(v: &Value, f: &mut dyn FnMut(&str)) {
    match v {
        Value::String(s) => f(s),
        Value::Array(a) => a.iter().for_each(|x| walk_strings(x, f)),
        Value::Object(o) => o.values().for_each(|x| walk_strings(x, f)),
        _ => {}
    }
}

/// What [`check_reply`] decided about a reply.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ReplyCheck {
    /// The reply only cites numbers from the tool results or the user; it quotes the result.
    Grounded,
    /// The reply cites numbers found nowhere (listed); it is replaced by this text.
    Replaced {
        /// The numbers the reply made up.
        invented: Vec<String>,
        /// The replacement: a note and the plain rendering of the result.
        text: String,
    },
    /// The reply quotes none of the result's values; this text (the reply, then a note and
    /// the rendering) is used instead.
    Completed {
        /// The reply with the rendering appended.
        text: String,
    },
}

/// Checks a reply given after `results` (the tool results, newest last) to a conversation
/// whose user messages are `user_texts`.
pub fn check_reply(reply: &str, results: &[(&str, &Value)], user_texts: &[&str]) -> ReplyCheck {
    if results.is_empty() {
        return ReplyCheck::Grounded;
    }
    let values: Vec<&Value> = results.iter().map(|(_, v)| *v).collect();
    let mut known = result_numbers(&values);
    for t in user_texts {
        for n in numbers(t) {
            insert_forms(&mut known, &n);
        }
    }
    let invented: Vec<String> = {
        let mut seen = std::collections::HashSet::new();
        numbers(reply)
            .into_iter()
            .filter(|n| !known.contains(n.trim_start_matches('-')))
            .filter(|n| seen.insert(n.clone()))
            .collect()
    };
    let (name, last) = results[results.len() - 1];
    let rendering = render_result(name, last);
    if !invented.is_empty() {
        let text = format!(
            "{rendering}\n\n(The local model's reply was replaced by the tool's result as returned: it cited {} \
             that appear in no tool result and no message of yours.)",
            list_numbers(&invented)
        );
        return ReplyCheck::Replaced { invented, text };
    }
    if !quotes_result(reply, last) {
        let reply = reply.trim();
        let text = if reply.is_empty() {
            rendering
        } else {
            format!("{reply}\n\n{rendering}\n\n(The tool's result as returned, since the local model's reply did not quote it in full.)")
        };
        return ReplyCheck::Completed { text };
    }
    ReplyCheck::Grounded
}

fn list_numbers(ns: &[String]) -> String {
    let shown: Vec<&str> = ns.iter().take(5).map(String::as_str).collect();
    let more = if ns.len() > 5 { format!(" and {} more", ns.len() - 5) } else { String::new() };
    if ns.len() == 1 {
        format!("the number {}", shown[0])
    } else {
        format!("the numbers {}{more}", shown.join(", "))
    }
}

/// Whether `reply` quotes `result` well enough to stand alone: its short `stdout`, `result`,
/// `value` or `answer` when it has one ([`key_values`]; a long `stdout` asks nothing). A
/// structured result (rows, statistics, an error) never counts as quoted: a 135M model cites a
/// figure or two of it and drops the rest (a join's top row, a test's p-value), so the result
/// is rendered below the reply, unless the reply quotes every value of it (each number, in a
/// rounded form if need be, and each text).
fn quotes_result(reply: &str, result: &Value) -> bool {
    let key = key_values(result);
    if !key.is_empty() || result.get("stdout").is_some() {
        // A run that printed nothing but failed is quoted by its error's first line.
        let failed = ["stderr", "error"].iter().find_map(|k| {
            result
                .get(*k)
                .and_then(Value::as_str)
                .and_then(|e| e.trim().lines().last())
                .filter(|l| !l.is_empty())
        });
        return match (key.is_empty(), failed) {
            (true, Some(error)) => reply.contains(error.trim()),
            (true, None) => true,
            (false, _) => key.iter().any(|v| reply.contains(v.as_str())),
        };
    }
    let cited: std::collections::HashSet<String> =
        numbers(reply).into_iter().map(|n| n.trim_start_matches('-').to_string()).collect();
    let lower = reply.to_lowercase();
    let mut all = true;
    leaves(result, &mut |leaf| {
        all &= match leaf {
            Value::Number(n) => {
                let mut forms = std::collections::HashSet::new();
                insert_forms(&mut forms, &n.to_string());
                forms.iter().any(|f| cited.contains(f))
            }
            Value::String(t) => lower.contains(&t.trim().to_lowercase()),
            _ => true,
        }
    });
    all
}

fn leaves(v: &Value, f: &mut dyn FnMut(&Value)) {
    match v {
        Value::Array(a) => a.iter().for_each(|x| leaves(x, f)),
        Value::Object(o) => o.values().for_each(|x| leaves(x, f)),
        leaf => f(leaf),
    }
}

/// The values of a result a reply should quote: a short `stdout`, `result`, `value` or
/// `answer`, else nothing (long or structured results are not required verbatim).
fn key_values(result: &Value) -> Vec<String> {
    let mut out = Vec::new();
    for key in ["stdout", "result", "value", "answer", "output"] {
        if let Some(s) = result.get(key).and_then(Value::as_str) {
            let s = s.trim();
            if !s.is_empty() && s.len() <= 200 {
                out.push(s.lines().next().unwrap_or(s).trim().to_string());
            }
        } else if let Some(v) = result.get(key).filter(|v| v.is_number()) {
            out.push(v.to_string());
        }
    }
    out.retain(|v| !v.is_empty());
    out
}

/// Most characters of a result rendering.
const MAX_RENDERING: usize = 1500;

/// A plain rendering of a tool result: `stdout` and `stderr` of a run as they are, an error as
/// its message, anything else as `key: value` lines (nested values as compact JSON), cut at
/// [`MAX_RENDERING`] characters.
pub fn render_result(tool: &str, result: &Value) -> String {
    let mut out = format!("Result of {tool}:");
    match result {
        Value::Object(o) => {
            if let Some(stdout) = o.get("stdout").and_then(Value::as_str) {
                let stdout = stdout.trim_end();
                out.push_str(&format!("\n{}", if stdout.is_empty() { "(no output)" } else { stdout }));
                if let Some(stderr) = o.get("stderr").and_then(Value::as_str).filter(|s| !s.trim().is_empty())
                {
                    out.push_str(&format!("\nstderr: {}", stderr.trim_end()));
                }
                for key in ["error", "exit_code"] {
                    if let Some(v) = o.get(key).filter(|v| !v.is_null()) {
                        if key == "exit_code" && v.as_i64() == Some(0) {
                            continue;
                        }
                        out.push_str(&format!("\n{key}: {}", scalar(v)));
                    }
                }
            } else {
                for (k, v) in o {
                    out.push_str(&format!("\n{k}: {}", scalar(v)));
                }
            }
        }
        other => out.push_str(&format!(" {}", scalar(other))),
    }
    if out.chars().count() > MAX_RENDERING {
        out = out.chars().take(MAX_RENDERING).collect::<String>() + " …";
    }
    out
}

fn scalar(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

/// Detects a looping generation: the text's end is one block (at least [`MIN_BLOCK`]
/// characters, at most [`MAX_BLOCK`]) repeated at least [`MIN_REPEATS`] times in a row, or one
/// line of at least [`MIN_LINE`] characters seen [`MIN_REPEATS`] times.
#[derive(Debug, Default)]
pub struct Repetition {
    checked: usize,
}

/// Shortest repeated block that counts as a loop.
pub const MIN_BLOCK: usize = 4;
/// Longest repeated block looked for.
pub const MAX_BLOCK: usize = 400;
/// Repeats that make a loop.
pub const MIN_REPEATS: usize = 3;
/// Shortest line whose repeats count.
pub const MIN_LINE: usize = 12;
/// Least number of characters the repeated stretch must span.
const MIN_SPAN: usize = 48;

impl Repetition {
    /// Where the loop in `text` starts repeating (the byte offset after the first copy of the
    /// repeated block), if `text` now ends in a loop.
    pub fn check(&mut self, text: &str) -> Option<usize> {
        if text.len() < self.checked + 8 && self.checked > 0 {
            return None;
        }
        self.checked = text.len();
        let bytes = text.as_bytes();
        let n = bytes.len();
        for p in MIN_BLOCK..=MAX_BLOCK.min(n / MIN_REPEATS) {
            let block = &bytes[n - p..];
            let mut k = 1;
            while n >= (k + 1) * p && &bytes[n - (k + 1) * p..n - k * p] == block {
                k += 1;
            }
            if k >= MIN_REPEATS && k * p >= MIN_SPAN {
                let mut cut = n - (k - 1) * p;
                while !text.is_char_boundary(cut) {
                    cut += 1;
                }
                return Some(cut);
            }
        }
        // The same line over and over, with variations between.
        let mut counts = std::collections::HashMap::new();
        let mut offset = 0;
        for line in text.split_inclusive('\n') {
            let key = line.trim();
            if key.len() >= MIN_LINE && line.ends_with('\n') {
                let (count, first_end) = counts.entry(key).or_insert((0usize, offset + line.len()));
                *count += 1;
                if *count >= MIN_REPEATS {
                    return Some(*first_end);
                }
            }
            offset += line.len();
        }
        None
    }
}

/// The note a cut loop ends with.
pub const REPETITION_NOTE: &str = "[The local model started repeating itself; its reply was cut here.]";

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn code_after_a_colon_of_a_request_to_run() {
        let s = spans("Run this SQL on shop.db: SELECT c.name FROM customers c");
        assert_eq!(s.code, vec!["SELECT c.name FROM customers c"]);
        let s = spans("Use shop.db and run: SELECT MAX(amount) FROM orders");
        assert_eq!(s.code, vec!["SELECT MAX(amount) FROM orders"]);
        assert!(spans("Note: the report is due").code.is_empty());
        let question =
            spans("Run a t_test on scores.csv: does the score differ between group a and group b?");
        assert!(question.code.is_empty(), "a question is no code: {question:?}");
        assert!(spans("fetch https://example.org/page").code.is_empty());
    }

    #[test]
    fn failed_runs_are_quoted_by_their_error() {
        let failed = json!({"stdout": "", "stderr": "Traceback …\nNameError: name 'x' is not defined\n", "exit_code": 1});
        let results = [("execute_code", &failed)];
        match check_reply("It worked.", &results, &["run print(x)"]) {
            ReplyCheck::Completed { text } => assert!(text.contains("NameError"), "{text}"),
            other => panic!("{other:?}"),
        }
        let said = "It failed with NameError: name 'x' is not defined";
        assert_eq!(check_reply(said, &results, &["run print(x)"]), ReplyCheck::Grounded);
    }

    #[test]
    fn files_to_write_are_told_from_files_to_read() {
        let s = spans("Remove the duplicate rows from dupes.csv and save the result as dupes_clean.csv");
        assert_eq!(s.outputs, vec!["dupes_clean.csv"]);
        assert_eq!(s.values(ArgKind::Path), vec!["dupes.csv"]);
        assert_eq!(s.values(ArgKind::Output), vec!["dupes_clean.csv"]);
        // A message that names only the file to write still offers it as the path.
        let s = spans("write hello into notes.txt");
        assert_eq!(s.values(ArgKind::Path), vec!["notes.txt"]);
        assert!(spans("analyze sales.csv").outputs.is_empty());
    }

    #[test]
    fn finds_code_quotes_urls_files_languages() {
        let s = spans("run this python code: print(2**100)");
        assert_eq!(s.code, vec!["print(2**100)"]);
        assert_eq!(s.languages, vec!["python"]);
        let s = spans("Run `print(sum(range(10)))` in Python and open 'notes.txt' or https://example.com/a.");
        assert_eq!(s.code, vec!["print(sum(range(10)))"]);
        assert_eq!(s.quoted, vec!["notes.txt"]);
        assert_eq!(s.urls, vec!["https://example.com/a"]);
        assert_eq!(s.files, vec!["notes.txt"]);
        let s = spans("Please run:\n```js\nconsole.log(1+1)\n```\nthanks, and analyze sales.csv");
        assert_eq!(s.code, vec!["console.log(1+1)"]);
        assert_eq!(s.languages, vec!["javascript"]);
        assert_eq!(s.files, vec!["sales.csv"]);
        let s = spans("don't do it, it's 3.5 and e.g. nothing");
        assert!(s.quoted.is_empty() && s.files.is_empty() && s.code.is_empty(), "{s:?}");
        assert_eq!(s.values(ArgKind::Path), Vec::<String>::new());
        let s = spans("Describe the orders table in shop.db, then table `customers`; run a t-test");
        assert_eq!(s.tables, vec!["orders", "customers"]);
        assert_eq!(s.files, vec!["shop.db"]);
        let tests = [json!("t_test"), json!("anova"), json!("correlation")];
        assert_eq!(s.enum_values(&tests), vec!["t_test"]);
        assert_eq!(spans("find correlations").enum_values(&tests), vec!["correlation"]);
    }

    #[test]
    fn the_tools_a_message_fits_best() {
        let code = json!({"properties": {"language": {"type": "string"}, "code": {"type": "string"}}});
        let none = json!({"properties": {}});
        let conn = json!({"properties": {"connection": {"type": "string"}}});
        let query = json!({"properties": {"connection": {"type": "string"}, "sql": {"type": "string"}}});
        let table = json!({"properties": {"connection": {"type": "string"}, "table": {"type": "string"}}});
        let tools = [
            ("execute_code", "Runs code in the sandbox.", &code),
            ("debug_code", "Runs code and explains a failure.", &code),
            ("get_supported_languages", "Lists the languages the sandbox runs.", &none),
        ];
        assert_eq!(best_tools(&spans("Run `print(1)` in python"), &tools), vec![0]);
        assert_eq!(best_tools(&spans("Debug this python code: `print(1/0)`"), &tools), vec![1]);
        assert_eq!(best_tools(&spans("Which languages can the sandbox run?"), &tools), vec![2]);
        assert_eq!(best_tools(&spans("hello"), &tools), vec![0, 1, 2]);
        let db = [
            ("list_tables", "Lists the tables of a database.", &conn),
            ("execute_sql_query", "Runs one read-only SQL statement.", &query),
            ("describe_table", "Columns, types and keys of a table.", &table),
        ];
        assert_eq!(best_tools(&spans("List the tables in shop.db."), &db), vec![0]);
        assert_eq!(best_tools(&spans("Run `SELECT COUNT(*) FROM orders` on shop.db."), &db), vec![1]);
        assert_eq!(best_tools(&spans("Describe the customers table in shop.db."), &db), vec![2]);
    }

    #[test]
    fn numbers_are_read_as_written() {
        assert_eq!(numbers("1. first 42 and -3.5, 1,234 items; x2 v1.2"), vec!["42", "-3.5", "1234"]);
        assert_eq!(
            numbers("2**100 = 1267650600228229401496703205376."),
            vec!["2", "100", "1267650600228229401496703205376"]
        );
    }

    #[test]
    fn replies_with_invented_numbers_are_replaced() {
        let result = json!({"stdout": "1267650600228229401496703205376\n", "exit_code": 0});
        let results = [("execute_code", &result)];
        let users = ["compute 2**100"];
        assert_eq!(
            check_reply("It printed 1267650600228229401496703205376.", &results, &users),
            ReplyCheck::Grounded
        );
        assert_eq!(
            check_reply("2**100 is 1267650600228229401496703205376", &results, &users),
            ReplyCheck::Grounded
        );
        match check_reply("The result is 1024, computed in 3 steps.", &results, &users) {
            ReplyCheck::Replaced { invented, text } => {
                assert_eq!(invented, vec!["1024", "3"]);
                assert!(
                    text.starts_with("Result of execute_code:\n1267650600228229401496703205376"),
                    "{text}"
                );
                assert!(text.contains("replaced"), "{text}");
            }
            other => panic!("{other:?}"),
        }
        match check_reply("The code ran fine.", &results, &users) {
            ReplyCheck::Completed { text } => {
                assert!(text.contains("1267650600228229401496703205376"), "{text}")
            }
            other => panic!("{other:?}"),
        }
        let stats = json!({"mean": 0.81234, "rows": 120});
        assert_eq!(
            check_reply("Mean 0.81 (81%) over 120 rows.", &[("a", &stats)], &[]),
            ReplyCheck::Grounded
        );
    }

    #[test]
    fn loops_are_found() {
        let mut r = Repetition::default();
        assert_eq!(r.check("The answer is 42. It is a number."), None);
        let looping = format!("Intro. {}", "{\"a\": 1} ".repeat(8));
        let cut = Repetition::default().check(&looping).expect("a loop");
        assert_eq!(&looping[..cut], "Intro. {\"a\": 1} ");
        let lines =
            "Error: TypeError on line 3\nmaybe\nError: TypeError on line 3\nso\nError: TypeError on line 3\n";
        let cut = Repetition::default().check(lines).expect("a repeated line");
        assert_eq!(&lines[..cut], "Error: TypeError on line 3\n");
        assert_eq!(Repetition::default().check("aaaa"), None);
    }

    #[test]
    fn renders_results() {
        let r = render_result("execute_code", &json!({"stdout": "", "stderr": "boom", "exit_code": 1}));
        assert_eq!(r, "Result of execute_code:\n(no output)\nstderr: boom\nexit_code: 1");
        let r = render_result("list_tables", &json!({"tables": ["a", "b"]}));
        assert_eq!(r, "Result of list_tables:\ntables: [\"a\",\"b\"]");
    }
}
