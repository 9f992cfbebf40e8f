//! The scripted model: playback order, recording, exhaustion, streaming, files, repeat, echo.

use serde_json::json;
use vana_core::{Model, ModelError, UsageMetadata};
use vana_scripted::{Script, ScriptedError, ScriptedModel, ScriptedTurn};
use vana_testkit::generate::{ask, calls, generate, partial_text};

#[tokio::test]
async fn plays_turns_in_order_and_records_requests() {
    let model = ScriptedModel::new(vec![
        ScriptedTurn::call("search", json!({"q": "rust"})).with_usage(10, 2),
        ScriptedTurn::text("Rust is a language.").with_usage(20, 5),
    ]);
    let (_, first) = generate(&model, ask("what is rust?"), false).await.unwrap();
    let call = &calls(&first)[0];
    assert_eq!(call.name, "search");
    assert_eq!(call.args, json!({"q": "rust"}));
    assert!(call.id.as_deref().unwrap().starts_with("call_"));
    assert_eq!(first.finish_reason.as_deref(), Some("tool_calls"));
    assert_eq!(first.usage, Some(UsageMetadata::new(10, 2)));

    let clone = model.clone();
    let (partials, second) = generate(&clone, ask("and?"), true).await.unwrap();
    assert!(partials.len() >= 2);
    assert_eq!(partial_text(&partials), "Rust is a language.");
    assert_eq!(second.content.unwrap().text(), "Rust is a language.");

    let seen = model.requests();
    assert_eq!(seen.len(), 2, "clones share the log");
    assert_eq!(seen[0].contents[0].text(), "what is rust?");
    assert_eq!(seen[1].contents[0].text(), "and?");
    assert_eq!(model.remaining(), 0);

    let err = generate(&model, ask("more?"), false).await.unwrap_err();
    match err {
        ModelError::Protocol { message, .. } => {
            assert!(message.contains("scripted model exhausted"), "{message}");
            assert!(message.contains("2 turn(s)"), "{message}");
        }
        other => panic!("{other:?}"),
    }
}

#[tokio::test]
async fn error_turns_become_model_errors() {
    let model = ScriptedModel::new(vec![
        ScriptedTurn::error(ScriptedError::RateLimited { retry_after_secs: Some(2.0) }),
        ScriptedTurn::http(503),
        ScriptedTurn::http(429).with_retry_after("7"),
    ]);
    let e = generate(&model, ask("a"), false).await.unwrap_err();
    assert_eq!(
        e,
        ModelError::RateLimited {
            model: "scripted".into(),
            retry_after: Some(std::time::Duration::from_secs(2))
        }
    );
    assert!(matches!(
        generate(&model, ask("b"), false).await.unwrap_err(),
        ModelError::Server { status: 503, .. }
    ));
    assert_eq!(
        generate(&model, ask("c"), false).await.unwrap_err(),
        ModelError::RateLimited {
            model: "scripted".into(),
            retry_after: Some(std::time::Duration::from_secs(7))
        }
    );
}

#[tokio::test]
async fn concurrent_callers_each_get_one_turn() {
    let turns: Vec<ScriptedTurn> = (0..20).map(|i| ScriptedTurn::text(format!("turn {i}"))).collect();
    let model = ScriptedModel::new(turns);
    let mut handles = Vec::new();
    for _ in 0..20 {
        let m = model.clone();
        handles.push(tokio::spawn(async move {
            generate(&m, ask("x"), true).await.unwrap().1.content.unwrap().text()
        }));
    }
    let mut answers = Vec::new();
    for h in handles {
        answers.push(h.await.unwrap());
    }
    answers.sort();
    let mut expected: Vec<String> = (0..20).map(|i| format!("turn {i}")).collect();
    expected.sort();
    assert_eq!(answers, expected);
    assert_eq!(model.requests().len(), 20);
}

#[tokio::test]
async fn loads_json_and_yaml_files() {
    let dir = std::env::temp_dir();
    let json_path = dir.join(format!("vana-scripted-{}.json", std::process::id()));
    std::fs::write(
        &json_path,
        r#"{"turns": [
            {"function_calls": [{"name": "get_weather", "args": {"city": "Oslo"}, "id": "call_w"}]},
            {"text": "Cold.", "usage": {"prompt_tokens": 5, "completion_tokens": 1}},
            {"error": {"kind": "server", "status": 502, "message": "bad gateway"}},
            {"http": {"status": 429, "retry_after": "3"}}
        ]}"#,
    )
    .unwrap();
    let model = ScriptedModel::from_file(&json_path).unwrap();
    assert_eq!(model.name(), format!("scripted:{}", json_path.display()));
    let (_, a) = generate(&model, ask("weather?"), false).await.unwrap();
    assert_eq!(calls(&a)[0].id.as_deref(), Some("call_w"));
    let (_, b) = generate(&model, ask("and?"), false).await.unwrap();
    assert_eq!(b.usage, Some(UsageMetadata::new(5, 1)));
    assert!(matches!(
        generate(&model, ask("c"), false).await.unwrap_err(),
        ModelError::Server { status: 502, .. }
    ));
    assert!(matches!(generate(&model, ask("d"), false).await.unwrap_err(), ModelError::RateLimited { .. }));
    std::fs::remove_file(&json_path).ok();

    let yaml_path = dir.join(format!("vana-scripted-{}.yaml", std::process::id()));
    std::fs::write(&yaml_path, "repeat: true\nturns:\n  - text: pong\n    delay_ms: 1\n").unwrap();
    let model = ScriptedModel::from_file(&yaml_path).unwrap();
    for _ in 0..5 {
        assert_eq!(generate(&model, ask("ping"), false).await.unwrap().1.content.unwrap().text(), "pong");
    }
    std::fs::remove_file(&yaml_path).ok();

    // A bare YAML list of turns works too; unknown keys are reported.
    assert_eq!(Script::parse("- text: hi\n- text: there\n").unwrap().turns.len(), 2);
    let err = Script::parse(r#"[{"txt": "typo"}]"#).unwrap_err();
    assert!(err.contains("txt"), "{err}");
}

#[tokio::test]
async fn repeating_and_echo_never_run_out() {
    let model = ScriptedModel::repeating("bench", vec![ScriptedTurn::text("a"), ScriptedTurn::text("b")]);
    let mut got = Vec::new();
    for _ in 0..5 {
        got.push(generate(&model, ask("x"), false).await.unwrap().1.content.unwrap().text());
    }
    assert_eq!(got, ["a", "b", "a", "b", "a"]);

    let echo = ScriptedModel::echo();
    let (partials, fin) = generate(&echo, ask("say this back"), true).await.unwrap();
    assert_eq!(partial_text(&partials), "say this back");
    assert_eq!(fin.content.unwrap().text(), "say this back");
}
