//! The harness: one real actix-web server on 127.0.0.1 with BOTH the SCIM API and the
//! agent API over one store (databases and the server thread come from [`testkit`]), two
//! teams with a SCIM token each, a small blocking HTTP client, and Entra's request shapes.

use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use agent_api::{AgentConfig, AgentState};
use scim_api::{ScimConfig, ScimState};
use serde_json::{Value, json};
use store::{Store, TeamId};
use testkit::db::Scratch;
use testkit::server::{Loopback, Running};

pub use testkit::db::Backend;

/// Runs each named test function (`fn name(srv: &Server)`) once per backend, as
/// `name::sqlite` and `name::postgres`.
macro_rules! server_tests {
    ($($name:ident),* $(,)?) => {
        $(
            mod $name {
                #[test]
                fn sqlite() {
                    $crate::support::run($crate::support::Backend::Sqlite, super::$name);
                }

                #[test]
                fn postgres() {
                    $crate::support::run($crate::support::Backend::Postgres, super::$name);
                }
            }
        )*
    };
}

/// Starts a server on `backend` and runs `test`; PostgreSQL runs are skipped without
/// `SSHWARD_TEST_PG_URL` (and fail when `CI=true`), as in the store's tests.
pub fn run(backend: Backend, test: fn(&Server)) {
    let Some(scratch) = testkit::db::empty(backend) else {
        return;
    };
    let server = Server::start(scratch);
    test(&server);
}

/// A team of the server, with its SCIM token.
pub struct Team {
    pub id: TeamId,
    pub slug: &'static str,
    pub token: String,
}

/// A running server with teams `a` and `b`.
pub struct Server {
    pub origin: String,
    pub store: Store,
    pub a: Team,
    pub b: Team,
    // Fields drop in order: the server stops, then the database is removed.
    _running: Running,
    _db: Scratch,
}

impl Server {
    fn start(db: Scratch) -> Server {
        let store = Store::open(&testkit::db::config(&db.url)).expect("open the store");
        let a = Server::team(&store, "team-a");
        let b = Server::team(&store, "team-b");
        let loopback = Loopback::bind();
        let origin = loopback.origin().to_owned();
        let scim = ScimState::new(
            store.clone(),
            ScimConfig {
                public_url: origin.clone(),
                max_body_bytes: scim_api::DEFAULT_MAX_BODY_BYTES,
            },
        );
        let agent = AgentState::new(
            app::App::new(store.clone(), keyring::Kek::generate().expect("kek")),
            AgentConfig::default(),
        );
        let running = loopback.serve(move |cfg| {
            scim_api::configure(cfg, scim.clone());
            agent_api::configure(cfg, agent.clone());
        });
        Server {
            origin,
            store,
            a,
            b,
            _running: running,
            _db: db,
        }
    }

    fn team(store: &Store, slug: &'static str) -> Team {
        let (id, _, token) = testkit::db::team_with_token(store, slug);
        Team { id, slug, token }
    }

    /// A SCIM client of `team`.
    pub fn scim(&self, team: &Team) -> Client {
        Client::new(
            format!("{}/scim/v2/{}", self.origin, team.slug),
            Some(team.token.clone()),
        )
    }

    /// A client of the agent API sending `credential` (none when `None`).
    pub fn agent(&self, credential: Option<&str>) -> Client {
        Client::new(
            format!("{}/api/v1/hosts", self.origin),
            credential.map(str::to_owned),
        )
    }

    /// A join token of `team` conferring `tags`, valid for `ttl` seconds (negative: expired).
    pub fn join_token(&self, team: &Team, tags: &[&str], ttl: i64) -> String {
        let tags = host_policy::parse_tags(tags).expect("key=value tags");
        let expires = time::OffsetDateTime::now_utc() + time::Duration::seconds(ttl);
        self.store
            .write(|tx| tx.hosts().create_join_token(team.id, &tags, expires))
            .expect("create a join token")
            .1
    }

    /// Joins a host of `team` with `tags` and returns its credential.
    pub fn join(&self, team: &Team, hostname: &str, tags: &[&str]) -> String {
        let token = self.join_token(team, tags, 600);
        let reply = self.agent(None).post(
            "/join",
            &json!({"token": token, "hostname": hostname, "tags": tags}),
        );
        assert_eq!(reply.status, 201, "join {hostname}: {}", reply.body);
        reply.json()["credential"]
            .as_str()
            .expect("a credential")
            .to_owned()
    }

    /// Grants `group_id` of `team` `role` on `hosts` (what `sshward grant add` does).
    pub fn grant(&self, team: &Team, group_id: &str, hosts: &str, role: &str) -> i64 {
        let hosts: host_policy::HostSelector = hosts.parse().expect("a selector");
        let role: host_policy::Role = role.parse().expect("a role");
        self.store
            .write(|tx| tx.grants().add(team.id, group_id, &hosts, role, &[]))
            .expect("add a grant")
            .id
    }
}

impl Server {
    /// Removes host `hostname` of `team` (what `sshward host remove` does).
    pub fn remove_host(&self, team: &Team, hostname: &str) {
        let removed = self
            .store
            .write(|tx| {
                let host = tx
                    .hosts()
                    .get_by_hostname(team.id, hostname)?
                    .expect("the host");
                tx.hosts().remove(team.id, host.id)
            })
            .expect("remove the host");
        assert!(removed);
    }

    /// Starts a long poll (`?wait=30`) of the host with `credential` for a document other
    /// than `etag` on a thread; it yields the status, the body and when it was answered.
    pub fn long_poll(&self, credential: &str, etag: &str) -> JoinHandle<(u16, String, Instant)> {
        let url = format!("{}/api/v1/hosts/self/access?wait=30", self.origin);
        let (credential, etag) = (credential.to_owned(), etag.to_owned());
        std::thread::spawn(move || {
            let client = ureq::Agent::config_builder()
                .http_status_as_error(false)
                .build()
                .new_agent();
            let mut response = client
                .get(url)
                .header("Authorization", format!("Bearer {credential}"))
                .header("If-None-Match", &etag)
                .call()
                .expect("long poll");
            let status = response.status().as_u16();
            let body = response.body_mut().read_to_string().unwrap_or_default();
            (status, body, Instant::now())
        })
    }
}

/// A small blocking HTTP client with a base URL and an optional bearer token.
pub struct Client {
    base: String,
    bearer: Option<String>,
    agent: ureq::Agent,
}

/// An HTTP answer.
#[derive(Debug)]
pub struct Reply {
    pub status: u16,
    pub etag: Option<String>,
    pub signature: Option<String>,
    pub content_type: Option<String>,
    pub retry_after: Option<String>,
    pub body: String,
}

impl Reply {
    /// The body as JSON.
    pub fn json(&self) -> Value {
        serde_json::from_str(&self.body)
            .unwrap_or_else(|e| panic!("a JSON body ({e}), got {}: {}", self.status, self.body))
    }

    /// The JSON error code of an agent API error with `status`.
    pub fn agent_error(&self, status: u16) -> String {
        assert_eq!(self.status, status, "{}", self.body);
        assert_eq!(
            self.content_type.as_deref(),
            Some("application/json"),
            "{self:?}"
        );
        self.json()["error"]
            .as_str()
            .expect("an error code")
            .to_owned()
    }

    /// The POSIX user names of an access document.
    pub fn usernames(&self) -> Vec<String> {
        assert_eq!(self.status, 200, "{}", self.body);
        self.json()["users"]
            .as_array()
            .expect("users")
            .iter()
            .map(|u| u["username"].as_str().expect("username").to_owned())
            .collect()
    }

    /// The entry of `username` in an access document.
    pub fn user(&self, username: &str) -> Option<Value> {
        assert_eq!(self.status, 200, "{}", self.body);
        self.json()["users"]
            .as_array()
            .expect("users")
            .iter()
            .find(|u| u["username"] == username)
            .cloned()
    }
}

impl Client {
    fn new(base: String, bearer: Option<String>) -> Client {
        let agent: ureq::Agent = ureq::Agent::config_builder()
            .http_status_as_error(false)
            .timeout_global(Some(Duration::from_secs(90)))
            .build()
            .into();
        Client {
            base,
            bearer,
            agent,
        }
    }

    /// Sends a request; `headers` are added as given.
    pub fn send(
        &self,
        method: &str,
        path: &str,
        headers: &[(&str, &str)],
        body: Option<&Value>,
    ) -> Reply {
        let url = format!("{}{path}", self.base);
        let mut request = ureq::http::Request::builder().method(method).uri(&url);
        if let Some(token) = &self.bearer {
            request = request.header("Authorization", format!("Bearer {token}"));
        }
        for (name, value) in headers {
            request = request.header(*name, *value);
        }
        let response = match body {
            Some(body) => {
                let request = request
                    .header("Content-Type", "application/json")
                    .body(body.to_string())
                    .expect("a request");
                self.agent.run(request)
            }
            None => self.agent.run(request.body(()).expect("a request")),
        };
        let mut response = response.unwrap_or_else(|e| panic!("{method} {url}: {e}"));
        let header = |name: &str| {
            response
                .headers()
                .get(name)
                .and_then(|v| v.to_str().ok())
                .map(str::to_owned)
        };
        let etag = header("etag");
        let content_type = header("content-type");
        let signature = header(proto::SIGNATURE_HEADER);
        let retry_after = header("retry-after");
        Reply {
            status: response.status().as_u16(),
            etag,
            signature,
            content_type,
            retry_after,
            body: response.body_mut().read_to_string().unwrap_or_default(),
        }
    }

    pub fn get(&self, path: &str) -> Reply {
        self.send("GET", path, &[], None)
    }

    pub fn post(&self, path: &str, body: &Value) -> Reply {
        self.send("POST", path, &[], Some(body))
    }

    pub fn patch(&self, path: &str, body: &Value) -> Reply {
        self.send("PATCH", path, &[], Some(body))
    }

    pub fn delete(&self, path: &str) -> Reply {
        self.send("DELETE", path, &[], None)
    }

    /// Creates a user the way Entra does and returns its id.
    pub fn create_user(&self, user_name: &str, display_name: &str) -> String {
        let reply = self.post("/Users", &entra_user(user_name, display_name));
        assert_eq!(reply.status, 201, "{}", reply.body);
        reply.json()["id"].as_str().expect("id").to_owned()
    }

    /// Creates a group the way Entra does (no members) and returns its id.
    pub fn create_group(&self, display_name: &str) -> String {
        let reply = self.post(
            "/Groups",
            &json!({
                "schemas": [GROUP_SCHEMA, ENTRA_GROUP_SCHEMA],
                "externalId": format!("{display_name}-objectid"),
                "displayName": display_name,
                "meta": {"resourceType": "Group"},
            }),
        );
        assert_eq!(reply.status, 201, "{}", reply.body);
        reply.json()["id"].as_str().expect("id").to_owned()
    }

    /// Sends a PatchOp with `operations` to `path` and checks the status.
    pub fn patch_ops(&self, path: &str, operations: Value, status: u16) {
        let reply = self.patch(
            path,
            &json!({"schemas": [PATCH_OP], "Operations": operations}),
        );
        assert_eq!(reply.status, status, "PATCH {path}: {}", reply.body);
    }

    /// Entra's member add: `Add members [{value}]`.
    pub fn add_member(&self, group: &str, user: &str) {
        self.patch_ops(
            &format!("/Groups/{group}"),
            json!([{"op": "Add", "path": "members", "value": [{"value": user}]}]),
            204,
        );
    }
}

pub const USER_SCHEMA: &str = "urn:ietf:params:scim:schemas:core:2.0:User";
pub const ENTERPRISE: &str = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User";
pub const GROUP_SCHEMA: &str = "urn:ietf:params:scim:schemas:core:2.0:Group";
pub const ENTRA_GROUP_SCHEMA: &str =
    "http://schemas.microsoft.com/2006/11/ResourceManagement/ADSCIM/2.0/Group";
pub const PATCH_OP: &str = "urn:ietf:params:scim:api:messages:2.0:PatchOp";

/// Entra's POST /Users with its default attribute mapping.
pub fn entra_user(user_name: &str, display_name: &str) -> Value {
    let local = user_name.split('@').next().unwrap_or(user_name);
    json!({
        "schemas": [USER_SCHEMA, ENTERPRISE],
        "externalId": local,
        "userName": user_name,
        "active": true,
        "displayName": display_name,
        "emails": [{"primary": true, "type": "work", "value": user_name}],
        "meta": {"resourceType": "User"},
        "name": {"formatted": display_name, "familyName": "Family", "givenName": local},
        "roles": [],
        ENTERPRISE: {"employeeNumber": "1000"},
    })
}
