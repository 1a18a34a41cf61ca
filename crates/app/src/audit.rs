//! Audit entries of the actions this crate performs: one [`Action`] enum and one writer.

use std::fmt;

use store::{AuditEntry, TeamId, Tx};
use time::OffsetDateTime;

use crate::{Actor, AppError};

/// What was done, as the audit log's `action` column names it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Action {
    /// A team was created (`admin.team.create`).
    TeamCreate,
    /// A team's name, Entra tenant, domains or sign-in settings changed
    /// (`admin.team.update`).
    TeamUpdate,
    /// A SCIM token was created (`admin.token.create`).
    TokenCreate,
    /// A SCIM token was revoked (`admin.token.revoke`).
    TokenRevoke,
    /// A grant was added (`admin.grant.add`).
    GrantAdd,
    /// A grant was removed (`admin.grant.remove`).
    GrantRemove,
    /// A join token was created (`admin.host.join-token.create`).
    JoinTokenCreate,
    /// An unused join token was revoked (`admin.host.join-token.revoke`).
    JoinTokenRevoke,
    /// A host was removed (`admin.host.remove`).
    HostRemove,
    /// The team's POSIX settings changed (`admin.posix.settings`).
    PosixSettings,
    /// A host joined with a join token (`host.join`).
    HostJoin,
}

impl Action {
    /// Every action, for help texts and the docs.
    pub const ALL: [Action; 11] = [
        Action::TeamCreate,
        Action::TeamUpdate,
        Action::TokenCreate,
        Action::TokenRevoke,
        Action::GrantAdd,
        Action::GrantRemove,
        Action::JoinTokenCreate,
        Action::JoinTokenRevoke,
        Action::HostRemove,
        Action::PosixSettings,
        Action::HostJoin,
    ];

    /// The text of the audit log's `action` column.
    pub fn as_str(self) -> &'static str {
        match self {
            Action::TeamCreate => "admin.team.create",
            Action::TeamUpdate => "admin.team.update",
            Action::TokenCreate => "admin.token.create",
            Action::TokenRevoke => "admin.token.revoke",
            Action::GrantAdd => "admin.grant.add",
            Action::GrantRemove => "admin.grant.remove",
            Action::JoinTokenCreate => "admin.host.join-token.create",
            Action::JoinTokenRevoke => "admin.host.join-token.revoke",
            Action::HostRemove => "admin.host.remove",
            Action::PosixSettings => "admin.posix.settings",
            Action::HostJoin => "host.join",
        }
    }

    /// The resource type the action is about.
    fn resource_type(self) -> &'static str {
        match self {
            Action::TeamCreate | Action::TeamUpdate | Action::PosixSettings => "Team",
            Action::TokenCreate | Action::TokenRevoke => "Token",
            Action::GrantAdd | Action::GrantRemove => "Grant",
            Action::JoinTokenCreate | Action::JoinTokenRevoke => "JoinToken",
            Action::HostRemove | Action::HostJoin => "Host",
        }
    }

    /// The HTTP-like status the log records: 201 for what creates, 200 otherwise.
    fn status(self) -> i32 {
        match self {
            Action::TeamCreate
            | Action::TokenCreate
            | Action::GrantAdd
            | Action::JoinTokenCreate
            | Action::HostJoin => 201,
            _ => 200,
        }
    }
}

impl fmt::Display for Action {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Appends the audit entry of a successful `action` by `actor` on resource `id` of
/// `team`, in the action's own transaction (so it commits with the change or not at all).
pub(crate) fn record(
    tx: &mut Tx<'_>,
    team: TeamId,
    actor: &Actor,
    action: Action,
    id: &str,
    summary: String,
) -> Result<(), AppError> {
    tx.audit().append(&AuditEntry {
        team: Some(team),
        at: OffsetDateTime::now_utc(),
        actor: actor.to_string(),
        action: action.as_str().to_owned(),
        resource_type: Some(action.resource_type().to_owned()),
        resource_id: Some(id.to_owned()),
        status: action.status(),
        summary,
    })?;
    Ok(())
}
