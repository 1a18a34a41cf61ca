//! Tests of request normalisation and response rendering.

use super::*;
use crate::schema::{ENTERPRISE_USER_SCHEMA, GROUP_SCHEMA, USER_SCHEMA};
use serde_json::json;

const ENTERPRISE: &str = ENTERPRISE_USER_SCHEMA;
const MS_GROUP: &str = "http://schemas.microsoft.com/2006/11/ResourceManagement/ADSCIM/2.0/Group";

fn user(body: Value) -> Result<Normalized, Error> {
    normalize(ResourceKind::User, &body)
}

fn group(body: Value) -> Result<Normalized, Error> {
    normalize(ResourceKind::Group, &body)
}

fn user_data(body: Value) -> Map<String, Value> {
    user(body.clone())
        .unwrap_or_else(|e| panic!("{body}: {e}"))
        .data
}

fn object(v: Value) -> Map<String, Value> {
    match v {
        Value::Object(o) => o,
        other => panic!("not an object: {other}"),
    }
}

/// The SCIM-DEV create request, verbatim.
#[test]
fn entra_create_user() {
    let n = user(json!({
        "schemas": [
            "urn:ietf:params:scim:schemas:core:2.0:User",
            "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"
        ],
        "externalId": "0a21f0f2-8d2a-4f8e-bf98-7363c4aed4ef",
        "userName": "Test_User_00aa00aa-bb11-cc22-dd33-44ee44ee44ee",
        "active": true,
        "emails": [{"primary": true, "type": "work", "value": "Test_User_11bb11bb-cc22-dd33-ee44-55ff55ff55ff@testuser.com"}],
        "meta": {"resourceType": "User"},
        "name": {"formatted": "givenName familyName", "familyName": "familyName", "givenName": "givenName"},
        "roles": []
    }))
    .unwrap();
    assert_eq!(
        Value::Object(n.data),
        json!({
            "externalId": "0a21f0f2-8d2a-4f8e-bf98-7363c4aed4ef",
            "userName": "Test_User_00aa00aa-bb11-cc22-dd33-44ee44ee44ee",
            "active": true,
            "emails": [{"primary": true, "type": "work", "value": "Test_User_11bb11bb-cc22-dd33-ee44-55ff55ff55ff@testuser.com"}],
            "name": {"formatted": "givenName familyName", "familyName": "familyName", "givenName": "givenName"}
        })
    );
    assert!(n.members.is_empty());
}

/// The validator's create request: nearly every attribute, string booleans, a bare manager.
#[test]
fn entra_validator_create_user() {
    let data = user_data(json!({
        "schemas": [USER_SCHEMA, ENTERPRISE],
        "id": "client-made-up-id",
        "externalId": "Ollie",
        "userName": "ollie@contoso.com",
        "active": "True",
        "displayName": "Ollie K",
        "nickName": "Ol",
        "title": "Engineer",
        "preferredLanguage": "en-US",
        "locale": "en-US",
        "timezone": "Europe/Berlin",
        "userType": "Employee",
        "profileUrl": "https://contoso.com/ollie",
        "password": "hunter2",
        "name": {"formatted": "Ollie K", "givenName": "Ollie", "familyName": "K", "middleName": "",
                 "honorificPrefix": "Dr.", "honorificSuffix": null},
        "emails": [
            {"type": "work", "value": "ollie@contoso.com", "primary": "True"},
            {"type": "home", "value": "ollie@home.example", "primary": "False"}
        ],
        "phoneNumbers": [{"type": "mobile", "value": "+1 555 0100", "primary": "false"}],
        "addresses": [{"type": "work", "streetAddress": "1 Main St", "locality": "Springfield",
                       "region": "IL", "postalCode": "62701", "country": "US", "formatted": "1 Main St", "primary": "true"}],
        "roles": [{"primary": "True", "type": "WindowsAzureActiveDirectoryRole", "value": "Admin", "display": "Admin"}],
        "groups": [{"value": "g1", "display": "Ops"}],
        "meta": {"resourceType": "User", "created": "2024-01-01T00:00:00Z"},
        ENTERPRISE: {
            "employeeNumber": "701984",
            "costCenter": "4130",
            "organization": "Contoso",
            "division": "Ops",
            "department": "Tour Operations",
            "manager": "26118915-6090-4610-87e4-49d8ca9f808d"
        }
    }));
    assert_eq!(data["active"], json!(true));
    assert_eq!(data["emails"][0]["primary"], json!(true));
    assert_eq!(data["emails"][1]["primary"], json!(false));
    assert_eq!(data["phoneNumbers"][0]["primary"], json!(false));
    assert_eq!(data["addresses"][0]["primary"], json!(true));
    assert_eq!(
        data["roles"],
        json!([{"primary": true, "type": "WindowsAzureActiveDirectoryRole", "value": "Admin", "display": "Admin"}])
    );
    assert_eq!(
        data["name"],
        json!({"formatted": "Ollie K", "givenName": "Ollie", "familyName": "K", "honorificPrefix": "Dr."})
    );
    assert_eq!(
        data[ENTERPRISE],
        json!({
            "employeeNumber": "701984",
            "costCenter": "4130",
            "organization": "Contoso",
            "division": "Ops",
            "department": "Tour Operations",
            "manager": {"value": "26118915-6090-4610-87e4-49d8ca9f808d"}
        })
    );
    // Read-only and write-only attributes are not kept.
    for gone in ["id", "meta", "groups", "password", "schemas"] {
        assert!(!data.contains_key(gone), "{gone} should not be stored");
    }
    assert_eq!(data["timezone"], json!("Europe/Berlin"));
    // Every boolean in the stored data is a real boolean.
    fn no_string_booleans(v: &Value) {
        match v {
            Value::String(s) => {
                assert!(!s.eq_ignore_ascii_case("true") && !s.eq_ignore_ascii_case("false"))
            }
            Value::Array(items) => items.iter().for_each(no_string_booleans),
            Value::Object(o) => o.values().for_each(no_string_booleans),
            _ => {}
        }
    }
    no_string_booleans(&Value::Object(data));
}

#[test]
fn entra_create_group() {
    let n = group(json!({
        "schemas": [GROUP_SCHEMA, MS_GROUP],
        "externalId": "8aa1a0c0-c4c3-4bc0-b4a5-2ef676900159",
        "displayName": "displayName",
        "meta": {"resourceType": "Group"}
    }))
    .unwrap();
    assert_eq!(
        Value::Object(n.data),
        json!({"externalId": "8aa1a0c0-c4c3-4bc0-b4a5-2ef676900159", "displayName": "displayName"})
    );
    assert!(n.members.is_empty());
    // An object under the Microsoft schema URI is ignored too.
    let n = group(json!({
        "schemas": [GROUP_SCHEMA, MS_GROUP],
        "displayName": "g",
        MS_GROUP: {"anything": true}
    }))
    .unwrap();
    assert_eq!(Value::Object(n.data), json!({"displayName": "g"}));
}

#[test]
fn group_members_in_the_body() {
    let n = group(json!({
        "schemas": [GROUP_SCHEMA],
        "displayName": "Ops",
        "members": [
            {"value": "u1", "display": "Alice", "$ref": "https://x/Users/u1"},
            {"value": "u2", "type": "User"},
            {"value": "u1"},
            "u3"
        ]
    }))
    .unwrap();
    let ids: Vec<&str> = n.members.iter().map(|m| m.value.as_str()).collect();
    assert_eq!(ids, ["u1", "u2", "u3"]);
    assert!(
        !n.data.contains_key("members"),
        "members are rows, not data"
    );
    for bad in [
        json!([{"value": "g", "type": "Group"}]),
        json!([{"display": "x"}]),
        json!([{"value": ""}]),
        json!([7]),
    ] {
        let body = json!({"schemas": [GROUP_SCHEMA], "displayName": "Ops", "members": bad});
        assert!(
            matches!(group(body.clone()), Err(Error::InvalidValue(_))),
            "{body}"
        );
    }
}

#[test]
fn member_refs_forms() {
    assert_eq!(member_refs(&Value::Null).unwrap(), vec![]);
    assert_eq!(
        member_refs(&json!({"value": "a"})).unwrap(),
        vec![MemberRef { value: "a".into() }]
    );
    assert_eq!(
        member_refs(&json!([{"$ref": null, "value": "a"}, {"value": "b", "type": "user"}]))
            .unwrap(),
        vec![
            MemberRef { value: "a".into() },
            MemberRef { value: "b".into() }
        ]
    );
}

#[test]
fn unknown_attributes_are_rejected_by_name() {
    let cases = [
        (
            json!({"schemas": [USER_SCHEMA], "userName": "a", "favouriteColour": "blue"}),
            "favouriteColour",
        ),
        (
            json!({"schemas": [USER_SCHEMA], "userName": "a", "name.givenName": "x"}),
            "name.givenName",
        ),
        (
            json!({"schemas": [USER_SCHEMA], "userName": "a", "members": []}),
            "members",
        ),
        (
            json!({"schemas": [USER_SCHEMA], "userName": "a", "name": {"nick": "x"}}),
            "nick",
        ),
        (
            json!({"schemas": [USER_SCHEMA], "userName": "a", "emails": [{"value": "x", "label": "y"}]}),
            "label",
        ),
        (
            json!({"schemas": [USER_SCHEMA, ENTERPRISE], "userName": "a", ENTERPRISE: {"badge": "1"}}),
            "badge",
        ),
        (
            json!({"schemas": [USER_SCHEMA], "userName": "a", ENTERPRISE: "x"}),
            ENTERPRISE,
        ),
        (
            json!({"schemas": [USER_SCHEMA], "userName": "a", USER_SCHEMA: {"title": "x"}}),
            USER_SCHEMA,
        ),
    ];
    for (body, name) in cases {
        match user(body.clone()) {
            Err(Error::InvalidSyntax(m)) => assert!(m.contains(name), "{body}: {m}"),
            other => panic!("{body}: expected invalidSyntax, got {other:?}"),
        }
    }
    match group(json!({"schemas": [GROUP_SCHEMA], "displayName": "g", "userName": "x"})) {
        Err(Error::InvalidSyntax(m)) => assert!(m.contains("userName") && m.contains("Group")),
        other => panic!("{other:?}"),
    }
}

#[test]
fn required_attributes() {
    for body in [
        json!({"schemas": [USER_SCHEMA]}),
        json!({"schemas": [USER_SCHEMA], "userName": ""}),
        json!({"schemas": [USER_SCHEMA], "userName": null}),
        json!({"schemas": [USER_SCHEMA], "displayName": "No Login"}),
    ] {
        match user(body.clone()) {
            Err(Error::InvalidValue(m)) => assert!(m.contains("userName"), "{body}: {m}"),
            other => panic!("{body}: expected invalidValue, got {other:?}"),
        }
    }
    assert!(matches!(
        group(json!({"schemas": [GROUP_SCHEMA], "members": []})),
        Err(Error::InvalidValue(m)) if m.contains("displayName")
    ));
}

#[test]
fn bodies_that_are_not_resources() {
    for body in [json!([]), json!("user"), json!(null), json!(5)] {
        assert!(
            matches!(user(body.clone()), Err(Error::InvalidSyntax(_))),
            "{body}"
        );
    }
    for body in [
        json!({"userName": "a"}),
        json!({"schemas": USER_SCHEMA, "userName": "a"}),
        json!({"schemas": [5], "userName": "a"}),
        json!({"schemas": [GROUP_SCHEMA], "userName": "a"}),
        json!({"schemas": [ENTERPRISE], "userName": "a"}),
    ] {
        assert!(
            matches!(user(body.clone()), Err(Error::InvalidSyntax(m)) if m.contains("schemas")),
            "{body}"
        );
    }
    // The core schema URI compares case-insensitively.
    assert!(
        user(json!({"schemas": ["urn:ietf:params:scim:schemas:core:2.0:user"], "userName": "a"}))
            .is_ok()
    );
}

#[test]
fn one_primary_at_most() {
    let body = json!({
        "schemas": [USER_SCHEMA],
        "userName": "a",
        "emails": [{"value": "a@x", "primary": true}, {"value": "b@x", "primary": "True"}]
    });
    assert!(
        matches!(user(body), Err(Error::InvalidValue(m)) if m.contains("emails") && m.contains("primary"))
    );
}

#[test]
fn value_types() {
    let data = user_data(json!({
        "schemas": [USER_SCHEMA],
        "userName": 12345,
        "active": " FALSE ",
        "emails": "solo@example.com",
        "phoneNumbers": {"value": "+1"},
        "title": "",
        "nickName": null,
        "ims": [],
        "addresses": [{}],
        "x509Certificates": [{"value": "TUlJQg=="}]
    }));
    assert_eq!(
        Value::Object(data),
        json!({
            "userName": "12345",
            "active": false,
            "emails": [{"value": "solo@example.com"}],
            "phoneNumbers": [{"value": "+1"}],
            "x509Certificates": [{"value": "TUlJQg=="}]
        })
    );
    for (attr, value) in [
        ("active", json!("yes")),
        ("active", json!(0)),
        ("active", json!([true])),
        ("displayName", json!(true)),
        ("displayName", json!({"x": 1})),
        ("displayName", json!(["a"])),
        ("name", json!("Alice")),
        ("name", json!(["Alice"])),
        ("emails", json!([["x"]])),
        ("emails", json!([true])),
    ] {
        let body = json!({"schemas": [USER_SCHEMA], "userName": "a", attr: value});
        assert!(
            matches!(user(body.clone()), Err(Error::InvalidValue(_))),
            "{body}"
        );
    }
}

#[test]
fn duplicates_in_multi_valued_attributes_collapse() {
    let data = user_data(json!({
        "schemas": [USER_SCHEMA],
        "userName": "a",
        "emails": [{"value": "a@x", "type": "work"}, {"value": "a@x", "type": "work"}]
    }));
    assert_eq!(data["emails"], json!([{"value": "a@x", "type": "work"}]));
}

#[test]
fn attribute_names_take_their_canonical_spelling() {
    let data = user_data(json!({
        "schemas": [USER_SCHEMA, ENTERPRISE],
        "USERNAME": "a",
        "Name": {"GivenName": "x"},
        "EMAILS": [{"VALUE": "a@x", "Primary": "true"}],
        "urn:ietf:params:scim:schemas:extension:enterprise:2.0:user": {"EmployeeNumber": "7"}
    }));
    assert_eq!(
        Value::Object(data),
        json!({
            "userName": "a",
            "name": {"givenName": "x"},
            "emails": [{"value": "a@x", "primary": true}],
            ENTERPRISE: {"employeeNumber": "7"}
        })
    );
}

#[test]
fn an_empty_extension_is_not_stored() {
    let data = user_data(json!({
        "schemas": [USER_SCHEMA, ENTERPRISE],
        "userName": "a",
        ENTERPRISE: {"employeeNumber": "", "manager": {"value": ""}}
    }));
    assert!(!data.contains_key(ENTERPRISE), "{data:?}");
    let data = user_data(json!({"schemas": [USER_SCHEMA], "userName": "a", ENTERPRISE: null}));
    assert!(!data.contains_key(ENTERPRISE));
}

// ---------------------------------------------------------------- rendering

fn meta() -> Meta {
    Meta {
        created: time::macros::datetime!(2024-01-02 03:04:05 UTC),
        last_modified: time::macros::datetime!(2024-05-01 12:00:00.5 UTC),
        version: 7,
    }
}

#[test]
fn render_a_user() {
    let data =
        object(json!({"userName": "a", "active": false, ENTERPRISE: {"employeeNumber": "7"}}));
    let out = render(
        ResourceKind::User,
        "https://h/scim/v2/acme",
        "u1",
        &meta(),
        &data,
        None,
    );
    assert_eq!(
        Value::Object(out),
        json!({
            "schemas": [USER_SCHEMA, ENTERPRISE],
            "id": "u1",
            "userName": "a",
            "active": false,
            ENTERPRISE: {"employeeNumber": "7"},
            "meta": {
                "resourceType": "User",
                "created": "2024-01-02T03:04:05Z",
                "lastModified": "2024-05-01T12:00:00.5Z",
                "location": "https://h/scim/v2/acme/Users/u1",
                "version": "W/\"7\""
            }
        })
    );
    // Without extension data, only the core schema is listed.
    let out = render(
        ResourceKind::User,
        "b",
        "u1",
        &meta(),
        &object(json!({"userName": "a"})),
        None,
    );
    assert_eq!(out["schemas"], json!([USER_SCHEMA]));
    // A user's groups.
    let links = [Link {
        value: "g1".into(),
        display: Some("Ops".into()),
    }];
    let out = render(
        ResourceKind::User,
        "b",
        "u1",
        &meta(),
        &object(json!({"userName": "a"})),
        Some(&links),
    );
    assert_eq!(
        out["groups"],
        json!([{"value": "g1", "$ref": "b/Groups/g1", "display": "Ops", "type": "direct"}])
    );
}

#[test]
fn render_a_group() {
    let data = object(json!({"displayName": "Ops"}));
    let links = [
        Link {
            value: "u1".into(),
            display: Some("Alice".into()),
        },
        Link {
            value: "u2".into(),
            display: None,
        },
    ];
    let out = render(
        ResourceKind::Group,
        "https://h/scim/v2/t",
        "g1",
        &meta(),
        &data,
        Some(&links),
    );
    assert_eq!(out["schemas"], json!([GROUP_SCHEMA]));
    assert_eq!(
        out["members"],
        json!([
            {"value": "u1", "$ref": "https://h/scim/v2/t/Users/u1", "display": "Alice", "type": "User"},
            {"value": "u2", "$ref": "https://h/scim/v2/t/Users/u2", "type": "User"}
        ])
    );
    assert_eq!(
        out["meta"]["location"],
        json!("https://h/scim/v2/t/Groups/g1")
    );
    assert_eq!(out["meta"]["resourceType"], json!("Group"));
    // Members not loaded: not rendered. Loaded and empty: an empty list.
    let out = render(ResourceKind::Group, "b", "g1", &meta(), &data, None);
    assert!(!out.contains_key("members"));
    let out = render(ResourceKind::Group, "b", "g1", &meta(), &data, Some(&[]));
    assert_eq!(out["members"], json!([]));
}

#[test]
fn etags_are_weak_and_versioned() {
    assert_eq!(etag(1), "W/\"1\"");
    assert_ne!(etag(1), etag(2));
}

#[test]
fn rendered_resources_pass_their_own_filters() {
    // A rendered user matches the queries Entra sends for it.
    let data = user_data(json!({
        "schemas": [USER_SCHEMA],
        "userName": "Alice@Example.com",
        "externalId": "alice",
        "emails": [{"type": "work", "value": "alice@example.com", "primary": "True"}]
    }));
    let out = Value::Object(render(ResourceKind::User, "b", "u1", &meta(), &data, None));
    for text in [
        r#"userName eq "alice@example.com""#,
        r#"externalId eq "alice""#,
        r#"id eq "u1""#,
        r#"emails[type eq "work"].value eq "alice@example.com""#,
        r#"meta.lastModified gt "2024-05-01T12:00:00Z""#,
        r#"meta.created eq "2024-01-02T03:04:05Z""#,
    ] {
        let f = crate::filter::resolve(crate::filter::parse(text).unwrap(), ResourceKind::User)
            .unwrap();
        assert!(
            crate::filter::matches(&f, &out, ResourceKind::User),
            "{text}"
        );
    }
}

#[test]
fn control_characters_in_names_are_refused() {
    for bad in [
        "a\nb@contoso.com",
        "a\rb",
        "\u{1b}[2Jx",
        "tab\there",
        "nul\u{0}",
        "c1\u{85}",
    ] {
        let err = user(json!({"schemas": [USER_SCHEMA], "userName": bad})).unwrap_err();
        assert!(
            matches!(&err, Error::InvalidValue(m) if m.contains("control")),
            "{bad:?}: {err}"
        );
        let err = user(json!({"schemas": [USER_SCHEMA], "userName": "ok", "displayName": bad}))
            .unwrap_err();
        assert!(matches!(err, Error::InvalidValue(_)), "{bad:?}");
        let err = group(json!({"schemas": [GROUP_SCHEMA], "displayName": bad})).unwrap_err();
        assert!(matches!(err, Error::InvalidValue(_)), "{bad:?}");
    }
    // Other text may hold any Unicode: accents, emoji, right-to-left scripts.
    assert!(
        user(
            json!({"schemas": [USER_SCHEMA], "userName": "zoë@contoso.com",
        "displayName": "Zoë 🚀 زهرة"})
        )
        .is_ok()
    );
}
