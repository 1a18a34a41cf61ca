//! Extraction of the indexed columns from a resource's JSON.
//!
//! Attribute names are the canonical ones (the API canonicalises requests before they
//! reach the store), exactly as `scim_core::filter::matches` looks them up, so that a
//! filter answered from the columns and one answered in memory agree.

use serde_json::{Map, Value};

use crate::error::StoreError;

/// Lower-cases a value of a case-insensitive attribute, the same way the in-memory
/// evaluator does.
pub(crate) fn fold(s: &str) -> String {
    s.to_lowercase()
}

/// Longest value of an indexed column, in bytes. PostgreSQL cannot put text much longer
/// than 2.7 kB into a btree index (the insert fails); SQLite is held to the same limit so
/// that both backends accept the same resources. Real identity data is far shorter
/// (Entra: displayName 256 characters, userPrincipalName 113).
pub(crate) const MAX_INDEXED_BYTES: usize = 2048;

/// Fails with [`StoreError::Invalid`] when an indexed value of `attribute` is too long.
fn check_len(attribute: &str, value: Option<&str>) -> Result<(), StoreError> {
    match value {
        Some(v) if v.len() > MAX_INDEXED_BYTES => Err(StoreError::Invalid(format!(
            "{attribute} is longer than {MAX_INDEXED_BYTES} bytes"
        ))),
        _ => Ok(()),
    }
}

fn string<'a>(data: &'a Map<String, Value>, key: &str) -> Option<&'a str> {
    data.get(key).and_then(Value::as_str)
}

/// The indexed columns of a user.
#[derive(Debug, Default, PartialEq)]
pub(crate) struct UserColumns {
    pub user_name: String,
    pub user_name_lower: String,
    pub external_id: Option<String>,
    pub display_name: Option<String>,
    pub display_name_lower: Option<String>,
    pub active: Option<bool>,
    pub given_name_lower: Option<String>,
    pub family_name_lower: Option<String>,
    pub work_email_lower: Option<String>,
    pub work_email_ambiguous: bool,
}

impl UserColumns {
    pub(crate) fn extract(data: &Map<String, Value>) -> Result<UserColumns, StoreError> {
        let user_name = match string(data, "userName") {
            Some(u) if !u.is_empty() => u.to_owned(),
            _ => return Err(StoreError::Invalid("userName is required".into())),
        };
        let name = data.get("name").and_then(Value::as_object);
        let name_part = |key: &str| name.and_then(|n| string(n, key)).map(fold);
        let work: Vec<&Map<String, Value>> = data
            .get("emails")
            .map(elements)
            .unwrap_or_default()
            .into_iter()
            .filter(|e| string(e, "type").is_some_and(|t| fold(t) == "work"))
            .collect();
        let display_name = string(data, "displayName").map(str::to_owned);
        let columns = UserColumns {
            user_name_lower: fold(&user_name),
            user_name,
            external_id: string(data, "externalId").map(str::to_owned),
            display_name_lower: display_name.as_deref().map(fold),
            display_name,
            active: data.get("active").and_then(Value::as_bool),
            given_name_lower: name_part("givenName"),
            family_name_lower: name_part("familyName"),
            work_email_lower: work.first().and_then(|e| string(e, "value")).map(fold),
            work_email_ambiguous: work.len() > 1,
        };
        check_len("userName", Some(&columns.user_name_lower))?;
        check_len("externalId", columns.external_id.as_deref())?;
        check_len("displayName", columns.display_name_lower.as_deref())?;
        check_len("name.givenName", columns.given_name_lower.as_deref())?;
        check_len("name.familyName", columns.family_name_lower.as_deref())?;
        check_len("the work email", columns.work_email_lower.as_deref())?;
        Ok(columns)
    }
}

/// The indexed columns of a group.
#[derive(Debug, Default, PartialEq)]
pub(crate) struct GroupColumns {
    pub display_name: String,
    pub display_name_lower: String,
    pub external_id: Option<String>,
}

impl GroupColumns {
    pub(crate) fn extract(data: &Map<String, Value>) -> Result<GroupColumns, StoreError> {
        let display_name = match string(data, "displayName") {
            Some(d) if !d.is_empty() => d.to_owned(),
            _ => return Err(StoreError::Invalid("displayName is required".into())),
        };
        let columns = GroupColumns {
            display_name_lower: fold(&display_name),
            display_name,
            external_id: string(data, "externalId").map(str::to_owned),
        };
        check_len("displayName", Some(&columns.display_name_lower))?;
        check_len("externalId", columns.external_id.as_deref())?;
        Ok(columns)
    }
}

/// The object elements of a multi-valued attribute (a single object counts as one).
fn elements(value: &Value) -> Vec<&Map<String, Value>> {
    match value {
        Value::Array(items) => items.iter().filter_map(Value::as_object).collect(),
        Value::Object(o) => vec![o],
        _ => Vec::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn obj(v: Value) -> Map<String, Value> {
        v.as_object().cloned().unwrap_or_default()
    }

    #[test]
    fn user_columns() {
        let c = UserColumns::extract(&obj(json!({
            "userName": "Alice@Example.COM",
            "externalId": "Ext-1",
            "displayName": "Alice Ä",
            "active": false,
            "name": {"givenName": "ALICE", "familyName": "Smith"},
            "emails": [
                {"type": "home", "value": "a@home"},
                {"type": "Work", "value": "Alice@Work.example", "primary": true}
            ]
        })))
        .ok()
        .unwrap_or_default();
        assert_eq!(c.user_name, "Alice@Example.COM");
        assert_eq!(c.user_name_lower, "alice@example.com");
        assert_eq!(c.external_id.as_deref(), Some("Ext-1"));
        assert_eq!(c.display_name_lower.as_deref(), Some("alice ä"));
        assert_eq!(c.active, Some(false));
        assert_eq!(c.given_name_lower.as_deref(), Some("alice"));
        assert_eq!(c.family_name_lower.as_deref(), Some("smith"));
        assert_eq!(c.work_email_lower.as_deref(), Some("alice@work.example"));
        assert!(!c.work_email_ambiguous);
    }

    #[test]
    fn user_name_is_required_and_two_work_emails_are_flagged() {
        assert!(UserColumns::extract(&obj(json!({"displayName": "x"}))).is_err());
        assert!(UserColumns::extract(&obj(json!({"userName": ""}))).is_err());
        let c = UserColumns::extract(&obj(json!({
            "userName": "u",
            "active": "True",
            "emails": [{"type": "work", "value": "a@x"}, {"type": "work", "value": "b@x"}]
        })))
        .ok()
        .unwrap_or_default();
        assert_eq!(c.active, None);
        assert!(c.work_email_ambiguous);
    }

    #[test]
    fn group_columns() {
        assert!(GroupColumns::extract(&obj(json!({"members": []}))).is_err());
        let g = GroupColumns::extract(&obj(json!({"displayName": "Ops Team"})))
            .ok()
            .unwrap_or_default();
        assert_eq!(g.display_name_lower, "ops team");
    }

    #[test]
    fn indexed_values_are_limited() {
        let long = "x".repeat(MAX_INDEXED_BYTES + 1);
        let fits = "x".repeat(MAX_INDEXED_BYTES);
        assert!(UserColumns::extract(&obj(json!({"userName": fits}))).is_ok());
        for user in [
            json!({"userName": long}),
            json!({"userName": "u", "externalId": long}),
            json!({"userName": "u", "name": {"familyName": long}}),
            json!({"userName": "u", "emails": [{"type": "work", "value": long}]}),
        ] {
            assert!(matches!(
                UserColumns::extract(&obj(user)),
                Err(StoreError::Invalid(_))
            ));
        }
        assert!(GroupColumns::extract(&obj(json!({"displayName": long}))).is_err());
        // Not indexed, not limited here.
        assert!(UserColumns::extract(&obj(json!({"userName": "u", "nickName": long}))).is_ok());
    }
}
