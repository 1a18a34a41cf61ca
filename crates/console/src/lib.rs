//! sshward's admin web console, mounted at `/console`: a team's administrators set up
//! its Entra sign-in, hand Entra the SCIM Tenant URL and Secret Token, watch users and
//! groups arrive, and manage hosts, grants and certificates, in a browser.
//!
//! - **Server-rendered** from compile-time-checked askama templates (escaping on); every
//!   page works without JavaScript. One small script of our own (`/console/static/console.js`)
//!   adds copy buttons and the live provisioning progress.
//! - **Only the application layer** ([`app::App`]): the console performs the same typed,
//!   audited actions as the CLI, with the administrator as the actor
//!   (`console:USER-ID`, or `console:link:ID` for a one-time link).
//! - **Who**: a team's console administrators (`sshward admin add`), signed in with the
//!   team's Entra sign-in, or, before that works, with a one-time link
//!   (`sshward admin link`). Everyone else gets 403; a team's pages do not exist (404)
//!   for an administrator of another team.
//! - **Security**: its own session cookie, HttpOnly and `SameSite=Strict` (`__Host-`
//!   and `Secure` on https), made fresh at every sign-in; every state-changing request
//!   carries a token bound to the session and must come from the console's own origin
//!   (`Origin`, `Sec-Fetch-Site`); a strict Content-Security-Policy without inline
//!   script, and no framing.

mod auth;
mod page;
mod pages;
mod static_files;

use std::sync::Arc;

use actix_web::web;

pub use auth::{console_cookie_name, csrf_token};

/// Where the console is published.
#[derive(Clone, Debug)]
pub struct ConsoleConfig {
    /// The public base URL of sshward (`server.public_url`), without a trailing slash.
    pub public_url: String,
}

impl ConsoleConfig {
    /// The configuration for sshward published at `public_url`.
    pub fn new(public_url: &str) -> ConsoleConfig {
        ConsoleConfig {
            public_url: public_url.trim_end_matches('/').to_owned(),
        }
    }

    /// True when the console is served over https (cookies are then `Secure` and
    /// `__Host-`).
    pub fn is_https(&self) -> bool {
        self.public_url.starts_with("https://")
    }

    /// `path` under the public URL's path: `/console/acme/`, or
    /// `/sshward/console/acme/` when sshward is published at `https://host/sshward`.
    pub fn path(&self, path: &str) -> String {
        let base = url::Url::parse(&self.public_url)
            .map(|u| u.path().trim_end_matches('/').to_owned())
            .unwrap_or_default();
        format!("{base}{path}")
    }

    /// The path of page `path` of team `team`'s console (`/console/acme/users`).
    pub fn team_path(&self, team: &str, path: &str) -> String {
        self.path(&format!("/console/{team}{path}"))
    }

    /// The URL of a one-time sign-in link of `team` with secret `secret`. The secret is
    /// in the query string, which the access log never writes.
    pub fn link_url(&self, team: &str, secret: &str) -> String {
        format!("{}/console/{team}/link?code={secret}", self.public_url)
    }

    /// The public URL's origin (`https://host:port`), which every console form must be
    /// posted from.
    pub fn origin(&self) -> String {
        url::Url::parse(&self.public_url)
            .map(|u| u.origin().ascii_serialization())
            .unwrap_or_default()
    }
}

/// What the console's handlers share.
#[derive(Clone)]
pub struct ConsoleState {
    app: app::App,
    config: Arc<ConsoleConfig>,
    failures: Option<Arc<web_common::FailureLimiter>>,
}

impl ConsoleState {
    /// The console over `app`, published as `config` says.
    pub fn new(app: app::App, config: ConsoleConfig) -> ConsoleState {
        ConsoleState {
            app,
            config: Arc::new(config),
            failures: None,
        }
    }

    /// Counts refused one-time links against the process's limit of failed
    /// authentications (shared with the other APIs).
    pub fn with_failures(mut self, failures: Arc<web_common::FailureLimiter>) -> ConsoleState {
        self.failures = Some(failures);
        self
    }
}

/// The OpenAPI description of the routes [`configure`] mounts (part of the server's
/// `GET /openapi.json`): HTML pages and forms, signed in with the console session cookie.
pub fn openapi() -> utoipa::openapi::OpenApi {
    use utoipa::OpenApi;
    pages::Doc::openapi()
}

/// Mounts the console under `/console`.
pub fn configure(cfg: &mut web::ServiceConfig, state: ConsoleState) {
    page::STATIC_BASE.get_or_init(|| state.config.path("/console/static"));
    pages::configure(cfg, state);
}
