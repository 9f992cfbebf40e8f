//! Forecasting methods (seasonal naive, linear trend, Holt-Winters additive smoothing) and
//! choosing between them by backtest error.

/// A forecasting method.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Method {
    /// Repeat the last season (the last value when there is no season).
    SeasonalNaive,
    /// Ordinary least squares on time.
    LinearTrend,
    /// Additive Holt-Winters (Holt's linear method when there is no season), smoothing
    /// parameters chosen by one-step squared error on the fitted data.
    HoltWinters,
}

impl Method {
    /// All methods.
    pub const ALL: [Method; 3] = [Method::SeasonalNaive, Method::LinearTrend, Method::HoltWinters];

    /// Name in results.
    pub fn name(self) -> &'static str {
        match self {
            Method::SeasonalNaive => "seasonal_naive",
            Method::LinearTrend => "linear_trend",
            Method::HoltWinters => "holt_winters",
        }
    }

    /// Forecasts `h` steps after `y` with season length `m` (1 = none); `None` when the
    /// series is too short for the method.
    pub fn forecast(self, y: &[f64], m: usize, h: usize) -> Option<Vec<f64>> {
        let n = y.len();
        match self {
            Method::SeasonalNaive => {
                let m = if n >= m { m.max(1) } else { 1 };
                (n >= 1).then(|| (0..h).map(|k| y[n - m + (k % m)]).collect())
            }
            Method::LinearTrend => {
                if n < 2 {
                    return None;
                }
                let (a, b) = ols(y);
                Some((0..h).map(|k| a + b * (n + k) as f64).collect())
            }
            Method::HoltWinters => holt_winters(y, m, h),
        }
    }
}

/// Intercept and slope of y on 0..n.
pub fn ols(y: &[f64]) -> (f64, f64) {
    let n = y.len() as f64;
    let mx = (n - 1.0) / 2.0;
    let my = y.iter().sum::<f64>() / n;
    let sxy: f64 = y.iter().enumerate().map(|(i, v)| (i as f64 - mx) * (v - my)).sum();
    let sxx: f64 = (0..y.len()).map(|i| (i as f64 - mx).powi(2)).sum();
    let b = if sxx > 0.0 { sxy / sxx } else { 0.0 };
    (my - b * mx, b)
}

/// One pass of additive Holt-Winters: returns the one-step SSE and the final state.
fn hw_pass(y: &[f64], m: usize, a: f64, b: f64, g: f64) -> (f64, f64, f64, Vec<f64>) {
    let seasonal = m > 1;
    let (mut level, mut trend, mut season) = if seasonal {
        let first: f64 = y[..m].iter().sum::<f64>() / m as f64;
        let second: f64 = y[m..2 * m].iter().sum::<f64>() / m as f64;
        (first, (second - first) / m as f64, y[..m].iter().map(|v| v - first).collect::<Vec<_>>())
    } else {
        (y[0], y[1] - y[0], vec![0.0])
    };
    let start = if seasonal { m } else { 1 };
    let mut sse = 0.0;
    for (t, &v) in y.iter().enumerate().skip(start) {
        let s = season[t % season.len()];
        let pred = level + trend + s;
        sse += (v - pred).powi(2);
        let new_level = a * (v - s) + (1.0 - a) * (level + trend);
        trend = b * (new_level - level) + (1.0 - b) * trend;
        if seasonal {
            season[t % m] = g * (v - new_level) + (1.0 - g) * s;
        }
        level = new_level;
    }
    (sse, level, trend, season)
}

fn holt_winters(y: &[f64], m: usize, h: usize) -> Option<Vec<f64>> {
    let n = y.len();
    let m = m.max(1);
    if (m > 1 && n < 2 * m + 2) || n < 4 {
        return None;
    }
    let grid = [0.05, 0.1, 0.2, 0.3, 0.5, 0.7, 0.9];
    let gammas: &[f64] = if m > 1 { &grid } else { &[0.0] };
    let mut best = (f64::INFINITY, 0.0, 0.0, 0.0);
    for &a in &grid {
        for &b in &grid[..5] {
            for &g in gammas {
                let (sse, ..) = hw_pass(y, m, a, b, g);
                if sse < best.0 {
                    best = (sse, a, b, g);
                }
            }
        }
    }
    let (_, level, trend, season) = hw_pass(y, m, best.1, best.2, best.3);
    Some((1..=h).map(|k| level + trend * k as f64 + season[(n + k - 1) % season.len()]).collect())
}

/// Error of a forecast against what happened.
#[derive(Clone, Copy, Debug)]
pub struct Errors {
    /// Mean absolute error.
    pub mae: f64,
    /// Root mean squared error.
    pub rmse: f64,
}

/// MAE and RMSE.
pub fn errors(actual: &[f64], pred: &[f64]) -> Errors {
    let n = actual.len().max(1) as f64;
    let mae = actual.iter().zip(pred).map(|(a, p)| (a - p).abs()).sum::<f64>() / n;
    let rmse = (actual.iter().zip(pred).map(|(a, p)| (a - p).powi(2)).sum::<f64>() / n).sqrt();
    Errors { mae, rmse }
}
