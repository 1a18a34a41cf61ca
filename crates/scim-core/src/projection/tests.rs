//! Tests of `attributes` / `excludedAttributes`.

use super::*;
use crate::schema::{ENTERPRISE_USER_SCHEMA, GROUP_SCHEMA, USER_SCHEMA};
use serde_json::json;

const ENTERPRISE: &str = ENTERPRISE_USER_SCHEMA;

fn rendered_user() -> Map<String, Value> {
    let value = json!({
        "schemas": [USER_SCHEMA, ENTERPRISE],
        "id": "u1",
        "externalId": "ext-1",
        "userName": "alice@example.com",
        "displayName": "Alice",
        "active": true,
        "password": "must never be shown",
        "name": {"givenName": "Alice", "familyName": "Example"},
        "emails": [
            {"value": "alice@example.com", "type": "work", "primary": true},
            {"value": "alice@home.example", "type": "home"}
        ],
        "groups": [{"value": "g1", "display": "Ops", "type": "direct"}],
        ENTERPRISE: {
            "employeeNumber": "7",
            "department": "Ops",
            "manager": {"value": "m1", "$ref": "https://h/Users/m1", "displayName": "Boss"}
        },
        "meta": {"resourceType": "User", "lastModified": "2024-05-01T12:00:00Z", "version": "W/\"1\""}
    });
    match value {
        Value::Object(o) => o,
        _ => unreachable!(),
    }
}

fn project(attributes: Option<&str>, excluded: Option<&str>) -> Value {
    let p = Projection::parse(ResourceKind::User, attributes, excluded).unwrap();
    Value::Object(p.apply(ResourceKind::User, &rendered_user()))
}

fn keys(v: &Value) -> Vec<&str> {
    let mut keys: Vec<&str> = v.as_object().unwrap().keys().map(String::as_str).collect();
    keys.sort_unstable();
    keys
}

#[test]
fn no_parameters_return_everything_but_never_returned_attributes() {
    let out = project(None, None);
    let mut expected = rendered_user();
    expected.remove("password");
    assert_eq!(out, Value::Object(expected));
}

#[test]
fn attributes_selects_top_level_attributes() {
    let out = project(Some("userName"), None);
    assert_eq!(keys(&out), ["id", "schemas", "userName"]);
    let out = project(Some("userName, displayName,emails"), None);
    assert_eq!(
        keys(&out),
        ["displayName", "emails", "id", "schemas", "userName"]
    );
    assert_eq!(out["emails"], rendered_user()["emails"]);
    // Names are case-insensitive and may be schema-qualified.
    let out = project(
        Some("USERNAME,urn:ietf:params:scim:schemas:core:2.0:User:displayName"),
        None,
    );
    assert_eq!(keys(&out), ["displayName", "id", "schemas", "userName"]);
}

#[test]
fn attributes_selects_sub_attributes() {
    let out = project(Some("name.givenName"), None);
    assert_eq!(out["name"], json!({"givenName": "Alice"}));
    let out = project(Some("emails.value"), None);
    assert_eq!(
        out["emails"],
        json!([{"value": "alice@example.com"}, {"value": "alice@home.example"}])
    );
    let out = project(Some("emails.value,emails.type"), None);
    assert_eq!(
        out["emails"],
        json!([{"value": "alice@example.com", "type": "work"}, {"value": "alice@home.example", "type": "home"}])
    );
    // The parent and one of its sub-attributes: the whole parent.
    let out = project(Some("name,name.givenName"), None);
    assert_eq!(out["name"], rendered_user()["name"]);
    let out = project(Some("meta.lastModified"), None);
    assert_eq!(out["meta"], json!({"lastModified": "2024-05-01T12:00:00Z"}));
}

#[test]
fn excluded_attributes() {
    let out = project(None, Some("emails,name"));
    assert!(out.get("emails").is_none() && out.get("name").is_none());
    assert_eq!(out["userName"], json!("alice@example.com"));
    let out = project(None, Some("emails.type,emails.primary"));
    assert_eq!(
        out["emails"],
        json!([{"value": "alice@example.com"}, {"value": "alice@home.example"}])
    );
    let out = project(None, Some("groups"));
    assert!(out.get("groups").is_none());
    assert!(out.get("meta").is_some());
}

#[test]
fn extension_attributes() {
    // Qualified or not, an extension attribute is found in its extension.
    for selector in [
        "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:employeeNumber",
        "employeeNumber",
        "EMPLOYEENUMBER",
    ] {
        let out = project(Some(selector), None);
        assert_eq!(keys(&out), ["id", "schemas", ENTERPRISE], "{selector}");
        assert_eq!(
            out[ENTERPRISE],
            json!({"employeeNumber": "7"}),
            "{selector}"
        );
    }
    // A sub-attribute of an extension attribute.
    let out = project(
        Some("urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:manager.value"),
        None,
    );
    assert_eq!(out[ENTERPRISE], json!({"manager": {"value": "m1"}}));
    let out = project(None, Some("manager.$ref,manager.displayName,department"));
    assert_eq!(
        out[ENTERPRISE],
        json!({"employeeNumber": "7", "manager": {"value": "m1"}})
    );
    // The whole extension.
    let out = project(
        Some("urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"),
        None,
    );
    assert_eq!(out[ENTERPRISE], rendered_user()[ENTERPRISE]);
    assert!(out.get("userName").is_none());
    let out = project(
        None,
        Some("urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"),
    );
    assert!(out.get(ENTERPRISE).is_none());
    assert_eq!(out["userName"], json!("alice@example.com"));
    // An extension left empty by the projection is left out.
    let out = project(None, Some("employeeNumber,department,manager"));
    assert!(out.get(ENTERPRISE).is_none());
}

#[test]
fn id_is_always_returned_and_password_never() {
    for (attributes, excluded) in [
        (Some("userName"), None),
        (None, Some("id")),
        (Some("displayName"), Some("id")),
        (Some("password"), None),
    ] {
        let out = project(attributes, excluded);
        assert_eq!(out["id"], json!("u1"), "{attributes:?} {excluded:?}");
        assert!(out.get("password").is_none(), "{attributes:?} {excluded:?}");
    }
}

#[test]
fn unknown_names_select_nothing_and_malformed_ones_fail() {
    let out = project(Some("nosuch"), None);
    assert_eq!(keys(&out), ["id", "schemas"]);
    let out = project(None, Some("nosuch,name.nosuch"));
    assert!(out.get("name").is_some());
    for bad in ["emails[type eq \"work\"]", "a b", "1x", "name..x"] {
        let error = Projection::parse(ResourceKind::User, Some(bad), None).unwrap_err();
        assert!(
            matches!(&error, Error::InvalidPath(m) if m.contains(bad)),
            "{bad}: {error:?}"
        );
        let error = Projection::parse(ResourceKind::User, None, Some(bad)).unwrap_err();
        assert!(matches!(error, Error::InvalidPath(_)), "{bad}");
    }
    // Empty parameters are no parameters.
    assert_eq!(
        Projection::parse(ResourceKind::User, Some(""), Some(" , ")).unwrap(),
        Projection::default()
    );
}

#[test]
fn includes_tells_whether_to_load_members() {
    let group = |attributes: Option<&str>, excluded: Option<&str>| {
        Projection::parse(ResourceKind::Group, attributes, excluded).unwrap()
    };
    assert!(group(None, None).includes(ResourceKind::Group, "members"));
    assert!(!group(None, Some("members")).includes(ResourceKind::Group, "members"));
    assert!(!group(None, Some("MEMBERS")).includes(ResourceKind::Group, "members"));
    assert!(group(None, Some("members.display")).includes(ResourceKind::Group, "members"));
    assert!(!group(Some("displayName"), None).includes(ResourceKind::Group, "members"));
    assert!(group(Some("members.value"), None).includes(ResourceKind::Group, "members"));
    assert!(group(Some("displayName,members"), None).includes(ResourceKind::Group, "members"));
    assert!(group(None, Some("members")).includes(ResourceKind::Group, "displayName"));
    // Users: groups.
    let user = Projection::parse(ResourceKind::User, None, Some("groups")).unwrap();
    assert!(!user.includes(ResourceKind::User, "groups"));
    assert!(Projection::default().includes(ResourceKind::User, "groups"));
    assert!(!Projection::default().includes(ResourceKind::User, "password"));
    assert!(!Projection::default().includes(ResourceKind::User, "nosuch"));
}

#[test]
fn entra_group_match_query() {
    // GET /Groups?excludedAttributes=members&filter=displayName eq "x"
    let p = Projection::parse(ResourceKind::Group, None, Some("members")).unwrap();
    let group = json!({
        "schemas": [GROUP_SCHEMA],
        "id": "g1",
        "displayName": "x",
        "members": [{"value": "u1"}],
        "meta": {"resourceType": "Group"}
    });
    let out = p.apply(ResourceKind::Group, group.as_object().unwrap());
    assert_eq!(
        Value::Object(out),
        json!({"schemas": [GROUP_SCHEMA], "id": "g1", "displayName": "x", "meta": {"resourceType": "Group"}})
    );
}

#[test]
fn an_empty_member_list_is_returned() {
    // `members` has a sub-attribute returned only on request (`display`), so its elements
    // are projected one by one; a group without members still shows `"members": []`.
    let group = json!({"schemas": [GROUP_SCHEMA], "id": "g1", "displayName": "x", "members": []});
    let out = Projection::default().apply(ResourceKind::Group, group.as_object().unwrap());
    assert_eq!(Value::Object(out), group);
}
