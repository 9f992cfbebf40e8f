//! Gemini generateContent / streamGenerateContent over loopback against the scripted server.

use crate::common;

use common::*;
use serde_json::json;
use vana_core::{ModelResolver, UsageMetadata};
use vana_testkit::{ScriptedServer, ScriptedTurn};

#[tokio::test]
async fn text_answer_streaming_and_not() {
    let server = ScriptedServer::start(vec![
        ScriptedTurn::text("Bonjour from Gemini.").with_usage(9, 4),
        ScriptedTurn::text("Streaming from Gemini, chunk by chunk.").with_usage(10, 8),
    ])
    .await
    .unwrap();
    let reg = registry(config_for(&server));
    // A bare `gemini-*` name and the `gemini/` prefix reach the same provider.
    let model = reg.resolve("gemini-2.5-flash").unwrap();
    let (partials, fin) = generate(model.as_ref(), ask("hi"), false).await.unwrap();
    assert!(partials.is_empty());
    assert_eq!(fin.content.as_ref().unwrap().text(), "Bonjour from Gemini.");
    assert_eq!(fin.usage, Some(UsageMetadata::new(9, 4)));
    assert_eq!(fin.finish_reason.as_deref(), Some("stop"));

    let model = reg.resolve("gemini/gemini-2.5-pro").unwrap();
    let (partials, fin) = generate(model.as_ref(), ask("hi"), true).await.unwrap();
    assert!(partials.len() >= 2);
    assert_eq!(partial_text(&partials), "Streaming from Gemini, chunk by chunk.");
    assert_eq!(fin.content.as_ref().unwrap().text(), "Streaming from Gemini, chunk by chunk.");
    assert_eq!(fin.usage, Some(UsageMetadata::new(10, 8)));

    let reqs = server.requests();
    assert_eq!(reqs[0].path, "/v1beta/models/gemini-2.5-flash:generateContent");
    assert_eq!(reqs[1].path, "/v1beta/models/gemini-2.5-pro:streamGenerateContent?alt=sse");
    assert_eq!(reqs[0].header("x-goog-api-key"), Some("test-gemini-key"));
    assert_eq!(reqs[0].body["systemInstruction"], json!({"parts": [{"text": "You are terse."}]}));
    assert_eq!(reqs[0].body["contents"], json!([{"role": "user", "parts": [{"text": "hi"}]}]));
}

#[tokio::test]
async fn tool_call_round_trip() {
    for stream in [false, true] {
        let server = ScriptedServer::start(vec![
            ScriptedTurn::call("get_weather", json!({"city": "Paris"})).with_usage(20, 5),
            ScriptedTurn::text("21 degrees.").with_usage(40, 3),
        ])
        .await
        .unwrap();
        let reg = registry(config_for(&server));
        let model = reg.resolve("gemini-2.5-flash").unwrap();

        let mut first = ask("Weather in Paris?");
        first.tools = vec![weather_tool()];
        let (_, fin) = generate(model.as_ref(), first.clone(), stream).await.unwrap();
        let got = calls(&fin);
        assert_eq!(got.len(), 1);
        assert_eq!(got[0].name, "get_weather");
        assert_eq!(got[0].args, json!({"city": "Paris"}));
        let id = got[0].id.clone().expect("Gemini calls get a generated id");
        assert!(id.starts_with("call_"), "{id}");
        assert_eq!(fin.usage, Some(UsageMetadata::new(20, 5)));

        let second = with_tool_result(&first, &fin, json!({"temp_c": 21}));
        let (_, fin) = generate(model.as_ref(), second, stream).await.unwrap();
        assert_eq!(fin.content.unwrap().text(), "21 degrees.");

        let reqs = server.requests();
        // Declarations in Gemini's shape, with the schema sanitized.
        assert_eq!(
            reqs[0].body["tools"],
            json!([{"functionDeclarations": [{"name": "get_weather", "description": "Current weather for a city",
                "parameters": {"type": "object", "properties": {"city": {"type": "string", "description": "City name"}},
                "required": ["city"]}}]}])
        );
        assert_eq!(
            reqs[1].body["contents"],
            json!([
                {"role": "user", "parts": [{"text": "Weather in Paris?"}]},
                {"role": "model", "parts": [{"functionCall": {"name": "get_weather", "args": {"city": "Paris"}}}]},
                {"role": "user", "parts": [{"functionResponse": {"name": "get_weather", "response": {"temp_c": 21}}}]}
            ])
        );
    }
}

#[tokio::test]
async fn token_limit_is_context_length() {
    let server =
        ScriptedServer::start(vec![ScriptedTurn::error(vana_testkit::ScriptedError::ContextLength {
            message: String::new(),
        })])
        .await
        .unwrap();
    let reg = registry(config_for(&server));
    let err = generate(reg.resolve("gemini-2.5-flash").unwrap().as_ref(), ask("x"), true).await.unwrap_err();
    assert!(matches!(err, vana_core::ModelError::ContextLength { .. }), "{err:?}");
    assert_eq!(server.request_count(), 1, "context-length errors are not retried");
}
