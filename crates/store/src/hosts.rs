//! Hosts: one-time join tokens, the hosts that redeemed them, their
//! tags and credentials. Secrets are random (256 bits), shown once, stored as SHA-256
//! digests and compared in constant time, like SCIM tokens.
//!
//! Host credentials and join tokens are looked up by digest (the request names no team);
//! the database index lookup can only leak information about digests, which does not help
//! anyone guess a secret.

use std::collections::{BTreeSet, HashMap};

use diesel::prelude::*;
use host_policy::Tag;
use time::OffsetDateTime;

use crate::error::StoreError;
use crate::schema::{host_join_tokens as j, host_tags as t, hosts as h};
use crate::teams::TeamId;
use crate::timestamps::{from_micros, from_micros_opt, now, to_micros};
use crate::tokens::{digest_hex, digests_equal, new_secret_with_prefix};
use crate::tx::Tx;

/// Every host credential starts with this.
pub const HOST_CREDENTIAL_PREFIX: &str = "sshwh_";
/// Every join token starts with this.
pub const JOIN_TOKEN_PREFIX: &str = "sshwj_";

/// `last_seen` is written at most this often per host.
const SEEN_INTERVAL: time::Duration = time::Duration::seconds(60);

/// A host that joined a team.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct HostRecord {
    /// Database key.
    pub id: i64,
    /// Its team.
    pub team: TeamId,
    /// Its hostname (unique in the team).
    pub hostname: String,
    /// Its tags.
    pub tags: BTreeSet<Tag>,
    /// When it joined.
    pub created: OffsetDateTime,
    /// Its last authenticated request (to within a minute).
    pub last_seen: Option<OffsetDateTime>,
    /// The join token it redeemed.
    pub join_token: Option<i64>,
}

/// What a host's agent last reported.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct HostStatus {
    /// The agent's version.
    pub agent_version: String,
    /// The document revision it applied last.
    pub applied_revision: Option<i64>,
    /// Its last error, if the last attempt failed.
    pub last_error: Option<String>,
    /// When it reported.
    pub reported: OffsetDateTime,
}

/// A join token's metadata (never the secret).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct JoinTokenInfo {
    /// Database key.
    pub id: i64,
    /// The team a host joins with it.
    pub team: TeamId,
    /// The tags it confers.
    pub tags: BTreeSet<Tag>,
    /// When it was created.
    pub created: OffsetDateTime,
    /// When it stops being valid.
    pub expires: OffsetDateTime,
    /// When it was redeemed (it works once).
    pub used: Option<OffsetDateTime>,
    /// The host that redeemed it.
    pub used_by_host: Option<i64>,
}

type HostRow = (i64, i64, String, i64, Option<i64>, Option<i64>);
type StatusRow = (Option<String>, Option<i64>, Option<String>, Option<i64>);

macro_rules! status_columns {
    () => {
        (
            h::agent_version,
            h::applied_revision,
            h::last_error,
            h::reported_at,
        )
    };
}

/// A report, if the row holds one.
fn status_of(row: StatusRow) -> Result<Option<HostStatus>, StoreError> {
    let (Some(version), applied, error, Some(at)) = row else {
        return Ok(None);
    };
    Ok(Some(HostStatus {
        agent_version: version,
        applied_revision: applied,
        last_error: error,
        reported: from_micros(at)?,
    }))
}
type TokenRow = (i64, i64, String, String, i64, i64, Option<i64>, Option<i64>);

macro_rules! host_columns {
    () => {
        (
            h::id,
            h::team_id,
            h::hostname,
            h::created_at,
            h::last_seen_at,
            h::join_token_id,
        )
    };
}

macro_rules! token_columns {
    () => {
        (
            j::id,
            j::team_id,
            j::token_sha256,
            j::tags,
            j::created_at,
            j::expires_at,
            j::used_at,
            j::used_by_host,
        )
    };
}

fn token_info(row: TokenRow) -> Result<JoinTokenInfo, StoreError> {
    let (id, team, _, tags, created, expires, used, used_by_host) = row;
    let pairs: Vec<(String, String)> = serde_json::from_str(&tags)
        .map_err(|e| StoreError::Corrupt(format!("join token {id} tags: {e}")))?;
    let tags = tags_of(&pairs).map_err(|e| StoreError::Corrupt(format!("join token {id}: {e}")))?;
    Ok(JoinTokenInfo {
        id,
        team: TeamId(team),
        tags,
        created: from_micros(created)?,
        expires: from_micros(expires)?,
        used: from_micros_opt(used)?,
        used_by_host,
    })
}

/// Tags from stored `(key, value)` pairs.
fn tags_of(pairs: &[(String, String)]) -> Result<BTreeSet<Tag>, host_policy::PolicyError> {
    pairs.iter().map(|(k, v)| Tag::new(k, v)).collect()
}

/// Tags as stored `(key, value)` pairs, sorted.
fn pairs_of(tags: &BTreeSet<Tag>) -> Vec<(&str, &str)> {
    tags.iter().map(|t| (t.key(), t.value())).collect()
}

/// Host operations inside a transaction; from [`Tx::hosts`].
pub struct Hosts<'t, 'c> {
    pub(crate) tx: &'t mut Tx<'c>,
}

impl Hosts<'_, '_> {
    /// Creates a one-time join token that confers `tags` and expires at `expires`; returns
    /// its metadata and the secret, which is not stored and cannot be shown again.
    pub fn create_join_token(
        &mut self,
        team: TeamId,
        tags: &BTreeSet<Tag>,
        expires: OffsetDateTime,
    ) -> Result<(JoinTokenInfo, String), StoreError> {
        self.tx.changed(team)?;
        let secret = new_secret_with_prefix(JOIN_TOKEN_PREFIX)?;
        let hash = digest_hex(&secret);
        let tags = serde_json::to_string(&pairs_of(tags))
            .map_err(|e| StoreError::Invalid(e.to_string()))?;
        diesel::insert_into(j::table)
            .values((
                j::team_id.eq(team.0),
                j::token_sha256.eq(&hash),
                j::tags.eq(tags),
                j::created_at.eq(to_micros(now())),
                j::expires_at.eq(to_micros(expires)),
            ))
            .execute(self.tx.conn)?;
        let row: TokenRow = j::table
            .filter(j::token_sha256.eq(&hash))
            .select(token_columns!())
            .first(self.tx.conn)?;
        Ok((token_info(row)?, secret))
    }

    /// The team's join tokens, newest first, used and expired ones included.
    pub fn join_tokens(&mut self, team: TeamId) -> Result<Vec<JoinTokenInfo>, StoreError> {
        let rows: Vec<TokenRow> = j::table
            .filter(j::team_id.eq(team.0))
            .order(j::id.desc())
            .select(token_columns!())
            .load(self.tx.conn)?;
        rows.into_iter().map(token_info).collect()
    }

    /// Revokes the unused join token `id` of `team` by making it expire now, and returns
    /// it as it now is. [`StoreError::NotFound`] if the team has no such token; a token
    /// that was already used is returned unchanged (`used` set: remove its host instead).
    pub fn revoke_join_token(
        &mut self,
        team: TeamId,
        id: i64,
    ) -> Result<JoinTokenInfo, StoreError> {
        self.tx.changed(team)?;
        let at = to_micros(now());
        diesel::update(
            j::table
                .filter(j::team_id.eq(team.0))
                .filter(j::id.eq(id))
                .filter(j::used_at.is_null())
                .filter(j::expires_at.gt(at)),
        )
        .set(j::expires_at.eq(at))
        .execute(self.tx.conn)?;
        let row: TokenRow = j::table
            .filter(j::team_id.eq(team.0))
            .filter(j::id.eq(id))
            .select(token_columns!())
            .first(self.tx.conn)
            .optional()?
            .ok_or(StoreError::NotFound)?;
        token_info(row)
    }

    /// Records what the host's agent reports. Does not change the team's revision: a
    /// report is not a change of access (and would wake every long-poll).
    pub fn report(
        &mut self,
        host: i64,
        agent_version: &str,
        applied_revision: Option<i64>,
        last_error: Option<&str>,
    ) -> Result<(), StoreError> {
        self.tx.require_write()?;
        diesel::update(h::table.find(host))
            .set((
                h::agent_version.eq(agent_version),
                h::applied_revision.eq(applied_revision),
                h::last_error.eq(last_error),
                h::reported_at.eq(to_micros(now())),
            ))
            .execute(self.tx.conn)?;
        Ok(())
    }

    /// What the host's agent last reported, if it ever did.
    pub fn status(&mut self, host: i64) -> Result<Option<HostStatus>, StoreError> {
        let row: Option<StatusRow> = h::table
            .find(host)
            .select(status_columns!())
            .first(self.tx.conn)
            .optional()?;
        row.map_or(Ok(None), status_of)
    }

    /// What each host of `team` last reported, by host id (hosts that never reported are
    /// absent): one query for the whole fleet.
    pub fn statuses(&mut self, team: TeamId) -> Result<HashMap<i64, HostStatus>, StoreError> {
        let rows: Vec<(i64, StatusRow)> = h::table
            .filter(h::team_id.eq(team.0))
            .select((h::id, status_columns!()))
            .load(self.tx.conn)?;
        let mut out = HashMap::with_capacity(rows.len());
        for (id, row) in rows {
            if let Some(status) = status_of(row)? {
                out.insert(id, status);
            }
        }
        Ok(out)
    }

    /// Redeems a join token: if `presented` is an unused, unexpired token, marks it used
    /// (exactly once, even under concurrent attempts) and returns it; `None` otherwise.
    /// Call [`Hosts::insert`] in the same transaction to record the host.
    pub fn redeem_join_token(
        &mut self,
        presented: &str,
    ) -> Result<Option<JoinTokenInfo>, StoreError> {
        self.tx.require_write()?;
        let hash = digest_hex(presented);
        let row: Option<TokenRow> = j::table
            .filter(j::token_sha256.eq(&hash))
            .select(token_columns!())
            .first(self.tx.conn)
            .optional()?;
        let Some(row) = row.filter(|r| digests_equal(&r.2, &hash)) else {
            return Ok(None);
        };
        let at = to_micros(now());
        if row.6.is_some() || row.5 <= at {
            return Ok(None);
        }
        let n = diesel::update(j::table.find(row.0).filter(j::used_at.is_null()))
            .set(j::used_at.eq(at))
            .execute(self.tx.conn)?;
        if n == 0 {
            return Ok(None);
        }
        self.tx.changed(TeamId(row.1))?;
        let mut info = token_info(row)?;
        info.used = Some(from_micros(at)?);
        Ok(Some(info))
    }

    /// Records a host of `team` with `tags` and returns it with its credential (the secret
    /// is not stored and cannot be shown again). [`StoreError::Conflict`] on `hostname`
    /// if the team has a host of that name.
    pub fn insert(
        &mut self,
        team: TeamId,
        hostname: &str,
        tags: &BTreeSet<Tag>,
        join_token: Option<i64>,
    ) -> Result<(HostRecord, String), StoreError> {
        self.tx.changed(team)?;
        let secret = new_secret_with_prefix(HOST_CREDENTIAL_PREFIX)?;
        let hash = digest_hex(&secret);
        diesel::insert_into(h::table)
            .values((
                h::team_id.eq(team.0),
                h::hostname.eq(hostname),
                h::credential_sha256.eq(&hash),
                h::join_token_id.eq(join_token),
                h::created_at.eq(to_micros(now())),
            ))
            .execute(self.tx.conn)?;
        let id: i64 = h::table
            .filter(h::credential_sha256.eq(&hash))
            .select(h::id)
            .first(self.tx.conn)?;
        for (key, value) in pairs_of(tags) {
            diesel::insert_into(t::table)
                .values((
                    t::host_id.eq(id),
                    t::team_id.eq(team.0),
                    t::key.eq(key),
                    t::value.eq(value),
                ))
                .execute(self.tx.conn)?;
        }
        if let Some(token) = join_token {
            diesel::update(j::table.find(token))
                .set(j::used_by_host.eq(id))
                .execute(self.tx.conn)?;
        }
        let host = self.get(team, id)?.ok_or(StoreError::NotFound)?;
        Ok((host, secret))
    }

    /// The host whose credential is `presented`, if any.
    pub fn authenticate(&mut self, presented: &str) -> Result<Option<HostRecord>, StoreError> {
        let hash = digest_hex(presented);
        let row: Option<(String, HostRow)> = h::table
            .filter(h::credential_sha256.eq(&hash))
            .select((h::credential_sha256, host_columns!()))
            .first(self.tx.conn)
            .optional()?;
        match row.filter(|(stored, _)| digests_equal(stored, &hash)) {
            Some((_, row)) => self.with_tags(row).map(Some),
            None => Ok(None),
        }
    }

    fn with_tags(&mut self, row: HostRow) -> Result<HostRecord, StoreError> {
        let (id, team, hostname, created, last_seen, join_token) = row;
        let pairs: Vec<(String, String)> = t::table
            .filter(t::host_id.eq(id))
            .select((t::key, t::value))
            .load(self.tx.conn)?;
        let tags = tags_of(&pairs).map_err(|e| StoreError::Corrupt(format!("host {id}: {e}")))?;
        Ok(HostRecord {
            id,
            team: TeamId(team),
            hostname,
            tags,
            created: from_micros(created)?,
            last_seen: from_micros_opt(last_seen)?,
            join_token,
        })
    }

    /// The host with this id in `team`.
    pub fn get(&mut self, team: TeamId, id: i64) -> Result<Option<HostRecord>, StoreError> {
        let row: Option<HostRow> = h::table
            .filter(h::team_id.eq(team.0))
            .filter(h::id.eq(id))
            .select(host_columns!())
            .first(self.tx.conn)
            .optional()?;
        row.map(|r| self.with_tags(r)).transpose()
    }

    /// The host with this hostname in `team`.
    pub fn get_by_hostname(
        &mut self,
        team: TeamId,
        hostname: &str,
    ) -> Result<Option<HostRecord>, StoreError> {
        let row: Option<HostRow> = h::table
            .filter(h::team_id.eq(team.0))
            .filter(h::hostname.eq(hostname))
            .select(host_columns!())
            .first(self.tx.conn)
            .optional()?;
        row.map(|r| self.with_tags(r)).transpose()
    }

    /// The team's hosts by hostname.
    pub fn list(&mut self, team: TeamId) -> Result<Vec<HostRecord>, StoreError> {
        let rows: Vec<HostRow> = h::table
            .filter(h::team_id.eq(team.0))
            .order(h::hostname.asc())
            .select(host_columns!())
            .load(self.tx.conn)?;
        rows.into_iter().map(|r| self.with_tags(r)).collect()
    }

    /// Removes a host of `team` (its credential stops working at once); false if there
    /// was no such host.
    pub fn remove(&mut self, team: TeamId, id: i64) -> Result<bool, StoreError> {
        self.tx.changed(team)?;
        diesel::delete(
            t::table
                .filter(t::host_id.eq(id))
                .filter(t::team_id.eq(team.0)),
        )
        .execute(self.tx.conn)?;
        let n = diesel::delete(h::table.filter(h::team_id.eq(team.0)).filter(h::id.eq(id)))
            .execute(self.tx.conn)?;
        Ok(n > 0)
    }

    /// True if [`Hosts::touch_seen`] would write at `at` (lets a reader skip the write).
    pub fn needs_touch(host: &HostRecord, at: OffsetDateTime) -> bool {
        host.last_seen.is_none_or(|seen| seen + SEEN_INTERVAL <= at)
    }

    /// Records a request of the host at `at`, writing only when the stored time is older
    /// than a minute. Does not change the team's revision. Returns whether it wrote.
    pub fn touch_seen(&mut self, host: i64, at: OffsetDateTime) -> Result<bool, StoreError> {
        self.tx.require_write()?;
        let stale_before = to_micros(at - SEEN_INTERVAL);
        let n = diesel::update(
            h::table.filter(h::id.eq(host)).filter(
                h::last_seen_at
                    .is_null()
                    .or(h::last_seen_at.le(stale_before)),
            ),
        )
        .set(h::last_seen_at.eq(to_micros(at)))
        .execute(self.tx.conn)?;
        Ok(n > 0)
    }
}
