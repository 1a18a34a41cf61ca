//! The `[login]` configuration section (sign-in with Microsoft Entra ID, crate
//! `oidc-login`) and the sign-in state of `sshward serve`.

use std::time::Duration;

use serde::{Deserialize, Serialize};
use store::Store;

use crate::error::Error;

/// `[login]`.
#[derive(Clone, Debug, Deserialize, Serialize, PartialEq)]
#[serde(default, deny_unknown_fields)]
pub struct LoginSection {
    /// Base64 of 64 random bytes: encrypts and signs the session cookies. Unset: generated
    /// once and kept in the database, so that every instance shares it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub session_key: Option<String>,
    /// Base64 of at least 32 random bytes: signs sshward access tokens. Unset: generated
    /// once and kept in the database.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub token_key: Option<String>,
    /// Seconds a browser session lasts.
    pub session_ttl_secs: u64,
    /// Seconds an access token from `sshward login` lasts.
    pub access_token_ttl_secs: u64,
    /// Allowed clock skew, in seconds, when checking ID tokens' expiry and not-before.
    pub clock_leeway_secs: u64,
    /// Seconds a provider's key set is cached (an unknown key fetches it at once).
    pub jwks_max_age_secs: u64,
}

impl Default for LoginSection {
    fn default() -> Self {
        LoginSection {
            session_key: None,
            token_key: None,
            session_ttl_secs: 8 * 3600,
            access_token_ttl_secs: 16 * 3600,
            clock_leeway_secs: 60,
            jwks_max_age_secs: 3600,
        }
    }
}

const MASK: &str = "****";

/// The configured session and token keys as bytes (`None` where unset).
type KeyBytes = (Option<Vec<u8>>, Option<Vec<u8>>);

fn invalid(key: &str, value: impl std::fmt::Display, problem: &str) -> Error {
    Error::Config(format!(
        "invalid configuration: login.{key} = {value}: {problem}"
    ))
}

impl LoginSection {
    /// Checks every option; the keys must decode.
    pub fn validate(&self) -> Result<(), Error> {
        self.keys_bytes()?;
        let ranges = [
            (
                "session_ttl_secs",
                self.session_ttl_secs,
                60,
                30 * 24 * 3600,
            ),
            (
                "access_token_ttl_secs",
                self.access_token_ttl_secs,
                60,
                7 * 24 * 3600,
            ),
            ("clock_leeway_secs", self.clock_leeway_secs, 0, 600),
            (
                "jwks_max_age_secs",
                self.jwks_max_age_secs,
                60,
                7 * 24 * 3600,
            ),
        ];
        for (key, value, min, max) in ranges {
            if !(min..=max).contains(&value) {
                return Err(invalid(
                    key,
                    value,
                    &format!("must be between {min} and {max}"),
                ));
            }
        }
        Ok(())
    }

    /// The configured keys as bytes (`None` where unset).
    fn keys_bytes(&self) -> Result<KeyBytes, Error> {
        let decode = |key: &str, value: &Option<String>, min: usize| {
            value
                .as_deref()
                .filter(|v| !v.trim().is_empty())
                .map(|v| oidc_login::decode_key(key, v, min).map_err(|e| invalid(key, MASK, &e)))
                .transpose()
        };
        Ok((
            decode("session_key", &self.session_key, 64)?,
            decode("token_key", &self.token_key, 32)?,
        ))
    }

    /// This section with the keys masked.
    pub fn masked(&self) -> LoginSection {
        let mask = |v: &Option<String>| v.as_ref().map(|_| MASK.to_owned());
        LoginSection {
            session_key: mask(&self.session_key),
            token_key: mask(&self.token_key),
            ..self.clone()
        }
    }

    /// The sign-in state of a server reached at `public_url`, its keys from the
    /// configuration or the database.
    pub fn state(
        &self,
        store: &Store,
        kek: &keyring::Kek,
        public_url: &str,
    ) -> Result<oidc_login::LoginState, Error> {
        let mut config = oidc_login::LoginConfig::new(public_url);
        config.session_ttl = Duration::from_secs(self.session_ttl_secs);
        config.access_token_ttl = Duration::from_secs(self.access_token_ttl_secs);
        config.clock_leeway = Duration::from_secs(self.clock_leeway_secs);
        config.cache.jwks_max_age = Duration::from_secs(self.jwks_max_age_secs);
        let (session, token) = self.keys_bytes()?;
        let keys = oidc_login::Keys::load(store, kek, session, token)
            .map_err(|e| Error::Other(format!("sign-in keys: {e}")))?;
        Ok(oidc_login::LoginState::new(store.clone(), config, keys))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_are_valid_and_keys_are_checked() {
        assert!(LoginSection::default().validate().is_ok());
        let bad = LoginSection {
            session_key: Some("c2hvcnQ=".into()),
            ..LoginSection::default()
        };
        let err = bad
            .validate()
            .err()
            .map(|e| e.to_string())
            .unwrap_or_default();
        assert!(err.contains("login.session_key = ****"), "{err}");
        let short = LoginSection {
            access_token_ttl_secs: 1,
            ..LoginSection::default()
        };
        assert!(short.validate().is_err());
        let keyed = LoginSection {
            token_key: Some("x".into()),
            ..LoginSection::default()
        };
        assert_eq!(keyed.masked().token_key.as_deref(), Some(MASK));
    }
}
