//! Grants of host access to IdP groups (for crate host-policy). A grant names its group by
//! the group's immutable SCIM id (a foreign key: deleting the group deletes its grants),
//! never by display name. The store keeps the host selector and role as the canonical
//! text host-policy gives it.

use diesel::prelude::*;
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
    /// The canonical host selector (`*` or sorted `key=value,...`).
    pub hosts: String,
    /// `ssh` or `sudo`.
    pub role: String,
    /// Extra local groups for the members.
    pub extra_groups: Vec<String>,
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
    Ok(GrantRecord {
        id,
        team: TeamId(team),
        group_id,
        hosts,
        role,
        extra_groups: serde_json::from_str(&extra)
            .map_err(|e| StoreError::Corrupt(format!("grant {id} extra_groups: {e}")))?,
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
        hosts: &str,
        role: &str,
        extra_groups: &[String],
    ) -> Result<GrantRecord, StoreError> {
        self.tx.changed(team)?;
        let extra =
            serde_json::to_string(extra_groups).map_err(|e| StoreError::Invalid(e.to_string()))?;
        diesel::insert_into(gr::table)
            .values((
                gr::team_id.eq(team.0),
                gr::group_id.eq(group_id),
                gr::hosts.eq(hosts),
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
            .filter(gr::hosts.eq(hosts))
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

    /// Removes a grant of `team`; false if there was no such grant.
    pub fn remove(&mut self, team: TeamId, id: i64) -> Result<bool, StoreError> {
        self.tx.changed(team)?;
        let n = diesel::delete(
            gr::table
                .filter(gr::team_id.eq(team.0))
                .filter(gr::id.eq(id)),
        )
        .execute(self.tx.conn)?;
        Ok(n > 0)
    }
}
