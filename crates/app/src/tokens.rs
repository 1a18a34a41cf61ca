//! SCIM tokens: the Secret Tokens Entra's provisioning service authenticates with.

use store::{Team, TeamId, TokenInfo, Tx};
use time::{Duration, OffsetDateTime};

use crate::audit;

use crate::{Actor, App, AppError, AuditAction};

/// Longest label of a token.
pub const MAX_LABEL_LEN: usize = 200;

/// Checks a token label: not empty, at most [`MAX_LABEL_LEN`] characters, no control
/// characters (it is printed in tables and the audit log). Returns it trimmed.
fn label(text: &str) -> Result<String, AppError> {
    let label = text.trim();
    if label.is_empty() || label.chars().count() > MAX_LABEL_LEN {
        return Err(AppError::Invalid(format!(
            "a token label must be 1 to {MAX_LABEL_LEN} characters"
        )));
    }
    if label.chars().any(char::is_control) {
        return Err(AppError::Invalid(
            "a token label must not contain control characters".into(),
        ));
    }
    Ok(label.to_owned())
}

/// Creates a token of `team` in `tx` and audits it; returns it with its secret.
pub(crate) fn create_in(
    tx: &mut Tx<'_>,
    team: TeamId,
    actor: &Actor,
    label_text: &str,
    expires_in: Option<Duration>,
) -> Result<(TokenInfo, String), AppError> {
    let label = label(label_text)?;
    if expires_in.is_some_and(|d| d <= Duration::ZERO) {
        return Err(AppError::Invalid(
            "a token must expire in the future".into(),
        ));
    }
    let expires = expires_in.map(|d| OffsetDateTime::now_utc() + d);
    let (info, secret) = tx.tokens().create(team, &label, expires)?;
    audit::record(
        tx,
        team,
        actor,
        AuditAction::TokenCreate,
        &info.id.to_string(),
        format!("created token {} ({})", info.id, info.label),
    )?;
    Ok((info, secret))
}

impl App {
    /// Creates a SCIM token of `team` labelled `label`, valid forever or for
    /// `expires_in`; returns the team and the token with its secret, which is stored only
    /// as a hash and shown only now.
    pub fn create_token(
        &self,
        actor: &Actor,
        team: &str,
        label: &str,
        expires_in: Option<Duration>,
    ) -> Result<(Team, TokenInfo, String), AppError> {
        self.write_in(team, |tx, team| {
            let (info, secret) = create_in(tx, team.id, actor, label, expires_in)?;
            Ok((team.clone(), info, secret))
        })
    }

    /// The SCIM tokens of `team` (never their secrets), oldest first.
    pub fn tokens(&self, team: &str) -> Result<Vec<TokenInfo>, AppError> {
        self.read_in(team, |tx, team| Ok(tx.tokens().list(team.id)?))
    }

    /// Revokes SCIM token `id` of `team`: every request with it is refused from now on.
    /// Returns the token as it now is and whether this call revoked it (false: it was
    /// revoked already; only the first revocation is audited).
    pub fn revoke_token(
        &self,
        actor: &Actor,
        team: &str,
        id: i64,
    ) -> Result<(TokenInfo, bool), AppError> {
        self.write_in(team, |tx, team| {
            let find = |tx: &mut Tx<'_>| -> Result<Option<TokenInfo>, AppError> {
                Ok(tx.tokens().list(team.id)?.into_iter().find(|t| t.id == id))
            };
            let token = find(tx)?.ok_or_else(|| {
                AppError::NotFound(format!("team {} has no token with ID {id}", team.slug))
            })?;
            let newly = tx.tokens().revoke(team.id, id)?;
            if newly {
                audit::record(
                    tx,
                    team.id,
                    actor,
                    AuditAction::TokenRevoke,
                    &id.to_string(),
                    format!("revoked token {id} ({})", token.label),
                )?;
            }
            Ok((find(tx)?.unwrap_or(token), newly))
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn labels() {
        assert_eq!(label("  entra ").ok().as_deref(), Some("entra"));
        assert!(label("").is_err());
        assert!(label("   ").is_err());
        assert!(label("a\u{1b}[2Jb").is_err());
        assert!(label("a\nb").is_err());
        assert!(label(&"x".repeat(MAX_LABEL_LEN)).is_ok());
        assert!(label(&"x".repeat(MAX_LABEL_LEN + 1)).is_err());
    }
}
