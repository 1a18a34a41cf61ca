//! Requests racing on the same resources, as several Entra jobs (or several sshward
//! instances on one PostgreSQL) produce them: every valid request succeeds, nothing is
//! lost, uniqueness holds.

use crate::support::*;
use serde_json::json;

const THREADS: usize = 8;

/// Runs `request(i)` for `i` in `0..THREADS` at once; the statuses, in order of `i`.
fn race(request: impl Fn(usize) -> Reply + Sync) -> Vec<u16> {
    std::thread::scope(|scope| {
        let handles: Vec<_> = (0..THREADS)
            .map(|i| {
                let request = &request;
                scope.spawn(move || request(i))
            })
            .collect();
        handles
            .into_iter()
            .map(|h| {
                let reply = h.join().expect("request thread");
                assert!(reply.status < 500, "{} {}", reply.status, reply.text());
                reply.status
            })
            .collect()
    })
}

const ATTRIBUTES: [&str; THREADS] = [
    "displayName",
    "nickName",
    "title",
    "userType",
    "preferredLanguage",
    "locale",
    "timezone",
    "externalId",
];

scim_tests!(
    patches_of_one_user_all_apply,
    creates_of_one_user_name,
    member_changes_of_one_group,
);

fn patches_of_one_user_all_apply(srv: &Server) {
    let client = srv.a();
    let user = id(&client.create_user("busy@contoso.example"));
    let path = format!("/Users/{user}");
    let statuses = race(|i| {
        srv.a().patch_ops(
            &path,
            json!([{"op": "Replace", "path": ATTRIBUTES[i], "value": format!("value {i}")}]),
        )
    });
    assert_eq!(
        statuses, [200; THREADS],
        "no PATCH without If-Match may fail"
    );
    let stored = client.get(&path).ok(200);
    for (i, attribute) in ATTRIBUTES.iter().enumerate() {
        assert_eq!(
            stored[attribute],
            json!(format!("value {i}")),
            "{attribute}: {stored}"
        );
    }
    assert_eq!(
        stored["meta"]["version"],
        json!(format!("W/\"{}\"", THREADS + 1))
    );
}

fn creates_of_one_user_name(srv: &Server) {
    let mut statuses = race(|i| {
        let name = if i % 2 == 0 {
            "Racer@contoso.example"
        } else {
            "racer@CONTOSO.example"
        };
        srv.a().post("/Users", &entra_user(name))
    });
    statuses.sort_unstable();
    assert_eq!(statuses, [201, 409, 409, 409, 409, 409, 409, 409]);
    assert_eq!(
        srv.a()
            .filter_ids("/Users", "userName eq \"racer@contoso.example\"")
            .len(),
        1
    );
}

fn member_changes_of_one_group(srv: &Server) {
    let client = srv.a();
    let group = id(&client.create_group("Crowded"));
    let path = format!("/Groups/{group}");
    let shared = id(&client.create_user("shared@contoso.example"));
    let own: Vec<Vec<String>> = (0..THREADS)
        .map(|t| {
            (0..3)
                .map(|i| id(&client.create_user(&format!("m{t}-{i}@contoso.example"))))
                .collect()
        })
        .collect();
    let statuses = race(|i| {
        let mut ids = own[i].clone();
        ids.push(shared.clone());
        srv.a().add_members(&group, &ids)
    });
    assert_eq!(statuses, [204; THREADS]);
    let mut expected: Vec<String> = own.iter().flatten().cloned().collect();
    expected.push(shared.clone());
    expected.sort();
    assert_eq!(client.member_ids(&group), expected);

    // Removals and renames racing with each other.
    let statuses = race(|i| {
        let ops = if i % 2 == 0 {
            json!([{"op": "Remove", "path": "members", "value": member_refs(&own[i])}])
        } else {
            json!([{"op": "Replace", "path": "displayName", "value": format!("Crowded {i}")}])
        };
        srv.a().patch_ops(&path, ops)
    });
    assert_eq!(statuses, [204; THREADS]);
    let mut expected: Vec<String> = own.iter().skip(1).step_by(2).flatten().cloned().collect();
    expected.push(shared);
    expected.sort();
    assert_eq!(client.member_ids(&group), expected);
}
