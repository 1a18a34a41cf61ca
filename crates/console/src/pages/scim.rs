//! SCIM: the Tenant URL and the Secret Tokens Entra's provisioning service uses.

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, web};
use askama::Template;
use serde::Deserialize;
use store::TokenInfo;
use time::{Duration, OffsetDateTime};

use super::{Answer, State, with_app};
use crate::auth::{self, Signed};
use crate::page::{Chrome, PageError, render_with};

/// A token as the page lists it.
struct TokenRow {
    id: i64,
    label: String,
    created: String,
    last_used: String,
    expires: String,
    state: &'static str,
    live: bool,
}

impl TokenRow {
    fn of(t: &TokenInfo, now: OffsetDateTime) -> TokenRow {
        let live = t.is_valid_at(now);
        TokenRow {
            id: t.id,
            label: app::display::printable(&t.label),
            created: app::display::time(t.created),
            last_used: app::display::opt_time(t.last_used),
            expires: t
                .expires
                .map_or_else(|| "never".to_owned(), app::display::time),
            state: if t.revoked.is_some() {
                "revoked"
            } else if live {
                "live"
            } else {
                "expired"
            },
            live,
        }
    }
}

#[derive(Template)]
#[template(path = "scim.html")]
struct ScimPage {
    c: Chrome,
    tenant_url: String,
    tokens: Vec<TokenRow>,
    /// A token just made: its label and secret, shown this once.
    created: Option<(String, String)>,
}

async fn page(state: &State, signed: Signed, created: Option<(String, String)>) -> Answer {
    let slug = signed.admin.team.slug.clone();
    let tokens = with_app(state, move |app| app.tokens(&slug)).await?;
    let now = OffsetDateTime::now_utc();
    let status = if created.is_some() {
        StatusCode::CREATED
    } else {
        StatusCode::OK
    };
    render_with(
        status,
        &ScimPage {
            tenant_url: format!(
                "{}/scim/v2/{}",
                state.config.public_url, signed.admin.team.slug
            ),
            c: Chrome::signed(&state.config, &signed.admin, signed.csrf, "scim"),
            tokens: tokens.iter().rev().map(|t| TokenRow::of(t, now)).collect(),
            created,
        },
    )
}

/// `GET /console/{team}/scim`.
#[utoipa::path(get, path = "/console/{team}/scim", tag = "console",
    params(("team" = String, Path, description = "the team's name")),
    security(("console_session" = [])),
    responses((status = 200, description = "the page", body = String, content_type = "text/html"), (status = "default", description = "an error page (without a console session: 303 to sign-in)", body = String, content_type = "text/html")))]
pub(crate) async fn show(state: State, req: HttpRequest, team: web::Path<String>) -> Answer {
    let signed = auth::signed_in(&state, &req, &team).await?;
    page(&state, signed, None).await
}

#[derive(Deserialize)]
pub(crate) struct NewToken {
    label: String,
    /// Days until it expires; empty: never.
    #[serde(default)]
    expires_days: String,
}

/// `POST /console/{team}/scim/tokens`: makes a token and shows its secret once.
#[utoipa::path(post, path = "/console/{team}/scim/tokens", tag = "console",
    params(("team" = String, Path, description = "the team's name")),
    request_body(content = String, content_type = "application/x-www-form-urlencoded", description = "the form, with the session's csrf token"),
    security(("console_session" = [])),
    responses((status = 201, description = "the page, showing the new secret once", body = String, content_type = "text/html"), (status = "default", description = "an error page (without a console session: 303 to sign-in)", body = String, content_type = "text/html")))]
pub(crate) async fn create_token(
    state: State,
    req: HttpRequest,
    team: web::Path<String>,
    body: web::Bytes,
) -> Answer {
    let (signed, form): (_, NewToken) = auth::signed_form(&state, &req, &team, &body).await?;
    let expires_in = match form.expires_days.trim() {
        "" => None,
        days => {
            let days: i64 = days
                .parse()
                .ok()
                .filter(|d| (1..=3650).contains(d))
                .ok_or_else(|| {
                    PageError::BadRequest(
                        "expires in: give a number of days from 1 to 3650, or leave it empty"
                            .into(),
                    )
                })?;
            Some(Duration::days(days))
        }
    };
    let (actor, slug) = (signed.admin.actor.clone(), signed.admin.team.slug.clone());
    let (_, info, secret) = with_app(&state, move |app| {
        app.create_token(&actor, &slug, &form.label, expires_in)
    })
    .await?;
    page(
        &state,
        signed,
        Some((app::display::printable(&info.label), secret)),
    )
    .await
}

/// `POST /console/{team}/scim/tokens/{id}/revoke`.
#[utoipa::path(post, path = "/console/{team}/scim/tokens/{id}/revoke", tag = "console",
    params(("team" = String, Path, description = "the team's name"), ("id" = i64, Path, description = "its id")),
    request_body(content = String, content_type = "application/x-www-form-urlencoded", description = "the form, with the session's csrf token"),
    security(("console_session" = [])),
    responses((status = 303, description = "done: to the next page (or, without a console session, to sign-in)"), (status = "default", description = "an error page (without a console session: 303 to sign-in)", body = String, content_type = "text/html")))]
pub(crate) async fn revoke_token(
    state: State,
    req: HttpRequest,
    path: web::Path<(String, String)>,
    body: web::Bytes,
) -> Answer {
    super::numbered_action(&state, &req, path, &body, "/scim", |app, actor, team, n| {
        app.revoke_token(actor, team, n)
    })
    .await
}
