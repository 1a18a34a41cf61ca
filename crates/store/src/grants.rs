//! Grants of host access to IdP groups . A grant names its group by
//! the group's immutable SCIM id (a foreign key: deleting the group deletes its grants),
//! never by display name. Selector, role and extra groups come in as host-policy's typed
//! values and are stored as their canonical text, so every stored grant parses back.

use diesel::prelude::*;
use host_policy::{HostSelector, PosixName, Role};
use time::OffsetDateTime;

use crate::error::StoreError;
use crate::schema::grants as gr;
use crate::teams::TeamId;
use crate::timestamps::{from_micros, now, to_micros};
use crate::tx::Tx;

/// A stored grant.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct GrantRecord {
    /// Database key.
    pub id: i64,
    /// Its team.
    pub team: TeamId,
    /// The SCIM id of the granted group.
    pub group_id: String,
    /// The hosts it applies to.
    pub hosts: HostSelector,
    /// What it allows.
    pub role: Role,
    /// Extra local groups for the members.
    pub extra_groups: Vec<PosixName>,
    /// When it was created.
    pub created: OffsetDateTime,
}

type GrantRow = (i64, i64, String, String, String, String, i64);

macro_rules! grant_columns {
    () => {
        (
            gr::id,
            gr::team_id,
            gr::group_id,
            gr::hosts,
            gr::role,
            gr::extra_groups,
            gr::created_at,
        )
    };
}

fn record(row: GrantRow) -> Result<GrantRecord, StoreError> {
    let (id, team, group_id, hosts, role, extra, created) = row;
    let corrupt = |what: &str, e: &dyn std::fmt::Display| {
        StoreError::Corrupt(format!("grant {id} {what}: {e}"))
    };
    let extra: Vec<String> =
        serde_json::from_str(&extra).map_err(|e| corrupt("extra_groups", &e))?;
    Ok(GrantRecord {
        id,
        team: TeamId(team),
        group_id,
        hosts: hosts.parse().map_err(|e| corrupt("hosts", &e))?,
        role: role.parse().map_err(|e| corrupt("role", &e))?,
        extra_groups: extra
            .iter()
            .map(|g| g.parse())
            .collect::<Result<_, _>>()
            .map_err(|e| corrupt("extra_groups", &e))?,
        created: from_micros(created)?,
    })
}

/// Grant operations inside a transaction; from [`Tx::grants`].
pub struct Grants<'t, 'c> {
    pub(crate) tx: &'t mut Tx<'c>,
}

impl Grants<'_, '_> {
    /// Adds a grant. [`StoreError::NotFound`] if the group is not a group of `team`;
    /// [`StoreError::Conflict`] on `grant` if the same grant exists.
    pub fn add(
        &mut self,
        team: TeamId,
        group_id: &str,
        hosts: &HostSelector,
        role: Role,
        extra_groups: &[PosixName],
    ) -> Result<GrantRecord, StoreError> {
        self.tx.changed(team)?;
        let names: Vec<&str> = extra_groups.iter().map(PosixName::as_str).collect();
        let extra =
            serde_json::to_string(&names).map_err(|e| StoreError::Invalid(e.to_string()))?;
        let (hosts, role) = (hosts.to_string(), role.as_str());
        diesel::insert_into(gr::table)
            .values((
                gr::team_id.eq(team.0),
                gr::group_id.eq(group_id),
                gr::hosts.eq(&hosts),
                gr::role.eq(role),
                gr::extra_groups.eq(extra),
                gr::created_at.eq(to_micros(now())),
            ))
            .execute(self.tx.conn)
            .map_err(|e| match e {
                diesel::result::Error::DatabaseError(
                    diesel::result::DatabaseErrorKind::ForeignKeyViolation,
                    _,
                ) => StoreError::NotFound,
                other => other.into(),
            })?;
        let row: GrantRow = gr::table
            .filter(gr::team_id.eq(team.0))
            .filter(gr::group_id.eq(group_id))
            .filter(gr::hosts.eq(&hosts))
            .filter(gr::role.eq(role))
            .select(grant_columns!())
            .first(self.tx.conn)?;
        record(row)
    }

    /// The team's grants, oldest first.
    pub fn list(&mut self, team: TeamId) -> Result<Vec<GrantRecord>, StoreError> {
        let rows: Vec<GrantRow> = gr::table
            .filter(gr::team_id.eq(team.0))
            .order(gr::id.asc())
            .select(grant_columns!())
            .load(self.tx.conn)?;
        rows.into_iter().map(record).collect()
    }

    /// The grant with this id in `team`.
    pub fn get(&mut self, team: TeamId, id: i64) -> Result<Option<GrantRecord>, StoreError> {
        let row: Option<GrantRow> = gr::table
            .filter(gr::team_id.eq(team.0))
            .filter(gr::id.eq(id))
            .select(grant_columns!())
            .first(self.tx.conn)
            .optional()?;
        row.map(record).transpose()
    }

    /// Whether `user` is a member of at least one group of `team` that has a grant (one
    /// indexed lookup).
    pub fn user_has_grant(&mut self, team: TeamId, user: &str) -> Result<bool, StoreError> {
        use crate::schema::scim_group_members as m;
        let granted = m::table
            .inner_join(gr::table.on(gr::team_id.eq(m::team_id).and(gr::group_id.eq(m::group_id))))
            .filter(m::team_id.eq(team.0))
            .filter(m::member_id.eq(user));
        Ok(diesel::select(diesel::dsl::exists(granted)).get_result(self.tx.conn)?)
    }

    /// Removes a grant of `team`; false if there was no such grant.
    pub fn remove(&mut self, team: TeamId, id: i64) -> Result<bool, StoreError> {
        self.tx.changed(team)?;
        let n = diesel::delete(
            gr::table
                .filter(gr::team_id.eq(team.0))
                .filter(gr::id.eq(id)),
        )
        .execute(self.tx.conn)?;
        if n > 0 {
            self.tx.review_certificates(team, None)?;
        }
        Ok(n > 0)
    }
}
