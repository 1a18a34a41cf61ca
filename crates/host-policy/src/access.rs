//! Computing the access document of one host.

use std::collections::{BTreeMap, BTreeSet};

use crate::model::{Directory, Grant, Host, PosixGroup, Role};
use crate::{AccessDocument, AccessGroup, AccessUser};

/// Who may log in to `host` and who may sudo there, under `grants`, with users, groups and
/// memberships from `directory`.
///
/// - A grant applies when its host selector matches the host's tags; every active member
///   of its group (looked up by SCIM id) may log in, and may sudo if the role is
///   [`Role::Sudo`]. The strongest applying role wins.
/// - Disabled users never appear, nor do members or groups missing from `directory`.
/// - Each applying grant's group becomes a managed POSIX group of the document; the
///   user's `groups` list it, plus the grant's `extra_groups`.
/// - Users come sorted by username, groups by name, group lists sorted: the same inputs
///   always give the same document.
pub fn access_for(host: &Host, grants: &[Grant], directory: &Directory) -> AccessDocument {
    // Per user (SCIM id): the strongest role and the supplementary groups.
    let mut granted: BTreeMap<&str, (Role, BTreeSet<String>)> = BTreeMap::new();
    let mut managed: BTreeMap<&str, &PosixGroup> = BTreeMap::new();
    for grant in grants.iter().filter(|g| g.hosts.matches(&host.tags)) {
        let Some(group) = directory.group(&grant.group_id) else {
            continue;
        };
        managed.insert(group.id.as_str(), group);
        for member in directory.members(&grant.group_id) {
            if !directory.user(member).is_some_and(|u| u.active) {
                continue;
            }
            let entry = granted
                .entry(member)
                .or_insert((grant.role, BTreeSet::new()));
            entry.0 = entry.0.max(grant.role);
            entry.1.insert(group.name.clone());
            entry
                .1
                .extend(grant.extra_groups.iter().map(ToString::to_string));
        }
    }
    let mut users: Vec<AccessUser> = granted
        .iter()
        .filter_map(|(id, (role, groups))| {
            let user = directory.user(id)?;
            Some(AccessUser {
                account: user.account.clone(),
                sudo: *role == Role::Sudo,
                groups: groups.iter().cloned().collect(),
            })
        })
        .collect();
    users.sort_by(|a, b| a.account.username.cmp(&b.account.username));
    let mut groups: Vec<AccessGroup> = managed
        .values()
        .map(|group| {
            let mut members: Vec<String> = directory
                .members(&group.id)
                .filter(|m| granted.contains_key(m))
                .filter_map(|m| directory.user(m))
                .map(|u| u.account.username.clone())
                .collect();
            members.sort();
            AccessGroup {
                name: group.name.clone(),
                gid: group.gid,
                members,
            }
        })
        .collect();
    groups.sort_by(|a, b| a.name.cmp(&b.name));
    AccessDocument {
        revision: directory.revision(),
        hostname: host.hostname.clone(),
        users,
        groups,
    }
}
