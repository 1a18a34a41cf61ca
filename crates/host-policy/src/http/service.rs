//! The store glue shared by the agent API and the admin CLI: loading grants, hosts and
//! directory data, allocating POSIX identities, joining hosts, computing documents and
//! explanations. Every function here blocks (diesel); async callers use `web::block`.

use std::collections::{BTreeSet, HashSet};
use std::sync::{Mutex, PoisonError};

use store::{
    Account, AuditEntry, GrantRecord, HostRecord, PosixKind, PosixSettings, Store, StoreError,
    TagPair, TeamId, Tx,
};
use time::OffsetDateTime;

use super::AgentError;
use crate::username::{self, UsernameStyle};
use crate::{
    AccessDocument, Directory, Explanation, Grant, Host, HostSelector, PosixAccount, PosixGroup,
    PosixUser, Role, Tag, access_for, explain, format_tags, normalize_hostname, render,
};

/// How often an allocation that lost a race with another instance is retried.
const ALLOCATION_ATTEMPTS: usize = 5;

/// Held while this process allocates POSIX identities (see `with_identities`).
static ALLOCATING: Mutex<()> = Mutex::new(());

/// A host's document with the entity tag it was computed at.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Computed {
    /// The entity tag (team revision and tag set), quoted.
    pub etag: String,
    /// The team revision the document reflects.
    pub revision: i64,
    /// The document.
    pub document: AccessDocument,
}

/// A host that has just joined, with its credential (shown once).
#[derive(Clone, Debug)]
pub struct Joined {
    /// The new host.
    pub host: HostRecord,
    /// Its credential: the bearer token of its later requests.
    pub credential: String,
}

/// Tags as the store keeps them.
pub fn tag_pairs(tags: &BTreeSet<Tag>) -> Vec<TagPair> {
    tags.iter()
        .map(|t| (t.key().to_owned(), t.value().to_owned()))
        .collect()
}

/// Tags from the store.
pub fn tags_of(pairs: &[TagPair]) -> Result<BTreeSet<Tag>, AgentError> {
    pairs
        .iter()
        .map(|(k, v)| Tag::new(k, v))
        .collect::<Result<_, _>>()
        .map_err(|e| AgentError::Store(StoreError::Corrupt(format!("stored tag: {e}"))))
}

/// The policy view of a stored host.
pub fn host_of(record: &HostRecord) -> Result<Host, AgentError> {
    Ok(Host {
        id: record.id,
        hostname: record.hostname.clone(),
        tags: tags_of(&record.tags)?,
    })
}

/// The policy view of a stored grant.
pub fn grant_of(record: &GrantRecord) -> Result<Grant, AgentError> {
    let corrupt = |e: crate::PolicyError| {
        AgentError::Store(StoreError::Corrupt(format!("grant {}: {e}", record.id)))
    };
    Ok(Grant {
        id: record.id,
        group_id: record.group_id.clone(),
        hosts: record.hosts.parse::<HostSelector>().map_err(corrupt)?,
        role: record.role.parse::<Role>().map_err(corrupt)?,
        extra_groups: record.extra_groups.clone(),
    })
}

/// The team's grants in policy form, oldest first.
pub fn grants(tx: &mut Tx<'_>, team: TeamId) -> Result<Vec<Grant>, AgentError> {
    tx.grants().list(team)?.iter().map(grant_of).collect()
}

/// The entity tag of `host`'s document as of now: one revision read.
pub fn current_etag(tx: &mut Tx<'_>, host: &HostRecord) -> Result<String, AgentError> {
    let revision = tx.teams().revision(host.team)?;
    Ok(render::etag(revision, &tags_of(&host.tags)?))
}

fn u32_of(n: i64) -> Result<u32, AgentError> {
    u32::try_from(n)
        .map_err(|_| AgentError::Store(StoreError::Corrupt(format!("POSIX id {n} out of range"))))
}

/// A directory user from a store account with an allocated identity.
fn posix_user(
    account: &Account,
    settings: &PosixSettings,
) -> Result<Option<PosixUser>, AgentError> {
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
            home: format!("{}/{name}", settings.home_base.trim_end_matches('/')),
            shell: settings.shell.clone(),
        },
        active: account.active != Some(false),
    }))
}

/// What loading a directory found.
enum Loaded<T> {
    Ready(T),
    /// Some users or groups have no POSIX identity yet.
    NeedsAllocation,
}

/// Loads the directory part that `grants` need: the granted groups in `group_ids`, their
/// members, and the accounts in `extra_users`.
fn load_directory(
    tx: &mut Tx<'_>,
    team: TeamId,
    group_ids: &[&str],
    extra_users: &[&str],
) -> Result<Loaded<Directory>, AgentError> {
    let settings = tx.posix().settings(team)?;
    let mut dir = Directory::new();
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
pub fn allocate_missing(tx: &mut Tx<'_>, team: TeamId) -> Result<(), AgentError> {
    let settings = tx.posix().settings(team)?;
    let style: UsernameStyle = settings.username_style.parse().unwrap_or_default();
    tx.posix().release_deleted(team)?;
    let mut taken: HashSet<String> = tx.posix().names(team)?;
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
fn with_identities<T>(
    store: &Store,
    team: TeamId,
    mut load: impl FnMut(&mut Tx<'_>) -> Result<Loaded<T>, AgentError>,
) -> Result<T, AgentError> {
    for _ in 0..ALLOCATION_ATTEMPTS {
        if let Loaded::Ready(value) = store.read(&mut load)? {
            return Ok(value);
        }
        // One allocation at a time in this process: when a fleet polls right after a
        // large provisioning, the other requests wait for the first allocation and then
        // find everything allocated, instead of racing it (instances still race, and
        // retry).
        let _allocating = ALLOCATING.lock().unwrap_or_else(PoisonError::into_inner);
        if let Loaded::Ready(value) = store.read(&mut load)? {
            return Ok(value);
        }
        match store.write(|tx| allocate_missing(tx, team)) {
            Ok(()) | Err(AgentError::Conflict(_)) => {}
            // Not the caller's fault (e.g. the team's id range is exhausted).
            Err(AgentError::BadRequest(message)) => return Err(AgentError::Internal(message)),
            Err(AgentError::Store(e)) if e.is_transient() => {}
            Err(e) => return Err(e),
        }
    }
    Err(AgentError::Internal(
        "POSIX identities could not be allocated (too many concurrent allocations)".into(),
    ))
}

/// The access document of host `host_id` of `team` as of now, allocating POSIX
/// identities first when needed. [`AgentError::Unauthorized`] if the host is gone.
pub fn access_document(store: &Store, team: TeamId, host_id: i64) -> Result<Computed, AgentError> {
    with_identities(store, team, |tx| {
        let record = tx
            .hosts()
            .get(team, host_id)?
            .ok_or(AgentError::Unauthorized("this host has been removed"))?;
        let host = host_of(&record)?;
        let revision = tx.teams().revision(team)?;
        let grants = grants(tx, team)?;
        let groups: BTreeSet<&str> = grants
            .iter()
            .filter(|g| g.hosts.matches(&host.tags))
            .map(|g| g.group_id.as_str())
            .collect();
        let groups: Vec<&str> = groups.into_iter().collect();
        Ok(match load_directory(tx, team, &groups, &[])? {
            Loaded::Ready(dir) => Loaded::Ready(Computed {
                etag: render::etag(revision, &host.tags),
                revision,
                document: access_for(&host, &grants, &dir),
            }),
            Loaded::NeedsAllocation => Loaded::NeedsAllocation,
        })
    })
}

/// Explains the access of user `user_id` (SCIM id) to host `host_id`.
pub fn explain_access(
    store: &Store,
    team: TeamId,
    host_id: i64,
    user_id: &str,
) -> Result<Explanation, AgentError> {
    with_identities(store, team, |tx| {
        let record = tx
            .hosts()
            .get(team, host_id)?
            .ok_or_else(|| AgentError::NotFound(format!("no host {host_id} in this team")))?;
        let host = host_of(&record)?;
        let grants = grants(tx, team)?;
        let groups: BTreeSet<&str> = grants.iter().map(|g| g.group_id.as_str()).collect();
        let groups: Vec<&str> = groups.into_iter().collect();
        Ok(match load_directory(tx, team, &groups, &[user_id])? {
            Loaded::Ready(dir) => Loaded::Ready(explain(&host, user_id, &grants, &dir)),
            Loaded::NeedsAllocation => Loaded::NeedsAllocation,
        })
    })
}

/// Redeems a join token for a host called `hostname` and records the host with the
/// token's tags. `requested` tags, when given, must all be conferred by the token (a host
/// never picks its own tags: that would let it read another environment's users).
/// The token is used up only if the join succeeds.
pub fn join(
    store: &Store,
    token: &str,
    hostname: &str,
    requested: &BTreeSet<Tag>,
) -> Result<Joined, AgentError> {
    let hostname = normalize_hostname(hostname)?;
    store.write(|tx| {
        let info = tx
            .hosts()
            .redeem_join_token(token)?
            .ok_or(AgentError::Unauthorized(
                "the join token is not valid (wrong, expired or already used)",
            ))?;
        let conferred = tags_of(&info.tags)?;
        let foreign: Vec<&Tag> = requested.difference(&conferred).collect();
        if !foreign.is_empty() {
            return Err(AgentError::Forbidden(format!(
                "the join token does not confer the tag(s) {}; it confers [{}]",
                format_tags(foreign),
                format_tags(&conferred)
            )));
        }
        let (host, credential) = tx
            .hosts()
            .insert(info.team, &hostname, &tag_pairs(&conferred), Some(info.id))
            .map_err(|e| match e {
                StoreError::Conflict { .. } => AgentError::Conflict(format!(
                    "a host named {hostname} has already joined this team; remove it first \
                     (sshward host remove) to join again"
                )),
                other => other.into(),
            })?;
        tx.audit().append(&AuditEntry {
            team: Some(info.team),
            at: OffsetDateTime::now_utc(),
            actor: format!("join-token:{}", info.id),
            action: "host.join".into(),
            resource_type: Some("Host".into()),
            resource_id: Some(host.id.to_string()),
            status: 201,
            summary: format!(
                "host {hostname} joined with tags [{}]",
                format_tags(&conferred)
            ),
        })?;
        Ok(Joined { host, credential })
    })
}
