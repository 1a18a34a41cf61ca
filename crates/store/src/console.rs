//! The web console's own records: who administers a team (SCIM users, and SCIM groups
//! whose members all do), and the one-time sign-in links for a team's first setup.
//! Console sessions themselves are sign-in sessions ([`crate::Sessions`]) with `via`
//! [`CONSOLE_VIA`].

use diesel::prelude::*;
use time::OffsetDateTime;

use crate::error::StoreError;
use crate::schema::{console_admins as a, console_links as l};
use crate::teams::TeamId;
use crate::timestamps::{from_micros, now, to_micros};
use crate::tokens::{digest_hex, new_secret_with_prefix};
use crate::tx::Tx;

/// The `via` of a console session.
pub const CONSOLE_VIA: &str = "console";
/// The prefix of a one-time console sign-in link's secret.
pub const CONSOLE_LINK_PREFIX: &str = "sshwc_";
/// The prefix of a console session's secret.
pub const CONSOLE_SESSION_PREFIX: &str = "sshwcs_";

/// What makes someone a console administrator.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum AdminKind {
    /// One SCIM user.
    User,
    /// Every member of a SCIM group.
    Group,
}

impl AdminKind {
    /// `user` or `group`, as stored.
    pub fn as_str(self) -> &'static str {
        match self {
            AdminKind::User => "user",
            AdminKind::Group => "group",
        }
    }

    fn parse(text: &str) -> Result<AdminKind, StoreError> {
        match text {
            "user" => Ok(AdminKind::User),
            "group" => Ok(AdminKind::Group),
            other => Err(StoreError::Corrupt(format!("console admin kind {other:?}"))),
        }
    }
}

/// A console administrator entry of a team.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AdminRecord {
    /// A user or a group.
    pub kind: AdminKind,
    /// Its SCIM id.
    pub scim_id: String,
    /// When it was added.
    pub added: OffsetDateTime,
}

/// A one-time console sign-in link (never its secret).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LinkRecord {
    /// Its id (the audit log's `console:link-ID` actor).
    pub id: i64,
    /// The team.
    pub team: TeamId,
    /// When it expires.
    pub expires: OffsetDateTime,
}

/// Console records inside a transaction; from [`Tx::console`].
pub struct Console<'t, 'c> {
    pub(crate) tx: &'t mut Tx<'c>,
}

impl Console<'_, '_> {
    /// Adds an administrator entry; false when it was there already.
    pub fn add_admin(
        &mut self,
        team: TeamId,
        kind: AdminKind,
        scim_id: &str,
    ) -> Result<bool, StoreError> {
        self.tx.require_write()?;
        if self.has_entry(team, kind, scim_id)? {
            return Ok(false);
        }
        diesel::insert_into(a::table)
            .values((
                a::team_id.eq(team.0),
                a::kind.eq(kind.as_str()),
                a::scim_id.eq(scim_id),
                a::added_at.eq(to_micros(now())),
            ))
            .execute(self.tx.conn)?;
        Ok(true)
    }

    /// Removes an administrator entry; false when there was none.
    pub fn remove_admin(
        &mut self,
        team: TeamId,
        kind: AdminKind,
        scim_id: &str,
    ) -> Result<bool, StoreError> {
        self.tx.require_write()?;
        let removed = diesel::delete(a::table.find((team.0, kind.as_str(), scim_id)))
            .execute(self.tx.conn)?;
        Ok(removed > 0)
    }

    /// Whether the entry exists (one primary-key lookup).
    pub fn has_entry(
        &mut self,
        team: TeamId,
        kind: AdminKind,
        scim_id: &str,
    ) -> Result<bool, StoreError> {
        let found: Option<String> = a::table
            .find((team.0, kind.as_str(), scim_id))
            .select(a::scim_id)
            .first(self.tx.conn)
            .optional()?;
        Ok(found.is_some())
    }

    /// The team's administrator entries, users first, oldest first.
    pub fn admins(&mut self, team: TeamId) -> Result<Vec<AdminRecord>, StoreError> {
        let rows: Vec<(String, String, i64)> = a::table
            .filter(a::team_id.eq(team.0))
            .order((a::kind.desc(), a::added_at.asc()))
            .select((a::kind, a::scim_id, a::added_at))
            .load(self.tx.conn)?;
        rows.into_iter()
            .map(|(kind, scim_id, added)| {
                Ok(AdminRecord {
                    kind: AdminKind::parse(&kind)?,
                    scim_id,
                    added: from_micros(added)?,
                })
            })
            .collect()
    }

    /// Creates a one-time sign-in link for `team` valid until `expires`; returns it and
    /// its secret, which is not stored.
    pub fn create_link(
        &mut self,
        team: TeamId,
        expires: OffsetDateTime,
    ) -> Result<(LinkRecord, String), StoreError> {
        self.tx.require_write()?;
        let secret = new_secret_with_prefix(CONSOLE_LINK_PREFIX)?;
        let hash = digest_hex(&secret);
        let at = to_micros(now());
        // Used and expired links are of no further use; they go on the way.
        diesel::delete(
            l::table
                .filter(l::team_id.eq(team.0))
                .filter(l::expires_at.le(at).or(l::used_at.is_not_null())),
        )
        .execute(self.tx.conn)?;
        diesel::insert_into(l::table)
            .values((
                l::team_id.eq(team.0),
                l::key_sha256.eq(&hash),
                l::created_at.eq(at),
                l::expires_at.eq(to_micros(expires)),
            ))
            .execute(self.tx.conn)?;
        let id: i64 = l::table
            .filter(l::key_sha256.eq(&hash))
            .select(l::id)
            .first(self.tx.conn)?;
        Ok((LinkRecord { id, team, expires }, secret))
    }

    /// Uses the link of `team` whose secret is `secret`: returns it when it is live and
    /// unused and marks it used, so that a second use finds nothing (`None`: unknown,
    /// used, expired or of another team, which leaves it unused).
    pub fn use_link(
        &mut self,
        team: TeamId,
        secret: &str,
    ) -> Result<Option<LinkRecord>, StoreError> {
        self.tx.require_write()?;
        let hash = digest_hex(secret);
        let at = to_micros(now());
        let live = l::table
            .filter(l::key_sha256.eq(&hash))
            .filter(l::team_id.eq(team.0))
            .filter(l::used_at.is_null())
            .filter(l::expires_at.gt(at));
        let row: Option<(i64, i64, i64)> = live
            .select((l::id, l::team_id, l::expires_at))
            .first(self.tx.conn)
            .optional()?;
        let Some((id, team, expires)) = row else {
            return Ok(None);
        };
        // Conditional on still being unused: two instances redeeming the same link at
        // once cannot both succeed.
        let marked = diesel::update(live.filter(l::id.eq(id)))
            .set(l::used_at.eq(at))
            .execute(self.tx.conn)?;
        if marked == 0 {
            return Ok(None);
        }
        Ok(Some(LinkRecord {
            id,
            team: TeamId(team),
            expires: from_micros(expires)?,
        }))
    }
}

impl Console<'_, '_> {
    /// Starts a console session of `user_id` (a SCIM id, or `link:ID` for a one-time
    /// link) until `expires`; returns its secret (the console cookie's value), which is
    /// stored only as a digest.
    pub fn start_session(
        &mut self,
        team: TeamId,
        user_id: &str,
        expires: OffsetDateTime,
    ) -> Result<String, StoreError> {
        let secret = new_secret_with_prefix(CONSOLE_SESSION_PREFIX)?;
        self.tx
            .sessions()
            .start(&secret, team, user_id, CONSOLE_VIA, expires)?;
        Ok(secret)
    }
}
