//! The SSH certificate authority: each team's user and host CA (made on first use, the
//! private keys sealed with the key-encryption key), user certificates for signed-in
//! people, host certificates, revocation, rotation and the revocation list.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, PoisonError};

use host_policy::format_tags;
use ssh_ca::rand_core::OsRng;
use ssh_ca::{CaKey, HostCert, Krl, SubjectKey, UserCert};
use store::{
    CaKeyRecord, CaSettings, CertKind, CertificateQuery, CertificateRecord, HostRecord,
    NewCertificate, StoreError, TeamId, Tx,
};
use time::{Duration, OffsetDateTime};

use crate::identities::{Loaded, with_identities};
use crate::{Actor, App, AppError, AuditAction, audit, lookup};

/// How long before the request a certificate becomes valid: clocks of hosts drift.
pub const BACKDATE: Duration = Duration::minutes(5);
/// The shortest validity worth signing; a token expiring sooner gets a "sign in again".
pub const MIN_VALIDITY: Duration = Duration::minutes(1);
/// Most certificates one listing returns.
pub const MAX_LISTED: i64 = 10_000;
/// Longest configurable user certificate.
pub const MAX_USER_TTL: std::time::Duration = std::time::Duration::from_secs(7 * 24 * 3600);
/// Longest configurable host certificate.
pub const MAX_HOST_TTL: std::time::Duration = std::time::Duration::from_secs(400 * 24 * 3600);

/// A person's request for a user certificate, as the API has authenticated it.
#[derive(Clone, Debug)]
pub struct UserCertRequest<'a> {
    /// The team of the access token.
    pub team: &'a str,
    /// The user's SCIM id (the token's subject).
    pub user_id: &'a str,
    /// The access token's session (its `jti`): the certificate is refused once the
    /// session has ended (signed out, user disabled, ended by an administrator).
    pub session: &'a str,
    /// The public key to certify.
    pub key: &'a SubjectKey,
    /// The access token's expiry: the certificate never outlives it.
    pub not_after: OffsetDateTime,
    /// The requester's address, for the record.
    pub requester: Option<&'a str>,
}

/// An issued certificate: the OpenSSH text and its record.
#[derive(Clone, Debug)]
pub struct Issued {
    /// `ssh-ed25519-cert-v01@openssh.com AAAA... key-id`.
    pub certificate: String,
    /// What the database recorded.
    pub record: CertificateRecord,
}

impl Issued {
    /// The certificate as the APIs answer it.
    pub fn response(&self) -> proto::CertificateResponse {
        proto::CertificateResponse {
            certificate: self.certificate.clone(),
            serial: self.record.serial,
            key_id: self.record.key_id.clone(),
            principals: self.record.principals.clone(),
            valid_after: self.record.valid_after.unix_timestamp(),
            valid_before: self.record.valid_before.unix_timestamp(),
        }
    }
}

/// A team's revocation list.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RevocationList {
    /// The KRL in OpenSSH's binary format; the same revocations always give the same
    /// bytes, on every instance.
    pub bytes: Vec<u8>,
    /// How many certificates it revokes.
    pub revoked: usize,
}

/// Parsed CA private keys by key id, so that issuing does not open and parse the sealed
/// key each time (rows are immutable; ids are never reused).
#[derive(Debug, Default)]
pub(crate) struct Signers(Mutex<HashMap<i64, Arc<CaKey>>>);

/// The purpose a CA key of `team` is sealed for: a key opens only as the key it was made
/// as, never moved to another team or kind.
fn purpose(team: TeamId, kind: CertKind) -> String {
    format!("ca-key/team-{}/{kind}", team.0)
}

fn unix(t: OffsetDateTime) -> u64 {
    u64::try_from(t.unix_timestamp()).unwrap_or(0)
}

fn at_second(t: OffsetDateTime) -> OffsetDateTime {
    t.replace_nanosecond(0).unwrap_or(t)
}

fn duration(d: std::time::Duration) -> Duration {
    Duration::seconds(i64::try_from(d.as_secs()).unwrap_or(i64::MAX))
}

fn ca_error(e: ssh_ca::CaError) -> AppError {
    match e {
        ssh_ca::CaError::UnsupportedKey(m) | ssh_ca::CaError::InvalidRequest(m) => {
            AppError::Invalid(m)
        }
        other => AppError::Internal(other.to_string()),
    }
}

impl App {
    /// The CA key of `kind` that signs for `team` now, made (and audited) on first use.
    fn active_ca(&self, team: TeamId, kind: CertKind) -> Result<CaKeyRecord, AppError> {
        if let Some(key) = self
            .store
            .read(|tx| tx.certificates().active_key(team, kind))?
        {
            return Ok(key);
        }
        let made = self.store.write(|tx| {
            if let Some(key) = tx.certificates().active_key(team, kind)? {
                return Ok(key);
            }
            let key = self.new_ca(tx, team, kind)?;
            audit::record(
                tx,
                team,
                &Actor::System,
                AuditAction::CaCreate,
                &key.id.to_string(),
                format!("made the {kind} CA {}", key.public_key),
            )?;
            Ok::<_, AppError>(key)
        });
        match made {
            // Another instance made it at the same moment: use theirs.
            Err(AppError::Conflict(_)) => self
                .store
                .read(|tx| tx.certificates().active_key(team, kind))?
                .ok_or_else(|| AppError::Internal(format!("the {kind} CA vanished"))),
            other => other,
        }
    }

    /// Generates and stores a new active CA key (the caller audits).
    fn new_ca(
        &self,
        tx: &mut Tx<'_>,
        team: TeamId,
        kind: CertKind,
    ) -> Result<CaKeyRecord, AppError> {
        let key = CaKey::generate(&mut OsRng).map_err(ca_error)?;
        let comment = format!("sshward-{kind}-ca-team-{}", team.0);
        let public = key.public_key_line(&comment).map_err(ca_error)?;
        let private = key.to_openssh().map_err(ca_error)?;
        let sealed = self.kek.seal(&purpose(team, kind), private.as_bytes());
        Ok(tx.certificates().add_key(team, kind, &public, &sealed)?)
    }

    /// The parsed private key of `record`.
    fn signer(&self, record: &CaKeyRecord) -> Result<Arc<CaKey>, AppError> {
        let mut cache = self
            .signers
            .0
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        if let Some(key) = cache.get(&record.id) {
            return Ok(key.clone());
        }
        let opened = self
            .kek
            .open(
                &purpose(record.team, record.kind),
                &record.sealed_private_key,
            )
            .map_err(|e| {
                AppError::Internal(format!("{} CA key {}: {e}", record.kind, record.id))
            })?;
        let text = String::from_utf8(opened)
            .map_err(|_| AppError::Internal(format!("CA key {} is not text", record.id)))?;
        let key = Arc::new(CaKey::from_openssh(&text).map_err(ca_error)?);
        cache.insert(record.id, key.clone());
        Ok(key)
    }

    /// The key that signs `team`'s access documents: its host CA's (which every agent
    /// pinned at join), made on first use.
    pub fn document_signer(&self, team: TeamId) -> Result<Arc<CaKey>, AppError> {
        let ca = self.active_ca(team, CertKind::Host)?;
        self.signer(&ca)
    }

    /// The public keys of `team`'s `kind` CA to trust now, one OpenSSH line each: the
    /// active key (made on first use) and rotated keys still within their overlap.
    pub fn ca_public_keys(&self, team: &str, kind: CertKind) -> Result<Vec<String>, AppError> {
        let team = self.read_in(team, |_, team| Ok(team.id))?;
        self.active_ca(team, kind)?;
        let now = OffsetDateTime::now_utc();
        let keys = self
            .store
            .read(|tx| tx.certificates().published_keys(team, kind, now))?;
        Ok(keys.into_iter().map(|k| k.public_key).collect())
    }

    /// Signs a user certificate for a signed-in person after checking the directory as it
    /// is now: the user exists in the token's team, is active, and is in a group that has
    /// a grant. The principal is their POSIX username (allocated on first need); the
    /// validity runs from [`BACKDATE`] ago to the earlier of the team's lifetime and the
    /// token's expiry. Recorded and audited in one transaction.
    pub fn issue_user_certificate(
        &self,
        request: &UserCertRequest<'_>,
    ) -> Result<Issued, AppError> {
        // One write transaction does everything; the rare first certificate of a team (no
        // CA yet) or of a person (no POSIX identity yet) makes those first and tries again.
        for _ in 0..3 {
            match self.store.write(|tx| self.try_issue_user(tx, request))? {
                Attempt::Issued(issued) => return Ok(*issued),
                Attempt::NeedsCa(team) => {
                    self.active_ca(team, CertKind::User)?;
                }
                Attempt::NeedsIdentity(team) => {
                    let user_id = request.user_id;
                    with_identities(self, team, |tx| {
                        let account = tx.posix().accounts(team, &[user_id])?;
                        Ok(match account.first() {
                            Some(a) if a.posix.is_none() => Loaded::NeedsAllocation,
                            _ => Loaded::Ready(()),
                        })
                    })?;
                }
            }
        }
        Err(AppError::Internal(
            "the certificate could not be issued (the CA or identity kept changing)".into(),
        ))
    }

    /// One attempt of [`App::issue_user_certificate`], in its write transaction (the
    /// checks and the record in one, so that a disable committing meanwhile either comes
    /// first and refuses, or comes after and revokes).
    fn try_issue_user(
        &self,
        tx: &mut Tx<'_>,
        request: &UserCertRequest<'_>,
    ) -> Result<Attempt, AppError> {
        let team = lookup::team(tx, request.team).map_err(|e| match e {
            AppError::NotFound(_) => {
                AppError::Unauthorized("the access token's team no longer exists")
            }
            other => other,
        })?;
        let Some(ca) = tx.certificates().active_key(team.id, CertKind::User)? else {
            return Ok(Attempt::NeedsCa(team.id));
        };
        let user_id = request.user_id;
        let session = tx.sessions().live(request.session)?;
        if session.is_none_or(|s| s.team != team.id || s.user_id != user_id) {
            return Err(AppError::Unauthorized(
                "the access token's session has ended (signed out, disabled or ended by an \
                 administrator); sign in again with `sshward login`",
            ));
        }
        let denied = |why: &str| AppError::Forbidden(format!("no certificate: {why}"));
        let account = tx
            .posix()
            .accounts(team.id, &[user_id])?
            .into_iter()
            .next()
            .ok_or_else(|| denied("your account no longer exists in this team"))?;
        if account.active == Some(false) {
            return Err(denied("your account is disabled"));
        }
        let Some((name, _)) = account.posix.clone() else {
            return Ok(Attempt::NeedsIdentity(team.id));
        };
        if !tx.grants().user_has_grant(team.id, user_id)? {
            return Err(denied(
                "none of your groups is granted access to any host (ask an administrator \
                 for a grant: sshward grant add)",
            ));
        }
        let settings = tx.certificates().settings(team.id)?;
        let now = at_second(OffsetDateTime::now_utc());
        let valid_before = (now + duration(settings.user_cert_ttl)).min(request.not_after);
        if valid_before < now + MIN_VALIDITY {
            return Err(AppError::Unauthorized(
                "the access token expires within a minute; sign in again (sshward login)",
            ));
        }
        let signer = self.signer(&ca)?;
        let principals = vec![name];
        let fingerprint = request.key.fingerprint();
        let new = NewCertificate {
            kind: CertKind::User,
            ca_key_id: ca.id,
            subject: user_id,
            key_fingerprint: &fingerprint,
            principals: &principals,
            valid_after: now - BACKDATE,
            valid_before,
            requester: request.requester,
        };
        let record = tx.certificates().record(team.id, &new, |serial| {
            format!("sshward:{}:{user_id}:{serial}", team.slug)
        })?;
        let cert = UserCert {
            serial: u64::try_from(record.serial).unwrap_or(0),
            key_id: record.key_id.clone(),
            principals: record.principals.clone(),
            valid_after: unix(record.valid_after),
            valid_before: unix(record.valid_before),
            extensions: settings.extensions,
        };
        let certificate = signer
            .sign_user(&mut OsRng, request.key, &cert)
            .map_err(ca_error)?;
        audit::record(
            tx,
            team.id,
            &Actor::User(user_id.to_owned()),
            AuditAction::CertIssue,
            &record.serial.to_string(),
            format!(
                "certificate {} for {} ({}), key {}, until {}",
                record.serial,
                account.user_name,
                record.principals.join(","),
                record.key_fingerprint,
                record.valid_before
            ),
        )?;
        Ok(Attempt::Issued(Box::new(Issued {
            certificate,
            record,
        })))
    }

    /// Signs host certificates for each of `keys` of `host`: principals the hostname and
    /// `hostname.suffix` for each of the team's host domains, valid for the team's host
    /// certificate lifetime. Recorded and audited (by the host) in one transaction.
    pub fn issue_host_certificates(
        &self,
        host: &HostRecord,
        keys: &[SubjectKey],
    ) -> Result<Vec<Issued>, AppError> {
        if keys.is_empty() {
            return Ok(Vec::new());
        }
        if keys.len() > 8 {
            return Err(AppError::Invalid(
                "send at most 8 host keys (one per type)".into(),
            ));
        }
        let ca = self.active_ca(host.team, CertKind::Host)?;
        let signer = self.signer(&ca)?;
        self.store.write(|tx| {
            let team = tx.teams().get(host.team)?;
            tx.hosts()
                .get(team.id, host.id)?
                .ok_or(AppError::Unauthorized("this host has been removed"))?;
            let settings = tx.certificates().settings(team.id)?;
            let principals = host_principals(&host.hostname, &settings);
            let now = at_second(OffsetDateTime::now_utc());
            let subject = host.id.to_string();
            let mut issued = Vec::with_capacity(keys.len());
            for key in keys {
                let fingerprint = key.fingerprint();
                let new = NewCertificate {
                    kind: CertKind::Host,
                    ca_key_id: ca.id,
                    subject: &subject,
                    key_fingerprint: &fingerprint,
                    principals: &principals,
                    valid_after: now - BACKDATE,
                    valid_before: now + duration(settings.host_cert_ttl),
                    requester: None,
                };
                let record = tx.certificates().record(team.id, &new, |serial| {
                    format!("sshward:{}:host:{}:{serial}", team.slug, host.hostname)
                })?;
                let cert = HostCert {
                    serial: u64::try_from(record.serial).unwrap_or(0),
                    key_id: record.key_id.clone(),
                    principals: principals.clone(),
                    valid_after: unix(record.valid_after),
                    valid_before: unix(record.valid_before),
                };
                let certificate = signer.sign_host(&mut OsRng, key, &cert).map_err(ca_error)?;
                issued.push(Issued {
                    certificate,
                    record,
                });
            }
            let serials: Vec<String> = issued.iter().map(|i| i.record.serial.to_string()).collect();
            audit::record(
                tx,
                team.id,
                &Actor::Host(host.id),
                AuditAction::HostCertIssue,
                &host.id.to_string(),
                format!(
                    "host certificates {} for {} (tags [{}]), principals {}",
                    serials.join(","),
                    host.hostname,
                    format_tags(&host.tags),
                    principals.join(",")
                ),
            )?;
            Ok(issued)
        })
    }

    /// Host certificates for `keys` of `host` (see [`App::issue_host_certificates`]) with
    /// the team's CA keys to trust, as the agent API answers them.
    pub fn host_certificates(
        &self,
        host: &HostRecord,
        keys: &[SubjectKey],
    ) -> Result<proto::HostCertificatesResponse, AppError> {
        let issued = self.issue_host_certificates(host, keys)?;
        let team = self.store.read(|tx| tx.teams().get(host.team))?;
        Ok(proto::HostCertificatesResponse {
            certificates: issued.iter().map(Issued::response).collect(),
            user_ca_keys: self.ca_public_keys(&team.slug, CertKind::User)?,
            host_ca_keys: self.ca_public_keys(&team.slug, CertKind::Host)?,
        })
    }

    /// The certificates of `team`, newest first: of one user (SCIM id or userName) when
    /// given, only live ones (neither revoked nor expired) when `live_only`.
    pub fn certificates(
        &self,
        team: &str,
        user: Option<&str>,
        live_only: bool,
        limit: i64,
    ) -> Result<Vec<CertificateRecord>, AppError> {
        self.read_in(team, |tx, team| {
            let subject = user.map(|u| lookup::user_id(tx, team, u)).transpose()?;
            let query = CertificateQuery {
                kind: subject.as_ref().map(|_| CertKind::User),
                subject: subject.as_deref(),
                live_at: live_only.then(OffsetDateTime::now_utc),
                limit: limit.clamp(1, MAX_LISTED),
            };
            Ok(tx.certificates().list(team.id, &query)?)
        })
    }

    /// Revokes the certificate `serial` of `team` at once (it enters the team's
    /// revocation list); revoking a revoked one changes nothing. Audited.
    pub fn revoke_certificate(
        &self,
        actor: &Actor,
        team: &str,
        serial: i64,
    ) -> Result<CertificateRecord, AppError> {
        self.write_in(team, |tx, team| {
            let reason = format!("revoked by {actor}");
            let record = tx
                .certificates()
                .revoke(team.id, serial, &reason)?
                .ok_or_else(|| {
                    AppError::NotFound(format!(
                        "no certificate {serial} in team {} (see: sshward cert list)",
                        team.slug
                    ))
                })?;
            audit::record(
                tx,
                team.id,
                actor,
                AuditAction::CertRevoke,
                &serial.to_string(),
                format!("revoked certificate {serial} ({})", record.key_id),
            )?;
            Ok(record)
        })
    }

    /// Revokes every live certificate of the user (SCIM id or userName) of `team`; returns
    /// how many. Audited.
    pub fn revoke_user_certificates(
        &self,
        actor: &Actor,
        team: &str,
        user: &str,
    ) -> Result<usize, AppError> {
        self.write_in(team, |tx, team| {
            let id = lookup::user_id(tx, team, user)?;
            let reason = format!("revoked by {actor}");
            let n = tx
                .certificates()
                .revoke_subject(team.id, CertKind::User, &id, &reason)?;
            audit::record(
                tx,
                team.id,
                actor,
                AuditAction::CertRevoke,
                &id,
                format!("revoked {n} live certificate(s) of user {user}"),
            )?;
            Ok(n)
        })
    }

    /// Rotates `team`'s `kind` CA: a new key signs from now on; the old one stays
    /// published for the team's rotation overlap. Returns the new key. Audited.
    pub fn rotate_ca(
        &self,
        actor: &Actor,
        team: &str,
        kind: CertKind,
    ) -> Result<(CaKeyRecord, Option<CaKeyRecord>), AppError> {
        self.write_in(team, |tx, team| {
            let settings = tx.certificates().settings(team.id)?;
            let until = OffsetDateTime::now_utc() + duration(settings.rotation_overlap);
            let old = tx.certificates().retire_key(team.id, kind, until)?;
            let new = self.new_ca(tx, team.id, kind)?;
            audit::record(
                tx,
                team.id,
                actor,
                AuditAction::CaRotate,
                &new.id.to_string(),
                match &old {
                    Some(old) => format!(
                        "rotated the {kind} CA: {} signs now; {} stays published until {until}",
                        new.public_key, old.public_key
                    ),
                    None => format!("made the {kind} CA {}", new.public_key),
                },
            )?;
            Ok((new, old))
        })
    }

    /// The certificate settings of `team`.
    pub fn ca_settings(&self, team: &str) -> Result<CaSettings, AppError> {
        self.read_in(team, |tx, team| Ok(tx.certificates().settings(team.id)?))
    }

    /// Replaces the certificate settings of `team` (lifetimes within [`MAX_USER_TTL`] and
    /// [`MAX_HOST_TTL`]; host domains are DNS names). Audited.
    pub fn set_ca_settings(
        &self,
        actor: &Actor,
        team: &str,
        settings: &CaSettings,
    ) -> Result<(), AppError> {
        check_settings(settings)?;
        self.write_in(team, |tx, team| {
            tx.certificates().set_settings(team.id, settings)?;
            audit::record(
                tx,
                team.id,
                actor,
                AuditAction::CaSettings,
                &team.slug,
                describe(settings),
            )
        })
    }

    /// The user-certificate revocation list of `team` as of now: every revoked
    /// certificate not yet expired, under the CA key that signed it.
    pub fn revocation_list(&self, team: TeamId) -> Result<RevocationList, AppError> {
        let now = OffsetDateTime::now_utc();
        let (revoked, keys) = self.store.read(|tx| {
            let revoked = tx
                .certificates()
                .revoked_unexpired(team, CertKind::User, now)?;
            let keys = tx.certificates().keys(team)?;
            Ok::<_, StoreError>((revoked, keys))
        })?;
        let keys: HashMap<i64, ssh_ca::PublicKey> = keys
            .iter()
            .filter_map(|k| Some((k.id, k.public_key.parse().ok()?)))
            .collect();
        // Version and date: the latest revocation, so that the bytes depend only on what
        // is revoked (one entity tag on every instance).
        let latest = revoked
            .iter()
            .map(|(_, _, at)| unix(*at))
            .max()
            .unwrap_or(0);
        let mut krl = Krl::new(latest, latest).with_comment("sshward");
        for (ca, serial, _) in &revoked {
            let key = keys.get(ca).ok_or_else(|| {
                AppError::Internal(format!("certificate {serial}: no CA key {ca}"))
            })?;
            krl.revoke_serial(key, u64::try_from(*serial).unwrap_or(0));
        }
        Ok(RevocationList {
            bytes: krl.to_bytes(),
            revoked: revoked.len(),
        })
    }
}

/// What one attempt at issuing a user certificate came to.
enum Attempt {
    Issued(Box<Issued>),
    /// The team has no user CA yet.
    NeedsCa(TeamId),
    /// The person has no POSIX identity yet.
    NeedsIdentity(TeamId),
}

/// The principals of a host's certificate.
fn host_principals(hostname: &str, settings: &CaSettings) -> Vec<String> {
    let mut names = vec![hostname.to_owned()];
    for domain in &settings.host_domains {
        names.push(format!("{hostname}.{domain}"));
    }
    names
}

fn check_settings(settings: &CaSettings) -> Result<(), AppError> {
    let minute = std::time::Duration::from_secs(60);
    if settings.user_cert_ttl < minute * 5 || settings.user_cert_ttl > MAX_USER_TTL {
        return Err(AppError::Invalid(
            "a user certificate lasts 5 minutes to 7 days".into(),
        ));
    }
    if settings.host_cert_ttl < minute * 60 || settings.host_cert_ttl > MAX_HOST_TTL {
        return Err(AppError::Invalid(
            "a host certificate lasts 1 hour to 400 days".into(),
        ));
    }
    if settings.rotation_overlap > MAX_HOST_TTL {
        return Err(AppError::Invalid(
            "a rotation overlap lasts at most 400 days".into(),
        ));
    }
    for domain in &settings.host_domains {
        host_policy::normalize_hostname(domain)
            .map_err(|e| AppError::Invalid(format!("host domain {domain:?}: {e}")))?;
    }
    Ok(())
}

fn describe(settings: &CaSettings) -> String {
    format!(
        "user certificates {}s with [{}], host certificates {}s for domains [{}], rotation overlap {}s",
        settings.user_cert_ttl.as_secs(),
        settings.extensions.names().join(","),
        settings.host_cert_ttl.as_secs(),
        settings.host_domains.join(","),
        settings.rotation_overlap.as_secs()
    )
}
