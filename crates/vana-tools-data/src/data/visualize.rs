//! `visualize_data`: bar, line, scatter, histogram, box and correlation-heatmap charts as PNG
//! and SVG artifacts, also saved in the session workspace.

use super::chart::{self, ChartSpec, Line, Marks};
use super::source::{load, source_schema};
use super::stats::{pearson, present, quantile_sorted};
use super::table::{Column, ColumnData, Table};
use async_trait::async_trait;
use base64::Engine;
use serde::Deserialize;
use serde_json::{json, Value};
use std::collections::HashMap;
use vana_core::{Blob, ToolContext, ToolError, ToolOutput};
use vana_toolkit::schemars::JsonSchema;
use vana_toolkit::{SessionFiles, TypedTool};

/// Arguments of `visualize_data`.
#[derive(Debug, Deserialize, JsonSchema)]
pub struct VisualizeArgs {
    #[schemars(schema_with = "source_schema")]
    source: Value,
    /// The kind of chart.
    #[schemars(extend("enum" = ["bar", "line", "scatter", "histogram", "box", "heatmap"]))]
    chart: String,
    /// The x column (bar, line, scatter, histogram; box: the grouping column).
    #[serde(default)]
    x: Option<String>,
    /// The y column (bar and line: aggregated by x; scatter; box).
    #[serde(default)]
    y: Option<String>,
    /// How bar and line charts aggregate y per x (default sum; count needs no y).
    #[serde(default)]
    #[schemars(extend("enum" = ["sum", "mean", "count", "min", "max"]))]
    agg: Option<String>,
    /// Sort categories by label (default: line charts and numeric x).
    #[serde(default)]
    sort_x: Option<bool>,
    /// Histogram bins (default 20).
    #[serde(default)]
    #[schemars(with = "Option<u32>")]
    bins: Option<f64>,
    /// The chart's title (default: from the columns).
    #[serde(default)]
    title: Option<String>,
    /// Pixels (default 800).
    #[serde(default)]
    #[schemars(with = "Option<u32>")]
    width: Option<f64>,
    /// Pixels (default 500).
    #[serde(default)]
    #[schemars(with = "Option<u32>")]
    height: Option<f64>,
    /// png, svg or both (the default).
    #[serde(default)]
    #[schemars(extend("enum" = ["png", "svg", "both"]))]
    format: Option<String>,
    /// Base file name in the workspace without extension (default charts/<title>).
    #[serde(default)]
    file: Option<String>,
}

/// Draws a chart of a dataset.
pub struct VisualizeData {
    ws: SessionFiles,
}

impl VisualizeData {
    /// The tool over the session workspaces.
    pub fn new(ws: SessionFiles) -> Self {
        VisualizeData { ws }
    }
}

fn bad(s: String) -> ToolError {
    ToolError::InvalidArgs(s)
}

/// Groups `y` by the text of `x` with `agg` (sum, mean, count, min, max), in first-seen order
/// (or sorted by label when `sort_x`).
pub fn group(
    x: &Column,
    y: Option<&Column>,
    agg: &str,
    sort_x: bool,
) -> Result<(Vec<String>, Vec<f64>), ToolError> {
    let mut idx: HashMap<String, usize> = HashMap::new();
    let mut acc: Vec<(String, f64, usize, f64, f64)> = Vec::new();
    for i in 0..x.data_len() {
        let Some(k) = x.text_at(i) else { continue };
        let v = match y {
            Some(c) => c.num_at(i),
            None => 1.0,
        };
        if v.is_nan() && agg != "count" {
            continue;
        }
        let slot = *idx.entry(k.clone()).or_insert_with(|| {
            acc.push((k, 0.0, 0, f64::INFINITY, f64::NEG_INFINITY));
            acc.len() - 1
        });
        let a = &mut acc[slot];
        a.1 += if v.is_nan() { 0.0 } else { v };
        a.2 += 1;
        a.3 = a.3.min(v);
        a.4 = a.4.max(v);
    }
    if sort_x {
        let numeric = acc.iter().all(|a| a.0.parse::<f64>().is_ok());
        if numeric {
            acc.sort_by(|a, b| {
                a.0.parse::<f64>().unwrap_or(0.0).total_cmp(&b.0.parse::<f64>().unwrap_or(0.0))
            });
        } else {
            acc.sort_by(|a, b| a.0.cmp(&b.0));
        }
    }
    let values = acc
        .iter()
        .map(|a| match agg {
            "sum" => Ok(a.1),
            "mean" => Ok(a.1 / a.2 as f64),
            "count" => Ok(a.2 as f64),
            "min" => Ok(a.3),
            "max" => Ok(a.4),
            other => Err(bad(format!("unknown agg `{other}`; use sum, mean, count, min or max"))),
        })
        .collect::<Result<_, _>>()?;
    Ok((acc.into_iter().map(|a| a.0).collect(), values))
}

fn numeric<'a>(t: &'a Table, name: &str) -> Result<&'a [f64], ToolError> {
    let c = t.column(name).map_err(bad)?;
    c.nums().ok_or_else(|| {
        bad(format!("column `{name}` is {} and not numeric; pick a numeric column", c.dtype()))
    })
}

fn box_stats(v: &[f64]) -> Option<[f64; 5]> {
    let mut xs = present(v);
    if xs.is_empty() {
        return None;
    }
    xs.sort_by(f64::total_cmp);
    let (q1, med, q3) = (quantile_sorted(&xs, 0.25), quantile_sorted(&xs, 0.5), quantile_sorted(&xs, 0.75));
    let iqr = q3 - q1;
    let lo = xs.iter().copied().find(|x| *x >= q1 - 1.5 * iqr).unwrap_or(xs[0]);
    let hi = xs.iter().rev().copied().find(|x| *x <= q3 + 1.5 * iqr).unwrap_or(xs[xs.len() - 1]);
    Some([lo, q1, med, q3, hi])
}

fn need<'a>(v: Option<&'a str>, kind: &str, k: &str) -> Result<&'a str, ToolError> {
    v.ok_or_else(|| bad(format!("a {kind} chart needs `{k}` (a column name)")))
}

/// Builds the chart spec from the arguments.
pub fn spec_from(t: &Table, args: &VisualizeArgs) -> Result<ChartSpec, ToolError> {
    let kind = args.chart.as_str();
    let x = args.x.as_deref();
    let y = args.y.as_deref();
    let agg = args.agg.as_deref();
    let width = args.width.unwrap_or(800.0);
    let height = args.height.unwrap_or(500.0);
    if !(100.0..=4000.0).contains(&width) || !(100.0..=4000.0).contains(&height) {
        return Err(bad(format!("width and height must be 100..4000 pixels, got {width}x{height}")));
    }
    let sort_x = args.sort_x;
    let (marks, x_desc, y_desc, default_title) = match kind {
        "bar" | "line" => {
            let xc = t.column(need(x, kind, "x")?).map_err(bad)?;
            let yc = match y {
                Some(y) => {
                    numeric(t, y)?;
                    Some(t.column(y).map_err(bad)?)
                }
                None => None,
            };
            let agg = agg.unwrap_or(if yc.is_some() { "sum" } else { "count" });
            let sort = sort_x.unwrap_or(kind == "line" || matches!(xc.data, ColumnData::Num(_)));
            let (labels, values) = group(xc, yc, agg, sort)?;
            if labels.is_empty() {
                return Err(bad("no rows with both x and y present to draw".into()));
            }
            if labels.len() > 500 && kind == "bar" {
                return Err(bad(format!("`{}` has {} distinct values; a bar chart can show at most 500 (use a histogram or group first)", xc.name, labels.len())));
            }
            let y_desc = match y {
                Some(y) => format!("{agg} of {y}"),
                None => "count".into(),
            };
            let title = format!("{y_desc} by {}", xc.name);
            let marks = if kind == "bar" {
                Marks::Bars { labels, values }
            } else {
                let numeric_x = labels.iter().all(|l| l.parse::<f64>().is_ok());
                let xs: Vec<f64> = if numeric_x {
                    labels.iter().map(|l| l.parse().unwrap_or(0.0)).collect()
                } else {
                    (0..labels.len()).map(|i| i as f64).collect()
                };
                Marks::Lines {
                    lines: vec![Line { name: y_desc.clone(), xs, ys: values, color: 0 }],
                    x_labels: (!numeric_x).then_some(labels),
                    band: None,
                }
            };
            (marks, xc.name.clone(), y_desc, title)
        }
        "scatter" => {
            let (xn, yn) = (need(x, kind, "x")?, need(y, kind, "y")?);
            let (xv, yv) = (numeric(t, xn)?, numeric(t, yn)?);
            let (xs, ys): (Vec<f64>, Vec<f64>) =
                xv.iter().zip(yv).filter(|(a, b)| !a.is_nan() && !b.is_nan()).map(|(a, b)| (*a, *b)).unzip();
            if xs.is_empty() {
                return Err(bad("no rows with both x and y present to draw".into()));
            }
            if xs.len() > 100_000 {
                return Err(bad(format!(
                    "{} points are too many for a scatter plot (limit 100,000); sample or filter first",
                    xs.len()
                )));
            }
            (Marks::Scatter { xs, ys }, xn.to_string(), yn.to_string(), format!("{yn} vs {xn}"))
        }
        "histogram" => {
            let col = x.or(y).ok_or_else(|| bad("a histogram needs `x` (a numeric column)".into()))?;
            let xs = present(numeric(t, col)?);
            if xs.is_empty() {
                return Err(bad(format!("column `{col}` has no values")));
            }
            let bins = args.bins.unwrap_or(20.0);
            if !(1.0..=500.0).contains(&bins) {
                return Err(bad(format!("`bins` must be 1..500, got {bins}")));
            }
            let bins = bins as usize;
            let (lo, hi) =
                xs.iter().fold((f64::INFINITY, f64::NEG_INFINITY), |(l, h), &v| (l.min(v), h.max(v)));
            let w = if hi > lo { (hi - lo) / bins as f64 } else { 1.0 };
            let mut counts = vec![0usize; bins];
            for v in &xs {
                counts[(((v - lo) / w) as usize).min(bins - 1)] += 1;
            }
            let edges = (0..=bins).map(|k| lo + w * k as f64).collect();
            (
                Marks::Histogram { edges, counts },
                col.to_string(),
                "count".into(),
                format!("distribution of {col}"),
            )
        }
        "box" => {
            let yn = need(y, kind, "y")?;
            let yv = numeric(t, yn)?;
            let (labels, stats): (Vec<String>, Vec<[f64; 5]>) = match x {
                Some(xn) => {
                    let xc = t.column(xn).map_err(bad)?;
                    let mut groups: Vec<(String, Vec<f64>)> = Vec::new();
                    let mut idx: HashMap<String, usize> = HashMap::new();
                    for (i, v) in yv.iter().enumerate() {
                        if let Some(k) = xc.text_at(i) {
                            let g = *idx.entry(k.clone()).or_insert_with(|| {
                                groups.push((k, Vec::new()));
                                groups.len() - 1
                            });
                            groups[g].1.push(*v);
                        }
                    }
                    if groups.len() > 50 {
                        return Err(bad(format!(
                            "`{xn}` has {} groups; a box plot shows at most 50",
                            groups.len()
                        )));
                    }
                    groups.into_iter().filter_map(|(k, v)| Some((k, box_stats(&v)?))).unzip()
                }
                None => (vec![yn.to_string()], box_stats(yv).into_iter().collect()),
            };
            if stats.is_empty() {
                return Err(bad(format!("column `{yn}` has no values")));
            }
            (
                Marks::Boxes { labels, stats },
                x.unwrap_or("").to_string(),
                yn.to_string(),
                format!("{yn}{}", x.map(|x| format!(" by {x}")).unwrap_or_default()),
            )
        }
        "heatmap" => {
            let cols: Vec<(&str, &[f64])> =
                t.columns.iter().filter_map(|c| Some((c.name.as_str(), c.nums()?))).collect();
            if cols.len() < 2 {
                return Err(bad("a correlation heatmap needs at least two numeric columns".into()));
            }
            if cols.len() > 30 {
                return Err(bad(format!(
                    "{} numeric columns are too many for a heatmap (limit 30)",
                    cols.len()
                )));
            }
            let matrix: Vec<Vec<f64>> =
                cols.iter().map(|(_, a)| cols.iter().map(|(_, b)| pearson(a, b).0).collect()).collect();
            let labels = cols.iter().map(|c| c.0.to_string()).collect();
            (
                Marks::Heatmap { labels, matrix },
                String::new(),
                String::new(),
                "correlation (Pearson)".to_string(),
            )
        }
        other => {
            return Err(bad(format!(
                "unknown chart `{other}`; use bar, line, scatter, histogram, box or heatmap"
            )))
        }
    };
    let title = args.title.clone().unwrap_or(default_title);
    Ok(ChartSpec { title, x_desc, y_desc, marks, width: width as u32, height: height as u32 })
}

/// Renders a chart to PNG and/or SVG, saves the files in the workspace and returns artifacts.
pub fn render_and_save(
    ws: &SessionFiles,
    ctx: &ToolContext,
    spec: &ChartSpec,
    base: &str,
    format: &str,
) -> Result<(Vec<Blob>, Vec<String>), ToolError> {
    let mut blobs = Vec::new();
    let mut files = Vec::new();
    let b64 = base64::engine::general_purpose::STANDARD;
    if matches!(format, "png" | "both") {
        let bytes = chart::png(spec).map_err(ToolError::Failed)?;
        let name = ws.write(ctx, &format!("{base}.png"), &bytes)?;
        blobs.push(Blob {
            mime_type: "image/png".into(),
            data: b64.encode(&bytes),
            display_name: Some(name.clone()),
        });
        files.push(name);
    }
    if matches!(format, "svg" | "both") {
        let text = chart::svg(spec).map_err(ToolError::Failed)?;
        let name = ws.write(ctx, &format!("{base}.svg"), text.as_bytes())?;
        blobs.push(Blob {
            mime_type: "image/svg+xml".into(),
            data: b64.encode(text.as_bytes()),
            display_name: Some(name.clone()),
        });
        files.push(name);
    }
    if blobs.is_empty() {
        return Err(bad(format!("unknown format `{format}`; use png, svg or both")));
    }
    Ok((blobs, files))
}

/// A file-name-safe slug.
pub fn slug(s: &str) -> String {
    let s: String =
        s.chars().map(|c| if c.is_ascii_alphanumeric() { c.to_ascii_lowercase() } else { '_' }).collect();
    let s = s.split('_').filter(|p| !p.is_empty()).collect::<Vec<_>>().join("_");
    s.chars().take(60).collect()
}

#[async_trait]
impl TypedTool for VisualizeData {
    type Args = VisualizeArgs;

    fn name(&self) -> &'static str {
        "visualize_data"
    }
    fn description(&self) -> &'static str {
        "Draw a chart of a dataset: bar or line (y aggregated by x with agg sum/mean/count/min/max), scatter, \
         histogram, box (y, optionally grouped by x) or heatmap (correlations of numeric columns). The PNG and \
         SVG are shown to the user and saved under charts/ in the workspace."
    }
    async fn run(&self, args: VisualizeArgs, ctx: ToolContext) -> Result<ToolOutput, ToolError> {
        let ws = self.ws.clone();
        tokio::task::spawn_blocking(move || {
            let format = args.format.as_deref().unwrap_or("both").to_string();
            if !matches!(format.as_str(), "png" | "svg" | "both") {
                return Err(bad(format!("unknown format `{format}`; use png, svg or both")));
            }
            let (t, from) = load(&ws, &ctx, &args.source)?;
            let spec = spec_from(&t, &args)?;
            let base = match args.file.as_deref() {
                Some(f) => f.trim_end_matches(".png").trim_end_matches(".svg").to_string(),
                None => format!("charts/{}", slug(&spec.title)),
            };
            let (artifacts, files) = render_and_save(&ws, &ctx, &spec, &base, &format)?;
            Ok(ToolOutput {
                response: json!({
                    "chart": args.chart, "title": spec.title, "source": from, "width": spec.width, "height": spec.height,
                    "marks": spec.mark_count(), "files": files,
                    "note": "the chart is attached for the user"
                }),
                artifacts,
                ..Default::default()
            })
        })
        .await
        .map_err(|e| ToolError::Failed(format!("chart drawing crashed: {e}")))?
    }
}
