//! `sshward serve`: binds, opens the store, bootstraps a first run, and runs the App.

use std::io::Write;
use std::net::TcpListener;
use std::sync::Arc;
use std::time::Duration;

use actix_web::middleware::from_fn;
use actix_web::{App, HttpServer, web};
use store::Store;
use web_common::FailureLimiter;

use crate::access_log::{self, AccessLog};
use crate::bootstrap;
use crate::config::Config;
use crate::db;
use crate::error::{Error, Result};
use crate::health;
use crate::metrics::{self, Metrics};
use crate::normalize_path;

/// Runs the server until SIGTERM or SIGINT.
pub fn run(config: &Config) -> Result<()> {
    let listen = config.listen_addr()?;
    // Bind first: a busy port fails before anything is written to the database.
    let listener = TcpListener::bind(listen)
        .map_err(|e| Error::Other(format!("cannot listen on {listen} (server.listen): {e}")))?;
    let bound = listener.local_addr()?;
    // The TLS pair next: a bad file fails before anything is written to the database.
    let certificate = config
        .tls()
        .map(|(cert, key)| crate::tls::Certificate::load(cert, key))
        .transpose()?;
    let public_url = config.public_url_for(bound);
    if config.server.public_url.is_none() && bound.ip().is_unspecified() {
        log::warn!(
            "listening on {bound} without server.public_url: printed URLs and meta.location use \
             {public_url}; set server.public_url to the URL clients reach sshward at"
        );
    }

    let store = db::open_for_server(config)?;
    log::info!(
        "database: {} ({})",
        store.backend(),
        crate::config::mask_url_password(&config.database_url())
    );
    let scim_config = config.scim_config(public_url.clone());
    let app = crate::keys::app(config, store.clone())?;
    let outcome = bootstrap::run(&app)?;
    let console_config = console::ConsoleConfig::new(&public_url);
    let banner = bootstrap::banner(
        &outcome,
        |slug| scim_config.tenant_url(slug),
        |slug, secret| console_config.link_url(slug, secret),
    );
    {
        let mut out = std::io::stdout().lock();
        for line in banner {
            writeln!(out, "{line}")?;
        }
        out.flush()?;
    }

    let state = app_state(config, store, app, &public_url)?;
    let mut server = HttpServer::new(move || {
        let state = state.clone();
        App::new()
            .wrap(from_fn(crate::limits::enforce))
            .wrap(from_fn(access_log::observe))
            .wrap(from_fn(normalize_path::merge_slashes))
            .configure(move |cfg| state.configure(cfg))
    })
    // All blocking work is database work: more blocking threads than pooled connections
    // would only wait for a connection, and each idle thread keeps allocator memory.
    .worker_max_blocking_threads(config.pool_size() as usize)
    .shutdown_timeout(config.server.shutdown_timeout_secs)
    .client_request_timeout(Duration::from_secs(config.server.header_timeout_secs))
    // A connection keeps its write buffer at the size its largest response made it (up to
    // 128 KiB): written in chunks of this size, a fleet's 10,000 long-poll connections
    // each keep one chunk after a document, not the document.
    .h1_write_buffer_size(agent_api::RESPONSE_CHUNK);
    if config.server.workers > 0 {
        server = server.workers(config.server.workers);
    }
    let server = match &certificate {
        Some(c) => server.listen_rustls_0_23(listener, c.server_config()?),
        None => server.listen(listener),
    }
    .map_err(|e| Error::Other(format!("cannot serve on {bound}: {e}")))?;
    log::info!(
        "sshward {} listening on {bound}, public URL {public_url}",
        env!("CARGO_PKG_VERSION")
    );

    actix_web::rt::System::new()
        .block_on(async move {
            if let Some(certificate) = certificate {
                actix_web::rt::spawn(reload_on_sighup(certificate));
            }
            server.run().await
        })
        .map_err(|e| Error::Other(format!("server: {e}")))?;
    log::info!("stopped");
    Ok(())
}

/// The state every worker's App is made from: the APIs over `store` and `app`.
fn app_state(config: &Config, store: Store, app: app::App, public_url: &str) -> Result<AppState> {
    let scim_config = config.scim_config(public_url.to_owned());
    let metrics = Metrics::new().map_err(|e| Error::Other(format!("metrics: {e}")))?;
    // One budget per address and team across every API that checks a credential.
    let failures = Arc::new(FailureLimiter::new(config.failure_limits()));
    let login = config
        .login
        .state(&store, app.kek(), public_url)?
        .with_failures(failures.clone());
    Ok(AppState {
        scim: scim_api::ScimState::new(store.clone(), scim_config).with_failures(failures.clone()),
        agent: agent_api::AgentState::new(app.clone(), agent_api::AgentConfig::default())
            .with_failures(failures.clone()),
        ca: ca_api::CaState {
            app: app.clone(),
            tokens: login.keys().token.clone(),
            issuer: public_url.to_owned(),
            failures: failures.clone(),
        },
        console: console::ConsoleState::new(app.clone(), console::ConsoleConfig::new(public_url))
            .with_failures(failures),
        store,
        login,
        metrics: web::Data::new(metrics),
        access_log: web::Data::new(AccessLog {
            enabled: config.log.access_log,
        }),
        metrics_enabled: config.metrics.enabled,
        limits: web::Data::new(Arc::new(crate::limits::Limits::new(
            Duration::from_secs(config.server.body_timeout_secs),
            config.server.max_requests_per_address,
        ))),
    })
}

/// Reloads the TLS certificate and key at every SIGHUP, for as long as the server runs.
async fn reload_on_sighup(certificate: Arc<crate::tls::Certificate>) {
    use actix_web::rt::signal::unix::{SignalKind, signal};
    let mut hangups = match signal(SignalKind::hangup()) {
        Ok(s) => s,
        Err(e) => {
            log::error!("cannot watch for SIGHUP, the TLS certificate will not be reloaded: {e}");
            return;
        }
    };
    while hangups.recv().await.is_some() {
        match certificate.reload() {
            Ok(()) => log::info!("SIGHUP: TLS certificate reloaded"),
            Err(e) => log::error!("SIGHUP: TLS certificate not reloaded, keeping the old one: {e}"),
        }
    }
}

/// Everything the App factory needs, cloned into each worker.
#[derive(Clone)]
pub struct AppState {
    /// The database.
    pub store: Store,
    /// The SCIM API (settings and the token cache all workers share).
    pub scim: scim_api::ScimState,
    /// The agent API (settings and the document cache all workers share).
    pub agent: agent_api::AgentState,
    /// Sign-in (OpenID Connect) state.
    pub login: oidc_login::LoginState,
    /// The certificate routes for people and clients.
    pub ca: ca_api::CaState,
    /// The web console.
    pub console: console::ConsoleState,
    /// Request metrics.
    pub metrics: web::Data<Metrics>,
    /// Access-log settings.
    pub access_log: web::Data<AccessLog>,
    /// Serve `/metrics`.
    pub metrics_enabled: bool,
    /// Body deadline and the per-address cap.
    pub limits: web::Data<Arc<crate::limits::Limits>>,
}

impl AppState {
    /// Mounts every route: health, metrics, the SCIM API, and JSON 404s elsewhere.
    pub fn configure(&self, cfg: &mut web::ServiceConfig) {
        cfg.app_data(web::Data::new(self.store.clone()))
            .app_data(self.metrics.clone())
            .app_data(self.access_log.clone())
            .app_data(self.limits.clone())
            .configure(health::configure)
            .configure(crate::openapi::configure);
        if self.metrics_enabled {
            cfg.service(
                web::resource("/metrics")
                    .route(web::get().to(metrics::endpoint))
                    .default_service(web_common::method_not_allowed("GET")),
            );
        }
        scim_api::configure(cfg, self.scim.clone());
        oidc_login::configure(cfg, self.login.clone());
        agent_api::configure(cfg, self.agent.clone());
        ca_api::configure(cfg, self.ca.clone());
        console::configure(cfg, self.console.clone());
        cfg.default_service(web::to(health::not_found));
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

    use std::collections::BTreeSet;

    use actix_web::http::Method;
    use actix_web::test as actix_test;
    use actix_web::{App, HttpRequest, HttpResponse, web};

    use super::*;

    /// A path no route matches: the test's default service answers it with the resource map.
    const DUMP: &str = "/resource-map-of-the-test";

    /// Every pattern of the App's resource map, with its scopes' prefixes. actix has no
    /// public way to list them, so they are read from the map's `{:#?}` form, where a node's
    /// children are indented deeper than the node: a change of that form fails the
    /// test (no routes, or routes the document lacks), never passes it silently.
    fn patterns(debug: &str) -> Vec<String> {
        let mut found = Vec::new();
        // (indentation, full prefix) of the scopes around the current line.
        let mut scopes: Vec<(usize, String)> = Vec::new();
        let mut lines = debug.lines();
        while let Some(line) = lines.next() {
            let text = line.trim_start();
            if !text.starts_with("patterns: Single(") {
                continue;
            }
            let indent = line.len() - text.len();
            let literal = lines.next().expect("the pattern").trim();
            let pattern: String = serde_json::from_str(literal.trim_end_matches(','))
                .unwrap_or_else(|e| panic!("pattern {literal}: {e}"));
            lines.next(); // ),
            let prefix = lines.next().expect("is_prefix").trim() == "is_prefix: true,";
            while scopes.last().is_some_and(|(i, _)| *i >= indent) {
                scopes.pop();
            }
            let full = format!("{}{pattern}", scopes.last().map_or("", |(_, p)| p));
            if prefix {
                scopes.push((indent, full));
            } else {
                found.push(full);
            }
        }
        found
    }

    /// `pattern` without the regular expressions of its variables (`{resource:Users|Groups}`
    /// is `{resource}`), as OpenAPI writes it.
    fn plain(pattern: &str) -> String {
        let mut out = String::new();
        let mut in_regex = false;
        for c in pattern.chars() {
            match c {
                ':' if out.rfind('{') > out.rfind('}') => in_regex = true,
                '}' => {
                    in_regex = false;
                    out.push(c);
                }
                _ if in_regex => {}
                _ => out.push(c),
            }
        }
        out
    }

    /// A path that `pattern` matches.
    fn concrete(pattern: &str) -> String {
        plain(pattern)
            .replace("{team}", "t")
            .replace("{resource}", "Users")
            .replace("{file}", "user.pub")
            .replace("{id}", "x")
            .replace("{serial}", "1")
    }

    /// Every route of the real App (all of the web crates' `configure`s, as `serve` mounts
    /// them) is in the OpenAPI document, and every route of the document is mounted: the
    /// isolation suite and the fuzzers take their route lists from the document.
    #[test]
    fn every_mounted_route_is_in_the_openapi_document() {
        let dir = tempfile::tempdir().unwrap();
        let config = Config {
            data_dir: dir.path().to_owned(),
            ..Config::default()
        };
        let store = db::open_for_server(&config).unwrap();
        let app = crate::keys::app(&config, store.clone()).unwrap();
        let state = app_state(&config, store, app, "http://127.0.0.1:8080").unwrap();
        let documented: BTreeSet<(String, String)> = {
            let doc = serde_json::to_value(crate::openapi::document()).unwrap();
            let paths = doc["paths"].as_object().unwrap();
            paths
                .iter()
                .flat_map(|(path, item)| {
                    let methods = item.as_object().unwrap().keys();
                    methods.map(|m| (m.to_uppercase(), path.clone()))
                })
                .collect()
        };
        let mounted = actix_web::rt::System::new().block_on(async move {
            let service = actix_test::init_service(
                App::new()
                    .configure(move |cfg| state.configure(cfg))
                    .default_service(web::to(|req: HttpRequest| async move {
                        HttpResponse::Ok().body(format!("{:#?}", req.resource_map()))
                    })),
            )
            .await;
            let dump = actix_test::call_and_read_body(
                &service,
                actix_test::TestRequest::get().uri(DUMP).to_request(),
            )
            .await;
            let patterns = patterns(std::str::from_utf8(&dump).unwrap());
            assert!(patterns.len() > 20, "too few routes found: {patterns:?}");
            let mut mounted = BTreeSet::new();
            for pattern in patterns {
                for method in ["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"] {
                    let req = actix_test::TestRequest::default()
                        .method(Method::from_bytes(method.as_bytes()).unwrap())
                        .uri(&concrete(&pattern))
                        .to_request();
                    let res = actix_test::call_service(&service, req).await;
                    assert_eq!(
                        res.request().match_pattern().as_deref(),
                        Some(pattern.as_str()),
                        "{method} {} is routed elsewhere",
                        concrete(&pattern)
                    );
                    // A resource answers a method it has no route for with 405.
                    if res.status() != actix_web::http::StatusCode::METHOD_NOT_ALLOWED {
                        mounted.insert((method.to_owned(), plain(&pattern)));
                    }
                }
            }
            mounted
        });
        let undocumented: Vec<_> = mounted.difference(&documented).collect();
        let unmounted: Vec<_> = documented.difference(&mounted).collect();
        assert!(
            undocumented.is_empty() && unmounted.is_empty(),
            "mounted but not in the OpenAPI document: {undocumented:?}\n\
             in the document but not mounted: {unmounted:?}"
        );
    }
}
