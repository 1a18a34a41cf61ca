//! Sign-in tables (`Tx::login`): team OIDC settings, single-use flows, shared keys.

use ::store::{LinkBy, OidcSettingsUpdate, StoreError};
use time::{Duration, OffsetDateTime};

backend_tests! {
    fn oidc_settings_are_upserted_and_cleared(db) {
        let store = db.store();
        let team = store.write(|tx| tx.teams().create("acme", "Acme")).unwrap();
        let none = store.read(|tx| tx.login().oidc(team.id)).unwrap();
        assert_eq!((none.client_id, none.updated, none.link_by), (None, None, LinkBy::UserName));

        let update = OidcSettingsUpdate {
            client_id: Some(Some(" app-1 ".into())),
            client_secret_ref: Some(Some("env:ACME_SECRET".parse().unwrap())),
            issuer: Some(Some("http://127.0.0.1:9400".parse().unwrap())),
            link_by: Some(LinkBy::ObjectId),
        };
        let set = store.write(|tx| tx.login().set_oidc(team.id, &update)).unwrap();
        assert_eq!(set.client_id.as_deref(), Some("app-1"));
        assert_eq!(set.client_secret_ref.unwrap().to_string(), "env:ACME_SECRET");
        assert_eq!(set.issuer.unwrap().as_str(), "http://127.0.0.1:9400");
        assert_eq!(set.link_by, LinkBy::ObjectId);
        assert!(set.updated.is_some());
        // A change is a team change.
        assert_eq!(store.read(|tx| tx.teams().revision(team.id)).unwrap(), 1);

        // Only what is named changes; an empty string or Some(None) clears.
        let clear = OidcSettingsUpdate {
            issuer: Some(None),
            client_id: Some(Some(String::new())),
            ..OidcSettingsUpdate::default()
        };
        let after = store.write(|tx| tx.login().set_oidc(team.id, &clear)).unwrap();
        assert_eq!((after.issuer, after.client_id), (None, None));
        assert_eq!(
            after.client_secret_ref.map(|r| r.to_string()).as_deref(),
            Some("env:ACME_SECRET")
        );
        assert_eq!(after.link_by, LinkBy::ObjectId);

        // A secret itself cannot even be expressed: only a reference is stored.
        assert!("hunter2".parse::<::store::SecretRef>().is_err());
        let r = store.read(|tx| tx.login().set_oidc(team.id, &OidcSettingsUpdate::default()));
        assert!(matches!(r, Err(StoreError::Invalid(_))), "read transactions cannot write");
    }

    fn flows_are_taken_once(db) {
        let store = db.store();
        let team = store.write(|tx| tx.teams().create("acme", "Acme")).unwrap();
        let later = OffsetDateTime::now_utc() + Duration::minutes(10);
        store
            .write(|tx| tx.login().put_flow("k1", "auth", team.id, "{\"n\":1}", later))
            .unwrap();
        let got = store.read(|tx| tx.login().get_flow("k1", "auth")).unwrap().unwrap();
        assert_eq!((got.team, got.data.as_str()), (team.id, "{\"n\":1}"));
        assert_eq!(store.read(|tx| tx.login().get_flow("k1", "device")).unwrap(), None);
        assert!(store.write(|tx| tx.login().update_flow("k1", "{\"n\":2}")).unwrap());
        assert_eq!(store.write(|tx| tx.login().take_flow("k1", "device")).unwrap(), None);
        let taken = store.write(|tx| tx.login().take_flow("k1", "auth")).unwrap().unwrap();
        assert_eq!(taken.data, "{\"n\":2}");
        // A replay finds nothing.
        assert_eq!(store.write(|tx| tx.login().take_flow("k1", "auth")).unwrap(), None);
        assert!(!store.write(|tx| tx.login().update_flow("k1", "{}")).unwrap());
        // The same key twice is a conflict.
        store.write(|tx| tx.login().put_flow("k2", "auth", team.id, "{}", later)).unwrap();
        let dup = store.write(|tx| tx.login().put_flow("k2", "auth", team.id, "{}", later));
        assert!(matches!(dup, Err(StoreError::Conflict { .. })), "{dup:?}");
    }

    fn expired_flows_are_invisible_and_purged(db) {
        let store = db.store();
        let team = store.write(|tx| tx.teams().create("acme", "Acme")).unwrap();
        let past = OffsetDateTime::now_utc() - Duration::seconds(1);
        let later = OffsetDateTime::now_utc() + Duration::minutes(10);
        store
            .write(|tx| {
                tx.login().put_flow("old", "auth", team.id, "{}", past)?;
                tx.login().put_flow("new", "auth", team.id, "{}", later)
            })
            .unwrap();
        assert_eq!(store.read(|tx| tx.login().get_flow("old", "auth")).unwrap(), None);
        assert_eq!(store.write(|tx| tx.login().take_flow("old", "auth")).unwrap(), None);
        let purged = store
            .write(|tx| tx.login().purge_expired_flows(OffsetDateTime::now_utc()))
            .unwrap();
        assert_eq!(purged, 1);
        assert!(store.read(|tx| tx.login().get_flow("new", "auth")).unwrap().is_some());
    }

    fn concurrent_takes_hand_a_flow_to_one_caller(db) {
        let store = db.store();
        let team = store.write(|tx| tx.teams().create("acme", "Acme")).unwrap();
        let later = OffsetDateTime::now_utc() + Duration::minutes(10);
        for i in 0..20 {
            let key = format!("k{i}");
            store.write(|tx| tx.login().put_flow(&key, "auth", team.id, "{}", later)).unwrap();
        }
        let winners: Vec<usize> = std::thread::scope(|s| {
            let handles: Vec<_> = (0..4)
                .map(|_| {
                    let store = store.clone();
                    s.spawn(move || {
                        (0..20)
                            .filter(|i| {
                                let key = format!("k{i}");
                                loop {
                                    match store.write(|tx| tx.login().take_flow(&key, "auth")) {
                                        Ok(found) => return found.is_some(),
                                        Err(e) if e.is_transient() => continue,
                                        Err(e) => panic!("{e}"),
                                    }
                                }
                            })
                            .count()
                    })
                })
                .collect();
            handles.into_iter().map(|h| h.join().unwrap()).collect()
        });
        assert_eq!(winners.iter().sum::<usize>(), 20, "{winners:?}");
    }

    fn keys_are_generated_once(db) {
        let store = db.store();
        assert_eq!(store.read(|tx| tx.login().key("session_key")).unwrap(), None);
        let first = store.write(|tx| tx.login().key_or_insert("session_key", "AAAA")).unwrap();
        let second = store.write(|tx| tx.login().key_or_insert("session_key", "BBBB")).unwrap();
        assert_eq!((first.as_str(), second.as_str()), ("AAAA", "AAAA"));
        assert_eq!(store.read(|tx| tx.login().key("session_key")).unwrap().as_deref(), Some("AAAA"));
    }
}
