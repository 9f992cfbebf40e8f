//! Instruction templating: `{key}` is replaced by the session state value, `{key?}` by the value
//! or nothing.

use crate::event::JsonMap;
use serde_json::Value;

/// Fills `{state_key}` placeholders from state. A placeholder is `{` + identifier (letters,
/// digits, `_`, `:` and `.`, not starting with a digit) + optional `?` + `}`; other braces are
/// left alone. A missing required key is an error naming it.
pub fn render(instruction: &str, state: &JsonMap) -> Result<String, String> {
    let mut out = String::with_capacity(instruction.len());
    let mut rest = instruction;
    while let Some(start) = rest.find('{') {
        out.push_str(&rest[..start]);
        let after = &rest[start + 1..];
        let Some(end) = after.find('}') else {
            out.push_str(&rest[start..]);
            return Ok(out);
        };
        let inner = &after[..end];
        let (key, optional) = match inner.strip_suffix('?') {
            Some(k) => (k, true),
            None => (inner, false),
        };
        if is_identifier(key) {
            match state.get(key) {
                Some(Value::String(s)) => out.push_str(s),
                Some(v) => out.push_str(&v.to_string()),
                None if optional => {}
                None => {
                    return Err(format!(
                        "the instruction uses {{{key}}} but session state has no '{key}' (write {{{key}?}} to make it optional)"
                    ))
                }
            }
        } else {
            out.push('{');
            out.push_str(inner);
            out.push('}');
        }
        rest = &after[end + 1..];
    }
    out.push_str(rest);
    Ok(out)
}

fn is_identifier(s: &str) -> bool {
    let mut chars = s.chars();
    matches!(chars.next(), Some(c) if c.is_ascii_alphabetic() || c == '_')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_' || c == ':' || c == '.')
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn fills_required_and_optional_keys_and_leaves_json_alone() {
        let state = json!({"user_name": "Ada", "n": 3}).as_object().unwrap().clone();
        let out = render("Hi {user_name}, {n} items {missing?}. JSON: {\"a\": 1}", &state).unwrap();
        assert_eq!(out, "Hi Ada, 3 items . JSON: {\"a\": 1}");
    }

    #[test]
    fn missing_required_key_is_a_clear_error() {
        let err = render("Hello {who}", &JsonMap::new()).unwrap_err();
        assert!(err.contains("'who'"), "{err}");
    }
}
