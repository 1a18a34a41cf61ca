//! The audit log: who did what to which resource, when, with what outcome. Actors and
//! actions are typed ([`Actor`], [`AuditAction`]); their text forms are what the log
//! stores and what `sshward audit --actor/--action` match.

use std::fmt;
use std::str::FromStr;

use diesel::prelude::*;
use scim_core::ResourceKind;
use time::OffsetDateTime;

use crate::connection::MultiBackend;
use crate::error::StoreError;
use crate::schema::audit_log as a;
use crate::teams::TeamId;
use crate::timestamps::{from_micros, to_micros};
use crate::tx::Tx;

/// Who acted. The text forms: `admin:NAME` (an operator at the CLI, by OS user),
/// `console:ID` (a console admin, by SCIM user id),
/// `scim-token:ID`, `join-token:ID`, `host:ID`, `user:ID` (a signed-in person, by SCIM id),
/// `oidc:NAME` (a sign-in attempt not linked to a SCIM user), `anonymous`, `system`.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum Actor {
    /// An operator at the admin CLI, by operating-system user name.
    Operator(String),
    /// An administrator in the web console, by SCIM user id.
    ConsoleAdmin(String),
    /// A SCIM token (Entra's provisioning service).
    ScimToken(i64),
    /// A host redeeming a join token.
    JoinToken(i64),
    /// A joined host, by its credential.
    Host(i64),
    /// A signed-in person, by SCIM user id.
    User(String),
    /// A sign-in attempt by an account not (yet) linked to a SCIM user, by account name.
    Account(String),
    /// A sign-in attempt that named no account.
    Anonymous,
    /// sshward itself (first-run bootstrap).
    System,
}

impl fmt::Display for Actor {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Actor::Operator(name) => write!(f, "admin:{name}"),
            Actor::ConsoleAdmin(id) => write!(f, "console:{id}"),
            Actor::ScimToken(id) => write!(f, "scim-token:{id}"),
            Actor::JoinToken(id) => write!(f, "join-token:{id}"),
            Actor::Host(id) => write!(f, "host:{id}"),
            Actor::User(id) => write!(f, "user:{id}"),
            Actor::Account(name) => write!(f, "oidc:{name}"),
            Actor::Anonymous => f.write_str("anonymous"),
            Actor::System => f.write_str("system"),
        }
    }
}

impl FromStr for Actor {
    type Err = StoreError;

    fn from_str(s: &str) -> Result<Actor, StoreError> {
        let number = |n: &str| n.parse::<i64>().ok();
        let actor = match s.split_once(':') {
            None if s == "anonymous" => Some(Actor::Anonymous),
            None if s == "system" => Some(Actor::System),
            None => None,
            Some(("admin", name)) if !name.is_empty() => Some(Actor::Operator(name.to_owned())),
            Some(("console", id)) if !id.is_empty() => Some(Actor::ConsoleAdmin(id.to_owned())),
            Some(("scim-token", id)) => number(id).map(Actor::ScimToken),
            Some(("join-token", id)) => number(id).map(Actor::JoinToken),
            Some(("host", id)) => number(id).map(Actor::Host),
            Some(("user", id)) if !id.is_empty() => Some(Actor::User(id.to_owned())),
            Some(("oidc", name)) if !name.is_empty() => Some(Actor::Account(name.to_owned())),
            Some(_) => None,
        };
        actor.ok_or_else(|| {
            StoreError::Invalid(format!(
                "unknown actor {s:?}: use admin:NAME, console:ID, scim-token:ID, join-token:ID, host:ID, \
                 user:ID, oidc:NAME, anonymous or system"
            ))
        })
    }
}

/// A SCIM write.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum ScimOp {
    /// POST.
    Create,
    /// PUT.
    Replace,
    /// PATCH.
    Patch,
    /// DELETE.
    Delete,
}

impl ScimOp {
    /// `create`, `replace`, `patch` or `delete`.
    pub fn as_str(self) -> &'static str {
        match self {
            ScimOp::Create => "create",
            ScimOp::Replace => "replace",
            ScimOp::Patch => "patch",
            ScimOp::Delete => "delete",
        }
    }
}

/// What was done. The text forms are listed by [`AuditAction::all`]: `scim.user.create`
/// and the other SCIM writes, `login.success`, `login.token`, `login.denied`, `login.logout`, the admin
/// actions `admin.*`, `host.join` and `bootstrap`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum AuditAction {
    /// A SCIM write to a user or a group.
    Scim(ResourceKind, ScimOp),
    /// A person signed in (browser or CLI).
    LoginSuccess,
    /// The CLI traded a sign-in for an access token.
    LoginToken,
    /// A sign-in was refused.
    LoginDenied,
    /// A person signed out (their session ended).
    LoginLogout,
    /// An administrator ended a person's sessions.
    SessionsEnd,
    /// A team was created.
    TeamCreate,
    /// A team's name, tenant, domains or sign-in settings changed.
    TeamUpdate,
    /// A SCIM token was created.
    TokenCreate,
    /// A SCIM token was revoked.
    TokenRevoke,
    /// A grant was added.
    GrantAdd,
    /// A grant was removed.
    GrantRemove,
    /// A join token was created.
    JoinTokenCreate,
    /// An unused join token was revoked.
    JoinTokenRevoke,
    /// A host was removed.
    HostRemove,
    /// The team's POSIX settings changed.
    PosixSettings,
    /// A host joined with a join token.
    HostJoin,
    /// The first run created the default team and its token.
    Bootstrap,
    /// A team's user or host CA key was made (on first use).
    CaCreate,
    /// A CA key was rotated.
    CaRotate,
    /// The team's certificate settings changed.
    CaSettings,
    /// A user certificate was issued to a signed-in person.
    CertIssue,
    /// Host certificates were issued to a host.
    HostCertIssue,
    /// Certificates were revoked by an administrator.
    CertRevoke,
    /// Someone signed in to the web console.
    ConsoleSignIn,
    /// A console sign-in was refused (not an administrator, or a used or expired link).
    ConsoleDenied,
    /// A console administrator (user or group) was added.
    ConsoleAdminAdd,
    /// A console administrator (user or group) was removed.
    ConsoleAdminRemove,
    /// A one-time console sign-in link was made.
    ConsoleLinkCreate,
}

impl AuditAction {
    /// Every action, in the order the docs list them.
    pub fn all() -> Vec<AuditAction> {
        let mut all = Vec::new();
        for kind in [ResourceKind::User, ResourceKind::Group] {
            for op in [
                ScimOp::Create,
                ScimOp::Replace,
                ScimOp::Patch,
                ScimOp::Delete,
            ] {
                all.push(AuditAction::Scim(kind, op));
            }
        }
        all.extend([
            AuditAction::LoginSuccess,
            AuditAction::LoginToken,
            AuditAction::LoginDenied,
            AuditAction::LoginLogout,
            AuditAction::SessionsEnd,
            AuditAction::TeamCreate,
            AuditAction::TeamUpdate,
            AuditAction::TokenCreate,
            AuditAction::TokenRevoke,
            AuditAction::GrantAdd,
            AuditAction::GrantRemove,
            AuditAction::JoinTokenCreate,
            AuditAction::JoinTokenRevoke,
            AuditAction::HostRemove,
            AuditAction::PosixSettings,
            AuditAction::HostJoin,
            AuditAction::Bootstrap,
            AuditAction::CaCreate,
            AuditAction::CaRotate,
            AuditAction::CaSettings,
            AuditAction::CertIssue,
            AuditAction::HostCertIssue,
            AuditAction::CertRevoke,
            AuditAction::ConsoleSignIn,
            AuditAction::ConsoleDenied,
            AuditAction::ConsoleAdminAdd,
            AuditAction::ConsoleAdminRemove,
            AuditAction::ConsoleLinkCreate,
        ]);
        all
    }

    fn name(self) -> &'static str {
        match self {
            AuditAction::Scim(..) => "",
            AuditAction::LoginSuccess => "login.success",
            AuditAction::LoginToken => "login.token",
            AuditAction::LoginDenied => "login.denied",
            AuditAction::LoginLogout => "login.logout",
            AuditAction::SessionsEnd => "admin.sessions.end",
            AuditAction::TeamCreate => "admin.team.create",
            AuditAction::TeamUpdate => "admin.team.update",
            AuditAction::TokenCreate => "admin.token.create",
            AuditAction::TokenRevoke => "admin.token.revoke",
            AuditAction::GrantAdd => "admin.grant.add",
            AuditAction::GrantRemove => "admin.grant.remove",
            AuditAction::JoinTokenCreate => "admin.host.join-token.create",
            AuditAction::JoinTokenRevoke => "admin.host.join-token.revoke",
            AuditAction::HostRemove => "admin.host.remove",
            AuditAction::PosixSettings => "admin.posix.settings",
            AuditAction::HostJoin => "host.join",
            AuditAction::Bootstrap => "bootstrap",
            AuditAction::CaCreate => "ca.create",
            AuditAction::CaRotate => "admin.ca.rotate",
            AuditAction::CaSettings => "admin.ca.settings",
            AuditAction::CertIssue => "cert.issue",
            AuditAction::HostCertIssue => "host.cert.issue",
            AuditAction::CertRevoke => "admin.cert.revoke",
            AuditAction::ConsoleSignIn => "console.signin",
            AuditAction::ConsoleDenied => "console.denied",
            AuditAction::ConsoleAdminAdd => "admin.console.admin.add",
            AuditAction::ConsoleAdminRemove => "admin.console.admin.remove",
            AuditAction::ConsoleLinkCreate => "admin.console.link.create",
        }
    }
}

impl fmt::Display for AuditAction {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            AuditAction::Scim(kind, op) => {
                let kind = match kind {
                    ResourceKind::User => "user",
                    ResourceKind::Group => "group",
                };
                write!(f, "scim.{kind}.{}", op.as_str())
            }
            other => f.write_str(other.name()),
        }
    }
}

impl FromStr for AuditAction {
    type Err = StoreError;

    fn from_str(s: &str) -> Result<AuditAction, StoreError> {
        let wanted = s.trim().to_ascii_lowercase();
        AuditAction::all()
            .into_iter()
            .find(|a| a.to_string() == wanted)
            .ok_or_else(|| {
                let names: Vec<String> =
                    AuditAction::all().iter().map(ToString::to_string).collect();
                StoreError::Invalid(format!(
                    "unknown audit action {s:?}: use one of {}",
                    names.join(", ")
                ))
            })
    }
}

/// One event to record.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AuditEntry {
    /// The team concerned (`None` for events outside any team).
    pub team: Option<TeamId>,
    /// When it happened.
    pub at: OffsetDateTime,
    /// Who acted.
    pub actor: Actor,
    /// What was done.
    pub action: AuditAction,
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
    pub actor: Option<Actor>,
    /// Only this action.
    pub action: Option<AuditAction>,
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
    /// Only SCIM writes (`scim.*`): the provisioning log.
    pub scim_only: bool,
    /// Only refusals and failures (status 400 and above).
    pub failed_only: bool,
}

fn corrupt(id: i64, e: &StoreError) -> StoreError {
    StoreError::Corrupt(format!("audit entry {id}: {e}"))
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
                a::actor.eq(entry.actor.to_string()),
                a::action.eq(entry.action.to_string()),
                a::resource_type.eq(entry.resource_type.as_deref()),
                a::resource_id.eq(entry.resource_id.as_deref()),
                a::status.eq(entry.status),
                a::summary.eq(&entry.summary),
            ))
            .execute(self.tx.conn)?;
        Ok(())
    }

    /// How many of the team's events match `query`.
    pub fn count(&mut self, team: TeamId, query: &AuditQuery) -> Result<u64, StoreError> {
        let n: i64 = filtered(team, query).count().get_result(self.tx.conn)?;
        Ok(u64::try_from(n).unwrap_or(0))
    }

    /// The team's events matching `query`, newest first, at most `limit`.
    pub fn query(
        &mut self,
        team: TeamId,
        query: &AuditQuery,
        limit: u32,
    ) -> Result<Vec<AuditRecord>, StoreError> {
        let rows: Vec<AuditRow> = filtered(team, query)
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
                            actor: actor.parse().map_err(|e| corrupt(id, &e))?,
                            action: action.parse().map_err(|e| corrupt(id, &e))?,
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

/// The team's events matching `query`, as a query to finish.
fn filtered(team: TeamId, query: &AuditQuery) -> a::BoxedQuery<'static, MultiBackend> {
    let mut q = a::table.filter(a::team_id.eq(team.0)).into_boxed();
    if let Some(actor) = &query.actor {
        q = q.filter(a::actor.eq(actor.to_string()));
    }
    if let Some(action) = &query.action {
        q = q.filter(a::action.eq(action.to_string()));
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
    if query.scim_only {
        q = q.filter(a::action.like("scim.%"));
    }
    if query.failed_only {
        // A literal, not a bound parameter: only then may SQLite use the partial index
        // `audit_log_failed_idx` (WHERE status >= 400).
        q = q.filter(diesel::dsl::sql::<diesel::sql_types::Bool>("status >= 400"));
    }
    q
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn actors_round_trip() {
        for actor in [
            Actor::Operator("root".into()),
            Actor::ConsoleAdmin("u-1".into()),
            Actor::ScimToken(3),
            Actor::JoinToken(4),
            Actor::Host(5),
            Actor::User("6b1f".into()),
            Actor::Account("alice@acme.com".into()),
            Actor::Anonymous,
            Actor::System,
        ] {
            assert_eq!(actor.to_string().parse::<Actor>().ok(), Some(actor));
        }
        assert_eq!(Actor::ScimToken(3).to_string(), "scim-token:3");
        for bad in ["", "token:1", "scim-token:x", "admin:", "root", "host:-"] {
            assert!(bad.parse::<Actor>().is_err(), "{bad:?}");
        }
    }

    #[test]
    fn actions_round_trip() {
        let all = AuditAction::all();
        assert_eq!(all.len(), 36);
        for action in &all {
            assert_eq!(
                action.to_string().parse::<AuditAction>().ok(),
                Some(*action)
            );
        }
        assert_eq!(
            AuditAction::Scim(ResourceKind::User, ScimOp::Create).to_string(),
            "scim.user.create"
        );
        assert_eq!(
            "SCIM.Group.Patch".parse::<AuditAction>().ok(),
            Some(AuditAction::Scim(ResourceKind::Group, ScimOp::Patch))
        );
        match "scim.create".parse::<AuditAction>() {
            Err(StoreError::Invalid(m)) => assert!(m.contains("scim.user.create"), "{m}"),
            other => panic!("expected an error listing the actions, got {other:?}"),
        }
    }
}
