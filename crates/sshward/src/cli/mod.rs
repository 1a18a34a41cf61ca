//! The admin commands. They work on the database directly, with the same configuration
//! as the server; every one prints a table for people or JSON with `--json`.

pub mod access;
pub mod admin;
pub mod audit;
pub mod ca;
pub mod cert;
pub mod console_admin;
pub mod grant;
pub mod groups;
pub mod host;
pub mod login;
pub mod sessions;
pub mod team;
pub mod team_oidc;
pub mod token;
pub mod users;

use time::{Duration, OffsetDateTime};

use crate::error::{Error, Result};

/// The team commands default to, created by the first `sshward serve`.
pub const DEFAULT_TEAM: &str = "default";

/// Parses `30s`, `15m`, `12h`, `7d` or `2w`.
pub fn parse_duration(text: &str) -> Result<Duration> {
    let t = text.trim();
    let split = t.find(|c: char| !c.is_ascii_digit()).unwrap_or(t.len());
    let (num, unit) = t.split_at(split);
    let n: i64 = num.parse().map_err(|_| bad_duration(text))?;
    let d = match unit {
        "s" => Duration::seconds(n),
        "m" => Duration::minutes(n),
        "h" => Duration::hours(n),
        "d" => Duration::days(n),
        "w" => Duration::weeks(n),
        _ => return Err(bad_duration(text)),
    };
    if n <= 0 || n > 100_000 {
        return Err(bad_duration(text));
    }
    Ok(d)
}

fn bad_duration(text: &str) -> Error {
    Error::Usage(format!(
        "invalid duration {text:?}: use a positive number and a unit s, m, h, d or w (e.g. 90d)"
    ))
}

/// Parses a point in time: RFC 3339 (`2026-11-28T16:00:00Z`), a date (`2026-11-28`,
/// midnight UTC), or a duration meaning that long ago (`15m`, `7d`).
pub fn parse_time(text: &str, now: OffsetDateTime) -> Result<OffsetDateTime> {
    use time::format_description::well_known::Rfc3339;
    let t = text.trim();
    if let Ok(at) = OffsetDateTime::parse(t, &Rfc3339) {
        return Ok(at);
    }
    let date_format = time::macros::format_description!("[year]-[month]-[day]");
    if let Ok(date) = time::Date::parse(t, &date_format) {
        return Ok(date.midnight().assume_utc());
    }
    if let Ok(d) = parse_duration(t) {
        return Ok(now - d);
    }
    Err(Error::Usage(format!(
        "invalid time {text:?}: use RFC 3339 (2026-11-28T16:00:00Z), a date (2026-11-28) \
         or an age (15m, 12h, 7d)"
    )))
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn durations() {
        assert_eq!(parse_duration("90d").unwrap(), Duration::days(90));
        assert_eq!(parse_duration("15m").unwrap(), Duration::minutes(15));
        for bad in ["", "d", "0d", "-1d", "5y", "1.5h", "9999999999d"] {
            assert_eq!(
                parse_duration(bad).map_err(|e| e.exit_code()).err(),
                Some(2),
                "{bad}"
            );
        }
    }

    #[test]
    fn times() {
        let now = OffsetDateTime::from_unix_timestamp(1_800_000_000).unwrap();
        assert_eq!(parse_time("1h", now).unwrap(), now - Duration::hours(1));
        assert_eq!(
            parse_time("2026-11-28", now).unwrap().unix_timestamp(),
            1_795_824_000
        );
        assert_eq!(
            parse_time("2026-11-28T01:00:00+01:00", now)
                .unwrap()
                .unix_timestamp(),
            1_795_824_000
        );
        assert!(parse_time("yesterday", now).is_err());
    }
}
