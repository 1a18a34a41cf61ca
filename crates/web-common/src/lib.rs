//! The pieces of the HTTP edge that every sshward web crate (SCIM, sign-in, agent API,
//! console) needs and that must behave the same everywhere: reading a bearer token,
//! matching `If-None-Match`, running blocking database work off the async workers,
//! answering errors with the one JSON body of [`proto::ErrorBody`], and limiting failed
//! authentications ([`failures`]).
//!
//! No routes and no rules live here; crates that serve routes depend on this one, never
//! on each other.

mod api_error;
pub mod failures;

use std::fmt;
use std::net::IpAddr;
use std::str::FromStr;

use actix_web::http::StatusCode;
use actix_web::http::header::{self, EntityTag, Header, IfNoneMatch};
use actix_web::{HttpRequest, HttpResponse, web};
use proto::ErrorBody;

pub use api_error::ApiError;
pub use failures::{Attempt, FailureLimiter, FailureLimits, Refused};

/// The token of an `Authorization: Bearer <token>` header, if the request has one. The
/// scheme is matched without regard to case, as RFC 7235 section 2.1 says (`bearer`,
/// `BEARER`); surrounding whitespace is ignored; an empty token counts as none.
pub fn bearer_token(req: &HttpRequest) -> Option<String> {
    let value = req.headers().get(header::AUTHORIZATION)?.to_str().ok()?;
    parse_bearer(value).map(str::to_owned)
}

/// [`bearer_token`] of a header value.
fn parse_bearer(value: &str) -> Option<&str> {
    let (scheme, token) = value.trim().split_once([' ', '\t'])?;
    let token = token.trim();
    (scheme.eq_ignore_ascii_case("bearer") && !token.is_empty()).then_some(token)
}

/// Name of the sign-in session cookie (set by the sign-in routes after an Entra sign-in):
/// its value is the session's random secret.
pub const SESSION_COOKIE: &str = "sshward_session";

/// The value of the sign-in session cookie of `req`, if it has a non-empty one.
pub fn session_cookie(req: &HttpRequest) -> Option<String> {
    req.cookie(SESSION_COOKIE)
        .map(|c| c.value().to_owned())
        .filter(|v| !v.is_empty())
}

/// The address failed authentications of `req` are counted against: its TCP peer.
/// Forwarded-for headers are not read; any client could send them.
pub fn peer_ip(req: &HttpRequest) -> Option<IpAddr> {
    req.peer_addr().map(|a| a.ip())
}

/// A request's `If-None-Match`, parsed once (it can be moved into blocking work that
/// learns the current entity tag only from the database).
#[derive(Clone, Debug, Default)]
pub struct NoneMatch(Option<IfNoneMatch>);

impl NoneMatch {
    /// The `If-None-Match` of `req`; an absent or malformed header matches nothing, so
    /// the client gets the full answer.
    pub fn of(req: &HttpRequest) -> NoneMatch {
        if req.headers().contains_key(header::IF_NONE_MATCH) {
            NoneMatch(IfNoneMatch::parse(req).ok())
        } else {
            NoneMatch(None)
        }
    }

    /// True if the header names `etag` (an entity tag as sent in `ETag`, quoted,
    /// optionally weak): `*`, or a list holding it, compared weakly as RFC 9110 section
    /// 13.1.2 prescribes for `If-None-Match`.
    pub fn matches(&self, etag: &str) -> bool {
        let Ok(current) = EntityTag::from_str(etag) else {
            return false;
        };
        match &self.0 {
            Some(IfNoneMatch::Any) => true,
            Some(IfNoneMatch::Items(tags)) => tags.iter().any(|t| t.weak_eq(&current)),
            None => false,
        }
    }
}

/// A blocking task that never finished: its thread pool shut down or the task panicked.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct BlockingFailed;

impl fmt::Display for BlockingFailed {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a blocking task did not finish (pool shut down or task panicked)")
    }
}

impl std::error::Error for BlockingFailed {}

/// Runs blocking work (diesel) on actix's blocking thread pool and returns its result.
/// Every database call of a request handler goes through here, so the async workers
/// never wait on the database.
pub async fn blocking<T, E, F>(f: F) -> Result<T, E>
where
    F: FnOnce() -> Result<T, E> + Send + 'static,
    T: Send + 'static,
    E: From<BlockingFailed> + Send + 'static,
{
    web::block(f).await.map_err(|_| E::from(BlockingFailed))?
}

/// An error answer: `status` with `body` as JSON, never cached.
pub fn error_response(status: StatusCode, body: &ErrorBody) -> HttpResponse {
    HttpResponse::build(status)
        .insert_header((header::CACHE_CONTROL, "no-store"))
        .json(body)
}

/// The default service of a resource that takes only the methods `allow` lists (e.g.
/// `"GET, HEAD"`): 405 with that `Allow` header (RFC 9110 section 15.5.6) and the JSON
/// error body (actix's own answer has neither).
pub fn method_not_allowed(allow: &'static str) -> actix_web::Route {
    web::to(move |req: HttpRequest| async move {
        let body = ErrorBody::new(
            proto::ErrorCode::MethodNotAllowed,
            format!("{} takes {allow}, not {}", req.path(), req.method()),
        );
        let mut res = error_response(StatusCode::METHOD_NOT_ALLOWED, &body);
        res.headers_mut()
            .insert(header::ALLOW, header::HeaderValue::from_static(allow));
        res
    })
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use actix_web::test::TestRequest;

    #[test]
    fn bearer_scheme_is_case_insensitive() {
        for (value, expected) in [
            ("Bearer abc", Some("abc")),
            ("bearer abc", Some("abc")),
            ("BEARER  abc ", Some("abc")),
            ("  Bearer\tabc", Some("abc")),
            ("Bearer", None),
            ("Bearer ", None),
            ("Basic YWxhZGRpbjpvcGVu", None),
            ("Bearerabc", None),
            ("", None),
        ] {
            assert_eq!(parse_bearer(value), expected, "{value:?}");
        }
        let req = TestRequest::default()
            .insert_header((header::AUTHORIZATION, "bEaReR s3cret"))
            .to_http_request();
        assert_eq!(bearer_token(&req).as_deref(), Some("s3cret"));
        assert_eq!(
            bearer_token(&TestRequest::default().to_http_request()),
            None
        );
    }

    fn matches(header_value: Option<&str>, etag: &str) -> bool {
        let mut req = TestRequest::default();
        if let Some(v) = header_value {
            req = req.insert_header((header::IF_NONE_MATCH, v));
        }
        NoneMatch::of(&req.to_http_request()).matches(etag)
    }

    #[test]
    fn if_none_match_compares_weakly() {
        assert!(matches(Some("\"r7-ab\""), "\"r7-ab\""));
        assert!(matches(Some("W/\"3\""), "W/\"3\""));
        assert!(matches(Some("\"3\""), "W/\"3\""));
        assert!(matches(Some("W/\"3\""), "\"3\""));
        assert!(matches(Some("\"a\", \"r7-ab\""), "\"r7-ab\""));
        assert!(matches(Some("*"), "\"anything\""));
        assert!(!matches(Some("\"r8-ab\""), "\"r7-ab\""));
        assert!(!matches(None, "\"r7-ab\""));
        // Malformed: the client gets the full answer.
        assert!(!matches(Some("r7-ab"), "\"r7-ab\""));
        assert!(!matches(Some("\"unterminated"), "\"unterminated\""));
    }

    #[derive(Debug, PartialEq)]
    enum Failure {
        Work(&'static str),
        Pool,
    }

    impl From<BlockingFailed> for Failure {
        fn from(_: BlockingFailed) -> Self {
            Failure::Pool
        }
    }

    #[actix_rt::test]
    async fn blocking_returns_the_work_result() {
        assert_eq!(blocking(|| Ok::<_, Failure>(41 + 1)).await, Ok(42));
        assert_eq!(
            blocking(|| Err::<(), _>(Failure::Work("no"))).await,
            Err(Failure::Work("no"))
        );
    }
}
