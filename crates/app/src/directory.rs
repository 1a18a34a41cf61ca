//! Reading the SCIM directory as administrators see it: users and groups, searched and
//! paged on the server, one user with their groups, one group with its members.

use store::{GroupRef, ListQuery, MemberRecord, Page, ResourceRecord};

use crate::{App, AppError, lookup};

/// A group with its member count (and members, when asked for).
#[derive(Clone, Debug, PartialEq)]
pub struct GroupDetails {
    /// The group.
    pub group: ResourceRecord,
    /// How many members it has.
    pub member_count: u64,
    /// Its members, when asked for (empty otherwise).
    pub members: Vec<MemberRecord>,
}

impl App {
    /// The users of `team` matching `query` (a resolved SCIM filter, paging).
    pub fn users(&self, team: &str, query: &ListQuery<'_>) -> Result<Page, AppError> {
        self.read_in(team, |tx, team| Ok(tx.users().list(team.id, query)?))
    }

    /// The user of `team` named by `key` (SCIM id or userName), with their groups.
    pub fn user(&self, team: &str, key: &str) -> Result<(ResourceRecord, Vec<GroupRef>), AppError> {
        self.read_in(team, |tx, team| {
            let record = match tx.users().get(team.id, key)? {
                Some(r) => r,
                None => tx.users().get_by_user_name(team.id, key)?.ok_or_else(|| {
                    AppError::NotFound(format!(
                        "team {} has no user with id or userName {key:?}",
                        team.slug
                    ))
                })?,
            };
            let groups = tx.groups().groups_of_user(team.id, &record.id)?;
            Ok((record, groups))
        })
    }

    /// The groups of `team` matching `query`, each with its member count; and the total.
    pub fn groups(
        &self,
        team: &str,
        query: &ListQuery<'_>,
    ) -> Result<(u64, Vec<GroupDetails>), AppError> {
        self.read_in(team, |tx, team| {
            let page = tx.groups().list(team.id, query)?;
            let mut groups = Vec::with_capacity(page.items.len());
            for group in page.items {
                let member_count = tx.groups().member_count(team.id, &group.id)?;
                groups.push(GroupDetails {
                    group,
                    member_count,
                    members: Vec::new(),
                });
            }
            Ok((page.total, groups))
        })
    }

    /// The group of `team` named by `key` (SCIM id or displayName, ignoring case), with
    /// its members when `with_members`.
    pub fn group(
        &self,
        team: &str,
        key: &str,
        with_members: bool,
    ) -> Result<GroupDetails, AppError> {
        self.read_in(team, |tx, team| {
            let group = lookup::group(tx, team, key)?;
            let member_count = tx.groups().member_count(team.id, &group.id)?;
            let members = if with_members {
                tx.groups().members(team.id, &group.id)?
            } else {
                Vec::new()
            };
            Ok(GroupDetails {
                group,
                member_count,
                members,
            })
        })
    }
}
