//! Server-wide sign-in settings, the shared keys, and a team's resolved provider settings.

use std::time::Duration;

use actix_web::cookie::Key;
use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use store::{LinkBy, OidcSettings, Store, StoreError, Team};

use crate::error::LoginError;
use crate::provider::{CacheSettings, ClientCredentials};
use crate::token::TokenKey;

/// The default issuer of a team: `https://login.microsoftonline.com/{tenant}/v2.0`.
pub fn entra_issuer(tenant_id: &str) -> String {
    format!("https://login.microsoftonline.com/{tenant_id}/v2.0")
}

/// Checks an issuer URL: `https://`, or `http://` to a loopback address (tests, a local
/// provider). Without a query or fragment.
pub fn validate_issuer(issuer: &str) -> Result<(), String> {
    let url = openidconnect::url::Url::parse(issuer).map_err(|e| format!("{issuer:?}: {e}"))?;
    if url.query().is_some() || url.fragment().is_some() {
        return Err(format!("{issuer:?} must not have a query or fragment"));
    }
    let loopback = match url.host() {
        Some(openidconnect::url::Host::Ipv4(ip)) => ip.is_loopback(),
        Some(openidconnect::url::Host::Ipv6(ip)) => ip.is_loopback(),
        Some(openidconnect::url::Host::Domain(d)) => d == "localhost",
        None => false,
    };
    match url.scheme() {
        "https" => Ok(()),
        "http" if loopback => Ok(()),
        _ => Err(format!(
            "{issuer:?} must be an https URL (plain http only to a loopback address)"
        )),
    }
}

/// Checks an Entra tenant ID: a GUID (any case), returned lower-cased.
pub fn parse_tenant_id(s: &str) -> Result<String, String> {
    let t = s.trim().to_ascii_lowercase();
    let groups: Vec<&str> = t.split('-').collect();
    let ok = groups.iter().map(|g| g.len()).eq([8, 4, 4, 4, 12])
        && groups
            .iter()
            .all(|g| g.chars().all(|c| c.is_ascii_hexdigit()));
    if ok {
        Ok(t)
    } else {
        Err(format!(
            "{s:?} is not a tenant ID (a GUID like 72f988bf-86f1-41af-91ab-2d7cd011db47)"
        ))
    }
}

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
    /// least 32 for the token key), otherwise generated once and stored in the database so
    /// that every instance shares them.
    pub fn load(
        store: &Store,
        session: Option<Vec<u8>>,
        token: Option<Vec<u8>>,
    ) -> Result<Keys, LoginError> {
        let session = match session {
            Some(bytes) => bytes,
            None => shared_key(store, SESSION_KEY)?,
        };
        let token = match token {
            Some(bytes) => bytes,
            None => shared_key(store, TOKEN_KEY)?,
        };
        let session = Key::try_from(session.as_slice())
            .map_err(|e| LoginError::Internal(format!("session key: {e}")))?;
        Ok(Keys {
            session,
            token: TokenKey::new(&token)?,
        })
    }
}

/// The 64-byte key `name` from the database, generated on first use.
fn shared_key(store: &Store, name: &str) -> Result<Vec<u8>, LoginError> {
    let mut fresh = [0u8; 64];
    getrandom::fill(&mut fresh).map_err(|e| LoginError::Internal(format!("random: {e}")))?;
    let candidate = STANDARD.encode(fresh);
    let stored = match store.write(|tx| tx.login().key_or_insert(name, &candidate)) {
        Ok(v) => v,
        // Another instance stored it first: read theirs.
        Err(StoreError::Conflict { .. }) => store
            .read(|tx| tx.login().key(name))?
            .ok_or_else(|| LoginError::Internal(format!("{name} vanished")))?,
        Err(e) => return Err(e.into()),
    };
    if stored == candidate {
        log::info!("generated the {name} and stored it in the database");
    }
    decode_key(name, &stored, 64).map_err(|e| LoginError::Internal(format!("stored {e}")))
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
    secret_ref: Option<String>,
    /// The tenant whose accounts may sign in (`None` only with an issuer override).
    pub tenant_id: Option<String>,
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
            (Some(issuer), _) => issuer.clone(),
            (None, Some(tenant)) => entra_issuer(tenant),
            (None, None) => {
                return Err(missing(
                    "no Entra tenant ID (sshward team set SLUG --tenant-id GUID)",
                ));
            }
        };
        validate_issuer(&issuer).map_err(|e| missing(&format!("bad issuer: {e}")))?;
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
        let reference = self.secret_ref.as_deref().ok_or_else(|| {
            missing(
                "no client secret (sshward team set SLUG --client-secret-file PATH or \
                 --client-secret-env NAME)"
                    .into(),
            )
        })?;
        let secret = read_secret(reference).map_err(missing)?;
        Ok(ClientCredentials {
            client_id: self.client_id.clone(),
            client_secret: secret,
        })
    }
}

/// Reads a secret named by `file:PATH` or `env:NAME`, trimmed of surrounding whitespace.
pub fn read_secret(reference: &str) -> Result<String, String> {
    let value = if let Some(path) = reference.strip_prefix("file:") {
        std::fs::read_to_string(path)
            .map_err(|e| format!("cannot read the client secret file {path}: {e}"))?
    } else if let Some(name) = reference.strip_prefix("env:") {
        std::env::var(name)
            .map_err(|_| format!("the environment variable {name} (client secret) is not set"))?
    } else {
        return Err("the client secret reference must be file:PATH or env:NAME".into());
    };
    let value = value.trim().to_owned();
    if value.is_empty() {
        return Err(format!("the client secret in {reference} is empty"));
    }
    Ok(value)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn issuers() {
        assert!(validate_issuer(&entra_issuer("72f988bf-86f1-41af-91ab-2d7cd011db47")).is_ok());
        assert!(validate_issuer("http://127.0.0.1:9400").is_ok());
        assert!(validate_issuer("http://[::1]:9400").is_ok());
        assert!(validate_issuer("http://idp.example.com").is_err());
        assert!(validate_issuer("https://idp.example.com/?x=1").is_err());
        assert!(validate_issuer("ftp://idp.example.com").is_err());
    }

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
    fn tenant_ids() {
        assert_eq!(
            parse_tenant_id(" 72F988BF-86F1-41AF-91AB-2D7CD011DB47 ").ok(),
            Some("72f988bf-86f1-41af-91ab-2d7cd011db47".into())
        );
        assert!(parse_tenant_id("contoso.onmicrosoft.com").is_err());
        assert!(parse_tenant_id("72f988bf86f141af91ab2d7cd011db47").is_err());
    }

    #[test]
    fn keys_are_checked() {
        assert!(decode_key("k", &STANDARD.encode([1u8; 64]), 64).is_ok());
        assert!(decode_key("k", &STANDARD.encode([1u8; 16]), 64).is_err());
        assert!(decode_key("k", "***", 64).is_err());
    }

    #[test]
    fn secrets_from_env_and_file() -> Result<(), String> {
        let dir = tempfile::tempdir().map_err(|e| e.to_string())?;
        let path = dir.path().join("secret");
        std::fs::write(&path, "s3cret\n").map_err(|e| e.to_string())?;
        assert_eq!(read_secret(&format!("file:{}", path.display()))?, "s3cret");
        assert!(read_secret("env:SSHWARD_TEST_SURELY_UNSET_VARIABLE").is_err());
        assert!(read_secret("plain").is_err());
        Ok(())
    }
}
