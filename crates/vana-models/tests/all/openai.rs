//! OpenAI chat completions over loopback against the scripted server.

use crate::common;

use common::*;
use serde_json::json;
use vana_core::{ModelResolver, UsageMetadata};
use vana_testkit::{ScriptedServer, ScriptedTurn};

#[tokio::test]
async fn text_answer_streaming_and_not() {
    let server = ScriptedServer::start(vec![
        ScriptedTurn::text("Hello there, general Kenobi.").with_usage(12, 7),
        ScriptedTurn::text("Streamed hello, in pieces.").with_usage(13, 6),
    ])
    .await
    .unwrap();
    let reg = registry(config_for(&server));
    let model = reg.resolve("openai/gpt-4.1-mini").unwrap();

    let (partials, fin) = generate(model.as_ref(), ask("hi"), false).await.unwrap();
    assert!(partials.is_empty());
    assert_eq!(fin.content.as_ref().unwrap().text(), "Hello there, general Kenobi.");
    assert_eq!(fin.content.as_ref().unwrap().role, "model");
    assert_eq!(fin.usage, Some(UsageMetadata::new(12, 7)));
    assert_eq!(fin.finish_reason.as_deref(), Some("stop"));

    let (partials, fin) = generate(model.as_ref(), ask("hi again"), true).await.unwrap();
    assert!(partials.len() >= 2, "expected several partial chunks, got {}", partials.len());
    assert_eq!(partial_text(&partials), "Streamed hello, in pieces.");
    assert_eq!(fin.content.as_ref().unwrap().text(), "Streamed hello, in pieces.");
    assert_eq!(fin.usage, Some(UsageMetadata::new(13, 6)));

    let reqs = server.requests();
    assert_eq!(reqs.len(), 2);
    assert_eq!(reqs[0].path, "/v1/chat/completions");
    assert_eq!(reqs[0].header("authorization"), Some("Bearer sk-test-openai"));
    assert_eq!(reqs[0].body["model"], "gpt-4.1-mini");
    assert_eq!(reqs[0].body["stream"], false);
    assert_eq!(
        reqs[0].body["messages"],
        json!([{"role": "system", "content": "You are terse."}, {"role": "user", "content": "hi"}])
    );
    assert_eq!(reqs[1].body["stream"], true);
    assert_eq!(reqs[1].body["stream_options"], json!({"include_usage": true}));
}

#[tokio::test]
async fn tool_call_round_trip() {
    for stream in [false, true] {
        let server = ScriptedServer::start(vec![
            ScriptedTurn::call("get_weather", json!({"city": "Paris", "unit": "C"})).with_usage(30, 10),
            ScriptedTurn::text("It is 21 degrees in Paris.").with_usage(50, 8),
        ])
        .await
        .unwrap();
        let reg = registry(config_for(&server));
        let model = reg.resolve("openai/gpt-4.1-mini").unwrap();

        let mut first = ask("Weather in Paris?");
        first.tools = vec![weather_tool()];
        let (_, fin) = generate(model.as_ref(), first.clone(), stream).await.unwrap();
        let got = calls(&fin);
        assert_eq!(got.len(), 1, "stream={stream}");
        assert_eq!(got[0].name, "get_weather");
        assert_eq!(got[0].args, json!({"city": "Paris", "unit": "C"}));
        assert_eq!(got[0].id.as_deref(), Some("call_1_0"));
        assert_eq!(fin.finish_reason.as_deref(), Some("tool_calls"));
        assert_eq!(fin.usage, Some(UsageMetadata::new(30, 10)));

        let second = with_tool_result(&first, &fin, json!({"temp_c": 21}));
        let (_, fin) = generate(model.as_ref(), second, stream).await.unwrap();
        assert_eq!(fin.content.unwrap().text(), "It is 21 degrees in Paris.");

        let reqs = server.requests();
        assert_eq!(
            reqs[0].body["tools"],
            json!([{"type": "function", "function": {
                "name": "get_weather", "description": "Current weather for a city",
                "parameters": weather_tool().parameters}}])
        );
        let messages = reqs[1].body["messages"].as_array().unwrap().clone();
        assert_eq!(messages.len(), 4);
        assert_eq!(
            messages[2],
            json!({"role": "assistant", "content": null, "tool_calls": [{"id": "call_1_0", "type": "function",
                "function": {"name": "get_weather", "arguments": "{\"city\":\"Paris\",\"unit\":\"C\"}"}}]})
        );
        assert_eq!(
            messages[3],
            json!({"role": "tool", "tool_call_id": "call_1_0", "content": "{\"temp_c\":21}"})
        );
    }
}

#[tokio::test]
async fn ollama_uses_openai_wire_without_key() {
    let server = ScriptedServer::start(vec![ScriptedTurn::text("local answer")]).await.unwrap();
    let reg = registry(config_for(&server));
    let model = reg.resolve("ollama/qwen3").unwrap();
    let (_, fin) = generate(model.as_ref(), ask("hi"), false).await.unwrap();
    assert_eq!(fin.content.unwrap().text(), "local answer");
    assert_eq!(fin.usage, None);
    let req = &server.requests()[0];
    assert_eq!(req.body["model"], "qwen3");
    assert_eq!(req.header("authorization"), None);
}

#[tokio::test]
async fn context_length_and_rejections_are_classified() {
    let server = ScriptedServer::start(vec![
        ScriptedTurn::error(vana_testkit::ScriptedError::ContextLength { message: "8192 tokens".into() }),
        ScriptedTurn::http(400)
            .with_body(r#"{"error":{"message":"Invalid 'messages[1]'","type":"invalid_request_error"}}"#),
    ])
    .await
    .unwrap();
    let mut cfg = config_for(&server);
    cfg.retry.max_attempts = 1;
    let reg = registry(cfg);
    let model = reg.resolve("openai/gpt-4.1-mini").unwrap();
    let err = generate(model.as_ref(), ask("x"), false).await.unwrap_err();
    assert!(matches!(err, vana_core::ModelError::ContextLength { .. }), "{err:?}");
    let err = generate(model.as_ref(), ask("x"), true).await.unwrap_err();
    match err {
        vana_core::ModelError::Rejected { status: 400, message, .. } => {
            assert!(message.contains("Invalid 'messages[1]'"))
        }
        other => panic!("{other:?}"),
    }
}

#[tokio::test]
async fn dropped_connections_and_garbage_bodies() {
    use vana_testkit::ScriptedError;
    let server = ScriptedServer::start(vec![
        ScriptedTurn::error(ScriptedError::Transport { message: "reset".into() }),
        ScriptedTurn::error(ScriptedError::Protocol { message: String::new() }),
        ScriptedTurn::error(ScriptedError::Transport { message: "reset".into() }),
    ])
    .await
    .unwrap();
    let mut cfg = config_for(&server);
    cfg.retry.max_attempts = 1;
    let reg = registry(cfg);
    let model = reg.resolve("openai/gpt-4.1-mini").unwrap();
    let err = generate(model.as_ref(), ask("x"), false).await.unwrap_err();
    assert!(matches!(err, vana_core::ModelError::Transport { .. }), "{err:?}");
    let err = generate(model.as_ref(), ask("x"), false).await.unwrap_err();
    match err {
        vana_core::ModelError::Protocol { message, .. } => assert!(message.contains("not JSON"), "{message}"),
        other => panic!("{other:?}"),
    }
    let err = generate(model.as_ref(), ask("x"), true).await.unwrap_err();
    assert!(matches!(err, vana_core::ModelError::Transport { .. }), "{err:?}");
}
