//! A user's life as Microsoft Entra ID provisions it, in Entra's request shapes: Test
//! Connection, matching, create, PATCH in all its dialects, disable, delete; plus
//! authentication, uniqueness and the wall between teams.

use crate::support::*;
use serde_json::json;

/// Asserts an empty ListResponse, as Test Connection expects it.
fn assert_empty_list(reply: &Reply) {
    let list = reply.ok(200);
    assert_eq!(list["schemas"], json!([LIST_RESPONSE]), "{list}");
    assert_eq!(list["totalResults"], json!(0), "{list}");
    assert_eq!(list["Resources"], json!([]), "{list}");
    assert_eq!(list["startIndex"], json!(1), "{list}");
}

scim_tests!(
    test_connection_probe,
    bad_tokens_get_401_with_a_scim_body,
    revoked_and_expired_tokens_are_refused,
    user_life,
    manager_as_a_bare_string_on_create,
    string_booleans_come_back_as_booleans,
    work_email_is_created_by_a_filtered_path,
    microsoft_validator_shapes,
    match_by_unquoted_external_id,
    special_characters_match_exactly,
    duplicate_user_name_is_a_conflict,
    teams_never_see_each_other,
);

fn test_connection_probe(srv: &Server) {
    let client = srv.a();
    let guid = uuid::Uuid::new_v4();
    for path in [
        // What Entra's Test Connection sends: `+` for spaces, percent-encoded quotes.
        format!("/Users?filter=userName+eq+%22{guid}%22"),
        format!("/Users?filter=userName%20eq%20%22{guid}%22"),
        // The compliance flag, appended to the tenant URL by the admin.
        format!("/Users?filter=userName+eq+%22{guid}%22&aadOptscim062020"),
        format!("/Users?aadOptscim062020&filter=userName+eq+%22{guid}%22"),
        // Other matching attributes, and the group probe.
        format!("/Users?filter=externalId+eq+%22{guid}%22"),
        format!("/Groups?excludedAttributes=members&filter=displayName+eq+%22{guid}%22"),
    ] {
        assert_empty_list(&client.get(&path));
    }
}

fn bad_tokens_get_401_with_a_scim_body(srv: &Server) {
    let probe = "/Users?filter=userName+eq+%22x%22";
    let wrong = format!("{}x", srv.a.token);
    for client in [
        srv.client(&srv.a, None),
        srv.client(&srv.a, Some("sshw_not-a-real-token")),
        srv.client(&srv.a, Some(&wrong)),
        // Team A's token on team B's URL, and the other way round.
        srv.client(&srv.b, Some(&srv.a.token)),
        srv.client(&srv.a, Some(&srv.b.token)),
    ] {
        for reply in [
            client.get(probe),
            client.post("/Users", &entra_user("x@y.example")),
        ] {
            reply.error(401, None);
            assert!(
                reply
                    .header("www-authenticate")
                    .is_some_and(|v| v.starts_with("Bearer"))
            );
        }
    }
    // Not a bearer token at all.
    let basic =
        srv.client(&srv.a, None)
            .send("GET", probe, &[("Authorization", "Basic dTpw")], None);
    basic.error(401, None);
    assert_eq!(
        srv.a().filter("/Users", "userName pr")["totalResults"],
        json!(0)
    );
}

fn revoked_and_expired_tokens_are_refused(srv: &Server) {
    let (rotated, expired) = srv
        .store
        .write(|tx| {
            let (_, rotated) = tx.tokens().create(srv.a.id, "rotated", None)?;
            let past = time::OffsetDateTime::now_utc() - time::Duration::minutes(1);
            let (_, expired) = tx.tokens().create(srv.a.id, "expired", Some(past))?;
            Ok::<_, store::StoreError>((rotated, expired))
        })
        .unwrap();
    let probe = "/Users?filter=userName+eq+%22x%22";
    // Two valid tokens at once (rotation), and an expired one.
    srv.client(&srv.a, Some(&rotated)).get(probe).ok(200);
    srv.a().get(probe).ok(200);
    srv.client(&srv.a, Some(&expired))
        .get(probe)
        .error(401, None);
    // Revoked (here straight in the database, as the CLI or another instance does): the
    // very next read is refused too, though this server verified the token a moment ago.
    srv.a().get(probe).ok(200);
    srv.store
        .write(|tx| tx.tokens().revoke(srv.a.id, srv.a.token_id))
        .unwrap();
    srv.a().get(probe).error(401, None);
    srv.a()
        .post("/Users", &entra_user("late@contoso.example"))
        .error(401, None);
    srv.client(&srv.a, Some(&rotated)).get(probe).ok(200);
    let used = srv.store.read(|tx| tx.tokens().list(srv.a.id)).unwrap();
    assert!(
        used.iter()
            .any(|t| t.label == "rotated" && t.last_used.is_some()),
        "{used:?}"
    );
}

fn user_life(srv: &Server) {
    let client = srv.a();
    let name = "Alice.Adams@contoso.example";
    let match_query =
        |user_name: &str| format!("/Users?filter=userName+eq+%22{}%22", encode(user_name));

    // 1. Match: no such user yet.
    assert_empty_list(&client.get(&match_query(name)));

    // 2. Create with Entra's full payload.
    let reply = client.post("/Users", &entra_user(name));
    let created = reply.ok(201);
    let user = id(&created);
    assert_eq!(
        reply.header("location"),
        created["meta"]["location"].as_str()
    );
    assert_eq!(reply.header("etag"), created["meta"]["version"].as_str());
    assert_eq!(created["schemas"], json!([USER_SCHEMA, ENTERPRISE]));
    assert_eq!(created["userName"], json!(name));
    assert_eq!(created["externalId"], json!("Alice.Adams-ext"));
    assert_eq!(created["active"], json!(true), "a real boolean");
    assert_eq!(
        created["emails"],
        json!([{"primary": true, "type": "work", "value": "Alice.Adams@mail.example"}])
    );
    assert_eq!(created["name"]["givenName"], json!("Alice.Adams"));
    assert_eq!(created["name"]["familyName"], json!("Family"));
    assert_eq!(created["name"]["formatted"], json!("Alice.Adams Family"));
    assert_eq!(created[ENTERPRISE]["employeeNumber"], json!("1000"));
    assert_eq!(created["meta"]["resourceType"], json!("User"));
    assert!(
        created.get("roles").is_none_or(|r| r == &json!([])),
        "{created}"
    );

    // 3. Match again: by userName in another case, and by externalId.
    for query in [
        match_query(&name.to_uppercase()),
        match_query(&name.to_lowercase()),
        "/Users?filter=externalId+eq+%22Alice.Adams-ext%22".to_string(),
    ] {
        let list = client.get(&query).ok(200);
        assert_eq!(list["totalResults"], json!(1), "{query}: {list}");
        assert_eq!(list["Resources"][0], created, "{query}");
    }

    // 4. Read by id.
    let reply = client.get(&format!("/Users/{user}"));
    assert_eq!(reply.ok(200), created);
    assert_eq!(reply.header("etag"), created["meta"]["version"].as_str());

    // 5. Entra's verbose update, capitalised ops, 200 with the resource.
    let user_path = format!("/Users/{user}");
    let patched = client
        .patch_ops(&user_path, json!([
            {"op": "Replace", "path": "emails[type eq \"work\"].value", "value": "updated@mail.example"},
            {"op": "Replace", "path": "name.familyName", "value": "updatedFamilyName"},
            {"op": "Add", "path": "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:employeeNumber", "value": "1001"},
        ]))
        .ok(200);
    assert_eq!(
        patched["emails"],
        json!([{"primary": true, "type": "work", "value": "updated@mail.example"}])
    );
    assert_eq!(patched["name"]["familyName"], json!("updatedFamilyName"));
    assert_eq!(patched["name"]["givenName"], json!("Alice.Adams"));
    assert_eq!(patched[ENTERPRISE]["employeeNumber"], json!("1001"));
    assert_eq!(client.get(&user_path).ok(200), patched);

    // 6. `Add` for a single-valued attribute, with a string boolean.
    let patched = client
        .patch_ops(
            &user_path,
            json!([{"op": "Add", "path": "active", "value": "True"}]),
        )
        .ok(200);
    assert_eq!(patched["active"], json!(true));

    // 7. Disable: the user stays visible, with active false.
    let patched = client
        .patch_ops(
            &user_path,
            json!([{"op": "Replace", "path": "active", "value": "False"}]),
        )
        .ok(200);
    assert_eq!(patched["active"], json!(false));
    assert_eq!(client.get(&user_path).ok(200)["active"], json!(false));
    let list = client.get(&match_query(name)).ok(200);
    assert_eq!(list["totalResults"], json!(1));
    assert_eq!(list["Resources"][0]["active"], json!(false));
    assert_eq!(
        client.filter_ids("/Users", "active eq false"),
        vec![user.clone()]
    );

    // 8. The compliance flag's path-less replace with dotted and URN keys.
    let patched = client
        .patch_ops(
            &user_path,
            json!([{"op": "replace", "value": {
                "displayName": "Bjfe",
                "name.givenName": "Kkom",
                "name.familyName": "Unua",
                "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:employeeNumber": "Aklq",
            }}]),
        )
        .ok(200);
    assert_eq!(patched["displayName"], json!("Bjfe"));
    assert_eq!(patched["name"]["givenName"], json!("Kkom"));
    assert_eq!(patched["name"]["familyName"], json!("Unua"));
    assert_eq!(patched[ENTERPRISE]["employeeNumber"], json!("Aklq"));
    let keys: Vec<&String> = patched.as_object().unwrap().keys().collect();
    assert!(
        keys.iter()
            .all(|k| !k.contains('.') || k.as_str() == ENTERPRISE),
        "no literal dotted keys: {keys:?}"
    );
    assert!(
        patched[ENTERPRISE]
            .get("urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:employeeNumber")
            .is_none()
    );
    assert_eq!(
        client.filter_ids("/Users", "name.givenName eq \"Kkom\""),
        vec![user.clone()]
    );

    // 9. The manager, as the bare string Entra sends.
    let boss = id(&client.create_user("boss@contoso.example"));
    let patched = client
        .patch_ops(&user_path, json!([{"op": "Add", "path": "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:manager", "value": boss}]))
        .ok(200);
    assert_eq!(patched[ENTERPRISE]["manager"]["value"], json!(boss));
    assert_eq!(
        patched[ENTERPRISE]["employeeNumber"],
        json!("Aklq"),
        "the extension keeps its other attributes"
    );

    // 10. Re-enable, then a replace of userName (Entra's "Update User userName").
    client
        .patch_ops(
            &user_path,
            json!([{"op": "Replace", "path": "active", "value": "True"}]),
        )
        .ok(200);
    let renamed = client
        .patch_ops(&user_path, json!([{"op": "Replace", "path": "userName", "value": "alice.renamed@contoso.example"}]))
        .ok(200);
    assert_eq!(renamed["active"], json!(true));
    assert_eq!(renamed["userName"], json!("alice.renamed@contoso.example"));
    assert_empty_list(&client.get(&match_query(name)));
    assert_eq!(
        client.filter_ids("/Users", "userName eq \"ALICE.RENAMED@contoso.example\""),
        vec![user.clone()]
    );

    // 11. Delete: 204, then 404 for everything.
    client.delete(&user_path).empty(204);
    client.get(&user_path).error(404, None);
    client.delete(&user_path).error(404, None);
    client
        .patch_ops(
            &user_path,
            json!([{"op": "Replace", "path": "active", "value": "False"}]),
        )
        .error(404, None);
    assert!(
        client
            .filter_ids("/Users", "userName eq \"alice.renamed@contoso.example\"")
            .is_empty()
    );
    assert_eq!(client.filter_ids("/Users", "userName pr"), vec![boss]);
}

fn manager_as_a_bare_string_on_create(srv: &Server) {
    let client = srv.a();
    let boss = id(&client.create_user("boss@contoso.example"));
    let mut body = entra_user("worker@contoso.example");
    body[ENTERPRISE]["manager"] = json!(boss);
    let created = client.post("/Users", &body).ok(201);
    assert_eq!(created[ENTERPRISE]["manager"]["value"], json!(boss));
    // The validator's forms: the object, and removal as an empty value.
    let path = format!("/Users/{}", id(&created));
    let manager = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:manager";
    let other = id(&client.create_user("other-boss@contoso.example"));
    let patched = client
        .patch_ops(
            &path,
            json!([{"op": "replace", "path": manager, "value": {"value": other}}]),
        )
        .ok(200);
    assert_eq!(patched[ENTERPRISE]["manager"]["value"], json!(other));
    let patched = client
        .patch_ops(
            &path,
            json!([{"op": "Replace", "path": manager, "value": {"value": ""}}]),
        )
        .ok(200);
    assert!(patched[ENTERPRISE].get("manager").is_none(), "{patched}");
    assert_eq!(patched[ENTERPRISE]["employeeNumber"], json!("1000"));
}

fn string_booleans_come_back_as_booleans(srv: &Server) {
    let client = srv.a();
    let mut body = entra_user("strings@contoso.example");
    body["active"] = json!("False");
    body["emails"] = json!([
        {"primary": "True", "type": "work", "value": "a@mail.example"},
        {"primary": "false", "type": "home", "value": "b@mail.example"},
    ]);
    body["roles"] =
        json!([{"primary": "True", "value": "admin", "type": "WindowsAzureActiveDirectoryRole"}]);
    let created = client.post("/Users", &body).ok(201);
    assert_eq!(created["active"], json!(false));
    assert_eq!(created["emails"][0]["primary"], json!(true));
    assert_eq!(created["emails"][1]["primary"], json!(false));
    assert_eq!(created["roles"][0]["primary"], json!(true));
    assert_eq!(
        client.get(&format!("/Users/{}", id(&created))).ok(200),
        created
    );
}

fn work_email_is_created_by_a_filtered_path(srv: &Server) {
    let client = srv.a();
    let mut body = entra_user("noemail@contoso.example");
    body.as_object_mut().unwrap().remove("emails");
    let user = client.post("/Users", &body).ok(201);
    assert!(user.get("emails").is_none());
    let path = format!("/Users/{}", id(&user));
    for op in ["Add", "Replace"] {
        let patched = client
            .patch_ops(&path, json!([{"op": op, "path": "emails[type eq \"work\"].value", "value": format!("{op}@mail.example")}]))
            .ok(200);
        assert_eq!(
            patched["emails"],
            json!([{"type": "work", "value": format!("{op}@mail.example")}]),
            "{op}"
        );
    }
    assert_eq!(
        client.filter_ids(
            "/Users",
            "emails[type eq \"work\"].value eq \"Replace@mail.example\""
        ),
        vec![id(&user)]
    );
    assert_eq!(
        client.filter_ids(
            "/Users",
            "emails[type eq \"work\" and value eq \"Replace@mail.example\"]"
        ),
        vec![id(&user)]
    );
}

fn microsoft_validator_shapes(srv: &Server) {
    let client = srv.a();
    let mut body = entra_user("Valid.Ator@contoso.example");
    body["emails"] = json!([
        {"primary": true, "type": "work", "value": "work@mail.example"},
        {"type": "home", "value": "home@mail.example"},
    ]);
    let boss = id(&client.create_user("boss@contoso.example"));
    body[ENTERPRISE]["manager"] = json!({"value": boss});
    let user = id(&client.post("/Users", &body).ok(201));
    let path = format!("/Users/{user}");
    let manager = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:manager";

    // Several operations on the same attribute: the last one wins.
    let patched = client
        .patch_ops(&path, json!([
            {"op": "replace", "path": "displayName", "value": "First"},
            {"op": "replace", "path": "displayName", "value": "Second"},
            {"op": "replace", "path": "emails[type eq \"work\"].value", "value": "new-work@mail.example"},
            {"op": "add", "path": "addresses[type eq \"work\"].streetAddress", "value": "1 Main St"},
        ]))
        .ok(200);
    assert_eq!(patched["displayName"], json!("Second"));
    assert_eq!(
        patched["emails"],
        json!([
            {"primary": true, "type": "work", "value": "new-work@mail.example"},
            {"type": "home", "value": "home@mail.example"},
        ])
    );
    assert_eq!(
        patched["addresses"],
        json!([{"type": "work", "streetAddress": "1 Main St"}])
    );

    // A userName that differs only in case is the user's own, not a conflict; so is a
    // path-less replace of it.
    let patched = client
        .patch_ops(
            &path,
            json!([{"op": "Replace", "path": "userName", "value": "VALID.ATOR@contoso.example"}]),
        )
        .ok(200);
    assert_eq!(patched["userName"], json!("VALID.ATOR@contoso.example"));
    let patched = client
        .patch_ops(&path, json!([{"op": "replace", "value": {"userName": "valid.ator@contoso.example", "active": false}}]))
        .ok(200);
    assert_eq!(
        (patched["userName"].clone(), patched["active"].clone()),
        (json!("valid.ator@contoso.example"), json!(false))
    );

    // Removing one email, then the manager.
    let patched = client
        .patch_ops(
            &path,
            json!([{"op": "Remove", "path": "emails[type eq \"home\"]"}]),
        )
        .ok(200);
    assert_eq!(
        patched["emails"],
        json!([{"primary": true, "type": "work", "value": "new-work@mail.example"}])
    );
    let patched = client
        .patch_ops(&path, json!([{"op": "Remove", "path": manager}]))
        .ok(200);
    assert!(patched[ENTERPRISE].get("manager").is_none(), "{patched}");
    assert_eq!(patched[ENTERPRISE]["employeeNumber"], json!("1000"));
    assert_eq!(client.get(&path).ok(200), patched);

    // A group renamed to its own name in another case.
    let group = id(&client.create_group("Case Group"));
    client
        .patch_ops(
            &format!("/Groups/{group}"),
            json!([{"op": "Replace", "path": "displayName", "value": "CASE GROUP"}]),
        )
        .empty(204);
    assert_eq!(
        client.get(&format!("/Groups/{group}")).ok(200)["displayName"],
        json!("CASE GROUP")
    );
}

fn special_characters_match_exactly(srv: &Server) {
    let client = srv.a();
    let names = [
        "o'brien+ops@contoso.example",
        "100%_done@contoso.example",
        "back\\slash\"quote@contoso.example",
        "Zoë.Ünal@contoso.example",
    ];
    let ids: Vec<String> = names.iter().map(|n| id(&client.create_user(n))).collect();
    for (name, user) in names.iter().zip(&ids) {
        for variant in [name.to_string(), name.to_uppercase()] {
            let literal = serde_json::to_string(&variant).unwrap();
            let found = client.filter_ids("/Users", &format!("userName eq {literal}"));
            assert_eq!(found, vec![user.clone()], "{variant}");
        }
    }
    // LIKE wildcards in co/sw/ew are literal characters.
    assert_eq!(
        client.filter_ids("/Users", "userName co \"%_\""),
        [ids[1].clone()]
    );
    assert_eq!(
        client.filter_ids("/Users", "userName sw \"back\\\\\""),
        [ids[2].clone()]
    );
    assert!(client.filter_ids("/Users", "userName co \"_x\"").is_empty());
    let group = id(&client.create_group("Ops \"Team\" \\ 100%"));
    let list = client.filter_ids("/Groups", "displayName eq \"ops \\\"team\\\" \\\\ 100%\"");
    assert_eq!(list, [group]);
}

fn match_by_unquoted_external_id(srv: &Server) {
    // Old Entra versions send `externalId eq <value>` without quotes.
    let client = srv.a();
    let guid = uuid::Uuid::new_v4().to_string();
    let mut body = entra_user("legacy@contoso.example");
    body["externalId"] = json!(guid);
    let user = client.post("/Users", &body).ok(201);
    let list = client
        .get(&format!("/Users?filter=externalId+eq+{guid}"))
        .ok(200);
    assert_eq!(ids(&list), vec![id(&user)]);
}

fn duplicate_user_name_is_a_conflict(srv: &Server) {
    let client = srv.a();
    let first = client.create_user("dup@contoso.example");
    let before = srv.snapshot();
    client
        .post("/Users", &entra_user("DUP@Contoso.Example"))
        .error(409, Some("uniqueness"));
    let second = id(&client.create_user("second@contoso.example"));
    let after_create = srv.snapshot();
    // Renaming onto a taken name, by PATCH and by PUT.
    client
        .patch_ops(
            &format!("/Users/{second}"),
            json!([{"op": "Replace", "path": "userName", "value": "Dup@contoso.example"}]),
        )
        .error(409, Some("uniqueness"));
    client
        .put(
            &format!("/Users/{second}"),
            &entra_user("dup@CONTOSO.example"),
        )
        .error(409, Some("uniqueness"));
    assert_eq!(srv.snapshot(), after_create);
    assert_ne!(before, after_create);
    assert_eq!(
        client.filter_ids("/Users", "userName eq \"dup@contoso.example\""),
        vec![id(&first)]
    );
    // The same name in another team is another user.
    srv.b()
        .post("/Users", &entra_user("dup@contoso.example"))
        .ok(201);
}

fn teams_never_see_each_other(srv: &Server) {
    let (a, b) = (srv.a(), srv.b());
    let user = id(&a.create_user("private@contoso.example"));
    let group = id(&a.create_group("Private Group"));
    a.add_members(&group, &[&user]).empty(204);
    let b_group = id(&b.create_group("B Group"));
    let before = srv.snapshot();

    // Listing and filtering in team B find nothing of team A's.
    assert_eq!(b.filter_ids("/Users", "userName pr"), Vec::<String>::new());
    assert_eq!(
        b.filter_ids("/Users", "userName eq \"private@contoso.example\""),
        Vec::<String>::new()
    );
    assert_eq!(
        b.filter_ids("/Groups", "displayName pr"),
        vec![b_group.clone()]
    );
    assert_eq!(
        b.filter_ids("/Groups", format!("members[value eq \"{user}\"]").as_str()),
        Vec::<String>::new()
    );
    assert_eq!(ids(&b.get("/Users").ok(200)), Vec::<String>::new());

    // By id: 404, never data.
    for (path, body) in [
        (
            format!("/Users/{user}"),
            entra_user("stolen@contoso.example"),
        ),
        (format!("/Groups/{group}"), entra_group("Stolen")),
    ] {
        b.get(&path).error(404, None);
        b.patch_ops(
            &path,
            json!([{"op": "Replace", "path": "externalId", "value": "stolen"}]),
        )
        .error(404, None);
        b.put(&path, &body).error(404, None);
        b.delete(&path).error(404, None);
    }
    // Team A's user cannot join team B's group.
    b.add_members(&b_group, &[&user])
        .error(400, Some("invalidValue"));
    // Team A's token on team B's URL is not a token of team B.
    let a_on_b = srv.client(&srv.b, Some(&srv.a.token));
    a_on_b.get(&format!("/Groups/{b_group}")).error(401, None);
    a_on_b
        .delete(&format!("/Groups/{b_group}"))
        .error(401, None);

    assert_eq!(srv.snapshot(), before, "nothing changed");
    assert_eq!(a.member_ids(&group), vec![user]);
}
