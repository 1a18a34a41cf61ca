//! Group membership: one `scim_group_members` row per (group, member user).

use std::collections::{BTreeSet, HashMap, HashSet};

use diesel::prelude::*;

use scim_core::ResourceKind;

use crate::connection::DbConnection;
use crate::error::StoreError;
use crate::resources::{Groups, group_rows};
use crate::schema::{scim_group_members as m, scim_groups as g, scim_users as u};
use crate::teams::TeamId;
use crate::timestamps::{now, to_micros};

/// Ids per statement in `IN (...)` lists and multi-row inserts (well below SQLite's and
/// PostgreSQL's bind parameter limits).
pub(crate) const CHUNK: usize = 500;

/// A member of a group, as rendered in the group's `members`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MemberRecord {
    /// The member user's `id`.
    pub value: String,
    /// The user's `displayName`, or its `userName` when it has none.
    pub display: String,
    /// The member's resource type: always `"User"`.
    pub member_type: &'static str,
}

/// A group a user belongs to, as rendered in the user's `groups`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct GroupRef {
    /// The group's `id`.
    pub id: String,
    /// The group's `displayName`.
    pub display_name: String,
}

#[derive(Insertable)]
#[diesel(table_name = m)]
struct NewMember<'a> {
    team_id: i64,
    group_id: &'a str,
    member_id: &'a str,
    added_at: i64,
}

/// Loads the rows of `$query` for every key of `$keys` (a `&[&str]`), with `$pred`
/// bound to the predicate "`$column` is the key" inside `$query`.
///
/// SQLite gets one statement per key: a statement with one bound key is prepared once per
/// connection and then reused, whereas an `IN (...)` list is prepared anew on every call,
/// and planning these joins cost more than running them (a quarter of the server's CPU in
/// the match-lookup benchmark). PostgreSQL gets one statement per chunk of keys
/// (`= ANY($1)`, itself reusable), which saves round trips.
macro_rules! load_by_keys {
    ($conn:expr, $keys:expr, $column:expr, |$pred:ident| $query:expr) => {{
        let conn: &mut DbConnection = $conn;
        let mut rows = Vec::new();
        if matches!(conn, DbConnection::Sqlite(_)) {
            for key in $keys {
                let $pred = $column.eq(*key);
                rows.extend($query.load(conn)?);
            }
        } else {
            for chunk in $keys.chunks(CHUNK) {
                let $pred = $column.eq_any(chunk);
                rows.extend($query.load(conn)?);
            }
        }
        rows
    }};
}

/// Distinct ids, in first-seen order.
fn distinct<S: AsRef<str>>(ids: &[S]) -> Vec<&str> {
    let mut seen = HashSet::new();
    ids.iter()
        .map(AsRef::as_ref)
        .filter(|id| seen.insert(*id))
        .collect()
}

fn display_of(display_name: Option<String>, user_name: String) -> String {
    display_name.filter(|d| !d.is_empty()).unwrap_or(user_name)
}

/// For the in-memory evaluator: each resource's links (`(id, display)` of a group's members
/// or of a user's groups).
pub(crate) fn links_of(
    conn: &mut DbConnection,
    kind: ResourceKind,
    team: TeamId,
    ids: &[&str],
) -> Result<HashMap<String, Vec<(String, String)>>, StoreError> {
    let mut out: HashMap<String, Vec<(String, String)>> = HashMap::new();
    match kind {
        ResourceKind::Group => {
            for (group, member) in members_of(conn, team, ids)? {
                out.entry(group)
                    .or_default()
                    .push((member.value, member.display));
            }
        }
        ResourceKind::User => {
            for (user, group) in groups_of(conn, team, ids)? {
                out.entry(user)
                    .or_default()
                    .push((group.id, group.display_name));
            }
        }
    }
    Ok(out)
}

/// `(group id, member)` for the given groups, each group's members in the order added.
fn members_of(
    conn: &mut DbConnection,
    team: TeamId,
    groups: &[&str],
) -> Result<Vec<(String, MemberRecord)>, StoreError> {
    let rows: Vec<(String, String, Option<String>, String)> =
        load_by_keys!(conn, groups, m::group_id, |is_group| m::table
            .inner_join(u::table.on(u::team_id.eq(m::team_id).and(u::id.eq(m::member_id))))
            .filter(m::team_id.eq(team.0))
            .filter(is_group)
            .order((m::group_id.asc(), m::added_at.asc(), m::member_id.asc()))
            .select((m::group_id, m::member_id, u::display_name, u::user_name)));
    Ok(rows
        .into_iter()
        .map(|(group, id, display, user_name)| {
            (
                group,
                MemberRecord {
                    value: id,
                    display: display_of(display, user_name),
                    member_type: "User",
                },
            )
        })
        .collect())
}

/// `(user id, group)` for the given users, each user's groups by display name.
fn groups_of(
    conn: &mut DbConnection,
    team: TeamId,
    users: &[&str],
) -> Result<Vec<(String, GroupRef)>, StoreError> {
    let rows: Vec<(String, String, String)> =
        load_by_keys!(conn, users, m::member_id, |is_member| m::table
            .inner_join(g::table.on(g::team_id.eq(m::team_id).and(g::id.eq(m::group_id))))
            .filter(m::team_id.eq(team.0))
            .filter(is_member)
            .order((m::member_id.asc(), g::display_name_lower.asc(), g::id.asc()))
            .select((m::member_id, g::id, g::display_name)));
    Ok(rows
        .into_iter()
        .map(|(user, id, display_name)| (user, GroupRef { id, display_name }))
        .collect())
}

impl Groups<'_, '_> {
    fn require_group(&mut self, team: TeamId, group: &str) -> Result<(), StoreError> {
        match group_rows::version(self.tx.conn, team.0, group)? {
            Some(_) => Ok(()),
            None => Err(StoreError::NotFound),
        }
    }

    /// Adds users of the same team to the group; returns how many were not members yet.
    /// Adding a member twice is a no-op. Ids that are not users of `team` fail the whole
    /// call with [`StoreError::UnknownMembers`] naming them; [`StoreError::NotFound`] if
    /// the group does not exist. Does not change the group's version: call
    /// [`crate::Tx::touch`] for that.
    pub fn add_members<S: AsRef<str>>(
        &mut self,
        team: TeamId,
        group: &str,
        members: &[S],
    ) -> Result<usize, StoreError> {
        self.tx.changed(team)?;
        self.require_group(team, group)?;
        let wanted = distinct(members);
        let mut unknown = Vec::new();
        for chunk in wanted.chunks(CHUNK) {
            let found: BTreeSet<String> = u::table
                .filter(u::team_id.eq(team.0))
                .filter(u::id.eq_any(chunk))
                .select(u::id)
                .load::<String>(self.tx.conn)?
                .into_iter()
                .collect();
            unknown.extend(
                chunk
                    .iter()
                    .filter(|id| !found.contains(**id))
                    .map(|id| id.to_string()),
            );
        }
        if !unknown.is_empty() {
            return Err(StoreError::UnknownMembers(unknown));
        }
        let at = to_micros(now());
        let mut added = 0;
        for chunk in wanted.chunks(CHUNK) {
            let rows: Vec<NewMember<'_>> = chunk
                .iter()
                .map(|member| NewMember {
                    team_id: team.0,
                    group_id: group,
                    member_id: member,
                    added_at: at,
                })
                .collect();
            // ON CONFLICT DO NOTHING is outside the backends' common subset: run it on the
            // inner connection (SQLite has no multi-row form of it in diesel).
            let inserted = match &mut *self.tx.conn {
                DbConnection::Sqlite(c) => rows.iter().try_fold(0, |n, row| {
                    diesel::insert_into(m::table)
                        .values(row)
                        .on_conflict_do_nothing()
                        .execute(c)
                        .map(|k| n + k)
                }),
                DbConnection::Postgres(c) => diesel::insert_into(m::table)
                    .values(&rows)
                    .on_conflict_do_nothing()
                    .execute(c),
            };
            added += inserted.map_err(|e| foreign_key_to_unknown(e, chunk))?;
        }
        Ok(added)
    }

    /// Removes members from the group; returns how many were members. Ids that are not
    /// members are ignored.
    pub fn remove_members<S: AsRef<str>>(
        &mut self,
        team: TeamId,
        group: &str,
        members: &[S],
    ) -> Result<usize, StoreError> {
        self.tx.changed(team)?;
        self.require_group(team, group)?;
        let ids = distinct(members);
        let mut removed = 0;
        for chunk in ids.chunks(CHUNK) {
            removed += diesel::delete(
                m::table
                    .filter(m::team_id.eq(team.0))
                    .filter(m::group_id.eq(group))
                    .filter(m::member_id.eq_any(chunk)),
            )
            .execute(self.tx.conn)?;
        }
        if removed > 0 {
            let ids: Vec<String> = ids.iter().map(|id| (*id).to_owned()).collect();
            self.tx.review_certificates(team, Some(&ids))?;
        }
        Ok(removed)
    }

    /// Removes every member; returns how many there were.
    pub fn clear_members(&mut self, team: TeamId, group: &str) -> Result<usize, StoreError> {
        self.tx.changed(team)?;
        self.require_group(team, group)?;
        let removed = diesel::delete(
            m::table
                .filter(m::team_id.eq(team.0))
                .filter(m::group_id.eq(group)),
        )
        .execute(self.tx.conn)?;
        if removed > 0 {
            self.tx.review_certificates(team, None)?;
        }
        Ok(removed)
    }

    /// The group's members in the order they were added ([`StoreError::NotFound`] if the
    /// group does not exist).
    pub fn members(&mut self, team: TeamId, group: &str) -> Result<Vec<MemberRecord>, StoreError> {
        self.require_group(team, group)?;
        Ok(members_of(self.tx.conn, team, &[group])?
            .into_iter()
            .map(|(_, member)| member)
            .collect())
    }

    /// Members of several groups at once (for listings that return members); groups
    /// without members are absent from the map.
    pub fn members_of_groups(
        &mut self,
        team: TeamId,
        groups: &[&str],
    ) -> Result<HashMap<String, Vec<MemberRecord>>, StoreError> {
        Ok(by_key(members_of(self.tx.conn, team, groups)?))
    }

    /// Number of members of the group.
    pub fn member_count(&mut self, team: TeamId, group: &str) -> Result<u64, StoreError> {
        let n: i64 = m::table
            .filter(m::team_id.eq(team.0))
            .filter(m::group_id.eq(group))
            .count()
            .get_result(self.tx.conn)?;
        Ok(u64::try_from(n).unwrap_or(0))
    }

    /// True if `user` is a member of `group`.
    pub fn is_member(&mut self, team: TeamId, group: &str, user: &str) -> Result<bool, StoreError> {
        let n: i64 = m::table
            .filter(m::team_id.eq(team.0))
            .filter(m::group_id.eq(group))
            .filter(m::member_id.eq(user))
            .count()
            .get_result(self.tx.conn)?;
        Ok(n > 0)
    }

    /// The groups `user` belongs to (its read-only `groups` attribute), by display name.
    pub fn groups_of_user(
        &mut self,
        team: TeamId,
        user: &str,
    ) -> Result<Vec<GroupRef>, StoreError> {
        Ok(groups_of(self.tx.conn, team, &[user])?
            .into_iter()
            .map(|(_, group)| group)
            .collect())
    }

    /// The groups of several users at once (for listings); users in no group are absent
    /// from the map.
    pub fn groups_of_users(
        &mut self,
        team: TeamId,
        users: &[&str],
    ) -> Result<HashMap<String, Vec<GroupRef>>, StoreError> {
        Ok(by_key(groups_of(self.tx.conn, team, users)?))
    }
}

/// Collects `(key, item)` pairs into lists per key, keeping their order.
fn by_key<T>(pairs: Vec<(String, T)>) -> HashMap<String, Vec<T>> {
    let mut out: HashMap<String, Vec<T>> = HashMap::new();
    for (key, item) in pairs {
        out.entry(key).or_default().push(item);
    }
    out
}

/// A member deleted between the existence check and the insert (another transaction).
fn foreign_key_to_unknown(err: diesel::result::Error, ids: &[&str]) -> StoreError {
    match err {
        diesel::result::Error::DatabaseError(
            diesel::result::DatabaseErrorKind::ForeignKeyViolation,
            _,
        ) => StoreError::UnknownMembers(ids.iter().map(|s| s.to_string()).collect()),
        other => other.into(),
    }
}
