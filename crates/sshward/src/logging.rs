//! Logging to stderr with `env_logger`: `RUST_LOG` when set, else the configured level.
//!
//! A client's malformed request is logged at WARN at most, so that no stranger can page
//! anyone: actix-http logs a request it cannot parse (a NUL in a header, a `"` in the
//! query string), a slow request head and a connection the client broke as ERROR
//! `stream error: ...`; those lines are written as WARN here. The server's own faults stay
//! ERROR.

use std::io::Write;

use log::{Level, Log, Metadata, Record};

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
    let inner = builder.build();
    let max_level = inner.filter();
    // A second call (tests) keeps the first logger.
    if log::set_boxed_logger(Box::new(ClientFaultsAsWarnings { inner })).is_ok() {
        log::set_max_level(max_level);
    }
}

/// The logger that writes [`is_client_fault`] lines as WARN.
struct ClientFaultsAsWarnings {
    inner: env_logger::Logger,
}

impl Log for ClientFaultsAsWarnings {
    fn enabled(&self, metadata: &Metadata<'_>) -> bool {
        self.inner.enabled(metadata)
    }

    fn log(&self, record: &Record<'_>) {
        if !is_client_fault(record) {
            return self.inner.log(record);
        }
        let metadata = Metadata::builder()
            .level(Level::Warn)
            .target(record.target())
            .build();
        if self.inner.enabled(&metadata) {
            self.inner.log(
                &Record::builder()
                    .metadata(metadata)
                    .args(*record.args())
                    .module_path(record.module_path())
                    .file(record.file())
                    .line(record.line())
                    .build(),
            );
        }
    }

    fn flush(&self) {
        self.inner.flush();
    }
}

/// actix-http's HTTP/1 dispatcher ends a connection with `stream error: <DispatchError>`
/// at ERROR; these errors are the client's doing: a request it cannot parse, a request
/// head not sent in time, the connection's I/O, a body the handler did not need.
fn is_client_fault(record: &Record<'_>) -> bool {
    const CLIENT_FAULTS: [&str; 4] = [
        "stream error: request parse error",
        "stream error: request did not complete within the specified timeout",
        "stream error: I/O error",
        "stream error: handler dropped payload before reading EOF",
    ];
    if record.level() != Level::Error || !record.target().starts_with("actix_http::h1") {
        return false;
    }
    let message = record.args().to_string();
    CLIENT_FAULTS.iter().any(|fault| message.starts_with(fault))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn record_is_client_fault(level: Level, target: &str, message: &str) -> bool {
        is_client_fault(
            &Record::builder()
                .level(level)
                .target(target)
                .args(format_args!("{message}"))
                .build(),
        )
    }

    #[test]
    fn only_the_clients_faults_are_lowered() {
        let dispatcher = "actix_http::h1::dispatcher";
        assert!(record_is_client_fault(
            Level::Error,
            dispatcher,
            "stream error: request parse error: invalid Header provided"
        ));
        assert!(record_is_client_fault(
            Level::Error,
            dispatcher,
            "stream error: I/O error: Connection reset by peer (os error 104)"
        ));
        // The server's own faults stay errors, and so do other crates' lines.
        assert!(!record_is_client_fault(
            Level::Error,
            dispatcher,
            "stream error: service error"
        ));
        assert!(!record_is_client_fault(
            Level::Error,
            "sshward::serve",
            "stream error: request parse error: invalid Header provided"
        ));
        assert!(!record_is_client_fault(
            Level::Warn,
            dispatcher,
            "stream error: request parse error"
        ));
    }
}
