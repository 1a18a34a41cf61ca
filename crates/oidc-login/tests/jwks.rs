//! The provider cache against the fake provider: a token signed by a key the cache does
//! not know (a rotation announced in the JWKS) fetches the key set once; bogus `kid`s
//! cannot make sshward hammer the provider.

use std::sync::atomic::Ordering;
use std::time::Duration;

use oidc_login::check::Expectations;
use oidc_login::{CacheSettings, Denied, LoginError, Providers};

use crate::fake::{FakeProvider, RSA1, RSA2, id_token, jwk};
use crate::support::CLIENT_ID;

fn expect(issuer: &str) -> Expectations<'_> {
    Expectations {
        issuer,
        client_id: CLIENT_ID,
        nonce: Some("n1"),
        now: jsonwebtoken::get_current_timestamp() as i64,
        leeway: 60,
    }
}

#[test]
fn an_unknown_kid_fetches_the_key_set_once() {
    let fake = FakeProvider::start();
    let providers = Providers::new(CacheSettings {
        jwks_min_refresh: Duration::from_secs(60),
        ..CacheSettings::default()
    });
    let issuer = fake.origin.as_str();
    let fetches = || fake.seen.jwks_fetches.load(Ordering::SeqCst);

    let first = id_token(issuer, RSA1, "rsa1", Some("n1"));
    assert!(providers.verify(&first, &expect(issuer)).is_ok());
    assert!(providers.verify(&first, &expect(issuer)).is_ok());
    assert_eq!(fetches(), 1, "the key set is cached");

    // The provider rotates to a new key; the cache still has only rsa1.
    fake.keys.lock().unwrap().push(jwk("rsa2"));
    let rotated = id_token(issuer, RSA2, "rsa2", Some("n1"));
    let claims = providers
        .verify(&rotated, &expect(issuer))
        .expect("verified after a refresh");
    assert_eq!(
        claims.preferred_username.as_deref(),
        Some("alice@contoso.com")
    );
    assert_eq!(fetches(), 2, "one fetch for the unknown kid");

    // A kid nobody knows: no second fetch within jwks_min_refresh.
    let bogus = id_token(issuer, RSA2, "bogus", Some("n1"));
    let err = providers.verify(&bogus, &expect(issuer)).err();
    assert!(
        matches!(&err, Some(LoginError::Denied(Denied::UnknownKey(k))) if k == "bogus"),
        "{err:?}"
    );
    assert_eq!(fetches(), 2);
}

#[test]
fn without_rate_limit_each_unknown_kid_fetches_exactly_once() {
    let fake = FakeProvider::start();
    let providers = Providers::new(CacheSettings {
        jwks_min_refresh: Duration::ZERO,
        ..CacheSettings::default()
    });
    let issuer = fake.origin.as_str();
    let bogus = id_token(issuer, RSA1, "bogus", Some("n1"));
    for round in 1..=3 {
        let err = providers.verify(&bogus, &expect(issuer)).err();
        assert!(
            matches!(err, Some(LoginError::Denied(Denied::UnknownKey(_)))),
            "{err:?}"
        );
        // One fetch per attempt: the first fills the cold cache (a key set just fetched is
        // not fetched again), each later one refreshes it once.
        assert_eq!(fake.seen.jwks_fetches.load(Ordering::SeqCst), round);
    }
}

#[test]
fn an_outage_keeps_the_last_keys_and_retries_later() {
    let fake = FakeProvider::start();
    let providers = Providers::new(CacheSettings {
        jwks_max_age: Duration::from_secs(2),
        ..CacheSettings::default()
    });
    let issuer = fake.origin.as_str();
    let token = id_token(issuer, RSA1, "rsa1", Some("n1"));
    assert!(providers.verify(&token, &expect(issuer)).is_ok());
    std::thread::sleep(Duration::from_millis(2100));
    fake.seen.jwks_down.store(true, Ordering::SeqCst);
    // The cached keys are stale and the provider is down: sign-in goes on with them...
    assert!(providers.verify(&token, &expect(issuer)).is_ok());
    assert_eq!(fake.seen.jwks_fetches.load(Ordering::SeqCst), 2);
    // ...and the next sign-ins do not wait for the provider again at once.
    assert!(providers.verify(&token, &expect(issuer)).is_ok());
    assert_eq!(fake.seen.jwks_fetches.load(Ordering::SeqCst), 2);
}

#[test]
fn a_hanging_key_set_fetch_does_not_hold_up_other_sign_ins() {
    let fake = FakeProvider::start();
    // Every verification wants a fresh key set.
    let providers = std::sync::Arc::new(Providers::new(CacheSettings {
        jwks_max_age: Duration::ZERO,
        ..CacheSettings::default()
    }));
    let issuer = fake.origin.clone();
    let token = id_token(&issuer, RSA1, "rsa1", Some("n1"));
    assert!(providers.verify(&token, &expect(&issuer)).is_ok());
    let fetches = || fake.seen.jwks_fetches.load(Ordering::SeqCst);
    assert_eq!(fetches(), 1);

    // One sign-in starts a refresh, and the provider hangs.
    fake.seen.jwks_hold.store(true, Ordering::SeqCst);
    let verify = |providers: std::sync::Arc<Providers>| {
        let (issuer, token) = (issuer.clone(), token.clone());
        let (done, finished) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            let _ = done.send(providers.verify(&token, &expect(&issuer)).is_ok());
        });
        finished
    };
    let hanging = verify(providers.clone());
    while fetches() < 2 {
        std::thread::sleep(Duration::from_millis(5));
    }
    // Another sign-in meanwhile uses the cached key set instead of waiting for it.
    let other = verify(providers.clone());
    assert_eq!(other.recv_timeout(Duration::from_secs(10)), Ok(true));
    assert_eq!(fetches(), 2, "no second fetch while one is in flight");
    fake.seen.jwks_hold.store(false, Ordering::SeqCst);
    assert_eq!(hanging.recv_timeout(Duration::from_secs(20)), Ok(true));
}
