//! Computing the access document of one host.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use crate::model::{Directory, Grant, Host, PosixGroup, PosixUser, Role, Tag};
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
    for (grant, group) in applying(&host.tags, grants, directory) {
        managed.insert(group.id.as_str(), group);
        for member in active_members(directory, &grant.group_id) {
            let entry = granted
                .entry(member.id.as_str())
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

/// The role each user gets on a host tagged `tags` under `grants`, by POSIX username (a
/// team's usernames are unique): exactly the users and roles of [`access_for`]'s document
/// (`sudo` there is [`Role::Sudo`]), without building it. For comparing many users' access under two sets
/// of grants (a grant preview), where the document's accounts and group lists would only
/// be allocated to be thrown away.
pub fn roles_for<'d>(
    tags: &BTreeSet<Tag>,
    grants: &[Grant],
    directory: &'d Directory,
) -> HashMap<&'d str, Role> {
    let mut roles: HashMap<&'d str, Role> = HashMap::new();
    for (grant, _) in applying(tags, grants, directory) {
        for member in active_members(directory, &grant.group_id) {
            let role = roles
                .entry(member.account.username.as_str())
                .or_insert(grant.role);
            *role = (*role).max(grant.role);
        }
    }
    roles
}

/// The grants that apply on a host tagged `tags`, each with its group (grants of groups
/// missing from `directory` give nothing).
fn applying<'a, 'd>(
    tags: &'a BTreeSet<Tag>,
    grants: &'a [Grant],
    directory: &'d Directory,
) -> impl Iterator<Item = (&'a Grant, &'d PosixGroup)> {
    grants
        .iter()
        .filter(|g| g.hosts.matches(tags))
        .filter_map(|g| directory.group(&g.group_id).map(|group| (g, group)))
}

/// The members of group `group_id` who are users of `directory` and active.
fn active_members<'d>(
    directory: &'d Directory,
    group_id: &str,
) -> impl Iterator<Item = &'d PosixUser> {
    directory
        .members(group_id)
        .filter_map(|m| directory.user(m))
        .filter(|u| u.active)
}
