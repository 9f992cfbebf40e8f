//! `analyze_dataset`: shape, types, pandas-equal summary statistics, missing values,
//! duplicates, correlations and distributions.

use super::source::{load, source_schema, Workspaces};
use super::stats::{describe_num, describe_text, pearson, present, skew_kurt};
use super::table::{ColumnData, Table};
use crate::args;
use async_trait::async_trait;
use serde_json::{json, Map, Value};
use std::collections::HashSet;
use std::hash::{Hash, Hasher};
use vana_core::{Tool, ToolContext, ToolError, ToolOutput};

/// Describes a dataset the way pandas' `describe()` does, plus missing values and duplicates.
pub struct AnalyzeDataset {
    ws: Workspaces,
}

impl AnalyzeDataset {
    /// The tool over the session workspaces.
    pub fn new(ws: Workspaces) -> Self {
        AnalyzeDataset { ws }
    }
}

/// The `summary` analysis of a table (also used by the benchmark).
pub fn summary(t: &Table) -> Value {
    let columns: Vec<Value> = t
        .columns
        .iter()
        .map(|c| {
            let mut m = Map::new();
            m.insert("name".into(), json!(c.name));
            m.insert("dtype".into(), json!(c.dtype()));
            m.insert("missing".into(), json!(c.missing()));
            match &c.data {
                ColumnData::Num(v) => {
                    let s = describe_num(v);
                    for (k, x) in [
                        ("mean", s.mean),
                        ("std", s.std),
                        ("min", s.min),
                        ("25%", s.q25),
                        ("50%", s.q50),
                        ("75%", s.q75),
                        ("max", s.max),
                    ] {
                        m.insert(k.into(), if x.is_finite() { json!(x) } else { Value::Null });
                    }
                    m.insert("count".into(), json!(s.count));
                }
                _ => {
                    let s = describe_text(c);
                    m.insert("count".into(), json!(s.count));
                    m.insert("unique".into(), json!(s.unique));
                    m.insert("top".into(), json!(s.top));
                    m.insert("freq".into(), json!(s.freq));
                    m.insert(
                        "topValues".into(),
                        json!(s
                            .top_values
                            .iter()
                            .map(|(v, n)| json!({"value": v, "count": n}))
                            .collect::<Vec<_>>()),
                    );
                }
            }
            Value::Object(m)
        })
        .collect();
    json!({
        "shape": {"rows": t.rows, "columns": t.columns.len()},
        "columns": columns,
        "missingTotal": t.columns.iter().map(|c| c.missing()).sum::<usize>(),
        "duplicateRows": duplicate_rows(t),
    })
}

/// Rows equal to an earlier row (pandas `duplicated().sum()`).
pub fn duplicate_rows(t: &Table) -> usize {
    let mut seen: HashSet<(u64, u64)> = HashSet::with_capacity(t.rows);
    let mut dups = 0;
    for i in 0..t.rows {
        let mut h1 = std::collections::hash_map::DefaultHasher::new();
        let mut h2 = std::collections::hash_map::DefaultHasher::new();
        0xabcdu16.hash(&mut h2);
        for c in &t.columns {
            match &c.data {
                ColumnData::Num(v) => {
                    let b = if v[i].is_nan() { u64::MAX } else { (v[i] + 0.0).to_bits() };
                    b.hash(&mut h1);
                    b.hash(&mut h2);
                }
                ColumnData::Bool(v) => {
                    v[i].hash(&mut h1);
                    v[i].hash(&mut h2);
                }
                ColumnData::Text(v) => {
                    v[i].hash(&mut h1);
                    v[i].hash(&mut h2);
                }
            }
        }
        if !seen.insert((h1.finish(), h2.finish())) {
            dups += 1;
        }
    }
    dups
}

fn correlation(t: &Table) -> Value {
    let nums: Vec<(&str, &[f64])> =
        t.columns.iter().filter_map(|c| Some((c.name.as_str(), c.nums()?))).collect();
    let matrix: Vec<Value> = nums
        .iter()
        .map(|(_, a)| Value::Array(nums.iter().map(|(_, b)| num_or_null(pearson(a, b).0)).collect()))
        .collect();
    let mut pairs: Vec<(f64, &str, &str)> = Vec::new();
    for i in 0..nums.len() {
        for j in i + 1..nums.len() {
            let r = pearson(nums[i].1, nums[j].1).0;
            if r.is_finite() {
                pairs.push((r, nums[i].0, nums[j].0));
            }
        }
    }
    pairs.sort_by(|a, b| b.0.abs().total_cmp(&a.0.abs()));
    json!({
        "method": "pearson (pairwise complete rows, as pandas DataFrame.corr)",
        "columns": nums.iter().map(|n| n.0).collect::<Vec<_>>(),
        "matrix": matrix,
        "strongest": pairs.iter().take(10).map(|(r, a, b)| json!({"a": a, "b": b, "r": r})).collect::<Vec<_>>(),
    })
}

fn num_or_null(x: f64) -> Value {
    if x.is_finite() {
        json!(x)
    } else {
        Value::Null
    }
}

fn distribution(t: &Table, bins: usize) -> Value {
    let cols: Vec<Value> = t
        .columns
        .iter()
        .map(|c| match c.nums() {
            Some(v) => {
                let xs = present(v);
                let (skew, kurt) = skew_kurt(&xs);
                let (lo, hi) = xs.iter().fold((f64::INFINITY, f64::NEG_INFINITY), |(l, h), &x| (l.min(x), h.max(x)));
                let mut counts = vec![0usize; bins];
                let width = (hi - lo) / bins as f64;
                for &x in &xs {
                    let k = if width > 0.0 { (((x - lo) / width) as usize).min(bins - 1) } else { 0 };
                    counts[k] += 1;
                }
                let edges: Vec<Value> = (0..=bins).map(|k| num_or_null(lo + width * k as f64)).collect();
                json!({"name": c.name, "skew": num_or_null(skew), "kurtosis": num_or_null(kurt),
                       "histogram": {"edges": if xs.is_empty() { json!([]) } else { json!(edges) }, "counts": counts}})
            }
            None => {
                let s = describe_text(c);
                json!({"name": c.name, "unique": s.unique,
                       "topValues": s.top_values.iter().map(|(v, n)| json!({"value": v, "count": n})).collect::<Vec<_>>()})
            }
        })
        .collect();
    json!({"columns": cols, "bins": bins})
}

#[async_trait]
impl Tool for AnalyzeDataset {
    fn name(&self) -> &str {
        "analyze_dataset"
    }

    fn description(&self) -> &str {
        "Analyse a dataset: shape, column types, summary statistics equal to pandas' describe() (count, \
         mean, sample std, min, quartiles, max; top values for text), missing values per column and duplicate \
         rows (analysis_type \"summary\"); Pearson correlations (\"correlation\"); or skew, kurtosis and \
         histograms (\"distribution\")."
    }

    fn parameters(&self) -> Value {
        json!({"type": "object", "properties": {
            "source": source_schema(),
            "analysis_type": {"type": "string", "enum": ["summary", "correlation", "distribution"], "description": "Default summary."},
            "bins": {"type": "integer", "description": "Histogram bins for distribution (default 10)."}
        }, "required": ["source"]})
    }

    async fn call(&self, args: Value, ctx: ToolContext) -> Result<ToolOutput, ToolError> {
        let kind = args::opt_string(&args, "analysis_type")?.unwrap_or("summary").to_string();
        let bins = args::opt_f64(&args, "bins")?.unwrap_or(10.0);
        if !(1.0..=1000.0).contains(&bins) {
            return Err(ToolError::InvalidArgs(format!("`bins` must be between 1 and 1000, got {bins}")));
        }
        let ws = self.ws.clone();
        tokio::task::spawn_blocking(move || {
            let (t, from) = load(&ws, &ctx, &args)?;
            let mut out = match kind.as_str() {
                "summary" => summary(&t),
                "correlation" => correlation(&t),
                "distribution" => distribution(&t, bins as usize),
                other => {
                    return Err(ToolError::InvalidArgs(format!(
                        "unknown analysis_type `{other}`; use summary, correlation or distribution"
                    )))
                }
            };
            out["source"] = json!(from);
            out["analysisType"] = json!(kind);
            out["shape"] = json!({"rows": t.rows, "columns": t.columns.len()});
            Ok(ToolOutput::json(out))
        })
        .await
        .map_err(|e| ToolError::Failed(format!("analysis crashed: {e}")))?
    }
}
