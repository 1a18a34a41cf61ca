//! Reading requests: query parameters, JSON bodies, bearer tokens and preconditions.

use crate::error::ApiError;
use actix_web::http::header;
use actix_web::{HttpRequest, web};
use scim_core::Error as ScimError;
use serde_json::Value;

/// Query parameters by lower-cased name. Unknown parameters (such as Entra's
/// `aadOptscim062020` flag) are kept and ignored; `+` decodes to a space.
#[derive(Debug, Default)]
pub struct Query(Vec<(String, String)>);

impl Query {
    /// Parses the query string of `req`.
    pub fn parse(req: &HttpRequest) -> Result<Query, ApiError> {
        let pairs = web::Query::<Vec<(String, String)>>::from_query(req.query_string())
            .map_err(|e| ScimError::InvalidSyntax(format!("malformed query string: {e}")))?;
        Ok(Query(
            pairs
                .into_inner()
                .into_iter()
                .map(|(k, v)| (k.to_ascii_lowercase(), v))
                .collect(),
        ))
    }

    /// The value of parameter `name` (given in lower case); the last one wins.
    pub fn get(&self, name: &str) -> Option<&str> {
        self.0
            .iter()
            .rev()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }

    /// Whether `attributes` or `excludedAttributes` was given.
    pub fn asks_for_attributes(&self) -> bool {
        self.get("attributes").is_some() || self.get("excludedattributes").is_some()
    }
}

/// Reads a JSON request body of at most `limit` bytes.
///
/// Accepts `application/scim+json`, `application/json` (with any parameters) or no
/// `Content-Type`; anything else is 415.
pub async fn json_body(
    req: &HttpRequest,
    payload: web::Payload,
    limit: usize,
) -> Result<Value, ApiError> {
    if let Some(ct) = req.headers().get(header::CONTENT_TYPE) {
        let ct = ct.to_str().unwrap_or("").to_ascii_lowercase();
        let essence = ct.split(';').next().unwrap_or("").trim();
        if essence != "application/scim+json" && essence != "application/json" {
            return Err(ApiError::UnsupportedMediaType(format!(
                "send the body as application/scim+json, not '{essence}'"
            )));
        }
    }
    let declared = req
        .headers()
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<usize>().ok());
    if declared.is_some_and(|n| n > limit) {
        return Err(ApiError::PayloadTooLarge { limit });
    }
    let bytes = match payload.to_bytes_limited(limit).await {
        Ok(Ok(bytes)) => bytes,
        Ok(Err(e)) => {
            return Err(ScimError::InvalidSyntax(format!("could not read the body: {e}")).into());
        }
        Err(_) => return Err(ApiError::PayloadTooLarge { limit }),
    };
    if bytes.iter().all(u8::is_ascii_whitespace) {
        return Err(ScimError::InvalidSyntax("the request body is empty".into()).into());
    }
    let value: Value = serde_json::from_slice(&bytes)
        .map_err(|e| ScimError::InvalidSyntax(format!("the body is not valid JSON: {e}")))?;
    if has_nul(&value) {
        return Err(ScimError::InvalidValue(
            "text must not contain the NUL character (\\u0000)".into(),
        )
        .into());
    }
    Ok(value)
}

/// Whether any string or key in `value` contains U+0000. No SCIM value needs it and
/// PostgreSQL cannot store it in text, so it is refused on every backend alike. (serde_json
/// limits nesting, which bounds the recursion.)
fn has_nul(value: &Value) -> bool {
    match value {
        Value::String(s) => s.contains('\0'),
        Value::Array(items) => items.iter().any(has_nul),
        Value::Object(map) => map.iter().any(|(k, v)| k.contains('\0') || has_nul(v)),
        _ => false,
    }
}

/// The version named by an `If-Match` header holding one entity tag, for checking inside
/// the write transaction. `Ok(None)` when the header is absent or `*`.
pub fn if_match_version(req: &HttpRequest) -> Result<Option<i64>, ApiError> {
    let Some(value) = req.headers().get(header::IF_MATCH) else {
        return Ok(None);
    };
    let text = value.to_str().unwrap_or("").trim();
    if text == "*" {
        return Ok(None);
    }
    let bare = text.trim_start_matches("W/").trim_matches('"');
    bare.parse::<i64>().map(Some).map_err(|_| {
        ApiError::PreconditionFailed(format!("If-Match '{text}' is not a version of this server"))
    })
}
