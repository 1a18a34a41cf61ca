//! Audit entries of the actions this crate performs (the vocabulary, [`Actor`] and
//! [`AuditAction`], is the store's: every crate that writes the log uses it).

use store::{Actor, AuditAction, AuditEntry, TeamId, Tx};
use time::OffsetDateTime;

use crate::AppError;

/// The resource type an admin or host action is about.
fn resource_type(action: AuditAction) -> &'static str {
    match action {
        AuditAction::Scim(kind, _) => kind.name(),
        AuditAction::TeamCreate
        | AuditAction::TeamUpdate
        | AuditAction::PosixSettings
        | AuditAction::Bootstrap => "Team",
        AuditAction::TokenCreate | AuditAction::TokenRevoke => "Token",
        AuditAction::GrantAdd | AuditAction::GrantRemove => "Grant",
        AuditAction::JoinTokenCreate | AuditAction::JoinTokenRevoke => "JoinToken",
        AuditAction::HostRemove | AuditAction::HostJoin => "Host",
        AuditAction::LoginSuccess
        | AuditAction::LoginToken
        | AuditAction::LoginDenied
        | AuditAction::LoginLogout
        | AuditAction::SessionsEnd => "User",
        AuditAction::CaCreate | AuditAction::CaRotate | AuditAction::CaSettings => {
            "CertificateAuthority"
        }
        AuditAction::CertIssue | AuditAction::HostCertIssue | AuditAction::CertRevoke => {
            "Certificate"
        }
        AuditAction::ConsoleSignIn | AuditAction::ConsoleDenied => "User",
        AuditAction::ConsoleAdminAdd | AuditAction::ConsoleAdminRemove => "ConsoleAdmin",
        AuditAction::ConsoleLinkCreate => "ConsoleLink",
    }
}

/// The HTTP-like status the log records for a successful action: 201 for what creates,
/// 200 otherwise.
fn status(action: AuditAction) -> i32 {
    match action {
        AuditAction::TeamCreate
        | AuditAction::TokenCreate
        | AuditAction::GrantAdd
        | AuditAction::JoinTokenCreate
        | AuditAction::HostJoin
        | AuditAction::Bootstrap
        | AuditAction::CaCreate
        | AuditAction::CertIssue
        | AuditAction::HostCertIssue
        | AuditAction::ConsoleAdminAdd
        | AuditAction::ConsoleLinkCreate => 201,
        _ => 200,
    }
}

/// Appends the audit entry of a successful `action` by `actor` on resource `id` of
/// `team`, in the action's own transaction (so it commits with the change or not at all).
pub(crate) fn record(
    tx: &mut Tx<'_>,
    team: TeamId,
    actor: &Actor,
    action: AuditAction,
    id: &str,
    summary: String,
) -> Result<(), AppError> {
    tx.audit().append(&AuditEntry {
        team: Some(team),
        at: OffsetDateTime::now_utc(),
        actor: actor.clone(),
        action,
        resource_type: Some(resource_type(action).to_owned()),
        resource_id: Some(id.to_owned()),
        status: status(action),
        summary,
    })?;
    Ok(())
}
