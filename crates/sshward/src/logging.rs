//! Logging to stderr with `env_logger`: `RUST_LOG` when set, else the configured level.

use std::io::Write;

/// Installs the global logger. `RUST_LOG` (e.g. `info,sshward::access=warn`) wins over
/// `level`. Lines look like `2026-11-28T16:35:00.123Z INFO  sshward::serve: message`.
pub fn init(level: &str) {
    let mut builder = env_logger::Builder::new();
    match std::env::var("RUST_LOG") {
        Ok(filters) if !filters.trim().is_empty() => {
            builder.parse_filters(&filters);
        }
        _ => {
            builder.parse_filters(level);
        }
    }
    let stamp = time::macros::format_description!(
        "[year]-[month]-[day]T[hour]:[minute]:[second].[subsecond digits:3]Z"
    );
    builder.format(move |buf, record| {
        let ts = time::OffsetDateTime::now_utc()
            .format(&stamp)
            .unwrap_or_default();
        writeln!(
            buf,
            "{ts} {:<5} {}: {}",
            record.level(),
            record.target(),
            record.args()
        )
    });
    // A second call (tests) keeps the first logger.
    let _ = builder.try_init();
}
