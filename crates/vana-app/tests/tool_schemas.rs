//! Every tool the app registers has a JSON Schema object the providers and the local model's
//! constrained decoder accept, with a description on every property (at any depth).

use vana_app::{App, Config};

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
        problems.extend(vana_toolkit::schema::unplain(&schema, tool.name()));
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
