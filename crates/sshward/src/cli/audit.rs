//! `sshward audit`: the audit log, newest first.

use clap::Args;
use serde::Serialize;
use store::AuditQuery;
use time::OffsetDateTime;

use super::parse_time;
use crate::config::Config;
use crate::db;
use crate::error::{Error, Result};
use crate::output::{self, Format, Table};

/// `audit`.
#[derive(Debug, Args)]
pub struct AuditArgs {
    /// Only this team [default: all teams]
    #[arg(long, short = 't', value_name = "SLUG")]
    pub team: Option<String>,
    /// Only entries at or after TIME: RFC 3339, a date (2026-11-28) or an age (15m, 7d)
    #[arg(long, value_name = "TIME")]
    pub since: Option<String>,
    /// Only entries before TIME (same forms as --since)
    #[arg(long, value_name = "TIME")]
    pub until: Option<String>,
    /// Only this resource: a type (User, Group, Team, Token) or TYPE/ID
    #[arg(long, value_name = "TYPE[/ID]")]
    pub resource: Option<String>,
    /// Only this actor: scim-token:ID, admin:NAME, console:ID, join-token:ID, host:ID,
    /// user:ID, oidc:NAME, anonymous or system
    #[arg(long)]
    pub actor: Option<String>,
    /// Only this action, e.g. scim.user.create, scim.group.patch, login.denied,
    /// admin.grant.add, host.join (docs/operations.md lists them all)
    #[arg(long)]
    pub action: Option<String>,
    /// Show at most this many entries
    #[arg(long, default_value_t = 50)]
    pub limit: u32,
    #[command(flatten)]
    pub format: Format,
}

/// An entry as printed with `--json`.
#[derive(Debug, Serialize)]
struct EntryView {
    id: i64,
    team: Option<String>,
    #[serde(with = "output::rfc3339")]
    at: OffsetDateTime,
    actor: String,
    action: String,
    resource_type: Option<String>,
    resource_id: Option<String>,
    status: i32,
    summary: String,
}

/// `User`, `group` -> canonical capitalisation of the known resource types.
fn resource_type(t: &str) -> String {
    for known in ["User", "Group", "Team", "Token"] {
        if known.eq_ignore_ascii_case(t) {
            return known.to_owned();
        }
    }
    t.to_owned()
}

/// Runs `audit`.
pub fn run(config: &Config, a: AuditArgs) -> Result<()> {
    let now = OffsetDateTime::now_utc();
    let usage = |flag: &str, e: store::StoreError| {
        Error::Usage(match e {
            store::StoreError::Invalid(m) => format!("invalid {flag}: {m}"),
            other => other.to_string(),
        })
    };
    let mut query = AuditQuery {
        actor: a
            .actor
            .as_deref()
            .map(str::parse)
            .transpose()
            .map_err(|e| usage("--actor", e))?,
        action: a
            .action
            .as_deref()
            .map(str::parse)
            .transpose()
            .map_err(|e| usage("--action", e))?,
        since: a.since.as_deref().map(|t| parse_time(t, now)).transpose()?,
        until: a.until.as_deref().map(|t| parse_time(t, now)).transpose()?,
        ..AuditQuery::default()
    };
    if let (Some(s), Some(u)) = (query.since, query.until)
        && s >= u
    {
        return Err(Error::Usage("--since must be before --until".into()));
    }
    if let Some(r) = &a.resource {
        let (t, id) = match r.split_once('/') {
            Some((t, id)) => (t, Some(id)),
            None => (r.as_str(), None),
        };
        if t.trim().is_empty() || id.is_some_and(|i| i.trim().is_empty()) {
            return Err(Error::Usage(format!(
                "invalid --resource {r:?}: use TYPE or TYPE/ID"
            )));
        }
        query.resource_type = Some(resource_type(t.trim()));
        query.resource_id = id.map(|i| i.trim().to_owned());
    }
    if a.limit == 0 {
        return Err(Error::Usage("--limit must be at least 1".into()));
    }
    let entries = db::app(config)?.audit(a.team.as_deref(), &query, a.limit)?;
    let views: Vec<EntryView> = entries
        .into_iter()
        .map(|(team, r)| EntryView {
            id: r.id,
            team: Some(team.slug),
            at: r.entry.at,
            actor: r.entry.actor.to_string(),
            action: r.entry.action.to_string(),
            resource_type: r.entry.resource_type,
            resource_id: r.entry.resource_id,
            status: r.entry.status,
            summary: r.entry.summary,
        })
        .collect();
    if a.format.json {
        return output::print_json(&views);
    }
    let mut table = Table::new(&[
        "TIME", "TEAM", "ACTOR", "ACTION", "RESOURCE", "STATUS", "SUMMARY",
    ]);
    for v in &views {
        let resource = match (&v.resource_type, &v.resource_id) {
            (Some(t), Some(id)) => format!("{t}/{id}"),
            (Some(t), None) => t.clone(),
            (None, Some(id)) => id.clone(),
            (None, None) => "-".into(),
        };
        table.row(vec![
            output::time(v.at),
            v.team.clone().unwrap_or_else(|| "-".into()),
            v.actor.clone(),
            v.action.clone(),
            resource,
            v.status.to_string(),
            v.summary.clone(),
        ]);
    }
    table.print("No audit entries match.")
}
