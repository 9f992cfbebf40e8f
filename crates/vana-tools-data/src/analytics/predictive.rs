//! `perform_predictive_analysis`: backtests each forecasting method on the last part of the
//! series, picks the lowest RMSE, refits on everything and forecasts with 95% intervals and a chart.

use super::dates::{parse_day, Freq};
use super::forecast::{errors, Method};
use crate::data::chart::{ChartSpec, Line, Marks};
use crate::data::source::{load, source_schema};
use crate::data::{render_and_save, slug, Table};
use async_trait::async_trait;
use serde::Deserialize;
use serde_json::{json, Value};
use std::collections::BTreeMap;
use vana_core::{ToolContext, ToolError, ToolOutput};
use vana_toolkit::schemars::JsonSchema;
use vana_toolkit::{SessionFiles, TypedTool};

/// Arguments of `perform_predictive_analysis`.
#[derive(Debug, Deserialize, JsonSchema)]
pub struct ForecastArgs {
    #[schemars(schema_with = "source_schema")]
    source: Value,
    /// The date (or period) column; values on the same date are summed.
    date_column: String,
    /// The numeric column to forecast.
    value_column: String,
    /// Steps to forecast (default 12).
    #[serde(default)]
    #[schemars(with = "Option<u32>")]
    horizon: Option<f64>,
    /// Points per season (default: inferred from the dates, daily 7, monthly 12, ...).
    #[serde(default)]
    #[schemars(with = "Option<u32>")]
    season_length: Option<f64>,
}

/// Forecasts a time series.
pub struct PerformPredictiveAnalysis {
    ws: SessionFiles,
}

impl PerformPredictiveAnalysis {
    /// The tool over the session workspaces.
    pub fn new(ws: SessionFiles) -> Self {
        PerformPredictiveAnalysis { ws }
    }
}

fn bad(s: impl Into<String>) -> ToolError {
    ToolError::InvalidArgs(s.into())
}

/// The series: (date label, day number if a date, value), summed per date and sorted by time.
pub fn series(t: &Table, date: &str, value: &str) -> Result<Vec<(String, Option<i64>, f64)>, ToolError> {
    let dc = t.column(date).map_err(bad)?;
    let vc = t.column(value).map_err(bad)?;
    if vc.nums().is_none() {
        return Err(bad(format!("`{value}` is {} and not numeric", vc.dtype())));
    }
    let mut by: BTreeMap<(i64, String), f64> = BTreeMap::new();
    let numeric_dates = dc.nums().is_some();
    for i in 0..t.rows {
        let (Some(label), v) = (dc.text_at(i), vc.num_at(i)) else { continue };
        if v.is_nan() {
            continue;
        }
        let key = if numeric_dates {
            (dc.num_at(i) as i64, label)
        } else {
            let d = parse_day(&label).ok_or_else(|| {
                bad(format!(
                    "`{date}` value \"{label}\" (row {}) is not a date like 2024-01-31 or 2024-01",
                    i + 1
                ))
            })?;
            (d, label)
        };
        *by.entry(key).or_default() += v;
    }
    Ok(by.into_iter().map(|((d, l), v)| (l, (!numeric_dates).then_some(d), v)).collect())
}

fn analyze(ws: &SessionFiles, ctx: &ToolContext, args: &ForecastArgs) -> Result<ToolOutput, ToolError> {
    let (t, from) = load(ws, ctx, &args.source)?;
    let date = args.date_column.as_str();
    let value = args.value_column.as_str();
    let horizon = args.horizon.unwrap_or(12.0);
    if !(1.0..=1000.0).contains(&horizon) {
        return Err(bad(format!("`horizon` must be 1..1000 steps, got {horizon}")));
    }
    let h = horizon as usize;
    let s = series(&t, date, value)?;
    if s.len() < 8 {
        return Err(bad(format!("only {} time points; forecasting needs at least 8", s.len())));
    }
    let days: Vec<i64> = s.iter().filter_map(|p| p.1).collect();
    let freq = if days.len() == s.len() { Freq::infer(&days) } else { None };
    let m = match args.season_length {
        Some(v) if v >= 1.0 => v as usize,
        Some(v) => return Err(bad(format!("`season_length` must be at least 1, got {v}"))),
        None => freq.map(Freq::season).unwrap_or(1),
    };
    let m = if s.len() >= 2 * m + 2 { m } else { 1 };
    let y: Vec<f64> = s.iter().map(|p| p.2).collect();
    let n = y.len();
    // Backtest: hold out the last `hold` points (the horizon, at most a third of the series).
    let hold = h.min(n / 3).max(1);
    let train = &y[..n - hold];
    let actual = &y[n - hold..];
    let mut results = Vec::new();
    for method in Method::ALL {
        if let Some(p) = method.forecast(train, m, hold) {
            let e = errors(actual, &p);
            results.push((method, e));
        }
    }
    let (best, best_err) = results
        .iter()
        .copied()
        .min_by(|a, b| a.1.rmse.total_cmp(&b.1.rmse))
        .ok_or_else(|| ToolError::Failed("no method could fit this series".into()))?;
    let point = best
        .forecast(&y, m, h)
        .ok_or_else(|| ToolError::Failed(format!("{} could not fit the full series", best.name())))?;
    // 95% interval: backtest RMSE, widening with the square root of the step relative to the
    // backtest's mean step.
    let mean_step = (hold as f64 + 1.0) / 2.0;
    let half: Vec<f64> =
        (1..=h).map(|k| 1.96 * best_err.rmse * (k as f64 / mean_step).sqrt().max(1.0)).collect();
    let month_only = s.last().map(|p| p.0.trim().len() == 7).unwrap_or(false);
    let labels: Vec<String> = (1..=h)
        .map(|k| match (freq, s.last().and_then(|p| p.1)) {
            (Some(f), Some(d)) => f.step(d, k as i64, month_only),
            _ => format!("t+{k}"),
        })
        .collect();
    let forecast: Vec<Value> = (0..h)
        .map(|k| json!({"date": labels[k], "forecast": point[k], "lower95": point[k] - half[k], "upper95": point[k] + half[k]}))
        .collect();
    // Chart: history, forecast and its band.
    let mut x_labels: Vec<String> = s.iter().map(|p| p.0.clone()).collect();
    x_labels.extend(labels.iter().cloned());
    let fx: Vec<f64> = (n..n + h).map(|i| i as f64).collect();
    let spec = ChartSpec {
        title: format!("{value} forecast ({})", best.name()),
        x_desc: date.into(),
        y_desc: value.into(),
        marks: Marks::Lines {
            lines: vec![
                Line {
                    name: "history".into(),
                    xs: (0..n).map(|i| i as f64).collect(),
                    ys: y.clone(),
                    color: 0,
                },
                Line {
                    name: format!("forecast ({})", best.name()),
                    xs: fx.clone(),
                    ys: point.clone(),
                    color: 1,
                },
            ],
            x_labels: Some(x_labels),
            band: Some((
                fx,
                point.iter().zip(&half).map(|(p, w)| p - w).collect(),
                point.iter().zip(&half).map(|(p, w)| p + w).collect(),
            )),
        },
        width: 900,
        height: 500,
    };
    let (artifacts, files) =
        render_and_save(ws, ctx, &spec, &format!("charts/{}", slug(&format!("forecast_{value}"))), "both")?;
    Ok(ToolOutput {
        response: json!({
            "source": from, "points": n, "frequency": freq.map(|f| format!("{f:?}").to_lowercase()), "seasonLength": m,
            "method": best.name(),
            "backtest": {
                "heldOut": hold,
                "methods": results.iter().map(|(mt, e)| json!({"method": mt.name(), "mae": e.mae, "rmse": e.rmse})).collect::<Vec<_>>(),
            },
            "intervals": "95%: ±1.96 × backtest RMSE, widened by sqrt(step / mean backtest step)",
            "forecast": forecast,
            "chart": files,
        }),
        artifacts,
        ..Default::default()
    })
}

#[async_trait]
impl TypedTool for PerformPredictiveAnalysis {
    type Args = ForecastArgs;

    fn name(&self) -> &'static str {
        "perform_predictive_analysis"
    }
    fn description(&self) -> &'static str {
        "Forecast a time series: backtests seasonal naive, linear trend and Holt-Winters on the latest points, \
         picks the lowest RMSE, and forecasts `horizon` steps with 95% intervals and a chart. Values on the same \
         date are summed; the season length is inferred from the dates (daily 7, monthly 12, ...) unless given."
    }
    async fn run(&self, args: ForecastArgs, ctx: ToolContext) -> Result<ToolOutput, ToolError> {
        let ws = self.ws.clone();
        tokio::task::spawn_blocking(move || analyze(&ws, &ctx, &args))
            .await
            .map_err(|e| ToolError::Failed(format!("forecasting crashed: {e}")))?
    }
}
