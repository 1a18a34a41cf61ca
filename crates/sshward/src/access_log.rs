//! One access-log line per request, and the request metrics, in one middleware.
//!
//! The line has the method, the path (never the query string: a SCIM filter may hold
//! personal data), the status, the duration, the team of SCIM routes and the peer
//! address. Headers, and with them bearer tokens, are never logged. Every field a client
//! controls is escaped ([`escape`]): a decoded path segment such as the team may hold a
//! newline (a forged second log line), terminal escapes or NUL.

use std::time::Instant;

use actix_web::body::MessageBody;
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::middleware::Next;
use actix_web::web;

use crate::metrics::{Metrics, Observation};

/// Log target of the access log (`RUST_LOG=sshward::access=off` silences it).
pub const TARGET: &str = "sshward::access";

/// Longest path logged; longer ones are cut (and marked with `...`).
const MAX_PATH: usize = 200;

/// Settings of the middleware, kept in the app data.
#[derive(Clone)]
pub struct AccessLog {
    /// Write the access log (`log.access_log`).
    pub enabled: bool,
}

/// The middleware: `App::new().wrap(actix_web::middleware::from_fn(access_log::observe))`.
pub async fn observe(
    req: ServiceRequest,
    next: Next<impl MessageBody>,
) -> Result<ServiceResponse<impl MessageBody>, actix_web::Error> {
    let start = Instant::now();
    let metrics = req.app_data::<web::Data<Metrics>>().cloned();
    let enabled = req
        .app_data::<web::Data<AccessLog>>()
        .is_some_and(|a| a.enabled);
    let method = req.method().clone();
    let path = escape(&short_path(req.path()), usize::MAX);
    let peer = req
        .peer_addr()
        .map(|a| a.ip().to_string())
        .unwrap_or_else(|| "-".into());
    // Counted out on drop: also when the client goes away mid-request.
    let _in_flight = metrics.as_ref().map(|m| m.in_flight());
    let result = next.call(req).await;
    let elapsed = start.elapsed();
    let (status, route, resource, team) = match &result {
        Ok(res) => {
            let r = res.request();
            let route = r.match_pattern();
            let info = r.match_info();
            let resource = route
                .as_ref()
                .and_then(|_| info.get("resource").map(str::to_owned));
            let team = route
                .as_ref()
                .and_then(|_| info.get("team").map(str::to_owned));
            (res.status().as_u16(), route, resource, team)
        }
        Err(e) => (
            e.as_response_error().status_code().as_u16(),
            None,
            None,
            None,
        ),
    };
    if let Some(m) = &metrics {
        m.finished(&Observation {
            method: &method,
            route: route.as_deref(),
            resource: resource.as_deref(),
            status,
            elapsed,
        });
    }
    if enabled {
        log::info!(
            target: TARGET,
            "{method} {path} {status} {:.1}ms team={} peer={peer}",
            elapsed.as_secs_f64() * 1000.0,
            team.as_deref()
                .map_or_else(|| "-".to_owned(), |t| escape(t, MAX_FIELD)),
        );
    }
    result
}

/// Longest team field logged (a slug is at most 63 characters).
const MAX_FIELD: usize = 64;

/// A client-controlled value as logged, at most `max` characters of it: control
/// characters, whitespace and `\` as Unicode escapes (`\u{a}`, `\u{1b}`, `\u{20}`), so
/// one request is always one line of space-separated fields.
fn escape(value: &str, max: usize) -> String {
    let mut out = String::with_capacity(value.len());
    for c in value.chars().take(max) {
        if c.is_control() || c.is_whitespace() || c == '\\' {
            out.extend(c.escape_unicode());
        } else {
            out.push(c);
        }
    }
    out
}

/// The path as logged: at most [`MAX_PATH`] bytes, cut on a character boundary.
fn short_path(path: &str) -> String {
    if path.len() <= MAX_PATH {
        return path.to_owned();
    }
    let mut end = MAX_PATH;
    while !path.is_char_boundary(end) {
        end -= 1;
    }
    format!("{}...", &path[..end])
}

#[cfg(test)]
mod tests {
    use super::{escape, short_path};

    #[test]
    fn client_values_stay_on_one_line() {
        assert_eq!(escape("default", 64), "default");
        assert_eq!(escape("x\n2026 INFO", 64), "x\\u{a}2026\\u{20}INFO");
        assert_eq!(escape("\u{1b}[2J\0", 64), "\\u{1b}[2J\\u{0}");
        assert_eq!(escape("a\\b", 64), "a\\u{5c}b");
        assert!(!escape("a\r\nb\u{85}c\u{2028}", 64).contains(['\r', '\n', '\u{85}', '\u{2028}']));
        assert_eq!(escape(&"t".repeat(100), 64).len(), 64);
    }

    #[test]
    fn long_paths_are_cut() {
        assert_eq!(short_path("/scim/v2/a/Users"), "/scim/v2/a/Users");
        let long = "/".repeat(300);
        assert_eq!(short_path(&long).len(), 203);
    }
}
