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
    for (path, handler) in [
        ("/ServiceProviderConfig", Doc::Config),
        ("/Schemas", Doc::Schemas),
        ("/Schemas/{id}", Doc::Schema),
        ("/ResourceTypes", Doc::ResourceTypes),
        ("/ResourceTypes/{id}", Doc::ResourceType),
    ] {
        cfg.service(
            web::resource(path)
                .route(web::get().to(move |req: HttpRequest| serve(req, handler)))
                .default_service(web::to(|| async {
                    ApiError::MethodNotAllowed("GET").error_response()
                })),
        );
    }
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
