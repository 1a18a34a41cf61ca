//! POSIX identities of SCIM users and groups : per-team settings,
//! uid/gid allocation from a per-team range, and the reads the access computation needs.
//!
//! Numbers and names are allocated once per SCIM id and never given to anyone else: rows
//! stay after the SCIM resource is deleted (with `released_at` set). Allocation takes a
//! block of numbers with `UPDATE posix_settings SET next_id = next_id + n`, which locks
//! the team's counter row until commit (PostgreSQL) or runs under SQLite's single writer;
//! unique indexes on `(team, number)` and `(team, name)` make a lost race fail with
//! [`StoreError::Conflict`] (`posixId` / `posixName`) instead of handing out a duplicate.
//! Allocation does not change the team's revision: it only makes derived data permanent.

use std::collections::{HashMap, HashSet};

use diesel::prelude::*;
use host_policy::{IdRange, PosixName, PosixSettings};
use time::OffsetDateTime;

use crate::connection::{DbConnection, MultiBackend};
use crate::error::StoreError;
use crate::members::CHUNK;
use crate::schema::{
    posix_ids as p, posix_settings as s, scim_group_members as m, scim_groups as g, scim_users as u,
};
use crate::teams::TeamId;
use crate::timestamps::{from_micros, from_micros_opt, now, to_micros};
use crate::tx::Tx;

/// Whether a POSIX identity belongs to a user or a group.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum PosixKind {
    /// A SCIM user: a uid (and the user-private gid, equal to it).
    User,
    /// A SCIM group: a gid.
    Group,
}

impl PosixKind {
    /// `"user"` or `"group"`, as stored.
    pub fn as_str(self) -> &'static str {
        match self {
            PosixKind::User => "user",
            PosixKind::Group => "group",
        }
    }

    fn parse(s: &str) -> Result<PosixKind, StoreError> {
        match s {
            "user" => Ok(PosixKind::User),
            "group" => Ok(PosixKind::Group),
            other => Err(StoreError::Corrupt(format!("posix_ids.kind {other:?}"))),
        }
    }
}

/// An allocated POSIX identity.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PosixId {
    /// User or group.
    pub kind: PosixKind,
    /// The SCIM id it belongs to.
    pub scim_id: String,
    /// The POSIX name.
    pub name: String,
    /// The uid or gid.
    pub number: i64,
    /// When it was allocated.
    pub created: OffsetDateTime,
    /// When its SCIM resource was found deleted.
    pub released: Option<OffsetDateTime>,
}

/// A SCIM user as access decisions need it, with its POSIX identity if allocated.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Account {
    /// SCIM id.
    pub id: String,
    /// `userName`.
    pub user_name: String,
    /// `displayName`.
    pub display_name: Option<String>,
    /// `active` (`None` when absent).
    pub active: Option<bool>,
    /// When the SCIM user was created.
    pub created: OffsetDateTime,
    /// `(name, uid)` once allocated.
    pub posix: Option<(String, i64)>,
}

/// A SCIM group as access decisions need it, with its POSIX identity if allocated.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct GroupAccount {
    /// SCIM id.
    pub id: String,
    /// `displayName`.
    pub display_name: String,
    /// When the SCIM group was created.
    pub created: OffsetDateTime,
    /// `(name, gid)` once allocated.
    pub posix: Option<(String, i64)>,
}

type AccountRow = (
    String,
    String,
    Option<String>,
    Option<bool>,
    i64,
    Option<String>,
    Option<i64>,
);

/// `(id, display name, created, posix name, gid)`.
type GroupRow = (String, String, i64, Option<String>, Option<i64>);

fn account(row: AccountRow) -> Result<Account, StoreError> {
    let (id, user_name, display_name, active, created_at, name, number) = row;
    Ok(Account {
        id,
        user_name,
        display_name,
        active,
        created: from_micros(created_at)?,
        posix: name.zip(number),
    })
}

/// The users table joined with their POSIX rows.
macro_rules! users_with_posix {
    () => {
        u::table.left_join(
            p::table.on(p::team_id
                .eq(u::team_id)
                .and(p::kind.eq("user"))
                .and(p::scim_id.eq(u::id))),
        )
    };
}

/// The columns of an [`AccountRow`].
macro_rules! account_columns {
    () => {
        (
            u::id,
            u::user_name,
            u::display_name,
            u::active,
            u::created_at,
            p::name.nullable(),
            p::number.nullable(),
        )
    };
}

/// Creates the team's settings row with defaults if it is missing.
fn ensure_settings(conn: &mut DbConnection, team: TeamId) -> Result<(), StoreError> {
    let d = PosixSettings::default();
    let row = (
        s::team_id.eq(team.0),
        s::id_min.eq(i64::from(d.id_range.min())),
        s::id_max.eq(i64::from(d.id_range.max())),
        s::next_id.eq(i64::from(d.id_range.min())),
        s::username_style.eq(d.username_style.as_str()),
        s::home_base.eq(d.home_base.as_str()),
        s::shell.eq(d.shell.as_str()),
    );
    // ON CONFLICT DO NOTHING is outside the backends' common subset.
    let result = match conn {
        DbConnection::Sqlite(c) => diesel::insert_into(s::table)
            .values(row)
            .on_conflict_do_nothing()
            .execute(c),
        DbConnection::Postgres(c) => diesel::insert_into(s::table)
            .values(row)
            .on_conflict_do_nothing()
            .execute(c),
    };
    match result {
        Err(diesel::result::Error::DatabaseError(
            diesel::result::DatabaseErrorKind::ForeignKeyViolation,
            _,
        )) => Err(StoreError::NotFound),
        other => other.map(|_| ()).map_err(StoreError::from),
    }
}

/// POSIX identity operations inside a transaction; from [`Tx::posix`].
pub struct Posix<'t, 'c> {
    pub(crate) tx: &'t mut Tx<'c>,
}

impl Posix<'_, '_> {
    /// The team's settings (the defaults until changed).
    pub fn settings(&mut self, team: TeamId) -> Result<PosixSettings, StoreError> {
        let row: Option<(i64, i64, String, String, String, String)> = s::table
            .find(team.0)
            .select((
                s::id_min,
                s::id_max,
                s::username_style,
                s::home_base,
                s::shell,
                s::reserved_names,
            ))
            .first(self.tx.conn)
            .optional()?;
        let Some((id_min, id_max, username_style, home_base, shell, reserved)) = row else {
            return Ok(PosixSettings::default());
        };
        let corrupt = |e: host_policy::PolicyError| {
            StoreError::Corrupt(format!("POSIX settings of team {}: {e}", team.0))
        };
        let number = |n: i64| {
            u32::try_from(n)
                .map_err(|_| corrupt(host_policy::PolicyError::InvalidRange(n.to_string())))
        };
        Ok(PosixSettings {
            id_range: IdRange::new(number(id_min)?, number(id_max)?).map_err(corrupt)?,
            username_style: username_style.parse().map_err(corrupt)?,
            // Stored without the trailing '/', which is empty for the root directory.
            home_base: if home_base.is_empty() {
                "/"
            } else {
                &home_base
            }
            .parse()
            .map_err(corrupt)?,
            shell: shell.parse().map_err(corrupt)?,
            reserved: serde_json::from_str::<Vec<String>>(&reserved)
                .map_err(|e| {
                    StoreError::Corrupt(format!("reserved names of team {}: {e}", team.0))
                })?
                .iter()
                .map(|n| n.parse())
                .collect::<Result<_, _>>()
                .map_err(corrupt)?,
        })
    }

    /// Changes the team's settings. Numbers already handed out stay; new ones continue
    /// after the highest number already used within the new range.
    pub fn set_settings(
        &mut self,
        team: TeamId,
        settings: &PosixSettings,
    ) -> Result<(), StoreError> {
        self.tx.changed(team)?;
        let (id_min, id_max) = (
            i64::from(settings.id_range.min()),
            i64::from(settings.id_range.max()),
        );
        ensure_settings(self.tx.conn, team)?;
        // Lock the counter row first (PostgreSQL), so no allocation commits in between.
        diesel::update(s::table.find(team.0))
            .set(s::next_id.eq(s::next_id))
            .execute(self.tx.conn)?;
        // Continue after the highest number already handed out within the new range
        // (numbers are never deleted, so everything above it is free).
        let highest: Option<i64> = p::table
            .filter(p::team_id.eq(team.0))
            .filter(p::number.between(id_min, id_max))
            .select(diesel::dsl::max(p::number))
            .first(self.tx.conn)?;
        let next = highest.map_or(id_min, |n| n + 1);
        diesel::update(s::table.find(team.0))
            .set((
                s::id_min.eq(id_min),
                s::id_max.eq(id_max),
                s::next_id.eq(next),
                s::username_style.eq(settings.username_style.as_str()),
                s::home_base.eq(settings.home_base.as_str()),
                s::shell.eq(settings.shell.as_str()),
                s::reserved_names.eq(serde_json::to_string(
                    &settings
                        .reserved
                        .iter()
                        .map(PosixName::as_str)
                        .collect::<Vec<_>>(),
                )
                .map_err(|e| StoreError::Invalid(e.to_string()))?),
            ))
            .execute(self.tx.conn)?;
        Ok(())
    }

    /// The team's users that have no POSIX identity yet, oldest first (the order in which
    /// they must be allocated, so that the earlier-created user keeps the plain name).
    pub fn unallocated_users(&mut self, team: TeamId) -> Result<Vec<Account>, StoreError> {
        let rows: Vec<AccountRow> = users_with_posix!()
            .filter(u::team_id.eq(team.0))
            .filter(p::scim_id.nullable().is_null())
            .order((u::created_at.asc(), u::id.asc()))
            .select(account_columns!())
            .load(self.tx.conn)?;
        rows.into_iter().map(account).collect()
    }

    /// The users with these SCIM ids (unknown ids are left out).
    pub fn accounts(&mut self, team: TeamId, ids: &[&str]) -> Result<Vec<Account>, StoreError> {
        let mut out = Vec::new();
        for chunk in ids.chunks(CHUNK) {
            let rows: Vec<AccountRow> = users_with_posix!()
                .filter(u::team_id.eq(team.0))
                .filter(u::id.eq_any(chunk))
                .order(u::id.asc())
                .select(account_columns!())
                .load(self.tx.conn)?;
            for row in rows {
                out.push(account(row)?);
            }
        }
        Ok(out)
    }

    /// `(group id, member)` for every member of the given groups.
    pub fn members_of(
        &mut self,
        team: TeamId,
        groups: &[&str],
    ) -> Result<Vec<(String, Account)>, StoreError> {
        let mut out = Vec::new();
        for chunk in groups.chunks(CHUNK) {
            let rows: Vec<(String, AccountRow)> = m::table
                .inner_join(u::table.on(u::team_id.eq(m::team_id).and(u::id.eq(m::member_id))))
                .left_join(
                    p::table.on(p::team_id
                        .eq(u::team_id)
                        .and(p::kind.eq("user"))
                        .and(p::scim_id.eq(u::id))),
                )
                .filter(m::team_id.eq(team.0))
                .filter(m::group_id.eq_any(chunk))
                .order((m::group_id.asc(), m::member_id.asc()))
                .select((m::group_id, account_columns!()))
                .load(self.tx.conn)?;
            for (group, row) in rows {
                out.push((group, account(row)?));
            }
        }
        Ok(out)
    }

    /// The groups with these SCIM ids (unknown ids are left out), oldest first.
    pub fn groups(&mut self, team: TeamId, ids: &[&str]) -> Result<Vec<GroupAccount>, StoreError> {
        let mut out = Vec::new();
        for chunk in ids.chunks(CHUNK) {
            let rows: Vec<GroupRow> = g::table
                .left_join(
                    p::table.on(p::team_id
                        .eq(g::team_id)
                        .and(p::kind.eq("group"))
                        .and(p::scim_id.eq(g::id))),
                )
                .filter(g::team_id.eq(team.0))
                .filter(g::id.eq_any(chunk))
                .select((
                    g::id,
                    g::display_name,
                    g::created_at,
                    p::name.nullable(),
                    p::number.nullable(),
                ))
                .load(self.tx.conn)?;
            for (id, display_name, created_at, name, number) in rows {
                out.push(GroupAccount {
                    id,
                    display_name,
                    created: from_micros(created_at)?,
                    posix: name.zip(number),
                });
            }
        }
        out.sort_by(|a, b| (a.created, &a.id).cmp(&(b.created, &b.id)));
        Ok(out)
    }

    /// Every POSIX name of the team, released ones included (none may be given out again).
    pub fn names(&mut self, team: TeamId) -> Result<HashSet<String>, StoreError> {
        Ok(p::table
            .filter(p::team_id.eq(team.0))
            .select(p::name)
            .load::<String>(self.tx.conn)?
            .into_iter()
            .collect())
    }

    /// The identity of a user or group, released or not.
    pub fn get(
        &mut self,
        team: TeamId,
        kind: PosixKind,
        scim_id: &str,
    ) -> Result<Option<PosixId>, StoreError> {
        let query = p::table
            .filter(p::team_id.eq(team.0))
            .filter(p::kind.eq(kind.as_str()))
            .filter(p::scim_id.eq(scim_id.to_owned()))
            .into_boxed();
        self.find(query)
    }

    /// The identity with this POSIX name, released or not.
    pub fn get_by_name(&mut self, team: TeamId, name: &str) -> Result<Option<PosixId>, StoreError> {
        let query = p::table
            .filter(p::team_id.eq(team.0))
            .filter(p::name.eq(name.to_owned()))
            .into_boxed();
        self.find(query)
    }

    fn find(
        &mut self,
        query: p::BoxedQuery<'static, MultiBackend>,
    ) -> Result<Option<PosixId>, StoreError> {
        let row: Option<(String, String, String, i64, i64, Option<i64>)> = query
            .select((
                p::kind,
                p::scim_id,
                p::name,
                p::number,
                p::created_at,
                p::released_at,
            ))
            .first(self.tx.conn)
            .optional()?;
        row.map(|(kind, scim_id, name, number, created_at, released_at)| {
            Ok(PosixId {
                kind: PosixKind::parse(&kind)?,
                scim_id,
                name,
                number,
                created: from_micros(created_at)?,
                released: from_micros_opt(released_at)?,
            })
        })
        .transpose()
    }

    /// Allocates consecutive numbers from the team's range to `items` (`(scim id, name)`,
    /// in order). Fails with [`StoreError::Invalid`] when the range is exhausted and with
    /// [`StoreError::Conflict`] when another transaction took a name or id first (retry).
    pub fn allocate(
        &mut self,
        team: TeamId,
        kind: PosixKind,
        items: &[(String, String)],
    ) -> Result<Vec<PosixId>, StoreError> {
        self.tx.require_write()?;
        if items.is_empty() {
            return Ok(Vec::new());
        }
        ensure_settings(self.tx.conn, team)?;
        let n =
            i64::try_from(items.len()).map_err(|_| StoreError::Invalid("too many ids".into()))?;
        diesel::update(s::table.find(team.0))
            .set(s::next_id.eq(s::next_id + n))
            .execute(self.tx.conn)?;
        let (next, max): (i64, i64) = s::table
            .find(team.0)
            .select((s::next_id, s::id_max))
            .first(self.tx.conn)?;
        if next - 1 > max {
            return Err(StoreError::Invalid(format!(
                "the team's POSIX id range is exhausted (it ends at {max}); widen it"
            )));
        }
        let at = now();
        let ids: Vec<PosixId> = items
            .iter()
            .zip(next - n..)
            .map(|((scim_id, name), number)| PosixId {
                kind,
                scim_id: scim_id.clone(),
                name: name.clone(),
                number,
                created: at,
                released: None,
            })
            .collect();
        let rows: Vec<_> = ids
            .iter()
            .map(|id| {
                (
                    p::team_id.eq(team.0),
                    p::kind.eq(kind.as_str()),
                    p::scim_id.eq(&id.scim_id),
                    p::name.eq(&id.name),
                    p::number.eq(id.number),
                    p::created_at.eq(to_micros(at)),
                )
            })
            .collect();
        match &mut *self.tx.conn {
            DbConnection::Sqlite(c) => {
                for row in &rows {
                    diesel::insert_into(p::table).values(*row).execute(c)?;
                }
            }
            DbConnection::Postgres(c) => {
                for chunk in rows.chunks(CHUNK) {
                    diesel::insert_into(p::table)
                        .values(chunk.to_vec())
                        .execute(c)?;
                }
            }
        }
        Ok(ids)
    }

    /// Marks the identities of users and groups that no longer exist as released (they
    /// keep their numbers and names). Returns how many were marked.
    pub fn release_deleted(&mut self, team: TeamId) -> Result<usize, StoreError> {
        self.tx.require_write()?;
        let held: Vec<(String, String)> = p::table
            .filter(p::team_id.eq(team.0))
            .filter(p::released_at.is_null())
            .select((p::kind, p::scim_id))
            .load(self.tx.conn)?;
        let mut by_kind: HashMap<String, Vec<String>> = HashMap::new();
        for (kind, id) in held {
            by_kind.entry(kind).or_default().push(id);
        }
        let at = to_micros(now());
        let mut released = 0;
        for (kind, ids) in by_kind {
            for chunk in ids.chunks(CHUNK) {
                let existing: HashSet<String> = if kind == "user" {
                    u::table
                        .filter(u::team_id.eq(team.0))
                        .filter(u::id.eq_any(chunk))
                        .select(u::id)
                        .load(self.tx.conn)?
                } else {
                    g::table
                        .filter(g::team_id.eq(team.0))
                        .filter(g::id.eq_any(chunk))
                        .select(g::id)
                        .load(self.tx.conn)?
                }
                .into_iter()
                .collect();
                let gone: Vec<&String> =
                    chunk.iter().filter(|id| !existing.contains(*id)).collect();
                if gone.is_empty() {
                    continue;
                }
                released += diesel::update(
                    p::table
                        .filter(p::team_id.eq(team.0))
                        .filter(p::kind.eq(&kind))
                        .filter(p::scim_id.eq_any(gone)),
                )
                .set(p::released_at.eq(at))
                .execute(self.tx.conn)?;
            }
        }
        Ok(released)
    }
}
