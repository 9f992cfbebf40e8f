//! The providers' tests' own helpers: a registry pointed at a scripted server, test keys, a tool
//! declaration and a tool result; calling a model and checking its stream come from
//! `vana-testkit`.
#![allow(dead_code)]

use serde_json::{json, Value};
use std::collections::HashMap;
use std::sync::Arc;
use vana_core::{Content, FunctionResponse, LlmRequest, LlmResponse, Part, ToolDeclaration};
use vana_models::{ModelRegistry, ModelsConfig, ProviderConfig, RetryConfig};
pub use vana_testkit::generate::{ask, calls, generate, partial_text};
use vana_testkit::ScriptedServer;

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
