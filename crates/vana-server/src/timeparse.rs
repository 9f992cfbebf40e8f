//! Time bounds for audit searches: epoch seconds, `YYYY-MM-DD[THH:MM[:SS]][Z]` (UTC), or a
//! duration ago such as `15m`, `2h`, `7d`.

/// Parses a time bound to seconds since the epoch, relative to `now` for durations.
pub fn parse_time(s: &str, now: f64) -> Result<f64, String> {
    let s = s.trim();
    let bad = || {
        format!("cannot read time {s:?}: use seconds since the epoch, YYYY-MM-DD[THH:MM[:SS]] (UTC) or a duration ago like 15m, 2h, 7d")
    };
    if let Ok(v) = s.parse::<f64>() {
        return Ok(v);
    }
    if let Some(unit) = s.chars().last().filter(|c| "smhd".contains(*c)) {
        if let Ok(n) = s[..s.len() - 1].parse::<f64>() {
            let mult = match unit {
                's' => 1.0,
                'm' => 60.0,
                'h' => 3600.0,
                _ => 86400.0,
            };
            return Ok(now - n * mult);
        }
    }
    let s2 = s.trim_end_matches('Z');
    let (date, time) = s2.split_once(['T', ' ']).unwrap_or((s2, "00:00:00"));
    let d: Vec<i64> = date.split('-').map(|p| p.parse().map_err(|_| bad())).collect::<Result<_, _>>()?;
    let t: Vec<f64> = time.split(':').map(|p| p.parse().map_err(|_| bad())).collect::<Result<_, _>>()?;
    if d.len() != 3 || t.is_empty() || t.len() > 3 || !(1..=12).contains(&d[1]) || !(1..=31).contains(&d[2]) {
        return Err(bad());
    }
    let days = days_from_civil(d[0], d[1], d[2]);
    let secs = t[0] * 3600.0 + t.get(1).copied().unwrap_or(0.0) * 60.0 + t.get(2).copied().unwrap_or(0.0);
    Ok(days as f64 * 86400.0 + secs)
}

/// Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's algorithm).
fn days_from_civil(y: i64, m: i64, d: i64) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = if y >= 0 { y } else { y - 399 } / 400;
    let yoe = y - era * 400;
    let mp = (m + 9) % 12;
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146097 + doe - 719468
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_dates_epochs_and_durations() {
        assert_eq!(parse_time("2026-11-25", 0.0).unwrap(), 1_795_564_800.0);
        assert_eq!(parse_time("2026-11-25T01:02:03Z", 0.0).unwrap(), 1_795_564_800.0 + 3723.0);
        assert_eq!(parse_time("1700000000", 0.0).unwrap(), 1_700_000_000.0);
        assert_eq!(parse_time("2h", 10_000.0).unwrap(), 2_800.0);
        assert!(parse_time("yesterday", 0.0).is_err());
        assert!(parse_time("2026-13-01", 0.0).is_err());
    }
}
