//! The model registry: turns model strings into providers wrapped with retries and fallbacks.

use crate::anthropic::{AnthropicModel, ANTHROPIC_BASE_URL};
use crate::config::{ModelsConfig, ProviderConfig};
use crate::gemini::{GeminiModel, ThoughtSignatures, GEMINI_BASE_URL};
use crate::http::{Endpoint, HttpClient, Secret};
use crate::openai::OpenAiModel;
use crate::resilience::{ResilientModel, RetryPolicy};
use async_trait::async_trait;
use std::collections::HashMap;
use std::fmt;
use std::sync::{Arc, Mutex, RwLock};
use vana_core::{LlmRequest, LlmResponseStream, Model, ModelError, ModelResolver};
use vana_scripted::ScriptedModel;

/// How the environment is read for API keys (injectable for tests).
pub type EnvLookup = Arc<dyn Fn(&str) -> Option<String> + Send + Sync>;

/// Resolves `local/<name>` and `local:<path>` model strings to in-process models (set by the
/// composition root, which owns the local model crate).
pub type LocalProvider = Arc<dyn Fn(&str) -> Result<Arc<dyn Model>, ModelError> + Send + Sync>;

/// The `default_model` value that picks a model by the keys present (see [`ModelRegistry::default_model`]).
pub const AUTO_MODEL: &str = "auto";

/// The embedded default when no provider key is set: runs offline, in-process.
pub const LOCAL_DEFAULT_MODEL: &str = "local/smollm2-135m";

/// Cloud models `auto` picks, in order, when their provider's key is present.
const AUTO_CHOICES: &[(&str, &str)] = &[
    ("gemini", "gemini-2.5-flash"),
    ("openai", "openai/gpt-4.1-mini"),
    ("anthropic", "anthropic/claude-sonnet-4-5"),
];

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Wire {
    OpenAi { native: bool },
    Gemini,
    Anthropic,
}

impl Wire {
    fn label(self) -> &'static str {
        match self {
            Wire::OpenAi { native: true } => "openai",
            Wire::OpenAi { native: false } => "openai-compatible",
            Wire::Gemini => "gemini",
            Wire::Anthropic => "anthropic",
        }
    }
}

struct BuiltIn {
    prefix: &'static str,
    wire: Wire,
    base_url: &'static str,
    key_envs: &'static [&'static str],
}

const BUILT_INS: &[BuiltIn] = &[
    BuiltIn {
        prefix: "openai",
        wire: Wire::OpenAi { native: true },
        base_url: "https://api.openai.com/v1",
        key_envs: &["OPENAI_API_KEY"],
    },
    BuiltIn {
        prefix: "gemini",
        wire: Wire::Gemini,
        base_url: GEMINI_BASE_URL,
        key_envs: &["GEMINI_API_KEY", "GOOGLE_API_KEY"],
    },
    BuiltIn {
        prefix: "anthropic",
        wire: Wire::Anthropic,
        base_url: ANTHROPIC_BASE_URL,
        key_envs: &["ANTHROPIC_API_KEY"],
    },
    BuiltIn {
        prefix: "ollama",
        wire: Wire::OpenAi { native: false },
        base_url: "http://127.0.0.1:11434/v1",
        key_envs: &[],
    },
    BuiltIn {
        prefix: "openrouter",
        wire: Wire::OpenAi { native: false },
        base_url: "https://openrouter.ai/api/v1",
        key_envs: &["OPENROUTER_API_KEY"],
    },
    BuiltIn {
        prefix: "vllm",
        wire: Wire::OpenAi { native: false },
        base_url: "http://127.0.0.1:8000/v1",
        key_envs: &[],
    },
];

/// A provider as resolved from the configuration.
struct Provider {
    name: String,
    wire: Wire,
    base_url: String,
    key_envs: Vec<String>,
}

/// One provider's settings and key status, for `vana config show` (never the key itself).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProviderStatus {
    /// Provider prefix in model strings, e.g. `openai`.
    pub provider: String,
    /// Wire format: `openai`, `openai-compatible`, `gemini` or `anthropic`.
    pub wire: String,
    /// Base URL in use.
    pub base_url: String,
    /// Environment variables read for the key, in order (empty: no key needed).
    pub api_key_env: Vec<String>,
    /// Whether one of those variables is set.
    pub key_present: bool,
}

impl fmt::Display for ProviderStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let key = if self.api_key_env.is_empty() {
            "no key needed".to_string()
        } else {
            let state = if self.key_present { "set" } else { "NOT set" };
            format!("{} {state}", self.api_key_env.join(" or "))
        };
        write!(f, "{:<12} {:<18} {:<48} {key}", self.provider, self.wire, self.base_url)
    }
}

/// Resolves model strings (`gemini-2.5-flash`, `openai/gpt-4.1-mini`, `scripted:/path.json`, …)
/// into models wrapped with the configured retries and fallbacks.
pub struct ModelRegistry {
    config: ModelsConfig,
    http: HttpClient,
    env: EnvLookup,
    registered: RwLock<HashMap<String, Arc<dyn Model>>>,
    scripted: Mutex<HashMap<String, Arc<dyn Model>>>,
    signatures: ThoughtSignatures,
    local: RwLock<Option<LocalProvider>>,
}

impl fmt::Debug for ModelRegistry {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ModelRegistry").field("config", &self.config).finish_non_exhaustive()
    }
}

impl ModelRegistry {
    /// A registry reading API keys from the process environment.
    pub fn new(config: ModelsConfig) -> Result<Self, ModelError> {
        ModelRegistry::with_env(config, Arc::new(|name: &str| std::env::var(name).ok()))
    }

    /// A registry reading API keys through `env` (tests pass a map instead of the real environment).
    pub fn with_env(config: ModelsConfig, env: EnvLookup) -> Result<Self, ModelError> {
        for (name, custom) in &config.custom {
            if BUILT_INS.iter().any(|b| b.prefix == name) || name == "scripted" {
                return Err(ModelError::NotConfigured(format!(
                    "custom model provider '{name}' clashes with a built-in provider; rename it in [models.custom]"
                )));
            }
            if custom.base_url.trim().is_empty() {
                return Err(ModelError::NotConfigured(format!(
                    "custom model provider '{name}' has no base_url; set [models.custom.{name}] base_url"
                )));
            }
        }
        let http = HttpClient::new(config.request_timeout())?;
        Ok(ModelRegistry {
            config,
            http,
            env,
            registered: RwLock::new(HashMap::new()),
            scripted: Mutex::new(HashMap::new()),
            signatures: ThoughtSignatures::default(),
            local: RwLock::new(None),
        })
    }

    /// The configuration in use.
    pub fn config(&self) -> &ModelsConfig {
        &self.config
    }

    /// Registers an in-process model under an exact model string (takes precedence over providers).
    pub fn register(&self, name: impl Into<String>, model: Arc<dyn Model>) {
        self.registered.write().unwrap_or_else(|e| e.into_inner()).insert(name.into(), model);
    }

    /// Serves `local/...` and `local:...` model strings with `provider`.
    pub fn set_local_provider(&self, provider: LocalProvider) {
        *self.local.write().unwrap_or_else(|e| e.into_inner()) = Some(provider);
    }

    /// The model string used when an agent names none. `auto` (the default) means: the first of
    /// Gemini, OpenAI, Anthropic whose API key is set, else the embedded local model.
    pub fn default_model(&self) -> String {
        let configured = self.config.default_model.trim();
        if !configured.is_empty() && configured != AUTO_MODEL {
            return configured.to_string();
        }
        AUTO_CHOICES
            .iter()
            .find(|(prefix, _)| self.provider(prefix).is_some_and(|p| self.api_key(&p.key_envs).is_some()))
            .map(|(_, model)| model.to_string())
            .unwrap_or_else(|| LOCAL_DEFAULT_MODEL.to_string())
    }

    /// Model strings registered in-process, sorted.
    pub fn registered_models(&self) -> Vec<String> {
        let mut names: Vec<String> =
            self.registered.read().unwrap_or_else(|e| e.into_inner()).keys().cloned().collect();
        names.sort();
        names
    }

    /// Every provider with its base URL and whether its key is present.
    pub fn describe(&self) -> Vec<ProviderStatus> {
        self.providers()
            .into_iter()
            .map(|p| ProviderStatus {
                key_present: self.api_key(&p.key_envs).is_some(),
                provider: p.name,
                wire: p.wire.label().to_string(),
                base_url: p.base_url,
                api_key_env: p.key_envs,
            })
            .collect()
    }

    /// The single model for a string, without retries or fallbacks.
    pub fn resolve_single(&self, model: &str) -> Result<Arc<dyn Model>, ModelError> {
        let model = model.trim();
        if model.is_empty() {
            return Err(ModelError::NotConfigured(
                "empty model string: name a model such as `gemini-2.5-flash` or `openai/gpt-4.1-mini`".into(),
            ));
        }
        if let Some(m) = self.registered.read().unwrap_or_else(|e| e.into_inner()).get(model) {
            return Ok(m.clone());
        }
        if let Some(path) = model.strip_prefix("scripted:") {
            let mut cache = self.scripted.lock().unwrap_or_else(|e| e.into_inner());
            if let Some(m) = cache.get(path) {
                return Ok(m.clone());
            }
            let m: Arc<dyn Model> = Arc::new(ScriptedModel::from_file(path)?);
            cache.insert(path.to_string(), m.clone());
            return Ok(m);
        }
        if model.starts_with("local/") || model.starts_with("local:") {
            let local = self.local.read().unwrap_or_else(|e| e.into_inner()).clone();
            return match local {
                Some(provider) => provider(model),
                None => Err(ModelError::NotConfigured(format!(
                    "model '{model}' is a local model, but this program has no local model provider"
                ))),
            };
        }
        let (prefix, model_id) = if model.starts_with("gemini-") {
            ("gemini", model)
        } else {
            match model.split_once('/') {
                Some((p, id)) => (p, id),
                None => return Err(self.unknown(model)),
            }
        };
        let Some(provider) = self.provider(prefix) else { return Err(self.unknown(model)) };
        if model_id.is_empty() {
            return Err(ModelError::NotConfigured(format!(
                "model string '{model}' names no model after '{prefix}/', e.g. '{prefix}/<model-name>'"
            )));
        }
        let api_key = match self.api_key(&provider.key_envs) {
            Some(key) => Some(key),
            None if provider.key_envs.is_empty() => None,
            None => {
                return Ok(Arc::new(UnconfiguredModel {
                    name: model.to_string(),
                    message: missing_key_message(model, &provider.key_envs),
                }))
            }
        };
        let endpoint = Endpoint {
            name: model.to_string(),
            model_id: model_id.to_string(),
            base_url: provider.base_url,
            api_key,
            http: self.http.clone(),
        };
        Ok(match provider.wire {
            Wire::OpenAi { native } => Arc::new(OpenAiModel::new(endpoint, native)),
            Wire::Gemini => Arc::new(GeminiModel::new(endpoint, self.signatures.clone())),
            Wire::Anthropic => Arc::new(AnthropicModel::new(endpoint)),
        })
    }

    fn api_key(&self, envs: &[String]) -> Option<Secret> {
        envs.iter().find_map(|name| (self.env)(name).filter(|v| !v.trim().is_empty())).map(Secret::new)
    }

    fn builtin_config(&self, prefix: &str) -> &ProviderConfig {
        match prefix {
            "openai" => &self.config.openai,
            "gemini" => &self.config.gemini,
            "anthropic" => &self.config.anthropic,
            "ollama" => &self.config.ollama,
            "openrouter" => &self.config.openrouter,
            _ => &self.config.vllm,
        }
    }

    fn provider(&self, prefix: &str) -> Option<Provider> {
        if let Some(b) = BUILT_INS.iter().find(|b| b.prefix == prefix) {
            let cfg = self.builtin_config(prefix);
            let key_envs = match cfg.api_key_env.as_deref().filter(|s| !s.is_empty()) {
                Some(env) => vec![env.to_string()],
                None => b.key_envs.iter().map(|s| s.to_string()).collect(),
            };
            let base_url =
                cfg.base_url.clone().filter(|s| !s.is_empty()).unwrap_or_else(|| b.base_url.into());
            return Some(Provider { name: prefix.into(), wire: b.wire, base_url, key_envs });
        }
        let custom = self.config.custom.get(prefix)?;
        Some(Provider {
            name: prefix.into(),
            wire: Wire::OpenAi { native: false },
            base_url: custom.base_url.clone(),
            key_envs: custom.api_key_env.iter().filter(|s| !s.is_empty()).cloned().collect(),
        })
    }

    fn providers(&self) -> Vec<Provider> {
        BUILT_INS
            .iter()
            .map(|b| b.prefix)
            .chain(self.config.custom.keys().map(String::as_str))
            .filter_map(|p| self.provider(p))
            .collect()
    }

    fn unknown(&self, model: &str) -> ModelError {
        let prefixes: Vec<String> = self.providers().into_iter().map(|p| format!("{}/", p.name)).collect();
        let hint = if model.starts_with("claude") {
            format!(" (did you mean 'anthropic/{model}'?)")
        } else if model.starts_with("gpt-") || model.starts_with("o3") || model.starts_with("o4") {
            format!(" (did you mean 'openai/{model}'?)")
        } else {
            String::new()
        };
        let registered = self.registered_models();
        let registered = if registered.is_empty() {
            String::new()
        } else {
            format!(", or one of {}", registered.join(", "))
        };
        ModelError::NotConfigured(format!(
            "unknown model '{model}'{hint}: use a bare 'gemini-*' name, one of the provider prefixes {} \
             followed by the model name, 'scripted:<file>'{registered}; custom OpenAI-compatible providers \
             go in [models.custom.<name>] in vana.toml; local models are 'local/<name>' or 'local:<file.gguf>'",
            prefixes.join(", ")
        ))
    }
}

/// The message of a model whose API key is missing.
fn missing_key_message(model: &str, envs: &[String]) -> String {
    let vars = match envs {
        [one] => one.clone(),
        [first, rest @ ..] => format!("{first} (or {})", rest.join(" or ")),
        [] => String::new(),
    };
    format!(
        "model '{model}' needs an API key: set {vars}, or pick another model with `default_model` in vana.toml \
         / VANA_MODELS_DEFAULT_MODEL / `--model` (or the agent's `model:`)"
    )
}

impl ModelResolver for ModelRegistry {
    fn resolve(&self, model: &str) -> Result<Arc<dyn Model>, ModelError> {
        let primary = if model.trim().is_empty() || model.trim() == AUTO_MODEL {
            ModelRegistry::default_model(self)
        } else {
            model.trim().to_string()
        };
        let mut names = vec![primary];
        for fallback in &self.config.fallbacks {
            let fallback = fallback.trim().to_string();
            if !fallback.is_empty() && !names.contains(&fallback) {
                names.push(fallback);
            }
        }
        let models = names.iter().map(|n| self.resolve_single(n)).collect::<Result<Vec<_>, _>>()?;
        Ok(Arc::new(ResilientModel::new(models, RetryPolicy::from(&self.config.retry))?))
    }

    fn default_model(&self) -> String {
        ModelRegistry::default_model(self)
    }
}

/// A model whose provider has no API key: every call fails with `NotConfigured`.
#[derive(Debug, Clone)]
pub struct UnconfiguredModel {
    name: String,
    message: String,
}

impl UnconfiguredModel {
    /// A model named `name` failing with `message`.
    pub fn new(name: impl Into<String>, message: impl Into<String>) -> Self {
        UnconfiguredModel { name: name.into(), message: message.into() }
    }
}

#[async_trait]
impl Model for UnconfiguredModel {
    fn name(&self) -> &str {
        &self.name
    }

    async fn generate(
        &self,
        _request: Arc<LlmRequest>,
        _stream: bool,
    ) -> Result<LlmResponseStream, ModelError> {
        Err(ModelError::NotConfigured(self.message.clone()))
    }
}
