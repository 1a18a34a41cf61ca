//! Grants of host access to IdP groups.

use host_policy::{HostSelector, PosixName, Role};
use store::{GrantRecord, StoreError, TeamId, Tx};
use time::OffsetDateTime;

use crate::audit;

use crate::{Actor, App, AppError, AuditAction, lookup};

/// A grant to add. Every field is already a checked value: nothing here can be stored
/// that the policy would refuse later.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NewGrant {
    /// The group: its SCIM id, or its current displayName (resolved to the id once, now:
    /// the grant follows the group through renames, and a new group that takes the old
    /// name gets nothing).
    pub group: String,
    /// The hosts it applies to.
    pub hosts: HostSelector,
    /// What it allows.
    pub role: Role,
    /// Local groups on the hosts to put the members in.
    pub extra_groups: Vec<PosixName>,
}

/// A grant with its group's current display name, as front ends show it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct GrantView {
    /// The grant's id.
    pub id: i64,
    /// The SCIM id of its group.
    pub group_id: String,
    /// The group's current displayName (`None` if the group is gone).
    pub group_name: Option<String>,
    /// The hosts it applies to.
    pub hosts: HostSelector,
    /// What it allows.
    pub role: Role,
    /// Extra local groups.
    pub extra_groups: Vec<PosixName>,
    /// When it was made.
    pub created: OffsetDateTime,
}

fn view(tx: &mut Tx<'_>, team: TeamId, g: GrantRecord) -> Result<GrantView, AppError> {
    Ok(GrantView {
        group_name: lookup::group_name(tx, team, &g.group_id)?,
        id: g.id,
        group_id: g.group_id,
        hosts: g.hosts,
        role: g.role,
        extra_groups: g.extra_groups,
        created: g.created,
    })
}

impl App {
    /// Grants `grant.role` on `grant.hosts` to the members of `grant.group` in `team`.
    /// [`AppError::Conflict`] if the group has that grant already.
    pub fn add_grant(
        &self,
        actor: &Actor,
        team: &str,
        grant: &NewGrant,
    ) -> Result<GrantView, AppError> {
        self.write_in(team, |tx, team| {
            let group = lookup::group(tx, team, &grant.group)?;
            let (role, hosts) = (grant.role, &grant.hosts);
            let added = tx
                .grants()
                .add(team.id, &group.id, hosts, role, &grant.extra_groups)
                .map_err(|e| match e {
                    StoreError::Conflict { .. } => AppError::Conflict(format!(
                        "group {} already has {role} on {hosts}",
                        grant.group
                    )),
                    other => other.into(),
                })?;
            audit::record(
                tx,
                team.id,
                actor,
                AuditAction::GrantAdd,
                &added.id.to_string(),
                format!("grant {}: group {} {role} on {hosts}", added.id, group.id),
            )?;
            view(tx, team.id, added)
        })
    }

    /// The grants of `team`, oldest first.
    pub fn grants(&self, team: &str) -> Result<Vec<GrantView>, AppError> {
        self.read_in(team, |tx, team| {
            let grants = tx.grants().list(team.id)?;
            grants.into_iter().map(|g| view(tx, team.id, g)).collect()
        })
    }

    /// Removes grant `id` of `team`.
    pub fn remove_grant(&self, actor: &Actor, team: &str, id: i64) -> Result<GrantView, AppError> {
        self.write_in(team, |tx, team| {
            let grant = tx.grants().get(team.id, id)?.ok_or_else(|| {
                AppError::NotFound(format!("team {} has no grant {id}", team.slug))
            })?;
            let removed = view(tx, team.id, grant)?;
            tx.grants().remove(team.id, id)?;
            audit::record(
                tx,
                team.id,
                actor,
                AuditAction::GrantRemove,
                &id.to_string(),
                format!(
                    "removed grant {id}: group {} {} on {}",
                    removed.group_id, removed.role, removed.hosts
                ),
            )?;
            Ok(removed)
        })
    }
}
