//! Who is asking: the console session cookie, the CSRF token bound to it, and the origin
//! check of every state-changing request.

use actix_web::cookie::{Cookie, SameSite, time::Duration as CookieDuration};
use actix_web::http::header;
use actix_web::{HttpRequest, web};
use app::ConsoleAdmin;
use serde::de::DeserializeOwned;
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;
use time::OffsetDateTime;

use crate::ConsoleState;
use crate::page::PageError;

/// The console session cookie's name: `__Host-sshward_console` on https (the browser
/// then insists on `Secure`, `Path=/` and no `Domain`, so no other site or path can
/// set or shadow it), `sshward_console` on plain http.
pub fn console_cookie_name(https: bool) -> &'static str {
    if https {
        "__Host-sshward_console"
    } else {
        "sshward_console"
    }
}

/// The CSRF token of the console session with secret `secret`: derived from it (so it
/// needs no storage, changes with every session and is useless without the cookie), never
/// equal to it (so a page that shows the token does not leak the session).
pub fn csrf_token(secret: &str) -> String {
    let mut h = Sha256::new();
    h.update(b"sshward console csrf\0");
    h.update(secret.as_bytes());
    format!("{:x}", h.finalize())
}

/// A signed-in administrator and the CSRF token of their session.
pub(crate) struct Signed {
    pub admin: ConsoleAdmin,
    pub csrf: String,
}

/// The console session secret of `req`, if it carries the cookie.
pub(crate) fn session_secret(state: &ConsoleState, req: &HttpRequest) -> Option<String> {
    req.cookie(console_cookie_name(state.config.is_https()))
        .map(|c| c.value().to_owned())
        .filter(|v| !v.is_empty())
}

/// Refuses a team name that cannot be one (a control character, `/`, upper case, ...)
/// with 404 before it goes anywhere else: into a `Location` header, a page or a query.
pub(crate) fn known_slug(team: &str) -> Result<(), PageError> {
    store::validate_slug(team)
        .map_err(|_| PageError::NotFound("there is no such console page".into()))
}

/// The administrator of `team` behind `req`; without a console session, a redirect to
/// the team's sign-in page.
pub(crate) async fn signed_in(
    state: &ConsoleState,
    req: &HttpRequest,
    team: &str,
) -> Result<Signed, PageError> {
    known_slug(team)?;
    let sign_in = || PageError::SignIn {
        to: state.config.path(&format!("/console/{team}/signin")),
    };
    let secret = session_secret(state, req).ok_or_else(sign_in)?;
    let app = state.app.clone();
    let (slug, key) = (team.to_owned(), secret.clone());
    let found =
        web_common::blocking(move || Ok::<_, PageError>(app.console_admin(&slug, &key))).await?;
    let admin = found.map_err(|e| match e {
        app::AppError::Unauthorized(_) => sign_in(),
        other => PageError::from(other),
    })?;
    Ok(Signed {
        admin,
        csrf: csrf_token(&secret),
    })
}

/// The administrator of `team` behind a form post, and the form: the post must come from
/// the console's own origin, have a console session, and only then is its body read; it
/// must carry the session's CSRF token. (The body is read after the session check, so
/// a request without a session is sent to sign in whatever it holds.)
pub(crate) async fn signed_form<T: DeserializeOwned>(
    state: &ConsoleState,
    req: &HttpRequest,
    team: &str,
    body: &[u8],
) -> Result<(Signed, T), PageError> {
    same_origin(state, req)?;
    let signed = signed_in(state, req, team).await?;
    let is_form = req
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("application/x-www-form-urlencoded"));
    if !is_form {
        return Err(PageError::BadRequest(
            "send the form as application/x-www-form-urlencoded".into(),
        ));
    }
    let text = std::str::from_utf8(body)
        .map_err(|_| PageError::BadRequest("the form is not UTF-8".into()))?;
    let token = web::Query::<Csrf>::from_query(text)
        .map(|c| c.into_inner().csrf)
        .unwrap_or_default();
    if !bool::from(signed.csrf.as_bytes().ct_eq(token.as_bytes())) {
        return Err(PageError::Forged(
            "this form is out of date or did not come from this console; reload the page and try again",
        ));
    }
    let form = web::Query::<T>::from_query(text)
        .map_err(|e| PageError::BadRequest(format!("invalid form: {e}")))?;
    Ok((signed, form.into_inner()))
}

/// The CSRF token every state-changing form carries.
#[derive(Debug, serde::Deserialize)]
pub(crate) struct Csrf {
    /// The token.
    #[serde(default)]
    pub csrf: String,
}

/// Refuses a request that a browser says came from another site: its `Origin` is not the
/// console's, or its `Sec-Fetch-Site` is neither `same-origin` nor `none` (typed in).
pub(crate) fn same_origin(state: &ConsoleState, req: &HttpRequest) -> Result<(), PageError> {
    let refused = || PageError::Forged("this request came from another site and was refused");
    if let Some(origin) = req.headers().get(header::ORIGIN)
        && origin.to_str().ok() != Some(state.config.origin().as_str())
    {
        return Err(refused());
    }
    if let Some(site) = req.headers().get("sec-fetch-site")
        && !matches!(site.to_str(), Ok("same-origin" | "none"))
    {
        return Err(refused());
    }
    Ok(())
}

/// The cookie that carries a new console session.
pub(crate) fn session_cookie(
    state: &ConsoleState,
    secret: String,
    expires: OffsetDateTime,
) -> Cookie<'static> {
    let ttl = (expires - OffsetDateTime::now_utc()).whole_seconds().max(0);
    let mut c = base_cookie(state, secret);
    c.set_max_age(CookieDuration::seconds(ttl));
    c
}

/// The cookie that removes the console session.
pub(crate) fn removal_cookie(state: &ConsoleState) -> Cookie<'static> {
    let mut c = base_cookie(state, String::new());
    c.make_removal();
    c
}

fn base_cookie(state: &ConsoleState, value: String) -> Cookie<'static> {
    let https = state.config.is_https();
    let mut c = Cookie::new(console_cookie_name(https), value);
    // `__Host-` demands `Path=/`; the console's own paths are all below it.
    c.set_path(if https {
        "/".to_owned()
    } else {
        state.config.path("/console")
    });
    c.set_http_only(true);
    c.set_same_site(SameSite::Strict);
    c.set_secure(https);
    c
}
