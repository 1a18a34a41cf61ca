//! `sshward users list|show`: the SCIM users of a team.

use clap::{Args, Subcommand};
use serde::Serialize;
use serde_json::{Map, Value};
use store::{ListQuery, ResourceKind, ResourceRecord};
use time::OffsetDateTime;

use super::token::TeamArg;
use crate::config::Config;
use crate::db;
use crate::error::{Error, Result};
use crate::output::{self, Format, Table};

/// Users subcommands.
#[derive(Debug, Subcommand)]
pub enum UsersCommand {
    /// List users, optionally filtered with a SCIM filter
    List(ListArgs),
    /// Show one user (by id or userName) with its groups
    Show(ShowArgs),
}

/// Listing options shared by users and groups.
#[derive(Debug, Args)]
pub struct ListArgs {
    #[command(flatten)]
    pub team: TeamArg,
    /// SCIM filter, e.g. 'userName sw "a"' or 'active eq false'
    #[arg(long, short = 'f')]
    pub filter: Option<String>,
    /// Show at most this many
    #[arg(long, default_value_t = 100)]
    pub limit: u64,
    /// Skip this many first (for paging)
    #[arg(long, default_value_t = 0)]
    pub offset: u64,
    #[command(flatten)]
    pub format: Format,
}

/// `users show`.
#[derive(Debug, Args)]
pub struct ShowArgs {
    #[command(flatten)]
    pub team: TeamArg,
    /// The user's SCIM id or userName
    pub user: String,
    #[command(flatten)]
    pub format: Format,
}

/// Parses and resolves a SCIM filter for `kind`.
pub fn parse_filter(
    text: Option<&str>,
    kind: ResourceKind,
) -> Result<Option<scim_core::filter::Filter>> {
    text.map(|t| {
        scim_core::filter::parse(t)
            .and_then(|f| scim_core::filter::resolve(f, kind))
            .map_err(|e| Error::Usage(format!("invalid --filter: {e}")))
    })
    .transpose()
}

/// A listing query from `--filter`, `--offset` and `--limit`.
pub fn list_query<'a>(
    filter: Option<&'a scim_core::filter::Filter>,
    a: &ListArgs,
) -> ListQuery<'a> {
    ListQuery {
        filter,
        start_index: a.offset.saturating_add(1),
        count: Some(a.limit),
        sort: None,
    }
}

/// The footer of a listing that did not show everything.
pub fn paging_note(shown: usize, offset: u64, total: u64) -> Option<String> {
    let shown = shown as u64;
    (offset > 0 || shown < total).then(|| {
        if shown == 0 {
            format!("(none of {total} from offset {offset})")
        } else {
            format!(
                "({}-{} of {total}; see --offset and --limit)",
                offset + 1,
                offset + shown
            )
        }
    })
}

fn text<'a>(data: &'a Map<String, Value>, key: &str) -> Option<&'a str> {
    data.get(key).and_then(Value::as_str)
}

/// A user in a listing.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
struct UserRow {
    id: String,
    user_name: String,
    display_name: Option<String>,
    external_id: Option<String>,
    active: Option<bool>,
    #[serde(with = "output::rfc3339")]
    created: OffsetDateTime,
    #[serde(with = "output::rfc3339")]
    last_modified: OffsetDateTime,
}

impl From<&ResourceRecord> for UserRow {
    fn from(r: &ResourceRecord) -> Self {
        UserRow {
            id: r.id.clone(),
            user_name: text(&r.data, "userName").unwrap_or_default().to_owned(),
            display_name: text(&r.data, "displayName").map(str::to_owned),
            external_id: text(&r.data, "externalId").map(str::to_owned),
            active: r.data.get("active").and_then(Value::as_bool),
            created: r.created,
            last_modified: r.last_modified,
        }
    }
}

/// Runs a users subcommand.
pub fn run(config: &Config, command: UsersCommand) -> Result<()> {
    match command {
        UsersCommand::List(a) => list(config, a),
        UsersCommand::Show(a) => show(config, a),
    }
}

fn list(config: &Config, a: ListArgs) -> Result<()> {
    let team = a.team.slug(config)?;
    let filter = parse_filter(a.filter.as_deref(), ResourceKind::User)?;
    let page = db::app(config)?.users(&team, &list_query(filter.as_ref(), &a))?;
    let rows: Vec<UserRow> = page.items.iter().map(UserRow::from).collect();
    if a.format.json {
        return output::print_json(&serde_json::json!({
            "totalResults": page.total,
            "users": rows,
        }));
    }
    let mut table = Table::new(&[
        "ID",
        "USERNAME",
        "DISPLAY NAME",
        "ACTIVE",
        "EXTERNAL ID",
        "LAST MODIFIED",
    ]);
    for r in &rows {
        table.row(vec![
            r.id.clone(),
            r.user_name.clone(),
            r.display_name.clone().unwrap_or_else(|| "-".into()),
            r.active
                .map_or_else(|| "-".into(), |b| if b { "yes" } else { "no" }.into()),
            r.external_id.clone().unwrap_or_else(|| "-".into()),
            output::time(r.last_modified),
        ]);
    }
    let empty = match a.filter {
        Some(_) => "No user matches the filter.".to_owned(),
        None => format!("Team {} has no users yet.", team),
    };
    table.print(&empty)?;
    if let Some(note) = paging_note(rows.len(), a.offset, page.total) {
        output::print_lines(&[note])?;
    }
    Ok(())
}

fn show(config: &Config, a: ShowArgs) -> Result<()> {
    let team = a.team.slug(config)?;
    let (record, groups) = db::app(config)?.user(&team, &a.user)?;
    if a.format.json {
        let mut doc = Map::new();
        doc.insert("id".into(), Value::String(record.id.clone()));
        doc.extend(record.data.clone());
        doc.insert(
            "groups".into(),
            Value::Array(
                groups
                    .iter()
                    .map(|g| serde_json::json!({"value": g.id, "display": g.display_name}))
                    .collect(),
            ),
        );
        doc.insert(
            "meta".into(),
            serde_json::json!({
                "resourceType": "User",
                "created": output::time(record.created),
                "lastModified": output::time(record.last_modified),
                "version": format!("W/\"{}\"", record.version),
            }),
        );
        return output::print_json(&doc);
    }
    let row = UserRow::from(&record);
    let d = &record.data;
    let emails: Vec<String> = d
        .get("emails")
        .and_then(Value::as_array)
        .map(|list| {
            list.iter()
                .filter_map(|e| {
                    let value = e.get("value")?.as_str()?;
                    let kind = e.get("type").and_then(Value::as_str);
                    let primary = e.get("primary").and_then(Value::as_bool) == Some(true);
                    Some(format!(
                        "{value}{}{}",
                        kind.map(|k| format!(" ({k})")).unwrap_or_default(),
                        if primary { " primary" } else { "" }
                    ))
                })
                .collect()
        })
        .unwrap_or_default();
    let name = d
        .get("name")
        .and_then(|n| {
            n.get("formatted")
                .and_then(Value::as_str)
                .map(str::to_owned)
                .or_else(|| {
                    let given = n
                        .get("givenName")
                        .and_then(Value::as_str)
                        .unwrap_or_default();
                    let family = n
                        .get("familyName")
                        .and_then(Value::as_str)
                        .unwrap_or_default();
                    Some(format!("{given} {family}").trim().to_owned()).filter(|s| !s.is_empty())
                })
        })
        .unwrap_or_else(|| "-".into());
    let dash = |v: Option<String>| v.unwrap_or_else(|| "-".into());
    let fields = vec![
        ("ID", row.id.clone()),
        ("userName", row.user_name.clone()),
        ("displayName", dash(row.display_name.clone())),
        ("name", name),
        ("externalId", dash(row.external_id.clone())),
        (
            "active",
            row.active.map_or_else(|| "-".into(), |b| b.to_string()),
        ),
        (
            "emails",
            if emails.is_empty() {
                "-".into()
            } else {
                emails.join(", ")
            },
        ),
        (
            "groups",
            if groups.is_empty() {
                "-".into()
            } else {
                groups
                    .iter()
                    .map(|g| g.display_name.clone())
                    .collect::<Vec<_>>()
                    .join(", ")
            },
        ),
        ("created", output::time(row.created)),
        ("lastModified", output::time(row.last_modified)),
        ("version", record.version.to_string()),
    ];
    output::print_fields(&fields)
}
