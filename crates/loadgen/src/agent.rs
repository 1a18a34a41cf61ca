//! Workload 7: host agents polling their access documents.

use crate::client::Client;
use crate::run::{self, Limits, Outcome, Rng, expect};
use serde_json::{Value, json};
use std::sync::Mutex;
use std::time::Duration;

const PATCH_OP: &str = "urn:ietf:params:scim:api:messages:2.0:PatchOp";

/// Creates group `name` through SCIM and makes the first `users` active users of the
/// directory (in listing order) its members.
pub fn setup_group(scim_base: &str, token: &str, name: &str, users: usize) -> Result<(), String> {
    let mut c = Client::new(scim_base, "Bearer", token);
    let ids = first_user_ids(&mut c, users)?;
    create_group(&mut c, name, &ids)?;
    eprintln!("group {name} has {} members", ids.len());
    Ok(())
}

/// Creates group `name` with the users `ids` as members, added in PATCHes of 1,000 (as
/// Entra adds members in batches); returns its SCIM id.
pub fn create_group(c: &mut Client, name: &str, ids: &[String]) -> Result<String, String> {
    let group = json!({
        "schemas": ["urn:ietf:params:scim:schemas:core:2.0:Group"],
        "displayName": name,
    });
    let reply = c.post("/Groups", &group)?;
    expect(reply.status, &[201], "create group")?;
    let id = reply.json()["id"].as_str().unwrap_or_default().to_string();
    for chunk in ids.chunks(1000) {
        let members: Vec<Value> = chunk.iter().map(|id| json!({"value": id})).collect();
        let body = json!({"schemas": [PATCH_OP], "Operations": [{"op": "Add", "path": "members", "value": members}]});
        expect(
            c.patch(&format!("/Groups/{id}"), &body)?.status,
            &[200, 204],
            "add members",
        )?;
    }
    Ok(id)
}

/// The ids of the first `users` active users of the directory, in listing order.
pub fn first_user_ids(c: &mut Client, users: usize) -> Result<Vec<String>, String> {
    let mut ids = Vec::with_capacity(users);
    while ids.len() < users {
        let path = format!(
            "/Users?filter=active+eq+true&attributes=id&startIndex={}&count={}",
            ids.len() + 1,
            (users - ids.len()).min(1000)
        );
        let reply = c.get(&path, &[])?;
        expect(reply.status, &[200], "list users")?;
        let page = reply.json();
        let found: Vec<String> = page["Resources"]
            .as_array()
            .map(|r| {
                r.iter()
                    .filter_map(|u| u["id"].as_str().map(str::to_string))
                    .collect()
            })
            .unwrap_or_default();
        if found.is_empty() {
            break;
        }
        ids.extend(found);
    }
    Ok(ids)
}

/// Joins one host per join token (host `PREFIX-i` with token `i`, `limits.concurrency`
/// at a time); the credentials of the hosts that joined.
pub fn join_hosts(
    server: &str,
    join_tokens: &[String],
    prefix: &str,
    limits: Limits,
) -> (Outcome, Vec<String>) {
    let credentials = Mutex::new(vec![String::new(); join_tokens.len()]);
    let joined = run::run(
        &format!(
            "setup: POST /api/v1/hosts/join ({} hosts)",
            join_tokens.len()
        ),
        Limits {
            max_requests: join_tokens.len(),
            max_time: Duration::from_secs(600),
            ..limits
        },
        |_| Client::new(server, "Bearer", "none"),
        |c, i| {
            let body = json!({"token": join_tokens[i], "hostname": format!("{prefix}-{i}")});
            let reply = c.post("/api/v1/hosts/join", &body)?;
            expect(reply.status, &[201], "join")?;
            let credential = reply.json()["credential"]
                .as_str()
                .unwrap_or_default()
                .to_string();
            if let Ok(mut all) = credentials.lock() {
                all[i] = credential;
            }
            Ok(())
        },
    );
    let mut credentials = credentials.into_inner().unwrap_or_default();
    credentials.retain(|c| !c.is_empty());
    (joined, credentials)
}

/// Joins one host per join token, then measures conditional polls across all hosts and
/// full document fetches.
pub fn run(
    server: &str,
    join_tokens: &[String],
    requests: usize,
    seconds: u64,
    concurrency: usize,
) -> Vec<Outcome> {
    let limits = Limits {
        concurrency,
        max_requests: requests,
        max_time: Duration::from_secs(seconds),
    };
    let (joined, credentials) = join_hosts(server, join_tokens, "bench-host", limits);
    let hosts: Vec<(String, String)> = credentials
        .into_iter()
        .map(|c| (c, String::new()))
        .collect();
    let mut out = vec![joined];
    if hosts.is_empty() {
        return out;
    }
    // Every host fetches its document once (its first poll); the ETag is kept.
    let first = Mutex::new(hosts.clone());
    out.push(run::run(
        "setup: first full fetch per host",
        Limits {
            max_requests: hosts.len(),
            max_time: Duration::from_secs(600),
            ..limits
        },
        |_| Client::new(server, "Bearer", "none"),
        |c, i| {
            let credential = first.lock().map(|h| h[i].0.clone()).unwrap_or_default();
            let reply = c
                .with_secret("Bearer", &credential)
                .get("/api/v1/hosts/self/access", &[])?;
            expect(reply.status, &[200], "access")?;
            if let Ok(mut all) = first.lock() {
                all[i].1 = reply.etag.unwrap_or_default();
            }
            Ok(())
        },
    ));
    let hosts = first.into_inner().unwrap_or_default();
    let n = hosts.len();
    // One keep-alive connection per worker, polling with the hosts' credentials in turn
    // (a fresh client per credential would measure connection set-up, not the server).
    out.push(run::run(
        &format!("7a conditional poll (If-None-Match), {n} hosts"),
        limits,
        |w| {
            (
                Client::new(server, "Bearer", "none"),
                Rng::new(w as u64 + 21),
            )
        },
        |(c, rng), _| {
            let (credential, etag) = &hosts[rng.below(n)];
            let reply = c.with_secret("Bearer", credential).get(
                "/api/v1/hosts/self/access",
                &[("If-None-Match", etag.as_str())],
            )?;
            expect(reply.status, &[304], "conditional poll")
        },
    ));
    let users = {
        let mut c = Client::new(server, "Bearer", &hosts[0].0);
        c.get("/api/v1/hosts/self/access", &[])
            .map(|r| r.json()["users"].as_array().map_or(0, Vec::len))
            .unwrap_or(0)
    };
    out.push(run::run(
        &format!("7b full access document ({users} users)"),
        Limits {
            max_requests: requests.min(2000),
            ..limits
        },
        |_| Client::new(server, "Bearer", &hosts[0].0),
        |c, _| {
            expect(
                c.get("/api/v1/hosts/self/access", &[])?.status,
                &[200],
                "full document",
            )
        },
    ));
    out
}
