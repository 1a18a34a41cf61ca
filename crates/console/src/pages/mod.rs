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

use crate::ConsoleState;
use crate::page::{CONTENT_SECURITY_POLICY, PageError, see_other};

/// Largest form the console accepts.
const FORM_LIMIT: usize = 64 * 1024;
/// Rows per page of a listing.
pub(crate) const PAGE_SIZE: u64 = 50;

/// The state as handlers receive it.
pub(crate) type State = web::Data<ConsoleState>;
/// What a handler answers.
pub(crate) type Answer = Result<HttpResponse, PageError>;

pub(crate) use crate::auth::Csrf;

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
        // Form bodies are read as bytes after the session check (`auth::signed_form`).
        .app_data(web::PayloadConfig::new(FORM_LIMIT))
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
        .service(page("", "GET").route(web::get().to(signin::choose_team)))
        // Trailing slashes are trimmed before routing: `/console/acme/` lands here too.
        .service(page(&t(""), "GET").route(web::get().to(overview::show)))
        .service(page(&t("/signin"), "GET").route(web::get().to(signin::show)))
        .service(page(&t("/enter"), "GET").route(web::get().to(signin::enter)))
        .service(
            page(&t("/link"), "GET, POST")
                .route(web::get().to(signin::link_page))
                .route(web::post().to(signin::redeem_link)),
        )
        .service(page(&t("/signout"), "POST").route(web::post().to(signin::sign_out)))
        .service(
            page(&t("/identity"), "GET, POST")
                .route(web::get().to(identity::show))
                .route(web::post().to(identity::save)),
        )
        .service(page(&t("/scim"), "GET").route(web::get().to(scim::show)))
        .service(page(&t("/scim/tokens"), "POST").route(web::post().to(scim::create_token)))
        .service(
            page(&t("/scim/tokens/{id}/revoke"), "POST").route(web::post().to(scim::revoke_token)),
        )
        .service(page(&t("/log"), "GET").route(web::get().to(log::show)))
        .service(page(&t("/log/progress"), "GET").route(web::get().to(log::progress)))
        .service(page(&t("/users"), "GET").route(web::get().to(users::list)))
        .service(page(&t("/users/{id}"), "GET").route(web::get().to(users::show)))
        .service(page(&t("/groups"), "GET").route(web::get().to(groups::list)))
        .service(page(&t("/groups/{id}"), "GET").route(web::get().to(groups::show)))
        .service(page(&t("/hosts"), "GET").route(web::get().to(hosts::list)))
        .service(
            page(&t("/hosts/join-tokens"), "POST").route(web::post().to(hosts::create_join_token)),
        )
        .service(page(&t("/grants"), "GET").route(web::get().to(grants::list)))
        .service(page(&t("/grants/preview"), "POST").route(web::post().to(grants::preview_add)))
        .service(page(&t("/grants/add"), "POST").route(web::post().to(grants::add)))
        .service(
            page(&t("/grants/{id}/preview-remove"), "POST")
                .route(web::post().to(grants::preview_remove)),
        )
        .service(page(&t("/grants/{id}/remove"), "POST").route(web::post().to(grants::remove)))
        .service(page(&t("/certificates"), "GET").route(web::get().to(certificates::list)))
        .service(
            page(&t("/certificates/{serial}/revoke"), "POST")
                .route(web::post().to(certificates::revoke)),
        )
        .service(page(&t("/audit"), "GET").route(web::get().to(audit::show)))
        .default_service(web::to(not_found));
    cfg.service(scope);
}

/// A console page at `path` whose routes take the methods `allow` (`"GET, POST"`).
fn page(path: &str, allow: &'static str) -> actix_web::Resource {
    web::resource(path).default_service(method_not_allowed(allow))
}

/// A method a page does not take: 405 with an error page and the `Allow` header
/// (RFC 9110) naming the methods it does take.
pub(crate) fn method_not_allowed(allow: &'static str) -> actix_web::Route {
    web::to(move |req: actix_web::HttpRequest| async move {
        let page = PageError::MethodNotAllowed(format!(
            "{} takes {allow}, not {}",
            req.path(),
            req.method()
        ));
        let mut res = actix_web::ResponseError::error_response(&page);
        res.headers_mut()
            .insert(header::ALLOW, header::HeaderValue::from_static(allow));
        res
    })
}

/// The console's routes, for the OpenAPI document.
#[derive(utoipa::OpenApi)]
#[openapi(paths(
    crate::static_files::serve,
    signin::choose_team,
    signin::show,
    signin::enter,
    signin::link_page,
    signin::redeem_link,
    signin::sign_out,
    overview::show,
    identity::show,
    identity::save,
    scim::show,
    scim::create_token,
    scim::revoke_token,
    log::show,
    log::progress,
    users::list,
    users::show,
    groups::list,
    groups::show,
    hosts::list,
    hosts::create_join_token,
    grants::list,
    grants::preview_add,
    grants::add,
    grants::preview_remove,
    grants::remove,
    certificates::list,
    certificates::revoke,
    audit::show
))]
pub(crate) struct Doc;

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

/// A form that acts on the numbered thing of its path (revoke token N, remove grant N,
/// revoke certificate N) and goes back to page `back`: the session and its token first,
/// then the number, then the action, as the administrator.
pub(crate) async fn numbered_action<T: Send + 'static>(
    state: &State,
    req: &actix_web::HttpRequest,
    path: web::Path<(String, String)>,
    body: &[u8],
    back: &str,
    action: impl FnOnce(&app::App, &app::Actor, &str, i64) -> Result<T, app::AppError> + Send + 'static,
) -> Answer {
    let (team, text) = path.into_inner();
    let (signed, _): (_, Csrf) = crate::auth::signed_form(state, req, &team, body).await?;
    let n = number(&text)?;
    let (actor, slug) = (signed.admin.actor, team.clone());
    with_app(state, move |app| action(app, &actor, &slug, n)).await?;
    Ok(see_other(&state.config.team_path(&team, back)))
}

/// The number in a path (a token id, grant id or serial), read after the session check;
/// anything else names no page.
pub(crate) fn number(text: &str) -> Result<i64, PageError> {
    text.parse()
        .map_err(|_| PageError::NotFound(format!("there is nothing numbered {text:?} here")))
}

/// The resolved SCIM filter `text` for `kind` (400 when it is not one).
pub(crate) fn scim_filter(
    text: &str,
    kind: store::ResourceKind,
) -> Result<scim_core::filter::Filter, PageError> {
    scim_core::filter::parse(text)
        .and_then(|f| scim_core::filter::resolve(f, kind))
        .map_err(|e| PageError::BadRequest(format!("search: {e}")))
}

/// `text` as a SCIM string literal (JSON's string syntax is SCIM's: quotes and
/// backslashes come out escaped).
pub(crate) fn literal(text: &str) -> String {
    serde_json::Value::from(text).to_string()
}

/// Page `page` (1-based) of a listing filtered by `filter`.
pub(crate) fn listing(
    filter: Option<&scim_core::filter::Filter>,
    page: u64,
) -> store::ListQuery<'_> {
    store::ListQuery {
        filter,
        start_index: (page - 1) * PAGE_SIZE + 1,
        count: Some(PAGE_SIZE),
        sort: None,
    }
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
