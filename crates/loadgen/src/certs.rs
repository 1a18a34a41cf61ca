//! Workload 8: SSH user certificates for signed-in people, against its peer in the same
//! run: `ssh-keygen -s`, the CA that scripts glue together, one process per certificate.
//!
//! sshward's access tokens come from `sshward login`; here they are minted with the
//! token key the benchmark configured (`login.token_key`), for users of the group the
//! agents workload granted, so that every request goes through the full issuance path
//! (token check, session lookup, directory re-check, serial, record, signature, audit).
//! Standing in for the sign-in, the workload also writes the sessions its tokens name
//! into the server's database (sessions live server-side; a token without one is
//! refused).

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use base64::Engine;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use hmac::{Hmac, Mac};
use serde_json::json;
use sha2::Sha256;

use crate::agent::first_user_ids;
use crate::client::Client;
use crate::run::{self, Limits, Outcome, Rng, expect};

/// The workload's name (sshward's row and the peer's).
pub const NAME: &str = "8 user certificate (POST /api/v1/ssh/user-certificate)";

/// An Ed25519 public key to certify (any valid key does; the server never sees its
/// private half).
const KEY: &str =
    "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIFYm2nRDmoB7AGdzjgkn6xbXuaI3XXvPEvE4OUe2ybBz bench";

/// The `jti` of user `id`'s token: its session's secret.
fn session_of(id: &str) -> String {
    format!("bench-{id}")
}

/// An sshward access token for user `id` of `team`, signed with `key`.
fn mint(key: &[u8], issuer: &str, team: &str, id: &str) -> Result<String, String> {
    let now = std::time::UNIX_EPOCH
        .elapsed()
        .map(|d| d.as_secs())
        .unwrap_or(0);
    let header = URL_SAFE_NO_PAD.encode(br#"{"alg":"HS256","typ":"JWT"}"#);
    let claims = json!({
        "iss": issuer, "aud": "sshward", "sub": id, "team": team, "user_name": id,
        "iat": now, "exp": now + 3600, "jti": session_of(id), "via": "device",
    });
    let payload = URL_SAFE_NO_PAD.encode(claims.to_string());
    let mut mac = Hmac::<Sha256>::new_from_slice(key).map_err(|e| e.to_string())?;
    mac.update(format!("{header}.{payload}").as_bytes());
    let signature = URL_SAFE_NO_PAD.encode(mac.finalize().into_bytes());
    Ok(format!("{header}.{payload}.{signature}"))
}

/// What the workload needs to know.
pub struct Plan<'a> {
    /// sshward's root URL (also the access tokens' issuer).
    pub server: &'a str,
    /// The team's SCIM base URL and token (to find the granted users).
    pub scim_base: &'a str,
    /// The SCIM bearer token.
    pub scim_token: &'a str,
    /// The team's slug.
    pub team: &'a str,
    /// The configured `login.token_key`, base64.
    pub token_key: &'a str,
    /// The server's database, where the tokens' sessions are written.
    pub database_url: &'a str,
    /// How many of the first users are granted (the agents workload's group).
    pub users: usize,
    /// Bounds of each measured run.
    pub limits: Limits,
}

/// The label of the peer in the table.
pub const PEER: &str = "ssh-keygen -s";

/// Runs the workload and its peer: sshward's outcome and the peer's.
pub fn run(plan: &Plan<'_>) -> Result<(Outcome, Outcome), String> {
    let key = STANDARD
        .decode(plan.token_key.trim())
        .map_err(|e| format!("token key: {e}"))?;
    let mut scim = Client::new(plan.scim_base, "Bearer", plan.scim_token);
    let ids = first_user_ids(&mut scim, plan.users)?;
    if ids.is_empty() {
        return Err("no users to certify".into());
    }
    let tokens: Vec<String> = ids
        .iter()
        .map(|id| mint(&key, plan.server, plan.team, id))
        .collect::<Result<_, _>>()?;
    start_sessions(plan, &ids)?;
    let body = json!({ "public_key": KEY });
    let ours = run::run(
        NAME,
        plan.limits,
        |w| {
            (
                Client::new(plan.server, "Bearer", "none"),
                Rng::new(w as u64 + 81),
            )
        },
        |(c, rng), _| {
            let token = &tokens[rng.below(tokens.len())];
            let reply = c
                .with_secret("Bearer", token)
                .post("/api/v1/ssh/user-certificate", &body)?;
            expect(reply.status, &[201], "user certificate")
        },
    );
    let peer = ssh_keygen_peer(plan.limits)?;
    Ok((ours, peer))
}

/// Writes the session of each user's token, as their sign-in would have.
fn start_sessions(plan: &Plan<'_>, ids: &[String]) -> Result<(), String> {
    let mut config = store::StoreConfig::new(plan.database_url);
    config.run_migrations = false;
    config.pool_size = 1;
    config.min_idle = Some(0);
    let db = store::Store::open(&config).map_err(|e| format!("database: {e}"))?;
    let until = time::OffsetDateTime::now_utc() + time::Duration::hours(2);
    db.write(|tx| {
        let team = tx
            .teams()
            .get_by_slug(plan.team)?
            .ok_or_else(|| store::StoreError::Invalid(format!("no team {}", plan.team)))?;
        for id in ids {
            tx.sessions()
                .start(&session_of(id), team.id, id, "device", until)?;
        }
        Ok::<_, store::StoreError>(())
    })
    .map_err(|e| format!("writing the sessions: {e}"))
}

/// The peer: `ssh-keygen -s CA -I ID -n USER -V -5m:+16h -z SERIAL KEY.pub`, one process
/// per certificate, each worker certifying its own key file.
fn ssh_keygen_peer(limits: Limits) -> Result<Outcome, String> {
    let dir = std::env::temp_dir().join(format!("loadgen-ssh-keygen-{}", std::process::id()));
    std::fs::create_dir_all(&dir).map_err(|e| format!("{}: {e}", dir.display()))?;
    let keygen = |args: &[&str]| -> Result<(), String> {
        let out = Command::new("ssh-keygen")
            .args(args)
            .output()
            .map_err(|e| format!("ssh-keygen: {e}"))?;
        if out.status.success() {
            Ok(())
        } else {
            Err(format!(
                "ssh-keygen {args:?}: {}",
                String::from_utf8_lossy(&out.stderr)
            ))
        }
    };
    let path = |p: &Path| p.to_string_lossy().into_owned();
    let ca = dir.join("ca");
    keygen(&["-q", "-t", "ed25519", "-N", "", "-f", &path(&ca)])?;
    let keys: Vec<PathBuf> = (0..limits.concurrency.max(1))
        .map(|w| dir.join(format!("user{w}.pub")))
        .collect();
    for key in &keys {
        std::fs::write(key, format!("{KEY}\n")).map_err(|e| format!("{}: {e}", key.display()))?;
    }
    let outcome = run::run(
        NAME,
        Limits {
            max_time: limits.max_time.min(Duration::from_secs(20)),
            ..limits
        },
        |w| keys[w].clone(),
        |key, i| {
            keygen(&[
                "-q",
                "-s",
                &path(&ca),
                "-I",
                &format!("bench:{i}"),
                "-n",
                "bench",
                "-V",
                "-5m:+16h",
                "-z",
                &(i + 1).to_string(),
                &path(key),
            ])
        },
    );
    let _ = std::fs::remove_dir_all(&dir);
    Ok(outcome)
}
