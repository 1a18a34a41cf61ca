//! `sshward login`: sign in to a team from a terminal and keep an sshward access token.

use std::path::PathBuf;
use std::time::Duration;

use clap::Args;
use oidc_login::client::{self, ClientError, Login, Mode, SavedToken};
use serde::Serialize;
use time::OffsetDateTime;

use crate::error::{Error, Result};
use crate::output::{self, Format};

/// `sshward login`.
#[derive(Debug, Args)]
pub struct LoginArgs {
    /// sshward's URL, e.g. https://sshward.example.com
    #[arg(long, value_name = "URL")]
    pub server: String,
    /// The team to sign in to
    #[arg(long, value_name = "SLUG")]
    pub team: String,
    /// Sign in with a code on another device (machines without a browser)
    #[arg(long, conflicts_with = "browser")]
    pub device: bool,
    /// Sign in with a browser on this machine even without a display (prints the URL)
    #[arg(long)]
    pub browser: bool,
    /// Where to save the token [default: $XDG_CONFIG_HOME/sshward/tokens/HOST_PORT_TEAM.json]
    #[arg(long, value_name = "PATH")]
    pub token_file: Option<PathBuf>,
    /// Seconds to wait for the sign-in to finish
    #[arg(long, value_name = "SECONDS", default_value_t = 300)]
    pub timeout: u64,
    #[command(flatten)]
    pub format: Format,
}

/// What `--json` prints (never the token itself).
#[derive(Debug, Serialize)]
struct SignedIn {
    team: String,
    user_name: String,
    user_id: String,
    #[serde(with = "output::rfc3339")]
    expires: OffsetDateTime,
    token_file: PathBuf,
}

/// Runs `sshward login`.
pub fn run(a: LoginArgs) -> Result<()> {
    let server = a.server.trim_end_matches('/').to_owned();
    if !(server.starts_with("https://") || server.starts_with("http://")) {
        return Err(Error::Usage(format!(
            "--server {server:?} must be an http(s) URL"
        )));
    }
    store::validate_slug(&a.team).map_err(|e| Error::Usage(e.to_string()))?;
    let path = match a.token_file {
        Some(p) => p,
        None => client::default_token_path(&server, &a.team).ok_or_else(|| {
            Error::Usage(
                "no config directory (set HOME or XDG_CONFIG_HOME, or give --token-file)".into(),
            )
        })?,
    };
    let mode = match (a.device, a.browser) {
        (true, _) => Mode::Device,
        (_, true) => Mode::Browser,
        _ => Mode::Auto,
    };
    let open = client::open_browser;
    let login = Login {
        server: server.clone(),
        team: a.team.clone(),
        mode,
        timeout: Duration::from_secs(a.timeout),
        open: &open,
    };
    // Instructions go to stderr, so that stdout holds only the result.
    let token = client::login(&login, &mut std::io::stderr()).map_err(|e| match e {
        ClientError::Refused { .. } => Error::Other(format!("sign-in refused: {e}")),
        other => Error::Other(format!("sign-in failed: {other}")),
    })?;
    let saved = SavedToken {
        server,
        token: token.clone(),
    };
    client::save_token(&path, &saved)
        .map_err(|e| Error::Other(format!("cannot save the token to {}: {e}", path.display())))?;
    let expires = OffsetDateTime::from_unix_timestamp(token.expires_at)
        .map_err(|e| Error::Other(format!("token expiry: {e}")))?;
    let result = SignedIn {
        team: token.team,
        user_name: token.user_name,
        user_id: token.user_id,
        expires,
        token_file: path,
    };
    if a.format.json {
        return output::print_json(&result);
    }
    output::print_lines(&[
        format!("Signed in to team {} as {}.", result.team, result.user_name),
        format!(
            "Access token valid until {}, saved in {}.",
            output::time(result.expires),
            result.token_file.display()
        ),
    ])
}
