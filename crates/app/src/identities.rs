//! POSIX identities and the documents built on them: loading grants, hosts and the
//! directory from the store, allocating identities on first need, computing a host's
//! access document and explaining a decision. Everything here blocks (diesel); async
//! callers run it on a blocking thread.

use std::collections::{BTreeSet, HashMap, HashSet};
use std::sync::{Arc, Mutex, PoisonError};

use host_policy::username;
use host_policy::{
    AccessDocument, Directory, Explanation, Grant, Host, PosixAccount, PosixGroup, PosixSettings,
    PosixUser, Role, access_for, explain, render, roles_for,
};
use store::{Account, GrantRecord, HostRecord, PosixKind, StoreError, TeamId, Tx};

use crate::{App, AppError};

/// How often an allocation that lost a race with another instance is retried.
const ALLOCATION_ATTEMPTS: usize = 5;

/// One mutex per team, so that work that must not run twice at once for a team (POSIX
/// allocation, a long-poll's revision read) never makes other teams wait.
#[derive(Debug, Default)]
pub struct TeamLocks {
    locks: Mutex<HashMap<TeamId, Arc<Mutex<()>>>>,
}

impl TeamLocks {
    /// The mutex of `team` (created on first use; teams are few, so none is dropped).
    pub fn of(&self, team: TeamId) -> Arc<Mutex<()>> {
        let mut locks = self.locks.lock().unwrap_or_else(PoisonError::into_inner);
        locks.entry(team).or_default().clone()
    }
}

/// A host's document with the entity tag it was computed at.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Computed {
    /// The entity tag (team revision and tag set), quoted.
    pub etag: String,
    /// The document (its `revision` is the team revision it reflects).
    pub document: AccessDocument,
}

/// The policy view of a stored host.
pub fn host_of(record: &HostRecord) -> Host {
    Host {
        id: record.id,
        hostname: record.hostname.clone(),
        tags: record.tags.clone(),
    }
}

/// The policy view of a stored grant.
pub fn grant_of(record: &GrantRecord) -> Grant {
    Grant {
        id: record.id,
        group_id: record.group_id.clone(),
        hosts: record.hosts.clone(),
        role: record.role,
        extra_groups: record.extra_groups.clone(),
    }
}

/// The team's grants in policy form, oldest first.
fn grants(tx: &mut Tx<'_>, team: TeamId) -> Result<Vec<Grant>, AppError> {
    Ok(tx.grants().list(team)?.iter().map(grant_of).collect())
}

fn u32_of(n: i64) -> Result<u32, AppError> {
    u32::try_from(n)
        .map_err(|_| AppError::Store(StoreError::Corrupt(format!("POSIX id {n} out of range"))))
}

/// A directory user from a store account with an allocated identity.
fn posix_user(account: &Account, settings: &PosixSettings) -> Result<Option<PosixUser>, AppError> {
    let Some((name, number)) = &account.posix else {
        return Ok(None);
    };
    let uid = u32_of(*number)?;
    let display = account
        .display_name
        .as_deref()
        .unwrap_or(&account.user_name);
    Ok(Some(PosixUser {
        id: account.id.clone(),
        account: PosixAccount {
            username: name.clone(),
            uid,
            gid: uid,
            gecos: username::gecos(display),
            home: settings.home_base.home_of(name),
            shell: settings.shell.as_str().to_owned(),
        },
        active: account.active != Some(false),
    }))
}

/// What loading a directory found.
pub(crate) enum Loaded<T> {
    Ready(T),
    /// Some users or groups have no POSIX identity yet.
    NeedsAllocation,
}

/// A directory at the team's revision holding the granted groups in `group_ids` (no
/// users yet); `NeedsAllocation` when one has no POSIX group yet.
fn granted_groups(
    tx: &mut Tx<'_>,
    team: TeamId,
    group_ids: &[&str],
) -> Result<Loaded<Directory>, AppError> {
    let mut dir = Directory::at_revision(tx.teams().revision(team)?);
    for group in tx.posix().groups(team, group_ids)? {
        let Some((name, number)) = group.posix else {
            return Ok(Loaded::NeedsAllocation);
        };
        dir.add_group(PosixGroup {
            id: group.id,
            name,
            gid: u32_of(number)?,
        });
    }
    Ok(Loaded::Ready(dir))
}

/// Loads the directory part that `grants` need: the granted groups in `group_ids`, their
/// members, and the accounts in `extra_users`.
fn load_directory(
    tx: &mut Tx<'_>,
    team: TeamId,
    group_ids: &[&str],
    extra_users: &[&str],
) -> Result<Loaded<Directory>, AppError> {
    let settings = tx.posix().settings(team)?;
    let Loaded::Ready(mut dir) = granted_groups(tx, team, group_ids)? else {
        return Ok(Loaded::NeedsAllocation);
    };
    let members = tx.posix().members_of(team, group_ids)?;
    let extra = tx.posix().accounts(team, extra_users)?;
    for account in members.iter().map(|(_, a)| a).chain(&extra) {
        match posix_user(account, &settings)? {
            Some(user) => dir.add_user(user),
            None => return Ok(Loaded::NeedsAllocation),
        }
    }
    for (group, account) in &members {
        dir.add_member(group, &account.id);
    }
    Ok(Loaded::Ready(dir))
}

/// Gives a POSIX identity to every user of the team that has none (oldest first, so the
/// earlier-created user keeps the plain name) and to every granted group that has none,
/// and marks the identities of deleted users and groups released. Runs in a write
/// transaction; does not change the team's revision.
pub(crate) fn allocate_missing(tx: &mut Tx<'_>, team: TeamId) -> Result<(), AppError> {
    let settings = tx.posix().settings(team)?;
    let style = settings.username_style;
    tx.posix().release_deleted(team)?;
    let mut taken: HashSet<String> = tx.posix().names(team)?;
    // The team's own reserved names are never handed out (who has one keeps it).
    taken.extend(settings.reserved.iter().map(|n| n.as_str().to_owned()));
    let mut pick = |base: String| {
        let name = username::choose_name(&base, |n| taken.contains(n));
        taken.insert(name.clone());
        name
    };
    let users: Vec<(String, String)> = tx
        .posix()
        .unallocated_users(team)?
        .into_iter()
        .map(|a| {
            let name = pick(username::base_username(&a.user_name, style));
            (a.id, name)
        })
        .collect();
    tx.posix().allocate(team, PosixKind::User, &users)?;
    let granted: BTreeSet<String> = tx
        .grants()
        .list(team)?
        .into_iter()
        .map(|g| g.group_id)
        .collect();
    let granted: Vec<&str> = granted.iter().map(String::as_str).collect();
    let groups: Vec<(String, String)> = tx
        .posix()
        .groups(team, &granted)?
        .into_iter()
        .filter(|g| g.posix.is_none())
        .map(|g| {
            let name = pick(username::base_group_name(&g.display_name));
            (g.id, name)
        })
        .collect();
    tx.posix().allocate(team, PosixKind::Group, &groups)?;
    Ok(())
}

/// Runs `load` in a read transaction; when it reports missing identities, allocates them
/// in a write transaction and loads again (retrying allocations that lost a race with
/// another instance).
pub(crate) fn with_identities<T>(
    app: &App,
    team: TeamId,
    mut load: impl FnMut(&mut Tx<'_>) -> Result<Loaded<T>, AppError>,
) -> Result<T, AppError> {
    let store = &app.store;
    for _ in 0..ALLOCATION_ATTEMPTS {
        if let Loaded::Ready(value) = store.read(&mut load)? {
            return Ok(value);
        }
        // One allocation at a time per team in this process: when a fleet polls right
        // after a large provisioning, the other requests of the team wait for the first
        // allocation and then find everything allocated, instead of racing it (instances
        // still race, and retry). Other teams do not wait.
        let lock = app.allocating.of(team);
        let _allocating = lock.lock().unwrap_or_else(PoisonError::into_inner);
        if let Loaded::Ready(value) = store.read(&mut load)? {
            return Ok(value);
        }
        match store.write(|tx| allocate_missing(tx, team)) {
            Ok(()) | Err(AppError::Conflict(_)) => {}
            // Not the caller's fault (e.g. the team's id range is exhausted).
            Err(AppError::Invalid(message)) => return Err(AppError::Internal(message)),
            Err(AppError::Store(e)) if e.is_transient() => {}
            Err(e) => return Err(e),
        }
    }
    Err(AppError::Internal(
        "POSIX identities could not be allocated (too many concurrent allocations)".into(),
    ))
}

/// The access document of host `host_id` of `team` as of now, allocating POSIX
/// identities first when needed. [`AppError::Unauthorized`] if the host is gone.
pub(crate) fn access_document(app: &App, team: TeamId, host_id: i64) -> Result<Computed, AppError> {
    with_identities(app, team, |tx| {
        let record = tx
            .hosts()
            .get(team, host_id)?
            .ok_or(AppError::Unauthorized("this host has been removed"))?;
        let host = host_of(&record);
        let grants = grants(tx, team)?;
        let groups: BTreeSet<&str> = grants
            .iter()
            .filter(|g| g.hosts.matches(&host.tags))
            .map(|g| g.group_id.as_str())
            .collect();
        let groups: Vec<&str> = groups.into_iter().collect();
        Ok(match load_directory(tx, team, &groups, &[])? {
            Loaded::Ready(dir) => Loaded::Ready(Computed {
                etag: render::etag(dir.revision(), &host.tags),
                document: access_for(&host, &grants, &dir),
            }),
            Loaded::NeedsAllocation => Loaded::NeedsAllocation,
        })
    })
}

/// Explains the access of user `user_id` (SCIM id) to host `host_id`.
pub(crate) fn explain_access(
    app: &App,
    team: TeamId,
    host_id: i64,
    user_id: &str,
) -> Result<Explanation, AppError> {
    with_identities(app, team, |tx| {
        let record = tx
            .hosts()
            .get(team, host_id)?
            .ok_or_else(|| AppError::NotFound(format!("no host {host_id} in this team")))?;
        let host = host_of(&record);
        let grants = grants(tx, team)?;
        let groups: BTreeSet<&str> = grants.iter().map(|g| g.group_id.as_str()).collect();
        let groups: Vec<&str> = groups.into_iter().collect();
        Ok(match load_directory(tx, team, &groups, &[user_id])? {
            Loaded::Ready(dir) => Loaded::Ready(explain(&host, user_id, &grants, &dir)),
            Loaded::NeedsAllocation => Loaded::NeedsAllocation,
        })
    })
}

/// Loads the directory as one user's access needs it: every granted group in
/// `group_ids`, the user `user_id` and only their own memberships (not every member of
/// every granted group).
fn user_directory(
    tx: &mut Tx<'_>,
    team: TeamId,
    group_ids: &[&str],
    user_id: &str,
) -> Result<Loaded<Directory>, AppError> {
    let settings = tx.posix().settings(team)?;
    let Loaded::Ready(mut dir) = granted_groups(tx, team, group_ids)? else {
        return Ok(Loaded::NeedsAllocation);
    };
    for account in tx.posix().accounts(team, &[user_id])? {
        match posix_user(&account, &settings)? {
            Some(user) => dir.add_user(user),
            None => return Ok(Loaded::NeedsAllocation),
        }
    }
    for group in tx.groups().groups_of_user(team, user_id)? {
        dir.add_member(&group.id, user_id);
    }
    Ok(Loaded::Ready(dir))
}

/// The access of user `user_id` (SCIM id) to every host of `team`: each host's
/// explanation, by hostname, and the user's POSIX account if they have one.
pub(crate) fn user_access(
    app: &App,
    team: TeamId,
    user_id: &str,
) -> Result<(Option<PosixAccount>, Vec<Explanation>), AppError> {
    with_identities(app, team, |tx| {
        let grants = grants(tx, team)?;
        let groups: BTreeSet<&str> = grants.iter().map(|g| g.group_id.as_str()).collect();
        let groups: Vec<&str> = groups.into_iter().collect();
        let dir = match user_directory(tx, team, &groups, user_id)? {
            Loaded::Ready(dir) => dir,
            Loaded::NeedsAllocation => return Ok(Loaded::NeedsAllocation),
        };
        let account = dir.user(user_id).map(|u| u.account.clone());
        let explanations = tx
            .hosts()
            .list(team)?
            .iter()
            .map(|record| explain(&host_of(record), user_id, &grants, &dir))
            .collect();
        Ok(Loaded::Ready((account, explanations)))
    })
}

/// Who would gain or lose what on which host if `change` were added to (or, with
/// `removing`, taken from) the team's grants: each user whose access differs on a host
/// the grant selects, with those hosts.
pub(crate) fn grant_effect(
    app: &App,
    team: TeamId,
    change: &Grant,
    removing: bool,
) -> Result<Vec<crate::AccessChange>, AppError> {
    with_identities(app, team, |tx| {
        let current = grants(tx, team)?;
        let mut after: Vec<Grant> = current.clone();
        if removing {
            after.retain(|g| g.id != change.id);
        } else {
            after.push(change.clone());
        }
        let mut groups: BTreeSet<&str> = current.iter().map(|g| g.group_id.as_str()).collect();
        groups.insert(change.group_id.as_str());
        // The new grant's group may have no POSIX group yet (it is allocated once the
        // grant exists): its members are what matters here, so it is loaded without one.
        let granted: Vec<&str> = groups
            .iter()
            .copied()
            .filter(|g| *g != change.group_id || removing)
            .collect();
        let mut dir = match load_directory(tx, team, &granted, &[])? {
            Loaded::Ready(dir) => dir,
            Loaded::NeedsAllocation => return Ok(Loaded::NeedsAllocation),
        };
        if !removing && !add_candidate_group(tx, team, &mut dir, &change.group_id)? {
            return Ok(Loaded::NeedsAllocation);
        }
        // Who may do what depends only on a host's tags: one computation per tag set,
        // however many hosts share it, comparing roles only (no documents are built).
        let mut tag_sets: HashMap<BTreeSet<host_policy::Tag>, usize> = HashMap::new();
        let mut changes: Vec<(Changed<'_>, usize)> = Vec::new();
        let mut hostnames: Vec<Vec<String>> = Vec::new();
        for record in tx.hosts().list(team)? {
            if !change.hosts.matches(&record.tags) {
                continue;
            }
            let set = match tag_sets.get(&record.tags) {
                Some(set) => *set,
                None => {
                    let set = hostnames.len();
                    changes.extend(
                        changed_roles(
                            &roles_for(&record.tags, &current, &dir),
                            &roles_for(&record.tags, &after, &dir),
                        )
                        .into_iter()
                        .map(|c| (c, set)),
                    );
                    hostnames.push(Vec::new());
                    tag_sets.insert(record.tags, set);
                    set
                }
            };
            hostnames[set].push(record.hostname);
        }
        // Each change with the tag sets it happens on (sorted, a user's changes are
        // together); users whose changes happen on the same tag sets share one list of
        // hostnames.
        changes.sort_unstable();
        let mut lists: HashMap<Vec<usize>, Arc<Vec<String>>> = HashMap::new();
        let mut out = Vec::new();
        let mut sets: Vec<usize> = Vec::new();
        for (i, (changed, set)) in changes.iter().enumerate() {
            sets.push(*set);
            if changes.get(i + 1).is_some_and(|(next, _)| next == changed) {
                continue;
            }
            let hosts = match lists.get(sets.as_slice()) {
                Some(list) => list.clone(),
                None => {
                    let mut names: Vec<String> = sets
                        .iter()
                        .flat_map(|s| hostnames[*s].iter().cloned())
                        .collect();
                    names.sort_unstable();
                    let list = Arc::new(names);
                    lists.insert(sets.clone(), list.clone());
                    list
                }
            };
            let (user, before, after) = *changed;
            out.push(crate::AccessChange {
                user: user.to_owned(),
                before,
                after,
                hosts,
            });
            sets.clear();
        }
        Ok(Loaded::Ready(out))
    })
}

/// Adds group `group_id` with its members to `dir`, with a placeholder POSIX group if it
/// has none yet (only membership decides who a grant lets in). False when a member has
/// no POSIX identity yet.
fn add_candidate_group(
    tx: &mut Tx<'_>,
    team: TeamId,
    dir: &mut Directory,
    group_id: &str,
) -> Result<bool, AppError> {
    let settings = tx.posix().settings(team)?;
    let found = tx.posix().groups(team, &[group_id])?;
    let Some(group) = found.into_iter().next() else {
        return Ok(true);
    };
    let (name, gid) = match group.posix {
        Some((name, number)) => (name, u32_of(number)?),
        None => (username::base_group_name(&group.display_name), 0),
    };
    dir.add_group(PosixGroup {
        id: group.id.clone(),
        name,
        gid,
    });
    for (_, account) in tx.posix().members_of(team, &[group_id])? {
        match posix_user(&account, &settings)? {
            Some(user) => dir.add_user(user),
            None => return Ok(false),
        }
        dir.add_member(group_id, &account.id);
    }
    Ok(true)
}

/// A user whose access changes: (POSIX name, before, after).
type Changed<'d> = (&'d str, Option<Role>, Option<Role>);

/// The users whose role differs between two role maps of one tag set.
fn changed_roles<'d>(
    before: &HashMap<&'d str, Role>,
    after: &HashMap<&'d str, Role>,
) -> Vec<Changed<'d>> {
    let lost = before
        .iter()
        .filter(|(name, _)| !after.contains_key(*name))
        .map(|(name, was)| (*name, Some(*was), None));
    let gained = after.iter().filter_map(|(name, will)| {
        let was = before.get(name).copied();
        (was != Some(*will)).then_some((*name, was, Some(*will)))
    });
    lost.chain(gained).collect()
}
