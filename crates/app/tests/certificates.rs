//! The SSH certificate authority of the application layer, on SQLite and PostgreSQL:
//! what a certificate carries, whom the directory refuses one, revocation and rotation.

use app::{Actor, App, AppError, CaSettings, CertKind, NewGrant, UserCertRequest};
use host_policy::{HostSelector, Role};
use serde_json::{Map, Value, json};
use ssh_ca::SubjectKey;
use ssh_key::Certificate;
use store::{StoreError, TeamId};
use time::{Duration, OffsetDateTime};

use crate::test_kek;

db_tests!(
    a_certificate_names_the_posix_user_and_ends_with_the_token,
    the_directory_decides_who_gets_one,
    revocation_follows_entra_and_admins,
    rotation_keeps_the_old_key_published,
    host_certificates_name_the_host_and_its_domains,
);

const KEY: &str =
    "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIFYm2nRDmoB7AGdzjgkn6xbXuaI3XXvPEvE4OUe2ybBz alice";

fn object(v: Value) -> Map<String, Value> {
    match v {
        Value::Object(map) => map,
        _ => unreachable!(),
    }
}

fn admin() -> Actor {
    Actor::Operator("root".into())
}

/// Team acme: alice (in "SSH Users", which has an ssh grant everywhere) and bob (in no
/// group).
fn acme(db: &testkit::db::TestDb) -> (App, TeamId, String, String) {
    let team = db.team("acme");
    let app = App::new(db.store().clone(), test_kek());
    let (alice, bob) = db
        .store()
        .write(|tx| {
            let alice = tx
                .users()
                .insert(
                    team,
                    object(json!({"userName": "alice@acme.example", "active": true})),
                )?
                .id;
            let bob = tx
                .users()
                .insert(
                    team,
                    object(json!({"userName": "bob@acme.example", "active": true})),
                )?
                .id;
            let group = tx
                .groups()
                .insert(team, object(json!({"displayName": "SSH Users"})))?
                .id;
            tx.groups()
                .add_members(team, &group, std::slice::from_ref(&alice))?;
            // Each has signed in: the session's secret is their id (see `request`).
            let until = OffsetDateTime::now_utc() + Duration::days(2);
            for user in [&alice, &bob] {
                tx.sessions().start(user, team, user, "loopback", until)?;
            }
            Ok::<_, StoreError>((alice, bob))
        })
        .unwrap();
    let grant = NewGrant {
        group: "SSH Users".into(),
        hosts: HostSelector::All,
        role: Role::Ssh,
        extra_groups: vec![],
    };
    app.add_grant(&admin(), "acme", &grant).unwrap();
    (app, team, alice, bob)
}

/// Sets alice's (`id`'s) `active`, as Entra's replace does.
fn set_active(db: &testkit::db::TestDb, team: TeamId, id: &str, active: bool) {
    let user = object(json!({"userName": "alice@acme.example", "active": active}));
    db.store()
        .write(|tx| tx.users().replace(team, id, user, None))
        .unwrap();
}

fn request<'a>(user: &'a str, key: &'a SubjectKey, hours: i64) -> UserCertRequest<'a> {
    UserCertRequest {
        team: "acme",
        user_id: user,
        session: user,
        key,
        not_after: OffsetDateTime::now_utc() + Duration::hours(hours),
        requester: Some("192.0.2.7"),
    }
}

fn a_certificate_names_the_posix_user_and_ends_with_the_token(db: &testkit::db::TestDb) {
    let (app, team, alice, _) = acme(db);
    let key: SubjectKey = KEY.parse().unwrap();
    let issued = app
        .issue_user_certificate(&request(&alice, &key, 1))
        .unwrap();
    let cert = Certificate::from_openssh(&issued.certificate).unwrap();
    assert_eq!(cert.valid_principals(), ["alice"]);
    assert_eq!(cert.serial(), issued.record.serial as u64);
    assert_eq!(
        cert.key_id(),
        format!("sshward:acme:{alice}:{}", issued.record.serial)
    );
    let now = OffsetDateTime::now_utc().unix_timestamp() as u64;
    assert!(
        cert.valid_after() <= now - 299 && cert.valid_after() >= now - 302,
        "backdated 5 minutes"
    );
    let token_end = now + 3600;
    assert!(
        cert.valid_before() <= token_end && cert.valid_before() >= token_end - 2,
        "ends with the token"
    );
    let extensions: Vec<&str> = cert.extensions().keys().map(String::as_str).collect();
    assert_eq!(
        extensions,
        [
            "permit-agent-forwarding",
            "permit-port-forwarding",
            "permit-pty"
        ]
    );
    // Signed by the team's published user CA.
    let published = app.ca_public_keys("acme", CertKind::User).unwrap();
    let ca: ssh_key::PublicKey = published[0].parse().unwrap();
    assert_eq!(cert.signature_key(), ca.key_data());
    assert_eq!(issued.record.requester.as_deref(), Some("192.0.2.7"));
    assert_eq!(issued.record.key_fingerprint, key.fingerprint());

    // A long token: the team's lifetime (16 h by default) bounds it; settings apply.
    let long = app
        .issue_user_certificate(&request(&alice, &key, 48))
        .unwrap();
    let cert = Certificate::from_openssh(&long.certificate).unwrap();
    assert!(cert.valid_before() <= now + 16 * 3600 + 2);
    let settings = CaSettings {
        user_cert_ttl: std::time::Duration::from_secs(600),
        extensions: ssh_ca::Extensions {
            x11_forwarding: true,
            agent_forwarding: false,
            ..Default::default()
        },
        ..CaSettings::default()
    };
    app.set_ca_settings(&admin(), "acme", &settings).unwrap();
    let short = Certificate::from_openssh(
        &app.issue_user_certificate(&request(&alice, &key, 48))
            .unwrap()
            .certificate,
    )
    .unwrap();
    assert!(short.valid_before() <= now + 602);
    let extensions: Vec<&str> = short.extensions().keys().map(String::as_str).collect();
    assert_eq!(
        extensions,
        [
            "permit-X11-forwarding",
            "permit-port-forwarding",
            "permit-pty"
        ]
    );

    // Every certificate is recorded and audited; the CA private key is sealed.
    assert_eq!(
        app.certificates("acme", Some("alice@acme.example"), true, 100)
            .unwrap()
            .len(),
        3
    );
    let query = store::AuditQuery {
        action: Some(app::AuditAction::CertIssue),
        ..Default::default()
    };
    let audit = app.audit(Some("acme"), &query, 100).unwrap();
    assert_eq!(audit.len(), 3);
    let keys = db.store().read(|tx| tx.certificates().keys(team)).unwrap();
    assert!(
        keys.iter().all(|k| k.sealed_private_key.starts_with("v1.")
            && !k.sealed_private_key.contains("PRIVATE"))
    );
    // Another instance with another key-encryption key cannot sign with it.
    let stranger = App::new(db.store().clone(), test_kek());
    let err = stranger
        .issue_user_certificate(&request(&alice, &key, 1))
        .unwrap_err();
    assert!(err.to_string().contains("key-encryption key"), "{err}");
}

fn the_directory_decides_who_gets_one(db: &testkit::db::TestDb) {
    let (app, team, alice, bob) = acme(db);
    let key: SubjectKey = KEY.parse().unwrap();
    let err = app
        .issue_user_certificate(&request(&bob, &key, 1))
        .unwrap_err();
    assert!(
        matches!(&err, AppError::Forbidden(m) if m.contains("granted")),
        "{err}"
    );
    let err = app
        .issue_user_certificate(&request(&alice, &key, 0))
        .unwrap_err();
    assert!(matches!(err, AppError::Unauthorized(_)), "{err}");
    let mut foreign = request(&alice, &key, 1);
    foreign.team = "nosuch";
    assert!(matches!(
        app.issue_user_certificate(&foreign),
        Err(AppError::Unauthorized(_))
    ));
    db.team("other");
    foreign.team = "other";
    let err = app.issue_user_certificate(&foreign).unwrap_err();
    assert!(matches!(err, AppError::Unauthorized(_)), "{err}");
    // Another person's session is not this person's.
    let mut borrowed = request(&alice, &key, 1);
    borrowed.session = &bob;
    let err = app.issue_user_certificate(&borrowed).unwrap_err();
    assert!(matches!(err, AppError::Unauthorized(m) if m.contains("session")));
    // Once an administrator ends alice's sessions, her token gets no certificate.
    let ended = app
        .end_sessions(&admin(), "acme", "alice@acme.example")
        .unwrap();
    assert_eq!(ended, 1);
    assert!(
        app.sessions("acme", Some("alice@acme.example"))
            .unwrap()
            .is_empty()
    );
    assert_eq!(app.sessions("acme", None).unwrap().len(), 1);
    let err = app
        .issue_user_certificate(&request(&alice, &key, 1))
        .unwrap_err();
    assert!(matches!(err, AppError::Unauthorized(m) if m.contains("session")));
    db.store()
        .write(|tx| {
            tx.sessions().start(
                &alice,
                team,
                &alice,
                "loopback",
                OffsetDateTime::now_utc() + Duration::days(1),
            )
        })
        .unwrap();
    set_active(db, team, &alice, false);
    // The disable ended her sessions for good: re-enabled, the old token gets nothing.
    let err = app
        .issue_user_certificate(&request(&alice, &key, 1))
        .unwrap_err();
    assert!(
        matches!(&err, AppError::Unauthorized(m) if m.contains("session")),
        "{err}"
    );
    set_active(db, team, &alice, true);
    let err = app
        .issue_user_certificate(&request(&alice, &key, 1))
        .unwrap_err();
    assert!(
        matches!(&err, AppError::Unauthorized(m) if m.contains("session")),
        "{err}"
    );
    assert!(
        app.certificates("acme", None, false, 100)
            .unwrap()
            .is_empty(),
        "nothing recorded"
    );
}

fn revocation_follows_entra_and_admins(db: &testkit::db::TestDb) {
    let (app, team, alice, _) = acme(db);
    let key: SubjectKey = KEY.parse().unwrap();
    let empty = app.revocation_list(team).unwrap();
    assert_eq!(empty.revoked, 0);
    let first = app
        .issue_user_certificate(&request(&alice, &key, 1))
        .unwrap()
        .record;
    let second = app
        .issue_user_certificate(&request(&alice, &key, 1))
        .unwrap()
        .record;
    let revoked = app
        .revoke_certificate(&admin(), "acme", first.serial)
        .unwrap();
    assert_eq!(
        revoked.revoked_reason.as_deref(),
        Some("revoked by admin:root")
    );
    let list = app.revocation_list(team).unwrap();
    assert_eq!(list.revoked, 1);
    assert_ne!(list.bytes, empty.bytes);
    assert_eq!(
        app.revocation_list(team).unwrap(),
        list,
        "the same revocations, the same bytes"
    );
    assert!(matches!(
        app.revoke_certificate(&admin(), "acme", 999_999),
        Err(AppError::NotFound(_))
    ));

    assert_eq!(
        app.revoke_user_certificates(&admin(), "acme", "alice")
            .unwrap(),
        1,
        "by POSIX name"
    );
    assert!(
        app.certificates("acme", Some(&alice), true, 10)
            .unwrap()
            .is_empty()
    );
    let all = app.certificates("acme", Some(&alice), false, 10).unwrap();
    assert_eq!(
        all.iter().map(|c| c.serial).collect::<Vec<_>>(),
        [second.serial, first.serial]
    );
    assert_eq!(app.revocation_list(team).unwrap().revoked, 2);
}

fn rotation_keeps_the_old_key_published(db: &testkit::db::TestDb) {
    let (app, team, alice, _) = acme(db);
    let key: SubjectKey = KEY.parse().unwrap();
    let before = app.ca_public_keys("acme", CertKind::User).unwrap();
    assert_eq!(before.len(), 1);
    let old = app
        .issue_user_certificate(&request(&alice, &key, 1))
        .unwrap();
    let (new, retired) = app.rotate_ca(&admin(), "acme", CertKind::User).unwrap();
    assert_eq!(retired.unwrap().public_key, before[0]);
    let after = app.ca_public_keys("acme", CertKind::User).unwrap();
    assert_eq!(
        after,
        [new.public_key.clone(), before[0].clone()],
        "new first, old during the overlap"
    );
    let fresh = Certificate::from_openssh(
        &app.issue_user_certificate(&request(&alice, &key, 1))
            .unwrap()
            .certificate,
    )
    .unwrap();
    let signer: ssh_key::PublicKey = new.public_key.parse().unwrap();
    assert_eq!(
        fresh.signature_key(),
        signer.key_data(),
        "the new key signs"
    );
    // A certificate of the old key can still be revoked.
    app.revoke_certificate(&admin(), "acme", old.record.serial)
        .unwrap();
    assert_eq!(app.revocation_list(team).unwrap().revoked, 1);
    // The host CA is separate.
    assert_ne!(
        app.ca_public_keys("acme", CertKind::Host).unwrap()[0],
        after[0]
    );
}

fn host_certificates_name_the_host_and_its_domains(db: &testkit::db::TestDb) {
    let (app, _, _, _) = acme(db);
    let settings = CaSettings {
        host_domains: vec!["corp.example".into()],
        ..CaSettings::default()
    };
    app.set_ca_settings(&admin(), "acme", &settings).unwrap();
    let bad = CaSettings {
        host_domains: vec!["not a domain".into()],
        ..CaSettings::default()
    };
    assert!(matches!(
        app.set_ca_settings(&admin(), "acme", &bad),
        Err(AppError::Invalid(_))
    ));
    let (_, secret) = app
        .create_join_token(&admin(), "acme", &Default::default(), Duration::hours(1))
        .unwrap();
    let joined = app
        .join(&secret, "web-1", &Default::default(), &[])
        .unwrap();
    let key: SubjectKey = KEY.parse().unwrap();
    let issued = app.issue_host_certificates(&joined.host, &[key]).unwrap();
    let cert = Certificate::from_openssh(&issued[0].certificate).unwrap();
    assert_eq!(cert.cert_type(), ssh_key::certificate::CertType::Host);
    assert_eq!(cert.valid_principals(), ["web-1", "web-1.corp.example"]);
    let days = (cert.valid_before() - cert.valid_after()) / 86_400;
    assert_eq!(days, 30);
    app.remove_host(&admin(), "acme", "web-1").unwrap();
    let err = app.issue_host_certificates(&joined.host, &["ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIFYm2nRDmoB7AGdzjgkn6xbXuaI3XXvPEvE4OUe2ybBz h".parse().unwrap()]).unwrap_err();
    assert!(matches!(err, AppError::Unauthorized(_)), "{err}");
}
