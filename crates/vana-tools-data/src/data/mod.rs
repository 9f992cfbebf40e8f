//! The Data Science Specialist's tools: analyse, clean and chart datasets, run statistical
//! tests, train models and predict with them. Data comes from the session workspace, inline
//! CSV/JSON, or a SQL result table.

mod analyze;
pub mod chart;
mod clean;
mod csv_read;
mod hash;
mod ml;
mod par;
pub mod source;
pub(crate) mod statistical_tests;
pub mod stats;
pub mod table;
mod visualize;

pub use analyze::{summary, AnalyzeDataset};
pub use clean::CleanData;
pub use ml::{Predict, TrainModel};
pub use statistical_tests::StatisticalAnalysis;
pub use table::{Column, ColumnData, Table, TextColumn, MISSING_CODE};
pub use visualize::{render_and_save, slug, VisualizeData};

use std::sync::Arc;
use vana_core::Tool;
use vana_toolkit::{typed, SessionFiles};

/// `analyze_dataset`, `visualize_data`, `clean_data`, `train_model`, `predict` and
/// `statistical_analysis` over the session workspaces.
pub fn tools(ws: &SessionFiles) -> Vec<Arc<dyn Tool>> {
    vec![
        typed(AnalyzeDataset::new(ws.clone())),
        typed(VisualizeData::new(ws.clone())),
        typed(CleanData::new(ws.clone())),
        typed(TrainModel::new(ws.clone())),
        typed(Predict::new(ws.clone())),
        typed(StatisticalAnalysis::new(ws.clone())),
    ]
}
