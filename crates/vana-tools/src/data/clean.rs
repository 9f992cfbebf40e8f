//! `clean_data`: drop or fill missing values, remove duplicates, cast types, filter outliers
//! and drop columns; writes a new CSV in the workspace and reports what each step changed.

use super::analyze::duplicate_rows;
use super::source::{load, source_schema};
use super::stats::{describe_text, mean_std, present, quantiles};
use super::table::{Column, ColumnData, Table};
use crate::args;
use crate::workspace::SessionFiles;
use async_trait::async_trait;
use serde_json::{json, Value};
use std::collections::HashSet;
use vana_core::{Tool, ToolContext, ToolError, ToolOutput};

/// Cleans a dataset into a new file.
pub struct CleanData {
    ws: SessionFiles,
}

impl CleanData {
    /// The tool over the session workspaces.
    pub fn new(ws: SessionFiles) -> Self {
        CleanData { ws }
    }
}

fn bad(s: impl Into<String>) -> ToolError {
    ToolError::InvalidArgs(s.into())
}

fn names(t: &Table, op: &Value) -> Result<Vec<String>, ToolError> {
    let list: Vec<String> = match (op.get("columns"), op.get("column")) {
        (Some(Value::Array(a)), _) => a
            .iter()
            .map(|v| v.as_str().map(str::to_string).ok_or_else(|| bad("`columns` must be names")))
            .collect::<Result<_, _>>()?,
        (_, Some(Value::String(c))) => vec![c.clone()],
        _ => t.columns.iter().map(|c| c.name.clone()).collect(),
    };
    for n in &list {
        t.column(n).map_err(bad)?;
    }
    Ok(list)
}

fn col_mut<'a>(t: &'a mut Table, name: &str) -> &'a mut Column {
    t.columns.iter_mut().find(|c| c.name == name).expect("checked by names()")
}

fn is_missing(c: &Column, i: usize) -> bool {
    match &c.data {
        ColumnData::Num(v) => v[i].is_nan(),
        ColumnData::Bool(v) => v[i].is_none(),
        ColumnData::Text(v) => v.is_missing(i),
    }
}

fn apply(t: &mut Table, op: &Value) -> Result<Value, ToolError> {
    let kind = op.get("op").and_then(Value::as_str).ok_or_else(|| bad("each operation needs `op`"))?;
    let before = t.rows;
    let report = match kind {
        "drop_missing" => {
            let cols = names(t, op)?;
            let all = op.get("how").and_then(Value::as_str) == Some("all");
            let cs: Vec<&Column> = cols.iter().map(|n| t.column(n).expect("checked")).collect();
            let keep: Vec<usize> = (0..t.rows)
                .filter(|&i| {
                    let miss = cs.iter().filter(|c| is_missing(c, i)).count();
                    if all { miss < cs.len() } else { miss == 0 }
                })
                .collect();
            *t = t.take(&keep);
            json!({"rowsRemoved": before - t.rows})
        }
        "fill_missing" => {
            let strategy = op.get("strategy").and_then(Value::as_str).unwrap_or("mean");
            let mut filled = serde_json::Map::new();
            for n in names(t, op)? {
                let c = col_mut(t, &n);
                let count = c.missing();
                match (&mut c.data, strategy) {
                    (ColumnData::Num(v), "mean" | "median" | "value") => {
                        let xs = present(v);
                        let fill = match strategy {
                            "mean" => mean_std(&xs).0,
                            "median" => quantiles(xs, &[0.5])[0],
                            _ => op.get("value").and_then(Value::as_f64).ok_or_else(|| bad(format!("`value` must be a number to fill `{n}`")))?,
                        };
                        if fill.is_nan() {
                            return Err(bad(format!("`{n}` has no values to compute a {strategy} from")));
                        }
                        v.iter_mut().filter(|x| x.is_nan()).for_each(|x| *x = fill);
                        filled.insert(n.clone(), json!({"filled": count, "with": fill}));
                    }
                    (_, "mode") | (ColumnData::Text(_) | ColumnData::Bool(_), "value") => {
                        let fill = if strategy == "mode" {
                            describe_text(c).top.ok_or_else(|| bad(format!("`{n}` has no values to take a mode from")))?
                        } else {
                            match op.get("value") {
                                Some(Value::String(s)) => s.clone(),
                                Some(Value::Bool(b)) => if *b { "True".into() } else { "False".into() },
                                _ => return Err(bad(format!("`value` must be text to fill `{n}`"))),
                            }
                        };
                        match &mut c.data {
                            ColumnData::Text(v) => {
                                v.fill_missing(&fill);
                            }
                            ColumnData::Bool(v) => {
                                let b = fill == "True";
                                v.iter_mut().filter(|x| x.is_none()).for_each(|x| *x = Some(b))
                            }
                            ColumnData::Num(v) => {
                                let f: f64 = fill.parse().map_err(|_| bad(format!("mode of `{n}` is not a number")))?;
                                v.iter_mut().filter(|x| x.is_nan()).for_each(|x| *x = f)
                            }
                        }
                        filled.insert(n.clone(), json!({"filled": count, "with": fill}));
                    }
                    (ColumnData::Text(_) | ColumnData::Bool(_), "mean" | "median") => {
                        // Skip non-numeric columns when no column was named explicitly.
                        if op.get("column").is_some() || op.get("columns").is_some() {
                            return Err(bad(format!("`{n}` is not numeric; use strategy mode or value")));
                        }
                    }
                    (_, other) => return Err(bad(format!("unknown strategy `{other}`; use mean, median, mode or value"))),
                }
            }
            json!({"columns": filled})
        }
        "drop_duplicates" => {
            let cols = names(t, op)?;
            let sub = Table { columns: cols.iter().map(|n| t.column(n).expect("checked").clone()).collect(), rows: t.rows };
            let mut seen = HashSet::new();
            let keep: Vec<usize> = (0..t.rows)
                .filter(|&i| seen.insert(sub.columns.iter().map(|c| c.text_at(i)).collect::<Vec<_>>()))
                .collect();
            *t = t.take(&keep);
            json!({"rowsRemoved": before - t.rows})
        }
        "cast" => {
            let n = op.get("column").and_then(Value::as_str).ok_or_else(|| bad("cast needs `column`"))?;
            let to = op.get("to").and_then(Value::as_str).ok_or_else(|| bad("cast needs `to`: number, text or bool"))?;
            let coerce = op.get("errors").and_then(Value::as_str) == Some("coerce");
            t.column(n).map_err(bad)?;
            let c = col_mut(t, n);
            let len = c.data_len();
            let mut failed = 0;
            let data = match to {
                "number" => ColumnData::Num((0..len).map(|i| {
                    let (x, present) = (c.num_at(i), !is_missing(c, i));
                    if x.is_nan() && present { failed += 1; }
                    x
                }).collect()),
                "text" => ColumnData::Text((0..len).map(|i| c.text_at(i)).collect()),
                "bool" => ColumnData::Bool((0..len).map(|i| {
                    let v = c.text_at(i).map(|s| s.to_ascii_lowercase());
                    match v.as_deref() {
                        None => None,
                        Some("true" | "1" | "yes") => Some(true),
                        Some("false" | "0" | "no") => Some(false),
                        Some(_) => { failed += 1; None }
                    }
                }).collect()),
                other => return Err(bad(format!("cannot cast to `{other}`; use number, text or bool"))),
            };
            if failed > 0 && !coerce {
                return Err(bad(format!("{failed} values of `{n}` cannot become {to}; pass \"errors\": \"coerce\" to make them missing")));
            }
            c.data = data;
            c.integral = false;
            json!({"column": n, "to": to, "madeMissing": failed})
        }
        "filter_outliers" => {
            let n = op.get("column").and_then(Value::as_str).ok_or_else(|| bad("filter_outliers needs `column`"))?;
            let c = t.column(n).map_err(bad)?;
            let v = c.nums().ok_or_else(|| bad(format!("`{n}` is not numeric")))?;
            let method = op.get("method").and_then(Value::as_str).unwrap_or("iqr");
            let (lo, hi) = match method {
                "iqr" => {
                    let k = op.get("threshold").and_then(Value::as_f64).unwrap_or(1.5);
                    let q = quantiles(present(v), &[0.25, 0.75]);
                    (q[0] - k * (q[1] - q[0]), q[1] + k * (q[1] - q[0]))
                }
                "zscore" => {
                    let k = op.get("threshold").and_then(Value::as_f64).unwrap_or(3.0);
                    let (m, s) = mean_std(&present(v));
                    (m - k * s, m + k * s)
                }
                other => return Err(bad(format!("unknown method `{other}`; use iqr or zscore"))),
            };
            let keep: Vec<usize> = (0..t.rows).filter(|&i| v[i].is_nan() || (v[i] >= lo && v[i] <= hi)).collect();
            *t = t.take(&keep);
            json!({"column": n, "method": method, "kept": [lo, hi], "rowsRemoved": before - t.rows})
        }
        "drop_columns" => {
            let cols = names(t, op)?;
            t.columns.retain(|c| !cols.contains(&c.name));
            json!({"dropped": cols})
        }
        other => return Err(bad(format!("unknown op `{other}`; use drop_missing, fill_missing, drop_duplicates, cast, filter_outliers or drop_columns"))),
    };
    let mut r = report;
    r["op"] = json!(kind);
    r["rowsAfter"] = json!(t.rows);
    Ok(r)
}

#[async_trait]
impl Tool for CleanData {
    fn name(&self) -> &str {
        "clean_data"
    }
    fn description(&self) -> &str {
        "Clean a dataset with operations applied in order: drop_missing (columns?, how any/all), fill_missing \
         (columns?, strategy mean/median/mode/value), drop_duplicates (columns?), cast (column, to number/text/bool, \
         errors coerce?), filter_outliers (column, method iqr/zscore, threshold?), drop_columns (columns). Writes a \
         new CSV to the workspace (the source is never changed) and reports what each step changed."
    }
    fn parameters(&self) -> Value {
        json!({"type": "object", "properties": {
            "source": source_schema(),
            "operations": {"type": "array", "items": {"type": "object", "properties": {"op": {"type": "string"}}, "required": ["op"]}},
            "output": {"type": "string", "description": "File name for the result (default <source>_clean.csv)."}
        }, "required": ["source", "operations"]})
    }
    async fn call(&self, args: Value, ctx: ToolContext) -> Result<ToolOutput, ToolError> {
        let ws = self.ws.clone();
        tokio::task::spawn_blocking(move || {
            let ops = args.get("operations").and_then(Value::as_array).filter(|o| !o.is_empty()).ok_or_else(|| bad("`operations` must be a non-empty array"))?.clone();
            let (mut t, from) = load(&ws, &ctx, &args)?;
            let before = json!({"rows": t.rows, "columns": t.columns.len(), "missing": t.columns.iter().map(|c| c.missing()).sum::<usize>(), "duplicateRows": duplicate_rows(&t)});
            let steps: Vec<Value> = ops.iter().map(|op| apply(&mut t, op)).collect::<Result<_, _>>()?;
            let output = match args::opt_string(&args, "output")? {
                Some(o) => o.to_string(),
                None => {
                    let stem = from.rsplit_once('.').map(|(s, _)| s).unwrap_or(&from);
                    format!("{}_clean.csv", if from.contains(' ') { "data" } else { stem })
                }
            };
            let bytes = t.to_csv().map_err(ToolError::Failed)?;
            let file = ws.write(&ctx, &output, &bytes)?;
            let after = json!({"rows": t.rows, "columns": t.columns.len(), "missing": t.columns.iter().map(|c| c.missing()).sum::<usize>(), "duplicateRows": duplicate_rows(&t)});
            Ok(ToolOutput::json(json!({"source": from, "output": file, "before": before, "after": after, "steps": steps})))
        })
        .await
        .map_err(|e| ToolError::Failed(format!("cleaning crashed: {e}")))?
    }
}
