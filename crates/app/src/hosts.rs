//! Hosts and join tokens: joining, documents, listing, removal.

use std::collections::{BTreeSet, HashMap};
use std::sync::PoisonError;

use host_policy::{Tag, format_tags, normalize_hostname};
use ssh_ca::SubjectKey;
use store::{HostRecord, JoinTokenInfo, StoreError, TeamId};
use time::{Duration, OffsetDateTime};

use crate::audit;

use crate::identities::{self, Computed};
use crate::{Actor, App, AppError, AuditAction, lookup};

/// A host with what its agent last reported (`None`: never).
pub type HostWithStatus = (HostRecord, Option<store::HostStatus>);

/// A host that has just joined, with its credential (shown once).
#[derive(Clone, Debug)]
pub struct Joined {
    /// The new host.
    pub host: HostRecord,
    /// Its credential: the bearer token of its later requests.
    pub credential: String,
    /// Certificates for the host keys it sent, and the CA keys to trust.
    pub certificates: proto::HostCertificatesResponse,
}

impl Joined {
    /// The join answer as the host receives it.
    pub fn response(&self) -> proto::JoinResponse {
        proto::JoinResponse {
            host_id: self.host.id,
            hostname: self.host.hostname.clone(),
            tags: self.host.tags.iter().map(ToString::to_string).collect(),
            credential: self.credential.clone(),
            certificates: self.certificates.clone(),
        }
    }
}

/// Longest a join token may stay valid.
pub const MAX_JOIN_TOKEN_TTL: Duration = Duration::days(365);

/// Most join tokens [`App::create_join_tokens`] makes in one call (one transaction).
pub const MAX_JOIN_TOKENS_AT_ONCE: usize = 10_000;

/// Last-request times are written at most this often (all pending hosts at once).
const SEEN_FLUSH: std::time::Duration = std::time::Duration::from_secs(1);

/// Hosts' last-request times not yet written. A host's time is due once a minute
/// ([`store::Hosts::needs_touch`]); a fleet re-polls all at once after a change, so the
/// due times are gathered and written in one transaction at most once per [`SEEN_FLUSH`]:
/// ten thousand hosts cost a few writes, not ten thousand.
#[derive(Debug, Default)]
pub(crate) struct SeenHosts {
    pending: HashMap<i64, OffsetDateTime>,
    flushed: Option<std::time::Instant>,
}

impl SeenHosts {
    /// Notes a request that is due to be recorded (`(host, at)`), if any; the times to
    /// write now, if a write is due. Any host's request may write the others' times.
    fn note(&mut self, due: Option<(i64, OffsetDateTime)>) -> Option<Vec<(i64, OffsetDateTime)>> {
        self.pending.extend(due);
        if self.pending.is_empty() || self.flushed.is_some_and(|t| t.elapsed() < SEEN_FLUSH) {
            return None;
        }
        self.flushed = Some(std::time::Instant::now());
        Some(self.pending.drain().collect())
    }
}

impl App {
    /// Redeems a join token for a host called `hostname` and records the host with the
    /// token's tags. `requested` tags, when given, must all be conferred by the token (a
    /// host never picks its own tags: that would let it read another environment's
    /// users). The token is used up only if the join succeeds. Audited as
    /// [`AuditAction::HostJoin`] by the join token. The answer carries a host certificate
    /// for each of `host_keys` and the team's CA keys.
    pub fn join(
        &self,
        token: &str,
        hostname: &str,
        requested: &BTreeSet<Tag>,
        host_keys: &[SubjectKey],
    ) -> Result<Joined, AppError> {
        let hostname = normalize_hostname(hostname)?;
        let (host, credential) = self.store.write(|tx| {
            let info = tx
                .hosts()
                .redeem_join_token(token)?
                .ok_or(AppError::Unauthorized(
                    "the join token is not valid (wrong, expired or already used)",
                ))?;
            let foreign: Vec<&Tag> = requested.difference(&info.tags).collect();
            if !foreign.is_empty() {
                return Err(AppError::Forbidden(format!(
                    "the join token does not confer the tag(s) {}; it confers [{}]",
                    format_tags(foreign),
                    format_tags(&info.tags)
                )));
            }
            let (host, credential) = tx
                .hosts()
                .insert(info.team, &hostname, &info.tags, Some(info.id))
                .map_err(|e| match e {
                    StoreError::Conflict { .. } => AppError::Conflict(format!(
                        "a host named {hostname} has already joined this team; remove it first \
                         (sshward host remove) to join again"
                    )),
                    other => other.into(),
                })?;
            audit::record(
                tx,
                info.team,
                &Actor::JoinToken(info.id),
                AuditAction::HostJoin,
                &host.id.to_string(),
                format!(
                    "host {hostname} joined with tags [{}]",
                    format_tags(&info.tags)
                ),
            )?;
            Ok::<_, AppError>((host, credential))
        })?;
        let certificates = self.host_certificates(&host, host_keys)?;
        Ok(Joined {
            host,
            credential,
            certificates,
        })
    }

    /// The host whose credential is `credential`, with its team's current revision (one
    /// credential lookup and one revision read; the entity tag of the host's document is
    /// [`host_policy::render::etag`]`(revision, &host.tags)`). Records the host's last request at most
    /// once a minute (several hosts' together, at most one write a second); failing to record it
    /// fails nothing.
    pub fn authenticate_host(&self, credential: &str) -> Result<(HostRecord, i64), AppError> {
        let (host, revision) = self.store.read(|tx| {
            let host = tx
                .hosts()
                .authenticate(credential)?
                .ok_or(AppError::Unauthorized(
                    "the host credential is not valid (wrong, or the host was removed)",
                ))?;
            let revision = tx.teams().revision(host.team)?;
            Ok::<_, AppError>((host, revision))
        })?;
        let now = OffsetDateTime::now_utc();
        let due = store::Hosts::needs_touch(&host, now).then_some((host.id, now));
        let batch = self
            .seen
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .note(due);
        if let Some(batch) = batch {
            let written = self.store.write(|tx| {
                for (host, at) in &batch {
                    tx.hosts().touch_seen(*host, *at)?;
                }
                Ok::<_, StoreError>(())
            });
            if let Err(e) = written {
                log::warn!(
                    "could not record the last request of {} hosts: {e}",
                    batch.len()
                );
            }
        }
        Ok((host, revision))
    }

    /// Records what a host's agent reports about itself (version, applied revision, last
    /// error), cleaned of control characters and cut to size. Not audited (it is the
    /// host's state, not an action) and no change of the team's revision.
    pub fn report_host(
        &self,
        host: &HostRecord,
        report: &proto::HostReport,
    ) -> Result<(), AppError> {
        let clean = |s: &str, max: usize| -> String {
            s.chars()
                .map(|c| if c.is_control() { ' ' } else { c })
                .take(max)
                .collect()
        };
        let version = clean(&report.agent_version, 64);
        if version.trim().is_empty() {
            return Err(AppError::Invalid("agent_version must not be empty".into()));
        }
        let error = report.last_error.as_deref().map(|e| clean(e, 1000));
        self.store.write(|tx| {
            tx.hosts()
                .report(host.id, &version, report.applied_revision, error.as_deref())?;
            Ok(())
        })
    }

    /// What the host's agent last reported, with the team's current revision (the host
    /// is in sync when it applied that one).
    pub fn host_status(
        &self,
        host: &HostRecord,
    ) -> Result<(Option<store::HostStatus>, i64), AppError> {
        self.store
            .read(|tx| Ok((tx.hosts().status(host.id)?, tx.teams().revision(host.team)?)))
    }

    /// The access document of host `host_id` of `team` as of now, allocating POSIX
    /// identities first when needed. [`AppError::Unauthorized`] if the host is gone.
    pub fn access_document(&self, team: TeamId, host_id: i64) -> Result<Computed, AppError> {
        identities::access_document(self, team, host_id)
    }

    /// Creates a one-time join token of `team` that confers `tags` and stays valid for
    /// `ttl` (at most [`MAX_JOIN_TOKEN_TTL`]); returns it with its secret, which is shown
    /// only now.
    pub fn create_join_token(
        &self,
        actor: &Actor,
        team: &str,
        tags: &BTreeSet<Tag>,
        ttl: Duration,
    ) -> Result<(JoinTokenInfo, String), AppError> {
        let mut created = self.create_join_tokens(actor, team, tags, ttl, 1)?;
        created
            .pop()
            .ok_or_else(|| AppError::Invalid("no join token was created".into()))
    }

    /// Creates `count` (1 to [`MAX_JOIN_TOKENS_AT_ONCE`]) one-time join tokens as
    /// [`Self::create_join_token`] does, in one transaction, each audited: enrolling a
    /// fleet of identical hosts.
    pub fn create_join_tokens(
        &self,
        actor: &Actor,
        team: &str,
        tags: &BTreeSet<Tag>,
        ttl: Duration,
        count: usize,
    ) -> Result<Vec<(JoinTokenInfo, String)>, AppError> {
        if ttl <= Duration::ZERO || ttl > MAX_JOIN_TOKEN_TTL {
            return Err(AppError::Invalid(format!(
                "a join token is valid for 1 second to {} days",
                MAX_JOIN_TOKEN_TTL.whole_days()
            )));
        }
        if !(1..=MAX_JOIN_TOKENS_AT_ONCE).contains(&count) {
            return Err(AppError::Invalid(format!(
                "create 1 to {MAX_JOIN_TOKENS_AT_ONCE} join tokens at once"
            )));
        }
        self.write_in(team, |tx, team| {
            let expires = OffsetDateTime::now_utc() + ttl;
            (0..count)
                .map(|_| {
                    let (info, secret) = tx.hosts().create_join_token(team.id, tags, expires)?;
                    audit::record(
                        tx,
                        team.id,
                        actor,
                        AuditAction::JoinTokenCreate,
                        &info.id.to_string(),
                        format!("join token {} for tags [{}]", info.id, format_tags(tags)),
                    )?;
                    Ok((info, secret))
                })
                .collect()
        })
    }

    /// The join tokens of `team`, newest first, used and expired ones included.
    pub fn join_tokens(&self, team: &str) -> Result<Vec<JoinTokenInfo>, AppError> {
        self.read_in(team, |tx, team| Ok(tx.hosts().join_tokens(team.id)?))
    }

    /// Revokes the unused join token `id` of `team`: it stops working at once. A used
    /// token is refused with [`AppError::Conflict`] naming the host to remove instead.
    pub fn revoke_join_token(
        &self,
        actor: &Actor,
        team: &str,
        id: i64,
    ) -> Result<JoinTokenInfo, AppError> {
        self.write_in(team, |tx, team| {
            let info = tx
                .hosts()
                .revoke_join_token(team.id, id)
                .map_err(|e| match e {
                    StoreError::NotFound => AppError::NotFound(format!(
                        "no join token {id} in team {} (see: sshward host join-token list)",
                        team.slug
                    )),
                    other => other.into(),
                })?;
            if info.used.is_some() {
                let by = info
                    .used_by_host
                    .map(|h| {
                        format!(" by host {h}; remove the host instead (sshward host remove {h})")
                    })
                    .unwrap_or_default();
                return Err(AppError::Conflict(format!(
                    "join token {id} was already used{by}"
                )));
            }
            audit::record(
                tx,
                team.id,
                actor,
                AuditAction::JoinTokenRevoke,
                &info.id.to_string(),
                format!("revoked join token {}", info.id),
            )?;
            Ok(info)
        })
    }

    /// The hosts of `team` that carry every tag of `with_tags`, by hostname.
    pub fn hosts(
        &self,
        team: &str,
        with_tags: &BTreeSet<Tag>,
    ) -> Result<Vec<HostRecord>, AppError> {
        let hosts = self.read_in(team, |tx, team| {
            Ok::<_, AppError>(tx.hosts().list(team.id)?)
        })?;
        Ok(hosts
            .into_iter()
            .filter(|h| with_tags.is_subset(&h.tags))
            .collect())
    }

    /// Every host of `team`, by hostname, with what its agent last reported; and the
    /// team's current revision (a host is in sync when it applied that one). One read.
    pub fn host_statuses(&self, team: &str) -> Result<(i64, Vec<HostWithStatus>), AppError> {
        self.read_in(team, |tx, team| {
            let revision = tx.teams().revision(team.id)?;
            let mut statuses = tx.hosts().statuses(team.id)?;
            let hosts = tx
                .hosts()
                .list(team.id)?
                .into_iter()
                .map(|host| {
                    let status = statuses.remove(&host.id);
                    (host, status)
                })
                .collect();
            Ok((revision, hosts))
        })
    }

    /// The host of `team` named by `key` (hostname or id) with its current document.
    pub fn host(&self, team: &str, key: &str) -> Result<(HostRecord, Computed), AppError> {
        let host = self.read_in(team, |tx, team| lookup::host(tx, team, key))?;
        let computed = self.access_document(host.team, host.id)?;
        Ok((host, computed))
    }

    /// Removes the host of `team` named by `key` (hostname or id): its credential stops
    /// working at once and its document is gone.
    pub fn remove_host(
        &self,
        actor: &Actor,
        team: &str,
        key: &str,
    ) -> Result<HostRecord, AppError> {
        self.write_in(team, |tx, team| {
            let host = lookup::host(tx, team, key)?;
            tx.hosts().remove(team.id, host.id)?;
            tx.certificates().revoke_subject(
                team.id,
                store::CertKind::Host,
                &host.id.to_string(),
                "host removed",
            )?;
            audit::record(
                tx,
                team.id,
                actor,
                AuditAction::HostRemove,
                &host.id.to_string(),
                format!("removed host {}", host.hostname),
            )?;
            Ok(host)
        })
    }
}
