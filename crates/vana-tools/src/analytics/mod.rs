//! The Advanced Analytics Specialist's tools: forecasting with backtests and intervals, and
//! computed business facts (growth, movers, significant segments, anomalies).

pub mod dates;
pub mod forecast;
mod insights;
mod predictive;

pub use insights::GenerateBusinessInsights;
pub use predictive::PerformPredictiveAnalysis;

use crate::workspace::SessionFiles;
use std::sync::Arc;
use vana_core::ToolRegistry;

/// Registers the analytics tools.
pub fn register(registry: &mut ToolRegistry, ws: SessionFiles) {
    registry.register(Arc::new(PerformPredictiveAnalysis::new(ws.clone())));
    registry.register(Arc::new(GenerateBusinessInsights::new(ws)));
}
