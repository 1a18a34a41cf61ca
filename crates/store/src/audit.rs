//! The audit log: who did what to which resource, when, with what outcome.

use diesel::prelude::*;
use time::OffsetDateTime;

use crate::error::StoreError;
use crate::schema::audit_log as a;
use crate::teams::TeamId;
use crate::timestamps::{from_micros, to_micros};
use crate::tx::Tx;

/// One event to record.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AuditEntry {
    /// The team concerned (`None` for events outside any team).
    pub team: Option<TeamId>,
    /// When it happened.
    pub at: OffsetDateTime,
    /// Who acted: `token:<id>`, `admin:<name>`, `user:<id>`, `system`.
    pub actor: String,
    /// What was done, e.g. `scim.user.create`, `scim.group.patch`, `login`.
    pub action: String,
    /// The target's resource type (`User`, `Group`, `Token`, ...).
    pub resource_type: Option<String>,
    /// The target's id.
    pub resource_id: Option<String>,
    /// The outcome as an HTTP-like status code (201, 204, 404, 409, ...).
    pub status: i32,
    /// A short human-readable description.
    pub summary: String,
}

/// A stored event.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AuditRecord {
    /// Monotonic id (for paging with [`AuditQuery::before_id`]).
    pub id: i64,
    /// The event.
    pub entry: AuditEntry,
}

/// Conditions for [`Audit::query`]; `None` fields do not filter.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct AuditQuery {
    /// Only this actor.
    pub actor: Option<String>,
    /// Only this action.
    pub action: Option<String>,
    /// Only this resource type.
    pub resource_type: Option<String>,
    /// Only this resource id.
    pub resource_id: Option<String>,
    /// Only events at or after this time.
    pub since: Option<OffsetDateTime>,
    /// Only events before this time.
    pub until: Option<OffsetDateTime>,
    /// Only events with a smaller id (the next page after a previous answer).
    pub before_id: Option<i64>,
}

type AuditRow = (
    i64,
    Option<i64>,
    i64,
    String,
    String,
    Option<String>,
    Option<String>,
    i32,
    String,
);

/// Audit log operations inside a transaction; from [`Tx::audit`].
pub struct Audit<'t, 'c> {
    pub(crate) tx: &'t mut Tx<'c>,
}

impl Audit<'_, '_> {
    /// Records an event (in the caller's transaction, so it commits with the change).
    pub fn append(&mut self, entry: &AuditEntry) -> Result<(), StoreError> {
        self.tx.require_write()?;
        diesel::insert_into(a::table)
            .values((
                a::team_id.eq(entry.team.map(|t| t.0)),
                a::at.eq(to_micros(entry.at)),
                a::actor.eq(&entry.actor),
                a::action.eq(&entry.action),
                a::resource_type.eq(entry.resource_type.as_deref()),
                a::resource_id.eq(entry.resource_id.as_deref()),
                a::status.eq(entry.status),
                a::summary.eq(&entry.summary),
            ))
            .execute(self.tx.conn)?;
        Ok(())
    }

    /// The team's events matching `query`, newest first, at most `limit`.
    pub fn query(
        &mut self,
        team: TeamId,
        query: &AuditQuery,
        limit: u32,
    ) -> Result<Vec<AuditRecord>, StoreError> {
        let mut q = a::table.filter(a::team_id.eq(team.0)).into_boxed();
        if let Some(actor) = &query.actor {
            q = q.filter(a::actor.eq(actor.clone()));
        }
        if let Some(action) = &query.action {
            q = q.filter(a::action.eq(action.clone()));
        }
        if let Some(rt) = &query.resource_type {
            q = q.filter(a::resource_type.eq(rt.clone()));
        }
        if let Some(id) = &query.resource_id {
            q = q.filter(a::resource_id.eq(id.clone()));
        }
        if let Some(since) = query.since {
            q = q.filter(a::at.ge(to_micros(since)));
        }
        if let Some(until) = query.until {
            q = q.filter(a::at.lt(to_micros(until)));
        }
        if let Some(before) = query.before_id {
            q = q.filter(a::id.lt(before));
        }
        let rows: Vec<AuditRow> = q
            .order((a::at.desc(), a::id.desc()))
            .limit(i64::from(limit))
            .select((
                a::id,
                a::team_id,
                a::at,
                a::actor,
                a::action,
                a::resource_type,
                a::resource_id,
                a::status,
                a::summary,
            ))
            .load(self.tx.conn)?;
        rows.into_iter()
            .map(
                |(id, team, at, actor, action, resource_type, resource_id, status, summary)| {
                    Ok(AuditRecord {
                        id,
                        entry: AuditEntry {
                            team: team.map(TeamId),
                            at: from_micros(at)?,
                            actor,
                            action,
                            resource_type,
                            resource_id,
                            status,
                            summary,
                        },
                    })
                },
            )
            .collect()
    }
}
