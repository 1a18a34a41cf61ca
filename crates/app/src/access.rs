//! Explaining access decisions, and the team's POSIX settings.

use host_policy::{
    Explanation, HomeBase, IdRange, LoginShell, PosixName, PosixSettings, UsernameStyle,
};

use crate::audit;

use crate::{Actor, App, AppError, AuditAction, identities, lookup};

/// An explanation of one user's access to one host.
#[derive(Clone, Debug)]
pub struct Explained {
    /// The SCIM id of the user it is about.
    pub user_id: String,
    /// The decision and its reasons.
    pub explanation: Explanation,
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
