//! Server-wide sign-in settings, the shared keys, and a team's resolved provider settings.

use std::time::Duration;

use actix_web::cookie::Key;
use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use keyring::Kek;
use store::{Issuer, LinkBy, OidcSettings, SecretRef, Store, StoreError, Team, TenantId};

use crate::error::LoginError;
use crate::provider::{CacheSettings, ClientCredentials};
use access_token::TokenKey;

/// Server-wide sign-in settings.
#[derive(Clone, Debug)]
pub struct LoginConfig {
    /// sshward's public URL, without a trailing slash: the redirect URI is
    /// `{public_url}/callback`, cookies are `Secure` when it is https, and it is the `iss`
    /// of access tokens.
    pub public_url: String,
    /// Lifetime of a web session.
    pub session_ttl: Duration,
    /// Lifetime of an sshward access token (default 16 hours).
    pub access_token_ttl: Duration,
    /// Allowed clock skew when checking `exp` and `nbf` of ID tokens.
    pub clock_leeway: Duration,
    /// How long a started sign-in may take (state, CLI codes).
    pub pending_ttl: Duration,
    /// Discovery and JWKS caching, HTTP timeout.
    pub cache: CacheSettings,
}

impl LoginConfig {
    /// Defaults for a server reached at `public_url`.
    pub fn new(public_url: impl Into<String>) -> LoginConfig {
        LoginConfig {
            public_url: public_url.into().trim_end_matches('/').to_owned(),
            session_ttl: Duration::from_secs(8 * 3600),
            access_token_ttl: Duration::from_secs(16 * 3600),
            clock_leeway: Duration::from_secs(60),
            pending_ttl: Duration::from_secs(600),
            cache: CacheSettings::default(),
        }
    }

    /// The redirect URI registered at the provider: `{public_url}/callback`.
    pub fn redirect_uri(&self) -> String {
        format!("{}/callback", self.public_url)
    }

    /// `path` under the public URL's path, for cookies and local redirects: `/callback`,
    /// or `/sshward/callback` when sshward is published at `https://host/sshward`.
    pub fn path(&self, path: &str) -> String {
        let base = openidconnect::url::Url::parse(&self.public_url)
            .map(|u| u.path().trim_end_matches('/').to_owned())
            .unwrap_or_default();
        let joined = format!("{base}{path}");
        if joined.is_empty() {
            "/".to_owned()
        } else {
            joined
        }
    }

    /// True when cookies must be `Secure`.
    pub fn secure_cookies(&self) -> bool {
        self.public_url.starts_with("https://")
    }
}

/// The keys of the sign-in: the session cookie key (signing and encryption) and the
/// access-token key.
#[derive(Clone)]
pub struct Keys {
    /// Encrypts and authenticates the session and sign-in cookies.
    pub session: Key,
    /// Signs access tokens.
    pub token: TokenKey,
}

impl std::fmt::Debug for Keys {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Keys").field("token", &self.token).finish()
    }
}

/// Name of the generated session key in the database.
const SESSION_KEY: &str = "session_key";
/// Name of the generated access-token key in the database.
const TOKEN_KEY: &str = "access_token_key";

/// Decodes a configured key: base64 of at least `min` bytes.
pub fn decode_key(name: &str, b64: &str, min: usize) -> Result<Vec<u8>, String> {
    let bytes = STANDARD
        .decode(b64.trim())
        .map_err(|e| format!("{name} is not base64: {e}"))?;
    if bytes.len() < min {
        return Err(format!(
            "{name} must have at least {min} bytes (base64 of `head -c {min} /dev/urandom`)"
        ));
    }
    Ok(bytes)
}

impl Keys {
    /// The keys from the configuration where given (raw bytes: 64 for the session key, at
    /// least 32 for the token key), otherwise generated once and stored in the database,
    /// sealed with `kek`, so that every instance shares them and a copy of the database
    /// alone cannot mint sessions or access tokens.
    pub fn load(
        store: &Store,
        kek: &Kek,
        session: Option<Vec<u8>>,
        token: Option<Vec<u8>>,
    ) -> Result<Keys, LoginError> {
        let session = match session {
            Some(bytes) => bytes,
            None => shared_key(store, kek, SESSION_KEY)?,
        };
        let token = match token {
            Some(bytes) => bytes,
            None => shared_key(store, kek, TOKEN_KEY)?,
        };
        let session = Key::try_from(session.as_slice())
            .map_err(|e| LoginError::Internal(format!("session key: {e}")))?;
        Ok(Keys {
            session,
            token: TokenKey::new(&token)?,
        })
    }
}

/// The 64-byte key `name` from the database, generated on first use and stored sealed; a
/// key an earlier version stored in clear is sealed in place.
fn shared_key(store: &Store, kek: &Kek, name: &str) -> Result<Vec<u8>, LoginError> {
    let purpose = format!("login-key/{name}");
    let mut fresh = [0u8; 64];
    getrandom::fill(&mut fresh).map_err(|e| LoginError::Internal(format!("random: {e}")))?;
    let candidate = kek.seal(&purpose, STANDARD.encode(fresh).as_bytes());
    let stored = match store.write(|tx| tx.login().key_or_insert(name, &candidate)) {
        Ok(v) => v,
        // Another instance stored it first: read theirs.
        Err(StoreError::Conflict { .. }) => store
            .read(|tx| tx.login().key(name))?
            .ok_or_else(|| LoginError::Internal(format!("{name} vanished")))?,
        Err(e) => return Err(e.into()),
    };
    if stored == candidate {
        log::info!("generated the {name} and stored it in the database, sealed");
    }
    let text = if Kek::is_sealed(&stored) {
        let opened = kek
            .open(&purpose, &stored)
            .map_err(|e| LoginError::Internal(format!("stored {name}: {e}")))?;
        String::from_utf8(opened)
            .map_err(|_| LoginError::Internal(format!("stored {name} is not text")))?
    } else {
        let sealed = kek.seal(&purpose, stored.as_bytes());
        if store.write(|tx| tx.login().replace_key(name, &stored, &sealed))? {
            log::info!("sealed the {name} that an earlier version stored in clear");
        }
        stored
    };
    decode_key(name, &text, 64).map_err(|e| LoginError::Internal(format!("stored {e}")))
}

/// A team's provider settings, resolved and checked.
#[derive(Clone, Debug)]
pub struct TeamLogin {
    /// The team.
    pub team: Team,
    /// The issuer (exact).
    pub issuer: String,
    /// The OAuth client ID.
    pub client_id: String,
    /// Where the client secret is read.
    secret_ref: Option<SecretRef>,
    /// The tenant whose accounts may sign in (`None` only with an issuer override).
    pub tenant_id: Option<TenantId>,
    /// How to link accounts to SCIM users.
    pub link_by: LinkBy,
}

impl TeamLogin {
    /// Resolves a team's settings; [`LoginError::NotConfigured`] says what is missing.
    pub fn resolve(team: Team, oidc: &OidcSettings) -> Result<TeamLogin, LoginError> {
        let missing = |problem: &str| LoginError::NotConfigured {
            team: team.slug.clone(),
            problem: problem.to_owned(),
        };
        let issuer = match (&oidc.issuer, &team.entra_tenant_id) {
            (Some(issuer), _) => issuer.to_string(),
            (None, Some(tenant)) => Issuer::entra(tenant).to_string(),
            (None, None) => {
                return Err(missing(
                    "no Entra tenant ID (sshward team set SLUG --tenant-id GUID)",
                ));
            }
        };
        let client_id = oidc
            .client_id
            .clone()
            .ok_or_else(|| missing("no client ID (sshward team set SLUG --client-id ID)"))?;
        Ok(TeamLogin {
            issuer,
            client_id,
            secret_ref: oidc.client_secret_ref.clone(),
            tenant_id: team.entra_tenant_id.clone(),
            link_by: oidc.link_by,
            team,
        })
    }

    /// The client credentials, reading the secret from its file or environment variable.
    pub fn credentials(&self) -> Result<ClientCredentials, LoginError> {
        let missing = |problem: String| LoginError::NotConfigured {
            team: self.team.slug.clone(),
            problem,
        };
        let reference = self.secret_ref.as_ref().ok_or_else(|| {
            missing(
                "no client secret (sshward team set SLUG --client-secret-file PATH or \
                 --client-secret-env NAME)"
                    .into(),
            )
        })?;
        let secret = reference
            .read()
            .map_err(|e| missing(format!("client secret: {e}")))?;
        Ok(ClientCredentials {
            client_id: self.client_id.clone(),
            client_secret: secret,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_follow_the_public_url() {
        assert_eq!(
            LoginConfig::new("https://a.example").path("/callback"),
            "/callback"
        );
        assert_eq!(LoginConfig::new("https://a.example/").path("/"), "/");
        let prefixed = LoginConfig::new("https://a.example/sshward/");
        assert_eq!(prefixed.path("/callback"), "/sshward/callback");
        assert_eq!(prefixed.path("/"), "/sshward/");
        assert_eq!(
            prefixed.redirect_uri(),
            "https://a.example/sshward/callback"
        );
    }

    #[test]
    fn keys_are_checked() {
        assert!(decode_key("k", &STANDARD.encode([1u8; 64]), 64).is_ok());
        assert!(decode_key("k", &STANDARD.encode([1u8; 16]), 64).is_err());
        assert!(decode_key("k", "***", 64).is_err());
    }
}
