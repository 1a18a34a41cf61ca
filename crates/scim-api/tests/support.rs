//! The harness: a real actix-web server on 127.0.0.1 over a fresh, empty database (a
//! temporary SQLite file, or a PostgreSQL database of its own when `SSHWARD_TEST_PG_URL`
//! is set; both from [`testkit`]), two teams with a token each, a small blocking HTTP
//! client, and the request bodies Microsoft Entra ID sends.

use std::sync::Arc;
use std::time::Duration;

use scim_api::{ScimConfig, ScimState};
use serde_json::{Value, json};
use store::{AuditQuery, AuditRecord, ListQuery, Store, StoreConfig, TeamId};
use testkit::db::Scratch;
use testkit::server::{Loopback, Running};
use web_common::{FailureLimiter, FailureLimits};

pub use testkit::db::Backend;

pub const USER_SCHEMA: &str = "urn:ietf:params:scim:schemas:core:2.0:User";
pub const ENTERPRISE: &str = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User";
pub const GROUP_SCHEMA: &str = "urn:ietf:params:scim:schemas:core:2.0:Group";
/// The non-standard schema Entra lists on every group it creates.
pub const ENTRA_GROUP_SCHEMA: &str =
    "http://schemas.microsoft.com/2006/11/ResourceManagement/ADSCIM/2.0/Group";
pub const PATCH_OP: &str = "urn:ietf:params:scim:api:messages:2.0:PatchOp";
pub const LIST_RESPONSE: &str = "urn:ietf:params:scim:api:messages:2.0:ListResponse";
pub const ERROR: &str = "urn:ietf:params:scim:api:messages:2.0:Error";
pub const SEARCH_REQUEST: &str = "urn:ietf:params:scim:api:messages:2.0:SearchRequest";

/// Settings of the server under test.
#[derive(Clone, Copy, Debug)]
pub struct Options {
    pub max_body_bytes: usize,
    /// The budgets of failed authentications.
    pub failures: FailureLimits,
}

impl Default for Options {
    fn default() -> Self {
        Options {
            max_body_bytes: scim_api::DEFAULT_MAX_BODY_BYTES,
            failures: FailureLimits::default(),
        }
    }
}

/// Runs each named test function (`fn name(srv: &Server)`) once per backend, as
/// `name::sqlite` and `name::postgres`. `#[option = value]` before a name sets that field
/// of [`Options`] for the test (`#[max_body_bytes = 2048]`).
macro_rules! scim_tests {
    ($( $(#[$option:ident = $value:expr])* $name:ident ),* $(,)?) => {
        $(
            mod $name {
                fn options() -> $crate::support::Options {
                    #[allow(unused_mut)]
                    let mut options = $crate::support::Options::default();
                    $( options.$option = $value; )*
                    options
                }

                #[test]
                fn sqlite() {
                    $crate::support::run($crate::support::Backend::Sqlite, options(), super::$name);
                }

                #[test]
                fn postgres() {
                    $crate::support::run($crate::support::Backend::Postgres, options(), super::$name);
                }
            }
        )*
    };
}

/// Starts a server on `backend` and runs `test` against it; a PostgreSQL test without
/// `SSHWARD_TEST_PG_URL` is skipped (or fails, when `CI=true`).
pub fn run(backend: Backend, options: Options, test: fn(&Server)) {
    let Some(db) = testkit::db::empty(backend) else {
        return;
    };
    let server = Server::start(db, options);
    test(&server);
}

// ---------------------------------------------------------------------------------------
// The server

/// A team of the server under test, with one SCIM token.
pub struct Team {
    pub slug: &'static str,
    pub id: TeamId,
    pub token: String,
    pub token_id: i64,
}

/// A running SCIM server with two teams, `a` and `b`.
pub struct Server {
    /// `http://127.0.0.1:PORT`, also the configured public URL.
    pub origin: String,
    pub store: Store,
    pub a: Team,
    pub b: Team,
    // Fields drop in order: the server stops, then the database is removed.
    _running: Running,
    _db: Scratch,
}

impl Server {
    fn start(db: Scratch, options: Options) -> Server {
        let mut config = StoreConfig::new(&db.url);
        config.pool_size = 4;
        config.connect_timeout = Duration::from_secs(30);
        let store = Store::open(&config).expect("open the store");
        let a = Server::team(&store, "team-a");
        let b = Server::team(&store, "team-b");

        let loopback = Loopback::bind();
        let origin = loopback.origin().to_owned();
        let state = ScimState::new(
            store.clone(),
            ScimConfig {
                public_url: origin.clone(),
                max_body_bytes: options.max_body_bytes,
            },
        )
        .with_failures(Arc::new(FailureLimiter::new(options.failures)));
        let running = loopback.serve(move |cfg| scim_api::configure(cfg, state.clone()));
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
        let (id, token_id, token) = testkit::db::team_with_token(store, slug);
        Team {
            slug,
            id,
            token,
            token_id,
        }
    }

    /// A client of team A with its token.
    pub fn a(&self) -> Client {
        self.client(&self.a, Some(&self.a.token))
    }

    /// A client of team B with its token.
    pub fn b(&self) -> Client {
        self.client(&self.b, Some(&self.b.token))
    }

    /// A client of `team`'s tenant URL sending `token` (none when `None`).
    pub fn client(&self, team: &Team, token: Option<&str>) -> Client {
        self.client_for(team.slug, token)
    }

    /// A client of the tenant URL of the team `slug` (which need not exist).
    pub fn client_for(&self, slug: &str, token: Option<&str>) -> Client {
        Client::new(
            format!("{}/scim/v2/{slug}", self.origin),
            token.map(str::to_string),
        )
    }

    /// Every user and group of both teams with its version, data and members: compared
    /// before and after requests that must change nothing.
    pub fn snapshot(&self) -> Value {
        let teams = [self.a.id, self.b.id];
        self.store
            .read(|tx| {
                let mut out = Vec::new();
                for team in teams {
                    let query = ListQuery::default();
                    let users = tx.users().list(team, &query)?.items;
                    let groups = tx.groups().list(team, &query)?.items;
                    let ids: Vec<&str> = groups.iter().map(|g| g.id.as_str()).collect();
                    let members = tx.groups().members_of_groups(team, &ids)?;
                    let record = |r: &store::ResourceRecord| {
                        json!({"id": r.id, "version": r.version, "data": r.data})
                    };
                    let groups: Vec<Value> = groups
                        .iter()
                        .map(|g| {
                            let mut ids: Vec<String> = members
                                .get(&g.id)
                                .into_iter()
                                .flatten()
                                .map(|m| m.value.clone())
                                .collect();
                            ids.sort();
                            json!({"group": record(g), "members": ids})
                        })
                        .collect();
                    out.push(json!({
                        "users": users.iter().map(record).collect::<Vec<_>>(),
                        "groups": groups,
                    }));
                }
                Ok::<_, store::StoreError>(Value::Array(out))
            })
            .expect("read the snapshot")
    }

    /// Team A's audit log, newest first.
    pub fn audit_a(&self) -> Vec<AuditRecord> {
        let team = self.a.id;
        self.store
            .read(|tx| tx.audit().query(team, &AuditQuery::default(), 1000))
            .expect("read the audit log")
    }
}

// ---------------------------------------------------------------------------------------
// The client

/// A blocking HTTP client of one tenant URL. It sends no `User-Agent` (like Entra, at
/// times) and never turns 4xx/5xx into errors.
pub struct Client {
    /// The tenant URL: `http://127.0.0.1:PORT/scim/v2/TEAM`.
    pub base: String,
    token: Option<String>,
    agent: ureq::Agent,
}

/// An answer of the server.
#[derive(Debug)]
pub struct Reply {
    pub status: u16,
    headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

impl Client {
    fn new(base: String, token: Option<String>) -> Client {
        let agent = ureq::Agent::config_builder()
            .http_status_as_error(false)
            .user_agent(ureq::config::AutoHeaderValue::None)
            .max_redirects(0)
            .timeout_global(Some(Duration::from_secs(60)))
            .build()
            .into();
        Client { base, token, agent }
    }

    /// Sends `method` to `path` (relative to the tenant URL, query included) with extra
    /// `headers` and a raw `body`.
    pub fn send(
        &self,
        method: &str,
        path: &str,
        headers: &[(&str, &str)],
        body: Option<&[u8]>,
    ) -> Reply {
        match body {
            Some(body) => self.exchange(method, path, headers, body.to_vec()),
            None => self.exchange(method, path, headers, ()),
        }
    }

    /// Like [`Client::send`], with the body sent in chunks (no `Content-Length`).
    pub fn send_chunked(
        &self,
        method: &str,
        path: &str,
        headers: &[(&str, &str)],
        body: &[u8],
    ) -> Reply {
        let reader = std::io::Cursor::new(body.to_vec());
        self.exchange(
            method,
            path,
            headers,
            ureq::SendBody::from_owned_reader(reader),
        )
    }

    fn exchange(
        &self,
        method: &str,
        path: &str,
        headers: &[(&str, &str)],
        body: impl ureq::AsSendBody,
    ) -> Reply {
        let url = format!("{}{path}", self.base);
        let mut request = ureq::http::Request::builder().method(method).uri(&url);
        if let Some(token) = &self.token {
            request = request.header("Authorization", format!("Bearer {token}"));
        }
        for (name, value) in headers {
            request = request.header(*name, *value);
        }
        let request = request.body(body).expect("a valid request");
        let mut response = self
            .agent
            .run(request)
            .unwrap_or_else(|e| panic!("{method} {url}: {e}"));
        let headers = response
            .headers()
            .iter()
            .map(|(k, v)| {
                let v = v.to_str().unwrap_or("<not ASCII>");
                (k.as_str().to_ascii_lowercase(), v.to_string())
            })
            .collect();
        let body = response
            .body_mut()
            .read_to_vec()
            .unwrap_or_else(|e| panic!("{method} {url}: reading the body: {e}"));
        Reply {
            status: response.status().as_u16(),
            headers,
            body,
        }
    }

    /// Sends `method` with a JSON body as `application/scim+json`.
    pub fn send_json(&self, method: &str, path: &str, body: &Value) -> Reply {
        let bytes = body.to_string().into_bytes();
        self.send(
            method,
            path,
            &[("Content-Type", "application/scim+json")],
            Some(&bytes),
        )
    }

    pub fn get(&self, path: &str) -> Reply {
        self.send("GET", path, &[], None)
    }

    pub fn post(&self, path: &str, body: &Value) -> Reply {
        self.send_json("POST", path, body)
    }

    pub fn put(&self, path: &str, body: &Value) -> Reply {
        self.send_json("PUT", path, body)
    }

    pub fn patch(&self, path: &str, body: &Value) -> Reply {
        self.send_json("PATCH", path, body)
    }

    pub fn delete(&self, path: &str) -> Reply {
        self.send("DELETE", path, &[], None)
    }

    /// `GET path?filter=...` with the filter percent-encoded; the ListResponse.
    pub fn filter(&self, endpoint: &str, filter: &str) -> Value {
        self.get(&format!("{endpoint}?filter={}", encode(filter)))
            .ok(200)
    }

    /// The ids of the resources a filter on `endpoint` finds.
    pub fn filter_ids(&self, endpoint: &str, filter: &str) -> Vec<String> {
        ids(&self.filter(endpoint, filter))
    }

    /// Creates a user with Entra's payload; the 201 body.
    pub fn create_user(&self, user_name: &str) -> Value {
        self.post("/Users", &entra_user(user_name)).ok(201)
    }

    /// Creates a group with Entra's payload; the 201 body.
    pub fn create_group(&self, display_name: &str) -> Value {
        self.post("/Groups", &entra_group(display_name)).ok(201)
    }

    /// Entra's member addition: `Add` of `members` with `ids`; the reply.
    pub fn add_members<S: AsRef<str>>(&self, group_id: &str, ids: &[S]) -> Reply {
        self.patch_ops(
            &format!("/Groups/{group_id}"),
            json!([{"op": "Add", "path": "members", "value": member_refs(ids)}]),
        )
    }

    /// PATCHes `path` with `operations`; the reply.
    pub fn patch_ops(&self, path: &str, operations: Value) -> Reply {
        self.patch(path, &patch_op(operations))
    }

    /// The member ids of a group, sorted.
    pub fn member_ids(&self, group_id: &str) -> Vec<String> {
        let group = self.get(&format!("/Groups/{group_id}")).ok(200);
        let mut ids: Vec<String> = group["members"]
            .as_array()
            .unwrap_or_else(|| panic!("a group with a members array: {group}"))
            .iter()
            .map(|m| m["value"].as_str().expect("member value").to_string())
            .collect();
        ids.sort();
        ids
    }
}

impl Reply {
    /// The value of header `name` (any case).
    pub fn header(&self, name: &str) -> Option<&str> {
        let name = name.to_ascii_lowercase();
        self.headers
            .iter()
            .find(|(k, _)| *k == name)
            .map(|(_, v)| v.as_str())
    }

    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }

    /// The body as JSON (panics, showing the body, when it is not).
    pub fn json(&self) -> Value {
        serde_json::from_slice(&self.body).unwrap_or_else(|e| {
            panic!(
                "status {}: body is not JSON ({e}): {}",
                self.status,
                self.text()
            )
        })
    }

    /// Asserts the SCIM media type.
    pub fn assert_scim_json(&self) -> &Reply {
        let ct = self.header("content-type").unwrap_or_default();
        assert!(
            ct.starts_with("application/scim+json"),
            "status {}: Content-Type is {ct:?}, not application/scim+json: {}",
            self.status,
            self.text()
        );
        self
    }

    /// Asserts `status` and the SCIM media type and returns the JSON body.
    pub fn ok(&self, status: u16) -> Value {
        assert_eq!(
            self.status,
            status,
            "unexpected status; body: {}",
            self.text()
        );
        self.assert_scim_json();
        self.json()
    }

    /// Asserts a bodiless answer with `status` (204, 304).
    pub fn empty(&self, status: u16) {
        assert_eq!(
            self.status,
            status,
            "unexpected status; body: {}",
            self.text()
        );
        assert!(
            self.body.is_empty(),
            "{status} with a body: {}",
            self.text()
        );
    }

    /// Asserts a SCIM error with `status` and `scim_type` (`None`: no scimType) and
    /// returns its body.
    pub fn error(&self, status: u16, scim_type: Option<&str>) -> Value {
        let body = self.ok(status);
        assert_eq!(body["schemas"], json!([ERROR]), "error schema: {body}");
        assert_eq!(
            body["status"],
            json!(status.to_string()),
            "status member: {body}"
        );
        assert_eq!(
            body.get("scimType").and_then(Value::as_str),
            scim_type,
            "scimType: {body}"
        );
        assert!(body["detail"].is_string(), "detail: {body}");
        body
    }
}

// ---------------------------------------------------------------------------------------
// What Entra sends

/// Entra's POST /Users with its default attribute mapping.
pub fn entra_user(user_name: &str) -> Value {
    let local = user_name.split('@').next().unwrap_or(user_name);
    json!({
        "schemas": [USER_SCHEMA, ENTERPRISE],
        "externalId": format!("{local}-ext"),
        "userName": user_name,
        "active": true,
        "displayName": format!("{local} Display"),
        "emails": [{"primary": true, "type": "work", "value": format!("{local}@mail.example")}],
        "meta": {"resourceType": "User"},
        "name": {
            "formatted": format!("{local} Family"),
            "familyName": "Family",
            "givenName": local,
        },
        "roles": [],
        ENTERPRISE: {"employeeNumber": "1000"},
    })
}

/// Entra's POST /Groups.
pub fn entra_group(display_name: &str) -> Value {
    json!({
        "schemas": [GROUP_SCHEMA, ENTRA_GROUP_SCHEMA],
        "externalId": format!("{display_name}-objectid"),
        "displayName": display_name,
        "meta": {"resourceType": "Group"},
    })
}

/// A PatchOp message with `operations`.
pub fn patch_op(operations: Value) -> Value {
    json!({"schemas": [PATCH_OP], "Operations": operations})
}

/// Entra's member list: `[{"$ref": null, "value": id}, ...]`.
pub fn member_refs<S: AsRef<str>>(ids: &[S]) -> Value {
    ids.iter()
        .map(|id| json!({"$ref": null, "value": id.as_ref()}))
        .collect()
}

/// The `id` of a resource.
pub fn id(resource: &Value) -> String {
    resource["id"]
        .as_str()
        .unwrap_or_else(|| panic!("a resource with an id: {resource}"))
        .to_string()
}

/// The ids in a ListResponse, in order.
pub fn ids(list: &Value) -> Vec<String> {
    assert_eq!(
        list["schemas"],
        json!([LIST_RESPONSE]),
        "a ListResponse: {list}"
    );
    list["Resources"]
        .as_array()
        .unwrap_or_else(|| panic!("Resources array: {list}"))
        .iter()
        .map(id)
        .collect()
}

/// Percent-encodes everything but unreserved characters (RFC 3986).
pub fn encode(text: &str) -> String {
    text.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'_' | b'~' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}
