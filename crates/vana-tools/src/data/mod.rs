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
pub mod stats;
pub(crate) mod stats_tests;
pub mod table;
mod visualize;

pub use analyze::{summary, AnalyzeDataset};
pub use clean::CleanData;
pub use ml::{Predict, TrainModel};
pub use stats_tests::StatisticalAnalysis;
pub use table::{Column, ColumnData, Table, TextColumn, MISSING_CODE};
pub use visualize::{render_and_save, slug, VisualizeData};

use crate::workspace::SessionFiles;
use std::sync::Arc;
use vana_core::ToolRegistry;

/// Registers the data tools over the session workspaces.
pub fn register(registry: &mut ToolRegistry, ws: SessionFiles) {
    registry.register(Arc::new(AnalyzeDataset::new(ws.clone())));
    registry.register(Arc::new(VisualizeData::new(ws.clone())));
    registry.register(Arc::new(CleanData::new(ws.clone())));
    registry.register(Arc::new(TrainModel::new(ws.clone())));
    registry.register(Arc::new(Predict::new(ws.clone())));
    registry.register(Arc::new(StatisticalAnalysis::new(ws)));
}
