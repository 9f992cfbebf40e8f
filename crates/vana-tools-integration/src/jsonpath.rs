//! A small JSONPath subset for assertions (RFC 9535 syntax): `$`, `.name`, `['name']` /
//! `["name"]`, `[N]` (negative from the end), `[*]` and `.*`. Filters and slices are refused
//! with a clear error rather than guessed.

use serde_json::Value;

/// One step of a path.
#[derive(Debug, Clone, PartialEq)]
enum Step {
    Key(String),
    Index(i64),
    Wildcard,
}

/// Parses a path; the error says what is not supported.
fn parse(path: &str) -> Result<Vec<Step>, String> {
    let p = path.trim();
    let rest = p.strip_prefix('$').ok_or_else(|| format!("JSONPath `{path}` must start with `$`"))?;
    let b = rest.as_bytes();
    let mut i = 0;
    let mut steps = Vec::new();
    while i < b.len() {
        match b[i] {
            b'.' => {
                i += 1;
                if i < b.len() && b[i] == b'.' {
                    return Err(format!("JSONPath `{path}`: recursive descent `..` is not supported"));
                }
                if i < b.len() && b[i] == b'*' {
                    steps.push(Step::Wildcard);
                    i += 1;
                    continue;
                }
                let start = i;
                while i < b.len() && b[i] != b'.' && b[i] != b'[' {
                    i += 1;
                }
                if start == i {
                    return Err(format!("JSONPath `{path}`: a name is missing after `.`"));
                }
                steps.push(Step::Key(rest[start..i].to_string()));
            }
            b'[' => {
                let close = rest[i..]
                    .find(']')
                    .map(|c| c + i)
                    .ok_or_else(|| format!("JSONPath `{path}`: `[` is not closed"))?;
                let inner = rest[i + 1..close].trim();
                i = close + 1;
                if inner == "*" {
                    steps.push(Step::Wildcard);
                } else if (inner.starts_with('\'') && inner.ends_with('\'')
                    || inner.starts_with('"') && inner.ends_with('"'))
                    && inner.len() >= 2
                {
                    steps.push(Step::Key(inner[1..inner.len() - 1].to_string()));
                } else if let Ok(n) = inner.parse::<i64>() {
                    steps.push(Step::Index(n));
                } else {
                    return Err(format!(
                        "JSONPath `{path}`: `[{inner}]` is not supported (use a name, an index or `*`; filters and slices are not)"
                    ));
                }
            }
            c => return Err(format!("JSONPath `{path}`: unexpected `{}`", c as char)),
        }
    }
    Ok(steps)
}

/// The values `path` selects in `v` (none when it matches nothing).
pub fn select<'a>(v: &'a Value, path: &str) -> Result<Vec<&'a Value>, String> {
    let mut cur = vec![v];
    for step in parse(path)? {
        let mut next = Vec::new();
        for node in cur {
            match (&step, node) {
                (Step::Key(k), Value::Object(o)) => next.extend(o.get(k)),
                (Step::Index(n), Value::Array(a)) => {
                    let idx = if *n < 0 { a.len() as i64 + n } else { *n };
                    if idx >= 0 {
                        next.extend(a.get(idx as usize));
                    }
                }
                (Step::Wildcard, Value::Array(a)) => next.extend(a.iter()),
                (Step::Wildcard, Value::Object(o)) => next.extend(o.values()),
                _ => {}
            }
        }
        cur = next;
    }
    Ok(cur)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn names_indexes_and_wildcards_select_and_unsupported_syntax_is_refused() {
        let v = json!({"items": [{"id": 1, "a b": "x"}, {"id": 2}], "n": 3});
        assert_eq!(select(&v, "$.n").unwrap(), vec![&json!(3)]);
        assert_eq!(select(&v, "$.items[1].id").unwrap(), vec![&json!(2)]);
        assert_eq!(select(&v, "$.items[-1].id").unwrap(), vec![&json!(2)]);
        assert_eq!(select(&v, "$.items[*].id").unwrap(), vec![&json!(1), &json!(2)]);
        assert_eq!(select(&v, "$['items'][0]['a b']").unwrap(), vec![&json!("x")]);
        assert!(select(&v, "$.missing").unwrap().is_empty());
        assert!(select(&v, "$..id").unwrap_err().contains("not supported"));
        assert!(select(&v, "$.items[?(@.id>1)]").unwrap_err().contains("not supported"));
        assert!(select(&v, "items").unwrap_err().contains("must start with `$`"));
    }
}
