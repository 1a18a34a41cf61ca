//! Teams: creating them, their name, Entra tenant, allowed email domains and sign-in
//! settings, and what a team holds.

use store::{
    EmailDomain, ListQuery, OidcSettings, OidcSettingsUpdate, SecretRef, StoreError, Team,
    TeamUpdate, TenantId, TokenInfo, Tx,
};
use time::OffsetDateTime;

use crate::audit;

use crate::{Actor, App, AppError, AuditAction, tokens};

/// A team to create.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct NewTeam {
    /// URL name: 1 to 63 of `a-z`, `0-9` and `-` (the Tenant URL ends in
    /// `/scim/v2/SLUG`).
    pub slug: String,
    /// Display name (the slug when `None`).
    pub name: Option<String>,
    /// The Entra tenant whose people may sign in.
    pub tenant: Option<TenantId>,
    /// Email domains allowed to sign in.
    pub domains: Vec<EmailDomain>,
    /// The label of a first SCIM token to create with the team, if any.
    pub first_token: Option<String>,
}

/// How the allowed email domains change.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum DomainChange {
    /// The list becomes exactly this (empty: no one may sign in).
    Replace(Vec<EmailDomain>),
    /// These are added and these removed; removing a domain not on the list is an error
    /// (a typo must not look like success).
    Edit {
        /// Domains to add.
        add: Vec<EmailDomain>,
        /// Domains to remove.
        remove: Vec<EmailDomain>,
    },
}

/// A change of a team; `None` fields stay as they are.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct TeamChange {
    /// New display name.
    pub name: Option<String>,
    /// New Entra tenant (`Some(None)` removes it).
    pub tenant: Option<Option<TenantId>>,
    /// New allowed domains.
    pub domains: Option<DomainChange>,
    /// New sign-in settings (client ID, secret reference, issuer, link mode).
    pub sign_in: OidcSettingsUpdate,
}

impl TeamChange {
    /// True when the change names nothing.
    pub fn is_empty(&self) -> bool {
        self.name.is_none()
            && self.tenant.is_none()
            && self.domains.is_none()
            && self.sign_in == OidcSettingsUpdate::default()
    }
}

/// A team with what it holds.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TeamSummary {
    /// The team.
    pub team: Team,
    /// Its SCIM users.
    pub users: u64,
    /// Its SCIM groups.
    pub groups: u64,
    /// Its SCIM tokens that are neither revoked nor expired.
    pub active_tokens: usize,
}

fn summary(tx: &mut Tx<'_>, team: Team) -> Result<TeamSummary, AppError> {
    let only_total = ListQuery {
        count: Some(0),
        ..ListQuery::default()
    };
    let users = tx.users().list(team.id, &only_total)?.total;
    let groups = tx.groups().list(team.id, &only_total)?.total;
    let now = OffsetDateTime::now_utc();
    let active_tokens = tx
        .tokens()
        .list(team.id)?
        .iter()
        .filter(|t| t.is_valid_at(now))
        .count();
    Ok(TeamSummary {
        team,
        users,
        groups,
        active_tokens,
    })
}

/// A display name: trimmed, not empty, no control characters.
fn display_name(text: &str) -> Result<String, AppError> {
    let name = text.trim();
    if name.is_empty() {
        return Err(AppError::Invalid("a team name must not be empty".into()));
    }
    if name.chars().any(char::is_control) {
        return Err(AppError::Invalid(
            "a team name must not contain control characters".into(),
        ));
    }
    Ok(name.to_owned())
}

/// The allowed domains after `change`.
fn apply_domains(team: &Team, change: &DomainChange) -> Result<Vec<EmailDomain>, AppError> {
    match change {
        DomainChange::Replace(list) => Ok(list.clone()),
        DomainChange::Edit { add, remove } => {
            let mut list = team.allowed_domains.clone();
            list.extend(add.iter().cloned());
            for domain in remove {
                if !list.contains(domain) {
                    return Err(AppError::NotFound(format!(
                        "{domain} is not an allowed domain of team {}",
                        team.slug
                    )));
                }
                list.retain(|d| d != domain);
            }
            Ok(list)
        }
    }
}

/// The names of the settings that differ between `before` and `after`, in the order of
/// the audit summary.
fn changed_fields(
    before: (&Team, &OidcSettings),
    after: (&Team, &OidcSettings),
) -> Vec<&'static str> {
    let ((t0, o0), (t1, o1)) = (before, after);
    [
        ("name", t0.display_name != t1.display_name),
        ("entra_tenant_id", t0.entra_tenant_id != t1.entra_tenant_id),
        ("allowed_domains", t0.allowed_domains != t1.allowed_domains),
        ("client_id", o0.client_id != o1.client_id),
        (
            "client_secret",
            o0.client_secret_ref != o1.client_secret_ref,
        ),
        ("issuer", o0.issuer != o1.issuer),
        ("link_by", o0.link_by != o1.link_by),
    ]
    .into_iter()
    .filter_map(|(name, differs)| differs.then_some(name))
    .collect()
}

impl App {
    /// Creates a team (and, when `new.first_token` names a label, its first SCIM token,
    /// whose secret is shown only now). [`AppError::Conflict`] if the slug is taken.
    pub fn create_team(
        &self,
        actor: &Actor,
        new: &NewTeam,
    ) -> Result<(Team, Option<(TokenInfo, String)>), AppError> {
        store::validate_slug(&new.slug)?;
        let name = display_name(new.name.as_deref().unwrap_or(&new.slug))?;
        self.store.write(|tx| {
            let mut team = tx.teams().create(&new.slug, &name).map_err(|e| match e {
                StoreError::Conflict { .. } => {
                    AppError::Conflict(format!("team {:?} exists already", new.slug))
                }
                other => other.into(),
            })?;
            if new.tenant.is_some() || !new.domains.is_empty() {
                let update = TeamUpdate {
                    entra_tenant_id: Some(new.tenant.clone()),
                    allowed_domains: Some(new.domains.clone()),
                    ..TeamUpdate::default()
                };
                team = tx.teams().update(team.id, &update)?;
            }
            audit::record(
                tx,
                team.id,
                actor,
                AuditAction::TeamCreate,
                &team.slug,
                format!("created team {}", team.slug),
            )?;
            let token = match &new.first_token {
                Some(label) => Some(tokens::create_in(tx, team.id, actor, label, None)?),
                None => None,
            };
            Ok((team, token))
        })
    }

    /// Changes a team and returns it with its sign-in settings. A client secret file is
    /// read once now, so that a wrong path shows here rather than at the first sign-in.
    /// Audited with the names of what changed.
    pub fn update_team(
        &self,
        actor: &Actor,
        slug: &str,
        change: &TeamChange,
    ) -> Result<(Team, OidcSettings), AppError> {
        if change.is_empty() {
            return Err(AppError::Invalid("nothing to change".into()));
        }
        let name = change.name.as_deref().map(display_name).transpose()?;
        if let Some(Some(reference @ SecretRef::File(_))) = &change.sign_in.client_secret_ref {
            reference.read().map_err(|e| {
                AppError::Invalid(format!("cannot read the client secret file {e}"))
            })?;
        }
        self.write_in(slug, |tx, team| {
            let allowed_domains = change
                .domains
                .as_ref()
                .map(|c| apply_domains(team, c))
                .transpose()?;
            let update = TeamUpdate {
                display_name: name.clone(),
                entra_tenant_id: change.tenant.clone(),
                allowed_domains,
            };
            let updated = tx.teams().update(team.id, &update)?;
            let before = tx.login().oidc(team.id)?;
            let after = if change.sign_in == OidcSettingsUpdate::default() {
                before.clone()
            } else {
                tx.login().set_oidc(team.id, &change.sign_in)?
            };
            let changed = changed_fields((team, &before), (&updated, &after));
            let summary = if changed.is_empty() {
                "no change".to_owned()
            } else {
                format!("changed {}", changed.join(", "))
            };
            audit::record(
                tx,
                team.id,
                actor,
                AuditAction::TeamUpdate,
                &team.slug,
                summary,
            )?;
            Ok((updated, after))
        })
    }

    /// Every team with what it holds, by slug.
    pub fn teams(&self) -> Result<Vec<TeamSummary>, AppError> {
        self.store.read(|tx| {
            let teams = tx.teams().list()?;
            teams.into_iter().map(|t| summary(tx, t)).collect()
        })
    }

    /// The team `slug` with what it holds and its sign-in settings.
    pub fn team(&self, slug: &str) -> Result<(TeamSummary, OidcSettings), AppError> {
        self.read_in(slug, |tx, team| {
            let oidc = tx.login().oidc(team.id)?;
            Ok((summary(tx, team.clone())?, oidc))
        })
    }
}
