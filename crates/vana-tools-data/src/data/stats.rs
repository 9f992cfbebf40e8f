//! Summary statistics computed exactly as pandas does (`describe`, `corr`, `skew`, `kurt`).

use super::table::{Column, ColumnData, MISSING_CODE};
use std::collections::HashMap;

/// Compensated (Neumaier) sum, accurate to about one rounding for any length.
pub fn sum(xs: impl Iterator<Item = f64>) -> f64 {
    let mut acc = Neumaier::default();
    xs.for_each(|x| acc.add(x));
    acc.value()
}

/// A running compensated (Neumaier) sum: [`sum`] one value at a time.
#[derive(Clone, Copy, Default)]
struct Neumaier {
    s: f64,
    c: f64,
}

impl Neumaier {
    #[inline(always)]
    fn add(&mut self, x: f64) {
        let t = self.s + x;
        self.c += if self.s.abs() >= x.abs() { (self.s - t) + x } else { (x - t) + self.s };
        self.s = t;
    }

    #[inline(always)]
    fn value(self) -> f64 {
        self.s + self.c
    }
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
    quantiles_in(&mut xs, qs)
}

/// [`quantiles`] reordering `xs` in place. Each selection after the first only looks at the
/// values above the previous rank when the ranks come in increasing order (25%, 50%, 75%).
fn quantiles_in(xs: &mut [f64], qs: &[f64]) -> Vec<f64> {
    let n = xs.len();
    if n == 0 {
        return vec![f64::NAN; qs.len()];
    }
    // xs[..below] holds the `below` smallest values (in some order).
    let mut below = 0;
    qs.iter()
        .map(|&q| {
            let pos = q * (n - 1) as f64;
            let lo = pos.floor() as usize;
            let from = if lo >= below { below } else { 0 };
            let (_, a, rest) = xs[from..].select_nth_unstable_by(lo - from, f64::total_cmp);
            let a = *a;
            let b = if lo + 1 < n { rest.iter().copied().fold(f64::INFINITY, f64::min) } else { a };
            below = lo + 1;
            lerp(a, b, pos - lo as f64)
        })
        .collect()
}

/// pandas' `describe()` of a numeric column.
pub fn describe_num(v: &[f64]) -> NumSummary {
    let [s] = describe_nums([v]);
    s
}

/// pandas' `describe()` of `K` equally long numeric columns, read side by side so that the
/// columns' compensated sums (each a chain of dependent additions) overlap in time. Each
/// column's numbers are computed exactly as [`describe_num`] alone computes them.
///
/// Reads each column three times and copies nothing large: (1) count, compensated sum, min and
/// max; (2) the squared deviations from the mean, and a histogram of the values over
/// [min, max]; (3) only the values in the histogram buckets that hold the ranks the quartiles
/// need, which are then selected in those small buckets. The bucket of a value is monotone in
/// the value, so the selected values are exactly the order statistics a full sort gives.
pub(crate) fn describe_nums<const K: usize>(cols: [&[f64]; K]) -> [NumSummary; K] {
    const BUCKETS: usize = 4096;
    let n = cols.iter().map(|c| c.len()).min().unwrap_or(0);
    assert!(cols.iter().all(|c| c.len() == n), "columns of one table are equally long");
    let cols = cols.map(|c| &c[..n]);
    // Pass 1.
    let mut total = [Neumaier::default(); K];
    let mut count = [0usize; K];
    let mut min = [f64::INFINITY; K];
    let mut max = [f64::NEG_INFINITY; K];
    #[allow(clippy::needless_range_loop)] // row by row across the K columns, in lockstep
    for i in 0..n {
        for k in 0..K {
            let x = cols[k][i];
            if !x.is_nan() {
                count[k] += 1;
                total[k].add(x);
                if x < min[k] {
                    min[k] = x;
                }
                if x > max[k] {
                    max[k] = x;
                }
            }
        }
    }
    let mean: [f64; K] = std::array::from_fn(|k| total[k].value() / count[k] as f64);
    // Histograms only where the range is finite and not a single value.
    let binned: [bool; K] =
        std::array::from_fn(|k| count[k] > 0 && (max[k] - min[k]).is_finite() && max[k] > min[k]);
    let scale: [f64; K] =
        std::array::from_fn(|k| if binned[k] { BUCKETS as f64 / (max[k] - min[k]) } else { 0.0 });
    let bucket = |k: usize, x: f64| (((x - min[k]) * scale[k]) as usize).min(BUCKETS - 1);
    // Pass 2.
    let mut ss = [Neumaier::default(); K];
    let mut hist = vec![[0usize; BUCKETS]; K];
    #[allow(clippy::needless_range_loop)] // row by row across the K columns, in lockstep
    for i in 0..n {
        for k in 0..K {
            let x = cols[k][i];
            if !x.is_nan() {
                ss[k].add((x - mean[k]) * (x - mean[k]));
                hist[k][bucket(k, x)] += 1;
            }
        }
    }
    std::array::from_fn(|k| {
        let (v, count, n) = (cols[k], count[k], count[k] as f64);
        if count == 0 {
            let nan = f64::NAN;
            return NumSummary {
                count,
                mean: nan,
                std: nan,
                min: nan,
                q25: nan,
                q50: nan,
                q75: nan,
                max: nan,
            };
        }
        let std = if count > 1 { (ss[k].value() / (n - 1.0)).sqrt() } else { f64::NAN };
        let qs = [0.25, 0.5, 0.75];
        let q = if binned[k] {
            quartiles_binned(v, count, &hist[k], |x| bucket(k, x), &qs)
        } else {
            // All values equal, or infinite ones: select in a copy.
            quantiles(present(v), &qs)
        };
        NumSummary { count, mean: mean[k], std, min: min[k], q25: q[0], q50: q[1], q75: q[2], max: max[k] }
    })
}

/// Pass 3 of [`describe_nums`]: the quantiles `qs` of the `count` present values of `v`, from
/// their histogram `hist` under the monotone `bucket`.
fn quartiles_binned(
    v: &[f64],
    count: usize,
    hist: &[usize],
    bucket: impl Fn(f64) -> usize,
    qs: &[f64],
) -> Vec<f64> {
    let mut starts = Vec::with_capacity(hist.len() + 1);
    let mut acc = 0;
    starts.push(0);
    for h in hist {
        acc += h;
        starts.push(acc);
    }
    let bucket_of_rank = |r: usize| starts.partition_point(|&s| s <= r) - 1;
    // The ranks each quantile interpolates between, and the buckets holding them.
    let ranks: Vec<(usize, usize)> = qs
        .iter()
        .map(|q| {
            let lo = (q * (count - 1) as f64).floor() as usize;
            (lo, (lo + 1).min(count - 1))
        })
        .collect();
    const NONE: u8 = u8::MAX;
    let mut slot = vec![NONE; hist.len()];
    let mut wanted: Vec<usize> = Vec::new();
    for r in ranks.iter().flat_map(|&(a, b)| [a, b]) {
        let k = bucket_of_rank(r);
        if slot[k] == NONE {
            slot[k] = wanted.len() as u8;
            wanted.push(k);
        }
    }
    let mut picked: Vec<Vec<f64>> = wanted.iter().map(|&k| Vec::with_capacity(hist[k])).collect();
    for &x in v {
        if !x.is_nan() {
            let s = slot[bucket(x)];
            if s != NONE {
                picked[s as usize].push(x);
            }
        }
    }
    let mut nth = |r: usize| {
        let k = bucket_of_rank(r);
        let vals = &mut picked[slot[k] as usize];
        *vals.select_nth_unstable_by(r - starts[k], f64::total_cmp).1
    };
    qs.iter()
        .zip(&ranks)
        .map(|(q, &(lo, hi))| {
            let pos = q * (count - 1) as f64;
            let (a, b) = (nth(lo), nth(hi));
            lerp(a, b, pos - lo as f64)
        })
        .collect()
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
    match &c.data {
        ColumnData::Text(t) => {
            let mut counts = vec![0usize; t.dict().len()];
            let mut order: Vec<u32> = Vec::new();
            for &code in t.codes() {
                if code != MISSING_CODE {
                    let n = &mut counts[code as usize];
                    if *n == 0 {
                        order.push(code);
                    }
                    *n += 1;
                }
            }
            order.iter().map(|&k| (t.dict()[k as usize].clone(), counts[k as usize])).collect()
        }
        ColumnData::Bool(v) => {
            let mut counts = [0usize; 2];
            let mut order: Vec<bool> = Vec::new();
            for b in v.iter().flatten() {
                if counts[*b as usize] == 0 {
                    order.push(*b);
                }
                counts[*b as usize] += 1;
            }
            order
                .iter()
                .map(|&b| ((if b { "True" } else { "False" }).to_string(), counts[b as usize]))
                .collect()
        }
        ColumnData::Num(_) => {
            let mut idx: HashMap<String, usize> = HashMap::new();
            let mut out: Vec<(String, usize)> = Vec::new();
            for s in (0..c.data_len()).filter_map(|i| c.text_at(i)) {
                match idx.get(&s) {
                    Some(&i) => out[i].1 += 1,
                    None => {
                        idx.insert(s.clone(), out.len());
                        out.push((s, 1));
                    }
                }
            }
            out
        }
    }
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

#[cfg(test)]
mod tests {
    use super::*;

    /// The textbook way: copy the present values, two-pass mean and std, sort for quartiles.
    fn reference(v: &[f64]) -> NumSummary {
        let xs = present(v);
        let (mean, std) = if xs.is_empty() { (f64::NAN, f64::NAN) } else { mean_std(&xs) };
        let mut sorted = xs.clone();
        sorted.sort_by(f64::total_cmp);
        let (min, max) = match (sorted.first(), sorted.last()) {
            (Some(a), Some(b)) => (*a, *b),
            _ => (f64::NAN, f64::NAN),
        };
        let q = |q| quantile_sorted(&sorted, q);
        NumSummary { count: xs.len(), mean, std, min, q25: q(0.25), q50: q(0.5), q75: q(0.75), max }
    }

    fn bits(s: &NumSummary) -> Vec<u64> {
        [s.mean, s.std, s.min, s.q25, s.q50, s.q75, s.max].iter().map(|x| x.to_bits()).collect()
    }

    #[test]
    fn describe_num_equals_a_full_sort_bit_for_bit() {
        let mut x: u64 = 7;
        let mut rnd = || {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            x
        };
        let mut cases: Vec<Vec<f64>> = vec![
            vec![],
            vec![f64::NAN, f64::NAN],
            vec![3.0],
            vec![2.0, 2.0, 2.0, f64::NAN],
            vec![1.0, 2.0],
            vec![-1.0, f64::INFINITY, 3.0],
            vec![f64::NEG_INFINITY, 0.0, 1.0, 2.0],
            vec![-f64::MAX, f64::MAX, 0.0],
            vec![5.0, 1e-300, -1e-300, 0.0, 7.0],
        ];
        for n in [2usize, 3, 4, 5, 7, 10, 100, 1001, 5000, 100_000] {
            // Uniform, integers with many ties, skewed with an outlier, and missing values.
            cases.push((0..n).map(|_| (rnd() >> 11) as f64 / (1u64 << 53) as f64 * 90.0 + 10.0).collect());
            cases.push((0..n).map(|_| (rnd() % 50) as f64).collect());
            cases.push(
                (0..n)
                    .map(
                        |i| {
                            if i == n / 2 {
                                1e12
                            } else {
                                ((rnd() >> 11) as f64 / (1u64 << 53) as f64).powi(8)
                            }
                        },
                    )
                    .collect(),
            );
            cases.push(
                (0..n).map(|i| if i % 7 == 3 { f64::NAN } else { (rnd() % 1000) as f64 - 500.0 }).collect(),
            );
        }
        for v in &cases {
            let (got, want) = (describe_num(v), reference(v));
            assert_eq!(got.count, want.count);
            assert_eq!(bits(&got), bits(&want), "{:?}", &v[..v.len().min(8)]);
        }
        // Side by side gives each column what it gets alone.
        for pair in cases.windows(2).filter(|p| p[0].len() == p[1].len()) {
            let [a, b] = describe_nums([&pair[0][..], &pair[1][..]]);
            assert_eq!(bits(&a), bits(&describe_num(&pair[0])));
            assert_eq!(bits(&b), bits(&describe_num(&pair[1])));
        }
    }
}
