//! `vana eval routing`: the semantic router measured on an evaluation set (accuracy, latency,
//! confusion matrix), the shipped `eval/routing.yaml` by default.

use crate::App;
use std::path::Path;
use vana_router::{EvalReport, EvalSet};

/// The routing evaluation set shipped in the repository.
const ROUTING_SET: &str = include_str!("../../../eval/routing.yaml");

/// Why an evaluation could not run.
#[derive(Debug, thiserror::Error)]
pub enum EvalError {
    /// The evaluation set given could not be read (the message names the file and why).
    #[error("{0}")]
    Set(vana_router::RouterError),
    /// The shipped evaluation set does not parse (a build defect).
    #[error("the shipped eval/routing.yaml: {0}")]
    Shipped(String),
    /// The router's model could not be loaded.
    #[error("the semantic router cannot start: {0}")]
    Router(String),
    /// The evaluation thread panicked.
    #[error("the routing evaluation stopped: {0}")]
    Stopped(String),
}

/// Routes every case of `file` (the shipped set when `None`) with the app's router.
pub async fn routing(app: &App, file: Option<&Path>) -> Result<EvalReport, EvalError> {
    let set = match file {
        Some(path) => EvalSet::load(path).map_err(EvalError::Set)?,
        None => EvalSet::from_yaml(ROUTING_SET).map_err(|e| EvalError::Shipped(e.to_string()))?,
    };
    let router = app.router.get().await.map_err(EvalError::Router)?;
    tokio::task::spawn_blocking(move || vana_router::evaluate(&router, &set))
        .await
        .map_err(|e| EvalError::Stopped(e.to_string()))
}
