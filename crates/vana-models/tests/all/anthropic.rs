//! Anthropic messages API over loopback against the scripted server.

use crate::common;

use common::*;
use serde_json::json;
use vana_core::{ModelResolver, UsageMetadata};
use vana_testkit::{ScriptedServer, ScriptedTurn};

#[tokio::test]
async fn text_answer_streaming_and_not() {
    let server = ScriptedServer::start(vec![
        ScriptedTurn::text("Claude says hello.").with_usage(15, 5),
        ScriptedTurn::text("Claude streams hello, in deltas.").with_usage(16, 9),
    ])
    .await
    .unwrap();
    let reg = registry(config_for(&server));
    let model = reg.resolve("anthropic/claude-sonnet-4-5").unwrap();

    let (partials, fin) = generate(model.as_ref(), ask("hi"), false).await.unwrap();
    assert!(partials.is_empty());
    assert_eq!(fin.content.as_ref().unwrap().text(), "Claude says hello.");
    assert_eq!(fin.usage, Some(UsageMetadata::new(15, 5)));
    assert_eq!(fin.finish_reason.as_deref(), Some("end_turn"));

    let (partials, fin) = generate(model.as_ref(), ask("hi"), true).await.unwrap();
    assert!(partials.len() >= 2);
    assert_eq!(partial_text(&partials), "Claude streams hello, in deltas.");
    assert_eq!(fin.content.as_ref().unwrap().text(), "Claude streams hello, in deltas.");
    assert_eq!(fin.usage, Some(UsageMetadata::new(16, 9)));

    let reqs = server.requests();
    assert_eq!(reqs[0].path, "/v1/messages");
    assert_eq!(reqs[0].header("x-api-key"), Some("test-anthropic-key"));
    assert_eq!(reqs[0].header("anthropic-version"), Some("2023-06-01"));
    assert_eq!(reqs[0].body["model"], "claude-sonnet-4-5");
    assert_eq!(reqs[0].body["max_tokens"], 4096);
    assert_eq!(reqs[0].body["system"], "You are terse.");
    assert_eq!(
        reqs[0].body["messages"],
        json!([{"role": "user", "content": [{"type": "text", "text": "hi"}]}])
    );
    assert_eq!(reqs[0].body.get("stream"), None);
    assert_eq!(reqs[1].body["stream"], true);
}

#[tokio::test]
async fn tool_call_round_trip() {
    for stream in [false, true] {
        let server = ScriptedServer::start(vec![
            ScriptedTurn::text("Let me check.")
                .with_call("get_weather", json!({"city": "Paris"}))
                .with_usage(25, 12),
            ScriptedTurn::text("21 degrees and sunny.").with_usage(60, 6),
        ])
        .await
        .unwrap();
        let reg = registry(config_for(&server));
        let model = reg.resolve("anthropic/claude-sonnet-4-5").unwrap();

        let mut first = ask("Weather in Paris?");
        first.tools = vec![weather_tool()];
        first.config.max_output_tokens = Some(1000);
        let (partials, fin) = generate(model.as_ref(), first.clone(), stream).await.unwrap();
        if stream {
            assert_eq!(partial_text(&partials), "Let me check.");
        }
        assert_eq!(fin.content.as_ref().unwrap().text(), "Let me check.");
        let got = calls(&fin);
        assert_eq!(got.len(), 1);
        assert_eq!(got[0].name, "get_weather");
        assert_eq!(got[0].args, json!({"city": "Paris"}));
        assert_eq!(got[0].id.as_deref(), Some("toolu_1_0"));
        assert_eq!(fin.finish_reason.as_deref(), Some("tool_use"));
        assert_eq!(fin.usage, Some(UsageMetadata::new(25, 12)));

        let second = with_tool_result(&first, &fin, json!({"temp_c": 21}));
        let (_, fin) = generate(model.as_ref(), second, stream).await.unwrap();
        assert_eq!(fin.content.unwrap().text(), "21 degrees and sunny.");

        let reqs = server.requests();
        assert_eq!(reqs[0].body["max_tokens"], 1000);
        assert_eq!(
            reqs[0].body["tools"],
            json!([{"name": "get_weather", "description": "Current weather for a city",
                "input_schema": weather_tool().parameters}])
        );
        let messages = reqs[1].body["messages"].as_array().unwrap().clone();
        assert_eq!(
            messages[1],
            json!({"role": "assistant", "content": [
                {"type": "text", "text": "Let me check."},
                {"type": "tool_use", "id": "toolu_1_0", "name": "get_weather", "input": {"city": "Paris"}}]})
        );
        assert_eq!(
            messages[2],
            json!({"role": "user", "content": [
                {"type": "tool_result", "tool_use_id": "toolu_1_0", "content": "{\"temp_c\":21}"}]})
        );
    }
}

#[tokio::test]
async fn prompt_too_long_is_context_length() {
    let server = ScriptedServer::start(vec![ScriptedTurn::http(400).with_body(
        r#"{"type":"error","error":{"type":"invalid_request_error","message":"prompt is too long: 210000 tokens > 200000 maximum"}}"#,
    )])
    .await
    .unwrap();
    let reg = registry(config_for(&server));
    let err = generate(reg.resolve("anthropic/claude-sonnet-4-5").unwrap().as_ref(), ask("x"), false)
        .await
        .unwrap_err();
    match err {
        vana_core::ModelError::ContextLength { message, .. } => assert!(message.contains("210000 tokens")),
        other => panic!("{other:?}"),
    }
}
