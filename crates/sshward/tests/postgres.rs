//! The binary on PostgreSQL (with `SSHWARD_TEST_PG_URL`): first run, two instances on
//! one database, admin commands, and a database that goes away and comes back.

use std::time::{Duration, Instant};

use testkit::db::empty_postgres;

use crate::support::*;

#[test]
fn postgres_smoke_two_instances_and_outage() {
    let Some(db) = empty_postgres() else {
        return;
    };
    let mut env = Env::new();
    env.on_postgres(&db.url);
    // Short timeouts, so the outage below answers quickly.
    let fast = [("SSHWARD_DATABASE__CONNECT_TIMEOUT_SECS", "2")];

    // Two instances start at once on the empty database: exactly one bootstraps.
    let (a, b) = std::thread::scope(|s| {
        let a = s.spawn(|| env.serve_with(&fast));
        let b = s.spawn(|| env.serve_with(&fast));
        (a.join().unwrap(), b.join().unwrap())
    });
    let tokens: Vec<&String> = [&a, &b].iter().filter_map(|s| s.token.as_ref()).collect();
    assert_eq!(
        tokens.len(),
        1,
        "exactly one instance prints the token: {:?} / {:?}",
        a.stdout,
        b.stdout
    );
    let token = tokens[0].clone();
    assert_empty_list(&test_connection(&a.url, &token));
    assert_empty_list(&test_connection(&b.url, &token));

    // What one instance writes, the other serves.
    let id = create_user(&a.url, &token, "pg@acme.example");
    let got = get(&format!("{}/Users/{id}", b.url), Some(&token));
    assert_eq!(got.status, 200, "{got:?}");

    // The admin commands work on PostgreSQL too.
    let teams = env.run(&["team", "list", "--json"]).json();
    assert_eq!(teams[0]["slug"], "default");
    assert_eq!(teams[0]["users"], 1);
    let users = env.run(&["users", "list", "--json"]).json();
    assert_eq!(users["users"][0]["userName"], "pg@acme.example");
    let migrate = env.run(&["migrate", "--json"]).json();
    assert_eq!(migrate["backend"], "postgres");
    assert_eq!(migrate["applied"], serde_json::json!([]));

    // The database goes away: 503s, the process stays up; it comes back: 200s.
    db.pg_admin(&format!(
        "ALTER DATABASE {0} ALLOW_CONNECTIONS false; \
         SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = '{0}';",
        db.pg_name().unwrap_or_default()
    ));
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let r = test_connection(&a.url, &token);
        if r.status == 503 {
            assert!(r.content_type.starts_with("application/scim+json"), "{r:?}");
            break;
        }
        assert!(
            Instant::now() < deadline,
            "no 503 while the database is away: {r:?}"
        );
        std::thread::sleep(Duration::from_millis(200));
    }
    assert_eq!(get(&format!("{}/readyz", a.base), None).status, 503);
    assert_eq!(get(&format!("{}/healthz", a.base), None).status, 200);
    // A write that failed for want of the database answers after one connection timeout
    // (2 s here): it does not wait a second time trying to audit its failure.
    let started = Instant::now();
    let body = serde_json::json!({"userName": "during-outage@acme.example"});
    let r = post(&format!("{}/Users", a.url), &token, &body);
    assert_eq!(r.status, 503, "{r:?}");
    assert!(
        started.elapsed() < Duration::from_millis(3500),
        "a failed write waited {:?}",
        started.elapsed()
    );
    db.pg_admin(&format!(
        "ALTER DATABASE {} ALLOW_CONNECTIONS true",
        db.pg_name().unwrap_or_default()
    ));
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let r = test_connection(&a.url, &token);
        if r.status == 200 {
            assert_empty_list(&r);
            break;
        }
        assert!(
            Instant::now() < deadline,
            "no recovery after the database returned: {r:?}"
        );
        std::thread::sleep(Duration::from_millis(200));
    }
    assert_eq!(get(&format!("{}/readyz", a.base), None).status, 200);
    // Nothing acknowledged before the outage is lost, and the refused write left nothing.
    assert_eq!(
        get(&format!("{}/Users/{id}", a.url), Some(&token)).status,
        200
    );
    let during = get(
        &format!(
            "{}/Users?filter=userName+eq+%22during-outage@acme.example%22",
            a.url
        ),
        Some(&token),
    );
    assert_eq!(during.json()["totalResults"], 0, "{during:?}");

    // A later start prints no token.
    drop((a, b));
    let again = env.serve();
    assert!(again.token.is_none(), "{:?}", again.stdout);
    assert_empty_list(&test_connection(&again.url, &token));
}

/// The pg_dump / pg_restore backup of docs/operations.md restores into another database.
#[test]
fn postgres_dump_restores() {
    if std::process::Command::new("pg_dump")
        .arg("--version")
        .output()
        .is_err()
    {
        assert!(
            std::env::var("CI").as_deref() != Ok("true"),
            "pg_dump is required under CI (PostgreSQL client tools, which scripts/test.sh uses)"
        );
        eprintln!("SKIPPED: pg_dump is not installed");
        return;
    }
    let Some(source) = empty_postgres() else {
        return;
    };
    let Some(target) = empty_postgres() else {
        return;
    };
    let mut env = Env::new();
    env.on_postgres(&source.url);
    let server = env.serve();
    let token = server.token().to_owned();
    create_user(&server.url, &token, "dump@acme.example");
    let dump = env.path().join("sshward.dump");
    let out = std::process::Command::new("pg_dump")
        .args(["--format=custom", "--dbname", &source.url, "--file"])
        .arg(&dump)
        .output()
        .unwrap();
    assert!(out.status.success(), "{out:?}");
    drop(server);
    let out = std::process::Command::new("pg_restore")
        .args([
            "--clean",
            "--if-exists",
            "--no-owner",
            "--dbname",
            &target.url,
        ])
        .arg(&dump)
        .output()
        .unwrap();
    assert!(out.status.success(), "{out:?}");

    // Without its key-encryption key the copy opens nothing, and says why.
    let mut stranger = Env::new();
    stranger.global = vec!["--database-url".into(), target.url.clone()];
    stranger
        .run(&["users", "list"])
        .fails(3, "key_encryption_key is required with PostgreSQL");
    let other = stranger.path().join("other-kek");
    std::fs::write(&other, "ZmVkY2JhOTg3NjU0MzIxMGZlZGNiYTk4NzY1NDMyMTA=\n").unwrap();
    stranger.kek = Some(other);
    stranger
        .run(&["users", "list"])
        .fails(3, "the key-encryption key does not fit this database");

    let mut restored = Env::new();
    restored.global = vec!["--database-url".into(), target.url.clone()];
    restored.kek = env.kek.clone();
    let users = restored.run(&["users", "list", "--json"]).json();
    assert_eq!(users["users"][0]["userName"], "dump@acme.example");
    let again = restored.serve();
    assert!(again.token.is_none(), "{:?}", again.stdout);
    assert_empty_list(&test_connection(&again.url, &token));
}
