//! Migrations: applied on an empty database, idempotent, safe to run concurrently.

use std::sync::Barrier;

use ::store::Store;

use testkit::db::{Scratch, config, empty_postgres, empty_sqlite};

fn check_fresh_database(scratch: &Scratch) {
    let store = Store::open(&config(&scratch.url)).expect("first start applies migrations");
    assert!(store.migrate().unwrap().is_empty(), "nothing left to apply");
    // The schema works.
    let team = store.write(|tx| tx.teams().create("acme", "Acme")).unwrap();
    drop(store);
    // A restart applies nothing and keeps the data.
    let again = Store::open(&config(&scratch.url)).expect("second start");
    assert!(again.migrate().unwrap().is_empty());
    assert_eq!(
        again.read(|tx| tx.teams().get(team.id)).unwrap().slug,
        "acme"
    );
}

fn check_concurrent_start(scratch: &Scratch) {
    let barrier = Barrier::new(4);
    std::thread::scope(|s| {
        let handles: Vec<_> = (0..4)
            .map(|_| {
                s.spawn(|| {
                    barrier.wait();
                    Store::open(&config(&scratch.url)).map(|_| ())
                })
            })
            .collect();
        for h in handles {
            h.join().unwrap().expect("every instance starts");
        }
    });
    let store = Store::open(&config(&scratch.url)).unwrap();
    assert!(store.migrate().unwrap().is_empty());
}

fn check_run_migrations_false(scratch: &Scratch) {
    let mut cfg = config(&scratch.url);
    cfg.run_migrations = false;
    let store = Store::open(&cfg).unwrap();
    let r = store.read(|tx| tx.teams().list());
    assert!(r.is_err(), "no tables yet: {r:?}");
    let applied = store.migrate().unwrap();
    assert!(applied.iter().any(|v| v == "20261128000000"), "{applied:?}");
    assert!(store.migrate().unwrap().is_empty());
    assert!(store.read(|tx| tx.teams().list()).unwrap().is_empty());
}

#[test]
fn sqlite_fresh_database() {
    check_fresh_database(&empty_sqlite());
}

#[test]
fn postgres_fresh_database() {
    if let Some(s) = empty_postgres() {
        check_fresh_database(&s);
    }
}

#[test]
fn sqlite_concurrent_start() {
    check_concurrent_start(&empty_sqlite());
}

#[test]
fn postgres_concurrent_start() {
    if let Some(s) = empty_postgres() {
        check_concurrent_start(&s);
    }
}

#[test]
fn sqlite_migrate_on_demand() {
    check_run_migrations_false(&empty_sqlite());
}

#[test]
fn postgres_migrate_on_demand() {
    if let Some(s) = empty_postgres() {
        check_run_migrations_false(&s);
    }
}

#[test]
fn bad_urls_are_configuration_errors() {
    for url in ["mysql://x/y", "", "sqlite://"] {
        let r = Store::open(&config(url));
        assert!(
            matches!(r, Err(::store::StoreError::Config(_))),
            "{url}: {r:?}"
        );
    }
}

#[test]
fn in_memory_sqlite_works() {
    let store = Store::open(&config("sqlite::memory:")).unwrap();
    store.write(|tx| tx.teams().create("acme", "Acme")).unwrap();
    assert_eq!(store.read(|tx| tx.teams().list()).unwrap().len(), 1);
}
