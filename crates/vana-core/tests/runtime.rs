//! The runtime against the scripted model and the in-memory store (which passes the conformance
//! suite of the SQLite and PostgreSQL stores): delegation, agent-as-tool, tools, workflows,
//! approvals, limits. The runtime with the retrying `ResilientModel` is tested in vana-models.

mod common;

use common::*;
use serde_json::json;
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::Arc;
use vana_core::agent::TRANSFER_TOOL;
use vana_core::{
    session::TITLE_KEY, AgentTool, EventWindow, LlmAgent, Outcome, RunConfig, Runner, ToolPolicy,
    WorkflowAgent, WorkflowKind,
};
use vana_testkit::{ScriptedError, ScriptedModel, ScriptedTurn};

fn transfer(to: &str) -> ScriptedTurn {
    ScriptedTurn::call(TRANSFER_TOOL, json!({"agent_name": to}))
}

/// An orchestrator with one specialist, `data_science`, that calls `add` and answers.
fn delegation(
    vana_turns: Vec<ScriptedTurn>,
    ds_turns: Vec<ScriptedTurn>,
) -> (Arc<ScriptedModel>, Arc<ScriptedModel>, Arc<LlmAgent>) {
    let vana_model = model("vana-model", vana_turns);
    let ds_model = model("ds-model", ds_turns);
    let ds = LlmAgent::builder("data_science", ds_model.clone())
        .description("Analyses data")
        .tool(Arc::new(Add))
        .build();
    let vana =
        LlmAgent::builder("vana", vana_model.clone()).description("Orchestrator").sub_agent(ds).build();
    (vana_model, ds_model, vana)
}

#[tokio::test]
async fn a_specialists_answer_is_the_reply_and_the_next_message_starts_at_the_orchestrator() {
    let (vana_model, ds_model, vana) = delegation(
        vec![transfer("data_science"), ScriptedTurn::text("Earlier, data_science counted 3 rows.")],
        vec![ScriptedTurn::call("add", json!({"a": 1, "b": 2})), ScriptedTurn::text("Counted: 3 rows")],
    );
    let store = store();
    let runner = Runner::new(vana, store.clone());
    let (session, events, outcome) = run(&runner, "how many rows?").await;
    assert_eq!(outcome, Outcome::Done);
    // The specialist's events carry its delegation path.
    let ds_events: Vec<_> = events.iter().filter(|e| e.author == "data_science").collect();
    assert!(ds_events.iter().all(|e| e.agent_path == "vana/data_science"), "{ds_events:#?}");
    // The specialist's answer ends the turn: the orchestrator called its model once (to transfer).
    assert_eq!(finals(&events), vec![("data_science".into(), "Counted: 3 rows".into())]);
    assert_eq!(vana_model.requests().len(), 1, "no recap turn of the orchestrator");
    assert_eq!(ds_model.requests().len(), 2);
    // The transfer is recorded as an action.
    assert!(events.iter().any(|e| e.actions.transfer_to_agent.as_deref() == Some("data_science")));
    // The specialist saw the user's request and can transfer back to its parent.
    let ds_req = &ds_model.requests()[0];
    assert!(ds_req.contents.iter().any(|c| c.text().contains("how many rows?")));
    assert!(
        ds_req.tools.iter().any(|t| t.name == TRANSFER_TOOL),
        "a specialist can transfer back to its parent"
    );
    // Everything streamed was persisted, in order.
    let stored = store.get_session("vana", "u1", &session, EventWindow::All).await.unwrap().unwrap();
    assert_eq!(
        stored.events.iter().map(|e| &e.id).collect::<Vec<_>>(),
        events.iter().map(|e| &e.id).collect::<Vec<_>>()
    );
    // A follow-up starts at the orchestrator again (it decides anew), which sees the
    // specialist's earlier answer as context.
    let (events, outcome) = run_on(&runner, &session, "and what did you find?").await;
    assert_eq!(outcome, Outcome::Done);
    assert_eq!(finals(&events), vec![("vana".into(), "Earlier, data_science counted 3 rows.".into())]);
    assert!(events.iter().filter(|e| e.author != "user").all(|e| e.agent_path == "vana"), "{events:#?}");
    assert_eq!(ds_model.requests().len(), 2, "the specialist was not called for the follow-up");
    let vana_req = &vana_model.requests()[1];
    let seen: Vec<String> = vana_req.contents.iter().map(|c| c.text()).collect();
    assert!(seen.iter().any(|t| t.contains("[data_science] said: Counted: 3 rows")), "{seen:#?}");
    assert!(seen.last().is_some_and(|t| t.contains("and what did you find?")), "{seen:#?}");
}

#[tokio::test]
async fn with_return_to_parent_the_orchestrator_recaps_the_specialists_answer() {
    let (vana_model, ds_model, vana) = delegation(
        vec![transfer("data_science"), ScriptedTurn::text("The data has 3 rows.")],
        vec![ScriptedTurn::call("add", json!({"a": 1, "b": 2})), ScriptedTurn::text("Counted: 3 rows")],
    );
    let runner =
        Runner::new(vana, store()).with_config(RunConfig { return_to_parent: true, ..Default::default() });
    let (_, events, outcome) = run(&runner, "how many rows?").await;
    assert_eq!(outcome, Outcome::Done);
    assert_eq!(
        finals(&events),
        vec![
            ("data_science".into(), "Counted: 3 rows".into()),
            ("vana".into(), "The data has 3 rows.".into())
        ]
    );
    assert_eq!((vana_model.requests().len(), ds_model.requests().len()), (2, 2));
    // The orchestrator's second turn saw the specialist's answer.
    let vana_req = &vana_model.requests()[1];
    assert!(
        vana_req.contents.iter().any(|c| c.text().contains("[data_science] said: Counted: 3 rows")),
        "{vana_req:#?}"
    );
    let last = events.last().unwrap();
    assert_eq!((last.author.as_str(), last.agent_path.as_str()), ("vana", "vana"));
}

#[tokio::test]
async fn a_specialist_that_transfers_back_gives_the_orchestrator_the_next_turn() {
    let (vana_model, ds_model, vana) = delegation(
        vec![transfer("data_science"), ScriptedTurn::text("I can help with the weather myself: sunny.")],
        vec![transfer("vana")],
    );
    let runner = Runner::new(vana, store());
    let (_, events, outcome) = run(&runner, "what is the weather?").await;
    assert_eq!(outcome, Outcome::Done);
    assert_eq!(finals(&events), vec![("vana".into(), "I can help with the weather myself: sunny.".into())]);
    assert_eq!((vana_model.requests().len(), ds_model.requests().len()), (2, 1));
    let transfers: Vec<_> = events.iter().filter_map(|e| e.actions.transfer_to_agent.as_deref()).collect();
    assert_eq!(transfers, vec!["data_science", "vana"]);
}

#[tokio::test]
async fn agent_as_tool_streams_the_childs_events_with_its_path() {
    let child_model =
        model("child", vec![ScriptedTurn::call("add", json!({"a": 2, "b": 5})), ScriptedTurn::text("seven")]);
    let child =
        LlmAgent::builder("calculator", child_model.clone()).description("Adds").tool(Arc::new(Add)).build();
    let parent_model = model(
        "parent",
        vec![
            ScriptedTurn::call("calculator", json!({"request": "2+5?"})),
            ScriptedTurn::text("The answer is seven."),
        ],
    );
    let parent = LlmAgent::builder("vana", parent_model.clone()).tool(AgentTool::new(child)).build();
    let runner = Runner::new(parent, store());
    let (_, events, outcome) = run(&runner, "compute 2+5").await;
    assert_eq!(outcome, Outcome::Done);
    let child_events: Vec<_> = events.iter().filter(|e| e.author == "calculator").collect();
    assert_eq!(child_events.len(), 3, "child's call, tool response and answer stream: {events:#?}");
    assert!(child_events.iter().all(|e| e.agent_path == "vana/calculator" && e.branch.is_some()));
    // The parent got the child's final answer as the tool result, not the child's internals.
    let resp = events.iter().flat_map(|e| e.function_responses()).find(|r| r.name == "calculator").unwrap();
    assert_eq!(resp.response, json!({"result": "seven"}));
    let parent_second = &parent_model.requests()[1];
    assert!(!parent_second
        .contents
        .iter()
        .any(|c| c.parts.iter().any(|p| p.function_call.as_ref().is_some_and(|f| f.name == "add"))));
    // The child saw only its request.
    let child_first = &child_model.requests()[0];
    assert!(child_first.contents.iter().any(|c| c.text().contains("2+5?")));
    assert!(!child_first.contents.iter().any(|c| c.text().contains("compute 2+5")));
}

#[tokio::test]
async fn several_calls_in_one_turn_run_concurrently_and_answer_in_order() {
    let barrier = Arc::new(tokio::sync::Barrier::new(2));
    let m = model(
        "m",
        vec![
            ScriptedTurn::call("meet_a", json!({"x": 1})).with_call("meet_b", json!({"x": 2})),
            ScriptedTurn::text("both met"),
        ],
    );
    let agent = LlmAgent::builder("vana", m)
        .tool(Arc::new(Rendezvous { name: "meet_a".into(), barrier: barrier.clone() }))
        .tool(Arc::new(Rendezvous { name: "meet_b".into(), barrier }))
        .build();
    let (_, events, outcome) = run(&Runner::new(agent, store()), "go").await;
    assert_eq!(outcome, Outcome::Done);
    let responses: Vec<_> = events.iter().flat_map(|e| e.function_responses()).collect();
    assert_eq!(responses.iter().map(|r| r.name.as_str()).collect::<Vec<_>>(), vec!["meet_a", "meet_b"]);
    assert!(responses.iter().all(|r| r.response["met"] == json!(true)), "{responses:#?}");
}

#[tokio::test]
async fn tool_errors_timeouts_and_unknown_tools_become_responses_the_model_reads() {
    let cancelled = Arc::new(AtomicU32::new(0));
    let m = model(
        "m",
        vec![
            ScriptedTurn::call("broken", json!({})).with_call("hang", json!({})).with_call("nope", json!({})),
            ScriptedTurn::text("handled"),
        ],
    );
    let agent = LlmAgent::builder("vana", m.clone())
        .tool(Arc::new(Broken))
        .tool(Arc::new(Hang { cancelled: cancelled.clone() }))
        .build();
    let (_, events, outcome) = run(&Runner::new(agent, store()), "go").await;
    assert_eq!(outcome, Outcome::Done);
    let responses: Vec<_> = events.iter().flat_map(|e| e.function_responses()).collect();
    assert_eq!(responses[0].response, json!({"error": "disk on fire"}));
    assert_eq!(responses[1].response, json!({"error": "timed out after 200ms"}));
    assert!(responses[2].response["error"].as_str().unwrap().contains("unknown tool 'nope'"));
    tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    assert_eq!(cancelled.load(Ordering::SeqCst), 1, "the timed-out call's cancellation token fired");
    // The model's next request carried the errors.
    let second = &m.requests()[1];
    assert!(second.contents.iter().any(|c| c.parts.iter().any(|p| p
        .function_response
        .as_ref()
        .is_some_and(|r| r.response == json!({"error": "disk on fire"})))));
}

#[tokio::test]
async fn sequential_agents_pass_state_through_output_keys() {
    let a = LlmAgent::builder("drafter", model("a", vec![ScriptedTurn::text("draft v1")]))
        .output_key("draft")
        .build();
    let b_model = model("b", vec![ScriptedTurn::text("reviewed")]);
    let b = LlmAgent::builder("reviewer", b_model.clone()).instruction("Review this: {draft}").build();
    let seq = WorkflowAgent::new(WorkflowKind::Sequential, "pipeline", "draft then review", vec![a, b]);
    let store = store();
    let runner = Runner::new(seq, store.clone());
    let (session, events, outcome) = run(&runner, "write").await;
    assert_eq!(outcome, Outcome::Done);
    assert_eq!(
        finals(&events),
        vec![("drafter".into(), "draft v1".into()), ("reviewer".into(), "reviewed".into())]
    );
    assert!(b_model.requests()[0]
        .system_instruction
        .as_deref()
        .unwrap()
        .starts_with("Review this: draft v1"));
    let s = store.get_session("pipeline", "u1", &session, EventWindow::All).await.unwrap().unwrap();
    assert_eq!(s.state.get("draft"), Some(&json!("draft v1")));
}

#[tokio::test]
async fn parallel_agents_run_concurrently_on_their_own_branches() {
    let barrier = Arc::new(tokio::sync::Barrier::new(2));
    let mk = |name: &str| {
        let m = model(
            name,
            vec![ScriptedTurn::call("meet", json!({})), ScriptedTurn::text(format!("{name} done"))],
        );
        let agent = LlmAgent::builder(name, m.clone())
            .tool(Arc::new(Rendezvous { name: "meet".into(), barrier: barrier.clone() }))
            .build();
        (agent, m)
    };
    let (left, left_model) = mk("left");
    let (right, _) = mk("right");
    let par = WorkflowAgent::new(WorkflowKind::Parallel, "fanout", "both at once", vec![left, right]);
    let (_, events, outcome) = run(&Runner::new(par, store()), "go").await;
    assert_eq!(outcome, Outcome::Done);
    let mut done = finals(&events);
    done.sort();
    assert_eq!(done, vec![("left".into(), "left done".into()), ("right".into(), "right done".into())]);
    for e in events.iter().filter(|e| e.author == "left") {
        assert_eq!(e.branch.as_deref(), Some("fanout.left"));
    }
    // Each branch sees only its own events.
    let seen = &left_model.requests()[1];
    assert!(!seen.contents.iter().any(|c| c.text().contains("right")), "{seen:#?}");
}

#[tokio::test]
async fn loop_agent_stops_on_escalate_or_at_max_iterations() {
    let m = model(
        "m",
        vec![
            ScriptedTurn::text("try 1"),
            ScriptedTurn::text("try 2"),
            ScriptedTurn::call("exit_loop", json!({})),
        ],
    );
    let worker = LlmAgent::builder("worker", m.clone()).tool(Arc::new(ExitLoop)).build();
    let lp =
        WorkflowAgent::new(WorkflowKind::Loop { max_iterations: 10 }, "refine", "until good", vec![worker]);
    let (_, events, outcome) = run(&Runner::new(lp, store()), "go").await;
    assert_eq!(outcome, Outcome::Done);
    assert_eq!(m.requests().len(), 3, "stopped right after escalate");
    assert!(events.iter().any(|e| e.actions.escalate == Some(true)));

    let m = Arc::new(ScriptedModel::repeating("r", vec![ScriptedTurn::text("again")]));
    let worker = LlmAgent::builder("worker", m.clone()).build();
    let lp = WorkflowAgent::new(WorkflowKind::Loop { max_iterations: 4 }, "refine", "bounded", vec![worker]);
    let (_, _, outcome) = run(&Runner::new(lp, store()), "go").await;
    assert_eq!(outcome, Outcome::Done);
    assert_eq!(m.requests().len(), 4);
}

#[tokio::test]
async fn delegation_loop_guard_ends_runaway_transfers_with_a_clear_error() {
    let vana_model = Arc::new(ScriptedModel::repeating("v", vec![transfer("ping")]));
    let ping_model = Arc::new(ScriptedModel::repeating("p", vec![transfer("vana")]));
    let ping = LlmAgent::builder("ping", ping_model).build();
    let vana = LlmAgent::builder("vana", vana_model).sub_agent(ping).build();
    let runner = Runner::new(vana, store()).with_config(RunConfig { max_transfers: 4, ..Default::default() });
    let (_, events, outcome) = run(&runner, "go").await;
    assert_eq!(outcome, Outcome::Ended);
    let err = events.last().unwrap();
    assert_eq!(err.error_code.as_deref(), Some("DELEGATION_LOOP"));
    assert!(err.error_message.as_deref().unwrap().contains("5 transfers"), "{err:?}");
    assert_eq!(events.iter().filter(|e| e.actions.transfer_to_agent.is_some()).count(), 5);
}

#[tokio::test]
async fn a_model_that_keeps_calling_tools_is_stopped_at_the_model_call_limit() {
    let m = Arc::new(ScriptedModel::repeating("m", vec![ScriptedTurn::call("add", json!({"a": 1, "b": 1}))]));
    let agent = LlmAgent::builder("vana", m.clone()).tool(Arc::new(Add)).build();
    let runner =
        Runner::new(agent, store()).with_config(RunConfig { max_model_calls: 6, ..Default::default() });
    let (_, events, outcome) = run(&runner, "go").await;
    assert_eq!(outcome, Outcome::Ended);
    assert_eq!(m.requests().len(), 6, "the seventh model call was not made");
    let last = events.last().unwrap();
    assert_eq!(last.error_code.as_deref(), Some("MODEL_CALL_LIMIT"));
    assert!(last.error_message.as_deref().unwrap().contains("model call 7 of this invocation"), "{last:?}");
    assert!(last.error_message.as_deref().unwrap().contains("limits.max_model_calls"), "{last:?}");
}

#[tokio::test]
async fn token_budget_is_checked_before_each_model_call() {
    let m = model(
        "m",
        vec![
            ScriptedTurn::call("add", json!({"a": 1, "b": 1})).with_usage(60, 20),
            ScriptedTurn::call("add", json!({"a": 2, "b": 2})).with_usage(90, 20),
            ScriptedTurn::text("never reached"),
        ],
    );
    let agent = LlmAgent::builder("vana", m.clone()).tool(Arc::new(Add)).build();
    let runner =
        Runner::new(agent, store()).with_config(RunConfig { token_budget: Some(150), ..Default::default() });
    let (_, events, outcome) = run(&runner, "go").await;
    assert_eq!(outcome, Outcome::Ended);
    assert_eq!(m.requests().len(), 2, "the third model call was not made");
    let last = events.last().unwrap();
    assert_eq!(last.error_code.as_deref(), Some("BUDGET_EXCEEDED"));
    assert!(last.error_message.as_deref().unwrap().contains("190 of 150"), "{last:?}");
    let usage = vana_core::ledger::rollup(&events);
    assert_eq!(usage.total.total_tokens, 190);
    assert_eq!(usage.by_agent["vana"].model_calls, 2);
    assert_eq!(usage.total.tool_calls, 2);
}

#[tokio::test]
async fn a_failed_model_call_ends_the_turn_with_an_error_event() {
    let m = model(
        "m",
        vec![ScriptedTurn::error(ScriptedError::Rejected { status: 401, message: "bad key".into() })],
    );
    let agent = LlmAgent::builder("vana", m).build();
    let (_, events, outcome) = run(&Runner::new(agent, store()), "hi").await;
    assert_eq!(outcome, Outcome::Ended);
    let last = events.last().unwrap();
    assert_eq!(last.error_code.as_deref(), Some("MODEL_REQUEST_REJECTED"));
    assert!(last.error_message.as_deref().unwrap().contains("bad key"));
    assert!(finals(&events).is_empty(), "no answer is reported on an error");
}

#[tokio::test]
async fn tool_policy_hides_and_blocks_tools_not_allowed() {
    let m = model("m", vec![ScriptedTurn::call("broken", json!({})), ScriptedTurn::text("ok")]);
    let agent = LlmAgent::builder("vana", m.clone()).tool(Arc::new(Add)).tool(Arc::new(Broken)).build();
    let mut policy = ToolPolicy::default();
    policy.allow.insert("vana".into(), ["add".to_string()].into());
    let runner = Runner::new(agent, store()).with_callback(Arc::new(policy));
    let (_, events, _) = run(&runner, "go").await;
    assert_eq!(m.requests()[0].tools.iter().map(|t| t.name.as_str()).collect::<Vec<_>>(), vec!["add"]);
    let r = events.iter().flat_map(|e| e.function_responses()).next().unwrap();
    assert!(r.response["error"].as_str().unwrap().contains("not allowed"), "{r:?}");
}

#[tokio::test]
async fn streaming_emits_partial_text_that_is_never_persisted() {
    let m = model("m", vec![ScriptedTurn::text("Hello there, this is a streamed answer.")]);
    let agent = LlmAgent::builder("vana", m).build();
    let store = store();
    let runner = Runner::new(agent, store.clone());
    let session = runner.create_session("u1").await.unwrap().id;
    let inv = runner.run("u1", &session, vana_core::Content::user_text("hi"), true).await.unwrap();
    let (events, _) = inv.collect().await;
    let partial: String = events.iter().filter(|e| e.is_partial()).map(|e| e.text()).collect();
    assert!(events.iter().filter(|e| e.is_partial()).count() >= 2);
    assert_eq!(partial, "Hello there, this is a streamed answer.");
    let stored = store.get_session("vana", "u1", &session, EventWindow::All).await.unwrap().unwrap();
    assert_eq!(stored.events.len(), 2, "user message + final answer only");
}

#[tokio::test]
async fn approval_pauses_and_an_approved_call_runs_exactly_once_across_a_crash() {
    let durable = store();
    let runs = Arc::new(AtomicU32::new(0));
    let build = |m: Arc<ScriptedModel>, store| {
        let agent = LlmAgent::builder("vana", m).tool(Arc::new(Transfer { runs: runs.clone() })).build();
        Runner::new(agent, store)
    };
    // First process: the model asks for the guarded tool; the run pauses.
    let m1 = model(
        "m",
        vec![ScriptedTurn::default().with_call_id("call_pay", "send_money", json!({"amount": 5}))],
    );
    let crashy = Arc::new(CrashOnResponse::new(durable.clone()));
    let runner = build(m1, crashy.clone() as Arc<dyn vana_core::SessionStore>);
    let (session, events, outcome) = run(&runner, "pay 5").await;
    assert_eq!(outcome, Outcome::Paused);
    let ask = events.last().unwrap();
    assert!(ask.actions.requested_tool_confirmations.contains_key("call_pay"));
    assert_eq!(ask.long_running_tool_ids, vec!["call_pay".to_string()]);
    assert_eq!(runs.load(Ordering::SeqCst), 0, "nothing ran before approval");
    // Approve; the tool runs, then the process "crashes" before the result event is written.
    crashy.arm();
    let inv = runner.approve("u1", &session, "call_pay", true).await.unwrap().expect("resumed");
    let (events, outcome) = inv.collect().await;
    assert_eq!(outcome, Outcome::Ended);
    assert_eq!(events.last().unwrap().error_code.as_deref(), Some("STORE_ERROR"));
    assert_eq!(runs.load(Ordering::SeqCst), 1);
    drop(runner);
    // Second process: the same stored sessions, a fresh runner; resume answers from the
    // journal, no second run.
    let m2 = model("m", vec![ScriptedTurn::text("sent 5")]);
    let runner = build(m2.clone(), durable.clone());
    let (events, outcome) = runner.resume("u1", &session).await.unwrap().collect().await;
    assert_eq!(outcome, Outcome::Done);
    assert_eq!(runs.load(Ordering::SeqCst), 1, "the approved call ran exactly once");
    let r = events.iter().flat_map(|e| e.function_responses()).find(|r| r.name == "send_money").unwrap();
    assert_eq!(r.response, json!({"sent": 5, "run": 1}));
    assert_eq!(finals(&events), vec![("vana".into(), "sent 5".into())]);
    // Nothing left to resume.
    assert!(runner.resume("u1", &session).await.is_err());
}

#[tokio::test]
async fn a_denied_call_never_runs_and_the_model_is_told() {
    let runs = Arc::new(AtomicU32::new(0));
    let m = model(
        "m",
        vec![
            ScriptedTurn::default().with_call_id("c1", "send_money", json!({"amount": 9})),
            ScriptedTurn::text("ok, not sent"),
        ],
    );
    let agent = LlmAgent::builder("vana", m.clone()).tool(Arc::new(Transfer { runs: runs.clone() })).build();
    let runner = Runner::new(agent, store());
    let (session, _, outcome) = run(&runner, "pay").await;
    assert_eq!(outcome, Outcome::Paused);
    assert!(runner.approve("u1", &session, "unknown", true).await.is_err());
    let (events, outcome) =
        runner.approve("u1", &session, "c1", false).await.unwrap().unwrap().collect().await;
    assert_eq!(outcome, Outcome::Done);
    assert_eq!(runs.load(Ordering::SeqCst), 0);
    let r = events.iter().flat_map(|e| e.function_responses()).find(|r| r.name == "send_money").unwrap();
    assert_eq!(r.response, json!({"error": "the user denied this tool call"}));
}

/// A specialist's approved call resumes inside the specialist; its answer then ends the
/// invocation, or with `return_to_parent` the orchestrator recaps it.
async fn approval_inside_a_specialist(return_to_parent: bool) -> Vec<(String, String)> {
    let runs = Arc::new(AtomicU32::new(0));
    let spec_model = model(
        "s",
        vec![
            ScriptedTurn::default().with_call_id("c9", "send_money", json!({"amount": 1})),
            ScriptedTurn::text("paid"),
        ],
    );
    let spec =
        LlmAgent::builder("payments", spec_model).tool(Arc::new(Transfer { runs: runs.clone() })).build();
    let vana_model = model("v", vec![transfer("payments"), ScriptedTurn::text("Payment done.")]);
    let vana = LlmAgent::builder("vana", vana_model).sub_agent(spec).build();
    let runner = Runner::new(vana, store()).with_config(RunConfig { return_to_parent, ..Default::default() });
    let (session, events, outcome) = run(&runner, "pay 1").await;
    assert_eq!(outcome, Outcome::Paused);
    assert_eq!(events.last().unwrap().agent_path, "vana/payments");
    let (events, outcome) =
        runner.approve("u1", &session, "c9", true).await.unwrap().unwrap().collect().await;
    assert_eq!(outcome, Outcome::Done);
    assert_eq!(runs.load(Ordering::SeqCst), 1);
    finals(&events)
}

#[tokio::test]
async fn approval_inside_a_specialist_resumes_there_and_its_answer_is_the_reply() {
    assert_eq!(approval_inside_a_specialist(false).await, vec![("payments".into(), "paid".into())]);
    assert_eq!(
        approval_inside_a_specialist(true).await,
        vec![("payments".into(), "paid".into()), ("vana".into(), "Payment done.".into())]
    );
}

#[tokio::test]
async fn history_is_windowed_so_invocation_cost_does_not_grow_with_the_session() {
    let m = Arc::new(ScriptedModel::repeating("r", vec![ScriptedTurn::text("ok")]));
    let agent = LlmAgent::builder("vana", m.clone()).build();
    let runner =
        Runner::new(agent, store()).with_config(RunConfig { max_history_events: 10, ..Default::default() });
    let session = runner.create_session("u1").await.unwrap().id;
    for i in 0..20 {
        run_on(&runner, &session, &format!("msg {i}")).await;
    }
    let last = m.requests().last().unwrap().clone();
    // The window of 10 stored events plus this invocation's message, trimmed to start at a user turn.
    assert!(last.contents.len() <= 11, "{}", last.contents.len());
    assert_eq!(last.contents[0].role, "user");
    assert!(last.contents.last().unwrap().text().contains("msg 19"));
}

/// The runner keeps hot sessions in memory and does not ask the store before each run; a
/// session changed behind its back (another process, another runner) must still be run on its
/// current history, and a deleted one must not come back from the cache.
#[tokio::test]
async fn a_session_changed_by_another_writer_is_reloaded_not_served_stale() {
    let m = Arc::new(ScriptedModel::repeating("r", vec![ScriptedTurn::text("ok")]));
    let store = store();
    let runner = Runner::new(LlmAgent::builder("vana", m.clone()).build(), store.clone());
    let other = Runner::new(LlmAgent::builder("vana", m.clone()).build(), store.clone());
    let session = runner.create_session("u1").await.unwrap().id;
    run_on(&runner, &session, "first").await; // now cached by `runner`
    run_on(&other, &session, "written by another runner").await;
    let (events, outcome) = run_on(&runner, &session, "third").await;
    assert_eq!(outcome, Outcome::Done);
    let seen: Vec<String> = m.requests().last().unwrap().contents.iter().map(|c| c.text()).collect();
    assert!(seen.iter().any(|t| t.contains("written by another runner")), "stale history: {seen:?}");
    // Every event is stored once, in order, with no gap or duplicate from the retried append.
    let stored = store.get_session("vana", "u1", &session, EventWindow::All).await.unwrap().unwrap();
    assert_eq!(stored.events.len(), 6);
    assert_eq!(stored.version, 6);
    assert_eq!(stored.events[4].id, events[0].id);

    // Deleted elsewhere, then created again under the same id: no history from the cache.
    assert!(store.delete_session("vana", "u1", &session).await.unwrap());
    let err = runner.run("u1", &session, vana_core::Content::user_text("gone?"), false).await.err();
    assert!(matches!(err, Some(vana_core::RunError::SessionNotFound(_))), "{:?}", err.map(|e| e.to_string()));
    store.create_session("vana", "u1", Some(&session), Default::default()).await.unwrap();
    run_on(&runner, &session, "fresh start").await;
    let seen: Vec<String> = m.requests().last().unwrap().contents.iter().map(|c| c.text()).collect();
    assert_eq!(seen, vec!["fresh start".to_string()]);
}

#[tokio::test]
async fn a_session_takes_its_title_from_the_first_message_and_keeps_one_the_user_set() {
    let m = model("titles", vec![ScriptedTurn::text("ok")]);
    let agent = LlmAgent::builder("vana", m).description("Orchestrator").build();
    let store = store();
    let runner = Runner::new(agent, store.clone());
    let long = format!("Plot   revenue\nby month {}", "and then some more words ".repeat(8));
    let (session, events, _) = run(&runner, &long).await;
    let title = |s: &vana_core::Session| vana_core::session::title_of(&s.state);
    let stored = store.get_session("vana", "u1", &session, EventWindow::All).await.unwrap().unwrap();
    let t = title(&stored).expect("titled by the first message");
    assert!(t.starts_with("Plot revenue by month and then"), "{t}");
    assert!(t.ends_with('…') && t.chars().count() <= 80, "{t}");
    // The title rides on the user's event, so it is part of the log like any state change.
    assert!(events[0].author == "user" && events[0].actions.state_delta.contains_key(TITLE_KEY));
    // A later message does not retitle it.
    run_on(&runner, &session, "something else").await;
    let stored = store.get_session("vana", "u1", &session, EventWindow::All).await.unwrap().unwrap();
    assert_eq!(title(&stored).as_deref(), Some(t.as_str()));
    let listed = store.list_sessions(Some("vana"), "u1").await.unwrap();
    assert_eq!(listed[0].title.as_deref(), Some(t.as_str()), "listings carry the title");

    // A session created with a title (or renamed) keeps it.
    let named = store
        .create_session("vana", "u1", None, [(TITLE_KEY.to_string(), json!("Mine"))].into_iter().collect())
        .await
        .unwrap();
    run_on(&runner, &named.id, "hello there").await;
    let stored = store.get_session("vana", "u1", &named.id, EventWindow::All).await.unwrap().unwrap();
    assert_eq!(title(&stored).as_deref(), Some("Mine"));
}
