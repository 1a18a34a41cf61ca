//! Resolving attribute paths against the schemas of a resource type.

use crate::filter::AttrPath;
use crate::schema::{self, Attribute, ResourceKind, Schema};
use serde_json::{Map, Value};

/// An attribute path matched to its definitions, with canonical spelling.
#[derive(Clone, Debug)]
pub struct ResolvedAttr {
    /// The path with canonical names; `urn` is `None` for core attributes and the extension
    /// schema id for extension attributes.
    pub path: AttrPath,
    /// The top-level attribute.
    pub attr: &'static Attribute,
    /// The sub-attribute, when the path has one.
    pub sub: Option<&'static Attribute>,
}

impl ResolvedAttr {
    /// The definition of the attribute the path ends at.
    pub fn leaf(&self) -> &'static Attribute {
        self.sub.unwrap_or(self.attr)
    }

    /// The JSON object holding this attribute: the resource itself for core attributes, the
    /// extension object for extension attributes (`None` when that object is absent).
    pub fn container<'v>(
        &self,
        resource: &'v Map<String, Value>,
    ) -> Option<&'v Map<String, Value>> {
        match &self.path.urn {
            None => Some(resource),
            Some(urn) => resource.get(urn.as_str()).and_then(Value::as_object),
        }
    }

    /// Like [`ResolvedAttr::container`], creating the extension object when needed.
    pub fn container_mut<'v>(
        &self,
        resource: &'v mut Map<String, Value>,
    ) -> &'v mut Map<String, Value> {
        match &self.path.urn {
            None => resource,
            Some(urn) => {
                let slot = resource.entry(urn.clone()).or_insert(Value::Null);
                if !slot.is_object() {
                    *slot = Value::Object(Map::new());
                }
                let Value::Object(map) = slot else {
                    unreachable!("the slot was made an object above")
                };
                map
            }
        }
    }
}

/// Returns the extension schema when `path` names a whole extension (e.g. the enterprise
/// URN alone, which the parser splits at its last colon).
pub fn as_extension(kind: ResourceKind, path: &AttrPath) -> Option<&'static Schema> {
    let urn = path.urn.as_ref()?;
    if path.sub.is_some() {
        return None;
    }
    let full = format!("{urn}:{}", path.name);
    kind.extension(&full)
}

/// Resolves `path` for resources of `kind`.
///
/// Attributes without a URN are looked up in the core schema and the common attributes,
/// then in the extensions; a URN must name the core schema or an extension of `kind`.
pub fn resolve(kind: ResourceKind, path: &AttrPath) -> Result<ResolvedAttr, String> {
    let core = kind.core_schema();
    let (urn, attr) = match &path.urn {
        Some(urn) if urn.eq_ignore_ascii_case(core.id) => (
            None,
            lookup_core(core, &path.name).ok_or_else(|| unknown(path))?,
        ),
        Some(urn) => {
            let ext = kind
                .extension(urn)
                .ok_or_else(|| format!("unknown schema '{urn}' for {} resources", kind.name()))?;
            (
                Some(ext.id),
                ext.attribute(&path.name).ok_or_else(|| unknown(path))?,
            )
        }
        None => match lookup_core(core, &path.name) {
            Some(attr) => (None, attr),
            None => kind
                .extensions()
                .iter()
                .find_map(|ext| ext.attribute(&path.name).map(|a| (Some(ext.id), a)))
                .ok_or_else(|| unknown(path))?,
        },
    };
    let sub = match &path.sub {
        None => None,
        Some(name) => Some(attr.sub_attribute(name).ok_or_else(|| {
            if attr.sub_attributes.is_empty() {
                format!("'{}' has no sub-attributes", attr.name)
            } else {
                format!("'{}' has no sub-attribute '{name}'", attr.name)
            }
        })?),
    };
    Ok(ResolvedAttr {
        path: AttrPath {
            urn: urn.map(str::to_string),
            name: attr.name.to_string(),
            sub: sub.map(|s| s.name.to_string()),
        },
        attr,
        sub,
    })
}

fn lookup_core(core: &'static Schema, name: &str) -> Option<&'static Attribute> {
    core.attribute(name)
        .or_else(|| schema::common_attribute(name))
}

fn unknown(path: &AttrPath) -> String {
    format!("unknown attribute '{path}'")
}
