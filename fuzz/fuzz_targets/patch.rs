//! PATCH: arbitrary bytes as JSON, parsed as a PatchOp and applied to a fixed user and a
//! fixed group. Never panics; a failure changes nothing; a success leaves canonical data.
//!
//! Input that starts with `{` is read as JSON text. Any other input drives a generator that
//! builds a PatchOp from Entra-like operations, paths and values, which reaches far deeper
//! into the engine than mutated JSON text does.

#![no_main]

use libfuzzer_sys::arbitrary::{Result, Unstructured};
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

const PATHS: &[&str] = &[
    "active",
    "userName",
    "displayName",
    "nickName",
    "externalId",
    "password",
    "name",
    "name.givenName",
    "name.familyName",
    "emails",
    "emails.value",
    "emails.primary",
    "emails[type eq \"work\"]",
    "emails[type eq \"work\"].value",
    "emails[type eq \"home\"].primary",
    "emails[type eq \"work\" and primary eq true].value",
    "emails[value co \"alice\"]",
    "emails[not (type eq \"work\")].display",
    "addresses[type eq \"work\"].streetAddress",
    "addresses",
    "roles",
    "x509Certificates",
    "manager",
    "manager.value",
    "manager[value eq \"m1\"]",
    "employeeNumber",
    "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User",
    "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:manager",
    "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:employeeNumber",
    "urn:ietf:params:scim:schemas:core:2.0:User:title",
    "members",
    "members.value",
    "members[value eq \"u1\"]",
    "members[value eq \"u1\" or value eq \"u2\"]",
    "members[display sw \"A\"]",
    "id",
    "meta",
    "meta.created",
    "groups",
    "",
];

const KEYS: &[&str] = &[
    "value",
    "type",
    "primary",
    "display",
    "$ref",
    "givenName",
    "familyName",
    "streetAddress",
    "employeeNumber",
    "manager",
    "displayName",
    "userName",
    "nickName",
    "active",
    "emails",
    "name.givenName",
    "emails[type eq \"work\"].value",
    "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:employeeNumber",
    "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User",
    "members",
    "id",
    "schemas",
];

const STRINGS: &[&str] = &[
    "",
    "x",
    "True",
    "False",
    "work",
    "home",
    "u1",
    "u2",
    "m1",
    "alice@example.com",
    "2024-05-01T12:00:00Z",
];

fn value(u: &mut Unstructured<'_>, depth: u32) -> Result<Value> {
    let choice = if depth == 0 {
        u.int_in_range(0..=4)?
    } else {
        u.int_in_range(0..=6)?
    };
    Ok(match choice {
        0 => Value::Null,
        1 => Value::Bool(u.arbitrary()?),
        2 => json!(u.int_in_range(-2..=2)?),
        3 => json!(u.choose(STRINGS)?),
        4 => Value::String(u.arbitrary()?),
        5 => {
            let n = u.int_in_range(0..=3)?;
            Value::Array((0..n).map(|_| value(u, depth - 1)).collect::<Result<_>>()?)
        }
        _ => {
            let mut object = Map::new();
            for _ in 0..u.int_in_range(0..=3)? {
                object.insert(u.choose(KEYS)?.to_string(), value(u, depth - 1)?);
            }
            Value::Object(object)
        }
    })
}

/// A PatchOp message built from the input bytes.
fn generated(data: &[u8]) -> Result<Value> {
    let mut u = Unstructured::new(data);
    let mut operations = Vec::new();
    for _ in 0..u.int_in_range(1..=4)? {
        let mut op = Map::new();
        let name = u.choose(&["add", "Add", "replace", "Replace", "remove", "Remove"])?;
        op.insert("op".into(), json!(name));
        if u.ratio(7, 8)? {
            let path = if u.ratio(15, 16)? {
                u.choose(PATHS)?.to_string()
            } else {
                u.arbitrary()?
            };
            op.insert("path".into(), json!(path));
        }
        if u.ratio(7, 8)? {
            op.insert("value".into(), value(&mut u, 3)?);
        }
        operations.push(Value::Object(op));
    }
    Ok(json!({"schemas": [patch::PATCH_OP_SCHEMA], "Operations": operations}))
}

fuzz_target!(|data: &[u8]| {
    let body = if data.first() == Some(&b'{') {
        serde_json::from_slice::<Value>(data).ok()
    } else {
        generated(data).ok()
    };
    let Some(body) = body else {
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
