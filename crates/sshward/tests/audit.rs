//! `sshward audit`: admin and SCIM changes, newest first, with filters.

use crate::support::*;

#[test]
fn audit_log_filters() {
    let env = Env::new();
    let server = env.serve();
    let (url, token) = (server.url.clone(), server.token().to_owned());
    let alice = create_user(&url, &token, "alice@acme.example");
    create_group(&url, &token, "ssh-users", &[&alice]);
    env.run(&["team", "create", "other", "--no-token"]).ok();
    env.run(&["token", "create", "--team", "other", "--label", "x"])
        .ok();

    let all = env.run(&["audit", "--json"]).json();
    let all = all.as_array().unwrap();
    assert!(all.len() >= 5, "{all:?}");
    // Newest first.
    let times: Vec<&str> = all.iter().map(|e| e["at"].as_str().unwrap()).collect();
    let mut sorted = times.clone();
    sorted.sort_by(|a, b| b.cmp(a));
    assert_eq!(times, sorted);
    assert_eq!(all[0]["action"], "admin.token.create");
    assert_eq!(all[0]["team"], "other");
    assert_eq!(all[0]["actor"], "admin:tester");
    assert!(
        all.iter()
            .any(|e| e["action"] == "bootstrap" && e["actor"] == "system")
    );

    let users = env
        .run(&["audit", "--team", "default", "--resource", "user", "--json"])
        .json();
    let users = users.as_array().unwrap();
    assert!(!users.is_empty());
    assert!(
        users.iter().all(|e| e["resource_type"] == "User"),
        "{users:?}"
    );
    let one = env
        .run(&["audit", "--resource", &format!("User/{alice}"), "--json"])
        .json();
    assert!(
        one.as_array()
            .unwrap()
            .iter()
            .all(|e| e["resource_id"] == alice.as_str())
    );
    let limited = env.run(&["audit", "--limit", "2", "--json"]).json();
    assert_eq!(limited.as_array().unwrap().len(), 2);
    let future = env
        .run(&["audit", "--since", "2999-01-01", "--json"])
        .json();
    assert_eq!(future, serde_json::json!([]));
    let recent = env
        .run(&[
            "audit",
            "--since",
            "1h",
            "--until",
            "2999-01-01T00:00:00Z",
            "--json",
        ])
        .json();
    assert_eq!(recent.as_array().unwrap().len(), all.len());

    let text = env.run(&["audit", "--team", "other"]).ok().to_owned();
    assert!(text.starts_with("TIME "), "{text}");
    assert!(text.contains("admin.team.create"), "{text}");
    let none = env.run(&["audit", "--actor", "admin:nobody"]);
    assert!(
        none.ok().contains("No audit entries match"),
        "{}",
        none.stdout
    );
    // A filter that names no possible actor or action is a usage error, not an empty list.
    env.run(&["audit", "--actor", "nobody"])
        .fails(2, "admin:NAME, console:ID, scim-token:ID");
    env.run(&["audit", "--action", "scim.create"])
        .fails(2, "scim.user.create");

    env.run(&["audit", "--since", "yesterday"])
        .fails(2, "invalid time");
    env.run(&["audit", "--since", "1h", "--until", "2h"])
        .fails(2, "--since must be before --until");
    env.run(&["audit", "--resource", "User/"])
        .fails(2, "invalid --resource");
    env.run(&["audit", "--limit", "0"]).fails(2, "--limit");
    env.run(&["audit", "--team", "nope"])
        .fails(4, "does not exist");
}
