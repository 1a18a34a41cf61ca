//! One access-log line per request, and the request metrics, in one middleware.
//!
//! The line has the method, the path (never the query string: a SCIM filter may hold
//! personal data), the status, the duration, the team of SCIM routes and the peer
//! address. Headers, and with them bearer tokens, are never logged.

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
    let path = short_path(req.path());
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
            team.as_deref().unwrap_or("-"),
        );
    }
    result
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
    use super::short_path;

    #[test]
    fn long_paths_are_cut() {
        assert_eq!(short_path("/scim/v2/a/Users"), "/scim/v2/a/Users");
        let long = "/".repeat(300);
        assert_eq!(short_path(&long).len(), 203);
    }
}
