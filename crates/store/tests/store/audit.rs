//! The audit log.

use ::store::{AuditEntry, AuditQuery};
use time::{Duration, OffsetDateTime};

fn entry(team: ::store::TeamId, at: OffsetDateTime, action: &str, status: i32) -> AuditEntry {
    AuditEntry {
        team: Some(team),
        at,
        actor: "token:1".into(),
        action: action.into(),
        resource_type: Some("User".into()),
        resource_id: Some("u1".into()),
        status,
        summary: format!("{action} -> {status}"),
    }
}

backend_tests! {
    fn append_and_query_newest_first(db) {
        let store = db.store();
        let team = db.team("acme");
        let other = db.team("other");
        let t0 = OffsetDateTime::now_utc().replace_nanosecond(0).unwrap();
        store
            .write(|tx| {
                let mut audit = tx.audit();
                audit.append(&entry(team, t0, "scim.user.create", 201))?;
                audit.append(&entry(team, t0 + Duration::seconds(1), "scim.user.patch", 200))?;
                audit.append(&entry(team, t0 + Duration::seconds(2), "scim.user.delete", 204))?;
                audit.append(&entry(other, t0, "scim.user.create", 201))
            })
            .unwrap();
        let all = store.read(|tx| tx.audit().query(team, &AuditQuery::default(), 10)).unwrap();
        let actions: Vec<&str> = all.iter().map(|r| r.entry.action.as_str()).collect();
        assert_eq!(actions, ["scim.user.delete", "scim.user.patch", "scim.user.create"]);
        assert_eq!(all[2].entry, entry(team, t0, "scim.user.create", 201));

        let limited = store.read(|tx| tx.audit().query(team, &AuditQuery::default(), 2)).unwrap();
        assert_eq!(limited.len(), 2);
        let next = store
            .read(|tx| {
                tx.audit().query(team, &AuditQuery { before_id: Some(limited[1].id), ..AuditQuery::default() }, 10)
            })
            .unwrap();
        assert_eq!(next.len(), 1);
        let creates = store
            .read(|tx| {
                tx.audit().query(
                    team,
                    &AuditQuery { action: Some("scim.user.create".into()), ..AuditQuery::default() },
                    10,
                )
            })
            .unwrap();
        assert_eq!(creates.len(), 1);
        let recent = store
            .read(|tx| {
                tx.audit().query(
                    team,
                    &AuditQuery { since: Some(t0 + Duration::seconds(1)), ..AuditQuery::default() },
                    10,
                )
            })
            .unwrap();
        assert_eq!(recent.len(), 2);
    }

    fn audit_commits_with_the_change(db) {
        let store = db.store();
        let team = db.team("acme");
        let failed: Result<(), ::store::StoreError> = store.write(|tx| {
            tx.audit().append(&entry(team, OffsetDateTime::now_utc(), "x", 500))?;
            Err(::store::StoreError::Invalid("rolled back".into()))
        });
        assert!(failed.is_err());
        assert!(store.read(|tx| tx.audit().query(team, &AuditQuery::default(), 10)).unwrap().is_empty());
    }
}
