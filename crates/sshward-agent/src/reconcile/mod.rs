//! From the access document and the host's accounts to the changes that make them agree:
//! pure, so every rule is tested without root.
//!
//! The agent owns only what it created: the accounts and groups in its [`Registry`]. A
//! local account, group, uid or gid that clashes with the document is reported and left
//! alone, never taken over. Memberships change one at a time (`gpasswd -a/-d`), never by
//! replacing a user's group list, and only for the managed groups (and the local groups a
//! grant named, which the agent added). A user who loses access is expired (with
//! `UsePAM yes` a locked password does not stop certificate logins), gets the nologin
//! shell, loses sudo, and has their sessions ended; home and uid stay, and a user granted
//! again is restored.

use std::collections::{BTreeMap, BTreeSet};

use proto::{AccessDocument, AccessUser};
use serde::{Deserialize, Serialize};

use crate::system::System;

/// The system group every managed account is a member of (the marker).
pub const MARKER_GROUP: &str = "sshward";
/// The system group that `/etc/sudoers.d/sshward` grants sudo.
pub const SUDO_GROUP: &str = "sshward-sudo";
/// The shell of an account that lost access.
pub const NOLOGIN: &str = "/usr/sbin/nologin";

/// What the agent created, kept in its state directory.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Registry {
    /// Managed users by name.
    pub users: BTreeMap<String, ManagedUser>,
    /// Managed groups by name, with their gid (users' private groups included).
    pub groups: BTreeMap<String, u32>,
}

/// A user the agent created.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ManagedUser {
    /// Its uid.
    pub uid: u32,
    /// Local groups (not managed ones) the agent put it in because a grant named them.
    #[serde(default)]
    pub extra_groups: BTreeSet<String>,
}

/// One change to the host.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Action {
    /// `groupadd --system NAME` (the marker and sudo groups).
    CreateSystemGroup(String),
    /// `groupadd --gid GID NAME`.
    CreateGroup {
        /// Name.
        name: String,
        /// gid.
        gid: u32,
    },
    /// `useradd --uid --gid --comment --home-dir --create-home --shell --groups sshward`.
    CreateUser(AccessUser),
    /// `usermod --comment GECOS --shell SHELL` (an account whose details changed).
    UpdateUser {
        /// Name.
        name: String,
        /// New GECOS.
        gecos: String,
        /// New shell.
        shell: String,
    },
    /// `usermod --expiredate '' --shell SHELL`: granted again.
    Restore {
        /// Name.
        name: String,
        /// Its shell.
        shell: String,
    },
    /// `gpasswd -a USER GROUP`.
    AddMember {
        /// Group.
        group: String,
        /// User.
        user: String,
    },
    /// `gpasswd -d USER GROUP`.
    RemoveMember {
        /// Group.
        group: String,
        /// User.
        user: String,
    },
    /// `usermod --expiredate 1 --shell nologin`, then end the user's sessions
    /// (`loginctl terminate-user`, then kill what is left of the uid).
    Expire {
        /// Name.
        name: String,
        /// uid.
        uid: u32,
    },
}

/// The changes, what cannot be done, and the registry once they are done.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Plan {
    /// In order.
    pub actions: Vec<Action>,
    /// Clashes and refused entries, one sentence each.
    pub conflicts: Vec<String>,
}

/// A POSIX user or group name the agent writes: what `useradd` accepts portably.
pub fn valid_name(name: &str) -> bool {
    let mut chars = name.chars();
    matches!(chars.next(), Some(c) if c.is_ascii_lowercase() || c == '_')
        && name.len() <= 32
        && chars.all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_' || c == '-')
}

/// A GECOS field as `/etc/passwd` can hold it: no `:`, `,`, `=` or control characters.
pub fn clean_gecos(gecos: &str) -> String {
    gecos
        .chars()
        .filter(|c| !c.is_control() && !matches!(c, ':' | ',' | '=' | '\\'))
        .take(128)
        .collect()
}

/// A path field (home, shell): absolute, without `:` or control characters.
fn valid_path(path: &str) -> bool {
    path.starts_with('/')
        && path.len() <= 256
        && !path.contains(':')
        && !path.contains("..")
        && !path.chars().any(char::is_control)
}

/// Why a document user cannot be applied, if it cannot.
fn refusal(user: &AccessUser) -> Option<String> {
    let a = &user.account;
    if !valid_name(&a.username) {
        return Some(format!("user {:?}: not a valid POSIX name", a.username));
    }
    if a.uid < 1000 || a.gid != a.uid {
        return Some(format!(
            "user {}: uid {} / gid {} are not a user-private pair above 999",
            a.username, a.uid, a.gid
        ));
    }
    if !valid_path(&a.home) || !valid_path(&a.shell) {
        return Some(format!(
            "user {}: home or shell is not a clean absolute path",
            a.username
        ));
    }
    if let Some(bad) = user.groups.iter().find(|g| !valid_name(g)) {
        return Some(format!(
            "user {}: group {bad:?} is not a valid POSIX name",
            a.username
        ));
    }
    None
}

/// The changes that make `system` match `document`, given what the agent created.
pub fn plan(document: &AccessDocument, system: &System, registry: &Registry) -> Plan {
    let mut plan = Plan::default();
    for group in [MARKER_GROUP, SUDO_GROUP] {
        if !system.groups.contains_key(group) {
            plan.actions
                .push(Action::CreateSystemGroup(group.to_owned()));
        }
    }

    // Managed groups: created when missing, unless their name or gid is someone else's.
    let mut groups_ok: BTreeSet<&str> = BTreeSet::new();
    for group in &document.groups {
        if !valid_name(&group.name) || group.gid < 1000 {
            plan.conflicts.push(format!(
                "group {:?} (gid {}): refused",
                group.name, group.gid
            ));
            continue;
        }
        match ensure_group(system, registry, &group.name, group.gid) {
            Ok(Some(action)) => plan.actions.push(action),
            Ok(None) => {}
            Err(conflict) => {
                plan.conflicts.push(conflict);
                continue;
            }
        }
        groups_ok.insert(&group.name);
    }

    // Users: created, updated, restored; clashing ones refused.
    let mut present: BTreeSet<&str> = BTreeSet::new();
    for user in &document.users {
        let a = &user.account;
        if let Some(why) = refusal(user) {
            plan.conflicts.push(why);
            continue;
        }
        let gecos = clean_gecos(&a.gecos);
        match system.users.get(&a.username) {
            Some(local) if !registry.users.contains_key(&a.username) => {
                plan.conflicts.push(format!(
                    "user {}: a local account of that name exists (uid {}) and is not managed by \
                     sshward; it is left alone",
                    a.username, local.uid
                ));
                continue;
            }
            Some(local) if local.uid != a.uid => {
                plan.conflicts.push(format!(
                    "user {}: has uid {} here but {} in sshward; left alone",
                    a.username, local.uid, a.uid
                ));
                continue;
            }
            Some(local) => {
                if system.is_expired(&a.username) {
                    plan.actions.push(Action::Restore {
                        name: a.username.clone(),
                        shell: a.shell.clone(),
                    });
                }
                if local.gecos != gecos || (local.shell != a.shell && local.shell != NOLOGIN) {
                    plan.actions.push(Action::UpdateUser {
                        name: a.username.clone(),
                        gecos,
                        shell: a.shell.clone(),
                    });
                }
            }
            None => {
                if let Some(other) = system.user_by_uid(a.uid) {
                    plan.conflicts.push(format!(
                        "user {}: uid {} belongs to the local account {}; left alone",
                        a.username, a.uid, other.name
                    ));
                    continue;
                }
                match ensure_group(system, registry, &a.username, a.gid) {
                    Ok(Some(action)) => plan.actions.push(action),
                    Ok(None) => {}
                    Err(conflict) => {
                        plan.conflicts
                            .push(format!("user {}: {conflict}", a.username));
                        continue;
                    }
                }
                let mut clean = user.clone();
                clean.account.gecos = gecos;
                plan.actions.push(Action::CreateUser(clean));
            }
        }
        present.insert(&a.username);
    }

    // Memberships of the managed groups and the sudo group: only managed users move.
    let managed = |name: &str| registry.users.contains_key(name) || present.contains(name);
    let mut desired: BTreeMap<&str, BTreeSet<&str>> = BTreeMap::new();
    for group in &document.groups {
        if groups_ok.contains(group.name.as_str()) {
            let members = group
                .members
                .iter()
                .map(String::as_str)
                .filter(|m| present.contains(m))
                .collect();
            desired.insert(&group.name, members);
        }
    }
    desired.insert(
        SUDO_GROUP,
        document
            .users
            .iter()
            .filter(|u| u.sudo && present.contains(u.account.username.as_str()))
            .map(|u| u.account.username.as_str())
            .collect(),
    );
    for (group, want) in &desired {
        let have: BTreeSet<&str> = system
            .groups
            .get(*group)
            .map(|g| g.members.iter().map(String::as_str).collect())
            .unwrap_or_default();
        for user in want.difference(&have) {
            plan.actions.push(Action::AddMember {
                group: (*group).to_owned(),
                user: (*user).to_owned(),
            });
        }
        for user in have.difference(want) {
            if managed(user) || *group == SUDO_GROUP {
                plan.actions.push(Action::RemoveMember {
                    group: (*group).to_owned(),
                    user: (*user).to_owned(),
                });
            }
        }
    }
    // Managed groups no longer in the document: their managed members leave.
    for (group, _) in registry.groups.iter().filter(|(g, _)| {
        !desired.contains_key(g.as_str()) && !registry.users.contains_key(g.as_str())
    }) {
        if let Some(local) = system.groups.get(group) {
            for user in local.members.iter().filter(|m| managed(m)) {
                plan.actions.push(Action::RemoveMember {
                    group: group.clone(),
                    user: user.clone(),
                });
            }
        }
    }
    // Local groups a grant names: joined while named, left when no longer.
    for user in &document.users {
        let name = user.account.username.as_str();
        if !present.contains(name) {
            continue;
        }
        let extra: BTreeSet<&str> = user
            .groups
            .iter()
            .map(String::as_str)
            .filter(|g| !desired.contains_key(g) && system.groups.contains_key(*g))
            .collect();
        for group in &extra {
            let member = system
                .groups
                .get(*group)
                .is_some_and(|g| g.members.iter().any(|m| m == name));
            if !member {
                plan.actions.push(Action::AddMember {
                    group: (*group).to_owned(),
                    user: name.to_owned(),
                });
            }
        }
        if let Some(known) = registry.users.get(name) {
            let member = |g: &str| {
                system
                    .groups
                    .get(g)
                    .is_some_and(|g| g.members.iter().any(|m| m == name))
            };
            for group in known
                .extra_groups
                .iter()
                .filter(|g| !extra.contains(g.as_str()) && member(g))
            {
                plan.actions.push(Action::RemoveMember {
                    group: group.clone(),
                    user: name.to_owned(),
                });
            }
        }
    }

    // Managed users no longer granted: expired, sessions ended.
    for (name, known) in &registry.users {
        if present.contains(name.as_str()) {
            continue;
        }
        if let Some(local) = system.users.get(name) {
            for group in &known.extra_groups {
                let member = system
                    .groups
                    .get(group)
                    .is_some_and(|g| g.members.iter().any(|m| m == name));
                if member {
                    plan.actions.push(Action::RemoveMember {
                        group: group.clone(),
                        user: name.clone(),
                    });
                }
            }
            if !system.is_expired(name) || local.shell != NOLOGIN {
                plan.actions.push(Action::Expire {
                    name: name.clone(),
                    uid: local.uid,
                });
            }
        }
    }
    plan
}

/// The action that creates group `name` with `gid`, none when the agent already has it,
/// or why it cannot.
fn ensure_group(
    system: &System,
    registry: &Registry,
    name: &str,
    gid: u32,
) -> Result<Option<Action>, String> {
    match system.groups.get(name) {
        Some(local) if registry.groups.get(name) == Some(&local.gid) && local.gid == gid => {
            Ok(None)
        }
        Some(local) => Err(format!(
            "group {name}: a local group of that name exists (gid {}) and is not managed by \
             sshward; it is left alone",
            local.gid
        )),
        None => match system.group_by_gid(gid) {
            Some(other) => Err(format!(
                "group {name}: gid {gid} belongs to the local group {}; left alone",
                other.name
            )),
            None => Ok(Some(Action::CreateGroup {
                name: name.to_owned(),
                gid,
            })),
        },
    }
}

#[cfg(test)]
mod tests;
