//! How every front end shows values to a person (the CLI's tables, the console's pages):
//! one rule for control characters and one format for times.

use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

/// `text` with every control character (ESC, CR, LF, TAB, NUL, C1 controls, ...) shown as
/// a Unicode escape (`\u{1b}`), so it stays one harmless piece of one line: a name from
/// SCIM cannot clear a terminal, set its title or split a table row.
pub fn printable(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        if c.is_control() {
            out.extend(c.escape_unicode());
        } else {
            out.push(c);
        }
    }
    out
}

/// RFC 3339 in UTC with seconds (`2026-11-28T16:35:00Z`).
pub fn time(t: OffsetDateTime) -> String {
    let t = t
        .to_offset(time::UtcOffset::UTC)
        .replace_nanosecond(0)
        .unwrap_or(t);
    t.format(&Rfc3339).unwrap_or_else(|_| t.to_string())
}

/// [`time()`] of an optional time, `-` when absent.
pub fn opt_time(t: Option<OffsetDateTime>) -> String {
    t.map_or_else(|| "-".to_owned(), time)
}
