//! The agent API itself: joining, credentials and their isolation, errors.

use serde_json::json;

use crate::support::Server;

server_tests!(
    a_join_token_works_once,
    join_tokens_expire_and_confer_only_their_tags,
    credentials_see_only_their_own_host,
    removing_a_host_ends_its_long_poll,
    errors_are_json,
    documents_are_signed_and_agents_report,
);

/// Every document carries a signature by the team's host CA (the key the join answer
/// names) over this host's name, the revision and the exact bytes; an agent's report is
/// taken with its credential only.
fn documents_are_signed_and_agents_report(srv: &Server) {
    use sha2::Digest;
    let token = srv.join_token(&srv.a, &["env=prod"], 600);
    let joined = srv
        .agent(None)
        .post("/join", &json!({"token": token, "hostname": "web-9"}))
        .json();
    let credential = joined["credential"].as_str().unwrap();
    let keys: Vec<ssh_ca::PublicKey> = joined["certificates"]["host_ca_keys"]
        .as_array()
        .unwrap()
        .iter()
        .map(|k| k.as_str().unwrap().parse().unwrap())
        .collect();
    let agent = srv.agent(Some(credential));
    let doc = agent.get("/self/access");
    assert_eq!(doc.status, 200);
    let signature = doc.signature.clone().expect("a signature header");
    let parsed = doc.json();
    let revision = parsed["revision"].as_i64().unwrap();
    let head = proto::json_head(revision, "web-9");
    let rest = doc.body.strip_prefix(&head).expect("the signed form");
    let hex: String = sha2::Sha256::digest(rest.as_bytes())
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    let statement = proto::signed_statement("web-9", revision, &hex);
    ssh_ca::verify_statement(
        &keys,
        proto::SIGNATURE_NAMESPACE,
        statement.as_bytes(),
        &signature,
    )
    .expect("the signature checks");
    let for_other_host = proto::signed_statement("web-1", revision, &hex);
    assert!(
        ssh_ca::verify_statement(
            &keys,
            proto::SIGNATURE_NAMESPACE,
            for_other_host.as_bytes(),
            &signature
        )
        .is_err()
    );

    let report = json!({"agent_version": "0.1.0", "applied_revision": revision});
    assert_eq!(agent.post("/self/status", &report).status, 204);
    assert_eq!(
        srv.agent(None)
            .post("/self/status", &report)
            .agent_error(401),
        "unauthorized"
    );
    assert_eq!(
        agent
            .post("/self/status", &json!({"version": 1}))
            .agent_error(400),
        "bad_request"
    );
    // A report does not change the document.
    let again = agent.get("/self/access");
    assert_eq!(again.etag, doc.etag);
}

fn a_join_token_works_once(srv: &Server) {
    let token = srv.join_token(&srv.a, &["env=prod"], 600);
    let agent = srv.agent(None);
    let first = agent.post(
        "/join",
        &json!({"token": token, "hostname": "Web-1.Example.COM"}),
    );
    assert_eq!(first.status, 201, "{}", first.body);
    let joined = first.json();
    assert_eq!(joined["hostname"], "web-1.example.com");
    assert_eq!(joined["tags"], json!(["env=prod"]));
    let credential = joined["credential"].as_str().expect("credential");
    assert!(
        credential.starts_with("sshwh_") && credential.len() == 6 + 43,
        "{credential}"
    );

    let second = agent.post("/join", &json!({"token": token, "hostname": "web-2"}));
    assert_eq!(second.agent_error(401), "unauthorized");
    // The token as a bearer token works the same way (and is used up too).
    let bearer = srv
        .agent(Some(&token))
        .post("/join", &json!({"hostname": "web-3"}));
    assert_eq!(bearer.agent_error(401), "unauthorized");
    let fresh = srv.join_token(&srv.a, &["env=prod"], 600);
    let ok = srv
        .agent(Some(&fresh))
        .post("/join", &json!({"hostname": "web-3"}));
    assert_eq!(ok.status, 201, "{}", ok.body);

    // Only the digest is stored.
    let stored = srv
        .store
        .read(|tx| tx.hosts().join_tokens(srv.a.id))
        .expect("join tokens");
    assert!(stored.iter().all(|t| t.used.is_some()));
    let host = srv
        .store
        .read(|tx| tx.hosts().authenticate(credential))
        .expect("authenticate")
        .expect("the credential works");
    assert_eq!(stored.last().and_then(|t| t.used_by_host), Some(host.id));
}

fn join_tokens_expire_and_confer_only_their_tags(srv: &Server) {
    let agent = srv.agent(None);
    let expired = srv.join_token(&srv.a, &["env=prod"], -1);
    let reply = agent.post("/join", &json!({"token": expired, "hostname": "web-1"}));
    assert_eq!(reply.agent_error(401), "unauthorized");

    // Asking for a tag the token does not confer fails, and does not use the token up.
    let token = srv.join_token(&srv.a, &["env=staging"], 600);
    let greedy = agent.post(
        "/join",
        &json!({"token": token, "hostname": "web-1", "tags": ["env=prod"]}),
    );
    assert_eq!(greedy.agent_error(403), "forbidden");
    assert!(greedy.body.contains("env=prod"), "{}", greedy.body);
    let modest = agent.post(
        "/join",
        &json!({"token": token, "hostname": "web-1", "tags": ["ENV=staging"]}),
    );
    assert_eq!(modest.status, 201, "{}", modest.body);
    assert_eq!(modest.json()["tags"], json!(["env=staging"]));

    // A second host of the same name is refused.
    let again = srv.join_token(&srv.a, &["env=staging"], 600);
    let duplicate = agent.post("/join", &json!({"token": again, "hostname": "web-1"}));
    assert_eq!(duplicate.agent_error(409), "conflict");
    // The same name in another team is fine.
    srv.join(&srv.b, "web-1", &["env=staging"]);
}

fn credentials_see_only_their_own_host(srv: &Server) {
    let a_scim = srv.scim(&srv.a);
    let b_scim = srv.scim(&srv.b);
    let alice = a_scim.create_user("alice@a.example", "Alice");
    let bob = b_scim.create_user("bob@b.example", "Bob");
    let a_group = a_scim.create_group("ssh-users");
    let b_group = b_scim.create_group("ssh-users");
    a_scim.add_member(&a_group, &alice);
    b_scim.add_member(&b_group, &bob);
    srv.grant(&srv.a, &a_group, "env=prod", "ssh");
    srv.grant(&srv.b, &b_group, "env=prod", "ssh");
    let a_web = srv.join(&srv.a, "web-1", &["env=prod"]);
    let a_db = srv.join(&srv.a, "db-1", &["env=prod", "role=db"]);
    let b_web = srv.join(&srv.b, "web-1", &["env=prod"]);

    let a_doc = srv.agent(Some(&a_web)).get("/self/access");
    assert_eq!(a_doc.usernames(), ["alice"]);
    assert_eq!(a_doc.json()["hostname"], "web-1");
    let b_doc = srv.agent(Some(&b_web)).get("/self/access");
    assert_eq!(b_doc.usernames(), ["bob"]);
    let db_doc = srv.agent(Some(&a_db)).get("/self/access");
    assert_eq!(db_doc.json()["hostname"], "db-1");
    // A host with the same tags gets the same document (one computation, shared) under
    // its own name, in JSON and in its sudoers header.
    let a_web2 = srv.join(&srv.a, "web-2", &["env=prod"]);
    let web2_doc = srv.agent(Some(&a_web2)).get("/self/access");
    let web1_doc = srv.agent(Some(&a_web)).get("/self/access");
    assert_eq!(web2_doc.etag, web1_doc.etag);
    assert_eq!(web2_doc.json()["hostname"], "web-2");
    assert_eq!(web1_doc.json()["hostname"], "web-1");
    assert_eq!(web2_doc.json()["users"], web1_doc.json()["users"]);
    assert_eq!(web2_doc.content_type.as_deref(), Some("application/json"));
    let web2_sudoers = srv.agent(Some(&a_web2)).get("/self/sudoers");
    assert!(
        web2_sudoers
            .body
            .starts_with("# Managed by sshward for web-2:"),
        "{}",
        web2_sudoers.body
    );
    // Tags are part of the entity tag: same team revision, different documents.
    assert_ne!(db_doc.etag, a_doc.etag);
    // Another host's ETag is not this host's.
    let cross = srv.agent(Some(&a_db)).send(
        "GET",
        "/self/access",
        &[("If-None-Match", a_doc.etag.as_deref().unwrap_or(""))],
        None,
    );
    assert_eq!(cross.status, 200);

    // A SCIM token, a join token or garbage is not a host credential.
    for wrong in [srv.a.token.as_str(), "sshwh_nope", ""] {
        let reply = srv.agent(Some(wrong)).get("/self/access");
        assert_eq!(reply.agent_error(401), "unauthorized", "{wrong:?}");
    }
    let none = srv.agent(None).get("/self/principals?user=alice");
    assert_eq!(none.agent_error(401), "unauthorized");

    // A removed host's credential stops working at once.
    srv.remove_host(&srv.a, "web-1");
    let gone = srv.agent(Some(&a_web)).get("/self/access");
    assert_eq!(gone.agent_error(401), "unauthorized");
    assert_eq!(
        srv.agent(Some(&b_web)).get("/self/access").usernames(),
        ["bob"]
    );
}

fn errors_are_json(srv: &Server) {
    let agent = srv.agent(None);
    let cases = [
        ("POST", "/join", Some(json!({"hostname": 5})), 400),
        (
            "POST",
            "/join",
            Some(json!({"token": "x", "hostname": "bad host"})),
            400,
        ),
        (
            "POST",
            "/join",
            Some(json!({"token": "x", "hostname": "h", "tags": ["noequals"]})),
            400,
        ),
        (
            "POST",
            "/join",
            Some(json!({"token": "x", "hostname": "h", "extra": 1})),
            400,
        ),
        ("POST", "/join", Some(json!({"hostname": "h"})), 401),
        ("GET", "/nope", None, 404),
        ("DELETE", "/join", None, 405),
    ];
    for (method, path, body, status) in cases {
        let reply = agent.send(method, path, &[], body.as_ref());
        assert_eq!(reply.status, status, "{method} {path}: {}", reply.body);
        assert_eq!(
            reply.content_type.as_deref(),
            Some("application/json"),
            "{method} {path}"
        );
        assert!(reply.json()["message"].is_string());
    }
    let host = srv.join(&srv.a, "web-1", &[]);
    let client = srv.agent(Some(&host));
    assert_eq!(
        client.get("/self/access?wait=soon").agent_error(400),
        "bad_request"
    );
    assert_eq!(
        client.get("/self/principals").agent_error(400),
        "bad_request"
    );
    let raw = client.send("POST", "/join", &[], None);
    assert_eq!(raw.agent_error(400), "bad_request");
}

fn removing_a_host_ends_its_long_poll(srv: &Server) {
    let credential = srv.join(&srv.a, "web-1", &["env=prod"]);
    let first = srv.agent(Some(&credential)).get("/self/access");
    let etag = first.etag.clone().expect("an ETag");
    // `*` matches the current document: a 304 that names the current tag.
    let star =
        srv.agent(Some(&credential))
            .send("GET", "/self/access", &[("If-None-Match", "*")], None);
    assert_eq!(
        (star.status, star.etag.as_deref()),
        (304, Some(etag.as_str()))
    );
    let started = std::time::Instant::now();
    let poll = srv.long_poll(&credential, &etag);
    std::thread::sleep(std::time::Duration::from_millis(500));
    srv.remove_host(&srv.a, "web-1");
    let (status, body, answered) = poll.join().expect("the poll thread");
    let elapsed = answered.duration_since(started);
    assert_eq!(status, 401, "{body}");
    assert!(elapsed < std::time::Duration::from_secs(5), "{elapsed:?}");
}
