//! The task-success evaluation end to end: the shipped eval/tasks.yaml runs with the real tools,
//! sandbox and SQLite files; on the scripted model (each task's own turns) every task must
//! succeed, and the CI subset runs on the embedded local model (SmolLM2-135M through llama.cpp,
//! files from `$VANA_MODELS_DIR`).

use vana_app::task_eval::{self, Options, TaskSet};
use vana_app::{App, Config};

async fn app(default_model: &str) -> (App, vana_testkit::TempDir) {
    let dir = vana_testkit::tempdir();
    let mut config = Config::default();
    config.store.url = format!("sqlite://{}", dir.path().join("vana.db").display());
    config.agents.dir = dir.path().join("agents").display().to_string();
    config.models.default_model = default_model.to_string();
    (App::open(config).await.unwrap(), dir)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_shipped_task_succeeds_on_its_scripted_turns() {
    let (app, _dir) = app("local/smollm2-135m").await;
    let set = TaskSet::shipped().unwrap();
    let options = Options { model: Some(task_eval::SCRIPTED.into()), ..Default::default() };
    let report = task_eval::run(&app, &set, &options).await.unwrap();
    println!("{report}");
    assert_eq!(report.results.len(), set.tasks.len());
    let agents = report.by_agent();
    for a in task_eval::COVERED_AGENTS {
        assert!(agents.contains_key(*a), "{a} has tasks: {report}");
    }
    assert_eq!(report.success(), 1.0, "{report}");
    // The scripted model plays two turns per single-tool task: a call and an answer.
    for r in report.results.iter().filter(|r| r.single_tool) {
        assert_eq!(r.model_calls, 2, "{r:?}");
        assert_eq!(r.calls.len(), 1, "{r:?}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_wrong_outcome_fails_its_task_with_the_reason() {
    // The same tool run, checked against values it does not produce: each check fails, and says why.
    let yaml = r#"
tasks:
  - id: wrong-reply
    agent: code_execution
    request: "run this python code: print(6 * 7)"
    tools: [execute_code]
    expect: {reply_contains: ["43"]}
    script:
      - function_calls: [{name: execute_code, args: {language: python, code: "print(6 * 7)"}}]
      - text: "It printed 42."
  - id: missing-file
    agent: code_execution
    request: "run this python code: print(1)"
    tools: [execute_code]
    expect: {file: {path: out.txt, contains: "x"}}
    script:
      - function_calls: [{name: execute_code, args: {language: python, code: "print(1)"}}]
      - text: "Done."
  - id: wrong-rows
    agent: code_execution
    request: "make t.db"
    tools: [execute_code]
    expect: {sql: {database: t.db, query: "SELECT a FROM t", rows: [[2]]}}
    script:
      - function_calls: [{name: execute_code, args: {language: python, code: "import sqlite3\nc = sqlite3.connect('t.db')\nc.execute('CREATE TABLE t (a INTEGER)')\nc.execute('INSERT INTO t VALUES (1)')\nc.commit()"}}]
      - text: "Done."
  - id: failing-call
    agent: database
    request: "list the tables of nowhere.db"
    tools: [list_tables]
    expect: {reply_contains: ["tables"]}
    script:
      - function_calls: [{name: list_tables, args: {connection: nowhere.db}}]
      - text: "No tables."
"#;
    let (app, _dir) = app("local/smollm2-135m").await;
    let set = TaskSet::from_yaml(yaml).unwrap();
    let options = Options { model: Some(task_eval::SCRIPTED.into()), ..Default::default() };
    let report = task_eval::run(&app, &set, &options).await.unwrap();
    println!("{report}");
    let why =
        |id: &str| report.results.iter().find(|r| r.id == id).unwrap().failure.clone().unwrap_or_default();
    assert!(why("wrong-reply").contains("lacks `43`"), "{report}");
    assert!(why("missing-file").contains("out.txt"), "{report}");
    assert!(why("wrong-rows").contains("[[1]]"), "{report}");
    assert!(why("failing-call").contains("a scripted call failed: list_tables"), "{report}");
    assert_eq!(report.success(), 0.0);
    let text = report.to_string();
    assert!(text.contains("code_execution") && text.contains("0% (0/3)"), "{text}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_ci_subset_succeeds_on_the_embedded_local_model() {
    let (app, _dir) = app("local/smollm2-135m").await;
    let set = TaskSet::shipped().unwrap();
    let options = Options { ci_only: true, ..Default::default() };
    let report = task_eval::run(&app, &set, &options).await.unwrap();
    println!("{report}");
    assert!(report.results.len() >= 6, "{report}");
    assert!(report.success() >= 0.75, "{report}");
    for r in &report.results {
        assert!(r.model_calls >= 1 && r.tokens > 0, "the local model ran: {r:?}");
    }
}

/// The whole set (or the agents in `$VANA_EVAL_AGENTS`, comma-separated) on the local model:
/// the measurement docs/local-model.md reports (`cargo test -p vana-app --test task_eval --
/// --ignored --nocapture`).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore]
async fn measure_the_whole_set_on_the_embedded_local_model() {
    let (app, _dir) = app("local/smollm2-135m").await;
    let set = TaskSet::shipped().unwrap();
    let agents = std::env::var("VANA_EVAL_AGENTS").unwrap_or_default();
    let options = Options {
        agents: agents.split(',').filter(|a| !a.is_empty()).map(String::from).collect(),
        ..Default::default()
    };
    let report = task_eval::run(&app, &set, &options).await.unwrap();
    println!("{report}");
    for r in &report.results {
        println!(
            "{} [{}] {:?} -> {:?}",
            r.id,
            r.calls.join(","),
            r.failure,
            r.reply.chars().take(200).collect::<String>()
        );
    }
}
