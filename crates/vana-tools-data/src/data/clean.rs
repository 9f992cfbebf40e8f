//! `clean_data`: drop or fill missing values, remove duplicates, cast types, filter outliers
//! and drop columns; writes a new CSV in the workspace and reports what each step changed.

use super::analyze::duplicate_rows;
use super::source::{load, source_schema};
use super::stats::{describe_text, mean_std, present, quantiles};
use super::table::{Column, ColumnData, Table};
use async_trait::async_trait;
use serde::Deserialize;
use serde_json::{json, Value};
use std::collections::HashSet;
use vana_core::{ToolContext, ToolError, ToolOutput};
use vana_toolkit::schemars::JsonSchema;
use vana_toolkit::{SessionFiles, TypedTool};

/// Arguments of `clean_data`.
#[derive(Debug, Deserialize, JsonSchema)]
pub struct CleanArgs {
    #[schemars(schema_with = "source_schema")]
    source: Value,
    /// The operations, applied in order.
    #[schemars(length(min = 1))]
    operations: Vec<Operation>,
    /// File name for the result (default <source>_clean.csv).
    #[serde(default)]
    output: Option<String>,
}

/// The schema of `value`: a number or text.
fn fill_value(_: &mut vana_toolkit::schemars::SchemaGenerator) -> vana_toolkit::schemars::Schema {
    vana_toolkit::schemars::json_schema!({"anyOf": [{"type": "number"}, {"type": "string"}]})
}

/// One cleaning step.
#[derive(Debug, Deserialize, JsonSchema)]
pub struct Operation {
    /// drop_missing, fill_missing, drop_duplicates, cast, filter_outliers or drop_columns.
    #[schemars(extend("enum" = ["drop_missing", "fill_missing", "drop_duplicates", "cast", "filter_outliers", "drop_columns"]))]
    op: String,
    /// The columns it applies to (default: every column).
    #[serde(default)]
    columns: Option<Vec<String>>,
    /// One column it applies to (cast, filter_outliers; or instead of `columns`).
    #[serde(default)]
    column: Option<String>,
    /// drop_missing: `any` (default: a row with any missing value goes) or `all`.
    #[serde(default)]
    #[schemars(extend("enum" = ["any", "all"]))]
    how: Option<String>,
    /// fill_missing: mean (default), median, mode or value.
    #[serde(default)]
    #[schemars(extend("enum" = ["mean", "median", "mode", "value"]))]
    strategy: Option<String>,
    /// fill_missing with strategy `value`: the value to fill in (a number or text).
    #[serde(default)]
    #[schemars(schema_with = "fill_value")]
    value: Option<Value>,
    /// cast: the type to cast to.
    #[serde(default)]
    #[schemars(extend("enum" = ["number", "text", "bool"]))]
    to: Option<String>,
    /// cast: `coerce` turns values that do not convert into missing values (default: an error).
    #[serde(default)]
    #[schemars(extend("enum" = ["raise", "coerce"]))]
    errors: Option<String>,
    /// filter_outliers: iqr (default) or zscore.
    #[serde(default)]
    #[schemars(extend("enum" = ["iqr", "zscore"]))]
    method: Option<String>,
    /// filter_outliers: the IQR multiple (default 1.5) or the z-score (default 3).
    #[serde(default)]
    threshold: Option<f64>,
}

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

fn names(t: &Table, op: &Operation) -> Result<Vec<String>, ToolError> {
    let list: Vec<String> = match (&op.columns, &op.column) {
        (Some(a), _) => a.clone(),
        (_, Some(c)) => vec![c.clone()],
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

fn apply(t: &mut Table, op: &Operation) -> Result<Value, ToolError> {
    let kind = op.op.as_str();
    let before = t.rows;
    let report = match kind {
        "drop_missing" => {
            let cols = names(t, op)?;
            let all = op.how.as_deref() == Some("all");
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
            let strategy = op.strategy.as_deref().unwrap_or("mean");
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
                            _ => op.value.as_ref().and_then(Value::as_f64).ok_or_else(|| bad(format!("`value` must be a number to fill `{n}`")))?,
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
                            match &op.value {
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
                        if op.column.is_some() || op.columns.is_some() {
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
            let n = op.column.as_deref().ok_or_else(|| bad("cast needs `column`"))?;
            let to = op.to.as_deref().ok_or_else(|| bad("cast needs `to`: number, text or bool"))?;
            let coerce = op.errors.as_deref() == Some("coerce");
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
            let n = op.column.as_deref().ok_or_else(|| bad("filter_outliers needs `column`"))?;
            let c = t.column(n).map_err(bad)?;
            let v = c.nums().ok_or_else(|| bad(format!("`{n}` is not numeric")))?;
            let method = op.method.as_deref().unwrap_or("iqr");
            let (lo, hi) = match method {
                "iqr" => {
                    let k = op.threshold.unwrap_or(1.5);
                    let q = quantiles(present(v), &[0.25, 0.75]);
                    (q[0] - k * (q[1] - q[0]), q[1] + k * (q[1] - q[0]))
                }
                "zscore" => {
                    let k = op.threshold.unwrap_or(3.0);
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
impl TypedTool for CleanData {
    type Args = CleanArgs;

    fn name(&self) -> &'static str {
        "clean_data"
    }
    fn description(&self) -> &'static str {
        "Clean a dataset with operations applied in order: drop_missing (columns?, how any/all), fill_missing \
         (columns?, strategy mean/median/mode/value), drop_duplicates (columns?), cast (column, to number/text/bool, \
         errors coerce?), filter_outliers (column, method iqr/zscore, threshold?), drop_columns (columns). Writes a \
         new CSV to the workspace (the source is never changed) and reports what each step changed."
    }
    async fn run(&self, args: CleanArgs, ctx: ToolContext) -> Result<ToolOutput, ToolError> {
        let ws = self.ws.clone();
        tokio::task::spawn_blocking(move || {
            let ops = &args.operations;
            if ops.is_empty() {
                return Err(bad("field `operations`: give at least one operation"));
            }
            let (mut t, from) = load(&ws, &ctx, &args.source)?;
            let before = json!({"rows": t.rows, "columns": t.columns.len(), "missing": t.columns.iter().map(|c| c.missing()).sum::<usize>(), "duplicateRows": duplicate_rows(&t)});
            let steps: Vec<Value> = ops.iter().map(|op| apply(&mut t, op)).collect::<Result<_, _>>()?;
            let output = match args.output.as_deref() {
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
