//! Groups and membership rows.

use ::store::{ListQuery, ResourceKind, StoreError, TeamId};
use serde_json::json;

use super::users::obj;

fn user(db: &testkit::db::TestDb, team: TeamId, name: &str) -> String {
    db.store()
        .write(|tx| tx.users().insert(team, obj(json!({"userName": name}))))
        .unwrap()
        .id
}

fn group(db: &testkit::db::TestDb, team: TeamId, name: &str) -> String {
    db.store()
        .write(|tx| tx.groups().insert(team, obj(json!({"displayName": name}))))
        .unwrap()
        .id
}

backend_tests! {
    fn group_round_trip_and_unique_display_name(db) {
        let store = db.store();
        let team = db.team("acme");
        let other = db.team("other");
        let data = obj(json!({
            "displayName": "Ops Team",
            "externalId": "g-1",
            "members": [{"value": "ignored"}],
            "http://schemas.microsoft.com/2006/11/ResourceManagement/ADSCIM/2.0/Group": {"x": 1}
        }));
        let g = store.write(|tx| tx.groups().insert(team, data)).unwrap();
        assert!(!g.data.contains_key("members"), "members are rows, not data");
        assert_eq!(store.read(|tx| tx.groups().get(team, &g.id)).unwrap().unwrap(), g);
        let dup = store.write(|tx| tx.groups().insert(team, obj(json!({"displayName": "OPS team"}))));
        assert!(matches!(dup, Err(StoreError::Conflict { attribute: "displayName" })), "{dup:?}");
        store.write(|tx| tx.groups().insert(other, obj(json!({"displayName": "Ops Team"})))).unwrap();
        let none = store.write(|tx| tx.groups().insert(team, obj(json!({"externalId": "x"}))));
        assert!(matches!(none, Err(StoreError::Invalid(_))), "{none:?}");

        let renamed = store
            .write(|tx| tx.groups().replace(team, &g.id, obj(json!({"displayName": "SRE"})), Some(1)))
            .unwrap();
        assert_eq!(renamed.version, 2);
        let stale = store.write(|tx| tx.groups().replace(team, &g.id, obj(json!({"displayName": "x"})), Some(1)));
        assert!(matches!(stale, Err(StoreError::VersionMismatch { .. })));
    }

    fn add_remove_members_idempotently(db) {
        let store = db.store();
        let team = db.team("acme");
        let alice = user(db, team, "alice");
        let bob = user(db, team, "bob");
        let carol = user(db, team, "carol");
        let g = group(db, team, "devs");

        let added = store.write(|tx| tx.groups().add_members(team, &g, &[&alice, &bob, &alice])).unwrap();
        assert_eq!(added, 2);
        let again = store.write(|tx| tx.groups().add_members(team, &g, &[alice.as_str(), carol.as_str()])).unwrap();
        assert_eq!(again, 1, "alice was a member already");
        assert_eq!(store.read(|tx| tx.groups().member_count(team, &g)).unwrap(), 3);
        assert!(store.read(|tx| tx.groups().is_member(team, &g, &bob)).unwrap());

        let removed = store.write(|tx| tx.groups().remove_members(team, &g, &[&bob, "not-a-member"])).unwrap();
        assert_eq!(removed, 1);
        let removed = store.write(|tx| tx.groups().remove_members(team, &g, &[&bob])).unwrap();
        assert_eq!(removed, 0, "removing a missing member is a no-op");
        let members: Vec<String> =
            store.read(|tx| tx.groups().members(team, &g)).unwrap().into_iter().map(|m| m.value).collect();
        assert_eq!(members, [alice.clone(), carol.clone()]);

        assert_eq!(store.write(|tx| tx.groups().clear_members(team, &g)).unwrap(), 2);
        assert!(store.read(|tx| tx.groups().members(team, &g)).unwrap().is_empty());

        let missing = store.write(|tx| tx.groups().add_members(team, "no-group", &[&alice]));
        assert!(matches!(missing, Err(StoreError::NotFound)), "{missing:?}");
        let missing = store.read(|tx| tx.groups().members(team, "no-group"));
        assert!(matches!(missing, Err(StoreError::NotFound)), "{missing:?}");
    }

    fn unknown_and_foreign_members_are_refused_without_orphans(db) {
        let store = db.store();
        let team = db.team("acme");
        let other = db.team("other");
        let alice = user(db, team, "alice");
        let stranger = user(db, other, "stranger");
        let g = group(db, team, "devs");
        let other_group = group(db, team, "ops");

        let r = store.write(|tx| tx.groups().add_members(team, &g, &[&alice, &stranger, "nope"]));
        match r {
            Err(StoreError::UnknownMembers(ids)) => assert_eq!(ids, [stranger.clone(), "nope".to_string()]),
            other => panic!("expected UnknownMembers, got {other:?}"),
        }
        assert_eq!(store.read(|tx| tx.groups().member_count(team, &g)).unwrap(), 0, "nothing added");
        // Groups are not members (only users are).
        let r = store.write(|tx| tx.groups().add_members(team, &g, &[&other_group]));
        assert!(matches!(r, Err(StoreError::UnknownMembers(_))), "{r:?}");
        // A team cannot reach another team's group.
        let r = store.write(|tx| tx.groups().add_members(other, &g, &[&stranger]));
        assert!(matches!(r, Err(StoreError::NotFound)), "{r:?}");
    }

    fn members_display_and_user_groups(db) {
        let store = db.store();
        let team = db.team("acme");
        let alice = store
            .write(|tx| tx.users().insert(team, obj(json!({"userName": "alice", "displayName": "Alice A"}))))
            .unwrap()
            .id;
        let bob = user(db, team, "bob");
        let devs = group(db, team, "Devs");
        let admins = group(db, team, "admins");
        store.write(|tx| tx.groups().add_members(team, &devs, &[&alice, &bob])).unwrap();
        store.write(|tx| tx.groups().add_members(team, &admins, &[&alice])).unwrap();

        let members = store.read(|tx| tx.groups().members(team, &devs)).unwrap();
        let mut shown: Vec<(&str, &str, &str)> =
            members.iter().map(|m| (m.value.as_str(), m.display.as_str(), m.member_type)).collect();
        shown.sort();
        let mut want = [(alice.as_str(), "Alice A", "User"), (bob.as_str(), "bob", "User")];
        want.sort();
        assert_eq!(shown, want);

        let groups = store.read(|tx| tx.groups().groups_of_user(team, &alice)).unwrap();
        let names: Vec<&str> = groups.iter().map(|g| g.display_name.as_str()).collect();
        assert_eq!(names, ["admins", "Devs"]);
        let many = store.read(|tx| tx.groups().groups_of_users(team, &[&alice, &bob])).unwrap();
        assert_eq!(many[&alice].len(), 2);
        assert_eq!(many[&bob].len(), 1);
        let by_group = store.read(|tx| tx.groups().members_of_groups(team, &[&devs, &admins])).unwrap();
        assert_eq!(by_group[&devs].len(), 2);
        assert_eq!(by_group[&admins].len(), 1);
    }

    fn deleting_users_and_groups_removes_rows(db) {
        let store = db.store();
        let team = db.team("acme");
        let alice = user(db, team, "alice");
        let bob = user(db, team, "bob");
        let g = group(db, team, "devs");
        store.write(|tx| tx.groups().add_members(team, &g, &[&alice, &bob])).unwrap();
        let v_before = store.read(|tx| tx.groups().get(team, &g)).unwrap().unwrap().version;

        assert!(store.write(|tx| tx.users().delete(team, &alice)).unwrap());
        let members = store.read(|tx| tx.groups().members(team, &g)).unwrap();
        assert_eq!(members.len(), 1);
        let v_after = store.read(|tx| tx.groups().get(team, &g)).unwrap().unwrap().version;
        assert!(v_after > v_before, "the group's members changed, so did its version");

        assert!(store.write(|tx| tx.groups().delete(team, &g)).unwrap());
        assert!(!store.write(|tx| tx.groups().delete(team, &g)).unwrap());
        assert!(store.read(|tx| tx.groups().groups_of_user(team, &bob)).unwrap().is_empty());
        // A group with the same name can be made again, and bob can join it.
        let g2 = group(db, team, "DEVS");
        assert_eq!(store.write(|tx| tx.groups().add_members(team, &g2, &[&bob])).unwrap(), 1);
    }

    fn touch_after_member_change(db) {
        let store = db.store();
        let team = db.team("acme");
        let alice = user(db, team, "alice");
        let g = group(db, team, "devs");
        let v = store
            .write(|tx| {
                tx.groups().add_members(team, &g, &[&alice])?;
                tx.touch(team, ResourceKind::Group, &g, Some(1))
            })
            .unwrap();
        assert_eq!(v, 2);
        let r = store.write(|tx| tx.touch(team, ResourceKind::Group, "missing", None));
        assert!(matches!(r, Err(StoreError::NotFound)), "{r:?}");
    }

    fn reading_groups_never_touches_the_member_table(db) {
        let store = db.store();
        let team = db.team("acme");
        let alice = user(db, team, "alice");
        let g = group(db, team, "devs");
        store.write(|tx| tx.groups().add_members(team, &g, &[&alice])).unwrap();
        // Take the member table away: group reads that do not ask for members still work.
        db.raw_execute("DROP TABLE scim_group_members");
        assert!(store.read(|tx| tx.groups().get(team, &g)).unwrap().is_some());
        let f = scim_core::filter::resolve(
            scim_core::filter::parse("displayName eq \"DEVS\"").unwrap(),
            ResourceKind::Group,
        )
        .unwrap();
        let page = store
            .read(|tx| tx.groups().list(team, &ListQuery { filter: Some(&f), ..ListQuery::default() }))
            .unwrap();
        assert_eq!(page.total, 1);
        assert!(store.read(|tx| tx.groups().members(team, &g)).is_err(), "members do need it");
    }

    fn one_member_in_a_large_group_is_one_row(db) {
        let store = db.store();
        let team = db.team("acme");
        let g = group(db, team, "everyone");
        let ids: Vec<String> = store
            .write(|tx| {
                (0..2000)
                    .map(|i| tx.users().insert(team, obj(json!({"userName": format!("u{i}")}))).map(|r| r.id))
                    .collect::<Result<Vec<_>, _>>()
            })
            .unwrap();
        assert_eq!(store.write(|tx| tx.groups().add_members(team, &g, &ids[..1999])).unwrap(), 1999);
        assert_eq!(store.write(|tx| tx.groups().add_members(team, &g, &ids[1999..])).unwrap(), 1);
        assert_eq!(store.read(|tx| tx.groups().member_count(team, &g)).unwrap(), 2000);
        assert_eq!(store.write(|tx| tx.groups().remove_members(team, &g, &ids[..1])).unwrap(), 1);
        assert_eq!(store.read(|tx| tx.groups().member_count(team, &g)).unwrap(), 1999);
    }
}
