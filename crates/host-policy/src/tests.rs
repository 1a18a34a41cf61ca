//! Table-driven tests of [`crate::access_for`] (and [`crate::roles_for`]), [`crate::explain()`]
//! and the renderings.

use std::collections::{BTreeMap, BTreeSet};

use crate::explain::{Reason, UserState};
use crate::model::*;
use crate::render;
use crate::{AccessDocument, AccessUser, PosixAccount, access_for, explain, roles_for};

fn tags(list: &[&str]) -> BTreeSet<Tag> {
    parse_tags(list).unwrap_or_default()
}

fn host(name: &str, list: &[&str]) -> Host {
    Host {
        id: 1,
        hostname: name.into(),
        tags: tags(list),
    }
}

fn account(name: &str, uid: u32) -> PosixAccount {
    PosixAccount {
        username: name.into(),
        uid,
        gid: uid,
        gecos: name.to_uppercase(),
        home: format!("/home/{name}"),
        shell: "/bin/bash".into(),
    }
}

fn user(id: &str, name: &str, uid: u32, active: bool) -> PosixUser {
    PosixUser {
        id: id.into(),
        account: account(name, uid),
        active,
    }
}

fn grant(id: i64, group: &str, hosts: &str, role: Role, extra: &[&str]) -> Grant {
    Grant {
        id,
        group_id: group.into(),
        hosts: hosts.parse().unwrap_or(HostSelector::All),
        role,
        extra_groups: extra.iter().map(|s| s.parse().unwrap()).collect(),
    }
}

/// alice (ssh-users, sudo-users), bob (ssh-users), carol (disabled, ssh-users), dave (no
/// group), erin (web-admins).
fn directory() -> Directory {
    let mut d = Directory::new();
    d.add_user(user("u-alice", "alice", 200_000, true));
    d.add_user(user("u-bob", "bob", 200_001, true));
    d.add_user(user("u-carol", "carol", 200_002, false));
    d.add_user(user("u-dave", "dave", 200_003, true));
    d.add_user(user("u-erin", "erin", 200_004, true));
    for (id, name, gid) in [
        ("g-ssh", "ssh-users", 200_010),
        ("g-sudo", "sudo-users", 200_011),
        ("g-web", "web-admins", 200_012),
    ] {
        d.add_group(PosixGroup {
            id: id.into(),
            name: name.into(),
            gid,
        });
    }
    for (g, u) in [
        ("g-ssh", "u-alice"),
        ("g-ssh", "u-bob"),
        ("g-ssh", "u-carol"),
        ("g-sudo", "u-alice"),
        ("g-web", "u-erin"),
    ] {
        d.add_member(g, u);
    }
    d
}

fn standard_grants() -> Vec<Grant> {
    vec![
        grant(1, "g-ssh", "env=prod", Role::Ssh, &[]),
        grant(2, "g-sudo", "env=prod", Role::Sudo, &["adm-logs"]),
        grant(3, "g-web", "env=prod,role=web", Role::Sudo, &[]),
        grant(4, "g-gone", "*", Role::Sudo, &[]),
    ]
}

/// (username, sudo, groups) of a document.
fn summary(doc: &AccessDocument) -> Vec<Row> {
    doc.users
        .iter()
        .map(|u| (u.account.username.clone(), u.sudo, u.groups.clone()))
        .collect()
}

/// One expected user: (username, sudo, groups).
type Row = (String, bool, Vec<String>);
/// One access case: (name, host, grants, expected users).
type AccessCase = (&'static str, Host, Vec<Grant>, Vec<Row>);
/// One explain case: (name, host, user id, state, access, reasons per grant).
type ExplainCase<'a> = (
    &'static str,
    &'a Host,
    &'static str,
    UserState,
    Option<Role>,
    [&'static str; 4],
);

fn row(name: &str, sudo: bool, groups: &[&str]) -> Row {
    (
        name.into(),
        sudo,
        groups.iter().map(|s| s.to_string()).collect(),
    )
}

#[test]
fn access_table() {
    let dir = directory();
    let cases: Vec<AccessCase> = vec![
        (
            "prod web host: ssh-users log in, sudo-users and web-admins sudo",
            host("web-1", &["env=prod", "role=web"]),
            standard_grants(),
            vec![
                row("alice", true, &["adm-logs", "ssh-users", "sudo-users"]),
                row("bob", false, &["ssh-users"]),
                row("erin", true, &["web-admins"]),
            ],
        ),
        (
            "prod db host: the role=web grant does not apply",
            host("db-1", &["env=prod", "role=db"]),
            standard_grants(),
            vec![
                row("alice", true, &["adm-logs", "ssh-users", "sudo-users"]),
                row("bob", false, &["ssh-users"]),
            ],
        ),
        (
            "staging host: nobody",
            host("stg-1", &["env=staging", "role=web"]),
            standard_grants(),
            vec![],
        ),
        (
            "untagged host with a * grant",
            host("any-1", &[]),
            vec![grant(9, "g-ssh", "*", Role::Ssh, &[])],
            vec![
                row("alice", false, &["ssh-users"]),
                row("bob", false, &["ssh-users"]),
            ],
        ),
        (
            "no grants: nobody",
            host("web-1", &["env=prod"]),
            vec![],
            vec![],
        ),
        (
            "grant order does not matter; strongest role wins",
            host("web-1", &["env=prod"]),
            vec![
                grant(2, "g-sudo", "env=prod", Role::Sudo, &[]),
                grant(1, "g-ssh", "env=prod", Role::Ssh, &[]),
            ],
            vec![
                row("alice", true, &["ssh-users", "sudo-users"]),
                row("bob", false, &["ssh-users"]),
            ],
        ),
        (
            "a host with two values of one key matches both",
            host("multi", &["env=prod", "env=staging"]),
            vec![grant(1, "g-web", "env=staging", Role::Ssh, &["docker"])],
            vec![row("erin", false, &["docker", "web-admins"])],
        ),
        (
            "grant of a group missing from the directory gives nothing",
            host("web-1", &["env=prod"]),
            vec![grant(4, "g-gone", "*", Role::Sudo, &[])],
            vec![],
        ),
    ];
    for (name, host, grants, want) in cases {
        let doc = access_for(&host, &grants, &dir);
        assert_eq!(summary(&doc), want, "{name}");
        assert_eq!(doc.hostname, host.hostname, "{name}");
        // The disabled user and the user in no group never appear.
        assert!(
            doc.user("carol").is_none() && doc.user("dave").is_none(),
            "{name}"
        );
        // Deterministic: reversed grants give the same document.
        let mut reversed = grants.clone();
        reversed.reverse();
        assert_eq!(access_for(&host, &reversed, &dir), doc, "{name}");
        // roles_for names exactly the document's users, with their roles.
        let roles: BTreeMap<&str, Role> =
            roles_for(&host.tags, &grants, &dir).into_iter().collect();
        let in_doc: BTreeMap<&str, Role> = doc
            .users
            .iter()
            .map(|u| {
                let role = if u.sudo { Role::Sudo } else { Role::Ssh };
                (u.account.username.as_str(), role)
            })
            .collect();
        assert_eq!(roles, in_doc, "{name}: roles_for agrees with access_for");
    }
}

#[test]
fn document_carries_posix_identity_and_managed_groups() {
    let doc = access_for(
        &host("web-1", &["env=prod", "role=web"]),
        &standard_grants(),
        &directory(),
    );
    let alice = doc.user("alice").cloned();
    assert_eq!(
        alice,
        Some(AccessUser {
            account: account("alice", 200_000),
            sudo: true,
            groups: vec!["adm-logs".into(), "ssh-users".into(), "sudo-users".into()],
        })
    );
    let groups: Vec<(String, u32, Vec<String>)> = doc
        .groups
        .iter()
        .map(|g| (g.name.clone(), g.gid, g.members.clone()))
        .collect();
    assert_eq!(
        groups,
        vec![
            (
                "ssh-users".into(),
                200_010,
                vec!["alice".into(), "bob".into()]
            ),
            ("sudo-users".into(), 200_011, vec!["alice".into()]),
            ("web-admins".into(), 200_012, vec!["erin".into()]),
        ]
    );
}

/// Reasons in a short notation: `member` (not a member), `group` (unknown group),
/// `-k=v+k=v` (missing tags), comma-separated; empty when the grant applies.
fn reasons(spec: &str) -> Vec<Reason> {
    spec.split(',')
        .filter(|s| !s.is_empty())
        .map(|s| match s {
            "member" => Reason::NotAMember,
            "group" => Reason::UnknownGroup,
            missing => {
                let list: Vec<&str> = missing.trim_start_matches('-').split('+').collect();
                Reason::HostNotSelected(tags(&list).into_iter().collect())
            }
        })
        .collect()
}

#[test]
fn explain_table() {
    let dir = directory();
    let grants = standard_grants();
    let prod_db = host("db-1", &["env=prod", "role=db"]);
    let staging = host("stg-1", &["env=staging"]);
    // Grants 3 (web-admins on role=web) and 4 (a deleted group) never apply on db-1.
    let cases: Vec<ExplainCase<'_>> = vec![
        (
            "alice on prod db: sudo via grant 2",
            &prod_db,
            "u-alice",
            UserState::Active,
            Some(Role::Sudo),
            ["", "", "member,-role=web", "group"],
        ),
        (
            "bob on prod db: ssh only",
            &prod_db,
            "u-bob",
            UserState::Active,
            Some(Role::Ssh),
            ["", "member", "member,-role=web", "group"],
        ),
        (
            "alice on staging: tags missing",
            &staging,
            "u-alice",
            UserState::Active,
            None,
            [
                "-env=prod",
                "-env=prod",
                "member,-env=prod+role=web",
                "group",
            ],
        ),
        (
            "carol is disabled: no access although grant 1 matches",
            &prod_db,
            "u-carol",
            UserState::Disabled,
            None,
            ["", "member", "member,-role=web", "group"],
        ),
        (
            "unknown user",
            &prod_db,
            "u-nobody",
            UserState::Unknown,
            None,
            ["member", "member", "member,-role=web", "group"],
        ),
    ];
    for (name, host, user_id, state, access, specs) in cases {
        let e = explain(host, user_id, &grants, &dir);
        assert_eq!(e.state, state, "{name}");
        assert_eq!(e.access, access, "{name}");
        let got: Vec<Vec<Reason>> = e.checks.iter().map(|c| c.reasons.clone()).collect();
        let want: Vec<Vec<Reason>> = specs.iter().map(|s| reasons(s)).collect();
        assert_eq!(got, want, "{name}");
        // explain agrees with access_for.
        let doc = access_for(host, &grants, &dir);
        let in_doc = dir
            .user(user_id)
            .and_then(|u| doc.user(&u.account.username))
            .map(|u| if u.sudo { Role::Sudo } else { Role::Ssh });
        assert_eq!(in_doc, access, "{name}: agrees with access_for");
    }
}

#[test]
fn explanation_reads_well() {
    let e = explain(
        &host("db-1", &["env=prod"]),
        "u-bob",
        &standard_grants(),
        &directory(),
    );
    let text = e.to_string();
    assert!(
        text.starts_with("bob on db-1 [env=prod]: may log in (ssh), may not sudo\n"),
        "{text}"
    );
    assert!(
        text.contains("grant 1: group ssh-users (g-ssh) ssh on env=prod: applies"),
        "{text}"
    );
    assert!(
        text.contains("grant 2: group sudo-users (g-sudo) sudo on env=prod: does not apply: the user is not a member of its group"),
        "{text}"
    );
    assert!(
        text.contains("the host lacks the tag(s) role=web"),
        "{text}"
    );
}

#[test]
fn tags_and_selectors() {
    assert_eq!(
        format_tags(&tags(&["Role=Web", "env=prod"])),
        "env=prod,role=web"
    );
    assert_eq!(tags(&["env=prod,role=web"]).len(), 2);
    for bad in [
        "env",
        "=prod",
        "env=",
        "env=pr od",
        "-x=1",
        "e nv=1",
        &format!("{}=1", "k".repeat(64)),
    ] {
        assert!(bad.parse::<Tag>().is_err(), "{bad}");
    }
    let sel: HostSelector = "role=web, env=prod".parse().unwrap_or(HostSelector::All);
    assert_eq!(sel.to_string(), "env=prod,role=web");
    assert_eq!("*".parse::<HostSelector>().ok(), Some(HostSelector::All));
    assert!("".parse::<HostSelector>().is_err());
    assert!(sel.matches(&tags(&["env=prod", "role=web", "zone=a"])));
    assert!(!sel.matches(&tags(&["env=prod"])));
    assert_eq!("SUDO".parse::<Role>().ok(), Some(Role::Sudo));
    assert!("root".parse::<Role>().is_err());
    assert_eq!(
        normalize_hostname("Web-1.Example.COM.").ok(),
        Some("web-1.example.com".into())
    );
    for bad in ["", "-a", "a..b", "a_b", "a b", &"a".repeat(64)] {
        assert!(normalize_hostname(bad).is_err(), "{bad}");
    }
}

#[test]
fn renderings() {
    let doc = access_for(
        &host("web-1", &["env=prod"]),
        &standard_grants(),
        &directory(),
    );
    assert_eq!(render::principals(&doc, "alice"), "alice\n");
    assert_eq!(render::principals(&doc, "bob"), "bob\n");
    assert_eq!(render::principals(&doc, "carol"), "");
    assert_eq!(render::principals(&doc, "root"), "");
    let sudoers = render::sudoers(&doc, "web-1");
    assert!(
        sudoers.starts_with("# Managed by sshward for web-1:"),
        "{sudoers}"
    );
    assert!(
        sudoers.contains("\nalice ALL=(ALL:ALL) NOPASSWD: ALL\n"),
        "{sudoers}"
    );
    assert!(!sudoers.contains("bob"), "{sudoers}");
    let a = render::etag(7, &tags(&["env=prod"]));
    assert_eq!(a, render::etag(7, &tags(&["env=prod"])));
    assert_ne!(a, render::etag(8, &tags(&["env=prod"])));
    assert_ne!(a, render::etag(7, &tags(&["env=staging"])));
}

#[test]
fn document_json_shape() {
    let doc = access_for(
        &host("web-1", &["env=prod"]),
        &standard_grants(),
        &directory(),
    );
    let json = serde_json::to_value(&doc).unwrap_or_default();
    assert_eq!(json["users"][0]["username"], "alice");
    assert_eq!(json["users"][0]["sudo"], true);
    assert_eq!(json["groups"][0]["name"], "ssh-users");
    let back: AccessDocument = serde_json::from_value(json).unwrap_or_default();
    assert_eq!(back, doc);
}

#[test]
fn documents_carry_the_directory_revision() {
    let mut dir = Directory::at_revision(41);
    dir.add_user(user("u-alice", "alice", 200_000, true));
    let doc = access_for(&host("web-1", &["env=prod"]), &[], &dir);
    assert_eq!(doc.revision, 41);
    assert_eq!(
        access_for(&host("web-1", &[]), &[], &Directory::new()).revision,
        0
    );
}
