//! Who may use a team's web console, and its sessions: administrators named one by one or
//! by SCIM group (by immutable id), one-time sign-in links for the first setup, and the
//! check every console request makes.
//!
//! A console session is a sign-in session ([`store::Sessions`]) with `via` `console`,
//! made fresh at console sign-in (never taken from the browser, so a planted cookie
//! cannot be fixed on a victim). Whether its holder is still an administrator is asked
//! again on every request: removing someone from the admin group, or Entra disabling
//! them, takes effect on their next click.

use store::{AdminKind, AuditEntry, CONSOLE_VIA, LinkRecord, ResourceKind, Team, TeamId, Tx};
use time::{Duration, OffsetDateTime};

use crate::{Actor, App, AppError, AuditAction, audit, lookup};

/// How long a one-time sign-in link is valid.
pub const CONSOLE_LINK_TTL: Duration = Duration::minutes(15);
/// How long a console session lasts after an Entra sign-in.
pub const CONSOLE_SESSION_TTL: Duration = Duration::hours(8);
/// How long a console session lasts after a one-time link (a setup session).
pub const CONSOLE_LINK_SESSION_TTL: Duration = Duration::hours(1);

/// The `user_id` of a session opened with one-time link `id`.
fn link_principal(id: i64) -> String {
    format!("link:{id}")
}

/// Someone to make (or stop being) a console administrator, as the admin names them.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum AdminRef<'a> {
    /// A user by SCIM id, userName or POSIX name.
    User(&'a str),
    /// Every member of a group, by SCIM id or displayName.
    Group(&'a str),
}

/// A console administrator entry as the admin sees it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AdminView {
    /// A user or a group.
    pub kind: AdminKind,
    /// Its SCIM id.
    pub scim_id: String,
    /// Its userName or displayName (`None` when it no longer exists).
    pub name: Option<String>,
    /// When it was added.
    pub added: OffsetDateTime,
}

/// A one-time console sign-in link, just made.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ConsoleLink {
    /// Its id.
    pub id: i64,
    /// Its secret (the `code` of the link); shown once.
    pub secret: String,
    /// When it expires.
    pub expires: OffsetDateTime,
}

/// A console session, just started: the secret goes into the console cookie.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ConsoleSession {
    /// The session's secret.
    pub secret: String,
    /// When it expires.
    pub expires: OffsetDateTime,
}

/// The administrator behind a console request.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ConsoleAdmin {
    /// Their team.
    pub team: Team,
    /// How their actions are audited: `console:USER-ID` or `console:link:ID`.
    pub actor: Actor,
    /// Who they are: a userName, or "one-time link N".
    pub name: String,
    /// When their session ends.
    pub expires: OffsetDateTime,
}

/// The name of resource `id`, if it exists.
fn name_of(
    tx: &mut Tx<'_>,
    team: TeamId,
    kind: AdminKind,
    id: &str,
) -> Result<Option<String>, AppError> {
    let (record, key) = match kind {
        AdminKind::User => (tx.users().get(team, id)?, "userName"),
        AdminKind::Group => (tx.groups().get(team, id)?, "displayName"),
    };
    Ok(record.and_then(|r| {
        r.data
            .get(key)
            .and_then(serde_json::Value::as_str)
            .map(str::to_owned)
    }))
}

/// Whether SCIM user `user_id` exists, is active and is a console administrator of
/// `team` (named, or a member of an admin group); returns their userName.
fn admin_name(tx: &mut Tx<'_>, team: TeamId, user_id: &str) -> Result<Option<String>, AppError> {
    let Some(user) = tx.users().get(team, user_id)? else {
        return Ok(None);
    };
    if user.data.get("active").and_then(serde_json::Value::as_bool) == Some(false) {
        return Ok(None);
    }
    let mut admin = tx.console().has_entry(team, AdminKind::User, user_id)?;
    if !admin {
        for entry in tx.console().admins(team)? {
            if entry.kind == AdminKind::Group
                && tx.groups().is_member(team, &entry.scim_id, user_id)?
            {
                admin = true;
                break;
            }
        }
    }
    let name = user
        .data
        .get("userName")
        .and_then(serde_json::Value::as_str)
        .unwrap_or(user_id);
    Ok(admin.then(|| name.to_owned()))
}

/// The SCIM id `who` names, with its kind.
fn resolve(
    tx: &mut Tx<'_>,
    team: &Team,
    who: AdminRef<'_>,
) -> Result<(AdminKind, String), AppError> {
    Ok(match who {
        AdminRef::User(key) => (AdminKind::User, lookup::user_id(tx, team, key)?),
        AdminRef::Group(key) => (AdminKind::Group, lookup::group(tx, team, key)?.id),
    })
}

impl App {
    /// Makes `who` a console administrator of `team` (a group: all its members, as they
    /// change); audited as `admin.console.admin.add`. Adding one twice is no error.
    pub fn add_console_admin(
        &self,
        actor: &Actor,
        team: &str,
        who: AdminRef<'_>,
    ) -> Result<AdminView, AppError> {
        self.write_in(team, |tx, team| {
            let (kind, id) = resolve(tx, team, who)?;
            if tx.console().add_admin(team.id, kind, &id)? {
                audit::record(
                    tx,
                    team.id,
                    actor,
                    AuditAction::ConsoleAdminAdd,
                    &id,
                    format!("made {} {id} a console administrator", kind.as_str()),
                )?;
            }
            view(tx, team.id, kind, &id)
        })
    }

    /// Stops `who` being a console administrator of `team` (their console sessions end
    /// with their next request); audited as `admin.console.admin.remove`.
    pub fn remove_console_admin(
        &self,
        actor: &Actor,
        team: &str,
        who: AdminRef<'_>,
    ) -> Result<AdminView, AppError> {
        self.write_in(team, |tx, team| {
            let (kind, id) = resolve(tx, team, who)?;
            let found = view(tx, team.id, kind, &id)?;
            if !tx.console().remove_admin(team.id, kind, &id)? {
                return Err(AppError::NotFound(format!(
                    "{} {id} is not a console administrator of team {}",
                    kind.as_str(),
                    team.slug
                )));
            }
            audit::record(
                tx,
                team.id,
                actor,
                AuditAction::ConsoleAdminRemove,
                &id,
                format!("removed console administrator {} {id}", kind.as_str()),
            )?;
            Ok(found)
        })
    }

    /// The console administrators of `team`: named users, then admin groups.
    pub fn console_admins(&self, team: &str) -> Result<Vec<AdminView>, AppError> {
        self.read_in(team, |tx, team| {
            let entries = tx.console().admins(team.id)?;
            entries
                .into_iter()
                .map(|e| view(tx, team.id, e.kind, &e.scim_id))
                .collect()
        })
    }

    /// Makes a one-time console sign-in link of `team`, valid for [`CONSOLE_LINK_TTL`];
    /// audited as `admin.console.link.create`.
    pub fn create_console_link(&self, actor: &Actor, team: &str) -> Result<ConsoleLink, AppError> {
        self.write_in(team, |tx, team| {
            let expires = OffsetDateTime::now_utc() + CONSOLE_LINK_TTL;
            let (link, secret) = tx.console().create_link(team.id, expires)?;
            audit::record(
                tx,
                team.id,
                actor,
                AuditAction::ConsoleLinkCreate,
                &link.id.to_string(),
                format!("made one-time console sign-in link {}", link.id),
            )?;
            Ok(ConsoleLink {
                id: link.id,
                secret,
                expires,
            })
        })
    }

    /// Signs in to the console of `team` with a one-time link's secret: the link is used
    /// up and a setup session of [`CONSOLE_LINK_SESSION_TTL`] starts (audited
    /// `console.signin`). A used, expired or unknown link, or one of another team, is
    /// [`AppError::Unauthorized`] (audited `console.denied`).
    pub fn redeem_console_link(
        &self,
        team: &str,
        secret: &str,
    ) -> Result<ConsoleSession, AppError> {
        let outcome = self.write_in(team, |tx, team| {
            let link: Option<LinkRecord> = tx.console().use_link(team.id, secret)?;
            let Some(link) = link else {
                return Ok(Err(team.id));
            };
            let expires = OffsetDateTime::now_utc() + CONSOLE_LINK_SESSION_TTL;
            let principal = link_principal(link.id);
            let secret = tx.console().start_session(team.id, &principal, expires)?;
            audit::record(
                tx,
                team.id,
                &Actor::ConsoleAdmin(principal),
                AuditAction::ConsoleSignIn,
                &link.id.to_string(),
                format!("signed in to the console with one-time link {}", link.id),
            )?;
            Ok(Ok(ConsoleSession { secret, expires }))
        })?;
        outcome.or_else(|team_id| {
            self.deny(team_id, Actor::Anonymous, 401, "a one-time console link was refused: unknown, used or expired")?;
            Err(AppError::Unauthorized("this sign-in link is unknown, used or expired; make a new one with `sshward admin link`"))
        })
    }

    /// Opens the console of `team` for the person of the live browser sign-in session
    /// `login_secret` (a sign-in to this team): a new console session of
    /// [`CONSOLE_SESSION_TTL`] starts if they are an administrator (audited
    /// `console.signin`); [`AppError::Forbidden`] (audited `console.denied`) if not, and
    /// [`AppError::Unauthorized`] without such a session.
    pub fn enter_console(
        &self,
        team: &str,
        login_secret: &str,
    ) -> Result<ConsoleSession, AppError> {
        let outcome = self.write_in(team, |tx, team| {
            let session = tx.sessions().live(login_secret)?;
            let Some(session) = session.filter(|s| s.team == team.id && s.via != CONSOLE_VIA)
            else {
                return Err(AppError::Unauthorized("sign in to this team first"));
            };
            if admin_name(tx, team.id, &session.user_id)?.is_none() {
                return Ok(Err((team.id, session.user_id)));
            }
            let expires = (OffsetDateTime::now_utc() + CONSOLE_SESSION_TTL).min(session.expires);
            let secret = tx
                .console()
                .start_session(team.id, &session.user_id, expires)?;
            audit::record(
                tx,
                team.id,
                &Actor::ConsoleAdmin(session.user_id.clone()),
                AuditAction::ConsoleSignIn,
                &session.user_id,
                "signed in to the console".to_owned(),
            )?;
            Ok(Ok(ConsoleSession { secret, expires }))
        })?;
        outcome.or_else(|(team_id, user)| {
            self.deny(
                team_id,
                Actor::User(user),
                403,
                "console sign-in refused: not a console administrator of this team",
            )?;
            Err(AppError::Forbidden(
                "you are signed in, but you are not a console administrator of this team".into(),
            ))
        })
    }

    /// The administrator behind console session `secret` on the pages of `team`:
    /// [`AppError::Unauthorized`] without a live console session, [`AppError::NotFound`]
    /// when the session belongs to another team (its pages do not exist for them), and
    /// [`AppError::Forbidden`] when its holder is no longer an administrator.
    pub fn console_admin(&self, team: &str, secret: &str) -> Result<ConsoleAdmin, AppError> {
        self.store.read(|tx| {
            let session = tx.sessions().live(secret)?.filter(|s| s.via == CONSOLE_VIA);
            let Some(session) = session else {
                return Err(AppError::Unauthorized("sign in to the console"));
            };
            let own = tx.teams().get(session.team)?;
            if own.slug != team {
                return Err(AppError::NotFound(format!(
                    "there is no console page for team {team:?}"
                )));
            }
            let name = match session.user_id.strip_prefix("link:") {
                Some(id) => format!("one-time link {id}"),
                None => admin_name(tx, own.id, &session.user_id)?.ok_or_else(|| {
                    AppError::Forbidden(
                        "you are no longer a console administrator of this team".into(),
                    )
                })?,
            };
            Ok(ConsoleAdmin {
                team: own,
                actor: Actor::ConsoleAdmin(session.user_id),
                name,
                expires: session.expires,
            })
        })
    }

    /// Ends console session `secret` (signing out); false when it was not live.
    pub fn end_console_session(&self, secret: &str) -> Result<bool, AppError> {
        Ok(self.store.write(|tx| tx.sessions().end(secret))?.is_some())
    }

    /// Appends a refusal to the audit log of `team`, in its own transaction (the refused
    /// action wrote nothing).
    fn deny(&self, team: TeamId, actor: Actor, status: i32, summary: &str) -> Result<(), AppError> {
        self.store.write(|tx| {
            tx.audit().append(&AuditEntry {
                team: Some(team),
                at: OffsetDateTime::now_utc(),
                actor,
                action: AuditAction::ConsoleDenied,
                resource_type: Some(ResourceKind::User.name().to_owned()),
                resource_id: None,
                status,
                summary: summary.to_owned(),
            })
        })?;
        Ok(())
    }
}

fn view(tx: &mut Tx<'_>, team: TeamId, kind: AdminKind, id: &str) -> Result<AdminView, AppError> {
    let name = name_of(tx, team, kind, id)?;
    let added = tx
        .console()
        .admins(team)?
        .into_iter()
        .find(|e| e.kind == kind && e.scim_id == id)
        .map_or_else(OffsetDateTime::now_utc, |e| e.added);
    Ok(AdminView {
        kind,
        scim_id: id.to_owned(),
        name,
        added,
    })
}
