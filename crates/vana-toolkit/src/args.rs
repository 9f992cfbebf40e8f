//! Uniform argument errors: a call's JSON arguments parsed into a tool's `Args`, with errors the
//! model can act on: `invalid arguments: field `timeout`: expected a number, got "soon"`.

use serde::de::{DeserializeOwned, Deserializer};
use serde::Deserialize;
use serde_json::Value;
use vana_core::ToolError;

/// Parses `args` into `T`; an error names the field (its path, e.g. `columns[2].name`) and says
/// what was expected and what came.
pub fn parse<T: DeserializeOwned>(args: Value) -> Result<T, ToolError> {
    // A model that sends no arguments at all means "none".
    let args = if args.is_null() { Value::Object(Default::default()) } else { args };
    if !args.is_object() {
        return Err(ToolError::InvalidArgs(format!(
            "the arguments must be a JSON object, got {}",
            kind_of(&args)
        )));
    }
    serde_path_to_error::deserialize(args).map_err(|e| {
        let path = e.path().to_string();
        ToolError::InvalidArgs(explain(&path, &e.into_inner().to_string()))
    })
}

/// The message for serde's error `msg` at `path` (`.` for the arguments object itself).
fn explain(path: &str, msg: &str) -> String {
    if let Some(field) = msg.strip_prefix("missing field `").and_then(|r| r.strip_suffix('`')) {
        let at = if path == "." { String::new() } else { format!("{path}.") };
        return format!("field `{at}{field}` is required");
    }
    let field = if path == "." { "the arguments".to_string() } else { format!("field `{path}`") };
    for prefix in ["invalid type: ", "invalid value: "] {
        if let Some(rest) = msg.strip_prefix(prefix) {
            if let Some((got, expected)) = rest.split_once(", expected ") {
                return format!("{field}: expected {}, got {got}", friendly(expected));
            }
        }
    }
    if let Some(rest) = msg.strip_prefix("unknown variant ") {
        if let Some((got, allowed)) = rest.split_once(", expected ") {
            return format!("{field}: {got} is not allowed; use {}", allowed.trim_start_matches("one of "));
        }
    }
    format!("{field}: {msg}")
}

/// serde's names of types as a model reads them.
fn friendly(expected: &str) -> String {
    let e = expected.trim();
    let s = match e {
        "f64" | "f32" => "a number",
        "u8" | "u16" | "u32" | "u64" | "usize" => "a whole number (0 or more)",
        "i8" | "i16" | "i32" | "i64" | "isize" => "a whole number",
        "a boolean" | "bool" => "true or false",
        "a string" | "a borrowed string" => "a string",
        "a sequence" => "an array",
        "a map" => "an object",
        _ if e.starts_with("struct ") => "an object",
        _ => return e.to_string(),
    };
    s.to_string()
}

fn kind_of(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

/// `#[serde(default, deserialize_with = "vana_toolkit::args::whole")]` for an optional
/// whole-number field: accepts `10` and also `10.0` (some providers send every number as a
/// float), refuses `2.5`, negative values for unsigned types, and values out of range.
pub fn whole<'de, D, T>(d: D) -> Result<Option<T>, D::Error>
where
    D: Deserializer<'de>,
    T: TryFrom<i64>,
{
    use serde::de::Error;
    let Some(v) = Option::<f64>::deserialize(d)? else { return Ok(None) };
    if !(v.is_finite() && v.fract() == 0.0 && v.abs() < 9.0e15) {
        return Err(D::Error::custom(format!("expected a whole number, got {v}")));
    }
    T::try_from(v as i64).map(Some).map_err(|_| D::Error::custom(format!("{v} is out of range here")))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[derive(Debug, Deserialize)]
    #[allow(dead_code)]
    struct A {
        code: String,
        #[serde(default)]
        timeout: Option<f64>,
        #[serde(default, deserialize_with = "whole")]
        limit: Option<u32>,
        #[serde(default)]
        cols: Vec<C>,
        #[serde(default)]
        chart: Option<Chart>,
    }
    #[derive(Debug, Deserialize)]
    #[allow(dead_code)]
    struct C {
        name: String,
    }
    #[derive(Debug, Deserialize)]
    #[serde(rename_all = "snake_case")]
    enum Chart {
        Bar,
        Line,
    }

    fn err(v: Value) -> String {
        parse::<A>(v).unwrap_err().to_string()
    }

    #[test]
    fn errors_name_the_field_and_what_was_expected() {
        assert_eq!(err(json!({})), "invalid arguments: field `code` is required");
        assert_eq!(
            err(json!({"code": "x", "timeout": "soon"})),
            "invalid arguments: field `timeout`: expected a number, got string \"soon\""
        );
        assert_eq!(
            err(json!({"code": 1})),
            "invalid arguments: field `code`: expected a string, got integer `1`"
        );
        assert_eq!(
            err(json!({"code": "x", "cols": [{"name": "a"}, {}]})),
            "invalid arguments: field `cols[1].name` is required"
        );
        assert!(err(json!({"code": "x", "chart": "pie"}))
            .contains("field `chart`: `pie` is not allowed; use `bar` or `line`"));
        assert_eq!(err(json!([1])), "invalid arguments: the arguments must be a JSON object, got an array");
        assert!(err(json!({"code": "x", "limit": 2.5}))
            .contains("field `limit`: expected a whole number, got 2.5"));
        assert!(err(json!({"code": "x", "limit": -1})).contains("field `limit`: -1 is out of range"));
    }

    #[test]
    fn whole_numbers_may_come_as_floats_and_nothing_means_none() {
        let a: A = parse(json!({"code": "x", "limit": 10.0})).unwrap();
        assert_eq!(a.limit, Some(10));
        let a: A = parse(json!({"code": "x", "limit": null})).unwrap();
        assert_eq!(a.limit, None);
        assert!(parse::<A>(Value::Null).unwrap_err().to_string().contains("`code` is required"));
    }
}
