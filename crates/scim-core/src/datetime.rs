//! SCIM dateTime values (xsd:dateTime as RFC 3339 text).

use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

/// Parses an RFC 3339 date-time such as `2024-05-01T12:00:00Z`.
pub fn parse(text: &str) -> Option<OffsetDateTime> {
    OffsetDateTime::parse(text, &Rfc3339).ok()
}

/// Formats a timestamp as RFC 3339 in UTC, e.g. `2024-05-01T12:00:00.123456Z`.
pub fn format(at: OffsetDateTime) -> String {
    at.to_offset(time::UtcOffset::UTC)
        .format(&Rfc3339)
        .unwrap_or_else(|_| at.unix_timestamp().to_string())
}
