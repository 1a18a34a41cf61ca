//! Short audit summaries of SCIM writes: what changed, never the values (which may hold
//! personal data or a password).

use crate::repo::MemberStats;
use scim_core::ResourceKind;
use scim_core::filter::Filter;
use scim_core::patch::{PatchOp, PatchRequest};
use serde_json::{Map, Value};

/// "created User with active, emails, name, userName": the attributes given, not their
/// values (the resource id is in the audit entry).
pub(crate) fn created(kind: ResourceKind, data: &Map<String, Value>) -> String {
    let names: Vec<&str> = data.keys().map(String::as_str).collect();
    format!("created {} with {}", kind.name(), names.join(", "))
}

/// "replace active; add emails[type eq *].value; members +3 -1": value filters keep
/// their shape but not their values (`emails[value eq "alice@example.com"]` would put an
/// address in the log).
pub(crate) fn patched(request: &PatchRequest, members: &MemberStats) -> String {
    let mut parts: Vec<String> = request
        .operations
        .iter()
        .map(|op| {
            let verb = match op.op {
                PatchOp::Add => "add",
                PatchOp::Replace => "replace",
                PatchOp::Remove => "remove",
            };
            match (&op.path, &op.value) {
                (Some(path), _) => {
                    let filter = path
                        .filter
                        .as_ref()
                        .map(|f| format!("[{}]", without_values(f)))
                        .unwrap_or_default();
                    let sub = match (&path.filter, &path.attr.sub) {
                        (Some(_), Some(sub)) => format!(".{sub}"),
                        _ => String::new(),
                    };
                    let mut attr = path.attr.clone();
                    if path.filter.is_some() {
                        attr.sub = None;
                    }
                    format!("{verb} {attr}{filter}{sub}")
                }
                (None, Some(Value::Object(object))) => {
                    let keys: Vec<&str> = object.keys().map(String::as_str).collect();
                    format!("{verb} {}", keys.join(", "))
                }
                (None, _) => verb.to_string(),
            }
        })
        .collect();
    if members.changed() {
        parts.push(format!("members +{} -{}", members.added, members.removed));
    }
    parts.join("; ")
}

/// `filter` in SCIM syntax with every comparison value replaced by `*`.
fn without_values(filter: &Filter) -> String {
    match filter {
        Filter::Compare { path, op, .. } => format!("{path} {} *", op.keyword()),
        Filter::Present(path) => format!("{path} pr"),
        Filter::And(a, b) => format!("({}) and ({})", without_values(a), without_values(b)),
        Filter::Or(a, b) => format!("({}) or ({})", without_values(a), without_values(b)),
        Filter::Not(inner) => format!("not ({})", without_values(inner)),
        Filter::ValuePath { attr, filter } => format!("{attr}[{}]", without_values(filter)),
    }
}
