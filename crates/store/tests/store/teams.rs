//! Teams: creation, slugs, updates, revisions.

use ::store::{StoreError, TeamUpdate};
use serde_json::json;

fn user(name: &str) -> serde_json::Map<String, serde_json::Value> {
    json!({ "userName": name }).as_object().cloned().unwrap()
}

backend_tests! {
    fn create_get_list(db) {
        let store = db.store();
        let acme = store.write(|tx| tx.teams().create("acme", " Acme Corp ")).unwrap();
        assert_eq!(acme.slug, "acme");
        assert_eq!(acme.display_name, "Acme Corp");
        assert_eq!(acme.revision, 0);
        assert!(acme.allowed_domains.is_empty());
        let beta = store.write(|tx| tx.teams().create("beta", "Beta")).unwrap();
        assert_ne!(acme.id, beta.id);

        let found = store.read(|tx| tx.teams().get_by_slug("acme")).unwrap();
        assert_eq!(found, Some(acme.clone()));
        assert_eq!(store.read(|tx| tx.teams().get_by_slug("nope")).unwrap(), None);
        assert_eq!(store.read(|tx| tx.teams().get(beta.id)).unwrap(), beta);
        let slugs: Vec<String> = store
            .read(|tx| tx.teams().list())
            .unwrap()
            .into_iter()
            .map(|t| t.slug)
            .collect();
        assert_eq!(slugs, ["acme", "beta"]);
    }

    fn slugs_are_validated_and_unique(db) {
        let store = db.store();
        store.write(|tx| tx.teams().create("acme", "Acme")).unwrap();
        let dup = store.write(|tx| tx.teams().create("acme", "Other"));
        assert!(matches!(dup, Err(StoreError::Conflict { attribute: "slug" })), "{dup:?}");
        for bad in ["Acme", "-x", "a b", ""] {
            let r = store.write(|tx| tx.teams().create(bad, "x"));
            assert!(matches!(r, Err(StoreError::Invalid(_))), "{bad}: {r:?}");
        }
    }

    fn update_fields(db) {
        let store = db.store();
        let team = db.team("acme");
        let update = TeamUpdate {
            display_name: Some("ACME Inc".into()),
            entra_tenant_id: Some(Some("8E9A0B1C-0000-4000-8000-000000000001".parse().unwrap())),
            allowed_domains: Some(
                ["@Acme.example", "acme.example", "b.example"]
                    .iter()
                    .map(|d| d.parse().unwrap())
                    .collect(),
            ),
        };
        let t = store.write(|tx| tx.teams().update(team, &update)).unwrap();
        assert_eq!(t.display_name, "ACME Inc");
        assert_eq!(
            t.entra_tenant_id.as_ref().map(|t| t.as_str()),
            Some("8e9a0b1c-0000-4000-8000-000000000001")
        );
        let domains: Vec<&str> = t.allowed_domains.iter().map(|d| d.as_str()).collect();
        assert_eq!(domains, ["acme.example", "b.example"]);
        let cleared = store
            .write(|tx| {
                tx.teams().update(
                    team,
                    &TeamUpdate { entra_tenant_id: Some(None), ..TeamUpdate::default() },
                )
            })
            .unwrap();
        assert_eq!(cleared.entra_tenant_id, None);
        assert_eq!(cleared.display_name, "ACME Inc");
        // An invalid domain cannot even be expressed.
        assert!(matches!("not a domain".parse::<::store::EmailDomain>(), Err(StoreError::Invalid(_))));
        let missing = store.write(|tx| tx.teams().update(::store::TeamId(999_999), &TeamUpdate::default()));
        assert!(matches!(missing, Err(StoreError::NotFound)), "{missing:?}");
    }

    fn revision_changes_once_per_committed_write(db) {
        let store = db.store();
        let team = db.team("acme");
        let other = db.team("other");
        let rev = |t| store.read(|tx| tx.teams().revision(t)).unwrap();
        let r0 = rev(team);
        let o0 = rev(other);

        // Two writes in one transaction: one bump.
        store
            .write(|tx| {
                tx.users().insert(team, user("a"))?;
                tx.users().insert(team, user("b"))
            })
            .unwrap();
        assert_eq!(rev(team), r0 + 1);
        assert_eq!(rev(other), o0, "other teams are untouched");

        // A failed transaction changes nothing.
        let failed: Result<(), StoreError> = store.write(|tx| {
            tx.users().insert(team, user("c"))?;
            Err(StoreError::Invalid("abort".into()))
        });
        assert!(failed.is_err());
        assert_eq!(rev(team), r0 + 1);
        assert!(store.read(|tx| tx.users().get_by_user_name(team, "c")).unwrap().is_none());

        // Reads change nothing; explicit bumps return the new value.
        store.read(|tx| tx.users().get_by_user_name(team, "a")).unwrap();
        assert_eq!(rev(team), r0 + 1);
        let bumped = store.write(|tx| tx.teams().bump_revision(team)).unwrap();
        assert_eq!(bumped, r0 + 2);
        assert_eq!(rev(team), r0 + 2);
    }

    fn writes_are_refused_in_read_transactions(db) {
        let store = db.store();
        let team = db.team("acme");
        let r = store.read(|tx| tx.users().insert(team, user("a")));
        assert!(matches!(r, Err(StoreError::Invalid(_))), "{r:?}");
        let r = store.read(|tx| tx.teams().create("x", "x"));
        assert!(matches!(r, Err(StoreError::Invalid(_))), "{r:?}");
        assert!(store.read(|tx| tx.users().get_by_user_name(team, "a")).unwrap().is_none());
    }

    fn ping_and_backend(db) {
        let store = db.store();
        store.ping().unwrap();
        let expected = match db.backend {
            testkit::db::Backend::Sqlite => "sqlite",
            testkit::db::Backend::Postgres => "postgres",
        };
        assert_eq!(store.backend().name(), expected);
    }
}
