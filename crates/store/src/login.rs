//! Sign-in support for `crates/oidc-login`: a team's OpenID Connect client settings,
//! short-lived single-use flow state, and generated keys shared by every instance.
//!
//! The client secret is never stored: [`OidcSettings::client_secret_ref`] names where it
//! is read (`file:PATH` or `env:NAME`).

use diesel::prelude::*;
use time::OffsetDateTime;

use crate::error::StoreError;
use crate::idp::{Issuer, SecretRef};
use crate::schema::{login_flows as f, login_keys as k, team_oidc as o};
use crate::teams::TeamId;
use crate::timestamps::{from_micros, now, to_micros};
use crate::tx::Tx;

/// How a sign-in is linked to a SCIM user of the team.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub enum LinkBy {
    /// The token's `preferred_username` (or `upn`) equals the user's `userName`, ignoring
    /// case (Entra's default mapping: userPrincipalName -> userName).
    #[default]
    UserName,
    /// The token's `oid` equals the user's `externalId` (for admins who map objectId ->
    /// externalId in Entra's provisioning).
    ObjectId,
}

impl LinkBy {
    /// `user-name` or `object-id`.
    pub fn as_str(self) -> &'static str {
        match self {
            LinkBy::UserName => "user-name",
            LinkBy::ObjectId => "object-id",
        }
    }

    /// Parses [`LinkBy::as_str`]'s names.
    pub fn parse(s: &str) -> Result<LinkBy, StoreError> {
        match s.trim().to_ascii_lowercase().as_str() {
            "user-name" => Ok(LinkBy::UserName),
            "object-id" => Ok(LinkBy::ObjectId),
            other => Err(StoreError::Invalid(format!(
                "link mode {other:?} must be user-name or object-id"
            ))),
        }
    }
}

impl std::fmt::Display for LinkBy {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A team's OpenID Connect client settings (the tenant ID and the allowed domains are on
/// [`crate::Team`]).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct OidcSettings {
    /// The team.
    pub team: TeamId,
    /// OAuth client ID (the Entra application's ID).
    pub client_id: Option<String>,
    /// Where the client secret is read: `file:PATH` or `env:NAME`.
    pub client_secret_ref: Option<SecretRef>,
    /// Issuer replacing the Entra default (non-Entra providers, tests).
    pub issuer: Option<Issuer>,
    /// How sign-ins are linked to SCIM users.
    pub link_by: LinkBy,
    /// Last change (`None` when never configured).
    pub updated: Option<OffsetDateTime>,
}

/// Changes to [`OidcSettings`]; `None` fields stay, `Some(None)` clears.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct OidcSettingsUpdate {
    /// New client ID (an empty one clears it).
    pub client_id: Option<Option<String>>,
    /// New secret reference.
    pub client_secret_ref: Option<Option<SecretRef>>,
    /// New issuer override.
    pub issuer: Option<Option<Issuer>>,
    /// New link mode.
    pub link_by: Option<LinkBy>,
}

/// A stored flow.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Flow {
    /// The flow's kind, as given to [`Logins::put_flow`].
    pub kind: String,
    /// The team signing in.
    pub team: TeamId,
    /// The caller's data (JSON).
    pub data: String,
    /// When it was created.
    pub created: OffsetDateTime,
    /// When it stops being usable.
    pub expires: OffsetDateTime,
}

type FlowRow = (String, i64, String, i64, i64);

fn flow(row: FlowRow) -> Result<Flow, StoreError> {
    let (kind, team, data, created, expires) = row;
    Ok(Flow {
        kind,
        team: TeamId(team),
        data,
        created: from_micros(created)?,
        expires: from_micros(expires)?,
    })
}

fn non_empty(v: &Option<String>) -> Option<String> {
    v.as_deref()
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(str::to_owned)
}

/// Sign-in operations inside a transaction; from [`Tx::login`].
pub struct Logins<'t, 'c> {
    pub(crate) tx: &'t mut Tx<'c>,
}

impl Logins<'_, '_> {
    /// The team's settings (defaults when never configured).
    pub fn oidc(&mut self, team: TeamId) -> Result<OidcSettings, StoreError> {
        type Row = (Option<String>, Option<String>, Option<String>, String, i64);
        let row: Option<Row> = o::table
            .find(team.0)
            .select((
                o::client_id,
                o::client_secret_ref,
                o::issuer,
                o::link_by,
                o::updated_at,
            ))
            .first(self.tx.conn)
            .optional()?;
        Ok(match row {
            None => OidcSettings {
                team,
                client_id: None,
                client_secret_ref: None,
                issuer: None,
                link_by: LinkBy::default(),
                updated: None,
            },
            Some((client_id, client_secret_ref, issuer, link_by, updated)) => OidcSettings {
                team,
                client_id,
                client_secret_ref: client_secret_ref.map(|r| r.parse()).transpose().map_err(
                    |e| StoreError::Corrupt(format!("team {team} secret reference: {e}")),
                )?,
                issuer: issuer
                    .map(|i| i.parse())
                    .transpose()
                    .map_err(|e| StoreError::Corrupt(format!("team {team} issuer: {e}")))?,
                link_by: LinkBy::parse(&link_by)
                    .map_err(|e| StoreError::Corrupt(format!("team {team} link_by: {e}")))?,
                updated: Some(from_micros(updated)?),
            },
        })
    }

    /// Applies `update` and returns the settings as they now are. An empty client ID
    /// clears it.
    pub fn set_oidc(
        &mut self,
        team: TeamId,
        update: &OidcSettingsUpdate,
    ) -> Result<OidcSettings, StoreError> {
        self.tx.changed(team)?;
        let current = self.oidc(team)?;
        fn pick<T: Clone>(new: &Option<Option<T>>, old: Option<T>) -> Option<T> {
            match new {
                Some(v) => v.clone(),
                None => old,
            }
        }
        let client_id = match &update.client_id {
            Some(v) => non_empty(v),
            None => current.client_id,
        };
        let secret_ref =
            pick(&update.client_secret_ref, current.client_secret_ref).map(|r| r.to_string());
        let issuer = pick(&update.issuer, current.issuer).map(|i| i.to_string());
        let link_by = update.link_by.unwrap_or(current.link_by);
        let values = (
            o::client_id.eq(client_id),
            o::client_secret_ref.eq(secret_ref),
            o::issuer.eq(issuer),
            o::link_by.eq(link_by.as_str()),
            o::updated_at.eq(to_micros(now())),
        );
        if current.updated.is_some() {
            diesel::update(o::table.find(team.0))
                .set(values)
                .execute(self.tx.conn)?;
        } else {
            diesel::insert_into(o::table)
                .values((o::team_id.eq(team.0), values))
                .execute(self.tx.conn)?;
        }
        self.oidc(team)
    }

    /// Stores a flow under `key_sha256` (the hex SHA-256 of its secret key).
    pub fn put_flow(
        &mut self,
        key_sha256: &str,
        kind: &str,
        team: TeamId,
        data: &str,
        expires: OffsetDateTime,
    ) -> Result<(), StoreError> {
        self.tx.require_write()?;
        diesel::insert_into(f::table)
            .values((
                f::key_sha256.eq(key_sha256),
                f::kind.eq(kind),
                f::team_id.eq(team.0),
                f::data.eq(data),
                f::created_at.eq(to_micros(now())),
                f::expires_at.eq(to_micros(expires)),
            ))
            .execute(self.tx.conn)?;
        Ok(())
    }

    /// The unexpired flow of `kind` stored under `key_sha256`, if any.
    pub fn get_flow(&mut self, key_sha256: &str, kind: &str) -> Result<Option<Flow>, StoreError> {
        let row: Option<FlowRow> = f::table
            .find(key_sha256)
            .filter(f::kind.eq(kind))
            .filter(f::expires_at.gt(to_micros(now())))
            .select((f::kind, f::team_id, f::data, f::created_at, f::expires_at))
            .first(self.tx.conn)
            .optional()?;
        row.map(flow).transpose()
    }

    /// Removes the flow stored under `key_sha256` and returns it if it was of `kind` and
    /// unexpired. Exactly one of several concurrent callers gets it: a replay finds nothing.
    pub fn take_flow(&mut self, key_sha256: &str, kind: &str) -> Result<Option<Flow>, StoreError> {
        self.tx.require_write()?;
        let Some(found) = self.get_flow(key_sha256, kind)? else {
            return Ok(None);
        };
        let deleted = diesel::delete(f::table.find(key_sha256).filter(f::kind.eq(kind)))
            .execute(self.tx.conn)?;
        Ok((deleted == 1).then_some(found))
    }

    /// Replaces the data of an unexpired flow; false if there is none.
    pub fn update_flow(&mut self, key_sha256: &str, data: &str) -> Result<bool, StoreError> {
        self.tx.require_write()?;
        let n = diesel::update(
            f::table
                .find(key_sha256)
                .filter(f::expires_at.gt(to_micros(now()))),
        )
        .set(f::data.eq(data))
        .execute(self.tx.conn)?;
        Ok(n == 1)
    }

    /// Deletes every flow that expired before `at`; returns how many.
    pub fn purge_expired_flows(&mut self, at: OffsetDateTime) -> Result<usize, StoreError> {
        self.tx.require_write()?;
        Ok(
            diesel::delete(f::table.filter(f::expires_at.le(to_micros(at))))
                .execute(self.tx.conn)?,
        )
    }

    /// The stored key `name`, if any.
    pub fn key(&mut self, name: &str) -> Result<Option<String>, StoreError> {
        Ok(k::table
            .find(name)
            .select(k::value)
            .first(self.tx.conn)
            .optional()?)
    }

    /// The stored key `name`, storing `candidate` first if there is none. Two instances
    /// racing on PostgreSQL: the loser gets [`StoreError::Conflict`] and should read again
    /// with [`Logins::key`] in a new transaction.
    pub fn key_or_insert(&mut self, name: &str, candidate: &str) -> Result<String, StoreError> {
        self.tx.require_write()?;
        if let Some(value) = self.key(name)? {
            return Ok(value);
        }
        diesel::insert_into(k::table)
            .values((
                k::name.eq(name),
                k::value.eq(candidate),
                k::created_at.eq(to_micros(now())),
            ))
            .execute(self.tx.conn)?;
        Ok(candidate.to_owned())
    }

    /// Replaces the stored key `name` if it still holds `old` (sealing a key an earlier
    /// version stored in clear); false when another writer changed it first.
    pub fn replace_key(&mut self, name: &str, old: &str, new: &str) -> Result<bool, StoreError> {
        self.tx.require_write()?;
        let n = diesel::update(k::table.find(name).filter(k::value.eq(old)))
            .set(k::value.eq(new))
            .execute(self.tx.conn)?;
        Ok(n > 0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn link_modes_round_trip() {
        for mode in [LinkBy::UserName, LinkBy::ObjectId] {
            assert_eq!(LinkBy::parse(mode.as_str()).ok(), Some(mode));
        }
        assert!(LinkBy::parse("upn").is_err());
    }
}
