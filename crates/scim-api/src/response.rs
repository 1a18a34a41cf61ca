//! Building SCIM responses.

use actix_web::HttpResponse;
use actix_web::http::{StatusCode, header};
use serde_json::Value;

/// The SCIM media type, sent on every response.
pub const SCIM_JSON: &str = "application/scim+json";

/// A SCIM JSON response.
pub fn json(status: StatusCode, body: &Value) -> HttpResponse {
    HttpResponse::build(status)
        .insert_header((header::CONTENT_TYPE, SCIM_JSON))
        .body(body.to_string())
}

/// A resource response with its `ETag`.
pub fn resource(status: StatusCode, body: &Value, etag: &str) -> HttpResponse {
    HttpResponse::build(status)
        .insert_header((header::CONTENT_TYPE, SCIM_JSON))
        .insert_header((header::ETAG, etag))
        .body(body.to_string())
}

/// 201 Created with the new resource, its `ETag` and its `Location`.
pub fn created(body: &Value, etag: &str, location: &str) -> HttpResponse {
    HttpResponse::Created()
        .insert_header((header::CONTENT_TYPE, SCIM_JSON))
        .insert_header((header::ETAG, etag))
        .insert_header((header::LOCATION, location))
        .body(body.to_string())
}

/// An empty response (204 No Content, 304 Not Modified) that still names the media type.
pub fn empty(status: StatusCode, etag: Option<&str>) -> HttpResponse {
    let mut response = HttpResponse::build(status);
    response.insert_header((header::CONTENT_TYPE, SCIM_JSON));
    if let Some(etag) = etag {
        response.insert_header((header::ETAG, etag));
    }
    response.finish()
}
