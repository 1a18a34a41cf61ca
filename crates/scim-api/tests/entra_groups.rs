//! A group's life as Microsoft Entra ID provisions it: create with its own schema URN,
//! match without members, rename, members added in bulk and removed in both of Entra's
//! forms, idempotent member changes, uniqueness, and users leaving on delete.

use crate::support::*;
use serde_json::json;

/// The ids of `n` new users of team A.
fn users(client: &Client, prefix: &str, n: usize) -> Vec<String> {
    (0..n)
        .map(|i| id(&client.create_user(&format!("{prefix}{i}@contoso.example"))))
        .collect()
}

fn sorted(mut ids: Vec<String>) -> Vec<String> {
    ids.sort();
    ids
}

/// `GET /Groups?excludedAttributes=members&filter=displayName eq "name"`, as Entra matches.
fn match_group(client: &Client, display_name: &str) -> Vec<String> {
    let list = client
        .get(&format!(
            "/Groups?excludedAttributes=members&filter=displayName+eq+%22{}%22",
            encode(display_name)
        ))
        .ok(200);
    for group in list["Resources"].as_array().unwrap() {
        assert!(
            group.get("members").is_none(),
            "members are excluded: {group}"
        );
    }
    ids(&list)
}

scim_tests!(
    group_life,
    duplicate_display_name_is_a_conflict,
    members_in_the_create_body_and_replaced_as_a_whole,
);

fn group_life(srv: &Server) {
    let client = srv.a();

    // Match, then create: 201 with an empty member list.
    assert!(match_group(&client, "SSH Admins").is_empty());
    let reply = client.post("/Groups", &entra_group("SSH Admins"));
    let created = reply.ok(201);
    let group = id(&created);
    let path = format!("/Groups/{group}");
    assert_eq!(created["displayName"], json!("SSH Admins"));
    assert_eq!(created["externalId"], json!("SSH Admins-objectid"));
    assert_eq!(created["members"], json!([]));
    assert_eq!(created["meta"]["resourceType"], json!("Group"));
    assert_eq!(
        reply.header("location"),
        created["meta"]["location"].as_str()
    );
    assert_eq!(reply.header("etag"), created["meta"]["version"].as_str());
    assert_eq!(match_group(&client, "SSH Admins"), vec![group.clone()]);
    assert_eq!(
        match_group(&client, "ssh admins"),
        vec![group.clone()],
        "displayName ignores case"
    );
    let without = client
        .get(&format!("{path}?excludedAttributes=members"))
        .ok(200);
    assert!(without.get("members").is_none(), "{without}");
    assert_eq!(without["displayName"], json!("SSH Admins"));

    // One member, then fifty in one operation: 204 each.
    let people = users(&client, "member", 51);
    client.add_members(&group, &people[..1]).empty(204);
    assert_eq!(client.member_ids(&group), people[..1].to_vec());
    client.add_members(&group, &people[1..]).empty(204);
    assert_eq!(client.member_ids(&group), sorted(people.clone()));
    let user = client.get(&format!("/Users/{}", people[0])).ok(200);
    assert_eq!(user["groups"][0]["value"], json!(group));
    assert_eq!(user["groups"][0]["display"], json!("SSH Admins"));
    for filter in [
        format!("members[value eq \"{}\"]", people[7]),
        format!("members.value eq \"{}\"", people[7]),
        format!(
            "displayName eq \"ssh admins\" and members[value eq \"{}\"]",
            people[50]
        ),
    ] {
        assert_eq!(
            client.filter_ids("/Groups", &filter),
            vec![group.clone()],
            "{filter}"
        );
    }

    // Removal by value filter, then in Entra's default form: only those go.
    client
        .patch_ops(
            &path,
            json!([{"op": "Remove", "path": format!("members[value eq \"{}\"]", people[0])}]),
        )
        .empty(204);
    client
        .patch_ops(
            &path,
            json!([{"op": "Remove", "path": "members", "value": member_refs(&people[1..2])}]),
        )
        .empty(204);
    let remaining = sorted(people[2..].to_vec());
    assert_eq!(client.member_ids(&group), remaining);

    // Idempotent: adding a member again, removing one that is gone.
    client.add_members(&group, &people[2..3]).empty(204);
    client
        .patch_ops(
            &path,
            json!([{"op": "Remove", "path": "members", "value": member_refs(&people[..1])}]),
        )
        .empty(204);
    client
        .patch_ops(
            &path,
            json!([{"op": "remove", "path": format!("members[value eq \"{}\"]", people[1])}]),
        )
        .empty(204);
    assert_eq!(client.member_ids(&group), remaining);

    // Rename.
    client
        .patch_ops(
            &path,
            json!([{"op": "Replace", "path": "displayName", "value": "SSH Admins (renamed)"}]),
        )
        .empty(204);
    assert_eq!(
        match_group(&client, "SSH Admins (renamed)"),
        vec![group.clone()]
    );
    assert!(match_group(&client, "SSH Admins").is_empty());
    assert_eq!(
        client.get(&path).ok(200)["displayName"],
        json!("SSH Admins (renamed)")
    );

    // An unknown member fails the whole request and changes nothing.
    let before = srv.snapshot();
    let unknown = uuid::Uuid::new_v4().to_string();
    client
        .add_members(&group, &[people[0].clone(), unknown.clone()])
        .error(400, Some("invalidValue"));
    client
        .patch_ops(
            &path,
            json!([
                {"op": "Replace", "path": "displayName", "value": "Never"},
                {"op": "Add", "path": "members", "value": member_refs(&[&unknown])},
            ]),
        )
        .error(400, Some("invalidValue"));
    assert_eq!(srv.snapshot(), before);

    // A deleted user leaves every group.
    client.delete(&format!("/Users/{}", people[2])).empty(204);
    let remaining = sorted(people[3..].to_vec());
    assert_eq!(client.member_ids(&group), remaining);

    // Delete the group: 204, then 404; its members no longer list it.
    client.delete(&path).empty(204);
    client.get(&path).error(404, None);
    client.delete(&path).error(404, None);
    client.add_members(&group, &people[3..4]).error(404, None);
    assert!(match_group(&client, "SSH Admins (renamed)").is_empty());
    let user = client.get(&format!("/Users/{}", people[3])).ok(200);
    assert!(user.get("groups").is_none_or(|g| g == &json!([])), "{user}");
}

fn duplicate_display_name_is_a_conflict(srv: &Server) {
    let client = srv.a();
    client.create_group("Operators");
    let other = id(&client.create_group("Developers"));
    let before = srv.snapshot();
    client
        .post("/Groups", &entra_group("operators"))
        .error(409, Some("uniqueness"));
    client
        .patch_ops(
            &format!("/Groups/{other}"),
            json!([{"op": "Replace", "path": "displayName", "value": "OPERATORS"}]),
        )
        .error(409, Some("uniqueness"));
    client
        .patch_ops(
            &format!("/Groups/{other}"),
            json!([{"op": "replace", "value": {"displayName": "Operators"}}]),
        )
        .error(409, Some("uniqueness"));
    assert_eq!(srv.snapshot(), before);
    srv.b().create_group("Operators");
}

fn members_in_the_create_body_and_replaced_as_a_whole(srv: &Server) {
    let client = srv.a();
    let people = users(&client, "p", 4);
    let mut body = entra_group("Seeded");
    body["members"] = member_refs(&people[..2]);
    let group = client.post("/Groups", &body).ok(201);
    let path = format!("/Groups/{}", id(&group));
    assert_eq!(client.member_ids(&id(&group)), sorted(people[..2].to_vec()));
    // The Microsoft validator replaces the member list.
    client
        .patch_ops(
            &path,
            json!([{"op": "replace", "path": "members", "value": member_refs(&people[2..])}]),
        )
        .empty(204);
    assert_eq!(client.member_ids(&id(&group)), sorted(people[2..].to_vec()));
    // RFC 7644: remove without a value or filter empties the list.
    client
        .patch_ops(&path, json!([{"op": "remove", "path": "members"}]))
        .empty(204);
    assert_eq!(client.member_ids(&id(&group)), Vec::<String>::new());
    // With `attributes`, a group PATCH answers 200 with what was asked for.
    let body = client
        .patch(
            &format!("{path}?attributes=members"),
            &patch_op(
                json!([{"op": "add", "path": "members", "value": member_refs(&people[..1])}]),
            ),
        )
        .ok(200);
    assert_eq!(body["members"][0]["value"], json!(people[0]));
    assert!(body.get("displayName").is_none(), "{body}");
}
