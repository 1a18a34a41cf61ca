//! `sshward host join-token create|list|revoke` and `sshward host list|show|remove`: the hosts
//! of a team and the one-time tokens they join with.

use std::collections::BTreeSet;

use clap::{Args, Subcommand};
use host_policy::{Tag, format_tags, parse_tags};
use serde::Serialize;
use store::{HostRecord, JoinTokenInfo};
use time::OffsetDateTime;

use super::parse_duration;
use super::token::TeamArg;
use crate::config::Config;
use crate::db;
use crate::error::Result;
use crate::output::{self, Format, Table};

/// Host subcommands.
#[derive(Debug, Subcommand)]
pub enum HostCommand {
    /// Create and list one-time join tokens
    #[command(subcommand)]
    JoinToken(JoinTokenCommand),
    /// List the team's hosts
    List(ListArgs),
    /// Show one host (by hostname or id), its tags and who may log in
    Show(HostArgs),
    /// Remove a host: its credential stops working at once
    Remove(HostArgs),
}

/// Join-token subcommands.
#[derive(Debug, Subcommand)]
pub enum JoinTokenCommand {
    /// Create a join token; it is printed once and works once
    Create(CreateArgs),
    /// List join tokens, newest first
    List(TokenListArgs),
    /// Revoke an unused join token (by id): it stops working at once
    Revoke(RevokeArgs),
}

/// `host join-token revoke`.
#[derive(Debug, Args)]
pub struct RevokeArgs {
    #[command(flatten)]
    pub team: TeamArg,
    /// The token's id (from `host join-token list`)
    pub id: i64,
    #[command(flatten)]
    pub format: Format,
}

/// `host join-token create`.
#[derive(Debug, Args)]
pub struct CreateArgs {
    #[command(flatten)]
    pub team: TeamArg,
    /// A tag the joining host gets, key=value (repeat for several)
    #[arg(long = "tag", value_name = "KEY=VALUE")]
    pub tags: Vec<String>,
    /// How long the token stays valid (30m, 12h, 7d)
    #[arg(long, default_value = "1h", value_name = "DURATION")]
    pub ttl: String,
    /// How many tokens to create (one per host of a fleet; --json then prints an array)
    #[arg(long, default_value_t = 1, value_name = "N")]
    pub count: usize,
    #[command(flatten)]
    pub format: Format,
}

/// `host join-token list`.
#[derive(Debug, Args)]
pub struct TokenListArgs {
    #[command(flatten)]
    pub team: TeamArg,
    #[command(flatten)]
    pub format: Format,
}

/// `host list`.
#[derive(Debug, Args)]
pub struct ListArgs {
    #[command(flatten)]
    pub team: TeamArg,
    /// Only hosts with this tag, key=value (repeat: all of them)
    #[arg(long = "tag", value_name = "KEY=VALUE")]
    pub tags: Vec<String>,
    #[command(flatten)]
    pub format: Format,
}

/// `host show` and `host remove`.
#[derive(Debug, Args)]
pub struct HostArgs {
    #[command(flatten)]
    pub team: TeamArg,
    /// The host's hostname or id
    pub host: String,
    #[command(flatten)]
    pub format: Format,
}

/// A host in JSON output.
#[derive(Debug, Serialize)]
struct HostRow {
    id: i64,
    hostname: String,
    tags: Vec<String>,
    #[serde(with = "output::rfc3339")]
    joined: OffsetDateTime,
    #[serde(with = "output::rfc3339::option")]
    last_seen: Option<OffsetDateTime>,
}

impl HostRow {
    fn new(h: &HostRecord) -> HostRow {
        HostRow {
            id: h.id,
            hostname: h.hostname.clone(),
            tags: tag_texts(&h.tags),
            joined: h.created,
            last_seen: h.last_seen,
        }
    }
}

/// A join token in JSON output (never the secret, except once on creation).
#[derive(Debug, Serialize)]
struct TokenRow {
    id: i64,
    tags: Vec<String>,
    #[serde(with = "output::rfc3339")]
    created: OffsetDateTime,
    #[serde(with = "output::rfc3339")]
    expires: OffsetDateTime,
    #[serde(with = "output::rfc3339::option")]
    used: Option<OffsetDateTime>,
    used_by_host: Option<i64>,
}

impl TokenRow {
    fn new(t: &JoinTokenInfo) -> TokenRow {
        TokenRow {
            id: t.id,
            tags: tag_texts(&t.tags),
            created: t.created,
            expires: t.expires,
            used: t.used,
            used_by_host: t.used_by_host,
        }
    }
}

fn tag_texts(tags: &BTreeSet<Tag>) -> Vec<String> {
    tags.iter().map(ToString::to_string).collect()
}

/// Parses `--tag` arguments into validated tags.
pub fn tags_arg(items: &[String]) -> Result<BTreeSet<Tag>> {
    Ok(parse_tags(items)?)
}

/// Runs a host subcommand.
pub fn run(config: &Config, command: HostCommand) -> Result<()> {
    match command {
        HostCommand::JoinToken(JoinTokenCommand::Create(a)) => create_token(config, a),
        HostCommand::JoinToken(JoinTokenCommand::List(a)) => list_tokens(config, a),
        HostCommand::JoinToken(JoinTokenCommand::Revoke(a)) => revoke_token(config, a),
        HostCommand::List(a) => list(config, a),
        HostCommand::Show(a) => show(config, a),
        HostCommand::Remove(a) => remove(config, a),
    }
}

fn create_token(config: &Config, a: CreateArgs) -> Result<()> {
    let team = a.team.slug(config)?;
    let tags = tags_arg(&a.tags)?;
    let ttl = parse_duration(&a.ttl)?;
    let created =
        db::app(config)?.create_join_tokens(&db::cli_actor(), &team, &tags, ttl, a.count)?;
    if a.format.json {
        let rows = created
            .iter()
            .map(|(info, secret)| {
                let mut row = serde_json::to_value(TokenRow::new(info))?;
                row["token"] = secret.as_str().into();
                Ok(row)
            })
            .collect::<Result<Vec<_>, serde_json::Error>>()?;
        return match rows.as_slice() {
            [row] if a.count == 1 => output::print_json(row),
            _ => output::print_json(&rows),
        };
    }
    let expires = created.first().map(|(info, _)| info.expires);
    let mut fields: Vec<(&str, String)> = created
        .into_iter()
        .map(|(_, secret)| ("Join token", secret))
        .collect();
    fields.push(("Tags", format_tags(&tags)));
    fields.extend(expires.map(|e| ("Expires", output::time(e))));
    output::print_fields(&fields)?;
    output::print_lines(&[
        String::new(),
        "A token is shown only now and works once. On the host, POST it to".into(),
        "/api/v1/hosts/join with the hostname; the answer holds the host's credential.".into(),
    ])
}

fn revoke_token(config: &Config, a: RevokeArgs) -> Result<()> {
    let team = a.team.slug(config)?;
    let info = db::app(config)?.revoke_join_token(&db::cli_actor(), &team, a.id)?;
    if a.format.json {
        return output::print_json(&TokenRow::new(&info));
    }
    output::print_lines(&[format!(
        "Revoked join token {}; it no longer works.",
        info.id
    )])
}

fn list_tokens(config: &Config, a: TokenListArgs) -> Result<()> {
    let team = a.team.slug(config)?;
    let tokens = db::app(config)?.join_tokens(&team)?;
    let rows: Vec<TokenRow> = tokens.iter().map(TokenRow::new).collect();
    if a.format.json {
        return output::print_json(&rows);
    }
    let now = OffsetDateTime::now_utc();
    let mut table = Table::new(&["ID", "TAGS", "EXPIRES", "STATE"]);
    for t in &rows {
        let state = match (t.used, t.used_by_host) {
            (Some(_), Some(host)) => format!("used by host {host}"),
            (Some(_), None) => "used".to_owned(),
            (None, _) if t.expires <= now => "expired".to_owned(),
            (None, _) => "unused".to_owned(),
        };
        table.row(vec![
            t.id.to_string(),
            t.tags.join(","),
            output::time(t.expires),
            state,
        ]);
    }
    table.print(&format!("Team {} has no join tokens.", team))
}

fn list(config: &Config, a: ListArgs) -> Result<()> {
    let team = a.team.slug(config)?;
    let wanted = tags_arg(&a.tags)?;
    let hosts = db::app(config)?.hosts(&team, &wanted)?;
    let rows: Vec<HostRow> = hosts.iter().map(HostRow::new).collect();
    if a.format.json {
        return output::print_json(&rows);
    }
    let mut table = Table::new(&["ID", "HOSTNAME", "TAGS", "JOINED", "LAST SEEN"]);
    for h in &rows {
        table.row(vec![
            h.id.to_string(),
            h.hostname.clone(),
            h.tags.join(","),
            output::time(h.joined),
            output::opt_time(h.last_seen),
        ]);
    }
    table.print(&format!("No host of team {} matches.", team))
}

fn show(config: &Config, a: HostArgs) -> Result<()> {
    let team = a.team.slug(config)?;
    let app = db::app(config)?;
    let (host, computed) = app.host(&team, &a.host)?;
    let (status, current) = app.host_status(&host)?;
    let sync = match &status {
        None => "never reported (no agent, or an agent older than its status reports)".to_owned(),
        Some(s) if s.applied_revision == Some(current) && s.last_error.is_none() => {
            format!("in sync (revision {current})")
        }
        Some(s) => format!(
            "behind: applied revision {} of {current}{}",
            s.applied_revision.map_or("none".into(), |r| r.to_string()),
            s.last_error
                .as_ref()
                .map(|e| format!("; last error: {e}"))
                .unwrap_or_default()
        ),
    };
    if a.format.json {
        let mut row = serde_json::to_value(HostRow::new(&host))?;
        row["access"] = serde_json::to_value(&computed.document)?;
        row["etag"] = computed.etag.into();
        row["agent"] = match &status {
            None => serde_json::Value::Null,
            Some(s) => serde_json::json!({
                "version": s.agent_version,
                "applied_revision": s.applied_revision,
                "last_error": s.last_error,
                "reported": output::time(s.reported),
                "in_sync": s.applied_revision == Some(current) && s.last_error.is_none(),
            }),
        };
        return output::print_json(&row);
    }
    output::print_fields(&[
        ("Host", format!("{} (id {})", host.hostname, host.id)),
        ("Tags", tag_texts(&host.tags).join(",")),
        ("Joined", output::time(host.created)),
        ("Last seen", output::opt_time(host.last_seen)),
        ("Document", computed.etag),
        (
            "Agent",
            status
                .as_ref()
                .map(|s| {
                    format!(
                        "{} (reported {})",
                        s.agent_version,
                        output::time(s.reported)
                    )
                })
                .unwrap_or_else(|| "-".into()),
        ),
        ("Sync", sync),
    ])?;
    let mut table = Table::new(&["USER", "UID", "SUDO", "GROUPS"]);
    for u in &computed.document.users {
        table.row(vec![
            u.account.username.clone(),
            u.account.uid.to_string(),
            if u.sudo { "yes" } else { "no" }.to_owned(),
            u.groups.join(","),
        ]);
    }
    output::print_lines(&[String::new()])?;
    table.print("Nobody may log in to this host.")
}

fn remove(config: &Config, a: HostArgs) -> Result<()> {
    let team = a.team.slug(config)?;
    let host = db::app(config)?.remove_host(&db::cli_actor(), &team, &a.host)?;
    if a.format.json {
        return output::print_json(&HostRow::new(&host));
    }
    output::print_lines(&[format!(
        "Removed host {} (id {}); its credential no longer works.",
        host.hostname, host.id
    )])
}
