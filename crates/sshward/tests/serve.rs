//! `sshward serve`: first run, Entra's Test Connection, later runs, health, metrics,
//! access log, JSON 404s and graceful shutdown.

use crate::support::*;

#[test]
fn first_run_test_connection_and_second_run() {
    let env = Env::new();
    let mut server = env.serve();
    assert!(server.url.ends_with("/scim/v2/default"), "{}", server.url);
    assert!(
        server.url.starts_with("http://127.0.0.1:"),
        "{}",
        server.url
    );
    let token = server.token().to_owned();
    assert!(token.starts_with("sshw_"));
    // The database and its WAL are the owner's alone, like the directory holding them.
    {
        use std::os::unix::fs::PermissionsExt;
        let data = env.data_dir();
        let mode =
            |name: &str| std::fs::metadata(data.join(name)).map(|m| m.permissions().mode() & 0o777);
        assert_eq!(mode("sshward.db").unwrap(), 0o600);
        assert_eq!(mode("sshward.db-wal").unwrap(), 0o600);
        assert_eq!(mode(".").unwrap(), 0o700);
    }
    assert!(
        server
            .stdout
            .iter()
            .any(|l| l == &format!("SCIM Tenant URL: {}", server.url))
    );
    assert!(
        server
            .stdout
            .iter()
            .any(|l| l == &format!("Secret Token: {token}"))
    );

    // Entra's Test Connection: a random GUID, `+` for spaces, no User-Agent.
    assert_empty_list(&test_connection(&server.url, &token));
    // Entra may append its feature flag to the tenant URL.
    let flagged = get(
        &format!(
            "{}/Users?aadOptscim062020&filter=userName+eq+%22x%22",
            server.url
        ),
        Some(&token),
    );
    assert_empty_list(&flagged);
    // The Tenant URL pasted with a trailing slash: Entra asks for `.../default//Users`.
    assert_empty_list(&test_connection(&format!("{}/", server.url), &token));
    let trailing = get(&format!("{}/Users/", server.url), Some(&token));
    assert_empty_list(&trailing);
    let denied = test_connection(&server.url, "sshw_wrong");
    assert_eq!(denied.status, 401);
    // A path segment that decodes to a newline, terminal escapes or NUL cannot forge a
    // log line or reach the operator's terminal.
    for forged in [
        "/login/x%0a2026-12-01T00:00:00Z%20INFO%20sshward::access:%20DELETE%20%2Fforged",
        "/login/x%1b[2J%00y",
        "/scim/v2/x%0d%0aforged/Users",
    ] {
        let r = get(&format!("{}{forged}", server.base), None);
        assert!(r.status >= 400, "{forged}: {r:?}");
    }

    assert_eq!(server.stop(), Some(0), "SIGTERM ends the server cleanly");
    let log = server.stderr();
    assert!(
        log.contains("sshward::access: GET /scim/v2/default/Users 200"),
        "{log}"
    );
    assert!(log.contains("team=default"), "{log}");
    assert!(!log.contains(&token), "the token is never logged");
    assert!(
        !log.contains("filter"),
        "query strings are never logged: {log}"
    );
    assert!(!log.contains("sshw_wrong"));
    assert!(
        !log.lines()
            .any(|l| l.starts_with("2026-12-01T00:00:00Z") || l.starts_with("forged")),
        "a forged access-log line: {log}"
    );
    assert!(
        !log.contains(['\u{1b}', '\0']),
        "control characters in the log: {log:?}"
    );
    for escaped in [
        "team=x\\u{a}2026-12-01T00:00:00Z\\u{20}INFO",
        "team=x\\u{1b}[2J\\u{0}y",
        "team=x\\u{d}\\u{a}forged",
    ] {
        assert!(log.contains(escaped), "{escaped} in {log}");
    }

    // A second start against the same data prints the URL only.
    let again = env.serve();
    assert!(again.token.is_none(), "{:?}", again.stdout);
    assert!(again.url.ends_with("/scim/v2/default"));
    assert_empty_list(&test_connection(&again.url, &token));
    let teams = env.run(&["team", "list", "--json"]).json();
    assert_eq!(teams.as_array().unwrap().len(), 1);
    assert_eq!(teams[0]["slug"], "default");
}

#[test]
fn health_metrics_and_json_errors() {
    let env = Env::new();
    let server = env.serve();
    let token = server.token().to_owned();
    let health = get(&format!("{}/healthz", server.base), None);
    assert_eq!(
        (health.status, health.json()["status"].as_str()),
        (200, Some("ok"))
    );
    let ready = get(&format!("{}/readyz", server.base), None);
    assert_eq!(
        (ready.status, ready.json()["status"].as_str()),
        (200, Some("ready"))
    );

    for path in ["/", "/nope", "/scimx", "/healthz/x", "/index.html"] {
        let r = get(&format!("{}{path}", server.base), None);
        assert_eq!(r.status, 404, "{path}");
        assert!(
            r.content_type.starts_with("application/json"),
            "{path}: {r:?}"
        );
        assert_eq!(r.json()["error"], "not_found");
        assert!(r.json()["message"].is_string(), "{path}");
    }
    let r = get(
        &format!("{}/scim/v2/default/Nope", server.base),
        Some(&token),
    );
    assert_eq!(r.status, 404);
    assert!(r.content_type.starts_with("application/scim+json"), "{r:?}");
    let r = post(
        &format!("{}/healthz", server.base),
        &token,
        &serde_json::json!({}),
    );
    assert_eq!(r.status, 405);
    assert!(r.content_type.starts_with("application/json"));

    assert_empty_list(&test_connection(&server.url, &token));
    create_user(&server.url, &token, "m@acme.example");
    let metrics = get(&format!("{}/metrics", server.base), None);
    assert_eq!(metrics.status, 200);
    assert!(
        metrics
            .content_type
            .starts_with("text/plain; version=0.0.4"),
        "{metrics:?}"
    );
    let m = &metrics.body;
    for needle in [
        r#"sshward_http_requests_total{method="GET",route="/scim/v2/{team}/{resource}",status="200"} 1"#,
        r#"sshward_http_requests_total{method="GET",route="unmatched",status="404"}"#,
        r#"sshward_scim_operations_total{operation="list",resource="User",status="200"} 1"#,
        r#"sshward_scim_operations_total{operation="create",resource="User",status="201"} 1"#,
        "# TYPE sshward_http_request_duration_seconds histogram",
        r#"sshward_build_info{version="#,
    ] {
        assert!(m.contains(needle), "missing {needle}:\n{m}");
    }
    assert!(!m.contains("acme.example"), "no personal data in labels");
}

#[test]
fn serve_errors() {
    let env = Env::new();
    let busy = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = busy.local_addr().unwrap().to_string();
    env.run(&["serve", "--listen", &addr])
        .fails(1, "cannot listen on");
    // Nothing was written for a server that could not start.
    assert!(!env.data_dir().exists());
    env.run(&["serve", "--listen", "nowhere"])
        .fails(3, "server.listen");
    env.run(&[
        "serve",
        "--database-url",
        "postgres://sshward@127.0.0.1:1/none",
        "--listen",
        "127.0.0.1:0",
    ])
    .fails(1, "cannot open the database");
}

#[test]
fn public_url_and_disabled_metrics() {
    let env = Env::new();
    let server = env.serve_with(&[
        ("SSHWARD_SERVER__PUBLIC_URL", "https://sshward.example.com/"),
        ("SSHWARD_METRICS__ENABLED", "false"),
        ("SSHWARD_LOG__ACCESS_LOG", "false"),
    ]);
    assert_eq!(server.url, "https://sshward.example.com/scim/v2/default");
    let token = server.token().to_owned();
    let port_base = env.run(&["check-config", "--json"]).json();
    assert_eq!(
        port_base["config"]["server"]["public_url"],
        "http://127.0.0.1:8080"
    );
    // The server is at 127.0.0.1 whatever the public URL says: find its port in the log.
    let log = wait_for(&server, "listening on 127.0.0.1:");
    let port = log
        .split("listening on 127.0.0.1:")
        .nth(1)
        .and_then(|s| s.split(|c: char| !c.is_ascii_digit()).next())
        .unwrap()
        .to_owned();
    let base = format!("http://127.0.0.1:{port}");
    let created = post(
        &format!("{base}/scim/v2/default/Users"),
        &token,
        &serde_json::json!({"schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"], "userName": "u@x.example"}),
    );
    assert_eq!(created.status, 201, "{created:?}");
    let location = created.json()["meta"]["location"]
        .as_str()
        .unwrap()
        .to_owned();
    assert!(
        location.starts_with("https://sshward.example.com/scim/v2/default/Users/"),
        "{location}"
    );
    assert_eq!(get(&format!("{base}/metrics"), None).status, 404);
    assert!(
        !server.stderr().contains("sshward::access"),
        "access log is off"
    );
}

/// Waits (at most 10 s) until the server's log contains `needle`; returns the log.
fn wait_for(server: &Server, needle: &str) -> String {
    for _ in 0..200 {
        let log = server.stderr();
        if log.contains(needle) {
            return log;
        }
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
    panic!(
        "server log never contained {needle:?}:\n{}",
        server.stderr()
    );
}

/// The SQLite backup of docs/operations.md, taken while the server runs, restores.
#[test]
fn sqlite_online_backup_restores() {
    if std::process::Command::new("sqlite3")
        .arg("-version")
        .output()
        .is_err()
    {
        eprintln!("SKIPPED: the sqlite3 command is not installed");
        return;
    }
    let env = Env::new();
    let server = env.serve();
    let token = server.token().to_owned();
    create_user(&server.url, &token, "backup@acme.example");
    let backup = env.path().join("backup.db");
    let out = std::process::Command::new("sqlite3")
        .arg(env.data_dir().join("sshward.db"))
        .arg(format!(".backup '{}'", backup.display()))
        .output()
        .unwrap();
    assert!(out.status.success(), "{out:?}");
    drop(server);

    let restored = Env::new();
    std::fs::create_dir(restored.data_dir()).unwrap();
    std::fs::copy(&backup, restored.data_dir().join("sshward.db")).unwrap();
    // The database alone opens nothing: its keys are sealed with the key-encryption key.
    restored
        .run(&["users", "list"])
        .fails(3, "key-encryption-key is missing: restore it");
    let kek = "key-encryption-key";
    std::fs::copy(env.data_dir().join(kek), restored.data_dir().join(kek)).unwrap();
    let users = restored.run(&["users", "list", "--json"]).json();
    assert_eq!(users["users"][0]["userName"], "backup@acme.example");
    let again = restored.serve();
    assert!(again.token.is_none(), "{:?}", again.stdout);
    assert_empty_list(&test_connection(&again.url, &token));
}

/// Opens a connection and sends a request head announcing a body of 60,000 bytes, then
/// only its first bytes (a slow-body attack without any credential).
fn slow_body(base: &str, path: &str) -> std::net::TcpStream {
    use std::io::Write;
    let addr = base.trim_start_matches("http://");
    let mut stream = std::net::TcpStream::connect(addr).unwrap();
    write!(
        stream,
        "POST {path} HTTP/1.1\r\nHost: {addr}\r\nContent-Type: application/json\r\n\
         Content-Length: 60000\r\n\r\n{{\"tok"
    )
    .unwrap();
    stream.flush().unwrap();
    stream
}

/// A slow body gets 400 once the body deadline passes, and one address holds at most the
/// configured number of requests in flight (429 beyond, served again once they end).
#[test]
fn slow_bodies_time_out_and_addresses_are_capped() {
    use std::io::Read;
    let env = Env::new();
    let server = env.serve_with(&[
        ("SSHWARD_SERVER__BODY_TIMEOUT_SECS", "3"),
        ("SSHWARD_SERVER__MAX_REQUESTS_PER_ADDRESS", "2"),
    ]);
    let start = std::time::Instant::now();
    let mut first = slow_body(&server.base, "/api/v1/hosts/join");
    let _second = slow_body(&server.base, "/api/v1/hosts/join");
    // Both heads read and in flight (well before their 3 s body deadline).
    std::thread::sleep(std::time::Duration::from_millis(700));
    // Two requests of this address in flight: a third is refused at once.
    let third = get(&format!("{}/healthz", server.base), None);
    assert_eq!(third.status, 429, "{third:?}");
    assert!(
        third.content_type.starts_with("application/json"),
        "{third:?}"
    );
    first
        .set_read_timeout(Some(std::time::Duration::from_secs(10)))
        .unwrap();
    let mut answer = Vec::new();
    let _ = first.read_to_end(&mut answer);
    let answer = String::from_utf8_lossy(&answer);
    assert!(answer.starts_with("HTTP/1.1 400"), "{answer}");
    assert!(answer.contains("body_timeout_secs"), "{answer}");
    assert!(
        start.elapsed() < std::time::Duration::from_secs(5),
        "{:?}",
        start.elapsed()
    );
    // Both ended: the address is served again.
    std::thread::sleep(std::time::Duration::from_millis(300));
    assert_eq!(get(&format!("{}/healthz", server.base), None).status, 200);
}

/// Sends `request` as it is on a connection of its own and returns the whole answer.
fn raw_exchange(base: &str, request: &[u8]) -> String {
    use std::io::{Read, Write};
    let mut stream = std::net::TcpStream::connect(base.trim_start_matches("http://")).unwrap();
    stream
        .set_read_timeout(Some(std::time::Duration::from_secs(10)))
        .unwrap();
    stream.write_all(request).unwrap();
    let mut answer = Vec::new();
    let _ = stream.read_to_end(&mut answer);
    String::from_utf8_lossy(&answer).into_owned()
}

/// What actix-http refuses before any middleware or route runs, and how: a request it
/// cannot parse gets the dispatcher's own `400` with no body at all
/// (`Response::bad_request().drop_body()` in actix-http's h1 dispatcher: nothing of
/// sshward's can add one without patching actix), and its log line is a WARN, never an
/// ERROR. A `"` in the path is allowed by actix's URI parser and is routed.
#[test]
fn requests_actix_refuses_get_an_empty_400_and_only_a_warning() {
    let env = Env::new();
    let server = env.serve();
    let refused: [&[u8]; 4] = [
        b"GET /healthz HTTP/1.1\r\nHost: x\r\nX-Trace: a\0b\r\n\r\n",
        b"GET /scim/v2/default/Users?filter=userName+eq+\"x\" HTTP/1.1\r\nHost: x\r\n\r\n",
        b"GET /a<b HTTP/1.1\r\nHost: x\r\n\r\n",
        b"GET /caf\xc3\xa9 HTTP/1.1\r\nHost: x\r\n\r\n",
    ];
    for request in refused {
        let answer = raw_exchange(&server.base, request);
        let shown = String::from_utf8_lossy(request);
        assert!(
            answer.starts_with("HTTP/1.1 400 Bad Request\r\n"),
            "{shown}: {answer}"
        );
        assert!(
            answer.contains("content-length: 0\r\n"),
            "{shown}: {answer}"
        );
        assert!(!answer.contains("content-type"), "{shown}: {answer}");
        assert!(answer.ends_with("\r\n\r\n"), "no body: {answer}");
    }
    let quoted = raw_exchange(
        &server.base,
        b"GET /he\"lthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n",
    );
    assert!(quoted.starts_with("HTTP/1.1 404"), "{quoted}");
    assert!(quoted.contains("\"error\":\"not_found\""), "{quoted}");

    let log = wait_for(
        &server,
        "WARN  actix_http::h1::dispatcher: stream error: request parse error",
    );
    assert!(!log.contains(" ERROR "), "{log}");
}

/// The budgets of `server.auth_failures_*` are the process's, across its APIs: wrong
/// access tokens at the certificate route use up the address's budget, and then wrong
/// SCIM tokens and host credentials are refused too, while Entra's token is served.
#[test]
fn failed_authentications_are_limited_across_the_apis() {
    let env = Env::new();
    let server = env.serve_with(&[
        ("SSHWARD_SERVER__AUTH_FAILURES_PER_ADDRESS", "3"),
        ("SSHWARD_SERVER__AUTH_FAILURE_WINDOW_SECS", "3"),
    ]);
    let token = server.token().to_owned();
    assert_empty_list(&test_connection(&server.url, &token));
    let certificate = format!("{}/api/v1/ssh/user-certificate", server.base);
    let key = serde_json::json!({"public_key":
        "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIHlvFsaie7yXMaLgwJBaPZFeu5QZeRhrjdbbjpNgPM74 a"});
    for _ in 0..3 {
        let r = post(&certificate, "not-an-access-token", &key);
        assert_eq!(
            (r.status, r.json()["error"].as_str()),
            (401, Some("unauthorized")),
            "{r:?}"
        );
    }
    let limited = [
        post(&certificate, "not-an-access-token", &key),
        get(
            &format!("{}/api/v1/hosts/self/access", server.base),
            Some("sshwh_wrong"),
        ),
    ];
    for r in &limited {
        assert_eq!(r.status, 429, "{r:?}");
        assert_eq!(r.json()["error"], "too_many_requests", "{r:?}");
        // One failure comes back every 3 s / 3.
        assert_eq!(r.retry_after.as_deref(), Some("1"), "{r:?}");
    }
    let scim = get(&format!("{}/Users", server.url), Some("sshw_wrong"));
    assert_eq!(scim.status, 429, "{scim:?}");
    assert!(
        scim.content_type.starts_with("application/scim+json"),
        "{scim:?}"
    );
    assert_eq!(scim.json()["status"], "429");
    assert_empty_list(&test_connection(&server.url, &token));
    wait_for(
        &server,
        "WARN  web_common::failures: failed authentications from 127.0.0.1 exceed 3 in 3 s",
    );
    std::thread::sleep(std::time::Duration::from_millis(1100));
    assert_eq!(post(&certificate, "not-an-access-token", &key).status, 401);
}

/// A team name that cannot be a slug (here with a NUL, which PostgreSQL refuses in a
/// query) is no team: never a 500 or an ERROR line.
#[test]
fn impossible_team_names_are_not_found_on_postgres() {
    let Some(db) = testkit::db::empty_postgres() else {
        return;
    };
    let mut env = Env::new();
    env.on_postgres(&db.url);
    let server = env.serve();
    for (path, status) in [
        ("/login/a%00b", 404),
        ("/api/v1/teams/a%00b/ca/user.pub", 404),
        ("/scim/v2/a%00b/Users", 401),
    ] {
        let r = get(&format!("{}{path}", server.base), Some("sshw_x"));
        assert_eq!(r.status, status, "{path}: {r:?}");
    }
    let device = agent()
        .post(format!("{}/login/a%00b/device", server.base))
        .send_empty()
        .unwrap();
    assert_eq!(device.status(), 404);
    let log = server.stderr();
    assert!(!log.contains(" ERROR "), "{log}");
}
