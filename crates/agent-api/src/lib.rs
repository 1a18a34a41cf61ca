//! sshward's HTTP API for host agents: joining, access documents with ETags and long
//! polls, and the text answers sshd and sudo use. The rules live in crate `app` (what a
//! join may do, how documents are computed); this crate is routes, authentication and
//! caching. Bodies are the wire types of crate `proto`.
//!
//! [`configure`] mounts, under `/api/v1/hosts`:
//!
//! | route | auth | answer |
//! |---|---|---|
//! | `POST /join` | join token (`Authorization: Bearer` or `"token"` in the body) | 201 [`proto::JoinResponse`]; the credential is shown once |
//! | `GET /self/access` | host credential | the [`proto::AccessDocument`] with an `ETag`; `If-None-Match` → 304; `?wait=SECONDS` long-polls |
//! | `GET /self/principals?user=NAME` | host credential | `text/plain`: `NAME` if that account may log in, empty otherwise (for sshd's `AuthorizedPrincipalsCommand`) |
//! | `GET /self/sudoers` | host credential | `text/plain`: a sudoers file for `/etc/sudoers.d/` |
//! | `POST /self/certificates` | host credential | [`proto::HostCertificatesResponse`]: host certificates for the [`proto::HostCertificatesRequest`]'s keys, and the CA keys |
//! | `POST /self/status` | host credential | 204: records the agent's [`proto::HostReport`] (version, applied revision, last error) for `sshward host show` |
//! | `GET /self/krl` | host credential | the team's OpenSSH key revocation list (binary, for sshd's `RevokedKeys`) with an `ETag`; `If-None-Match` → 304; `?wait=SECONDS` long-polls |
//!
//! The join body is a [`proto::JoinRequest`]; the host gets the tags the token confers,
//! and any tag it asks for must be among them. Host keys sent with it come back certified
//! in the answer's `certificates`.
//!
//! Errors are a [`proto::ErrorBody`] (`{"error": code, "message": text}`, see
//! [`web_common::ApiError`]).
//!
//! Wrong host credentials and join tokens are limited per address
//! ([`web_common::failures`]): beyond the budget a request gets 429 (`too_many_requests`)
//! with `Retry-After`, without its credential being checked. A credential that
//! authenticated recently is never refused.
//!
//! # Long polling
//!
//! With `?wait=N` (capped at [`AgentConfig::max_wait`]) and an `If-None-Match` naming the
//! current document, the request waits for the team's revision to change, or answers 304
//! when the wait is over. A waiting request reads nothing itself: one watcher task per team
//! with waiters reads the revision every [`AgentConfig::poll_interval`] (100 ms by default)
//! and publishes a change at once, or during a burst one second after its previous
//! publication; the waiters then answer together. An idle
//! fleet of any size therefore costs one database read per team and interval, and no
//! wake-ups. Polling the database works the same with one instance or several against one
//! PostgreSQL.

mod cache;
mod certs;
mod revisions;
mod routes;

use std::sync::Arc;
use std::time::Duration;

use actix_web::web;
use app::App;
use web_common::FailureLimiter;

pub use web_common::ApiError;

/// The size of the pieces an access document's body is sent in (a slice of the shared
/// document each, not a copy); the server's HTTP write buffer should be as large, so
/// that it does not grow to hold whole documents (see `sshward`'s serve).
pub const RESPONSE_CHUNK: usize = 4 * 1024;

/// Settings of the agent API.
#[derive(Clone, Debug)]
pub struct AgentConfig {
    /// The longest long-poll (`?wait=` is capped at this).
    pub max_wait: Duration,
    /// How often a long-poll re-reads the team's revision.
    pub poll_interval: Duration,
    /// Largest request body accepted, in bytes.
    pub max_body_bytes: usize,
}

impl Default for AgentConfig {
    /// 60 s, 100 ms, 64 KiB.
    fn default() -> Self {
        AgentConfig {
            max_wait: Duration::from_secs(60),
            poll_interval: Duration::from_millis(100),
            max_body_bytes: 64 * 1024,
        }
    }
}

/// What the agent API's handlers share: one per process, cloned into every worker thread.
#[derive(Clone, Debug)]
pub struct AgentState {
    /// The application layer.
    pub app: App,
    /// Settings.
    pub config: AgentConfig,
    /// Computed access documents, shared by all workers.
    documents: Arc<cache::DocumentCache>,
    /// The team revisions long-polls wait on, shared by all workers.
    revisions: Arc<revisions::Revisions>,
    /// Revocation lists by team revision, shared by all workers.
    krls: Arc<cache::DocumentCache<certs::KrlBody>>,
    /// Failed authentications per address.
    failures: Arc<FailureLimiter>,
}

impl AgentState {
    /// The state of an agent API over `app`, with a failure limiter of its own at the
    /// default budgets.
    pub fn new(app: App, config: AgentConfig) -> AgentState {
        AgentState {
            app,
            config,
            documents: Arc::default(),
            revisions: Arc::default(),
            krls: Arc::default(),
            failures: Arc::default(),
        }
    }

    /// This state counting failed authentications in `failures` (the process's one
    /// limiter, shared with the other APIs).
    pub fn with_failures(mut self, failures: Arc<FailureLimiter>) -> AgentState {
        self.failures = failures;
        self
    }
}

/// The OpenAPI description of the routes [`configure`] mounts (part of the server's
/// `GET /openapi.json`).
pub fn openapi() -> utoipa::openapi::OpenApi {
    use utoipa::OpenApi;
    routes::Doc::openapi()
}

/// Mounts the agent API at `/api/v1/hosts` on `cfg`.
pub fn configure(cfg: &mut web::ServiceConfig, state: AgentState) {
    cfg.service(
        web::scope("/api/v1/hosts")
            .app_data(web::Data::new(state))
            .app_data(web::QueryConfig::default().error_handler(|err, _| {
                ApiError::BadRequest(format!("invalid query string: {err}")).into()
            }))
            .configure(routes::configure),
    );
}
