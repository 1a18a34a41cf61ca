//! The store test suites. Databases come from [`testkit::db`]: a temporary SQLite file,
//! or a PostgreSQL database copied from a migrated template.

/// Defines each test once per backend: `mod name { fn sqlite(); fn postgres(); }`, the
/// body getting `db: &TestDb`.
macro_rules! backend_tests {
    ($(fn $name:ident($db:ident) $body:block)*) => {
        $(
            mod $name {
                #[allow(unused_imports)]
                use super::*;

                fn body($db: &::testkit::db::TestDb) $body

                #[test]
                fn sqlite() {
                    let db = ::testkit::db::sqlite();
                    body(&db);
                }

                #[test]
                fn postgres() {
                    let Some(db) = ::testkit::db::postgres() else {
                        return;
                    };
                    body(&db);
                }
            }
        )*
    };
}

mod audit;
mod certificates;
mod concurrency;
mod filters;
mod login;
mod members;
mod migrations;
mod teams;
mod tokens;
mod users;
