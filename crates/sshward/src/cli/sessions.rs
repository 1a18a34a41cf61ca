//! `sshward sessions list|end`: who is signed in to a team, and ending a person's
//! sessions (browser sessions and CLI access tokens) on every instance at once.

use app::SessionView;
use clap::{Args, Subcommand};
use serde::Serialize;
use time::OffsetDateTime;

use super::token::TeamArg;
use crate::config::Config;
use crate::db;
use crate::error::Result;
use crate::output::{self, Format, Table};

/// Session subcommands.
#[derive(Debug, Subcommand)]
pub enum SessionsCommand {
    /// List a team's live sign-in sessions, newest first
    List(ListArgs),
    /// End every session of a person: their browser sessions and CLI access tokens stop
    /// working at once (certificates already issued stay valid until they expire; revoke
    /// them with `sshward cert revoke --user`)
    End(EndArgs),
}

/// `sessions list`.
#[derive(Debug, Args)]
pub struct ListArgs {
    #[command(flatten)]
    pub team: TeamArg,
    /// Only this user's (SCIM id, userName or POSIX name)
    #[arg(long, value_name = "USER")]
    pub user: Option<String>,
    #[command(flatten)]
    pub format: Format,
}

/// `sessions end`.
#[derive(Debug, Args)]
pub struct EndArgs {
    #[command(flatten)]
    pub team: TeamArg,
    /// The person (SCIM id, userName or POSIX name)
    #[arg(long, value_name = "USER")]
    pub user: String,
    #[command(flatten)]
    pub format: Format,
}

/// A session as `--json` prints it.
#[derive(Debug, Serialize)]
struct View {
    user_id: String,
    user_name: Option<String>,
    via: String,
    #[serde(with = "output::rfc3339")]
    created: OffsetDateTime,
    #[serde(with = "output::rfc3339")]
    expires: OffsetDateTime,
}

impl From<SessionView> for View {
    fn from(s: SessionView) -> View {
        View {
            user_id: s.user_id,
            user_name: s.user_name,
            via: s.via,
            created: s.created,
            expires: s.expires,
        }
    }
}

/// Runs a session subcommand.
pub fn run(config: &Config, command: SessionsCommand) -> Result<()> {
    match command {
        SessionsCommand::List(a) => list(config, a),
        SessionsCommand::End(a) => end(config, a),
    }
}

fn list(config: &Config, a: ListArgs) -> Result<()> {
    let team = a.team.slug(config)?;
    let sessions = db::app(config)?.sessions(&team, a.user.as_deref())?;
    let views: Vec<View> = sessions.into_iter().map(View::from).collect();
    if a.format.json {
        return output::print_json(&views);
    }
    let mut table = Table::new(&["USER", "VIA", "STARTED", "EXPIRES", "USER ID"]);
    for v in &views {
        table.row(vec![
            v.user_name.clone().unwrap_or_else(|| "-".into()),
            v.via.clone(),
            output::time(v.created),
            output::time(v.expires),
            v.user_id.clone(),
        ]);
    }
    table.print("No live sessions.")
}

fn end(config: &Config, a: EndArgs) -> Result<()> {
    let team = a.team.slug(config)?;
    let ended = db::app(config)?.end_sessions(&db::cli_actor(), &team, &a.user)?;
    if a.format.json {
        return output::print_json(&serde_json::json!({ "user": a.user, "ended": ended }));
    }
    output::print_lines(&[format!(
        "Ended {ended} session(s) of {}: their browser sessions and access tokens are refused \
         from now on.",
        a.user
    )])
}
