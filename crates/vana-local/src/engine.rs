//! The compute thread that owns every loaded GGUF model and its llama.cpp context, and runs
//! generation jobs one after the other.
//!
//! llama.cpp contexts must not be used from two threads and must not outlive their model, so
//! both live on one dedicated OS thread for the process's life. Requests reach it over a
//! channel; tokens go back over a `tokio::sync::mpsc` channel, so no tokio worker ever blocks on
//! inference. A job whose receiver was dropped is skipped (if still queued) or stopped after the
//! current token (if running).

use crate::grammar::ToolChoice;
use crate::grounding::{Repetition, REPETITION_NOTE};
use crate::prompt::{fallback_prompt, ChatMessage};
use llama_cpp_2::context::params::LlamaContextParams;
use llama_cpp_2::context::LlamaContext;
use llama_cpp_2::llama_backend::LlamaBackend;
use llama_cpp_2::llama_batch::LlamaBatch;
use llama_cpp_2::model::params::LlamaModelParams;
use llama_cpp_2::model::{LlamaChatMessage, LlamaChatTemplate, LlamaModel};
use llama_cpp_2::sampling::LlamaSampler;
use llama_cpp_2::token::data::LlamaTokenData;
use llama_cpp_2::token::data_array::LlamaTokenDataArray;
use llama_cpp_2::token::LlamaToken;
use llama_cpp_2::vocab::LlamaVocab;
use serde_json::Value;
use std::num::NonZeroU32;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::path::{Path, PathBuf};
use std::sync::{mpsc as std_mpsc, Arc, Mutex, OnceLock};
use std::time::{Duration, Instant};
use tokio::sync::{mpsc, oneshot};
use vana_core::event::new_call_id;
use vana_core::{Content, FunctionCall, LlmResponse, ModelError, Part, UsageMetadata};

/// Settings fixed when a model file is loaded (part of the load cache's key).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct LoadOptions {
    /// Upper bound of the context window; the window is `min(this, the model's training
    /// context)`. Default 8192, or `$VANA_LOCAL_N_CTX`.
    pub max_context: u32,
    /// CPU threads for generation and prompt processing. Default: the available cores (at most
    /// 8), or `$VANA_LOCAL_THREADS`.
    pub threads: u32,
    /// Conversations kept in the KV cache at once (llama.cpp sequences sharing the context
    /// window), so agents taking turns on one model each find their prompt prefix cached.
    /// Default [`DEFAULT_SLOTS`], or `$VANA_LOCAL_SLOTS`. Each cached conversation makes
    /// generation a little slower (attention spans every cached cell); 1 is fastest for a single
    /// conversation.
    pub slots: u32,
}

/// Default of [`LoadOptions::slots`].
pub const DEFAULT_SLOTS: u32 = 4;

/// Default upper bound of the context window.
pub const DEFAULT_MAX_CONTEXT: u32 = 8192;

impl Default for LoadOptions {
    fn default() -> Self {
        let env =
            |k: &str| std::env::var(k).ok().and_then(|v| v.trim().parse::<u32>().ok()).filter(|v| *v > 0);
        let cores = std::thread::available_parallelism().map(|n| n.get() as u32).unwrap_or(4).min(8);
        LoadOptions {
            max_context: env("VANA_LOCAL_N_CTX").unwrap_or(DEFAULT_MAX_CONTEXT),
            threads: env("VANA_LOCAL_THREADS").unwrap_or(cores),
            slots: env("VANA_LOCAL_SLOTS").unwrap_or(DEFAULT_SLOTS).min(64),
        }
    }
}

/// How prompts are built for a model.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PromptFormat {
    /// The chat template from the GGUF metadata, applied by llama.cpp.
    ChatTemplate,
    /// The plain format of [`crate::prompt::fallback_prompt`]; `reason` says why.
    Fallback {
        /// Why the GGUF's own template is not used.
        reason: String,
    },
}

/// What is known about a loaded model.
#[derive(Debug, Clone)]
pub struct ModelInfo {
    /// The GGUF file.
    pub path: PathBuf,
    /// `general.architecture` from the GGUF metadata (e.g. `llama`, `qwen2`, `gemma3`).
    pub architecture: String,
    /// Parameter count.
    pub n_params: u64,
    /// Context window in use (tokens).
    pub n_ctx: u32,
    /// Context length the model was trained with.
    pub n_ctx_train: u32,
    /// CPU threads used.
    pub threads: u32,
    /// How prompts are built.
    pub prompt_format: PromptFormat,
    /// Time spent loading the file and creating the context.
    pub load_time: Duration,
}

/// Counters of the last finished generation of a model (for benchmarks and logs).
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct GenerationStats {
    /// Tokens in the prompt.
    pub prompt_tokens: u32,
    /// Prompt tokens actually evaluated (the rest were reused from the KV cache of an earlier
    /// request with the same prefix).
    pub prompt_tokens_evaluated: u32,
    /// Time spent evaluating the prompt.
    pub prompt_time: Duration,
    /// Tokens generated (sampled, excluding the end-of-generation token).
    pub generated_tokens: u32,
    /// Time from the end of prompt evaluation to the end of generation (sampling included).
    pub generation_time: Duration,
    /// The response stream was dropped before the end, which stopped generation.
    pub cancelled: bool,
}

/// A request as the worker runs it.
#[derive(Debug, Clone)]
pub(crate) struct GenJob {
    pub model_name: String,
    pub messages: Vec<ChatMessage>,
    pub stop: Vec<String>,
    pub max_tokens: u32,
    pub temperature: f32,
    pub seed: u32,
    /// GBNF grammar (root `root`) when the request offers tools.
    pub grammar: Option<String>,
    pub tool_choice: ToolChoice,
    pub stream: bool,
}

type Reply = Result<LlmResponse, ModelError>;

struct Job {
    gen: GenJob,
    ready: oneshot::Sender<Result<u32, ModelError>>,
    out: mpsc::UnboundedSender<Reply>,
}

/// Handle to one model loaded on the compute thread.
pub(crate) struct Engine {
    /// Index of the model on the compute thread.
    id: usize,
    pub info: ModelInfo,
    pub stats: Arc<Mutex<Option<GenerationStats>>>,
}

/// What the compute thread is asked to do.
enum Command {
    Load {
        path: PathBuf,
        options: LoadOptions,
        stats: Arc<Mutex<Option<GenerationStats>>>,
        reply: std_mpsc::Sender<Result<(usize, ModelInfo), ModelError>>,
    },
    Run {
        model: usize,
        job: Job,
    },
}

static BACKEND: OnceLock<Result<LlamaBackend, String>> = OnceLock::new();

/// The process-wide llama.cpp backend (initialised once). llama.cpp's own log goes to `tracing`
/// when `VANA_LOCAL_LLAMA_LOG` is set, and nowhere otherwise.
fn backend() -> Result<&'static LlamaBackend, ModelError> {
    BACKEND
        .get_or_init(|| {
            let enabled = std::env::var_os("VANA_LOCAL_LLAMA_LOG").is_some_and(|v| !v.is_empty() && v != "0");
            llama_cpp_2::send_logs_to_tracing(llama_cpp_2::LogOptions::default().with_logs_enabled(enabled));
            LlamaBackend::init().map_err(|e| e.to_string())
        })
        .as_ref()
        .map_err(|e| ModelError::NotConfigured(format!("cannot initialise llama.cpp: {e}")))
}

/// The compute thread's queue, starting the thread on first use.
///
/// One OS thread owns every loaded model and context and runs all loads and generations, one
/// at a time: llama.cpp contexts must stay on one thread, and each model already uses every
/// core it is given. A single thread also means a single OpenMP thread team: two threads
/// computing (or OpenMP workers of an idle model still spinning) on the same few cores would
/// slow every token down several times.
fn compute_thread() -> Result<&'static std_mpsc::Sender<Command>, ModelError> {
    static QUEUE: OnceLock<Result<std_mpsc::Sender<Command>, String>> = OnceLock::new();
    QUEUE
        .get_or_init(|| {
            let (tx, rx) = std_mpsc::channel();
            std::thread::Builder::new()
                .name("vana-local".into())
                .spawn(move || serve(rx))
                .map(|_| tx)
                .map_err(|e| e.to_string())
        })
        .as_ref()
        .map_err(|e| ModelError::NotConfigured(format!("cannot start the local model thread: {e}")))
}

impl Engine {
    /// Loads `path` on the compute thread; returns once the model is ready or failed to load.
    pub fn start(path: &Path, options: &LoadOptions) -> Result<Engine, ModelError> {
        if !path.is_file() {
            return Err(ModelError::NotConfigured(format!(
                "local model file {} does not exist (model strings: local/smollm2-135m, local/gemma3-270m, local:/path/to/model.gguf)",
                path.display()
            )));
        }
        backend()?;
        let stats = Arc::new(Mutex::new(None));
        let (reply, answer) = std_mpsc::channel();
        let load =
            Command::Load { path: path.to_path_buf(), options: options.clone(), stats: stats.clone(), reply };
        let crashed = || {
            ModelError::NotConfigured(format!("loading {} crashed the local model thread", path.display()))
        };
        compute_thread()?.send(load).map_err(|_| crashed())?;
        let (id, info) = answer.recv().map_err(|_| crashed())??;
        Ok(Engine { id, info, stats })
    }

    /// Queues `gen`; waits (asynchronously) until its prompt is checked and evaluation starts,
    /// then returns the receiver of its responses.
    pub async fn submit(&self, gen: GenJob) -> Result<mpsc::UnboundedReceiver<Reply>, ModelError> {
        let model = gen.model_name.clone();
        let (ready_tx, ready_rx) = oneshot::channel();
        let (out_tx, out_rx) = mpsc::unbounded_channel();
        let stopped = || ModelError::Protocol {
            model: model.clone(),
            message: "the local model thread has stopped".into(),
        };
        let job = Job { gen, ready: ready_tx, out: out_tx };
        compute_thread()?.send(Command::Run { model: self.id, job }).map_err(|_| stopped())?;
        ready_rx.await.map_err(|_| stopped())??;
        Ok(out_rx)
    }
}

/// The compute thread: loads models and runs jobs, in arrival order. Loaded models live as long
/// as the process (the engine cache never drops them), so they are leaked to `'static` for their
/// contexts to borrow.
fn serve(commands: std_mpsc::Receiver<Command>) {
    let mut loaded: Vec<(Worker<'static>, LlamaContext<'static>)> = Vec::new();
    while let Ok(command) = commands.recv() {
        match command {
            Command::Load { path, options, stats, reply } => {
                let result =
                    catch_unwind(AssertUnwindSafe(|| load(&path, &options, stats))).unwrap_or_else(|_| {
                        Err(ModelError::NotConfigured(format!(
                            "cannot load local model {}: llama.cpp panicked while loading",
                            path.display()
                        )))
                    });
                let _ = reply.send(result.map(|(worker, ctx, info)| {
                    loaded.push((worker, ctx));
                    (loaded.len() - 1, info)
                }));
            }
            Command::Run { model, job } => {
                let Some((worker, ctx)) = loaded.get_mut(model) else { continue };
                if job.out.is_closed() {
                    continue;
                }
                let out = job.out.clone();
                let model_name = job.gen.model_name.clone();
                if let Err(panic) = catch_unwind(AssertUnwindSafe(|| worker.run(ctx, job))) {
                    let message = panic
                        .downcast_ref::<String>()
                        .cloned()
                        .or_else(|| panic.downcast_ref::<&str>().map(|s| s.to_string()))
                        .unwrap_or_default();
                    worker.reset(ctx);
                    let _ = out.send(Err(ModelError::Protocol {
                        model: model_name,
                        message: format!("local generation failed: {message}"),
                    }));
                }
            }
        }
    }
}

/// Loads a GGUF and creates its context.
fn load(
    path: &Path,
    options: &LoadOptions,
    stats: Arc<Mutex<Option<GenerationStats>>>,
) -> Result<(Worker<'static>, LlamaContext<'static>, ModelInfo), ModelError> {
    let started = Instant::now();
    let backend = backend()?;
    let load_err = |what: String| {
        ModelError::NotConfigured(format!("cannot load local model {}: {what}", path.display()))
    };
    let model = LlamaModel::load_from_file(backend, path, &LlamaModelParams::default()).map_err(|e| {
        load_err(format!(
            "llama.cpp could not read it ({e}): not a GGUF file, a model architecture this llama.cpp does not \
             support, or a damaged file; set VANA_LOCAL_LLAMA_LOG=1 to see llama.cpp's log"
        ))
    })?;
    let model: &'static LlamaModel = Box::leak(Box::new(model));
    let n_ctx_train = model.n_ctx_train().max(1);
    let n_ctx = options.max_context.clamp(16, n_ctx_train.max(16));
    let threads = options.threads.max(1) as i32;
    let params = LlamaContextParams::default()
        .with_n_ctx(NonZeroU32::new(n_ctx))
        .with_n_batch(512)
        .with_n_ubatch(512)
        .with_n_threads(threads)
        .with_n_threads_batch(threads)
        .with_n_seq_max(options.slots.clamp(1, 64))
        .with_kv_unified(true);
    let ctx = model
        .new_context(backend, params)
        .map_err(|e| load_err(format!("cannot create a {n_ctx}-token context: {e}")))?;
    let (template, prompt_format) = detect_template(model);
    let info = ModelInfo {
        path: path.to_path_buf(),
        architecture: model.meta_val_str("general.architecture").unwrap_or_default(),
        n_params: model.n_params(),
        n_ctx: ctx.n_ctx(),
        n_ctx_train,
        threads: threads as u32,
        prompt_format,
        load_time: started.elapsed(),
    };
    tracing::info!(path = %path.display(), arch = %info.architecture, n_ctx = info.n_ctx, format = ?info.prompt_format,
        load_ms = info.load_time.as_millis() as u64, "local model loaded");
    let worker = Worker {
        model,
        template,
        n_ctx: info.n_ctx,
        n_ctx_train,
        slots: (0..options.slots.clamp(1, 64)).map(|_| Slot::default()).collect(),
        clock: 0,
        reuse_prefix: !model.is_recurrent() && !model.is_hybrid(),
        stats,
    };
    Ok((worker, ctx, info))
}

/// The GGUF's chat template if llama.cpp can apply it, else the fallback format and why.
fn detect_template(model: &LlamaModel) -> (Option<LlamaChatTemplate>, PromptFormat) {
    let template = match model.chat_template(None) {
        Ok(t) => t,
        Err(_) => {
            return (None, PromptFormat::Fallback { reason: "the GGUF has no chat template".into() });
        }
    };
    let probe = [("system", "s"), ("user", "u"), ("assistant", "a"), ("user", "u")]
        .iter()
        .filter_map(|(r, c)| LlamaChatMessage::new(r.to_string(), c.to_string()).ok())
        .collect::<Vec<_>>();
    match model.apply_chat_template(&template, &probe, true) {
        Ok(_) => (Some(template), PromptFormat::ChatTemplate),
        Err(e) => (
            None,
            PromptFormat::Fallback {
                reason: format!("llama.cpp does not recognise the GGUF's chat template ({e})"),
            },
        ),
    }
}

/// How a reply turned out to be shaped.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Shape {
    /// First character not seen yet (tools offered in auto mode).
    Undecided,
    Text,
    Call,
}

struct Worker<'m> {
    model: &'m LlamaModel,
    template: Option<LlamaChatTemplate>,
    n_ctx: u32,
    n_ctx_train: u32,
    /// The cached conversations, one per llama.cpp sequence id (the slot's index).
    slots: Vec<Slot>,
    /// Counts requests, to find the least recently used slot.
    clock: u64,
    reuse_prefix: bool,
    /// Where the stats of the last finished or cancelled generation go.
    stats: Arc<Mutex<Option<GenerationStats>>>,
}

impl Worker<'_> {
    fn reset(&mut self, ctx: &mut LlamaContext<'_>) {
        ctx.clear_kv_cache();
        for slot in &mut self.slots {
            slot.tokens.clear();
        }
    }

    /// Empties one slot (its sequence in the KV cache).
    fn clear_slot(&mut self, ctx: &mut LlamaContext<'_>, slot: usize) {
        if ctx.clear_kv_cache_seq(Some(slot as u32), None, None) != Ok(true) {
            self.reset(ctx);
        }
        self.slots[slot].tokens.clear();
    }

    fn prompt(&self, messages: &[ChatMessage]) -> Result<String, String> {
        if let Some(template) = &self.template {
            let chat = messages
                .iter()
                .map(|m| LlamaChatMessage::new(m.role.to_string(), m.content.replace('\0', "")))
                .collect::<Result<Vec<_>, _>>()
                .map_err(|e| e.to_string())?;
            return self.model.apply_chat_template(template, &chat, true).map_err(|e| e.to_string());
        }
        Ok(fallback_prompt(messages))
    }

    fn tokenize(&self, prompt: &str) -> Vec<LlamaToken> {
        let vocab = self.model.vocab();
        // A template that writes the BOS text itself must not get a second BOS.
        let bos = vocab.token_to_piece(vocab.bos(), true, None);
        let starts_with_bos = !bos.is_empty() && prompt.as_bytes().starts_with(&bos);
        vocab.tokenize(prompt.as_bytes(), !starts_with_bos, true)
    }

    /// Runs one job; records its stats (before the final response is sent) when it ran to the
    /// end or was cancelled during generation.
    fn run(&mut self, ctx: &mut LlamaContext<'_>, job: Job) {
        let _ = self.run_inner(ctx, job);
    }

    fn run_inner(&mut self, ctx: &mut LlamaContext<'_>, job: Job) -> Option<()> {
        let Job { gen, ready, out } = job;
        let model_name = gen.model_name.clone();
        let fail = |message: String| ModelError::Protocol { model: model_name.clone(), message };
        let prompt = match self.prompt(&gen.messages) {
            Ok(p) => p,
            Err(e) => {
                let _ = ready.send(Err(fail(format!("cannot build the prompt: {e}"))));
                return None;
            }
        };
        let tokens = self.tokenize(&prompt);
        let n_prompt = tokens.len() as u32;
        if n_prompt == 0 {
            let _ = ready.send(Err(fail("the prompt is empty".into())));
            return None;
        }
        if n_prompt >= self.n_ctx {
            let _ = ready.send(Err(ModelError::ContextLength {
                model: model_name.clone(),
                message: format!(
                    "the prompt is {n_prompt} tokens but the context window holds {} tokens \
                     (the model was trained with {}), leaving no room to generate; shorten the conversation",
                    self.n_ctx, self.n_ctx_train
                ),
            }));
            return None;
        }
        let grammar = match &gen.grammar {
            Some(g) => match LlamaSampler::grammar(self.model, g, "root") {
                Ok(s) => Some(s),
                Err(e) => {
                    let _ = ready.send(Err(fail(format!("llama.cpp rejected the tool-call grammar ({e})"))));
                    return None;
                }
            },
            None => None,
        };
        if ready.send(Ok(n_prompt)).is_err() {
            return None;
        }

        // Prompt: reuse the longest cached prefix, evaluate the rest (at least one token, whose
        // logits start generation).
        let started = Instant::now();
        // Text stops at `max_tokens`; a tool call may run to MIN_TOOL_CALL_TOKENS so that a small
        // limit does not cut it (a cut call is lost). Both stop at the end of the context.
        let room = self.n_ctx - n_prompt;
        let budget = gen.max_tokens.min(room);
        let call_budget = gen.max_tokens.max(MIN_TOOL_CALL_TOKENS).min(room);
        let reserve = if gen.grammar.is_some() { call_budget } else { budget };
        let (slot, evaluated) = match self.eval_prompt(ctx, &tokens, reserve, &out) {
            Ok(r) => r,
            Err(_) if out.is_closed() => return None,
            Err(e) => {
                self.reset(ctx);
                let _ = out.send(Err(fail(e)));
                return None;
            }
        };
        let prompt_time = started.elapsed();
        let gen_started = Instant::now();

        let mut plain = plain_sampler(gen.temperature, gen.seed);
        // Text also gets llama.cpp's repetition penalty (tool calls copy from the prompt, so
        // theirs stays off), and a loop detector that ends a reply repeating itself.
        let mut text_plain = text_sampler(gen.temperature, gen.seed, self.model.n_vocab());
        let mut repetition = Repetition::default();
        let mut grammar = grammar;
        let mut shape = match (&grammar, gen.tool_choice) {
            (None, _) => Shape::Text,
            (Some(_), ToolChoice::Required) => Shape::Call,
            (Some(_), _) => Shape::Undecided,
        };
        let stops: Vec<String> = gen.stop.iter().filter(|s| !s.is_empty()).cloned().collect();
        let vocab = self.model.vocab();
        let mut batch = LlamaBatch::new(1, 1);
        let mut bytes: Vec<u8> = Vec::new();
        let mut text = String::new();
        let mut streamed = 0usize;
        let mut generated = 0u32;
        let mut finish = "length";
        let mut pos = n_prompt as i32;
        let mut cancelled = false;
        loop {
            if out.is_closed() {
                cancelled = true;
                break;
            }
            let limit = if shape == Shape::Text { budget } else { call_budget };
            if generated >= limit {
                break;
            }
            let token = if shape == Shape::Text {
                sample_next(ctx, &mut text_plain, None, &vocab)
            } else {
                sample_next(ctx, &mut plain, grammar.as_mut(), &vocab)
            };
            if vocab.is_eog(token) {
                finish = "stop";
                break;
            }
            generated += 1;
            bytes.extend_from_slice(&vocab.token_to_piece(token, false, None));
            let valid = take_utf8(&mut bytes);
            if text.is_empty() {
                text.push_str(valid.trim_start());
            } else {
                text.push_str(&valid);
            }
            if shape == Shape::Undecided && !text.is_empty() {
                shape = if text.starts_with('{') { Shape::Call } else { Shape::Text };
            }
            if shape == Shape::Text {
                if let Some(at) = find_stop(&text, &stops, streamed) {
                    text.truncate(at);
                    bytes.clear();
                    finish = "stop";
                    break;
                }
                if let Some(cut) = repetition.check(&text) {
                    tracing::info!(model = %model_name, generated, "local reply cut: it repeats itself");
                    text.truncate(cut);
                    text.truncate(text.trim_end().len());
                    text.push_str("\n\n");
                    text.push_str(REPETITION_NOTE);
                    bytes.clear();
                    finish = "stop";
                    break;
                }
                if gen.stream {
                    let safe = text.len() - held_back(&text, &stops);
                    if safe > streamed {
                        let _ = out.send(Ok(partial(&text[streamed..safe])));
                        streamed = safe;
                    }
                }
            }
            if generated >= if shape == Shape::Text { budget } else { call_budget } {
                break;
            }
            batch.clear();
            if let Err(e) = batch
                .add(token, pos, &[slot as i32], true)
                .map_err(|e| e.to_string())
                .and_then(|()| decode(ctx, &mut batch).map_err(|e| e.to_string()))
            {
                self.reset(ctx);
                let _ = out.send(Err(fail(format!("llama.cpp could not evaluate a token: {e}"))));
                return None;
            }
            self.slots[slot].tokens.push(token);
            pos += 1;
        }
        if !bytes.is_empty() {
            text.push_str(&String::from_utf8_lossy(&bytes));
        }
        let stats = GenerationStats {
            prompt_tokens: n_prompt,
            prompt_tokens_evaluated: evaluated,
            prompt_time,
            generated_tokens: generated,
            generation_time: gen_started.elapsed(),
            cancelled,
        };
        *self.stats.lock().unwrap_or_else(|e| e.into_inner()) = Some(stats);
        if cancelled {
            return None;
        }
        let usage = Some(UsageMetadata::new(n_prompt as u64, generated as u64));
        let mut parts = Vec::new();
        match shape {
            Shape::Call if finish == "stop" => match parse_call(&text) {
                Some(call) => {
                    parts.push(Part::function_call(call));
                    finish = "tool_calls";
                }
                None => {
                    let _ =
                        out.send(Err(fail(format!("the constrained tool call is not valid JSON: {text}"))));
                    return None;
                }
            },
            Shape::Call | Shape::Undecided => {
                // Cut by the token budget before the call was complete: never hand out a
                // malformed call.
                tracing::warn!(model = %model_name, max_tokens = gen.max_tokens, "local tool call cut by the token limit; dropped");
            }
            Shape::Text => {
                // (A cut loop may end before what was already streamed: the final text counts.)
                if gen.stream && text.len() > streamed && text.is_char_boundary(streamed) {
                    let _ = out.send(Ok(partial(&text[streamed..])));
                }
                if !text.is_empty() {
                    parts.push(Part::text(text));
                }
            }
        }
        let _ = out.send(Ok(LlmResponse {
            content: Some(Content { role: "model".into(), parts }),
            partial: false,
            turn_complete: true,
            usage,
            finish_reason: Some(finish.into()),
        }));
        Some(())
    }

    /// Puts `tokens` into a slot, reusing the longest cached prefix and making room for `budget`
    /// more tokens; evaluates the rest (at least the last token, whose logits start generation).
    /// Returns the slot and how many tokens were evaluated; stops early (with an error) when `out`
    /// is closed.
    fn eval_prompt(
        &mut self,
        ctx: &mut LlamaContext<'_>,
        tokens: &[LlamaToken],
        budget: u32,
        out: &mpsc::UnboundedSender<Reply>,
    ) -> Result<(usize, u32), String> {
        self.clock += 1;
        let (slot, mut keep) = self.pick_slot(tokens);
        // A sliding-window cache may have dropped early positions: then nothing can be reused.
        if keep > 0 && ctx.kv_cache_seq_pos_min(slot as i32) > 0 {
            keep = 0;
        }
        if keep == 0 {
            self.clear_slot(ctx, slot);
        } else if ctx.kv_cache_seq_rm(slot as i32, Some(keep as u32), None).is_err() {
            self.clear_slot(ctx, slot);
            keep = 0;
        }
        self.slots[slot].tokens.truncate(keep);
        self.slots[slot].last_used = self.clock;
        // The slots share the context window: evict the least recently used others until the
        // prompt and the answer fit.
        let need = tokens.len() - keep + budget as usize;
        loop {
            let used: usize = self.slots.iter().map(|s| s.tokens.len()).sum();
            if used + need <= self.n_ctx as usize {
                break;
            }
            let victim = (0..self.slots.len())
                .filter(|&i| i != slot && !self.slots[i].tokens.is_empty())
                .min_by_key(|&i| self.slots[i].last_used);
            match victim {
                Some(v) => self.clear_slot(ctx, v),
                None => break,
            }
        }
        match self.decode_prompt(ctx, slot, tokens, keep, out) {
            Ok(n) => Ok((slot, n)),
            Err(e) if out.is_closed() => Err(e),
            Err(_) => {
                // E.g. no room left in a fragmented cache: start over with an empty cache.
                self.reset(ctx);
                self.slots[slot].last_used = self.clock;
                self.decode_prompt(ctx, slot, tokens, 0, out).map(|n| (slot, n))
            }
        }
    }

    /// The slot to use for `tokens`, and how many of its cached tokens can be kept: the slot that
    /// keeps the most tokens, among those that would keep at least half of what they hold (so a
    /// shared chat-template preamble alone does not wipe another conversation's cache); else an
    /// empty slot; else the least recently used one.
    fn pick_slot(&self, tokens: &[LlamaToken]) -> (usize, usize) {
        let common = |slot: &Slot| {
            if !self.reuse_prefix {
                return 0;
            }
            slot.tokens.iter().zip(tokens).take_while(|(a, b)| a == b).count().min(tokens.len() - 1)
        };
        let reusable = self
            .slots
            .iter()
            .enumerate()
            .map(|(i, s)| (i, common(s), s.tokens.len()))
            .filter(|&(_, c, len)| c > 0 && c * 2 >= len)
            .max_by_key(|&(i, c, _)| (c, std::cmp::Reverse(self.slots[i].last_used)));
        if let Some((i, c, _)) = reusable {
            return (i, c);
        }
        let i = (0..self.slots.len())
            .min_by_key(|&i| (!self.slots[i].tokens.is_empty(), self.slots[i].last_used))
            .unwrap_or(0);
        (i, common(&self.slots[i]))
    }

    fn decode_prompt(
        &mut self,
        ctx: &mut LlamaContext<'_>,
        slot: usize,
        tokens: &[LlamaToken],
        keep: usize,
        out: &mpsc::UnboundedSender<Reply>,
    ) -> Result<u32, String> {
        let n_batch = ctx.n_batch().max(1) as usize;
        let mut batch = LlamaBatch::new(n_batch, 1);
        let rest = &tokens[keep..];
        for (c, chunk) in rest.chunks(n_batch).enumerate() {
            if out.is_closed() {
                return Err("cancelled".into());
            }
            batch.clear();
            let last_chunk = (c + 1) * n_batch >= rest.len();
            for (i, t) in chunk.iter().enumerate() {
                let pos = (keep + c * n_batch + i) as i32;
                batch
                    .add(*t, pos, &[slot as i32], last_chunk && i == chunk.len() - 1)
                    .map_err(|e| e.to_string())?;
            }
            decode(ctx, &mut batch).map_err(|e| format!("llama.cpp could not evaluate the prompt: {e}"))?;
            self.slots[slot].tokens.extend_from_slice(chunk);
        }
        Ok(rest.len() as u32)
    }
}

/// One cached conversation.
#[derive(Debug, Default)]
struct Slot {
    /// Tokens whose keys/values are in the KV cache under this slot's sequence id, in order.
    tokens: Vec<LlamaToken>,
    /// The `clock` of the last request that used it (0: never).
    last_used: u64,
}

/// Runs llama.cpp's forward pass (on the compute thread, so one at a time in the process).
fn decode(ctx: &mut LlamaContext<'_>, batch: &mut LlamaBatch<'_>) -> Result<(), llama_cpp_2::DecodeError> {
    ctx.decode(batch)
}

/// The sampling stages after an optional grammar: greedy at temperature 0, else top-k 40,
/// top-p 0.95, min-p 0.05, temperature, then a seeded draw.
fn sampling_stages(temperature: f32, seed: u32) -> Vec<LlamaSampler> {
    if temperature <= 0.0 {
        return vec![LlamaSampler::greedy()];
    }
    vec![
        LlamaSampler::top_k(40),
        LlamaSampler::top_p(0.95, 1),
        LlamaSampler::min_p(0.05, 1),
        LlamaSampler::temp(temperature),
        LlamaSampler::dist(seed),
    ]
}

/// Samples the next token from the last logits. With a grammar, by rejection (as llama.cpp's
/// common sampler does): draw from the unconstrained distribution and keep the token if the
/// grammar allows it; otherwise filter all candidates through the grammar and draw again. Only
/// the rare rejected steps pay for checking the whole vocabulary against the grammar.
///
/// The grammar sees each kept token exactly once (`accept`); `LlamaSampler::sample` already
/// accepts into `plain`, which holds no grammar, so nothing is accepted twice.
fn sample_next(
    ctx: &LlamaContext<'_>,
    plain: &mut LlamaSampler,
    grammar: Option<&mut LlamaSampler>,
    vocab: &LlamaVocab<'_>,
) -> LlamaToken {
    let token = plain.sample(ctx, -1);
    let Some(grammar) = grammar else { return token };
    let mut one = LlamaTokenDataArray::new(vec![LlamaTokenData::new(token, 0.0, 0.0)], false);
    one.apply_sampler(grammar);
    let token = if one.data.first().is_some_and(|d| d.logit().is_finite()) {
        token
    } else {
        // Rejected: draw among the grammar-allowed tokens. First among the most likely ones
        // (cheap; for greedy decoding the result is exactly that of filtering everything, as the
        // best allowed token is then among them), else among the whole vocabulary.
        let logits = ctx.get_logits_ith(-1);
        let mut top: Vec<(f32, i32)> = logits.iter().copied().zip(0..).collect();
        let k = TOP_FIRST.min(top.len());
        if k < top.len() {
            top.select_nth_unstable_by(k, |a, b| b.0.total_cmp(&a.0));
            top.truncate(k);
        }
        let mut few = LlamaTokenDataArray::new(
            top.iter().map(|&(logit, id)| LlamaTokenData::new(LlamaToken::new(id), logit, 0.0)).collect(),
            false,
        );
        few.apply_sampler(grammar);
        few.data.retain(|d| d.logit().is_finite());
        let picked = if few.data.is_empty() {
            None
        } else {
            few.apply_sampler(plain);
            few.selected_token()
        };
        match picked {
            Some(t) => t,
            None => {
                let mut all = ctx.token_data_array_ith(-1);
                all.apply_sampler(grammar);
                all.apply_sampler(plain);
                match all.selected_token() {
                    Some(t) => t,
                    // Nothing selectable (cannot happen with a grammar that always has a
                    // continuation): end the reply rather than feed the grammar a token it rejects.
                    None => return vocab.eos(),
                }
            }
        }
    };
    // An end-of-generation token ends the reply; the grammar need not see it.
    if !vocab.is_eog(token) {
        grammar.accept(token);
    }
    token
}

/// The least number of tokens a tool call may use, whatever `max_output_tokens` says: a call cut
/// by the limit would be lost (it is never returned malformed).
pub const MIN_TOOL_CALL_TOKENS: u32 = 256;

/// How many of the most likely tokens a rejected draw checks against the grammar before it
/// checks the whole vocabulary.
const TOP_FIRST: usize = 128;

fn plain_sampler(temperature: f32, seed: u32) -> LlamaSampler {
    LlamaSampler::chain_simple(sampling_stages(temperature, seed))
}

/// Tokens of recent text the repetition penalty looks back on.
const PENALTY_LAST_N: i32 = 64;

/// llama.cpp's repetition penalty for text replies (1.0 is off; llama.cpp's CLI default is 1.0,
/// llama-server's examples use 1.1).
const REPEAT_PENALTY: f32 = 1.1;

/// [`plain_sampler`] after llama.cpp's repetition penalty.
fn text_sampler(temperature: f32, seed: u32, n_vocab: i32) -> LlamaSampler {
    let mut stages = vec![LlamaSampler::penalties(n_vocab, PENALTY_LAST_N, REPEAT_PENALTY, 0.0, 0.0)];
    stages.extend(sampling_stages(temperature, seed));
    LlamaSampler::chain_simple(stages)
}

fn partial(text: &str) -> LlmResponse {
    LlmResponse {
        content: Some(Content { role: "model".into(), parts: vec![Part::text(text)] }),
        partial: true,
        turn_complete: false,
        usage: None,
        finish_reason: None,
    }
}

/// Removes and returns the longest valid UTF-8 prefix of `bytes`; an incomplete character at
/// the end stays for the next token; invalid bytes become U+FFFD.
fn take_utf8(bytes: &mut Vec<u8>) -> String {
    let mut out = String::new();
    loop {
        match std::str::from_utf8(bytes) {
            Ok(s) => {
                out.push_str(s);
                bytes.clear();
                return out;
            }
            Err(e) => {
                let valid = e.valid_up_to();
                out.push_str(std::str::from_utf8(&bytes[..valid]).unwrap_or_default());
                match e.error_len() {
                    None => {
                        bytes.drain(..valid);
                        return out;
                    }
                    Some(bad) => {
                        out.push('\u{FFFD}');
                        bytes.drain(..valid + bad);
                    }
                }
            }
        }
    }
}

/// Byte offset of the first stop sequence in `text` that ends after `from` (earlier text was
/// already checked).
fn find_stop(text: &str, stops: &[String], from: usize) -> Option<usize> {
    stops
        .iter()
        .filter_map(|s| {
            let mut start = from.saturating_sub(s.len());
            while !text.is_char_boundary(start) {
                start -= 1;
            }
            text[start..].find(s.as_str()).map(|i| start + i)
        })
        .min()
}

/// Length of the longest suffix of `text` that is a proper prefix of a stop sequence (held back
/// from streaming until it is known not to start a stop sequence), on a char boundary.
fn held_back(text: &str, stops: &[String]) -> usize {
    let mut best = 0;
    for s in stops {
        for n in (1..s.len()).rev() {
            if n <= text.len()
                && text.is_char_boundary(text.len() - n)
                && s.is_char_boundary(n)
                && text.ends_with(&s[..n])
            {
                best = best.max(n);
                break;
            }
        }
    }
    best
}

/// Parses `{"name": ..., "arguments": {...}}` into a function call with a fresh id.
fn parse_call(text: &str) -> Option<FunctionCall> {
    let value: Value = serde_json::from_str(text.trim()).ok()?;
    let name = value.get("name")?.as_str()?.to_string();
    let args = value.get("arguments").cloned().unwrap_or_else(|| Value::Object(Default::default()));
    Some(FunctionCall { id: Some(new_call_id()), name, args })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn utf8_split_across_tokens() {
        let mut buf = "é".as_bytes()[..1].to_vec();
        assert_eq!(take_utf8(&mut buf), "");
        buf.extend_from_slice(&"é".as_bytes()[1..]);
        buf.extend_from_slice(b"a\xFFb");
        assert_eq!(take_utf8(&mut buf), "éa\u{FFFD}b");
        assert!(buf.is_empty());
    }

    #[test]
    fn stops_and_hold_back() {
        let stops = vec!["\nUser:".to_string(), "END".to_string()];
        assert_eq!(find_stop("hello\nUser: x", &stops, 0), Some(5));
        assert_eq!(find_stop("abcEN", &stops, 0), None);
        assert_eq!(held_back("abcEN", &stops), 2);
        assert_eq!(held_back("abc\nUs", &stops), 3);
        assert_eq!(held_back("abc", &stops), 0);
        assert_eq!(find_stop("xxEND", &stops, 4), Some(2));
    }

    #[test]
    fn parses_calls() {
        let c = parse_call(r#"{"name": "f", "arguments": {"a": 1}}"#).unwrap();
        assert_eq!((c.name.as_str(), c.args["a"].as_i64()), ("f", Some(1)));
        assert!(c.id.unwrap().starts_with("call_"));
        assert!(parse_call("{\"name\": ").is_none());
    }
}
