//! `sshward users list|show` and `sshward groups list|show` over what SCIM provisioned.

use crate::support::*;

#[test]
fn users_and_groups() {
    let env = Env::new();
    let server = env.serve();
    let (url, token) = (server.url.clone(), server.token().to_owned());
    let alice = create_user(&url, &token, "alice@acme.example");
    let bob = create_user(&url, &token, "bob@acme.example");
    let _carol = create_user(&url, &token, "carol@acme.example");
    let ssh = create_group(&url, &token, "ssh-users", &[&alice, &bob]);
    let _sudo = create_group(&url, &token, "sudo-users", &[&alice]);
    create_group(&url, &token, "empty", &[]);

    // users list
    let text = env.run(&["users", "list"]).ok().to_owned();
    let lines: Vec<&str> = text.lines().collect();
    assert!(lines[0].starts_with("ID "), "{text}");
    assert_eq!(lines.len(), 4, "{text}");
    assert!(lines[1].contains("alice@acme.example"), "{text}");
    let v = env.run(&["users", "list", "--json"]).json();
    assert_eq!(v["totalResults"], 3);
    assert_eq!(v["users"][0]["userName"], "alice@acme.example");
    assert_eq!(v["users"][0]["active"], true);
    assert_eq!(v["users"][0]["externalId"], "alice");

    // filter and paging
    let v = env
        .run(&["users", "list", "--filter", r#"userName sw "b""#, "--json"])
        .json();
    assert_eq!(v["totalResults"], 1);
    assert_eq!(v["users"][0]["id"], bob.as_str());
    let paged = env
        .run(&["users", "list", "--limit", "1", "--offset", "1"])
        .ok()
        .to_owned();
    assert!(paged.contains("bob@acme.example"), "{paged}");
    assert!(
        paged.contains("(2-2 of 3; see --offset and --limit)"),
        "{paged}"
    );
    env.run(&["users", "list", "--filter", "userName eq"])
        .fails(2, "invalid --filter");
    let none = env.run(&["users", "list", "--filter", r#"userName eq "zed""#]);
    assert!(none.ok().contains("No user matches"), "{}", none.stdout);

    // users show, by id and by userName (case-insensitive)
    let v = env.run(&["users", "show", &alice, "--json"]).json();
    assert_eq!(v["userName"], "alice@acme.example");
    assert_eq!(v["groups"].as_array().unwrap().len(), 2, "{v}");
    assert_eq!(v["meta"]["resourceType"], "User");
    let text = env
        .run(&["users", "show", "ALICE@acme.example"])
        .ok()
        .to_owned();
    assert!(text.contains("ssh-users"), "{text}");
    assert!(text.contains("alice@acme.example (work) primary"), "{text}");
    env.run(&["users", "show", "nobody"])
        .fails(4, "no user with id or userName");
    env.run(&["users", "list", "--team", "nope"])
        .fails(4, "does not exist");

    // groups list with member counts
    let v = env.run(&["groups", "list", "--json"]).json();
    assert_eq!(v["totalResults"], 3);
    let counts: Vec<(String, u64)> = v["groups"]
        .as_array()
        .unwrap()
        .iter()
        .map(|g| {
            (
                g["displayName"].as_str().unwrap().to_owned(),
                g["members"].as_u64().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        counts,
        vec![
            ("ssh-users".into(), 2),
            ("sudo-users".into(), 1),
            ("empty".into(), 0)
        ]
    );
    let text = env.run(&["groups", "list"]).ok().to_owned();
    assert!(text.lines().next().unwrap().contains("MEMBERS"), "{text}");

    // groups show by id and by displayName
    let v = env.run(&["groups", "show", &ssh, "--json"]).json();
    assert_eq!(v["memberCount"], 2);
    assert_eq!(v["members"].as_array().unwrap().len(), 2);
    let text = env.run(&["groups", "show", "SSH-USERS"]).ok().to_owned();
    assert!(text.contains(&alice) && text.contains(&bob), "{text}");
    let v = env
        .run(&["groups", "show", "ssh-users", "--no-members", "--json"])
        .json();
    assert!(v.get("members").is_none());
    env.run(&["groups", "show", "admins"])
        .fails(4, "no group with id or displayName");
    env.run(&["groups", "list", "--filter", "displayName zz \"x\""])
        .fails(2, "invalid --filter");
}

/// Names from SCIM that hold terminal escapes, CR or LF are printed escaped: they cannot
/// clear the operator's screen, set the window title or forge a table row.
#[test]
fn control_characters_from_scim_are_printed_escaped() {
    let env = Env::new();
    let server = env.serve();
    let (url, token) = (server.url.clone(), server.token().to_owned());
    let alice = create_user(&url, &token, "alice@acme.example");
    let evil = "\u{1b}]0;pwned\u{7}\u{1b}[2Jops\r\nFAKE  row";
    // SCIM refuses control characters in names...
    let body = serde_json::json!({"schemas": ["urn:ietf:params:scim:schemas:core:2.0:Group"],
        "displayName": evil});
    let refused = post(&format!("{url}/Groups"), &token, &body);
    assert_eq!(refused.status, 400, "{refused:?}");
    assert_eq!(refused.json()["scimType"], "invalidValue");
    // ...and a value already stored (by an older sshward) is printed harmlessly.
    let config = store::StoreConfig::new(format!(
        "sqlite://{}",
        env.data_dir().join("sshward.db").display()
    ));
    let db = store::Store::open(&config).unwrap();
    db.write(|tx| {
        let team = tx.teams().get_by_slug("default")?.unwrap().id;
        let mut data = serde_json::Map::new();
        data.insert("displayName".into(), evil.into());
        let group = tx.groups().insert(team, data)?.id;
        tx.groups()
            .add_members(team, &group, std::slice::from_ref(&alice))
    })
    .unwrap();
    for args in [
        &["groups", "list"][..],
        &["groups", "show", evil],
        &["users", "show", "alice@acme.example"],
    ] {
        let out = env.run(args).ok().to_owned();
        assert!(
            !out.contains(['\u{1b}', '\u{7}', '\r']),
            "{args:?}: {out:?}"
        );
        assert!(
            !out.lines().any(|l| l.starts_with("FAKE")),
            "{args:?}: {out}"
        );
        assert!(out.contains("\\u{1b}]0;pwned"), "{args:?}: {out}");
    }
    // JSON keeps the value exactly (escaped by JSON itself).
    let v = env.run(&["groups", "list", "--json"]).json();
    assert_eq!(v["groups"][0]["displayName"], evil);
}
