//! Command output: aligned tables and key/value blocks for people, JSON for scripts.
//!
//! Every value printed for people passes [`printable`]: names and labels come from SCIM
//! clients and may hold ESC, CR or LF, which would clear the operator's screen, set the
//! terminal title or split a table row. JSON output is escaped by JSON itself.

use std::io::Write;

use serde::Serialize;

use crate::error::Result;

/// `--json`, shared by every command that prints something.
#[derive(Clone, Copy, Debug, Default, clap::Args)]
pub struct Format {
    /// Print JSON (for scripts) instead of a table
    #[arg(long)]
    pub json: bool,
}

/// Writes `value` as pretty JSON and a newline to stdout.
pub fn print_json<T: Serialize + ?Sized>(value: &T) -> Result<()> {
    let mut out = std::io::stdout().lock();
    serde_json::to_writer_pretty(&mut out, value)?;
    writeln!(out)?;
    Ok(())
}

pub use app::display::{opt_time, printable, time};

/// Writes plain lines to stdout (each through [`printable`]).
pub fn print_lines(lines: &[String]) -> Result<()> {
    let mut out = std::io::stdout().lock();
    for line in lines {
        writeln!(out, "{}", printable(line))?;
    }
    Ok(())
}

/// A table with a header row; columns are padded to their widest cell.
#[derive(Debug)]
pub struct Table {
    header: Vec<&'static str>,
    rows: Vec<Vec<String>>,
}

impl Table {
    /// A table with these column names.
    pub fn new(header: &[&'static str]) -> Self {
        Table {
            header: header.to_vec(),
            rows: Vec::new(),
        }
    }

    /// Adds a row (missing cells are empty, extra ones dropped), each cell through
    /// [`printable`] (so that widths are those of what is printed).
    pub fn row(&mut self, cells: Vec<String>) {
        self.rows.push(cells.iter().map(|c| printable(c)).collect());
    }

    /// The table as lines of text, without trailing spaces.
    pub fn render(&self) -> Vec<String> {
        let n = self.header.len();
        let mut widths: Vec<usize> = self.header.iter().map(|h| h.chars().count()).collect();
        for row in &self.rows {
            for (i, cell) in row.iter().take(n).enumerate() {
                widths[i] = widths[i].max(cell.chars().count());
            }
        }
        let line = |cells: Vec<&str>| {
            let mut s = String::new();
            for (i, cell) in cells.iter().enumerate() {
                if i > 0 {
                    s.push_str("  ");
                }
                s.push_str(cell);
                if i + 1 < n {
                    let pad = widths[i].saturating_sub(cell.chars().count());
                    s.extend(std::iter::repeat_n(' ', pad));
                }
            }
            s.trim_end().to_owned()
        };
        let mut out = vec![line(self.header.clone())];
        for row in &self.rows {
            let cells: Vec<&str> = (0..n)
                .map(|i| row.get(i).map_or("", String::as_str))
                .collect();
            out.push(line(cells));
        }
        out
    }

    /// Prints the table, or `empty` when it has no rows.
    pub fn print(&self, empty: &str) -> Result<()> {
        if self.rows.is_empty() {
            return print_lines(&[empty.to_owned()]);
        }
        print_lines(&self.render())
    }
}

/// Prints `label: value` lines with the values aligned.
pub fn print_fields(fields: &[(&str, String)]) -> Result<()> {
    let width = fields
        .iter()
        .map(|(k, _)| k.chars().count())
        .max()
        .unwrap_or(0);
    let lines: Vec<String> = fields
        .iter()
        .map(|(k, v)| {
            let pad = " ".repeat(width - k.chars().count() + 1);
            format!("{k}:{pad}{}", printable(v))
        })
        .map(|l| l.trim_end().to_owned())
        .collect();
    print_lines(&lines)
}

/// Serialises times as RFC 3339 strings in JSON output.
pub mod rfc3339 {
    use serde::Serializer;
    use time::OffsetDateTime;

    /// Serialises a time.
    pub fn serialize<S: Serializer>(t: &OffsetDateTime, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&super::time(*t))
    }

    /// Serialises an optional time (`null` when absent).
    pub mod option {
        use serde::Serializer;
        use time::OffsetDateTime;

        /// Serialises an optional time.
        pub fn serialize<S: Serializer>(
            t: &Option<OffsetDateTime>,
            s: S,
        ) -> Result<S::Ok, S::Error> {
            match t {
                Some(t) => s.serialize_str(&super::super::time(*t)),
                None => s.serialize_none(),
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn table_aligns_columns() {
        let mut t = Table::new(&["ID", "NAME", "X"]);
        t.row(vec!["1".into(), "alice".into(), "".into()]);
        t.row(vec!["100".into(), "bö".into(), "y".into()]);
        assert_eq!(
            t.render(),
            vec!["ID   NAME   X", "1    alice", "100  bö     y"]
        );
    }

    #[test]
    fn control_characters_never_reach_the_terminal() {
        assert_eq!(printable("alice"), "alice");
        assert_eq!(
            printable("a\u{1b}]0;pwned\u{7}b"),
            "a\\u{1b}]0;pwned\\u{7}b"
        );
        assert_eq!(printable("row\r\nfake"), "row\\u{d}\\u{a}fake");
        assert_eq!(printable("c1\u{9b}2J"), "c1\\u{9b}2J");
        let mut t = Table::new(&["NAME", "X"]);
        t.row(vec!["a\nb".into(), "y".into()]);
        assert_eq!(t.render(), vec!["NAME     X", "a\\u{a}b  y"]);
    }

    #[test]
    fn times_are_rfc3339_seconds() {
        use time::OffsetDateTime;
        let t = OffsetDateTime::from_unix_timestamp_nanos(1_700_000_000_123_456_789)
            .unwrap_or(OffsetDateTime::UNIX_EPOCH);
        assert_eq!(time(t), "2023-11-14T22:13:20Z");
        assert_eq!(opt_time(None), "-");
    }
}
