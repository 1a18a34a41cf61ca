//! `sshward login`: sign in to a team from a terminal and keep an sshward access token.

use std::path::PathBuf;
use std::time::Duration;

use clap::Args;
use oidc_login::client::{self, ClientError, Login, Mode, SavedToken};
use serde::Serialize;
use time::OffsetDateTime;

use super::cert;
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
    /// The private key to certify; the certificate is written to KEY-cert.pub
    /// [default: ~/.ssh/id_ed25519]
    #[arg(long, value_name = "PATH")]
    pub key: Option<PathBuf>,
    /// Create the key (Ed25519, no passphrase) when there is none
    #[arg(long)]
    pub new_key: bool,
    /// Only sign in: get no SSH certificate
    #[arg(long, conflicts_with_all = ["key", "new_key", "no_agent"])]
    pub no_certificate: bool,
    /// Do not add the key and certificate to the running ssh-agent
    #[arg(long)]
    pub no_agent: bool,
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
    /// The certificate got, unless `--no-certificate`.
    #[serde(skip_serializing_if = "Option::is_none")]
    certificate: Option<Certified>,
}

/// The certificate `sshward login` got.
#[derive(Debug, Serialize)]
struct Certified {
    serial: i64,
    principals: Vec<String>,
    #[serde(with = "output::rfc3339")]
    valid_before: OffsetDateTime,
    key: PathBuf,
    key_created: bool,
    file: PathBuf,
    in_agent: bool,
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
    // The key is checked before the sign-in, so that a missing one fails at once.
    let key = if a.no_certificate {
        None
    } else {
        Some(match a.key {
            Some(k) => k,
            None => cert::default_key()?,
        })
    };
    if let Some(key) = &key
        && !a.new_key
    {
        cert::public_key(key, false, "")?;
    }
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
    let certificate = match key {
        Some(key) => Some(certify(&saved, &key, a.new_key, !a.no_agent)?),
        None => None,
    };
    let result = SignedIn {
        team: token.team,
        user_name: token.user_name,
        user_id: token.user_id,
        expires,
        token_file: path,
        certificate,
    };
    if a.format.json {
        return output::print_json(&result);
    }
    let mut lines = vec![
        format!("Signed in to team {} as {}.", result.team, result.user_name),
        format!(
            "Access token valid until {}, saved in {}.",
            output::time(result.expires),
            result.token_file.display()
        ),
    ];
    if let Some(c) = &result.certificate {
        if c.key_created {
            lines.push(format!("Created the key {}.", c.key.display()));
        }
        lines.push(format!(
            "Certificate {} for {} valid until {}, written to {}{}.",
            c.serial,
            c.principals.join(", "),
            output::time(c.valid_before),
            c.file.display(),
            if c.in_agent {
                "; added to the ssh-agent"
            } else {
                ""
            }
        ));
        lines.push(format!("Log in with: ssh {}@HOST", c.principals.join(",")));
    }
    output::print_lines(&lines)
}

/// Gets a certificate for `key` with the saved sign-in, writes it beside the key and adds
/// both to the ssh-agent (when one runs and `agent` is set).
fn certify(
    saved: &SavedToken,
    key: &std::path::Path,
    create: bool,
    agent: bool,
) -> Result<Certified> {
    let comment = format!("{}@sshward-{}", saved.token.user_name, saved.token.team);
    let (public, key_created) = cert::public_key(key, create, &comment)?;
    let issued = client::request_certificate(&saved.server, &saved.token.access_token, &public)
        .map_err(|e| Error::Other(format!("signed in, but no certificate: {e}")))?;
    let file = cert::save_certificate(key, &issued.certificate)?;
    let valid_before = OffsetDateTime::from_unix_timestamp(issued.valid_before)
        .map_err(|e| Error::Other(format!("certificate expiry: {e}")))?;
    let in_agent = if agent {
        let seconds = issued.valid_before - OffsetDateTime::now_utc().unix_timestamp();
        match cert::add_to_agent(key, seconds) {
            Ok(added) => added,
            Err(e) => {
                eprintln!("sshward: warning: {e}");
                false
            }
        }
    } else {
        false
    };
    Ok(Certified {
        serial: issued.serial,
        principals: issued.principals,
        valid_before,
        key: key.to_owned(),
        key_created,
        file,
        in_agent,
    })
}
