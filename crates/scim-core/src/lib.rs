//! SCIM 2.0 (RFC 7643 / RFC 7644) as pure logic: schemas as data, lenient request
//! normalisation, the filter language, the PATCH engine and response projection.
//!
//! No I/O happens here; storage and HTTP live in other crates.
//!
//! ```
//! use scim_core::{filter, patch, resource, ResourceKind};
//! use serde_json::json;
//!
//! // A user as Microsoft Entra ID creates it.
//! let body = json!({
//!     "schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"],
//!     "userName": "Alice@Example.com",
//!     "active": "True",
//!     "emails": [{"type": "work", "value": "alice@example.com", "primary": true}],
//! });
//! let mut data = resource::normalize(ResourceKind::User, &body).unwrap().data;
//! assert_eq!(data["active"], json!(true));
//!
//! // Entra's match query: userName compares case-insensitively.
//! let query = filter::parse(r#"userName eq "alice@example.com""#).unwrap();
//! let query = filter::resolve(query, ResourceKind::User).unwrap();
//! assert!(filter::matches(&query, &json!(data), ResourceKind::User));
//!
//! // Entra's disable.
//! let disable = patch::PatchRequest::parse(&json!({
//!     "schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
//!     "Operations": [{"op": "Replace", "path": "active", "value": "False"}],
//! }))
//! .unwrap();
//! patch::apply(ResourceKind::User, &mut data, &disable).unwrap();
//! assert_eq!(data["active"], json!(false));
//! ```

pub mod datetime;
pub mod discovery;
mod error;
pub mod filter;
pub mod message;
pub mod patch;
pub mod path;
pub mod projection;
pub mod resource;
pub mod schema;

pub use error::{Error, ScimType};
pub use schema::ResourceKind;
