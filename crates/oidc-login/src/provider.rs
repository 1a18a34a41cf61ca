//! Talking to the identity provider: discovery and JWKS with a cache, the authorization
//! URL, the code exchange, and the device authorization grant (RFC 8628).
//!
//! `openidconnect` builds the authorization request (PKCE S256, state, nonce) and performs
//! the code exchange and the device authorization request over a small adapter on `ureq`
//! (rustls with ring, webpki roots: https issuers work, one TLS stack). ID tokens are then
//! verified by [`crate::check`] with `jsonwebtoken`, against the key set cached here.
//!
//! All calls block; the web handlers run them on actix's blocking pool.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use openidconnect::core::{CoreAuthenticationFlow, CoreClient, CoreJsonWebKeySet};
use openidconnect::{
    AuthUrl, AuthorizationCode, ClientId, ClientSecret, CsrfToken, DeviceAuthorizationUrl,
    IssuerUrl, Nonce, PkceCodeChallenge, PkceCodeVerifier, RedirectUrl, RequestTokenError, Scope,
    TokenResponse, TokenUrl,
};
use serde::Deserialize;

use crate::check::{self, Expectations, IdClaims, KeySet};
use crate::error::{Denied, LoginError};

/// Largest provider answer read (discovery, JWKS, token responses).
const MAX_BODY: u64 = 1024 * 1024;

/// The scopes requested: `profile` brings `preferred_username` and `name`, `email` the
/// email address.
pub const SCOPES: [&str; 2] = ["profile", "email"];

/// Cache lifetimes and limits for provider metadata.
#[derive(Clone, Debug)]
pub struct CacheSettings {
    /// Discovery documents are fetched again after this long.
    pub discovery_max_age: Duration,
    /// Key sets are fetched again after this long (Entra rolls keys over weeks, announcing
    /// new ones in advance).
    pub jwks_max_age: Duration,
    /// A token with an unknown `kid` (or, without `kid`, a signature that no cached key
    /// verifies) fetches the key set again at most this often per issuer.
    pub jwks_min_refresh: Duration,
    /// Timeout of one request to the provider.
    pub http_timeout: Duration,
}

impl Default for CacheSettings {
    fn default() -> Self {
        CacheSettings {
            discovery_max_age: Duration::from_secs(24 * 3600),
            jwks_max_age: Duration::from_secs(3600),
            jwks_min_refresh: Duration::from_secs(60),
            http_timeout: Duration::from_secs(15),
        }
    }
}

/// The blocking HTTP client used for the provider (`ureq` with rustls): no redirects
/// followed, answers of any status handed back to the caller.
#[derive(Clone, Debug)]
pub struct HttpClient {
    agent: ureq::Agent,
}

/// A transport failure talking to the provider.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct HttpError(String);

impl HttpClient {
    /// A client whose every request gives up after `timeout`.
    pub fn new(timeout: Duration) -> HttpClient {
        let agent = ureq::Agent::config_builder()
            .timeout_global(Some(timeout))
            .http_status_as_error(false)
            .max_redirects(0)
            .user_agent(concat!("sshward/", env!("CARGO_PKG_VERSION")))
            .build()
            .new_agent();
        HttpClient { agent }
    }

    /// GETs `url`; the body of a 200 answer, an error for anything else.
    pub fn get(&self, url: &str) -> Result<Vec<u8>, String> {
        let mut response = self
            .agent
            .get(url)
            .header("Accept", "application/json")
            .call()
            .map_err(|e| format!("GET {url}: {e}"))?;
        let status = response.status();
        if status != 200 {
            return Err(format!("GET {url}: HTTP {status}"));
        }
        response
            .body_mut()
            .with_config()
            .limit(MAX_BODY)
            .read_to_vec()
            .map_err(|e| format!("GET {url}: {e}"))
    }

    /// POSTs a form to `url`; the status and the JSON body (`Null` when not JSON).
    pub fn post_form(
        &self,
        url: &str,
        form: &[(&str, &str)],
    ) -> Result<(u16, serde_json::Value), String> {
        let mut response = self
            .agent
            .post(url)
            .header("Accept", "application/json")
            .send_form(form.iter().copied())
            .map_err(|e| format!("POST {url}: {e}"))?;
        let status = response.status().as_u16();
        let body = response
            .body_mut()
            .with_config()
            .limit(MAX_BODY)
            .read_to_vec()
            .map_err(|e| format!("POST {url}: {e}"))?;
        Ok((status, serde_json::from_slice(&body).unwrap_or_default()))
    }
}

impl openidconnect::SyncHttpClient for HttpClient {
    type Error = HttpError;

    fn call(
        &self,
        request: openidconnect::HttpRequest,
    ) -> Result<openidconnect::HttpResponse, HttpError> {
        let response = self
            .agent
            .run(request)
            .map_err(|e| HttpError(e.to_string()))?;
        let (parts, mut body) = response.into_parts();
        let bytes = body
            .with_config()
            .limit(MAX_BODY)
            .read_to_vec()
            .map_err(|e| HttpError(e.to_string()))?;
        Ok(openidconnect::http::Response::from_parts(parts, bytes))
    }
}

/// The parts of a discovery document that sshward uses.
#[derive(Clone, Debug, Deserialize, PartialEq, Eq)]
pub struct Discovery {
    /// Must equal the issuer it was fetched for.
    pub issuer: String,
    /// Where the browser is sent.
    pub authorization_endpoint: String,
    /// Where codes are exchanged.
    pub token_endpoint: String,
    /// The key set.
    pub jwks_uri: String,
    /// RFC 8628 device authorization endpoint, when offered.
    #[serde(default)]
    pub device_authorization_endpoint: Option<String>,
}

/// The client credentials of a team.
#[derive(Clone)]
pub struct ClientCredentials {
    /// Client ID.
    pub client_id: String,
    /// Client secret (never logged; `Debug` hides it).
    pub client_secret: String,
}

impl std::fmt::Debug for ClientCredentials {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ClientCredentials")
            .field("client_id", &self.client_id)
            .field("client_secret", &"<hidden>")
            .finish()
    }
}

/// A started authorization: the URL to send the browser to and the secrets to keep.
#[derive(Clone, Debug)]
pub struct Authorization {
    /// The provider's authorization URL with every parameter.
    pub url: String,
    /// The `state` parameter.
    pub state: String,
    /// The `nonce` parameter.
    pub nonce: String,
    /// The PKCE verifier for the code exchange.
    pub pkce_verifier: String,
}

/// A device authorization started at the provider (RFC 8628 section 3.2).
#[derive(Clone, Debug)]
pub struct DeviceStart {
    /// The provider's device code (secret).
    pub device_code: String,
    /// The code the person types.
    pub user_code: String,
    /// Where the person goes.
    pub verification_uri: String,
    /// The same with the code filled in, if offered.
    pub verification_uri_complete: Option<String>,
    /// Lifetime of the codes.
    pub expires_in: Duration,
    /// Minimum polling interval.
    pub interval: Duration,
}

/// The answer to one device-token poll.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum DevicePoll {
    /// The person finished: the ID token.
    IdToken(String),
    /// Not yet (`authorization_pending`), or too fast (`slow_down`).
    Pending {
        /// The provider asked to slow down.
        slow_down: bool,
    },
}

#[derive(Default)]
struct Cached {
    discovery: Option<(Arc<Discovery>, Instant)>,
    keys: Option<(Arc<KeySet>, Instant)>,
    last_forced: Option<Instant>,
    /// When a request started fetching the discovery document (none is fetching: `None`).
    fetching_discovery: Option<Instant>,
    /// When a request started fetching the key set.
    fetching_keys: Option<Instant>,
}

/// Providers by issuer, with their discovery documents and key sets cached. Shared by
/// every worker; `Send + Sync`.
pub struct Providers {
    http: HttpClient,
    settings: CacheSettings,
    cache: Mutex<HashMap<String, Arc<Mutex<Cached>>>>,
}

impl std::fmt::Debug for Providers {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Providers")
            .field("settings", &self.settings)
            .finish()
    }
}

fn provider_error(issuer: &str, what: impl std::fmt::Display) -> LoginError {
    LoginError::Provider(format!("{issuer}: {what}"))
}

impl Providers {
    /// An empty cache.
    pub fn new(settings: CacheSettings) -> Providers {
        Providers {
            http: HttpClient::new(settings.http_timeout),
            settings,
            cache: Mutex::new(HashMap::new()),
        }
    }

    /// The HTTP client.
    pub fn http(&self) -> &HttpClient {
        &self.http
    }

    fn entry(&self, issuer: &str) -> Arc<Mutex<Cached>> {
        let mut map = self.cache.lock().unwrap_or_else(|p| p.into_inner());
        map.entry(issuer.to_owned()).or_default().clone()
    }

    /// True while a fetch that started at `started` may still be running (it ends within
    /// the HTTP timeout; after that it is taken as lost).
    fn in_flight(&self, started: Option<Instant>) -> bool {
        started.is_some_and(|t| t.elapsed() < self.settings.http_timeout * 2)
    }

    /// The issuer's discovery document, fetched when missing or older than
    /// [`CacheSettings::discovery_max_age`]; a stale copy is used while the provider is
    /// unreachable, and while another request fetches a new one. No lock is held during
    /// the fetch: a slow provider delays only the requests that have nothing cached.
    pub fn discovery(&self, issuer: &str) -> Result<Arc<Discovery>, LoginError> {
        let entry = self.entry(issuer);
        let stale = {
            let mut cached = entry.lock().unwrap_or_else(|p| p.into_inner());
            match &cached.discovery {
                Some((doc, at)) if at.elapsed() < self.settings.discovery_max_age => {
                    return Ok(doc.clone());
                }
                Some((doc, _)) if self.in_flight(cached.fetching_discovery) => {
                    return Ok(doc.clone());
                }
                _ => {}
            }
            cached.fetching_discovery = Some(Instant::now());
            cached.discovery.as_ref().map(|(doc, _)| doc.clone())
        };
        let fetched = self.fetch_discovery(issuer);
        let mut cached = entry.lock().unwrap_or_else(|p| p.into_inner());
        cached.fetching_discovery = None;
        match fetched {
            Ok(doc) => {
                let doc = Arc::new(doc);
                cached.discovery = Some((doc.clone(), Instant::now()));
                Ok(doc)
            }
            Err(e) => match stale {
                Some(doc) => {
                    log::warn!("{e}; using the cached discovery document");
                    let retry = retry_at(self.settings.discovery_max_age);
                    cached.discovery = Some((doc.clone(), retry));
                    Ok(doc)
                }
                None => Err(e),
            },
        }
    }

    fn fetch_discovery(&self, issuer: &str) -> Result<Discovery, LoginError> {
        let url = format!(
            "{}/.well-known/openid-configuration",
            issuer.trim_end_matches('/')
        );
        let body = self.http.get(&url).map_err(|e| provider_error(issuer, e))?;
        let doc: Discovery = serde_json::from_slice(&body)
            .map_err(|e| provider_error(issuer, format!("bad discovery document: {e}")))?;
        if doc.issuer != issuer {
            return Err(provider_error(
                issuer,
                format!(
                    "the discovery document names the issuer {:?} (the issuer URL must be exact)",
                    doc.issuer
                ),
            ));
        }
        log::info!("fetched the discovery document of {issuer}");
        Ok(doc)
    }

    /// The issuer's key set: cached unless older than [`CacheSettings::jwks_max_age`], or
    /// `force`d. Returns whether it was fetched by this call. Like [`Providers::discovery`],
    /// no lock is held during the fetch, and a cached set is used while another request
    /// fetches.
    fn keys(&self, issuer: &str, force: bool) -> Result<(Arc<KeySet>, bool), LoginError> {
        let discovery = self.discovery(issuer)?;
        let entry = self.entry(issuer);
        let stale = {
            let mut cached = entry.lock().unwrap_or_else(|p| p.into_inner());
            if let Some((keys, at)) = &cached.keys {
                let fresh = at.elapsed() < self.settings.jwks_max_age;
                let may_force = cached
                    .last_forced
                    .is_none_or(|t| t.elapsed() >= self.settings.jwks_min_refresh);
                let busy = self.in_flight(cached.fetching_keys);
                if (fresh && !force) || (force && !may_force) || busy {
                    return Ok((keys.clone(), false));
                }
            }
            if force {
                cached.last_forced = Some(Instant::now());
            }
            cached.fetching_keys = Some(Instant::now());
            cached.keys.as_ref().map(|(keys, _)| keys.clone())
        };
        let fetched = self
            .http
            .get(&discovery.jwks_uri)
            .map_err(|e| provider_error(issuer, e))
            .and_then(|body| KeySet::from_jwks(&body).map_err(|e| provider_error(issuer, e)));
        let mut cached = entry.lock().unwrap_or_else(|p| p.into_inner());
        cached.fetching_keys = None;
        match fetched {
            Ok(keys) => {
                log::info!("fetched the key set of {issuer}: kids {:?}", keys.kids());
                let keys = Arc::new(keys);
                cached.keys = Some((keys.clone(), Instant::now()));
                Ok((keys, true))
            }
            Err(e) => match stale {
                Some(keys) => {
                    log::warn!("{e}; using the cached key set");
                    cached.keys = Some((keys.clone(), retry_at(self.settings.jwks_max_age)));
                    Ok((keys, false))
                }
                None => Err(e),
            },
        }
    }

    /// Verifies an ID token of `issuer` (signature with the cached key set, then claims).
    /// A token signed by a key the cache does not know triggers one fetch of the key set
    /// (rate-limited by [`CacheSettings::jwks_min_refresh`]) and one more try, so a key
    /// rotation never breaks sign-in.
    pub fn verify(&self, token: &str, expected: &Expectations<'_>) -> Result<IdClaims, LoginError> {
        let issuer = expected.issuer;
        let (keys, fetched) = self.keys(issuer, false)?;
        let first = check::verify_id_token(token, &keys, expected);
        let unknown = match &first {
            Err(Denied::UnknownKey(kid)) => Some(format!("unknown kid {kid:?}")),
            Err(Denied::BadSignature) if !has_kid(token) => {
                Some("a token without kid that no cached key verifies".to_owned())
            }
            _ => None,
        };
        match unknown {
            Some(why) if !fetched => {
                log::info!("{issuer}: {why}; fetching the key set again");
                let (keys, refetched) = self.keys(issuer, true)?;
                if !refetched {
                    return first.map_err(LoginError::from);
                }
                Ok(check::verify_id_token(token, &keys, expected)?)
            }
            _ => Ok(first?),
        }
    }

    fn client(
        discovery: &Discovery,
        client_id: &str,
    ) -> Result<
        CoreClient<
            openidconnect::EndpointSet,
            openidconnect::EndpointNotSet,
            openidconnect::EndpointNotSet,
            openidconnect::EndpointNotSet,
            openidconnect::EndpointSet,
        >,
        LoginError,
    > {
        let bad = |what: &str, e: openidconnect::url::ParseError| {
            provider_error(&discovery.issuer, format!("bad {what}: {e}"))
        };
        Ok(CoreClient::new(
            ClientId::new(client_id.to_owned()),
            IssuerUrl::new(discovery.issuer.clone()).map_err(|e| bad("issuer", e))?,
            CoreJsonWebKeySet::default(),
        )
        .set_auth_uri(
            AuthUrl::new(discovery.authorization_endpoint.clone())
                .map_err(|e| bad("authorization_endpoint", e))?,
        )
        .set_token_uri(
            TokenUrl::new(discovery.token_endpoint.clone())
                .map_err(|e| bad("token_endpoint", e))?,
        ))
    }

    /// Builds the authorization URL (code flow, PKCE S256, fresh state and nonce).
    pub fn authorize(
        discovery: &Discovery,
        client_id: &str,
        redirect_uri: &str,
    ) -> Result<Authorization, LoginError> {
        let redirect = RedirectUrl::new(redirect_uri.to_owned())
            .map_err(|e| LoginError::Internal(format!("redirect URI {redirect_uri}: {e}")))?;
        let client = Self::client(discovery, client_id)?.set_redirect_uri(redirect);
        let (challenge, verifier) = PkceCodeChallenge::new_random_sha256();
        let mut request = client
            .authorize_url(
                CoreAuthenticationFlow::AuthorizationCode,
                CsrfToken::new_random,
                Nonce::new_random,
            )
            .set_pkce_challenge(challenge);
        for scope in SCOPES {
            request = request.add_scope(Scope::new(scope.to_owned()));
        }
        let (url, state, nonce) = request.url();
        Ok(Authorization {
            url: url.to_string(),
            state: state.into_secret(),
            nonce: nonce.secret().clone(),
            pkce_verifier: verifier.into_secret(),
        })
    }

    /// Exchanges an authorization code (with its PKCE verifier) for the raw ID token.
    pub fn exchange_code(
        &self,
        discovery: &Discovery,
        credentials: &ClientCredentials,
        redirect_uri: &str,
        code: &str,
        pkce_verifier: &str,
    ) -> Result<String, LoginError> {
        let redirect = RedirectUrl::new(redirect_uri.to_owned())
            .map_err(|e| LoginError::Internal(format!("redirect URI {redirect_uri}: {e}")))?;
        let client = Self::client(discovery, &credentials.client_id)?
            .set_client_secret(ClientSecret::new(credentials.client_secret.clone()))
            .set_redirect_uri(redirect);
        let response = client
            .exchange_code(AuthorizationCode::new(code.to_owned()))
            .set_pkce_verifier(PkceCodeVerifier::new(pkce_verifier.to_owned()))
            .request(&self.http)
            .map_err(|e| token_error(&discovery.issuer, e))?;
        response
            .id_token()
            .map(|t| t.to_string())
            .ok_or_else(|| provider_error(&discovery.issuer, "the token response has no id_token"))
    }

    /// Starts a device authorization at the provider, as a public client (no secret: Entra
    /// refuses one for public-client flows with AADSTS700025).
    pub fn device_authorize(
        &self,
        discovery: &Discovery,
        client_id: &str,
    ) -> Result<DeviceStart, LoginError> {
        let issuer = &discovery.issuer;
        let endpoint = discovery
            .device_authorization_endpoint
            .clone()
            .ok_or_else(|| {
                LoginError::Unsupported(format!(
                    "the identity provider {issuer} does not offer the device authorization grant; \
                 sign in on a machine with a browser"
                ))
            })?;
        let url = DeviceAuthorizationUrl::new(endpoint)
            .map_err(|e| provider_error(issuer, format!("bad device endpoint: {e}")))?;
        let client = Self::client(discovery, client_id)?.set_device_authorization_url(url);
        let mut request = client.exchange_device_code();
        for scope in SCOPES {
            request = request.add_scope(Scope::new(scope.to_owned()));
        }
        let details: openidconnect::core::CoreDeviceAuthorizationResponse = request
            .request(&self.http)
            .map_err(|e| token_error(issuer, e))?;
        Ok(DeviceStart {
            device_code: details.device_code().secret().clone(),
            user_code: details.user_code().secret().clone(),
            verification_uri: details.verification_uri().to_string(),
            verification_uri_complete: details
                .verification_uri_complete()
                .map(|u| u.secret().clone()),
            expires_in: details.expires_in(),
            interval: details.interval(),
        })
    }

    /// One poll of the token endpoint for a device code (RFC 8628 section 3.4), as a public
    /// client. `openidconnect` only offers a blocking loop; sshward polls once per request
    /// of the CLI, so that any instance behind a load balancer can answer.
    pub fn device_poll(
        &self,
        discovery: &Discovery,
        client_id: &str,
        device_code: &str,
    ) -> Result<DevicePoll, LoginError> {
        let issuer = &discovery.issuer;
        let (status, body) = self
            .http
            .post_form(
                &discovery.token_endpoint,
                &[
                    ("grant_type", "urn:ietf:params:oauth:grant-type:device_code"),
                    ("device_code", device_code),
                    ("client_id", client_id),
                ],
            )
            .map_err(|e| provider_error(issuer, e))?;
        let field = |name: &str| body.get(name).and_then(|v| v.as_str()).map(str::to_owned);
        if status == 200 {
            return field("id_token")
                .map(DevicePoll::IdToken)
                .ok_or_else(|| provider_error(issuer, "the token response has no id_token"));
        }
        match field("error").as_deref() {
            Some("authorization_pending") => Ok(DevicePoll::Pending { slow_down: false }),
            Some("slow_down") => Ok(DevicePoll::Pending { slow_down: true }),
            Some("access_denied") => Err(Denied::Provider("access_denied".into()).into()),
            Some("expired_token") => Err(Denied::Code.into()),
            Some(other) => Err(provider_error(
                issuer,
                format!(
                    "device token request failed: {other} {}",
                    field("error_description").unwrap_or_default()
                ),
            )),
            None => Err(provider_error(
                issuer,
                format!("device token request failed with HTTP {status}"),
            )),
        }
    }
}

/// After a failed refresh, a stale copy counts as fetched at this instant, so the next
/// attempt comes a minute later rather than on every sign-in (each waiting for a timeout).
fn retry_at(max_age: Duration) -> Instant {
    let retry_in = Duration::from_secs(60).min(max_age);
    Instant::now()
        .checked_sub(max_age - retry_in)
        .unwrap_or_else(Instant::now)
}

fn has_kid(token: &str) -> bool {
    jsonwebtoken::decode_header(token).is_ok_and(|h| h.kid.is_some())
}

fn token_error<T: openidconnect::ErrorResponse>(
    issuer: &str,
    e: RequestTokenError<HttpError, T>,
) -> LoginError {
    match e {
        RequestTokenError::ServerResponse(r) => {
            // invalid_grant: the code was used, expired, or was not issued to us.
            provider_error(issuer, format!("the provider refused the request: {r}"))
        }
        RequestTokenError::Request(e) => provider_error(issuer, e),
        RequestTokenError::Parse(e, _) => provider_error(issuer, format!("bad answer: {e}")),
        RequestTokenError::Other(e) => provider_error(issuer, e),
    }
}
