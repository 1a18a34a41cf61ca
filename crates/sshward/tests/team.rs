//! `sshward team create|list|show|set`.

use crate::support::*;

const TENANT: &str = "72f988bf-86f1-41af-91ab-2d7cd011db47";

#[test]
fn create_prints_url_and_token_once() {
    let env = Env::new();
    let out = env.run(&[
        "team",
        "create",
        "acme",
        "--name",
        "Acme Corp",
        "--public-url",
        "https://sshward.example.com/",
    ]);
    let text = out.ok();
    assert!(
        text.contains("SCIM Tenant URL: https://sshward.example.com/scim/v2/acme\n"),
        "{text}"
    );
    let token_line = text
        .lines()
        .find(|l| l.starts_with("Secret Token: sshw_"))
        .expect("token line");
    assert_eq!(token_line.len(), "Secret Token: ".len() + 5 + 43);

    let v = env
        .run(&[
            "team",
            "create",
            "beta",
            "--tenant-id",
            &TENANT.to_uppercase(),
            "--domain",
            "Beta.example,@beta.test",
            "--json",
        ])
        .json();
    assert_eq!(v["team"]["slug"], "beta");
    assert_eq!(v["team"]["name"], "beta");
    assert_eq!(v["team"]["entra_tenant_id"], TENANT);
    assert_eq!(
        v["team"]["allowed_domains"],
        serde_json::json!(["beta.example", "beta.test"])
    );
    assert_eq!(
        v["team"]["scim_tenant_url"],
        "http://127.0.0.1:8080/scim/v2/beta"
    );
    assert!(v["token"]["secret"].as_str().unwrap().starts_with("sshw_"));
    assert_eq!(v["token"]["label"], "entra-provisioning");
    assert_eq!(v["token"]["status"], "active");

    let v = env
        .run(&["team", "create", "gamma", "--no-token", "--json"])
        .json();
    assert!(v["token"].is_null());
}

#[test]
fn create_errors() {
    let env = Env::new();
    env.run(&["team", "create", "Bad_Slug"])
        .fails(2, "team slug");
    env.run(&[
        "team",
        "create",
        "acme",
        "--tenant-id",
        "contoso.onmicrosoft.com",
    ])
    .fails(2, "invalid Entra tenant ID");
    env.run(&["team", "create", "acme", "--domain", "not a domain"])
        .fails(2, "invalid email domain");
    env.run(&["team", "create", "acme"]).ok();
    env.run(&["team", "create", "acme"])
        .fails(5, "exists already");
    // A failed create left nothing behind.
    let teams = env.run(&["team", "list", "--json"]).json();
    assert_eq!(teams.as_array().unwrap().len(), 1, "{teams}");
}

#[test]
fn list_and_show() {
    let env = Env::new();
    env.run(&["team", "create", "zeta", "--name", "Zeta Ltd"])
        .ok();
    env.run(&[
        "team",
        "create",
        "acme",
        "--no-token",
        "--domain",
        "acme.example",
    ])
    .ok();
    let text = env.run(&["team", "list"]).ok().to_owned();
    let lines: Vec<&str> = text.lines().collect();
    assert!(lines[0].starts_with("SLUG  "), "{text}");
    assert!(lines[1].starts_with("acme  "), "{text}");
    assert!(lines[2].starts_with("zeta  "), "{text}");
    // Columns line up: every row has its NAME column where the header has it.
    let name_col = lines[0].find("NAME").unwrap();
    assert_eq!(&lines[2][name_col..name_col + 8], "Zeta Ltd");

    let list = env.run(&["team", "list", "--json"]).json();
    assert_eq!(list[0]["slug"], "acme");
    assert_eq!(list[0]["active_tokens"], 0);
    assert_eq!(list[1]["active_tokens"], 1);
    assert_eq!(list[1]["users"], 0);

    let show = env.run(&["team", "show", "acme"]).ok().to_owned();
    assert!(
        show.contains("SCIM Tenant URL: http://127.0.0.1:8080/scim/v2/acme"),
        "{show}"
    );
    assert!(show.contains("acme.example"), "{show}");
    let v = env.run(&["team", "show", "zeta", "--json"]).json();
    assert_eq!(v["name"], "Zeta Ltd");
    assert_eq!(v["groups"], 0);

    env.run(&["team", "show", "nope"])
        .fails(4, "team \"nope\" does not exist");
}

#[test]
fn set_changes_and_errors() {
    let env = Env::new();
    env.run(&[
        "team",
        "create",
        "acme",
        "--no-token",
        "--domain",
        "a.example",
    ])
    .ok();
    let v = env
        .run(&[
            "team",
            "set",
            "acme",
            "--name",
            "Acme",
            "--tenant-id",
            TENANT,
            "--add-domain",
            "b.example",
            "--json",
        ])
        .json();
    assert_eq!(v["name"], "Acme");
    assert_eq!(v["entra_tenant_id"], TENANT);
    assert_eq!(
        v["allowed_domains"],
        serde_json::json!(["a.example", "b.example"])
    );
    let v = env
        .run(&[
            "team",
            "set",
            "acme",
            "--remove-domain",
            "A.example",
            "--json",
        ])
        .json();
    assert_eq!(v["allowed_domains"], serde_json::json!(["b.example"]));
    let v = env
        .run(&[
            "team",
            "set",
            "acme",
            "--domains",
            "x.example,y.example",
            "--clear-tenant-id",
            "--json",
        ])
        .json();
    assert_eq!(
        v["allowed_domains"],
        serde_json::json!(["x.example", "y.example"])
    );
    assert!(v["entra_tenant_id"].is_null());
    let v = env
        .run(&["team", "set", "acme", "--domains", "", "--json"])
        .json();
    assert_eq!(v["allowed_domains"], serde_json::json!([]));

    env.run(&["team", "set", "acme"])
        .fails(2, "nothing to change");
    env.run(&["team", "set", "acme", "--tenant-id", "1234"])
        .fails(2, "GUID");
    env.run(&["team", "set", "acme", "--name", " "])
        .fails(2, "--name");
    env.run(&["team", "set", "acme", "--remove-domain", "q.example"])
        .fails(4, "not an allowed domain");
    env.run(&["team", "set", "nope", "--name", "x"])
        .fails(4, "does not exist");
    assert_eq!(
        env.run(&[
            "team",
            "set",
            "acme",
            "--tenant-id",
            TENANT,
            "--clear-tenant-id"
        ])
        .code,
        2
    );
}
