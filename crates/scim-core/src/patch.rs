//! The PATCH engine (RFC 7644 section 3.5.2), with the forms Microsoft Entra ID sends.
//!
//! [`PatchRequest::parse`] reads a PatchOp message; [`apply`] applies it to a resource's
//! data (see [`crate::resource`]) all or nothing. Group membership is never edited as a
//! list here: member operations come out as [`MemberChange`]s, which storage applies as
//! row inserts and deletes, so adding one member to a huge group costs one row.
//!
//! Accepted beyond the letter of the RFC, because Entra sends it:
//! - `op` in any case (`Add`, `Replace`, `Remove`);
//! - `add` and `replace` used interchangeably, also for single-valued attributes;
//! - string booleans (`"value": "False"`);
//! - a path-less `add`/`replace` whose value has dotted (`"name.givenName"`) or
//!   URN-qualified (`"urn:...:enterprise:2.0:User:employeeNumber"`) keys, resolved as paths;
//! - `add`/`replace` on a filtered path that matches nothing creates the element
//!   (`emails[type eq "work"].value` on a user without a work email);
//! - `{"op":"Remove","path":"members","value":[{"value":"id"}]}` removes only the listed
//!   members (a strict reading would remove them all).

use crate::Error;
use crate::filter::{self, AttrPath, CompValue, CompareOp, Filter, PatchPath};
use crate::path::{self, ResolvedAttr};
use crate::resource::{self, MemberRef};
use crate::schema::{AttrType, Attribute, Mutability, ResourceKind};
use serde_json::{Map, Value};

/// URN of the PatchOp message.
pub const PATCH_OP_SCHEMA: &str = "urn:ietf:params:scim:api:messages:2.0:PatchOp";
/// Most operations accepted in one request.
pub const MAX_OPERATIONS: usize = 1000;

/// The kind of a PATCH operation.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PatchOp {
    /// `add`.
    Add,
    /// `replace`.
    Replace,
    /// `remove`.
    Remove,
}

/// One operation of a PATCH request.
#[derive(Clone, Debug, PartialEq)]
pub struct PatchOperation {
    /// What to do.
    pub op: PatchOp,
    /// Where; `None` for path-less operations.
    pub path: Option<PatchPath>,
    /// The value, when one was sent.
    pub value: Option<Value>,
}

/// A parsed PatchOp message.
#[derive(Clone, Debug, PartialEq)]
pub struct PatchRequest {
    /// The operations, applied in order.
    pub operations: Vec<PatchOperation>,
}

/// A change to a group's member rows.
#[derive(Clone, Debug, PartialEq)]
pub enum MemberChange {
    /// Add these members (already present ones are kept; no duplicates).
    Add(Vec<MemberRef>),
    /// Remove the members with these ids (absent ones are ignored).
    Remove(Vec<String>),
    /// Remove every member.
    RemoveAll,
    /// Remove the members for which this resolved filter on the member sub-attributes
    /// (`value`, `display`, `type`) holds; see [`member_matches`].
    RemoveWhere(Filter),
}

/// What [`apply`] did.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct PatchOutcome {
    /// Whether the stored data changed.
    pub data_changed: bool,
    /// Member changes to apply, in order (groups only).
    pub members: Vec<MemberChange>,
}

impl PatchRequest {
    /// Reads a PatchOp message body.
    pub fn parse(body: &Value) -> Result<PatchRequest, Error> {
        let Value::Object(object) = body else {
            return Err(Error::InvalidSyntax(
                "the request body must be a JSON object".into(),
            ));
        };
        let lists_patch_op = object
            .get("schemas")
            .and_then(Value::as_array)
            .is_some_and(|l| l.iter().any(|s| s.as_str() == Some(PATCH_OP_SCHEMA)));
        if !lists_patch_op {
            return Err(Error::InvalidSyntax(format!(
                "'schemas' must be [\"{PATCH_OP_SCHEMA}\"]"
            )));
        }
        let operations = object
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case("Operations"))
            .map(|(_, v)| v);
        let Some(Value::Array(list)) = operations else {
            return Err(Error::InvalidSyntax("'Operations' must be an array".into()));
        };
        if list.is_empty() {
            return Err(Error::InvalidValue("'Operations' must not be empty".into()));
        }
        if list.len() > MAX_OPERATIONS {
            return Err(Error::TooMany(format!(
                "at most {MAX_OPERATIONS} operations are accepted in one request"
            )));
        }
        let operations = list
            .iter()
            .enumerate()
            .map(|(i, op)| parse_operation(op).map_err(|e| prefix(e, i)))
            .collect::<Result<_, _>>()?;
        Ok(PatchRequest { operations })
    }
}

fn prefix(error: Error, index: usize) -> Error {
    let at = |m: String| format!("operation {}: {m}", index + 1);
    match error {
        Error::InvalidFilter(m) => Error::InvalidFilter(at(m)),
        Error::InvalidSyntax(m) => Error::InvalidSyntax(at(m)),
        Error::InvalidPath(m) => Error::InvalidPath(at(m)),
        Error::InvalidValue(m) => Error::InvalidValue(at(m)),
        Error::Mutability(m) => Error::Mutability(at(m)),
        Error::NoTarget(m) => Error::NoTarget(at(m)),
        Error::Uniqueness(m) => Error::Uniqueness(at(m)),
        Error::TooMany(m) => Error::TooMany(at(m)),
    }
}

fn parse_operation(value: &Value) -> Result<PatchOperation, Error> {
    let Value::Object(object) = value else {
        return Err(Error::InvalidSyntax(
            "an operation must be an object".into(),
        ));
    };
    let get = |name: &str| {
        object
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v)
    };
    let op = match get("op")
        .and_then(Value::as_str)
        .map(str::to_ascii_lowercase)
    {
        Some(op) if op == "add" => PatchOp::Add,
        Some(op) if op == "replace" => PatchOp::Replace,
        Some(op) if op == "remove" => PatchOp::Remove,
        Some(other) => {
            return Err(Error::InvalidSyntax(format!(
                "unknown op '{other}': use add, replace or remove"
            )));
        }
        None => return Err(Error::InvalidSyntax("'op' is required".into())),
    };
    let path = match get("path") {
        None | Some(Value::Null) => None,
        Some(Value::String(p)) if p.trim().is_empty() => None,
        Some(Value::String(p)) => Some(
            filter::parse_path(p).map_err(|e| Error::InvalidPath(format!("path '{p}': {e}")))?,
        ),
        Some(_) => return Err(Error::InvalidPath("'path' must be a string".into())),
    };
    let value = get("value").cloned();
    if op != PatchOp::Remove && value.is_none() {
        return Err(Error::InvalidValue("add and replace need a 'value'".into()));
    }
    Ok(PatchOperation { op, path, value })
}

/// Applies `request` to the data of a resource of `kind`, all or nothing.
///
/// On error `data` is unchanged. For groups, `data` holds no `members`; member operations
/// are returned in [`PatchOutcome::members`].
pub fn apply(
    kind: ResourceKind,
    data: &mut Map<String, Value>,
    request: &PatchRequest,
) -> Result<PatchOutcome, Error> {
    let mut work = data.clone();
    let mut members = Vec::new();
    for (i, operation) in request.operations.iter().enumerate() {
        let mut engine = Engine {
            kind,
            data: &mut work,
            members: &mut members,
        };
        engine.run(operation).map_err(|e| prefix(e, i))?;
    }
    resource::check_data(kind, &work)?;
    let data_changed = work != *data;
    *data = work;
    Ok(PatchOutcome {
        data_changed,
        members,
    })
}

/// Tests a member against the filter of [`MemberChange::RemoveWhere`]. `member` is an
/// object with `value`, and optionally `display` and `type`.
pub fn member_matches(filter: &Filter, member: &Map<String, Value>) -> bool {
    match crate::schema::GROUP.attribute("members") {
        Some(attr) => filter::element_matches(filter, attr, member),
        None => false,
    }
}

struct Engine<'a> {
    kind: ResourceKind,
    data: &'a mut Map<String, Value>,
    members: &'a mut Vec<MemberChange>,
}

impl Engine<'_> {
    fn run(&mut self, operation: &PatchOperation) -> Result<(), Error> {
        let value = operation.value.as_ref();
        match &operation.path {
            Some(path) => self.at_path(operation.op, path, value, true),
            None if operation.op == PatchOp::Remove => {
                Err(Error::NoTarget("remove needs a 'path'".into()))
            }
            None => match value {
                Some(Value::Object(object)) => self.pathless(operation.op, object),
                _ => Err(Error::InvalidValue(
                    "a path-less add or replace needs an object of attributes as 'value'".into(),
                )),
            },
        }
    }

    /// Each key of the value object is a path: plain, dotted, or URN-qualified.
    fn pathless(&mut self, op: PatchOp, object: &Map<String, Value>) -> Result<(), Error> {
        for (key, value) in object {
            if key == "schemas" {
                continue;
            }
            let path = match filter::parse_path(key) {
                Ok(path) => path,
                // Objects under schema URIs this server does not know are ignored, as in
                // POST bodies.
                Err(_) if resource::is_schema_key(key) => continue,
                Err(e) => return Err(Error::InvalidPath(format!("key '{key}': {e}"))),
            };
            let unknown_schema = path.attr.urn.as_ref().is_some_and(|urn| {
                path::as_extension(self.kind, &path.attr).is_none()
                    && !urn.eq_ignore_ascii_case(self.kind.core_schema().id)
                    && self.kind.extension(urn).is_none()
            });
            if unknown_schema {
                continue;
            }
            self.at_path(op, &path, Some(value), false)?;
        }
        Ok(())
    }

    fn at_path(
        &mut self,
        op: PatchOp,
        path: &PatchPath,
        value: Option<&Value>,
        explicit: bool,
    ) -> Result<(), Error> {
        if path.filter.is_none()
            && let Some(ext) = path::as_extension(self.kind, &path.attr)
        {
            return self.whole_extension(op, ext.id, value);
        }
        let resolved = path::resolve(self.kind, &path.attr).map_err(Error::InvalidPath)?;
        if self.kind == ResourceKind::Group && resolved.attr.name == "members" {
            return self.members(op, path, &resolved, value);
        }
        let leaf = resolved.leaf();
        if resolved.attr.mutability == Mutability::ReadOnly
            || leaf.mutability == Mutability::ReadOnly
        {
            return if explicit {
                Err(Error::Mutability(format!(
                    "'{}' is read-only",
                    resolved.path
                )))
            } else {
                Ok(())
            };
        }
        if leaf.mutability == Mutability::WriteOnly {
            // Accepted and discarded, like `password` in POST bodies.
            return Ok(());
        }
        match &path.filter {
            None => self.plain(op, &resolved, value),
            Some(filter) => self.filtered(op, &resolved, path, filter, value),
        }
    }

    fn whole_extension(
        &mut self,
        op: PatchOp,
        urn: &str,
        value: Option<&Value>,
    ) -> Result<(), Error> {
        match (op, value) {
            (PatchOp::Remove, _) => {
                self.data.remove(urn);
                Ok(())
            }
            (_, Some(Value::Object(object))) => {
                // Some clients send the extension object with its own `schemas` member.
                for (key, v) in object.iter().filter(|(k, _)| k.as_str() != "schemas") {
                    let path = PatchPath {
                        attr: AttrPath {
                            urn: Some(urn.to_string()),
                            name: key.clone(),
                            sub: None,
                        },
                        filter: None,
                    };
                    self.at_path(op, &path, Some(v), false)?;
                }
                Ok(())
            }
            _ => Err(Error::InvalidValue(format!(
                "'{urn}' needs an object as value"
            ))),
        }
    }

    /// A path without a value filter: `attr` or `attr.sub`.
    fn plain(&mut self, op: PatchOp, r: &ResolvedAttr, value: Option<&Value>) -> Result<(), Error> {
        let attr = r.attr;
        let container = r.container_mut(self.data);
        match (r.sub, op) {
            (None, PatchOp::Remove) => {
                container.remove(attr.name);
            }
            (None, _) if attr.multi_valued => {
                let incoming = coerce_opt(attr, value)?;
                let merged = match (op, container.remove(attr.name), incoming) {
                    (PatchOp::Add, Some(Value::Array(mut existing)), Some(Value::Array(new))) => {
                        if new.iter().any(is_primary) {
                            existing.iter_mut().for_each(clear_primary);
                        }
                        for item in new {
                            if !existing.contains(&item) {
                                existing.push(item);
                            }
                        }
                        Some(Value::Array(existing))
                    }
                    (PatchOp::Add, existing, None) => existing,
                    (_, _, incoming) => incoming,
                };
                if let Some(v) = merged {
                    container.insert(attr.name.to_string(), v);
                }
            }
            (None, _) if attr.ty == AttrType::Complex => {
                let Some(Value::Object(object)) = value.map(|v| complex_object(attr, v)) else {
                    return Err(Error::InvalidValue(format!(
                        "'{}' needs an object as value",
                        attr.name
                    )));
                };
                for (key, v) in &object {
                    let sub = attr.sub_attribute(key).ok_or_else(|| {
                        Error::InvalidPath(format!("'{}' has no sub-attribute '{key}'", attr.name))
                    })?;
                    set_sub(container, attr, sub, Some(v))?;
                }
            }
            (None, _) => match coerce_opt(attr, value)? {
                Some(v) => {
                    container.insert(attr.name.to_string(), v);
                }
                None => {
                    container.remove(attr.name);
                }
            },
            (Some(sub), _) if attr.multi_valued => {
                let new = if op == PatchOp::Remove {
                    None
                } else {
                    resource::coerce_single(sub, value.unwrap_or(&Value::Null))?
                };
                let items = container.get_mut(attr.name).and_then(Value::as_array_mut);
                match (items, new) {
                    (Some(items), new) if !items.is_empty() => {
                        for item in items.iter_mut().filter_map(Value::as_object_mut) {
                            set_or_remove(item, sub.name, new.clone());
                        }
                        // `emails.primary = true` on two emails makes two primaries.
                        settle_multi(container, attr)?;
                    }
                    (_, Some(new)) => {
                        let mut item = Map::new();
                        item.insert(sub.name.to_string(), new);
                        container.insert(
                            attr.name.to_string(),
                            Value::Array(vec![Value::Object(item)]),
                        );
                    }
                    (_, None) => {}
                }
            }
            (Some(sub), PatchOp::Remove) => set_sub(container, attr, sub, None)?,
            (Some(sub), _) => set_sub(container, attr, sub, value)?,
        }
        if let Some(urn) = &r.path.urn {
            drop_if_empty(self.data, urn);
        }
        Ok(())
    }

    /// A path with a value filter: `attr[filter]` or `attr[filter].sub`.
    fn filtered(
        &mut self,
        op: PatchOp,
        r: &ResolvedAttr,
        path: &PatchPath,
        filter: &Filter,
        value: Option<&Value>,
    ) -> Result<(), Error> {
        let attr = r.attr;
        if !attr.multi_valued {
            return Err(Error::InvalidPath(format!(
                "'{}' is single-valued: a value filter needs a multi-valued attribute",
                attr.name
            )));
        }
        let inner = resolve_inner(self.kind, &path.attr, filter)?;
        let container = r.container_mut(self.data);
        let mut items = match container.remove(attr.name) {
            Some(Value::Array(items)) => items,
            Some(other) => vec![other],
            None => Vec::new(),
        };
        let hits: Vec<usize> = items
            .iter()
            .enumerate()
            .filter(|(_, v)| {
                v.as_object()
                    .is_some_and(|o| filter::element_matches(&inner, attr, o))
            })
            .map(|(i, _)| i)
            .collect();
        let result = match (op, r.sub) {
            (PatchOp::Remove, None) => {
                for &i in hits.iter().rev() {
                    items.remove(i);
                }
                Ok(())
            }
            (PatchOp::Remove, Some(sub)) => {
                for &i in &hits {
                    if let Some(item) = items[i].as_object_mut() {
                        item.remove(sub.name);
                    }
                }
                Ok(())
            }
            (_, sub) => update_matches(attr, sub, &inner, &mut items, &hits, value),
        };
        container.insert(attr.name.to_string(), Value::Array(items));
        result?;
        settle_multi(container, attr)
    }

    fn members(
        &mut self,
        op: PatchOp,
        path: &PatchPath,
        r: &ResolvedAttr,
        value: Option<&Value>,
    ) -> Result<(), Error> {
        if let Some(sub) = r.sub {
            return Err(Error::Mutability(format!(
                "'members.{}' cannot be changed on its own: add or remove the member",
                sub.name
            )));
        }
        let selected = match &path.filter {
            None => None,
            Some(filter) => Some(resolve_inner(self.kind, &path.attr, filter)?),
        };
        let refs = || resource::member_refs(value.unwrap_or(&Value::Null));
        match (op, selected) {
            (PatchOp::Add, None) => self.members.push(MemberChange::Add(refs()?)),
            (PatchOp::Replace, None) => {
                self.members.push(MemberChange::RemoveAll);
                self.members.push(MemberChange::Add(refs()?));
            }
            // Entra's default form lists the members to remove in `value`.
            (PatchOp::Remove, None) => match value {
                Some(v) if !v.is_null() => {
                    let ids = resource::member_refs(v)?
                        .into_iter()
                        .map(|m| m.value)
                        .collect();
                    self.members.push(MemberChange::Remove(ids));
                }
                _ => self.members.push(MemberChange::RemoveAll),
            },
            (op, Some(filter)) => {
                let removal = match member_ids(&filter) {
                    Some(ids) => MemberChange::Remove(ids),
                    None => MemberChange::RemoveWhere(filter),
                };
                self.members.push(removal);
                if op != PatchOp::Remove {
                    self.members.push(MemberChange::Add(refs()?));
                }
            }
        }
        Ok(())
    }
}

/// Resolves the filter of `attr[filter]` against `attr`'s sub-attributes.
fn resolve_inner(kind: ResourceKind, attr: &AttrPath, filter: &Filter) -> Result<Filter, Error> {
    let mut bare = attr.clone();
    bare.sub = None;
    let wrapped = Filter::ValuePath {
        attr: bare,
        filter: Box::new(filter.clone()),
    };
    match filter::resolve(wrapped, kind) {
        Ok(Filter::ValuePath { filter, .. }) => Ok(*filter),
        Ok(_) => Err(Error::InvalidPath(
            "a value filter needs a multi-valued attribute".into(),
        )),
        Err(e) => Err(Error::InvalidPath(e.to_string())),
    }
}

/// The ids named by `value eq "a"` or `value eq "a" or value eq "b" ...`.
fn member_ids(filter: &Filter) -> Option<Vec<String>> {
    match filter {
        Filter::Compare {
            path,
            op: CompareOp::Eq,
            value: CompValue::String(id),
        } if path.is("value", None) => Some(vec![id.clone()]),
        Filter::Or(a, b) => {
            let mut ids = member_ids(a)?;
            ids.extend(member_ids(b)?);
            Some(ids)
        }
        _ => None,
    }
}

/// Add/replace on `attr[filter]` or `attr[filter].sub`: updates the matching elements, or
/// creates one from the filter's equality terms when none matches.
fn update_matches(
    attr: &'static Attribute,
    sub: Option<&'static Attribute>,
    inner: &Filter,
    items: &mut Vec<Value>,
    hits: &[usize],
    value: Option<&Value>,
) -> Result<(), Error> {
    let value = value.unwrap_or(&Value::Null);
    let new_sub = match sub {
        Some(sub) => Some(resource::coerce_single(sub, value)?),
        None => None,
    };
    let new_element = match sub {
        None => resource::coerce_single(attr, &complex_object(attr, value))?,
        Some(_) => None,
    };
    if hits.is_empty() {
        let Some(mut element) = equality_terms(inner) else {
            return Err(Error::NoTarget(format!(
                "no '{}' value matches the filter, and one cannot be created from it",
                attr.name
            )));
        };
        match (sub, new_sub, new_element) {
            (Some(sub), Some(Some(v)), _) => {
                element.insert(sub.name.to_string(), v);
            }
            (None, _, Some(Value::Object(fields))) => element.extend(fields),
            // Setting nothing on an element that does not exist changes nothing.
            _ => return Ok(()),
        }
        if is_primary(&Value::Object(element.clone())) {
            items.iter_mut().for_each(clear_primary);
        }
        items.push(Value::Object(element));
        return Ok(());
    }
    for &i in hits {
        let Some(item) = items[i].as_object_mut() else {
            continue;
        };
        match (sub, &new_sub, &new_element) {
            (Some(sub), Some(v), _) => set_or_remove(item, sub.name, v.clone()),
            (None, _, Some(Value::Object(fields))) => {
                *item = fields.clone();
            }
            _ => item.clear(),
        }
    }
    let promoted = hits.iter().any(|&i| is_primary(&items[i]));
    if promoted {
        for (i, item) in items.iter_mut().enumerate() {
            if !hits.contains(&i) {
                clear_primary(item);
            }
        }
    }
    Ok(())
}

/// `type eq "work" and primary eq true` gives `{"type": "work", "primary": true}`; any
/// other shape of filter gives `None`.
fn equality_terms(filter: &Filter) -> Option<Map<String, Value>> {
    match filter {
        Filter::Compare {
            path,
            op: CompareOp::Eq,
            value,
        } => {
            let v = match value {
                CompValue::String(s) => Value::String(s.clone()),
                CompValue::Bool(b) => Value::Bool(*b),
                CompValue::Number(n) => Value::Number(n.clone()),
                CompValue::Null => return None,
            };
            let mut m = Map::new();
            m.insert(path.name.clone(), v);
            Some(m)
        }
        Filter::And(a, b) => {
            let mut m = equality_terms(a)?;
            m.extend(equality_terms(b)?);
            Some(m)
        }
        _ => None,
    }
}

fn coerce_opt(attr: &'static Attribute, value: Option<&Value>) -> Result<Option<Value>, Error> {
    resource::coerce(attr, value.unwrap_or(&Value::Null))
}

/// A bare string for a complex attribute that has a `value` sub-attribute stands for its
/// `value` (Entra's `manager`), and a one-element list for its element (Entra's legacy
/// `{"op":"Add","path":"manager","value":[{"$ref":"...","value":"<id>"}]}`). Other values
/// are left as they are, for the caller to reject as the wrong type.
fn complex_object(attr: &Attribute, value: &Value) -> Value {
    match value {
        Value::String(_) | Value::Number(_) if attr.sub_attribute("value").is_some() => {
            let mut m = Map::new();
            m.insert("value".into(), value.clone());
            Value::Object(m)
        }
        Value::Array(items) if items.len() == 1 => complex_object(attr, &items[0]),
        other => other.clone(),
    }
}

/// Sets (or, for an empty value, removes) `attr.sub` of a single-valued complex attribute.
fn set_sub(
    container: &mut Map<String, Value>,
    attr: &'static Attribute,
    sub: &'static Attribute,
    value: Option<&Value>,
) -> Result<(), Error> {
    if sub.mutability == Mutability::ReadOnly {
        return Ok(());
    }
    let new = resource::coerce_single(sub, value.unwrap_or(&Value::Null))?;
    let slot = container
        .entry(attr.name.to_string())
        .or_insert_with(|| Value::Object(Map::new()));
    if !slot.is_object() {
        *slot = Value::Object(Map::new());
    }
    if let Some(object) = slot.as_object_mut() {
        set_or_remove(object, sub.name, new);
        if object.is_empty() {
            container.remove(attr.name);
        }
    }
    Ok(())
}

fn set_or_remove(object: &mut Map<String, Value>, key: &str, value: Option<Value>) {
    match value {
        Some(v) => {
            object.insert(key.to_string(), v);
        }
        None => {
            object.remove(key);
        }
    }
}

/// Drops empty elements and an empty list, so "no value" has one representation.
fn tidy_multi(container: &mut Map<String, Value>, name: &str) {
    if let Some(Value::Array(items)) = container.get_mut(name) {
        items.retain(|v| !matches!(v, Value::Object(o) if o.is_empty()) && !v.is_null());
        if items.is_empty() {
            container.remove(name);
        }
    }
}

/// Tidies the multi-valued `attr` after its elements were edited in place, and checks the
/// result as a request value would be checked (at most one primary, no duplicates).
fn settle_multi(container: &mut Map<String, Value>, attr: &'static Attribute) -> Result<(), Error> {
    tidy_multi(container, attr.name);
    if let Some(value) = container.get(attr.name)
        && let Some(settled) = resource::coerce(attr, value)?
    {
        container.insert(attr.name.to_string(), settled);
    }
    Ok(())
}

fn drop_if_empty(data: &mut Map<String, Value>, key: &str) {
    if matches!(data.get(key), Some(Value::Object(o)) if o.is_empty()) {
        data.remove(key);
    }
}

fn is_primary(value: &Value) -> bool {
    value.get("primary") == Some(&Value::Bool(true))
}

fn clear_primary(value: &mut Value) {
    if let Some(object) = value.as_object_mut()
        && object.get("primary") == Some(&Value::Bool(true))
    {
        object.insert("primary".into(), Value::Bool(false));
    }
}

#[cfg(test)]
mod tests;
