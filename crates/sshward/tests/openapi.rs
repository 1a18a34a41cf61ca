//! `GET /openapi.json` against the real server: the document lists every route (the
//! binary's unit test `every_mounted_route_is_in_the_openapi_document` proves it matches
//! what is mounted), and each route answers a method it does not take with 405, an
//! `Allow` header naming the methods it takes, and the error body of its API: SCIM's on
//! `/scim`, `{"error", "message"}` everywhere else.

use std::collections::{BTreeMap, BTreeSet};

use serde_json::Value;

use crate::support::{Env, agent};

/// The methods a route may take.
const METHODS: [&str; 6] = ["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE"];

/// The document's routes: pattern → methods (upper case).
pub(crate) fn routes(base: &str) -> BTreeMap<String, Vec<String>> {
    let doc = crate::support::get(&format!("{base}/openapi.json"), None);
    assert_eq!(doc.status, 200, "{doc:?}");
    assert!(doc.content_type.starts_with("application/json"), "{doc:?}");
    let doc = doc.json();
    assert!(doc["openapi"].as_str().unwrap().starts_with("3."), "{doc}");
    doc["paths"]
        .as_object()
        .unwrap()
        .iter()
        .map(|(path, item)| {
            let methods = item.as_object().unwrap().keys();
            (path.clone(), methods.map(|m| m.to_uppercase()).collect())
        })
        .collect()
}

/// A path that `pattern` matches, with `team` for `{team}`.
pub(crate) fn concrete(pattern: &str, team: &str) -> String {
    pattern
        .replace("{team}", team)
        .replace("{resource}", "Users")
        .replace("{file}", "user.pub")
        .replace("{id}", "x")
        .replace("{serial}", "1")
}

#[test]
fn undeclared_methods_get_405_with_the_error_body_of_their_api() {
    let env = Env::new();
    let server = env.serve();
    let routes = routes(&server.base);
    assert!(routes.len() > 20, "{routes:?}");
    for (pattern, methods) in &routes {
        let url = format!("{}{}", server.base, concrete(pattern, "default"));
        for method in METHODS.iter().filter(|m| !methods.iter().any(|d| d == *m)) {
            let req = ureq::http::Request::builder()
                .method(*method)
                .uri(&url)
                .body(Vec::new())
                .unwrap();
            let mut res = agent().run(req).unwrap();
            let what = format!("{method} {pattern}");
            assert_eq!(res.status().as_u16(), 405, "{what}");
            // RFC 9110: a 405 names the methods the route does take.
            let allow: BTreeSet<String> = res.headers()["allow"]
                .to_str()
                .unwrap()
                .split(',')
                .map(|m| m.trim().to_owned())
                .collect();
            assert_eq!(allow, methods.iter().cloned().collect(), "{what}: Allow");
            if *method == "HEAD" {
                continue;
            }
            let content_type = res.headers()["content-type"].to_str().unwrap().to_owned();
            if pattern.starts_with("/console") {
                // The console's pages answer with a page.
                assert!(content_type.starts_with("text/html"), "{what}");
                let page = res.body_mut().read_to_string().unwrap();
                assert!(page.contains("takes"), "{what}: {page}");
                continue;
            }
            let body: Value = serde_json::from_str(&res.body_mut().read_to_string().unwrap())
                .unwrap_or_else(|e| panic!("{what}: not JSON: {e}"));
            if pattern.starts_with("/scim/") {
                assert!(content_type.starts_with("application/scim+json"), "{what}");
                assert_eq!(body["status"], "405", "{what}: {body}");
            } else {
                assert!(content_type.starts_with("application/json"), "{what}");
                assert_eq!(body["error"], "method_not_allowed", "{what}: {body}");
                assert!(body["message"].is_string(), "{what}: {body}");
            }
        }
    }
}

/// Every route the document says needs a credential answers 401 without one, before it
/// looks at anything else of the request (an empty body, no query).
#[test]
fn routes_that_need_a_credential_answer_401_first() {
    let env = Env::new();
    let server = env.serve();
    let doc = crate::support::get(&format!("{}/openapi.json", server.base), None).json();
    let mut checked = 0;
    for (pattern, item) in doc["paths"].as_object().unwrap() {
        for (method, operation) in item.as_object().unwrap() {
            let Some(security) = operation["security"].as_array() else {
                continue;
            };
            // `{}` among the alternatives: the credential is optional.
            if security
                .iter()
                .any(|s| s.as_object().is_some_and(|o| o.is_empty()))
            {
                continue;
            }
            let url = format!("{}{}", server.base, concrete(pattern, "default"));
            let method = method.to_uppercase();
            let req = ureq::http::Request::builder()
                .method(method.as_str())
                .uri(&url)
                .header("Content-Type", "application/json")
                .body(b"{}".to_vec())
                .unwrap();
            let no_redirects: ureq::Agent = ureq::Agent::config_builder()
                .http_status_as_error(false)
                .max_redirects(0)
                .build()
                .into();
            let res = no_redirects.run(req).unwrap();
            if pattern.starts_with("/console") {
                // A console page without a console session sends the browser to sign in.
                assert_eq!(res.status().as_u16(), 303, "{method} {pattern}");
                let to = res.headers()["location"].to_str().unwrap();
                assert!(
                    to.ends_with("/console/default/signin"),
                    "{method} {pattern}: {to}"
                );
            } else {
                assert_eq!(res.status().as_u16(), 401, "{method} {pattern}");
            }
            checked += 1;
        }
    }
    assert!(checked > 15, "only {checked} routes need a credential");
}
