//! `attributes` and `excludedAttributes` (RFC 7644 section 3.4.2.5) with the `returned`
//! rules of the schemas.

use crate::Error;
use crate::filter::{self, AttrPath};
use crate::path;
use crate::schema::{Attribute, ResourceKind, Returned};
use serde_json::{Map, Value};

/// Which attributes a response carries.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Projection {
    /// `attributes`: when non-empty, only these (plus those always returned).
    pub attributes: Vec<AttrPath>,
    /// `excludedAttributes`: leave these out (unless always returned).
    pub excluded: Vec<AttrPath>,
}

impl Projection {
    /// Reads the comma-separated `attributes` and `excludedAttributes` parameters.
    ///
    /// Names are resolved against `kind`; a malformed name is `invalidPath`, while a
    /// well-formed name that no schema defines selects nothing (so `attributes=nosuch` gives
    /// only the attributes that are always returned).
    pub fn parse(
        kind: ResourceKind,
        attributes: Option<&str>,
        excluded: Option<&str>,
    ) -> Result<Projection, Error> {
        Ok(Projection {
            attributes: parse_list(kind, attributes)?,
            excluded: parse_list(kind, excluded)?,
        })
    }

    /// Whether the response includes `name` (a top-level core attribute such as `members`
    /// or `groups`), so the caller knows whether to load it at all.
    pub fn includes(&self, kind: ResourceKind, name: &str) -> bool {
        let Some(attr) = kind.core_schema().attribute(name) else {
            return false;
        };
        let top = AttrPath::new(attr.name);
        self.keeps(&top, attr)
    }

    fn keeps(&self, path: &AttrPath, attr: &Attribute) -> bool {
        match attr.returned {
            Returned::Always => true,
            Returned::Never => false,
            Returned::Default | Returned::Request => {
                if !self.attributes.is_empty() {
                    self.attributes.iter().any(|a| overlaps(a, path))
                } else if attr.returned == Returned::Request {
                    false
                } else {
                    !self.excluded.iter().any(|e| covers(e, path))
                }
            }
        }
    }

    /// Applies the projection to a rendered resource of `kind`.
    pub fn apply(&self, kind: ResourceKind, resource: &Map<String, Value>) -> Map<String, Value> {
        let mut out = Map::new();
        for (key, value) in resource {
            if key == "schemas" {
                out.insert(key.clone(), value.clone());
                continue;
            }
            if let Some(ext) = kind.extension(key) {
                let Some(object) = value.as_object() else {
                    continue;
                };
                let mut kept = Map::new();
                for (name, v) in object {
                    let Some(attr) = ext.attributes.iter().find(|a| a.name == name.as_str()) else {
                        continue;
                    };
                    let path = AttrPath {
                        urn: Some(ext.id.to_string()),
                        name: attr.name.to_string(),
                        sub: None,
                    };
                    if let Some(v) = self.project(attr, &path, v) {
                        kept.insert(name.clone(), v);
                    }
                }
                if !kept.is_empty() {
                    out.insert(key.clone(), Value::Object(kept));
                }
                continue;
            }
            let Ok(resolved) = path::resolve(kind, &AttrPath::new(key.as_str())) else {
                continue;
            };
            if let Some(v) = self.project(resolved.attr, &resolved.path, value) {
                out.insert(key.clone(), v);
            }
        }
        out
    }

    /// The part of `value`, the value of the top-level attribute `attr` at `top`, that the
    /// response carries.
    fn project(&self, attr: &'static Attribute, top: &AttrPath, value: &Value) -> Option<Value> {
        if !self.keeps(top, attr) {
            return None;
        }
        let sub_selected = self
            .attributes
            .iter()
            .any(|a| a.sub.is_some() && same_attr(a, top));
        let sub_excluded = self
            .excluded
            .iter()
            .any(|e| e.sub.is_some() && same_attr(e, top));
        let needs_subs = !attr.sub_attributes.is_empty()
            && (sub_selected || sub_excluded || has_hidden_subs(attr));
        if needs_subs {
            self.project_subs(attr, top, value)
        } else {
            Some(value.clone())
        }
    }

    /// Keeps the sub-attributes of `top` that the projection selects.
    fn filter_subs(
        &self,
        object: &Map<String, Value>,
        attr: &'static Attribute,
        top: &AttrPath,
    ) -> Map<String, Value> {
        let mut out = Map::new();
        for (key, value) in object {
            let Some(sub) = attr.sub_attributes.iter().find(|a| a.name == key.as_str()) else {
                continue;
            };
            let path = AttrPath {
                urn: top.urn.clone(),
                name: top.name.clone(),
                sub: Some(sub.name.to_string()),
            };
            if self.keeps(&path, sub) {
                out.insert(key.clone(), value.clone());
            }
        }
        out
    }

    fn project_subs(
        &self,
        attr: &'static Attribute,
        top: &AttrPath,
        value: &Value,
    ) -> Option<Value> {
        let one = |v: &Value| -> Option<Value> {
            let kept = self.filter_subs(v.as_object()?, attr, top);
            (!kept.is_empty()).then_some(Value::Object(kept))
        };
        match value {
            Value::Array(items) => {
                let kept: Vec<Value> = items.iter().filter_map(one).collect();
                // An empty list stays: a new group's `"members": []` is what Entra expects.
                (!kept.is_empty() || items.is_empty()).then_some(Value::Array(kept))
            }
            other => one(other),
        }
    }
}

fn has_hidden_subs(attr: &Attribute) -> bool {
    attr.sub_attributes
        .iter()
        .any(|s| matches!(s.returned, Returned::Never | Returned::Request))
}

fn same_attr(a: &AttrPath, b: &AttrPath) -> bool {
    a.urn == b.urn && a.name == b.name
}

/// `selector` (from `attributes`) selects `path`: the same attribute, a parent of it, or a
/// sub-attribute of it (which keeps the parent in the output).
fn overlaps(selector: &AttrPath, path: &AttrPath) -> bool {
    same_attr(selector, path)
        && match (&selector.sub, &path.sub) {
            (Some(a), Some(b)) => a == b,
            _ => true,
        }
}

/// `excluded` removes `path`: the same attribute or a parent of it.
fn covers(excluded: &AttrPath, path: &AttrPath) -> bool {
    same_attr(excluded, path)
        && match (&excluded.sub, &path.sub) {
            (None, _) => true,
            (Some(a), Some(b)) => a == b,
            (Some(_), None) => false,
        }
}

fn parse_list(kind: ResourceKind, list: Option<&str>) -> Result<Vec<AttrPath>, Error> {
    let mut out = Vec::new();
    for item in list
        .unwrap_or("")
        .split(',')
        .map(str::trim)
        .filter(|s| !s.is_empty())
    {
        let parsed = filter::parse_attr_path(item)
            .map_err(|e| Error::InvalidPath(format!("attribute '{item}': {e}")))?;
        if let Some(ext) = path::as_extension(kind, &parsed) {
            // A whole extension: select each of its attributes.
            for attr in ext.attributes {
                out.push(AttrPath {
                    urn: Some(ext.id.to_string()),
                    name: attr.name.to_string(),
                    sub: None,
                });
            }
            continue;
        }
        match path::resolve(kind, &parsed) {
            Ok(resolved) => out.push(resolved.path),
            // Kept as written: it matches no attribute, so `attributes=nosuch` still asks
            // for the always-returned attributes only, not for everything.
            Err(_) => out.push(parsed),
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests;
