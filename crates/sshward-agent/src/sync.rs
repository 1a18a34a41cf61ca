//! Following the server: the access document (accounts, groups, sudo), the revocation
//! list and the host certificates. The last good copy of each stays on disk; a bad
//! answer (malformed, for another host, older than what was applied) is refused and
//! logged, and what is in place stays.

use std::path::Path;
use std::time::Duration;

use proto::AccessDocument;
use sha2::{Digest, Sha256};

use crate::apply;
use crate::client::{Client, Fetched};
use crate::reconcile;
use crate::state::{HostCertFile, Joined, State, now, write_atomic};
use crate::system::System;

/// The file of the names that may log in, written with each applied document.
pub const LOGINS: &str = "logins";

/// Whether `user` is among the names of the `logins` file's text (sorted, one a line).
pub fn may_log_in(logins: &str, user: &str) -> bool {
    let names: Vec<&str> = logins.lines().collect();
    names.binary_search(&user).is_ok()
}

/// The KRL sshd reads before the server sent one: empty (revokes nothing). sshd refuses
/// every public-key login when the file is missing, so it always exists.
pub fn ensure_krl(state: &State) -> std::io::Result<()> {
    let path = state.path("revoked_keys");
    if !path.exists() {
        write_atomic(&path, b"", 0o644)?;
    }
    Ok(())
}

/// The host CA keys pinned at join (and updated by renewals), which sign documents.
pub fn pinned_keys(state: &State) -> Result<Vec<ssh_ca::PublicKey>, String> {
    let path = state.path("host_ca.pub");
    let text = std::fs::read_to_string(&path).map_err(|e| format!("{}: {e}", path.display()))?;
    let keys: Vec<ssh_ca::PublicKey> = text
        .lines()
        .filter(|l| !l.trim().is_empty())
        .filter_map(|l| l.parse().ok())
        .collect();
    if keys.is_empty() {
        return Err(format!(
            "{}: no key to check documents with",
            path.display()
        ));
    }
    Ok(keys)
}

/// Checks a document from the server before anything is applied from it: its signature
/// by a pinned key over this host, its revision and the exact bytes; its host; that it
/// is not older than the one applied.
pub fn check_document(
    bytes: &[u8],
    signature: Option<&str>,
    keys: &[ssh_ca::PublicKey],
    joined: &Joined,
    applied: Option<i64>,
) -> Result<AccessDocument, String> {
    let document: AccessDocument = serde_json::from_slice(bytes)
        .map_err(|e| format!("the access document is malformed: {e}"))?;
    let signature = signature.ok_or("the access document is not signed")?;
    let head = proto::json_head(document.revision, &document.hostname);
    let rest = bytes
        .strip_prefix(head.as_bytes())
        .ok_or("the access document is not in the form that was signed")?;
    let digest = Sha256::digest(rest);
    let hex: String = digest.iter().map(|b| format!("{b:02x}")).collect();
    let statement = proto::signed_statement(&document.hostname, document.revision, &hex);
    ssh_ca::verify_statement(
        keys,
        proto::SIGNATURE_NAMESPACE,
        statement.as_bytes(),
        signature,
    )
    .map_err(|e| format!("the access document's signature does not check: {e}"))?;
    if document.hostname != joined.hostname {
        return Err(format!(
            "the access document is for {}, not for this host ({})",
            document.hostname, joined.hostname
        ));
    }
    if let Some(applied) = applied
        && document.revision < applied
    {
        return Err(format!(
            "the access document (revision {}) is older than the one applied ({applied})",
            document.revision
        ));
    }
    Ok(document)
}

/// The document in place, if any.
pub fn current_document(state: &State) -> Option<AccessDocument> {
    let bytes = std::fs::read(state.path("access.json")).ok()?;
    serde_json::from_slice(&bytes).ok()
}

/// Reconciles the host with `document` and records it as the one in place.
pub fn apply_document(state: &State, document: &AccessDocument, etag: &str) -> Result<(), String> {
    let system = System::read(Path::new("/")).map_err(|e| format!("reading the accounts: {e}"))?;
    let mut registry = state.registry()?;
    let plan = reconcile::plan(document, &system, &registry);
    for conflict in &plan.conflicts {
        eprintln!("sshward-agent: refused: {conflict}");
    }
    let applied = apply::apply(&plan, &mut registry);
    state
        .save_registry(&registry)
        .map_err(|e| format!("saving the registry: {e}"))?;
    for line in &applied.done {
        eprintln!("sshward-agent: {line}");
    }
    for line in &applied.failed {
        eprintln!("sshward-agent: failed: {line}");
    }
    // What could not be applied is the host's state until a document fixes it.
    let problems: Vec<String> = plan
        .conflicts
        .iter()
        .map(|c| format!("refused: {c}"))
        .chain(applied.failed.iter().map(|f| format!("failed: {f}")))
        .collect();
    write_atomic(
        &state.path("problems"),
        problems.join("; ").as_bytes(),
        0o644,
    )
    .map_err(|e| e.to_string())?;
    let json = serde_json::to_vec(document).map_err(|e| e.to_string())?;
    write_atomic(&state.path("access.json"), &json, 0o644).map_err(|e| e.to_string())?;
    // What `principals` reads on every login: the names only, sorted, one a line (a
    // 10,000-user document is 2 MB of JSON; this is 100 KB and needs no parser).
    let mut logins: Vec<&str> = document
        .users
        .iter()
        .map(|u| u.account.username.as_str())
        .collect();
    logins.sort_unstable();
    let mut text = logins.join("\n");
    text.push('\n');
    write_atomic(&state.path(LOGINS), text.as_bytes(), 0o644).map_err(|e| e.to_string())?;
    write_atomic(&state.path("access.etag"), etag.as_bytes(), 0o644).map_err(|e| e.to_string())?;
    state.confirm().map_err(|e| e.to_string())?;
    eprintln!(
        "sshward-agent: applied revision {} ({} users, {} groups)",
        document.revision,
        document.users.len(),
        document.groups.len()
    );
    Ok(())
}

/// One access-document poll: waits up to `wait` for a change, applies it.
pub fn poll_access(
    client: &Client,
    state: &State,
    joined: &Joined,
    wait: Duration,
) -> Result<(), String> {
    let credential = state.credential()?;
    let etag = std::fs::read_to_string(state.path("access.etag")).ok();
    let held = current_document(state);
    // Without a document in place, ask for it unconditionally.
    let etag = held.as_ref().and(etag);
    match client.fetch(&credential, "/self/access", etag.as_deref(), wait)? {
        Fetched::NotModified => state.confirm().map_err(|e| e.to_string()),
        Fetched::Changed {
            body,
            etag,
            signature,
        } => {
            let keys = pinned_keys(state)?;
            let document = check_document(
                &body,
                signature.as_deref(),
                &keys,
                joined,
                held.map(|d| d.revision),
            )?;
            apply_document(state, &document, &etag)
        }
    }
}

/// Tells the server which revision is applied and the last error, when that changed
/// since the last report (`last` keeps what was sent).
pub fn report(
    client: &Client,
    state: &State,
    error: Option<String>,
    last: &mut Option<proto::HostReport>,
) {
    let problems = std::fs::read_to_string(state.path("problems"))
        .ok()
        .filter(|p| !p.trim().is_empty());
    let report = proto::HostReport {
        agent_version: env!("CARGO_PKG_VERSION").to_owned(),
        applied_revision: current_document(state).map(|d| d.revision),
        last_error: error.or(problems),
    };
    if last.as_ref() == Some(&report) {
        return;
    }
    match state.credential().and_then(|c| client.report(&c, &report)) {
        Ok(()) => *last = Some(report),
        Err(e) => eprintln!("sshward-agent: reporting to the server: {e}"),
    }
}

/// The first bytes of every OpenSSH KRL.
const KRL_MAGIC: &[u8] = b"SSHKRL\n\0";

/// Installs a revocation list only if OpenSSH reads it (`ssh-keygen -Q -l`): sshd
/// refuses every public-key login when its `RevokedKeys` file does not parse, so a
/// truncated or garbled answer must never replace the good one.
pub fn install_krl(state: &State, bytes: &[u8]) -> Result<(), String> {
    if !bytes.starts_with(KRL_MAGIC) {
        return Err("the revocation list is not an OpenSSH KRL; the old one stays".into());
    }
    let candidate = state.path(".revoked_keys.new");
    write_atomic(&candidate, bytes, 0o644).map_err(|e| e.to_string())?;
    let checked = crate::apply::run(
        "ssh-keygen",
        &["-Q", "-l", "-f", &candidate.to_string_lossy()],
    );
    if let Err(e) = checked {
        let _ = std::fs::remove_file(&candidate);
        return Err(format!(
            "the revocation list does not parse, the old one stays: {e}"
        ));
    }
    std::fs::rename(&candidate, state.path("revoked_keys")).map_err(|e| e.to_string())
}

/// One revocation-list poll: waits up to `wait` for a change, installs it.
pub fn poll_krl(client: &Client, state: &State, wait: Duration) -> Result<(), String> {
    let credential = state.credential()?;
    let etag = std::fs::read_to_string(state.path("krl.etag")).ok();
    match client.fetch(&credential, "/self/krl", etag.as_deref(), wait)? {
        Fetched::NotModified => Ok(()),
        Fetched::Changed {
            body: bytes, etag, ..
        } => {
            install_krl(state, &bytes)?;
            write_atomic(&state.path("krl.etag"), etag.as_bytes(), 0o644)
                .map_err(|e| e.to_string())?;
            eprintln!("sshward-agent: installed the revocation list {etag}");
            Ok(())
        }
    }
}

/// Writes the CA keys and host certificates of a join or renewal answer.
pub fn save_certificates(
    state: &State,
    keys: &[std::path::PathBuf],
    answer: &proto::HostCertificatesResponse,
) -> Result<Vec<HostCertFile>, String> {
    let mut ca = answer.user_ca_keys.join("\n");
    ca.push('\n');
    write_atomic(&state.path("user_ca.pub"), ca.as_bytes(), 0o644).map_err(|e| e.to_string())?;
    let mut host_ca = answer.host_ca_keys.join("\n");
    host_ca.push('\n');
    write_atomic(&state.path("host_ca.pub"), host_ca.as_bytes(), 0o644)
        .map_err(|e| e.to_string())?;
    let mut files = Vec::new();
    for (key, cert) in keys.iter().zip(&answer.certificates) {
        let name = key.to_string_lossy();
        let path = std::path::PathBuf::from(format!("{}-cert.pub", name.trim_end_matches(".pub")));
        write_atomic(&path, format!("{}\n", cert.certificate).as_bytes(), 0o644)
            .map_err(|e| format!("{}: {e}", path.display()))?;
        files.push(HostCertFile {
            public_key: key.clone(),
            certificate: path,
            valid_before: cert.valid_before,
            valid_after: cert.valid_after,
        });
    }
    Ok(files)
}

/// Renews the host certificates once a third of their lifetime is left.
pub fn renew_if_due(client: &Client, state: &State, joined: &mut Joined) -> Result<bool, String> {
    let due = joined.host_certificates.iter().any(|c| {
        let third = (c.valid_before - c.valid_after) / 3;
        (now() as i64) > c.valid_before - third
    });
    if !due {
        return Ok(false);
    }
    let keys: Vec<std::path::PathBuf> = joined
        .host_certificates
        .iter()
        .map(|c| c.public_key.clone())
        .collect();
    let lines = keys
        .iter()
        .map(|k| {
            std::fs::read_to_string(k)
                .map(|t| t.trim().to_owned())
                .map_err(|e| format!("{}: {e}", k.display()))
        })
        .collect::<Result<Vec<_>, _>>()?;
    let answer = client.renew(&state.credential()?, lines)?;
    joined.host_certificates = save_certificates(state, &keys, &answer)?;
    state.save_joined(joined).map_err(|e| e.to_string())?;
    eprintln!("sshward-agent: renewed {} host certificate(s)", keys.len());
    Ok(true)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;
    use ssh_ca::CaKey;
    use ssh_ca::rand_core::OsRng;

    fn joined() -> Joined {
        Joined {
            server: "https://sshward.example".into(),
            host_id: 7,
            hostname: "web-1".into(),
            max_staleness_secs: 60,
            server_ca: None,
            host_certificates: Vec::new(),
        }
    }

    /// A document as the server sends it, and its signature by `ca`.
    fn signed(ca: &CaKey, hostname: &str, revision: i64) -> (Vec<u8>, String) {
        let doc = AccessDocument {
            revision,
            hostname: hostname.into(),
            users: Vec::new(),
            groups: Vec::new(),
        };
        let body = serde_json::to_vec(&doc).unwrap();
        let head = proto::json_head(revision, hostname);
        let rest = &body[head.len()..];
        let hex: String = Sha256::digest(rest)
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect();
        let statement = proto::signed_statement(hostname, revision, &hex);
        let sig = ca
            .sign_statement(proto::SIGNATURE_NAMESPACE, statement.as_bytes())
            .unwrap();
        (body, sig)
    }

    #[test]
    fn only_a_revocation_list_openssh_reads_replaces_the_old_one() {
        if std::process::Command::new("ssh-keygen")
            .arg("-?")
            .output()
            .is_err()
        {
            assert!(
                std::env::var("CI").as_deref() != Ok("true"),
                "ssh-keygen is required under CI (scripts/test.sh installs openssh-client)"
            );
            eprintln!("SKIPPED: no ssh-keygen");
            return;
        }
        let dir = std::env::temp_dir().join(format!("agent-krl-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let state = State::at(&dir);
        ensure_krl(&state).unwrap();
        let ca = CaKey::generate(&mut OsRng).unwrap();
        let mut krl = ssh_ca::Krl::new(1, 1);
        krl.revoke_serial(&ca.public_key(), 7);
        let good = krl.to_bytes();
        install_krl(&state, &good).unwrap();
        assert_eq!(std::fs::read(state.path("revoked_keys")).unwrap(), good);
        for bad in [
            &good[..good.len() - 3],
            b"not a krl".as_slice(),
            &good[..12],
        ] {
            assert!(install_krl(&state, bad).is_err());
            assert_eq!(
                std::fs::read(state.path("revoked_keys")).unwrap(),
                good,
                "the good one stays"
            );
        }
        let _ = std::fs::remove_dir_all(&dir);
    }

    #[test]
    fn the_logins_file_answers_exactly() {
        let logins = "alice\nbob\ncarol\n";
        assert!(may_log_in(logins, "bob"));
        assert!(!may_log_in(logins, "bo"));
        assert!(!may_log_in(logins, "root"));
        assert!(!may_log_in("", "alice"));
    }

    #[test]
    fn only_a_signed_current_document_for_this_host_is_applied() {
        let ca = CaKey::generate(&mut OsRng).unwrap();
        let keys = [ca.public_key()];
        let (body, sig) = signed(&ca, "web-1", 9);
        let doc = check_document(&body, Some(&sig), &keys, &joined(), Some(8)).unwrap();
        assert_eq!(doc.revision, 9);

        let refuse = |body: &[u8], sig: Option<&str>, applied: Option<i64>, needle: &str| {
            let err = check_document(body, sig, &keys, &joined(), applied).unwrap_err();
            assert!(err.contains(needle), "{needle}: {err}");
        };
        refuse(&body, None, None, "not signed");
        refuse(&body, Some(&sig), Some(10), "older");
        let tampered = String::from_utf8(body.clone())
            .unwrap()
            .replace("\"users\":[]", "\"users\":[ ]");
        refuse(tampered.as_bytes(), Some(&sig), None, "signature");
        refuse(&body[..body.len() - 1], Some(&sig), None, "malformed");
        let (other_host, other_sig) = signed(&ca, "web-2", 9);
        refuse(&other_host, Some(&other_sig), None, "not for this host");
        // The signature of web-2's document does not pass for web-1's.
        refuse(&body, Some(&other_sig), None, "signature");
        let stranger = CaKey::generate(&mut OsRng).unwrap();
        let (_, foreign) = signed(&stranger, "web-1", 9);
        refuse(&body, Some(&foreign), None, "signature");
    }
}
