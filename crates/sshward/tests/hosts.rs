//! `sshward grant`, `host` and `access`: grants made with the CLI, a host joining the
//! running server, and what it and `access explain` then see.

use serde_json::json;

use crate::support::*;

#[test]
fn grants_hosts_and_explain() {
    let env = Env::new();
    let server = env.serve();
    let (url, token) = (server.url.clone(), server.token().to_owned());
    let alice = create_user(&url, &token, "alice@acme.example");
    create_group(&url, &token, "ssh-users", &[&alice]);

    let grant = env
        .run(&[
            "grant",
            "add",
            "--group",
            "ssh-users",
            "--hosts",
            "env=prod",
            "--sudo",
            "--json",
        ])
        .json();
    assert_eq!(
        (grant["role"].as_str(), grant["hosts"].as_str()),
        (Some("sudo"), Some("env=prod"))
    );
    env.run(&[
        "grant",
        "add",
        "--group",
        "ssh-users",
        "--hosts",
        "env=prod",
        "--sudo",
    ])
    .fails(5, "already has sudo");
    env.run(&[
        "grant",
        "add",
        "--group",
        "nobody-here",
        "--hosts",
        "env=prod",
    ])
    .fails(4, "no group");
    env.run(&[
        "grant",
        "add",
        "--group",
        "ssh-users",
        "--hosts",
        "env prod",
    ])
    .fails(2, "invalid");

    let created = env
        .run(&[
            "host",
            "join-token",
            "create",
            "--tag",
            "env=prod",
            "--ttl",
            "10m",
            "--json",
        ])
        .json();
    let join_token = created["token"].as_str().unwrap();

    // A revoked token stops working at once; revoking names what is wrong.
    let spare = env
        .run(&[
            "host",
            "join-token",
            "create",
            "--tag",
            "env=prod",
            "--json",
        ])
        .json();
    let spare_id = spare["id"].as_i64().unwrap().to_string();
    let revoked = env
        .run(&["host", "join-token", "revoke", &spare_id, "--json"])
        .json();
    assert_eq!(revoked["id"], spare["id"]);
    let refused = post(
        &format!("{}/api/v1/hosts/join", server.base),
        spare["token"].as_str().unwrap(),
        &json!({"hostname": "web-9"}),
    );
    assert_eq!(refused.status, 401, "{refused:?}");
    env.run(&["host", "join-token", "revoke", "999999"])
        .fails(4, "no join token 999999");
    env.run(&["host", "join-token", "revoke", "many"])
        .fails(2, "invalid");

    // A fleet's tokens at once: each works once, for one host.
    let fleet = env
        .run(&[
            "host",
            "join-token",
            "create",
            "--tag",
            "env=fleet",
            "--count",
            "3",
            "--json",
        ])
        .json();
    let fleet: Vec<&str> = fleet
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["token"].as_str().unwrap())
        .collect();
    assert_eq!(fleet.len(), 3);
    for (i, token) in fleet.iter().enumerate() {
        let join = |name: String| {
            post(
                &format!("{}/api/v1/hosts/join", server.base),
                token,
                &json!({ "hostname": name }),
            )
            .status
        };
        assert_eq!(join(format!("fleet-{i}")), 201);
        assert_eq!(join(format!("fleet-again-{i}")), 401, "a token works once");
    }
    env.run(&["host", "join-token", "create", "--count", "0"])
        .fails(2, "create 1 to 10000 join tokens at once");
    let joined = post(
        &format!("{}/api/v1/hosts/join", server.base),
        join_token,
        &json!({"hostname": "web-1"}),
    );
    assert_eq!(joined.status, 201, "{joined:?}");
    let credential = joined.json()["credential"].as_str().unwrap().to_owned();
    let used_id = created["id"].as_i64().unwrap().to_string();
    env.run(&["host", "join-token", "revoke", &used_id])
        .fails(5, "already used by host");
    let access_url = format!("{}/api/v1/hosts/self/access", server.base);
    let doc = get(&access_url, Some(&credential)).json();
    assert_eq!(doc["users"][0]["username"], "alice", "{doc}");
    assert_eq!(doc["users"][0]["sudo"], true, "{doc}");

    let hosts = env
        .run(&["host", "list", "--tag", "env=prod", "--json"])
        .json();
    assert_eq!(hosts[0]["hostname"], "web-1");
    assert_eq!(hosts[0]["tags"], json!(["env=prod"]));
    let shown = env.run(&["host", "show", "web-1", "--json"]).json();
    assert_eq!(shown["access"]["users"][0]["username"], "alice");
    let tokens = env.run(&["host", "join-token", "list", "--json"]).json();
    let used = tokens
        .as_array()
        .unwrap()
        .iter()
        .find(|t| t["id"] == created["id"]);
    assert_eq!(used.unwrap()["used_by_host"], hosts[0]["id"], "{tokens}");

    let explained = env
        .run(&[
            "access", "explain", "--host", "web-1", "--user", "alice", "--json",
        ])
        .json();
    assert_eq!(explained["access"], "sudo", "{explained}");
    let text = env
        .run(&[
            "access",
            "explain",
            "--host",
            "web-1",
            "--user",
            "alice@acme.example",
        ])
        .ok()
        .to_owned();
    assert!(text.contains("may log in and sudo"), "{text}");

    let id = grant["id"].to_string();
    env.run(&["grant", "remove", &id]).ok();
    let explained = env
        .run(&[
            "access", "explain", "--host", "web-1", "--user", &alice, "--json",
        ])
        .json();
    assert_eq!(explained["access"], serde_json::Value::Null, "{explained}");
    assert_eq!(
        get(&access_url, Some(&credential)).json()["users"],
        json!([])
    );

    env.run(&["host", "remove", "web-1"]).ok();
    assert_eq!(get(&access_url, Some(&credential)).status, 401);
    env.run(&["host", "show", "web-1"]).fails(4, "no host");

    let settings = env
        .run(&[
            "access",
            "settings",
            "--username-style",
            "address",
            "--json",
        ])
        .json();
    assert_eq!(settings["username_style"], "address");
    env.run(&["access", "settings", "--id-range", "10-5"])
        .fails(2, "range");

    let audit = env.run(&["audit", "--json"]).json();
    let actions: Vec<&str> = audit
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|e| e["action"].as_str())
        .collect();
    for action in [
        "admin.grant.add",
        "admin.grant.remove",
        "host.join",
        "admin.host.remove",
    ] {
        assert!(actions.contains(&action), "{action} in {actions:?}");
    }
}
