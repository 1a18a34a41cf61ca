//! Evaluating a resolved filter against a resource in memory.

use super::ast::{AttrPath, CompValue, CompareOp, Filter};
use crate::datetime;
use crate::path;
use crate::schema::{AttrType, Attribute, ResourceKind};
use serde_json::{Map, Value};
use std::cmp::Ordering;

/// Tests whether `resource` (a full resource object with canonical attribute names,
/// including `id` and `meta`) matches a filter that went through [`super::resolve`].
///
/// Strings compare case-insensitively unless the attribute is `caseExact`; a multi-valued
/// attribute matches when any of its values does; `ne` is the negation of `eq`, so an absent
/// attribute is "not equal" to everything; `eq null` matches an attribute without a value
/// (absent, null, empty string, array or object), exactly when `pr` does not.
pub fn matches(filter: &Filter, resource: &Value, kind: ResourceKind) -> bool {
    match resource.as_object() {
        Some(object) => eval(filter, Scope::Root(kind, object)),
        None => false,
    }
}

/// Tests one element of the multi-valued complex attribute `parent` against the resolved
/// inner filter of a value path (`parent[filter]`).
pub(crate) fn element_matches(
    filter: &Filter,
    parent: &'static Attribute,
    element: &Map<String, Value>,
) -> bool {
    eval(filter, Scope::Element(parent, element))
}

#[derive(Clone, Copy)]
enum Scope<'v> {
    Root(ResourceKind, &'v Map<String, Value>),
    /// One element of a multi-valued complex attribute, inside `attr[...]`.
    Element(&'static Attribute, &'v Map<String, Value>),
}

impl<'v> Scope<'v> {
    /// The definition of the attribute `path` ends at, and its non-null values.
    fn lookup(self, path: &AttrPath) -> Option<(&'static Attribute, Vec<&'v Value>)> {
        match self {
            Scope::Root(kind, object) => {
                let resolved = path::resolve(kind, path).ok()?;
                // An absent extension object means its attributes have no value.
                let top = resolved
                    .container(object)
                    .and_then(|c| c.get(resolved.attr.name));
                let values = match resolved.sub {
                    None => flatten(top),
                    Some(sub) => flatten(top)
                        .into_iter()
                        .flat_map(|v| flatten(v.get(sub.name)))
                        .collect(),
                };
                Some((resolved.leaf(), values))
            }
            Scope::Element(parent, element) => {
                let sub = parent.sub_attribute(&path.name)?;
                Some((sub, flatten(element.get(sub.name))))
            }
        }
    }
}

/// The present values of an attribute: array elements, or the value itself; nulls dropped.
fn flatten(value: Option<&Value>) -> Vec<&Value> {
    match value {
        None | Some(Value::Null) => Vec::new(),
        Some(Value::Array(items)) => items.iter().filter(|v| !v.is_null()).collect(),
        Some(v) => vec![v],
    }
}

fn eval(filter: &Filter, scope: Scope<'_>) -> bool {
    match filter {
        Filter::And(a, b) => eval(a, scope) && eval(b, scope),
        Filter::Or(a, b) => eval(a, scope) || eval(b, scope),
        Filter::Not(inner) => !eval(inner, scope),
        Filter::Present(path) => scope
            .lookup(path)
            .is_some_and(|(_, values)| values.iter().any(|v| is_present(v))),
        Filter::Compare { path, op, value } => {
            let Some((def, values)) = scope.lookup(path) else {
                return *op == CompareOp::Ne;
            };
            compare_all(def, &values, *op, value)
        }
        Filter::ValuePath { attr, filter } => {
            let Scope::Root(kind, object) = scope else {
                return false;
            };
            let Ok(resolved) = path::resolve(kind, attr) else {
                return false;
            };
            let Some(container) = resolved.container(object) else {
                return false;
            };
            flatten(container.get(resolved.attr.name))
                .into_iter()
                .filter_map(Value::as_object)
                .any(|element| eval(filter, Scope::Element(resolved.attr, element)))
        }
    }
}

fn is_present(value: &Value) -> bool {
    match value {
        Value::Null => false,
        Value::String(s) => !s.is_empty(),
        Value::Array(a) => !a.is_empty(),
        Value::Object(o) => !o.is_empty(),
        _ => true,
    }
}

fn compare_all(def: &Attribute, values: &[&Value], op: CompareOp, expected: &CompValue) -> bool {
    match (op, expected) {
        (CompareOp::Ne, _) => !compare_all(def, values, CompareOp::Eq, expected),
        // "No value" is the same as for `pr`: absent, null, "", [] or {}.
        (CompareOp::Eq, CompValue::Null) => !values.iter().any(|v| is_present(v)),
        _ => values.iter().any(|v| compare(def, v, op, expected)),
    }
}

fn compare(def: &Attribute, actual: &Value, op: CompareOp, expected: &CompValue) -> bool {
    match (def.ty, expected) {
        (AttrType::Boolean, CompValue::Bool(b)) => {
            actual.as_bool() == Some(*b) && op == CompareOp::Eq
        }
        (AttrType::Integer | AttrType::Decimal, CompValue::Number(n)) => {
            match (actual.as_f64(), n.as_f64()) {
                (Some(a), Some(b)) => a.partial_cmp(&b).is_some_and(|o| ordering_holds(op, o)),
                _ => false,
            }
        }
        (AttrType::DateTime, CompValue::String(s)) => {
            match (
                actual.as_str().and_then(datetime::parse),
                datetime::parse(s),
            ) {
                (Some(a), Some(b)) => ordering_holds(op, a.cmp(&b)),
                _ => false,
            }
        }
        (_, CompValue::String(s)) => match actual.as_str() {
            Some(a) if def.case_exact => compare_text(a, s, op),
            Some(a) => compare_text(&a.to_lowercase(), &s.to_lowercase(), op),
            None => false,
        },
        _ => false,
    }
}

fn compare_text(actual: &str, expected: &str, op: CompareOp) -> bool {
    match op {
        CompareOp::Co => actual.contains(expected),
        CompareOp::Sw => actual.starts_with(expected),
        CompareOp::Ew => actual.ends_with(expected),
        _ => ordering_holds(op, actual.cmp(expected)),
    }
}

fn ordering_holds(op: CompareOp, ordering: Ordering) -> bool {
    match op {
        CompareOp::Eq => ordering == Ordering::Equal,
        CompareOp::Ne => ordering != Ordering::Equal,
        CompareOp::Gt => ordering == Ordering::Greater,
        CompareOp::Ge => ordering != Ordering::Less,
        CompareOp::Lt => ordering == Ordering::Less,
        CompareOp::Le => ordering != Ordering::Greater,
        CompareOp::Co | CompareOp::Sw | CompareOp::Ew => false,
    }
}
