//! A tiny in-test OpenID provider (an actix app): discovery, a JWKS that the test can
//! change, and the RFC 8628 device endpoints. oidc-provider-mock has neither a device
//! grant nor key rotation with `kid`s; this fake fills both gaps. ID tokens are signed with
//! the test keys of tests/keys.

use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use actix_web::{HttpResponse, web};
use serde_json::{Value, json};
use testkit::server::{Loopback, Running};

use crate::support::{CLIENT_ID, TENANT};

pub const RSA1: &[u8] = include_bytes!("keys/rsa1.pem");
pub const RSA2: &[u8] = include_bytes!("keys/rsa2.pem");

/// The public JWK of a test key (`rsa1` or `rsa2`).
pub fn jwk(name: &str) -> Value {
    let text = match name {
        "rsa1" => include_str!("keys/rsa1.jwk.json"),
        _ => include_str!("keys/rsa2.jwk.json"),
    };
    serde_json::from_str(text).unwrap()
}

/// An RS256 ID token for alice@contoso.com from `issuer`, signed with `pem`, naming `kid`.
pub fn id_token(issuer: &str, pem: &[u8], kid: &str, nonce: Option<&str>) -> String {
    let now = jsonwebtoken::get_current_timestamp() as i64;
    let mut claims = json!({
        "iss": issuer, "aud": CLIENT_ID, "sub": "alice-sub", "exp": now + 300, "iat": now,
        "nbf": now, "tid": TENANT, "oid": "oid-alice", "preferred_username": "alice@contoso.com"
    });
    if let Some(n) = nonce {
        claims["nonce"] = json!(n);
    }
    let mut header = jsonwebtoken::Header::new(jsonwebtoken::Algorithm::RS256);
    header.kid = Some(kid.into());
    let key = jsonwebtoken::EncodingKey::from_rsa_pem(pem).unwrap();
    jsonwebtoken::encode(&header, &claims, &key).unwrap()
}

/// What the fake saw.
#[derive(Default)]
pub struct Seen {
    pub token_polls: AtomicUsize,
    pub secret_sent: AtomicBool,
    pub jwks_fetches: AtomicUsize,
    /// When set, the JWKS endpoint answers 503 (an outage).
    pub jwks_down: AtomicBool,
    /// While set, the JWKS endpoint does not answer (a provider that hangs).
    pub jwks_hold: AtomicBool,
}

#[derive(Clone)]
struct State {
    origin: String,
    seen: Arc<Seen>,
    keys: Arc<Mutex<Vec<Value>>>,
}

/// The running fake; stopped when dropped.
pub struct FakeProvider {
    pub origin: String,
    pub seen: Arc<Seen>,
    /// The JWKS served (initially the key `rsa1`).
    pub keys: Arc<Mutex<Vec<Value>>>,
    _running: Running,
}

impl FakeProvider {
    pub fn start() -> FakeProvider {
        let loopback = Loopback::bind();
        let origin = loopback.origin().to_owned();
        let state = State {
            origin: origin.clone(),
            seen: Arc::new(Seen::default()),
            keys: Arc::new(Mutex::new(vec![jwk("rsa1")])),
        };
        let (seen, keys) = (state.seen.clone(), state.keys.clone());
        let running = loopback.serve(move |cfg| {
            cfg.app_data(web::Data::new(state.clone()))
                .route(
                    "/.well-known/openid-configuration",
                    web::get().to(discovery),
                )
                .route("/jwks", web::get().to(jwks))
                .route("/device", web::post().to(device))
                .route("/token", web::post().to(token));
        });
        FakeProvider {
            origin,
            seen,
            keys,
            _running: running,
        }
    }
}

async fn discovery(fake: web::Data<State>) -> HttpResponse {
    let o = &fake.origin;
    HttpResponse::Ok().json(json!({
        "issuer": o, "authorization_endpoint": format!("{o}/authorize"),
        "token_endpoint": format!("{o}/token"), "jwks_uri": format!("{o}/jwks"),
        "device_authorization_endpoint": format!("{o}/device"),
        "response_types_supported": ["code"], "subject_types_supported": ["public"],
        "id_token_signing_alg_values_supported": ["RS256"]
    }))
}

async fn jwks(fake: web::Data<State>) -> HttpResponse {
    fake.seen.jwks_fetches.fetch_add(1, Ordering::SeqCst);
    while fake.seen.jwks_hold.load(Ordering::SeqCst) {
        actix_web::rt::time::sleep(std::time::Duration::from_millis(10)).await;
    }
    if fake.seen.jwks_down.load(Ordering::SeqCst) {
        return HttpResponse::ServiceUnavailable().finish();
    }
    let keys = fake.keys.lock().unwrap().clone();
    HttpResponse::Ok().json(json!({ "keys": keys }))
}

async fn device(fake: web::Data<State>, form: web::Form<Vec<(String, String)>>) -> HttpResponse {
    if form.iter().any(|(k, _)| k == "client_secret") {
        fake.seen.secret_sent.store(true, Ordering::SeqCst);
    }
    HttpResponse::Ok().json(json!({
        "device_code": "provider-device-code", "user_code": "WDJB-MJHT",
        "verification_uri": format!("{}/devicelogin", fake.origin),
        "expires_in": 120, "interval": 1
    }))
}

async fn token(fake: web::Data<State>, form: web::Form<Vec<(String, String)>>) -> HttpResponse {
    let get = |k: &str| form.iter().find(|(n, _)| n == k).map(|(_, v)| v.clone());
    if get("client_secret").is_some() {
        fake.seen.secret_sent.store(true, Ordering::SeqCst);
        // As Entra answers a secret sent by a public client (AADSTS700025).
        return HttpResponse::Unauthorized().json(json!({"error": "invalid_client"}));
    }
    assert_eq!(
        get("grant_type").as_deref(),
        Some("urn:ietf:params:oauth:grant-type:device_code")
    );
    assert_eq!(get("device_code").as_deref(), Some("provider-device-code"));
    // The person needs two polls' time to type the code.
    if fake.seen.token_polls.fetch_add(1, Ordering::SeqCst) < 2 {
        return HttpResponse::BadRequest().json(json!({"error": "authorization_pending"}));
    }
    HttpResponse::Ok().json(json!({
        "access_token": "opaque", "token_type": "Bearer", "expires_in": 3600,
        "id_token": id_token(&fake.origin, RSA1, "rsa1", None)
    }))
}
