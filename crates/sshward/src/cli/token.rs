//! `sshward token create|list|revoke`: a team's SCIM bearer tokens.

use clap::{Args, Subcommand};
use serde::Serialize;
use store::TokenInfo;
use time::OffsetDateTime;

use super::parse_duration;
use crate::config::Config;
use crate::db;
use crate::error::{Error, Result};
use crate::output::{self, Format, Table};

/// Token subcommands.
#[derive(Debug, Subcommand)]
pub enum TokenCommand {
    /// Create a token; its secret is printed once and stored only as a hash
    Create(CreateArgs),
    /// List a team's tokens (never their secrets)
    List(ListArgs),
    /// Revoke a token: requests with it are refused from now on
    Revoke(RevokeArgs),
}

/// `--team`.
#[derive(Debug, Args)]
pub struct TeamArg {
    /// The team's slug [default: the only team, when there is just one]
    #[arg(long, short = 't', value_name = "SLUG")]
    pub team: Option<String>,
}

impl TeamArg {
    /// The team the command acts on: the one named, or else the only team of the
    /// database. With several teams and none named it is an error: a command must never
    /// act on a team the operator did not mean.
    pub fn slug(&self, config: &Config) -> Result<String> {
        if let Some(slug) = &self.team {
            return Ok(slug.clone());
        }
        let teams = db::app(config)?.teams()?;
        match teams.as_slice() {
            [only] => Ok(only.team.slug.clone()),
            [] => Err(Error::NotFound(
                "there is no team yet (`sshward serve` creates one, or `sshward team create`)"
                    .into(),
            )),
            several => {
                let slugs: Vec<&str> = several.iter().map(|t| t.team.slug.as_str()).collect();
                Err(Error::Usage(format!(
                    "there are {} teams ({}): name one with --team",
                    slugs.len(),
                    slugs.join(", ")
                )))
            }
        }
    }
}

/// `token create`.
#[derive(Debug, Args)]
pub struct CreateArgs {
    #[command(flatten)]
    pub team: TeamArg,
    /// A label to recognise the token by (e.g. where it is pasted)
    #[arg(long, short = 'l', default_value = "entra-provisioning")]
    pub label: String,
    /// Let the token expire after this long (e.g. 90d, 12w) [default: never]
    #[arg(long, value_name = "DURATION")]
    pub expires_in: Option<String>,
    #[command(flatten)]
    pub format: Format,
}

/// `token list`.
#[derive(Debug, Args)]
pub struct ListArgs {
    #[command(flatten)]
    pub team: TeamArg,
    #[command(flatten)]
    pub format: Format,
}

/// `token revoke`.
#[derive(Debug, Args)]
pub struct RevokeArgs {
    #[command(flatten)]
    pub team: TeamArg,
    /// The token's ID (see `sshward token list`)
    pub id: i64,
    #[command(flatten)]
    pub format: Format,
}

/// A token as printed with `--json` (never the secret).
#[derive(Debug, Serialize)]
pub struct TokenView {
    id: i64,
    label: String,
    status: &'static str,
    #[serde(with = "output::rfc3339")]
    created: OffsetDateTime,
    #[serde(with = "output::rfc3339::option")]
    last_used: Option<OffsetDateTime>,
    #[serde(with = "output::rfc3339::option")]
    expires: Option<OffsetDateTime>,
    #[serde(with = "output::rfc3339::option")]
    revoked: Option<OffsetDateTime>,
}

impl TokenView {
    fn new(t: TokenInfo, now: OffsetDateTime) -> Self {
        let status = if t.revoked.is_some() {
            "revoked"
        } else if t.is_valid_at(now) {
            "active"
        } else {
            "expired"
        };
        TokenView {
            id: t.id,
            label: t.label,
            status,
            created: t.created,
            last_used: t.last_used,
            expires: t.expires,
            revoked: t.revoked,
        }
    }
}

/// A new token with its secret, as printed once with `--json`.
#[derive(Debug, Serialize)]
pub struct TokenCreated {
    #[serde(flatten)]
    token: TokenView,
    secret: String,
}

impl TokenCreated {
    /// Wraps a token just created and its secret.
    pub fn new(info: TokenInfo, secret: String) -> Self {
        TokenCreated {
            token: TokenView::new(info, OffsetDateTime::now_utc()),
            secret,
        }
    }
}

/// The lines that hand a new secret to the admin (the conformance script and the
/// tests parse `SCIM Tenant URL:` and `Secret Token:`).
pub fn secret_block(tenant_url: &str, secret: &str, id: i64) -> Vec<String> {
    vec![
        String::new(),
        "Paste these into Microsoft Entra ID (Enterprise application > Provisioning > Admin Credentials):".into(),
        String::new(),
        format!("SCIM Tenant URL: {tenant_url}"),
        format!("Secret Token: {secret}"),
        String::new(),
        format!("The secret is shown only this once (sshward stores a hash of it). Token ID: {id}."),
    ]
}

/// Runs a token subcommand.
pub fn run(config: &Config, command: TokenCommand) -> Result<()> {
    match command {
        TokenCommand::Create(a) => create(config, a),
        TokenCommand::List(a) => list(config, a),
        TokenCommand::Revoke(a) => revoke(config, a),
    }
}

fn create(config: &Config, a: CreateArgs) -> Result<()> {
    let team = a.team.slug(config)?;
    if a.label.trim().is_empty() {
        return Err(Error::Usage("--label must not be empty".into()));
    }
    let expires_in = a.expires_in.as_deref().map(parse_duration).transpose()?;
    let (team, info, secret) =
        db::app(config)?.create_token(&db::cli_actor(), &team, &a.label, expires_in)?;
    let url = super::team::tenant_url(config, &team.slug);
    if a.format.json {
        return output::print_json(&serde_json::json!({
            "team": team.slug,
            "scim_tenant_url": url,
            "token": TokenCreated::new(info, secret),
        }));
    }
    let mut lines = vec![format!(
        "Created token {} ({}) for team {}{}.",
        info.id,
        info.label,
        team.slug,
        info.expires
            .map(|e| format!(", valid until {}", output::time(e)))
            .unwrap_or_default()
    )];
    lines.extend(secret_block(&url, &secret, info.id));
    output::print_lines(&lines)
}

fn list(config: &Config, a: ListArgs) -> Result<()> {
    let team = a.team.slug(config)?;
    let tokens = db::app(config)?.tokens(&team)?;
    let now = OffsetDateTime::now_utc();
    let views: Vec<TokenView> = tokens.into_iter().map(|t| TokenView::new(t, now)).collect();
    if a.format.json {
        return output::print_json(&views);
    }
    let mut table = Table::new(&["ID", "LABEL", "STATUS", "CREATED", "LAST USED", "EXPIRES"]);
    for v in &views {
        table.row(vec![
            v.id.to_string(),
            v.label.clone(),
            v.status.to_owned(),
            output::time(v.created),
            output::opt_time(v.last_used),
            output::opt_time(v.expires),
        ]);
    }
    table.print(&format!(
        "Team {} has no tokens: create one with `sshward token create --team {}`.",
        team, team
    ))
}

fn revoke(config: &Config, a: RevokeArgs) -> Result<()> {
    let team = a.team.slug(config)?;
    let (token, newly) = db::app(config)?
        .revoke_token(&db::cli_actor(), &team, a.id)
        .map_err(|e| match e {
            app::AppError::NotFound(m) => {
                Error::NotFound(format!("{m} (see `sshward token list --team {}`)", team))
            }
            other => other.into(),
        })?;
    let view = TokenView::new(token, OffsetDateTime::now_utc());
    if a.format.json {
        return output::print_json(&serde_json::json!({
            "token": view,
            "already_revoked": !newly,
        }));
    }
    let line = if newly {
        format!(
            "Revoked token {} ({}); requests with it now get 401.",
            view.id, view.label
        )
    } else {
        format!("Token {} ({}) was already revoked.", view.id, view.label)
    };
    output::print_lines(&[line])
}
