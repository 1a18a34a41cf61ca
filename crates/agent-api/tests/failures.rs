//! Wrong host credentials and join tokens are limited per address
//! (`web_common::failures`): beyond the budget, 429 with `Retry-After` before the
//! credential is checked; a host that authenticated is never refused.

use std::time::Duration;

use crate::support::*;
use serde_json::json;

server_tests!(
    wrong_credentials_and_join_tokens_are_limited,
    valid_hosts_are_never_limited,
);

/// Asserts a 429 `too_many_requests` whose `Retry-After` is 1 or 2 seconds.
fn assert_limited(reply: &Reply) {
    assert_eq!(reply.agent_error(429), "too_many_requests", "{reply:?}");
    let retry: u64 = reply
        .retry_after
        .as_deref()
        .expect("a Retry-After header")
        .parse()
        .expect("Retry-After in seconds");
    assert!((1..=2).contains(&retry), "Retry-After: {retry}");
}

fn join_with(srv: &Server, token: &str, hostname: &str) -> Reply {
    srv.agent(None).post(
        "/join",
        &json!({"token": token, "hostname": hostname, "tags": ["env=prod"]}),
    )
}

fn wrong_credentials_and_join_tokens_are_limited(srv: &Server) {
    let credential = srv.join(&srv.a, "web-1", &["env=prod"]);
    let host = srv.agent(Some(&credential));
    assert_eq!(host.get("/self/access").status, 200);
    let spare = srv.join_token(&srv.a, &["env=prod"], 600);
    // Wrong host credentials and wrong join tokens spend one budget: 30 per address.
    for i in 0..20 {
        let wrong = srv.agent(Some(&format!("sshwh_wrong{i}")));
        assert_eq!(wrong.get("/self/access").agent_error(401), "unauthorized");
    }
    for i in 0..10 {
        let reply = join_with(srv, &format!("sshwj_wrong{i}"), &format!("h{i}"));
        assert_eq!(reply.agent_error(401), "unauthorized");
    }
    // Refused now without a check, on every route that takes a credential.
    let wrong = srv.agent(Some("sshwh_wrong"));
    assert_limited(&wrong.get("/self/sudoers"));
    assert_limited(&wrong.get("/self/krl"));
    assert_limited(&join_with(srv, "sshwj_wrong", "h99"));
    // A valid join token has not authenticated yet: it waits for the refill.
    assert_limited(&join_with(srv, &spare, "web-2"));
    // The host that authenticated is served as before.
    assert_eq!(host.get("/self/access").status, 200);
    assert_eq!(host.get("/self/principals?user=nobody").status, 200);
    assert_eq!(host.get("/self/sudoers").status, 200);
    // A request without a credential spends nothing and is answered 401 as before.
    assert_eq!(
        srv.agent(None).get("/self/access").agent_error(401),
        "unauthorized"
    );
    // One failure is restored every 2 s: the spare token joins then.
    std::thread::sleep(Duration::from_millis(2100));
    assert_eq!(join_with(srv, &spare, "web-2").status, 201);
}

fn valid_hosts_are_never_limited(srv: &Server) {
    let credential = srv.join(&srv.a, "web-1", &["env=prod"]);
    let host = srv.agent(Some(&credential));
    let etag = host.get("/self/access").etag.expect("an ETag");
    for _ in 0..300 {
        let reply = host.send("GET", "/self/access", &[("If-None-Match", &etag)], None);
        assert_eq!(reply.status, 304, "{reply:?}");
    }
    // None of it was spent: the address still has its whole budget.
    for i in 0..30 {
        let wrong = srv.agent(Some(&format!("sshwh_wrong{i}")));
        assert_eq!(wrong.get("/self/access").agent_error(401), "unauthorized");
    }
    assert_limited(&srv.agent(Some("sshwh_wrong")).get("/self/access"));
}
