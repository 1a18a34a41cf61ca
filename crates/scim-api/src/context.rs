//! Authenticating a request and running its database work off the async executor.

use crate::ScimState;
use crate::auth_cache::AuthCache;
use crate::error::ApiError;
use crate::repo;
use std::net::IpAddr;

use actix_web::ResponseError;
use actix_web::{HttpRequest, web};
use scim_core::ResourceKind;
use store::{Actor, AuditAction, ScimOp, StoreError, Team, TokenInfo, Tx};
use time::OffsetDateTime;
use web_common::Attempt;

/// The authenticated caller: a team and the token it used.
#[derive(Clone, Debug)]
pub struct Caller {
    /// The team named in the URL, which the token belongs to.
    pub team: Team,
    /// The token.
    pub token: TokenInfo,
}

impl Caller {
    /// The audit actor of this caller.
    pub fn actor(&self) -> Actor {
        Actor::ScimToken(self.token.id)
    }
}

/// What a handler needs to do database work on behalf of an authenticated team.
pub struct Ctx {
    state: web::Data<ScimState>,
    team_slug: String,
    secret: Option<String>,
    peer: Option<IpAddr>,
}

impl Ctx {
    /// Collects the team slug and bearer token of `req`.
    pub fn new(req: &HttpRequest) -> Result<Ctx, ApiError> {
        let state = req
            .app_data::<web::Data<ScimState>>()
            .cloned()
            .ok_or_else(|| ApiError::Internal("SCIM state is not configured".into()))?;
        let team_slug = req.match_info().get("team").unwrap_or_default().to_string();
        Ok(Ctx {
            state,
            team_slug,
            secret: web_common::bearer_token(req),
            peer: web_common::peer_ip(req),
        })
    }

    /// The shared state.
    pub fn state(&self) -> &ScimState {
        &self.state
    }

    /// The team's SCIM base URL, for `meta.location`.
    pub fn base_url(&self) -> String {
        self.state.config.tenant_url(&self.team_slug)
    }

    /// Authenticates, then runs `f` in a read transaction on the blocking pool.
    pub async fn read<T, F>(&self, f: F) -> Result<T, ApiError>
    where
        T: Send + 'static,
        F: FnOnce(&mut Tx<'_>, &Caller) -> Result<T, ApiError> + Send + 'static,
    {
        self.run(false, f).await
    }

    /// Authenticates, then runs `f` in one write transaction on the blocking pool. When
    /// the write fails for a reason other than authentication or an unreachable database,
    /// the failure is recorded in
    /// the audit log in a transaction of its own (the failed one rolled back with
    /// everything it did); `f` records success itself, with its summary.
    pub async fn write<T, F>(
        &self,
        op: ScimOp,
        kind: ResourceKind,
        id: Option<String>,
        f: F,
    ) -> Result<T, ApiError>
    where
        T: Send + 'static,
        F: FnOnce(&mut Tx<'_>, &Caller) -> Result<T, ApiError> + Send + 'static,
    {
        let result = self.run(true, f).await;
        // Not for a database that is away: the entry could not be written either, and
        // trying would hold the request for another connection timeout.
        let database_away = |e: &ApiError| matches!(e, ApiError::Store(StoreError::Unavailable(_)));
        if let Err(error) = &result
            && !matches!(
                error,
                ApiError::Unauthorized(_) | ApiError::TooManyFailures(_) | ApiError::Internal(_)
            )
            && !database_away(error)
        {
            let status = error.status_code().as_u16();
            let detail = format!("failed: {error}");
            let id = id.unwrap_or_default();
            let recorded = self
                .run(true, move |tx, caller| {
                    repo::audit(tx, caller, op, kind, &id, status, &detail)
                })
                .await;
            if let Err(e) = recorded {
                let action = AuditAction::Scim(kind, op);
                log::warn!("could not record a failed {action} in the audit log: {e}");
            }
        }
        result
    }

    async fn run<T, F>(&self, write: bool, f: F) -> Result<T, ApiError>
    where
        T: Send + 'static,
        F: FnOnce(&mut Tx<'_>, &Caller) -> Result<T, ApiError> + Send + 'static,
    {
        let Some(secret) = self.secret.clone() else {
            return Err(ApiError::Unauthorized(
                "send the team's SCIM secret token as 'Authorization: Bearer <token>'",
            ));
        };
        // An address or team over its failure budget is refused before the token is
        // looked at.
        let attempt = self
            .state
            .failures
            .admit(self.peer, Some(&self.team_slug), &secret)?;
        let store = self.state.store.clone();
        let slug = self.team_slug.clone();
        let cache = self.state.auth.clone();
        let job = move || {
            let key = AuthCache::key(&slug, &secret);
            // Writes always verify the secret; reads may reuse a verification up to
            // `auth_cache::TTL` old, after checking by primary key that the token is
            // still neither revoked nor expired.
            let cached = if write { None } else { cache.get(&key) };
            let mut touch = None;
            let body = |tx: &mut Tx<'_>| {
                let caller = match cached {
                    // A verification moments old still needs the token to stand: a
                    // revocation (from any instance or the CLI) holds from its commit.
                    Some(caller) if tx.tokens().is_live(caller.token.id)? => {
                        attempt.succeeded();
                        caller
                    }
                    _ => {
                        let caller = authenticate(tx, &slug, &secret, &attempt)?;
                        cache.put(key.clone(), caller.clone());
                        caller
                    }
                };
                let now = OffsetDateTime::now_utc();
                if caller.token.needs_touch(now) {
                    touch = Some(caller.token.id);
                    cache.touched(&key, now);
                }
                if write && let Some(id) = touch.take() {
                    tx.tokens().touch_token(id, now)?;
                }
                f(tx, &caller)
            };
            let result = if write {
                store.write(body)
            } else {
                store.read(body)
            };
            // A read transaction cannot record the token's use; do it apart, rarely.
            if let Some(id) = touch {
                let now = OffsetDateTime::now_utc();
                if let Err(e) = store.write(|tx| tx.tokens().touch_token(id, now)) {
                    log::warn!("could not record the use of SCIM token {id}: {e}");
                }
            }
            result
        };
        web_common::blocking(job).await
    }
}

/// Checks `secret` for the team `slug`, reporting the outcome to the failure limiter.
fn authenticate(
    tx: &mut Tx<'_>,
    slug: &str,
    secret: &str,
    attempt: &Attempt,
) -> Result<Caller, ApiError> {
    match tx.tokens().authenticate(slug, secret)? {
        Some((team, token)) => {
            attempt.succeeded();
            Ok(Caller { team, token })
        }
        None => {
            attempt.failed();
            Err(ApiError::Unauthorized(
                "the bearer token is not valid for this team (wrong, revoked or expired)",
            ))
        }
    }
}
