//! Users: round-trips, versions, uniqueness, deletion, team isolation, paging, sorting.

use ::store::{ListQuery, Sort, SortKey, StoreError};
use serde_json::{Map, Value, json};

pub fn obj(v: Value) -> Map<String, Value> {
    v.as_object().cloned().expect("object")
}

fn ids(page: &::store::Page) -> Vec<String> {
    page.items.iter().map(|r| r.id.clone()).collect()
}

backend_tests! {
    fn insert_get_round_trip(db) {
        let store = db.store();
        let team = db.team("acme");
        let data = obj(json!({
            "userName": "Alice@Example.com",
            "externalId": "alice",
            "active": true,
            "displayName": "Alice Ä",
            "name": {"givenName": "Alice", "familyName": "Smith", "formatted": "Alice Smith"},
            "emails": [{"type": "work", "value": "alice@example.com", "primary": true}],
            "roles": [],
            "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User": {
                "employeeNumber": "7", "manager": {"value": "x"}
            },
            "x-unknown": {"nested": [1, 2.5, null, "s"]}
        }));
        let created = store.write(|tx| tx.users().insert(team, data.clone())).unwrap();
        assert_eq!(created.version, 1);
        assert_eq!(created.created, created.last_modified);
        assert!(uuid::Uuid::parse_str(&created.id).is_ok());
        assert_eq!(created.data, data);
        let got = store.read(|tx| tx.users().get(team, &created.id)).unwrap().unwrap();
        assert_eq!(got, created, "everything round-trips");
        let by_name = store
            .read(|tx| tx.users().get_by_user_name(team, "ALICE@example.COM"))
            .unwrap()
            .unwrap();
        assert_eq!(by_name.id, created.id);
        assert!(store.read(|tx| tx.users().get(team, "no-such-id")).unwrap().is_none());
    }

    fn server_keys_are_not_stored(db) {
        let store = db.store();
        let team = db.team("acme");
        let data = obj(json!({
            "userName": "a", "id": "mine", "meta": {"version": "x"},
            "schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"], "groups": [{"value": "g"}]
        }));
        let r = store.write(|tx| tx.users().insert(team, data)).unwrap();
        assert_ne!(r.id, "mine");
        assert_eq!(r.data, obj(json!({"userName": "a"})));
    }

    fn user_name_is_required(db) {
        let store = db.store();
        let team = db.team("acme");
        let r = store.write(|tx| tx.users().insert(team, obj(json!({"displayName": "x"}))));
        assert!(matches!(r, Err(StoreError::Invalid(_))), "{r:?}");
        let r = store.write(|tx| tx.users().insert(team, obj(json!({"userName": 5}))));
        assert!(matches!(r, Err(StoreError::Invalid(_))), "{r:?}");
    }

    fn unknown_team_is_not_found(db) {
        let store = db.store();
        let r = store.write(|tx| tx.users().insert(::store::TeamId(424_242), obj(json!({"userName": "a"}))));
        assert!(matches!(r, Err(StoreError::NotFound)), "{r:?}");
    }

    fn replace_bumps_version_and_checks_it(db) {
        let store = db.store();
        let team = db.team("acme");
        let r1 = store.write(|tx| tx.users().insert(team, obj(json!({"userName": "bob", "title": "x"})))).unwrap();
        let r2 = store
            .write(|tx| tx.users().replace(team, &r1.id, obj(json!({"userName": "Bobby", "active": false})), None))
            .unwrap();
        assert_eq!(r2.version, 2);
        assert_eq!(r2.created, r1.created);
        assert!(r2.last_modified >= r1.last_modified);
        assert_eq!(r2.data, obj(json!({"userName": "Bobby", "active": false})));

        let stale = store.write(|tx| tx.users().replace(team, &r1.id, obj(json!({"userName": "b"})), Some(1)));
        assert!(
            matches!(stale, Err(StoreError::VersionMismatch { expected: 1, current: 2 })),
            "{stale:?}"
        );
        let r3 = store
            .write(|tx| tx.users().replace(team, &r1.id, obj(json!({"userName": "b"})), Some(2)))
            .unwrap();
        assert_eq!(r3.version, 3);
        let got = store.read(|tx| tx.users().get(team, &r1.id)).unwrap().unwrap();
        assert_eq!(got, r3);

        let missing = store.write(|tx| tx.users().replace(team, "nope", obj(json!({"userName": "z"})), None));
        assert!(matches!(missing, Err(StoreError::NotFound)), "{missing:?}");
        let missing = store.write(|tx| tx.users().replace(team, "nope", obj(json!({"userName": "z"})), Some(1)));
        assert!(matches!(missing, Err(StoreError::NotFound)), "{missing:?}");

        let v = store.write(|tx| tx.users().touch(team, &r1.id, Some(3))).unwrap();
        assert_eq!(v, 4);
        let t = store.write(|tx| tx.touch(team, ::store::ResourceKind::User, &r1.id, Some(3)));
        assert!(matches!(t, Err(StoreError::VersionMismatch { expected: 3, current: 4 })), "{t:?}");
    }

    fn user_name_unique_ignoring_case(db) {
        let store = db.store();
        let team = db.team("acme");
        let other = db.team("other");
        store.write(|tx| tx.users().insert(team, obj(json!({"userName": "Alice@Example.com"})))).unwrap();
        let dup = store.write(|tx| tx.users().insert(team, obj(json!({"userName": "alice@EXAMPLE.com"}))));
        assert!(matches!(dup, Err(StoreError::Conflict { attribute: "userName" })), "{dup:?}");
        // Another team may use the same name.
        store.write(|tx| tx.users().insert(other, obj(json!({"userName": "alice@example.com"})))).unwrap();
        // Renaming onto a taken name conflicts too.
        let bob = store.write(|tx| tx.users().insert(team, obj(json!({"userName": "bob"})))).unwrap();
        let clash = store.write(|tx| tx.users().replace(team, &bob.id, obj(json!({"userName": "ALICE@example.com"})), None));
        assert!(matches!(clash, Err(StoreError::Conflict { attribute: "userName" })), "{clash:?}");
        // After a conflict inside a transaction the store stays usable.
        let count = store.read(|tx| tx.users().list(team, &ListQuery::default())).unwrap().total;
        assert_eq!(count, 2);
    }

    fn delete_is_idempotent_and_scoped(db) {
        let store = db.store();
        let team = db.team("acme");
        let other = db.team("other");
        let a = store.write(|tx| tx.users().insert(team, obj(json!({"userName": "a"})))).unwrap();
        assert!(!store.write(|tx| tx.users().delete(other, &a.id)).unwrap(), "other team cannot delete");
        assert!(store.read(|tx| tx.users().get(other, &a.id)).unwrap().is_none(), "nor read");
        assert!(store.write(|tx| tx.users().delete(team, &a.id)).unwrap());
        assert!(!store.write(|tx| tx.users().delete(team, &a.id)).unwrap());
        assert!(store.read(|tx| tx.users().get(team, &a.id)).unwrap().is_none());
        // The name is free again.
        store.write(|tx| tx.users().insert(team, obj(json!({"userName": "A"})))).unwrap();
    }

    fn paging_and_sorting(db) {
        let store = db.store();
        let team = db.team("acme");
        let names = ["delta", "Alpha", "charlie", "bravo", "echo"];
        let mut created = Vec::new();
        for (i, n) in names.iter().enumerate() {
            let mut data = obj(json!({"userName": n}));
            if i % 2 == 0 {
                data.insert("displayName".into(), json!(format!("D{}", 9 - i)));
            }
            created.push(store.write(|tx| tx.users().insert(team, data)).unwrap().id);
        }
        let list = |q: ListQuery<'_>| store.read(|tx| tx.users().list(team, &q)).unwrap();

        let all = list(ListQuery::default());
        assert_eq!(all.total, 5);
        assert_eq!(ids(&all), created, "default order is creation order");

        let page = list(ListQuery { start_index: 2, count: Some(2), ..ListQuery::default() });
        assert_eq!(page.total, 5);
        assert_eq!(ids(&page), created[1..3]);
        let zero = list(ListQuery { count: Some(0), ..ListQuery::default() });
        assert_eq!((zero.total, zero.items.len()), (5, 0));
        let beyond = list(ListQuery { start_index: 9, count: Some(3), ..ListQuery::default() });
        assert_eq!((beyond.total, beyond.items.len()), (5, 0));
        let start0 = list(ListQuery { start_index: 0, count: Some(1), ..ListQuery::default() });
        assert_eq!(ids(&start0), created[..1]);

        let by_name = list(ListQuery {
            sort: Some(Sort { key: SortKey::UserName, descending: false }),
            ..ListQuery::default()
        });
        let got: Vec<&str> = by_name.items.iter().map(|r| r.data["userName"].as_str().unwrap()).collect();
        assert_eq!(got, ["Alpha", "bravo", "charlie", "delta", "echo"], "case-insensitive order");
        let desc = list(ListQuery {
            sort: Some(Sort { key: SortKey::UserName, descending: true }),
            start_index: 2,
            count: Some(2),
            ..ListQuery::default()
        });
        let got: Vec<&str> = desc.items.iter().map(|r| r.data["userName"].as_str().unwrap()).collect();
        assert_eq!(got, ["delta", "charlie"]);

        // Missing displayName sorts last ascending, first descending.
        let by_display = list(ListQuery {
            sort: Some(Sort { key: SortKey::DisplayName, descending: false }),
            ..ListQuery::default()
        });
        let got: Vec<Option<&str>> =
            by_display.items.iter().map(|r| r.data.get("displayName").and_then(Value::as_str)).collect();
        assert_eq!(got, [Some("D5"), Some("D7"), Some("D9"), None, None]);
        let by_display = list(ListQuery {
            sort: Some(Sort { key: SortKey::DisplayName, descending: true }),
            ..ListQuery::default()
        });
        let got: Vec<Option<&str>> =
            by_display.items.iter().map(|r| r.data.get("displayName").and_then(Value::as_str)).collect();
        assert_eq!(&got[2..], [Some("D9"), Some("D7"), Some("D5")]);

        let newest = list(ListQuery {
            sort: Some(Sort { key: SortKey::Created, descending: true }),
            count: Some(1),
            ..ListQuery::default()
        });
        assert_eq!(ids(&newest), [created[4].clone()]);
    }

    fn teams_are_isolated_in_listings(db) {
        let store = db.store();
        let team = db.team("acme");
        let other = db.team("other");
        store.write(|tx| tx.users().insert(team, obj(json!({"userName": "a"})))).unwrap();
        store.write(|tx| tx.users().insert(other, obj(json!({"userName": "a"})))).unwrap();
        store.write(|tx| tx.users().insert(other, obj(json!({"userName": "b"})))).unwrap();
        let f = scim_core::filter::resolve(
            scim_core::filter::parse("userName pr").unwrap(),
            ::store::ResourceKind::User,
        )
        .unwrap();
        let q = ListQuery { filter: Some(&f), ..ListQuery::default() };
        assert_eq!(store.read(|tx| tx.users().list(team, &q)).unwrap().total, 1);
        assert_eq!(store.read(|tx| tx.users().list(other, &q)).unwrap().total, 2);
    }
}
