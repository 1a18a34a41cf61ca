//! Bad input of every kind: each request gets its RFC 7644 status and `scimType` as a
//! SCIM Error in `application/scim+json` (never a 500, never HTML), and the store is
//! exactly as it was afterwards.

use crate::support::*;
use serde_json::{Value, json};

/// One bad request and the answer it must get.
struct Case {
    method: &'static str,
    path: String,
    content_type: &'static str,
    body: Option<Vec<u8>>,
    status: u16,
    scim_type: Option<&'static str>,
}

fn raw(method: &'static str, path: &str, body: &[u8], scim_type: &'static str) -> Case {
    Case {
        method,
        path: path.to_string(),
        content_type: "application/scim+json",
        body: Some(body.to_vec()),
        status: 400,
        scim_type: Some(scim_type),
    }
}

fn body(method: &'static str, path: &str, body: Value, scim_type: &'static str) -> Case {
    raw(method, path, body.to_string().as_bytes(), scim_type)
}

fn get(path: &str, scim_type: &'static str) -> Case {
    Case {
        method: "GET",
        path: path.to_string(),
        content_type: "application/scim+json",
        body: None,
        status: 400,
        scim_type: Some(scim_type),
    }
}

/// `resource` with the top-level attributes of `changes` set (a `null` removes one).
fn changed(mut resource: Value, changes: Value) -> Value {
    let object = resource.as_object_mut().unwrap();
    for (key, value) in changes.as_object().unwrap() {
        match value {
            Value::Null => object.remove(key),
            value => object.insert(key.clone(), value.clone()),
        };
    }
    resource
}

/// A PATCH of `path` with one operation.
fn patch(path: &str, operation: Value, scim_type: &'static str) -> Case {
    body("PATCH", path, patch_op(json!([operation])), scim_type)
}

/// `GET /Users?filter=...` with `filter` percent-encoded.
fn filter(text: &str) -> Case {
    get(&format!("/Users?filter={}", encode(text)), "invalidFilter")
}

/// Sends every case and checks its answer (reporting every wrong one at once), then
/// that nothing was stored.
fn run_cases(srv: &Server, cases: Vec<Case>) {
    let client = srv.a();
    let before = srv.snapshot();
    let mut wrong = Vec::new();
    for case in cases {
        let reply = client.send(
            case.method,
            &case.path,
            &[("Content-Type", case.content_type)],
            case.body.as_deref(),
        );
        let text = reply.text();
        let content_type = reply.header("content-type").unwrap_or_default().to_string();
        let scim_type = serde_json::from_str::<Value>(&text).ok().and_then(|b| {
            b.get("scimType")
                .and_then(Value::as_str)
                .map(str::to_string)
        });
        if (reply.status, content_type.as_str(), scim_type.as_deref())
            != (case.status, "application/scim+json", case.scim_type)
        {
            let mut sent = case
                .body
                .as_deref()
                .map(String::from_utf8_lossy)
                .unwrap_or_default();
            if sent.len() > 300 {
                sent = format!("{}...", &sent[..300]).into();
            }
            let path: String = case.path.chars().take(200).collect();
            wrong.push(format!(
                "{} {path} {sent}\n  wanted {} {:?}, got {} {content_type} {}",
                case.method,
                case.status,
                case.scim_type,
                reply.status,
                text.chars().take(400).collect::<String>()
            ));
            continue;
        }
        // The full shape of the error body (schemas, status as a string, detail).
        reply.error(case.status, case.scim_type);
    }
    assert!(
        wrong.is_empty(),
        "{} wrong answers:\n{}",
        wrong.len(),
        wrong.join("\n")
    );
    assert_eq!(srv.snapshot(), before, "the store is unchanged");
}

/// A user and a group (with the user as member) for the cases to aim at.
fn targets(srv: &Server) -> (String, String) {
    let client = srv.a();
    let user = id(&client.create_user("target@contoso.example"));
    let group = id(&client.create_group("Target"));
    client.add_members(&group, &[&user]).empty(204);
    (format!("/Users/{user}"), format!("/Groups/{group}"))
}

scim_tests!(
    nul_characters_are_refused,
    indexed_values_too_long,
    bad_bodies_on_create_and_replace,
    bad_patches,
    bad_list_parameters,
    wrong_content_types,
    bad_tokens_come_before_bad_bodies,
    #[max_body_bytes = 2048]
    body_over_the_limit,
);

/// U+0000 (which PostgreSQL cannot store in text) in ids, team names, member ids and
/// paths gets the answer any other impossible value gets, on both backends. (In attribute
/// values: see `bad_bodies_on_create_and_replace`.)
fn nul_characters_are_refused(srv: &Server) {
    let (user, group) = targets(srv);
    let client = srv.a();
    for path in ["/Users/a%00b", "/Groups/a%00b", "/Users/%00"] {
        client.get(path).error(404, None);
        client.delete(path).error(404, None);
        client
            .patch_ops(
                path,
                json!([{"op": "replace", "path": "active", "value": true}]),
            )
            .error(404, None);
        let body = if path.starts_with("/Users") {
            entra_user("nul@contoso.example")
        } else {
            entra_group("Nul")
        };
        client.put(path, &body).error(404, None);
    }
    srv.client_for("team-a%00", Some(&srv.a.token))
        .get("/Users")
        .error(401, None);
    let mut cases = Vec::new();
    for operation in [
        json!({"op": "Add", "path": "members", "value": [{"value": "a\u{0}b"}]}),
        json!({"op": "Remove", "path": "members", "value": [{"value": "a\u{0}b"}]}),
        json!({"op": "Remove", "path": "members[value eq \"a\u{0}b\"]"}),
        json!({"op": "Replace", "value": {"displayName\u{0}": "x"}}),
    ] {
        cases.push(patch(&group, operation, "invalidValue"));
    }
    cases.push(patch(
        &user,
        json!({"op": "Replace", "path": "emails[type eq \"wo\u{0}rk\"].value", "value": "x"}),
        "invalidValue",
    ));
    run_cases(srv, cases);
}

/// Values of indexed attributes longer than an index entry may be (PostgreSQL's btree
/// limit) are refused alike on both backends, on create, replace and PATCH; others are not.
fn indexed_values_too_long(srv: &Server) {
    let (user, group) = targets(srv);
    // Random, so that PostgreSQL cannot compress it below its index limit.
    let long: String = (0..100)
        .map(|_| uuid::Uuid::new_v4().simple().to_string())
        .collect();
    let long_user = |key: &str, value: Value| {
        changed(entra_user("long@contoso.example"), json!({ key: value }))
    };
    let mut cases = Vec::new();
    for value in [
        long_user("userName", json!(long)),
        long_user("externalId", json!(long)),
        long_user("displayName", json!(long)),
        long_user("name", json!({"givenName": long})),
        long_user("emails", json!([{"type": "work", "value": long}])),
    ] {
        cases.push(body("POST", "/Users", value.clone(), "invalidValue"));
        cases.push(body("PUT", &user, value, "invalidValue"));
    }
    for path in [
        "userName",
        "emails[type eq \"work\"].value",
        "name.familyName",
    ] {
        let operation = json!({"op": "Replace", "path": path, "value": long});
        cases.push(patch(&user, operation, "invalidValue"));
    }
    for key in ["displayName", "externalId"] {
        let value = changed(entra_group("Long"), json!({ key: long }));
        cases.push(body("POST", "/Groups", value, "invalidValue"));
        let operation = json!({"op": "Replace", "path": key, "value": long});
        cases.push(patch(&group, operation, "invalidValue"));
    }
    run_cases(srv, cases);
    let nick = long_user("nickName", json!(long));
    srv.a().post("/Users", &nick).ok(201);
}

fn bad_bodies_on_create_and_replace(srv: &Server) {
    let (user, _) = targets(srv);
    let nested = format!("{}{}", "[".repeat(100_000), "]".repeat(100_000));
    let not_utf8 =
        b"{\"schemas\":[\"urn:ietf:params:scim:schemas:core:2.0:User\"],\"userName\":\"\xff\"}";
    let bad_users = [
        (json!({"schemas": null}), "invalidSyntax"),
        (json!({"schemas": USER_SCHEMA}), "invalidSyntax"),
        (json!({"schemas": [ENTERPRISE]}), "invalidSyntax"),
        (json!({"shoeSize": 44}), "invalidSyntax"),
        (json!({"name": {"middle": "x"}}), "invalidSyntax"),
        (json!({ENTERPRISE: {"shoeSize": 44}}), "invalidSyntax"),
        (json!({ENTERPRISE: "x"}), "invalidSyntax"),
        (json!({"active": 5}), "invalidValue"),
        (json!({"active": "maybe"}), "invalidValue"),
        // (A bare string, `"emails": "x"`, is read as `[{"value": "x"}]` on purpose.)
        (json!({"emails": true}), "invalidValue"),
        (json!({"emails": [["x"]]}), "invalidValue"),
        (
            json!({"emails": [{"value": "a@x", "primary": "maybe"}]}),
            "invalidValue",
        ),
        (
            json!({"emails": [{"value": "a@x", "primary": true}, {"value": "b@x", "primary": "True"}]}),
            "invalidValue",
        ),
        (json!({"name": "x"}), "invalidValue"),
        (json!({"userName": true}), "invalidValue"),
        (json!({"userName": {"value": "x"}}), "invalidValue"),
        (json!({"userName": ""}), "invalidValue"),
        (json!({"userName": null}), "invalidValue"),
        (
            json!({"userName": "nul\u{0}@contoso.example"}),
            "invalidValue",
        ),
        (json!({"displayName": "nul \u{0}"}), "invalidValue"),
        (json!({"name": {"givenName": "nul \u{0}"}}), "invalidValue"),
        (
            json!({ENTERPRISE: {"employeeNumber": "\u{0}"}}),
            "invalidValue",
        ),
    ];
    let mut cases = Vec::new();
    for (method, path) in [("POST", "/Users"), ("PUT", user.as_str())] {
        for text in [
            &b"{\"userName\":"[..],
            b"",
            b"  \n",
            not_utf8,
            b"[{\"userName\":\"x\"}]",
            b"\"x\"",
            b"null",
            b"{} {}",
            nested.as_bytes(),
        ] {
            cases.push(raw(method, path, text, "invalidSyntax"));
        }
        for (change, scim_type) in &bad_users {
            let user = changed(entra_user("bad@contoso.example"), change.clone());
            cases.push(body(method, path, user, scim_type));
        }
    }
    let unknown = uuid::Uuid::new_v4().to_string();
    for (change, scim_type) in [
        (json!({"displayName": null}), "invalidValue"),
        (json!({"displayName": ["a", "b"]}), "invalidValue"),
        (json!({"members": member_refs(&[&unknown])}), "invalidValue"),
        (json!({"members": [{"value": 5}]}), "invalidValue"),
        (
            json!({"members": [{"value": unknown, "type": "Group"}]}),
            "invalidValue",
        ),
        (json!({"schemas": [USER_SCHEMA]}), "invalidSyntax"),
    ] {
        let group = changed(entra_group("Bad Group"), change);
        cases.push(body("POST", "/Groups", group, scim_type));
    }
    run_cases(srv, cases);
}

fn bad_patches(srv: &Server) {
    let (user, group) = targets(srv);
    let too_many: Vec<Value> = (0..1001)
        .map(|_| json!({"op": "replace", "path": "active", "value": true}))
        .collect();
    let long_path = format!("emails[value eq \"{}\"].value", "x".repeat(9000));
    let two_primaries =
        json!([{"value": "a@x", "primary": true}, {"value": "b@x", "primary": true}]);
    let unknown_member = member_refs(&[uuid::Uuid::new_v4().to_string()]);
    let mut cases = Vec::new();
    for text in [&b"{\"Operations\":"[..], b"", b"[]"] {
        cases.push(raw("PATCH", &user, text, "invalidSyntax"));
    }
    for (message, scim_type) in [
        (
            json!({"Operations": [{"op": "replace", "path": "active", "value": false}]}),
            "invalidSyntax",
        ),
        (json!({"schemas": [PATCH_OP]}), "invalidSyntax"),
        (
            json!({"schemas": [PATCH_OP], "Operations": {"op": "add"}}),
            "invalidSyntax",
        ),
        (
            json!({"schemas": [PATCH_OP], "Operations": []}),
            "invalidValue",
        ),
        (patch_op(Value::Array(too_many)), "tooMany"),
        // Failing late: the first operation would apply, the second fails.
        (
            patch_op(json!([
                {"op": "replace", "path": "displayName", "value": "Changed"},
                {"op": "replace", "path": "active", "value": "maybe"},
            ])),
            "invalidValue",
        ),
    ] {
        cases.push(body("PATCH", &user, message, scim_type));
    }
    let user_operations = [
        (
            json!({"op": "Merge", "path": "active", "value": false}),
            "invalidSyntax",
        ),
        (json!({"path": "active", "value": false}), "invalidSyntax"),
        (
            json!({"op": 5, "path": "active", "value": false}),
            "invalidSyntax",
        ),
        (json!("replace"), "invalidSyntax"),
        (
            json!({"op": "replace", "path": "emails[type eq \"work\"", "value": "x"}),
            "invalidPath",
        ),
        (
            json!({"op": "replace", "path": "shoeSize", "value": 44}),
            "invalidPath",
        ),
        (
            json!({"op": "replace", "path": "name.middle", "value": "x"}),
            "invalidPath",
        ),
        (
            json!({"op": "replace", "path": "emails[shoe eq \"x\"].value", "value": "x"}),
            "invalidPath",
        ),
        (
            json!({"op": "replace", "path": "userName[value eq \"x\"]", "value": "x"}),
            "invalidPath",
        ),
        (
            json!({"op": "replace", "path": 5, "value": "x"}),
            "invalidPath",
        ),
        (
            json!({"op": "replace", "path": "a b c", "value": "x"}),
            "invalidPath",
        ),
        (
            json!({"op": "replace", "path": long_path, "value": "x"}),
            "invalidPath",
        ),
        (
            json!({"op": "replace", "value": {"shoeSize": 44}}),
            "invalidPath",
        ),
        (
            json!({"op": "replace", "path": "active", "value": 5}),
            "invalidValue",
        ),
        (
            json!({"op": "Replace", "path": "active", "value": "maybe"}),
            "invalidValue",
        ),
        (json!({"op": "add", "path": "active"}), "invalidValue"),
        (json!({"op": "replace", "value": "x"}), "invalidValue"),
        (
            json!({"op": "replace", "path": "name", "value": 5}),
            "invalidValue",
        ),
        (json!({"op": "remove", "path": "userName"}), "invalidValue"),
        (
            json!({"op": "add", "path": "emails", "value": two_primaries}),
            "invalidValue",
        ),
        (
            json!({"op": "replace", "path": "id", "value": "mine"}),
            "mutability",
        ),
        (
            json!({"op": "replace", "path": "meta.created", "value": "2020-01-01T00:00:00Z"}),
            "mutability",
        ),
        (
            json!({"op": "add", "path": "groups", "value": [{"value": "x"}]}),
            "mutability",
        ),
        (json!({"op": "remove"}), "noTarget"),
        (
            json!({"op": "Replace", "path": "emails[value co \"nomatch\"].value", "value": "x"}),
            "noTarget",
        ),
    ];
    let group_operations = [
        (
            json!({"op": "Add", "path": "members", "value": unknown_member}),
            "invalidValue",
        ),
        (
            json!({"op": "Add", "path": "members", "value": [5]}),
            "invalidValue",
        ),
        (
            json!({"op": "Add", "path": "members", "value": [{"display": "no value"}]}),
            "invalidValue",
        ),
        (
            json!({"op": "Replace", "path": "members.value", "value": "x"}),
            "mutability",
        ),
        (
            json!({"op": "Remove", "path": "members[value eq "}),
            "invalidPath",
        ),
        (
            json!({"op": "Replace", "path": "displayName", "value": ""}),
            "invalidValue",
        ),
        (
            json!({"op": "Remove", "path": "displayName"}),
            "invalidValue",
        ),
    ];
    for (path, operations) in [
        (&user, &user_operations[..]),
        (&group, &group_operations[..]),
    ] {
        for (operation, scim_type) in operations {
            cases.push(patch(path, operation.clone(), scim_type));
        }
    }
    run_cases(srv, cases);
}

fn bad_list_parameters(srv: &Server) {
    targets(srv);
    let deep = format!("{}userName eq \"x\"{}", "(".repeat(100), ")".repeat(100));
    let deep_not = format!(
        "{}userName eq \"x\"{}",
        "not (".repeat(100),
        ")".repeat(100)
    );
    let long = format!("userName eq \"{}\"", "a".repeat(9 * 1024));
    let cases = vec![
        filter("userName eq"),
        filter("(userName eq \"x\""),
        filter("userName eq \"x\")"),
        filter("emails[type eq \"work\""),
        filter("emails[type eq \"work\"]]"),
        filter("userName xx \"x\""),
        filter("userName eq \"unterminated"),
        filter("userName eq \"x\" and"),
        filter("userName eq \"x\" or or userName eq \"y\""),
        filter("userName eq \"x\" userName eq \"y\""),
        filter("shoeSize eq 44"),
        filter("urn:example:nope:shoeSize eq 44"),
        filter(&deep),
        filter(&deep_not),
        filter(&long),
        get("/Users?startIndex=abc", "invalidValue"),
        get("/Users?count=1.5", "invalidValue"),
        get("/Users?sortBy=emails", "invalidValue"),
        get("/Users?sortBy=shoeSize", "invalidValue"),
        get("/Users?sortBy=userName&sortOrder=sideways", "invalidValue"),
        get("/Users?attributes=emails%5B", "invalidPath"),
        get("/Groups?excludedAttributes=members%5Bvalue", "invalidPath"),
        body(
            "POST",
            "/Users/.search",
            json!({"filter": "userName pr"}),
            "invalidSyntax",
        ),
        body(
            "POST",
            "/Users/.search",
            json!({"schemas": [SEARCH_REQUEST], "filter": "userName eq"}),
            "invalidFilter",
        ),
        body(
            "POST",
            "/Users/.search",
            json!({"schemas": [SEARCH_REQUEST], "count": "many"}),
            "invalidValue",
        ),
        body(
            "POST",
            "/Users/.search",
            json!({"schemas": [SEARCH_REQUEST], "attributes": [1]}),
            "invalidValue",
        ),
        body(
            "POST",
            "/Users/.search",
            json!({"schemas": [SEARCH_REQUEST], "filter": {"op": "eq"}}),
            "invalidValue",
        ),
        raw("POST", "/Groups/.search", b"{", "invalidSyntax"),
    ];
    run_cases(srv, cases);
}

fn wrong_content_types(srv: &Server) {
    let (user, group) = targets(srv);
    let valid_user = entra_user("typed@contoso.example").to_string().into_bytes();
    let valid_patch = patch_op(json!([{"op": "Replace", "path": "active", "value": "False"}]))
        .to_string()
        .into_bytes();
    let mut cases = Vec::new();
    for content_type in [
        "text/plain",
        "application/xml",
        "application/x-www-form-urlencoded",
        "multipart/form-data; boundary=x",
        "application/jsonx",
    ] {
        for (method, path, body) in [
            ("POST", "/Users", &valid_user),
            ("PUT", user.as_str(), &valid_user),
            ("PATCH", user.as_str(), &valid_patch),
            ("PATCH", group.as_str(), &valid_patch),
        ] {
            cases.push(Case {
                method,
                path: path.to_string(),
                content_type,
                body: Some(body.clone()),
                status: 415,
                scim_type: None,
            });
        }
    }
    run_cases(srv, cases);
    // Both JSON media types work, with parameters and in any case.
    let client = srv.a();
    for (i, content_type) in [
        "application/json",
        "application/scim+json; charset=utf-8",
        "Application/JSON",
    ]
    .into_iter()
    .enumerate()
    {
        let body = entra_user(&format!("typed{i}@contoso.example")).to_string();
        client
            .send(
                "POST",
                "/Users",
                &[("Content-Type", content_type)],
                Some(body.as_bytes()),
            )
            .ok(201);
    }
}

fn bad_tokens_come_before_bad_bodies(srv: &Server) {
    let (user, _) = targets(srv);
    let before = srv.snapshot();
    let anonymous = srv.client(&srv.a, None);
    let wrong = srv.client(&srv.a, Some("sshw_wrong"));
    for client in [anonymous, wrong] {
        for (method, path, content_type, body) in [
            ("POST", "/Users", "application/scim+json", &b"{"[..]),
            ("POST", "/Users", "text/plain", b"x"),
            ("PATCH", user.as_str(), "application/scim+json", b"[]"),
            ("PUT", user.as_str(), "application/scim+json", b""),
            ("POST", "/Users/.search", "application/scim+json", b"{}"),
            (
                "GET",
                "/Users?filter=userName+eq",
                "application/scim+json",
                b"",
            ),
            ("GET", "/Users?count=abc", "application/scim+json", b""),
        ] {
            client
                .send(method, path, &[("Content-Type", content_type)], Some(body))
                .error(401, None);
        }
    }
    assert_eq!(srv.snapshot(), before);
}

fn body_over_the_limit(srv: &Server) {
    let (user, group) = targets(srv);
    let client = srv.a();
    assert_eq!(
        client.get("/ServiceProviderConfig").ok(200)["bulk"]["maxPayloadSize"],
        json!(2048)
    );
    let before = srv.snapshot();
    let mut big = entra_user("big@contoso.example");
    big["displayName"] = json!("x".repeat(4096));
    let big = big.to_string().into_bytes();
    let big_patch =
        patch_op(json!([{"op": "Replace", "path": "displayName", "value": "x".repeat(4096)}]))
            .to_string()
            .into_bytes();
    let scim = [("Content-Type", "application/scim+json")];
    for (method, path, body) in [
        ("POST", "/Users", &big),
        ("PUT", user.as_str(), &big),
        ("PATCH", user.as_str(), &big_patch),
        ("PATCH", group.as_str(), &big_patch),
        ("POST", "/Users/.search", &big),
    ] {
        client
            .send(method, path, &scim, Some(body))
            .error(413, None);
        client
            .send_chunked(method, path, &scim, body)
            .error(413, None);
    }
    assert_eq!(srv.snapshot(), before);
    // Just under the limit is fine, also in chunks.
    let mut fits = entra_user("fits@contoso.example");
    fits["displayName"] = json!("x".repeat(1500));
    let fits = fits.to_string().into_bytes();
    assert!(fits.len() < 2048);
    client.send_chunked("POST", "/Users", &scim, &fits).ok(201);
}
