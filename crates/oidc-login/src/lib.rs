//! Sign-in to sshward with Microsoft Entra ID (OpenID Connect), in a browser and from the
//! CLI.
//!
//! # What it does
//!
//! - [`configure`] mounts `GET /login/{team}` (authorization code flow with PKCE S256,
//!   state and nonce), `GET /callback`, `POST /logout`, `GET /me`, and the CLI's API:
//!   `POST /login/token` (loopback code or device poll) and `POST /login/{team}/device`.
//! - An ID token is accepted only when every check of [`check`] passes, each with its own
//!   [`Denied`] reason: signature (the provider's JWKS), issuer, audience, expiry and
//!   not-before (with [`LoginConfig::clock_leeway`]), nonce, `tid` equal to the team's
//!   tenant, the account's domain on the team's allow list, and an active SCIM user of the
//!   team linked by `preferred_username`/`upn` = `userName` (ignoring case) or, per team,
//!   `oid` = `externalId`. Authorisation comes from the SCIM directory; the token's
//!   `groups` claim is never read.
//! - Every attempt that reaches a decision is in the audit log (`login.success`,
//!   `login.token`, `login.denied`) with its reason, never with a token or code.
//! - The CLI (feature `cli`, module `client`) signs in through a loopback redirect or the
//!   device authorization grant and keeps an sshward access token (crate `access-token`).
//!
//! # Decisions
//!
//! - **Who talks to the provider:** always the server. The CLI never sees the client
//!   secret or an ID token: a loopback sign-in goes through `/login/{team}` like a browser
//!   sign-in, and the server hands the CLI a one-time code bound to the CLI's own PKCE
//!   challenge (RFC 8252 + RFC 7636 between the CLI and sshward). The device flow is
//!   brokered the same way: the server starts it at the provider and polls once per CLI
//!   poll, so any instance behind a load balancer can answer.
//! - **openidconnect and jsonwebtoken:** `openidconnect` builds the authorization request,
//!   exchanges the code and starts the device authorization, over a small `ureq` adapter
//!   (one TLS stack: rustls with ring, webpki roots). ID tokens are verified with
//!   `jsonwebtoken` against our own JWKS cache, because the checks need an injectable
//!   clock with leeway (openidconnect has none), a precise error per claim, tokens without
//!   `kid` (some providers omit it), and one key-set refresh on an unknown key.
//!   (openidconnect's verifier would cope with the test provider's quirks, a token without
//!   `kid` against a one-key JWKS and `aud` as a list; it was not chosen for the reasons
//!   above.) Discovery is read into a small struct of ours rather than with
//!   `ProviderMetadata::discover`, which also fetches the JWKS (cached separately here) and
//!   insists on fields sshward does not use. The device grant is polled once per CLI
//!   request with a plain RFC 8628 form POST, because openidconnect only offers a blocking
//!   polling loop.
//! - **JWKS cache:** per issuer, refreshed after an hour, and at once (at most once per
//!   [`CacheSettings::jwks_min_refresh`]) when a token names an unknown `kid`, or carries
//!   no `kid` and no cached key verifies it; a provider outage keeps the last good keys.
//! - **Pending state lives in the database** (`login_flows`, keyed by the SHA-256 of the
//!   state, code or handle), so several instances share it; taking a flow deletes it, so a
//!   replayed state or code fails. The browser also keeps the state in an encrypted cookie
//!   scoped to `/callback`: a callback completes only in the browser that started it.
//! - **Cookies:** HttpOnly, SameSite=Lax, Secure when the public URL is https, with a
//!   Max-Age. The sign-in cookie is encrypted and authenticated (`cookie`'s private jar,
//!   AES-256-GCM) with a 64-byte key from the configuration or generated once into the
//!   database; the session cookie holds only the session's random secret.
//! - **Sessions are server-side** (store table `login_sessions`, keyed by the SHA-256 of
//!   the session's secret): the session cookie holds a browser session's secret, and an
//!   access token's `jti` is its session's secret. Every request looks its session up
//!   (one primary-key lookup) and re-checks the directory, so logging out, a disable or
//!   delete from Entra, or an administrator ends sessions and tokens on every instance.
//! - **Client secrets are never stored:** the team keeps a reference, `file:PATH` or
//!   `env:NAME`, read when a code is exchanged.
//! - **Issuer:** `https://login.microsoftonline.com/{tenant}/v2.0` unless overridden; an
//!   override must be https (plain http only to loopback). With an override and no tenant
//!   ID the `tid` check is skipped: the issuer alone identifies the tenant then.
//! - **Allow list:** exact domains of the account name (`preferred_username`, then `upn`;
//!   `email` only when neither is present, since Entra does not verify it). An empty list
//!   lets nobody in.

pub mod check;
#[cfg(feature = "cli")]
pub mod client;
mod error;
mod flow;
mod provider;
pub mod provider_threads;
mod settings;
pub mod web;

pub use error::{Denied, LoginError};
pub use flow::{
    Callback, CliRequest, DeviceStarted, Finished, IssuedToken, LoginState, Me, Session,
    pkce_matches,
};
pub use provider::{CacheSettings, ClientCredentials, Discovery, HttpClient, Providers};
pub use settings::{Keys, LoginConfig, TeamLogin, decode_key};
pub use web::{LOGIN_COOKIE, SESSION_COOKIE, configure};
