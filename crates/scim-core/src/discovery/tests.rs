//! Tests of the discovery documents: they tell exactly what the rest of the crate does.

use super::*;
use crate::Error;
use crate::schema::{
    self, AttrType, ENTERPRISE_USER_SCHEMA, GROUP_SCHEMA, Mutability, Returned, USER_SCHEMA,
};
use serde_json::json;

const BASE: &str = "https://sshward.example/scim/v2/acme";

fn features() -> Features {
    Features {
        sort: false,
        max_payload_size: 1 << 20,
    }
}

fn names(list: &Value) -> Vec<&str> {
    list.as_array()
        .unwrap()
        .iter()
        .map(|a| a["name"].as_str().unwrap())
        .collect()
}

/// Checks the document of one attribute against its definition, recursively.
fn check_attribute_document(doc: &Value, attr: &Attribute) {
    let at = attr.name;
    assert_eq!(doc["name"], json!(attr.name));
    assert_eq!(doc["type"], json!(attr.ty.as_str()), "{at}");
    assert_eq!(doc["multiValued"], json!(attr.multi_valued), "{at}");
    assert_eq!(doc["required"], json!(attr.required), "{at}");
    assert_eq!(doc["caseExact"], json!(attr.case_exact), "{at}");
    assert_eq!(doc["mutability"], json!(attr.mutability.as_str()), "{at}");
    assert_eq!(doc["returned"], json!(attr.returned.as_str()), "{at}");
    assert_eq!(doc["uniqueness"], json!(attr.uniqueness.as_str()), "{at}");
    assert_eq!(doc["description"], json!(attr.description), "{at}");
    if attr.canonical_values.is_empty() {
        assert!(doc.get("canonicalValues").is_none(), "{at}");
    } else {
        assert_eq!(doc["canonicalValues"], json!(attr.canonical_values), "{at}");
    }
    if attr.reference_types.is_empty() {
        assert!(doc.get("referenceTypes").is_none(), "{at}");
    } else {
        assert_eq!(doc["referenceTypes"], json!(attr.reference_types), "{at}");
    }
    if attr.sub_attributes.is_empty() {
        assert!(doc.get("subAttributes").is_none(), "{at}");
    } else {
        let subs = &doc["subAttributes"];
        let expected: Vec<&str> = attr.sub_attributes.iter().map(|s| s.name).collect();
        assert_eq!(names(subs), expected, "{at}");
        for (sub_doc, sub) in subs.as_array().unwrap().iter().zip(attr.sub_attributes) {
            check_attribute_document(sub_doc, sub);
        }
    }
}

#[test]
fn schema_documents_list_exactly_the_schema_attributes() {
    let all = all_schemas();
    let ids: Vec<&str> = all.iter().map(|s| s.id).collect();
    assert_eq!(
        ids[..3],
        [USER_SCHEMA, ENTERPRISE_USER_SCHEMA, GROUP_SCHEMA],
        "the resource schemas first"
    );
    let documents = all_schema_documents(BASE);
    assert_eq!(documents.len(), all.len());
    for (doc, schema) in documents.iter().zip(all) {
        assert_eq!(*doc, schema_document(BASE, schema));
        assert_eq!(doc["schemas"], json!([SCHEMA_SCHEMA]));
        assert_eq!(doc["id"], json!(schema.id));
        assert_eq!(doc["name"], json!(schema.name));
        assert_eq!(
            doc["meta"]["location"],
            json!(format!("{BASE}/Schemas/{}", schema.id))
        );
        assert_eq!(doc["meta"]["resourceType"], json!("Schema"));
        let expected: Vec<&str> = schema.attributes.iter().map(|a| a.name).collect();
        assert_eq!(names(&doc["attributes"]), expected, "{}", schema.id);
        for (attr_doc, attr) in doc["attributes"]
            .as_array()
            .unwrap()
            .iter()
            .zip(schema.attributes)
        {
            check_attribute_document(attr_doc, attr);
        }
    }
}

#[test]
fn user_and_group_schemas_say_what_entra_relies_on() {
    let user = schema_document(BASE, &schema::USER);
    let attr = |doc: &Value, name: &str| {
        doc["attributes"]
            .as_array()
            .unwrap()
            .iter()
            .find(|a| a["name"] == json!(name))
            .cloned()
            .unwrap_or_else(|| panic!("{name} is not advertised"))
    };
    let user_name = attr(&user, "userName");
    assert_eq!(user_name["required"], json!(true));
    assert_eq!(user_name["caseExact"], json!(false));
    assert_eq!(user_name["uniqueness"], json!("server"));
    assert_eq!(attr(&user, "active")["type"], json!("boolean"));
    assert_eq!(attr(&user, "emails")["multiValued"], json!(true));
    let password = attr(&user, "password");
    assert_eq!(password["mutability"], json!("writeOnly"));
    assert_eq!(password["returned"], json!("never"));
    assert_eq!(attr(&user, "groups")["mutability"], json!("readOnly"));
    // The common attributes are not part of any schema (RFC 7643 section 3.1).
    for common in ["id", "externalId", "meta"] {
        assert!(!names(&user["attributes"]).contains(&common), "{common}");
    }
    let group = schema_document(BASE, &schema::GROUP);
    assert_eq!(names(&group["attributes"]), ["displayName", "members"]);
    let members = attr(&group, "members");
    assert_eq!(
        names(&members["subAttributes"]),
        ["value", "$ref", "display", "type"]
    );
    let enterprise = schema_document(BASE, &schema::ENTERPRISE_USER);
    let manager = attr(&enterprise, "manager");
    assert_eq!(
        names(&manager["subAttributes"]),
        ["value", "$ref", "displayName"]
    );
}

/// A valid value for `attr` (arrays for multi-valued attributes).
fn sample(attr: &'static Attribute) -> Value {
    let one = match attr.ty {
        AttrType::String => match attr.canonical_values.first() {
            Some(canonical) => json!(canonical),
            None => json!(format!("sample {}", attr.name)),
        },
        AttrType::Boolean => json!(true),
        AttrType::Decimal => json!(1.5),
        AttrType::Integer => json!(3),
        AttrType::DateTime => json!("2024-05-01T12:00:00Z"),
        AttrType::Binary => json!("TUlJQg=="),
        AttrType::Reference => json!(format!("https://example.com/{}", attr.name)),
        AttrType::Complex => Value::Object(
            attr.sub_attributes
                .iter()
                .map(|s| (s.name.to_string(), sample(s)))
                .collect(),
        ),
    };
    if attr.multi_valued { json!([one]) } else { one }
}

/// What storing `sample(attr)` keeps: read-only and write-only parts vanish.
fn stored(attr: &'static Attribute) -> Option<Value> {
    if matches!(
        attr.mutability,
        Mutability::ReadOnly | Mutability::WriteOnly
    ) {
        return None;
    }
    let one = match attr.ty {
        AttrType::Complex => Value::Object(
            attr.sub_attributes
                .iter()
                .filter_map(|s| stored(s).map(|v| (s.name.to_string(), v)))
                .collect(),
        ),
        _ => match sample(attr) {
            Value::Array(mut items) => items.remove(0),
            other => other,
        },
    };
    Some(if attr.multi_valued { json!([one]) } else { one })
}

#[test]
fn every_advertised_attribute_is_accepted_stored_and_returned() {
    for (kind, schema, required) in [
        (ResourceKind::User, &schema::USER, "userName"),
        (ResourceKind::User, &schema::ENTERPRISE_USER, "userName"),
        (ResourceKind::Group, &schema::GROUP, "displayName"),
    ] {
        for attr in schema.attributes {
            let mut body = json!({
                "schemas": [kind.core_schema().id],
                required: "required value",
            });
            if schema.id == kind.core_schema().id {
                body[attr.name] = sample(attr);
            } else {
                body[schema.id] = json!({ attr.name: sample(attr) });
            }
            let n = crate::resource::normalize(kind, &body)
                .unwrap_or_else(|e| panic!("{} is advertised but refused: {e}", attr.name));
            if kind == ResourceKind::Group && attr.name == "members" {
                assert_eq!(n.members.len(), 1);
                continue;
            }
            let container = if schema.id == kind.core_schema().id {
                Some(&n.data)
            } else {
                n.data.get(schema.id).and_then(Value::as_object)
            };
            let kept = container.and_then(|c| c.get(attr.name)).cloned();
            assert_eq!(kept, stored(attr), "{}", attr.name);
            // What is stored is returned (unless the schema says it never is).
            if kept.is_some() {
                assert_ne!(attr.returned, Returned::Never, "{}", attr.name);
                let meta = crate::resource::Meta {
                    created: time::OffsetDateTime::UNIX_EPOCH,
                    last_modified: time::OffsetDateTime::UNIX_EPOCH,
                    version: 1,
                };
                let out = crate::resource::render(kind, BASE, "id1", &meta, &n.data, None);
                let out = crate::projection::Projection::default().apply(kind, &out);
                let returned = if schema.id == kind.core_schema().id {
                    out.get(attr.name)
                } else {
                    out.get(schema.id).and_then(|e| e.get(attr.name))
                };
                assert_eq!(returned, kept.as_ref(), "{}", attr.name);
            }
        }
    }
}

/// Whether the normaliser accepts `name` at the top level of a `kind` body, `sub` within
/// `name`, or (with `extension`) `name` within the extension object.
fn accepted(kind: ResourceKind, extension: Option<&str>, name: &str, sub: Option<&str>) -> bool {
    let required = match kind {
        ResourceKind::User => "userName",
        ResourceKind::Group => "displayName",
    };
    let value = match sub {
        Some(sub) => json!({ sub: null }),
        // Not null for the required attribute itself: that is another error.
        None if extension.is_none() && name == required => json!("r"),
        None => Value::Null,
    };
    let mut body = json!({"schemas": [kind.core_schema().id], required: "r"});
    match extension {
        Some(urn) => body[urn] = json!({ name: value }),
        None => body[name] = value,
    }
    match crate::resource::normalize(kind, &body) {
        Ok(_) => true,
        Err(Error::InvalidSyntax(m)) => {
            assert!(m.contains(sub.unwrap_or(name)), "{m}");
            false
        }
        Err(other) => panic!("{body}: {other:?}"),
    }
}

#[test]
fn every_attribute_the_normaliser_accepts_is_advertised() {
    // Candidate names: every name any schema knows, in several spellings, plus strangers.
    let mut candidates: Vec<String> = vec![
        "nosuch".into(),
        "members".into(),
        "userName".into(),
        "employeeNumber".into(),
        "manager".into(),
        "label".into(),
        "value".into(),
    ];
    for schema in all_schemas() {
        for attr in schema.attributes {
            candidates.push(attr.name.into());
            candidates.push(attr.name.to_ascii_uppercase());
            for sub in attr.sub_attributes {
                candidates.push(sub.name.into());
            }
        }
    }
    candidates.sort();
    candidates.dedup();
    for (kind, urn, schema) in [
        (ResourceKind::User, None, &schema::USER),
        (
            ResourceKind::User,
            Some(ENTERPRISE_USER_SCHEMA),
            &schema::ENTERPRISE_USER,
        ),
        (ResourceKind::Group, None, &schema::GROUP),
    ] {
        let doc = schema_document(BASE, schema);
        let advertised = names(&doc["attributes"]);
        for name in &candidates {
            let is_advertised = advertised.iter().any(|a| a.eq_ignore_ascii_case(name));
            let is_common = urn.is_none() && schema::common_attribute(name).is_some();
            assert_eq!(
                accepted(kind, urn, name, None),
                is_advertised || is_common,
                "{} {name}",
                schema.id
            );
        }
        // Sub-attributes of every complex attribute.
        for (attr_doc, attr) in doc["attributes"]
            .as_array()
            .unwrap()
            .iter()
            .zip(schema.attributes)
        {
            // Read-only attributes are ignored whole, whatever they contain.
            if attr.ty != AttrType::Complex || attr.mutability == Mutability::ReadOnly {
                continue;
            }
            if kind == ResourceKind::Group && attr.name == "members" {
                continue; // member objects are read by member_refs
            }
            let subs = names(&attr_doc["subAttributes"]);
            for sub in &candidates {
                let is_advertised = subs.iter().any(|s| s.eq_ignore_ascii_case(sub));
                assert_eq!(
                    accepted(kind, urn, attr.name, Some(sub)),
                    is_advertised,
                    "{}.{sub}",
                    attr.name
                );
            }
        }
    }
    // The common attributes: exactly these three.
    let common: Vec<&str> = schema::COMMON.iter().map(|a| a.name).collect();
    assert_eq!(common, ["id", "externalId", "meta"]);
}

#[test]
fn resource_types() {
    let user = resource_type_document(BASE, ResourceKind::User);
    assert_eq!(user["schemas"], json!([RESOURCE_TYPE_SCHEMA]));
    assert_eq!(user["id"], json!("User"));
    assert_eq!(user["name"], json!("User"));
    assert_eq!(user["endpoint"], json!("/Users"));
    assert_eq!(user["schema"], json!(USER_SCHEMA));
    assert_eq!(
        user["schemaExtensions"],
        json!([{"schema": ENTERPRISE_USER_SCHEMA, "required": false}])
    );
    assert_eq!(
        user["meta"]["location"],
        json!(format!("{BASE}/ResourceTypes/User"))
    );
    let group = resource_type_document(BASE, ResourceKind::Group);
    assert_eq!(group["endpoint"], json!("/Groups"));
    assert_eq!(group["schema"], json!(GROUP_SCHEMA));
    assert_eq!(group["schemaExtensions"], json!([]));
    // Every schema a resource type names is served.
    let served: Vec<&str> = all_schemas().iter().map(|s| s.id).collect();
    for doc in [&user, &group] {
        assert!(served.contains(&doc["schema"].as_str().unwrap()));
        for ext in doc["schemaExtensions"].as_array().unwrap() {
            assert!(served.contains(&ext["schema"].as_str().unwrap()));
        }
    }
}

#[test]
fn service_provider_config_tells_the_truth() {
    let spc = service_provider_config(BASE, features());
    assert_eq!(spc["schemas"], json!([SERVICE_PROVIDER_CONFIG_SCHEMA]));
    assert_eq!(spc["patch"]["supported"], json!(true));
    assert_eq!(spc["bulk"]["supported"], json!(false));
    assert_eq!(spc["bulk"]["maxPayloadSize"], json!(1 << 20));
    assert_eq!(spc["filter"]["supported"], json!(true));
    assert_eq!(
        spc["filter"]["maxResults"],
        json!(crate::message::MAX_COUNT)
    );
    assert_eq!(spc["changePassword"]["supported"], json!(false));
    assert_eq!(spc["sort"]["supported"], json!(false));
    assert_eq!(spc["etag"]["supported"], json!(true));
    assert_eq!(
        spc["authenticationSchemes"][0]["type"],
        json!("oauthbearertoken")
    );
    assert_eq!(
        spc["meta"]["location"],
        json!(format!("{BASE}/ServiceProviderConfig"))
    );
    let sorted = service_provider_config(
        BASE,
        Features {
            sort: true,
            ..features()
        },
    );
    assert_eq!(sorted["sort"]["supported"], json!(true));
}

/// Problems of `value` as a value of `attrs`: unknown keys, missing required ones, wrong
/// types. `schemas` and `meta` are allowed at the top.
fn conformance(value: &Value, attrs: &'static [Attribute], at: &str, problems: &mut Vec<String>) {
    let Some(object) = value.as_object() else {
        problems.push(format!("{at}: not an object"));
        return;
    };
    for (key, v) in object {
        if at.is_empty() && (key == "schemas" || key == "meta") {
            continue;
        }
        let Some(attr) = attrs.iter().find(|a| a.name == key.as_str()) else {
            problems.push(format!("{at}/{key}: not in the schema"));
            continue;
        };
        let items: Vec<&Value> = match (attr.multi_valued, v) {
            (true, Value::Array(items)) => items.iter().collect(),
            (true, _) => {
                problems.push(format!("{at}/{key}: should be an array"));
                continue;
            }
            (false, v) => vec![v],
        };
        for item in items {
            let fits = match attr.ty {
                AttrType::String | AttrType::Reference | AttrType::Binary => item.is_string(),
                AttrType::Boolean => item.is_boolean(),
                AttrType::Integer => item.is_i64() || item.is_u64(),
                AttrType::Decimal => item.is_number(),
                AttrType::DateTime => item.as_str().and_then(crate::datetime::parse).is_some(),
                AttrType::Complex => {
                    conformance(item, attr.sub_attributes, &format!("{at}/{key}"), problems);
                    true
                }
            };
            if !fits {
                problems.push(format!("{at}/{key}: not a {}", attr.ty.as_str()));
            }
        }
    }
    for attr in attrs.iter().filter(|a| a.required) {
        if !object.contains_key(attr.name) {
            problems.push(format!("{at}/{}: required but missing", attr.name));
        }
    }
}

#[test]
fn discovery_documents_conform_to_their_schemas() {
    let mut problems = Vec::new();
    conformance(
        &service_provider_config(BASE, features()),
        schema::SERVICE_PROVIDER_CONFIG.attributes,
        "",
        &mut problems,
    );
    for kind in [ResourceKind::User, ResourceKind::Group] {
        conformance(
            &resource_type_document(BASE, kind),
            schema::RESOURCE_TYPE.attributes,
            "",
            &mut problems,
        );
    }
    for doc in all_schema_documents(BASE) {
        conformance(&doc, schema::SCHEMA.attributes, "", &mut problems);
    }
    // The Schema schema describes its own `subAttributes` with a third level of
    // `subAttributes`, as RFC 7643 section 8.7.2 does; its definition has two.
    problems.retain(|p| p != "/attributes/subAttributes/subAttributes: not in the schema");
    assert!(problems.is_empty(), "{problems:#?}");
}
