//! The crate's errors: [`Denied`] says precisely why a sign-in was refused (shown to the
//! person and written to the log and the audit log); [`LoginError`] is everything a
//! sign-in can fail with. They become HTTP answers only in `web.rs`.

use store::StoreError;

/// Why a sign-in was refused. `Display` is the sentence shown to the person signing in;
/// [`Denied::code`] is a stable machine-readable name used in the audit log and in JSON
/// answers. None of them ever contains a token, a code or a secret.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum Denied {
    /// The ID token is not a well-formed JWT, or its claims are not JSON of the right shape.
    #[error("the identity provider's ID token is malformed: {0}")]
    Malformed(String),
    /// The token is signed with an algorithm we do not accept (`none`, HMAC, ...).
    #[error("the ID token uses the signing algorithm {0}, which is not accepted")]
    Algorithm(String),
    /// The token names a key (`kid`) that is not in the provider's key set, even after
    /// fetching the key set again.
    #[error("the ID token is signed with an unknown key (kid {0:?})")]
    UnknownKey(String),
    /// The signature does not verify with the provider's keys: forged or altered token.
    #[error("the ID token's signature is not valid")]
    BadSignature,
    /// `iss` is not the team's issuer.
    #[error("the ID token was issued by {actual:?}, expected {expected:?}")]
    Issuer {
        /// The issuer the team trusts.
        expected: String,
        /// The token's `iss`.
        actual: String,
    },
    /// `aud` does not contain the team's client ID.
    #[error("the ID token is meant for {actual:?}, not for this application ({expected:?})")]
    Audience {
        /// The team's client ID.
        expected: String,
        /// The token's `aud`, as JSON.
        actual: String,
    },
    /// `exp` is in the past (beyond the allowed clock skew).
    #[error("the ID token expired at {0} (unix time)")]
    Expired(i64),
    /// `nbf` is in the future (beyond the allowed clock skew).
    #[error("the ID token is not valid before {0} (unix time)")]
    NotYetValid(i64),
    /// A claim that must be there is missing.
    #[error("the ID token has no {0:?} claim")]
    MissingClaim(&'static str),
    /// `nonce` is not the one sent with this sign-in: a token from another sign-in.
    #[error("the ID token's nonce does not match this sign-in (a token from another sign-in)")]
    Nonce,
    /// `tid` is not the team's Entra tenant.
    #[error(
        "you signed in with an account of tenant {actual:?}; this team accepts tenant {expected:?}"
    )]
    Tenant {
        /// The team's tenant ID.
        expected: String,
        /// The token's `tid` (empty when absent).
        actual: String,
    },
    /// The account's domain is not on the team's allow list.
    #[error("accounts of the domain {domain:?} may not sign in to this team")]
    Domain {
        /// The domain of the account name.
        domain: String,
    },
    /// The team allows no domain at all (nothing configured yet).
    #[error(
        "this team allows no email domain yet (an administrator sets them with `sshward team set --domains`)"
    )]
    NoDomains,
    /// No SCIM user of the team matches the account.
    #[error("{0:?} is not provisioned in this team's directory")]
    NotProvisioned(String),
    /// The SCIM user exists but is not active (disabled or soft-deleted in Entra).
    #[error("{0:?} is disabled in this team's directory")]
    Disabled(String),
    /// More than one SCIM user matches the account's object ID.
    #[error("more than one user of this team has the externalId {0:?}")]
    Ambiguous(String),
    /// The `state` of the callback is unknown, used already, or expired.
    #[error("this sign-in link is unknown, expired or was used already; start again")]
    State,
    /// The callback came to a browser that did not start this sign-in (login CSRF).
    #[error("this sign-in was started in another browser; start again")]
    Browser,
    /// The provider answered the authorization request with an error.
    #[error("the identity provider refused the sign-in: {0}")]
    Provider(String),
    /// A CLI code or device handle is unknown, used already, expired, or its PKCE proof is
    /// wrong.
    #[error("the sign-in code is unknown, expired, used already, or its verifier is wrong")]
    Code,
}

impl Denied {
    /// A stable name for the reason: `bad_signature`, `wrong_tenant`, `not_provisioned`, ...
    pub fn code(&self) -> &'static str {
        match self {
            Denied::Malformed(_) => "malformed_token",
            Denied::Algorithm(_) => "bad_algorithm",
            Denied::UnknownKey(_) => "unknown_key",
            Denied::BadSignature => "bad_signature",
            Denied::Issuer { .. } => "wrong_issuer",
            Denied::Audience { .. } => "wrong_audience",
            Denied::Expired(_) => "expired",
            Denied::NotYetValid(_) => "not_yet_valid",
            Denied::MissingClaim(_) => "missing_claim",
            Denied::Nonce => "wrong_nonce",
            Denied::Tenant { .. } => "wrong_tenant",
            Denied::Domain { .. } => "domain_not_allowed",
            Denied::NoDomains => "no_domains_allowed",
            Denied::NotProvisioned(_) => "not_provisioned",
            Denied::Disabled(_) => "disabled",
            Denied::Ambiguous(_) => "ambiguous_user",
            Denied::State => "unknown_state",
            Denied::Browser => "wrong_browser",
            Denied::Provider(_) => "provider_error",
            Denied::Code => "invalid_code",
        }
    }
}

/// Everything a sign-in can fail with.
#[derive(Debug, thiserror::Error)]
pub enum LoginError {
    /// The sign-in was refused for the reason given.
    #[error(transparent)]
    Denied(#[from] Denied),
    /// No team with this slug.
    #[error("there is no team {0:?}")]
    UnknownTeam(String),
    /// The team's sign-in is not configured (tenant, client ID or secret missing, bad
    /// issuer); the message says what to set.
    #[error("sign-in is not configured for team {team:?}: {problem}")]
    NotConfigured {
        /// The team's slug.
        team: String,
        /// What is missing.
        problem: String,
    },
    /// The request is malformed (a missing or invalid parameter).
    #[error("{0}")]
    BadRequest(String),
    /// No session, or an invalid, expired or revoked session or access token.
    #[error("{0}")]
    Unauthenticated(String),
    /// The identity provider could not be reached or answered something unusable.
    #[error("the identity provider is unavailable: {0}")]
    Provider(String),
    /// The operation is not offered (for example the device flow with a provider that
    /// lacks it).
    #[error("{0}")]
    Unsupported(String),
    /// A device sign-in is still waiting for the person (RFC 8628 `authorization_pending`);
    /// `slow_down` when the client polls too often.
    #[error("the sign-in is not finished yet")]
    Pending {
        /// Poll less often (RFC 8628 `slow_down`).
        slow_down: bool,
    },
    /// The client's address failed to authenticate too often; the code or token was not
    /// checked.
    #[error(transparent)]
    TooManyFailures(#[from] web_common::Refused),
    /// The database failed.
    #[error("database: {0}")]
    Store(#[from] StoreError),
    /// Anything else that is our fault.
    #[error("internal error: {0}")]
    Internal(String),
}

impl From<web_common::BlockingFailed> for LoginError {
    fn from(err: web_common::BlockingFailed) -> Self {
        LoginError::Internal(err.to_string())
    }
}

impl LoginError {
    /// The reason to record in the audit log for a failed attempt.
    pub fn audit_reason(&self) -> String {
        match self {
            LoginError::Denied(d) => format!("{}: {d}", d.code()),
            other => other.to_string(),
        }
    }
}

impl From<access_token::TokenError> for LoginError {
    fn from(err: access_token::TokenError) -> Self {
        match err {
            access_token::TokenError::Invalid(why) => LoginError::Unauthenticated(why.to_owned()),
            access_token::TokenError::Key(message) => LoginError::Internal(message),
        }
    }
}
