//! The discovery documents (RFC 7644 section 4): `/ServiceProviderConfig`, `/Schemas`,
//! `/ResourceTypes`, generated from the schema definitions this crate enforces.

use crate::message::MAX_COUNT;
use crate::schema::{Attribute, ResourceKind, Schema};
use serde_json::{Map, Value, json};

/// URN of the ServiceProviderConfig schema.
pub const SERVICE_PROVIDER_CONFIG_SCHEMA: &str =
    "urn:ietf:params:scim:schemas:core:2.0:ServiceProviderConfig";
/// URN of the ResourceType schema.
pub const RESOURCE_TYPE_SCHEMA: &str = "urn:ietf:params:scim:schemas:core:2.0:ResourceType";
/// URN of the Schema schema.
pub const SCHEMA_SCHEMA: &str = "urn:ietf:params:scim:schemas:core:2.0:Schema";

/// Optional features the serving side supports.
#[derive(Clone, Copy, Debug)]
pub struct Features {
    /// Whether `sortBy` is honoured.
    pub sort: bool,
    /// Largest accepted request body, in bytes.
    pub max_payload_size: usize,
}

/// The ServiceProviderConfig document. `base` is the team's SCIM base URL.
pub fn service_provider_config(base: &str, features: Features) -> Value {
    json!({
        "schemas": [SERVICE_PROVIDER_CONFIG_SCHEMA],
        "documentationUri": "https://github.com/sshward/sshward/blob/main/docs/operations.md",
        "patch": { "supported": true },
        "bulk": { "supported": false, "maxOperations": 0, "maxPayloadSize": features.max_payload_size },
        "filter": { "supported": true, "maxResults": MAX_COUNT },
        "changePassword": { "supported": false },
        "sort": { "supported": features.sort },
        "etag": { "supported": true },
        "authenticationSchemes": [{
            "type": "oauthbearertoken",
            "name": "Bearer token",
            "description": "A team's SCIM secret token, sent as 'Authorization: Bearer <token>'.",
            "primary": true,
        }],
        "meta": {
            "resourceType": "ServiceProviderConfig",
            "location": format!("{base}/ServiceProviderConfig"),
        },
    })
}

/// Every schema this server serves, in a fixed order: the resource schemas, then those of
/// the discovery documents.
pub fn all_schemas() -> [&'static Schema; 6] {
    [
        ResourceKind::User.core_schema(),
        &crate::schema::ENTERPRISE_USER,
        ResourceKind::Group.core_schema(),
        &crate::schema::SERVICE_PROVIDER_CONFIG,
        &crate::schema::RESOURCE_TYPE,
        &crate::schema::SCHEMA,
    ]
}

/// The documents of [`all_schemas`].
pub fn all_schema_documents(base: &str) -> Vec<Value> {
    all_schemas()
        .iter()
        .map(|schema| schema_document(base, schema))
        .collect()
}

/// The representation of one schema (RFC 7643 section 7).
pub fn schema_document(base: &str, schema: &Schema) -> Value {
    json!({
        "schemas": [SCHEMA_SCHEMA],
        "id": schema.id,
        "name": schema.name,
        "description": schema.description,
        "attributes": schema.attributes.iter().map(attribute_document).collect::<Vec<_>>(),
        "meta": {
            "resourceType": "Schema",
            "location": format!("{base}/Schemas/{}", schema.id),
        },
    })
}

fn attribute_document(attr: &Attribute) -> Value {
    let mut doc = Map::new();
    doc.insert("name".into(), json!(attr.name));
    doc.insert("type".into(), json!(attr.ty.as_str()));
    doc.insert("multiValued".into(), json!(attr.multi_valued));
    doc.insert("description".into(), json!(attr.description));
    doc.insert("required".into(), json!(attr.required));
    doc.insert("caseExact".into(), json!(attr.case_exact));
    doc.insert("mutability".into(), json!(attr.mutability.as_str()));
    doc.insert("returned".into(), json!(attr.returned.as_str()));
    doc.insert("uniqueness".into(), json!(attr.uniqueness.as_str()));
    if !attr.canonical_values.is_empty() {
        doc.insert("canonicalValues".into(), json!(attr.canonical_values));
    }
    if !attr.reference_types.is_empty() {
        doc.insert("referenceTypes".into(), json!(attr.reference_types));
    }
    if !attr.sub_attributes.is_empty() {
        let subs: Vec<Value> = attr.sub_attributes.iter().map(attribute_document).collect();
        doc.insert("subAttributes".into(), Value::Array(subs));
    }
    Value::Object(doc)
}

/// The ResourceType document of `kind`.
pub fn resource_type_document(base: &str, kind: ResourceKind) -> Value {
    let extensions: Vec<Value> = kind
        .extensions()
        .iter()
        .map(|ext| json!({ "schema": ext.id, "required": false }))
        .collect();
    json!({
        "schemas": [RESOURCE_TYPE_SCHEMA],
        "id": kind.name(),
        "name": kind.name(),
        "endpoint": format!("/{}", kind.endpoint()),
        "description": match kind {
            ResourceKind::User => "People who may sign in and be granted SSH access",
            ResourceKind::Group => "Groups that are granted SSH and sudo access to hosts",
        },
        "schema": kind.core_schema().id,
        "schemaExtensions": extensions,
        "meta": {
            "resourceType": "ResourceType",
            "location": format!("{base}/ResourceTypes/{}", kind.name()),
        },
    })
}

#[cfg(test)]
mod tests;
