//! The SSH certificate authority's rows (crate ssh-ca): each team's CA keys (private keys
//! only sealed, crate keyring), its certificate settings, and every certificate issued
//! with its revocation.
//!
//! Revocation follows the directory inside the same transaction as the change: a user
//! disabled or deleted loses their live certificates in [`crate::Users`]' writes; a user
//! removed from the last group that has a grant loses them when the transaction commits
//! (see [`Tx::review_certificates`]), so a SCIM `PUT` that clears and refills a group
//! revokes only the members it really dropped.

use std::time::Duration;

use diesel::dsl::{exists, not, sql};
use diesel::prelude::*;
use diesel::sql_types::BigInt;
use ssh_ca::Extensions;
use time::OffsetDateTime;

use crate::config::Backend;
use crate::error::StoreError;
use crate::schema::{
    ca_keys as k, ca_settings as s, certificates as c, grants as gr, scim_group_members as m,
};
use crate::teams::TeamId;
use crate::timestamps::{from_micros, from_micros_opt, now, to_micros};
use crate::tx::Tx;

/// What a CA key or certificate is for.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum CertKind {
    /// People logging in to hosts.
    User,
    /// Hosts proving who they are to people.
    Host,
}

impl CertKind {
    /// `user` or `host`.
    pub fn as_str(self) -> &'static str {
        match self {
            CertKind::User => "user",
            CertKind::Host => "host",
        }
    }

    fn parse(s: &str) -> Result<CertKind, StoreError> {
        match s {
            "user" => Ok(CertKind::User),
            "host" => Ok(CertKind::Host),
            other => Err(StoreError::Corrupt(format!("certificate kind {other:?}"))),
        }
    }
}

impl std::fmt::Display for CertKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A stored CA key.
#[derive(Clone, PartialEq, Eq)]
pub struct CaKeyRecord {
    /// Database key.
    pub id: i64,
    /// Its team.
    pub team: TeamId,
    /// User or host CA.
    pub kind: CertKind,
    /// The public key, an OpenSSH line.
    pub public_key: String,
    /// The private key, sealed with the key-encryption key.
    pub sealed_private_key: String,
    /// When it was made.
    pub created: OffsetDateTime,
    /// When a rotation retired it.
    pub retired: Option<OffsetDateTime>,
    /// A retired key stays published until then.
    pub published_until: Option<OffsetDateTime>,
}

impl std::fmt::Debug for CaKeyRecord {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CaKeyRecord")
            .field("id", &self.id)
            .field("team", &self.team)
            .field("kind", &self.kind)
            .field("public_key", &self.public_key)
            .field("retired", &self.retired)
            .finish_non_exhaustive()
    }
}

/// A team's certificate settings.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CaSettings {
    /// The longest a user certificate lasts (it also ends with the access token).
    pub user_cert_ttl: Duration,
    /// How long a host certificate lasts.
    pub host_cert_ttl: Duration,
    /// What user certificates permit.
    pub extensions: Extensions,
    /// DNS suffixes: a host certificate names `HOST` and `HOST.SUFFIX` for each.
    pub host_domains: Vec<String>,
    /// How long a rotated CA key stays published beside its successor.
    pub rotation_overlap: Duration,
}

impl Default for CaSettings {
    fn default() -> Self {
        CaSettings {
            user_cert_ttl: Duration::from_secs(16 * 3600),
            host_cert_ttl: Duration::from_secs(30 * 24 * 3600),
            extensions: Extensions::default(),
            host_domains: Vec::new(),
            rotation_overlap: Duration::from_secs(7 * 24 * 3600),
        }
    }
}

/// A certificate about to be recorded (the serial comes from the database).
#[derive(Clone, Debug)]
pub struct NewCertificate<'a> {
    /// User or host.
    pub kind: CertKind,
    /// The CA key that signs it.
    pub ca_key_id: i64,
    /// The user's SCIM id or the host's id.
    pub subject: &'a str,
    /// SHA-256 fingerprint of the certified key.
    pub key_fingerprint: &'a str,
    /// Principals.
    pub principals: &'a [String],
    /// Valid from.
    pub valid_after: OffsetDateTime,
    /// Valid until.
    pub valid_before: OffsetDateTime,
    /// The requester's address.
    pub requester: Option<&'a str>,
}

/// A recorded certificate.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CertificateRecord {
    /// Serial.
    pub serial: i64,
    /// Its team.
    pub team: TeamId,
    /// User or host.
    pub kind: CertKind,
    /// The CA key that signed it.
    pub ca_key_id: i64,
    /// The user's SCIM id or the host's id.
    pub subject: String,
    /// Key ID.
    pub key_id: String,
    /// SHA-256 fingerprint of the certified key.
    pub key_fingerprint: String,
    /// Principals.
    pub principals: Vec<String>,
    /// Valid from.
    pub valid_after: OffsetDateTime,
    /// Valid until.
    pub valid_before: OffsetDateTime,
    /// The requester's address.
    pub requester: Option<String>,
    /// When it was issued.
    pub issued: OffsetDateTime,
    /// When it was revoked.
    pub revoked: Option<OffsetDateTime>,
    /// Why.
    pub revoked_reason: Option<String>,
}

impl CertificateRecord {
    /// Not revoked and not expired at `at`.
    pub fn is_live(&self, at: OffsetDateTime) -> bool {
        self.revoked.is_none() && self.valid_before > at
    }
}

/// Which certificates [`Certificates::list`] returns.
#[derive(Clone, Debug, Default)]
pub struct CertificateQuery<'a> {
    /// Only this kind.
    pub kind: Option<CertKind>,
    /// Only this subject.
    pub subject: Option<&'a str>,
    /// Only those neither revoked nor expired at this time.
    pub live_at: Option<OffsetDateTime>,
    /// At most this many (newest first).
    pub limit: i64,
}

type KeyRow = (
    i64,
    i64,
    String,
    String,
    String,
    i64,
    Option<i64>,
    Option<i64>,
);

macro_rules! key_columns {
    () => {
        (
            k::id,
            k::team_id,
            k::kind,
            k::public_key,
            k::sealed_private_key,
            k::created_at,
            k::retired_at,
            k::published_until,
        )
    };
}

fn key_record(row: KeyRow) -> Result<CaKeyRecord, StoreError> {
    let (id, team, kind, public_key, sealed, created, retired, until) = row;
    Ok(CaKeyRecord {
        id,
        team: TeamId(team),
        kind: CertKind::parse(&kind)?,
        public_key,
        sealed_private_key: sealed,
        created: from_micros(created)?,
        retired: from_micros_opt(retired)?,
        published_until: from_micros_opt(until)?,
    })
}

type CertRow = (
    i64,
    i64,
    String,
    i64,
    String,
    String,
    String,
    String,
    i64,
    i64,
    Option<String>,
    i64,
    Option<i64>,
    Option<String>,
);

macro_rules! cert_columns {
    () => {
        (
            c::serial,
            c::team_id,
            c::kind,
            c::ca_key_id,
            c::subject,
            c::key_id,
            c::key_fingerprint,
            c::principals,
            c::valid_after,
            c::valid_before,
            c::requester,
            c::issued_at,
            c::revoked_at,
            c::revoked_reason,
        )
    };
}

fn cert_record(row: CertRow) -> Result<CertificateRecord, StoreError> {
    let (serial, team, kind, ca_key_id, subject, key_id, fingerprint, principals, ..) = row;
    let principals = serde_json::from_str(&principals)
        .map_err(|e| StoreError::Corrupt(format!("certificate {serial} principals: {e}")))?;
    Ok(CertificateRecord {
        serial,
        team: TeamId(team),
        kind: CertKind::parse(&kind)?,
        ca_key_id,
        subject,
        key_id,
        key_fingerprint: fingerprint,
        principals,
        valid_after: from_micros(row.8)?,
        valid_before: from_micros(row.9)?,
        requester: row.10,
        issued: from_micros(row.11)?,
        revoked: from_micros_opt(row.12)?,
        revoked_reason: row.13,
    })
}

fn json<T: serde::Serialize + ?Sized>(value: &T) -> Result<String, StoreError> {
    serde_json::to_string(value).map_err(|e| StoreError::Invalid(e.to_string()))
}

fn secs(d: Duration) -> i64 {
    i64::try_from(d.as_secs()).unwrap_or(i64::MAX)
}

/// Certificate authority operations inside a transaction; from [`Tx::certificates`].
pub struct Certificates<'t, 'c> {
    pub(crate) tx: &'t mut Tx<'c>,
}

impl Certificates<'_, '_> {
    /// The CA key of this kind that signs now, if the team has one.
    pub fn active_key(
        &mut self,
        team: TeamId,
        kind: CertKind,
    ) -> Result<Option<CaKeyRecord>, StoreError> {
        let row: Option<KeyRow> = k::table
            .filter(k::team_id.eq(team.0))
            .filter(k::kind.eq(kind.as_str()))
            .filter(k::retired_at.is_null())
            .select(key_columns!())
            .first(self.tx.conn)
            .optional()?;
        row.map(key_record).transpose()
    }

    /// Stores a new active CA key. [`StoreError::Conflict`] on `ca key` when the team
    /// already has an active one of this kind (another instance made it first).
    pub fn add_key(
        &mut self,
        team: TeamId,
        kind: CertKind,
        public_key: &str,
        sealed_private_key: &str,
    ) -> Result<CaKeyRecord, StoreError> {
        self.tx.changed(team)?;
        diesel::insert_into(k::table)
            .values((
                k::team_id.eq(team.0),
                k::kind.eq(kind.as_str()),
                k::public_key.eq(public_key),
                k::sealed_private_key.eq(sealed_private_key),
                k::created_at.eq(to_micros(now())),
            ))
            .execute(self.tx.conn)
            .map_err(|e| match StoreError::from(e) {
                StoreError::Conflict { .. } => StoreError::Conflict {
                    attribute: "ca key",
                },
                other => other,
            })?;
        self.active_key(team, kind)?.ok_or(StoreError::NotFound)
    }

    /// Retires the active key of this kind (it signs no more and stays published until
    /// `published_until`); returns it, or `None` if there was none.
    pub fn retire_key(
        &mut self,
        team: TeamId,
        kind: CertKind,
        published_until: OffsetDateTime,
    ) -> Result<Option<CaKeyRecord>, StoreError> {
        self.tx.changed(team)?;
        let Some(active) = self.active_key(team, kind)? else {
            return Ok(None);
        };
        diesel::update(k::table.find(active.id))
            .set((
                k::retired_at.eq(to_micros(now())),
                k::published_until.eq(to_micros(published_until)),
            ))
            .execute(self.tx.conn)?;
        Ok(Some(active))
    }

    /// The keys of this kind to publish at `at`: the active one first, then retired ones
    /// still within their overlap, newest first.
    pub fn published_keys(
        &mut self,
        team: TeamId,
        kind: CertKind,
        at: OffsetDateTime,
    ) -> Result<Vec<CaKeyRecord>, StoreError> {
        let rows: Vec<KeyRow> = k::table
            .filter(k::team_id.eq(team.0))
            .filter(k::kind.eq(kind.as_str()))
            .filter(
                k::retired_at
                    .is_null()
                    .or(k::published_until.gt(to_micros(at))),
            )
            .order((k::retired_at.is_not_null(), k::id.desc()))
            .select(key_columns!())
            .load(self.tx.conn)?;
        rows.into_iter().map(key_record).collect()
    }

    /// Every CA key of the team, retired ones included, by id.
    pub fn keys(&mut self, team: TeamId) -> Result<Vec<CaKeyRecord>, StoreError> {
        let rows: Vec<KeyRow> = k::table
            .filter(k::team_id.eq(team.0))
            .order(k::id.asc())
            .select(key_columns!())
            .load(self.tx.conn)?;
        rows.into_iter().map(key_record).collect()
    }

    /// The team's certificate settings (the defaults when never set).
    pub fn settings(&mut self, team: TeamId) -> Result<CaSettings, StoreError> {
        let row: Option<(i64, i64, String, String, i64)> = s::table
            .find(team.0)
            .select((
                s::user_cert_ttl_secs,
                s::host_cert_ttl_secs,
                s::extensions,
                s::host_domains,
                s::rotation_overlap_secs,
            ))
            .first(self.tx.conn)
            .optional()?;
        let Some((user, host, extensions, domains, overlap)) = row else {
            return Ok(CaSettings::default());
        };
        let corrupt = |what: &str, e: &dyn std::fmt::Display| {
            StoreError::Corrupt(format!("ca_settings of team {} {what}: {e}", team.0))
        };
        let names: Vec<String> =
            serde_json::from_str(&extensions).map_err(|e| corrupt("extensions", &e))?;
        let duration = |v: i64| Duration::from_secs(u64::try_from(v).unwrap_or(0));
        Ok(CaSettings {
            user_cert_ttl: duration(user),
            host_cert_ttl: duration(host),
            extensions: Extensions::from_names(&names).map_err(|e| corrupt("extensions", &e))?,
            host_domains: serde_json::from_str(&domains)
                .map_err(|e| corrupt("host_domains", &e))?,
            rotation_overlap: duration(overlap),
        })
    }

    /// Replaces the team's certificate settings.
    pub fn set_settings(&mut self, team: TeamId, settings: &CaSettings) -> Result<(), StoreError> {
        self.tx.changed(team)?;
        let values = (
            s::user_cert_ttl_secs.eq(secs(settings.user_cert_ttl)),
            s::host_cert_ttl_secs.eq(secs(settings.host_cert_ttl)),
            s::extensions.eq(json(&settings.extensions.names())?),
            s::host_domains.eq(json(&settings.host_domains)?),
            s::rotation_overlap_secs.eq(secs(settings.rotation_overlap)),
        );
        let updated = diesel::update(s::table.find(team.0))
            .set(values.clone())
            .execute(self.tx.conn)?;
        if updated == 0 {
            diesel::insert_into(s::table)
                .values((s::team_id.eq(team.0), values))
                .execute(self.tx.conn)?;
        }
        Ok(())
    }

    /// Records a certificate and returns it with its serial; `key_id` makes the key ID
    /// from the serial. The caller signs with that serial and key ID in the same
    /// transaction, so a certificate that is not recorded is never handed out. Issuing
    /// does not change the team's revision: access documents do not depend on it.
    pub fn record(
        &mut self,
        team: TeamId,
        new: &NewCertificate<'_>,
        key_id: impl FnOnce(i64) -> String,
    ) -> Result<CertificateRecord, StoreError> {
        self.tx.require_write()?;
        // The serial is taken first, so that the one insert carries the key ID naming it.
        let serial: i64 = match self.tx.backend() {
            // Writes are serialised: the next rowid is free until this transaction ends.
            Backend::Sqlite => diesel::select(sql::<BigInt>(
                "COALESCE((SELECT MAX(serial) FROM certificates), 0) + 1",
            ))
            .get_result(self.tx.conn)?,
            Backend::Postgres => diesel::select(sql::<BigInt>(
                "nextval(pg_get_serial_sequence('certificates', 'serial'))",
            ))
            .get_result(self.tx.conn)?,
        };
        let key_id = key_id(serial);
        let issued = now();
        let record = CertificateRecord {
            serial,
            team,
            kind: new.kind,
            ca_key_id: new.ca_key_id,
            subject: new.subject.to_owned(),
            key_id,
            key_fingerprint: new.key_fingerprint.to_owned(),
            principals: new.principals.to_vec(),
            valid_after: new.valid_after,
            valid_before: new.valid_before,
            requester: new.requester.map(str::to_owned),
            issued,
            revoked: None,
            revoked_reason: None,
        };
        diesel::insert_into(c::table)
            .values((
                c::serial.eq(serial),
                c::team_id.eq(team.0),
                c::kind.eq(new.kind.as_str()),
                c::ca_key_id.eq(new.ca_key_id),
                c::subject.eq(new.subject),
                c::key_id.eq(&record.key_id),
                c::key_fingerprint.eq(new.key_fingerprint),
                c::principals.eq(json(new.principals)?),
                c::valid_after.eq(to_micros(new.valid_after)),
                c::valid_before.eq(to_micros(new.valid_before)),
                c::requester.eq(new.requester),
                c::issued_at.eq(to_micros(issued)),
            ))
            .execute(self.tx.conn)?;
        Ok(record)
    }

    /// The certificate of `team` with this serial.
    pub fn get(
        &mut self,
        team: TeamId,
        serial: i64,
    ) -> Result<Option<CertificateRecord>, StoreError> {
        let row: Option<CertRow> = c::table
            .filter(c::serial.eq(serial))
            .filter(c::team_id.eq(team.0))
            .select(cert_columns!())
            .first(self.tx.conn)
            .optional()?;
        row.map(cert_record).transpose()
    }

    /// The team's certificates matching `query`, newest first.
    pub fn list(
        &mut self,
        team: TeamId,
        query: &CertificateQuery<'_>,
    ) -> Result<Vec<CertificateRecord>, StoreError> {
        let mut q = c::table
            .filter(c::team_id.eq(team.0))
            .select(cert_columns!())
            .order(c::serial.desc())
            .limit(query.limit.max(0))
            .into_boxed();
        if let Some(kind) = query.kind {
            q = q.filter(c::kind.eq(kind.as_str()));
        }
        if let Some(subject) = query.subject {
            q = q.filter(c::subject.eq(subject));
        }
        if let Some(at) = query.live_at {
            q = q
                .filter(c::revoked_at.is_null())
                .filter(c::valid_before.gt(to_micros(at)));
        }
        let rows: Vec<CertRow> = q.load(self.tx.conn)?;
        rows.into_iter().map(cert_record).collect()
    }

    /// Revokes the certificate with this serial (if live) and returns it as it now is.
    pub fn revoke(
        &mut self,
        team: TeamId,
        serial: i64,
        reason: &str,
    ) -> Result<Option<CertificateRecord>, StoreError> {
        self.tx.changed(team)?;
        diesel::update(
            c::table
                .filter(c::serial.eq(serial))
                .filter(c::team_id.eq(team.0))
                .filter(c::revoked_at.is_null()),
        )
        .set((
            c::revoked_at.eq(to_micros(now())),
            c::revoked_reason.eq(reason),
        ))
        .execute(self.tx.conn)?;
        self.get(team, serial)
    }

    /// Revokes every live certificate of `subject`; returns how many.
    pub fn revoke_subject(
        &mut self,
        team: TeamId,
        kind: CertKind,
        subject: &str,
        reason: &str,
    ) -> Result<usize, StoreError> {
        let at = to_micros(now());
        let n = diesel::update(
            c::table
                .filter(c::team_id.eq(team.0))
                .filter(c::kind.eq(kind.as_str()))
                .filter(c::subject.eq(subject))
                .filter(c::valid_before.gt(at))
                .filter(c::revoked_at.is_null()),
        )
        .set((c::revoked_at.eq(at), c::revoked_reason.eq(reason)))
        .execute(self.tx.conn)?;
        if n > 0 {
            self.tx.changed(team)?;
        }
        Ok(n)
    }

    /// Revokes the live user certificates of the team's users who are no longer in any
    /// group that has a grant: of `users` only, or of everyone when `None`. Returns how
    /// many were revoked. Costs one indexed lookup per live certificate considered.
    pub fn revoke_ungranted(
        &mut self,
        team: TeamId,
        users: Option<&[String]>,
        reason: &str,
    ) -> Result<usize, StoreError> {
        let at = to_micros(now());
        let granted = m::table
            .inner_join(gr::table.on(gr::team_id.eq(m::team_id).and(gr::group_id.eq(m::group_id))))
            .filter(m::team_id.eq(team.0))
            .filter(m::member_id.eq(c::subject))
            .select(m::member_id);
        let live = c::table
            .filter(c::team_id.eq(team.0))
            .filter(c::kind.eq(CertKind::User.as_str()))
            .filter(c::valid_before.gt(at))
            .filter(c::revoked_at.is_null())
            .filter(not(exists(granted)));
        let set = (c::revoked_at.eq(at), c::revoked_reason.eq(reason));
        let n = match users {
            Some(users) => diesel::update(live.filter(c::subject.eq_any(users)))
                .set(set)
                .execute(self.tx.conn)?,
            None => diesel::update(live).set(set).execute(self.tx.conn)?,
        };
        if n > 0 {
            self.tx.changed(team)?;
        }
        Ok(n)
    }

    /// The revoked certificates of this kind not yet expired at `at`, as `(CA key id,
    /// serial, revoked at)` by serial: what the team's revocation list holds.
    pub fn revoked_unexpired(
        &mut self,
        team: TeamId,
        kind: CertKind,
        at: OffsetDateTime,
    ) -> Result<Vec<(i64, i64, OffsetDateTime)>, StoreError> {
        let rows: Vec<(i64, i64, Option<i64>)> = c::table
            .filter(c::team_id.eq(team.0))
            .filter(c::valid_before.gt(to_micros(at)))
            .filter(c::revoked_at.is_not_null())
            .filter(c::kind.eq(kind.as_str()))
            .select((c::ca_key_id, c::serial, c::revoked_at))
            .order(c::serial.asc())
            .load(self.tx.conn)?;
        rows.into_iter()
            .map(|(ca, serial, revoked)| Ok((ca, serial, from_micros(revoked.unwrap_or(0))?)))
            .collect()
    }
}
