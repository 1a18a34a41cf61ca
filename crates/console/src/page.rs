//! Rendering: the frame every page shares ([`Chrome`]), the one place where errors
//! become pages ([`PageError`]), and the response headers of every console answer.

use actix_web::http::{StatusCode, header};
use actix_web::{HttpResponse, ResponseError};
use app::{AppError, ConsoleAdmin};
use askama::Template;

use crate::ConsoleConfig;

/// Sent with every console answer: no script, style or image from anywhere but the
/// console itself, no inline script, no plugins, no framing, forms only to ourselves.
pub(crate) const CONTENT_SECURITY_POLICY: &str = "default-src 'none'; script-src 'self'; \
     style-src 'self'; img-src 'self'; connect-src 'self'; form-action 'self'; \
     frame-ancestors 'none'; base-uri 'none'";

/// Where the static files are, for error pages (which are made without the state): set
/// once when the console is mounted (one public URL per process).
pub(crate) static STATIC_BASE: std::sync::OnceLock<String> = std::sync::OnceLock::new();

/// The parts of the frame around every page: who is signed in, the team, where links go.
#[derive(Clone, Debug, Default)]
pub(crate) struct Chrome {
    /// Path of the team's console (`/console/acme`).
    pub base: String,
    /// Path of the static files.
    pub static_base: String,
    /// The team's display name.
    pub team_name: String,
    /// Who is signed in (empty on pages before sign-in).
    pub admin: String,
    /// The session's CSRF token, for the forms of the page.
    pub csrf: String,
    /// Which navigation entry is current.
    pub section: &'static str,
}

impl Chrome {
    /// The frame of a page for someone not (yet) signed in to team `team`.
    pub fn anonymous(config: &ConsoleConfig, team: &str) -> Chrome {
        Chrome {
            base: config.path(&format!("/console/{team}")),
            static_base: config.path("/console/static"),
            team_name: app::display::printable(team),
            ..Chrome::default()
        }
    }

    /// The frame of a page of `admin`'s team.
    pub fn signed(
        config: &ConsoleConfig,
        admin: &ConsoleAdmin,
        csrf: String,
        section: &'static str,
    ) -> Chrome {
        Chrome {
            base: config.path(&format!("/console/{}", admin.team.slug)),
            static_base: config.path("/console/static"),
            team_name: app::display::printable(&admin.team.display_name),
            admin: app::display::printable(&admin.name),
            csrf,
            section,
        }
    }

    /// The navigation: (section, label, path under the team).
    pub fn nav(&self) -> &'static [(&'static str, &'static str, &'static str)] {
        &[
            ("overview", "Overview", ""),
            ("identity", "Identity provider", "/identity"),
            ("scim", "SCIM", "/scim"),
            ("log", "Provisioning log", "/log"),
            ("users", "Users", "/users"),
            ("groups", "Groups", "/groups"),
            ("hosts", "Hosts", "/hosts"),
            ("grants", "Grants", "/grants"),
            ("certificates", "Certificates", "/certificates"),
            ("audit", "Audit log", "/audit"),
        ]
    }
}

/// A rendered page with `status`.
pub(crate) fn html(status: StatusCode, body: String) -> HttpResponse {
    HttpResponse::build(status)
        .content_type("text/html; charset=utf-8")
        .body(body)
}

/// Renders `page` with 200.
pub(crate) fn render(page: &impl Template) -> Result<HttpResponse, PageError> {
    render_with(StatusCode::OK, page)
}

/// Renders `page` with `status`.
pub(crate) fn render_with(
    status: StatusCode,
    page: &impl Template,
) -> Result<HttpResponse, PageError> {
    let body = page
        .render()
        .map_err(|e| PageError::Internal(format!("template: {e}")))?;
    Ok(html(status, body))
}

/// A `303 See Other` to `location` (after a form: the browser then GETs it).
pub(crate) fn see_other(location: &str) -> HttpResponse {
    HttpResponse::SeeOther()
        .insert_header((header::LOCATION, location.to_owned()))
        .finish()
}

/// Why a console request failed; each becomes a page (or a redirect to sign-in).
#[derive(Debug, thiserror::Error)]
pub(crate) enum PageError {
    /// Not signed in to this team's console: go to its sign-in page.
    #[error("sign in to the console")]
    SignIn {
        /// Path of the sign-in page.
        to: String,
    },
    /// The form is malformed or a value is invalid.
    #[error("{0}")]
    BadRequest(String),
    /// The form did not come from this console page (CSRF token or origin).
    #[error("{0}")]
    Forged(&'static str),
    /// Signed in but not allowed.
    #[error("{0}")]
    Forbidden(String),
    /// No such page or thing.
    #[error("{0}")]
    NotFound(String),
    /// The action conflicts with the current state.
    #[error("{0}")]
    Conflict(String),
    /// The page does not take this method.
    #[error("{0}")]
    MethodNotAllowed(String),
    /// Too many failed sign-in attempts from this address.
    #[error("too many failed attempts; try again in {0} seconds")]
    TooManyFailures(u64),
    /// The database is unavailable for a moment.
    #[error("the database is unavailable; try again in a moment")]
    Unavailable,
    /// The server's fault.
    #[error("{0}")]
    Internal(String),
}

impl From<AppError> for PageError {
    fn from(err: AppError) -> Self {
        match err {
            AppError::Invalid(m) => PageError::BadRequest(m),
            AppError::NotFound(m) => PageError::NotFound(m),
            AppError::Conflict(m) => PageError::Conflict(m),
            AppError::Unauthorized(m) => PageError::Forbidden(m.to_owned()),
            AppError::Forbidden(m) => PageError::Forbidden(m),
            AppError::Store(e) if e.is_transient() => PageError::Unavailable,
            AppError::Store(e) => PageError::Internal(format!("database: {e}")),
            AppError::Internal(m) => PageError::Internal(m),
        }
    }
}

impl From<web_common::BlockingFailed> for PageError {
    fn from(_: web_common::BlockingFailed) -> Self {
        PageError::Internal("the blocking thread pool failed".into())
    }
}

#[derive(Template)]
#[template(path = "error.html")]
struct ErrorPage<'a> {
    c: Chrome,
    title: &'a str,
    message: String,
}

impl ResponseError for PageError {
    fn status_code(&self) -> StatusCode {
        match self {
            PageError::SignIn { .. } => StatusCode::SEE_OTHER,
            PageError::BadRequest(_) => StatusCode::BAD_REQUEST,
            PageError::Forged(_) | PageError::Forbidden(_) => StatusCode::FORBIDDEN,
            PageError::NotFound(_) => StatusCode::NOT_FOUND,
            PageError::Conflict(_) => StatusCode::CONFLICT,
            PageError::MethodNotAllowed(_) => StatusCode::METHOD_NOT_ALLOWED,
            PageError::TooManyFailures(_) => StatusCode::TOO_MANY_REQUESTS,
            PageError::Unavailable => StatusCode::SERVICE_UNAVAILABLE,
            PageError::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    fn error_response(&self) -> HttpResponse {
        if let PageError::SignIn { to } = self {
            return see_other(to);
        }
        let title = match self {
            PageError::BadRequest(_) => "That did not work",
            PageError::Forged(_) => "Refused",
            PageError::Forbidden(_) => "Not allowed",
            PageError::NotFound(_) => "Not found",
            PageError::Conflict(_) => "Conflict",
            PageError::MethodNotAllowed(_) => "Not here",
            PageError::TooManyFailures(_) => "Too many attempts",
            _ => "Something went wrong",
        };
        let message = match self {
            PageError::Internal(m) => {
                log::error!("console: {m}");
                "sshward could not complete this because of an internal error; see its log"
                    .to_owned()
            }
            other => app::display::printable(&other.to_string()),
        };
        let page = ErrorPage {
            c: Chrome {
                static_base: STATIC_BASE
                    .get()
                    .cloned()
                    .unwrap_or_else(|| "/console/static".into()),
                ..Chrome::default()
            },
            title,
            message,
        };
        let body = page
            .render()
            .unwrap_or_else(|_| "sshward: the error page failed to render".to_owned());
        let mut response = html(self.status_code(), body);
        if let PageError::TooManyFailures(secs) = self
            && let Ok(value) = header::HeaderValue::from_str(&secs.to_string())
        {
            response.headers_mut().insert(header::RETRY_AFTER, value);
        }
        response
    }
}
