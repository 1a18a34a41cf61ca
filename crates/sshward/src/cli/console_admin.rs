//! `sshward admin add|remove|list|link`: who may use a team's web console, and one-time
//! sign-in links for the first setup (before the team's Entra sign-in works).

use app::{AdminKind, AdminRef, AdminView};
use clap::{Args, Subcommand};
use serde::Serialize;
use time::OffsetDateTime;

use super::token::TeamArg;
use crate::config::Config;
use crate::db;
use crate::error::Result;
use crate::output::{self, Format, Table};

/// Console administration subcommands.
#[derive(Debug, Subcommand)]
pub enum AdminCommand {
    /// Make a user (or every member of a group) a console administrator of a team
    Add(WhoArgs),
    /// Stop a user or group being a console administrator (their console sessions end
    /// with their next click)
    Remove(WhoArgs),
    /// List a team's console administrators
    List(ListArgs),
    /// Print a one-time console sign-in link (valid 15 minutes, for one sign-in of an
    /// hour): to set a team up before its Entra sign-in works
    Link(LinkArgs),
}

/// Whom `add` and `remove` name.
#[derive(Debug, Args)]
#[group(required = true, multiple = false)]
pub struct Who {
    /// A user: SCIM id, userName or POSIX name
    #[arg(long, value_name = "USER")]
    pub user: Option<String>,
    /// A group (all its members, as Entra changes them): SCIM id or displayName; kept by
    /// its immutable id
    #[arg(long, value_name = "GROUP")]
    pub group: Option<String>,
}

/// `admin add|remove`.
#[derive(Debug, Args)]
pub struct WhoArgs {
    #[command(flatten)]
    pub team: TeamArg,
    #[command(flatten)]
    pub who: Who,
    #[command(flatten)]
    pub format: Format,
}

/// `admin list`.
#[derive(Debug, Args)]
pub struct ListArgs {
    #[command(flatten)]
    pub team: TeamArg,
    #[command(flatten)]
    pub format: Format,
}

/// `admin link`.
#[derive(Debug, Args)]
pub struct LinkArgs {
    #[command(flatten)]
    pub team: TeamArg,
    #[command(flatten)]
    pub format: Format,
}

#[derive(Debug, Serialize)]
struct View {
    kind: &'static str,
    id: String,
    name: Option<String>,
    #[serde(with = "output::rfc3339")]
    added: OffsetDateTime,
}

impl From<AdminView> for View {
    fn from(v: AdminView) -> View {
        View {
            kind: v.kind.as_str(),
            id: v.scim_id,
            name: v.name,
            added: v.added,
        }
    }
}

impl Who {
    fn as_ref(&self) -> AdminRef<'_> {
        match (&self.user, &self.group) {
            (Some(user), _) => AdminRef::User(user),
            (None, Some(group)) => AdminRef::Group(group),
            // clap requires exactly one of the two.
            (None, None) => AdminRef::User(""),
        }
    }
}

/// Runs an admin subcommand.
pub fn run(config: &Config, command: AdminCommand) -> Result<()> {
    match command {
        AdminCommand::Add(a) => change(config, a, true),
        AdminCommand::Remove(a) => change(config, a, false),
        AdminCommand::List(a) => list(config, a),
        AdminCommand::Link(a) => link(config, a),
    }
}

fn change(config: &Config, a: WhoArgs, add: bool) -> Result<()> {
    let team = a.team.slug(config)?;
    let app = db::app(config)?;
    let actor = db::cli_actor();
    let view = if add {
        app.add_console_admin(&actor, &team, a.who.as_ref())?
    } else {
        app.remove_console_admin(&actor, &team, a.who.as_ref())?
    };
    if a.format.json {
        return output::print_json(&View::from(view));
    }
    let whom = match view.kind {
        AdminKind::User => format!("user {}", view.name.as_deref().unwrap_or(&view.scim_id)),
        AdminKind::Group => format!(
            "every member of group {}",
            view.name.as_deref().unwrap_or(&view.scim_id)
        ),
    };
    let line = if add {
        format!(
            "Console administrators of {team} now include {whom} ({}).",
            view.scim_id
        )
    } else {
        format!(
            "{whom} ({}) is no longer a console administrator of {team}.",
            view.scim_id
        )
    };
    output::print_lines(&[line])
}

fn list(config: &Config, a: ListArgs) -> Result<()> {
    let team = a.team.slug(config)?;
    let views: Vec<View> = db::app(config)?
        .console_admins(&team)?
        .into_iter()
        .map(View::from)
        .collect();
    if a.format.json {
        return output::print_json(&views);
    }
    let mut table = Table::new(&["KIND", "NAME", "ID", "ADDED"]);
    for v in &views {
        table.row(vec![
            v.kind.to_owned(),
            v.name.clone().unwrap_or_else(|| "(deleted)".into()),
            v.id.clone(),
            output::time(v.added),
        ]);
    }
    table.print("No console administrators (add one with `sshward admin add`).")
}

fn link(config: &Config, a: LinkArgs) -> Result<()> {
    let team = a.team.slug(config)?;
    let made = db::app(config)?.create_console_link(&db::cli_actor(), &team)?;
    let url = console::ConsoleConfig::new(&config.public_url()).link_url(&team, &made.secret);
    if a.format.json {
        return output::print_json(&serde_json::json!({
            "team": team,
            "url": url,
            "expires": output::time(made.expires),
        }));
    }
    output::print_lines(&[
        format!(
            "One-time console sign-in link for {team} (valid until {}):",
            output::time(made.expires)
        ),
        url,
    ])
}
