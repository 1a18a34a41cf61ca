//! Certificates: what the team's CA issued, which are live, and revoking one.

use actix_web::{HttpRequest, web};
use askama::Template;
use serde::Deserialize;

use super::users::CertRow;
use super::{Answer, State, with_app};
use crate::auth;
use crate::page::{Chrome, render};

/// Most certificates the page lists.
const LISTED: i64 = 200;

#[derive(Deserialize)]
pub(crate) struct CertQuery {
    /// Only live ones.
    live: Option<u8>,
}

#[derive(Template)]
#[template(path = "certificates.html")]
struct CertificatesPage {
    c: Chrome,
    live_only: bool,
    certificates: Vec<CertRow>,
}

/// `GET /console/{team}/certificates`.
#[utoipa::path(get, path = "/console/{team}/certificates", tag = "console",
    params(("team" = String, Path, description = "the team's name"), ("live" = Option<String>, Query, description = "1: only live ones")),
    security(("console_session" = [])),
    responses((status = 200, description = "the page", body = String, content_type = "text/html"), (status = "default", description = "an error page (without a console session: 303 to sign-in)", body = String, content_type = "text/html")))]
pub(crate) async fn list(
    state: State,
    req: HttpRequest,
    team: web::Path<String>,
    q: web::Query<CertQuery>,
) -> Answer {
    let signed = auth::signed_in(&state, &req, &team).await?;
    let live_only = q.live.is_some();
    let slug = team.into_inner();
    let certs = with_app(&state, move |app| {
        app.certificates(&slug, None, live_only, LISTED)
    })
    .await?;
    let now = time::OffsetDateTime::now_utc();
    render(&CertificatesPage {
        c: Chrome::signed(&state.config, &signed.admin, signed.csrf, "certificates"),
        live_only,
        certificates: certs.iter().map(|c| CertRow::of(c, now)).collect(),
    })
}

/// `POST /console/{team}/certificates/{serial}/revoke`: revokes it at once (it enters the
/// team's revocation list, which hosts fetch).
#[utoipa::path(post, path = "/console/{team}/certificates/{serial}/revoke", tag = "console",
    params(("team" = String, Path, description = "the team's name"), ("serial" = i64, Path, description = "the certificate's serial")),
    request_body(content = String, content_type = "application/x-www-form-urlencoded", description = "the form, with the session's csrf token"),
    security(("console_session" = [])),
    responses((status = 303, description = "done: to the next page (or, without a console session, to sign-in)"), (status = "default", description = "an error page (without a console session: 303 to sign-in)", body = String, content_type = "text/html")))]
pub(crate) async fn revoke(
    state: State,
    req: HttpRequest,
    path: web::Path<(String, String)>,
    body: web::Bytes,
) -> Answer {
    super::numbered_action(
        &state,
        &req,
        path,
        &body,
        "/certificates",
        |app, actor, team, n| app.revoke_certificate(actor, team, n),
    )
    .await
}
