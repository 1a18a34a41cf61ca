//! Differential tests: for every filter in `tests/fixtures/*_filters.txt`, the store
//! (SQL, or SQL plus in-memory checks) returns exactly the resources that scim-core's
//! in-memory evaluator selects from the rendered fixture resources, in the same order, on
//! both backends; and the filters marked as indexed are answered in SQL.

use std::collections::HashMap;
use std::path::Path;

use ::store::filter_sql::{Coverage, coverage};
use ::store::{ListQuery, ResourceKind, ResourceRecord, TeamId};
use scim_core::filter::{matches, parse, resolve};
use scim_core::resource::{Link, Meta, render};
use serde_json::{Map, Value};

use testkit::db::TestDb;

struct Fixture {
    team: TeamId,
    users: HashMap<String, String>,
    groups: HashMap<String, String>,
}

fn fixture_path(name: &str) -> std::path::PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures")
        .join(name)
}

fn load(db: &TestDb) -> Fixture {
    let store = db.store();
    let team = db.team("acme");
    let read = |name: &str| -> Vec<Map<String, Value>> {
        let text = std::fs::read_to_string(fixture_path(name)).unwrap();
        serde_json::from_str(&text).unwrap()
    };
    let mut users = HashMap::new();
    for data in read("users.json") {
        let name = data["userName"].as_str().unwrap().to_string();
        let record = store.write(|tx| tx.users().insert(team, data)).unwrap();
        users.insert(name, record.id);
    }
    let mut groups = HashMap::new();
    for mut data in read("groups.json") {
        let members: Vec<String> = data
            .remove("members")
            .and_then(|m| m.as_array().cloned())
            .unwrap_or_default()
            .iter()
            .map(|m| users[m.as_str().unwrap()].clone())
            .collect();
        let name = data["displayName"].as_str().unwrap().to_string();
        let id = store
            .write(|tx| {
                let id = tx.groups().insert(team, data)?.id;
                tx.groups().add_members(team, &id, &members)?;
                Ok::<_, ::store::StoreError>(id)
            })
            .unwrap();
        groups.insert(name, id);
    }
    Fixture {
        team,
        users,
        groups,
    }
}

/// Replaces `{user:NAME}`, `{user-upper:NAME}`, `{group:NAME}` and `{group-upper:NAME}`.
fn substitute(line: &str, fx: &Fixture) -> String {
    let mut out = String::new();
    let mut rest = line;
    while let Some(start) = rest.find('{') {
        let Some(end) = rest[start..].find('}') else {
            break;
        };
        let token = &rest[start + 1..start + end];
        let replacement = token.split_once(':').and_then(|(kind, name)| match kind {
            "user" => fx.users.get(name).cloned(),
            "user-upper" => fx.users.get(name).map(|id| id.to_uppercase()),
            "group" => fx.groups.get(name).cloned(),
            "group-upper" => fx.groups.get(name).map(|id| id.to_uppercase()),
            _ => None,
        });
        out.push_str(&rest[..start]);
        match replacement {
            Some(r) => out.push_str(&r),
            None => out.push_str(&rest[start..=start + end]),
        }
        rest = &rest[start + end + 1..];
    }
    out.push_str(rest);
    out
}

/// The resources as a client would see them, with members or groups.
fn rendered(db: &TestDb, fx: &Fixture, kind: ResourceKind) -> Vec<(ResourceRecord, Value)> {
    let store = db.store();
    let all = store
        .read(|tx| match kind {
            ResourceKind::User => tx.users().list(fx.team, &ListQuery::default()),
            ResourceKind::Group => tx.groups().list(fx.team, &ListQuery::default()),
        })
        .unwrap()
        .items;
    let ids: Vec<&str> = all.iter().map(|r| r.id.as_str()).collect();
    let links: HashMap<String, Vec<Link>> = store
        .read(|tx| -> Result<_, ::store::StoreError> {
            Ok(match kind {
                ResourceKind::User => tx
                    .groups()
                    .groups_of_users(fx.team, &ids)?
                    .into_iter()
                    .map(|(k, v)| {
                        let links = v
                            .into_iter()
                            .map(|g| Link {
                                value: g.id,
                                display: Some(g.display_name),
                            })
                            .collect();
                        (k, links)
                    })
                    .collect(),
                ResourceKind::Group => tx
                    .groups()
                    .members_of_groups(fx.team, &ids)?
                    .into_iter()
                    .map(|(k, v)| {
                        let links = v
                            .into_iter()
                            .map(|m| Link {
                                value: m.value,
                                display: Some(m.display),
                            })
                            .collect();
                        (k, links)
                    })
                    .collect(),
            })
        })
        .unwrap();
    all.into_iter()
        .map(|r| {
            let meta = Meta {
                created: r.created,
                last_modified: r.last_modified,
                version: r.version,
            };
            let own = links.get(&r.id).map_or(&[][..], Vec::as_slice);
            let json = render(
                kind,
                "https://sshward.example/scim/v2/acme",
                &r.id,
                &meta,
                &r.data,
                Some(own),
            );
            (r, Value::Object(json))
        })
        .collect()
}

fn differential(db: &TestDb, kind: ResourceKind, file: &str) {
    let fx = load(db);
    let resources = rendered(db, &fx, kind);
    let store = db.store();
    let text = std::fs::read_to_string(fixture_path(file)).unwrap();
    let mut checked = 0;
    let mut non_empty = 0;
    let mut failures = Vec::new();
    for line in text
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.starts_with('#'))
    {
        let (expect, raw) = line.split_once(' ').unwrap();
        let source = substitute(raw, &fx);
        let filter = resolve(
            parse(&source).unwrap_or_else(|e| panic!("{source}: {e}")),
            kind,
        )
        .unwrap_or_else(|e| panic!("{source}: {e}"));
        let cov = coverage(&filter, kind, store.backend());
        let cov_ok = match expect {
            "I" => cov == Coverage::Indexed,
            "P" => cov != Coverage::Scan,
            "S" => true,
            other => panic!("bad coverage mark {other} in {line}"),
        };
        if !cov_ok {
            failures.push(format!("{source}: expected coverage {expect}, got {cov:?}"));
        }
        let expected: Vec<&str> = resources
            .iter()
            .filter(|(_, json)| matches(&filter, json, kind))
            .map(|(r, _)| r.id.as_str())
            .collect();
        let list = |start: u64, count: Option<u64>| {
            let q = ListQuery {
                filter: Some(&filter),
                start_index: start,
                count,
                sort: None,
            };
            store
                .read(|tx| match kind {
                    ResourceKind::User => tx.users().list(fx.team, &q),
                    ResourceKind::Group => tx.groups().list(fx.team, &q),
                })
                .unwrap()
        };
        let page = list(1, None);
        let got: Vec<&str> = page.items.iter().map(|r| r.id.as_str()).collect();
        if got != expected || page.total != expected.len() as u64 {
            failures.push(format!(
                "{source}: store returned {} ({} total), evaluator {}",
                got.len(),
                page.total,
                expected.len()
            ));
        }
        let window = list(2, Some(2));
        let got: Vec<&str> = window.items.iter().map(|r| r.id.as_str()).collect();
        let want: Vec<&str> = expected.iter().skip(1).take(2).copied().collect();
        if got != want || window.total != expected.len() as u64 {
            failures.push(format!("{source}: page 2..3 differs"));
        }
        checked += 1;
        if !expected.is_empty() {
            non_empty += 1;
        }
    }
    assert!(
        failures.is_empty(),
        "{} of {checked} filters failed:\n{}",
        failures.len(),
        failures.join("\n")
    );
    assert!(checked >= 30, "only {checked} filters");
    assert!(
        non_empty * 3 >= checked * 2,
        "too few filters select anything: {non_empty}/{checked}"
    );
}

backend_tests! {
    fn user_filters_match_the_evaluator(db) {
        differential(db, ResourceKind::User, "user_filters.txt");
    }

    fn group_filters_match_the_evaluator(db) {
        differential(db, ResourceKind::Group, "group_filters.txt");
    }
}
