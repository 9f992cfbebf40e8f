//! `generate_business_insights`: computed facts with the numbers behind them — totals, growth,
//! top movers, segments that differ significantly, and anomalies by robust z-score. The model
//! writes the narrative from these facts only.

use super::dates::parse_day;
use super::predictive::series;
use crate::data::source::{load, source_schema};
use crate::data::statistical_tests::{anova, t_test};
use crate::data::stats::{describe_text, present, quantiles};
use crate::data::{ColumnData, Table};
use async_trait::async_trait;
use serde::Deserialize;
use serde_json::{json, Value};
use std::collections::{BTreeMap, HashMap};
use vana_core::{ToolContext, ToolError, ToolOutput};
use vana_toolkit::schemars::JsonSchema;
use vana_toolkit::{SessionFiles, TypedTool};

/// Arguments of `generate_business_insights`.
#[derive(Debug, Deserialize, JsonSchema)]
pub struct InsightsArgs {
    #[schemars(schema_with = "source_schema")]
    source: Value,
    /// The numeric column the facts are about (revenue, units, ...).
    value_column: String,
    /// The date column for growth and anomalies over time (guessed when not given).
    #[serde(default)]
    date_column: Option<String>,
    /// The categorical column for movers and significant segments (guessed when not given).
    #[serde(default)]
    segment_column: Option<String>,
}

/// Computes business facts from a dataset.
pub struct GenerateBusinessInsights {
    ws: SessionFiles,
}

impl GenerateBusinessInsights {
    /// The tool over the session workspaces.
    pub fn new(ws: SessionFiles) -> Self {
        GenerateBusinessInsights { ws }
    }
}

fn bad(s: impl Into<String>) -> ToolError {
    ToolError::InvalidArgs(s.into())
}

fn pct(from: f64, to: f64) -> Value {
    if from != 0.0 {
        json!((to - from) / from.abs() * 100.0)
    } else {
        Value::Null
    }
}

/// Robust z-scores: 0.6745 × (x − median) / MAD.
pub fn robust_z(xs: &[f64]) -> Vec<f64> {
    let med = quantiles(xs.to_vec(), &[0.5])[0];
    let dev: Vec<f64> = xs.iter().map(|x| (x - med).abs()).collect();
    let mad = quantiles(dev, &[0.5])[0];
    xs.iter().map(|x| if mad > 0.0 { 0.6745 * (x - med) / mad } else { 0.0 }).collect()
}

fn guess_date(t: &Table) -> Option<String> {
    t.columns
        .iter()
        .find(|c| {
            matches!(c.data, ColumnData::Text(_)) && {
                let vals: Vec<String> = (0..t.rows).filter_map(|i| c.text_at(i)).take(20).collect();
                !vals.is_empty() && vals.iter().all(|v| parse_day(v).is_some())
            }
        })
        .map(|c| c.name.clone())
}

fn guess_segment(t: &Table, date: Option<&str>) -> Option<String> {
    t.columns
        .iter()
        .filter(|c| {
            Some(c.name.as_str()) != date && matches!(c.data, ColumnData::Text(_) | ColumnData::Bool(_))
        })
        .find(|c| (2..=30).contains(&describe_text(c).unique))
        .map(|c| c.name.clone())
}

fn insights(t: &Table, args: &InsightsArgs) -> Result<Value, ToolError> {
    let value = args.value_column.as_str();
    let vc = t.column(value).map_err(bad)?;
    let vals = vc.nums().ok_or_else(|| bad(format!("`{value}` is {} and not numeric", vc.dtype())))?;
    let date = match args.date_column.as_deref() {
        Some(d) => Some(d.to_string()),
        None => guess_date(t),
    };
    let segment = match args.segment_column.as_deref() {
        Some(s) => Some(s.to_string()),
        None => guess_segment(t, date.as_deref()),
    };
    let alpha = 0.05;
    let mut facts = Vec::new();
    let xs = present(vals);
    let total: f64 = xs.iter().sum();
    facts.push(json!({"type": "total", "column": value, "sum": total, "mean": total / xs.len().max(1) as f64, "rows": xs.len()}));

    // Growth over time, and anomalies among the period totals.
    let mut periods: Vec<String> = Vec::new();
    if let Some(d) = &date {
        let s = series(t, d, value)?;
        periods = s.iter().map(|p| p.0.clone()).collect();
        if s.len() >= 2 {
            let (first, last, prev) = (&s[0], &s[s.len() - 1], &s[s.len() - 2]);
            facts.push(json!({"type": "growth", "column": value, "from": first.0, "to": last.0, "fromValue": first.2, "toValue": last.2,
                              "changePercent": pct(first.2, last.2), "periods": s.len()}));
            facts.push(json!({"type": "latest_change", "column": value, "previous": prev.0, "latest": last.0, "previousValue": prev.2,
                              "latestValue": last.2, "change": last.2 - prev.2, "changePercent": pct(prev.2, last.2)}));
        }
        let totals: Vec<f64> = s.iter().map(|p| p.2).collect();
        for (i, z) in robust_z(&totals).iter().enumerate() {
            if z.abs() > 3.5 {
                facts.push(json!({"type": "anomaly", "scope": "period total", "date": s[i].0, "value": totals[i], "robustZ": z,
                                  "rule": "|0.6745 (x - median) / MAD| > 3.5"}));
            }
        }
    } else {
        let zs = robust_z(&xs);
        let mut idx: Vec<usize> = (0..xs.len()).filter(|&i| zs[i].abs() > 3.5).collect();
        idx.sort_by(|a, b| zs[*b].abs().total_cmp(&zs[*a].abs()));
        let rows: Vec<usize> = (0..t.rows).filter(|&i| !vals[i].is_nan()).collect();
        for &i in idx.iter().take(10) {
            facts.push(json!({"type": "anomaly", "scope": "row", "row": rows[i] + 1, "value": xs[i], "robustZ": zs[i],
                              "rule": "|0.6745 (x - median) / MAD| > 3.5"}));
        }
    }

    if let Some(sname) = &segment {
        let sc = t.column(sname).map_err(bad)?;
        let mut groups: Vec<(String, Vec<f64>)> = Vec::new();
        let mut gi: HashMap<String, usize> = HashMap::new();
        for (i, &v) in vals.iter().enumerate() {
            let Some(k) = sc.text_at(i) else { continue };
            if v.is_nan() {
                continue;
            }
            let g = *gi.entry(k.clone()).or_insert_with(|| {
                groups.push((k, Vec::new()));
                groups.len() - 1
            });
            groups[g].1.push(v);
        }
        if groups.len() > 50 {
            return Err(bad(format!(
                "`{sname}` has {} segments; pick a column with at most 50",
                groups.len()
            )));
        }
        let mut shares: Vec<(String, f64, usize)> =
            groups.iter().map(|g| (g.0.clone(), g.1.iter().sum(), g.1.len())).collect();
        shares.sort_by(|a, b| b.1.total_cmp(&a.1));
        facts.push(json!({"type": "segments", "column": sname, "bySum": shares.iter().map(|(k, s, n)| json!({
            "segment": k, "sum": s, "sharePercent": if total != 0.0 { s / total * 100.0 } else { 0.0 }, "rows": n, "mean": s / *n as f64
        })).collect::<Vec<_>>()}));
        if groups.len() >= 2 && groups.iter().all(|g| g.1.len() >= 2) {
            let a = anova(&groups)?;
            facts.push(json!({"type": "segment_difference", "column": sname, "test": "one-way ANOVA", "F": a["statistic"], "pValue": a["pValue"],
                              "significant": a["pValue"].as_f64().map(|p| p < alpha)}));
            let k = groups.len() as f64;
            for (i, g) in groups.iter().enumerate() {
                let rest: Vec<f64> = groups
                    .iter()
                    .enumerate()
                    .filter(|(j, _)| *j != i)
                    .flat_map(|(_, o)| o.1.iter().copied())
                    .collect();
                let r = t_test(&g.1, &rest, false)?;
                let p = r["pValue"].as_f64().unwrap_or(1.0);
                if p * k < alpha {
                    facts.push(json!({"type": "segment_outperforms", "segment": g.0, "column": sname,
                        "segmentMean": r["meanA"], "othersMean": r["meanB"], "differencePercent": pct(r["meanB"].as_f64().unwrap_or(0.0), r["meanA"].as_f64().unwrap_or(0.0)),
                        "pValue": p, "test": "Welch t-test vs all other segments, Bonferroni-adjusted at 0.05"}));
                }
            }
        }
        // Top movers between the last two periods.
        if let (Some(d), true) = (&date, periods.len() >= 2) {
            let (prev, last) = (&periods[periods.len() - 2], &periods[periods.len() - 1]);
            let dc = t.column(d).map_err(bad)?;
            let mut by: BTreeMap<String, (f64, f64)> = BTreeMap::new();
            for (i, &v) in vals.iter().enumerate() {
                let (Some(p), Some(k)) = (dc.text_at(i), sc.text_at(i)) else { continue };
                if v.is_nan() {
                    continue;
                }
                let e = by.entry(k).or_default();
                if &p == prev {
                    e.0 += v;
                } else if &p == last {
                    e.1 += v;
                }
            }
            let mut movers: Vec<(String, f64, f64)> = by.into_iter().map(|(k, (a, b))| (k, a, b)).collect();
            movers.sort_by(|a, b| (b.2 - b.1).abs().total_cmp(&(a.2 - a.1).abs()));
            facts.push(json!({"type": "top_movers", "column": sname, "previous": prev, "latest": last,
                "movers": movers.iter().take(5).map(|(k, a, b)| json!({"segment": k, "previousValue": a, "latestValue": b, "change": b - a, "changePercent": pct(*a, *b)})).collect::<Vec<_>>()}));
        }
    }
    Ok(json!({"value": value, "dateColumn": date, "segmentColumn": segment, "facts": facts,
              "note": "Every number is computed from the data; quote these facts and do not add numbers that are not here."}))
}

#[async_trait]
impl TypedTool for GenerateBusinessInsights {
    type Args = InsightsArgs;

    fn name(&self) -> &'static str {
        "generate_business_insights"
    }
    fn description(&self) -> &'static str {
        "Compute business facts about a numeric `value_column`: totals, growth over `date_column`, latest change, \
         top movers by `segment_column` between the last two periods, segments that differ significantly (ANOVA, \
         Welch t-tests), and anomalies (robust z-score > 3.5). Date and segment columns are guessed when not given."
    }
    async fn run(&self, args: InsightsArgs, ctx: ToolContext) -> Result<ToolOutput, ToolError> {
        let ws = self.ws.clone();
        tokio::task::spawn_blocking(move || {
            let (t, from) = load(&ws, &ctx, &args.source)?;
            let mut v = insights(&t, &args)?;
            v["source"] = json!(from);
            Ok(ToolOutput::json(v))
        })
        .await
        .map_err(|e| ToolError::Failed(format!("insights crashed: {e}")))?
    }
}
