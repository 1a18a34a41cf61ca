//! `GET /openapi.json`: the OpenAPI 3 document of every route the server mounts, made
//! from the handlers' annotations in each web crate. The isolation suite takes its route
//! list from it, and the HTTP fuzzers their contract.

use std::sync::OnceLock;

use actix_web::http::header::{self, ContentType};
use actix_web::{HttpResponse, web};
use utoipa::OpenApi;
use utoipa::openapi::security::{ApiKey, ApiKeyValue, HttpAuthScheme, HttpBuilder, SecurityScheme};

/// The path the document is served at.
pub const PATH: &str = "/openapi.json";

/// This binary's own routes.
#[derive(OpenApi)]
#[openapi(
    info(
        title = "sshward",
        description = "SSH access control plane: SCIM 2.0 provisioning, sign-in, host agents, SSH certificates. \
            SCIM routes answer application/scim+json (errors in RFC 7644's schema); every other JSON \
            error is {\"error\": CODE, \"message\": TEXT}."
    ),
    paths(
        crate::health::healthz,
        crate::health::readyz,
        crate::metrics::endpoint,
        openapi_json
    )
)]
struct Doc;

/// The whole document: this binary's routes and every web crate's.
pub fn document() -> utoipa::openapi::OpenApi {
    let mut doc = Doc::openapi();
    doc.info.version = env!("CARGO_PKG_VERSION").to_owned();
    for part in [
        scim_api::openapi(),
        oidc_login::web::openapi(),
        agent_api::openapi(),
        ca_api::openapi(),
        console::openapi(),
    ] {
        doc.merge(part);
    }
    let components = doc.components.get_or_insert_with(Default::default);
    let bearer = |what: &str| {
        SecurityScheme::Http(
            HttpBuilder::new()
                .scheme(HttpAuthScheme::Bearer)
                .description(Some(what.to_owned()))
                .build(),
        )
    };
    for (name, what) in [
        ("scim_token", "a team's SCIM token (sshward token create)"),
        (
            "join_token",
            "a one-time join token (sshward host join-token create)",
        ),
        (
            "host_credential",
            "the credential a host got when it joined",
        ),
        ("access_token", "the access token of sshward login"),
    ] {
        components.add_security_scheme(name, bearer(what));
    }
    components.add_security_scheme(
        "console_session",
        SecurityScheme::ApiKey(ApiKey::Cookie(ApiKeyValue::new(
            console::console_cookie_name(false),
        ))),
    );
    components.add_security_scheme(
        "session",
        SecurityScheme::ApiKey(ApiKey::Cookie(ApiKeyValue::new(oidc_login::SESSION_COOKIE))),
    );
    doc
}

/// The document as JSON, made once.
fn json() -> &'static str {
    static JSON: OnceLock<String> = OnceLock::new();
    JSON.get_or_init(|| {
        document().to_json().unwrap_or_else(|e| {
            log::error!("cannot serialise the OpenAPI document: {e}");
            "{}".to_owned()
        })
    })
}

/// This document.
#[utoipa::path(method(get, head), path = "/openapi.json", tag = "operations",
    responses(
        (status = 200, description = "the OpenAPI 3 document", body = Object),
        (status = "default", description = "an error", body = proto::ErrorBody),
    ))]
async fn openapi_json() -> HttpResponse {
    HttpResponse::Ok()
        .content_type(ContentType::json())
        .insert_header((header::CACHE_CONTROL, "no-cache"))
        .body(json())
}

/// Mounts `GET /openapi.json`.
pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.service(
        web::resource(PATH)
            .route(web::get().to(openapi_json))
            .route(web::head().to(openapi_json))
            .default_service(web_common::method_not_allowed("GET, HEAD")),
    );
}
