//! Binding a parsed filter to the schemas: canonical names and type checks.

use super::ast::{AttrPath, CompValue, CompareOp, Filter};
use crate::Error;
use crate::path;
use crate::schema::{AttrType, Attribute, ResourceKind};

/// Resolves every attribute of `filter` against the schemas of `kind`.
///
/// Names get their canonical spelling (`USERNAME` becomes `userName`), core attributes lose
/// their URN, extension attributes get their extension's id, a comparison on a complex
/// multi-valued attribute such as `emails eq "x"` becomes one on its `value` sub-attribute,
/// and each comparison is checked against the attribute's type. Unknown attributes and
/// impossible comparisons (`active gt true`, `meta.created co "x"`) are `invalidFilter`.
pub fn resolve(filter: Filter, kind: ResourceKind) -> Result<Filter, Error> {
    resolve_in(filter, Scope::Root(kind)).map_err(Error::InvalidFilter)
}

#[derive(Clone, Copy)]
enum Scope {
    Root(ResourceKind),
    /// Inside `attr[...]`: names are sub-attributes of `attr`.
    Within(&'static Attribute),
}

fn resolve_in(filter: Filter, scope: Scope) -> Result<Filter, String> {
    Ok(match filter {
        Filter::Compare { path, op, value } => {
            let (path, leaf) = resolve_path(&path, scope, true)?;
            let value = check_value(leaf, &path, op, value)?;
            Filter::Compare { path, op, value }
        }
        Filter::Present(path) => Filter::Present(resolve_path(&path, scope, false)?.0),
        Filter::And(a, b) => Filter::and(resolve_in(*a, scope)?, resolve_in(*b, scope)?),
        Filter::Or(a, b) => Filter::or(resolve_in(*a, scope)?, resolve_in(*b, scope)?),
        Filter::Not(inner) => Filter::Not(Box::new(resolve_in(*inner, scope)?)),
        Filter::ValuePath { attr, filter } => {
            let Scope::Root(kind) = scope else {
                return Err("value filters cannot be nested".into());
            };
            let resolved = path::resolve(kind, &attr)?;
            if resolved.sub.is_some() || resolved.attr.ty != AttrType::Complex {
                return Err(format!(
                    "'{attr}[...]' needs a complex attribute such as emails or members"
                ));
            }
            Filter::ValuePath {
                attr: resolved.path,
                filter: Box::new(resolve_in(*filter, Scope::Within(resolved.attr))?),
            }
        }
    })
}

/// Resolves one path; for comparisons a complex attribute with a `value` sub-attribute
/// stands for that sub-attribute.
fn resolve_path(
    path: &AttrPath,
    scope: Scope,
    comparing: bool,
) -> Result<(AttrPath, &'static Attribute), String> {
    let (mut canonical, attr, sub) = match scope {
        Scope::Root(kind) => {
            let r = path::resolve(kind, path)?;
            (r.path, r.attr, r.sub)
        }
        Scope::Within(parent) => {
            let sub = parent
                .sub_attribute(&path.name)
                .ok_or_else(|| format!("'{}' has no sub-attribute '{}'", parent.name, path.name))?;
            (AttrPath::new(sub.name), sub, None)
        }
    };
    let mut leaf = sub.unwrap_or(attr);
    if comparing && leaf.ty == AttrType::Complex {
        match leaf.sub_attribute("value") {
            Some(value) if canonical.sub.is_none() && leaf.multi_valued => {
                canonical.sub = Some(value.name.to_string());
                leaf = value;
            }
            _ => {
                return Err(format!(
                    "'{canonical}' is complex: compare one of its sub-attributes"
                ));
            }
        }
    }
    Ok((canonical, leaf))
}

fn check_value(
    leaf: &Attribute,
    path: &AttrPath,
    op: CompareOp,
    value: CompValue,
) -> Result<CompValue, String> {
    let bad = |what: &str| {
        Err(format!(
            "'{path}' is {what}: '{} {value}' cannot apply",
            op.keyword()
        ))
    };
    if value == CompValue::Null {
        return match op {
            CompareOp::Eq | CompareOp::Ne => Ok(value),
            _ => bad("compared with null"),
        };
    }
    match leaf.ty {
        AttrType::Boolean => {
            if op != CompareOp::Eq && op != CompareOp::Ne {
                return bad("a boolean");
            }
            match value {
                CompValue::Bool(_) => Ok(value),
                CompValue::String(s) if s.eq_ignore_ascii_case("true") => Ok(CompValue::Bool(true)),
                CompValue::String(s) if s.eq_ignore_ascii_case("false") => {
                    Ok(CompValue::Bool(false))
                }
                _ => bad("a boolean"),
            }
        }
        AttrType::Integer | AttrType::Decimal => match value {
            CompValue::Number(_) if !op.is_substring() => Ok(value),
            _ => bad("a number"),
        },
        AttrType::DateTime => match &value {
            CompValue::String(s) if !op.is_substring() => {
                if crate::datetime::parse(s).is_some() {
                    Ok(value)
                } else {
                    Err(format!(
                        "'{s}' is not a dateTime such as 2024-05-01T12:00:00Z"
                    ))
                }
            }
            _ => bad("a dateTime"),
        },
        AttrType::String | AttrType::Reference | AttrType::Binary => match value {
            CompValue::String(_) => Ok(value),
            // Unquoted numeric ids from old clients: `externalId eq 12345`.
            CompValue::Number(n) => Ok(CompValue::String(n.to_string())),
            _ => bad("a string"),
        },
        AttrType::Complex => bad("complex"),
    }
}
