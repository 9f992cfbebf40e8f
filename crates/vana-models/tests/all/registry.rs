//! The registry: model strings, missing keys, custom providers, in-process models, config shape.

use crate::common;

use common::*;
use serde_json::json;
use std::collections::HashMap;
use std::sync::Arc;
use vana_core::{ModelError, ModelResolver};
use vana_models::{CustomProviderConfig, ModelRegistry, ModelsConfig};
use vana_testkit::{ScriptedModel, ScriptedServer, ScriptedTurn};

fn empty_env_registry(config: ModelsConfig) -> ModelRegistry {
    ModelRegistry::with_env(config, Arc::new(|_: &str| None)).unwrap()
}

#[tokio::test]
async fn missing_key_fails_at_call_time_with_instructions() {
    let mut cfg = ModelsConfig::default();
    cfg.anthropic.api_key_env = Some("VANA_TEST_UNSET_ANTHROPIC_KEY".into());
    let reg = empty_env_registry(cfg);

    // Resolving succeeds: agents that never run must not fail.
    let model = reg.resolve("anthropic/claude-sonnet-4-5").unwrap();
    let err = generate(model.as_ref(), ask("hi"), false).await.unwrap_err();
    assert_eq!(err.code(), "MODEL_NOT_CONFIGURED");
    assert_eq!(
        err.to_string(),
        "model 'anthropic/claude-sonnet-4-5' needs an API key: set VANA_TEST_UNSET_ANTHROPIC_KEY, or pick another \
         model with `default_model` in vana.toml / VANA_MODELS_DEFAULT_MODEL / `--model` (or the agent's `model:`)"
    );

    let model = reg.resolve("gemini-2.5-flash").unwrap();
    assert_eq!(model.name(), "gemini-2.5-flash");
    let err = generate(model.as_ref(), ask("hi"), true).await.unwrap_err();
    let msg = err.to_string();
    assert!(
        msg.starts_with("model 'gemini-2.5-flash' needs an API key: set GEMINI_API_KEY (or GOOGLE_API_KEY)"),
        "{msg}"
    );
}

#[test]
fn unknown_prefix_lists_known_ones() {
    let mut cfg = ModelsConfig::default();
    cfg.custom.insert(
        "lab".into(),
        CustomProviderConfig { base_url: "http://10.0.0.5:8000/v1".into(), api_key_env: None },
    );
    let reg = empty_env_registry(cfg);
    let err = reg.resolve("mystery/model-x").err().expect("unknown prefix");
    let msg = err.to_string();
    assert!(matches!(err, ModelError::NotConfigured(_)));
    for prefix in ["openai/", "gemini/", "anthropic/", "ollama/", "openrouter/", "vllm/", "lab/", "scripted:"]
    {
        assert!(msg.contains(prefix), "{prefix} missing from: {msg}");
    }
    let err = reg.resolve("claude-sonnet-4-5").err().unwrap();
    assert!(err.to_string().contains("did you mean 'anthropic/claude-sonnet-4-5'"), "{err}");
    assert!(reg.resolve("openai/").is_err());
}

#[test]
fn auto_default_follows_the_keys_present_else_the_local_model() {
    let with = |vars: &'static [(&'static str, &'static str)]| {
        let env: vana_models::EnvLookup =
            Arc::new(move |n: &str| vars.iter().find(|(k, _)| *k == n).map(|(_, v)| v.to_string()));
        ModelRegistry::with_env(ModelsConfig::default(), env).unwrap()
    };
    assert_eq!(with(&[]).default_model(), "local/smollm2-135m");
    assert_eq!(with(&[("OPENAI_API_KEY", "sk-x")]).default_model(), "openai/gpt-4.1-mini");
    assert_eq!(
        with(&[("OPENAI_API_KEY", "sk-x"), ("GOOGLE_API_KEY", "g")]).default_model(),
        "gemini-2.5-flash"
    );
    assert_eq!(
        with(&[("ANTHROPIC_API_KEY", " ")]).default_model(),
        "local/smollm2-135m",
        "blank keys count as unset"
    );
    let pinned = ModelsConfig { default_model: "ollama/qwen3".into(), ..Default::default() };
    assert_eq!(empty_env_registry(pinned).default_model(), "ollama/qwen3");
    // Without a local provider, local strings fail with a clear message; with one, they resolve.
    let reg = with(&[]);
    let err = reg.resolve("").err().expect("no local provider");
    assert!(err.to_string().contains("'local/smollm2-135m' is a local model"), "{err}");
    reg.set_local_provider(Arc::new(|m: &str| {
        Ok(Arc::new(ScriptedModel::repeating(m, vec![ScriptedTurn::text("hi")])) as _)
    }));
    assert_eq!(reg.resolve_single("local:/models/x.gguf").unwrap().name(), "local:/models/x.gguf");
}

#[test]
fn fallback_strings_are_validated_at_resolve() {
    let cfg = ModelsConfig { fallbacks: vec!["nope/x".into()], ..Default::default() };
    let reg = empty_env_registry(cfg);
    assert!(reg.resolve("gemini-2.5-flash").is_err());
}

#[tokio::test]
async fn custom_openai_compatible_provider() {
    let server =
        ScriptedServer::start(vec![ScriptedTurn::text("from the lab").with_usage(3, 2)]).await.unwrap();
    let mut cfg = config_for(&server);
    cfg.custom.insert(
        "lab".into(),
        CustomProviderConfig {
            base_url: server.openai_base_url(),
            api_key_env: Some("TEST_OPENAI_KEY".into()),
        },
    );
    let reg = registry(cfg);
    let model = reg.resolve("lab/meta-llama/Llama-3.1-8B").unwrap();
    let (_, fin) = generate(model.as_ref(), ask("hi"), true).await.unwrap();
    assert_eq!(fin.content.unwrap().text(), "from the lab");
    let req = &server.requests()[0];
    assert_eq!(req.body["model"], "meta-llama/Llama-3.1-8B");
    assert_eq!(req.header("authorization"), Some("Bearer sk-test-openai"));
}

#[tokio::test]
async fn registered_models_resolve_by_exact_string() {
    let reg = empty_env_registry(ModelsConfig::default());
    let scripted =
        ScriptedModel::named("test/agent-model", vec![ScriptedTurn::call("lookup", json!({"q": "x"}))]);
    reg.register("test/agent-model", Arc::new(scripted.clone()));
    assert_eq!(reg.registered_models(), vec!["test/agent-model".to_string()]);
    let model = reg.resolve("test/agent-model").unwrap();
    let (_, fin) = generate(model.as_ref(), ask("find x"), false).await.unwrap();
    assert_eq!(calls(&fin)[0].name, "lookup");
    assert_eq!(scripted.requests().len(), 1);
    assert_eq!(scripted.requests()[0].contents[0].text(), "find x");
}

#[tokio::test]
async fn scripted_file_models_share_their_script_across_resolves() {
    let path = std::env::temp_dir().join(format!("vana-models-registry-{}.json", std::process::id()));
    std::fs::write(&path, r#"[{"text": "one"}, {"text": "two"}]"#).unwrap();
    let reg = empty_env_registry(ModelsConfig::default());
    let name = format!("scripted:{}", path.display());
    let (_, a) = generate(reg.resolve(&name).unwrap().as_ref(), ask("1"), false).await.unwrap();
    let (_, b) = generate(reg.resolve(&name).unwrap().as_ref(), ask("2"), false).await.unwrap();
    assert_eq!(a.content.unwrap().text(), "one");
    assert_eq!(b.content.unwrap().text(), "two");
    let err = reg.resolve("scripted:/definitely/not/here.json").err().unwrap();
    assert!(err.to_string().contains("cannot read /definitely/not/here.json"), "{err}");
    std::fs::remove_file(path).ok();
}

#[test]
fn describe_reports_key_presence_without_secrets() {
    let mut env = HashMap::new();
    env.insert("OPENAI_API_KEY".to_string(), "sk-very-secret".to_string());
    let reg = ModelRegistry::with_env(ModelsConfig::default(), Arc::new(move |k: &str| env.get(k).cloned()))
        .unwrap();
    let status = reg.describe();
    let openai = status.iter().find(|s| s.provider == "openai").unwrap();
    assert!(openai.key_present);
    assert_eq!(openai.api_key_env, vec!["OPENAI_API_KEY".to_string()]);
    let gemini = status.iter().find(|s| s.provider == "gemini").unwrap();
    assert!(!gemini.key_present);
    assert_eq!(gemini.api_key_env, vec!["GEMINI_API_KEY".to_string(), "GOOGLE_API_KEY".to_string()]);
    let ollama = status.iter().find(|s| s.provider == "ollama").unwrap();
    assert!(ollama.api_key_env.is_empty());
    assert_eq!(ollama.base_url, "http://127.0.0.1:11434/v1");
    let printed: String = status.iter().map(|s| format!("{s}\n")).collect();
    assert!(printed.contains("OPENAI_API_KEY set"), "{printed}");
    assert!(!printed.contains("sk-very-secret"));
    let model = reg.resolve("openai/gpt-4.1-mini").unwrap();
    let _ = model; // the resolved model holds the key; nothing prints it
    assert!(!format!("{reg:?}").contains("sk-very-secret"));
}

#[test]
fn config_toml_shape() {
    let text = r#"
        default_model = "anthropic/claude-sonnet-4-5"
        fallbacks = ["gemini-2.5-flash", "ollama/qwen3"]
        request_timeout_secs = 60

        [retry]
        max_attempts = 4
        initial_backoff_ms = 250
        max_backoff_ms = 10000

        [gemini]
        api_key_env = "MY_GEMINI_KEY"

        [ollama]
        base_url = "http://gpu-box:11434/v1"

        [custom.lab]
        base_url = "http://10.0.0.5:8000/v1"
        api_key_env = "LAB_KEY"
    "#;
    let cfg: ModelsConfig = toml::from_str(text).unwrap();
    assert_eq!(cfg.default_model, "anthropic/claude-sonnet-4-5");
    assert_eq!(cfg.fallbacks.len(), 2);
    assert_eq!(cfg.retry.max_attempts, 4);
    assert_eq!(cfg.gemini.api_key_env.as_deref(), Some("MY_GEMINI_KEY"));
    assert_eq!(cfg.ollama.base_url.as_deref(), Some("http://gpu-box:11434/v1"));
    assert_eq!(cfg.custom["lab"].api_key_env.as_deref(), Some("LAB_KEY"));
    let defaults: ModelsConfig = toml::from_str("").unwrap();
    assert_eq!(defaults, ModelsConfig::default());
    assert_eq!(defaults.default_model, "auto");
    let round: ModelsConfig = toml::from_str(&toml::to_string(&cfg).unwrap()).unwrap();
    assert_eq!(round, cfg);
    assert!(toml::from_str::<ModelsConfig>("defualt_model = 'x'").is_err(), "typos are reported");
}
