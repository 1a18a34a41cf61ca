//! Explaining access decisions, and the team's POSIX settings.

use host_policy::{
    Explanation, Grant, HomeBase, IdRange, LoginShell, PosixAccount, PosixName, PosixSettings,
    Role, UsernameStyle,
};

use crate::audit;

use crate::{Actor, App, AppError, AuditAction, NewGrant, identities, lookup};

/// An explanation of one user's access to one host.
#[derive(Clone, Debug)]
pub struct Explained {
    /// The SCIM id of the user it is about.
    pub user_id: String,
    /// The decision and its reasons.
    pub explanation: Explanation,
}

/// What one user may reach: see [`App::user_access`].
#[derive(Clone, Debug)]
pub struct UserAccess {
    /// The user's SCIM id.
    pub user_id: String,
    /// Their POSIX account, once allocated.
    pub account: Option<PosixAccount>,
    /// Every host's explanation, by hostname.
    pub hosts: Vec<Explanation>,
}

/// How one user's access changes, and on which hosts: see [`App::preview_grant`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AccessChange {
    /// The user's POSIX name.
    pub user: String,
    /// The hosts where it changes so, by hostname (shared by the users whose access
    /// changes on the same hosts: a group of 10,000 on 1,000 hosts is one list).
    pub hosts: std::sync::Arc<Vec<String>>,
    /// Their access before (`None`: no login).
    pub before: Option<Role>,
    /// Their access after.
    pub after: Option<Role>,
}

/// A change of POSIX settings: `None` fields stay as they are.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct PosixSettingsChange {
    /// New uid/gid range.
    pub id_range: Option<IdRange>,
    /// New username style.
    pub username_style: Option<UsernameStyle>,
    /// New home base.
    pub home_base: Option<HomeBase>,
    /// New login shell.
    pub shell: Option<LoginShell>,
    /// New list of names the team reserves.
    pub reserved: Option<Vec<PosixName>>,
}

impl PosixSettingsChange {
    /// True when nothing would change.
    pub fn is_empty(&self) -> bool {
        *self == PosixSettingsChange::default()
    }
}

impl App {
    /// Whether the user named by `user` (SCIM id, userName or POSIX name) may log in to
    /// the host named by `host` (hostname or id) in `team`, and which grant decides it.
    pub fn explain(&self, team: &str, host: &str, user: &str) -> Result<Explained, AppError> {
        let (team, host, user_id) = self.read_in(team, |tx, team| {
            let host = lookup::host(tx, team, host)?;
            let user = lookup::user_id(tx, team, user)?;
            Ok::<_, AppError>((team.clone(), host, user))
        })?;
        let explanation = identities::explain_access(self, team.id, host.id, &user_id)?;
        Ok(Explained {
            user_id,
            explanation,
        })
    }

    /// What the user named by `user` (SCIM id, userName or POSIX name) may reach in
    /// `team`: their POSIX account (once allocated) and, for every host, whether they may
    /// log in and which grants decide it.
    pub fn user_access(&self, team: &str, user: &str) -> Result<UserAccess, AppError> {
        let (team, user_id) = self.read_in(team, |tx, team| {
            Ok::<_, AppError>((team.clone(), lookup::user_id(tx, team, user)?))
        })?;
        let (account, hosts) = identities::user_access(self, team.id, &user_id)?;
        Ok(UserAccess {
            user_id,
            account,
            hosts,
        })
    }

    /// Who gains or loses access on which hosts if `grant` is added to `team`: every user
    /// whose access changes on a host the grant selects, by user. Changes nothing.
    pub fn preview_grant(
        &self,
        team: &str,
        grant: &NewGrant,
    ) -> Result<Vec<AccessChange>, AppError> {
        let (team, group) = self.read_in(team, |tx, team| {
            Ok::<_, AppError>((team.clone(), lookup::group(tx, team, &grant.group)?))
        })?;
        let change = Grant {
            id: 0,
            group_id: group.id,
            hosts: grant.hosts.clone(),
            role: grant.role,
            extra_groups: grant.extra_groups.clone(),
        };
        identities::grant_effect(self, team.id, &change, false)
    }

    /// Who loses access on which host if grant `id` of `team` is removed. Changes nothing.
    pub fn preview_grant_removal(
        &self,
        team: &str,
        id: i64,
    ) -> Result<Vec<AccessChange>, AppError> {
        let (team, grant) = self.read_in(team, |tx, team| {
            let found = tx.grants().list(team.id)?.into_iter().find(|g| g.id == id);
            let found = found.ok_or_else(|| {
                AppError::NotFound(format!("team {} has no grant {id}", team.slug))
            })?;
            Ok::<_, AppError>((team.clone(), found))
        })?;
        identities::grant_effect(self, team.id, &identities::grant_of(&grant), true)
    }

    /// The POSIX settings of `team`.
    pub fn posix_settings(&self, team: &str) -> Result<PosixSettings, AppError> {
        self.read_in(team, |tx, team| Ok(tx.posix().settings(team.id)?))
    }

    /// Changes the POSIX settings of `team` and returns them. New names and numbers follow
    /// the new range and style; identities already allocated keep theirs.
    pub fn set_posix_settings(
        &self,
        actor: &Actor,
        team: &str,
        change: &PosixSettingsChange,
    ) -> Result<PosixSettings, AppError> {
        self.write_in(team, |tx, team| {
            let mut s = tx.posix().settings(team.id)?;
            if change.is_empty() {
                return Ok(s);
            }
            if let Some(range) = change.id_range {
                s.id_range = range;
            }
            if let Some(style) = change.username_style {
                s.username_style = style;
            }
            if let Some(home) = &change.home_base {
                s.home_base = home.clone();
            }
            if let Some(shell) = &change.shell {
                s.shell = shell.clone();
            }
            if let Some(reserved) = &change.reserved {
                let mut names = reserved.clone();
                names.sort();
                names.dedup();
                s.reserved = names;
            }
            tx.posix().set_settings(team.id, &s)?;
            audit::record(
                tx,
                team.id,
                actor,
                AuditAction::PosixSettings,
                &team.slug,
                format!(
                    "POSIX settings: {} ids {} home {} shell {} reserved [{}]",
                    s.username_style,
                    s.id_range,
                    s.home_base,
                    s.shell,
                    s.reserved
                        .iter()
                        .map(PosixName::as_str)
                        .collect::<Vec<_>>()
                        .join(",")
                ),
            )?;
            Ok(s)
        })
    }
}
