//! Filters: parse, print and parse again, resolve for users and groups, evaluate.

#![no_main]

use libfuzzer_sys::fuzz_target;
use scim_core::ResourceKind;
use scim_core::filter::{self, MAX_FILTER_LEN};
use scim_core::schema::{ENTERPRISE_USER_SCHEMA, GROUP_SCHEMA, USER_SCHEMA};
use serde_json::{Value, json};
use std::sync::OnceLock;

fn resources() -> &'static [(ResourceKind, Value); 2] {
    static RESOURCES: OnceLock<[(ResourceKind, Value); 2]> = OnceLock::new();
    RESOURCES.get_or_init(|| {
        [
            (
                ResourceKind::User,
                json!({
                    "schemas": [USER_SCHEMA, ENTERPRISE_USER_SCHEMA],
                    "id": "2819c223-7f76-453a-919d-413861904646",
                    "externalId": "AbC-123",
                    "userName": "Alice@Example.com",
                    "displayName": "Alice Example",
                    "active": true,
                    "name": {"givenName": "Alice", "familyName": "Example"},
                    "emails": [
                        {"value": "alice@example.com", "type": "work", "primary": true},
                        {"value": "alice@home.example", "type": "home"}
                    ],
                    ENTERPRISE_USER_SCHEMA: {"employeeNumber": "701984", "manager": {"value": "boss"}},
                    "meta": {
                        "resourceType": "User",
                        "created": "2024-01-01T00:00:00Z",
                        "lastModified": "2024-05-01T12:00:00Z",
                        "version": "W/\"3\""
                    }
                }),
            ),
            (
                ResourceKind::Group,
                json!({
                    "schemas": [GROUP_SCHEMA],
                    "id": "g1",
                    "displayName": "Ops",
                    "members": [{"value": "u1", "display": "Alice", "type": "User"}],
                    "meta": {"resourceType": "Group", "lastModified": "2024-05-01T12:00:00Z"}
                }),
            ),
        ]
    })
}

/// Printed filters must parse again, to the same tree (unless printing made them longer
/// than the parser accepts).
fn check_round_trip(tree: &filter::Filter) {
    let printed = tree.to_string();
    if printed.len() > MAX_FILTER_LEN {
        return;
    }
    match filter::parse(&printed) {
        Ok(again) => assert_eq!(&again, tree, "{printed}"),
        Err(e) => panic!("{printed:?} does not parse again: {e}"),
    }
}

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let _ = filter::parse_path(text);
    let _ = filter::parse_attr_path(text);
    let Ok(parsed) = filter::parse(text) else {
        return;
    };
    check_round_trip(&parsed);
    for (kind, resource) in resources() {
        if let Ok(resolved) = filter::resolve(parsed.clone(), *kind) {
            check_round_trip(&resolved);
            let _ = filter::matches(&resolved, resource, *kind);
        }
    }
});
