//! The console's two static files, compiled in: its stylesheet and its one script.

use actix_web::http::header;
use actix_web::{HttpResponse, web};

use crate::page::PageError;

const CSS: &str = include_str!("../static/console.css");
const JS: &str = include_str!("../static/console.js");

/// `GET /console/static/{file}`.
pub(crate) fn service() -> actix_web::Resource {
    web::resource("/static/{file}")
        .route(web::get().to(serve))
        .default_service(crate::pages::method_not_allowed("GET"))
}

#[utoipa::path(get, path = "/console/static/{file}", tag = "console",
    params(("file" = String, Path, description = "console.css or console.js")),
    responses((status = 200, description = "the file", body = String, content_type = "text/css"),
        (status = "default", description = "an error page", body = String, content_type = "text/html")))]
pub(crate) async fn serve(file: web::Path<String>) -> Result<HttpResponse, PageError> {
    let (body, kind) = match file.as_str() {
        "console.css" => (CSS, "text/css; charset=utf-8"),
        "console.js" => (JS, "text/javascript; charset=utf-8"),
        _ => return Err(PageError::NotFound("there is no such file".into())),
    };
    Ok(HttpResponse::Ok()
        .content_type(kind)
        // Static for a given build; the default `no-store` of console pages would do, but
        // an hour saves a round trip per page.
        .insert_header((header::CACHE_CONTROL, "public, max-age=3600"))
        .body(body))
}
