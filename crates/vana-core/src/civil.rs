//! Civil dates (the proleptic Gregorian calendar, UTC) as whole days since 1970-01-01, with
//! Howard Hinnant's `days_from_civil` / `civil_from_days`. The one calendar of the workspace:
//! the CLI's session times, the server's audit time bounds, the time-series tools and the
//! PostgreSQL date decoder all count days through here.

/// Days since 1970-01-01 of the civil date `y-m-d` (month 1-12, day 1-31; not checked:
/// day 31 of a 30-day month is the 1st of the next).
pub fn days_from_civil(y: i64, m: i64, d: i64) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (m + 9) % 12;
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// The civil date `(year, month 1-12, day 1-31)` of a day number (days since 1970-01-01).
pub fn civil_from_days(days: i64) -> (i64, i64, i64) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    (yoe + era * 400 + i64::from(m <= 2), m, d)
}

/// `YYYY-MM-DD` of a day number (days since 1970-01-01).
pub fn format_date(days: i64) -> String {
    let (y, m, d) = civil_from_days(days);
    format!("{y:04}-{m:02}-{d:02}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn known_dates() {
        for (ymd, days) in [
            ((1970, 1, 1), 0),
            ((1969, 12, 31), -1),
            ((2000, 1, 1), 10_957),
            ((2000, 2, 29), 11_016),
            ((1900, 3, 1), -25_508),
            ((2026, 11, 25), 20_782),
            ((1600, 1, 1), -135_140),
            ((-1, 12, 31), -719_529),
        ] {
            assert_eq!(days_from_civil(ymd.0, ymd.1, ymd.2), days, "{ymd:?}");
            assert_eq!(civil_from_days(days), ymd, "{days}");
        }
        assert_eq!(format_date(20_782), "2026-11-25");
        assert_eq!(format_date(-1), "1969-12-31");
    }

    #[test]
    fn every_day_round_trips_and_follows_the_previous() {
        let month_len = |y: i64, m: i64| match m {
            2 if y % 4 == 0 && (y % 100 != 0 || y % 400 == 0) => 29,
            2 => 28,
            4 | 6 | 9 | 11 => 30,
            _ => 31,
        };
        let mut prev = civil_from_days(-800_000);
        for days in -799_999..800_000 {
            let (y, m, d) = civil_from_days(days);
            assert_eq!(days_from_civil(y, m, d), days);
            let (py, pm, pd) = prev;
            let ok = if pd < month_len(py, pm) {
                (y, m, d) == (py, pm, pd + 1)
            } else if pm < 12 {
                (y, m, d) == (py, pm + 1, 1)
            } else {
                (y, m, d) == (py + 1, 1, 1)
            };
            assert!(ok, "{prev:?} then {:?}", (y, m, d));
            prev = (y, m, d);
        }
    }
}
