//! Helpers shared by the integration tests: a registry pointed at a scripted server, requests,
//! and stream collection.
#![allow(dead_code)]

use futures::StreamExt;
use serde_json::{json, Value};
use std::collections::HashMap;
use std::sync::Arc;
use vana_core::{
    Content, FunctionCall, FunctionResponse, LlmRequest, LlmResponse, Model, ModelError, Part,
    ToolDeclaration,
};
use vana_models::{ModelRegistry, ModelsConfig, ProviderConfig, RetryConfig, ScriptedServer};

/// Test API keys, as the registry's injected environment sees them.
pub fn test_env() -> HashMap<String, String> {
    [
        ("TEST_OPENAI_KEY", "sk-test-openai"),
        ("TEST_GEMINI_KEY", "test-gemini-key"),
        ("TEST_ANTHROPIC_KEY", "test-anthropic-key"),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_string(), v.to_string()))
    .collect()
}

/// A config pointing openai, gemini, anthropic and ollama at `server`, with fast retries.
pub fn config_for(server: &ScriptedServer) -> ModelsConfig {
    let provider = |base: String, key: Option<&str>| ProviderConfig {
        base_url: Some(base),
        api_key_env: key.map(str::to_string),
    };
    ModelsConfig {
        openai: provider(server.openai_base_url(), Some("TEST_OPENAI_KEY")),
        gemini: provider(server.gemini_base_url(), Some("TEST_GEMINI_KEY")),
        anthropic: provider(server.anthropic_base_url(), Some("TEST_ANTHROPIC_KEY")),
        ollama: provider(server.openai_base_url(), None),
        retry: RetryConfig { max_attempts: 3, initial_backoff_ms: 10, max_backoff_ms: 2_000 },
        request_timeout_secs: 10,
        ..Default::default()
    }
}

/// A registry over `config` whose environment is `test_env()`.
pub fn registry(config: ModelsConfig) -> ModelRegistry {
    let env = test_env();
    ModelRegistry::with_env(config, Arc::new(move |k: &str| env.get(k).cloned())).expect("registry")
}

/// A one-message request.
pub fn ask(text: &str) -> LlmRequest {
    LlmRequest {
        model: String::new(),
        system_instruction: Some("You are terse.".into()),
        contents: vec![Content::user_text(text)],
        ..Default::default()
    }
}

/// The weather tool declaration (its schema has keys Gemini rejects).
pub fn weather_tool() -> ToolDeclaration {
    ToolDeclaration {
        name: "get_weather".into(),
        description: "Current weather for a city".into(),
        parameters: json!({
            "$schema": "http://json-schema.org/draft-07/schema#",
            "type": "object",
            "additionalProperties": false,
            "properties": {"city": {"type": "string", "description": "City name"}},
            "required": ["city"]
        }),
    }
}

/// The follow-up request after the model answered `turn` with one call: the model's content,
/// then the tool's response to that call.
pub fn with_tool_result(first: &LlmRequest, turn: &LlmResponse, result: Value) -> LlmRequest {
    let call = calls(turn).into_iter().next().expect("a function call");
    let mut req = first.clone();
    req.contents.push(turn.content.clone().expect("model content"));
    req.contents.push(Content {
        role: "user".into(),
        parts: vec![Part::function_response(FunctionResponse {
            id: call.id,
            name: call.name,
            response: result,
        })],
    });
    req
}

/// Runs a call and splits the stream into its partial chunks and its final response, checking
/// the streaming contract (partials first, exactly one final, last).
pub async fn run(
    model: &dyn Model,
    req: LlmRequest,
    stream: bool,
) -> Result<(Vec<LlmResponse>, LlmResponse), ModelError> {
    let mut s = model.generate(req.into(), stream).await?;
    let mut items = Vec::new();
    while let Some(item) = s.next().await {
        items.push(item?);
    }
    let last = items.pop().expect("at least the final response");
    assert!(!last.partial && last.turn_complete, "last item must be the final response: {last:?}");
    assert!(items.iter().all(|r| r.partial && !r.turn_complete), "only partial chunks before the final one");
    if !stream {
        assert!(items.is_empty(), "non-streaming calls yield exactly one response");
    }
    Ok((items, last))
}

/// Concatenated text of partial chunks.
pub fn partial_text(chunks: &[LlmResponse]) -> String {
    chunks.iter().filter_map(|c| c.content.as_ref()).map(|c| c.text()).collect()
}

/// The function calls of a response.
pub fn calls(resp: &LlmResponse) -> Vec<FunctionCall> {
    resp.content.iter().flat_map(|c| c.parts.iter()).filter_map(|p| p.function_call.clone()).collect()
}
