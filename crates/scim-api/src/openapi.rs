//! The OpenAPI description of the SCIM routes (part of the server's `GET /openapi.json`).
//!
//! SCIM resources are described loosely (any JSON object): their schemas are the SCIM
//! discovery documents', which `/Schemas` serves. What the description pins down is the
//! routes, their parameters, and that every answer is `application/scim+json`, errors
//! in RFC 7644's error schema.

use utoipa::{IntoParams, OpenApi, ToSchema};

use crate::{discovery, resources};

/// The routes of [`crate::configure`].
#[derive(OpenApi)]
#[openapi(
    paths(
        discovery::service_provider_config,
        discovery::schemas,
        discovery::schema,
        discovery::resource_types,
        discovery::resource_type,
        resources::search_everything,
        resources::search,
        resources::list,
        resources::create,
        resources::get,
        resources::replace,
        resources::patch,
        resources::delete,
    ),
    components(schemas(ResourceType))
)]
struct Doc;

/// The OpenAPI description of the routes [`crate::configure`] mounts.
pub fn openapi() -> utoipa::openapi::OpenApi {
    Doc::openapi()
}

/// An error (RFC 7644 section 3.12).
#[derive(ToSchema)]
#[schema(as = ScimError)]
#[allow(dead_code)] // a description only; the body is written by scim-core
pub(crate) struct Error {
    /// `["urn:ietf:params:scim:api:messages:2.0:Error"]`.
    schemas: Vec<String>,
    /// The HTTP status, as a string.
    status: String,
    /// The SCIM error type (`invalidFilter`, `uniqueness`, ...), where one applies.
    #[serde(rename = "scimType")]
    scim_type: Option<String>,
    /// What went wrong, for people.
    detail: String,
}

/// The resource type of a route: `Users` or `Groups`.
#[derive(ToSchema)]
#[allow(dead_code)] // a description only
pub(crate) enum ResourceType {
    /// Users.
    Users,
    /// Groups.
    Groups,
}

/// The path of a team's discovery documents and searches: `{team}`.
#[derive(IntoParams)]
#[into_params(parameter_in = Path)]
#[allow(dead_code)] // a description only
pub(crate) struct TeamPath {
    /// The team's name.
    team: String,
}

/// The path of one discovery document: `{team}` and `{id}`.
#[derive(IntoParams)]
#[into_params(parameter_in = Path)]
#[allow(dead_code)] // a description only
pub(crate) struct DocumentPath {
    /// The team's name.
    team: String,
    /// The schema's URN, or the resource type's name (User, Group).
    id: String,
}

/// The path of a resource type: `{team}/{resource}`.
#[derive(IntoParams)]
#[into_params(parameter_in = Path)]
#[allow(dead_code)] // a description only
pub(crate) struct ResourcePath {
    /// The team's name.
    team: String,
    /// Users or Groups.
    resource: ResourceType,
}

/// The path of one user or group: `{team}/{resource}/{id}`.
#[derive(IntoParams)]
#[into_params(parameter_in = Path)]
#[allow(dead_code)] // a description only
pub(crate) struct ItemPath {
    /// The team's name.
    team: String,
    /// Users or Groups.
    resource: ResourceType,
    /// The resource's id.
    id: String,
}

/// `attributes` and `excludedAttributes` (RFC 7644 section 3.9).
#[derive(IntoParams)]
#[into_params(parameter_in = Query)]
#[allow(dead_code, non_snake_case)] // a description only, with the names of the RFC
pub(crate) struct Projection {
    /// Attributes to return.
    attributes: Option<String>,
    /// Attributes to leave out.
    excludedAttributes: Option<String>,
}
