//! Access driven through the SCIM API in Entra's request shapes, observed through the
//! agent API of a prod and a staging host.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use serde_json::json;

use crate::support::{Reply, Server};

server_tests!(
    group_membership_grants_and_revokes_access,
    renamed_group_keeps_access_and_lookalike_gets_none,
    disabled_or_deleted_users_vanish_and_uids_stay,
    long_poll_wakes_on_a_scim_write,
    earlier_user_keeps_the_plain_name,
);

/// The prod host's access document.
fn doc(srv: &Server, credential: &str) -> Reply {
    srv.agent(Some(credential)).get("/self/access")
}

struct World {
    prod: String,
    staging: String,
    alice: String,
    ssh_users: String,
    sudo_users: String,
}

/// alice and bob; "ssh-users" (ssh on env=prod) and "sudo-users" (sudo on env=prod); a
/// prod and a staging host. Nobody is in a group yet.
fn world(srv: &Server) -> World {
    let scim = srv.scim(&srv.a);
    let alice = scim.create_user("Alice.Smith@acme.example", "Alice Smith");
    scim.create_user("bob@acme.example", "Bob");
    let ssh_users = scim.create_group("ssh-users");
    let sudo_users = scim.create_group("sudo-users");
    srv.grant(&srv.a, &ssh_users, "env=prod", "ssh");
    srv.grant(&srv.a, &sudo_users, "env=prod", "sudo");
    World {
        prod: srv.join(&srv.a, "web-1", &["env=prod", "role=web"]),
        staging: srv.join(&srv.a, "stg-1", &["env=staging", "role=web"]),
        alice,
        ssh_users,
        sudo_users,
    }
}

fn group_membership_grants_and_revokes_access(srv: &Server) {
    let w = world(srv);
    let scim = srv.scim(&srv.a);
    assert!(doc(srv, &w.prod).usernames().is_empty());

    scim.add_member(&w.ssh_users, &w.alice);
    let prod = doc(srv, &w.prod);
    assert_eq!(prod.usernames(), ["alice_smith"]);
    let alice = prod.user("alice_smith").expect("alice");
    assert_eq!(alice["sudo"], false);
    assert_eq!(alice["gecos"], "Alice Smith");
    assert_eq!(alice["home"], "/home/alice_smith");
    assert_eq!(alice["shell"], "/bin/bash");
    assert_eq!(alice["uid"], alice["gid"]);
    assert_eq!(alice["groups"], json!(["ssh-users"]));
    assert_eq!(prod.json()["groups"][0]["name"], "ssh-users");
    assert!(
        doc(srv, &w.staging).usernames().is_empty(),
        "not on staging"
    );
    let host = srv.agent(Some(&w.prod));
    assert_eq!(
        host.get("/self/principals?user=alice_smith").body,
        "alice_smith\n"
    );
    assert!(!host.get("/self/sudoers").body.contains("alice_smith"));

    scim.add_member(&w.sudo_users, &w.alice);
    let prod = doc(srv, &w.prod);
    assert_eq!(prod.user("alice_smith").expect("alice")["sudo"], true);
    let sudoers = host.get("/self/sudoers");
    assert_eq!(sudoers.status, 200);
    assert!(
        sudoers
            .content_type
            .as_deref()
            .is_some_and(|c| c.starts_with("text/plain"))
    );
    assert!(
        sudoers
            .body
            .contains("\nalice_smith ALL=(ALL:ALL) NOPASSWD: ALL\n"),
        "{}",
        sudoers.body
    );
    assert!(
        doc(srv, &w.staging).usernames().is_empty(),
        "still not on staging"
    );

    // Removed with the RFC filter form: no sudo any more.
    scim.patch_ops(
        &format!("/Groups/{}", w.sudo_users),
        json!([{"op": "Remove", "path": format!("members[value eq \"{}\"]", w.alice)}]),
        204,
    );
    assert_eq!(
        doc(srv, &w.prod).user("alice_smith").expect("alice")["sudo"],
        false
    );
    // Removed with Entra's value form: gone.
    scim.patch_ops(
        &format!("/Groups/{}", w.ssh_users),
        json!([{"op": "Remove", "path": "members", "value": [{"value": w.alice}]}]),
        204,
    );
    assert!(doc(srv, &w.prod).usernames().is_empty());
    assert_eq!(host.get("/self/principals?user=alice_smith").body, "");
}

fn renamed_group_keeps_access_and_lookalike_gets_none(srv: &Server) {
    let w = world(srv);
    let scim = srv.scim(&srv.a);
    scim.add_member(&w.sudo_users, &w.alice);
    let before = doc(srv, &w.prod);
    assert_eq!(before.user("alice_smith").expect("alice")["sudo"], true);

    scim.patch_ops(
        &format!("/Groups/{}", w.sudo_users),
        json!([{"op": "Replace", "path": "displayName", "value": "Linux Admins"}]),
        204,
    );
    let after = doc(srv, &w.prod);
    assert_ne!(after.etag, before.etag, "a rename changes the revision");
    let alice = after.user("alice_smith").expect("alice keeps access");
    assert_eq!(alice["sudo"], true);
    // The POSIX group keeps its name and gid.
    assert_eq!(after.json()["groups"], before.json()["groups"]);

    // A new group taking the old name gets nothing, and its members nothing.
    let lookalike = scim.create_group("sudo-users");
    let bob = scim.create_user("mallory@acme.example", "Mallory");
    scim.add_member(&lookalike, &bob);
    let now = doc(srv, &w.prod);
    assert_eq!(now.usernames(), ["alice_smith"]);
    assert!(
        !srv.agent(Some(&w.prod))
            .get("/self/sudoers")
            .body
            .contains("mallory")
    );
}

fn disabled_or_deleted_users_vanish_and_uids_stay(srv: &Server) {
    let w = world(srv);
    let scim = srv.scim(&srv.a);
    scim.add_member(&w.ssh_users, &w.alice);
    let uid = doc(srv, &w.prod).user("alice_smith").expect("alice")["uid"].clone();
    assert!(
        uid.as_u64()
            .is_some_and(|u| (200_000..=299_999).contains(&u)),
        "{uid}"
    );

    // Entra's disable: the string "False".
    let user = format!("/Users/{}", w.alice);
    scim.patch_ops(
        &user,
        json!([{"op": "Replace", "path": "active", "value": "False"}]),
        200,
    );
    assert!(doc(srv, &w.prod).usernames().is_empty(), "disabled");
    scim.patch_ops(
        &user,
        json!([{"op": "Replace", "path": "active", "value": "True"}]),
        200,
    );
    assert_eq!(
        doc(srv, &w.prod).user("alice_smith").expect("back")["uid"],
        uid
    );

    // Renames of userName, displayName and email change neither uid nor name.
    scim.patch_ops(
        &user,
        json!([
            {"op": "Replace", "path": "userName", "value": "alice.jones@acme.example"},
            {"op": "Replace", "path": "displayName", "value": "Alice Jones"},
            {"op": "Replace", "path": "emails[type eq \"work\"].value", "value": "aj@acme.example"},
        ]),
        200,
    );
    let renamed = doc(srv, &w.prod);
    let alice = renamed.user("alice_smith").expect("same POSIX name");
    assert_eq!(alice["uid"], uid);
    assert_eq!(alice["gecos"], "Alice Jones");

    // Deleted: gone, and her uid is never given to anyone else.
    assert_eq!(scim.delete(&user).status, 204);
    assert!(doc(srv, &w.prod).usernames().is_empty(), "deleted");
    let again = scim.create_user("Alice.Smith@acme.example", "Alice Smith");
    let carol = scim.create_user("carol@acme.example", "Carol");
    scim.add_member(&w.ssh_users, &again);
    scim.add_member(&w.ssh_users, &carol);
    let after = doc(srv, &w.prod);
    assert_eq!(
        after.usernames(),
        ["alice_smith2", "carol"],
        "names are not reused either"
    );
    for name in ["alice_smith2", "carol"] {
        assert_ne!(after.user(name).expect(name)["uid"], uid);
    }
}

fn long_poll_wakes_on_a_scim_write(srv: &Server) {
    let w = world(srv);
    let scim = srv.scim(&srv.a);
    let first = doc(srv, &w.prod);
    let etag = first.etag.clone().expect("an ETag");

    // An unchanged document is a 304, also after waiting.
    let host = srv.agent(Some(&w.prod));
    let same = host.send("GET", "/self/access", &[("If-None-Match", &etag)], None);
    assert_eq!(same.status, 304);
    assert_eq!(same.etag.as_deref(), Some(etag.as_str()));
    let started = Instant::now();
    let waited = host.send(
        "GET",
        "/self/access?wait=1",
        &[("If-None-Match", &etag)],
        None,
    );
    assert_eq!(waited.status, 304);
    assert!(
        started.elapsed() >= Duration::from_millis(800),
        "{:?}",
        started.elapsed()
    );

    // A SCIM write during a long poll answers it soon (after one quiet poll interval:
    // about half a second; the bound leaves room for a loaded test machine).
    let poll = srv.long_poll(&w.prod, &etag);
    std::thread::sleep(Duration::from_millis(700));
    scim.add_member(&w.ssh_users, &w.alice);
    let written = Instant::now();
    let (status, body, answered) = poll.join().expect("the poll thread");
    assert_eq!(status, 200, "{body}");
    assert!(body.contains("alice_smith"), "{body}");
    let latency = answered.saturating_duration_since(written);
    assert!(
        latency < Duration::from_millis(1500),
        "answered {latency:?} after the write"
    );

    // During a burst of writes (Entra provisioning), a long poll neither answers at the
    // first write (each answer costs the host a full document) nor waits for the burst
    // to end: it answers about a second after it saw the first change.
    let current = doc(srv, &w.prod).etag.expect("an ETag");
    let poll = srv.long_poll(&w.prod, &current);
    std::thread::sleep(Duration::from_millis(300));
    let burst = Instant::now();
    // Four writers, so that the team never stays quiet for a poll interval even when one
    // write is slow.
    let answered_flag = Arc::new(AtomicBool::new(false));
    let writers: Vec<_> = (0..4)
        .map(|t| {
            let scim = srv.scim(&srv.a);
            let stop = answered_flag.clone();
            std::thread::spawn(move || {
                let mut n = 0;
                while !stop.load(Ordering::SeqCst) && burst.elapsed() < Duration::from_secs(6) {
                    scim.create_user(&format!("burst{t}-{n}@acme.example"), "Burst");
                    n += 1;
                }
                n
            })
        })
        .collect();
    let (status, body, answered) = poll.join().expect("the poll thread");
    answered_flag.store(true, Ordering::SeqCst);
    let writes: usize = writers.into_iter().map(|w| w.join().expect("writer")).sum();
    assert_eq!(status, 200, "{body}");
    let waited = answered.saturating_duration_since(burst);
    assert!(
        waited >= Duration::from_millis(600) && waited < Duration::from_secs(3),
        "answered {waited:?} into a burst of {writes} writes"
    );
}

fn earlier_user_keeps_the_plain_name(srv: &Server) {
    let scim = srv.scim(&srv.a);
    let first = scim.create_user("jane@one.example", "Jane One");
    let second = scim.create_user("Jane@two.example", "Jane Two");
    let root = scim.create_user("root@acme.example", "Root Lookalike");
    let group = scim.create_group("ops");
    // The later user joins the group first: the earlier one still gets the plain name.
    scim.add_member(&group, &second);
    srv.grant(&srv.a, &group, "*", "ssh");
    let host = srv.join(&srv.a, "any-1", &[]);
    assert_eq!(doc(srv, &host).usernames(), ["jane2"]);
    scim.add_member(&group, &first);
    scim.add_member(&group, &root);
    assert_eq!(doc(srv, &host).usernames(), ["jane", "jane2", "root2"]);
}
