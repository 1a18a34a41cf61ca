//! SCIM bearer tokens: random secrets shown once, stored as SHA-256 digests, compared in
//! constant time, scoped to one team, revocable, with a last-used time.

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use diesel::prelude::*;
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;
use time::OffsetDateTime;

use crate::error::StoreError;
use crate::schema::scim_tokens;
use crate::teams::{Team, TeamId};
use crate::timestamps::{from_micros, from_micros_opt, now, to_micros};
use crate::tx::Tx;

/// Every secret starts with this, so that leaked tokens are easy to scan for.
pub const TOKEN_PREFIX: &str = "sshw_";

/// `last_used` is written at most this often per token.
const TOUCH_INTERVAL: time::Duration = time::Duration::seconds(60);

/// A token's metadata (never the secret).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TokenInfo {
    /// Database key; audit entries name the token as `scim-token:<id>`.
    pub id: i64,
    /// The team the token is valid for.
    pub team: TeamId,
    /// Operator-chosen label.
    pub label: String,
    /// When it was created.
    pub created: OffsetDateTime,
    /// When it was last used (to within a minute).
    pub last_used: Option<OffsetDateTime>,
    /// When it stops being valid.
    pub expires: Option<OffsetDateTime>,
    /// When it was revoked.
    pub revoked: Option<OffsetDateTime>,
}

impl TokenInfo {
    /// True if the token is neither revoked nor expired at `at`.
    pub fn is_valid_at(&self, at: OffsetDateTime) -> bool {
        self.revoked.is_none() && self.expires.is_none_or(|e| e > at)
    }

    /// True if [`Tokens::touch_token`] would write at `at`; lets a caller that
    /// authenticated in a read transaction skip a write transaction most of the time.
    pub fn needs_touch(&self, at: OffsetDateTime) -> bool {
        self.last_used
            .is_none_or(|used| used + TOUCH_INTERVAL <= at)
    }
}

#[derive(Queryable, Selectable)]
#[diesel(table_name = scim_tokens)]
struct TokenRow {
    id: i64,
    team_id: i64,
    label: String,
    token_sha256: String,
    created_at: i64,
    last_used_at: Option<i64>,
    expires_at: Option<i64>,
    revoked_at: Option<i64>,
}

impl TokenRow {
    fn info(&self) -> Result<TokenInfo, StoreError> {
        Ok(TokenInfo {
            id: self.id,
            team: TeamId(self.team_id),
            label: self.label.clone(),
            created: from_micros(self.created_at)?,
            last_used: from_micros_opt(self.last_used_at)?,
            expires: from_micros_opt(self.expires_at)?,
            revoked: from_micros_opt(self.revoked_at)?,
        })
    }
}

/// Lower-case hex SHA-256 of a secret.
pub(crate) fn digest_hex(secret: &str) -> String {
    format!("{:x}", Sha256::digest(secret.as_bytes()))
}

/// True if two digests are equal, compared in constant time.
pub(crate) fn digests_equal(a: &str, b: &str) -> bool {
    a.as_bytes().ct_eq(b.as_bytes()).into()
}

/// A new secret: the prefix and 32 bytes from the OS random source, base64url (43 chars).
fn new_secret() -> Result<String, StoreError> {
    new_secret_with_prefix(TOKEN_PREFIX)
}

/// A new secret with another prefix (host credentials, join tokens), made like
/// [`new_secret`].
pub(crate) fn new_secret_with_prefix(prefix: &str) -> Result<String, StoreError> {
    let mut bytes = [0u8; 32];
    getrandom::fill(&mut bytes)
        .map_err(|e| StoreError::Unavailable(format!("random source: {e}")))?;
    Ok(format!("{prefix}{}", URL_SAFE_NO_PAD.encode(bytes)))
}

/// Token operations inside a transaction; from [`Tx::tokens`].
pub struct Tokens<'t, 'c> {
    pub(crate) tx: &'t mut Tx<'c>,
}

impl Tokens<'_, '_> {
    /// Creates a token for `team` and returns its metadata and the secret, which is not
    /// stored and cannot be shown again.
    pub fn create(
        &mut self,
        team: TeamId,
        label: &str,
        expires: Option<OffsetDateTime>,
    ) -> Result<(TokenInfo, String), StoreError> {
        self.tx.changed(team)?;
        let secret = new_secret()?;
        let hash = digest_hex(&secret);
        diesel::insert_into(scim_tokens::table)
            .values((
                scim_tokens::team_id.eq(team.0),
                scim_tokens::label.eq(label.trim()),
                scim_tokens::token_sha256.eq(&hash),
                scim_tokens::created_at.eq(to_micros(now())),
                scim_tokens::expires_at.eq(expires.map(to_micros)),
            ))
            .execute(self.tx.conn)?;
        let row: TokenRow = scim_tokens::table
            .filter(scim_tokens::token_sha256.eq(&hash))
            .select(TokenRow::as_select())
            .first(self.tx.conn)?;
        Ok((row.info()?, secret))
    }

    /// The team's tokens, oldest first, revoked ones included.
    pub fn list(&mut self, team: TeamId) -> Result<Vec<TokenInfo>, StoreError> {
        scim_tokens::table
            .filter(scim_tokens::team_id.eq(team.0))
            .order(scim_tokens::id.asc())
            .select(TokenRow::as_select())
            .load(self.tx.conn)?
            .iter()
            .map(TokenRow::info)
            .collect()
    }

    /// Revokes a token of `team`; false if there is no such token or it was revoked already.
    pub fn revoke(&mut self, team: TeamId, token: i64) -> Result<bool, StoreError> {
        self.tx.changed(team)?;
        let n = diesel::update(
            scim_tokens::table
                .filter(scim_tokens::team_id.eq(team.0))
                .filter(scim_tokens::id.eq(token))
                .filter(scim_tokens::revoked_at.is_null()),
        )
        .set(scim_tokens::revoked_at.eq(to_micros(now())))
        .execute(self.tx.conn)?;
        Ok(n > 0)
    }

    /// True if token `id` is neither revoked nor expired now: one primary-key lookup,
    /// for a caller that verified the secret moments ago and only needs to know it still
    /// stands.
    pub fn is_live(&mut self, id: i64) -> Result<bool, StoreError> {
        let at = to_micros(now());
        let found: Option<i64> = scim_tokens::table
            .find(id)
            .filter(scim_tokens::revoked_at.is_null())
            .filter(
                scim_tokens::expires_at
                    .is_null()
                    .or(scim_tokens::expires_at.gt(at)),
            )
            .select(scim_tokens::id)
            .first(self.tx.conn)
            .optional()?;
        Ok(found.is_some())
    }

    /// Finds the team `team_slug` and the one of its valid (unrevoked, unexpired) tokens
    /// whose secret is `presented`, comparing SHA-256 digests in constant time. `None` for
    /// an unknown team or a wrong, revoked or expired token.
    pub fn authenticate(
        &mut self,
        team_slug: &str,
        presented: &str,
    ) -> Result<Option<(Team, TokenInfo)>, StoreError> {
        let presented_hash = digest_hex(presented);
        let Some(team) = self.tx.teams().get_by_slug(team_slug)? else {
            return Ok(None);
        };
        let at = to_micros(now());
        let rows: Vec<TokenRow> = scim_tokens::table
            .filter(scim_tokens::team_id.eq(team.id.0))
            .filter(scim_tokens::revoked_at.is_null())
            .filter(
                scim_tokens::expires_at
                    .is_null()
                    .or(scim_tokens::expires_at.gt(at)),
            )
            .select(TokenRow::as_select())
            .load(self.tx.conn)?;
        // Look at every candidate, so the time taken does not depend on which one matched.
        let mut found = None;
        for row in &rows {
            let equal: bool = row
                .token_sha256
                .as_bytes()
                .ct_eq(presented_hash.as_bytes())
                .into();
            if equal {
                found = Some(row);
            }
        }
        match found {
            Some(row) => Ok(Some((team, row.info()?))),
            None => Ok(None),
        }
    }

    /// Records a use of the token at `now`, writing only when the stored last-used time is
    /// older than a minute (or unset). Returns whether it wrote.
    pub fn touch_token(&mut self, token: i64, now: OffsetDateTime) -> Result<bool, StoreError> {
        self.tx.require_write()?;
        let now_us = to_micros(now);
        let stale_before = to_micros(now - TOUCH_INTERVAL);
        let n = diesel::update(
            scim_tokens::table.filter(scim_tokens::id.eq(token)).filter(
                scim_tokens::last_used_at
                    .is_null()
                    .or(scim_tokens::last_used_at.le(stale_before)),
            ),
        )
        .set(scim_tokens::last_used_at.eq(now_us))
        .execute(self.tx.conn)?;
        Ok(n > 0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secrets_have_the_documented_shape() {
        let a = new_secret().ok().unwrap_or_default();
        let b = new_secret().ok().unwrap_or_default();
        assert!(a.starts_with(TOKEN_PREFIX));
        assert_eq!(a.len(), TOKEN_PREFIX.len() + 43);
        assert!(
            a[TOKEN_PREFIX.len()..]
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
        );
        assert_ne!(a, b);
        assert_eq!(digest_hex(&a).len(), 64);
    }
}
