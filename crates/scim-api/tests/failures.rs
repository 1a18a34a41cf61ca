//! Failed token checks are limited per address and per team (`web_common::failures`):
//! beyond the budget a request gets 429 with `Retry-After` and a SCIM error before its
//! token is checked, while a token that authenticated is never refused and valid requests
//! never spend anything.

use std::time::Duration;

use crate::support::*;
use web_common::FailureLimits;

scim_tests!(
    wrong_tokens_from_one_address_are_limited,
    valid_tokens_are_never_limited,
    #[failures = super::TEAM_ONLY]
    wrong_tokens_for_one_team_are_limited,
);

/// No limit per address, 5 failures per team.
const TEAM_ONLY: FailureLimits = FailureLimits {
    per_address: 0,
    per_team: 5,
    window: Duration::from_secs(60),
};

/// Asserts a 429 SCIM error whose `Retry-After` is 1 to `max` seconds; its detail.
fn assert_limited(reply: &Reply, max: u64) -> String {
    let body = reply.error(429, None);
    let retry: u64 = reply
        .header("retry-after")
        .expect("a Retry-After header")
        .parse()
        .expect("Retry-After in seconds");
    assert!((1..=max).contains(&retry), "Retry-After: {retry}");
    body["detail"].as_str().unwrap().to_owned()
}

/// A client of team A sending the wrong token number `i`.
fn guess(srv: &Server, i: usize) -> Client {
    srv.client(&srv.a, Some(&format!("sshw_guess{i}")))
}

fn wrong_tokens_from_one_address_are_limited(srv: &Server) {
    // Team A's token authenticates before the guessing starts.
    srv.a().get("/Users").ok(200);
    // The default budget: 30 failures from one address, then one every 2 s.
    for i in 0..30 {
        guess(srv, i).get("/Users").error(401, None);
    }
    let detail = assert_limited(&guess(srv, 30).get("/Users"), 2);
    assert!(detail.contains("from your address"), "{detail}");
    assert_limited(
        &guess(srv, 31).post("/Users", &entra_user("x@contoso.example")),
        2,
    );
    // Team B's token has not authenticated from anywhere yet: it waits for the refill
    // like any other credential from this address.
    assert_limited(&srv.b().get("/Users"), 2);
    // Team A's token, which authenticated, is still served: reads and writes.
    srv.a().get("/Users").ok(200);
    srv.a().create_user("still@contoso.example");
    // A request without a token spends nothing and is answered as before.
    srv.client(&srv.a, None).get("/Users").error(401, None);
    // After the refill interval, one more failure is checked (and refused), then 429.
    std::thread::sleep(Duration::from_millis(2100));
    guess(srv, 32).get("/Users").error(401, None);
    assert_limited(&guess(srv, 33).get("/Users"), 2);
}

fn valid_tokens_are_never_limited(srv: &Server) {
    // Far more requests than any budget, faster than Entra sends them, from one address.
    let a = srv.a();
    for i in 0..200 {
        let filter = encode(&format!("userName eq \"probe-{i}@contoso.example\""));
        a.get(&format!("/Users?filter={filter}")).ok(200);
    }
    for i in 0..50 {
        a.create_user(&format!("u{i}@contoso.example"));
    }
    // None of it was spent: the address still has its whole budget of failures.
    for i in 0..30 {
        guess(srv, i).get("/Users").error(401, None);
    }
    assert_limited(&guess(srv, 30).get("/Users"), 2);
}

fn wrong_tokens_for_one_team_are_limited(srv: &Server) {
    srv.a().get("/Users").ok(200);
    // No limit per address here: the team's budget of 5 stops the guessing.
    for i in 0..5 {
        guess(srv, i).get("/Users").error(401, None);
    }
    let detail = assert_limited(&guess(srv, 5).get("/Users"), 12);
    assert!(detail.contains("for this team"), "{detail}");
    // Another team has a budget of its own.
    let wrong_b = srv.client(&srv.b, Some("sshw_guess-b"));
    for _ in 0..5 {
        wrong_b.get("/Groups").error(401, None);
    }
    assert_limited(&wrong_b.get("/Groups"), 12);
    // The tokens that authenticated are served.
    srv.a().get("/Users").ok(200);
    srv.a().create_user("still@contoso.example");
}
