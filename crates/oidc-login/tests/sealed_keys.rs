//! The generated session and access-token keys are stored sealed with the key-encryption
//! key; a key an earlier version stored in clear is sealed in place and keeps working.

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use keyring::Kek;
use oidc_login::Keys;

#[test]
fn generated_keys_are_sealed_and_clear_ones_get_sealed() {
    let db = testkit::db::sqlite();
    let store = db.store();
    // An earlier version's clear access-token key.
    let clear = STANDARD.encode([42u8; 64]);
    store
        .write(|tx| tx.login().key_or_insert("access_token_key", &clear))
        .unwrap();
    let kek = Kek::generate().unwrap();
    let first = Keys::load(store, &kek, None, None).unwrap();
    for name in ["session_key", "access_token_key"] {
        let stored = store.read(|tx| tx.login().key(name)).unwrap().unwrap();
        assert!(Kek::is_sealed(&stored), "{name} is sealed: {stored}");
        assert!(!stored.contains(&clear), "{name}");
    }
    // The same keys come back: a token signed before opens after.
    let claims = access_token::AccessClaims {
        iss: "https://sshward.example".into(),
        aud: access_token::AUDIENCE.into(),
        sub: "u1".into(),
        team: "acme".into(),
        user_name: "alice".into(),
        iat: 1,
        exp: i64::MAX / 2,
        jti: "j".into(),
        via: access_token::Via::Device,
    };
    let token = first.token.issue(&claims).unwrap();
    let again = Keys::load(store, &kek, None, None).unwrap();
    assert_eq!(
        again
            .token
            .verify(&token, "https://sshward.example")
            .unwrap(),
        claims
    );
    let from_clear = access_token::TokenKey::new(&[42u8; 64]).unwrap();
    assert!(
        from_clear.verify(&token, "https://sshward.example").is_ok(),
        "the clear key was kept, sealed"
    );
    // Another key-encryption key opens none of them.
    let err = Keys::load(store, &Kek::generate().unwrap(), None, None).unwrap_err();
    assert!(err.to_string().contains("key-encryption key"), "{err}");
}
