//! SCIM protocol messages: ListResponse, Error, SearchRequest and list parameters.

use crate::Error;
use crate::filter::{self, AttrPath, Filter};
use crate::projection::Projection;
use crate::schema::ResourceKind;
use serde_json::{Map, Value, json};

/// URN of the ListResponse message.
pub const LIST_RESPONSE_SCHEMA: &str = "urn:ietf:params:scim:api:messages:2.0:ListResponse";
/// URN of the Error message.
pub const ERROR_SCHEMA: &str = "urn:ietf:params:scim:api:messages:2.0:Error";
/// URN of the SearchRequest message.
pub const SEARCH_REQUEST_SCHEMA: &str = "urn:ietf:params:scim:api:messages:2.0:SearchRequest";

/// Page size when the client gives no `count`.
pub const DEFAULT_COUNT: usize = 100;
/// Largest page served; a larger `count` is lowered to it (RFC 7644 section 3.4.2.4).
pub const MAX_COUNT: usize = 1000;

/// Builds a ListResponse.
pub fn list_response(total: usize, start_index: usize, resources: Vec<Value>) -> Value {
    json!({
        "schemas": [LIST_RESPONSE_SCHEMA],
        "totalResults": total,
        "startIndex": start_index,
        "itemsPerPage": resources.len(),
        "Resources": resources,
    })
}

/// Builds an Error message. `status` is sent as a string, as RFC 7644 shows it.
pub fn error_body(status: u16, scim_type: Option<&str>, detail: &str) -> Value {
    let mut body = Map::new();
    body.insert("schemas".into(), json!([ERROR_SCHEMA]));
    body.insert("status".into(), Value::String(status.to_string()));
    if let Some(t) = scim_type {
        body.insert("scimType".into(), Value::String(t.to_string()));
    }
    body.insert("detail".into(), Value::String(detail.to_string()));
    Value::Object(body)
}

/// Sort direction.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum SortOrder {
    /// Ascending (the default).
    #[default]
    Ascending,
    /// Descending.
    Descending,
}

/// A list or search request, from query parameters or a SearchRequest body.
#[derive(Clone, Debug, PartialEq)]
pub struct ListQuery {
    /// The resolved filter, if any.
    pub filter: Option<Filter>,
    /// 1-based index of the first result.
    pub start_index: usize,
    /// Most results to return (0 asks only for `totalResults`).
    pub count: usize,
    /// What to return.
    pub projection: Projection,
    /// Sort attribute, resolved.
    pub sort_by: Option<AttrPath>,
    /// Sort direction.
    pub sort_order: SortOrder,
}

/// The raw text of the list parameters, however they arrived.
#[derive(Clone, Debug, Default)]
pub struct ListParams<'a> {
    /// `filter`.
    pub filter: Option<&'a str>,
    /// `startIndex`.
    pub start_index: Option<&'a str>,
    /// `count`.
    pub count: Option<&'a str>,
    /// `attributes`.
    pub attributes: Option<&'a str>,
    /// `excludedAttributes`.
    pub excluded_attributes: Option<&'a str>,
    /// `sortBy`.
    pub sort_by: Option<&'a str>,
    /// `sortOrder`.
    pub sort_order: Option<&'a str>,
}

impl ListQuery {
    /// Reads and checks list parameters for resources of `kind`.
    ///
    /// `startIndex` below 1 counts as 1 and a negative `count` as 0 (RFC 7644 section
    /// 3.4.2.4); text that is not a number is `invalidValue`.
    pub fn parse(kind: ResourceKind, params: &ListParams<'_>) -> Result<ListQuery, Error> {
        let filter = match params.filter.map(str::trim) {
            None | Some("") => None,
            Some(text) => Some(filter::resolve(filter::parse(text)?, kind)?),
        };
        let start_index = match params.start_index {
            None => 1,
            Some(text) => integer("startIndex", text)?.max(1) as usize,
        };
        let count = match params.count {
            None => DEFAULT_COUNT,
            Some(text) => (integer("count", text)?.max(0) as usize).min(MAX_COUNT),
        };
        let projection = Projection::parse(kind, params.attributes, params.excluded_attributes)?;
        let sort_by = match params.sort_by.map(str::trim) {
            None | Some("") => None,
            Some(text) => {
                let path = filter::parse_attr_path(text)
                    .map_err(|e| Error::InvalidValue(format!("sortBy: {e}")))?;
                let resolved = crate::path::resolve(kind, &path)
                    .map_err(|e| Error::InvalidValue(format!("sortBy: {e}")))?;
                Some(resolved.path)
            }
        };
        let sort_order = match params.sort_order.map(str::trim) {
            None | Some("") => SortOrder::Ascending,
            Some(o) if o.eq_ignore_ascii_case("ascending") => SortOrder::Ascending,
            Some(o) if o.eq_ignore_ascii_case("descending") => SortOrder::Descending,
            Some(o) => {
                return Err(Error::InvalidValue(format!(
                    "sortOrder must be 'ascending' or 'descending', not '{o}'"
                )));
            }
        };
        Ok(ListQuery {
            filter,
            start_index,
            count,
            projection,
            sort_by,
            sort_order,
        })
    }

    /// Reads a SearchRequest body (`POST /.search`).
    pub fn from_search_request(kind: ResourceKind, body: &Value) -> Result<ListQuery, Error> {
        let Value::Object(object) = body else {
            return Err(Error::InvalidSyntax(
                "the request body must be a JSON object".into(),
            ));
        };
        let listed = object
            .get("schemas")
            .and_then(Value::as_array)
            .is_some_and(|l| l.iter().any(|s| s.as_str() == Some(SEARCH_REQUEST_SCHEMA)));
        if !listed {
            return Err(Error::InvalidSyntax(format!(
                "'schemas' must be [\"{SEARCH_REQUEST_SCHEMA}\"]"
            )));
        }
        let text = |key: &str| -> Result<Option<String>, Error> {
            match object.get(key) {
                None | Some(Value::Null) => Ok(None),
                Some(Value::String(s)) => Ok(Some(s.clone())),
                Some(Value::Number(n)) => Ok(Some(n.to_string())),
                Some(Value::Array(items)) => {
                    let mut names = Vec::with_capacity(items.len());
                    for item in items {
                        match item.as_str() {
                            Some(s) => names.push(s),
                            None => {
                                return Err(Error::InvalidValue(format!(
                                    "'{key}' must list strings"
                                )));
                            }
                        }
                    }
                    Ok(Some(names.join(",")))
                }
                Some(_) => Err(Error::InvalidValue(format!("'{key}' has the wrong type"))),
            }
        };
        let (filter, start, count) = (text("filter")?, text("startIndex")?, text("count")?);
        let (attrs, excluded) = (text("attributes")?, text("excludedAttributes")?);
        let (sort_by, sort_order) = (text("sortBy")?, text("sortOrder")?);
        ListQuery::parse(
            kind,
            &ListParams {
                filter: filter.as_deref(),
                start_index: start.as_deref(),
                count: count.as_deref(),
                attributes: attrs.as_deref(),
                excluded_attributes: excluded.as_deref(),
                sort_by: sort_by.as_deref(),
                sort_order: sort_order.as_deref(),
            },
        )
    }
}

fn integer(name: &str, text: &str) -> Result<i64, Error> {
    text.trim()
        .parse::<i64>()
        .map_err(|_| Error::InvalidValue(format!("{name} must be an integer, not '{text}'")))
}

#[cfg(test)]
mod tests;
