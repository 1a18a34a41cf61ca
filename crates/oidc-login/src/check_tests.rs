//! Unit tests of the token checks, with fixed RSA test keys (tests/keys) and in-process
//! signing.

use jsonwebtoken::{EncodingKey, Header};
use serde_json::{Map, json};
use time::OffsetDateTime;

use super::*;

const RSA1: &[u8] = include_bytes!("../tests/keys/rsa1.pem");
const RSA2: &[u8] = include_bytes!("../tests/keys/rsa2.pem");
const JWK1: &str = include_str!("../tests/keys/rsa1.jwk.json");
const JWK2: &str = include_str!("../tests/keys/rsa2.jwk.json");
const ISSUER: &str = "https://login.microsoftonline.com/11111111-2222-3333-4444-555555555555/v2.0";
const TENANT: &str = "11111111-2222-3333-4444-555555555555";
const CLIENT: &str = "sshward-client";
const NOW: i64 = 1_800_000_000;

type R = Result<(), Box<dyn std::error::Error>>;

fn keyset(jwks: &[&str]) -> Result<KeySet, String> {
    KeySet::from_jwks(format!("{{\"keys\":[{}]}}", jwks.join(",")).as_bytes())
}

fn claims() -> serde_json::Value {
    json!({
        "iss": ISSUER, "aud": CLIENT, "sub": "s-1", "exp": NOW + 3600, "iat": NOW,
        "nbf": NOW, "nonce": "n0nce", "tid": TENANT, "oid": "oid-1",
        "preferred_username": "Alice@Contoso.com", "email": "alice@contoso.com", "name": "Alice",
        "groups": ["would-be-admins"]
    })
}

fn sign(
    pem: &[u8],
    kid: Option<&str>,
    claims: &serde_json::Value,
) -> Result<String, Box<dyn std::error::Error>> {
    let mut header = Header::new(Algorithm::RS256);
    header.kid = kid.map(str::to_owned);
    Ok(jsonwebtoken::encode(
        &header,
        claims,
        &EncodingKey::from_rsa_pem(pem)?,
    )?)
}

fn expect(nonce: Option<&str>) -> Expectations<'_> {
    Expectations {
        issuer: ISSUER,
        client_id: CLIENT,
        nonce,
        now: NOW,
        leeway: 60,
    }
}

fn with(changes: serde_json::Value) -> serde_json::Value {
    let mut c = claims();
    if let (Some(c), Some(changes)) = (c.as_object_mut(), changes.as_object()) {
        for (k, v) in changes {
            if v.is_null() {
                c.remove(k);
            } else {
                c.insert(k.clone(), v.clone());
            }
        }
    }
    c
}

fn verify(token: &str) -> Result<IdClaims, Denied> {
    let keys = keyset(&[JWK1, JWK2]).map_err(Denied::Malformed)?;
    verify_id_token(token, &keys, &expect(Some("n0nce")))
}

#[test]
fn a_good_token_verifies() -> R {
    let c = verify(&sign(RSA1, Some("rsa1"), &claims())?)?;
    assert_eq!(c.preferred_username.as_deref(), Some("Alice@Contoso.com"));
    assert_eq!(c.tid.as_deref(), Some(TENANT));
    // A second key signs too.
    assert!(verify(&sign(RSA2, Some("rsa2"), &claims())?).is_ok());
    Ok(())
}

#[test]
fn tokens_without_kid_and_audience_lists_are_accepted() -> R {
    // As oidc-provider-mock sends them: no kid, aud as a list.
    let token = sign(RSA1, None, &with(json!({"aud": [CLIENT]})))?;
    let single = keyset(&[JWK1])?;
    assert!(verify_id_token(&token, &single, &expect(Some("n0nce"))).is_ok());
    // Without kid and several keys, each is tried.
    assert!(verify(&token).is_ok());
    assert!(verify(&sign(RSA2, None, &claims())?).is_ok());
    Ok(())
}

#[test]
fn signature_failures() -> R {
    let token = sign(RSA1, Some("rsa1"), &claims())?;
    // Tampered payload: another user's name, original signature.
    let forged = sign(
        RSA1,
        Some("rsa1"),
        &with(json!({"preferred_username": "root@contoso.com"})),
    )?;
    let mut parts: Vec<&str> = token.split('.').collect();
    parts[1] = forged.split('.').nth(1).unwrap_or_default();
    assert_eq!(verify(&parts.join(".")).err(), Some(Denied::BadSignature));
    // Signed by key 2 but naming key 1.
    assert_eq!(
        verify(&sign(RSA2, Some("rsa1"), &claims())?).err(),
        Some(Denied::BadSignature)
    );
    // Unknown kid (a rotated key not in the cached set).
    let only1 = keyset(&[JWK1])?;
    let rotated = sign(RSA2, Some("rsa2"), &claims())?;
    assert_eq!(
        verify_id_token(&rotated, &only1, &expect(Some("n0nce"))).err(),
        Some(Denied::UnknownKey("rsa2".into()))
    );
    // No kid, and the only cached key is not the signer.
    let unsigned_kid = sign(RSA2, None, &claims())?;
    assert_eq!(
        verify_id_token(&unsigned_kid, &only1, &expect(Some("n0nce"))).err(),
        Some(Denied::BadSignature)
    );
    Ok(())
}

#[test]
fn symmetric_and_unsigned_tokens_are_refused() -> R {
    let hs = jsonwebtoken::encode(
        &Header::new(Algorithm::HS256),
        &claims(),
        &EncodingKey::from_secret(b"the-client-secret-the-client-secret")?,
    )?;
    assert!(matches!(verify(&hs), Err(Denied::Algorithm(_))));
    let none = format!(
        "{}.{}.",
        URL_SAFE.encode(br#"{"alg":"none","typ":"JWT"}"#),
        URL_SAFE.encode(claims().to_string())
    );
    assert!(matches!(verify(&none), Err(Denied::Malformed(_))));
    assert!(matches!(verify("not-a-jwt"), Err(Denied::Malformed(_))));
    Ok(())
}

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD as URL_SAFE;

#[test]
fn claim_failures_have_their_own_reasons() -> R {
    let cases: Vec<(serde_json::Value, &str)> = vec![
        (json!({"iss": "https://evil.example/v2.0"}), "wrong_issuer"),
        (json!({"iss": null}), "missing_claim"),
        (json!({"aud": "someone-else"}), "wrong_audience"),
        (json!({"aud": ["someone-else", "other"]}), "wrong_audience"),
        (
            json!({"aud": [CLIENT, "other"], "azp": "other"}),
            "wrong_audience",
        ),
        (json!({"aud": null}), "missing_claim"),
        (json!({"exp": NOW - 61}), "expired"),
        (json!({"exp": null}), "missing_claim"),
        (json!({"nbf": NOW + 61}), "not_yet_valid"),
        (json!({"nonce": "another-sign-in"}), "wrong_nonce"),
        (json!({"nonce": null}), "wrong_nonce"),
        (json!({"sub": null}), "missing_claim"),
    ];
    for (change, code) in cases {
        let token = sign(RSA1, Some("rsa1"), &with(change.clone()))?;
        let err = verify(&token).err();
        assert_eq!(
            err.as_ref().map(Denied::code),
            Some(code),
            "{change}: {err:?}"
        );
    }
    // Within the leeway.
    assert!(
        verify(&sign(
            RSA1,
            Some("rsa1"),
            &with(json!({"exp": NOW - 30, "nbf": NOW + 30}))
        )?)
        .is_ok()
    );
    // The device flow sends no nonce and checks none.
    let keys = keyset(&[JWK1])?;
    let token = sign(RSA1, Some("rsa1"), &with(json!({"nonce": null})))?;
    assert!(verify_id_token(&token, &keys, &expect(None)).is_ok());
    Ok(())
}

#[test]
fn odd_keys_in_a_jwks_are_skipped() -> R {
    let keys = KeySet::from_jwks(
        format!(
            r#"{{"keys":[{JWK1},{{"kty":"RSA","use":"enc","kid":"e","n":"AQAB","e":"AQAB"}},
            {{"kty":"oct","kid":"h","k":"c2VjcmV0c2VjcmV0c2VjcmV0"}},{{"kty":"weird"}},
            {{"kty":"RSA","kid":"x","alg":"RS256"}}]}}"#
        )
        .as_bytes(),
    )?;
    assert_eq!(keys.kids(), vec!["rsa1".to_string()]);
    assert!(keys.has_kid("rsa1") && !keys.is_empty() && keys.len() == 1);
    assert!(KeySet::from_jwks(b"[]").is_err());
    Ok(())
}

fn policy(domains: &[EmailDomain]) -> TeamPolicy<'_> {
    TeamPolicy {
        tenant_id: Some(TENANT),
        allowed_domains: domains,
        link_by: LinkBy::UserName,
    }
}

fn parsed(changes: serde_json::Value) -> Result<IdClaims, serde_json::Error> {
    serde_json::from_value(with(changes))
}

#[test]
fn tenant_and_domain_rules() -> R {
    let domains: Vec<EmailDomain> = vec!["contoso.com".parse().expect("a domain")];
    let account = check_account(&parsed(json!({}))?, &policy(&domains))?;
    assert_eq!(account.login_name, "Alice@Contoso.com");
    assert_eq!(account.domain, "contoso.com");
    assert_eq!(account.link, LinkKey::UserName("Alice@Contoso.com".into()));
    // The tenant compares ignoring case.
    let upper = parsed(json!({"tid": TENANT.to_uppercase()}))?;
    assert!(check_account(&upper, &policy(&domains)).is_ok());
    let cases: Vec<(serde_json::Value, &str)> = vec![
        (
            json!({"tid": "99999999-2222-3333-4444-555555555555"}),
            "wrong_tenant",
        ),
        (json!({"tid": null}), "wrong_tenant"),
        (
            json!({"preferred_username": "mallory@fabrikam.com"}),
            "domain_not_allowed",
        ),
        (
            json!({"preferred_username": "alice@sub.contoso.com"}),
            "domain_not_allowed",
        ),
        (
            json!({"preferred_username": "no-at-sign"}),
            "domain_not_allowed",
        ),
        // The UPN decides, not the (unverified) email.
        (
            json!({"preferred_username": "mallory@fabrikam.com", "email": "x@contoso.com"}),
            "domain_not_allowed",
        ),
        (
            json!({"preferred_username": null, "upn": null, "email": null}),
            "missing_claim",
        ),
    ];
    for (change, code) in cases {
        let err = check_account(&parsed(change.clone())?, &policy(&domains)).err();
        assert_eq!(err.as_ref().map(Denied::code), Some(code), "{change}");
    }
    assert_eq!(
        check_account(&parsed(json!({}))?, &policy(&[])).err(),
        Some(Denied::NoDomains)
    );
    // upn, then email, stand in for a missing preferred_username.
    let upn = parsed(json!({"preferred_username": null, "upn": "bob@contoso.com"}))?;
    assert_eq!(
        check_account(&upn, &policy(&domains))?.login_name,
        "bob@contoso.com"
    );
    let email = parsed(json!({"preferred_username": null}))?;
    assert_eq!(
        check_account(&email, &policy(&domains))?.login_name,
        "alice@contoso.com"
    );
    // Without a configured tenant (issuer override), tid is not checked.
    let no_tenant = TeamPolicy {
        tenant_id: None,
        ..policy(&domains)
    };
    assert!(check_account(&parsed(json!({"tid": null}))?, &no_tenant).is_ok());
    // Linking by object ID needs oid.
    let by_oid = TeamPolicy {
        link_by: LinkBy::ObjectId,
        ..policy(&domains)
    };
    assert_eq!(
        check_account(&parsed(json!({}))?, &by_oid)?.link,
        LinkKey::ExternalId("oid-1".into())
    );
    assert_eq!(
        check_account(&parsed(json!({"oid": null}))?, &by_oid).err(),
        Some(Denied::MissingClaim("oid"))
    );
    Ok(())
}

fn user(id: &str, active: Option<serde_json::Value>) -> ResourceRecord {
    let mut data = Map::new();
    data.insert("userName".into(), json!("alice@contoso.com"));
    data.insert("displayName".into(), json!("Alice"));
    if let Some(a) = active {
        data.insert("active".into(), a);
    }
    ResourceRecord {
        id: id.into(),
        version: 1,
        created: OffsetDateTime::UNIX_EPOCH,
        last_modified: OffsetDateTime::UNIX_EPOCH,
        data,
    }
}

#[test]
fn directory_rules() {
    let account = Account {
        login_name: "Alice@Contoso.com".into(),
        domain: "contoso.com".into(),
        link: LinkKey::UserName("Alice@Contoso.com".into()),
    };
    let linked = check_directory(&account, &[user("u1", Some(json!(true)))]);
    assert_eq!(
        linked.map(|u| (u.id, u.display_name)),
        Ok(("u1".into(), Some("Alice".into())))
    );
    assert!(check_directory(&account, &[user("u1", None)]).is_ok());
    assert_eq!(
        check_directory(&account, &[]).err(),
        Some(Denied::NotProvisioned("Alice@Contoso.com".into()))
    );
    for disabled in [json!(false), json!("False"), json!(0)] {
        assert_eq!(
            check_directory(&account, &[user("u1", Some(disabled))])
                .err()
                .map(|d| d.code()),
            Some("disabled")
        );
    }
    let two = [user("u1", None), user("u2", None)];
    assert_eq!(
        check_directory(&account, &two).err().map(|d| d.code()),
        Some("ambiguous_user")
    );
}
