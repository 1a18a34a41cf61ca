//! Teams: the tenants of sshward, each with its own SCIM base URL, tokens and directory.

use diesel::prelude::*;
use time::OffsetDateTime;

use crate::error::StoreError;
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
    pub entra_tenant_id: Option<String>,
    /// Lower-case email domains allowed to sign in.
    pub allowed_domains: Vec<String>,
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
    pub entra_tenant_id: Option<Option<String>>,
    /// New allow list of email domains (normalised to lower case, without `@`).
    pub allowed_domains: Option<Vec<String>>,
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
        let allowed_domains = serde_json::from_str(&self.allowed_domains)
            .map_err(|e| StoreError::Corrupt(format!("team {} allowed_domains: {e}", self.id)))?;
        Ok(Team {
            id: TeamId(self.id),
            slug: self.slug,
            display_name: self.display_name,
            entra_tenant_id: self.entra_tenant_id,
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

fn normalise_domains(domains: &[String]) -> Result<Vec<String>, StoreError> {
    let mut out: Vec<String> = Vec::with_capacity(domains.len());
    for domain in domains {
        let d = domain.trim().trim_start_matches('@').to_lowercase();
        let valid = !d.is_empty()
            && d.len() <= 253
            && !d.starts_with('.')
            && !d.ends_with('.')
            && d.chars()
                .all(|c| c.is_alphanumeric() || c == '-' || c == '.');
        if !valid {
            return Err(StoreError::Invalid(format!(
                "invalid email domain {domain:?}"
            )));
        }
        if !out.contains(&d) {
            out.push(d);
        }
    }
    Ok(out)
}

fn encode_domains(domains: &[String]) -> Result<String, StoreError> {
    serde_json::to_string(domains).map_err(|e| StoreError::Invalid(e.to_string()))
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

    /// The team with this slug, if any.
    pub fn get_by_slug(&mut self, slug: &str) -> Result<Option<Team>, StoreError> {
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
            Some(Some(t)) if t.trim().is_empty() => None,
            Some(t) => t.as_ref().map(|t| t.trim().to_ascii_lowercase()),
            None => current.entra_tenant_id,
        };
        let domains = match &update.allowed_domains {
            Some(d) => normalise_domains(d)?,
            None => current.allowed_domains,
        };
        diesel::update(teams::table.find(team.0))
            .set((
                teams::display_name.eq(display_name),
                teams::entra_tenant_id.eq(tenant),
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

    #[test]
    fn domains_are_normalised() {
        let d = normalise_domains(&[
            "@Example.COM".into(),
            "example.com".into(),
            " b.org ".into(),
        ]);
        assert_eq!(
            d.ok(),
            Some(vec!["example.com".to_string(), "b.org".to_string()])
        );
        assert!(normalise_domains(&["a b".into()]).is_err());
        assert!(normalise_domains(&["".into()]).is_err());
    }
}
