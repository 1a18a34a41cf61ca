//! The SCIM workloads, in Microsoft Entra ID's request shapes and order.

use crate::client::{Client, encode_query};
use crate::run::{self, Limits, Outcome, Rng, expect};
use serde_json::{Value, json};
use std::sync::Mutex;
use std::time::Duration;

/// Sizes and limits of a SCIM benchmark run (also its command-line options).
#[derive(Clone, Debug, clap::Args)]
pub struct Plan {
    /// The team's SCIM base URL (the SCIM Tenant URL).
    #[arg(long)]
    pub base: String,
    /// The bearer token.
    #[arg(long, env = "LOADGEN_TOKEN", hide_env_values = true)]
    pub token: String,
    /// Users seeded before the lookup workloads.
    #[arg(long, default_value_t = 100_000)]
    pub users: usize,
    /// Requests per measured workload.
    #[arg(long, default_value_t = 20_000)]
    pub requests: usize,
    /// Time limit per measured workload, in seconds.
    #[arg(long, default_value_t = 20)]
    pub seconds: u64,
    /// Connections in flight for the measured workloads.
    #[arg(long, default_value_t = 8)]
    pub concurrency: usize,
    /// Users in the simulated initial sync.
    #[arg(long, default_value_t = 10_000)]
    pub sync_users: usize,
    /// Groups in the simulated initial sync.
    #[arg(long, default_value_t = 100)]
    pub sync_groups: usize,
    /// Members per group in the simulated initial sync.
    #[arg(long, default_value_t = 100)]
    pub group_size: usize,
    /// Members of workload 5's big group (default: every seeded user). The reference
    /// server rewrites a group's whole member list on each add, so its big group is
    /// kept smaller to finish in minutes.
    #[arg(long)]
    pub big_group: Option<usize>,
    /// Create groups without Entra's Microsoft schema URN (for peers that reject it).
    #[arg(long)]
    pub rfc_groups: bool,
    /// Run only these workloads (comma-separated numbers, e.g. `1,2`); all by default.
    /// The seed always runs. For profiling one workload at a time.
    #[arg(long, value_delimiter = ',')]
    pub only: Vec<u32>,
    /// A tag that keeps this run's names apart from earlier runs on the same server.
    #[arg(skip)]
    pub tag: String,
}

const PATCH_OP: &str = "urn:ietf:params:scim:api:messages:2.0:PatchOp";

/// Entra's PATCH that disables a user (its `"False"` is a string, as Entra sends it).
pub fn entra_disable() -> Value {
    json!({"schemas": [PATCH_OP], "Operations": [{"op": "Replace", "path": "active", "value": "False"}]})
}

/// Entra's create payload for user `name`.
fn entra_user(name: &str, index: usize) -> Value {
    json!({
        "schemas": [
            "urn:ietf:params:scim:schemas:core:2.0:User",
            "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"
        ],
        "externalId": format!("ext-{name}"),
        "userName": format!("{name}@bench.example.com"),
        "active": true,
        "displayName": format!("Bench User {index}"),
        "emails": [{"primary": true, "type": "work", "value": format!("{name}@bench.example.com")}],
        "meta": {"resourceType": "User"},
        "name": {"formatted": format!("Bench {index}"), "familyName": format!("{index}"), "givenName": "Bench"},
        "roles": [],
        "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User": {"employeeNumber": format!("{index}")}
    })
}

/// Entra's group create payload; with `rfc`, without Microsoft's extra schema URN.
fn entra_group(name: &str, rfc: bool) -> Value {
    let mut schemas = vec!["urn:ietf:params:scim:schemas:core:2.0:Group"];
    if !rfc {
        schemas.push("http://schemas.microsoft.com/2006/11/ResourceManagement/ADSCIM/2.0/Group");
    }
    json!({
        "schemas": schemas,
        "externalId": format!("ext-{name}"),
        "displayName": name,
        "meta": {"resourceType": "Group"}
    })
}

fn add_members(ids: &[String]) -> Value {
    let members: Vec<Value> = ids
        .iter()
        .map(|id| json!({"$ref": null, "value": id}))
        .collect();
    json!({"schemas": [PATCH_OP], "Operations": [{"op": "Add", "path": "members", "value": members}]})
}

fn created_id(reply: &crate::client::Reply, what: &str) -> Result<String, String> {
    expect(reply.status, &[201], what)?;
    reply.json()["id"]
        .as_str()
        .map(str::to_string)
        .ok_or_else(|| format!("{what}: no id in the response"))
}

fn total_results(reply: &crate::client::Reply) -> Option<u64> {
    reply.json()["totalResults"].as_u64()
}

/// Entra's match query for `userName`.
fn match_user_path(user_name: &str) -> String {
    format!(
        "/Users?filter={}",
        encode_query(&format!("userName eq \"{user_name}\""))
    )
}

fn mixed_case(text: &str, rng: &mut Rng) -> String {
    text.chars()
        .map(|c| {
            if rng.below(2) == 0 {
                c.to_ascii_uppercase()
            } else {
                c
            }
        })
        .collect()
}

impl Plan {
    fn wants(&self, workload: u32) -> bool {
        self.only.is_empty() || self.only.contains(&workload)
    }

    fn client(&self) -> Client {
        Client::new(&self.base, "Bearer", &self.token)
    }

    fn limits(&self, requests: usize) -> Limits {
        Limits {
            concurrency: self.concurrency,
            max_requests: requests,
            max_time: Duration::from_secs(self.seconds),
        }
    }

    /// Creates `count` users named `<prefix><i>`, returning their ids in order.
    fn seed_users(
        &self,
        name: &str,
        prefix: &str,
        count: usize,
        limits: Limits,
    ) -> (Outcome, Vec<String>) {
        let ids = Mutex::new(vec![String::new(); count]);
        let outcome = run::run(
            name,
            Limits {
                max_requests: count,
                ..limits
            },
            |_| self.client(),
            |c, i| {
                let user = format!("{prefix}{i}");
                let id = created_id(&c.post("/Users", &entra_user(&user, i))?, "create user")?;
                if let Ok(mut all) = ids.lock() {
                    all[i] = id;
                }
                Ok(())
            },
        );
        let ids = ids.into_inner().unwrap_or_default();
        (
            outcome,
            ids.into_iter().filter(|id| !id.is_empty()).collect(),
        )
    }

    /// Runs every SCIM workload and returns the measured outcomes (setup steps included,
    /// marked by their names).
    pub fn run(&self) -> Vec<Outcome> {
        let mut results = Vec::new();
        let tag = &self.tag;
        let seed_limits = Limits {
            concurrency: self.concurrency,
            max_requests: self.users,
            max_time: Duration::from_secs(3600),
        };
        let (seeded, ids) = self.seed_users(
            "setup: POST /Users (seed)",
            &format!("u{tag}-"),
            self.users,
            seed_limits,
        );
        eprintln!(
            "seeded {} users in {:.1}s",
            ids.len(),
            seeded.elapsed.as_secs_f64()
        );
        results.push(seeded);
        if ids.is_empty() {
            return results;
        }
        let n = ids.len();

        if self.wants(1) {
            results.push(run::run(
                "1 match: GET /Users?filter=userName eq",
                self.limits(self.requests),
                |w| (self.client(), Rng::new(w as u64 + 1)),
                |(c, rng), _| {
                    let name = format!("u{tag}-{}@bench.example.com", rng.below(n));
                    let reply = c.get(&match_user_path(&mixed_case(&name, rng)), &[])?;
                    expect(reply.status, &[200], "match")?;
                    match total_results(&reply) {
                        Some(1) => Ok(()),
                        other => Err(format!("match {name}: totalResults {other:?}")),
                    }
                },
            ));
        }

        if self.wants(2) {
            results.push(run::run(
                "2 read: GET /Users/{id}",
                self.limits(self.requests),
                |w| (self.client(), Rng::new(w as u64 + 7)),
                |(c, rng), _| {
                    expect(
                        c.get(&format!("/Users/{}", ids[rng.below(n)]), &[])?.status,
                        &[200],
                        "get",
                    )
                },
            ));
        }
        if !(self.wants(3) || self.wants(5)) {
            if self.wants(4) {
                results.push(self.disable(&ids));
            }
            if self.wants(6) {
                results.extend(self.initial_sync());
            }
            return results;
        }

        let (created, extra) = self.seed_users(
            "3 create: POST /Users",
            &format!("c{tag}-"),
            self.requests,
            self.limits(self.requests),
        );
        results.push(created);

        if self.wants(4) {
            results.push(self.disable(&ids));
        }
        if self.wants(5) {
            results.extend(self.member_adds(&ids, &extra));
        }
        if self.wants(6) {
            results.extend(self.initial_sync());
        }
        results
    }

    /// Workload 4: Entra's disable with the string "False", on random users.
    fn disable(&self, ids: &[String]) -> Outcome {
        let disable = entra_disable();
        run::run(
            "4 disable: PATCH active \"False\"",
            self.limits(self.requests),
            |w| (self.client(), Rng::new(w as u64 + 13)),
            |(c, rng), _| {
                let reply = c.patch(&format!("/Users/{}", ids[rng.below(ids.len())]), &disable)?;
                expect(reply.status, &[200, 204], "disable")
            },
        )
    }

    /// Workload 5: one member added to a group holding every seeded user, against one
    /// member added to an empty group.
    fn member_adds(&self, ids: &[String], extra: &[String]) -> Vec<Outcome> {
        let tag = &self.tag;
        let mut out = Vec::new();
        let mut client = self.client();
        let big = match client.post(
            "/Groups",
            &entra_group(&format!("big-{tag}"), self.rfc_groups),
        ) {
            Ok(reply) => created_id(&reply, "create group"),
            Err(e) => Err(e),
        };
        let Ok(big) = big else {
            eprintln!("workload 5 skipped: {big:?}");
            return out;
        };
        let members = &ids[..self.big_group.unwrap_or(ids.len()).min(ids.len())];
        let chunks: Vec<&[String]> = members.chunks(1000).collect();
        out.push(run::run(
            "setup: fill the big group (1,000 members per PATCH)",
            Limits {
                max_requests: chunks.len(),
                max_time: Duration::from_secs(3600),
                ..self.limits(0)
            },
            |_| self.client(),
            |c, i| {
                expect(
                    c.patch(&format!("/Groups/{big}"), &add_members(chunks[i]))?
                        .status,
                    &[200, 204],
                    "fill",
                )
            },
        ));
        let k = extra.len().min(self.requests).min(2000);
        let empties = Mutex::new(vec![String::new(); k]);
        out.push(run::run(
            "setup: create empty groups",
            Limits {
                max_requests: k,
                max_time: Duration::from_secs(3600),
                ..self.limits(0)
            },
            |_| self.client(),
            |c, i| {
                let id = created_id(
                    &c.post(
                        "/Groups",
                        &entra_group(&format!("e{tag}-{i}"), self.rfc_groups),
                    )?,
                    "create group",
                )?;
                if let Ok(mut all) = empties.lock() {
                    all[i] = id;
                }
                Ok(())
            },
        ));
        let empties = empties.into_inner().unwrap_or_default();
        out.push(run::run(
            &format!("5a add 1 member to a group of {}", members.len()),
            self.limits(k),
            |_| self.client(),
            |c, i| {
                expect(
                    c.patch(&format!("/Groups/{big}"), &add_members(&extra[i..=i]))?
                        .status,
                    &[200, 204],
                    "add",
                )
            },
        ));
        out.push(run::run(
            "5b add 1 member to an empty group",
            self.limits(k),
            |_| self.client(),
            |c, i| {
                expect(
                    c.patch(
                        &format!("/Groups/{}", empties[i]),
                        &add_members(&extra[i..=i]),
                    )?
                    .status,
                    &[200, 204],
                    "add",
                )
            },
        ));
        out
    }

    /// Workload 6: Entra's initial sync with 4 requests in flight: for each user a match
    /// query then a create; then for each group a match, a create and member adds.
    fn initial_sync(&self) -> Vec<Outcome> {
        let tag = &self.tag;
        let flight = Limits {
            concurrency: 4,
            max_requests: self.sync_users,
            max_time: Duration::from_secs(3600),
        };
        let ids = Mutex::new(vec![String::new(); self.sync_users]);
        let users = run::run(
            "6 sync phase 1: users (match + create)",
            flight,
            |_| self.client(),
            |c, i| {
                let name = format!("s{tag}-{i}");
                let reply = c.get(&match_user_path(&format!("{name}@bench.example.com")), &[])?;
                expect(reply.status, &[200], "sync match")?;
                let id = created_id(&c.post("/Users", &entra_user(&name, i))?, "sync create")?;
                if let Ok(mut all) = ids.lock() {
                    all[i] = id;
                }
                Ok(())
            },
        );
        let ids = ids.into_inner().unwrap_or_default();
        let size = self.group_size;
        let groups = run::run(
            "6 sync phase 2: groups (match + create + adds)",
            Limits {
                max_requests: self.sync_groups,
                ..flight
            },
            |_| self.client(),
            |c, g| {
                let name = format!("sg{tag}-{g}");
                let path = format!(
                    "/Groups?excludedAttributes=members&filter={}",
                    encode_query(&format!("displayName eq \"{name}\""))
                );
                expect(c.get(&path, &[])?.status, &[200], "group match")?;
                let id = created_id(
                    &c.post("/Groups", &entra_group(&name, self.rfc_groups))?,
                    "group create",
                )?;
                let start = (g * size) % ids.len().max(1);
                let members: Vec<String> =
                    ids.iter().cycle().skip(start).take(size).cloned().collect();
                for batch in members.chunks(10) {
                    expect(
                        c.patch(&format!("/Groups/{id}"), &add_members(batch))?
                            .status,
                        &[200, 204],
                        "group add",
                    )?;
                }
                Ok(())
            },
        );
        let total = Outcome {
            name: format!(
                "6 initial sync: {} users, {} groups x {} members (4 in flight), total",
                self.sync_users, self.sync_groups, size
            ),
            requests: users.requests * 2 + groups.requests * (2 + size.div_ceil(10)),
            errors: users.errors + groups.errors,
            elapsed: users.elapsed + groups.elapsed,
            p50: users.p50,
            p99: users.p99.max(groups.p99),
            max: users.max.max(groups.max),
            first_error: users.first_error.clone().or(groups.first_error.clone()),
            notes: None,
        };
        vec![users, groups, total]
    }
}
