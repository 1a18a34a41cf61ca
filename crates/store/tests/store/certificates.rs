//! CA keys, certificate records, and revocation following the directory.

use ::store::{CaSettings, CertKind, CertificateQuery, NewCertificate, StoreError, TeamId};
use host_policy::{HostSelector, Role};
use serde_json::json;
use time::{Duration, OffsetDateTime};

use super::users::obj;

fn user(db: &testkit::db::TestDb, team: TeamId, name: &str) -> String {
    db.store()
        .write(|tx| {
            tx.users()
                .insert(team, obj(json!({"userName": name, "active": true})))
        })
        .unwrap()
        .id
}

/// A group with an ssh grant on every host, holding `members`.
fn granted_group(db: &testkit::db::TestDb, team: TeamId, name: &str, members: &[&str]) -> String {
    db.store()
        .write(|tx| {
            let g = tx
                .groups()
                .insert(team, obj(json!({"displayName": name})))?;
            tx.groups().add_members(team, &g.id, members)?;
            tx.grants()
                .add(team, &g.id, &HostSelector::All, Role::Ssh, &[])?;
            Ok::<_, StoreError>(g.id)
        })
        .unwrap()
}

/// Records a live user certificate for `subject`; returns its serial.
fn issue(db: &testkit::db::TestDb, team: TeamId, subject: &str) -> i64 {
    let now = OffsetDateTime::now_utc();
    db.store()
        .write(|tx| {
            let ca = match tx.certificates().active_key(team, CertKind::User)? {
                Some(ca) => ca,
                None => tx.certificates().add_key(
                    team,
                    CertKind::User,
                    "ssh-ed25519 AAAA ca",
                    "v1.x.y",
                )?,
            };
            let principals = vec![format!("p-{subject}")];
            let new = NewCertificate {
                kind: CertKind::User,
                ca_key_id: ca.id,
                subject,
                key_fingerprint: "SHA256:abc",
                principals: &principals,
                valid_after: now - Duration::minutes(5),
                valid_before: now + Duration::hours(1),
                requester: Some("127.0.0.1"),
            };
            tx.certificates()
                .record(team, &new, |serial| format!("sshward:t:{subject}:{serial}"))
        })
        .unwrap()
        .serial
}

fn live(db: &testkit::db::TestDb, team: TeamId, subject: &str) -> Vec<i64> {
    let query = CertificateQuery {
        subject: Some(subject),
        live_at: Some(OffsetDateTime::now_utc()),
        limit: 100,
        ..CertificateQuery::default()
    };
    db.store()
        .read(|tx| tx.certificates().list(team, &query))
        .unwrap()
        .into_iter()
        .map(|c| c.serial)
        .collect()
}

backend_tests! {
    fn ca_keys_are_one_active_per_kind_and_rotate(db) {
        let store = db.store();
        let team = db.team("acme");
        let first = store.write(|tx| tx.certificates().add_key(team, CertKind::User, "ssh-ed25519 A one", "v1.k.a")).unwrap();
        let again = store.write(|tx| tx.certificates().add_key(team, CertKind::User, "ssh-ed25519 B two", "v1.k.b"));
        assert!(matches!(again, Err(StoreError::Conflict { attribute: "ca key" })), "{again:?}");
        // The host CA is another kind; another team has its own.
        store.write(|tx| tx.certificates().add_key(team, CertKind::Host, "ssh-ed25519 H host", "v1.k.h")).unwrap();
        let other = db.team("other");
        store.write(|tx| tx.certificates().add_key(other, CertKind::User, "ssh-ed25519 O other", "v1.k.o")).unwrap();

        let until = OffsetDateTime::now_utc() + Duration::days(7);
        let retired = store.write(|tx| tx.certificates().retire_key(team, CertKind::User, until)).unwrap().unwrap();
        assert_eq!(retired.id, first.id);
        let second = store.write(|tx| tx.certificates().add_key(team, CertKind::User, "ssh-ed25519 B two", "v1.k.b")).unwrap();
        let now = OffsetDateTime::now_utc();
        let published: Vec<String> = store
            .read(|tx| tx.certificates().published_keys(team, CertKind::User, now))
            .unwrap()
            .into_iter()
            .map(|k| k.public_key)
            .collect();
        assert_eq!(published, ["ssh-ed25519 B two", "ssh-ed25519 A one"], "active first, then the retired one");
        let later = until + Duration::seconds(1);
        let published = store.read(|tx| tx.certificates().published_keys(team, CertKind::User, later)).unwrap();
        assert_eq!(published.len(), 1, "the overlap is over");
        assert_eq!(published[0].id, second.id);
        assert!(!format!("{second:?}").contains("v1.k.b"), "Debug hides the sealed key");
    }

    fn settings_default_and_round_trip(db) {
        let store = db.store();
        let team = db.team("acme");
        assert_eq!(store.read(|tx| tx.certificates().settings(team)).unwrap(), CaSettings::default());
        let settings = CaSettings {
            user_cert_ttl: std::time::Duration::from_secs(3600),
            extensions: ssh_ca::Extensions {
                x11_forwarding: true,
                agent_forwarding: false,
                ..ssh_ca::Extensions::default()
            },
            host_domains: vec!["corp.example".into()],
            ..CaSettings::default()
        };
        store.write(|tx| tx.certificates().set_settings(team, &settings)).unwrap();
        store.write(|tx| tx.certificates().set_settings(team, &settings)).unwrap();
        assert_eq!(store.read(|tx| tx.certificates().settings(team)).unwrap(), settings);
    }

    fn serials_are_unique_and_name_the_key_id(db) {
        let team = db.team("acme");
        let other = db.team("other");
        let a = issue(db, team, "u1");
        let b = issue(db, team, "u1");
        let c = issue(db, other, "u1");
        assert!(a < b && b < c, "{a} {b} {c}");
        let record = db.store().read(|tx| tx.certificates().get(team, b)).unwrap().unwrap();
        assert_eq!(record.key_id, format!("sshward:t:u1:{b}"));
        assert_eq!(record.principals, ["p-u1"]);
        assert_eq!(record.requester.as_deref(), Some("127.0.0.1"));
        assert!(db.store().read(|tx| tx.certificates().get(team, c)).unwrap().is_none(), "another team's");
    }

    fn disabling_or_deleting_a_user_revokes_their_certificates(db) {
        let store = db.store();
        let team = db.team("acme");
        let (alice, bob) = (user(db, team, "alice"), user(db, team, "bob"));
        granted_group(db, team, "ssh", &[&alice, &bob]);
        let a = issue(db, team, &alice);
        let b = issue(db, team, &bob);
        let revision = store.read(|tx| tx.teams().revision(team)).unwrap();
        store.write(|tx| tx.users().replace(team, &alice, obj(json!({"userName": "alice", "active": false})), None)).unwrap();
        assert!(live(db, team, &alice).is_empty());
        assert_eq!(live(db, team, &bob), [b]);
        let record = store.read(|tx| tx.certificates().get(team, a)).unwrap().unwrap();
        assert_eq!(record.revoked_reason.as_deref(), Some("user disabled"));
        assert!(store.read(|tx| tx.teams().revision(team)).unwrap() > revision);
        // Re-enabled, the old certificate stays revoked.
        store.write(|tx| tx.users().replace(team, &alice, obj(json!({"userName": "alice", "active": true})), None)).unwrap();
        assert!(live(db, team, &alice).is_empty());

        store.write(|tx| tx.users().delete(team, &bob)).unwrap();
        assert!(live(db, team, &bob).is_empty());
        let now = OffsetDateTime::now_utc();
        let krl = store.read(|tx| tx.certificates().revoked_unexpired(team, CertKind::User, now)).unwrap();
        assert_eq!(krl.iter().map(|(_, s, _)| *s).collect::<Vec<_>>(), [a, b]);
    }

    fn leaving_the_last_granted_group_revokes_and_a_refill_does_not(db) {
        let store = db.store();
        let team = db.team("acme");
        let (alice, bob, carol) = (user(db, team, "alice"), user(db, team, "bob"), user(db, team, "carol"));
        let ssh = granted_group(db, team, "ssh", &[&alice, &bob, &carol]);
        let admins = granted_group(db, team, "admins", &[&carol]);
        let (a, b, c) = (issue(db, team, &alice), issue(db, team, &bob), issue(db, team, &carol));

        // A PUT-style replace that keeps alice and drops bob: clear then add, one transaction.
        store.write(|tx| {
            tx.groups().clear_members(team, &ssh)?;
            tx.groups().add_members(team, &ssh, &[&alice, &carol])
        }).unwrap();
        assert_eq!(live(db, team, &alice), [a], "re-added in the same transaction");
        assert!(live(db, team, &bob).is_empty(), "dropped");

        // Carol leaves ssh but keeps admins, which has a grant of its own.
        store.write(|tx| tx.groups().remove_members(team, &ssh, &[&carol])).unwrap();
        assert_eq!(live(db, team, &carol), [c]);
        // Removing admins' grant leaves her no granted group.
        let grant = store.read(|tx| tx.grants().list(team)).unwrap().into_iter().find(|g| g.group_id == admins).unwrap();
        store.write(|tx| tx.grants().remove(team, grant.id)).unwrap();
        assert!(live(db, team, &carol).is_empty());
        // Deleting alice's last group.
        store.write(|tx| tx.groups().delete(team, &ssh)).unwrap();
        assert!(live(db, team, &alice).is_empty());
        let reason = store.read(|tx| tx.certificates().get(team, b)).unwrap().unwrap().revoked_reason;
        assert_eq!(reason.as_deref(), Some("no longer in a group with a grant"));
    }

    fn revoking_by_serial_is_once_and_per_team(db) {
        let store = db.store();
        let team = db.team("acme");
        let other = db.team("other");
        let s = issue(db, team, "u1");
        assert!(store.write(|tx| tx.certificates().revoke(other, s, "admin")).unwrap().is_none());
        let first = store.write(|tx| tx.certificates().revoke(team, s, "admin: lost laptop")).unwrap().unwrap();
        let again = store.write(|tx| tx.certificates().revoke(team, s, "twice")).unwrap().unwrap();
        assert_eq!(first.revoked, again.revoked);
        assert_eq!(again.revoked_reason.as_deref(), Some("admin: lost laptop"));
        assert!(!again.is_live(OffsetDateTime::now_utc()));
    }
}
