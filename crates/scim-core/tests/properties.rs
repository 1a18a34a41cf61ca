//! Property tests: filter printing round-trips, PATCH add/remove restores, nothing panics.

use proptest::prelude::*;
use scim_core::filter::{self, AttrPath, CompValue, CompareOp, Filter};
use scim_core::patch::{self, PatchRequest};
use scim_core::schema::{ENTERPRISE_USER_SCHEMA, GROUP_SCHEMA, USER_SCHEMA};
use scim_core::{ResourceKind, resource};
use serde_json::{Map, Value, json};

// ---------------------------------------------------------------- generators

/// Attribute names: real ones, odd but valid ones, never the keyword `not`.
fn name() -> impl Strategy<Value = String> {
    prop_oneof![
        prop::sample::select(vec![
            "userName", "title", "emails", "members", "value", "type", "primary", "$ref",
            "display", "active", "or", "and", "pr", "eq", "notes", "_x", "a-b",
        ])
        .prop_map(str::to_string),
        "[a-zA-Z_$][a-zA-Z0-9_$-]{0,10}",
    ]
    .prop_filter("'not' is a keyword", |n| !n.eq_ignore_ascii_case("not"))
}

fn urn() -> impl Strategy<Value = Option<String>> {
    prop_oneof![
        3 => Just(None),
        1 => Just(Some(USER_SCHEMA.to_string())),
        1 => Just(Some(ENTERPRISE_USER_SCHEMA.to_string())),
        1 => Just(Some("urn:example:params:scim:1.0".to_string())),
    ]
}

/// A full attribute path: `[urn:]name[.sub]`.
fn attr_path() -> impl Strategy<Value = AttrPath> {
    (urn(), name(), prop::option::of(name())).prop_map(|(urn, name, sub)| AttrPath {
        urn,
        name,
        sub,
    })
}

fn number() -> impl Strategy<Value = serde_json::Number> {
    prop_oneof![
        any::<i64>().prop_map(serde_json::Number::from),
        any::<u64>().prop_map(serde_json::Number::from),
        any::<f64>()
            .prop_filter_map("finite", serde_json::Number::from_f64)
            .prop_filter("a float that prints with a point or exponent", |n| {
                let text = n.to_string();
                text.contains(['.', 'e', 'E'])
            }),
    ]
}

fn comp_value() -> impl Strategy<Value = CompValue> {
    prop_oneof![
        Just(CompValue::Null),
        any::<bool>().prop_map(CompValue::Bool),
        number().prop_map(CompValue::Number),
        any::<String>().prop_map(CompValue::String),
        "[\"\\\\a-z é\u{0}-\u{1f}]{0,8}".prop_map(CompValue::String),
    ]
}

fn op() -> impl Strategy<Value = CompareOp> {
    prop::sample::select(vec![
        CompareOp::Eq,
        CompareOp::Ne,
        CompareOp::Co,
        CompareOp::Sw,
        CompareOp::Ew,
        CompareOp::Gt,
        CompareOp::Ge,
        CompareOp::Lt,
        CompareOp::Le,
    ])
}

/// Filter trees over `leaf` attribute paths, without value paths.
fn logic(leaf: BoxedStrategy<AttrPath>) -> impl Strategy<Value = Filter> {
    let base = prop_oneof![
        (leaf.clone(), op(), comp_value()).prop_map(|(path, op, value)| Filter::Compare {
            path,
            op,
            value
        }),
        leaf.prop_map(Filter::Present),
    ];
    base.prop_recursive(4, 24, 2, |inner| {
        prop_oneof![
            (inner.clone(), inner.clone()).prop_map(|(a, b)| Filter::and(a, b)),
            (inner.clone(), inner.clone()).prop_map(|(a, b)| Filter::or(a, b)),
            inner.prop_map(|f| Filter::Not(Box::new(f))),
        ]
    })
}

/// Any filter the parser can produce: logic over full paths and value paths, whose inner
/// filters use bare names.
fn filter_tree() -> impl Strategy<Value = Filter> {
    let value_path = (
        (urn(), name()).prop_map(|(urn, name)| AttrPath {
            urn,
            name,
            sub: None,
        }),
        logic(name().prop_map(AttrPath::new).boxed()),
    )
        .prop_map(|(attr, inner)| Filter::ValuePath {
            attr,
            filter: Box::new(inner),
        });
    let leaf = prop_oneof![
        3 => logic(attr_path().boxed()),
        1 => value_path,
    ];
    leaf.prop_recursive(2, 8, 2, |inner| {
        prop_oneof![
            (inner.clone(), inner.clone()).prop_map(|(a, b)| Filter::and(a, b)),
            (inner.clone(), inner.clone()).prop_map(|(a, b)| Filter::or(a, b)),
            inner.prop_map(|f| Filter::Not(Box::new(f))),
        ]
    })
}

/// Text made of filter tokens, to reach deep into the parser.
fn token_soup() -> impl Strategy<Value = String> {
    let token = prop::sample::select(vec![
        "(",
        ")",
        "[",
        "]",
        " ",
        " ",
        "  ",
        "not",
        "and",
        "or",
        "AND",
        "eq",
        "ne",
        "co",
        "pr",
        "gt",
        "le",
        "\"x\"",
        "\"",
        "\\",
        "\\\"",
        "\\u00e9",
        "\\u",
        "emails",
        "userName",
        "type",
        "value",
        ".",
        ":",
        "urn:ietf:params:scim:schemas:core:2.0:User:",
        "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:",
        "manager",
        "members",
        "true",
        "null",
        "1.5",
        "-",
        "1e9",
        "é",
        "😀",
        "\t",
        "meta.lastModified",
        "\"2024-05-01T12:00:00Z\"",
        "$ref",
        "active",
    ]);
    prop::collection::vec(token, 0..40).prop_map(|tokens| tokens.concat())
}

/// Arbitrary JSON, small.
fn json_value() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i32>().prop_map(|n| json!(n)),
        prop::sample::select(vec![
            "",
            "x",
            "True",
            "false",
            "work",
            "u1",
            "a@example.com",
            "2024-05-01T12:00:00Z",
        ])
        .prop_map(|s| json!(s)),
        any::<String>().prop_map(Value::String),
    ];
    leaf.prop_recursive(3, 16, 4, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..4).prop_map(Value::Array),
            prop::collection::btree_map(
                prop::sample::select(vec![
                    "value",
                    "type",
                    "primary",
                    "display",
                    "$ref",
                    "givenName",
                    "familyName",
                    "employeeNumber",
                    "manager",
                    "nickName",
                    "userName",
                    "displayName",
                    "name.givenName",
                    "emails[type eq \"work\"].value",
                    "members",
                    "id",
                    "x",
                    ENTERPRISE_USER_SCHEMA,
                ])
                .prop_map(str::to_string),
                inner,
                0..4,
            )
            .prop_map(|m| Value::Object(m.into_iter().collect())),
        ]
    })
}

fn patch_path() -> impl Strategy<Value = Option<String>> {
    prop::option::of(prop_oneof![
        prop::sample::select(vec![
            "active",
            "userName",
            "displayName",
            "nickName",
            "name",
            "name.givenName",
            "emails",
            "emails.value",
            "emails.primary",
            "emails[type eq \"work\"]",
            "emails[type eq \"work\"].value",
            "emails[type eq \"work\" and primary eq true].value",
            "emails[value co \"x\"]",
            "addresses[type eq \"work\"].streetAddress",
            "roles",
            "manager",
            "manager.value",
            "employeeNumber",
            "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User",
            "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:manager",
            "urn:ietf:params:scim:schemas:core:2.0:User:title",
            "members",
            "members[value eq \"u1\"]",
            "members[display eq \"x\" or value sw \"u\"]",
            "members.value",
            "id",
            "meta",
            "groups",
            "password",
            "x509Certificates",
            "externalId",
            "",
        ])
        .prop_map(str::to_string),
        token_soup(),
    ])
}

fn operation() -> impl Strategy<Value = Value> {
    (
        prop::sample::select(vec![
            "add", "Add", "replace", "Replace", "remove", "Remove", "move",
        ]),
        patch_path(),
        prop::option::of(json_value()),
    )
        .prop_map(|(op, path, value)| {
            let mut o = Map::new();
            o.insert("op".into(), json!(op));
            if let Some(p) = path {
                o.insert("path".into(), json!(p));
            }
            if let Some(v) = value {
                o.insert("value".into(), v);
            }
            Value::Object(o)
        })
}

// ---------------------------------------------------------------- fixtures

fn user_data() -> Map<String, Value> {
    resource::normalize(
        ResourceKind::User,
        &json!({
            "schemas": [USER_SCHEMA, ENTERPRISE_USER_SCHEMA],
            "userName": "alice@example.com",
            "externalId": "alice",
            "active": true,
            "name": {"givenName": "Alice", "familyName": "Example"},
            "emails": [
                {"type": "work", "value": "alice@example.com", "primary": true},
                {"type": "home", "value": "alice@home.example"}
            ],
            ENTERPRISE_USER_SCHEMA: {"employeeNumber": "7", "manager": "m1"}
        }),
    )
    .unwrap()
    .data
}

fn group_data() -> Map<String, Value> {
    resource::normalize(
        ResourceKind::Group,
        &json!({"schemas": [GROUP_SCHEMA], "displayName": "Ops", "externalId": "g"}),
    )
    .unwrap()
    .data
}

fn patch_request(operations: Vec<Value>) -> PatchRequest {
    PatchRequest::parse(&json!({
        "schemas": [patch::PATCH_OP_SCHEMA],
        "Operations": operations,
    }))
    .unwrap()
}

/// Normalising stored data as a request body gives the same data: it is canonical.
fn assert_canonical(kind: ResourceKind, data: &Map<String, Value>) {
    let mut body = data.clone();
    body.insert("schemas".into(), json!([kind.core_schema().id]));
    let again = resource::normalize(kind, &Value::Object(body))
        .unwrap_or_else(|e| panic!("stored data {data:?} is not a valid body: {e}"));
    assert_eq!(&again.data, data);
}

// ---------------------------------------------------------------- properties

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2000))]

    /// (a) Printing a filter and parsing the text gives the same tree.
    #[test]
    fn filters_print_and_parse_back(tree in filter_tree()) {
        prop_assume!(tree.depth() <= filter::MAX_FILTER_DEPTH);
        let text = tree.to_string();
        prop_assume!(text.len() <= filter::MAX_FILTER_LEN);
        let parsed = filter::parse(&text);
        prop_assert_eq!(parsed, Ok(tree), "{}", text);
    }

    /// (c) The parsers never panic, and whatever parses prints to text that parses the same.
    #[test]
    fn parsing_arbitrary_text_never_panics(text in prop_oneof![any::<String>(), token_soup()]) {
        let _ = filter::parse_path(&text);
        let _ = filter::parse_attr_path(&text);
        if let Ok(parsed) = filter::parse(&text) {
            let printed = parsed.to_string();
            prop_assert_eq!(filter::parse(&printed), Ok(parsed.clone()), "{} -> {}", text, printed);
            for kind in [ResourceKind::User, ResourceKind::Group] {
                if let Ok(resolved) = filter::resolve(parsed.clone(), kind) {
                    // A resolved filter is still printable and parses again.
                    let again = filter::parse(&resolved.to_string());
                    prop_assert!(again.is_ok(), "{} -> {}: {:?}", text, resolved, again);
                    let user = Value::Object(user_data());
                    let _ = filter::matches(&resolved, &user, kind);
                }
            }
        }
    }

    /// (b) Adding an email and removing it again restores the user.
    #[test]
    fn add_then_remove_an_email_restores_the_user(
        existing in prop::collection::vec(("[a-z0-9@.]{1,12}", prop::option::of(prop::sample::select(vec!["work", "home", "other"]))), 0..4),
        primary in prop::option::of(0usize..4),
        value in any::<String>(),
        ty in prop::option::of(prop::sample::select(vec!["work", "home", "other", "Work"])),
    ) {
        let emails: Vec<Value> = existing
            .iter()
            .enumerate()
            .map(|(i, (v, t))| {
                let mut e = json!({"value": format!("e{i}-{v}")});
                if let Some(t) = t { e["type"] = json!(t); }
                if primary == Some(i) { e["primary"] = json!(true); }
                e
            })
            .collect();
        let mut body = json!({"schemas": [USER_SCHEMA], "userName": "u"});
        if !emails.is_empty() {
            body["emails"] = Value::Array(emails);
        }
        let before = resource::normalize(ResourceKind::User, &body).unwrap().data;
        let new_value = format!("new-{value}");
        let mut element = json!({"value": new_value});
        if let Some(t) = ty { element["type"] = json!(t); }
        let mut data = before.clone();
        let add = patch_request(vec![json!({"op": "add", "path": "emails", "value": [element]})]);
        prop_assert!(patch::apply(ResourceKind::User, &mut data, &add).unwrap().data_changed);
        prop_assert_ne!(&data, &before);
        assert_canonical(ResourceKind::User, &data);
        let path = format!("emails[value eq {}]", Value::String(new_value));
        let remove = patch_request(vec![json!({"op": "remove", "path": path})]);
        patch::apply(ResourceKind::User, &mut data, &remove).unwrap();
        prop_assert_eq!(data, before);
    }

    /// (b) Adding a single-valued attribute that was absent and removing it restores the user.
    #[test]
    fn add_then_remove_an_absent_attribute_restores_the_user(
        path in prop::sample::select(vec![
            "nickName", "title", "locale", "name.middleName", "profileUrl",
            "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:employeeNumber",
            "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:manager",
            "costCenter", "manager.value",
        ]),
        op in prop::sample::select(vec!["add", "Add", "replace", "Replace"]),
        value in any::<String>().prop_filter("a value", |v| !v.is_empty()),
        with_extension in any::<bool>(),
    ) {
        let mut body = json!({
            "schemas": [USER_SCHEMA], "userName": "u", "name": {"givenName": "G"}
        });
        if with_extension {
            body[ENTERPRISE_USER_SCHEMA] = json!({"department": "Ops"});
        }
        let before = resource::normalize(ResourceKind::User, &body).unwrap().data;
        let mut data = before.clone();
        let add = patch_request(vec![json!({"op": op, "path": path, "value": value})]);
        patch::apply(ResourceKind::User, &mut data, &add).unwrap();
        prop_assert_ne!(&data, &before);
        assert_canonical(ResourceKind::User, &data);
        let remove = patch_request(vec![json!({"op": "remove", "path": path})]);
        patch::apply(ResourceKind::User, &mut data, &remove).unwrap();
        prop_assert_eq!(data, before);
    }

    /// Any PATCH either fails and changes nothing, or leaves canonical data behind; it
    /// never panics.
    #[test]
    fn any_patch_is_all_or_nothing_and_leaves_canonical_data(
        operations in prop::collection::vec(operation(), 1..4),
    ) {
        let body = json!({"schemas": [patch::PATCH_OP_SCHEMA], "Operations": operations});
        let Ok(request) = PatchRequest::parse(&body) else { return Ok(()) };
        for (kind, before) in [(ResourceKind::User, user_data()), (ResourceKind::Group, group_data())] {
            let mut data = before.clone();
            match patch::apply(kind, &mut data, &request) {
                Ok(outcome) => {
                    prop_assert_eq!(outcome.data_changed, data != before);
                    assert_canonical(kind, &data);
                }
                Err(_) => prop_assert_eq!(&data, &before),
            }
        }
    }
}
