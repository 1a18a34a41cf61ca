//! `sshward cert list|revoke|show`: a team's SSH certificates (admin), and the person's
//! own certificate file; and what `sshward login` does with a key: certify it, write
//! `KEY-cert.pub` beside it, add both to the ssh-agent.

use std::path::{Path, PathBuf};
use std::process::Command;

use app::CertificateRecord;
use clap::{Args, Subcommand};
use serde::Serialize;
use ssh_key::{Certificate, HashAlg, LineEnding, PrivateKey};
use time::OffsetDateTime;

use super::token::TeamArg;
use crate::config::Config;
use crate::db;
use crate::error::{Error, Result};
use crate::output::{self, Format, Table};

/// Certificate subcommands.
#[derive(Debug, Subcommand)]
pub enum CertCommand {
    /// List a team's certificates, newest first
    List(ListArgs),
    /// Revoke a certificate, or every live certificate of a user, at once
    Revoke(RevokeArgs),
    /// Show what your certificate (KEY-cert.pub) allows and until when
    Show(ShowArgs),
}

/// `cert list`.
#[derive(Debug, Args)]
pub struct ListArgs {
    #[command(flatten)]
    pub team: TeamArg,
    /// Only this user's (SCIM id, userName or POSIX name)
    #[arg(long, value_name = "USER")]
    pub user: Option<String>,
    /// Only live ones (neither revoked nor expired)
    #[arg(long)]
    pub live: bool,
    /// At most this many
    #[arg(long, default_value_t = 100)]
    pub limit: i64,
    #[command(flatten)]
    pub format: Format,
}

/// `cert revoke`.
#[derive(Debug, Args)]
#[group(required = true, multiple = false, id = "which")]
pub struct RevokeArgs {
    #[command(flatten)]
    pub team: TeamArg,
    /// The certificate's serial (see `sshward cert list`)
    #[arg(long, group = "which")]
    pub serial: Option<i64>,
    /// Every live certificate of this user (SCIM id, userName or POSIX name)
    #[arg(long, value_name = "USER", group = "which")]
    pub user: Option<String>,
    #[command(flatten)]
    pub format: Format,
}

/// `cert show`.
#[derive(Debug, Args)]
pub struct ShowArgs {
    /// Your private key; its certificate is KEY-cert.pub [default: ~/.ssh/id_ed25519]
    #[arg(long, value_name = "PATH")]
    pub key: Option<PathBuf>,
    #[command(flatten)]
    pub format: Format,
}

/// A certificate record as `--json` prints it.
#[derive(Debug, Serialize)]
struct CertView {
    serial: i64,
    kind: &'static str,
    subject: String,
    key_id: String,
    principals: Vec<String>,
    key_fingerprint: String,
    status: &'static str,
    #[serde(with = "output::rfc3339")]
    valid_after: OffsetDateTime,
    #[serde(with = "output::rfc3339")]
    valid_before: OffsetDateTime,
    #[serde(with = "output::rfc3339")]
    issued: OffsetDateTime,
    requester: Option<String>,
    #[serde(with = "output::rfc3339::option")]
    revoked: Option<OffsetDateTime>,
    revoked_reason: Option<String>,
}

impl CertView {
    fn new(c: CertificateRecord, now: OffsetDateTime) -> CertView {
        let status = if c.revoked.is_some() {
            "revoked"
        } else if c.valid_before <= now {
            "expired"
        } else {
            "live"
        };
        CertView {
            serial: c.serial,
            kind: c.kind.as_str(),
            subject: c.subject,
            key_id: c.key_id,
            principals: c.principals,
            key_fingerprint: c.key_fingerprint,
            status,
            valid_after: c.valid_after,
            valid_before: c.valid_before,
            issued: c.issued,
            requester: c.requester,
            revoked: c.revoked,
            revoked_reason: c.revoked_reason,
        }
    }
}

/// Runs a certificate subcommand.
pub fn run(config: &Config, command: CertCommand) -> Result<()> {
    match command {
        CertCommand::List(a) => list(config, a),
        CertCommand::Revoke(a) => revoke(config, a),
        CertCommand::Show(a) => show(a),
    }
}

fn list(config: &Config, a: ListArgs) -> Result<()> {
    let team = a.team.slug(config)?;
    let now = OffsetDateTime::now_utc();
    let certs = db::app(config)?.certificates(&team, a.user.as_deref(), a.live, a.limit)?;
    let views: Vec<CertView> = certs.into_iter().map(|c| CertView::new(c, now)).collect();
    if a.format.json {
        return output::print_json(&views);
    }
    let mut table = Table::new(&[
        "SERIAL",
        "KIND",
        "PRINCIPALS",
        "STATUS",
        "VALID UNTIL",
        "KEY",
        "KEY ID",
    ]);
    for v in &views {
        table.row(vec![
            v.serial.to_string(),
            v.kind.to_owned(),
            v.principals.join(","),
            v.status.to_owned(),
            output::time(v.valid_before),
            v.key_fingerprint.clone(),
            v.key_id.clone(),
        ]);
    }
    table.print("No certificates match.")
}

fn revoke(config: &Config, a: RevokeArgs) -> Result<()> {
    let team = a.team.slug(config)?;
    let app = db::app(config)?;
    let actor = db::cli_actor();
    match (a.serial, a.user) {
        (Some(serial), _) => {
            let record = app.revoke_certificate(&actor, &team, serial)?;
            let view = CertView::new(record, OffsetDateTime::now_utc());
            if a.format.json {
                return output::print_json(&view);
            }
            output::print_lines(&[format!(
                "Revoked certificate {} ({}); hosts refuse it once their agent has the new \
                 revocation list.",
                view.serial, view.key_id
            )])
        }
        (None, Some(user)) => {
            let n = app.revoke_user_certificates(&actor, &team, &user)?;
            if a.format.json {
                return output::print_json(&serde_json::json!({ "user": user, "revoked": n }));
            }
            output::print_lines(&[format!("Revoked {n} live certificate(s) of {user}.")])
        }
        (None, None) => Err(Error::Usage("name --serial N or --user USER".into())),
    }
}

/// The default key: `~/.ssh/id_ed25519`.
pub fn default_key() -> Result<PathBuf> {
    let home = std::env::var_os("HOME")
        .filter(|h| !h.is_empty())
        .ok_or_else(|| Error::Usage("HOME is not set: name the key with --key".into()))?;
    Ok(PathBuf::from(home).join(".ssh").join("id_ed25519"))
}

/// Where OpenSSH looks for the certificate of private key `key`: `KEY-cert.pub`.
pub fn cert_path(key: &Path) -> PathBuf {
    let mut name = key.as_os_str().to_owned();
    name.push("-cert.pub");
    PathBuf::from(name)
}

fn pub_path(key: &Path) -> PathBuf {
    let mut name = key.as_os_str().to_owned();
    name.push(".pub");
    PathBuf::from(name)
}

/// The public key line of private key `key`, made first (Ed25519, no passphrase) when
/// there is none and `create` is set. Returns the line and whether it was made.
pub fn public_key(key: &Path, create: bool, comment: &str) -> Result<(String, bool)> {
    let public = pub_path(key);
    if key.exists() || public.exists() {
        let line = std::fs::read_to_string(&public).map_err(|e| {
            Error::Other(format!(
                "cannot read the public key {}: {e} (make it with `ssh-keygen -y -f {} > {}`)",
                public.display(),
                key.display(),
                public.display()
            ))
        })?;
        return Ok((line.trim().to_owned(), false));
    }
    if !create {
        return Err(Error::Usage(format!(
            "no SSH key at {}: create one with --new-key, name yours with --key, or sign in \
             without a certificate with --no-certificate",
            key.display()
        )));
    }
    let mut private =
        PrivateKey::random(&mut ssh_ca::rand_core::OsRng, ssh_key::Algorithm::Ed25519)
            .map_err(|e| Error::Other(format!("cannot make a key: {e}")))?;
    private.set_comment(comment);
    let text = private
        .to_openssh(LineEnding::LF)
        .map_err(|e| Error::Other(format!("cannot encode the key: {e}")))?;
    let line = private
        .public_key()
        .to_openssh()
        .map_err(|e| Error::Other(format!("cannot encode the key: {e}")))?;
    if let Some(dir) = key.parent().filter(|d| !d.as_os_str().is_empty()) {
        let mut builder = std::fs::DirBuilder::new();
        builder.recursive(true);
        #[cfg(unix)]
        {
            use std::os::unix::fs::DirBuilderExt;
            builder.mode(0o700);
        }
        builder
            .create(dir)
            .map_err(|e| Error::Other(format!("cannot create {}: {e}", dir.display())))?;
    }
    write_file(key, text.as_bytes(), 0o600, true)?;
    write_file(&public, format!("{line}\n").as_bytes(), 0o644, true)?;
    Ok((line, true))
}

/// Writes `bytes` to `path` with `mode`: a new file only (`create_new`), or atomically
/// replacing what is there.
fn write_file(path: &Path, bytes: &[u8], mode: u32, create_new: bool) -> Result<()> {
    use std::io::Write;
    let io = |e: std::io::Error| Error::Other(format!("cannot write {}: {e}", path.display()));
    let target = if create_new {
        path.to_owned()
    } else {
        let mut tmp = path.as_os_str().to_owned();
        tmp.push(format!(".tmp{}", std::process::id()));
        PathBuf::from(tmp)
    };
    let mut options = std::fs::OpenOptions::new();
    options.write(true);
    if create_new {
        options.create_new(true);
    } else {
        options.create(true).truncate(true);
    }
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(mode);
    }
    #[cfg(not(unix))]
    let _ = mode;
    let mut file = options.open(&target).map_err(io)?;
    file.write_all(bytes)
        .and_then(|()| file.sync_all())
        .map_err(io)?;
    if !create_new {
        std::fs::rename(&target, path).map_err(io)?;
    }
    Ok(())
}

/// Writes `certificate` to `KEY-cert.pub` (replacing an older one) and returns its path.
pub fn save_certificate(key: &Path, certificate: &str) -> Result<PathBuf> {
    let path = cert_path(key);
    write_file(
        &path,
        format!("{}\n", certificate.trim()).as_bytes(),
        0o644,
        false,
    )?;
    Ok(path)
}

/// Adds `key` and its certificate to the running ssh-agent for `seconds`; `Ok(false)`
/// when no agent runs, an error when `ssh-add` fails.
pub fn add_to_agent(key: &Path, seconds: i64) -> Result<bool> {
    if std::env::var_os("SSH_AUTH_SOCK").is_none_or(|s| s.is_empty()) {
        return Ok(false);
    }
    let out = Command::new("ssh-add")
        .arg("-t")
        .arg(seconds.max(1).to_string())
        .arg(key)
        .output()
        .map_err(|e| Error::Other(format!("cannot run ssh-add: {e}")))?;
    if !out.status.success() {
        return Err(Error::Other(format!(
            "ssh-add {} failed: {}",
            key.display(),
            String::from_utf8_lossy(&out.stderr).trim()
        )));
    }
    Ok(true)
}

/// What `cert show --json` prints.
#[derive(Debug, Serialize)]
struct Shown {
    file: PathBuf,
    key_id: String,
    serial: u64,
    principals: Vec<String>,
    extensions: Vec<String>,
    #[serde(with = "output::rfc3339")]
    valid_after: OffsetDateTime,
    #[serde(with = "output::rfc3339")]
    valid_before: OffsetDateTime,
    expired: bool,
    ca_fingerprint: String,
}

fn show(a: ShowArgs) -> Result<()> {
    let key = match a.key {
        Some(k) => k,
        None => default_key()?,
    };
    let path = cert_path(&key);
    let text = std::fs::read_to_string(&path).map_err(|e| {
        Error::NotFound(format!(
            "no certificate at {}: {e} (get one with `sshward login`)",
            path.display()
        ))
    })?;
    let cert = Certificate::from_openssh(text.trim())
        .map_err(|e| Error::Other(format!("{} is not a certificate: {e}", path.display())))?;
    let time = |secs: u64| {
        OffsetDateTime::from_unix_timestamp(i64::try_from(secs).unwrap_or(i64::MAX))
            .unwrap_or(OffsetDateTime::UNIX_EPOCH)
    };
    let valid_before = time(cert.valid_before());
    let ca = ssh_key::PublicKey::from(cert.signature_key().clone());
    let shown = Shown {
        file: path,
        key_id: cert.key_id().to_owned(),
        serial: cert.serial(),
        principals: cert.valid_principals().to_vec(),
        extensions: cert.extensions().keys().cloned().collect(),
        valid_after: time(cert.valid_after()),
        valid_before,
        expired: valid_before <= OffsetDateTime::now_utc(),
        ca_fingerprint: ca.fingerprint(HashAlg::Sha256).to_string(),
    };
    if a.format.json {
        return output::print_json(&shown);
    }
    let status = if shown.expired {
        format!(
            "expired {}; sign in again: sshward login",
            output::time(valid_before)
        )
    } else {
        format!("valid until {}", output::time(valid_before))
    };
    output::print_fields(&[
        ("Certificate", shown.file.display().to_string()),
        ("Status", status),
        ("Log in as", shown.principals.join(", ")),
        ("Allows", shown.extensions.join(", ")),
        ("Valid from", output::time(shown.valid_after)),
        ("Serial", shown.serial.to_string()),
        ("Key ID", shown.key_id.clone()),
        ("Signed by", shown.ca_fingerprint.clone()),
    ])
}
