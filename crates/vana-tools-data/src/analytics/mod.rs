//! The Advanced Analytics Specialist's tools: forecasting with backtests and intervals, and
//! computed business facts (growth, movers, significant segments, anomalies).

pub mod dates;
pub mod forecast;
mod insights;
mod predictive;

pub use insights::GenerateBusinessInsights;
pub use predictive::PerformPredictiveAnalysis;

use std::sync::Arc;
use vana_core::Tool;
use vana_toolkit::{typed, SessionFiles};

/// `perform_predictive_analysis` and `generate_business_insights`.
pub fn tools(ws: &SessionFiles) -> Vec<Arc<dyn Tool>> {
    vec![typed(PerformPredictiveAnalysis::new(ws.clone())), typed(GenerateBusinessInsights::new(ws.clone()))]
}
