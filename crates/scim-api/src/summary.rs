//! Short audit summaries of SCIM writes: what changed, never the values (which may hold
//! personal data or a password).

use crate::repo::MemberStats;
use scim_core::ResourceKind;
use scim_core::patch::{PatchOp, PatchRequest};
use serde_json::{Map, Value};

/// "created User alice@example.com" or "created Group ssh-users".
pub(crate) fn created(kind: ResourceKind, data: &Map<String, Value>) -> String {
    let key = match kind {
        ResourceKind::User => "userName",
        ResourceKind::Group => "displayName",
    };
    let name = data.get(key).and_then(Value::as_str).unwrap_or("?");
    format!("created {} {name}", kind.name())
}

/// "replace active; add emails[type eq \"work\"].value; members +3 -1".
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
                        .map(|f| format!("[{f}]"))
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
