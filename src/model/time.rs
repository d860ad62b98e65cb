//! Time as the engine sees it: milliseconds since the Unix epoch, UTC.
//!
//! Nothing here reads a clock; the single wall-clock seam is `src/clock.rs`.

use serde::{Deserialize, Serialize};
use std::fmt;

/// Milliseconds in one UTC day.
pub const DAY_MS: i64 = 86_400_000;

/// A point in time: milliseconds since 1970-01-01T00:00:00Z.
#[derive(
    Copy, Clone, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize,
)]
#[serde(transparent)]
pub struct Timestamp(pub i64);

impl Timestamp {
    /// The raw millisecond count.
    pub fn millis(self) -> i64 {
        self.0
    }

    /// This instant rounded down to a multiple of `interval_ms` (the open time of its bucket).
    pub fn floor(self, interval_ms: i64) -> Timestamp {
        Timestamp(self.0.div_euclid(interval_ms) * interval_ms)
    }

    /// The UTC day number (days since the epoch), shifted by `offset_ms` for a day boundary
    /// other than 00:00 UTC.
    pub fn day(self, offset_ms: i64) -> i64 {
        (self.0 - offset_ms).div_euclid(DAY_MS)
    }

    /// `self + ms`.
    pub fn plus_ms(self, ms: i64) -> Timestamp {
        Timestamp(self.0 + ms)
    }

    /// The UTC time of day, `HH:MM:SS`, for short messages.
    pub fn clock(self) -> String {
        let secs = self.0.rem_euclid(DAY_MS) / 1000;
        format!("{:02}:{:02}:{:02}", secs / 3600, secs / 60 % 60, secs % 60)
    }

    /// Date and minute in UTC, `YYYY-MM-DD HH:MM`, for tables.
    pub fn minute(self) -> String {
        let full = self.to_string();
        full.get(..16).unwrap_or(&full).replacen('T', " ", 1)
    }

    /// Milliseconds from `earlier` to `self` (negative when `earlier` is later).
    pub fn since(self, earlier: Timestamp) -> i64 {
        self.0 - earlier.0
    }
}

/// Converts a day count since the epoch to a (year, month, day) civil date.
///
/// Howard Hinnant's `civil_from_days`, exact for the whole `i64` day range we use.
fn civil_from_days(days: i64) -> (i64, u32, u32) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    let y = yoe + era * 400 + i64::from(m <= 2);
    (y, m, d)
}

/// Days since the epoch of a civil date (Howard Hinnant's `days_from_civil`); `None` outside
/// the years 1 to 9999, months 1 to 12 and days 1 to 31 (garbage is no date).
pub fn days_from_civil(y: i64, m: i64, d: i64) -> Option<i64> {
    if !((1..=9999).contains(&y) && (1..=12).contains(&m) && (1..=31).contains(&d)) {
        return None;
    }
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (m + 9) % 12;
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    Some(era * 146_097 + doe - 719_468)
}

/// Why a time given on the command line was not read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "`{0}` is not a time: expected a UTC day `2023-03-01`, a datetime `2023-03-01T12:30[:00][Z]`, or milliseconds since the epoch"
)]
pub struct TimeError(pub String);

impl Timestamp {
    /// A UTC day (`2023-03-01`, its midnight), a datetime (`2023-03-01T12:30`,
    /// `2023-03-01 12:30:15`, an optional `Z`), or whole milliseconds since the epoch.
    ///
    /// # Errors
    /// Anything else, or a date that does not exist (`2023-02-30`).
    pub fn parse_utc(text: &str) -> Result<Timestamp, TimeError> {
        let bad = || TimeError(text.to_string());
        let t = text.trim();
        if !t.is_empty() && t.bytes().all(|b| b.is_ascii_digit()) {
            return t.parse().map(Timestamp).map_err(|_| bad());
        }
        let t = t.strip_suffix('Z').unwrap_or(t);
        let (date, clock) = match t.split_once(['T', ' ']) {
            Some((d, c)) => (d, Some(c)),
            None => (t, None),
        };
        let mut ymd = date.split('-');
        let mut num = |len: usize| {
            ymd.next()
                .filter(|p| p.len() == len && p.bytes().all(|b| b.is_ascii_digit()))
                .and_then(|p| p.parse::<i64>().ok())
        };
        let (y, m, d) = (num(4), num(2), num(2));
        let (Some(y), Some(m), Some(d), None) = (y, m, d, ymd.next()) else {
            return Err(bad());
        };
        let days = days_from_civil(y, m, d).ok_or_else(bad)?;
        // 2023-02-30 would be read as 2023-03-02: only a date that reads back is one
        if civil_from_days(days) != (y, m as u32, d as u32) {
            return Err(bad());
        }
        let secs = match clock {
            None => 0,
            Some(c) => {
                let parts: Vec<Option<i64>> = c
                    .split(':')
                    .map(|p| {
                        (p.len() == 2 && p.bytes().all(|b| b.is_ascii_digit()))
                            .then(|| p.parse().ok())
                            .flatten()
                    })
                    .collect();
                match parts.as_slice() {
                    [Some(h), Some(mi)] if *h < 24 && *mi < 60 => h * 3600 + mi * 60,
                    [Some(h), Some(mi), Some(s)] if *h < 24 && *mi < 60 && *s < 60 => {
                        h * 3600 + mi * 60 + s
                    }
                    _ => return Err(bad()),
                }
            }
        };
        Ok(Timestamp(days * DAY_MS + secs * 1000))
    }
}

impl fmt::Display for Timestamp {
    /// RFC 3339 in UTC with milliseconds, e.g. `2024-08-08T23:54:15.342Z`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let days = self.0.div_euclid(DAY_MS);
        let ms_of_day = self.0.rem_euclid(DAY_MS);
        let (y, m, d) = civil_from_days(days);
        let secs = ms_of_day / 1000;
        write!(
            f,
            "{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}.{:03}Z",
            secs / 3600,
            secs / 60 % 60,
            secs % 60,
            ms_of_day % 1000
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn display_formats_known_instants() {
        assert_eq!(Timestamp(0).to_string(), "1970-01-01T00:00:00.000Z");
        assert_eq!(Timestamp(1_723_161_255_342).minute(), "2024-08-08 23:54");
        assert_eq!(
            Timestamp(1_723_161_255_342).to_string(),
            "2024-08-08T23:54:15.342Z"
        );
        assert_eq!(
            Timestamp(951_782_400_000).to_string(),
            "2000-02-29T00:00:00.000Z"
        );
        assert_eq!(Timestamp(1_723_161_255_342).clock(), "23:54:15");
    }

    #[test]
    fn times_on_the_command_line_are_days_datetimes_or_milliseconds() {
        let p = |s| Timestamp::parse_utc(s).map(Timestamp::millis);
        assert_eq!(p("2023-03-01"), Ok(1_677_628_800_000));
        assert_eq!(p("2023-03-01T00:01"), Ok(1_677_628_860_000));
        assert_eq!(p("2023-03-01 00:00:30Z"), Ok(1_677_628_830_000));
        assert_eq!(p("1677628800000"), Ok(1_677_628_800_000));
        assert_eq!(p("2024-02-29"), Ok(1_709_164_800_000));
        for bad in [
            "2023-02-30",
            "2023-13-01",
            "23-03-01",
            "2023-03-01T24:00",
            "yesterday",
            "",
            "2023-03",
            "2023-03-01T1:00",
            "-5",
        ] {
            assert!(p(bad).is_err(), "{bad} read as a time");
        }
    }

    #[test]
    fn floor_and_day_bucket_by_interval() {
        let t = Timestamp(1_723_161_255_342);
        assert_eq!(t.floor(60_000), Timestamp(1_723_161_240_000));
        assert_eq!(t.day(0), 19_943);
        assert_eq!(Timestamp(-1).day(0), -1);
    }
}
