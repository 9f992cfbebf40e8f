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
}

/// Runs an evaluation; returns the exit code.
pub async fn run(app: App, command: &EvalCommand) -> Result<i32> {
    match command {
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
    }
}
