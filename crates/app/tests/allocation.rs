//! POSIX id allocation, with several instances at once.

use std::collections::BTreeSet;

use app::{App, AppError};

use crate::test_kek;
use host_policy::{HostSelector, IdRange, Role};
use serde_json::{Map, Value, json};

use store::Store;

use testkit::db::{Scratch, config, empty_postgres, empty_sqlite};

fn user(name: &str) -> Map<String, Value> {
    match json!({"userName": name, "active": true, "displayName": name}) {
        Value::Object(map) => map,
        _ => unreachable!(),
    }
}

/// Two instances (pools) compute the first documents of a fresh team at the same time:
/// every one succeeds, all agree, and no uid or name is handed out twice.
fn concurrent_first_documents(db: Scratch) {
    let open = || Store::open(&config(&db.url)).expect("open a store");
    let store = &open();
    let team = store
        .write(|tx| tx.teams().create("acme", "Acme"))
        .expect("a team")
        .id;
    let host = store
        .write(|tx| {
            let ids: Vec<String> = (0..40)
                .map(|i| {
                    // Every other user collides on the base name `dev`.
                    let name = if i % 2 == 0 {
                        format!("dev@{i}.example")
                    } else {
                        format!("u{i}@acme.example")
                    };
                    tx.users().insert(team, user(&name)).map(|r| r.id)
                })
                .collect::<Result<_, _>>()?;
            let mut group = Map::new();
            group.insert("displayName".into(), "devs".into());
            let group = tx.groups().insert(team, group)?.id;
            tx.groups().add_members(team, &group, &ids)?;
            tx.grants()
                .add(team, &group, &HostSelector::All, Role::Ssh, &[])?;
            tx.hosts()
                .insert(team, "web-1", &BTreeSet::new(), None)
                .map(|(h, _)| h.id)
        })
        .expect("set up");
    let other = App::new(open(), test_kek());
    let threads: Vec<_> = (0..4)
        .map(|i| {
            let app = if i % 2 == 0 {
                App::new(store.clone(), test_kek())
            } else {
                other.clone()
            };
            std::thread::spawn(move || app.access_document(team, host))
        })
        .collect();
    let docs: Vec<_> = threads
        .into_iter()
        .map(|t| t.join().expect("thread").expect("a document"))
        .collect();
    for doc in &docs[1..] {
        assert_eq!(doc, &docs[0]);
    }
    let users = &docs[0].document.users;
    assert_eq!(users.len(), 40);
    let uids: BTreeSet<u32> = users.iter().map(|u| u.account.uid).collect();
    assert_eq!(uids.len(), 40);
    let gid = docs[0].document.groups[0].gid;
    assert!(!uids.contains(&gid));
    let names: BTreeSet<&str> = users.iter().map(|u| u.account.username.as_str()).collect();
    assert!(
        names.contains("dev") && names.contains("dev20"),
        "{names:?}"
    );
    // Allocated once: a later computation changes nothing.
    assert_eq!(
        App::new(store.clone(), test_kek())
            .access_document(team, host)
            .expect("again"),
        docs[0]
    );
}

#[test]
fn concurrent_first_documents_sqlite() {
    concurrent_first_documents(empty_sqlite());
}

#[test]
fn concurrent_first_documents_postgres() {
    if let Some(db) = empty_postgres() {
        concurrent_first_documents(db);
    }
}

/// A full range fails the document (a server-side error, never a duplicate id); widening
/// it lets allocation go on, and a deleted user's id is released but never reused.
fn range_exhaustion_and_release(db: Scratch) {
    let store = Store::open(&config(&db.url)).expect("open a store");
    let (team, host, group) = store
        .write(|tx| {
            let team = tx.teams().create("acme", "Acme")?.id;
            let mut settings = tx.posix().settings(team)?;
            settings.id_range = IdRange::new(5000, 5002).expect("a range");
            tx.posix().set_settings(team, &settings)?;
            let mut group = Map::new();
            group.insert("displayName".into(), "devs".into());
            let group = tx.groups().insert(team, group)?.id;
            for name in ["a@x.example", "b@x.example"] {
                let id = tx.users().insert(team, user(name))?.id;
                tx.groups().add_members(team, &group, &[id])?;
            }
            tx.grants()
                .add(team, &group, &HostSelector::All, Role::Sudo, &[])?;
            let host = tx.hosts().insert(team, "h", &BTreeSet::new(), None)?.0.id;
            Ok::<_, store::StoreError>((team, host, group))
        })
        .expect("set up");
    let app = App::new(store.clone(), test_kek());
    let doc = app.access_document(team, host).expect("three ids fit");
    let uids: Vec<u32> = doc.document.users.iter().map(|u| u.account.uid).collect();
    assert_eq!(uids, [5000, 5001]);
    assert_eq!(doc.document.groups[0].gid, 5002);

    let (first, third) = store
        .write(|tx| {
            let first = tx
                .users()
                .get_by_user_name(team, "a@x.example")?
                .expect("a")
                .id;
            let third = tx.users().insert(team, user("c@x.example"))?.id;
            tx.groups()
                .add_members(team, &group, std::slice::from_ref(&third))?;
            tx.users().delete(team, &first)?;
            Ok::<_, store::StoreError>((first, third))
        })
        .expect("change users");
    match app.access_document(team, host) {
        Err(AppError::Internal(message)) => {
            assert!(message.contains("exhausted"), "{message}")
        }
        other => panic!("expected an exhausted range, got {other:?}"),
    }
    store
        .write(|tx| {
            let mut settings = tx.posix().settings(team)?;
            settings.id_range = IdRange::new(5000, 5010).expect("a range");
            tx.posix().set_settings(team, &settings)
        })
        .expect("widen the range");
    let doc = app.access_document(team, host).expect("fits again");
    let names: Vec<(&str, u32)> = doc
        .document
        .users
        .iter()
        .map(|u| (u.account.username.as_str(), u.account.uid))
        .collect();
    assert_eq!(names, [("b", 5001), ("c", 5003)]);
    let (gone, new) = store
        .read(|tx| {
            Ok::<_, store::StoreError>((
                tx.posix().get(team, store::PosixKind::User, &first)?,
                tx.posix().get(team, store::PosixKind::User, &third)?,
            ))
        })
        .expect("read ids");
    let gone = gone.expect("kept after deletion");
    assert_eq!((gone.name.as_str(), gone.number), ("a", 5000));
    assert!(gone.released.is_some());
    assert!(new.is_some_and(|n| n.released.is_none()));
}

#[test]
fn range_exhaustion_and_release_sqlite() {
    range_exhaustion_and_release(empty_sqlite());
}

#[test]
fn range_exhaustion_and_release_postgres() {
    if let Some(db) = empty_postgres() {
        range_exhaustion_and_release(db);
    }
}
