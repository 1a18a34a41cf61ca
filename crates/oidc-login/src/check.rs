//! The pure part of a sign-in: verifying an ID token against a key set, checking its
//! claims, deciding whether the account may sign in to a team, and judging the SCIM user
//! it links to. No I/O and no clock: the caller passes "now", so every rule is unit-tested.
//!
//! Signatures are verified with `jsonwebtoken`; the claim checks are ours, so that each
//! failure has its own [`Denied`] variant naming the expected and the actual value.

use std::collections::BTreeSet;

use jsonwebtoken::jwk::Jwk;
use jsonwebtoken::{Algorithm, DecodingKey, Validation};
use serde::Deserialize;
use serde_json::Value;
use store::{EmailDomain, LinkBy, ResourceRecord};
use subtle::ConstantTimeEq;

use crate::error::Denied;

/// Signing algorithms accepted in ID tokens: asymmetric only (never `none` or HMAC, which
/// would let anyone knowing the client secret mint tokens).
const ACCEPTED: [Algorithm; 9] = [
    Algorithm::RS256,
    Algorithm::RS384,
    Algorithm::RS512,
    Algorithm::PS256,
    Algorithm::PS384,
    Algorithm::PS512,
    Algorithm::ES256,
    Algorithm::ES384,
    Algorithm::EdDSA,
];

/// One verification key of a provider.
struct VerifyKey {
    kid: Option<String>,
    /// The algorithm the JWKS pins the key to, if it does.
    alg: Option<Algorithm>,
    key: DecodingKey,
}

/// A provider's signing keys, parsed from its JWKS document.
pub struct KeySet {
    keys: Vec<VerifyKey>,
}

impl std::fmt::Debug for KeySet {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("KeySet")
            .field("kids", &self.kids())
            .finish()
    }
}

impl KeySet {
    /// Parses a JWKS document (`{"keys": [...]}`). Keys that cannot verify signatures
    /// (encryption keys, unknown key types, malformed entries) are skipped, so that one odd
    /// key does not break sign-in; an error only when the document itself is not a JWKS.
    pub fn from_jwks(document: &[u8]) -> Result<KeySet, String> {
        #[derive(Deserialize)]
        struct Doc {
            keys: Vec<Value>,
        }
        let doc: Doc = serde_json::from_slice(document).map_err(|e| format!("not a JWKS: {e}"))?;
        let mut keys = Vec::new();
        for raw in doc.keys {
            if raw
                .get("use")
                .and_then(Value::as_str)
                .is_some_and(|u| u != "sig")
            {
                continue;
            }
            let Ok(jwk) = serde_json::from_value::<Jwk>(raw) else {
                continue;
            };
            let alg = jwk
                .common
                .key_algorithm
                .and_then(|a| a.to_string().parse::<Algorithm>().ok());
            if alg.is_some_and(|a| !ACCEPTED.contains(&a)) {
                continue;
            }
            let Ok(key) = DecodingKey::from_jwk(&jwk) else {
                continue;
            };
            if key.family() == jsonwebtoken::AlgorithmFamily::Hmac {
                continue;
            }
            keys.push(VerifyKey {
                kid: jwk.common.key_id.clone(),
                alg,
                key,
            });
        }
        Ok(KeySet { keys })
    }

    /// Number of usable keys.
    pub fn len(&self) -> usize {
        self.keys.len()
    }

    /// True when no key is usable.
    pub fn is_empty(&self) -> bool {
        self.keys.is_empty()
    }

    /// The key IDs, for logs.
    pub fn kids(&self) -> Vec<String> {
        self.keys.iter().filter_map(|k| k.kid.clone()).collect()
    }

    /// True if a key with this `kid` is in the set.
    pub fn has_kid(&self, kid: &str) -> bool {
        self.keys.iter().any(|k| k.kid.as_deref() == Some(kid))
    }

    /// The keys that may have signed a token with this header: the one named by `kid`, or,
    /// for a token without `kid` (as some providers send), every key usable with `alg`.
    fn candidates(&self, kid: Option<&str>, alg: Algorithm) -> Vec<&VerifyKey> {
        self.keys
            .iter()
            .filter(|k| kid.is_none() || k.kid.as_deref() == kid)
            .filter(|k| k.alg.is_none_or(|a| a == alg))
            .filter(|k| k.key.family() == alg.family())
            .collect()
    }
}

/// The claims of an ID token that sshward reads (others are ignored).
#[derive(Clone, Debug, Default, Deserialize, PartialEq, Eq)]
pub struct IdClaims {
    /// Issuer.
    #[serde(default)]
    pub iss: Option<String>,
    /// Subject (per application in Entra).
    #[serde(default)]
    pub sub: Option<String>,
    /// Audience: a string or an array of strings.
    #[serde(default)]
    pub aud: Option<Value>,
    /// Authorized party (the client the token was issued to).
    #[serde(default)]
    pub azp: Option<String>,
    /// Expiry, unix seconds.
    #[serde(default)]
    pub exp: Option<i64>,
    /// Not before, unix seconds.
    #[serde(default)]
    pub nbf: Option<i64>,
    /// Issued at, unix seconds.
    #[serde(default)]
    pub iat: Option<i64>,
    /// The nonce of the authorization request.
    #[serde(default)]
    pub nonce: Option<String>,
    /// Entra tenant ID.
    #[serde(default)]
    pub tid: Option<String>,
    /// Entra object ID of the user.
    #[serde(default)]
    pub oid: Option<String>,
    /// The account name (Entra: the UPN or the sign-in email).
    #[serde(default)]
    pub preferred_username: Option<String>,
    /// User principal name (an optional claim in Entra).
    #[serde(default)]
    pub upn: Option<String>,
    /// Email address (not verified by Entra; used for the domain only as a last resort).
    #[serde(default)]
    pub email: Option<String>,
    /// Display name.
    #[serde(default)]
    pub name: Option<String>,
}

/// What a valid ID token must say, and the clock to judge it by.
#[derive(Clone, Debug)]
pub struct Expectations<'a> {
    /// The issuer the team trusts (exact string match).
    pub issuer: &'a str,
    /// The team's client ID, which must be in `aud`.
    pub client_id: &'a str,
    /// The nonce sent with the authorization request; `None` for the device flow, where no
    /// nonce is sent and the token comes straight from the provider's token endpoint.
    pub nonce: Option<&'a str>,
    /// Current unix time, seconds.
    pub now: i64,
    /// Allowed clock skew, seconds.
    pub leeway: i64,
}

/// Verifies the signature of `token` with `keys`, then its claims against `expected`.
pub fn verify_id_token(
    token: &str,
    keys: &KeySet,
    expected: &Expectations<'_>,
) -> Result<IdClaims, Denied> {
    let header =
        jsonwebtoken::decode_header(token).map_err(|e| Denied::Malformed(e.to_string()))?;
    if !ACCEPTED.contains(&header.alg) {
        return Err(Denied::Algorithm(format!("{:?}", header.alg)));
    }
    let candidates = keys.candidates(header.kid.as_deref(), header.alg);
    if candidates.is_empty() {
        return Err(match header.kid {
            Some(kid) => Denied::UnknownKey(kid),
            None => Denied::BadSignature,
        });
    }
    let mut validation = Validation::new(header.alg);
    // Claims are checked below, with our clock and our error messages.
    validation.validate_exp = false;
    validation.validate_nbf = false;
    validation.validate_aud = false;
    validation.required_spec_claims.clear();
    let mut last = Denied::BadSignature;
    for candidate in candidates {
        match jsonwebtoken::decode::<IdClaims>(token, &candidate.key, &validation) {
            Ok(data) => {
                check_claims(&data.claims, expected)?;
                return Ok(data.claims);
            }
            Err(e) => {
                use jsonwebtoken::errors::ErrorKind;
                last = match e.kind() {
                    ErrorKind::InvalidSignature
                    | ErrorKind::InvalidRsaKey(_)
                    | ErrorKind::InvalidEcdsaKey
                    | ErrorKind::InvalidEddsaKey => Denied::BadSignature,
                    _ => return Err(Denied::Malformed(e.to_string())),
                };
            }
        }
    }
    Err(last)
}

/// Checks issuer, audience, expiry, not-before and nonce of verified claims.
pub fn check_claims(claims: &IdClaims, expected: &Expectations<'_>) -> Result<(), Denied> {
    let iss = claims.iss.as_deref().ok_or(Denied::MissingClaim("iss"))?;
    if iss != expected.issuer {
        return Err(Denied::Issuer {
            expected: expected.issuer.to_owned(),
            actual: iss.to_owned(),
        });
    }
    let audiences: BTreeSet<&str> = match &claims.aud {
        Some(Value::String(a)) => [a.as_str()].into(),
        Some(Value::Array(list)) => list.iter().filter_map(Value::as_str).collect(),
        _ => return Err(Denied::MissingClaim("aud")),
    };
    let azp_ok = claims
        .azp
        .as_deref()
        .is_none_or(|a| a == expected.client_id);
    if !audiences.contains(expected.client_id) || !azp_ok {
        return Err(Denied::Audience {
            expected: expected.client_id.to_owned(),
            actual: claims
                .aud
                .as_ref()
                .map(Value::to_string)
                .unwrap_or_default(),
        });
    }
    let exp = claims.exp.ok_or(Denied::MissingClaim("exp"))?;
    if exp + expected.leeway <= expected.now {
        return Err(Denied::Expired(exp));
    }
    if let Some(nbf) = claims.nbf
        && nbf - expected.leeway > expected.now
    {
        return Err(Denied::NotYetValid(nbf));
    }
    if let Some(want) = expected.nonce {
        let got = claims.nonce.as_deref().ok_or(Denied::Nonce)?;
        if !bool::from(got.as_bytes().ct_eq(want.as_bytes())) {
            return Err(Denied::Nonce);
        }
    }
    if claims.sub.as_deref().is_none_or(str::is_empty) {
        return Err(Denied::MissingClaim("sub"));
    }
    Ok(())
}

/// A team's sign-in rules.
#[derive(Clone, Debug)]
pub struct TeamPolicy<'a> {
    /// The Entra tenant whose accounts may sign in; `None` skips the `tid` check (only
    /// for teams with an issuer override, where the issuer identifies the tenant).
    pub tenant_id: Option<&'a str>,
    /// Email domains allowed to sign in.
    pub allowed_domains: &'a [EmailDomain],
    /// How an account is linked to a SCIM user.
    pub link_by: LinkBy,
}

/// What identifies the SCIM user of an account.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum LinkKey {
    /// `userName` equal (ignoring case) to this account name.
    UserName(String),
    /// `externalId` equal to this Entra object ID.
    ExternalId(String),
}

/// An account that passed the team's rules, before the directory lookup.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Account {
    /// `preferred_username`, else `upn`, else `email`.
    pub login_name: String,
    /// The lower-cased domain of `login_name`.
    pub domain: String,
    /// How to find the SCIM user.
    pub link: LinkKey,
}

/// Checks the tenant and the domain of verified claims, and says how to find the SCIM
/// user. The domain is that of the account name (`preferred_username`/`upn`); `email`
/// counts only when neither is present, because Entra does not verify it.
pub fn check_account(claims: &IdClaims, policy: &TeamPolicy<'_>) -> Result<Account, Denied> {
    if let Some(tenant) = policy.tenant_id {
        let tid = claims.tid.as_deref().unwrap_or_default();
        if !tid.eq_ignore_ascii_case(tenant) {
            return Err(Denied::Tenant {
                expected: tenant.to_owned(),
                actual: tid.to_owned(),
            });
        }
    }
    let login_name = [&claims.preferred_username, &claims.upn, &claims.email]
        .into_iter()
        .flatten()
        .map(|s| s.trim())
        .find(|s| !s.is_empty())
        .ok_or(Denied::MissingClaim("preferred_username"))?
        .to_owned();
    let domain = login_name
        .rsplit_once('@')
        .map(|(_, d)| d.to_lowercase())
        .unwrap_or_default();
    if policy.allowed_domains.is_empty() {
        return Err(Denied::NoDomains);
    }
    if domain.is_empty() || !policy.allowed_domains.iter().any(|d| d.as_str() == domain) {
        return Err(Denied::Domain { domain });
    }
    let link = match policy.link_by {
        LinkBy::UserName => LinkKey::UserName(login_name.clone()),
        LinkBy::ObjectId => LinkKey::ExternalId(
            claims
                .oid
                .clone()
                .filter(|o| !o.is_empty())
                .ok_or(Denied::MissingClaim("oid"))?,
        ),
    };
    Ok(Account {
        login_name,
        domain,
        link,
    })
}

/// The SCIM user a sign-in is linked to.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LinkedUser {
    /// SCIM `id`.
    pub id: String,
    /// SCIM `userName`.
    pub user_name: String,
    /// SCIM `displayName`, if any.
    pub display_name: Option<String>,
}

/// Judges the directory lookup for `account`: exactly one user, and active. A user without
/// `active` counts as active (RFC 7643 makes it optional); `false` or Entra's string
/// `"False"` is disabled.
pub fn check_directory(account: &Account, found: &[ResourceRecord]) -> Result<LinkedUser, Denied> {
    let user = match found {
        [] => return Err(Denied::NotProvisioned(account.login_name.clone())),
        [one] => one,
        _ => {
            let key = match &account.link {
                LinkKey::UserName(n) | LinkKey::ExternalId(n) => n.clone(),
            };
            return Err(Denied::Ambiguous(key));
        }
    };
    let user_name = user
        .data
        .get("userName")
        .and_then(Value::as_str)
        .unwrap_or_default()
        .to_owned();
    let active = match user.data.get("active") {
        None | Some(Value::Null) => true,
        Some(Value::Bool(b)) => *b,
        Some(Value::String(s)) => s.eq_ignore_ascii_case("true"),
        Some(_) => false,
    };
    if !active {
        return Err(Denied::Disabled(user_name));
    }
    Ok(LinkedUser {
        id: user.id.clone(),
        display_name: user
            .data
            .get("displayName")
            .and_then(Value::as_str)
            .map(str::to_owned),
        user_name,
    })
}

#[cfg(test)]
#[path = "check_tests.rs"]
mod tests;
