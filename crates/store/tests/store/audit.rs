//! The audit log.

use ::store::{Actor, AuditAction, AuditEntry, AuditQuery, ResourceKind, ScimOp};
use time::{Duration, OffsetDateTime};

fn entry(team: ::store::TeamId, at: OffsetDateTime, action: &str, status: i32) -> AuditEntry {
    AuditEntry {
        team: Some(team),
        at,
        actor: Actor::ScimToken(1),
        action: action.parse().unwrap(),
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
        let actions: Vec<String> = all.iter().map(|r| r.entry.action.to_string()).collect();
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
                    &AuditQuery {
                        action: Some(AuditAction::Scim(ResourceKind::User, ScimOp::Create)),
                        ..AuditQuery::default()
                    },
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
            tx.audit().append(&entry(team, OffsetDateTime::now_utc(), "bootstrap", 500))?;
            Err(::store::StoreError::Invalid("rolled back".into()))
        });
        assert!(failed.is_err());
        assert!(store.read(|tx| tx.audit().query(team, &AuditQuery::default(), 10)).unwrap().is_empty());
    }

    fn old_scim_actions_are_migrated(db) {
        // Rows written before the resource type was part of SCIM actions.
        let store = db.store();
        let team = db.team("acme");
        db.raw_execute(&format!(
            "INSERT INTO audit_log (team_id, at, actor, action, resource_type, resource_id, status, summary) \
             VALUES ({t}, 1, 'scim-token:1', 'scim.create', 'User', 'u1', 201, 's'), \
                    ({t}, 2, 'scim-token:1', 'scim.patch', 'Group', 'g1', 204, 's'), \
                    ({t}, 3, 'system', 'bootstrap', 'Team', 'acme', 201, 's')",
            t = team.0
        ));
        let migration =
            include_str!("../../migrations/sqlite/2026-12-02-000000_audit_scim_actions/up.sql");
        assert_eq!(
            migration,
            include_str!("../../migrations/postgres/2026-12-02-000000_audit_scim_actions/up.sql"),
            "both backends run the same statement"
        );
        db.raw_execute(migration);
        let all = store.read(|tx| tx.audit().query(team, &AuditQuery::default(), 10)).unwrap();
        let actions: Vec<String> = all.iter().map(|r| r.entry.action.to_string()).collect();
        assert_eq!(actions, ["bootstrap", "scim.group.patch", "scim.user.create"]);
        assert_eq!(all[2].entry.actor, Actor::ScimToken(1));
    }
}
