//! Acknowledged means durable: an Entra-shaped sync with four requests in flight, the
//! server killed with SIGKILL at arbitrary moments and restarted, several times. Every
//! write that was answered 2xx is there afterwards and whole, and the database passes its
//! integrity check (`sshward check-database`). On SQLite and, with `SSHWARD_TEST_PG_URL`,
//! on PostgreSQL.

use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use serde_json::{Value, json};

use crate::support::*;

const PATCH_OP: &str = "urn:ietf:params:scim:api:messages:2.0:PatchOp";
const ROUNDS: usize = 3;
const IN_FLIGHT: usize = 4;

/// What the server acknowledged with a 2xx.
#[derive(Debug, Default)]
struct Acked {
    /// (id, userName) of created users.
    users: Vec<(String, String)>,
    /// Users added to the group.
    members: Vec<String>,
    /// Users disabled.
    disabled: Vec<String>,
}

/// Sends a SCIM request; `None` when the server did not answer (it was killed).
fn send(method: &str, url: &str, token: &str, body: &Value) -> Option<(u16, Value)> {
    let auth = format!("Bearer {token}");
    let bytes = body.to_string();
    let request = match method {
        "POST" => agent().post(url),
        _ => agent().patch(url),
    };
    let mut response = request
        .header("Authorization", &auth)
        .header("Content-Type", "application/scim+json")
        .send(bytes.as_bytes())
        .ok()?;
    let status = response.status().as_u16();
    let body = response.body_mut().read_json().unwrap_or(Value::Null);
    Some((status, body))
}

/// One of the requests in flight: Entra's create, then its member add, and every third
/// user its disable, until the server stops answering.
fn sync(url: &str, token: &str, group: &str, worker: usize, round: usize, acked: &Mutex<Acked>) {
    for i in 0.. {
        let name = format!("crash-{round}-{worker}-{i}@contoso.com");
        let user = json!({
            "schemas": ["urn:ietf:params:scim:schemas:core:2.0:User",
                        "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"],
            "externalId": format!("crash-{round}-{worker}-{i}"),
            "userName": name,
            "active": true,
            "displayName": format!("Crash {i}"),
            "emails": [{"primary": true, "type": "work", "value": name}],
            "name": {"givenName": "Crash", "familyName": format!("{i}")},
        });
        let Some((201, created)) = send("POST", &format!("{url}/Users"), token, &user) else {
            return;
        };
        let id = created["id"].as_str().unwrap().to_owned();
        acked.lock().unwrap().users.push((id.clone(), name));
        let add = json!({"schemas": [PATCH_OP], "Operations": [
            {"op": "Add", "path": "members", "value": [{"value": id}]}]});
        match send("PATCH", &format!("{url}/Groups/{group}"), token, &add) {
            Some((200 | 204, _)) => acked.lock().unwrap().members.push(id.clone()),
            _ => return,
        }
        if i % 3 == 0 {
            let disable = json!({"schemas": [PATCH_OP], "Operations": [
                {"op": "Replace", "path": "active", "value": "False"}]});
            match send("PATCH", &format!("{url}/Users/{id}"), token, &disable) {
                Some((200 | 204, _)) => acked.lock().unwrap().disabled.push(id),
                _ => return,
            }
        }
    }
}

/// Somewhere between 300 and 1,100 ms, different on every run.
fn arbitrary_moment() -> Duration {
    let nanos = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .subsec_nanos();
    Duration::from_millis(300 + u64::from(nanos % 800))
}

fn acknowledged_writes_survive_sigkill(env: &Env) {
    let mut server = env.serve();
    let token = server.token().to_owned();
    let group = create_group(&server.url, &token, "Crash Group", &[]);
    let acked = Arc::new(Mutex::new(Acked::default()));
    for round in 0..ROUNDS {
        std::thread::scope(|s| {
            for worker in 0..IN_FLIGHT {
                let (url, token, group, acked) = (&server.url, &token, &group, &acked);
                s.spawn(move || sync(url, token, group, worker, round, acked));
            }
            // The workers stop at their first unanswered request.
            std::thread::sleep(arbitrary_moment());
            server.child.kill().unwrap();
            server.child.wait().unwrap();
        });
        server = env.serve();
        check(&server, &token, &group, &acked.lock().unwrap(), round);
    }
    let acked = acked.lock().unwrap();
    assert!(
        acked.users.len() >= 20 && !acked.disabled.is_empty(),
        "the sync did too little to prove anything: {} users",
        acked.users.len()
    );
    server.stop();
    let checked = env.run(&["check-database"]);
    assert!(checked.ok().contains("sound"), "{checked:?}");
}

/// Every acknowledged write is there, whole.
fn check(server: &Server, token: &str, group: &str, acked: &Acked, round: usize) {
    for (id, name) in &acked.users {
        let got = get(&format!("{}/Users/{id}", server.url), Some(token));
        assert_eq!(
            got.status, 200,
            "round {round}: acknowledged user {name} lost"
        );
        let user = got.json();
        assert_eq!(user["userName"], name.as_str());
        assert_eq!(
            user["emails"][0]["value"],
            name.as_str(),
            "half-written: {user}"
        );
        // A disable that committed as the server died, unanswered, may be there too.
        if acked.disabled.contains(id) {
            assert_eq!(
                user["active"], false,
                "round {round}: {name}'s acknowledged disable lost"
            );
        }
    }
    let members = get(&format!("{}/Groups/{group}", server.url), Some(token)).json();
    let listed: Vec<&str> = members["members"]
        .as_array()
        .map(|m| m.iter().filter_map(|m| m["value"].as_str()).collect())
        .unwrap_or_default();
    for id in &acked.members {
        assert!(
            listed.contains(&id.as_str()),
            "round {round}: acknowledged member {id} lost"
        );
    }
}

#[test]
fn acknowledged_writes_survive_sigkill_sqlite() {
    acknowledged_writes_survive_sigkill(&Env::new());
}

#[test]
fn acknowledged_writes_survive_sigkill_postgres() {
    let Some(db) = testkit::db::empty_postgres() else {
        return;
    };
    let mut env = Env::new();
    env.on_postgres(&db.url);
    acknowledged_writes_survive_sigkill(&env);
}
