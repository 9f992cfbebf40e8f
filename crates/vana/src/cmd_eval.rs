//! `vana eval`: measured evaluations of VANA's own components.

use anyhow::Result;
use clap::Subcommand;
use std::path::PathBuf;
use vana_app::App;

/// `vana eval ...`.
#[derive(Subcommand, Debug)]
pub enum EvalCommand {
    /// Accuracy, latency and confusion matrix of the semantic router on an evaluation set.
    Routing {
        /// Evaluation set (YAML `cases: [{request, agent}]`); the shipped eval/routing.yaml by default.
        #[arg(long)]
        file: Option<PathBuf>,
        /// Exit with status 1 when accuracy is below this fraction (e.g. 0.9).
        #[arg(long)]
        min_accuracy: Option<f64>,
    },
    /// Task success per agent (real tools and sandbox) on the shipped eval/tasks.yaml: success,
    /// median time and tokens.
    Tasks {
        /// Model string for every agent; `scripted` plays each task's scripted turns. Default:
        /// the agents' own model (the embedded local model when no API key is set).
        #[arg(long)]
        model: Option<String>,
        /// Only this agent's tasks (repeatable).
        #[arg(long = "agent")]
        agents: Vec<String>,
        /// Only this task (repeatable).
        #[arg(long = "task")]
        tasks: Vec<String>,
        /// Only the tasks marked for CI.
        #[arg(long)]
        ci: bool,
        /// Seconds one task may take (default 300).
        #[arg(long)]
        timeout: Option<u64>,
        /// Exit with status 1 when the fraction of successful tasks is below this (e.g. 0.9).
        #[arg(long)]
        min_success: Option<f64>,
    },
    /// Runs a Google ADK eval set (`.evalset.json`, as ADK's tooling writes it) on VANA and
    /// scores it with ADK's tool_trajectory_avg_score and response_match_score.
    Adk {
        /// The EvalSet JSON file.
        file: PathBuf,
        /// Agent to run (default: the cases' session_input.app_name, else the root agent).
        #[arg(long)]
        agent: Option<String>,
        /// Only this eval case (repeatable).
        #[arg(long = "case")]
        cases: Vec<String>,
        /// A metric, `name` or `name=threshold` (repeatable; default: both at ADK's thresholds).
        #[arg(long = "metric")]
        metrics: Vec<String>,
        /// Write ADK's EvalSetResult JSON here.
        #[arg(long)]
        out: Option<PathBuf>,
    },
}

/// Runs an evaluation; returns the exit code.
pub async fn run(app: App, command: &EvalCommand) -> Result<i32> {
    match command {
        EvalCommand::Adk { file, agent, cases, metrics, out } => {
            let (result, report) =
                vana_app::adk_eval::run_file(&app, file, agent.as_deref(), cases, metrics, out.as_deref())
                    .await?;
            print!("{report}");
            Ok(if vana_app::adk_eval::all_passed(&result) { 0 } else { 1 })
        }
        EvalCommand::Routing { file, min_accuracy } => {
            let report = vana_app::evaluation::routing(&app, file.as_deref()).await?;
            println!("{report}");
            Ok(match min_accuracy {
                Some(min) if report.accuracy < *min => {
                    eprintln!("accuracy {:.3} is below --min-accuracy {min}", report.accuracy);
                    1
                }
                _ => 0,
            })
        }
        EvalCommand::Tasks { model, agents, tasks, ci, timeout, min_success } => {
            let set = vana_app::task_eval::TaskSet::shipped()?;
            let options = vana_app::task_eval::Options {
                model: model.clone(),
                agents: agents.clone(),
                tasks: tasks.clone(),
                ci_only: *ci,
                timeout: timeout.map(std::time::Duration::from_secs),
            };
            let report = vana_app::task_eval::run(&app, &set, &options).await?;
            println!("{report}");
            let success = report.success();
            Ok(match min_success {
                Some(min) if success < *min => {
                    eprintln!("task success {success:.3} is below --min-success {min}");
                    1
                }
                _ => 0,
            })
        }
    }
}
