//! Finding what an administrator names: a team by slug, a host by hostname or id, a
//! group by id or display name, a user by id, userName or POSIX name.

use store::{HostRecord, PosixKind, ResourceRecord, Team, TeamId, Tx};

use crate::AppError;

/// The team with this slug.
pub(crate) fn team(tx: &mut Tx<'_>, slug: &str) -> Result<Team, AppError> {
    tx.teams()
        .get_by_slug(slug)?
        .ok_or_else(|| AppError::NotFound(format!("team {slug:?} does not exist")))
}

/// The host with this hostname, or else this id.
pub(crate) fn host(tx: &mut Tx<'_>, team: &Team, key: &str) -> Result<HostRecord, AppError> {
    let hostname = key.trim().to_ascii_lowercase();
    if let Some(host) = tx.hosts().get_by_hostname(team.id, &hostname)? {
        return Ok(host);
    }
    if let Ok(id) = key.trim().parse::<i64>()
        && let Some(host) = tx.hosts().get(team.id, id)?
    {
        return Ok(host);
    }
    Err(AppError::NotFound(format!(
        "team {} has no host with hostname or id {key:?}",
        team.slug
    )))
}

/// The group with this SCIM id, or else this displayName (ignoring case).
pub(crate) fn group(tx: &mut Tx<'_>, team: &Team, key: &str) -> Result<ResourceRecord, AppError> {
    if let Some(group) = tx.groups().get(team.id, key)? {
        return Ok(group);
    }
    tx.groups()
        .get_by_display_name(team.id, key)?
        .ok_or_else(|| {
            AppError::NotFound(format!(
                "team {} has no group with id or displayName {key:?}",
                team.slug
            ))
        })
}

/// The display name of group `id`, if the group exists.
pub(crate) fn group_name(
    tx: &mut Tx<'_>,
    team: TeamId,
    id: &str,
) -> Result<Option<String>, AppError> {
    Ok(tx.groups().get(team, id)?.and_then(|r| {
        r.data
            .get("displayName")
            .and_then(serde_json::Value::as_str)
            .map(str::to_owned)
    }))
}

/// The SCIM id of the user named by `key`: an id, a userName or a POSIX name.
pub(crate) fn user_id(tx: &mut Tx<'_>, team: &Team, key: &str) -> Result<String, AppError> {
    if tx.users().get(team.id, key)?.is_some() {
        return Ok(key.to_owned());
    }
    if let Some(user) = tx.users().get_by_user_name(team.id, key)? {
        return Ok(user.id);
    }
    match tx.posix().get_by_name(team.id, key)? {
        Some(id) if id.kind == PosixKind::User => Ok(id.scim_id),
        _ => Err(AppError::NotFound(format!(
            "team {} has no user with id, userName or POSIX name {key:?}",
            team.slug
        ))),
    }
}
