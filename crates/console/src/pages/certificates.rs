//! Certificates: what the team's CA issued, which are live, and revoking one.

use actix_web::{HttpRequest, web};
use askama::Template;
use serde::Deserialize;

use super::users::CertRow;
use super::{Answer, Csrf, State, with_app};
use crate::auth;
use crate::page::{Chrome, render, see_other};

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
pub(crate) async fn revoke(
    state: State,
    req: HttpRequest,
    path: web::Path<(String, i64)>,
    form: web::Form<Csrf>,
) -> Answer {
    let (team, serial) = path.into_inner();
    let signed = auth::signed_post(&state, &req, &team, &form.csrf).await?;
    let (actor, slug) = (signed.admin.actor.clone(), team.clone());
    with_app(&state, move |app| {
        app.revoke_certificate(&actor, &slug, serial)
    })
    .await?;
    Ok(see_other(&state.config.team_path(&team, "/certificates")))
}
