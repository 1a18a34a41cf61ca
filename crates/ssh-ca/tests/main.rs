#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
//! ssh-ca against OpenSSH's own `ssh-keygen`: the certificates it signs read back with
//! the fields asked for (`ssh-keygen -L`), and its revocation lists revoke exactly what
//! they list (`ssh-keygen -Q`). Without ssh-keygen the tests skip, and fail when
//! `CI=true` (scripts/test.sh installs openssh-client).

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use ssh_ca::rand_core::OsRng;
use ssh_ca::{CaError, CaKey, Extensions, HostCert, Krl, SubjectKey, UserCert};

/// Whether ssh-keygen runs here; panics under CI when it does not.
fn have_ssh_keygen() -> bool {
    let found = Command::new("ssh-keygen").arg("-?").output().is_ok();
    if !found {
        assert!(
            std::env::var("CI").as_deref() != Ok("true"),
            "ssh-keygen is required under CI (Debian package openssh-client)"
        );
        eprintln!("SKIPPED: ssh-keygen is not installed");
    }
    found
}

fn keygen(args: &[&str]) -> Output {
    Command::new("ssh-keygen").args(args).output().unwrap()
}

/// A new key pair made by ssh-keygen in `dir`; returns the path of its private key.
fn new_key(dir: &Path, name: &str, args: &[&str]) -> PathBuf {
    let path = dir.join(name);
    let mut all = vec!["-q", "-N", "", "-C", name, "-f", path.to_str().unwrap()];
    all.extend(args);
    let out = keygen(&all);
    assert!(out.status.success(), "ssh-keygen {args:?}: {out:?}");
    path
}

fn public(path: &Path) -> String {
    std::fs::read_to_string(path.with_extension("pub")).unwrap()
}

fn user_cert(serial: u64, principal: &str) -> UserCert {
    UserCert {
        serial,
        key_id: format!("sshward:acme:u-{serial}:{serial}"),
        principals: vec![principal.into()],
        valid_after: 1_800_000_000,
        valid_before: 1_800_057_600,
        extensions: Extensions::default(),
    }
}

/// Writes `text` to `dir/name` and returns the path.
fn write(dir: &Path, name: &str, text: impl AsRef<[u8]>) -> PathBuf {
    let path = dir.join(name);
    std::fs::write(&path, text).unwrap();
    path
}

/// `ssh-keygen -L` of a certificate.
fn listing(cert: &Path) -> String {
    let out = Command::new("ssh-keygen")
        .args(["-L", "-f", cert.to_str().unwrap()])
        .env("TZ", "UTC")
        .output()
        .unwrap();
    assert!(out.status.success(), "{out:?}");
    String::from_utf8(out.stdout).unwrap()
}

/// Whether `ssh-keygen -Q` finds `key` (a certificate or a plain key) in `krl`.
fn revoked(krl: &Path, key: &Path) -> bool {
    let out = keygen(&["-Q", "-f", krl.to_str().unwrap(), key.to_str().unwrap()]);
    let text = String::from_utf8_lossy(&out.stdout);
    match out.status.code() {
        Some(0) => {
            assert!(text.contains(": ok"), "{out:?}");
            false
        }
        Some(1) if text.contains("REVOKED") => true,
        _ => panic!("ssh-keygen -Q could not read the KRL: {out:?}"),
    }
}

#[test]
fn user_certificates_carry_what_was_asked() {
    if !have_ssh_keygen() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let ca = CaKey::generate(&mut OsRng).unwrap();
    let ca_pub = write(
        dir.path(),
        "ca.pub",
        ca.public_key_line("acme user CA").unwrap(),
    );
    let fingerprint = keygen(&["-l", "-f", ca_pub.to_str().unwrap()]);
    assert!(fingerprint.status.success(), "{fingerprint:?}");

    for (name, args) in [
        ("ed25519", vec!["-t", "ed25519"]),
        ("ecdsa256", vec!["-t", "ecdsa", "-b", "256"]),
        ("ecdsa384", vec!["-t", "ecdsa", "-b", "384"]),
        ("ecdsa521", vec!["-t", "ecdsa", "-b", "521"]),
        ("rsa3072", vec!["-t", "rsa", "-b", "3072"]),
    ] {
        let key: SubjectKey = public(&new_key(dir.path(), name, &args)).parse().unwrap();
        let cert = ca
            .sign_user(&mut OsRng, &key, &user_cert(42, "alice"))
            .unwrap();
        let path = write(dir.path(), &format!("{name}-cert.pub"), &cert);
        let text = listing(&path);
        for line in [
            "Type: ",
            "user certificate",
            "Serial: 42",
            "Key ID: \"sshward:acme:u-42:42\"",
            "alice",
            "permit-pty",
            "permit-agent-forwarding",
            "permit-port-forwarding",
        ] {
            assert!(text.contains(line), "{name}: {line:?} missing in\n{text}");
        }
        for absent in ["permit-X11-forwarding", "permit-user-rc"] {
            assert!(!text.contains(absent), "{name}: {absent} in\n{text}");
        }
        // The validity as asked (1_800_000_000 and 16 hours later).
        assert!(
            text.contains("Valid: from 2027-01-15T08:00:00 to 2027-01-16T00:00:00"),
            "{name}: {text}"
        );
    }

    // Extensions follow the team's settings.
    let key: SubjectKey = public(&new_key(dir.path(), "x11", &["-t", "ed25519"]))
        .parse()
        .unwrap();
    let mut request = user_cert(43, "bob");
    request.extensions = Extensions {
        pty: false,
        agent_forwarding: false,
        port_forwarding: false,
        x11_forwarding: true,
        user_rc: true,
    };
    let cert = ca.sign_user(&mut OsRng, &key, &request).unwrap();
    let text = listing(&write(dir.path(), "x11-cert.pub", cert));
    assert!(text.contains("permit-X11-forwarding") && text.contains("permit-user-rc"));
    assert!(!text.contains("permit-pty"), "{text}");
}

#[test]
fn host_certificates_name_the_host() {
    if !have_ssh_keygen() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let ca = CaKey::generate(&mut OsRng).unwrap();
    let key: SubjectKey = public(&new_key(dir.path(), "host", &["-t", "ed25519"]))
        .parse()
        .unwrap();
    let request = HostCert {
        serial: 9,
        key_id: "sshward:acme:host:web-1:9".into(),
        principals: vec!["web-1".into(), "web-1.prod.example".into()],
        valid_after: 1_800_000_000,
        valid_before: 1_802_592_000,
    };
    let cert = ca.sign_host(&mut OsRng, &key, &request).unwrap();
    let text = listing(&write(dir.path(), "host-cert.pub", cert));
    assert!(text.contains("host certificate"), "{text}");
    assert!(text.contains("web-1.prod.example"), "{text}");
    assert!(
        !text.contains("permit-pty"),
        "host certificates have no extensions: {text}"
    );
}

#[test]
fn weak_and_wrong_keys_are_refused() {
    if !have_ssh_keygen() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let refused = |text: &str| match text.parse::<SubjectKey>() {
        Err(CaError::UnsupportedKey(why)) => why,
        other => panic!("expected a refusal, got {other:?}"),
    };
    let rsa = public(&new_key(
        dir.path(),
        "rsa2048",
        &["-t", "rsa", "-b", "2048"],
    ));
    assert!(refused(&rsa).contains("2048 bits"));
    // DSA, where this ssh-keygen still makes it.
    let dsa = dir.path().join("dsa");
    if keygen(&["-q", "-N", "", "-t", "dsa", "-f", dsa.to_str().unwrap()])
        .status
        .success()
    {
        assert!(refused(&public(&dsa)).contains("DSA"));
    }
    // A certificate instead of the key.
    let ca = CaKey::generate(&mut OsRng).unwrap();
    let key: SubjectKey = public(&new_key(dir.path(), "k", &["-t", "ed25519"]))
        .parse()
        .unwrap();
    let cert = ca
        .sign_user(&mut OsRng, &key, &user_cert(1, "alice"))
        .unwrap();
    assert!(refused(&cert).contains("certificate"));
    for junk in [
        "",
        "ssh-ed25519",
        "ssh-ed25519 !!!",
        "hello world",
        &"A".repeat(20_000),
    ] {
        refused(junk);
    }
    // Requests that make no sense.
    let mut no_principal = user_cert(1, "alice");
    no_principal.principals.clear();
    let mut backwards = user_cert(1, "alice");
    backwards.valid_before = backwards.valid_after;
    let mut comma = user_cert(1, "alice");
    comma.principals = vec!["alice,root".into()];
    for request in [no_principal, backwards, comma] {
        assert!(matches!(
            ca.sign_user(&mut OsRng, &key, &request),
            Err(CaError::InvalidRequest(_))
        ));
    }
    // A CA never signs its own key.
    let own: SubjectKey = ca.public_key_line("ca").unwrap().parse().unwrap();
    assert!(matches!(
        ca.sign_user(&mut OsRng, &own, &user_cert(1, "alice")),
        Err(CaError::InvalidRequest(_))
    ));
}

#[test]
fn revocation_lists_revoke_exactly_what_they_list() {
    if !have_ssh_keygen() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let ca = CaKey::generate(&mut OsRng).unwrap();
    let other_ca = CaKey::generate(&mut OsRng).unwrap();
    let key: SubjectKey = public(&new_key(dir.path(), "alice", &["-t", "ed25519"]))
        .parse()
        .unwrap();
    let certs: Vec<PathBuf> = (1..=12)
        .map(|serial| {
            let cert = ca
                .sign_user(&mut OsRng, &key, &user_cert(serial, "alice"))
                .unwrap();
            write(dir.path(), &format!("c{serial}-cert.pub"), cert)
        })
        .collect();
    // The same serial from another CA.
    let foreign = other_ca
        .sign_user(&mut OsRng, &key, &user_cert(3, "alice"))
        .unwrap();
    let foreign = write(dir.path(), "foreign-cert.pub", foreign);
    let plain = new_key(dir.path(), "plain", &["-t", "ecdsa"]);
    let hashed = new_key(dir.path(), "hashed", &["-t", "rsa", "-b", "3072"]);
    let innocent = new_key(dir.path(), "innocent", &["-t", "ed25519"]);

    let mut krl = Krl::new(3, 1_800_000_100).with_comment("acme");
    let ca_key = ca.public_key();
    krl.revoke_serial(&ca_key, 3);
    krl.revoke_serial(&ca_key, 1);
    krl.revoke_serial_range(&ca_key, 7, 5);
    // A run long enough to become a range of its own.
    for serial in [10, 11] {
        krl.revoke_serial(&ca_key, serial);
    }
    krl.revoke_serial(&ca_key, 12);
    krl.revoke_key_id(&ca_key, "sshward:acme:u-9:9");
    krl.revoke_key(public(&plain).parse::<SubjectKey>().unwrap().public_key());
    krl.revoke_key_sha256(public(&hashed).parse::<SubjectKey>().unwrap().public_key());
    let path = write(dir.path(), "krl", krl.to_bytes());

    let expected = [1, 3, 5, 6, 7, 9, 10, 11, 12];
    for (i, cert) in certs.iter().enumerate() {
        let serial = i as u64 + 1;
        assert_eq!(
            revoked(&path, cert),
            expected.contains(&serial),
            "serial {serial}"
        );
    }
    assert!(
        !revoked(&path, &foreign),
        "another CA's serial 3 is not revoked"
    );
    assert!(revoked(&path, &plain.with_extension("pub")));
    assert!(revoked(&path, &hashed.with_extension("pub")));
    assert!(!revoked(&path, &innocent.with_extension("pub")));

    // An empty KRL revokes nothing, and sshd reads it (it refuses every key without one).
    let empty = write(dir.path(), "empty.krl", Krl::new(1, 0).to_bytes());
    assert!(!revoked(&empty, &certs[0]));
}
