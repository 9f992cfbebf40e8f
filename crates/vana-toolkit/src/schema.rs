//! JSON Schemas derived from argument types, in the plain shape every provider and the local
//! model's constrained decoder accept: one inline object (no `$ref`, no `$schema`), optional
//! fields simply not required (no `null` types), enums as `enum` lists.

use schemars::generate::SchemaSettings;
use schemars::JsonSchema;
use serde_json::{Map, Value};

/// The schema of `T` as a tool's `parameters`.
pub fn of<T: JsonSchema>() -> Value {
    let generator = SchemaSettings::draft07()
        .with(|s| {
            s.inline_subschemas = true;
            s.meta_schema = None;
        })
        .for_deserialize()
        .into_generator();
    let mut v: Value = generator.into_root_schema_for::<T>().into();
    simplify(&mut v);
    if let Some(root) = v.as_object_mut() {
        for k in ["title", "description", "$schema", "definitions", "$defs"] {
            root.remove(k);
        }
        root.insert("type".into(), "object".into());
        root.entry("properties").or_insert_with(|| Value::Object(Map::new()));
    }
    v
}

/// Rewrites a schema (recursively) into the plain shape described above.
fn simplify(v: &mut Value) {
    match v {
        Value::Object(m) => {
            for (_, child) in m.iter_mut() {
                simplify(child);
            }
            drop_null_type(m);
            for key in ["anyOf", "oneOf"] {
                if let Some(Value::Array(alts)) = m.get(key) {
                    let alts: Vec<Value> = alts.iter().filter(|a| !is_null_schema(a)).cloned().collect();
                    if let Some(values) = consts(&alts) {
                        m.remove(key);
                        m.insert("type".into(), "string".into());
                        m.insert("enum".into(), Value::Array(values));
                    } else if alts.len() == 1 {
                        m.remove(key);
                        if let Value::Object(only) = &alts[0] {
                            for (k, val) in only {
                                m.entry(k.clone()).or_insert_with(|| val.clone());
                            }
                        }
                    } else {
                        m.insert(key.into(), Value::Array(alts));
                    }
                }
            }
            // Integer formats (`uint32`, `int64`, `double`) are Rust's, not the model's business.
            if matches!(m.get("format").and_then(Value::as_str), Some(f) if f.starts_with("int") || f.starts_with("uint") || f == "double" || f == "float")
            {
                m.remove("format");
            }
            if m.get("default").is_some_and(Value::is_null) {
                m.remove("default");
            }
        }
        Value::Array(a) => a.iter_mut().for_each(simplify),
        _ => {}
    }
}

/// `"type": ["string", "null"]` becomes `"type": "string"`.
fn drop_null_type(m: &mut Map<String, Value>) {
    if let Some(Value::Array(types)) = m.get_mut("type") {
        types.retain(|t| t != "null");
        if types.len() == 1 {
            let only = types.remove(0);
            m.insert("type".into(), only);
        }
    }
}

fn is_null_schema(v: &Value) -> bool {
    v.get("type").and_then(Value::as_str) == Some("null") || v.get("const").is_some_and(Value::is_null)
}

/// The values when every alternative is a string constant (`{"const": "bar"}` or
/// `{"enum": ["bar"]}`): a Rust enum of unit variants.
fn consts(alts: &[Value]) -> Option<Vec<Value>> {
    if alts.is_empty() {
        return None;
    }
    let mut out = Vec::new();
    for a in alts {
        match (a.get("const"), a.get("enum")) {
            (Some(c @ Value::String(_)), _) => out.push(c.clone()),
            (None, Some(Value::Array(e))) if e.iter().all(Value::is_string) => out.extend(e.iter().cloned()),
            _ => return None,
        }
    }
    Some(out)
}

/// Every property (at any depth) that has no `description`, by its path; the toolkit's tests
/// and each suite's require none.
pub fn undescribed(schema: &Value) -> Vec<String> {
    let mut out = Vec::new();
    walk_properties(schema, "", &mut out);
    out
}

fn walk_properties(schema: &Value, at: &str, out: &mut Vec<String>) {
    if let Some(Value::Object(props)) = schema.get("properties") {
        for (name, p) in props {
            let path = if at.is_empty() { name.clone() } else { format!("{at}.{name}") };
            if p.get("description").and_then(Value::as_str).is_none_or(|d| d.trim().is_empty()) {
                out.push(path.clone());
            }
            walk_properties(p, &path, out);
            if let Some(items) = p.get("items") {
                walk_properties(items, &format!("{path}[]"), out);
            }
        }
    }
}

/// The JSON Schema keywords a tool schema may use: what every provider and the local model's
/// constrained decoder accept.
const PLAIN_KEYWORDS: &[&str] = &[
    "type",
    "properties",
    "required",
    "items",
    "enum",
    "description",
    "anyOf",
    "default",
    "minimum",
    "maximum",
    "minItems",
    "maxItems",
    "minLength",
    "maxLength",
    "additionalProperties",
];
const PLAIN_TYPES: &[&str] = &["object", "array", "string", "number", "integer", "boolean", "null"];

/// Problems of one schema node (and below), by path.
fn plain_problems(node: &Value, at: &str, out: &mut Vec<String>) {
    let Some(m) = node.as_object() else {
        out.push(format!("{at}: not an object"));
        return;
    };
    for k in m.keys() {
        if !PLAIN_KEYWORDS.contains(&k.as_str()) {
            out.push(format!("{at}: keyword `{k}`"));
        }
    }
    match m.get("type") {
        Some(Value::String(t)) if PLAIN_TYPES.contains(&t.as_str()) => {}
        None if m.contains_key("anyOf") => {}
        other => out.push(format!("{at}: type {other:?}")),
    }
    if let Some(e) = m.get("enum") {
        if e.as_array().is_none_or(|a| a.is_empty()) {
            out.push(format!("{at}: enum must be a non-empty array"));
        }
    }
    if let Some(props) = m.get("properties") {
        let Some(props) = props.as_object() else {
            return out.push(format!("{at}: properties not an object"));
        };
        for (name, p) in props {
            plain_problems(p, &format!("{at}.{name}"), out);
        }
        for r in m.get("required").and_then(Value::as_array).into_iter().flatten() {
            if !r.as_str().is_some_and(|r| props.contains_key(r)) {
                out.push(format!("{at}: required {r} is not a property"));
            }
        }
    }
    if let Some(items) = m.get("items") {
        plain_problems(items, &format!("{at}[]"), out);
    }
    for alt in m.get("anyOf").and_then(Value::as_array).into_iter().flatten() {
        plain_problems(alt, &format!("{at}|"), out);
    }
}

/// What keeps `schema` (a tool's parameters, named `at`) from being a plain JSON Schema: an
/// unknown keyword, a missing or unknown type, an empty enum, a required name that is no
/// property; each by its path.
pub fn unplain(schema: &Value, at: &str) -> Vec<String> {
    let mut out = Vec::new();
    plain_problems(schema, at, &mut out);
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde::Deserialize;
    use serde_json::json;

    /// Arguments of a test tool.
    #[derive(Deserialize, JsonSchema)]
    #[allow(dead_code)]
    struct Args {
        /// The program.
        code: String,
        /// Seconds.
        #[serde(default)]
        timeout: Option<f64>,
        /// How many.
        #[serde(default)]
        limit: Option<u32>,
        /// Which chart.
        chart: Chart,
        /// Columns.
        #[serde(default)]
        columns: Vec<Col>,
    }
    #[derive(Deserialize, JsonSchema)]
    #[serde(rename_all = "snake_case")]
    enum Chart {
        /// Bars.
        Bar,
        /// Lines.
        Line,
    }
    #[derive(Deserialize, JsonSchema)]
    #[allow(dead_code)]
    struct Col {
        /// Its name.
        name: String,
    }

    #[test]
    fn derived_schemas_are_plain_inline_objects() {
        let s = of::<Args>();
        assert_eq!(s["type"], "object");
        assert!(
            s.get("$schema").is_none() && s.get("title").is_none() && s.get("definitions").is_none(),
            "{s}"
        );
        assert_eq!(s["required"], json!(["code", "chart"]));
        assert_eq!(s["properties"]["timeout"], json!({"type": "number", "description": "Seconds."}));
        assert_eq!(s["properties"]["limit"]["type"], "integer");
        assert!(s["properties"]["limit"].get("format").is_none(), "{s}");
        assert_eq!(s["properties"]["chart"]["enum"], json!(["bar", "line"]), "{s}");
        assert_eq!(s["properties"]["chart"]["description"], "Which chart.");
        assert_eq!(s["properties"]["columns"]["items"]["properties"]["name"]["description"], "Its name.");
        assert!(!s.to_string().contains("$ref"), "{s}");
        assert!(undescribed(&s).is_empty(), "{:?}", undescribed(&s));
    }

    #[test]
    fn undescribed_properties_are_found_at_any_depth() {
        let s = json!({"type": "object", "properties": {
            "a": {"type": "string", "description": "A."},
            "b": {"type": "array", "items": {"type": "object", "properties": {"c": {"type": "string"}}}}
        }});
        assert_eq!(undescribed(&s), vec!["b".to_string(), "b[].c".to_string()]);
    }
}
