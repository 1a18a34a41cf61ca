//! Tests of the PATCH engine, with the request shapes Microsoft Entra ID sends.

use super::*;
use crate::resource::normalize;
use crate::schema::ENTERPRISE_USER_SCHEMA;
use serde_json::json;

const ENTERPRISE: &str = ENTERPRISE_USER_SCHEMA;

/// Entra's create payload (SCIM-DEV), normalised: the stored data of a fresh user.
fn entra_user() -> Map<String, Value> {
    let body = json!({
        "schemas": [
            "urn:ietf:params:scim:schemas:core:2.0:User",
            "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"
        ],
        "externalId": "0a21f0f2-8d2a-4f8e-bf98-7363c4aed4ef",
        "userName": "Test_User_00aa00aa-bb11-cc22-dd33-44ee44ee44ee",
        "active": true,
        "emails": [{
            "primary": true,
            "type": "work",
            "value": "Test_User_11bb11bb-cc22-dd33-ee44-55ff55ff55ff@testuser.com"
        }],
        "meta": {"resourceType": "User"},
        "name": {"formatted": "givenName familyName", "familyName": "familyName", "givenName": "givenName"},
        "roles": []
    });
    normalize(ResourceKind::User, &body).unwrap().data
}

/// A user with a home address only.
fn home_only_user() -> Map<String, Value> {
    let body = json!({
        "schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"],
        "userName": "bob@example.com",
        "emails": [{"type": "home", "value": "bob@home.example", "primary": true}]
    });
    normalize(ResourceKind::User, &body).unwrap().data
}

fn group_data() -> Map<String, Value> {
    let body = json!({
        "schemas": [
            "urn:ietf:params:scim:schemas:core:2.0:Group",
            "http://schemas.microsoft.com/2006/11/ResourceManagement/ADSCIM/2.0/Group"
        ],
        "externalId": "8aa1a0c0-c4c3-4bc0-b4a5-2ef676900159",
        "displayName": "displayName",
        "meta": {"resourceType": "Group"}
    });
    normalize(ResourceKind::Group, &body).unwrap().data
}

fn request(operations: Value) -> PatchRequest {
    let body = json!({"schemas": [PATCH_OP_SCHEMA], "Operations": operations});
    PatchRequest::parse(&body).unwrap_or_else(|e| panic!("{body}: {e}"))
}

fn patch(
    kind: ResourceKind,
    data: &mut Map<String, Value>,
    operations: Value,
) -> Result<PatchOutcome, Error> {
    apply(kind, data, &request(operations))
}

/// Applies `operations` to a user and returns the new data.
fn patched_user(mut data: Map<String, Value>, operations: Value) -> Map<String, Value> {
    patch(ResourceKind::User, &mut data, operations.clone())
        .unwrap_or_else(|e| panic!("{operations}: {e}"));
    data
}

/// Applies `operations` to a group and returns the member changes.
fn group_changes(operations: Value) -> Vec<MemberChange> {
    let mut data = group_data();
    let outcome = patch(ResourceKind::Group, &mut data, operations.clone())
        .unwrap_or_else(|e| panic!("{operations}: {e}"));
    assert_eq!(data, group_data(), "member operations leave the data alone");
    assert!(!outcome.data_changed);
    outcome.members
}

/// The error a user PATCH gives; also checks that the data did not change.
fn user_error(operations: Value) -> Error {
    let before = entra_user();
    let mut data = before.clone();
    let error = patch(ResourceKind::User, &mut data, operations.clone())
        .err()
        .unwrap_or_else(|| panic!("{operations} should fail"));
    assert_eq!(data, before, "a failed PATCH changes nothing");
    error
}

fn group_error(operations: Value) -> Error {
    let mut data = group_data();
    let error = patch(ResourceKind::Group, &mut data, operations.clone())
        .err()
        .unwrap_or_else(|| panic!("{operations} should fail"));
    assert_eq!(data, group_data(), "a failed PATCH changes nothing");
    error
}

fn parse_error(body: Value) -> Error {
    PatchRequest::parse(&body)
        .err()
        .unwrap_or_else(|| panic!("{body} should not parse"))
}

fn refs(ids: &[&str]) -> Vec<MemberRef> {
    ids.iter()
        .map(|id| MemberRef {
            value: id.to_string(),
        })
        .collect()
}

fn ids(ids: &[&str]) -> Vec<String> {
    ids.iter().map(|s| s.to_string()).collect()
}

// ---------------------------------------------------------------- parsing

#[test]
fn ops_in_any_case() {
    for (word, op) in [
        ("Add", PatchOp::Add),
        ("add", PatchOp::Add),
        ("ADD", PatchOp::Add),
        ("Replace", PatchOp::Replace),
        ("replace", PatchOp::Replace),
        ("Remove", PatchOp::Remove),
        ("remove", PatchOp::Remove),
    ] {
        let parsed = request(json!([{"op": word, "path": "nickName", "value": "x"}]));
        assert_eq!(parsed.operations[0].op, op, "{word}");
    }
}

#[test]
fn operation_parts() {
    let parsed = request(json!([
        {"op": "Replace", "path": "emails[type eq \"work\"].value", "value": "a@b.c"},
        {"op": "replace", "value": {"displayName": "x"}},
        {"op": "Remove", "path": "members[value eq \"id\"]"}
    ]));
    let first = &parsed.operations[0];
    assert_eq!(
        first.path,
        Some(filter::parse_path("emails[type eq \"work\"].value").unwrap())
    );
    assert_eq!(first.value, Some(json!("a@b.c")));
    assert_eq!(parsed.operations[1].path, None);
    assert_eq!(parsed.operations[2].value, None);
    // Member names of the message are read case-insensitively, as Entra's are.
    let loose = PatchRequest::parse(&json!({
        "schemas": [PATCH_OP_SCHEMA],
        "operations": [{"OP": "add", "Path": "nickName", "Value": "Babs"}]
    }))
    .unwrap();
    assert_eq!(loose.operations[0].op, PatchOp::Add);
    assert_eq!(loose.operations[0].value, Some(json!("Babs")));
    // An empty path is no path.
    let blank = request(json!([{"op": "replace", "path": "", "value": {"nickName": "x"}}]));
    assert_eq!(blank.operations[0].path, None);
}

#[test]
fn malformed_messages() {
    let op = json!({"op": "add", "path": "nickName", "value": "x"});
    let cases = [
        (json!([op]), "a JSON object"),
        (json!({"Operations": [op]}), "'schemas'"),
        (json!({"schemas": [], "Operations": [op]}), "'schemas'"),
        (
            json!({"schemas": ["urn:ietf:params:scim:api:messages:2.0:SearchRequest"], "Operations": [op]}),
            "'schemas'",
        ),
        (
            json!({"schemas": PATCH_OP_SCHEMA, "Operations": [op]}),
            "'schemas'",
        ),
        (
            json!({"schemas": [PATCH_OP_SCHEMA]}),
            "'Operations' must be an array",
        ),
        (
            json!({"schemas": [PATCH_OP_SCHEMA], "Operations": op}),
            "'Operations' must be an array",
        ),
        (
            json!({"schemas": [PATCH_OP_SCHEMA], "Operations": ["add"]}),
            "operation 1: an operation must be an object",
        ),
        (
            json!({"schemas": [PATCH_OP_SCHEMA], "Operations": [op, {"op": "move", "path": "nickName"}]}),
            "operation 2: unknown op 'move'",
        ),
        (
            json!({"schemas": [PATCH_OP_SCHEMA], "Operations": [{"path": "nickName", "value": "x"}]}),
            "'op' is required",
        ),
        (
            json!({"schemas": [PATCH_OP_SCHEMA], "Operations": [{"op": 1, "value": "x"}]}),
            "'op' is required",
        ),
    ];
    for (body, expected) in cases {
        match parse_error(body.clone()) {
            Error::InvalidSyntax(m) => assert!(m.contains(expected), "{body}: {m}"),
            other => panic!("{body}: expected invalidSyntax, got {other:?}"),
        }
    }
    assert!(matches!(
        parse_error(json!({"schemas": [PATCH_OP_SCHEMA], "Operations": []})),
        Error::InvalidValue(_)
    ));
    assert!(matches!(
        parse_error(json!({"schemas": [PATCH_OP_SCHEMA], "Operations": [{"op": "add", "path": "nickName"}]})),
        Error::InvalidValue(m) if m.contains("need a 'value'")
    ));
    assert!(matches!(
        parse_error(json!({"schemas": [PATCH_OP_SCHEMA], "Operations": [{"op": "replace"}]})),
        Error::InvalidValue(_)
    ));
    assert!(matches!(
        parse_error(
            json!({"schemas": [PATCH_OP_SCHEMA], "Operations": [{"op": "remove", "path": 5}]})
        ),
        Error::InvalidPath(_)
    ));
}

#[test]
fn too_many_operations() {
    let op = json!({"op": "add", "path": "nickName", "value": "x"});
    let body = |n: usize| json!({"schemas": [PATCH_OP_SCHEMA], "Operations": vec![op.clone(); n]});
    assert_eq!(
        PatchRequest::parse(&body(MAX_OPERATIONS))
            .unwrap()
            .operations
            .len(),
        MAX_OPERATIONS
    );
    let error = parse_error(body(MAX_OPERATIONS + 1));
    assert!(matches!(error, Error::TooMany(_)), "{error:?}");
    assert_eq!(error.status(), 400);
}

#[test]
fn malformed_paths_are_invalid_path() {
    for path in [
        "emails[type eq \"work\"",
        "emails[type eq]",
        "name..givenName",
        "emails[type eq \"work\"].value.x",
        "members[value eq \"a\"]]",
        "a b",
    ] {
        let error = parse_error(json!({
            "schemas": [PATCH_OP_SCHEMA],
            "Operations": [{"op": "remove", "path": path}]
        }));
        assert!(
            matches!(&error, Error::InvalidPath(m) if m.contains(path) && m.contains("at character")),
            "{path}: {error:?}"
        );
    }
}

// ---------------------------------------------------------------- users: single values

#[test]
fn disable_with_a_string_boolean() {
    let data = patched_user(
        entra_user(),
        json!([{"op": "Replace", "path": "active", "value": "False"}]),
    );
    assert_eq!(data["active"], json!(false));
    let data = patched_user(
        data,
        json!([{"op": "Replace", "path": "active", "value": "True"}]),
    );
    assert_eq!(data["active"], json!(true));
}

#[test]
fn disable_with_a_real_boolean() {
    let mut data = entra_user();
    let outcome = patch(
        ResourceKind::User,
        &mut data,
        json!([{"op": "replace", "path": "active", "value": false}]),
    )
    .unwrap();
    assert_eq!(data["active"], json!(false));
    assert!(outcome.data_changed);
    assert!(outcome.members.is_empty());
    // The same again changes nothing.
    let outcome = patch(
        ResourceKind::User,
        &mut data,
        json!([{"op": "replace", "path": "active", "value": false}]),
    )
    .unwrap();
    assert!(!outcome.data_changed);
}

#[test]
fn add_on_active_works_like_replace() {
    let data = patched_user(
        entra_user(),
        json!([{"op": "Add", "path": "active", "value": "False"}]),
    );
    assert_eq!(data["active"], json!(false));
    let data = patched_user(
        data,
        json!([{"op": "add", "path": "active", "value": true}]),
    );
    assert_eq!(data["active"], json!(true));
    let mut fresh = entra_user();
    fresh.remove("active");
    let data = patched_user(
        fresh,
        json!([{"op": "Add", "path": "Active", "value": "false"}]),
    );
    assert_eq!(data["active"], json!(false));
}

#[test]
fn add_a_single_value_string() {
    // Entra with and without the compliance flag.
    for op in ["add", "Add"] {
        let data = patched_user(
            entra_user(),
            json!([{"op": op, "path": "nickName", "value": "Babs"}]),
        );
        assert_eq!(data["nickName"], json!("Babs"));
    }
}

#[test]
fn replace_user_name() {
    let data = patched_user(
        entra_user(),
        json!([{"op": "Replace", "path": "userName", "value": "5b50642d-79fc-4410-9e90-4c077cdd1a59@testuser.com"}]),
    );
    assert_eq!(
        data["userName"],
        json!("5b50642d-79fc-4410-9e90-4c077cdd1a59@testuser.com")
    );
    let data = patched_user(
        data,
        json!([{"op": "replace", "value": {"userName": "other@testuser.com"}}]),
    );
    assert_eq!(data["userName"], json!("other@testuser.com"));
}

#[test]
fn replace_name_family_name() {
    let data = patched_user(
        entra_user(),
        json!([{"op": "Replace", "path": "name.familyName", "value": "updatedFamilyName"}]),
    );
    assert_eq!(
        data["name"],
        json!({"formatted": "givenName familyName", "familyName": "updatedFamilyName", "givenName": "givenName"})
    );
    let data = patched_user(data, json!([{"op": "remove", "path": "name.formatted"}]));
    assert_eq!(
        data["name"],
        json!({"familyName": "updatedFamilyName", "givenName": "givenName"})
    );
    // A complex value merges its sub-attributes (RFC 7644 section 3.5.2.3).
    let data = patched_user(
        data,
        json!([{"op": "replace", "path": "name", "value": {"givenName": "G", "middleName": "M"}}]),
    );
    assert_eq!(
        data["name"],
        json!({"familyName": "updatedFamilyName", "givenName": "G", "middleName": "M"})
    );
    let data = patched_user(data, json!([{"op": "remove", "path": "name"}]));
    assert!(!data.contains_key("name"));
    // Setting a sub-attribute of an absent complex attribute creates it.
    let data = patched_user(
        data,
        json!([{"op": "add", "path": "name.givenName", "value": "New"}]),
    );
    assert_eq!(data["name"], json!({"givenName": "New"}));
}

#[test]
fn entra_multi_valued_update_example() {
    // The verbatim SCIM-DEV example: two operations in one request.
    let data = patched_user(
        entra_user(),
        json!([
            {"op": "Replace", "path": "emails[type eq \"work\"].value", "value": "updatedEmail@microsoft.com"},
            {"op": "Replace", "path": "name.familyName", "value": "updatedFamilyName"}
        ]),
    );
    assert_eq!(
        data["emails"],
        json!([{"primary": true, "type": "work", "value": "updatedEmail@microsoft.com"}])
    );
    assert_eq!(data["name"]["familyName"], json!("updatedFamilyName"));
}

#[test]
fn filtered_replace_creates_a_missing_work_email() {
    let data = patched_user(
        home_only_user(),
        json!([{"op": "Replace", "path": "emails[type eq \"work\"].value", "value": "updatedEmail@microsoft.com"}]),
    );
    assert_eq!(
        data["emails"],
        json!([
            {"type": "home", "value": "bob@home.example", "primary": true},
            {"type": "work", "value": "updatedEmail@microsoft.com"}
        ])
    );
    // And without any email at all.
    let mut bare = home_only_user();
    bare.remove("emails");
    let data = patched_user(
        bare,
        json!([{"op": "Add", "path": "emails[type eq \"work\"].value", "value": "new@example.com"}]),
    );
    assert_eq!(
        data["emails"],
        json!([{"type": "work", "value": "new@example.com"}])
    );
    // A created primary element takes over from the old primary.
    let data = patched_user(
        home_only_user(),
        json!([{"op": "add", "path": "emails[type eq \"work\" and primary eq true].value", "value": "w@example.com"}]),
    );
    assert_eq!(
        data["emails"],
        json!([
            {"type": "home", "value": "bob@home.example", "primary": false},
            {"type": "work", "value": "w@example.com", "primary": true}
        ])
    );
}

#[test]
fn filtered_updates_touch_only_matching_elements() {
    let mut user = entra_user();
    user.insert(
        "emails".into(),
        json!([
            {"type": "work", "value": "w@example.com", "primary": true},
            {"type": "home", "value": "h@example.com"}
        ]),
    );
    let data = patched_user(
        user.clone(),
        json!([{"op": "replace", "path": "emails[type eq \"home\"].display", "value": "Home"}]),
    );
    assert_eq!(
        data["emails"],
        json!([
            {"type": "work", "value": "w@example.com", "primary": true},
            {"type": "home", "value": "h@example.com", "display": "Home"}
        ])
    );
    // Making the home address primary clears the work one.
    let data = patched_user(
        user.clone(),
        json!([{"op": "replace", "path": "emails[type eq \"home\"].primary", "value": "True"}]),
    );
    assert_eq!(
        data["emails"],
        json!([
            {"type": "work", "value": "w@example.com", "primary": false},
            {"type": "home", "value": "h@example.com", "primary": true}
        ])
    );
    // Replacing a whole element.
    let data = patched_user(
        user.clone(),
        json!([{"op": "replace", "path": "emails[type eq \"home\"]", "value": {"type": "other", "value": "o@example.com"}}]),
    );
    assert_eq!(
        data["emails"],
        json!([
            {"type": "work", "value": "w@example.com", "primary": true},
            {"type": "other", "value": "o@example.com"}
        ])
    );
    // Removing one element, and one sub-attribute of one element.
    let data = patched_user(
        user.clone(),
        json!([{"op": "remove", "path": "emails[type eq \"home\"]"}]),
    );
    assert_eq!(
        data["emails"],
        json!([{"type": "work", "value": "w@example.com", "primary": true}])
    );
    let data = patched_user(
        user.clone(),
        json!([{"op": "remove", "path": "emails[type eq \"work\"].primary"}]),
    );
    assert_eq!(
        data["emails"],
        json!([{"type": "work", "value": "w@example.com"}, {"type": "home", "value": "h@example.com"}])
    );
    // Removing what matches nothing is a no-op.
    let mut same = user.clone();
    let outcome = patch(
        ResourceKind::User,
        &mut same,
        json!([{"op": "remove", "path": "emails[type eq \"other\"]"}]),
    )
    .unwrap();
    assert!(!outcome.data_changed);
    assert_eq!(same, user);
    // Removing the last element removes the attribute.
    let data = patched_user(
        entra_user(),
        json!([{"op": "remove", "path": "emails[type eq \"work\"]"}]),
    );
    assert!(!data.contains_key("emails"));
}

#[test]
fn filtered_replace_that_cannot_create_is_no_target() {
    let error = user_error(json!([
        {"op": "replace", "path": "emails[value co \"nothing\"].type", "value": "work"}
    ]));
    assert!(matches!(error, Error::NoTarget(_)), "{error:?}");
}

#[test]
fn addresses_work_street_address() {
    let data = patched_user(
        entra_user(),
        json!([{"op": "Add", "path": "addresses[type eq \"work\"].streetAddress", "value": "1 Main St"}]),
    );
    assert_eq!(
        data["addresses"],
        json!([{"type": "work", "streetAddress": "1 Main St"}])
    );
    let data = patched_user(
        data,
        json!([
            {"op": "Replace", "path": "addresses[type eq \"work\"].streetAddress", "value": "2 Side St"},
            {"op": "Replace", "path": "addresses[type eq \"work\"].locality", "value": "Springfield"}
        ]),
    );
    assert_eq!(
        data["addresses"],
        json!([{"type": "work", "streetAddress": "2 Side St", "locality": "Springfield"}])
    );
}

#[test]
fn multi_valued_add_appends_and_replace_replaces() {
    let data = patched_user(
        entra_user(),
        json!([{"op": "add", "path": "emails", "value": [{"type": "home", "value": "h@example.com"}]}]),
    );
    assert_eq!(data["emails"].as_array().unwrap().len(), 2);
    // Adding the same value again changes nothing.
    let mut again = data.clone();
    let outcome = patch(
        ResourceKind::User,
        &mut again,
        json!([{"op": "add", "path": "emails", "value": [{"type": "home", "value": "h@example.com"}]}]),
    )
    .unwrap();
    assert!(!outcome.data_changed);
    // A new primary takes over.
    let data = patched_user(
        data,
        json!([{"op": "add", "path": "emails", "value": {"type": "other", "value": "o@example.com", "primary": "true"}}]),
    );
    let primaries: Vec<_> = data["emails"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["primary"] == json!(true))
        .map(|e| e["value"].clone())
        .collect();
    assert_eq!(primaries, vec![json!("o@example.com")]);
    // Replace swaps the list.
    let data = patched_user(
        data,
        json!([{"op": "replace", "path": "emails", "value": [{"value": "only@example.com"}]}]),
    );
    assert_eq!(data["emails"], json!([{"value": "only@example.com"}]));
    // Replace with nothing removes it; Entra's empty roles are fine.
    let data = patched_user(
        data,
        json!([{"op": "replace", "path": "emails", "value": []}]),
    );
    assert!(!data.contains_key("emails"));
    let data = patched_user(data, json!([{"op": "add", "path": "roles", "value": []}]));
    assert!(!data.contains_key("roles"));
    let data = patched_user(
        data,
        json!([{"op": "add", "path": "roles", "value": [{"value": "admin", "primary": "True"}]}]),
    );
    assert_eq!(data["roles"], json!([{"value": "admin", "primary": true}]));
}

#[test]
fn a_sub_attribute_path_on_a_multi_valued_attribute_sets_every_element() {
    let mut user = entra_user();
    user.insert(
        "emails".into(),
        json!([{"type": "work", "value": "w@example.com"}, {"type": "home", "value": "h@example.com"}]),
    );
    let data = patched_user(
        user.clone(),
        json!([{"op": "replace", "path": "emails.display", "value": "E"}]),
    );
    assert_eq!(
        data["emails"],
        json!([
            {"type": "work", "value": "w@example.com", "display": "E"},
            {"type": "home", "value": "h@example.com", "display": "E"}
        ])
    );
    // Two primaries would break the one-primary rule.
    let mut same = user.clone();
    let error = patch(
        ResourceKind::User,
        &mut same,
        json!([{"op": "replace", "path": "emails.primary", "value": true}]),
    )
    .unwrap_err();
    assert!(matches!(error, Error::InvalidValue(m) if m.contains("primary")));
    assert_eq!(same, user);
}

#[test]
fn remove_a_whole_multi_valued_attribute() {
    let data = patched_user(entra_user(), json!([{"op": "remove", "path": "emails"}]));
    assert!(!data.contains_key("emails"));
    let data = patched_user(
        entra_user(),
        json!([{"op": "Remove", "path": "emails.primary"}]),
    );
    assert_eq!(
        data["emails"],
        json!([{"type": "work", "value": "Test_User_11bb11bb-cc22-dd33-ee44-55ff55ff55ff@testuser.com"}])
    );
}

// ---------------------------------------------------------------- users: path-less

#[test]
fn pathless_replace_with_dotted_and_urn_keys() {
    let data = patched_user(
        entra_user(),
        json!([{"op": "replace", "value": {
            "displayName": "Bjfe",
            "name.givenName": "Kkom",
            "name.familyName": "Unua",
            "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:employeeNumber": "Aklq"
        }}]),
    );
    assert_eq!(data["displayName"], json!("Bjfe"));
    assert_eq!(
        data["name"],
        json!({"formatted": "givenName familyName", "givenName": "Kkom", "familyName": "Unua"})
    );
    assert_eq!(data[ENTERPRISE], json!({"employeeNumber": "Aklq"}));
    for key in data.keys() {
        assert!(
            key == ENTERPRISE || !key.contains(['.', ':']),
            "literal dotted or qualified attribute {key:?} was created"
        );
    }
    assert_eq!(
        data.keys().filter(|k| k.contains(':')).count(),
        1,
        "{data:?}"
    );
}

#[test]
fn pathless_add_with_nested_extension_and_filtered_keys() {
    let data = patched_user(
        entra_user(),
        json!([{"op": "Add", "value": {
            "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User": {
                "department": "Ops",
                "manager": "boss-id"
            },
            "emails[type eq \"home\"].value": "h@example.com",
            "urn:ietf:params:scim:schemas:core:2.0:User:title": "Engineer",
            "http://schemas.microsoft.com/2006/11/ResourceManagement/ADSCIM/2.0/User": {"x": 1},
            "urn:example:unknown:2.0:User:thing": "ignored",
            "schemas": ["ignored"]
        }}]),
    );
    assert_eq!(
        data[ENTERPRISE],
        json!({"department": "Ops", "manager": {"value": "boss-id"}})
    );
    assert_eq!(data["title"], json!("Engineer"));
    assert_eq!(data["emails"].as_array().unwrap().len(), 2);
    assert!(data.keys().all(|k| k == ENTERPRISE || !k.contains(':')));
}

#[test]
fn pathless_ignores_read_only_keys_but_not_unknown_ones() {
    let data = patched_user(
        entra_user(),
        json!([{"op": "replace", "value": {"id": "new-id", "meta": {"version": "x"}, "nickName": "N"}}]),
    );
    assert!(!data.contains_key("id") && !data.contains_key("meta"));
    assert_eq!(data["nickName"], json!("N"));
    let error = user_error(json!([{"op": "replace", "value": {"nickName": "N", "nosuch": 1}}]));
    assert!(matches!(error, Error::InvalidPath(m) if m.contains("nosuch")));
    let error = user_error(json!([{"op": "replace", "value": "not an object"}]));
    assert!(matches!(error, Error::InvalidValue(_)));
}

// ---------------------------------------------------------------- users: manager

fn manager_of(data: &Map<String, Value>) -> Option<Value> {
    data.get(ENTERPRISE).and_then(|e| e.get("manager")).cloned()
}

#[test]
fn manager_add_with_a_reference_list() {
    // The legacy Entra form: a one-element array of {$ref, value}.
    let data = patched_user(
        entra_user(),
        json!([{"op": "Add", "path": "manager", "value": [{
            "$ref": "https://sshward.example/scim/v2/acme/Users/26118915-6090-4610-87e4-49d8ca9f808d",
            "value": "26118915-6090-4610-87e4-49d8ca9f808d"
        }]}]),
    );
    assert_eq!(
        manager_of(&data),
        Some(json!({
            "$ref": "https://sshward.example/scim/v2/acme/Users/26118915-6090-4610-87e4-49d8ca9f808d",
            "value": "26118915-6090-4610-87e4-49d8ca9f808d"
        }))
    );
    // More than one manager is not a manager.
    let error = user_error(
        json!([{"op": "Add", "path": "manager", "value": [{"value": "a"}, {"value": "b"}]}]),
    );
    assert!(matches!(error, Error::InvalidValue(_)), "{error:?}");
}

#[test]
fn manager_add_as_object_and_as_bare_string() {
    let data = patched_user(
        entra_user(),
        json!([{"op": "add", "path": "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:manager", "value": {"value": "m1"}}]),
    );
    assert_eq!(manager_of(&data), Some(json!({"value": "m1"})));
    let data = patched_user(
        data,
        json!([{"op": "Replace", "path": "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:manager", "value": "m2"}]),
    );
    assert_eq!(manager_of(&data), Some(json!({"value": "m2"})));
    let data = patched_user(
        data,
        json!([{"op": "replace", "path": "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:manager.value", "value": "m3"}]),
    );
    assert_eq!(manager_of(&data), Some(json!({"value": "m3"})));
    // displayName is read-only: set by the server, never by the client.
    let data = patched_user(
        data,
        json!([{"op": "replace", "path": "manager", "value": {"value": "m4", "displayName": "Boss"}}]),
    );
    assert_eq!(manager_of(&data), Some(json!({"value": "m4"})));
}

#[test]
fn manager_removal() {
    let with_manager = patched_user(
        entra_user(),
        json!([{"op": "add", "path": "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:manager", "value": {"value": "m1"}}]),
    );
    // With remove: the extension object goes too when nothing is left in it.
    let data = patched_user(
        with_manager.clone(),
        json!([{"op": "remove", "path": "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:manager"}]),
    );
    assert_eq!(manager_of(&data), None);
    assert!(!data.contains_key(ENTERPRISE));
    assert_eq!(data, entra_user());
    // With replace and an empty value (the validator's form).
    let data = patched_user(
        with_manager.clone(),
        json!([{"op": "replace", "path": "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:manager", "value": {"value": ""}}]),
    );
    assert_eq!(data, entra_user());
    // Other extension attributes stay.
    let mut with_more = with_manager.clone();
    with_more
        .get_mut(ENTERPRISE)
        .unwrap()
        .as_object_mut()
        .unwrap()
        .insert("employeeNumber".into(), json!("7"));
    let data = patched_user(with_more, json!([{"op": "Remove", "path": "manager"}]));
    assert_eq!(data[ENTERPRISE], json!({"employeeNumber": "7"}));
    // Removing an absent manager is fine and changes nothing.
    let data = patched_user(entra_user(), json!([{"op": "remove", "path": "manager"}]));
    assert_eq!(data, entra_user());
}

#[test]
fn whole_extension_paths() {
    let data = patched_user(
        entra_user(),
        json!([{"op": "add", "path": "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User", "value": {"employeeNumber": "9", "manager": {"value": "m"}}}]),
    );
    assert_eq!(
        data[ENTERPRISE],
        json!({"employeeNumber": "9", "manager": {"value": "m"}})
    );
    let data = patched_user(
        data,
        json!([{"op": "remove", "path": "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"}]),
    );
    assert!(!data.contains_key(ENTERPRISE));
    let error = user_error(
        json!([{"op": "add", "path": "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User", "value": "x"}]),
    );
    assert!(matches!(error, Error::InvalidValue(_)));
}

#[test]
fn enterprise_employee_number() {
    let data = patched_user(
        entra_user(),
        json!([{"op": "Replace", "path": "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:employeeNumber", "value": "701984"}]),
    );
    assert_eq!(data[ENTERPRISE], json!({"employeeNumber": "701984"}));
    let data = patched_user(
        data,
        json!([{"op": "Replace", "path": "employeeNumber", "value": 42}]),
    );
    assert_eq!(data[ENTERPRISE], json!({"employeeNumber": "42"}));
}

// ---------------------------------------------------------------- users: errors

#[test]
fn read_only_attributes_are_mutability_errors() {
    for path in [
        "id",
        "meta",
        "meta.created",
        "groups",
        "groups[value eq \"g\"]",
    ] {
        let error = user_error(json!([{"op": "replace", "path": path, "value": "x"}]));
        assert!(matches!(&error, Error::Mutability(_)), "{path}: {error:?}");
        assert_eq!(error.scim_type(), crate::ScimType::Mutability);
        let error = user_error(json!([{"op": "remove", "path": path}]));
        assert!(matches!(error, Error::Mutability(_)), "{path}: {error:?}");
    }
    let error = user_error(json!([{"op": "add", "path": "groups", "value": [{"value": "g"}]}]));
    assert!(matches!(error, Error::Mutability(_)));
}

#[test]
fn unknown_attributes_are_invalid_path() {
    for path in [
        "nosuch",
        "name.nosuch",
        "emails[nosuch eq \"x\"]",
        "emails[type eq \"work\"].nosuch",
        "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:nosuch",
        "urn:example:unknown:2.0:User:thing",
        "members",
        "userName.x",
    ] {
        let error = user_error(json!([{"op": "add", "path": path, "value": "x"}]));
        assert!(matches!(&error, Error::InvalidPath(_)), "{path}: {error:?}");
    }
}

#[test]
fn remove_without_path_is_no_target() {
    let error = user_error(json!([{"op": "Remove"}]));
    assert!(matches!(error, Error::NoTarget(_)), "{error:?}");
    let error = user_error(json!([{"op": "remove", "value": {"nickName": "x"}}]));
    assert!(matches!(error, Error::NoTarget(_)), "{error:?}");
}

#[test]
fn wrong_value_types_are_invalid_value() {
    for (path, value) in [
        ("active", json!("maybe")),
        ("active", json!(1)),
        ("displayName", json!(true)),
        ("displayName", json!({"value": "x"})),
        ("name.familyName", json!(["x"])),
        ("name", json!(true)),
        ("name", json!("x")),
        ("name", json!(5)),
        ("addresses[type eq \"work\"]", json!("x")),
        ("emails", json!([[1]])),
        ("emails[type eq \"work\"].primary", json!("yes")),
        (
            "emails",
            json!([{"value": "a", "primary": true}, {"value": "b", "primary": true}]),
        ),
    ] {
        let error = user_error(json!([{"op": "replace", "path": path, "value": value}]));
        assert!(
            matches!(&error, Error::InvalidValue(_)),
            "{path} = {value}: {error:?}"
        );
    }
}

#[test]
fn removing_a_required_attribute_fails() {
    let error = user_error(json!([{"op": "remove", "path": "userName"}]));
    assert!(
        matches!(&error, Error::InvalidValue(m) if m.contains("userName")),
        "{error:?}"
    );
    let error = user_error(json!([{"op": "replace", "path": "userName", "value": ""}]));
    assert!(matches!(error, Error::InvalidValue(_)), "{error:?}");
    let error = group_error(json!([{"op": "remove", "path": "displayName"}]));
    assert!(matches!(error, Error::InvalidValue(_)), "{error:?}");
}

#[test]
fn a_failing_operation_undoes_the_whole_request() {
    let error = user_error(json!([
        {"op": "replace", "path": "displayName", "value": "Changed"},
        {"op": "replace", "path": "nosuch", "value": "x"},
        {"op": "replace", "path": "nickName", "value": "Later"}
    ]));
    assert!(
        matches!(&error, Error::InvalidPath(m) if m.starts_with("operation 2:")),
        "{error:?}"
    );
    let error = group_error(json!([
        {"op": "add", "path": "members", "value": [{"value": "u1"}]},
        {"op": "replace", "path": "displayName", "value": "Renamed"},
        {"op": "replace", "path": "id", "value": "x"}
    ]));
    assert!(
        matches!(&error, Error::Mutability(m) if m.starts_with("operation 3:")),
        "{error:?}"
    );
}

#[test]
fn write_only_password_is_accepted_and_dropped() {
    let data = patched_user(
        entra_user(),
        json!([{"op": "replace", "path": "password", "value": "hunter2"}]),
    );
    assert_eq!(data, entra_user());
}

#[test]
fn value_filters_need_a_multi_valued_attribute() {
    let error = user_error(json!([{"op": "remove", "path": "manager[value eq \"m\"]"}]));
    assert!(matches!(error, Error::InvalidPath(_)), "{error:?}");
    let error = user_error(
        json!([{"op": "replace", "path": "name[givenName eq \"x\"].familyName", "value": "y"}]),
    );
    assert!(matches!(error, Error::InvalidPath(_)), "{error:?}");
}

// ---------------------------------------------------------------- groups

#[test]
fn group_rename() {
    let mut data = group_data();
    let outcome = patch(
        ResourceKind::Group,
        &mut data,
        json!([{"op": "Replace", "path": "displayName", "value": "1f4bc1a3-updatedDisplayName"}]),
    )
    .unwrap();
    assert!(outcome.data_changed);
    assert!(outcome.members.is_empty());
    assert_eq!(data["displayName"], json!("1f4bc1a3-updatedDisplayName"));
    let outcome = patch(
        ResourceKind::Group,
        &mut data,
        json!([{"op": "replace", "value": {"displayName": "Path-less"}}]),
    )
    .unwrap();
    assert!(outcome.data_changed);
    assert_eq!(data["displayName"], json!("Path-less"));
}

#[test]
fn group_add_members() {
    assert_eq!(
        group_changes(
            json!([{"op": "Add", "path": "members", "value": [{"$ref": null, "value": "f648f8d5ea4e4cd38e9c"}]}])
        ),
        vec![MemberChange::Add(refs(&["f648f8d5ea4e4cd38e9c"]))]
    );
    assert_eq!(
        group_changes(json!([{"op": "Add", "path": "members", "value": [
            {"$ref": null, "value": "u1"},
            {"value": "u2", "display": "Bob"},
            {"value": "u1"},
            {"value": "u3", "type": "User"}
        ]}])),
        vec![MemberChange::Add(refs(&["u1", "u2", "u3"]))]
    );
    // The reference collection's bare string form.
    assert_eq!(
        group_changes(json!([{"op": "add", "path": "members", "value": "string id 1"}])),
        vec![MemberChange::Add(refs(&["string id 1"]))]
    );
    // Path-less, as the member list of the value object.
    assert_eq!(
        group_changes(json!([{"op": "add", "value": {"members": [{"value": "u9"}]}}])),
        vec![MemberChange::Add(refs(&["u9"]))]
    );
}

#[test]
fn group_remove_one_member_by_filter() {
    assert_eq!(
        group_changes(
            json!([{"op": "Remove", "path": "members[value eq \"f648f8d5ea4e4cd38e9c\"]"}])
        ),
        vec![MemberChange::Remove(ids(&["f648f8d5ea4e4cd38e9c"]))]
    );
    assert_eq!(
        group_changes(
            json!([{"op": "remove", "path": "members[value eq \"a\" or value eq \"b\"]"}])
        ),
        vec![MemberChange::Remove(ids(&["a", "b"]))]
    );
}

#[test]
fn group_remove_listed_members_entra_default() {
    // Entra's default form removes only the listed members, never the whole list.
    assert_eq!(
        group_changes(
            json!([{"op": "Remove", "path": "members", "value": [{"$ref": null, "value": "f648f8d5ea4e4cd38e9c"}]}])
        ),
        vec![MemberChange::Remove(ids(&["f648f8d5ea4e4cd38e9c"]))]
    );
    assert_eq!(
        group_changes(
            json!([{"op": "Remove", "path": "members", "value": [{"value": "a"}, {"value": "b"}]}])
        ),
        vec![MemberChange::Remove(ids(&["a", "b"]))]
    );
}

#[test]
fn group_remove_all_members() {
    assert_eq!(
        group_changes(json!([{"op": "remove", "path": "members"}])),
        vec![MemberChange::RemoveAll]
    );
    assert_eq!(
        group_changes(json!([{"op": "remove", "path": "members", "value": null}])),
        vec![MemberChange::RemoveAll]
    );
}

#[test]
fn group_replace_members() {
    assert_eq!(
        group_changes(
            json!([{"op": "replace", "path": "members", "value": [{"value": "u1"}, {"value": "u2"}]}])
        ),
        vec![
            MemberChange::RemoveAll,
            MemberChange::Add(refs(&["u1", "u2"]))
        ]
    );
    assert_eq!(
        group_changes(json!([{"op": "replace", "path": "members", "value": []}])),
        vec![MemberChange::RemoveAll, MemberChange::Add(vec![])]
    );
}

#[test]
fn group_member_changes_keep_their_order() {
    assert_eq!(
        group_changes(json!([
            {"op": "Add", "path": "members", "value": [{"value": "u1"}]},
            {"op": "Remove", "path": "members[value eq \"u2\"]"},
            {"op": "Add", "path": "members", "value": [{"value": "u3"}]}
        ])),
        vec![
            MemberChange::Add(refs(&["u1"])),
            MemberChange::Remove(ids(&["u2"])),
            MemberChange::Add(refs(&["u3"])),
        ]
    );
}

#[test]
fn group_remove_members_by_other_filters() {
    let changes = group_changes(json!([{"op": "remove", "path": "members[display eq \"Bob\"]"}]));
    let [MemberChange::RemoveWhere(filter)] = changes.as_slice() else {
        panic!("{changes:?}");
    };
    let member = |v: Value| v.as_object().unwrap().clone();
    assert!(member_matches(
        filter,
        &member(json!({"value": "u2", "display": "bob"}))
    ));
    assert!(!member_matches(
        filter,
        &member(json!({"value": "u1", "display": "Alice"}))
    ));
    assert!(!member_matches(filter, &member(json!({"value": "u3"}))));
    let changes = group_changes(json!([{"op": "remove", "path": "members[value sw \"u\"]"}]));
    let [MemberChange::RemoveWhere(filter)] = changes.as_slice() else {
        panic!("{changes:?}");
    };
    assert!(member_matches(filter, &member(json!({"value": "u2"}))));
    assert!(!member_matches(filter, &member(json!({"value": "x2"}))));
}

#[test]
fn group_member_errors() {
    for (operation, what) in [
        (
            json!({"op": "add", "path": "members", "value": [{"display": "no id"}]}),
            "InvalidValue",
        ),
        (
            json!({"op": "add", "path": "members", "value": [{"value": ""}]}),
            "InvalidValue",
        ),
        (
            json!({"op": "add", "path": "members", "value": [{"value": 5}]}),
            "InvalidValue",
        ),
        (
            json!({"op": "add", "path": "members", "value": [{"value": "g", "type": "Group"}]}),
            "InvalidValue",
        ),
        (
            json!({"op": "add", "path": "members", "value": [true]}),
            "InvalidValue",
        ),
        (
            json!({"op": "remove", "path": "members", "value": [{"nope": 1}]}),
            "InvalidValue",
        ),
        (
            json!({"op": "replace", "path": "members.display", "value": "x"}),
            "Mutability",
        ),
        (
            json!({"op": "remove", "path": "members[nosuch eq \"x\"]"}),
            "InvalidPath",
        ),
        (
            json!({"op": "add", "path": "userName", "value": "x"}),
            "InvalidPath",
        ),
        (
            json!({"op": "replace", "path": "id", "value": "x"}),
            "Mutability",
        ),
        (json!({"op": "remove"}), "NoTarget"),
    ] {
        let error = group_error(json!([operation]));
        let kind = format!("{error:?}");
        assert!(kind.starts_with(what), "{operation}: {kind}");
    }
}
