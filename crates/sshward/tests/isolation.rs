//! Isolation over every route: two teams, red and blue, each with a SCIM token, a user
//! in a group granted `env=prod`, a granted host and an ungranted one, a spare join
//! token, a person signed in from the CLI (access token) and in a browser (session
//! cookie), all on one real `sshward serve`. For each route, the credentials of one team
//! (and of one host) are used against the other's data, and must neither read nor change
//! it.
//!
//! The route list is the server's own `GET /openapi.json` (which the binary's unit test
//! `every_mounted_route_is_in_the_openapi_document` holds equal to what is mounted): a
//! route without a case in [`CASES`], or a case for a route that is gone, fails the suite
//! before anything else runs.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use serde_json::{Value, json};

use crate::certs::ssh_keygen;
use crate::login::{Provider, browser, configure_sign_in_for, provider_with, venv};
use crate::openapi::{concrete, routes};
use crate::support::*;

/// What a case checks: one route (method, pattern), both teams against each other.
type Case = fn(&World, &str, &str);

/// One case per route of the OpenAPI document, run in this order (logout last: it ends
/// sessions the other cases use).
const CASES: &[(&str, &str, Case)] = &[
    ("GET", "/healthz", public_route),
    ("HEAD", "/healthz", public_route),
    ("GET", "/readyz", public_route),
    ("HEAD", "/readyz", public_route),
    ("GET", "/metrics", public_route),
    ("GET", "/openapi.json", public_route),
    ("HEAD", "/openapi.json", public_route),
    (
        "GET",
        "/scim/v2/{team}/ServiceProviderConfig",
        scim_discovery,
    ),
    ("GET", "/scim/v2/{team}/Schemas", scim_discovery),
    ("GET", "/scim/v2/{team}/Schemas/{id}", scim_discovery),
    ("GET", "/scim/v2/{team}/ResourceTypes", scim_discovery),
    ("GET", "/scim/v2/{team}/ResourceTypes/{id}", scim_discovery),
    ("GET", "/scim/v2/{team}/{resource}", scim_list),
    ("POST", "/scim/v2/{team}/{resource}/.search", scim_search),
    ("POST", "/scim/v2/{team}/.search", scim_search_everything),
    ("POST", "/scim/v2/{team}/{resource}", scim_create),
    ("GET", "/scim/v2/{team}/{resource}/{id}", scim_get),
    ("PUT", "/scim/v2/{team}/{resource}/{id}", scim_replace),
    ("PATCH", "/scim/v2/{team}/{resource}/{id}", scim_patch),
    ("DELETE", "/scim/v2/{team}/{resource}/{id}", scim_delete),
    ("POST", "/api/v1/hosts/join", host_join),
    ("GET", "/api/v1/hosts/self/access", host_access),
    ("GET", "/api/v1/hosts/self/principals", host_principals),
    ("GET", "/api/v1/hosts/self/sudoers", host_sudoers),
    ("POST", "/api/v1/hosts/self/certificates", host_certificates),
    ("POST", "/api/v1/hosts/self/status", host_status),
    ("POST", "/api/v1/ssh/user-certificate", user_certificate),
    ("GET", "/api/v1/hosts/self/krl", host_krl),
    ("GET", "/api/v1/teams/{team}/ca/{file}", ca_keys),
    ("GET", "/login/{team}", login_start),
    ("GET", "/callback", login_callback),
    ("POST", "/login/{team}/device", login_device),
    ("POST", "/login/token", login_token),
    ("GET", "/console", console_public),
    ("GET", "/console/static/{file}", console_public),
    ("GET", "/console/{team}/signin", console_public),
    ("GET", "/console/{team}/link", console_public),
    ("POST", "/console/{team}/link", console_link),
    ("GET", "/console/{team}/enter", console_enter),
    ("GET", "/console/{team}", console_page),
    ("GET", "/console/{team}/identity", console_page),
    ("GET", "/console/{team}/scim", console_page),
    ("GET", "/console/{team}/log", console_page),
    ("GET", "/console/{team}/log/progress", console_page),
    ("GET", "/console/{team}/users", console_page),
    ("GET", "/console/{team}/users/{id}", console_page),
    ("GET", "/console/{team}/groups", console_page),
    ("GET", "/console/{team}/groups/{id}", console_page),
    ("GET", "/console/{team}/hosts", console_page),
    ("GET", "/console/{team}/grants", console_page),
    ("GET", "/console/{team}/certificates", console_page),
    ("GET", "/console/{team}/audit", console_page),
    ("POST", "/console/{team}/signout", console_form),
    ("POST", "/console/{team}/identity", console_form),
    ("POST", "/console/{team}/scim/tokens", console_form),
    (
        "POST",
        "/console/{team}/scim/tokens/{id}/revoke",
        console_form,
    ),
    ("POST", "/console/{team}/hosts/join-tokens", console_form),
    ("POST", "/console/{team}/grants/preview", console_form),
    ("POST", "/console/{team}/grants/add", console_form),
    (
        "POST",
        "/console/{team}/grants/{id}/preview-remove",
        console_form,
    ),
    ("POST", "/console/{team}/grants/{id}/remove", console_form),
    (
        "POST",
        "/console/{team}/certificates/{serial}/revoke",
        console_form,
    ),
    ("GET", "/me", me),
    ("POST", "/logout", logout),
];

/// A host of a team.
struct Host {
    name: String,
    credential: String,
}

/// A team and everything its credentials can reach.
struct Team {
    slug: &'static str,
    /// The SCIM Tenant URL.
    url: String,
    /// A SCIM token.
    token: String,
    /// The person (`NAME@contoso.com`, POSIX name `NAME`), a member of `group`.
    person: &'static str,
    user_id: String,
    group_id: String,
    /// `hosts[0]` has `env=prod` (granted to `group`), `hosts[1]` has `env=dev` (none).
    hosts: Vec<Host>,
    /// An unused join token (`env=prod`).
    spare_join: String,
    /// The person's access token from `sshward login`.
    access_token: String,
    /// The person's browser session: a `Cookie` header value.
    cookie: String,
    /// The person's console session (they are a console administrator of the team): a
    /// `Cookie` header value, and its CSRF token.
    console: String,
    csrf: String,
}

struct World {
    env: Env,
    server: Server,
    /// The `$BROWSER` wrapper of the login tests.
    wrapper: PathBuf,
    red: Team,
    blue: Team,
    _idp: Provider,
}

impl World {
    /// Both orders: (me, the other team).
    fn pairs(&self) -> [(&Team, &Team); 2] {
        [(&self.red, &self.blue), (&self.blue, &self.red)]
    }

    /// Every secret and name of both teams: none may appear where it does not belong.
    fn secrets(&self) -> Vec<String> {
        let mut all = Vec::new();
        for t in [&self.red, &self.blue] {
            all.extend([
                t.token.clone(),
                t.spare_join.clone(),
                t.access_token.clone(),
                t.cookie.clone(),
                t.user_id.clone(),
                t.group_id.clone(),
                format!("{}@contoso.com", t.person),
            ]);
            for h in &t.hosts {
                all.extend([h.name.clone(), h.credential.clone()]);
            }
        }
        all
    }

    fn cli(&self, args: &[&str]) -> Value {
        self.env.run(args).json()
    }
}

/// A response of [`send`].
#[derive(Debug)]
struct Res {
    status: u16,
    headers: Vec<(String, String)>,
    body: String,
}

impl Res {
    fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    fn json(&self) -> Value {
        serde_json::from_str(&self.body).unwrap_or_else(|e| panic!("not JSON ({e}): {self:?}"))
    }

    /// The value of the cookie `name` this response sets, as `name=value`.
    fn set_cookie(&self, name: &str) -> Option<String> {
        self.headers
            .iter()
            .filter(|(n, _)| n.eq_ignore_ascii_case("set-cookie"))
            .filter_map(|(_, v)| v.split(';').next())
            .find(|pair| pair.starts_with(&format!("{name}=")) && pair.len() > name.len() + 1)
            .map(str::to_owned)
    }
}

/// Sends a request without following redirects; `headers` as given, the body as is.
fn send(method: &str, url: &str, headers: &[(&str, &str)], body: &[u8]) -> Res {
    let agent: ureq::Agent = ureq::Agent::config_builder()
        .http_status_as_error(false)
        .max_redirects(0)
        .timeout_global(Some(std::time::Duration::from_secs(30)))
        .build()
        .into();
    let mut req = ureq::http::Request::builder().method(method).uri(url);
    for (name, value) in headers {
        req = req.header(*name, *value);
    }
    let mut res = agent.run(req.body(body.to_vec()).unwrap()).unwrap();
    let headers = res
        .headers()
        .iter()
        .map(|(n, v)| (n.to_string(), v.to_str().unwrap_or_default().to_owned()))
        .collect();
    Res {
        status: res.status().as_u16(),
        headers,
        body: res.body_mut().read_to_string().unwrap_or_default(),
    }
}

fn bearer(token: &str) -> String {
    format!("Bearer {token}")
}

/// A request with `token` as the bearer and `body` as `content_type`.
fn with_bearer(
    content_type: &str,
    method: &str,
    url: &str,
    token: &str,
    body: Option<&Value>,
) -> Res {
    let auth = bearer(token);
    let text = body.map(Value::to_string).unwrap_or_default();
    let headers = [
        ("Authorization", auth.as_str()),
        ("Content-Type", content_type),
    ];
    send(method, url, &headers, text.as_bytes())
}

/// A SCIM request with `token`.
fn scim(method: &str, url: &str, token: &str, body: Option<&Value>) -> Res {
    with_bearer("application/scim+json", method, url, token, body)
}

/// A JSON request with a bearer token.
fn api(method: &str, url: &str, token: &str, body: Option<&Value>) -> Res {
    with_bearer("application/json", method, url, token, body)
}

/// A SCIM 401: the token is not one of this team's.
fn assert_scim_unauthorized(res: &Res, what: &str) {
    assert_eq!(res.status, 401, "{what}: {res:?}");
    assert!(
        res.header("content-type")
            .is_some_and(|c| c.starts_with("application/scim+json")),
        "{what}: {res:?}"
    );
}

/// Asserts that `body` holds none of `needles`.
fn assert_holds_none(body: &str, needles: &[String], what: &str) {
    for n in needles {
        assert!(!body.contains(n.as_str()), "{what} reveals {n:?}: {body}");
    }
}

/// What the other team's SCIM token gets at `method pattern` of each team: 401, and
/// nothing changes (the caller checks the data where a write could have changed it).
fn other_token_refused(w: &World, method: &str, pattern: &str, body: Option<&Value>) {
    for (me, other) in w.pairs() {
        let path =
            concrete(pattern, me.slug).replace("/Users/x", &format!("/Users/{}", me.user_id));
        let url = format!("{}{path}", w.server.base);
        let res = scim(method, &url, &other.token, body);
        assert_scim_unauthorized(&res, &format!("{method} {url} with {}'s token", other.slug));
        assert_holds_none(&res.body, &w.secrets(), &format!("{method} {url}"));
    }
}

/// The ids a ListResponse holds.
fn ids(list: &Value) -> BTreeSet<String> {
    list["Resources"]
        .as_array()
        .unwrap_or_else(|| panic!("a ListResponse: {list}"))
        .iter()
        .map(|r| r["id"].as_str().unwrap_or_default().to_owned())
        .collect()
}

/// The team's user and group ids, as its own token lists them.
fn own_ids(t: &Team) -> BTreeSet<String> {
    let mut all = BTreeSet::new();
    for resource in ["Users", "Groups"] {
        let res = scim("GET", &format!("{}/{resource}", t.url), &t.token, None);
        assert_eq!(res.status, 200, "{res:?}");
        all.extend(ids(&res.json()));
    }
    all
}

/// A user or group of `t`, read with its own token (for comparing before and after).
fn resource_of(t: &Team, resource: &str, id: &str) -> Value {
    let res = scim("GET", &format!("{}/{resource}/{id}", t.url), &t.token, None);
    assert_eq!(res.status, 200, "{res:?}");
    res.json()
}

/// Public routes: 200 with any team's credential or none, and no team's data.
fn public_route(w: &World, method: &str, path: &str) {
    let url = format!("{}{path}", w.server.base);
    let anonymous = send(method, &url, &[], b"");
    assert_eq!(anonymous.status, 200, "{method} {path}: {anonymous:?}");
    assert_holds_none(&anonymous.body, &w.secrets(), &format!("{method} {path}"));
    for t in [&w.red, &w.blue] {
        let res = api(method, &url, &t.token, None);
        assert_eq!(res.status, 200, "{method} {path}: {res:?}");
        assert_holds_none(&res.body, &w.secrets(), &format!("{method} {path}"));
    }
}

/// Discovery documents: the other team's token is refused, the own one answered.
fn scim_discovery(w: &World, method: &str, pattern: &str) {
    let pattern = match pattern {
        p if p.ends_with("/Schemas/{id}") => {
            p.replace("{id}", "urn:ietf:params:scim:schemas:core:2.0:User")
        }
        p => p.replace("{id}", "User"),
    };
    other_token_refused(w, method, &pattern, None);
    for t in [&w.red, &w.blue] {
        let url = format!("{}{}", w.server.base, pattern.replace("{team}", t.slug));
        assert_eq!(scim(method, &url, &t.token, None).status, 200, "{url}");
    }
}

fn scim_list(w: &World, _: &str, _: &str) {
    for resource in ["Users", "Groups"] {
        other_token_refused(w, "GET", &format!("/scim/v2/{{team}}/{resource}"), None);
    }
    for (me, other) in w.pairs() {
        let mine = own_ids(me);
        assert!(mine.contains(&me.user_id) && mine.contains(&me.group_id));
        assert!(!mine.contains(&other.user_id) && !mine.contains(&other.group_id));
        for filter in [
            format!("userName eq \"{}@contoso.com\"", other.person),
            format!("id eq \"{}\"", other.user_id),
        ] {
            let url = format!("{}/Users?filter={}", me.url, encode(&filter));
            let res = scim("GET", &url, &me.token, None);
            assert_eq!(res.json()["totalResults"], 0, "{filter}: {res:?}");
        }
        let url = format!(
            "{}/Groups?filter={}",
            me.url,
            encode(&format!("members[value eq \"{}\"]", other.user_id))
        );
        assert_eq!(scim("GET", &url, &me.token, None).json()["totalResults"], 0);
    }
}

/// Percent-encodes a query value.
fn encode(s: &str) -> String {
    s.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' => (b as char).to_string(),
            _ => format!("%{b:02X}"),
        })
        .collect()
}

/// A SearchRequest for `filter`.
fn search_request(filter: &str) -> Value {
    json!({"schemas": ["urn:ietf:params:scim:api:messages:2.0:SearchRequest"], "filter": filter})
}

fn scim_search(w: &World, _: &str, _: &str) {
    let everything = search_request("userName pr");
    other_token_refused(
        w,
        "POST",
        "/scim/v2/{team}/Users/.search",
        Some(&everything),
    );
    other_token_refused(
        w,
        "POST",
        "/scim/v2/{team}/Groups/.search",
        Some(&everything),
    );
    for (me, other) in w.pairs() {
        let url = format!("{}/Users/.search", me.url);
        let res = scim("POST", &url, &me.token, Some(&everything));
        assert_eq!(
            ids(&res.json()),
            BTreeSet::from([me.user_id.clone()]),
            "{res:?}"
        );
        let filter = format!("userName eq \"{}@contoso.com\"", other.person);
        let res = scim("POST", &url, &me.token, Some(&search_request(&filter)));
        assert_eq!(res.json()["totalResults"], 0, "{res:?}");
    }
}

fn scim_search_everything(w: &World, _: &str, _: &str) {
    let body = json!({"schemas": ["urn:ietf:params:scim:api:messages:2.0:SearchRequest"]});
    other_token_refused(w, "POST", "/scim/v2/{team}/.search", Some(&body));
    for (me, _) in w.pairs() {
        let res = scim(
            "POST",
            &format!("{}/.search", me.url),
            &me.token,
            Some(&body),
        );
        assert_eq!(ids(&res.json()), own_ids(me), "{res:?}");
    }
}

fn scim_create(w: &World, _: &str, _: &str) {
    let user = |name: &str| json!({"schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"], "userName": name});
    let before: Vec<_> = w.pairs().iter().map(|(t, _)| own_ids(t)).collect();
    other_token_refused(
        w,
        "POST",
        "/scim/v2/{team}/Users",
        Some(&user("intruder@contoso.com")),
    );
    let group = json!({"schemas": ["urn:ietf:params:scim:schemas:core:2.0:Group"],
        "displayName": "intruders"});
    other_token_refused(w, "POST", "/scim/v2/{team}/Groups", Some(&group));
    let after: Vec<_> = w.pairs().iter().map(|(t, _)| own_ids(t)).collect();
    assert_eq!(before, after, "a refused create created something");
    for (me, other) in w.pairs() {
        // userName is unique per team: the other team's name is free here, and creating
        // it changes nothing there.
        let name = format!("{}@contoso.com", other.person);
        let res = scim(
            "POST",
            &format!("{}/Users", me.url),
            &me.token,
            Some(&user(&name)),
        );
        assert_eq!(res.status, 201, "{res:?}");
        let id = res.json()["id"].as_str().unwrap().to_owned();
        // A group created with the other team's user as a member does not get it.
        let with_member = json!({"schemas": ["urn:ietf:params:scim:schemas:core:2.0:Group"],
            "displayName": "cross", "members": [{"value": other.user_id}]});
        let res = scim(
            "POST",
            &format!("{}/Groups", me.url),
            &me.token,
            Some(&with_member),
        );
        if res.status == 201 {
            let group = res.json();
            assert!(!group.to_string().contains(&other.user_id), "{group}");
            let gid = group["id"].as_str().unwrap();
            assert_eq!(
                scim(
                    "DELETE",
                    &format!("{}/Groups/{gid}", me.url),
                    &me.token,
                    None
                )
                .status,
                204
            );
        } else {
            assert!(matches!(res.status, 400 | 404), "{res:?}");
        }
        assert_eq!(
            resource_of(other, "Users", &other.user_id)["userName"],
            name
        );
        assert_eq!(
            scim("DELETE", &format!("{}/Users/{id}", me.url), &me.token, None).status,
            204
        );
    }
}

fn scim_get(w: &World, _: &str, _: &str) {
    other_token_refused(w, "GET", "/scim/v2/{team}/Users/x", None);
    other_token_refused(w, "GET", "/scim/v2/{team}/Groups/x", None);
    for (me, other) in w.pairs() {
        for (resource, id) in [("Users", &other.user_id), ("Groups", &other.group_id)] {
            let res = scim(
                "GET",
                &format!("{}/{resource}/{id}", me.url),
                &me.token,
                None,
            );
            assert_eq!(
                res.status, 404,
                "{resource} of {} through {}: {res:?}",
                other.slug, me.slug
            );
            assert_holds_none(
                &res.body,
                &[format!("{}@contoso.com", other.person)],
                "a 404",
            );
        }
    }
}

/// Runs `write` (with me's token, on me's URL, at the other team's user and group) and
/// checks that it is 404 and the other team's resources are unchanged.
fn cross_write(w: &World, method: &str, user_body: Option<&Value>, group_body: Option<&Value>) {
    for (me, other) in w.pairs() {
        for (resource, id, body) in [
            ("Users", &other.user_id, user_body),
            ("Groups", &other.group_id, group_body),
        ] {
            let before = resource_of(other, resource, id);
            let url = format!("{}/{resource}/{id}", me.url);
            let res = scim(method, &url, &me.token, body);
            assert_eq!(
                res.status, 404,
                "{method} {resource} of {} through {}: {res:?}",
                other.slug, me.slug
            );
            assert_eq!(
                resource_of(other, resource, id),
                before,
                "{method} changed it"
            );
        }
    }
}

fn scim_replace(w: &World, _: &str, _: &str) {
    let user = json!({"schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"],
        "userName": "replaced@contoso.com", "active": false});
    let group = json!({"schemas": ["urn:ietf:params:scim:schemas:core:2.0:Group"],
        "displayName": "replaced"});
    other_token_refused(w, "PUT", "/scim/v2/{team}/Users/x", Some(&user));
    cross_write(w, "PUT", Some(&user), Some(&group));
    for (me, _) in w.pairs() {
        assert_eq!(resource_of(me, "Users", &me.user_id)["active"], true);
    }
}

fn patch_op(operations: Value) -> Value {
    json!({"schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"], "Operations": operations})
}

fn scim_patch(w: &World, _: &str, _: &str) {
    let disable = patch_op(json!([{"op": "Replace", "path": "active", "value": "False"}]));
    let rename = patch_op(json!([{"op": "Replace", "path": "displayName", "value": "renamed"}]));
    other_token_refused(w, "PATCH", "/scim/v2/{team}/Users/x", Some(&disable));
    cross_write(w, "PATCH", Some(&disable), Some(&rename));
    for (me, other) in w.pairs() {
        // The other team's user cannot be made a member of this team's group.
        let add = patch_op(
            json!([{"op": "Add", "path": "members", "value": [{"value": other.user_id}]}]),
        );
        let url = format!("{}/Groups/{}", me.url, me.group_id);
        let res = scim("PATCH", &url, &me.token, Some(&add));
        assert!(matches!(res.status, 400 | 404), "{res:?}");
        let group = resource_of(me, "Groups", &me.group_id);
        assert_eq!(
            group["members"].as_array().map(Vec::len),
            Some(1),
            "{group}"
        );
        assert!(!group.to_string().contains(&other.user_id), "{group}");
        // Nor removed from the other team's group through this one.
        let remove = patch_op(
            json!([{"op": "Remove", "path": "members", "value": [{"value": other.user_id}]}]),
        );
        let res = scim("PATCH", &url, &me.token, Some(&remove));
        assert!(
            res.status < 300,
            "removing a non-member is a no-op: {res:?}"
        );
        let theirs = resource_of(other, "Groups", &other.group_id);
        assert!(theirs.to_string().contains(&other.user_id), "{theirs}");
    }
}

fn scim_delete(w: &World, _: &str, _: &str) {
    other_token_refused(w, "DELETE", "/scim/v2/{team}/Users/x", None);
    cross_write(w, "DELETE", None, None);
}

/// The hosts of a team as `sshward host list` shows them.
fn host_list(w: &World, t: &Team) -> Vec<Value> {
    w.cli(&["host", "list", "--team", t.slug, "--json"])
        .as_array()
        .cloned()
        .unwrap_or_else(|| panic!("a list"))
}

fn host_join(w: &World, _: &str, _: &str) {
    let url = format!("{}/api/v1/hosts/join", w.server.base);
    for (me, other) in w.pairs() {
        let theirs = host_list(w, other).len();
        // Neither a SCIM token, a host credential nor an access token is a join token.
        for wrong in [&me.token, &me.hosts[0].credential, &me.access_token] {
            let res = api("POST", &url, wrong, Some(&json!({"hostname": "stray"})));
            assert_eq!(res.status, 401, "{res:?}");
        }
        let name = format!("{}-joined", me.slug);
        let res = api(
            "POST",
            &url,
            &me.spare_join,
            Some(&json!({"hostname": name})),
        );
        assert_eq!(res.status, 201, "{res:?}");
        let credential = res.json()["credential"].as_str().unwrap().to_owned();
        assert!(
            host_list(w, me)
                .iter()
                .any(|h| h["hostname"] == name.as_str())
        );
        assert_eq!(
            host_list(w, other).len(),
            theirs,
            "a join changed {}",
            other.slug
        );
        // Its document is this team's, and the used token joins nothing again.
        let doc = api(
            "GET",
            &format!("{}/api/v1/hosts/self/access", w.server.base),
            &credential,
            None,
        );
        assert_eq!(doc.json()["hostname"], name.as_str());
        assert_holds_none(
            &doc.body,
            &[other.person.to_owned()],
            "a joined host's document",
        );
        let again = api(
            "POST",
            &url,
            &me.spare_join,
            Some(&json!({"hostname": "again"})),
        );
        assert_eq!(again.status, 401, "{again:?}");
    }
}

/// `GET path` with each host's credential: (team, host index, response).
fn per_host(w: &World, path: &str) -> Vec<(&'static str, usize, Res)> {
    let mut out = Vec::new();
    for (me, _) in w.pairs() {
        for (i, h) in me.hosts.iter().enumerate() {
            out.push((
                me.slug,
                i,
                api(
                    "GET",
                    &format!("{}{path}", w.server.base),
                    &h.credential,
                    None,
                ),
            ));
        }
    }
    out
}

fn team<'a>(w: &'a World, slug: &str) -> (&'a Team, &'a Team) {
    if slug == w.red.slug {
        (&w.red, &w.blue)
    } else {
        (&w.blue, &w.red)
    }
}

/// A host credential gets its own host's answer at `path`, and the SCIM token, the
/// access token and the other hosts' credentials are not host credentials.
fn host_route(w: &World, path: &str, check: fn(&Team, &Team, usize, &Res)) {
    for (slug, i, res) in per_host(w, path) {
        let (me, other) = team(w, slug);
        assert_eq!(res.status, 200, "{path} for {}: {res:?}", me.hosts[i].name);
        check(me, other, i, &res);
        // No host's answer names another host or the other team's person.
        let mut others: Vec<String> = other.hosts.iter().map(|h| h.name.clone()).collect();
        others.push(other.person.to_owned());
        others.push(me.hosts[1 - i].name.clone());
        assert_holds_none(
            &res.body,
            &others,
            &format!("{path} of {}", me.hosts[i].name),
        );
    }
    for (me, _) in w.pairs() {
        for wrong in [&me.token, &me.access_token, &me.spare_join] {
            let res = api("GET", &format!("{}{path}", w.server.base), wrong, None);
            assert_eq!(
                res.status, 401,
                "{path} with a non-host credential: {res:?}"
            );
        }
    }
}

fn host_access(w: &World, _: &str, _: &str) {
    host_route(w, "/api/v1/hosts/self/access", |me, _, i, res| {
        let doc = res.json();
        assert_eq!(doc["hostname"], me.hosts[i].name.as_str(), "{doc}");
        let users: Vec<&str> = doc["users"]
            .as_array()
            .unwrap()
            .iter()
            .map(|u| u["username"].as_str().unwrap())
            .collect();
        // Only the granted host has the team's person; the ungranted one nobody.
        let expected: Vec<&str> = if i == 0 { vec![me.person] } else { vec![] };
        assert_eq!(users, expected, "{doc}");
        assert!(res.header("sshward-signature").is_some());
    });
}

fn host_principals(w: &World, _: &str, _: &str) {
    for (me, other) in w.pairs() {
        for (i, h) in me.hosts.iter().enumerate() {
            for (who, allowed) in [(me.person, i == 0), (other.person, false)] {
                let url = format!("{}/api/v1/hosts/self/principals?user={who}", w.server.base);
                let res = api("GET", &url, &h.credential, None);
                assert_eq!(res.status, 200, "{res:?}");
                assert_eq!(
                    res.body.trim() == who,
                    allowed,
                    "{who} on {}: {res:?}",
                    h.name
                );
            }
        }
    }
    host_route(
        w,
        "/api/v1/hosts/self/principals?user=root",
        |_, _, _, res| {
            assert_eq!(res.body.trim(), "", "{res:?}");
        },
    );
}

fn host_sudoers(w: &World, _: &str, _: &str) {
    host_route(w, "/api/v1/hosts/self/sudoers", |me, _, i, res| {
        assert_eq!(res.body.contains(me.person), i == 0, "{res:?}");
    });
}

/// A new Ed25519 key under the environment's directory: (private key path, public line).
fn new_key(w: &World, name: &str) -> (PathBuf, String) {
    let path = w.env.path().join(format!("iso-keys/{name}"));
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    let _ = std::fs::remove_file(&path);
    let out = ssh_keygen(&[
        "-q",
        "-t",
        "ed25519",
        "-N",
        "",
        "-f",
        path.to_str().unwrap(),
    ]);
    assert!(out.status.success(), "{out:?}");
    let public = std::fs::read_to_string(path.with_extension("pub")).unwrap();
    (path, public.trim().to_owned())
}

/// The team's CA keys of `file` (user.pub or host.pub), from the public route.
fn ca_file(w: &World, t: &Team, file: &str) -> String {
    let res = send(
        "GET",
        &format!("{}/api/v1/teams/{}/ca/{file}", w.server.base, t.slug),
        &[],
        b"",
    );
    assert_eq!(res.status, 200, "{res:?}");
    res.body
}

fn host_certificates(w: &World, _: &str, _: &str) {
    let (_, key) = new_key(w, "host");
    let body = json!({"host_keys": [key]});
    for (me, other) in w.pairs() {
        for h in &me.hosts {
            let url = format!("{}/api/v1/hosts/self/certificates", w.server.base);
            let res = api("POST", &url, &h.credential, Some(&body));
            assert_eq!(res.status, 200, "{res:?}");
            let v = res.json();
            let cert = &v["certificates"][0];
            assert!(
                cert["principals"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .any(|p| p == h.name.as_str()),
                "{v}"
            );
            assert_holds_none(
                &v["certificates"].to_string(),
                &[
                    other.hosts[0].name.clone(),
                    me.hosts
                        .iter()
                        .find(|o| o.name != h.name)
                        .unwrap()
                        .name
                        .clone(),
                ],
                "a host certificate",
            );
            let theirs = ca_file(w, other, "host.pub");
            for k in v["host_ca_keys"].as_array().unwrap() {
                assert!(ca_file(w, me, "host.pub").contains(k.as_str().unwrap()));
                assert!(
                    !theirs.contains(k.as_str().unwrap()),
                    "the other team's host CA"
                );
            }
        }
        for wrong in [&me.token, &me.access_token] {
            let res = api(
                "POST",
                &format!("{}/api/v1/hosts/self/certificates", w.server.base),
                wrong,
                Some(&body),
            );
            assert_eq!(res.status, 401, "{res:?}");
        }
    }
}

fn host_status(w: &World, _: &str, _: &str) {
    for (me, other) in w.pairs() {
        let version = format!("iso-{}", me.hosts[0].name);
        let res = api(
            "POST",
            &format!("{}/api/v1/hosts/self/status", w.server.base),
            &me.hosts[0].credential,
            Some(&json!({"agent_version": version})),
        );
        assert_eq!(res.status, 204, "{res:?}");
        let mine = w
            .env
            .run(&[
                "host",
                "show",
                &me.hosts[0].name,
                "--team",
                me.slug,
                "--json",
            ])
            .ok()
            .to_owned();
        assert!(mine.contains(&version), "{mine}");
        for t in [me, other] {
            for h in &t.hosts {
                if h.name != me.hosts[0].name {
                    let shown = w
                        .env
                        .run(&["host", "show", &h.name, "--team", t.slug, "--json"])
                        .ok()
                        .to_owned();
                    assert!(
                        !shown.contains(&version),
                        "{}'s report reached {}: {shown}",
                        me.hosts[0].name,
                        h.name
                    );
                }
            }
        }
        let res = api(
            "POST",
            &format!("{}/api/v1/hosts/self/status", w.server.base),
            &me.token,
            Some(&json!({"agent_version": "x"})),
        );
        assert_eq!(res.status, 401, "{res:?}");
    }
}

/// A user certificate for the team's person, with `token`.
fn certify(w: &World, token: &str, key: &str) -> Res {
    api(
        "POST",
        &format!("{}/api/v1/ssh/user-certificate", w.server.base),
        token,
        Some(&json!({"public_key": key})),
    )
}

fn user_certificate(w: &World, _: &str, _: &str) {
    for (me, other) in w.pairs() {
        let (_, key) = new_key(w, &format!("user-{}", me.slug));
        let res = certify(w, &me.access_token, &key);
        assert_eq!(res.status, 201, "{res:?}");
        let v = res.json();
        assert_eq!(v["principals"], json!([me.person]), "{v}");
        assert!(
            v["key_id"]
                .as_str()
                .unwrap()
                .starts_with(&format!("sshward:{}:", me.slug)),
            "{v}"
        );
        let serial = v["serial"].as_i64().unwrap();
        let listed = |t: &Team| {
            w.cli(&["cert", "list", "--team", t.slug, "--json"])
                .to_string()
                .contains(&format!("\"serial\":{serial}"))
        };
        assert!(
            listed(me) && !listed(other),
            "certificate {serial} is listed in the wrong team"
        );
        // Signed by this team's user CA (ssh-keygen -L names the signing key).
        let cert_path = w
            .env
            .path()
            .join(format!("iso-keys/user-{}-cert.pub", me.slug));
        std::fs::write(&cert_path, v["certificate"].as_str().unwrap()).unwrap();
        let shown =
            String::from_utf8_lossy(&ssh_keygen(&["-L", "-f", cert_path.to_str().unwrap()]).stdout)
                .into_owned();
        let fingerprint = |ca: String| {
            let file = w.env.path().join("iso-keys/ca.pub");
            std::fs::write(&file, ca.lines().next().unwrap()).unwrap();
            let out = ssh_keygen(&["-l", "-f", file.to_str().unwrap()]);
            String::from_utf8_lossy(&out.stdout)
                .split_whitespace()
                .nth(1)
                .unwrap()
                .to_owned()
        };
        assert!(
            shown.contains(&fingerprint(ca_file(w, me, "user.pub"))),
            "{shown}"
        );
        assert!(
            !shown.contains(&fingerprint(ca_file(w, other, "user.pub"))),
            "{shown}"
        );
        // Neither a SCIM token nor a host credential is an access token.
        for wrong in [&me.token, &me.hosts[0].credential] {
            assert_eq!(certify(w, wrong, &key).status, 401);
        }
    }
}

fn host_krl(w: &World, _: &str, _: &str) {
    let krl = |h: &Host| {
        let (status, etag, bytes) = get_bytes(
            &format!("{}/api/v1/hosts/self/krl", w.server.base),
            &h.credential,
            None,
        );
        assert_eq!(status, 200);
        assert!(bytes.starts_with(b"SSHKRL\n\0"));
        etag
    };
    for (me, other) in w.pairs() {
        let (_, key) = new_key(w, &format!("revoked-{}", me.slug));
        let serial = certify(w, &me.access_token, &key).json()["serial"]
            .as_i64()
            .unwrap()
            .to_string();
        let (mine, theirs) = (krl(&me.hosts[0]), krl(&other.hosts[0]));
        w.env
            .run(&["cert", "revoke", "--team", me.slug, "--serial", &serial])
            .ok();
        // This team's list changed for both of its hosts; the other team's did not.
        assert_ne!(krl(&me.hosts[0]), mine);
        assert_eq!(krl(&me.hosts[1]), krl(&me.hosts[0]));
        assert_eq!(
            krl(&other.hosts[0]),
            theirs,
            "{}'s revocation reached {}",
            me.slug,
            other.slug
        );
        let (status, _, _) = get_bytes(
            &format!("{}/api/v1/hosts/self/krl", w.server.base),
            &me.token,
            None,
        );
        assert_eq!(status, 401);
    }
}

fn ca_keys(w: &World, _: &str, _: &str) {
    // Public by design (what sshd and known_hosts trust); each team has its own keys.
    for file in ["user.pub", "host.pub"] {
        let (red, blue) = (ca_file(w, &w.red, file), ca_file(w, &w.blue, file));
        assert!(red.starts_with("ssh-") && blue.starts_with("ssh-"));
        assert_ne!(red, blue, "{file} is shared by two teams");
        for t in [&w.red, &w.blue] {
            let url = format!("{}/api/v1/teams/{}/ca/{file}", w.server.base, t.slug);
            assert_eq!(api("GET", &url, &t.token, None).body, ca_file(w, t, file));
        }
    }
}

/// A browser sign-in of `who` at `/login/{team}`: the session cookie, or the refusal.
fn web_sign_in(base: &str, team: &str, who: &str) -> Result<String, Res> {
    let (login_cookie, authorize) = start(base, team);
    let callback = provider_sign_in(&authorize, who);
    let res = send("GET", &callback, &[("Cookie", &login_cookie)], b"");
    match res.set_cookie(oidc_login::SESSION_COOKIE) {
        Some(session) if res.status == 302 => Ok(session),
        _ => Err(res),
    }
}

/// `GET /login/{team}`: the sign-in cookie and the provider's authorization URL.
fn start(base: &str, team: &str) -> (String, String) {
    let res = send("GET", &format!("{base}/login/{team}"), &[], b"");
    assert_eq!(res.status, 302, "{res:?}");
    let cookie = res
        .set_cookie(oidc_login::LOGIN_COOKIE)
        .expect("the sign-in cookie");
    (cookie, res.header("location").unwrap().to_owned())
}

/// The provider's form, submitted as `who`: the callback URL it redirects to.
fn provider_sign_in(authorize: &str, who: &str) -> String {
    let res = send(
        "POST",
        authorize,
        &[("Content-Type", "application/x-www-form-urlencoded")],
        format!("sub={who}").as_bytes(),
    );
    assert!(matches!(res.status, 302 | 303), "{res:?}");
    res.header("location").unwrap().to_owned()
}

/// `GET /me` with a cookie or a bearer token.
fn me_with(w: &World, header: (&str, &str)) -> Res {
    send("GET", &format!("{}/me", w.server.base), &[header], b"")
}

fn login_start(w: &World, _: &str, _: &str) {
    for (me, other) in w.pairs() {
        // The other team's person is not in this team's directory: refused, no session.
        let refused =
            web_sign_in(&w.server.base, me.slug, other.person).expect_err("a sign-in across teams");
        assert_eq!(refused.status, 403, "{refused:?}");
        assert!(refused.set_cookie(oidc_login::SESSION_COOKIE).is_none());
        let session = web_sign_in(&w.server.base, me.slug, me.person).expect("a sign-in");
        assert_eq!(me_with(w, ("Cookie", &session)).json()["team"], me.slug);
    }
}

fn login_callback(w: &World, _: &str, _: &str) {
    for (me, other) in w.pairs() {
        // The provider's answer to this team's sign-in, with the other team's sign-in
        // cookie: refused, whoever signs in.
        let (_, authorize) = start(&w.server.base, me.slug);
        let (their_cookie, _) = start(&w.server.base, other.slug);
        let callback = provider_sign_in(&authorize, me.person);
        let res = send("GET", &callback, &[("Cookie", &their_cookie)], b"");
        assert_eq!(res.status, 403, "{res:?}");
        assert!(
            res.set_cookie(oidc_login::SESSION_COOKIE).is_none(),
            "{res:?}"
        );
    }
}

fn login_device(w: &World, _: &str, _: &str) {
    // The test provider offers no device sign-in: each team's route says so, naming
    // nothing of either team.
    for (me, other) in w.pairs() {
        let url = format!("{}/login/{}/device", w.server.base, me.slug);
        let res = send(
            "POST",
            &url,
            &[("Authorization", &bearer(&other.access_token))],
            b"",
        );
        assert!(res.status >= 400 && res.status < 500, "{res:?}");
        assert_eq!(res.json()["error"], "unsupported_grant_type", "{res:?}");
        assert_holds_none(&res.body, &w.secrets(), "a device sign-in");
    }
}

/// `sshward login` (the CLI flow: `/login/{team}` and `/login/token`) of `who` at
/// `team`, with a key of its own; its token is saved beside `key`.
fn cli_sign_in(
    env: &Env,
    server: &Server,
    wrapper: &Path,
    team: &str,
    who: &str,
) -> (Output, PathBuf) {
    let key = env.path().join(format!("iso-keys/{team}-{who}/id_ed25519"));
    let out = crate::certs::login_with(env, server, wrapper, team, who, &key, "");
    (out, crate::certs::token_file(&key))
}

fn login_token(w: &World, _: &str, _: &str) {
    for (me, other) in w.pairs() {
        let (out, _) = cli_sign_in(&w.env, &w.server, &w.wrapper, me.slug, other.person);
        assert_ne!(
            out.code, 0,
            "{} got a token of {}: {out:?}",
            other.person, me.slug
        );
        // A code is redeemed once, by the flow that made it: a made-up one is refused.
        let res = send(
            "POST",
            &format!("{}/login/token", w.server.base),
            &[
                ("Content-Type", "application/x-www-form-urlencoded"),
                ("Authorization", &bearer(&me.access_token)),
            ],
            b"grant_type=authorization_code&code=abc&code_verifier=def",
        );
        assert_eq!(res.status, 400, "{res:?}");
        assert_eq!(res.json()["error"], "invalid_grant");
    }
}

fn me(w: &World, _: &str, _: &str) {
    for (me, other) in w.pairs() {
        for header in [
            ("Authorization", bearer(&me.access_token)),
            ("Cookie", me.cookie.clone()),
        ] {
            let v = me_with(w, (header.0, &header.1)).json();
            assert_eq!(
                (v["team"].as_str(), v["user_id"].as_str()),
                (Some(me.slug), Some(me.user_id.as_str())),
                "{v}"
            );
            assert_holds_none(&v.to_string(), std::slice::from_ref(&other.user_id), "/me");
        }
        for wrong in [&me.token, &me.hosts[0].credential] {
            assert_eq!(me_with(w, ("Authorization", &bearer(wrong))).status, 401);
        }
    }
}

fn logout(w: &World, _: &str, _: &str) {
    let (me, other) = (&w.red, &w.blue);
    let res = send(
        "POST",
        &format!("{}/logout", w.server.base),
        &[
            ("Cookie", &me.cookie),
            ("Authorization", &bearer(&me.access_token)),
        ],
        b"",
    );
    assert_eq!(res.status, 200, "{res:?}");
    assert_eq!(me_with(w, ("Cookie", &me.cookie)).status, 401);
    assert_eq!(
        me_with(w, ("Authorization", &bearer(&me.access_token))).status,
        401
    );
    // The other team's session and token live on.
    assert_eq!(me_with(w, ("Cookie", &other.cookie)).status, 200);
    assert_eq!(
        me_with(w, ("Authorization", &bearer(&other.access_token))).status,
        200
    );
    // Logging out with the other team's cookie ends that one only.
    let res = send(
        "POST",
        &format!("{}/logout", w.server.base),
        &[("Cookie", &other.cookie)],
        b"",
    );
    assert_eq!(res.status, 200, "{res:?}");
    assert_eq!(me_with(w, ("Cookie", &other.cookie)).status, 401);
    assert_eq!(
        me_with(w, ("Authorization", &bearer(&other.access_token))).status,
        200
    );
}

/// Makes `slug` with its person, group, grant, hosts and sign-ins.
fn make_team(
    env: &Env,
    server: &Server,
    wrapper: &Path,
    idp_port: u16,
    slug: &'static str,
    person: &'static str,
) -> Team {
    let created = env.run(&["team", "create", slug, "--json"]).json();
    let token = created["token"]["secret"].as_str().unwrap().to_owned();
    configure_sign_in_for(env, slug, idp_port);
    let url = format!("{}/scim/v2/{slug}", server.base);
    let user_id = create_user(&url, &token, &format!("{person}@contoso.com"));
    let group = format!("{slug}-ssh");
    let group_id = create_group(&url, &token, &group, &[&user_id]);
    env.run(&[
        "grant", "add", "--team", slug, "--group", &group, "--hosts", "env=prod", "--sudo",
        "--json",
    ])
    .ok();
    let join = |tag: &str| {
        env.run(&[
            "host",
            "join-token",
            "create",
            "--team",
            slug,
            "--tag",
            tag,
            "--json",
        ])
        .json()["token"]
            .as_str()
            .unwrap()
            .to_owned()
    };
    let hosts = ["prod", "dev"]
        .iter()
        .map(|tag| {
            let name = format!("{slug}-{tag}");
            let body = json!({"hostname": name}).to_string();
            let url = format!("{}/api/v1/hosts/join", server.base);
            let res = post_raw(&url, Some(&join(&format!("env={tag}"))), body.as_bytes());
            assert_eq!(res.status, 201, "{res:?}");
            let credential = res.json()["credential"].as_str().unwrap().to_owned();
            Host { name, credential }
        })
        .collect();
    let (signed_in, token_file) = cli_sign_in(env, server, wrapper, slug, person);
    signed_in.ok();
    let saved = std::fs::read(token_file).unwrap();
    let saved: Value = serde_json::from_slice(&saved).unwrap();
    let cookie = web_sign_in(&server.base, slug, person).unwrap_or_else(|res| panic!("{res:?}"));
    env.run(&[
        "admin",
        "add",
        "--team",
        slug,
        "--user",
        &format!("{person}@contoso.com"),
    ])
    .ok();
    let entered = send(
        "GET",
        &format!("{}/console/{slug}/enter", server.base),
        &[("Cookie", &cookie)],
        b"",
    );
    assert_eq!(entered.status, 200, "{entered:?}");
    let console = entered
        .set_cookie("sshward_console")
        .expect("a console session");
    let page = send(
        "GET",
        &format!("{}/console/{slug}/scim", server.base),
        &[("Cookie", &console)],
        b"",
    );
    let at = page
        .body
        .find("name=\"csrf\" value=\"")
        .expect("a CSRF token")
        + 19;
    let csrf = page.body[at..at + 64].to_owned();
    Team {
        slug,
        url,
        token,
        person,
        user_id,
        group_id,
        hosts,
        spare_join: join("env=prod"),
        access_token: saved["access_token"].as_str().unwrap().to_owned(),
        cookie,
        console,
        csrf,
    }
}

/// The suite on `env`'s database.
fn isolation_on(env: Env) {
    // Failed authentications are the point here: no budget may run out.
    let server = env.serve_with(&[
        ("SSHWARD_SERVER__AUTH_FAILURES_PER_ADDRESS", "1000000"),
        ("SSHWARD_SERVER__AUTH_FAILURES_PER_TEAM", "1000000"),
    ]);
    // First the table against the server's routes.
    let documented: BTreeSet<(String, String)> = routes(&server.base)
        .into_iter()
        .flat_map(|(path, methods)| methods.into_iter().map(move |m| (m, path.clone())))
        .collect();
    let tabled: BTreeSet<(String, String)> = CASES
        .iter()
        .map(|(m, p, _)| (m.to_string(), p.to_string()))
        .collect();
    let missing: Vec<_> = documented.difference(&tabled).collect();
    let stale: Vec<_> = tabled.difference(&documented).collect();
    assert!(
        missing.is_empty() && stale.is_empty(),
        "routes without an isolation case: {missing:?}\ncases of routes that are gone: {stale:?}"
    );
    let Some(venv) = venv() else { return };
    let idp = provider_with(&venv, &["rose", "bella"]);
    let wrapper = browser(&env, &venv);
    let red = make_team(&env, &server, &wrapper, idp.1, "red", "rose");
    let blue = make_team(&env, &server, &wrapper, idp.1, "blue", "bella");
    let world = World {
        env,
        server,
        wrapper,
        red,
        blue,
        _idp: idp,
    };
    for (method, pattern, case) in CASES {
        eprintln!("isolation: {method} {pattern}");
        case(&world, method, pattern);
    }
}

#[test]
fn isolation_sqlite() {
    isolation_on(Env::new());
}

#[test]
fn isolation_postgres() {
    let Some(db) = testkit::db::empty_postgres() else {
        return;
    };
    let mut env = Env::new();
    env.on_postgres(&db.url);
    isolation_on(env);
}

/// `pattern` of the console for `team`'s own things: its user and group, grant 1,
/// certificate 1, the stylesheet.
fn console_path(pattern: &str, team: &Team) -> String {
    let id = if pattern.contains("/groups/") {
        team.group_id.as_str()
    } else if pattern.contains("/users/") {
        team.user_id.as_str()
    } else {
        "1"
    };
    pattern
        .replace("{team}", team.slug)
        .replace("{file}", "console.css")
        .replace("{serial}", "1")
        .replace("{id}", id)
}

/// Pages anyone may open (sign-in, a link's confirmation, the static files): they answer
/// without a session and hold nothing of either team.
fn console_public(w: &World, method: &str, pattern: &str) {
    for t in [&w.red, &w.blue] {
        let mut path = console_path(pattern, t);
        if path.ends_with("/link") {
            path.push_str("?code=sshwc_x");
        }
        let res = send(method, &format!("{}{path}", w.server.base), &[], b"");
        assert_eq!(res.status, 200, "{method} {path}: {res:?}");
        assert_holds_none(&res.body, &w.secrets(), &format!("{method} {path}"));
    }
}

/// A console page: the own team's administrator reads it; the other team's pages do not
/// exist for them (404), their session is no key to the other team, and a sign-in
/// session alone is no console session.
fn console_page(w: &World, method: &str, pattern: &str) {
    for (me, other) in w.pairs() {
        let own = console_path(pattern, me);
        let res = send(
            method,
            &format!("{}{own}", w.server.base),
            &[("Cookie", &me.console)],
            b"",
        );
        assert_eq!(res.status, 200, "{method} {own}: {res:?}");
        // The other team's secrets never; its ids may appear where this team's own
        // requests named them (a SCIM request for a group id that is not here, logged).
        assert_holds_none(
            &res.body,
            &[
                other.token.clone(),
                other.console.clone(),
                other.csrf.clone(),
                other.hosts[0].credential.clone(),
            ],
            &format!("{method} {own}"),
        );
        for path in [
            console_path(pattern, other),
            own.replace(me.slug, other.slug),
        ] {
            let res = send(
                method,
                &format!("{}{path}", w.server.base),
                &[("Cookie", &me.console)],
                b"",
            );
            assert_eq!(
                res.status, 404,
                "{method} {path} with {}'s session: {res:?}",
                me.slug
            );
            assert_holds_none(&res.body, &w.secrets(), &format!("{method} {path}"));
        }
        let res = send(
            method,
            &format!("{}{own}", w.server.base),
            &[("Cookie", &me.cookie)],
            b"",
        );
        assert_eq!(
            res.status, 303,
            "{method} {own} with a sign-in session only: {res:?}"
        );
    }
}

/// A console form: posted to the other team with one's own session and token, it finds
/// no page (404) before it reads the form; with the other team's token on one's own
/// page it is refused as forged (403). Neither changes anything.
fn console_form(w: &World, method: &str, pattern: &str) {
    let audit_size = |w: &World| {
        w.cli(&["audit", "--limit", "10000", "--json"])
            .as_array()
            .map_or(0, Vec::len)
    };
    let before = audit_size(w);
    for (me, other) in w.pairs() {
        let form = format!(
            "csrf={}&label=x&group={}&hosts=*&role=sudo&tenant=&domains=",
            me.csrf, other.group_id
        );
        let to_other = console_path(pattern, other);
        let res = send(
            method,
            &format!("{}{to_other}", w.server.base),
            &[
                ("Cookie", &me.console),
                ("Content-Type", "application/x-www-form-urlencoded"),
                ("Origin", &w.server.base),
            ],
            form.as_bytes(),
        );
        assert_eq!(
            res.status, 404,
            "{method} {to_other} with {}'s session: {res:?}",
            me.slug
        );
        let forged = format!(
            "csrf={}&label=x&group={}&hosts=*&role=sudo",
            other.csrf, me.group_id
        );
        let own = console_path(pattern, me);
        let res = send(
            method,
            &format!("{}{own}", w.server.base),
            &[
                ("Cookie", &me.console),
                ("Content-Type", "application/x-www-form-urlencoded"),
                ("Origin", &w.server.base),
            ],
            forged.as_bytes(),
        );
        assert_eq!(
            res.status, 403,
            "{method} {own} with {}'s token: {res:?}",
            other.slug
        );
    }
    assert_eq!(
        audit_size(w),
        before,
        "{method} {pattern}: a refused form changed something"
    );
}

/// A one-time link signs in to its own team only, and once.
fn console_link(w: &World, method: &str, pattern: &str) {
    for (me, other) in w.pairs() {
        let made = w.cli(&["admin", "link", "--team", me.slug, "--json"]);
        let code = made["url"]
            .as_str()
            .unwrap()
            .split("code=")
            .nth(1)
            .unwrap()
            .to_owned();
        let post = |team: &Team| {
            let path = console_path(pattern, team);
            send(
                method,
                &format!("{}{path}", w.server.base),
                &[("Content-Type", "application/x-www-form-urlencoded")],
                format!("code={code}").as_bytes(),
            )
        };
        let refused = post(other);
        assert_eq!(
            refused.status, 403,
            "{}'s link at {}: {refused:?}",
            me.slug, other.slug
        );
        assert!(refused.set_cookie("sshward_console").is_none());
        let used = post(me);
        assert_eq!(used.status, 303, "{used:?}");
        assert!(used.set_cookie("sshward_console").is_some());
        assert_eq!(post(me).status, 403, "a link used twice");
    }
}

/// After an Entra sign-in to one team, its console opens for an administrator; the other
/// team's console does not take that sign-in session.
fn console_enter(w: &World, method: &str, pattern: &str) {
    for (me, other) in w.pairs() {
        let at_other = console_path(pattern, other);
        let res = send(
            method,
            &format!("{}{at_other}", w.server.base),
            &[("Cookie", &me.cookie)],
            b"",
        );
        assert_eq!(
            res.status, 303,
            "{}'s sign-in at {at_other}: {res:?}",
            me.slug
        );
        assert!(res.set_cookie("sshward_console").is_none(), "{res:?}");
        let own = console_path(pattern, me);
        let res = send(
            method,
            &format!("{}{own}", w.server.base),
            &[("Cookie", &me.cookie)],
            b"",
        );
        assert_eq!(res.status, 200, "{res:?}");
        assert!(res.set_cookie("sshward_console").is_some(), "{res:?}");
    }
}
