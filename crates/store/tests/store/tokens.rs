//! SCIM tokens: secrets, constant-time authentication, revocation, expiry, last use.

use ::store::{StoreError, TOKEN_PREFIX};
use time::{Duration, OffsetDateTime};

backend_tests! {
    fn create_and_authenticate(db) {
        let store = db.store();
        let team = db.team("acme");
        let other = db.team("other");
        let (info, secret) = store.write(|tx| tx.tokens().create(team, "entra", None)).unwrap();
        assert!(secret.starts_with(TOKEN_PREFIX));
        assert_eq!(secret.len(), TOKEN_PREFIX.len() + 43);
        assert_eq!(info.team, team);
        assert_eq!(info.label, "entra");
        assert_eq!(info.last_used, None);

        let (t, i) = store
            .read(|tx| tx.tokens().authenticate("acme", &secret))
            .unwrap()
            .expect("valid token");
        assert_eq!(t.id, team);
        assert_eq!(i, info);

        // Wrong secret, other team's URL, unknown team.
        assert!(store.read(|tx| tx.tokens().authenticate("acme", "sshw_wrong")).unwrap().is_none());
        assert!(store.read(|tx| tx.tokens().authenticate("other", &secret)).unwrap().is_none());
        assert!(store.read(|tx| tx.tokens().authenticate("nope", &secret)).unwrap().is_none());
        let (_, other_secret) = store.write(|tx| tx.tokens().create(other, "x", None)).unwrap();
        assert!(store.read(|tx| tx.tokens().authenticate("acme", &other_secret)).unwrap().is_none());
    }

    fn several_tokens_rotation_and_revocation(db) {
        let store = db.store();
        let team = db.team("acme");
        let other = db.team("other");
        let (old, old_secret) = store.write(|tx| tx.tokens().create(team, "old", None)).unwrap();
        let (new, new_secret) = store.write(|tx| tx.tokens().create(team, "new", None)).unwrap();
        assert_ne!(old_secret, new_secret);
        let list = store.read(|tx| tx.tokens().list(team)).unwrap();
        assert_eq!(list.iter().map(|t| t.id).collect::<Vec<_>>(), [old.id, new.id]);

        // Another team cannot revoke it.
        assert!(!store.write(|tx| tx.tokens().revoke(other, old.id)).unwrap());
        assert!(store.write(|tx| tx.tokens().revoke(team, old.id)).unwrap());
        assert!(!store.write(|tx| tx.tokens().revoke(team, old.id)).unwrap(), "second revoke");
        assert!(store.read(|tx| tx.tokens().authenticate("acme", &old_secret)).unwrap().is_none());
        assert_eq!(
            store.read(|tx| tx.tokens().authenticate("acme", &new_secret)).unwrap().map(|(_, i)| i.id),
            Some(new.id)
        );
        let list = store.read(|tx| tx.tokens().list(team)).unwrap();
        assert!(list[0].revoked.is_some());
        assert!(list[1].revoked.is_none());
    }

    fn expired_tokens_are_refused(db) {
        let store = db.store();
        let team = db.team("acme");
        let past = OffsetDateTime::now_utc() - Duration::minutes(1);
        let future = OffsetDateTime::now_utc() + Duration::hours(1);
        let (_, expired) = store.write(|tx| tx.tokens().create(team, "e", Some(past))).unwrap();
        let (info, valid) = store.write(|tx| tx.tokens().create(team, "v", Some(future))).unwrap();
        assert!(store.read(|tx| tx.tokens().authenticate("acme", &expired)).unwrap().is_none());
        assert!(store.read(|tx| tx.tokens().authenticate("acme", &valid)).unwrap().is_some());
        assert!(info.is_valid_at(OffsetDateTime::now_utc()));
        assert!(!info.is_valid_at(future + Duration::seconds(1)));
    }

    fn touch_writes_at_most_once_a_minute(db) {
        let store = db.store();
        let team = db.team("acme");
        let (info, _) = store.write(|tx| tx.tokens().create(team, "t", None)).unwrap();
        let t0 = OffsetDateTime::now_utc();
        assert!(info.needs_touch(t0));
        assert!(store.write(|tx| tx.tokens().touch_token(info.id, t0)).unwrap());
        assert!(!store.write(|tx| tx.tokens().touch_token(info.id, t0 + Duration::seconds(30))).unwrap());
        assert!(store.write(|tx| tx.tokens().touch_token(info.id, t0 + Duration::seconds(61))).unwrap());
        let listed = store.read(|tx| tx.tokens().list(team)).unwrap();
        let used = listed[0].last_used.expect("last_used set");
        assert!((used - (t0 + Duration::seconds(61))).abs() < Duration::milliseconds(1));
        assert!(!listed[0].needs_touch(t0 + Duration::seconds(90)));
        assert!(listed[0].needs_touch(t0 + Duration::seconds(122)));
        let r = store.read(|tx| tx.tokens().touch_token(info.id, t0));
        assert!(matches!(r, Err(StoreError::Invalid(_))));
    }
}
