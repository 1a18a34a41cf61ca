//! Every SCIM write is in the team's audit log: actor (the token, never its secret),
//! action, resource, outcome, and a summary that names attributes but holds no values.

use crate::support::*;
use serde_json::json;
use store::AuditRecord;

/// The audit entries of team A about resource `id`, oldest first.
fn entries_about(srv: &Server, id: &str) -> Vec<AuditRecord> {
    let mut entries: Vec<AuditRecord> = srv
        .audit_a()
        .into_iter()
        .filter(|r| r.entry.resource_id.as_deref() == Some(id))
        .collect();
    entries.reverse();
    entries
}

scim_tests!(writes_are_audited_without_values, group_writes_are_audited,);

fn writes_are_audited_without_values(srv: &Server) {
    let client = srv.a();
    let user_name = "Audited.Person@contoso.example";
    let user = id(&client.create_user(user_name));
    let path = format!("/Users/{user}");
    client
        .patch_ops(&path, json!([
            {"op": "Replace", "path": "emails[type eq \"work\"].value", "value": "secret.mail@mail.example"},
            {"op": "Replace", "path": "active", "value": "False"},
            {"op": "replace", "value": {"name.givenName": "Confidential", "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:employeeNumber": "987654"}},
        ]))
        .ok(200);
    client
        .patch_ops(&path, json!([{"op": "Replace", "path": "emails[value eq \"secret.mail@mail.example\"].value", "value": "other.secret@mail.example"}]))
        .ok(200);
    client
        .patch_ops(
            &path,
            json!([{"op": "Replace", "path": "active", "value": "Hidden-Value"}]),
        )
        .error(400, Some("invalidValue"));
    client.delete(&path).empty(204);
    // Requests that never authenticated are not the team's: nothing is recorded.
    srv.client(&srv.a, Some("sshw_wrong"))
        .delete(&format!("/Users/{user}"))
        .error(401, None);

    let entries = entries_about(srv, &user);
    let outline: Vec<(String, i32)> = entries
        .iter()
        .map(|r| (r.entry.action.to_string(), r.entry.status))
        .collect();
    let expected = [
        ("scim.user.create", 201),
        ("scim.user.patch", 200),
        ("scim.user.patch", 200),
        ("scim.user.patch", 400),
        ("scim.user.delete", 204),
    ];
    assert_eq!(outline, expected.map(|(a, s)| (a.to_owned(), s)));
    let secrets = [
        srv.a.token.as_str(),
        user_name,
        "Audited.Person",
        "secret.mail",
        "other.secret",
        "Confidential",
        "987654",
        "Hidden-Value",
        "mail.example",
    ];
    for record in &entries {
        let entry = &record.entry;
        assert_eq!(
            entry.actor.to_string(),
            format!("scim-token:{}", srv.a.token_id)
        );
        assert_eq!(entry.team, Some(srv.a.id));
        assert_eq!(entry.resource_type.as_deref(), Some("User"));
        assert!(!entry.summary.is_empty());
        for secret in secrets {
            assert!(
                !entry
                    .summary
                    .to_lowercase()
                    .contains(&secret.to_lowercase()),
                "{} summary {:?} holds {secret:?}",
                entry.action,
                entry.summary
            );
        }
    }
    // The summaries name what changed.
    let patch = &entries[1].entry.summary;
    for attribute in ["emails", "active", "name.givenName", "employeeNumber"] {
        assert!(patch.contains(attribute), "{patch:?} names {attribute}");
    }
    assert!(
        entries[0].entry.summary.contains("userName"),
        "{:?}",
        entries[0].entry.summary
    );
}

fn group_writes_are_audited(srv: &Server) {
    let client = srv.a();
    let user = id(&client.create_user("member@contoso.example"));
    let group = id(&client.create_group("Audited Group"));
    let path = format!("/Groups/{group}");
    client.add_members(&group, &[&user]).empty(204);
    client
        .add_members(&group, &["no-such-user"])
        .error(400, Some("invalidValue"));
    client
        .post("/Groups", &entra_group("audited group"))
        .error(409, Some("uniqueness"));
    client.delete(&path).empty(204);

    let entries = entries_about(srv, &group);
    let outline: Vec<(String, i32, &str)> = entries
        .iter()
        .map(|r| {
            (
                r.entry.action.to_string(),
                r.entry.status,
                r.entry.resource_type.as_deref().unwrap(),
            )
        })
        .collect();
    let expected = [
        ("scim.group.create", 201, "Group"),
        ("scim.group.patch", 204, "Group"),
        ("scim.group.patch", 400, "Group"),
        ("scim.group.delete", 204, "Group"),
    ];
    assert_eq!(outline, expected.map(|(a, s, t)| (a.to_owned(), s, t)));
    assert!(
        entries[1].entry.summary.contains("+1"),
        "{:?}",
        entries[1].entry.summary
    );
    // The failed create is recorded too, without a resource id.
    let all = srv.audit_a();
    let conflict: Vec<&AuditRecord> = all.iter().filter(|r| r.entry.status == 409).collect();
    assert_eq!(conflict.len(), 1);
    assert_eq!(conflict[0].entry.action.to_string(), "scim.group.create");
    assert_eq!(conflict[0].entry.resource_type.as_deref(), Some("Group"));
    assert_eq!(conflict[0].entry.resource_id, None);
    assert!(
        !conflict[0]
            .entry
            .summary
            .to_lowercase()
            .contains("audited group"),
        "{:?}",
        conflict[0].entry.summary
    );
}
