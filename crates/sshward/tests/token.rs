//! `sshward token create|list|revoke`, and what a revoked token gets from the server.

use crate::support::*;

#[test]
fn create_list_revoke() {
    let env = Env::new();
    env.run(&["team", "create", "acme", "--no-token"]).ok();
    let out = env.run(&["token", "create", "--team", "acme", "--label", "entra prod"]);
    let text = out.ok().to_owned();
    assert!(
        text.contains("SCIM Tenant URL: http://127.0.0.1:8080/scim/v2/acme"),
        "{text}"
    );
    let secret = text
        .lines()
        .find_map(|l| l.strip_prefix("Secret Token: "))
        .expect("secret line")
        .to_owned();

    let v = env
        .run(&[
            "token",
            "create",
            "-t",
            "acme",
            "--expires-in",
            "90d",
            "--json",
        ])
        .json();
    assert_eq!(v["team"], "acme");
    assert_eq!(v["scim_tenant_url"], "http://127.0.0.1:8080/scim/v2/acme");
    assert_eq!(v["token"]["id"], 2);
    assert!(v["token"]["expires"].is_string());
    assert!(v["token"]["secret"].as_str().unwrap().starts_with("sshw_"));

    let list = env
        .run(&["token", "list", "--team", "acme", "--json"])
        .json();
    let list = list.as_array().unwrap();
    assert_eq!(list.len(), 2);
    assert_eq!(list[0]["label"], "entra prod");
    assert_eq!(list[0]["status"], "active");
    assert!(list[0]["last_used"].is_null());
    assert!(list[0].get("secret").is_none());
    let table = env
        .run(&["token", "list", "--team", "acme"])
        .ok()
        .to_owned();
    assert!(table.starts_with("ID  LABEL"), "{table}");
    assert!(!table.contains(&secret), "the secret is never listed");

    let v = env
        .run(&["token", "revoke", "--team", "acme", "1", "--json"])
        .json();
    assert_eq!(v["token"]["status"], "revoked");
    assert_eq!(v["already_revoked"], false);
    let again = env.run(&["token", "revoke", "--team", "acme", "1"]);
    assert!(again.ok().contains("already revoked"), "{}", again.stdout);

    // The secret is only stored as a hash.
    let db = std::fs::read(env.data_dir().join("sshward.db")).unwrap();
    assert!(!String::from_utf8_lossy(&db).contains(&secret));
}

#[test]
fn errors() {
    let env = Env::new();
    env.run(&["migrate"]).ok();
    env.run(&["token", "create", "--team", "nope"])
        .fails(4, "team \"nope\" does not exist");
    env.run(&["team", "create", "acme", "--no-token"]).ok();
    env.run(&["token", "create", "--team", "acme", "--expires-in", "5y"])
        .fails(2, "invalid duration");
    env.run(&["token", "create", "--team", "acme", "--label", " "])
        .fails(2, "--label");
    env.run(&["token", "revoke", "--team", "acme", "7"])
        .fails(4, "no token with ID 7");
    assert_eq!(
        env.run(&["token", "revoke", "--team", "acme", "seven"])
            .code,
        2
    );
    let empty = env.run(&["token", "list", "--team", "acme"]);
    assert!(empty.ok().contains("has no tokens"), "{}", empty.stdout);
}

/// A command without --team acts on the only team; with several it refuses to guess.
#[test]
fn without_team_only_the_only_team() {
    let env = Env::new();
    env.run(&["migrate"]).ok();
    env.run(&["token", "list"]).fails(4, "there is no team yet");
    env.run(&["team", "create", "acme", "--no-token"]).ok();
    let only = env.run(&["token", "create", "--label", "x"]);
    assert!(only.ok().contains("for team acme"), "{}", only.stdout);
    env.run(&["team", "create", "beta", "--no-token"]).ok();
    for args in [
        &["token", "list"][..],
        &["grant", "list"],
        &["host", "list"],
        &["users", "list"],
        &["access", "settings"],
    ] {
        env.run(args)
            .fails(2, "there are 2 teams (acme, beta): name one with --team");
    }
    let named = env.run(&["token", "list", "--team", "beta"]);
    assert!(named.ok().contains("has no tokens"), "{}", named.stdout);
}

#[test]
fn rotation_against_a_running_server() {
    let env = Env::new();
    let server = env.serve();
    let old = server.token().to_owned();
    assert_empty_list(&test_connection(&server.url, &old));

    // Rotate: a new token works at once, the old one until it is revoked.
    let v = env
        .run(&["token", "create", "--label", "rotated", "--json"])
        .json();
    let new = v["token"]["secret"].as_str().unwrap().to_owned();
    assert_empty_list(&test_connection(&server.url, &new));
    assert_empty_list(&test_connection(&server.url, &old));
    env.run(&["token", "revoke", "1"]).ok();
    // Reads may trust a verification made in the last two seconds (writes never do).
    let revoked = std::time::Instant::now();
    let denied = loop {
        let reply = test_connection(&server.url, &old);
        if reply.status != 200 || revoked.elapsed() > std::time::Duration::from_secs(4) {
            break reply;
        }
        std::thread::sleep(std::time::Duration::from_millis(100));
    };
    assert_eq!(denied.status, 401, "{denied:?}");
    assert!(denied.content_type.starts_with("application/scim+json"));
    assert_empty_list(&test_connection(&server.url, &new));

    // The last use is recorded.
    let list = env.run(&["token", "list", "--json"]).json();
    assert!(list[1]["last_used"].is_string(), "{list}");
}
