//! sshward access tokens: short-lived JWTs that sshward signs for people who signed in from
//! the CLI, and that its own APIs (SSH certificate issuance, `GET /me`) accept.
//!
//! HS256 with a key shared by every instance (configured, or generated once and kept in
//! the database): only sshward issues and verifies these tokens, so a symmetric key is
//! enough and keeps tokens small. The header's `kid` (a digest of the key) lets a future
//! rotation keep accepting tokens signed with the previous key.

use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

/// Why a token could not be made or was refused.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum TokenError {
    /// The token is refused: the reason, for the person (never echoing the token).
    #[error("{0}")]
    Invalid(&'static str),
    /// The signing key is unusable, or signing failed.
    #[error("{0}")]
    Key(String),
}

/// The `aud` of every sshward access token.
pub const AUDIENCE: &str = "sshward";

/// How the person signed in.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Via {
    /// In a browser, through `/login/{team}`.
    Web,
    /// From the CLI with a browser and a loopback redirect.
    Loopback,
    /// From the CLI with the device authorization grant.
    Device,
}

impl Via {
    /// `web`, `loopback` or `device`.
    pub fn as_str(self) -> &'static str {
        match self {
            Via::Web => "web",
            Via::Loopback => "loopback",
            Via::Device => "device",
        }
    }
}

/// The claims of an sshward access token.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct AccessClaims {
    /// sshward's public URL.
    pub iss: String,
    /// Always [`AUDIENCE`].
    pub aud: String,
    /// The SCIM id of the user.
    pub sub: String,
    /// The team's slug.
    pub team: String,
    /// The user's SCIM `userName`.
    pub user_name: String,
    /// Issued at, unix seconds.
    pub iat: i64,
    /// Expiry, unix seconds.
    pub exp: i64,
    /// Unique token id (for revocation lists and audit).
    pub jti: String,
    /// How the person signed in.
    pub via: Via,
}

/// The signing key of access tokens.
#[derive(Clone)]
pub struct TokenKey {
    encoding: EncodingKey,
    decoding: DecodingKey,
    kid: String,
}

impl std::fmt::Debug for TokenKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TokenKey").field("kid", &self.kid).finish()
    }
}

impl TokenKey {
    /// A key from secret bytes (at least 32).
    pub fn new(secret: &[u8]) -> Result<TokenKey, TokenError> {
        if secret.len() < 32 {
            return Err(TokenError::Key(
                "the access-token key must have at least 32 bytes".into(),
            ));
        }
        let digest = Sha256::digest(secret);
        let kid = digest[..8].iter().map(|b| format!("{b:02x}")).collect();
        let bad =
            |e: jsonwebtoken::errors::Error| TokenError::Key(format!("access-token key: {e}"));
        Ok(TokenKey {
            encoding: EncodingKey::from_secret(secret).map_err(bad)?,
            decoding: DecodingKey::from_secret(secret).map_err(bad)?,
            kid,
        })
    }

    /// Signs `claims`.
    pub fn issue(&self, claims: &AccessClaims) -> Result<String, TokenError> {
        let mut header = Header::new(Algorithm::HS256);
        header.kid = Some(self.kid.clone());
        jsonwebtoken::encode(&header, claims, &self.encoding)
            .map_err(|e| TokenError::Key(format!("signing an access token: {e}")))
    }

    /// Verifies a token: signature, `aud` = [`AUDIENCE`], `iss` = `issuer`, expiry (30 s
    /// leeway). The error says why, without echoing the token.
    pub fn verify(&self, token: &str, issuer: &str) -> Result<AccessClaims, TokenError> {
        let mut validation = Validation::new(Algorithm::HS256);
        validation.set_audience(&[AUDIENCE]);
        validation.set_issuer(&[issuer]);
        validation.set_required_spec_claims(&["exp", "iss", "aud", "sub"]);
        validation.leeway = 30;
        jsonwebtoken::decode::<AccessClaims>(token, &self.decoding, &validation)
            .map(|data| data.claims)
            .map_err(|e| {
                use jsonwebtoken::errors::ErrorKind;
                TokenError::Invalid(match e.kind() {
                    ErrorKind::ExpiredSignature => {
                        "the access token has expired; sign in again with `sshward login`"
                    }
                    ErrorKind::InvalidSignature => {
                        "the access token's signature is not valid; sign in again with `sshward login`"
                    }
                    ErrorKind::InvalidAudience => {
                        "the access token is not meant for sshward; sign in again with `sshward login`"
                    }
                    ErrorKind::InvalidIssuer => {
                        "the access token was issued by another server; sign in again with `sshward login`"
                    }
                    _ => "the access token is malformed; sign in again with `sshward login`",
                })
            })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn claims(exp_in: i64) -> AccessClaims {
        let now = jsonwebtoken::get_current_timestamp() as i64;
        AccessClaims {
            iss: "https://sshward.example".into(),
            aud: AUDIENCE.into(),
            sub: "u1".into(),
            team: "acme".into(),
            user_name: "alice@acme.example".into(),
            iat: now,
            exp: now + exp_in,
            jti: "j1".into(),
            via: Via::Loopback,
        }
    }

    #[test]
    fn issues_and_verifies() -> Result<(), TokenError> {
        let key = TokenKey::new(&[7u8; 64])?;
        let c = claims(3600);
        let token = key.issue(&c)?;
        assert_eq!(key.verify(&token, "https://sshward.example")?, c);
        assert!(key.verify(&token, "https://other.example").is_err());
        let other = TokenKey::new(&[8u8; 64])?;
        assert!(other.verify(&token, "https://sshward.example").is_err());
        let expired = key.issue(&claims(-120))?;
        let err = key.verify(&expired, "https://sshward.example").err();
        assert!(err.is_some_and(|e| e.to_string().contains("expired")));
        assert!(TokenKey::new(&[1u8; 16]).is_err());
        Ok(())
    }

    #[test]
    fn tampered_payload_is_refused() -> Result<(), TokenError> {
        let key = TokenKey::new(&[7u8; 64])?;
        let token = key.issue(&claims(3600))?;
        let mut parts: Vec<String> = token.split('.').map(str::to_owned).collect();
        let forged = key.issue(&AccessClaims {
            user_name: "root@acme.example".into(),
            ..claims(3600)
        })?;
        parts[1] = forged.split('.').nth(1).unwrap_or_default().to_owned();
        let err = key
            .verify(&parts.join("."), "https://sshward.example")
            .err();
        assert!(err.is_some_and(|e| e.to_string().contains("signature")));
        Ok(())
    }
}
