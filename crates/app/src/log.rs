//! Reading the audit log, and the first-run bootstrap it records.

use store::{Actor, AuditAction, AuditQuery, AuditRecord, StoreError, Team, TokenInfo};

use crate::{App, AppError, audit, lookup};

/// Most entries one audit query returns.
pub const MAX_AUDIT_ENTRIES: u32 = 10_000;

impl App {
    /// The audit entries matching `query` of team `team` (or of every team), newest first
    /// across teams, at most `limit` (1 to [`MAX_AUDIT_ENTRIES`]); each with its team.
    pub fn audit(
        &self,
        team: Option<&str>,
        query: &AuditQuery,
        limit: u32,
    ) -> Result<Vec<(Team, AuditRecord)>, AppError> {
        if !(1..=MAX_AUDIT_ENTRIES).contains(&limit) {
            return Err(AppError::Invalid(format!(
                "ask for 1 to {MAX_AUDIT_ENTRIES} audit entries"
            )));
        }
        if let (Some(since), Some(until)) = (query.since, query.until)
            && since >= until
        {
            return Err(AppError::Invalid("the start must be before the end".into()));
        }
        self.store.read(|tx| {
            let teams = match team {
                Some(slug) => vec![lookup::team(tx, slug)?],
                None => tx.teams().list()?,
            };
            let mut all = Vec::new();
            for team in teams {
                for record in tx.audit().query(team.id, query, limit)? {
                    all.push((team.clone(), record));
                }
            }
            all.sort_by(|(_, x), (_, y)| y.entry.at.cmp(&x.entry.at).then(y.id.cmp(&x.id)));
            all.truncate(limit as usize);
            Ok(all)
        })
    }

    /// How many audit entries of team `team` match `query`.
    pub fn audit_count(&self, team: &str, query: &AuditQuery) -> Result<u64, AppError> {
        self.read_in(team, |tx, team| Ok(tx.audit().count(team.id, query)?))
    }

    /// On first start (no team at all): creates team `slug` and one SCIM token labelled
    /// `bootstrap`, audited as [`AuditAction::Bootstrap`] by [`Actor::System`], and returns
    /// them with the token's secret. `None` when teams exist, also when another instance
    /// starting on the same empty database created them first.
    pub fn bootstrap(&self, slug: &str) -> Result<Option<(Team, TokenInfo, String)>, AppError> {
        let created = self.store.write(|tx| {
            if !tx.teams().list()?.is_empty() {
                return Ok(None);
            }
            let team = tx.teams().create(slug, "Default team")?;
            let (token, secret) = tx.tokens().create(team.id, "bootstrap", None)?;
            audit::record(
                tx,
                team.id,
                &Actor::System,
                AuditAction::Bootstrap,
                &team.slug,
                format!(
                    "first run: created team {} and token {} ({})",
                    team.slug, token.id, token.label
                ),
            )?;
            Ok(Some((team, token, secret)))
        });
        match created {
            Err(AppError::Conflict(_)) | Err(AppError::Store(StoreError::Conflict { .. })) => {
                Ok(None)
            }
            other => other,
        }
    }
}
