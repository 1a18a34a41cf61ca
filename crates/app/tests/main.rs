#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
//! Integration tests of the application layer on real databases: SQLite always,
//! PostgreSQL with `SSHWARD_TEST_PG_URL` (required when `CI=true`), from [`testkit`].

/// Runs each named test (`fn name(db: &TestDb)`) on SQLite and on PostgreSQL.
macro_rules! db_tests {
    ($($name:ident),* $(,)?) => {
        $(
            mod $name {
                #[test]
                fn sqlite() {
                    super::$name(&testkit::db::sqlite());
                }

                #[test]
                fn postgres() {
                    if let Some(db) = testkit::db::postgres() {
                        super::$name(&db);
                    }
                }
            }
        )*
    };
}

mod admin;
mod allocation;
mod certificates;

/// A fresh key-encryption key.
pub fn test_kek() -> app::Kek {
    app::Kek::generate().unwrap()
}
