//! Teams: the tenants of sshward, each with its own SCIM base URL, tokens and directory.

use diesel::prelude::*;
use time::OffsetDateTime;

use crate::error::StoreError;
use crate::idp::{EmailDomain, TenantId};
use crate::schema::teams;
use crate::timestamps::{from_micros, now, to_micros};
use crate::tx::Tx;

/// A team's database key.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct TeamId(pub i64);

impl std::fmt::Display for TeamId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}", self.0)
    }
}

/// A team.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Team {
    /// Database key.
    pub id: TeamId,
    /// URL slug (`/scim/v2/{slug}`): lower-case letters, digits and `-`.
    pub slug: String,
    /// Human-readable name.
    pub display_name: String,
    /// The Entra tenant ID whose users may sign in, if configured.
    pub entra_tenant_id: Option<TenantId>,
    /// Email domains allowed to sign in.
    pub allowed_domains: Vec<EmailDomain>,
    /// Incremented by every committed write in the team.
    pub revision: i64,
    /// When the team was created.
    pub created: OffsetDateTime,
}

/// Changes to a team; `None` fields stay as they are.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct TeamUpdate {
    /// New display name.
    pub display_name: Option<String>,
    /// New tenant ID (`Some(None)` clears it).
    pub entra_tenant_id: Option<Option<TenantId>>,
    /// New allow list of email domains (duplicates are dropped).
    pub allowed_domains: Option<Vec<EmailDomain>>,
}

#[derive(Queryable, Selectable)]
#[diesel(table_name = teams)]
struct TeamRow {
    id: i64,
    slug: String,
    display_name: String,
    entra_tenant_id: Option<String>,
    allowed_domains: String,
    revision: i64,
    created_at: i64,
}

impl TeamRow {
    fn into_team(self) -> Result<Team, StoreError> {
        let id = self.id;
        let corrupt = |what: &str, e: &dyn std::fmt::Display| {
            StoreError::Corrupt(format!("team {id} {what}: {e}"))
        };
        let domains: Vec<String> = serde_json::from_str(&self.allowed_domains)
            .map_err(|e| corrupt("allowed_domains", &e))?;
        let allowed_domains = domains
            .iter()
            .map(|d| d.parse())
            .collect::<Result<_, _>>()
            .map_err(|e| corrupt("allowed_domains", &e))?;
        let entra_tenant_id = self
            .entra_tenant_id
            .map(|t| t.parse())
            .transpose()
            .map_err(|e| corrupt("entra_tenant_id", &e))?;
        Ok(Team {
            id: TeamId(self.id),
            slug: self.slug,
            display_name: self.display_name,
            entra_tenant_id,
            allowed_domains,
            revision: self.revision,
            created: from_micros(self.created_at)?,
        })
    }
}

/// Checks a team slug: 1 to 63 characters of `a-z`, `0-9` and `-`, starting and ending
/// with a letter or digit (a DNS label, safe in URLs and file names).
pub fn validate_slug(slug: &str) -> Result<(), StoreError> {
    let ok_char = |c: char| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-';
    let valid = (1..=63).contains(&slug.len())
        && slug.chars().all(ok_char)
        && !slug.starts_with('-')
        && !slug.ends_with('-');
    if valid {
        Ok(())
    } else {
        Err(StoreError::Invalid(format!(
            "team slug {slug:?} must be 1-63 characters of a-z, 0-9 and '-', not starting or ending with '-'"
        )))
    }
}

fn encode_domains(domains: &[&EmailDomain]) -> Result<String, StoreError> {
    let texts: Vec<&str> = domains.iter().map(|d| d.as_str()).collect();
    serde_json::to_string(&texts).map_err(|e| StoreError::Invalid(e.to_string()))
}

/// Team operations inside a transaction; from [`Tx::teams`].
pub struct Teams<'t, 'c> {
    pub(crate) tx: &'t mut Tx<'c>,
}

impl Teams<'_, '_> {
    /// Creates a team with a unique slug ([`StoreError::Conflict`] on `slug` otherwise).
    pub fn create(&mut self, slug: &str, display_name: &str) -> Result<Team, StoreError> {
        self.tx.require_write()?;
        validate_slug(slug)?;
        if display_name.trim().is_empty() {
            return Err(StoreError::Invalid("team display name is empty".into()));
        }
        diesel::insert_into(teams::table)
            .values((
                teams::slug.eq(slug),
                teams::display_name.eq(display_name.trim()),
                teams::allowed_domains.eq("[]"),
                teams::revision.eq(0),
                teams::created_at.eq(to_micros(now())),
            ))
            .execute(self.tx.conn)?;
        self.get_by_slug(slug)?.ok_or(StoreError::NotFound)
    }

    /// The team with this key ([`StoreError::NotFound`] if none).
    pub fn get(&mut self, team: TeamId) -> Result<Team, StoreError> {
        teams::table
            .find(team.0)
            .select(TeamRow::as_select())
            .first(self.tx.conn)
            .optional()?
            .ok_or(StoreError::NotFound)?
            .into_team()
    }

    /// The team with this slug, if any. A string that is no valid slug names no team and
    /// is not looked up (a slug from a URL may hold a NUL, which PostgreSQL refuses).
    pub fn get_by_slug(&mut self, slug: &str) -> Result<Option<Team>, StoreError> {
        if validate_slug(slug).is_err() {
            return Ok(None);
        }
        teams::table
            .filter(teams::slug.eq(slug))
            .select(TeamRow::as_select())
            .first(self.tx.conn)
            .optional()?
            .map(TeamRow::into_team)
            .transpose()
    }

    /// All teams, by slug.
    pub fn list(&mut self) -> Result<Vec<Team>, StoreError> {
        teams::table
            .order(teams::slug.asc())
            .select(TeamRow::as_select())
            .load(self.tx.conn)?
            .into_iter()
            .map(TeamRow::into_team)
            .collect()
    }

    /// Applies `update` and returns the team as it now is.
    pub fn update(&mut self, team: TeamId, update: &TeamUpdate) -> Result<Team, StoreError> {
        self.tx.changed(team)?;
        let current = self.get(team)?;
        let display_name = match &update.display_name {
            Some(name) if name.trim().is_empty() => {
                return Err(StoreError::Invalid("team display name is empty".into()));
            }
            Some(name) => name.trim().to_owned(),
            None => current.display_name,
        };
        let tenant = match &update.entra_tenant_id {
            Some(t) => t.clone(),
            None => current.entra_tenant_id,
        };
        let mut domains: Vec<&EmailDomain> = Vec::new();
        for d in update
            .allowed_domains
            .as_ref()
            .unwrap_or(&current.allowed_domains)
        {
            if !domains.contains(&d) {
                domains.push(d);
            }
        }
        diesel::update(teams::table.find(team.0))
            .set((
                teams::display_name.eq(display_name),
                teams::entra_tenant_id.eq(tenant.as_ref().map(TenantId::as_str)),
                teams::allowed_domains.eq(encode_domains(&domains)?),
            ))
            .execute(self.tx.conn)?;
        self.get(team)
    }

    /// Increments the team's revision now and returns the new value.
    pub fn bump_revision(&mut self, team: TeamId) -> Result<i64, StoreError> {
        self.tx.require_write()?;
        let n = diesel::update(teams::table.find(team.0))
            .set(teams::revision.eq(teams::revision + 1))
            .execute(self.tx.conn)?;
        if n == 0 {
            return Err(StoreError::NotFound);
        }
        self.tx.bumped(team);
        self.revision(team)
    }

    /// The team's current revision.
    pub fn revision(&mut self, team: TeamId) -> Result<i64, StoreError> {
        teams::table
            .find(team.0)
            .select(teams::revision)
            .first(self.tx.conn)
            .optional()?
            .ok_or(StoreError::NotFound)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn slugs() {
        for ok in ["a", "acme", "acme-corp", "a1", "0", &"x".repeat(63)] {
            assert!(validate_slug(ok).is_ok(), "{ok}");
        }
        for bad in [
            "",
            "-a",
            "a-",
            "Acme",
            "a_b",
            "a.b",
            "a b",
            "ä",
            &"x".repeat(64),
        ] {
            assert!(validate_slug(bad).is_err(), "{bad}");
        }
    }
}
