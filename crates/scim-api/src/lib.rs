//! sshward's SCIM 2.0 service provider (RFC 7644), the API that Microsoft Entra ID and
//! other identity providers provision users and groups into.
//!
//! [`configure`] mounts every route under `/scim/v2/{team}`: `/Users`, `/Groups`,
//! `/.search` on both, and the discovery documents. Requests authenticate with a team's
//! bearer token; every answer, errors included, is `application/scim+json`; database
//! work runs on actix's blocking pool, never on the async executor. Failed token checks
//! are limited per address and per team ([`web_common::failures`]): beyond the budget a
//! request gets 429 with `Retry-After` and a SCIM error, without its token being checked.

mod auth_cache;
mod context;
mod discovery;
mod error;
mod openapi;
mod repo;
mod request;
mod resources;
mod response;
mod summary;

pub use error::ApiError;
pub use openapi::openapi;
pub use response::SCIM_JSON;

use std::sync::Arc;

use actix_web::web;
use store::Store;
use web_common::FailureLimiter;

/// Default largest request body: 1 MiB.
pub const DEFAULT_MAX_BODY_BYTES: usize = 1024 * 1024;

/// Settings of the SCIM API.
#[derive(Clone, Debug)]
pub struct ScimConfig {
    /// The public base URL of the server, without a trailing slash (e.g.
    /// `https://sshward.example.com`); used in `meta.location` and `$ref`.
    pub public_url: String,
    /// Largest request body accepted, in bytes.
    pub max_body_bytes: usize,
}

impl ScimConfig {
    /// The SCIM base URL of a team: what an admin pastes into Entra as the Tenant URL.
    pub fn tenant_url(&self, team_slug: &str) -> String {
        format!(
            "{}/scim/v2/{team_slug}",
            self.public_url.trim_end_matches('/')
        )
    }
}

/// What the handlers share: one per process, cloned into every worker thread.
#[derive(Clone)]
pub struct ScimState {
    /// The database.
    pub store: Store,
    /// Settings.
    pub config: ScimConfig,
    /// Recently verified bearer tokens, shared by all workers.
    pub(crate) auth: Arc<auth_cache::AuthCache>,
    /// Failed authentications per address and per team.
    pub(crate) failures: Arc<FailureLimiter>,
}

impl ScimState {
    /// The state of a SCIM API over `store`, with a failure limiter of its own at the
    /// default budgets.
    pub fn new(store: Store, config: ScimConfig) -> ScimState {
        ScimState {
            store,
            config,
            auth: Arc::default(),
            failures: Arc::default(),
        }
    }

    /// This state counting failed authentications in `failures` (the process's one
    /// limiter, shared with the other APIs).
    pub fn with_failures(mut self, failures: Arc<FailureLimiter>) -> ScimState {
        self.failures = failures;
        self
    }
}

/// Mounts the SCIM API at `/scim/v2/{team}` on `cfg`.
pub fn configure(cfg: &mut web::ServiceConfig, state: ScimState) {
    cfg.service(
        web::scope("/scim/v2/{team}")
            .app_data(web::Data::new(state))
            .configure(discovery::configure)
            .configure(resources::configure)
            .default_service(web::to(not_found)),
    );
}

async fn not_found(req: actix_web::HttpRequest) -> actix_web::HttpResponse {
    use actix_web::ResponseError;
    ApiError::NotFound(format!("no SCIM endpoint at {}", req.path())).error_response()
}
