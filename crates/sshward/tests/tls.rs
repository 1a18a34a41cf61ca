//! `sshward serve` terminating TLS itself, checked with real TLS tools: certificates made
//! by `openssl`, requests sent by `curl` verifying the server against the certificate it
//! was given; a SIGHUP swaps the certificate for new connections, and a broken pair on
//! SIGHUP keeps the old one.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use crate::support::*;

/// Writes a self-signed P-256 certificate for 127.0.0.1 named `name` into `cert` and
/// `key`.
fn make_pair(name: &str, cert: &Path, key: &Path) {
    let out = Command::new("openssl")
        .args([
            "req",
            "-x509",
            "-newkey",
            "ec",
            "-pkeyopt",
            "ec_paramgen_curve:prime256v1",
        ])
        .args(["-nodes", "-days", "2", "-subj", &format!("/CN={name}")])
        .args(["-addext", "subjectAltName=IP:127.0.0.1"])
        .arg("-keyout")
        .arg(key)
        .arg("-out")
        .arg(cert)
        .output()
        .expect("openssl (scripts/test.sh installs it)");
    assert!(out.status.success(), "{out:?}");
}

/// GET `url` with curl trusting only `ca`; the status, or `None` when no TLS connection
/// to a server with that certificate could be made.
fn curl(ca: &Path, url: &str, token: Option<&str>) -> Option<u16> {
    let mut cmd = Command::new("curl");
    cmd.args([
        "-sS",
        "-o",
        "/dev/null",
        "-w",
        "%{http_code}",
        "--max-time",
        "10",
    ])
    .arg("--cacert")
    .arg(ca);
    if let Some(t) = token {
        cmd.args(["-H", &format!("Authorization: Bearer {t}")]);
    }
    let out = cmd
        .arg(url)
        .output()
        .expect("curl (scripts/test.sh installs it)");
    let code: u16 = String::from_utf8_lossy(&out.stdout).trim().parse().ok()?;
    (out.status.success() && code != 0).then_some(code)
}

fn eventually(what: &str, mut done: impl FnMut() -> bool) {
    let deadline = Instant::now() + Duration::from_secs(15);
    while !done() {
        assert!(Instant::now() < deadline, "{what}");
        std::thread::sleep(Duration::from_millis(100));
    }
}

fn hangup(server: &Server) {
    let pid = server.child.id().to_string();
    assert!(
        Command::new("kill")
            .args(["-HUP", &pid])
            .status()
            .unwrap()
            .success()
    );
}

#[test]
fn serve_terminates_tls_and_reloads_on_sighup() {
    let env = Env::new();
    let dir = env.path();
    let (cert, key) = (dir.join("tls.crt"), dir.join("tls.key"));
    let (first, second): (PathBuf, PathBuf) = (dir.join("first.crt"), dir.join("second.crt"));
    make_pair("sshward-first", &cert, &key);
    std::fs::copy(&cert, &first).unwrap();
    let tls = [
        ("SSHWARD_SERVER__TLS_CERTIFICATE", cert.to_str().unwrap()),
        ("SSHWARD_SERVER__TLS_PRIVATE_KEY", key.to_str().unwrap()),
    ];
    let server = env.serve_with(&tls);
    assert!(
        server.url.starts_with("https://127.0.0.1:"),
        "{}",
        server.url
    );
    let health = format!("{}/healthz", server.base);
    assert_eq!(curl(&first, &health, None), Some(200));
    let users = format!("{}/Users", server.url);
    assert_eq!(curl(&first, &users, Some(server.token())), Some(200));
    // Plain http to the TLS port gets no HTTP answer.
    let plain = health.replacen("https://", "http://", 1);
    assert_ne!(curl(&first, &plain, None), Some(200));

    // A new pair in the same files, then SIGHUP: new connections get it.
    make_pair("sshward-second", &cert, &key);
    std::fs::copy(&cert, &second).unwrap();
    assert_eq!(
        curl(&first, &health, None),
        Some(200),
        "not before the SIGHUP"
    );
    hangup(&server);
    eventually("the second certificate after SIGHUP", || {
        curl(&second, &health, None) == Some(200)
    });
    assert_eq!(curl(&first, &health, None), None, "the first is gone");
    assert!(server.stderr().contains("TLS certificate reloaded"));

    // A broken key on SIGHUP: refused, the second pair stays.
    std::fs::write(
        &key,
        "-----BEGIN PRIVATE KEY-----\nbroken\n-----END PRIVATE KEY-----\n",
    )
    .unwrap();
    hangup(&server);
    eventually("the refusal in the log", || {
        server
            .stderr()
            .contains("not reloaded, keeping the old one")
    });
    assert_eq!(curl(&second, &health, None), Some(200));
}

#[test]
fn tls_settings_are_checked() {
    let env = Env::new();
    let cert = env.path().join("tls.crt");
    let key = env.path().join("tls.key");
    make_pair("sshward", &cert, &key);
    let only_cert = [("SSHWARD_SERVER__TLS_CERTIFICATE", cert.to_str().unwrap())];
    env.run_with(&["check-config"], &only_cert).fails(
        3,
        "server.tls_certificate is set without server.tls_private_key",
    );
    let missing = env.path().join("missing.crt");
    let wrong = [
        ("SSHWARD_SERVER__TLS_CERTIFICATE", missing.to_str().unwrap()),
        ("SSHWARD_SERVER__TLS_PRIVATE_KEY", key.to_str().unwrap()),
    ];
    let out = env.run_with(&["serve", "--listen", "127.0.0.1:0"], &wrong);
    out.fails(3, "server.tls_certificate");
    // A key of another certificate.
    let (other_cert, other_key) = (env.path().join("o.crt"), env.path().join("o.key"));
    make_pair("other", &other_cert, &other_key);
    let mismatched = [
        ("SSHWARD_SERVER__TLS_CERTIFICATE", cert.to_str().unwrap()),
        (
            "SSHWARD_SERVER__TLS_PRIVATE_KEY",
            other_key.to_str().unwrap(),
        ),
    ];
    env.run_with(&["serve", "--listen", "127.0.0.1:0"], &mismatched)
        .fails(3, "does not belong to the certificate");
}
