//! The semantic router in front of the orchestrator, with the real MiniLM model and the
//! shipped catalog; the orchestrator's model is scripted so we can see whether it was asked.

use serde_json::Value;
use std::sync::Arc;
use vana_app::config::RouterMode;
use vana_app::{App, Config};
use vana_core::{Content, Event, Model};
use vana_testkit::{ScriptedModel, ScriptedTurn};

async fn app(mode: RouterMode, model: &ScriptedModel) -> (App, vana_testkit::TempDir) {
    app_with(mode, model, &[]).await
}

/// The app over the shipped catalog plus the user's agent files `agents` (name, YAML text).
async fn app_with(
    mode: RouterMode,
    model: &ScriptedModel,
    agents: &[(&str, String)],
) -> (App, vana_testkit::TempDir) {
    let dir = vana_testkit::tempdir();
    std::fs::create_dir_all(dir.path().join("agents")).unwrap();
    for (name, yaml) in agents {
        std::fs::write(dir.path().join("agents").join(format!("{name}.yaml")), yaml).unwrap();
    }
    let mut config = Config::default();
    config.store.url = format!("sqlite://{}", dir.path().join("vana.db").display());
    config.agents.dir = dir.path().join("agents").display().to_string();
    config.models.default_model = model.name().to_string();
    config.router.mode = mode;
    let app = App::open(config).await.unwrap();
    app.models.register(model.name(), Arc::new(model.clone()));
    (app, dir)
}

async fn run(app: &App, text: &str) -> Vec<Event> {
    let runner = app.runner(None).unwrap();
    let session = app.store.create_session("vana", "u", None, Default::default()).await.unwrap();
    let mut inv = runner.run("u", &session.id, Content::user_text(text), false).await.unwrap();
    let mut events = Vec::new();
    while let Some(e) = inv.next().await {
        events.push(e);
    }
    events
}

fn transfer_args(events: &[Event]) -> Option<Value> {
    events
        .iter()
        .flat_map(|e| e.function_calls())
        .find(|c| c.name == "transfer_to_agent")
        .map(|c| c.args.clone())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn router_first_hands_a_clear_task_to_the_specialist_without_asking_the_model() {
    // One model for every agent: the specialist answers, and its answer is the reply.
    let model = ScriptedModel::named("scripted-router", vec![ScriptedTurn::text("charted")]);
    let (app, _dir) = app(RouterMode::First, &model).await;
    let events = run(&app, "plot revenue by month from sales.csv as a line chart").await;
    let args = transfer_args(&events).expect("a transfer");
    assert_eq!(args["agent_name"], "data_science", "{args}");
    assert_eq!(args["router"]["decidedBy"], "router");
    assert!(args["router"]["score"].as_f64().unwrap() > 0.15, "{args}");
    assert!(args["router"]["runnerUp"]["agent"].is_string(), "{args}");
    assert!(events.iter().any(|e| e.author == "data_science" && e.text() == "charted"), "{events:#?}");
    // The model answered only for the specialist: 1 call (the router transferred; no recap).
    assert_eq!(model.requests().len(), 1);
    assert_eq!(
        model.requests()[0].system_instruction.as_deref().map(|s| s.contains("`data_science`")),
        Some(true)
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_unclear_request_stays_with_the_orchestrators_model() {
    let model = ScriptedModel::named("scripted-unsure", vec![ScriptedTurn::text("could you say more?")]);
    let (app, _dir) = app(RouterMode::First, &model).await;
    let events = run(&app, "asdf qwer zxcv").await;
    assert!(transfer_args(&events).is_none(), "{events:#?}");
    assert_eq!(events.last().unwrap().text(), "could you say more?");
    let tools: Vec<String> = model.requests()[0].tools.iter().map(|t| t.name.clone()).collect();
    assert!(
        tools.contains(&"transfer_to_agent".to_string()),
        "a cloud-style model keeps the transfer tool: {tools:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn shadow_mode_records_whether_the_model_agreed() {
    let model = ScriptedModel::named(
        "scripted-shadow",
        vec![
            ScriptedTurn::call("transfer_to_agent", serde_json::json!({"agent_name": "database"})),
            ScriptedTurn::text("queried"),
        ],
    );
    let (app, _dir) = app(RouterMode::Shadow, &model).await;
    let events = run(&app, "write a SQL query that lists customers with no orders").await;
    let args = transfer_args(&events).expect("the model transferred");
    assert_eq!(args["agent_name"], "database");
    assert_eq!(args["router"]["decidedBy"], "model");
    assert_eq!(args["router"]["agent"], "database", "{args}");
    assert_eq!(args["router"]["agreed"], true, "{args}");
    assert_eq!(model.requests().len(), 2, "in shadow mode the model always decides");
}

/// The operator's own creative_design (the shipped one with its tools replaced by one this
/// build does not have, `render_hologram`).
fn design_without_its_tools() -> Vec<(&'static str, String)> {
    let shipped =
        vana_app::catalog::BUILTIN_AGENTS.iter().find(|(f, _)| *f == "creative_design.yaml").unwrap().1;
    let mut spec: serde_yaml::Value = serde_yaml::from_str(shipped).unwrap();
    spec["tools"] = serde_yaml::from_str("[render_hologram]").unwrap();
    vec![("creative_design", serde_yaml::to_string(&spec).unwrap())]
}

/// An agent none of whose tools is installed (here the operator's creative_design, whose one tool
/// this build lacks): the router does not hand it a task, the orchestrator's model cannot
/// transfer to it and is told what it lacks, and nobody is told to "report the tools' results".
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_agent_without_any_of_its_tools_is_never_handed_a_task() {
    let model = ScriptedModel::named("scripted-absent", vec![ScriptedTurn::text("unused")]);
    let (first, _dir) = app_with(RouterMode::First, &model, &design_without_its_tools()).await;
    let lacks = first.catalog.unavailable(&first.tools, &first.mcp_tools());
    assert!(lacks.contains_key("creative_design"), "creative_design lacks its one tool: {lacks:?}");
    let events = run(&first, "design a landing page for my coffee shop").await;
    assert!(transfer_args(&events).is_none(), "{events:#?}");
    let answer = events.last().unwrap().text();
    assert!(answer.contains("`creative_design`") && answer.contains("`render_hologram`"), "{answer}");
    assert!(model.requests().is_empty(), "answered without a model call");

    // When the orchestrator's model decides, creative_design is not among its transfer targets, and its
    // instruction names what creative_design lacks.
    let model = ScriptedModel::named(
        "scripted-absent-2",
        vec![ScriptedTurn::text("creative_design lacks its tools")],
    );
    let (off, _dir2) = app_with(RouterMode::Off, &model, &design_without_its_tools()).await;
    run(&off, "design a landing page for my coffee shop").await;
    let req = &model.requests()[0];
    let system = req.system_instruction.clone().unwrap_or_default();
    assert!(system.contains("- creative_design: lacks `render_hologram`"), "{system}");
    assert!(
        !system.contains("`creative_design`:"),
        "creative_design is not offered as a transfer target: {system}"
    );
    let transfer = req.tools.iter().find(|t| t.name == "transfer_to_agent").expect("transfer tool");
    assert!(!transfer.parameters.to_string().contains("\"creative_design\""), "{:?}", transfer.parameters);

    // Run directly, the agent hears that its tools are missing, not that it should report them.
    let model = ScriptedModel::named("scripted-absent-3", vec![ScriptedTurn::text("no tools here")]);
    let (direct, _dir3) = app_with(RouterMode::Off, &model, &design_without_its_tools()).await;
    let runner = direct.runner(Some("creative_design")).unwrap();
    let session =
        direct.store.create_session("creative_design", "u", None, Default::default()).await.unwrap();
    let inv = runner.run("u", &session.id, Content::user_text("design a login screen"), false).await.unwrap();
    inv.collect().await;
    let system = model.requests()[0].system_instruction.clone().unwrap_or_default();
    assert!(system.contains("None of your tools is available"), "{system}");
    assert!(!system.contains("with `render_hologram`"), "{system}");
}
