//! Prometheus metrics, served at `GET /metrics` in the Prometheus text format (0.0.4).
//!
//! Labels are bounded: routes are actix route patterns (`/scim/v2/{team}/{resource}/{id}`)
//! or `unmatched`, never raw paths; teams are not a label.

use std::time::Duration;

use actix_web::http::Method;
use actix_web::{HttpResponse, web};
use prometheus::{
    Encoder, Gauge, HistogramOpts, HistogramVec, IntCounterVec, IntGauge, IntGaugeVec, Opts,
    Registry, TextEncoder,
};

/// Latency buckets in seconds: 1 ms to 10 s.
const BUCKETS: [f64; 14] = [
    0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0,
];

/// The server's metrics and their registry.
#[derive(Clone)]
pub struct Metrics {
    registry: Registry,
    requests: IntCounterVec,
    duration: HistogramVec,
    in_flight: IntGauge,
    scim_operations: IntCounterVec,
    pool: IntGaugeVec,
}

/// What one finished request looked like.
pub struct Observation<'a> {
    /// The request method.
    pub method: &'a Method,
    /// The matched route pattern, if any.
    pub route: Option<&'a str>,
    /// `{resource}` of a SCIM route (`Users`, `Groups`).
    pub resource: Option<&'a str>,
    /// The response status.
    pub status: u16,
    /// Time to the response head.
    pub elapsed: Duration,
}

fn counter(name: &str, help: &str, labels: &[&str]) -> prometheus::Result<IntCounterVec> {
    IntCounterVec::new(Opts::new(name, help), labels)
}

impl Metrics {
    /// Creates the metrics in a fresh registry.
    pub fn new() -> prometheus::Result<Metrics> {
        let registry = Registry::new();
        let requests = counter(
            "sshward_http_requests_total",
            "HTTP requests answered, by method, route pattern and status code.",
            &["method", "route", "status"],
        )?;
        let duration = HistogramVec::new(
            HistogramOpts::new(
                "sshward_http_request_duration_seconds",
                "Time from request to response head, by method and route pattern.",
            )
            .buckets(BUCKETS.to_vec()),
            &["method", "route"],
        )?;
        let in_flight = IntGauge::new(
            "sshward_http_requests_in_flight",
            "HTTP requests being handled now.",
        )?;
        let scim_operations = counter(
            "sshward_scim_operations_total",
            "SCIM operations, by resource type, operation and status code.",
            &["resource", "operation", "status"],
        )?;
        let pool = IntGaugeVec::new(
            Opts::new(
                "sshward_db_pool_connections",
                "Database connections of this process: in_use, idle, and max (the pool size).",
            ),
            &["state"],
        )?;
        let build = IntGaugeVec::new(
            Opts::new("sshward_build_info", "Always 1; the version is a label."),
            &["version"],
        )?;
        build.with_label_values(&[env!("CARGO_PKG_VERSION")]).set(1);
        let start = Gauge::new(
            "sshward_start_time_seconds",
            "When the server started, as seconds since the Unix epoch.",
        )?;
        start.set(time::OffsetDateTime::now_utc().unix_timestamp() as f64);
        registry.register(Box::new(requests.clone()))?;
        registry.register(Box::new(duration.clone()))?;
        registry.register(Box::new(in_flight.clone()))?;
        registry.register(Box::new(scim_operations.clone()))?;
        registry.register(Box::new(pool.clone()))?;
        registry.register(Box::new(build))?;
        registry.register(Box::new(start))?;
        Ok(Metrics {
            registry,
            requests,
            duration,
            in_flight,
            scim_operations,
            pool,
        })
    }

    /// Counts a request in flight until the returned guard is dropped.
    pub fn in_flight(&self) -> InFlight {
        self.in_flight.inc();
        InFlight(self.in_flight.clone())
    }

    /// Records a request that finished.
    pub fn finished(&self, o: &Observation<'_>) {
        let method = method_label(o.method);
        let route = o.route.map(route_label);
        let route = route.as_deref().unwrap_or("unmatched");
        let status = status_label(o.status);
        self.requests
            .with_label_values(&[method, route, status.as_str()])
            .inc();
        self.duration
            .with_label_values(&[method, route])
            .observe(o.elapsed.as_secs_f64());
        if let Some((resource, operation)) = scim_operation(o.method, Some(route), o.resource) {
            self.scim_operations
                .with_label_values(&[resource, operation, status.as_str()])
                .inc();
        }
    }

    /// Records the database pool's state (read when the metrics are scraped).
    pub fn set_pool(&self, pool: store::PoolState) {
        let busy = pool.connections.saturating_sub(pool.idle);
        for (state, n) in [("in_use", busy), ("idle", pool.idle), ("max", pool.max)] {
            self.pool.with_label_values(&[state]).set(i64::from(n));
        }
    }

    /// The metrics in the Prometheus text format.
    pub fn render(&self) -> Result<String, String> {
        let mut buf = Vec::new();
        TextEncoder::new()
            .encode(&self.registry.gather(), &mut buf)
            .map_err(|e| e.to_string())?;
        String::from_utf8(buf).map_err(|e| e.to_string())
    }
}

/// A request in flight; decrements the gauge when dropped.
pub struct InFlight(IntGauge);

impl Drop for InFlight {
    fn drop(&mut self) {
        self.0.dec();
    }
}

fn method_label(m: &Method) -> &'static str {
    match *m {
        Method::GET => "GET",
        Method::POST => "POST",
        Method::PUT => "PUT",
        Method::PATCH => "PATCH",
        Method::DELETE => "DELETE",
        Method::HEAD => "HEAD",
        Method::OPTIONS => "OPTIONS",
        _ => "other",
    }
}

/// A route pattern without the regular expressions of its segments:
/// `/x/{resource:Users|Groups}/{id}` -> `/x/{resource}/{id}`.
pub fn route_label(pattern: &str) -> String {
    let mut out = String::with_capacity(pattern.len());
    let mut depth = 0usize;
    let mut skipping = false;
    for c in pattern.chars() {
        match c {
            '{' => {
                depth += 1;
                if !skipping {
                    out.push(c);
                }
            }
            '}' => {
                depth = depth.saturating_sub(1);
                if depth == 0 {
                    skipping = false;
                    out.push(c);
                } else if !skipping {
                    out.push(c);
                }
            }
            ':' if depth == 1 => skipping = true,
            _ if skipping => {}
            _ => out.push(c),
        }
    }
    out
}

/// Status codes are few; anything outside 100-599 is one label.
fn status_label(status: u16) -> String {
    if (100..600).contains(&status) {
        status.to_string()
    } else {
        "other".into()
    }
}

/// The SCIM resource and operation of a request, from its method and route pattern.
pub fn scim_operation(
    method: &Method,
    route: Option<&str>,
    resource: Option<&str>,
) -> Option<(&'static str, &'static str)> {
    let rest = route?.strip_prefix("/scim/v2/{team}")?;
    let resource_label = || match resource {
        Some(r) if r.eq_ignore_ascii_case("Users") => "User",
        Some(r) if r.eq_ignore_ascii_case("Groups") => "Group",
        _ => "unknown",
    };
    let op = match (rest, method.as_str()) {
        ("/.search", "POST") => return Some(("all", "search")),
        ("/{resource}/.search", "POST") => "search",
        ("/{resource}", "GET") => "list",
        ("/{resource}", "POST") => "create",
        ("/{resource}/{id}", "GET") => "get",
        ("/{resource}/{id}", "PUT") => "replace",
        ("/{resource}/{id}", "PATCH") => "patch",
        ("/{resource}/{id}", "DELETE") => "delete",
        (path, "GET") => {
            let doc = path.trim_start_matches('/');
            let doc = doc.split('/').next().unwrap_or_default();
            return match doc {
                "ServiceProviderConfig" => Some(("ServiceProviderConfig", "discovery")),
                "Schemas" => Some(("Schema", "discovery")),
                "ResourceTypes" => Some(("ResourceType", "discovery")),
                _ => None,
            };
        }
        _ => return None,
    };
    Some((resource_label(), op))
}

/// `GET /metrics`.
#[utoipa::path(get, path = "/metrics", tag = "operations",
    responses(
        (status = 200, description = "Prometheus text format", body = String,
            content_type = "text/plain"),
        (status = "default", description = "an error", body = proto::ErrorBody),
    ))]
pub async fn endpoint(metrics: web::Data<Metrics>, store: web::Data<store::Store>) -> HttpResponse {
    metrics.set_pool(store.pool_state());
    match metrics.render() {
        Ok(text) => HttpResponse::Ok()
            .content_type("text/plain; version=0.0.4; charset=utf-8")
            .body(text),
        Err(e) => {
            log::error!("cannot render metrics: {e}");
            HttpResponse::InternalServerError()
                .content_type("text/plain; charset=utf-8")
                .body("cannot render metrics\n")
        }
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn scim_operations_from_routes() {
        let r = |m: Method, route: &str, res: Option<&str>| scim_operation(&m, Some(route), res);
        assert_eq!(
            r(Method::GET, "/scim/v2/{team}/{resource}", Some("Users")),
            Some(("User", "list"))
        );
        assert_eq!(
            r(Method::POST, "/scim/v2/{team}/{resource}", Some("Groups")),
            Some(("Group", "create"))
        );
        assert_eq!(
            r(
                Method::PATCH,
                "/scim/v2/{team}/{resource}/{id}",
                Some("Groups")
            ),
            Some(("Group", "patch"))
        );
        assert_eq!(
            r(Method::POST, "/scim/v2/{team}/.search", None),
            Some(("all", "search"))
        );
        assert_eq!(
            r(Method::GET, "/scim/v2/{team}/Schemas/{id}", None),
            Some(("Schema", "discovery"))
        );
        assert_eq!(r(Method::GET, "/healthz", None), None);
        assert_eq!(scim_operation(&Method::GET, None, None), None);
    }

    #[test]
    fn route_labels_drop_segment_patterns() {
        assert_eq!(
            route_label("/scim/v2/{team}/{resource:Users|Groups}/{id}"),
            "/scim/v2/{team}/{resource}/{id}"
        );
        assert_eq!(route_label("/a/{n:[0-9]{2,3}}/b"), "/a/{n}/b");
        assert_eq!(route_label("/healthz"), "/healthz");
    }

    #[test]
    fn renders_text_format() {
        let m = Metrics::new().unwrap();
        let guard = m.in_flight();
        assert!(
            m.render()
                .unwrap()
                .contains("sshward_http_requests_in_flight 1")
        );
        drop(guard);
        m.finished(&Observation {
            method: &Method::GET,
            route: Some("/scim/v2/{team}/{resource:Users|Groups}"),
            resource: Some("Users"),
            status: 200,
            elapsed: Duration::from_millis(3),
        });
        let text = m.render().unwrap();
        assert!(text.contains(
            "sshward_http_requests_total{method=\"GET\",route=\"/scim/v2/{team}/{resource}\",status=\"200\"} 1"
        ), "{text}");
        assert!(text.contains("sshward_scim_operations_total{operation=\"list\",resource=\"User\",status=\"200\"} 1"), "{text}");
        m.set_pool(store::PoolState {
            connections: 3,
            idle: 1,
            max: 10,
        });
        let text = m.render().unwrap();
        assert!(
            text.contains("sshward_db_pool_connections{state=\"in_use\"} 2"),
            "{text}"
        );
        assert!(
            text.contains("sshward_db_pool_connections{state=\"max\"} 10"),
            "{text}"
        );
        assert!(text.contains("sshward_http_request_duration_seconds_bucket{method=\"GET\",route=\"/scim/v2/{team}/{resource}\",le=\"0.005\"} 1"), "{text}");
        assert!(text.contains("# TYPE sshward_http_request_duration_seconds histogram"));
        assert!(text.contains("sshward_http_requests_in_flight 0"));
    }
}
