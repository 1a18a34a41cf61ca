#![allow(clippy::unwrap_used)]

use proto::{AccessGroup, PosixAccount};

use super::*;

const PASSWD: &str = "root:x:0:0:root:/root:/bin/bash\nsshd:x:100:65534::/run/sshd:/usr/sbin/nologin\nlocal:x:1000:1000:Local Admin:/home/local:/bin/bash\n";
const GROUP: &str = "root:x:0:\nsudo:x:27:local\nlocal:x:1000:\ndocker:x:998:\n";

fn user(name: &str, uid: u32, sudo: bool, groups: &[&str]) -> AccessUser {
    AccessUser {
        account: PosixAccount {
            username: name.into(),
            uid,
            gid: uid,
            gecos: format!("{name} Example"),
            home: format!("/home/{name}"),
            shell: "/bin/bash".into(),
        },
        sudo,
        groups: groups.iter().map(|g| (*g).to_owned()).collect(),
    }
}

fn document(users: Vec<AccessUser>, groups: Vec<AccessGroup>) -> AccessDocument {
    AccessDocument {
        revision: 7,
        hostname: "web-1".into(),
        users,
        groups,
    }
}

fn ssh_users(members: &[&str]) -> AccessGroup {
    AccessGroup {
        name: "ssh-users".into(),
        gid: 200_010,
        members: members.iter().map(|m| (*m).to_owned()).collect(),
    }
}

/// The host after `plan` ran (a small model of the shadow tools).
fn apply(system: &System, registry: &mut Registry, plan: &Plan) -> System {
    let mut s = system.clone();
    for action in &plan.actions {
        match action {
            Action::CreateSystemGroup(name) => {
                let gid = 900 + s.groups.len() as u32;
                s.groups.insert(
                    name.clone(),
                    crate::system::GroupEntry {
                        name: name.clone(),
                        gid,
                        members: vec![],
                    },
                );
            }
            Action::CreateGroup { name, gid } => {
                s.groups.insert(
                    name.clone(),
                    crate::system::GroupEntry {
                        name: name.clone(),
                        gid: *gid,
                        members: vec![],
                    },
                );
                registry.groups.insert(name.clone(), *gid);
            }
            Action::CreateUser(u) => {
                let a = &u.account;
                s.users.insert(
                    a.username.clone(),
                    crate::system::PasswdEntry {
                        name: a.username.clone(),
                        uid: a.uid,
                        gid: a.gid,
                        gecos: a.gecos.clone(),
                        home: a.home.clone(),
                        shell: a.shell.clone(),
                    },
                );
                s.groups
                    .get_mut(MARKER_GROUP)
                    .unwrap()
                    .members
                    .push(a.username.clone());
                registry.users.insert(
                    a.username.clone(),
                    ManagedUser {
                        uid: a.uid,
                        extra_groups: Default::default(),
                    },
                );
            }
            Action::UpdateUser { name, gecos, shell } => {
                let u = s.users.get_mut(name).unwrap();
                u.gecos = gecos.clone();
                u.shell = shell.clone();
            }
            Action::Restore { name, shell } => {
                s.expired.retain(|n| n != name);
                s.users.get_mut(name).unwrap().shell = shell.clone();
            }
            Action::AddMember { group, user } => {
                s.groups.get_mut(group).unwrap().members.push(user.clone());
                if !registry.groups.contains_key(group)
                    && group != SUDO_GROUP
                    && group != MARKER_GROUP
                {
                    registry
                        .users
                        .get_mut(user)
                        .unwrap()
                        .extra_groups
                        .insert(group.clone());
                }
            }
            Action::RemoveMember { group, user } => {
                s.groups
                    .get_mut(group)
                    .unwrap()
                    .members
                    .retain(|m| m != user);
                if let Some(u) = registry.users.get_mut(user) {
                    u.extra_groups.remove(group);
                }
            }
            Action::Expire { name, .. } => {
                s.expired.push(name.clone());
                s.users.get_mut(name).unwrap().shell = NOLOGIN.into();
            }
        }
    }
    s
}

fn members(s: &System, group: &str) -> Vec<String> {
    let mut m = s.groups[group].members.clone();
    m.sort();
    m
}

#[test]
fn creates_what_the_document_grants_then_nothing_more() {
    let base = System::parse(PASSWD, GROUP, "");
    let mut registry = Registry::default();
    let doc = document(
        vec![
            user("alice", 200_000, true, &["docker", "ssh-users"]),
            user("bob", 200_002, false, &["ssh-users"]),
        ],
        vec![ssh_users(&["alice", "bob"])],
    );
    let first = plan(&doc, &base, &registry);
    assert!(first.conflicts.is_empty(), "{:?}", first.conflicts);
    assert_eq!(
        first.actions[0],
        Action::CreateSystemGroup(MARKER_GROUP.into())
    );
    assert!(first.actions.contains(&Action::CreateGroup {
        name: "alice".into(),
        gid: 200_000
    }));
    assert!(first.actions.contains(&Action::CreateGroup {
        name: "ssh-users".into(),
        gid: 200_010
    }));
    let after = apply(&base, &mut registry, &first);
    assert_eq!(after.users["alice"].uid, 200_000);
    assert_eq!(members(&after, "ssh-users"), ["alice", "bob"]);
    assert_eq!(members(&after, SUDO_GROUP), ["alice"]);
    assert_eq!(
        members(&after, "docker"),
        ["alice"],
        "a local group a grant names"
    );
    assert_eq!(
        members(&after, "sudo"),
        ["local"],
        "local groups are not touched"
    );
    // Applied: the same document plans nothing.
    assert_eq!(plan(&doc, &after, &registry), Plan::default());
}

#[test]
fn losing_access_expires_and_regaining_restores() {
    let base = System::parse(PASSWD, GROUP, "");
    let mut registry = Registry::default();
    let both = document(
        vec![
            user("alice", 200_000, true, &["docker", "ssh-users"]),
            user("bob", 200_002, false, &["ssh-users"]),
        ],
        vec![ssh_users(&["alice", "bob"])],
    );
    let first = plan(&both, &base, &registry);
    let s = apply(&base, &mut registry, &first);
    // Alice is disabled in Entra: she leaves the document.
    let bob_only = document(
        vec![user("bob", 200_002, false, &["ssh-users"])],
        vec![ssh_users(&["bob"])],
    );
    let p = plan(&bob_only, &s, &registry);
    assert!(
        p.actions.contains(&Action::Expire {
            name: "alice".into(),
            uid: 200_000
        }),
        "{p:?}"
    );
    assert!(p.actions.contains(&Action::RemoveMember {
        group: SUDO_GROUP.into(),
        user: "alice".into()
    }));
    assert!(p.actions.contains(&Action::RemoveMember {
        group: "docker".into(),
        user: "alice".into()
    }));
    let s = apply(&s, &mut registry, &p);
    assert!(s.is_expired("alice"));
    assert_eq!(s.users["alice"].uid, 200_000, "the account and uid stay");
    assert_eq!(members(&s, "ssh-users"), ["bob"]);
    assert!(members(&s, SUDO_GROUP).is_empty());
    assert_eq!(
        plan(&bob_only, &s, &registry),
        Plan::default(),
        "expired once"
    );
    // Granted again: restored with her shell, sudo and groups.
    let p = plan(&both, &s, &registry);
    assert!(p.actions.contains(&Action::Restore {
        name: "alice".into(),
        shell: "/bin/bash".into()
    }));
    let s = apply(&s, &mut registry, &p);
    assert!(!s.is_expired("alice"));
    assert_eq!(members(&s, SUDO_GROUP), ["alice"]);
    assert_eq!(plan(&both, &s, &registry), Plan::default());
}

#[test]
fn local_accounts_and_ids_are_never_taken_over() {
    let base = System::parse(PASSWD, GROUP, "");
    let registry = Registry::default();
    let doc = document(
        vec![
            user("local", 200_000, true, &[]),   // the name of a local account
            user("carol", 1000, false, &[]),     // the uid of a local account
            user("docker", 200_004, false, &[]), // the name of a local group
        ],
        vec![AccessGroup {
            name: "sudo".into(),
            gid: 200_011,
            members: vec![],
        }],
    );
    let p = plan(&doc, &base, &registry);
    assert_eq!(p.conflicts.len(), 4, "{:?}", p.conflicts);
    assert!(
        p.actions
            .iter()
            .all(|a| matches!(a, Action::CreateSystemGroup(_) | Action::AddMember { .. })),
        "{:?}",
        p.actions
    );
    assert!(
        !p.actions
            .iter()
            .any(|a| matches!(a, Action::AddMember { user, .. } if user == "local"))
    );
}

#[test]
fn names_that_could_break_the_files_are_refused() {
    let base = System::parse(PASSWD, GROUP, "");
    let mut evil = vec![
        user("ev:il", 200_100, false, &[]),
        user("ALL", 200_102, false, &[]),
        user("x\nroot", 200_104, false, &[]),
        user(&"a".repeat(40), 200_106, false, &[]),
        user("zed", 0, false, &[]),
        user("yan", 200_108, false, &["wheel,root"]),
    ];
    let mut shell = user("sam", 200_110, false, &[]);
    shell.account.shell = "/bin/sh:x".into();
    evil.push(shell);
    let mut gecos = user("gus", 200_112, false, &[]);
    gecos.account.gecos = "Gus:0:0,\nroot".into();
    evil.push(gecos);
    let p = plan(&document(evil, vec![]), &base, &Registry::default());
    assert_eq!(p.conflicts.len(), 7, "{:?}", p.conflicts);
    let created: Vec<&AccessUser> = p
        .actions
        .iter()
        .filter_map(|a| match a {
            Action::CreateUser(u) => Some(u),
            _ => None,
        })
        .collect();
    assert_eq!(created.len(), 1);
    assert_eq!(created[0].account.gecos, "Gus00root");
}

#[test]
fn passwd_group_and_shadow_parse() {
    let s = System::parse(
        PASSWD,
        GROUP,
        "alice:!:19000:0:99999:7::1:\nbob:!:19000:0:99999:7:::\n",
    );
    assert_eq!(s.users["local"].gecos, "Local Admin");
    assert_eq!(s.groups["sudo"].members, ["local"]);
    assert!(s.is_expired("alice"));
    assert!(!s.is_expired("bob"));
}
