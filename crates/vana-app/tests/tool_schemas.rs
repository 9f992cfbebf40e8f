//! Every tool the app registers has a JSON Schema object the providers and the local model's
//! constrained decoder accept, with a description on every property (at any depth).

use serde_json::Value;
use vana_app::{App, Config};

/// The JSON Schema keywords the derived schemas may use.
const KEYWORDS: &[&str] = &[
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
const TYPES: &[&str] = &["object", "array", "string", "number", "integer", "boolean", "null"];

/// Problems of one schema node (and below), by path.
fn check(node: &Value, at: &str, out: &mut Vec<String>) {
    let Some(m) = node.as_object() else {
        out.push(format!("{at}: not an object"));
        return;
    };
    for k in m.keys() {
        if !KEYWORDS.contains(&k.as_str()) {
            out.push(format!("{at}: keyword `{k}`"));
        }
    }
    match m.get("type") {
        Some(Value::String(t)) if TYPES.contains(&t.as_str()) => {}
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
            check(p, &format!("{at}.{name}"), out);
        }
        for r in m.get("required").and_then(Value::as_array).into_iter().flatten() {
            if !r.as_str().is_some_and(|r| props.contains_key(r)) {
                out.push(format!("{at}: required {r} is not a property"));
            }
        }
    }
    if let Some(items) = m.get("items") {
        check(items, &format!("{at}[]"), out);
    }
    for alt in m.get("anyOf").and_then(Value::as_array).into_iter().flatten() {
        check(alt, &format!("{at}|"), out);
    }
}

#[tokio::test]
async fn every_tool_has_a_plain_schema_with_every_property_described() {
    let dir = tempfile::tempdir().unwrap();
    let mut config = Config::default();
    config.store.url = format!("sqlite://{}", dir.path().join("vana.db").display());
    config.agents.dir = dir.path().join("agents").display().to_string();
    let app = App::open(config).await.unwrap();
    assert!(app.tools.len() >= 20, "the code, data, analytics and SQL tools are registered");
    let mut problems = Vec::new();
    for tool in app.tools.all() {
        let schema = tool.parameters();
        assert_eq!(schema["type"], "object", "{}: {schema}", tool.name());
        check(&schema, tool.name(), &mut problems);
        let undescribed = vana_toolkit::schema::undescribed(&schema);
        problems.extend(undescribed.into_iter().map(|p| format!("{}.{p}: no description", tool.name())));
        assert!(!tool.description().trim().is_empty(), "{} has no description", tool.name());
    }
    assert!(problems.is_empty(), "schema problems:\n{}", problems.join("\n"));
}

#[tokio::test]
async fn a_bad_argument_names_the_field_and_what_was_expected() {
    let dir = tempfile::tempdir().unwrap();
    let mut config = Config::default();
    config.store.url = format!("sqlite://{}", dir.path().join("vana.db").display());
    config.agents.dir = dir.path().join("agents").display().to_string();
    let app = App::open(config).await.unwrap();
    let ctx = || vana_core::ToolContext::standalone("test", "u", "s1");
    let tool = app.tools.get("analyze_dataset").unwrap();
    let e = tool.call(serde_json::json!({"source": "a.csv", "bins": "ten"}), ctx()).await.unwrap_err();
    assert_eq!(e.to_string(), "invalid arguments: field `bins`: expected a number, got string \"ten\"");
    let e = tool.call(serde_json::json!({}), ctx()).await.unwrap_err();
    assert_eq!(e.to_string(), "invalid arguments: field `source` is required");
    let tool = app.tools.get("create_table").unwrap();
    let e = tool
        .call(serde_json::json!({"connection": "c", "table": "t", "columns": [{"name": "a"}]}), ctx())
        .await
        .unwrap_err();
    assert_eq!(e.to_string(), "invalid arguments: field `columns[0].type` is required");
}
