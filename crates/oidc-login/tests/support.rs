//! The harness: the real `oidc-provider-mock` process on a free loopback port, an optional
//! forwarding proxy in front of it (to tamper with token responses and count key-set
//! fetches), a real actix server (run by [`testkit::server`]) with the SCIM API and the
//! sign-in routes over one SQLite store, and a cookie-keeping "browser" that follows the
//! flow over HTTP.

use std::collections::HashMap;
use std::net::TcpListener;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use actix_web::{HttpRequest, HttpResponse, web};
use oidc_login::{CacheSettings, Keys, LoginConfig, LoginState};
use scim_api::{ScimConfig, ScimState};
use serde_json::{Value, json};
use store::{AuditQuery, LinkBy, OidcSettingsUpdate, Store, StoreConfig, TeamId, TeamUpdate};
use testkit::server::{Loopback, Running};

pub const TENANT: &str = "11111111-2222-3333-4444-555555555555";
pub const OTHER_TENANT: &str = "99999999-8888-7777-6666-555555555555";
pub const CLIENT_ID: &str = "sshward-test";
pub const TEAM: &str = "contoso";
const USER_SCHEMA: &str = "urn:ietf:params:scim:schemas:core:2.0:User";
const ENTERPRISE: &str = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User";
const PATCH_OP: &str = "urn:ietf:params:scim:api:messages:2.0:PatchOp";

/// The test venv, or `None` (after saying so) when the suite is skipped. With `CI=true`
/// a missing venv fails instead.
pub fn venv() -> Option<PathBuf> {
    testkit::required_env(
        "SSHWARD_TEST_VENV",
        "OIDC",
        "scripts/test.sh creates the venv with scripts/venv.sh and sets it; or run \
         scripts/venv.sh and export SSHWARD_TEST_VENV=$PWD/.venv",
    )
    .map(PathBuf::from)
}

fn free_port() -> u16 {
    let l = TcpListener::bind("127.0.0.1:0").expect("bind a free port");
    l.local_addr().expect("address").port()
}

/// The people of the provider: claims as Entra would send them.
pub fn person(sub: &str, upn: &str, tid: &str) -> Value {
    json!({"sub": sub, "tid": tid, "oid": format!("oid-{sub}"),
           "preferred_username": upn, "email": upn.to_lowercase(), "name": sub})
}

/// The default people: alice and carol (provisioned), bob (not provisioned), eve (another
/// tenant), mallory (a domain not on the allow list).
pub fn people() -> Vec<Value> {
    vec![
        person("alice", "Alice@Contoso.com", TENANT),
        person("bob", "bob@contoso.com", TENANT),
        person("carol", "carol@contoso.com", TENANT),
        person("eve", "eve@contoso.com", OTHER_TENANT),
        person("mallory", "mallory@fabrikam.com", TENANT),
    ]
}

/// The `oidc-provider-mock` process.
pub struct Mock {
    child: Child,
    pub port: u16,
    venv: PathBuf,
    args: Vec<String>,
}

impl Mock {
    /// Starts the provider on a free port with `--require-nonce`, `extra` options and the
    /// given users, and waits until it answers.
    pub fn start(venv: &std::path::Path, extra: &[&str], users: &[Value]) -> Mock {
        let mut args: Vec<String> = vec!["--require-nonce".into()];
        args.extend(extra.iter().map(|s| s.to_string()));
        for u in users {
            args.push("--user-claims".into());
            args.push(u.to_string());
        }
        let port = free_port();
        let child = Mock::spawn(venv, port, &args);
        let mock = Mock {
            child,
            port,
            venv: venv.to_path_buf(),
            args,
        };
        mock.wait_ready();
        mock
    }

    fn spawn(venv: &std::path::Path, port: u16, args: &[String]) -> Child {
        Command::new(venv.join("bin/oidc-provider-mock"))
            .args(["--host", "127.0.0.1", "--port", &port.to_string()])
            .args(args)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("start oidc-provider-mock")
    }

    fn wait_ready(&self) {
        let deadline = Instant::now() + Duration::from_secs(30);
        let url = format!("{}/.well-known/openid-configuration", self.url());
        while Instant::now() < deadline {
            if agent().get(&url).call().is_ok_and(|r| r.status() == 200) {
                return;
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        panic!("oidc-provider-mock did not answer on port {}", self.port);
    }

    /// `http://127.0.0.1:PORT`: the issuer when reached directly.
    pub fn url(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    /// Restarts the provider on the same port: a new signing key (a key rotation), the
    /// same users.
    pub fn restart(&mut self) {
        self.stop();
        self.child = Mock::spawn(&self.venv, self.port, &self.args);
        self.wait_ready();
    }

    fn stop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Drop for Mock {
    fn drop(&mut self) {
        self.stop();
    }
}

/// The value of the query parameter `name` of `url` (panics when absent).
pub fn query_param(url: &str, name: &str) -> String {
    let url = openidconnect::url::Url::parse(url).expect("a URL");
    url.query_pairs()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.into_owned())
        .unwrap_or_else(|| panic!("no {name} in {url}"))
}

/// A blocking client that neither follows redirects nor treats 4xx/5xx as errors.
pub fn agent() -> ureq::Agent {
    ureq::Agent::config_builder()
        .http_status_as_error(false)
        .max_redirects(0)
        .timeout_global(Some(Duration::from_secs(30)))
        .build()
        .new_agent()
}

/// A forwarding proxy in front of the provider. It keeps the `Host` header, so the
/// provider names the proxy as issuer and endpoints. It counts key-set fetches and, when
/// asked, alters the ID token of token responses without re-signing it.
pub struct Proxy {
    pub origin: String,
    pub tamper: Arc<AtomicBool>,
    pub jwks_fetches: Arc<AtomicUsize>,
    _running: Running,
}

#[derive(Clone)]
struct ProxyState {
    upstream: String,
    tamper: Arc<AtomicBool>,
    jwks_fetches: Arc<AtomicUsize>,
}

async fn forward(req: HttpRequest, body: web::Bytes, state: web::Data<ProxyState>) -> HttpResponse {
    let state = state.get_ref().clone();
    let method = req.method().as_str().to_owned();
    let target = format!(
        "{}{}",
        state.upstream,
        req.uri()
            .path_and_query()
            .map(|p| p.as_str())
            .unwrap_or("/")
    );
    let headers: Vec<(String, String)> = req
        .headers()
        .iter()
        .filter(|(k, _)| {
            !matches!(
                k.as_str(),
                "content-length" | "connection" | "accept-encoding"
            )
        })
        .filter_map(|(k, v)| Some((k.as_str().to_owned(), v.to_str().ok()?.to_owned())))
        .collect();
    let path = req.path().to_owned();
    let result = web::block(move || {
        if path == "/jwks" {
            state.jwks_fetches.fetch_add(1, Ordering::SeqCst);
        }
        let mut request = ureq::http::Request::builder()
            .method(method.as_str())
            .uri(&target);
        for (k, v) in &headers {
            request = request.header(k, v);
        }
        let request = request.body(body.to_vec()).expect("request");
        let mut response = agent().run(request).expect("upstream");
        let status = response.status().as_u16();
        let content_type = response
            .headers()
            .get("content-type")
            .and_then(|v| v.to_str().ok())
            .unwrap_or("text/plain")
            .to_owned();
        let location = response
            .headers()
            .get("location")
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned);
        let mut bytes = response.body_mut().read_to_vec().expect("upstream body");
        if path == "/oauth2/token" && status == 200 {
            bytes = fix_expires_in(&bytes);
            if state.tamper.load(Ordering::SeqCst) {
                bytes = tamper_token_response(&bytes);
            }
        }
        (status, content_type, location, bytes)
    })
    .await
    .expect("proxy worker");
    let (status, content_type, location, bytes) = result;
    let mut out =
        HttpResponse::build(actix_web::http::StatusCode::from_u16(status).expect("status"));
    out.content_type(content_type);
    if let Some(l) = location {
        out.insert_header(("location", l));
    }
    out.body(bytes)
}

/// The provider reports a negative `expires_in` when told to issue expired tokens, which
/// no OAuth client parses; the ID token (and its `exp`) is left as it is.
fn fix_expires_in(body: &[u8]) -> Vec<u8> {
    let mut json: Value = serde_json::from_slice(body).expect("token response JSON");
    if json["expires_in"].as_i64().is_some_and(|e| e < 1) {
        json["expires_in"] = json!(1);
    }
    json.to_string().into_bytes()
}

/// Replaces the ID token's payload with one naming another person (carol), keeping the
/// header and the signature: what an attacker on the wire would try.
fn tamper_token_response(body: &[u8]) -> Vec<u8> {
    use base64::Engine as _;
    use base64::engine::general_purpose::URL_SAFE_NO_PAD;
    let mut json: Value = serde_json::from_slice(body).expect("token response JSON");
    let token = json["id_token"].as_str().expect("id_token").to_owned();
    let parts: Vec<&str> = token.split('.').collect();
    let mut claims: Value =
        serde_json::from_slice(&URL_SAFE_NO_PAD.decode(parts[1]).expect("payload"))
            .expect("claims");
    claims["preferred_username"] = json!("carol@contoso.com");
    let payload = URL_SAFE_NO_PAD.encode(claims.to_string());
    json["id_token"] = json!(format!("{}.{payload}.{}", parts[0], parts[2]));
    json.to_string().into_bytes()
}

impl Proxy {
    pub fn start(upstream: &str) -> Proxy {
        let loopback = Loopback::bind();
        let origin = loopback.origin().to_owned();
        let state = ProxyState {
            upstream: upstream.to_owned(),
            tamper: Arc::new(AtomicBool::new(false)),
            jwks_fetches: Arc::new(AtomicUsize::new(0)),
        };
        let (tamper, jwks_fetches) = (state.tamper.clone(), state.jwks_fetches.clone());
        let running = loopback.serve(move |cfg| {
            cfg.app_data(web::Data::new(state.clone()))
                .default_service(web::to(forward));
        });
        Proxy {
            origin,
            tamper,
            jwks_fetches,
            _running: running,
        }
    }
}

/// sshward under test: SCIM API and sign-in over one SQLite store, with the team
/// `contoso` (tenant [`TENANT`], domain contoso.com, client [`CLIENT_ID`], its secret in
/// a file) whose issuer is given.
pub struct Server {
    pub origin: String,
    pub store: Store,
    pub team: TeamId,
    pub scim_token: String,
    _running: Running,
    _dir: tempfile::TempDir,
}

impl Server {
    pub fn start(issuer: &str) -> Server {
        let dir = tempfile::tempdir().expect("temporary directory");
        let secret = dir.path().join("client-secret");
        std::fs::write(&secret, "not-so-secret\n").expect("write the secret");
        let store = Store::open(&StoreConfig::new(format!(
            "sqlite://{}",
            dir.path().join("sshward.db").display()
        )))
        .expect("open the store");
        let (team, scim_token) = store
            .write(|tx| {
                let team = tx.teams().create(TEAM, "Contoso")?;
                tx.teams().update(
                    team.id,
                    &TeamUpdate {
                        entra_tenant_id: Some(Some(TENANT.parse()?)),
                        allowed_domains: Some(vec!["contoso.com".parse()?]),
                        ..TeamUpdate::default()
                    },
                )?;
                tx.login().set_oidc(
                    team.id,
                    &OidcSettingsUpdate {
                        client_id: Some(Some(CLIENT_ID.into())),
                        client_secret_ref: Some(Some(
                            format!("file:{}", secret.display()).parse()?,
                        )),
                        issuer: Some(Some(issuer.parse()?)),
                        link_by: Some(LinkBy::UserName),
                    },
                )?;
                let (_, token) = tx.tokens().create(team.id, "entra", None)?;
                Ok::<_, store::StoreError>((team.id, token))
            })
            .expect("create the team");
        let loopback = Loopback::bind();
        let origin = loopback.origin().to_owned();
        let mut config = LoginConfig::new(origin.clone());
        config.cache = CacheSettings {
            jwks_min_refresh: Duration::ZERO,
            ..CacheSettings::default()
        };
        let keys =
            Keys::load(&store, &keyring::Kek::generate().expect("kek"), None, None).expect("keys");
        let login = LoginState::new(store.clone(), config, keys);
        let scim = ScimState::new(
            store.clone(),
            ScimConfig {
                public_url: origin.clone(),
                max_body_bytes: scim_api::DEFAULT_MAX_BODY_BYTES,
            },
        );
        let running = loopback.serve(move |cfg| {
            scim_api::configure(cfg, scim.clone());
            oidc_login::configure(cfg, login.clone());
        });
        Server {
            origin,
            store,
            team,
            scim_token,
            _running: running,
            _dir: dir,
        }
    }

    /// Provisions a user the way Entra does (POST with both schemas, string booleans
    /// tolerated); returns its SCIM id.
    pub fn provision(&self, user_name: &str, external_id: &str) -> String {
        let body = json!({
            "schemas": [USER_SCHEMA, ENTERPRISE],
            "externalId": external_id,
            "userName": user_name,
            "active": true,
            "displayName": user_name.split('@').next().unwrap_or_default(),
            "emails": [{"primary": true, "type": "work", "value": user_name}],
            "name": {"formatted": user_name, "familyName": "Test", "givenName": "Person"},
            "roles": []
        });
        let mut r = agent()
            .post(format!("{}/scim/v2/{TEAM}/Users", self.origin))
            .header("Authorization", format!("Bearer {}", self.scim_token))
            .header("Content-Type", "application/scim+json")
            .send(body.to_string())
            .expect("SCIM POST");
        assert_eq!(r.status(), 201, "provisioning {user_name}");
        let created: Value = r.body_mut().read_json().expect("SCIM answer");
        created["id"].as_str().expect("id").to_owned()
    }

    /// Disables a user with Entra's PATCH (`"active": "False"` as a string).
    pub fn disable(&self, id: &str) {
        self.set_active(id, "False");
    }

    /// Enables user `id` again, as Entra does.
    pub fn enable(&self, id: &str) {
        self.set_active(id, "True");
    }

    fn set_active(&self, id: &str, value: &str) {
        let body = json!({"schemas": [PATCH_OP],
            "Operations": [{"op": "Replace", "path": "active", "value": value}]});
        let r = agent()
            .patch(format!("{}/scim/v2/{TEAM}/Users/{id}", self.origin))
            .header("Authorization", format!("Bearer {}", self.scim_token))
            .header("Content-Type", "application/scim+json")
            .send(body.to_string())
            .expect("SCIM PATCH");
        assert_eq!(r.status(), 200, "setting active={value} on {id}");
    }

    /// The newest audit entry with `action` (`login.success`, `login.denied`, ...).
    pub fn last_audit(&self, action: &str) -> Option<store::AuditEntry> {
        let query = AuditQuery {
            action: Some(action.parse().expect("an audit action")),
            ..AuditQuery::default()
        };
        self.store
            .read(|tx| tx.audit().query(self.team, &query, 1))
            .expect("audit")
            .into_iter()
            .next()
            .map(|r| r.entry)
    }

    /// Every audit summary of sign-ins, as one string (to check that no secret is there).
    pub fn all_audit(&self) -> String {
        self.store
            .read(|tx| tx.audit().query(self.team, &AuditQuery::default(), 1000))
            .expect("audit")
            .into_iter()
            .map(|r| format!("{} {} {}\n", r.entry.actor, r.entry.action, r.entry.summary))
            .collect()
    }
}

/// An answer as the browser sees it.
#[derive(Debug)]
pub struct Page {
    pub status: u16,
    pub location: Option<String>,
    pub set_cookies: Vec<String>,
    pub body: String,
}

/// A browser without JavaScript: keeps sshward's cookies, never follows redirects by
/// itself.
#[derive(Default)]
pub struct Browser {
    pub cookies: HashMap<String, String>,
}

impl Browser {
    fn remember(&mut self, response: &ureq::http::Response<ureq::Body>) -> Vec<String> {
        let mut raw = Vec::new();
        for v in response.headers().get_all("set-cookie") {
            let Ok(v) = v.to_str() else { continue };
            raw.push(v.to_owned());
            let pair = v.split(';').next().unwrap_or_default();
            if let Some((name, value)) = pair.split_once('=') {
                let removed = v.to_ascii_lowercase().contains("max-age=0") || value.is_empty();
                if removed {
                    self.cookies.remove(name.trim());
                } else {
                    self.cookies
                        .insert(name.trim().to_owned(), value.to_owned());
                }
            }
        }
        raw
    }

    fn page(&mut self, mut response: ureq::http::Response<ureq::Body>) -> Page {
        let set_cookies = self.remember(&response);
        Page {
            status: response.status().as_u16(),
            location: response
                .headers()
                .get("location")
                .and_then(|v| v.to_str().ok())
                .map(str::to_owned),
            set_cookies,
            body: response.body_mut().read_to_string().unwrap_or_default(),
        }
    }

    fn cookie_header(&self) -> String {
        self.cookies
            .iter()
            .map(|(k, v)| format!("{k}={v}"))
            .collect::<Vec<_>>()
            .join("; ")
    }

    /// GET with the browser's cookies.
    pub fn get(&mut self, url: &str) -> Page {
        let mut request = agent().get(url);
        if !self.cookies.is_empty() {
            request = request.header("Cookie", self.cookie_header());
        }
        let response = request.call().expect("GET");
        self.page(response)
    }

    /// POST (empty form) with the browser's cookies.
    pub fn post(&mut self, url: &str) -> Page {
        let mut request = agent().post(url);
        if !self.cookies.is_empty() {
            request = request.header("Cookie", self.cookie_header());
        }
        let response = request.send_form([("x", "")]).expect("POST");
        self.page(response)
    }

    /// Submits the provider's authorization form for `sub` (it posts back to the same URL
    /// with its query); returns the redirect to the callback.
    pub fn authorize(&mut self, authorize_url: &str, sub: &str) -> String {
        let response = agent()
            .post(authorize_url)
            .send_form([("sub", sub)])
            .expect("POST the authorization form");
        let page = self.page(response);
        assert_eq!(page.status, 302, "authorize: {}", page.body);
        page.location.expect("Location to the callback")
    }

    /// `GET /login/{team}` (with `query`): returns the provider's authorization URL.
    pub fn start(&mut self, server: &Server, query: &str) -> String {
        let page = self.get(&format!("{}/login/{TEAM}{query}", server.origin));
        assert_eq!(page.status, 302, "login start: {}", page.body);
        page.location.expect("Location to the provider")
    }

    /// A whole browser sign-in as `sub`; the answer of the callback.
    pub fn sign_in(&mut self, server: &Server, sub: &str) -> Page {
        let authorize = self.start(server, "");
        let callback = self.authorize(&authorize, sub);
        assert!(
            callback.starts_with(&format!("{}/callback?", server.origin)),
            "{callback}"
        );
        self.get(&callback)
    }
}
