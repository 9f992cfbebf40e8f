//! The router with the shipped agents (`agents/*.yaml`) on the shipped evaluation set
//! (`eval/routing.yaml`).

mod common;

use std::collections::BTreeSet;
use std::sync::OnceLock;
use vana_router::{evaluate, AgentProfile, EvalSet, Router};

fn agents() -> Vec<AgentProfile> {
    AgentProfile::load_dir(&common::repo_root().join("agents")).expect("agents/*.yaml")
}

fn eval_set() -> EvalSet {
    EvalSet::load(&common::repo_root().join("eval/routing.yaml")).expect("eval/routing.yaml")
}

fn router() -> &'static Router {
    static ROUTER: OnceLock<Router> = OnceLock::new();
    ROUTER.get_or_init(|| Router::new(common::embedder(), &agents()))
}

/// Lower-case words only, for near-duplicate detection.
fn normalise(text: &str) -> String {
    text.to_lowercase()
        .split(|c: char| !c.is_alphanumeric())
        .filter(|w| !w.is_empty())
        .collect::<Vec<_>>()
        .join(" ")
}

#[test]
fn the_eval_set_covers_every_agent_and_does_not_reuse_examples() {
    let agents = agents();
    let set = eval_set();
    let names: BTreeSet<&str> = agents.iter().map(|a| a.name.as_str()).collect();
    assert!(names.contains("vana"), "{names:?}");
    for case in &set.cases {
        assert!(names.contains(case.agent.as_str()), "unknown agent {} in eval/routing.yaml", case.agent);
    }
    for agent in &agents {
        let n = set.cases.iter().filter(|c| c.agent == agent.name).count();
        let min = if agent.name == "vana" { 8 } else { 10 };
        assert!(n >= min, "{}: only {n} eval cases", agent.name);
    }
    let examples: BTreeSet<String> =
        agents.iter().flat_map(|a| a.examples.iter().chain([&a.description])).map(|e| normalise(e)).collect();
    for case in &set.cases {
        assert!(
            !examples.contains(&normalise(&case.request)),
            "eval case is an agent example: {}",
            case.request
        );
    }
}

#[test]
fn routes_the_eval_set_with_at_least_90_percent_accuracy() {
    let report = evaluate(router(), &eval_set());
    println!("{report}");
    assert!(report.total >= 118, "{} cases", report.total);
    assert!(report.accuracy >= 0.90, "accuracy {:.3} < 0.90\n{report}", report.accuracy);
}

#[test]
fn unrelated_input_is_not_confident() {
    let decision = router().route("asdf qwer zxcv");
    assert!(!decision.confident, "{decision:?}");
    assert_eq!(decision.target, "vana");
    assert!(decision.score < router().threshold());
}

#[test]
fn clear_requests_are_confident_and_report_a_runner_up() {
    let decision =
        router().route("please train a gradient boosting classifier on churn.csv and show the AUC");
    assert_eq!(decision.agent, "data_science", "{decision:?}");
    assert!(decision.confident && decision.target == decision.agent, "{decision:?}");
    let (runner_up, score) = decision.runner_up.clone().expect("a runner-up");
    assert_ne!(runner_up, decision.agent);
    assert!(score <= decision.score);
    let scores = router().scores("please train a gradient boosting classifier on churn.csv and show the AUC");
    assert_eq!(scores.len(), agents().len());
    assert_eq!(scores[0].0, "data_science");
}
