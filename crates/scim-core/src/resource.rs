//! Reading resources from requests (lenient) and writing them to responses (canonical).
//!
//! The stored form of a resource is its *data*: a JSON object with canonical attribute
//! names and types, without `id`, `meta`, `schemas`, group `members` or user `groups`
//! (those are kept and derived by the server).
//!
//! Leniencies, for Microsoft Entra ID and other real clients:
//! - booleans sent as strings `"True"` / `"false"` (any case) become booleans, also inside
//!   multi-valued attributes (`primary`);
//! - a complex attribute sent as a bare string becomes `{ "value": ... }` (Entra sends
//!   `manager` this way), and a single value for a multi-valued attribute becomes a list;
//! - numbers sent for string attributes become their decimal text;
//! - read-only attributes (`id`, `meta`, `groups`, `members.display`) are ignored;
//! - `null`, `""`, `[]` and `{}` mean "no value": `roles: []` is fine;
//! - `password` is accepted and discarded (sshward never authenticates with passwords);
//! - extension schemas that this server does not know (e.g. Entra's
//!   `http://schemas.microsoft.com/2006/11/ResourceManagement/ADSCIM/2.0/Group`) may be
//!   listed in `schemas`, and an object under such a URN is ignored.
//!
//! An attribute that no schema defines is rejected with `invalidSyntax`, naming it, so a
//! mistyped mapping in the client is seen at once instead of silently dropped.

use crate::Error;
use crate::datetime;
use crate::schema::{AttrType, Attribute, Mutability, ResourceKind, Schema};
use serde_json::{Map, Value};
use time::OffsetDateTime;

/// A member of a group as a client names it.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct MemberRef {
    /// The member's `id`.
    pub value: String,
}

/// A request body, checked and in canonical form.
#[derive(Clone, Debug, PartialEq)]
pub struct Normalized {
    /// The resource data to store (see the module documentation).
    pub data: Map<String, Value>,
    /// For groups: the members listed in the body, without duplicates.
    pub members: Vec<MemberRef>,
}

/// Reads a POST or PUT body for a resource of `kind`.
pub fn normalize(kind: ResourceKind, body: &Value) -> Result<Normalized, Error> {
    let Value::Object(object) = body else {
        return Err(Error::InvalidSyntax(
            "the request body must be a JSON object".into(),
        ));
    };
    check_schemas(kind, object)?;
    let core = kind.core_schema();
    let mut data = Map::new();
    let mut members = Vec::new();
    for (key, value) in object {
        if key == "schemas" {
            continue;
        }
        if is_schema_key(key) {
            if let Some(ext) = kind.extension(key) {
                if let Some(ext_data) = normalize_extension(ext, value)? {
                    data.insert(ext.id.to_string(), Value::Object(ext_data));
                }
            } else if key.eq_ignore_ascii_case(core.id) {
                return Err(Error::InvalidSyntax(format!(
                    "core attributes belong at the top level, not under '{key}'"
                )));
            }
            continue;
        }
        let attr = core
            .attribute(key)
            .or_else(|| crate::schema::common_attribute(key))
            .ok_or_else(|| unknown_attribute(kind, key))?;
        if kind == ResourceKind::Group && attr.name == "members" {
            members = member_refs(value)?;
            continue;
        }
        if let Some(v) = coerce_input(attr, value)? {
            data.insert(attr.name.to_string(), v);
        }
    }
    check_required(kind, &data)?;
    Ok(Normalized { data, members })
}

fn unknown_attribute(kind: ResourceKind, key: &str) -> Error {
    Error::InvalidSyntax(format!(
        "'{key}' is not an attribute of {} resources",
        kind.name()
    ))
}

/// True for keys that are schema URIs rather than attribute names.
pub(crate) fn is_schema_key(key: &str) -> bool {
    key.contains(':')
}

fn check_schemas(kind: ResourceKind, object: &Map<String, Value>) -> Result<(), Error> {
    let core = kind.core_schema().id;
    let Some(schemas) = object.get("schemas") else {
        return Err(Error::InvalidSyntax(format!(
            "'schemas' is required and must list \"{core}\""
        )));
    };
    let Some(list) = schemas.as_array() else {
        return Err(Error::InvalidSyntax(
            "'schemas' must be an array of strings".into(),
        ));
    };
    let mut has_core = false;
    for item in list {
        let Some(urn) = item.as_str() else {
            return Err(Error::InvalidSyntax(
                "'schemas' must be an array of strings".into(),
            ));
        };
        has_core |= urn.eq_ignore_ascii_case(core);
    }
    if has_core {
        Ok(())
    } else {
        Err(Error::InvalidSyntax(format!(
            "'schemas' must list \"{core}\""
        )))
    }
}

fn normalize_extension(ext: &Schema, value: &Value) -> Result<Option<Map<String, Value>>, Error> {
    let object = match value {
        Value::Null => return Ok(None),
        Value::Object(o) => o,
        _ => {
            return Err(Error::InvalidSyntax(format!(
                "'{}' must be an object of extension attributes",
                ext.id
            )));
        }
    };
    let mut out = Map::new();
    for (key, v) in object {
        let attr = ext.attribute(key).ok_or_else(|| {
            Error::InvalidSyntax(format!("'{key}' is not an attribute of '{}'", ext.id))
        })?;
        if let Some(v) = coerce_input(attr, v)? {
            out.insert(attr.name.to_string(), v);
        }
    }
    Ok((!out.is_empty()).then_some(out))
}

fn check_required(kind: ResourceKind, data: &Map<String, Value>) -> Result<(), Error> {
    for attr in kind.core_schema().attributes.iter().filter(|a| a.required) {
        if !data.contains_key(attr.name) {
            return Err(Error::InvalidValue(format!("'{}' is required", attr.name)));
        }
    }
    check_names(data)
}

/// The attributes that name a resource to people and systems: they end up in POSIX
/// names, sudoers comments, logs and terminals.
const NAMES: [&str; 3] = ["userName", "displayName", "externalId"];

/// Refuses a control character (C0, DEL, C1: a newline, a carriage return, an escape
/// sequence) in a name. No identity provider sends one (Entra's names are single-line
/// text); one that arrives is a forged row in a table or log, or a terminal escape.
fn check_names(data: &Map<String, Value>) -> Result<(), Error> {
    for name in NAMES {
        if let Some(Value::String(text)) = data.get(name)
            && let Some(c) = text.chars().find(|c| c.is_control())
        {
            return Err(Error::InvalidValue(format!(
                "'{name}' must not contain control characters (found U+{:04X})",
                u32::from(c)
            )));
        }
    }
    Ok(())
}

/// Validates the data of a resource after a PATCH: required attributes are present.
pub(crate) fn check_data(kind: ResourceKind, data: &Map<String, Value>) -> Result<(), Error> {
    check_required(kind, data)
}

/// Reads `value` for `attr` from a request; read-only and write-only attributes vanish.
fn coerce_input(attr: &'static Attribute, value: &Value) -> Result<Option<Value>, Error> {
    match attr.mutability {
        Mutability::ReadOnly | Mutability::WriteOnly => Ok(None),
        _ => coerce(attr, value),
    }
}

/// Converts `value` to the canonical form of `attr`; `None` means "no value".
pub(crate) fn coerce(attr: &'static Attribute, value: &Value) -> Result<Option<Value>, Error> {
    if !attr.multi_valued {
        return coerce_single(attr, value);
    }
    let items: Vec<&Value> = match value {
        Value::Null => return Ok(None),
        Value::Array(items) => items.iter().collect(),
        single => vec![single],
    };
    let mut out = Vec::with_capacity(items.len());
    for item in items {
        if let Some(v) = coerce_single(attr, item)?
            && !out.contains(&v)
        {
            out.push(v);
        }
    }
    let primaries = out
        .iter()
        .filter(|v| v.get("primary") == Some(&Value::Bool(true)))
        .count();
    if primaries > 1 {
        return Err(Error::InvalidValue(format!(
            "at most one of '{}' may be primary",
            attr.name
        )));
    }
    Ok((!out.is_empty()).then_some(Value::Array(out)))
}

/// Converts one (non-array) value for `attr`.
pub(crate) fn coerce_single(
    attr: &'static Attribute,
    value: &Value,
) -> Result<Option<Value>, Error> {
    let wrong = |expected: &str| {
        Err(Error::InvalidValue(format!(
            "'{}' must be {expected}, not {}",
            attr.name,
            describe(value)
        )))
    };
    match (attr.ty, value) {
        (_, Value::Null) => Ok(None),
        (AttrType::Complex, Value::Object(object)) => {
            let mut out = Map::new();
            for (key, v) in object {
                let sub = attr.sub_attribute(key).ok_or_else(|| {
                    Error::InvalidSyntax(format!("'{}' has no sub-attribute '{key}'", attr.name))
                })?;
                if let Some(v) = coerce_input(sub, v)? {
                    out.insert(sub.name.to_string(), v);
                }
            }
            Ok((!out.is_empty()).then_some(Value::Object(out)))
        }
        // Entra sends `"manager": "<id>"` for `"manager": {"value": "<id>"}`.
        (AttrType::Complex, Value::String(_) | Value::Number(_)) => {
            match attr.sub_attribute("value") {
                Some(sub) => Ok(coerce_single(sub, value)?.map(|v| {
                    let mut object = Map::new();
                    object.insert(sub.name.to_string(), v);
                    Value::Object(object)
                })),
                None => wrong("an object"),
            }
        }
        (AttrType::Complex, _) => wrong("an object"),
        (AttrType::Boolean, Value::Bool(_)) => Ok(Some(value.clone())),
        (AttrType::Boolean, Value::String(s)) => match s.trim().to_ascii_lowercase().as_str() {
            "true" => Ok(Some(Value::Bool(true))),
            "false" => Ok(Some(Value::Bool(false))),
            _ => wrong("a boolean"),
        },
        (AttrType::Boolean, _) => wrong("a boolean"),
        (AttrType::Integer, Value::Number(n)) if n.is_i64() || n.is_u64() => {
            Ok(Some(value.clone()))
        }
        (AttrType::Integer, _) => wrong("an integer"),
        (AttrType::Decimal, Value::Number(_)) => Ok(Some(value.clone())),
        (AttrType::Decimal, _) => wrong("a number"),
        (AttrType::DateTime, Value::String(s)) if s.is_empty() => Ok(None),
        (AttrType::DateTime, Value::String(s)) if datetime::parse(s).is_some() => {
            Ok(Some(value.clone()))
        }
        (AttrType::DateTime, _) => wrong("a dateTime such as \"2024-05-01T12:00:00Z\""),
        (_, Value::String(s)) if s.is_empty() => Ok(None),
        (_, Value::String(_)) => Ok(Some(value.clone())),
        (_, Value::Number(n)) => Ok(Some(Value::String(n.to_string()))),
        _ => wrong("a string"),
    }
}

fn describe(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

/// Reads a `members` value: an array of `{"value": id}` objects (bare id strings are
/// accepted too). Only User members are supported; `display` and `$ref` are ignored.
pub fn member_refs(value: &Value) -> Result<Vec<MemberRef>, Error> {
    let items: Vec<&Value> = match value {
        Value::Null => return Ok(Vec::new()),
        Value::Array(items) => items.iter().collect(),
        single => vec![single],
    };
    let mut out: Vec<MemberRef> = Vec::with_capacity(items.len());
    for item in items {
        let id = match item {
            Value::String(s) => s.as_str(),
            Value::Object(o) => {
                if let Some(t) = o.get("type").and_then(Value::as_str)
                    && !t.eq_ignore_ascii_case("User")
                {
                    return Err(Error::InvalidValue(format!(
                        "members of type '{t}' are not supported: members must be Users"
                    )));
                }
                match o.get("value") {
                    Some(Value::String(s)) => s.as_str(),
                    _ => {
                        return Err(Error::InvalidValue(
                            "each member needs a string 'value' with the member's id".into(),
                        ));
                    }
                }
            }
            _ => {
                return Err(Error::InvalidValue(
                    "members must be objects such as {\"value\": \"<id>\"}".into(),
                ));
            }
        };
        if id.is_empty() {
            return Err(Error::InvalidValue(
                "a member 'value' must not be empty".into(),
            ));
        }
        if !out.iter().any(|m| m.value == id) {
            out.push(MemberRef {
                value: id.to_string(),
            });
        }
    }
    Ok(out)
}

/// Server-kept facts about a stored resource, rendered into `meta`.
#[derive(Clone, Debug)]
pub struct Meta {
    /// When it was created.
    pub created: OffsetDateTime,
    /// When it last changed.
    pub last_modified: OffsetDateTime,
    /// Its version, bumped on every write.
    pub version: i64,
}

/// A group member or a user's group, as returned in responses.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Link {
    /// The id of the linked resource.
    pub value: String,
    /// Its display name.
    pub display: Option<String>,
}

/// The entity tag of a resource version: `W/"<version>"`.
pub fn etag(version: i64) -> String {
    format!("W/\"{version}\"")
}

/// Renders a full resource in canonical form.
///
/// `base` is the SCIM base URL of the team (e.g. `https://host/scim/v2/acme`), used for
/// `meta.location` and `$ref`. `links` are a group's members or a user's groups; `None`
/// leaves the attribute out (when it was not loaded because it is not returned).
pub fn render(
    kind: ResourceKind,
    base: &str,
    id: &str,
    meta: &Meta,
    data: &Map<String, Value>,
    links: Option<&[Link]>,
) -> Map<String, Value> {
    let mut out = Map::new();
    let mut schemas = vec![Value::String(kind.core_schema().id.to_string())];
    for ext in kind.extensions() {
        if data.contains_key(ext.id) {
            schemas.push(Value::String(ext.id.to_string()));
        }
    }
    out.insert("schemas".into(), Value::Array(schemas));
    out.insert("id".into(), Value::String(id.to_string()));
    for (k, v) in data {
        out.insert(k.clone(), v.clone());
    }
    if let Some(links) = links {
        let (name, target) = match kind {
            ResourceKind::Group => ("members", "Users"),
            ResourceKind::User => ("groups", "Groups"),
        };
        let items = links
            .iter()
            .map(|link| {
                let mut item = Map::new();
                item.insert("value".into(), Value::String(link.value.clone()));
                item.insert(
                    "$ref".into(),
                    Value::String(format!("{base}/{target}/{}", link.value)),
                );
                if let Some(display) = &link.display {
                    item.insert("display".into(), Value::String(display.clone()));
                }
                let ty = if kind == ResourceKind::Group {
                    "User"
                } else {
                    "direct"
                };
                item.insert("type".into(), Value::String(ty.into()));
                Value::Object(item)
            })
            .collect();
        out.insert(name.into(), Value::Array(items));
    }
    let mut m = Map::new();
    m.insert("resourceType".into(), Value::String(kind.name().into()));
    m.insert(
        "created".into(),
        Value::String(datetime::format(meta.created)),
    );
    m.insert(
        "lastModified".into(),
        Value::String(datetime::format(meta.last_modified)),
    );
    m.insert(
        "location".into(),
        Value::String(format!("{base}/{}/{id}", kind.endpoint())),
    );
    m.insert("version".into(), Value::String(etag(meta.version)));
    out.insert("meta".into(), Value::Object(m));
    out
}

#[cfg(test)]
mod tests;
