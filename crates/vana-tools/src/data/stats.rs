//! Summary statistics computed exactly as pandas does (`describe`, `corr`, `skew`, `kurt`).

use super::table::{Column, ColumnData};
use std::collections::HashMap;

/// Compensated (Neumaier) sum, accurate to about one rounding for any length.
pub fn sum(xs: impl Iterator<Item = f64>) -> f64 {
    let (mut s, mut c) = (0.0f64, 0.0f64);
    for x in xs {
        let t = s + x;
        c += if s.abs() >= x.abs() { (s - t) + x } else { (x - t) + s };
        s = t;
    }
    s + c
}

/// Numeric summary of one column (pandas `describe()`: sample std, linear quantiles).
#[derive(Clone, Debug, PartialEq)]
pub struct NumSummary {
    /// Present values.
    pub count: usize,
    /// Mean.
    pub mean: f64,
    /// Sample standard deviation (ddof = 1); NaN below two values.
    pub std: f64,
    /// Minimum.
    pub min: f64,
    /// 25th percentile.
    pub q25: f64,
    /// Median.
    pub q50: f64,
    /// 75th percentile.
    pub q75: f64,
    /// Maximum.
    pub max: f64,
}

/// The present (non-NaN) values.
pub fn present(v: &[f64]) -> Vec<f64> {
    v.iter().copied().filter(|x| !x.is_nan()).collect()
}

/// Mean and sample std (two-pass, as pandas' nanops).
pub fn mean_std(xs: &[f64]) -> (f64, f64) {
    let n = xs.len() as f64;
    let mean = sum(xs.iter().copied()) / n;
    let ss = sum(xs.iter().map(|x| (x - mean) * (x - mean)));
    (mean, if xs.len() > 1 { (ss / (n - 1.0)).sqrt() } else { f64::NAN })
}

/// Linear-interpolation quantile of sorted values (numpy's default method).
pub fn quantile_sorted(sorted: &[f64], q: f64) -> f64 {
    if sorted.is_empty() {
        return f64::NAN;
    }
    let pos = q * (sorted.len() - 1) as f64;
    let lo = pos.floor() as usize;
    let hi = (lo + 1).min(sorted.len() - 1);
    lerp(sorted[lo], sorted[hi], pos - lo as f64)
}

fn lerp(a: f64, b: f64, t: f64) -> f64 {
    // numpy's `_lerp`: the form that is exact at both ends.
    if t >= 0.5 {
        b - (b - a) * (1.0 - t)
    } else {
        a + (b - a) * t
    }
}

/// Quantiles of unsorted values without a full sort (selection around each rank).
pub fn quantiles(mut xs: Vec<f64>, qs: &[f64]) -> Vec<f64> {
    let n = xs.len();
    if n == 0 {
        return vec![f64::NAN; qs.len()];
    }
    qs.iter()
        .map(|&q| {
            let pos = q * (n - 1) as f64;
            let lo = pos.floor() as usize;
            let (_, a, rest) = xs.select_nth_unstable_by(lo, f64::total_cmp);
            let a = *a;
            let b = if lo + 1 < n { rest.iter().copied().fold(f64::INFINITY, f64::min) } else { a };
            lerp(a, b, pos - lo as f64)
        })
        .collect()
}

/// pandas' `describe()` of a numeric column.
pub fn describe_num(v: &[f64]) -> NumSummary {
    let xs = present(v);
    let (mean, std) = if xs.is_empty() { (f64::NAN, f64::NAN) } else { mean_std(&xs) };
    let (min, max) =
        xs.iter().fold((f64::INFINITY, f64::NEG_INFINITY), |(lo, hi), &x| (lo.min(x), hi.max(x)));
    let count = xs.len();
    let q = quantiles(xs, &[0.25, 0.5, 0.75]);
    let (min, max) = if count == 0 { (f64::NAN, f64::NAN) } else { (min, max) };
    NumSummary { count, mean, std, min, q25: q[0], q50: q[1], q75: q[2], max }
}

/// Summary of a text or boolean column (pandas: count, unique, top, freq).
#[derive(Clone, Debug, PartialEq)]
pub struct TextSummary {
    /// Present values.
    pub count: usize,
    /// Distinct present values.
    pub unique: usize,
    /// Most frequent value (first seen wins a tie).
    pub top: Option<String>,
    /// How often `top` occurs.
    pub freq: usize,
    /// The most frequent values with their counts, most frequent first.
    pub top_values: Vec<(String, usize)>,
}

/// Counts of each present value of a column, in first-seen order.
pub fn value_counts(c: &Column) -> Vec<(String, usize)> {
    let mut idx: HashMap<String, usize> = HashMap::new();
    let mut out: Vec<(String, usize)> = Vec::new();
    let mut add = |s: &str| match idx.get(s) {
        Some(&i) => out[i].1 += 1,
        None => {
            idx.insert(s.to_string(), out.len());
            out.push((s.to_string(), 1));
        }
    };
    match &c.data {
        ColumnData::Text(v) => v.iter().flatten().for_each(|s| add(s)),
        ColumnData::Bool(v) => v.iter().flatten().for_each(|b| add(if *b { "True" } else { "False" })),
        ColumnData::Num(_) => (0..c.data_len()).filter_map(|i| c.text_at(i)).for_each(|s| add(&s)),
    }
    out
}

impl Column {
    /// Number of rows.
    pub fn data_len(&self) -> usize {
        match &self.data {
            ColumnData::Num(v) => v.len(),
            ColumnData::Bool(v) => v.len(),
            ColumnData::Text(v) => v.len(),
        }
    }
}

/// pandas' `describe()` of a text/boolean column, plus the ten most frequent values.
pub fn describe_text(c: &Column) -> TextSummary {
    let counts = value_counts(c);
    let count = counts.iter().map(|(_, n)| n).sum();
    let mut sorted = counts.clone();
    sorted.sort_by_key(|e| std::cmp::Reverse(e.1)); // stable: first seen wins ties
    let top = sorted.first().map(|(s, _)| s.clone());
    let freq = sorted.first().map(|(_, n)| *n).unwrap_or(0);
    sorted.truncate(10);
    TextSummary { count, unique: counts.len(), top, freq, top_values: sorted }
}

/// Pearson correlation over rows where both are present (pandas `corr()`).
pub fn pearson(a: &[f64], b: &[f64]) -> (f64, usize) {
    let pairs: Vec<(f64, f64)> =
        a.iter().zip(b).filter(|(x, y)| !x.is_nan() && !y.is_nan()).map(|(x, y)| (*x, *y)).collect();
    let n = pairs.len();
    if n < 2 {
        return (f64::NAN, n);
    }
    let ma = sum(pairs.iter().map(|p| p.0)) / n as f64;
    let mb = sum(pairs.iter().map(|p| p.1)) / n as f64;
    let sab = sum(pairs.iter().map(|p| (p.0 - ma) * (p.1 - mb)));
    let saa = sum(pairs.iter().map(|p| (p.0 - ma) * (p.0 - ma)));
    let sbb = sum(pairs.iter().map(|p| (p.1 - mb) * (p.1 - mb)));
    ((sab / (saa.sqrt() * sbb.sqrt())).clamp(-1.0, 1.0), n)
}

/// Average ranks (ties share the mean rank), 1-based.
pub fn ranks(xs: &[f64]) -> Vec<f64> {
    let mut idx: Vec<usize> = (0..xs.len()).collect();
    idx.sort_by(|&i, &j| xs[i].total_cmp(&xs[j]));
    let mut r = vec![0.0; xs.len()];
    let mut i = 0;
    while i < idx.len() {
        let mut j = i;
        while j + 1 < idx.len() && xs[idx[j + 1]] == xs[idx[i]] {
            j += 1;
        }
        let avg = (i + j) as f64 / 2.0 + 1.0;
        for k in i..=j {
            r[idx[k]] = avg;
        }
        i = j + 1;
    }
    r
}

/// Bias-corrected skewness and excess kurtosis (pandas `skew()` / `kurt()`).
pub fn skew_kurt(xs: &[f64]) -> (f64, f64) {
    let n = xs.len() as f64;
    if xs.len() < 3 {
        return (f64::NAN, f64::NAN);
    }
    let m = sum(xs.iter().copied()) / n;
    let m2 = sum(xs.iter().map(|x| (x - m).powi(2))) / n;
    let m3 = sum(xs.iter().map(|x| (x - m).powi(3))) / n;
    let m4 = sum(xs.iter().map(|x| (x - m).powi(4))) / n;
    let skew = if m2 == 0.0 { 0.0 } else { (n * (n - 1.0)).sqrt() / (n - 2.0) * m3 / m2.powf(1.5) };
    let kurt = if xs.len() < 4 || m2 == 0.0 {
        f64::NAN
    } else {
        let g2 = m4 / (m2 * m2) - 3.0;
        (n - 1.0) / ((n - 2.0) * (n - 3.0)) * ((n + 1.0) * g2 + 6.0)
    };
    (skew, kurt)
}
