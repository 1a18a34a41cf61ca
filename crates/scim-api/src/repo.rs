//! The store calls of the SCIM handlers, one function per operation whatever the resource
//! type, so handlers read the same for users and groups; store errors become API errors
//! here.

use crate::context::Caller;
use crate::error::ApiError;
use scim_core::ResourceKind;
use scim_core::message::{ListQuery, SortOrder};
use scim_core::patch::{self, MemberChange};
use scim_core::resource::Link;
use serde_json::{Map, Value};
use std::collections::HashMap;
use store::{
    AuditAction, AuditEntry, ResourceRecord, ScimOp, Sort, SortKey, StoreError, TeamId, Tx,
};
use time::OffsetDateTime;

/// How many member rows a PATCH added and removed.
#[derive(Clone, Copy, Debug, Default)]
pub(crate) struct MemberStats {
    pub added: usize,
    pub removed: usize,
}

impl MemberStats {
    pub fn changed(self) -> bool {
        self.added + self.removed > 0
    }
}

fn not_found(kind: ResourceKind, id: &str) -> ApiError {
    ApiError::NotFound(format!("{} {id} not found", kind.name()))
}

/// Whether `id` (from the URL) cannot name a stored resource: one with a NUL character
/// (`%00`) is none of ours, and PostgreSQL would refuse to compare with it.
fn impossible(id: &str) -> bool {
    id.contains('\0')
}

pub(crate) fn insert(
    tx: &mut Tx<'_>,
    kind: ResourceKind,
    team: TeamId,
    data: Map<String, Value>,
) -> Result<ResourceRecord, ApiError> {
    Ok(tx.resources(kind).insert(team, data)?)
}

pub(crate) fn get(
    tx: &mut Tx<'_>,
    kind: ResourceKind,
    team: TeamId,
    id: &str,
) -> Result<ResourceRecord, ApiError> {
    if impossible(id) {
        return Err(not_found(kind, id));
    }
    tx.resources(kind)
        .get(team, id)?
        .ok_or_else(|| not_found(kind, id))
}

pub(crate) fn replace(
    tx: &mut Tx<'_>,
    kind: ResourceKind,
    team: TeamId,
    id: &str,
    data: Map<String, Value>,
    expected_version: Option<i64>,
) -> Result<ResourceRecord, ApiError> {
    store_replace(tx, kind, team, id, data, expected_version).map_err(|e| match e {
        StoreError::NotFound => not_found(kind, id),
        other => other.into(),
    })
}

/// Replaces the data of a resource read at `read_version`; `Ok(None)` when a competing
/// write changed the version since (the caller may read again and retry).
pub(crate) fn replace_unless_changed(
    tx: &mut Tx<'_>,
    kind: ResourceKind,
    team: TeamId,
    id: &str,
    data: Map<String, Value>,
    read_version: i64,
) -> Result<Option<ResourceRecord>, ApiError> {
    match store_replace(tx, kind, team, id, data, Some(read_version)) {
        Ok(record) => Ok(Some(record)),
        Err(StoreError::VersionMismatch { .. }) => Ok(None),
        Err(StoreError::NotFound) => Err(not_found(kind, id)),
        Err(other) => Err(other.into()),
    }
}

fn store_replace(
    tx: &mut Tx<'_>,
    kind: ResourceKind,
    team: TeamId,
    id: &str,
    data: Map<String, Value>,
    expected_version: Option<i64>,
) -> Result<ResourceRecord, StoreError> {
    if impossible(id) {
        return Err(StoreError::NotFound);
    }
    tx.resources(kind).replace(team, id, data, expected_version)
}

/// Records a change that did not go through `replace` (members only) and returns the
/// resource as it now is.
pub(crate) fn touch(
    tx: &mut Tx<'_>,
    kind: ResourceKind,
    team: TeamId,
    id: &str,
) -> Result<ResourceRecord, ApiError> {
    tx.resources(kind).touch(team, id, None)?;
    get(tx, kind, team, id)
}

pub(crate) fn delete(
    tx: &mut Tx<'_>,
    kind: ResourceKind,
    team: TeamId,
    id: &str,
) -> Result<bool, ApiError> {
    if impossible(id) {
        return Ok(false);
    }
    Ok(tx.resources(kind).delete(team, id)?)
}

pub(crate) fn list(
    tx: &mut Tx<'_>,
    kind: ResourceKind,
    team: TeamId,
    query: &ListQuery,
) -> Result<(usize, Vec<ResourceRecord>), ApiError> {
    let sort = match &query.sort_by {
        None => None,
        Some(path) => Some(Sort {
            key: SortKey::from_path(kind, path).ok_or_else(|| {
                scim_core::Error::InvalidValue(format!("cannot sort by '{path}'"))
            })?,
            descending: query.sort_order == SortOrder::Descending,
        }),
    };
    let store_query = store::ListQuery {
        filter: query.filter.as_ref(),
        start_index: query.start_index as u64,
        count: Some(query.count as u64),
        sort,
    };
    let page = tx.resources(kind).list(team, &store_query)?;
    Ok((
        usize::try_from(page.total).unwrap_or(usize::MAX),
        page.items,
    ))
}

/// A group's members or a user's groups, for each of `ids`.
pub(crate) fn links(
    tx: &mut Tx<'_>,
    kind: ResourceKind,
    team: TeamId,
    ids: &[&str],
) -> Result<HashMap<String, Vec<Link>>, ApiError> {
    let link = |value: String, display: String| Link {
        value,
        display: Some(display),
    };
    Ok(match kind {
        ResourceKind::Group => convert(tx.groups().members_of_groups(team, ids)?, |m| {
            link(m.value, m.display)
        }),
        ResourceKind::User => convert(tx.groups().groups_of_users(team, ids)?, |g| {
            link(g.id, g.display_name)
        }),
    })
}

fn convert<T>(
    by_id: HashMap<String, Vec<T>>,
    to_link: impl Fn(T) -> Link,
) -> HashMap<String, Vec<Link>> {
    by_id
        .into_iter()
        .map(|(id, items)| (id, items.into_iter().map(&to_link).collect()))
        .collect()
}

pub(crate) fn add_members(
    tx: &mut Tx<'_>,
    team: TeamId,
    group: &str,
    ids: &[String],
) -> Result<usize, ApiError> {
    Ok(tx.groups().add_members(team, group, ids)?)
}

/// Makes `ids` the group's exact member list (PUT).
pub(crate) fn set_members(
    tx: &mut Tx<'_>,
    team: TeamId,
    group: &str,
    ids: &[String],
) -> Result<(), ApiError> {
    tx.groups().clear_members(team, group)?;
    tx.groups().add_members(team, group, ids)?;
    Ok(())
}

/// Applies the member changes of a PATCH as row inserts and deletes.
pub(crate) fn apply_member_changes(
    tx: &mut Tx<'_>,
    team: TeamId,
    group: &str,
    changes: &[MemberChange],
) -> Result<MemberStats, ApiError> {
    let mut stats = MemberStats::default();
    for change in changes {
        match change {
            MemberChange::Add(refs) => {
                let ids: Vec<&str> = refs.iter().map(|m| m.value.as_str()).collect();
                stats.added += tx.groups().add_members(team, group, &ids)?;
            }
            MemberChange::Remove(ids) => {
                stats.removed += tx.groups().remove_members(team, group, ids)?;
            }
            MemberChange::RemoveAll => stats.removed += tx.groups().clear_members(team, group)?,
            MemberChange::RemoveWhere(filter) => {
                // Rare (a filter on something other than `value`): read the members once.
                let chosen: Vec<String> = tx
                    .groups()
                    .members(team, group)?
                    .into_iter()
                    .filter(|m| {
                        let mut object = Map::new();
                        object.insert("value".into(), Value::String(m.value.clone()));
                        object.insert("display".into(), Value::String(m.display.clone()));
                        object.insert("type".into(), Value::String(m.member_type.into()));
                        patch::member_matches(filter, &object)
                    })
                    .map(|m| m.value)
                    .collect();
                stats.removed += tx.groups().remove_members(team, group, &chosen)?;
            }
        }
    }
    Ok(stats)
}

/// Appends an audit entry for a SCIM write by `caller` on resource `id` (empty when there
/// is none).
pub(crate) fn audit(
    tx: &mut Tx<'_>,
    caller: &Caller,
    op: ScimOp,
    kind: ResourceKind,
    id: &str,
    status: u16,
    summary: &str,
) -> Result<(), ApiError> {
    // The id of a failed request comes from the URL and may hold a NUL (see `impossible`).
    let text = |s: &str| s.replace('\0', "\u{fffd}");
    tx.audit().append(&AuditEntry {
        team: Some(caller.team.id),
        at: OffsetDateTime::now_utc(),
        actor: caller.actor(),
        action: AuditAction::Scim(kind, op),
        resource_type: Some(kind.name().to_string()),
        // A create that failed has no id yet.
        resource_id: (!id.is_empty()).then(|| text(id)),
        status: i32::from(status),
        summary: text(summary),
    })?;
    Ok(())
}
