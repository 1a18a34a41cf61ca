//! POSIX id allocation through the store glue, with several instances at once.

use std::collections::BTreeSet;

use host_policy::http::service;
use serde_json::{Map, Value, json};

use store::Store;

use crate::harness::{self, Scratch};

fn user(name: &str) -> Map<String, Value> {
    match json!({"userName": name, "active": true, "displayName": name}) {
        Value::Object(map) => map,
        _ => unreachable!(),
    }
}

/// Two instances (pools) compute the first documents of a fresh team at the same time:
/// every one succeeds, all agree, and no uid or name is handed out twice.
fn concurrent_first_documents(db: Scratch) {
    let open = || Store::open(&harness::config(&db.url)).expect("open a store");
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
            tx.grants().add(team, &group, "*", "ssh", &[])?;
            tx.hosts()
                .insert(team, "web-1", &[], None)
                .map(|(h, _)| h.id)
        })
        .expect("set up");
    let other = open();
    let threads: Vec<_> = (0..4)
        .map(|i| {
            let store = if i % 2 == 0 {
                store.clone()
            } else {
                other.clone()
            };
            std::thread::spawn(move || service::access_document(&store, team, host))
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
    let uids: BTreeSet<u32> = users.iter().map(|u| u.uid).collect();
    assert_eq!(uids.len(), 40);
    let gid = docs[0].document.groups[0].gid;
    assert!(!uids.contains(&gid));
    let names: BTreeSet<&str> = users.iter().map(|u| u.username.as_str()).collect();
    assert!(
        names.contains("dev") && names.contains("dev20"),
        "{names:?}"
    );
    // Allocated once: a later computation changes nothing.
    assert_eq!(
        service::access_document(store, team, host).expect("again"),
        docs[0]
    );
}

#[test]
fn concurrent_first_documents_sqlite() {
    concurrent_first_documents(harness::empty_sqlite());
}

#[test]
fn concurrent_first_documents_postgres() {
    if let Some(db) = harness::empty_postgres() {
        concurrent_first_documents(db);
    }
}
