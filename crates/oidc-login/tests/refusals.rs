//! How the sign-in routes refuse what they cannot serve, without any identity provider:
//! every `/login/token` error is the JSON error body (actix's own are `text/plain`),
//! query string errors are JSON or a page, wrong codes and access tokens are limited per
//! address (429 with `Retry-After`), and a team without sign-in is a 409.

use serde_json::Value;

use crate::support::{Server, TEAM, agent};

/// A server whose team trusts an issuer nobody answers at: none of these requests
/// reaches the provider.
fn server() -> Server {
    Server::start("http://127.0.0.1:9")
}

/// An answer: status, `Content-Type`, `Retry-After` and body.
struct Answer {
    status: u16,
    content_type: String,
    retry_after: Option<String>,
    body: String,
}

impl Answer {
    fn of(response: Result<ureq::http::Response<ureq::Body>, ureq::Error>) -> Answer {
        let mut r = response.expect("an HTTP answer");
        let header = |name: &str| {
            r.headers()
                .get(name)
                .and_then(|v| v.to_str().ok())
                .map(str::to_owned)
        };
        let (content_type, retry_after) = (header("content-type"), header("retry-after"));
        Answer {
            status: r.status().as_u16(),
            content_type: content_type.unwrap_or_default(),
            retry_after,
            body: r.body_mut().read_to_string().unwrap_or_default(),
        }
    }

    /// Asserts `status` with the JSON error body; its code.
    fn error(&self, status: u16) -> String {
        assert_eq!(self.status, status, "{}", self.body);
        assert_eq!(self.content_type, "application/json", "{}", self.body);
        let body: Value = serde_json::from_str(&self.body).expect("a JSON body");
        assert!(body["message"].is_string(), "{body}");
        body["error"].as_str().expect("an error code").to_owned()
    }

    /// Asserts a 429 `too_many_requests` with a `Retry-After` of 1 or 2 seconds.
    fn limited(&self) {
        assert_eq!(self.error(429), "too_many_requests");
        let retry: u64 = self
            .retry_after
            .as_deref()
            .expect("a Retry-After header")
            .parse()
            .expect("seconds");
        assert!((1..=2).contains(&retry), "Retry-After: {retry}");
    }
}

fn token_form(server: &Server, pairs: &[(&str, &str)]) -> Answer {
    let url = format!("{}/login/token", server.origin);
    Answer::of(agent().post(url).send_form(pairs.iter().copied()))
}

fn wrong_code(server: &Server, i: usize) -> Answer {
    let code = format!("wrong-{i}");
    if i.is_multiple_of(2) {
        token_form(
            server,
            &[
                ("grant_type", "authorization_code"),
                ("code", &code),
                ("code_verifier", "v"),
            ],
        )
    } else {
        token_form(
            server,
            &[
                ("grant_type", "urn:ietf:params:oauth:grant-type:device_code"),
                ("device_code", &code),
            ],
        )
    }
}

fn me_with(server: &Server, token: &str) -> Answer {
    Answer::of(
        agent()
            .get(format!("{}/me", server.origin))
            .header("Authorization", format!("Bearer {token}"))
            .call(),
    )
}

#[test]
fn token_endpoint_errors_are_json() {
    let server = server();
    let url = format!("{}/login/token", server.origin);
    let missing = token_form(&server, &[("code", "x")]);
    assert_eq!(missing.error(400), "bad_request");
    assert!(missing.body.contains("grant_type"), "{}", missing.body);
    let json = Answer::of(
        agent()
            .post(&url)
            .header("Content-Type", "application/json")
            .send("{\"grant_type\": \"authorization_code\"}"),
    );
    assert_eq!(json.error(415), "unsupported_media_type");
    let no_body = Answer::of(agent().post(&url).send_empty());
    assert_eq!(no_body.error(415), "unsupported_media_type");
    let large = "a".repeat(20_000);
    let too_large = token_form(
        &server,
        &[("grant_type", "authorization_code"), ("code", &large)],
    );
    assert_eq!(too_large.error(413), "payload_too_large");
    let unknown = token_form(&server, &[("grant_type", "password")]);
    assert_eq!(unknown.error(400), "unsupported_grant_type");
}

#[test]
fn query_string_errors_are_json_or_a_page() {
    let server = server();
    let twice = format!("{}/login/{TEAM}?return_to=/a&return_to=/b", server.origin);
    let json = Answer::of(agent().get(&twice).call());
    assert_eq!(json.error(400), "bad_request");
    assert!(json.body.contains("return_to"), "{}", json.body);
    for url in [twice, format!("{}/callback?state=a&state=b", server.origin)] {
        let page = Answer::of(agent().get(&url).header("Accept", "text/html").call());
        assert_eq!(page.status, 400, "{url}: {}", page.body);
        assert!(page.content_type.starts_with("text/html"), "{url}");
        assert!(page.body.contains("invalid query string"), "{}", page.body);
    }
}

#[test]
fn wrong_codes_are_limited_per_address() {
    let server = server();
    // Loopback codes and device codes share the address's budget of 30.
    for i in 0..30 {
        assert_eq!(wrong_code(&server, i).error(400), "invalid_grant", "{i}");
    }
    wrong_code(&server, 30).limited();
    wrong_code(&server, 31).limited();
    // So do access tokens.
    me_with(&server, "not.a.token").limited();
    // Requests without a credential are not limited and spend nothing.
    let missing = token_form(&server, &[("grant_type", "authorization_code")]);
    assert_eq!(missing.error(400), "bad_request");
    let anonymous = Answer::of(agent().get(format!("{}/me", server.origin)).call());
    assert_eq!(anonymous.error(401), "unauthorized");
}

#[test]
fn wrong_access_tokens_at_me_are_limited() {
    let server = server();
    for i in 0..30 {
        assert_eq!(
            me_with(&server, &format!("wrong.{i}.x")).error(401),
            "unauthorized"
        );
    }
    me_with(&server, "wrong.30.x").limited();
    wrong_code(&server, 0).limited();
}

#[test]
fn a_team_without_sign_in_is_a_conflict_not_an_outage() {
    let server = server();
    server
        .store
        .write(|tx| tx.teams().create("plain", "No sign-in yet").map(|_| ()))
        .expect("create a team");
    let url = format!("{}/login/plain", server.origin);
    let json = Answer::of(agent().get(&url).call());
    assert_eq!(json.error(409), "not_configured");
    assert!(
        json.body
            .contains("sign-in is not configured for team \\\"plain\\\""),
        "{}",
        json.body
    );
    let page = Answer::of(agent().get(&url).header("Accept", "text/html").call());
    assert_eq!(page.status, 409, "{}", page.body);
    assert!(page.content_type.starts_with("text/html"));
    assert!(
        page.body.contains("sign-in is not configured"),
        "{}",
        page.body
    );
    let device = Answer::of(agent().post(format!("{url}/device")).send_empty());
    assert_eq!(device.error(409), "not_configured");
    // A team that does not exist is still a 404.
    let unknown = Answer::of(agent().get(format!("{}/login/nope", server.origin)).call());
    assert_eq!(unknown.error(404), "not_found");
}
