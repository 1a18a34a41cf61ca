//! Signing in and out: with the team's Entra sign-in, or with a one-time link.

use actix_web::{HttpRequest, web};
use askama::Template;
use serde::Deserialize;

use super::{Answer, Csrf, State, with_app};
use crate::auth;
use crate::page::{Chrome, PageError, render, see_other};

#[derive(Template)]
#[template(path = "choose.html")]
struct ChoosePage {
    c: Chrome,
}

#[derive(Deserialize)]
pub(crate) struct ChooseQuery {
    team: Option<String>,
}

/// `GET /console`: asks for the team (or goes to the one named by `?team=`).
#[utoipa::path(get, path = "/console", tag = "console",
    params(("team" = Option<String>, Query, description = "go to this team's console")),
    responses((status = 200, description = "the page", body = String, content_type = "text/html"), (status = 303, description = "done: to the next page (or, without a console session, to sign-in)"), (status = "default", description = "an error page (without a console session: 303 to sign-in)", body = String, content_type = "text/html")))]
pub(crate) async fn choose_team(state: State, q: web::Query<ChooseQuery>) -> Answer {
    match q.into_inner().team.filter(|t| !t.trim().is_empty()) {
        Some(team) => {
            let team = team.trim().to_ascii_lowercase();
            store::validate_slug(&team).map_err(|e| PageError::BadRequest(e.to_string()))?;
            Ok(see_other(&state.config.path(&format!("/console/{team}"))))
        }
        None => render(&ChoosePage {
            c: Chrome::anonymous(&state.config, ""),
        }),
    }
}

#[derive(Template)]
#[template(path = "signin.html")]
struct SignInPage {
    c: Chrome,
    team: String,
    entra: String,
}

/// `GET /console/{team}/signin`.
#[utoipa::path(get, path = "/console/{team}/signin", tag = "console",
    params(("team" = String, Path, description = "the team's name")),
    responses((status = 200, description = "the page", body = String, content_type = "text/html"), (status = "default", description = "an error page (without a console session: 303 to sign-in)", body = String, content_type = "text/html")))]
pub(crate) async fn show(state: State, team: web::Path<String>) -> Answer {
    let team = team.into_inner();
    auth::known_slug(&team)?;
    let enter = state.config.path(&format!("/console/{team}/enter"));
    render(&SignInPage {
        c: Chrome::anonymous(&state.config, &team),
        entra: state.config.path(&format!(
            "/login/{team}?return_to={}",
            url::form_urlencoded::byte_serialize(enter.as_bytes()).collect::<String>()
        )),
        team: app::display::printable(&team),
    })
}

#[derive(Template)]
#[template(path = "enter.html")]
struct EnterPage {
    c: Chrome,
    next: String,
}

/// `GET /console/{team}/enter`, where the team's Entra sign-in lands: opens a console
/// session for the signed-in person if they are an administrator of the team.
///
/// The answer is a page that moves on by itself rather than a redirect: the browser came
/// here by redirects that started at Entra, another site, and does not send a
/// `SameSite=Strict` cookie on such a navigation; the next one starts here.
#[utoipa::path(get, path = "/console/{team}/enter", tag = "console",
    params(("team" = String, Path, description = "the team's name")),
    security(("session" = [])),
    responses((status = 200, description = "the page", body = String, content_type = "text/html"), (status = 303, description = "done: to the next page (or, without a console session, to sign-in)"), (status = "default", description = "an error page (without a console session: 303 to sign-in)", body = String, content_type = "text/html")))]
pub(crate) async fn enter(state: State, req: HttpRequest, team: web::Path<String>) -> Answer {
    let team = team.into_inner();
    auth::known_slug(&team)?;
    let Some(login) = web_common::session_cookie(&req) else {
        return Err(PageError::SignIn {
            to: state.config.path(&format!("/console/{team}/signin")),
        });
    };
    let previous = auth::session_secret(&state, &req);
    let slug = team.clone();
    let session = with_app(&state, move |app| {
        let entered = app.enter_console(&slug, &login);
        // A console session this browser had before ends: one browser, one session.
        if let (Ok(_), Some(old)) = (&entered, previous) {
            app.end_console_session(&old)?;
        }
        Ok(entered)
    })
    .await?
    .map_err(|e| match e {
        // The sign-in session ended (or is of another team): sign in again.
        app::AppError::Unauthorized(_) => PageError::SignIn {
            to: state.config.path(&format!("/console/{team}/signin")),
        },
        other => other.into(),
    })?;
    let mut response = render(&EnterPage {
        c: Chrome::anonymous(&state.config, &team),
        next: state.config.path(&format!("/console/{team}")),
    })?;
    response
        .add_cookie(&auth::session_cookie(
            &state,
            session.secret,
            session.expires,
        ))
        .map_err(|e| PageError::Internal(format!("cookie: {e}")))?;
    Ok(response)
}

#[derive(Template)]
#[template(path = "link.html")]
struct LinkPage {
    c: Chrome,
    team: String,
    code: String,
}

#[derive(Deserialize)]
pub(crate) struct LinkQuery {
    code: Option<String>,
}

/// `GET /console/{team}/link?code=...`: asks to confirm. Opening the link uses nothing, so
/// a mail scanner that fetches it does not spend it; the button does.
#[utoipa::path(get, path = "/console/{team}/link", tag = "console",
    params(("team" = String, Path, description = "the team's name"), ("code" = Option<String>, Query, description = "the one-time link's code")),
    responses((status = 200, description = "the page", body = String, content_type = "text/html"), (status = "default", description = "an error page (without a console session: 303 to sign-in)", body = String, content_type = "text/html")))]
pub(crate) async fn link_page(
    state: State,
    team: web::Path<String>,
    q: web::Query<LinkQuery>,
) -> Answer {
    let team = team.into_inner();
    auth::known_slug(&team)?;
    let code = q.into_inner().code.unwrap_or_default();
    if code.is_empty() {
        return Err(PageError::BadRequest(
            "this sign-in link has no code; copy the whole link that `sshward admin link` printed"
                .into(),
        ));
    }
    render(&LinkPage {
        c: Chrome::anonymous(&state.config, &team),
        team: app::display::printable(&team),
        code,
    })
}

#[derive(Deserialize)]
pub(crate) struct LinkForm {
    code: String,
}

/// `POST /console/{team}/link`: uses the one-time link and opens a console session.
#[utoipa::path(post, path = "/console/{team}/link", tag = "console",
    params(("team" = String, Path, description = "the team's name")),
    request_body(content = String, content_type = "application/x-www-form-urlencoded", description = "code=the one-time link's code"),
    responses((status = 303, description = "done: to the next page (or, without a console session, to sign-in)"), (status = "default", description = "an error page (without a console session: 303 to sign-in)", body = String, content_type = "text/html")))]
pub(crate) async fn redeem_link(
    state: State,
    req: HttpRequest,
    team: web::Path<String>,
    form: web::Form<LinkForm>,
) -> Answer {
    auth::same_origin(&state, &req)?;
    let team = team.into_inner();
    auth::known_slug(&team)?;
    let code = form.into_inner().code;
    let attempt = match &state.failures {
        Some(limiter) => Some(
            limiter
                .admit(web_common::peer_ip(&req), Some(&team), &code)
                .map_err(|r| PageError::TooManyFailures(r.retry_after_secs()))?,
        ),
        None => None,
    };
    let previous = auth::session_secret(&state, &req);
    let slug = team.clone();
    let outcome = with_app(&state, move |app| {
        let redeemed = app.redeem_console_link(&slug, &code);
        if let (Ok(_), Some(old)) = (&redeemed, previous) {
            app.end_console_session(&old)?;
        }
        Ok(redeemed)
    })
    .await?;
    let session = match outcome {
        Ok(s) => s,
        Err(e) => {
            if let (app::AppError::Unauthorized(_), Some(a)) = (&e, &attempt) {
                a.failed();
            }
            return Err(e.into());
        }
    };
    let mut response = see_other(&state.config.path(&format!("/console/{team}")));
    response
        .add_cookie(&auth::session_cookie(
            &state,
            session.secret,
            session.expires,
        ))
        .map_err(|e| PageError::Internal(format!("cookie: {e}")))?;
    Ok(response)
}

#[derive(Template)]
#[template(path = "signed_out.html")]
struct SignedOutPage {
    c: Chrome,
    again: String,
}

/// `POST /console/{team}/signout`: ends the console session on every instance.
#[utoipa::path(post, path = "/console/{team}/signout", tag = "console",
    params(("team" = String, Path, description = "the team's name")),
    request_body(content = String, content_type = "application/x-www-form-urlencoded", description = "the form, with the session's csrf token"),
    security(("console_session" = [])),
    responses((status = 200, description = "the page", body = String, content_type = "text/html"), (status = "default", description = "an error page (without a console session: 303 to sign-in)", body = String, content_type = "text/html")))]
pub(crate) async fn sign_out(
    state: State,
    req: HttpRequest,
    team: web::Path<String>,
    body: web::Bytes,
) -> Answer {
    let team = team.into_inner();
    let _: (_, Csrf) = auth::signed_form(&state, &req, &team, &body).await?;
    if let Some(secret) = auth::session_secret(&state, &req) {
        with_app(&state, move |app| app.end_console_session(&secret)).await?;
    }
    let mut response = render(&SignedOutPage {
        c: Chrome::anonymous(&state.config, &team),
        again: state.config.path(&format!("/console/{team}/signin")),
    })?;
    response
        .add_cookie(&auth::removal_cookie(&state))
        .map_err(|e| PageError::Internal(format!("cookie: {e}")))?;
    Ok(response)
}
