//! `statistical_analysis`: two-sample t-test, chi-square test of independence, one-way ANOVA
//! and Pearson/Spearman correlation tests, with p-values from statrs' distributions.

use super::source::{load, source_schema};
use super::stats::{mean_std, pearson, ranks, sum};
use super::table::Table;
use async_trait::async_trait;
use serde::Deserialize;
use serde_json::{json, Value};
use statrs::distribution::{ChiSquared, ContinuousCDF, FisherSnedecor, StudentsT};
use std::collections::HashMap;
use vana_core::{ToolContext, ToolError, ToolOutput};
use vana_toolkit::schemars::JsonSchema;
use vana_toolkit::{SessionFiles, TypedTool};

/// Arguments of `statistical_analysis`.
#[derive(Debug, Deserialize, JsonSchema)]
pub struct TestArgs {
    #[schemars(schema_with = "source_schema")]
    source: Value,
    /// The test to run.
    #[schemars(extend("enum" = ["t_test", "anova", "chi_square", "correlation"]))]
    test: String,
    /// The numeric column (t_test by `group`, anova).
    #[serde(default)]
    column: Option<String>,
    /// The column whose values split `column` into groups (t_test: two groups; anova).
    #[serde(default)]
    group: Option<String>,
    /// The first column (t_test of two columns, chi_square, correlation).
    #[serde(default)]
    a: Option<String>,
    /// The second column (t_test of two columns, chi_square, correlation).
    #[serde(default)]
    b: Option<String>,
    /// correlation: pearson (default) or spearman.
    #[serde(default)]
    #[schemars(extend("enum" = ["pearson", "spearman"]))]
    method: Option<String>,
    /// t_test: assume equal variances (Student); default Welch.
    #[serde(default)]
    equal_var: Option<bool>,
    /// Significance level (default 0.05).
    #[serde(default)]
    alpha: Option<f64>,
}

/// A field the chosen test needs.
fn need<'a>(v: &'a Option<String>, field: &str, test: &str) -> Result<&'a str, ToolError> {
    v.as_deref().ok_or_else(|| bad(format!("field `{field}` is required for the {test} test")))
}

/// Runs a statistical test on a dataset.
pub struct StatisticalAnalysis {
    ws: SessionFiles,
}

impl StatisticalAnalysis {
    /// The tool over the session workspaces.
    pub fn new(ws: SessionFiles) -> Self {
        StatisticalAnalysis { ws }
    }
}

fn bad(s: impl Into<String>) -> ToolError {
    ToolError::InvalidArgs(s.into())
}

fn dist_err(e: impl std::fmt::Display) -> ToolError {
    ToolError::Failed(format!("cannot evaluate the distribution: {e}"))
}

/// Two-sided p-value of a t statistic.
fn t_p(t: f64, df: f64) -> Result<f64, ToolError> {
    let d = StudentsT::new(0.0, 1.0, df).map_err(dist_err)?;
    Ok((2.0 * d.sf(t.abs())).min(1.0))
}

/// Values of `value` split by the text of `group` (first-seen group order).
fn groups(t: &Table, value: &str, group: &str) -> Result<Vec<(String, Vec<f64>)>, ToolError> {
    let v = t.column(value).map_err(bad)?;
    if v.nums().is_none() {
        return Err(bad(format!("`{value}` is {} and not numeric", v.dtype())));
    }
    let g = t.column(group).map_err(bad)?;
    let mut out: Vec<(String, Vec<f64>)> = Vec::new();
    let mut idx: HashMap<String, usize> = HashMap::new();
    for i in 0..t.rows {
        let (Some(k), x) = (g.text_at(i), v.num_at(i)) else { continue };
        if x.is_nan() {
            continue;
        }
        let slot = *idx.entry(k.clone()).or_insert_with(|| {
            out.push((k, Vec::new()));
            out.len() - 1
        });
        out[slot].1.push(x);
    }
    Ok(out)
}

fn numeric_present(t: &Table, name: &str) -> Result<Vec<f64>, ToolError> {
    let c = t.column(name).map_err(bad)?;
    let v = c.nums().ok_or_else(|| bad(format!("`{name}` is {} and not numeric", c.dtype())))?;
    Ok(v.iter().copied().filter(|x| !x.is_nan()).collect())
}

/// Welch's (default) or Student's two-sample t-test.
pub fn t_test(a: &[f64], b: &[f64], equal_var: bool) -> Result<Value, ToolError> {
    if a.len() < 2 || b.len() < 2 {
        return Err(bad("each group needs at least two values for a t-test"));
    }
    let (ma, sa) = mean_std(a);
    let (mb, sb) = mean_std(b);
    let (na, nb) = (a.len() as f64, b.len() as f64);
    let (va, vb) = (sa * sa, sb * sb);
    let (t, df) = if equal_var {
        let sp = ((na - 1.0) * va + (nb - 1.0) * vb) / (na + nb - 2.0);
        ((ma - mb) / (sp * (1.0 / na + 1.0 / nb)).sqrt(), na + nb - 2.0)
    } else {
        let (qa, qb) = (va / na, vb / nb);
        ((ma - mb) / (qa + qb).sqrt(), (qa + qb).powi(2) / (qa * qa / (na - 1.0) + qb * qb / (nb - 1.0)))
    };
    Ok(
        json!({"statistic": t, "df": df, "pValue": t_p(t, df)?, "meanA": ma, "meanB": mb, "nA": a.len(), "nB": b.len(),
              "method": if equal_var { "Student's t-test (equal variances)" } else { "Welch's t-test (unequal variances)" }}),
    )
}

/// One-way ANOVA over groups.
pub fn anova(groups: &[(String, Vec<f64>)]) -> Result<Value, ToolError> {
    let gs: Vec<&(String, Vec<f64>)> = groups.iter().filter(|g| !g.1.is_empty()).collect();
    let n: usize = gs.iter().map(|g| g.1.len()).sum();
    let k = gs.len();
    if k < 2 || n <= k {
        return Err(bad("ANOVA needs at least two groups and more values than groups"));
    }
    let grand = sum(gs.iter().flat_map(|g| g.1.iter().copied())) / n as f64;
    let mut ssb = 0.0;
    let mut ssw = 0.0;
    for g in &gs {
        let m = sum(g.1.iter().copied()) / g.1.len() as f64;
        ssb += g.1.len() as f64 * (m - grand).powi(2);
        ssw += sum(g.1.iter().map(|x| (x - m).powi(2)));
    }
    let (d1, d2) = ((k - 1) as f64, (n - k) as f64);
    let f = (ssb / d1) / (ssw / d2);
    let p = FisherSnedecor::new(d1, d2).map_err(dist_err)?.sf(f);
    Ok(json!({"statistic": f, "dfBetween": d1, "dfWithin": d2, "pValue": p,
              "groups": gs.iter().map(|g| json!({"group": g.0, "n": g.1.len(), "mean": sum(g.1.iter().copied()) / g.1.len() as f64})).collect::<Vec<_>>(),
              "method": "one-way ANOVA"}))
}

/// Chi-square test of independence of two categorical columns (no continuity correction).
pub fn chi_square(t: &Table, a: &str, b: &str) -> Result<Value, ToolError> {
    let (ca, cb) = (t.column(a).map_err(bad)?, t.column(b).map_err(bad)?);
    let mut ra: Vec<String> = Vec::new();
    let mut rb: Vec<String> = Vec::new();
    let mut counts: HashMap<(usize, usize), f64> = HashMap::new();
    for i in 0..t.rows {
        let (Some(x), Some(y)) = (ca.text_at(i), cb.text_at(i)) else { continue };
        let ix = ra.iter().position(|v| *v == x).unwrap_or_else(|| {
            ra.push(x);
            ra.len() - 1
        });
        let iy = rb.iter().position(|v| *v == y).unwrap_or_else(|| {
            rb.push(y);
            rb.len() - 1
        });
        *counts.entry((ix, iy)).or_default() += 1.0;
        if ra.len() > 200 || rb.len() > 200 {
            return Err(bad("a column has more than 200 categories; chi-square needs categorical columns"));
        }
    }
    if ra.len() < 2 || rb.len() < 2 {
        return Err(bad("both columns need at least two categories"));
    }
    let n: f64 = counts.values().sum();
    let row: Vec<f64> = (0..ra.len())
        .map(|i| (0..rb.len()).map(|j| counts.get(&(i, j)).copied().unwrap_or(0.0)).sum())
        .collect();
    let col: Vec<f64> = (0..rb.len())
        .map(|j| (0..ra.len()).map(|i| counts.get(&(i, j)).copied().unwrap_or(0.0)).sum())
        .collect();
    let mut chi = 0.0;
    let mut low = 0;
    for (i, r) in row.iter().enumerate() {
        for (j, c) in col.iter().enumerate() {
            let e = r * c / n;
            if e < 5.0 {
                low += 1;
            }
            chi += (counts.get(&(i, j)).copied().unwrap_or(0.0) - e).powi(2) / e;
        }
    }
    let dof = ((ra.len() - 1) * (rb.len() - 1)) as f64;
    let p = ChiSquared::new(dof).map_err(dist_err)?.sf(chi);
    let table: Vec<Vec<f64>> = (0..ra.len())
        .map(|i| (0..rb.len()).map(|j| counts.get(&(i, j)).copied().unwrap_or(0.0)).collect())
        .collect();
    Ok(json!({"statistic": chi, "df": dof, "pValue": p, "n": n, "rows": ra, "columns": rb, "observed": table,
              "cellsWithExpectedBelow5": low, "method": "Pearson chi-square test of independence (no continuity correction)"}))
}

/// Pearson or Spearman correlation with a two-sided p-value (t distribution, n - 2 df).
pub fn correlation(t: &Table, a: &str, b: &str, method: &str) -> Result<Value, ToolError> {
    let (ca, cb) = (t.column(a).map_err(bad)?, t.column(b).map_err(bad)?);
    let (va, vb) = match (ca.nums(), cb.nums()) {
        (Some(x), Some(y)) => (x, y),
        _ => return Err(bad(format!("`{a}` and `{b}` must both be numeric"))),
    };
    let (xa, xb): (Vec<f64>, Vec<f64>) =
        va.iter().zip(vb).filter(|(x, y)| !x.is_nan() && !y.is_nan()).map(|(x, y)| (*x, *y)).unzip();
    if xa.len() < 3 {
        return Err(bad("a correlation test needs at least three rows with both values"));
    }
    let r = match method {
        "pearson" => pearson(&xa, &xb).0,
        "spearman" => pearson(&ranks(&xa), &ranks(&xb)).0,
        other => return Err(bad(format!("unknown method `{other}`; use pearson or spearman"))),
    };
    let df = xa.len() as f64 - 2.0;
    let p = if r.abs() >= 1.0 { 0.0 } else { t_p(r * (df / (1.0 - r * r)).sqrt(), df)? };
    Ok(json!({"statistic": r, "pValue": p, "n": xa.len(), "method": format!("{method} correlation")}))
}

fn run_test(t: &Table, args: &TestArgs) -> Result<Value, ToolError> {
    let test = args.test.as_str();
    let alpha = args.alpha.unwrap_or(0.05);
    let mut out = match test {
        "t_test" => {
            let equal_var = args.equal_var.unwrap_or(false);
            match (args.group.as_deref(), args.column.as_deref()) {
                (Some(g), Some(c)) => {
                    let gs = groups(t, c, g)?;
                    if gs.len() != 2 {
                        return Err(bad(format!(
                            "`{g}` has {} groups; a t-test compares exactly two (use anova for more)",
                            gs.len()
                        )));
                    }
                    let mut v = t_test(&gs[0].1, &gs[1].1, equal_var)?;
                    v["groupA"] = json!(gs[0].0);
                    v["groupB"] = json!(gs[1].0);
                    v
                }
                _ => {
                    let (a, b) = (need(&args.a, "a", test)?, need(&args.b, "b", test)?);
                    let mut v = t_test(&numeric_present(t, a)?, &numeric_present(t, b)?, equal_var)?;
                    v["groupA"] = json!(a);
                    v["groupB"] = json!(b);
                    v
                }
            }
        }
        "anova" => {
            anova(&groups(t, need(&args.column, "column", test)?, need(&args.group, "group", test)?)?)?
        }
        "chi_square" => chi_square(t, need(&args.a, "a", test)?, need(&args.b, "b", test)?)?,
        "correlation" => correlation(
            t,
            need(&args.a, "a", test)?,
            need(&args.b, "b", test)?,
            args.method.as_deref().unwrap_or("pearson"),
        )?,
        other => {
            return Err(bad(format!("unknown test `{other}`; use t_test, chi_square, anova or correlation")))
        }
    };
    let p = out["pValue"].as_f64().unwrap_or(f64::NAN);
    out["alpha"] = json!(alpha);
    out["significant"] = json!(p < alpha);
    out["test"] = json!(test);
    Ok(out)
}

#[async_trait]
impl TypedTool for StatisticalAnalysis {
    type Args = TestArgs;

    fn name(&self) -> &'static str {
        "statistical_analysis"
    }
    fn description(&self) -> &'static str {
        "Statistical tests with p-values: t_test (numeric `column` split by a two-valued `group`, or columns `a` vs `b`; \
         Welch unless equal_var), anova (`column` by `group`), chi_square (independence of categorical `a` and `b`), \
         correlation (`a`, `b`, method pearson or spearman)."
    }
    async fn run(&self, args: TestArgs, ctx: ToolContext) -> Result<ToolOutput, ToolError> {
        let ws = self.ws.clone();
        tokio::task::spawn_blocking(move || {
            let (t, from) = load(&ws, &ctx, &args.source)?;
            let mut v = run_test(&t, &args)?;
            v["source"] = json!(from);
            Ok(ToolOutput::json(v))
        })
        .await
        .map_err(|e| ToolError::Failed(format!("statistics crashed: {e}")))?
    }
}
