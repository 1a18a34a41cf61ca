//! `/ServiceProviderConfig`, `/Schemas` and `/ResourceTypes`: read-only, authenticated,
//! generated from the schemas scim-core enforces.

use crate::context::Ctx;
use crate::error::ApiError;
use crate::response;
use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, ResponseError, web};
use scim_core::ResourceKind;
use scim_core::discovery::{self, Features};
use scim_core::message::list_response;
use serde_json::Value;

pub(crate) fn configure(cfg: &mut web::ServiceConfig) {
    document(cfg, "/ServiceProviderConfig", service_provider_config);
    document(cfg, "/Schemas", schemas);
    document(cfg, "/Schemas/{id}", schema);
    document(cfg, "/ResourceTypes", resource_types);
    document(cfg, "/ResourceTypes/{id}", resource_type);
}

/// Mounts a discovery document at `path`: GET only.
fn document<F>(cfg: &mut web::ServiceConfig, path: &str, handler: F)
where
    F: actix_web::Handler<(HttpRequest,)>,
    F::Output: actix_web::Responder + 'static,
{
    cfg.service(
        web::resource(path)
            .route(web::get().to(handler))
            .default_service(web::to(|| async {
                ApiError::MethodNotAllowed("GET").error_response()
            })),
    );
}

/// The service provider's configuration (RFC 7644 section 4).
#[utoipa::path(get, path = "/scim/v2/{team}/ServiceProviderConfig", tag = "scim",
    params(crate::openapi::TeamPath),
    security(("scim_token" = [])),
    responses(
        (status = 200, description = "the configuration", body = Object,
            content_type = "application/scim+json"),
        (status = "default", description = "an error", body = crate::openapi::Error,
            content_type = "application/scim+json"),
    ))]
pub(crate) async fn service_provider_config(req: HttpRequest) -> Result<HttpResponse, ApiError> {
    serve(req, Doc::Config).await
}

/// The schemas of every resource type and extension.
#[utoipa::path(get, path = "/scim/v2/{team}/Schemas", tag = "scim",
    params(crate::openapi::TeamPath),
    security(("scim_token" = [])),
    responses(
        (status = 200, description = "a ListResponse of schemas", body = Object,
            content_type = "application/scim+json"),
        (status = "default", description = "an error", body = crate::openapi::Error,
            content_type = "application/scim+json"),
    ))]
pub(crate) async fn schemas(req: HttpRequest) -> Result<HttpResponse, ApiError> {
    serve(req, Doc::Schemas).await
}

/// One schema, by its URN.
#[utoipa::path(get, path = "/scim/v2/{team}/Schemas/{id}", tag = "scim",
    params(crate::openapi::DocumentPath),
    security(("scim_token" = [])),
    responses(
        (status = 200, description = "the schema", body = Object,
            content_type = "application/scim+json"),
        (status = "default", description = "an error", body = crate::openapi::Error,
            content_type = "application/scim+json"),
    ))]
pub(crate) async fn schema(req: HttpRequest) -> Result<HttpResponse, ApiError> {
    serve(req, Doc::Schema).await
}

/// The resource types (User, Group).
#[utoipa::path(get, path = "/scim/v2/{team}/ResourceTypes", tag = "scim",
    params(crate::openapi::TeamPath),
    security(("scim_token" = [])),
    responses(
        (status = 200, description = "a ListResponse of resource types", body = Object,
            content_type = "application/scim+json"),
        (status = "default", description = "an error", body = crate::openapi::Error,
            content_type = "application/scim+json"),
    ))]
pub(crate) async fn resource_types(req: HttpRequest) -> Result<HttpResponse, ApiError> {
    serve(req, Doc::ResourceTypes).await
}

/// One resource type, by name.
#[utoipa::path(get, path = "/scim/v2/{team}/ResourceTypes/{id}", tag = "scim",
    params(crate::openapi::DocumentPath),
    security(("scim_token" = [])),
    responses(
        (status = 200, description = "the resource type", body = Object,
            content_type = "application/scim+json"),
        (status = "default", description = "an error", body = crate::openapi::Error,
            content_type = "application/scim+json"),
    ))]
pub(crate) async fn resource_type(req: HttpRequest) -> Result<HttpResponse, ApiError> {
    serve(req, Doc::ResourceType).await
}

#[derive(Clone, Copy)]
enum Doc {
    Config,
    Schemas,
    Schema,
    ResourceTypes,
    ResourceType,
}

async fn serve(req: HttpRequest, doc: Doc) -> Result<HttpResponse, ApiError> {
    let ctx = Ctx::new(&req)?;
    // Discovery needs a valid token too: it is part of the team's API.
    ctx.read(|_, _| Ok(())).await?;
    let base = ctx.base_url();
    let id = req.match_info().get("id").unwrap_or_default();
    let features = Features {
        sort: true,
        max_payload_size: ctx.state().config.max_body_bytes,
    };
    let body = match doc {
        Doc::Config => discovery::service_provider_config(&base, features),
        Doc::Schemas => {
            let all: Vec<Value> = discovery::all_schema_documents(&base);
            list_response(all.len(), 1, all)
        }
        Doc::Schema => discovery::all_schema_documents(&base)
            .into_iter()
            .find(|s| s.get("id").and_then(Value::as_str) == Some(id))
            .ok_or_else(|| ApiError::NotFound(format!("no schema '{id}'")))?,
        Doc::ResourceTypes => {
            let all: Vec<Value> = [ResourceKind::User, ResourceKind::Group]
                .into_iter()
                .map(|k| discovery::resource_type_document(&base, k))
                .collect();
            list_response(all.len(), 1, all)
        }
        Doc::ResourceType => [ResourceKind::User, ResourceKind::Group]
            .into_iter()
            .find(|k| k.name() == id)
            .map(|k| discovery::resource_type_document(&base, k))
            .ok_or_else(|| ApiError::NotFound(format!("no resource type '{id}'")))?,
    };
    Ok(response::json(StatusCode::OK, &body))
}
