//! The HTTP edge: routes, cookies, and the one place where [`LoginError`] becomes an HTTP
//! answer (an HTML page for browser routes, JSON for the CLI's API routes).

use actix_web::cookie::{Cookie, CookieJar, SameSite, time::Duration as CookieDuration};
use actix_web::error::{InternalError, UrlencodedError};
use actix_web::http::{StatusCode, header};
use actix_web::{HttpRequest, HttpResponse, ResponseError, web};
use serde::Deserialize;

use proto::{ErrorBody, ErrorCode};

use crate::error::{Denied, LoginError};
use crate::flow::{Callback, CliRequest, Finished, LoginState};

/// The session cookie: the session's random secret, looked up server-side (the web
/// console reads it too, to open its own session after a sign-in).
pub use web_common::SESSION_COOKIE;
/// The sign-in cookie: the state of the sign-in in progress in this browser, so that a
/// callback only completes in the browser that started it (login CSRF).
pub const LOGIN_COOKIE: &str = "sshward_login";

/// Mounts `GET /login/{team}`, `GET /callback`, `POST /logout`, `GET /me`,
/// `POST /login/token` and `POST /login/{team}/device`.
pub fn configure(cfg: &mut web::ServiceConfig, state: LoginState) {
    let state = web::Data::new(state);
    cfg.app_data(state)
        .service(resource("/login/token", "POST").route(web::post().to(token)))
        .service(resource("/login/{team}", "GET").route(web::get().to(login)))
        .service(resource("/login/{team}/device", "POST").route(web::post().to(device_start)))
        .service(resource("/callback", "GET").route(web::get().to(callback)))
        .service(resource("/logout", "POST").route(web::post().to(logout)))
        .service(resource("/me", "GET").route(web::get().to(me)));
}

/// The routes of [`configure`], for the OpenAPI document.
#[derive(utoipa::OpenApi)]
#[openapi(paths(token, login, device_start, callback, logout, me))]
struct Doc;

/// The OpenAPI description of the routes [`configure`] mounts (part of the server's
/// `GET /openapi.json`).
pub fn openapi() -> utoipa::openapi::OpenApi {
    use utoipa::OpenApi;
    Doc::openapi()
}

/// A route that takes `method`, whose query string and form errors are answered like
/// every other error of sign-in (actix's own are `text/plain`).
fn resource(path: &str, method: &'static str) -> actix_web::Resource {
    web::resource(path)
        .default_service(web_common::method_not_allowed(method))
        .app_data(web::QueryConfig::default().error_handler(|err, req| {
            let error = LoginError::BadRequest(format!("invalid query string: {err}"));
            InternalError::from_response(err, answer(req, error)).into()
        }))
        .app_data(web::FormConfig::default().error_handler(|err, _| {
            let (status, code, message) = match &err {
                UrlencodedError::Overflow { limit, .. } => (
                    StatusCode::PAYLOAD_TOO_LARGE,
                    ErrorCode::PayloadTooLarge,
                    format!("the form is larger than {limit} bytes"),
                ),
                UrlencodedError::ContentType => (
                    StatusCode::UNSUPPORTED_MEDIA_TYPE,
                    ErrorCode::UnsupportedMediaType,
                    "send the form as application/x-www-form-urlencoded".to_owned(),
                ),
                other => (
                    StatusCode::BAD_REQUEST,
                    ErrorCode::BadRequest,
                    format!("invalid form: {other}"),
                ),
            };
            let body = ErrorBody::new(code, message);
            InternalError::from_response(err, web_common::error_response(status, &body)).into()
        }))
}

/// A refusal as the client wants it: a page for a browser (which asks for `text/html`),
/// the JSON error body for anything else.
fn answer(req: &HttpRequest, error: LoginError) -> HttpResponse {
    if wants_html(req) {
        PageError(error).error_response()
    } else {
        JsonError(error).error_response()
    }
}

fn status_of(error: &LoginError) -> StatusCode {
    match error {
        LoginError::Denied(_) => StatusCode::FORBIDDEN,
        LoginError::UnknownTeam(_) => StatusCode::NOT_FOUND,
        LoginError::BadRequest(_) | LoginError::Unsupported(_) | LoginError::Pending { .. } => {
            StatusCode::BAD_REQUEST
        }
        LoginError::Unauthenticated(_) => StatusCode::UNAUTHORIZED,
        LoginError::Provider(_) => StatusCode::BAD_GATEWAY,
        // The team's settings, not the server, are missing something: nothing to retry.
        LoginError::NotConfigured { .. } => StatusCode::CONFLICT,
        LoginError::TooManyFailures(_) => StatusCode::TOO_MANY_REQUESTS,
        LoginError::Store(e) if e.is_transient() => StatusCode::SERVICE_UNAVAILABLE,
        LoginError::Store(_) | LoginError::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
    }
}

/// What the person sees: never the internals of a database or internal error.
fn public_message(error: &LoginError) -> String {
    match error {
        LoginError::Store(_) | LoginError::Internal(_) => {
            "sshward could not complete the sign-in because of an internal error; try again later"
                .into()
        }
        other => other.to_string(),
    }
}

/// A browser route's error: an HTML page.
#[derive(Debug, thiserror::Error)]
#[error(transparent)]
struct PageError(LoginError);

impl ResponseError for PageError {
    fn status_code(&self) -> StatusCode {
        status_of(&self.0)
    }

    fn error_response(&self) -> HttpResponse {
        if matches!(self.0, LoginError::Store(_) | LoginError::Internal(_)) {
            log::error!("sign-in: {}", self.0);
        }
        let title = match &self.0 {
            LoginError::Denied(_) => "Sign-in refused",
            _ => "Sign-in failed",
        };
        with_retry_after(
            &self.0,
            page(self.status_code(), title, &public_message(&self.0)),
        )
    }
}

/// An API route's error: the JSON [`ErrorBody`] of every sshward API, with the codes of
/// RFC 6749 and RFC 8628 where a client acts on them (`authorization_pending`,
/// `slow_down`, `invalid_grant`, `access_denied`).
#[derive(Debug, thiserror::Error)]
#[error(transparent)]
struct JsonError(LoginError);

impl ResponseError for JsonError {
    fn status_code(&self) -> StatusCode {
        match &self.0 {
            // RFC 6749 section 5.2: a bad grant is a 400 at the token endpoint.
            LoginError::Denied(Denied::Code) => StatusCode::BAD_REQUEST,
            other => status_of(other),
        }
    }

    fn error_response(&self) -> HttpResponse {
        if matches!(self.0, LoginError::Store(_) | LoginError::Internal(_)) {
            log::error!("sign-in API: {}", self.0);
        }
        let code = match &self.0 {
            LoginError::Pending { slow_down: false } => ErrorCode::AuthorizationPending,
            LoginError::Pending { slow_down: true } => ErrorCode::SlowDown,
            LoginError::Denied(Denied::Code) => ErrorCode::InvalidGrant,
            LoginError::Denied(_) => ErrorCode::AccessDenied,
            LoginError::Unauthenticated(_) => ErrorCode::Unauthorized,
            LoginError::Unsupported(_) => ErrorCode::UnsupportedGrantType,
            LoginError::BadRequest(_) => ErrorCode::BadRequest,
            LoginError::UnknownTeam(_) => ErrorCode::NotFound,
            LoginError::NotConfigured { .. } => ErrorCode::NotConfigured,
            LoginError::Provider(_) => ErrorCode::ProviderError,
            LoginError::TooManyFailures(_) => ErrorCode::TooManyRequests,
            LoginError::Store(e) if e.is_transient() => ErrorCode::Unavailable,
            LoginError::Store(_) | LoginError::Internal(_) => ErrorCode::Internal,
        };
        let mut body = ErrorBody::new(code, public_message(&self.0));
        if let LoginError::Denied(d) = &self.0 {
            body.reason = Some(d.code().to_owned());
        }
        with_retry_after(
            &self.0,
            web_common::error_response(self.status_code(), &body),
        )
    }
}

/// `response` with the `Retry-After` of a refusal for too many failures.
fn with_retry_after(error: &LoginError, mut response: HttpResponse) -> HttpResponse {
    if let LoginError::TooManyFailures(refused) = error {
        let (name, value) = refused.retry_after_header();
        response.headers_mut().insert(name, value);
    }
    response
}

fn escape(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
        .replace('\'', "&#39;")
}

/// A minimal HTML page.
fn page(status: StatusCode, title: &str, message: &str) -> HttpResponse {
    let body = format!(
        "<!doctype html>\n<html><head><meta charset=\"utf-8\"><title>{t} - sshward</title></head>\
         <body><h1>{t}</h1><p>{m}</p></body></html>\n",
        t = escape(title),
        m = escape(message)
    );
    HttpResponse::build(status)
        .insert_header((header::CACHE_CONTROL, "no-store"))
        .content_type("text/html; charset=utf-8")
        .body(body)
}

/// A cookie with the common attributes: HttpOnly, SameSite=Lax, Secure on https.
fn cookie(
    state: &LoginState,
    name: &'static str,
    value: String,
    path: &str,
    max_age: i64,
) -> Cookie<'static> {
    let mut c = Cookie::new(name, value);
    c.set_path(path.to_owned());
    c.set_http_only(true);
    c.set_same_site(SameSite::Lax);
    c.set_secure(state.config().secure_cookies());
    c.set_max_age(CookieDuration::seconds(max_age));
    c
}

/// Encrypts and authenticates `cookie` with the session key.
fn seal(state: &LoginState, cookie: Cookie<'static>) -> Cookie<'static> {
    let mut jar = CookieJar::new();
    jar.private_mut(&state.keys().session).add(cookie);
    jar.delta()
        .next()
        .cloned()
        .unwrap_or_else(|| Cookie::new("", ""))
}

/// Decrypts the cookie `name` of `req`; `None` when absent or not ours.
fn unseal(state: &LoginState, req: &HttpRequest, name: &str) -> Option<String> {
    let raw = req.cookie(name)?;
    let mut jar = CookieJar::new();
    jar.add_original(raw);
    jar.private(&state.keys().session)
        .get(name)
        .map(|c| c.value().to_owned())
}

/// A cookie that removes `name`.
fn removal(state: &LoginState, name: &'static str, path: &str) -> Cookie<'static> {
    let mut c = cookie(state, name, String::new(), path, 0);
    c.make_removal();
    c
}

fn redirect(location: &str) -> actix_web::HttpResponseBuilder {
    let mut r = HttpResponse::Found();
    r.insert_header((header::LOCATION, location.to_owned()))
        .insert_header((header::CACHE_CONTROL, "no-store"));
    r
}

/// Checks where a browser may be sent after signing in: a path on sshward's own origin
/// (the public URL's), never another site. Refused with 400, at `/login`, before anything
/// is stored: a control character (browsers drop a tab or newline, so `/\t/evil.com`
/// becomes `//evil.com`), a backslash (`/\evil.com`), a scheme-relative `//host`, or any
/// value that resolves to another origin.
fn local_return_to(public_url: &str, raw: &str) -> Result<String, LoginError> {
    let refuse =
        || LoginError::BadRequest("return_to must be a path on this server, such as /me".into());
    if !raw.starts_with('/')
        || raw.starts_with("//")
        || raw
            .chars()
            .any(|c| c.is_control() || c.is_whitespace() || c == '\\')
    {
        return Err(refuse());
    }
    let base = openidconnect::url::Url::parse(public_url).map_err(|_| refuse())?;
    let target = base.join(raw).map_err(|_| refuse())?;
    if target.origin() != base.origin() {
        return Err(refuse());
    }
    Ok(raw.to_owned())
}

#[derive(Deserialize)]
struct LoginQuery {
    return_to: Option<String>,
    cli_redirect: Option<String>,
    cli_challenge: Option<String>,
    cli_state: Option<String>,
}

#[utoipa::path(get, path = "/login/{team}", tag = "sign-in",
    params(
        ("team" = String, Path, description = "the team's name"),
        ("return_to" = Option<String>, Query, description = "a path on this server to end at"),
        ("cli_redirect" = Option<String>, Query, description = "the CLI's loopback URL"),
        ("cli_challenge" = Option<String>, Query, description = "the CLI's PKCE challenge"),
        ("cli_state" = Option<String>, Query, description = "the CLI's state"),
    ),
    responses(
        (status = 302, description = "to the identity provider"),
        (status = "default", description = "an error: a page for browsers (Accept: text/html)",
            content(
                (proto::ErrorBody = "application/json"),
                (String = "text/html"),
            )),
    ))]
/// `GET /login/{team}`: starts a sign-in. A refusal is a page for a browser (which asks
/// for `text/html`) and the JSON error body for anything else.
async fn login(
    state: web::Data<LoginState>,
    req: HttpRequest,
    team: web::Path<String>,
    query: web::Query<LoginQuery>,
) -> HttpResponse {
    match start_login(state, team.into_inner(), query.into_inner()).await {
        Ok(response) => response,
        Err(e) => answer(&req, e),
    }
}

/// Whether the client asks for an HTML page (browsers send `Accept: text/html,...`).
fn wants_html(req: &HttpRequest) -> bool {
    req.headers()
        .get(actix_web::http::header::ACCEPT)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|accept| accept.contains("text/html"))
}

async fn start_login(
    state: web::Data<LoginState>,
    slug: String,
    q: LoginQuery,
) -> Result<HttpResponse, LoginError> {
    let cli = match (q.cli_redirect, q.cli_challenge, q.cli_state) {
        (None, None, None) => None,
        (Some(redirect), Some(challenge), Some(state)) => Some(CliRequest {
            redirect,
            challenge,
            state,
        }),
        _ => {
            return Err(LoginError::BadRequest(
                "cli_redirect, cli_challenge and cli_state go together".into(),
            ));
        }
    };
    let return_to = q
        .return_to
        .map(|to| local_return_to(&state.config().public_url, &to))
        .transpose()?;
    let s = state.clone();
    let (url, oauth_state) = state
        .with_provider(move || s.start(&slug, cli, return_to))
        .await?;
    let ttl = i64::try_from(state.config().pending_ttl.as_secs()).unwrap_or(600);
    let binding = seal(
        &state,
        cookie(
            &state,
            LOGIN_COOKIE,
            oauth_state,
            &state.config().path("/callback"),
            ttl,
        ),
    );
    Ok(redirect(&url).cookie(binding).finish())
}

#[utoipa::path(get, path = "/callback", tag = "sign-in",
    params(
        ("code" = Option<String>, Query, description = "the authorization code"),
        ("state" = Option<String>, Query, description = "the state of the sign-in"),
        ("error" = Option<String>, Query, description = "the provider's error"),
        ("error_description" = Option<String>, Query, description = "its explanation"),
    ),
    responses(
        (status = 302, description = "signed in: to the page asked for, or the CLI"),
        (status = "default", description = "a page saying why not", body = String,
            content_type = "text/html"),
    ))]
/// `GET /callback`: completes the flow.
async fn callback(
    state: web::Data<LoginState>,
    req: HttpRequest,
    query: web::Query<Callback>,
) -> HttpResponse {
    let browser_state = unseal(&state, &req, LOGIN_COOKIE);
    let s = state.clone();
    let cb = query.into_inner();
    let outcome = state
        .with_provider(move || Ok(s.finish(&cb, browser_state.as_deref())))
        .await;
    let clear = removal(&state, LOGIN_COOKIE, &state.config().path("/callback"));
    match outcome {
        Ok(Ok(Finished::Web { session, return_to })) => {
            let ttl = (session.exp - time::OffsetDateTime::now_utc().unix_timestamp()).max(0);
            let root = state.config().path("/");
            // Not sealed: the value is a 256-bit random secret that means nothing
            // without the server's session table.
            let session_cookie = cookie(&state, SESSION_COOKIE, session.secret, &root, ttl);
            redirect(&return_to.unwrap_or_else(|| state.config().path("/me")))
                .cookie(clear)
                .cookie(session_cookie)
                .finish()
        }
        Ok(Ok(Finished::Cli { redirect: to })) => redirect(&to).cookie(clear).finish(),
        Ok(Err(failed)) => match failed.cli_redirect {
            Some(to) => redirect(&to).cookie(clear).finish(),
            None => {
                let mut response = PageError(failed.error).error_response();
                if let Err(e) = response.add_cookie(&clear) {
                    log::warn!("could not clear the sign-in cookie: {e}");
                }
                response
            }
        },
        Err(e) => PageError(e).error_response(),
    }
}

#[utoipa::path(post, path = "/logout", tag = "sign-in",
    security(("session" = []), ("access_token" = []), ()),
    responses(
        (status = 200, description = "signed out", body = String, content_type = "text/html"),
        (status = "default", description = "a page saying why not", body = String,
            content_type = "text/html"),
    ))]
/// `POST /logout`: ends the browser's session (and the session of an access token sent
/// as `Authorization: Bearer`) on every instance, and clears the cookie.
async fn logout(state: web::Data<LoginState>, req: HttpRequest) -> HttpResponse {
    let session = web_common::session_cookie(&req);
    let bearer = web_common::bearer_token(&req);
    let s = state.clone();
    let ended = web_common::blocking(move || s.logout(session.as_deref(), bearer.as_deref())).await;
    let mut response = match ended {
        Ok(_) => page(
            StatusCode::OK,
            "Signed out",
            "You are signed out of sshward.",
        ),
        Err(e) => return PageError(e).error_response(),
    };
    if let Err(e) = response.add_cookie(&removal(&state, SESSION_COOKIE, &state.config().path("/")))
    {
        log::warn!("could not clear the session cookie: {e}");
    }
    response
}

#[utoipa::path(get, path = "/me", tag = "sign-in",
    security(("session" = []), ("access_token" = [])),
    responses(
        (status = 200, description = "who is signed in", body = crate::Me),
        (status = "default", description = "an error", body = proto::ErrorBody),
    ))]
/// `GET /me`: who is signed in, by session cookie or `Authorization: Bearer` access token;
/// the user must still exist and be active in the team's directory.
async fn me(state: web::Data<LoginState>, req: HttpRequest) -> Result<HttpResponse, JsonError> {
    let bearer = web_common::bearer_token(&req);
    let attempt = bearer
        .as_deref()
        .map(|token| {
            state
                .failures()
                .admit(web_common::peer_ip(&req), None, token)
        })
        .transpose()
        .map_err(|refused| JsonError(refused.into()))?;
    let session = web_common::session_cookie(&req);
    let s = state.clone();
    let me = web_common::blocking(move || match (bearer, session) {
        (Some(token), _) => s.token_user(&token),
        (None, Some(session)) => s.session_user(&session),
        (None, None) => Err(LoginError::Unauthenticated(
            "not signed in: sign in at /login/{team}, or send an access token from `sshward login`"
                .into(),
        )),
    })
    .await;
    if let Some(attempt) = attempt {
        match &me {
            Ok(_) => attempt.succeeded(),
            Err(LoginError::Unauthenticated(_)) => attempt.failed(),
            Err(_) => {}
        }
    }
    let me = me.map_err(JsonError)?;
    Ok(HttpResponse::Ok()
        .insert_header((header::CACHE_CONTROL, "no-store"))
        .json(me))
}

#[derive(Deserialize, utoipa::ToSchema)]
struct TokenForm {
    grant_type: String,
    code: Option<String>,
    code_verifier: Option<String>,
    device_code: Option<String>,
}

#[utoipa::path(post, path = "/login/token", tag = "sign-in",
    request_body(content = TokenForm, content_type = "application/x-www-form-urlencoded"),
    responses(
        (status = 200, description = "an access token", body = crate::IssuedToken),
        (status = "default", description = "an error", body = proto::ErrorBody),
    ))]
/// `POST /login/token`: the CLI trades a loopback code (with its PKCE verifier) or polls a
/// device sign-in.
async fn token(
    state: web::Data<LoginState>,
    req: HttpRequest,
    form: web::Form<TokenForm>,
) -> Result<HttpResponse, JsonError> {
    let f = form.into_inner();
    // The code or device code is the credential; a wrong one spends the address's budget.
    let attempt = match f.code.as_deref().or(f.device_code.as_deref()) {
        Some(credential) => Some(
            state
                .failures()
                .admit(web_common::peer_ip(&req), None, credential)
                .map_err(|refused| JsonError(refused.into()))?,
        ),
        None => None,
    };
    let s = state.clone();
    let issued = state
        .with_provider(move || match f.grant_type.as_str() {
            "authorization_code" => match (f.code, f.code_verifier) {
                (Some(code), Some(verifier)) => s.redeem_code(&code, &verifier),
                _ => Err(LoginError::BadRequest(
                    "code and code_verifier are required".into(),
                )),
            },
            "urn:ietf:params:oauth:grant-type:device_code" => match f.device_code {
                Some(handle) => s.device_poll(&handle),
                None => Err(LoginError::BadRequest("device_code is required".into())),
            },
            other => Err(LoginError::Unsupported(format!(
                "grant_type {other:?} is not supported"
            ))),
        })
        .await;
    if let Some(attempt) = &attempt {
        match &issued {
            Err(LoginError::Denied(Denied::Code)) => attempt.failed(),
            // A device sign-in in progress: its code is good and polled again.
            Err(LoginError::Pending { .. }) => attempt.succeeded(),
            // A used code is never presented again: nothing to remember.
            _ => {}
        }
    }
    let issued = issued.map_err(JsonError)?;
    Ok(HttpResponse::Ok()
        .insert_header((header::CACHE_CONTROL, "no-store"))
        .json(issued))
}

#[utoipa::path(post, path = "/login/{team}/device", tag = "sign-in",
    params(("team" = String, Path, description = "the team's name")),
    responses(
        (status = 200, description = "the codes to show", body = crate::DeviceStarted),
        (status = "default", description = "an error", body = proto::ErrorBody),
    ))]
/// `POST /login/{team}/device`: starts a device sign-in for a headless CLI.
async fn device_start(
    state: web::Data<LoginState>,
    team: web::Path<String>,
) -> Result<HttpResponse, JsonError> {
    let s = state.clone();
    let slug = team.into_inner();
    let started = state
        .with_provider(move || s.device_start(&slug))
        .await
        .map_err(JsonError)?;
    Ok(HttpResponse::Ok()
        .insert_header((header::CACHE_CONTROL, "no-store"))
        .json(started))
}

#[cfg(test)]
mod tests {
    use super::local_return_to;

    #[test]
    fn return_to_stays_on_this_origin() {
        let public = "https://sshward.example/base";
        for ok in ["/me", "/console/users?q=a%20b", "/a/b#c", "/%2F%2Fevil.com"] {
            assert_eq!(
                local_return_to(public, ok).ok().as_deref(),
                Some(ok),
                "{ok}"
            );
        }
        for bad in [
            "/\t/evil.com",
            "/\n/evil.com",
            "/\r/evil.com",
            "/\u{b}/evil.com",
            "/\0/evil.com",
            "//evil.com",
            "/\\evil.com",
            "https://evil.com/",
            "evil.com",
            "",
            "/ /x",
            "javascript:alert(1)",
        ] {
            assert!(local_return_to(public, bad).is_err(), "{bad:?}");
        }
    }
}
