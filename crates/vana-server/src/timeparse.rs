//! Time bounds for audit searches: epoch seconds, `YYYY-MM-DD[THH:MM[:SS]][Z]` (UTC), or a
//! duration ago such as `15m`, `2h`, `7d`.

use vana_core::civil::days_from_civil;

/// Parses a time bound to seconds since the epoch, relative to `now` for durations. Exactly
/// these forms are read (the OpenAPI document's pattern says the same): `123` or `123.5`
/// (epoch seconds), `15m` (digits, optional fraction, one of `s m h d`), and
/// `YYYY-MM-DD[(T| )HH:MM[:SS]][Z]` with month 01-12 and day 01-31.
pub fn parse_time(s: &str, now: f64) -> Result<f64, String> {
    let bad = || {
        format!("cannot read time {s:?}: use seconds since the epoch, YYYY-MM-DD[THH:MM[:SS]] (UTC) or a duration ago like 15m, 2h, 7d")
    };
    if is_decimal(s) {
        return s.parse::<f64>().map_err(|_| bad());
    }
    if let Some(unit) = s.chars().last().filter(|c| "smhd".contains(*c)) {
        let n = &s[..s.len() - 1];
        if is_decimal(n) {
            let mult = match unit {
                's' => 1.0,
                'm' => 60.0,
                'h' => 3600.0,
                _ => 86400.0,
            };
            return Ok(now - n.parse::<f64>().map_err(|_| bad())? * mult);
        }
    }
    let s2 = s.strip_suffix('Z').unwrap_or(s);
    let (date, time) = match s2.split_once(['T', ' ']) {
        Some((d, t)) => (d, Some(t)),
        None => (s2, None),
    };
    let digits = |p: &str, n: usize| p.len() == n && p.bytes().all(|b| b.is_ascii_digit());
    let d: Vec<&str> = date.split('-').collect();
    if d.len() != 3 || !digits(d[0], 4) || !digits(d[1], 2) || !digits(d[2], 2) {
        return Err(bad());
    }
    let (y, m, day) = (
        d[0].parse::<i64>().unwrap_or(0),
        d[1].parse::<i64>().unwrap_or(0),
        d[2].parse::<i64>().unwrap_or(0),
    );
    if !(1..=12).contains(&m) || !(1..=31).contains(&day) {
        return Err(bad());
    }
    let t: Vec<&str> = time.map(|t| t.split(':').collect()).unwrap_or_default();
    if time.is_some() && (!(2..=3).contains(&t.len()) || !t.iter().all(|p| digits(p, 2))) {
        return Err(bad());
    }
    let part = |i: usize| t.get(i).and_then(|p| p.parse::<f64>().ok()).unwrap_or(0.0);
    let days = days_from_civil(y, m, day);
    Ok(days as f64 * 86400.0 + part(0) * 3600.0 + part(1) * 60.0 + part(2))
}

/// Digits with an optional `.digits` fraction.
fn is_decimal(s: &str) -> bool {
    let (int, frac) = match s.split_once('.') {
        Some((i, f)) => (i, Some(f)),
        None => (s, None),
    };
    let all_digits = |p: &str| !p.is_empty() && p.bytes().all(|b| b.is_ascii_digit());
    all_digits(int) && frac.is_none_or(all_digits)
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
        assert_eq!(parse_time("2026-11-25 00:01", 0.0).unwrap(), 1_795_564_860.0);
        assert_eq!(parse_time("1.5m", 100.0).unwrap(), 10.0);
        for bad in [
            "inf",
            "NaN",
            "1e5",
            "+5",
            " 5",
            "-2h",
            "2026-1-05",
            "2026-11-25T1:00",
            "26-11-25",
            "5.",
            "2026-11-25T",
        ] {
            assert!(parse_time(bad, 0.0).is_err(), "{bad}");
        }
    }
}
