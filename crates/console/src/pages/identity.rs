//! The identity provider: the team's Microsoft Entra tenant, allowed email domains and
//! app registration, and the redirect URI to register in Entra.

use std::str::FromStr;

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, web};
use app::{DomainChange, TeamChange};
use askama::Template;
use serde::Deserialize;
use store::{EmailDomain, OidcSettingsUpdate, SecretRef, TenantId};

use super::{Answer, State, with_app};
use crate::auth::{self, Signed};
use crate::page::{Chrome, PageError, render_with, see_other};

#[derive(Template)]
#[template(path = "identity.html")]
struct IdentityPage {
    c: Chrome,
    form: IdentityForm,
    redirect_uri: String,
    test_sign_in: String,
    saved: bool,
    error: Option<String>,
}

/// The form's fields, as sent (and as shown again when a value is refused).
#[derive(Clone, Debug, Default, Deserialize)]
pub(crate) struct IdentityForm {
    #[serde(default)]
    tenant: String,
    #[serde(default)]
    domains: String,
    #[serde(default)]
    client_id: String,
    #[serde(default)]
    secret_ref: String,
}

#[derive(Deserialize)]
pub(crate) struct ShowQuery {
    saved: Option<u8>,
}

fn page(
    state: &State,
    signed: Signed,
    form: IdentityForm,
    saved: bool,
    error: Option<String>,
) -> IdentityPage {
    let slug = signed.admin.team.slug.clone();
    IdentityPage {
        c: Chrome::signed(&state.config, &signed.admin, signed.csrf, "identity"),
        form,
        redirect_uri: format!("{}/callback", state.config.public_url),
        test_sign_in: state.config.path(&format!("/login/{slug}?return_to=%2Fme")),
        saved,
        error,
    }
}

/// `GET /console/{team}/identity`.
#[utoipa::path(get, path = "/console/{team}/identity", tag = "console",
    params(("team" = String, Path, description = "the team's name")),
    security(("console_session" = [])),
    responses((status = 200, description = "the page", body = String, content_type = "text/html"), (status = "default", description = "an error page (without a console session: 303 to sign-in)", body = String, content_type = "text/html")))]
pub(crate) async fn show(
    state: State,
    req: HttpRequest,
    team: web::Path<String>,
    q: web::Query<ShowQuery>,
) -> Answer {
    let signed = auth::signed_in(&state, &req, &team).await?;
    let slug = team.into_inner();
    let (summary, settings) = with_app(&state, move |app| app.team(&slug)).await?;
    let t = &summary.team;
    let form = IdentityForm {
        tenant: t
            .entra_tenant_id
            .as_ref()
            .map(ToString::to_string)
            .unwrap_or_default(),
        domains: t
            .allowed_domains
            .iter()
            .map(ToString::to_string)
            .collect::<Vec<_>>()
            .join("\n"),
        client_id: settings.client_id.clone().unwrap_or_default(),
        secret_ref: settings
            .client_secret_ref
            .as_ref()
            .map(ToString::to_string)
            .unwrap_or_default(),
    };
    render_with(
        StatusCode::OK,
        &page(&state, signed, form, q.saved.is_some(), None),
    )
}

/// The change the form asks for: every field as it is on the form (an empty field
/// removes the setting).
fn change_of(form: &IdentityForm) -> Result<TeamChange, String> {
    let tenant = match form.tenant.trim() {
        "" => None,
        t => Some(TenantId::from_str(t).map_err(|e| format!("Tenant ID: {e}"))?),
    };
    let domains = form
        .domains
        .split(|c: char| c.is_whitespace() || c == ',')
        .filter(|d| !d.is_empty())
        .map(|d| EmailDomain::from_str(d).map_err(|e| format!("Allowed domains: {e}")))
        .collect::<Result<Vec<_>, _>>()?;
    let client_id = Some(form.client_id.trim())
        .filter(|c| !c.is_empty())
        .map(str::to_owned);
    if client_id
        .as_deref()
        .is_some_and(|c| c.chars().any(char::is_control))
    {
        return Err("Client ID: must not contain control characters".into());
    }
    let secret = match form.secret_ref.trim() {
        "" => None,
        s => Some(SecretRef::from_str(s).map_err(|e| format!("Client secret: {e}"))?),
    };
    Ok(TeamChange {
        tenant: Some(tenant),
        domains: Some(DomainChange::Replace(domains)),
        sign_in: OidcSettingsUpdate {
            client_id: Some(client_id),
            client_secret_ref: Some(secret),
            ..OidcSettingsUpdate::default()
        },
        ..TeamChange::default()
    })
}

/// `POST /console/{team}/identity`: saves the settings; a refused value shows the form
/// again with what was typed and why.
#[utoipa::path(post, path = "/console/{team}/identity", tag = "console",
    params(("team" = String, Path, description = "the team's name")),
    request_body(content = String, content_type = "application/x-www-form-urlencoded", description = "the form, with the session's csrf token"),
    security(("console_session" = [])),
    responses((status = 303, description = "done: to the next page (or, without a console session, to sign-in)"), (status = "default", description = "an error page (without a console session: 303 to sign-in)", body = String, content_type = "text/html")))]
pub(crate) async fn save(
    state: State,
    req: HttpRequest,
    team: web::Path<String>,
    body: web::Bytes,
) -> Answer {
    let (signed, form): (_, IdentityForm) = auth::signed_form(&state, &req, &team, &body).await?;
    let change = match change_of(&form) {
        Ok(change) => change,
        Err(message) => {
            return render_with(
                StatusCode::BAD_REQUEST,
                &page(&state, signed, form, false, Some(message)),
            );
        }
    };
    let (actor, slug) = (signed.admin.actor.clone(), team.into_inner());
    let outcome = with_app(&state, move |app| {
        Ok(app.update_team(&actor, &slug, &change))
    })
    .await?;
    match outcome {
        Ok(_) => Ok(see_other(
            &state
                .config
                .team_path(&signed.admin.team.slug, "/identity?saved=1"),
        )),
        Err(app::AppError::Invalid(message)) => render_with(
            StatusCode::BAD_REQUEST,
            &page(&state, signed, form, false, Some(message)),
        ),
        Err(other) => Err(PageError::from(other)),
    }
}
