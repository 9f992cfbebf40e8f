//! `analyze_dataset`: shape, types, pandas-equal summary statistics, missing values,
//! duplicates, correlations and distributions.

use super::hash::{fmix, mix};
use super::par;
use super::source::{load, source_schema};
use super::stats::{
    describe_num, describe_nums, describe_text, pearson, present, skew_kurt, NumSummary, TextSummary,
};
use super::table::{Column, ColumnData, Table};
use async_trait::async_trait;
use serde::Deserialize;
use serde_json::{json, Map, Value};
use vana_core::{ToolContext, ToolError, ToolOutput};
use vana_toolkit::schemars::JsonSchema;
use vana_toolkit::{SessionFiles, TypedTool};

/// Arguments of `analyze_dataset`.
#[derive(Debug, Deserialize, JsonSchema)]
pub struct AnalyzeArgs {
    #[schemars(schema_with = "source_schema")]
    source: Value,
    /// `summary` (the default): shape, types, describe() statistics, missing values and
    /// duplicates; `correlation`: Pearson correlations; `distribution`: skew, kurtosis, histograms.
    #[serde(default)]
    #[schemars(extend("enum" = ["summary", "correlation", "distribution"]))]
    analysis_type: Option<String>,
    /// Histogram bins for distribution (default 10).
    #[serde(default)]
    #[schemars(with = "Option<u32>")]
    bins: Option<f64>,
}

/// Describes a dataset the way pandas' `describe()` does, plus missing values and duplicates.
pub struct AnalyzeDataset {
    ws: SessionFiles,
}

impl AnalyzeDataset {
    /// The tool over the session workspaces.
    pub fn new(ws: SessionFiles) -> Self {
        AnalyzeDataset { ws }
    }
}

/// One piece of the summary, computed on its own thread.
enum Part {
    Duplicates(usize),
    Num(NumSummary),
    Text(TextSummary),
}

/// Tables smaller than this (cells) are summarised on one thread.
const PARALLEL_MIN_CELLS: usize = 200_000;

/// The `summary` analysis of a table (also used by the benchmark).
pub fn summary(t: &Table) -> Value {
    let threads = if t.rows * t.columns.len().max(1) < PARALLEL_MIN_CELLS { 1 } else { par::cores() };
    // Tasks, longest first: count duplicate rows; describe numeric columns two at a time (their
    // sums interleave); describe each other column.
    enum Task {
        Duplicates,
        Nums(Vec<usize>),
        Other(usize),
    }
    let nums: Vec<usize> = (0..t.columns.len()).filter(|&i| t.columns[i].nums().is_some()).collect();
    let mut tasks = vec![Task::Duplicates];
    tasks.extend(nums.chunks(2).map(|c| Task::Nums(c.to_vec())));
    tasks.extend((0..t.columns.len()).filter(|i| !nums.contains(i)).map(Task::Other));
    let done = par::map(tasks.len(), threads, |i| match &tasks[i] {
        Task::Duplicates => vec![(usize::MAX, Part::Duplicates(count_duplicates(t, 1)))],
        Task::Nums(cs) => {
            let col = |k: usize| t.columns[cs[k]].nums().expect("numeric");
            let parts: Vec<NumSummary> = match cs.len() {
                2 => describe_nums([col(0), col(1)]).into(),
                _ => vec![describe_num(col(0))],
            };
            cs.iter().copied().zip(parts.into_iter().map(Part::Num)).collect()
        }
        Task::Other(c) => vec![(*c, Part::Text(describe_text(&t.columns[*c])))],
    });
    let mut duplicates = 0;
    let mut by_column: Vec<Option<Part>> = t.columns.iter().map(|_| None).collect();
    for (c, part) in done.into_iter().flatten() {
        match part {
            Part::Duplicates(d) => duplicates = d,
            p => by_column[c] = Some(p),
        }
    }
    let mut missing_total = 0;
    let columns: Vec<Value> = t
        .columns
        .iter()
        .zip(by_column.into_iter().map(|p| p.expect("every column described")))
        .map(|(c, part)| {
            // Every row not counted as present is missing: no second scan of the column.
            let count = match &part {
                Part::Num(s) => s.count,
                Part::Text(s) => s.count,
                Part::Duplicates(_) => unreachable!("only task 0 counts duplicates"),
            };
            let missing = t.rows - count;
            missing_total += missing;
            let dtype = match &c.data {
                ColumnData::Num(_) if c.integral && missing == 0 => "int64",
                ColumnData::Num(_) => "float64",
                ColumnData::Bool(_) if missing == 0 => "bool",
                _ => "object",
            };
            debug_assert_eq!((dtype, missing), (c.dtype(), c.missing()));
            let mut m = Map::new();
            m.insert("name".into(), json!(c.name));
            m.insert("dtype".into(), json!(dtype));
            m.insert("missing".into(), json!(missing));
            match part {
                Part::Num(s) => {
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
                Part::Text(s) => {
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
                Part::Duplicates(_) => unreachable!("only task 0 counts duplicates"),
            }
            Value::Object(m)
        })
        .collect();
    json!({
        "shape": {"rows": t.rows, "columns": t.columns.len()},
        "columns": columns,
        "missingTotal": missing_total,
        "duplicateRows": duplicates,
    })
}

/// Rows equal to an earlier row (pandas `duplicated().sum()`): numbers are equal when `==`
/// (so `-0.0` equals `0.0`) or both missing; text and booleans when equal or both missing.
pub fn duplicate_rows(t: &Table) -> usize {
    let threads = if t.rows * t.columns.len().max(1) < PARALLEL_MIN_CELLS { 1 } else { par::cores() };
    count_duplicates(t, threads)
}

/// The values of one column as compared for duplicates.
enum Key<'a> {
    Num(&'a [f64]),
    Bool(&'a [Option<bool>]),
    Text(&'a [u32]),
}

#[inline(always)]
fn num_key(x: f64) -> u64 {
    if x.is_nan() {
        u64::MAX
    } else {
        (x + 0.0).to_bits()
    }
}

/// Counts rows equal to an earlier row, exactly. Each row gets a 64-bit hash (computed column
/// by column over blocks of rows that stay in cache); its top bits pick a partition, so that
/// each partition's table of distinct rows fits in cache. A match of the stored low 32 hash bits
/// is confirmed by comparing the rows' values. The count is rows minus distinct rows.
fn count_duplicates(t: &Table, threads: usize) -> usize {
    const BLOCK: usize = 1024;
    let n = t.rows;
    if n < 2 {
        return 0;
    }
    if t.columns.iter().any(all_distinct) {
        return 0; // rows differing in one column differ
    }
    assert!(n < u32::MAX as usize, "too many rows to look for duplicates");
    let keys: Vec<Key> = t
        .columns
        .iter()
        .map(|c| match &c.data {
            ColumnData::Num(v) => Key::Num(v),
            ColumnData::Bool(v) => Key::Bool(v),
            ColumnData::Text(v) => Key::Text(v.codes()),
        })
        .collect();
    let bits = (n / 4096).max(1).ilog2().min(12);
    let parts = 1usize << bits;
    let part_of = |h: u64| if bits == 0 { 0 } else { (h >> (64 - bits)) as usize };
    // Phase 1, rows split among threads: per thread and partition, (hash tag, row).
    let threads = threads.clamp(1, n.div_ceil(BLOCK));
    let scattered: Vec<Vec<Vec<(u32, u32)>>> = par::map(threads, threads, |g| {
        let (lo, hi) = (n * g / threads, n * (g + 1) / threads);
        let cap = (hi - lo) / parts + (hi - lo) / parts / 8 + 16;
        let mut out: Vec<Vec<(u32, u32)>> = (0..parts).map(|_| Vec::with_capacity(cap)).collect();
        let mut hs = [0u64; BLOCK];
        let mut start = lo;
        while start < hi {
            let end = (start + BLOCK).min(hi);
            let h = &mut hs[..end - start];
            h.fill(0x243f_6a88_85a3_08d3);
            for k in &keys {
                match k {
                    Key::Num(v) => {
                        h.iter_mut().zip(&v[start..end]).for_each(|(h, &x)| *h = mix(*h, num_key(x)))
                    }
                    Key::Bool(v) => h
                        .iter_mut()
                        .zip(&v[start..end])
                        .for_each(|(h, x)| *h = mix(*h, x.map_or(2, u64::from))),
                    Key::Text(v) => {
                        h.iter_mut().zip(&v[start..end]).for_each(|(h, &x)| *h = mix(*h, x as u64))
                    }
                }
            }
            for (i, &x) in h.iter().enumerate() {
                let x = fmix(x);
                out[part_of(x)].push((x as u32, (start + i) as u32));
            }
            start = end;
        }
        out
    });
    let same = |a: usize, b: usize| {
        keys.iter().all(|k| match k {
            Key::Num(v) => num_key(v[a]) == num_key(v[b]),
            Key::Bool(v) => v[a] == v[b],
            Key::Text(v) => v[a] == v[b],
        })
    };
    // Phase 2, partitions split among threads.
    let groups = threads.min(parts);
    let distinct: usize = par::map(groups, groups, |g| {
        let mut table: Vec<(u32, u32)> = Vec::new();
        (parts * g / groups..parts * (g + 1) / groups)
            .map(|p| {
                let len = scattered.iter().map(|s| s[p].len()).sum();
                distinct_rows(scattered.iter().flat_map(|s| s[p].iter().copied()), len, &mut table, &same)
            })
            .sum::<usize>()
    })
    .into_iter()
    .sum();
    n - distinct
}

/// A cheap proof that a column's values are all different: numbers in strictly increasing
/// order (an id or time column), or text with no missing value and as many distinct values as
/// rows. `false` proves nothing.
fn all_distinct(c: &Column) -> bool {
    match &c.data {
        ColumnData::Num(v) => v.windows(2).all(|w| w[0] < w[1]),
        ColumnData::Text(v) => {
            v.dict().len() == v.len() && v.missing() == 0 && {
                let mut seen = vec![false; v.dict().len()];
                v.codes().iter().all(|&c| !std::mem::replace(&mut seen[c as usize], true))
            }
        }
        ColumnData::Bool(_) => false,
    }
}

/// Distinct rows among `len` items (hash tag, row), with `table` as scratch space.
fn distinct_rows(
    items: impl Iterator<Item = (u32, u32)>,
    len: usize,
    table: &mut Vec<(u32, u32)>,
    same: &impl Fn(usize, usize) -> bool,
) -> usize {
    const EMPTY: u32 = u32::MAX;
    let cap = (len * 2).next_power_of_two().max(16);
    table.clear();
    table.resize(cap, (0, EMPTY));
    let mask = cap - 1;
    let mut distinct = 0;
    'rows: for (h, r) in items {
        let mut i = h as usize & mask;
        loop {
            let (sh, sr) = table[i];
            if sr == EMPTY {
                table[i] = (h, r);
                distinct += 1;
                continue 'rows;
            }
            if sh == h && same(sr as usize, r as usize) {
                continue 'rows;
            }
            i = (i + 1) & mask;
        }
    }
    distinct
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
impl TypedTool for AnalyzeDataset {
    type Args = AnalyzeArgs;

    fn name(&self) -> &'static str {
        "analyze_dataset"
    }

    fn description(&self) -> &'static str {
        "Analyse a dataset: shape, column types, summary statistics equal to pandas' describe() (count, \
         mean, sample std, min, quartiles, max; top values for text), missing values per column and duplicate \
         rows (analysis_type \"summary\"); Pearson correlations (\"correlation\"); or skew, kurtosis and \
         histograms (\"distribution\")."
    }

    async fn run(&self, args: AnalyzeArgs, ctx: ToolContext) -> Result<ToolOutput, ToolError> {
        let kind = args.analysis_type.as_deref().unwrap_or("summary").to_string();
        let bins = args.bins.unwrap_or(10.0);
        if !(1.0..=1000.0).contains(&bins) {
            return Err(ToolError::InvalidArgs(format!("`bins` must be between 1 and 1000, got {bins}")));
        }
        let ws = self.ws.clone();
        tokio::task::spawn_blocking(move || {
            let (t, from) = load(&ws, &ctx, &args.source)?;
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::data::table::TextColumn;

    /// Rows equal to an earlier row, by comparing every pair's values (text and bool as values,
    /// numbers equal when `==` or both NaN).
    fn naive(t: &Table) -> usize {
        let row = |i: usize| -> Vec<String> {
            t.columns
                .iter()
                .map(|c| match &c.data {
                    ColumnData::Num(v) if v[i].is_nan() => "nan".to_string(),
                    ColumnData::Num(v) => format!("{:?}", v[i] + 0.0),
                    ColumnData::Bool(v) => format!("{:?}", v[i]),
                    ColumnData::Text(v) => format!("{:?}", v.get(i)),
                })
                .collect()
        };
        let mut seen = std::collections::HashSet::new();
        (0..t.rows).filter(|&i| !seen.insert(row(i))).count()
    }

    #[test]
    fn duplicates_equal_a_naive_count() {
        let mut x: u64 = 99;
        let mut rnd = |m: u64| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            x % m
        };
        for rows in [0usize, 1, 2, 3, 50, 4096, 20_000, 70_000] {
            let nums: Vec<f64> = (0..rows)
                .map(|_| match rnd(6) {
                    0 => f64::NAN,
                    1 => -0.0,
                    2 => 0.0,
                    _ => rnd(3) as f64,
                })
                .collect();
            let bools: Vec<Option<bool>> =
                (0..rows).map(|_| [None, Some(true), Some(false)][rnd(3) as usize]).collect();
            let texts: TextColumn =
                (0..rows).map(|_| [None, Some("a"), Some("b"), Some("")][rnd(4) as usize]).collect();
            let t = Table {
                columns: vec![
                    Column { name: "n".into(), data: ColumnData::Num(nums), integral: false },
                    Column { name: "b".into(), data: ColumnData::Bool(bools), integral: false },
                    Column { name: "t".into(), data: ColumnData::Text(texts), integral: false },
                ],
                rows,
            };
            let want = naive(&t);
            for threads in [1, 2, 3] {
                assert_eq!(count_duplicates(&t, threads), want, "{rows} rows, {threads} threads");
            }
            assert_eq!(duplicate_rows(&t), want);
        }
        // A strictly increasing column, or all-distinct text, proves there are none.
        let ids = Column {
            name: "id".into(),
            data: ColumnData::Num((0..100).map(f64::from).collect()),
            integral: true,
        };
        let dup = Column { name: "d".into(), data: ColumnData::Num(vec![1.0; 100]), integral: true };
        assert_eq!(duplicate_rows(&Table { columns: vec![dup.clone()], rows: 100 }), 99);
        assert_eq!(duplicate_rows(&Table { columns: vec![dup.clone(), ids], rows: 100 }), 0);
        let texts: TextColumn = (0..100).map(|i| Some(format!("t{i}"))).collect();
        let texts = Column { name: "t".into(), data: ColumnData::Text(texts), integral: false };
        assert_eq!(duplicate_rows(&Table { columns: vec![dup, texts], rows: 100 }), 0);
        // No columns: every row after the first equals it.
        assert_eq!(duplicate_rows(&Table { columns: vec![], rows: 5 }), 4);
    }
}
