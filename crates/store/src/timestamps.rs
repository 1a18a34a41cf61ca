//! Timestamps are stored as unix microseconds (`BIGINT`) on both backends.

use time::OffsetDateTime;

use crate::error::StoreError;

/// The current time, truncated to microseconds (what the database can hold).
pub(crate) fn now() -> OffsetDateTime {
    let now = OffsetDateTime::now_utc();
    now.replace_nanosecond(now.nanosecond() / 1000 * 1000)
        .unwrap_or(now)
}

/// `t` as unix microseconds (saturating far outside the representable range).
pub(crate) fn to_micros(t: OffsetDateTime) -> i64 {
    let micros = t.unix_timestamp_nanos() / 1000;
    i64::try_from(micros).unwrap_or(if micros < 0 { i64::MIN } else { i64::MAX })
}

/// Unix microseconds back to a UTC date-time.
pub(crate) fn from_micros(micros: i64) -> Result<OffsetDateTime, StoreError> {
    OffsetDateTime::from_unix_timestamp_nanos(i128::from(micros) * 1000)
        .map_err(|e| StoreError::Corrupt(format!("timestamp {micros}: {e}")))
}

/// Optional variant of [`from_micros`].
pub(crate) fn from_micros_opt(micros: Option<i64>) -> Result<Option<OffsetDateTime>, StoreError> {
    micros.map(from_micros).transpose()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips_microseconds() {
        let t = now();
        assert_eq!(from_micros(to_micros(t)).ok(), Some(t));
        assert_eq!(t.nanosecond() % 1000, 0);
    }
}
