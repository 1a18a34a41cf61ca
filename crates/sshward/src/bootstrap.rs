//! First run: an empty database gets the team `default`, one SCIM token, whose secret is
//! printed once (and stored only as a hash), and a one-time console sign-in link.

use store::Team;

use crate::error::Result;

/// Slug of the team created on first run.
pub const DEFAULT_TEAM: &str = crate::cli::DEFAULT_TEAM;

/// What start-up found.
#[derive(Debug)]
pub enum Outcome {
    /// The database was empty: the team `default` and a token were created.
    Created {
        /// The new team.
        team: Team,
        /// The token's secret, to be shown once.
        secret: String,
        /// The token's ID.
        token_id: i64,
        /// The secret of a one-time console sign-in link.
        console_link: String,
    },
    /// Teams exist already.
    Existing {
        /// Every team, by slug.
        teams: Vec<Team>,
    },
}

/// Creates the default team and its token if the database has no team yet. Safe when
/// several instances start at once on one empty database: one creates, the others see
/// its team.
pub fn run(app: &app::App) -> Result<Outcome> {
    let store = app.store();
    match app.bootstrap(DEFAULT_TEAM)? {
        Some((team, token, secret)) => {
            let link = app.create_console_link(&app::Actor::System, &team.slug)?;
            Ok(Outcome::Created {
                team,
                secret,
                token_id: token.id,
                console_link: link.secret,
            })
        }
        None => Ok(Outcome::Existing {
            teams: store.read(|tx| tx.teams().list())?,
        }),
    }
}

/// The start-up block printed to stdout. Its `SCIM Tenant URL: ` and `Secret Token: `
/// lines are parsed by scripts/conformance.sh and the tests.
pub fn banner(
    outcome: &Outcome,
    tenant_url: impl Fn(&str) -> String,
    console_link: impl Fn(&str, &str) -> String,
) -> Vec<String> {
    match outcome {
        Outcome::Created {
            team,
            secret,
            token_id,
            console_link: link,
        } => vec![
            String::new(),
            "======================================================================".into(),
            format!(" sshward first run: created the team \"{}\".", team.slug),
            String::new(),
            " Paste these into Microsoft Entra ID (Enterprise application >".into(),
            " Provisioning > Admin Credentials), then click Test Connection:".into(),
            String::new(),
            format!("SCIM Tenant URL: {}", tenant_url(&team.slug)),
            format!("Secret Token: {secret}"),
            String::new(),
            " The Secret Token is shown only this once: sshward keeps only a hash.".into(),
            format!(
                " Lost it? `sshward token create --team {}` makes another (this one is token {token_id}).",
                team.slug
            ),
            String::new(),
            " Set the team up in the web console with this one-time sign-in link".into(),
            " (valid 15 minutes; `sshward admin link` makes another):".into(),
            format!("Console sign-in link: {}", console_link(&team.slug, link)),
            "======================================================================".into(),
            String::new(),
        ],
        Outcome::Existing { teams } => {
            const SHOWN: usize = 10;
            // The default team first, then the others by slug.
            let mut ordered: Vec<&Team> = teams.iter().filter(|t| t.slug == DEFAULT_TEAM).collect();
            ordered.extend(teams.iter().filter(|t| t.slug != DEFAULT_TEAM));
            let mut lines: Vec<String> = ordered
                .iter()
                .take(SHOWN)
                .map(|t| format!("SCIM Tenant URL: {}", tenant_url(&t.slug)))
                .collect();
            if teams.len() > SHOWN {
                lines.push(format!(
                    "... and {} more teams (`sshward team list`)",
                    teams.len() - SHOWN
                ));
            }
            if teams.is_empty() {
                lines.push("No teams: create one with `sshward team create SLUG`.".into());
            }
            lines
        }
    }
}
