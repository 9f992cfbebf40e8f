//! The JSON Schema of a JSON value, inferred from the value: types, object properties (those in
//! every object of an array are `required`), array items merged across elements, and several
//! types where the data mixes them.

use serde_json::{json, Map, Value};

/// Infers a JSON Schema (draft 2020-12) describing `v`.
pub fn infer(v: &Value) -> Value {
    let mut s = of(v);
    if let Value::Object(m) = &mut s {
        m.insert("$schema".into(), json!("https://json-schema.org/draft/2020-12/schema"));
    }
    s
}

fn of(v: &Value) -> Value {
    match v {
        Value::Null => json!({"type": "null"}),
        Value::Bool(_) => json!({"type": "boolean"}),
        Value::Number(n) if n.is_i64() || n.is_u64() => json!({"type": "integer"}),
        Value::Number(_) => json!({"type": "number"}),
        Value::String(_) => json!({"type": "string"}),
        Value::Array(items) => {
            let mut merged: Option<Value> = None;
            for item in items {
                let s = of(item);
                merged = Some(match merged {
                    None => s,
                    Some(m) => merge(m, s),
                });
            }
            match merged {
                Some(items) => json!({"type": "array", "items": items}),
                None => json!({"type": "array"}),
            }
        }
        Value::Object(o) => {
            let props: Map<String, Value> = o.iter().map(|(k, v)| (k.clone(), of(v))).collect();
            let required: Vec<Value> = o.keys().map(|k| json!(k)).collect();
            json!({"type": "object", "properties": props, "required": required})
        }
    }
}

/// The types a schema allows, as a list.
fn types(s: &Value) -> Vec<String> {
    match &s["type"] {
        Value::String(t) => vec![t.clone()],
        Value::Array(ts) => ts.iter().filter_map(|t| t.as_str().map(String::from)).collect(),
        _ => Vec::new(),
    }
}

/// A schema that allows what either `a` or `b` allows.
fn merge(a: Value, b: Value) -> Value {
    if a == b {
        return a;
    }
    let mut ts = types(&a);
    for t in types(&b) {
        if !ts.contains(&t) {
            ts.push(t);
        }
    }
    // integer and number: number covers both.
    if ts.contains(&"number".to_string()) {
        ts.retain(|t| t != "integer");
    }
    let mut out = Map::new();
    // Objects: properties merged; required only what both require.
    if ts.iter().any(|t| t == "object") {
        let mut props = a["properties"].as_object().cloned().unwrap_or_default();
        for (k, v) in b["properties"].as_object().cloned().unwrap_or_default() {
            let merged = match props.remove(&k) {
                Some(old) => merge(old, v),
                None => v,
            };
            props.insert(k, merged);
        }
        let req = |s: &Value| -> Vec<Value> { s["required"].as_array().cloned().unwrap_or_default() };
        let (ra, rb) = (req(&a), req(&b));
        // An object on only one side: the other side's required list does not apply.
        let a_obj = types(&a).iter().any(|t| t == "object");
        let b_obj = types(&b).iter().any(|t| t == "object");
        let required: Vec<Value> = match (a_obj, b_obj) {
            (true, true) => ra.into_iter().filter(|k| rb.contains(k)).collect(),
            (true, false) => ra,
            (false, true) => rb,
            _ => Vec::new(),
        };
        out.insert("properties".into(), Value::Object(props));
        out.insert("required".into(), Value::Array(required));
    }
    if ts.iter().any(|t| t == "array") {
        match (a.get("items").cloned(), b.get("items").cloned()) {
            (Some(x), Some(y)) => {
                out.insert("items".into(), merge(x, y));
            }
            (Some(x), None) | (None, Some(x)) => {
                out.insert("items".into(), x);
            }
            _ => {}
        }
    }
    let t = if ts.len() == 1 { json!(ts[0]) } else { json!(ts) };
    out.insert("type".into(), t);
    Value::Object(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn arrays_of_objects_merge_properties_and_keep_common_required_fields() {
        let s = infer(&json!([{"id": 1, "name": "a", "tags": ["x"]}, {"id": 2.5, "name": null}]));
        assert_eq!(s["type"], "array");
        let item = &s["items"];
        assert_eq!(item["type"], "object");
        assert_eq!(item["properties"]["id"]["type"], "number");
        assert_eq!(item["properties"]["name"]["type"], json!(["string", "null"]));
        assert_eq!(item["properties"]["tags"]["items"]["type"], "string");
        assert_eq!(item["required"], json!(["id", "name"]));
    }
}
