//! Request paths with repeated or trailing slashes are served as their clean form.
//!
//! An admin who pastes the SCIM Tenant URL with a trailing slash makes Entra ask for
//! `.../default//Users`; a script may ask for `.../Users/`. Both mean the obvious
//! resource. actix-web's `NormalizePath` does the same with a regular expression on every
//! request; here a clean path (nearly every request) is only scanned once.

use actix_web::Error;
use actix_web::body::MessageBody;
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::Uri;
use actix_web::http::uri::PathAndQuery;
use actix_web::middleware::Next;

/// The middleware: `App::new().wrap(actix_web::middleware::from_fn(normalize_path::merge_slashes))`.
pub async fn merge_slashes(
    mut req: ServiceRequest,
    next: Next<impl MessageBody>,
) -> Result<ServiceResponse<impl MessageBody>, Error> {
    if let Some(clean) = clean(req.path()) {
        let mut parts = req.head().uri.clone().into_parts();
        let path_and_query = match parts.path_and_query.as_ref().and_then(PathAndQuery::query) {
            Some(query) => format!("{clean}?{query}"),
            None => clean,
        };
        // The clean path is made of the original's characters, so it parses whenever the
        // original did; should it not, the request goes on unchanged.
        if let Ok(path_and_query) = path_and_query.parse::<PathAndQuery>() {
            parts.path_and_query = Some(path_and_query);
            if let Ok(uri) = Uri::from_parts(parts) {
                req.match_info_mut().get_mut().update(&uri);
                req.head_mut().uri = uri;
            }
        }
    }
    next.call(req).await
}

/// `path` without empty segments, or `None` when it has none.
fn clean(path: &str) -> Option<String> {
    if !path.contains("//") && (path.len() <= 1 || !path.ends_with('/')) {
        return None;
    }
    let mut out = String::with_capacity(path.len());
    for segment in path.split('/').filter(|s| !s.is_empty()) {
        out.push('/');
        out.push_str(segment);
    }
    if out.is_empty() {
        out.push('/');
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::clean;

    #[test]
    fn only_unclean_paths_change() {
        assert_eq!(clean("/scim/v2/default/Users"), None);
        assert_eq!(clean("/"), None);
        assert_eq!(
            clean("/scim/v2/default//Users").as_deref(),
            Some("/scim/v2/default/Users")
        );
        assert_eq!(
            clean("/scim/v2/default/Users/").as_deref(),
            Some("/scim/v2/default/Users")
        );
        assert_eq!(clean("//healthz//").as_deref(), Some("/healthz"));
        assert_eq!(clean("///").as_deref(), Some("/"));
    }
}
