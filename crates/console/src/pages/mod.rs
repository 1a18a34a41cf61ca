//! The console's routes, one module per page.

mod audit;
mod certificates;
mod grants;
mod groups;
mod hosts;
mod identity;
mod log;
mod overview;
mod scim;
mod signin;
mod users;

use actix_web::error::InternalError;
use actix_web::http::header;
use actix_web::middleware::DefaultHeaders;
use actix_web::{HttpResponse, web};
use serde::Deserialize;

use crate::ConsoleState;
use crate::page::{CONTENT_SECURITY_POLICY, PageError};

/// Largest form the console accepts.
const FORM_LIMIT: usize = 64 * 1024;
/// Rows per page of a listing.
pub(crate) const PAGE_SIZE: u64 = 50;

/// The state as handlers receive it.
pub(crate) type State = web::Data<ConsoleState>;
/// What a handler answers.
pub(crate) type Answer = Result<HttpResponse, PageError>;

/// The CSRF token every state-changing form carries.
#[derive(Debug, Deserialize)]
pub(crate) struct Csrf {
    pub csrf: String,
}

/// Mounts `/console` and everything below it.
pub(crate) fn configure(cfg: &mut web::ServiceConfig, state: ConsoleState) {
    let headers = DefaultHeaders::new()
        .add((header::CONTENT_SECURITY_POLICY, CONTENT_SECURITY_POLICY))
        .add((header::X_FRAME_OPTIONS, "DENY"))
        .add((header::X_CONTENT_TYPE_OPTIONS, "nosniff"))
        // A one-time link's code is in its query string: never pass it to another site.
        // (`no-referrer` would also make the browser send `Origin: null` on our own
        // forms, which the origin check must refuse.)
        .add((header::REFERRER_POLICY, "same-origin"))
        .add((header::CACHE_CONTROL, "no-store"));
    let t = |path: &str| format!("/{{team}}{path}");
    let scope = web::scope("/console")
        .app_data(web::Data::new(state))
        .app_data(
            web::FormConfig::default()
                .limit(FORM_LIMIT)
                .error_handler(|err, _| {
                    let page = PageError::BadRequest(format!("invalid form: {err}"));
                    InternalError::from_response(
                        err,
                        actix_web::ResponseError::error_response(&page),
                    )
                    .into()
                }),
        )
        .app_data(web::QueryConfig::default().error_handler(|err, _| {
            let page = PageError::BadRequest(format!("invalid query: {err}"));
            InternalError::from_response(err, actix_web::ResponseError::error_response(&page))
                .into()
        }))
        .app_data(web::PathConfig::default().error_handler(|err, _| {
            let page = PageError::NotFound("there is no such console page".into());
            InternalError::from_response(err, actix_web::ResponseError::error_response(&page))
                .into()
        }))
        .wrap(headers)
        .service(crate::static_files::service())
        .route("", web::get().to(signin::choose_team))
        .route("/", web::get().to(signin::choose_team))
        // Trailing slashes are trimmed before routing: `/console/acme/` lands here too.
        .route(&t(""), web::get().to(overview::show))
        .route(&t("/signin"), web::get().to(signin::show))
        .route(&t("/enter"), web::get().to(signin::enter))
        .route(&t("/link"), web::get().to(signin::link_page))
        .route(&t("/link"), web::post().to(signin::redeem_link))
        .route(&t("/signout"), web::post().to(signin::sign_out))
        .route(&t("/identity"), web::get().to(identity::show))
        .route(&t("/identity"), web::post().to(identity::save))
        .route(&t("/scim"), web::get().to(scim::show))
        .route(&t("/scim/tokens"), web::post().to(scim::create_token))
        .route(
            &t("/scim/tokens/{id}/revoke"),
            web::post().to(scim::revoke_token),
        )
        .route(&t("/log"), web::get().to(log::show))
        .route(&t("/log/progress"), web::get().to(log::progress))
        .route(&t("/users"), web::get().to(users::list))
        .route(&t("/users/{id}"), web::get().to(users::show))
        .route(&t("/groups"), web::get().to(groups::list))
        .route(&t("/groups/{id}"), web::get().to(groups::show))
        .route(&t("/hosts"), web::get().to(hosts::list))
        .route(
            &t("/hosts/join-tokens"),
            web::post().to(hosts::create_join_token),
        )
        .route(&t("/grants"), web::get().to(grants::list))
        .route(&t("/grants/preview"), web::post().to(grants::preview_add))
        .route(&t("/grants/add"), web::post().to(grants::add))
        .route(
            &t("/grants/{id}/preview-remove"),
            web::post().to(grants::preview_remove),
        )
        .route(&t("/grants/{id}/remove"), web::post().to(grants::remove))
        .route(&t("/certificates"), web::get().to(certificates::list))
        .route(
            &t("/certificates/{serial}/revoke"),
            web::post().to(certificates::revoke),
        )
        .route(&t("/audit"), web::get().to(audit::show))
        .default_service(web::to(not_found));
    cfg.service(scope);
}

async fn not_found() -> Answer {
    Err(PageError::NotFound("there is no such console page".into()))
}

/// Runs `f` with the application on the blocking pool.
pub(crate) async fn with_app<T: Send + 'static>(
    state: &State,
    f: impl FnOnce(&app::App) -> Result<T, app::AppError> + Send + 'static,
) -> Result<T, PageError> {
    let app = state.app.clone();
    web_common::blocking(move || f(&app).map_err(PageError::from)).await
}

/// The 1-based page number of a listing, from `?page=`.
pub(crate) fn page_number(page: Option<u64>) -> u64 {
    page.unwrap_or(1).max(1)
}

/// The paging links of a listing: (previous page, next page, "41-50 of 93").
pub(crate) fn paging(page: u64, shown: usize, total: u64) -> (Option<u64>, Option<u64>, String) {
    let first = (page - 1) * PAGE_SIZE;
    let prev = (page > 1).then(|| page - 1);
    let next = (first + (shown as u64) < total).then(|| page + 1);
    let range = if shown == 0 {
        format!("none of {total}")
    } else {
        format!("{}–{} of {total}", first + 1, first + shown as u64)
    };
    (prev, next, range)
}

/// `key=value&` pairs of a listing's query string, for its paging links.
pub(crate) fn keep(pairs: &[(&str, &str)]) -> String {
    let mut out = url::form_urlencoded::Serializer::new(String::new());
    for (k, v) in pairs {
        out.append_pair(k, v);
    }
    let mut text = out.finish();
    if !text.is_empty() {
        text.push('&');
    }
    text
}
