//! PATCH: arbitrary bytes as JSON, parsed as a PatchOp and applied to a fixed user and a
//! fixed group. Never panics; a failure changes nothing; a success leaves canonical data.

#![no_main]

use libfuzzer_sys::fuzz_target;
use scim_core::patch::{self, PatchRequest};
use scim_core::schema::{ENTERPRISE_USER_SCHEMA, GROUP_SCHEMA, USER_SCHEMA};
use scim_core::{ResourceKind, resource};
use serde_json::{Map, Value, json};
use std::sync::OnceLock;

fn fixtures() -> &'static [(ResourceKind, Map<String, Value>); 2] {
    static FIXTURES: OnceLock<[(ResourceKind, Map<String, Value>); 2]> = OnceLock::new();
    FIXTURES.get_or_init(|| {
        let user = json!({
            "schemas": [USER_SCHEMA, ENTERPRISE_USER_SCHEMA],
            "userName": "alice@example.com",
            "externalId": "alice",
            "active": true,
            "name": {"givenName": "Alice", "familyName": "Example", "formatted": "Alice Example"},
            "emails": [
                {"type": "work", "value": "alice@example.com", "primary": true},
                {"type": "home", "value": "alice@home.example"}
            ],
            "addresses": [{"type": "work", "streetAddress": "1 Main St"}],
            ENTERPRISE_USER_SCHEMA: {"employeeNumber": "7", "manager": "m1"}
        });
        let group = json!({"schemas": [GROUP_SCHEMA], "displayName": "Ops", "externalId": "g"});
        let data = |kind, body: &Value| resource::normalize(kind, body).map(|n| n.data);
        [
            (
                ResourceKind::User,
                data(ResourceKind::User, &user).unwrap_or_default(),
            ),
            (
                ResourceKind::Group,
                data(ResourceKind::Group, &group).unwrap_or_default(),
            ),
        ]
    })
}

fuzz_target!(|data: &[u8]| {
    let Ok(body) = serde_json::from_slice::<Value>(data) else {
        return;
    };
    // The same bytes as a POST body must not panic either.
    let _ = resource::normalize(ResourceKind::User, &body);
    let _ = resource::normalize(ResourceKind::Group, &body);
    let Ok(request) = PatchRequest::parse(&body) else {
        return;
    };
    for (kind, before) in fixtures() {
        let mut data = before.clone();
        match patch::apply(*kind, &mut data, &request) {
            Ok(outcome) => {
                assert_eq!(outcome.data_changed, data != *before);
                // What a PATCH leaves behind is what a POST of it would store.
                let mut again = data.clone();
                again.insert("schemas".into(), json!([kind.core_schema().id]));
                match resource::normalize(*kind, &Value::Object(again)) {
                    Ok(n) => assert_eq!(n.data, data),
                    Err(e) => panic!("PATCH left data that is not a valid resource: {e}: {data:?}"),
                }
            }
            Err(_) => assert_eq!(&data, before, "a failed PATCH changed the data"),
        }
    }
});
