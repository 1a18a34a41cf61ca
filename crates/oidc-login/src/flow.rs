//! The sign-in flows over the store and the provider: start, callback, CLI code
//! redemption, device authorization, and "who is this session". Blocking; the web
//! handlers call these on actix's blocking pool. Every attempt that reaches a decision is
//! written to the audit log with its reason.

use std::sync::Arc;

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use scim_core::ResourceKind;
use scim_core::filter::{AttrPath, CompValue, CompareOp, Filter};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use store::{
    Actor, AuditAction, AuditEntry, ListQuery, ResourceRecord, Store, Team, TeamId, TenantId, Tx,
};
use subtle::ConstantTimeEq;
use time::OffsetDateTime;

use crate::check::{self, Expectations, LinkKey, LinkedUser, TeamPolicy};
use crate::error::{Denied, LoginError};
use crate::provider::{DevicePoll, Providers};
use crate::provider_threads::ProviderThreads;
use crate::settings::{Keys, LoginConfig, TeamLogin};
use access_token::{AUDIENCE, AccessClaims, Via};

/// Flow kinds in the `login_flows` table.
const AUTH: &str = "auth";
const CLI_CODE: &str = "cli-code";
const DEVICE: &str = "device";

/// A CLI code must be redeemed within this many seconds of the browser sign-in.
const CLI_CODE_TTL: i64 = 120;
/// Longest device flow accepted, whatever the provider says.
const DEVICE_MAX_SECS: u64 = 900;

/// Everything the sign-in needs; cheap to clone.
#[derive(Clone, Debug)]
pub struct LoginState {
    inner: Arc<Inner>,
    failures: Arc<web_common::FailureLimiter>,
}

#[derive(Debug)]
struct Inner {
    store: Store,
    config: LoginConfig,
    keys: Keys,
    providers: Providers,
    provider_threads: ProviderThreads,
}

/// What the CLI sends to `/login/{team}` for a loopback sign-in (RFC 8252): where to send
/// the browser at the end, its PKCE challenge, and its own state.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct CliRequest {
    /// `http://127.0.0.1:PORT/...` or `http://[::1]:PORT/...`.
    pub redirect: String,
    /// base64url SHA-256 of the CLI's code verifier (S256).
    pub challenge: String,
    /// The CLI's state, echoed back.
    pub state: String,
}

impl CliRequest {
    /// Checks the request: a loopback IP literal redirect over http with a port, a 43-char
    /// S256 challenge, a short URL-safe state.
    pub fn validate(&self) -> Result<(), LoginError> {
        let bad = |m: &str| Err(LoginError::BadRequest(m.to_owned()));
        let Ok(url) = openidconnect::url::Url::parse(&self.redirect) else {
            return bad("cli_redirect is not a URL");
        };
        let loopback = match url.host() {
            Some(openidconnect::url::Host::Ipv4(ip)) => ip.is_loopback(),
            Some(openidconnect::url::Host::Ipv6(ip)) => ip.is_loopback(),
            _ => false,
        };
        if url.scheme() != "http" || !loopback || url.port().is_none() || url.query().is_some() {
            return bad(
                "cli_redirect must be http://127.0.0.1:PORT/PATH or http://[::1]:PORT/PATH",
            );
        }
        let b64url = |s: &str| {
            s.chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
        };
        if self.challenge.len() != 43 || !b64url(&self.challenge) {
            return bad("cli_challenge must be the base64url SHA-256 of the code verifier");
        }
        if self.state.is_empty() || self.state.len() > 128 || !b64url(&self.state) {
            return bad("cli_state must be 1-128 URL-safe characters");
        }
        Ok(())
    }
}

/// A pending authorization, stored under the SHA-256 of its `state`.
#[derive(Serialize, Deserialize)]
struct AuthFlow {
    nonce: String,
    pkce_verifier: String,
    return_to: Option<String>,
    cli: Option<CliRequest>,
}

/// A one-time code handed to the CLI's loopback listener.
#[derive(Serialize, Deserialize)]
struct CodeFlow {
    user_id: String,
    user_name: String,
    challenge: String,
}

/// A device flow in progress.
#[derive(Serialize, Deserialize)]
struct DeviceFlow {
    device_code: String,
    interval: u64,
    next_poll: i64,
}

/// The query of `GET /callback`.
#[derive(Clone, Debug, Default, Deserialize)]
pub struct Callback {
    /// The authorization code.
    pub code: Option<String>,
    /// The state sent with the authorization request.
    pub state: Option<String>,
    /// The provider's error code.
    pub error: Option<String>,
    /// The provider's explanation.
    pub error_description: Option<String>,
}

/// A new browser session. The cookie carries its secret; the database keeps only the
/// secret's digest, so that logging out, a disable or an administrator can end it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Session {
    /// The session's secret (the session cookie's value).
    pub secret: String,
    /// Expiry, unix seconds.
    pub exp: i64,
}

/// The end of a successful callback.
#[derive(Clone, Debug)]
pub enum Finished {
    /// A browser sign-in: set the session, go to `return_to` (or `/me`).
    Web {
        /// The new session.
        session: Session,
        /// Where to go next (a local path).
        return_to: Option<String>,
    },
    /// A CLI sign-in: send the browser to the CLI's loopback listener.
    Cli {
        /// `cli_redirect?code=..&state=..`.
        redirect: String,
    },
}

/// A failed callback; for a CLI sign-in, where to tell the CLI.
#[derive(Debug)]
pub struct Failed {
    /// Why.
    pub error: LoginError,
    /// `cli_redirect?error=access_denied&error_description=..&state=..`, for CLI sign-ins.
    pub cli_redirect: Option<String>,
}

/// An access token issued to the CLI.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq, Eq, utoipa::ToSchema)]
pub struct IssuedToken {
    /// The sshward access token (a JWT).
    pub access_token: String,
    /// Always `Bearer`.
    pub token_type: String,
    /// Seconds until expiry.
    pub expires_in: i64,
    /// Expiry, unix seconds.
    pub expires_at: i64,
    /// The team's slug.
    pub team: String,
    /// SCIM id of the user.
    pub user_id: String,
    /// SCIM userName.
    pub user_name: String,
}

/// A device sign-in started for the CLI; field names as in RFC 8628 section 3.2, except
/// that `device_code` is sshward's own handle, not the provider's.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq, Eq, utoipa::ToSchema)]
pub struct DeviceStarted {
    /// The handle to poll `/login/token` with.
    pub device_code: String,
    /// The code the person enters at the provider.
    pub user_code: String,
    /// Where the person goes.
    pub verification_uri: String,
    /// The same with the code filled in, if offered.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub verification_uri_complete: Option<String>,
    /// Seconds until the codes expire.
    pub expires_in: u64,
    /// Minimum seconds between polls.
    pub interval: u64,
}

/// Who a session or access token belongs to, re-checked against the directory.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq, Eq, utoipa::ToSchema)]
pub struct Me {
    /// The team's slug.
    pub team: String,
    /// SCIM id.
    pub user_id: String,
    /// SCIM userName.
    pub user_name: String,
    /// SCIM displayName.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub display_name: Option<String>,
    /// When the session or token expires, unix seconds.
    pub expires_at: i64,
    /// `session` or `access-token`.
    pub auth: String,
}

fn now_unix() -> i64 {
    OffsetDateTime::now_utc().unix_timestamp()
}

/// Lower-case hex SHA-256: flows are stored under the digest of their secret key, so a
/// database reader cannot complete them.
fn digest(secret: &str) -> String {
    format!("{:x}", Sha256::digest(secret.as_bytes()))
}

/// 32 random bytes, base64url.
fn random_secret() -> Result<String, LoginError> {
    let mut bytes = [0u8; 32];
    getrandom::fill(&mut bytes).map_err(|e| LoginError::Internal(format!("random: {e}")))?;
    Ok(URL_SAFE_NO_PAD.encode(bytes))
}

/// True when `verifier`'s S256 challenge is `challenge` (RFC 7636), in constant time.
pub fn pkce_matches(verifier: &str, challenge: &str) -> bool {
    let computed = URL_SAFE_NO_PAD.encode(Sha256::digest(verifier.as_bytes()));
    computed.as_bytes().ct_eq(challenge.as_bytes()).into()
}

fn json<T: Serialize>(value: &T) -> Result<String, LoginError> {
    serde_json::to_string(value).map_err(|e| LoginError::Internal(e.to_string()))
}

fn parse<T: for<'de> Deserialize<'de>>(data: &str) -> Result<T, LoginError> {
    serde_json::from_str(data).map_err(|e| LoginError::Internal(format!("stored flow: {e}")))
}

fn team_login(tx: &mut Tx<'_>, team: Team) -> Result<TeamLogin, LoginError> {
    let oidc = tx.login().oidc(team.id)?;
    TeamLogin::resolve(team, &oidc)
}

/// The SCIM users an account links to.
fn lookup(
    tx: &mut Tx<'_>,
    team: TeamId,
    link: &LinkKey,
) -> Result<Vec<ResourceRecord>, LoginError> {
    match link {
        LinkKey::UserName(name) => Ok(tx
            .users()
            .get_by_user_name(team, name)?
            .into_iter()
            .collect()),
        LinkKey::ExternalId(oid) => {
            let filter = Filter::Compare {
                path: AttrPath::new("externalId"),
                op: CompareOp::Eq,
                value: CompValue::String(oid.clone()),
            };
            let filter = scim_core::filter::resolve(filter, ResourceKind::User)
                .map_err(|e| LoginError::Internal(e.to_string()))?;
            let query = ListQuery {
                filter: Some(&filter),
                count: Some(2),
                ..ListQuery::default()
            };
            Ok(tx.users().list(team, &query)?.items)
        }
    }
}

/// The user `user_id` of `team` if it still exists and is active.
fn still_active(tx: &mut Tx<'_>, team: TeamId, user_id: &str) -> Result<LinkedUser, LoginError> {
    let found: Vec<ResourceRecord> = tx.users().get(team, user_id)?.into_iter().collect();
    let account = check::Account {
        login_name: user_id.to_owned(),
        domain: String::new(),
        link: LinkKey::UserName(user_id.to_owned()),
    };
    check::check_directory(&account, &found).map_err(|d| {
        LoginError::Unauthenticated(format!("you are no longer allowed to sign in: {d}"))
    })
}

/// One audit entry of a sign-in attempt.
struct Attempt {
    team: Option<TeamId>,
    action: AuditAction,
    who: Option<String>,
    user: Option<String>,
}

impl LoginState {
    /// The sign-in over `store` with `config` and `keys`, with a failure limiter of its
    /// own at the default budgets.
    pub fn new(store: Store, config: LoginConfig, keys: Keys) -> LoginState {
        let providers = Providers::new(config.cache.clone());
        LoginState {
            inner: Arc::new(Inner {
                store,
                config,
                keys,
                providers,
                provider_threads: ProviderThreads::default(),
            }),
            failures: Arc::default(),
        }
    }

    /// This state counting failed sign-in codes, device codes and access tokens in
    /// `failures` (the process's one limiter, shared with the other APIs).
    pub fn with_failures(mut self, failures: Arc<web_common::FailureLimiter>) -> LoginState {
        self.failures = failures;
        self
    }

    /// The failure limiter.
    pub(crate) fn failures(&self) -> &Arc<web_common::FailureLimiter> {
        &self.failures
    }

    /// The settings.
    pub fn config(&self) -> &LoginConfig {
        &self.inner.config
    }

    /// The keys.
    pub fn keys(&self) -> &Keys {
        &self.inner.keys
    }

    /// Runs sign-in work that may call the identity provider off the database threads
    /// (see [`crate::provider_threads`]).
    pub async fn with_provider<T, F>(&self, f: F) -> Result<T, LoginError>
    where
        F: FnOnce() -> Result<T, LoginError> + Send + 'static,
        T: Send + 'static,
    {
        self.inner.provider_threads.run(f).await
    }

    /// Verifies an sshward access token and checks that its user still exists and is
    /// active. For the APIs that accept these tokens (certificate issuance, `/me`).
    pub fn authenticate_token(
        &self,
        token: &str,
    ) -> Result<(AccessClaims, LinkedUser), LoginError> {
        let claims = self
            .inner
            .keys
            .token
            .verify(token, &self.inner.config.public_url)?;
        let user = self.inner.store.read(|tx| -> Result<_, LoginError> {
            let team = tx.teams().get_by_slug(&claims.team)?.ok_or_else(|| {
                LoginError::Unauthenticated("the access token's team no longer exists".into())
            })?;
            let session = tx.sessions().live(&claims.jti)?;
            if session.is_none_or(|s| s.team != team.id || s.user_id != claims.sub) {
                return Err(LoginError::Unauthenticated(
                    "the access token's session has ended (signed out, disabled or ended by \
                     an administrator); sign in again with `sshward login`"
                        .into(),
                ));
            }
            still_active(tx, team.id, &claims.sub)
        })?;
        Ok((claims, user))
    }

    fn audit(&self, attempt: &Attempt, result: Result<String, &LoginError>) {
        let (status, summary) = match result {
            Ok(summary) => (200, summary),
            Err(e) => {
                let status = match e {
                    LoginError::Denied(_) | LoginError::Unauthenticated(_) => 403,
                    LoginError::Provider(_) => 502,
                    LoginError::BadRequest(_) => 400,
                    LoginError::NotConfigured { .. } | LoginError::Unsupported(_) => 409,
                    _ => 500,
                };
                let who = attempt.who.as_deref().unwrap_or("unknown account");
                (status, format!("{who}: {}", e.audit_reason()))
            }
        };
        let entry = AuditEntry {
            team: attempt.team,
            at: OffsetDateTime::now_utc(),
            actor: match (&attempt.user, &attempt.who) {
                (Some(id), _) => Actor::User(id.clone()),
                (None, Some(who)) => Actor::Account(who.clone()),
                (None, None) => Actor::Anonymous,
            },
            action: if status == 200 {
                attempt.action
            } else {
                AuditAction::LoginDenied
            },
            resource_type: attempt.user.as_ref().map(|_| "User".to_owned()),
            resource_id: attempt.user.clone(),
            status,
            summary,
        };
        if status == 200 {
            log::info!("{}: {}", entry.action, entry.summary);
        } else {
            log::warn!("sign-in refused: {}", entry.summary);
        }
        if let Err(e) = self.inner.store.write(|tx| tx.audit().append(&entry)) {
            log::error!("could not write the audit entry of a sign-in attempt: {e}");
        }
    }

    /// The resolved sign-in settings of the team `slug`.
    fn login_by_slug(&self, slug: &str) -> Result<TeamLogin, LoginError> {
        self.inner.store.read(|tx| -> Result<_, LoginError> {
            let team = tx
                .teams()
                .get_by_slug(slug)?
                .ok_or_else(|| LoginError::UnknownTeam(slug.to_owned()))?;
            team_login(tx, team)
        })
    }

    /// The resolved sign-in settings of the team `team`.
    fn login_by_id(&self, team: TeamId) -> Result<TeamLogin, LoginError> {
        self.inner.store.read(|tx| -> Result<_, LoginError> {
            let team = tx.teams().get(team)?;
            team_login(tx, team)
        })
    }

    /// Verifies `id_token` for the team and links it to an active SCIM user. `who` learns
    /// the account name as soon as it is known (for the audit log).
    fn complete(
        &self,
        login: &TeamLogin,
        id_token: &str,
        nonce: Option<&str>,
        who: &mut Option<String>,
    ) -> Result<LinkedUser, LoginError> {
        let expected = Expectations {
            issuer: &login.issuer,
            client_id: &login.client_id,
            nonce,
            now: now_unix(),
            leeway: i64::try_from(self.inner.config.clock_leeway.as_secs()).unwrap_or(60),
        };
        let claims = self.inner.providers.verify(id_token, &expected)?;
        *who = claims
            .preferred_username
            .clone()
            .or_else(|| claims.upn.clone())
            .or_else(|| claims.email.clone())
            .or_else(|| claims.oid.clone());
        let policy = TeamPolicy {
            tenant_id: login.tenant_id.as_ref().map(TenantId::as_str),
            allowed_domains: &login.team.allowed_domains,
            link_by: login.link_by,
        };
        let account = check::check_account(&claims, &policy)?;
        let found = self
            .inner
            .store
            .read(|tx| lookup(tx, login.team.id, &account.link))?;
        Ok(check::check_directory(&account, &found)?)
    }

    /// Starts a sign-in for team `slug`: stores the pending authorization (state, nonce,
    /// PKCE verifier) and returns the provider URL and the state (which the browser also
    /// keeps in a cookie, binding the callback to it).
    pub fn start(
        &self,
        slug: &str,
        cli: Option<CliRequest>,
        return_to: Option<String>,
    ) -> Result<(String, String), LoginError> {
        if let Some(cli) = &cli {
            cli.validate()?;
        }
        let store = &self.inner.store;
        let login = self.login_by_slug(slug)?;
        let discovery = self.inner.providers.discovery(&login.issuer)?;
        let auth = Providers::authorize(
            &discovery,
            &login.client_id,
            &self.inner.config.redirect_uri(),
        )?;
        let data = json(&AuthFlow {
            nonce: auth.nonce,
            pkce_verifier: auth.pkce_verifier,
            return_to,
            cli,
        })?;
        let now = OffsetDateTime::now_utc();
        let expires = now + self.inner.config.pending_ttl;
        store.write(|tx| -> Result<(), LoginError> {
            tx.login().purge_expired_flows(now)?;
            tx.login()
                .put_flow(&digest(&auth.state), AUTH, login.team.id, &data, expires)?;
            Ok(())
        })?;
        Ok((auth.url, auth.state))
    }

    /// Completes a sign-in at the callback. `browser_state` is the state kept in the
    /// browser's sign-in cookie. The pending authorization is consumed first, so a replayed
    /// state fails whatever happens next.
    pub fn finish(
        &self,
        callback: &Callback,
        browser_state: Option<&str>,
    ) -> Result<Finished, Failed> {
        let fail = |error: LoginError, cli: Option<&CliRequest>| Failed {
            cli_redirect: cli.map(|c| cli_error_redirect(c, &error)),
            error,
        };
        let mut attempt = Attempt {
            team: None,
            action: AuditAction::LoginSuccess,
            who: None,
            user: None,
        };
        let Some(state) = callback.state.as_deref().filter(|s| !s.is_empty()) else {
            let error = LoginError::BadRequest("the callback has no state parameter".into());
            return Err(fail(error, None));
        };
        let taken = self
            .inner
            .store
            .write(|tx| tx.login().take_flow(&digest(state), AUTH));
        let flow = match taken {
            Ok(Some(flow)) => flow,
            Ok(None) => {
                let error = LoginError::Denied(Denied::State);
                self.audit(&attempt, Err(&error));
                return Err(fail(error, None));
            }
            Err(e) => return Err(fail(e.into(), None)),
        };
        attempt.team = Some(flow.team);
        let data: AuthFlow = match parse(&flow.data) {
            Ok(d) => d,
            Err(e) => return Err(fail(e, None)),
        };
        let result = self.finish_flow(
            callback,
            browser_state,
            state,
            &flow.team,
            &data,
            &mut attempt,
        );
        let via = if data.cli.is_some() {
            Via::Loopback
        } else {
            Via::Web
        };
        match result {
            Ok((team, user)) => {
                attempt.user = Some(user.id.clone());
                self.audit(
                    &attempt,
                    Ok(format!(
                        "{} signed in ({}) as {}",
                        attempt.who.as_deref().unwrap_or("?"),
                        via.as_str(),
                        user.user_name
                    )),
                );
                match &data.cli {
                    Some(cli) => self
                        .cli_code(&team, &user, cli)
                        .map(|redirect| Finished::Cli { redirect })
                        .map_err(|e| fail(e, Some(cli))),
                    None => self
                        .start_session(&team, &user, Via::Web)
                        .map(|(secret, exp)| Finished::Web {
                            session: Session { secret, exp },
                            return_to: data.return_to.clone(),
                        })
                        .map_err(|e| fail(e, None)),
                }
            }
            Err(error) => {
                self.audit(&attempt, Err(&error));
                Err(fail(error, data.cli.as_ref()))
            }
        }
    }

    fn finish_flow(
        &self,
        callback: &Callback,
        browser_state: Option<&str>,
        state: &str,
        team: &TeamId,
        data: &AuthFlow,
        attempt: &mut Attempt,
    ) -> Result<(Team, LinkedUser), LoginError> {
        let same_browser =
            browser_state.is_some_and(|b| bool::from(b.as_bytes().ct_eq(state.as_bytes())));
        if !same_browser {
            return Err(Denied::Browser.into());
        }
        if let Some(error) = &callback.error {
            let detail = callback.error_description.as_deref().unwrap_or_default();
            return Err(Denied::Provider(format!("{error} {detail}").trim().to_owned()).into());
        }
        let code = callback
            .code
            .as_deref()
            .filter(|c| !c.is_empty())
            .ok_or_else(|| LoginError::BadRequest("the callback has no code parameter".into()))?;
        let login = self.login_by_id(*team)?;
        let credentials = login.credentials()?;
        let discovery = self.inner.providers.discovery(&login.issuer)?;
        let id_token = self.inner.providers.exchange_code(
            &discovery,
            &credentials,
            &self.inner.config.redirect_uri(),
            code,
            &data.pkce_verifier,
        )?;
        let user = self.complete(&login, &id_token, Some(&data.nonce), &mut attempt.who)?;
        Ok((login.team, user))
    }

    /// Stores a one-time code for the CLI and returns the loopback redirect carrying it.
    fn cli_code(
        &self,
        team: &Team,
        user: &LinkedUser,
        cli: &CliRequest,
    ) -> Result<String, LoginError> {
        let code = random_secret()?;
        let data = json(&CodeFlow {
            user_id: user.id.clone(),
            user_name: user.user_name.clone(),
            challenge: cli.challenge.clone(),
        })?;
        let expires = OffsetDateTime::now_utc() + time::Duration::seconds(CLI_CODE_TTL);
        self.inner.store.write(|tx| {
            tx.login()
                .put_flow(&digest(&code), CLI_CODE, team.id, &data, expires)
        })?;
        Ok(with_query(
            &cli.redirect,
            &[("code", &code), ("state", &cli.state)],
        ))
    }

    /// Starts a server-side session of `user` (its secret and expiry, unix seconds): a
    /// browser's for [`Via::Web`], else the one behind a CLI access token.
    fn start_session(
        &self,
        team: &Team,
        user: &LinkedUser,
        via: Via,
    ) -> Result<(String, i64), LoginError> {
        let config = &self.inner.config;
        let ttl = match via {
            Via::Web => config.session_ttl,
            Via::Loopback | Via::Device => config.access_token_ttl,
        };
        let exp = now_unix() + i64::try_from(ttl.as_secs()).unwrap_or(3600);
        let secret = random_secret()?;
        let expires = OffsetDateTime::from_unix_timestamp(exp)
            .map_err(|e| LoginError::Internal(format!("session expiry: {e}")))?;
        self.inner.store.write(|tx| {
            tx.sessions()
                .start(&secret, team.id, &user.id, via.as_str(), expires)
        })?;
        Ok((secret, exp))
    }

    fn issue(&self, team: &Team, user: &LinkedUser, via: Via) -> Result<IssuedToken, LoginError> {
        let now = now_unix();
        // The token's id is its session's secret: ending the session ends the token.
        let (jti, exp) = self.start_session(team, user, via)?;
        let ttl = exp - now;
        let team = team.slug.as_str();
        let claims = AccessClaims {
            iss: self.inner.config.public_url.clone(),
            aud: AUDIENCE.to_owned(),
            sub: user.id.clone(),
            team: team.to_owned(),
            user_name: user.user_name.clone(),
            iat: now,
            exp,
            jti,
            via,
        };
        Ok(IssuedToken {
            access_token: self.inner.keys.token.issue(&claims)?,
            token_type: "Bearer".into(),
            expires_in: ttl,
            expires_at: claims.exp,
            team: team.to_owned(),
            user_id: user.id.clone(),
            user_name: user.user_name.clone(),
        })
    }

    /// Redeems a CLI code with its PKCE verifier for an access token (once).
    pub fn redeem_code(&self, code: &str, verifier: &str) -> Result<IssuedToken, LoginError> {
        let store = &self.inner.store;
        let flow = store.write(|tx| tx.login().take_flow(&digest(code), CLI_CODE))?;
        let mut attempt = Attempt {
            team: flow.as_ref().map(|f| f.team),
            action: AuditAction::LoginToken,
            who: None,
            user: None,
        };
        let result = (|| {
            let flow = flow.ok_or(Denied::Code)?;
            let data: CodeFlow = parse(&flow.data)?;
            attempt.who = Some(data.user_name.clone());
            if !pkce_matches(verifier, &data.challenge) {
                return Err(Denied::Code.into());
            }
            let (team, user) = store.read(|tx| -> Result<_, LoginError> {
                let team = tx.teams().get(flow.team)?;
                let user = still_active(tx, team.id, &data.user_id)?;
                Ok((team, user))
            })?;
            attempt.user = Some(user.id.clone());
            self.issue(&team, &user, Via::Loopback)
        })();
        match &result {
            Ok(t) => self.audit(
                &attempt,
                Ok(format!(
                    "access token issued to {} (loopback), valid until {}",
                    t.user_name, t.expires_at
                )),
            ),
            Err(e) => self.audit(&attempt, Err(e)),
        }
        result
    }

    /// Starts a device sign-in for team `slug` at its provider.
    pub fn device_start(&self, slug: &str) -> Result<DeviceStarted, LoginError> {
        let store = &self.inner.store;
        let login = self.login_by_slug(slug)?;
        let discovery = self.inner.providers.discovery(&login.issuer)?;
        let start = self
            .inner
            .providers
            .device_authorize(&discovery, &login.client_id)?;
        let handle = random_secret()?;
        let interval = start.interval.as_secs().max(1);
        let expires_in = start.expires_in.as_secs().clamp(1, DEVICE_MAX_SECS);
        let data = json(&DeviceFlow {
            device_code: start.device_code,
            interval,
            next_poll: now_unix(),
        })?;
        let expires = OffsetDateTime::now_utc() + time::Duration::seconds(expires_in as i64);
        store.write(|tx| {
            tx.login()
                .put_flow(&digest(&handle), DEVICE, login.team.id, &data, expires)
        })?;
        Ok(DeviceStarted {
            device_code: handle,
            user_code: start.user_code,
            verification_uri: start.verification_uri,
            verification_uri_complete: start.verification_uri_complete,
            expires_in,
            interval,
        })
    }

    /// One poll of a device sign-in: [`LoginError::Pending`] until the person finishes at
    /// the provider, then an access token (once).
    pub fn device_poll(&self, handle: &str) -> Result<IssuedToken, LoginError> {
        let store = &self.inner.store;
        let key = digest(handle);
        let flow = store
            .read(|tx| tx.login().get_flow(&key, DEVICE))?
            .ok_or(Denied::Code)?;
        let mut data: DeviceFlow = parse(&flow.data)?;
        let now = now_unix();
        if now < data.next_poll {
            return Err(LoginError::Pending { slow_down: true });
        }
        let login = self.login_by_id(flow.team)?;
        let save = |data: &DeviceFlow| {
            store.write(|tx| {
                tx.login()
                    .update_flow(&key, &json(data)?)
                    .map_err(LoginError::from)
            })
        };
        data.next_poll = now + data.interval as i64;
        save(&data)?;
        let discovery = self.inner.providers.discovery(&login.issuer)?;
        let mut attempt = Attempt {
            team: Some(flow.team),
            action: AuditAction::LoginSuccess,
            who: None,
            user: None,
        };
        let poll =
            self.inner
                .providers
                .device_poll(&discovery, &login.client_id, &data.device_code);
        let result = match poll {
            Ok(DevicePoll::Pending { slow_down }) => {
                if slow_down {
                    data.interval += 5;
                    data.next_poll = now + data.interval as i64;
                    save(&data)?;
                }
                return Err(LoginError::Pending { slow_down });
            }
            Ok(DevicePoll::IdToken(id_token)) => store
                .write(|tx| tx.login().take_flow(&key, DEVICE))
                .map_err(LoginError::from)
                .and_then(|taken| taken.ok_or(LoginError::Denied(Denied::Code)))
                .and_then(|_| self.complete(&login, &id_token, None, &mut attempt.who)),
            Err(e) => {
                if let Err(e) = store.write(|tx| tx.login().take_flow(&key, DEVICE)) {
                    log::warn!("could not drop a failed device flow: {e}");
                }
                Err(e)
            }
        };
        match result.and_then(|user| {
            attempt.user = Some(user.id.clone());
            self.issue(&login.team, &user, Via::Device)
        }) {
            Ok(token) => {
                let who = attempt.who.clone().unwrap_or_default();
                self.audit(
                    &attempt,
                    Ok(format!(
                        "{who} signed in (device) as {}; access token valid until {}",
                        token.user_name, token.expires_at
                    )),
                );
                Ok(token)
            }
            Err(e) => {
                self.audit(&attempt, Err(&e));
                Err(e)
            }
        }
    }

    /// Who the browser session with this secret belongs to, if it has not ended and its
    /// user still exists and is active: one indexed lookup.
    pub fn session_user(&self, secret: &str) -> Result<Me, LoginError> {
        let (team, session, user) = self.inner.store.read(|tx| -> Result<_, LoginError> {
            let ended = || {
                LoginError::Unauthenticated(
                    "your session has ended or expired; sign in again".into(),
                )
            };
            let session = tx.sessions().live(secret)?.ok_or_else(ended)?;
            let team = tx.teams().get(session.team)?;
            let user = still_active(tx, team.id, &session.user_id)?;
            Ok((team, session, user))
        })?;
        Ok(Me {
            team: team.slug,
            user_id: user.id,
            user_name: user.user_name,
            display_name: user.display_name,
            expires_at: session.expires.unix_timestamp(),
            auth: "session".into(),
        })
    }

    /// Ends the browser session with secret `session` and the session of the access
    /// token `token` (whichever are given and live), audited as `login.logout`. Returns
    /// how many ended.
    pub fn logout(&self, session: Option<&str>, token: Option<&str>) -> Result<usize, LoginError> {
        let jti = token.and_then(|t| {
            self.inner
                .keys
                .token
                .verify(t, &self.inner.config.public_url)
                .ok()
                .map(|claims| claims.jti)
        });
        let ended = self.inner.store.write(|tx| -> Result<_, LoginError> {
            let mut ended = Vec::new();
            for secret in [session, jti.as_deref()].into_iter().flatten() {
                if let Some(record) = tx.sessions().end(secret)? {
                    ended.push(record);
                }
            }
            Ok(ended)
        })?;
        for record in &ended {
            let attempt = Attempt {
                team: Some(record.team),
                action: AuditAction::LoginLogout,
                who: None,
                user: Some(record.user_id.clone()),
            };
            self.audit(&attempt, Ok(format!("signed out ({} session)", record.via)));
        }
        Ok(ended.len())
    }

    /// Who an access token belongs to (see [`LoginState::authenticate_token`]).
    pub fn token_user(&self, token: &str) -> Result<Me, LoginError> {
        let (claims, user) = self.authenticate_token(token)?;
        Ok(Me {
            team: claims.team,
            user_id: user.id,
            user_name: user.user_name,
            display_name: user.display_name,
            expires_at: claims.exp,
            auth: "access-token".into(),
        })
    }
}

/// `base` with `pairs` appended as query parameters.
fn with_query(base: &str, pairs: &[(&str, &str)]) -> String {
    match openidconnect::url::Url::parse(base) {
        Ok(mut url) => {
            url.query_pairs_mut().extend_pairs(pairs.iter().copied());
            url.to_string()
        }
        Err(_) => base.to_owned(),
    }
}

/// The loopback redirect that tells the CLI why its sign-in failed.
fn cli_error_redirect(cli: &CliRequest, error: &LoginError) -> String {
    let code = match error {
        LoginError::Denied(_) | LoginError::Unauthenticated(_) => "access_denied",
        LoginError::BadRequest(_) => "invalid_request",
        _ => "server_error",
    };
    with_query(
        &cli.redirect,
        &[
            ("error", code),
            ("error_description", &error.to_string()),
            ("state", &cli.state),
        ],
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pkce_s256() {
        // RFC 7636 appendix B.
        assert!(pkce_matches(
            "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk",
            "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM"
        ));
        assert!(!pkce_matches(
            "other",
            "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM"
        ));
    }

    #[test]
    fn cli_requests_are_checked() {
        let ok = CliRequest {
            redirect: "http://127.0.0.1:49152/callback".into(),
            challenge: "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM".into(),
            state: "abc".into(),
        };
        assert!(ok.validate().is_ok());
        assert!(
            CliRequest {
                redirect: "http://[::1]:5000/cb".into(),
                ..ok.clone()
            }
            .validate()
            .is_ok()
        );
        for bad in [
            "http://localhost:5000/cb",
            "https://127.0.0.1:5000/cb",
            "http://127.0.0.1/cb",
            "http://evil.example:5000/cb",
            "http://127.0.0.1:5000/cb?x=1",
        ] {
            let r = CliRequest {
                redirect: bad.into(),
                ..ok.clone()
            };
            assert!(r.validate().is_err(), "{bad}");
        }
        assert!(
            CliRequest {
                challenge: "short".into(),
                ..ok.clone()
            }
            .validate()
            .is_err()
        );
        assert!(
            CliRequest {
                state: "".into(),
                ..ok
            }
            .validate()
            .is_err()
        );
    }

    #[test]
    fn error_redirect_carries_state_and_reason() {
        let cli = CliRequest {
            redirect: "http://127.0.0.1:5000/callback".into(),
            challenge: "x".repeat(43),
            state: "s1".into(),
        };
        let url = cli_error_redirect(&cli, &LoginError::Denied(Denied::NoDomains));
        assert!(url.starts_with("http://127.0.0.1:5000/callback?error=access_denied&"));
        assert!(url.ends_with("&state=s1"));
    }
}
