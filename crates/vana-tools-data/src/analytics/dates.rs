//! Just enough calendar for time series: ISO dates (`YYYY-MM-DD`, `YYYY-MM`, optional time),
//! day numbers, the sampling frequency and the next dates.

use vana_core::civil::{civil_from_days, days_from_civil};

/// Parses `YYYY-MM-DD[...]` or `YYYY-MM` (or `/` separators) into a day number.
pub fn parse_day(s: &str) -> Option<i64> {
    let s = s.trim();
    let head: String = s.chars().take(10).collect();
    let parts: Vec<&str> = head.split(['-', '/']).collect();
    let num = |p: &str| p.parse::<i64>().ok();
    match parts.as_slice() {
        [y, m, d] if y.len() == 4 => {
            let (y, m, d) = (num(y)?, num(m)?, num(d.get(..2).unwrap_or(d))?);
            ((1..=12).contains(&m) && (1..=31).contains(&d)).then(|| days_from_civil(y, m, d))
        }
        [y, m] if y.len() == 4 && s.len() <= 7 => {
            let (y, m) = (num(y)?, num(m)?);
            (1..=12).contains(&m).then(|| days_from_civil(y, m, 1))
        }
        _ => None,
    }
}

/// The spacing of a sorted series of days.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Freq {
    /// Every day.
    Daily,
    /// Every week.
    Weekly,
    /// Every month.
    Monthly,
    /// Every quarter.
    Quarterly,
    /// Every year.
    Yearly,
}

impl Freq {
    /// From the median gap between consecutive days.
    pub fn infer(days: &[i64]) -> Option<Freq> {
        let mut gaps: Vec<i64> = days.windows(2).map(|w| w[1] - w[0]).collect();
        if gaps.is_empty() {
            return None;
        }
        gaps.sort_unstable();
        Some(match gaps[gaps.len() / 2] {
            1 => Freq::Daily,
            6..=8 => Freq::Weekly,
            28..=31 => Freq::Monthly,
            89..=92 => Freq::Quarterly,
            365 | 366 => Freq::Yearly,
            _ => return None,
        })
    }

    /// The usual season length (days in a week, months in a year...).
    pub fn season(self) -> usize {
        match self {
            Freq::Daily => 7,
            Freq::Weekly => 52,
            Freq::Monthly => 12,
            Freq::Quarterly => 4,
            Freq::Yearly => 1,
        }
    }

    /// The date `k` steps after `day`, formatted like the input (`YYYY-MM` for monthly input
    /// written that way).
    pub fn step(self, day: i64, k: i64, month_only: bool) -> String {
        let (y, m, d) = civil_from_days(day);
        let months = match self {
            Freq::Daily => return fmt(civil_from_days(day + k)),
            Freq::Weekly => return fmt(civil_from_days(day + 7 * k)),
            Freq::Monthly => k,
            Freq::Quarterly => 3 * k,
            Freq::Yearly => 12 * k,
        };
        let total = y * 12 + (m - 1) + months;
        let (ny, nm) = (total.div_euclid(12), total.rem_euclid(12) + 1);
        if month_only {
            format!("{ny:04}-{nm:02}")
        } else {
            fmt((ny, nm, d.min(28)))
        }
    }
}

fn fmt((y, m, d): (i64, i64, i64)) -> String {
    format!("{y:04}-{m:02}-{d:02}")
}
