//! The web console through the binary: in a real headless Chromium (Debian's `chromium`
//! and `chromium-driver`, driven over WebDriver) an administrator signs in with the
//! first run's one-time link, sets up the identity provider, makes a SCIM token and reads
//! it off the page; Entra-shaped requests then arrive and the pages show them; a grant
//! preview names the right people; revoking the token on the page makes the next SCIM
//! request 401; an Entra sign-in (oidc-provider-mock) of an administrator gets in and of
//! anyone else gets 403. And, over plain HTTP, what an attacker would try: forged posts,
//! another team's pages, replayed links, planted sessions.
//!
//! Screenshots of every page go to `target/console-screenshots/` (not committed).

use std::path::PathBuf;

use serde_json::{Value, json};

use crate::certs::{fetch_krl, key_of, login, revoked, scim_patch, ssh_keygen};
use crate::login::{browser as browser_wrapper, configure_sign_in, provider_with, venv};
use crate::support::{Env, Server, agent, create_group, create_user, get, post};
use crate::webdriver::{self, Browser};

/// Whether Chromium is here; under CI (which installs it) its absence fails.
fn can_browse() -> bool {
    if webdriver::available() {
        return true;
    }
    assert!(
        std::env::var("CI").map_or(true, |v| v != "true"),
        "chromium and chromium-driver are missing but CI=true (scripts/test.sh installs them)"
    );
    eprintln!("SKIPPED (console in Chromium): chromium or chromium-driver missing");
    false
}

fn screenshots() -> PathBuf {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../target/console-screenshots");
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// The console path of `page` of team `team` on `server`.
fn page(server: &Server, team: &str, page: &str) -> String {
    format!("{}/console/{team}{page}", server.base)
}

/// Signs in with the one-time link `link` (first a page asking to confirm, which spends
/// nothing, screenshot to `shot`; then its button) and waits for the overview.
fn enter_with_link(browser: &Browser, link: &str, shot: Option<&std::path::Path>) {
    browser.go(link);
    assert!(
        browser
            .text("h1")
            .contains("Sign in to the console of default")
    );
    if let Some(shot) = shot {
        browser.screenshot(shot);
    }
    browser.find("main form button").click();
    browser.wait_for_url("the overview", |u| u.ends_with("/console/default"));
    assert_eq!(browser.text("h1"), "Overview");
}

/// Makes a join token for `env=prod` on the hosts page, reads it off the page, and joins
/// host `hostname` with it and a new host key over the agent API (so it gets a host
/// certificate); returns the host's credential.
fn join_host(browser: &Browser, server: &Server, hostname: &str) -> String {
    browser.go(&page(server, "default", "/hosts"));
    browser.find("#tags").fill("env=prod");
    browser.find("form.inline button").click();
    let token = browser.text("#join-secret");
    assert!(token.starts_with("sshwj_"), "{token}");
    assert!(browser.text("#new-join-token").contains("env=prod"));
    let keys = tempfile::tempdir().unwrap();
    let key = keys.path().join("ssh_host_ed25519_key");
    let made = ssh_keygen(&["-q", "-t", "ed25519", "-N", "", "-f", key.to_str().unwrap()]);
    assert!(made.status.success(), "{made:?}");
    let host_key = std::fs::read_to_string(format!("{}.pub", key.display())).unwrap();
    let joined = post(
        &format!("{}/api/v1/hosts/join", server.base),
        &token,
        &json!({ "hostname": hostname, "host_keys": [host_key.trim()] }),
    );
    assert_eq!(joined.status, 201, "{joined:?}");
    let joined = joined.json();
    assert!(
        joined["certificates"]["certificates"][0]["serial"].is_i64(),
        "{joined}"
    );
    joined["credential"].as_str().unwrap().to_owned()
}

/// A phone's window (CSS pixels), an iPhone 14's.
const PHONE: (u32, u32) = (390, 844);

/// Asserts that the current page `what` is no wider than the window: the document does
/// not scroll sideways (wide tables scroll inside their own box).
fn assert_fits_width(browser: &Browser, what: &str) {
    let sizes = browser
        .execute("const d = document.documentElement; return [d.scrollWidth, d.clientWidth]");
    if sizes[0].as_u64() <= sizes[1].as_u64() {
        return;
    }
    // The elements that reach past the window outside a scrolling box (or positioned out
    // of it), innermost first, to say what to fix.
    let wide = browser.execute(
        "const w = document.documentElement.clientWidth;\
         const clipped = e => { if (getComputedStyle(e).position === 'absolute') return false;\
           for (let p = e.parentElement; p; p = p.parentElement)\
           if (getComputedStyle(p).overflowX !== 'visible') return true; return false; };\
         return [...document.querySelectorAll('body *')]\
         .filter(e => e.getBoundingClientRect().right > w + 0.5 && !clipped(e))\
         .reverse().slice(0, 5).map(e => e.outerHTML.slice(0, 160))",
    );
    panic!(
        "{what} is wider than the window (scrollWidth, clientWidth): {sizes} at {}; \
         too wide: {wide:#}",
        browser.url()
    );
}

const SCRIPT_NAME: &str = "<script>alert(1)</script>";
const IMG_NAME: &str = "\"><img src=x onerror=alert(2)>";

#[test]
fn console_setup_and_provisioning_in_chromium() {
    if !can_browse() {
        return;
    }
    let env = Env::new();
    let server = env.serve();
    let link = server
        .console_link
        .clone()
        .expect("the first run prints a console link");
    let shots = screenshots();
    let browser = Browser::start();

    // The one-time link: opening it spends nothing; the button signs in.
    enter_with_link(&browser, &link, Some(&shots.join("link.png")));
    let cookie = browser
        .cookies()
        .into_iter()
        .find(|c| c["name"] == "sshward_console")
        .expect("the console cookie");
    assert_eq!(cookie["httpOnly"], true, "{cookie}");
    assert_eq!(cookie["sameSite"], "Strict", "{cookie}");
    browser.screenshot(&shots.join("overview.png"));

    // A replayed link fails.
    browser.go(&link);
    browser.find("main form button").click();
    browser.wait_for_text("h1", "Not allowed");

    // Identity provider: a wrong tenant is refused with the typed values kept; then saved.
    browser.go(&page(&server, "default", "/identity"));
    browser.find("#tenant").fill("not-a-guid");
    browser.find("#domains").fill("contoso.com");
    browser.find("main form button[type=submit]").click();
    assert!(
        browser.text(".error").contains("Tenant ID"),
        "{}",
        browser.source()
    );
    assert_eq!(
        browser.find("#domains").attribute("value").as_deref(),
        Some("contoso.com")
    );
    browser
        .find("#tenant")
        .fill("11111111-2222-3333-4444-555555555555");
    browser.find("#client_id").fill("sshward-console-test");
    browser.find("main form button[type=submit]").click();
    assert_eq!(browser.text(".notice"), "Saved.");
    assert!(browser.text("#redirect-uri").ends_with("/callback"));
    browser.screenshot(&shots.join("identity.png"));
    let shown = env.run(&["team", "show", "default", "--json"]).json();
    assert_eq!(
        shown["entra_tenant_id"], "11111111-2222-3333-4444-555555555555",
        "{shown}"
    );
    assert_eq!(shown["allowed_domains"], json!(["contoso.com"]), "{shown}");

    // SCIM: the Tenant URL and a new token, read off the page.
    browser.go(&page(&server, "default", "/scim"));
    let tenant_url = browser.text("#tenant-url");
    assert_eq!(tenant_url, server.url);
    browser.find("#label").fill("entra-console");
    browser.find("form.inline button").click();
    let secret = browser.text("#token-secret");
    assert!(secret.starts_with("sshw_"), "{secret}");
    browser.screenshot(&shots.join("scim.png"));

    // Entra provisions with it: users (two with hostile names) and a group.
    let alice = create_user(&tenant_url, &secret, "alice@contoso.com");
    let body = |user_name: &str, display: &str| {
        json!({
            "schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"],
            "userName": user_name, "active": true, "displayName": display,
            "emails": [{"type": "work", "primary": true, "value": user_name}],
        })
    };
    let mallory = post(
        &format!("{tenant_url}/Users"),
        &secret,
        &body("mallory@contoso.com", SCRIPT_NAME),
    );
    assert_eq!(mallory.status, 201, "{mallory:?}");
    let eve = post(
        &format!("{tenant_url}/Users"),
        &secret,
        &body("eve@contoso.com", IMG_NAME),
    );
    assert_eq!(eve.status, 201, "{eve:?}");
    let carol = create_user(&tenant_url, &secret, "carol@contoso.com");
    let ops = create_group(&tenant_url, &secret, "ops", &[&alice, &carol]);

    // The users page shows them, the hostile names as text, never as markup.
    browser.go(&page(&server, "default", "/users"));
    let source = browser.source();
    assert!(source.contains("alice@contoso.com"), "{source}");
    assert!(!source.contains("<script>alert(1)"), "unescaped: {source}");
    assert!(!source.contains("<img src=x"), "unescaped: {source}");
    assert!(
        source.contains("&lt;script&gt;alert(1)&lt;/script&gt;"),
        "{source}"
    );
    let table = browser.text("table");
    assert!(
        table.contains(SCRIPT_NAME) && table.contains(IMG_NAME),
        "{table}"
    );
    assert_eq!(browser.execute("return document.images.length"), json!(0));
    browser.screenshot(&shots.join("users.png"));
    // On a phone the page fits its width: nothing but the table scrolls sideways.
    browser.resize(PHONE.0, PHONE.1);
    assert_fits_width(&browser, "the users page");
    browser.screenshot(&shots.join("users-phone.png"));
    browser.resize(1280, 1000);
    browser.find("#q").fill("car");
    browser.find("form.filters button").click();
    browser.wait_for_url("the search", |u| u.contains("q=car"));
    let found = browser.text("table tbody");
    assert!(
        found.contains("carol@contoso.com") && !found.contains("alice"),
        "{found}"
    );
    // Disabled in Entra: only the disabled filter lists her.
    let disable = crate::support::patch(
        &format!("{tenant_url}/Users/{carol}"),
        &secret,
        &json!({"schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
                "Operations": [{"op": "Replace", "path": "active", "value": "False"}]}),
    );
    assert_eq!(disable.status, 200, "{disable:?}");
    browser.go(&page(&server, "default", "/users?status=disabled"));
    let disabled = browser.text("table tbody");
    assert!(
        disabled.contains("carol@contoso.com") && !disabled.contains("alice"),
        "{disabled}"
    );
    browser.go(&page(&server, "default", "/users?status=active"));
    assert!(!browser.text("table tbody").contains("carol@contoso.com"));
    let enable = crate::support::patch(
        &format!("{tenant_url}/Users/{carol}"),
        &secret,
        &json!({"schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
                "Operations": [{"op": "Replace", "path": "active", "value": true}]}),
    );
    assert_eq!(enable.status, 200, "{enable:?}");

    // A user's page and a group's page.
    browser.go(&page(&server, "default", &format!("/users/{alice}")));
    assert_eq!(browser.text("h1"), "alice@contoso.com");
    assert!(browser.text("main").contains("ops"));
    browser.screenshot(&shots.join("user.png"));
    browser.go(&page(&server, "default", &format!("/groups/{ops}")));
    let members = browser.text("table tbody");
    assert!(
        members.contains("alice@contoso.com") && members.contains("carol@contoso.com"),
        "{members}"
    );
    browser.screenshot(&shots.join("group.png"));
    // A group name with markup is shown as text too.
    create_group(&tenant_url, &secret, IMG_NAME, &[]);
    browser.go(&page(&server, "default", "/groups"));
    assert!(browser.text("table").contains(IMG_NAME));
    assert!(!browser.source().contains("<img src=x"));
    assert_eq!(browser.execute("return document.images.length"), json!(0));
    browser.screenshot(&shots.join("groups.png"));

    // The provisioning log shows the creates (and the progress of the last minute).
    browser.go(&page(&server, "default", "/log"));
    let log = browser.text("main");
    assert!(
        log.contains("scim.user.create") && log.contains("scim.group.create"),
        "{log}"
    );
    assert!(
        browser
            .text("#progress")
            .contains("4 users and 2 groups created"),
        "{log}"
    );
    browser.screenshot(&shots.join("log.png"));
    // The log's filters: by operation, by user, and failures only (there are none).
    browser.go(&page(
        &server,
        "default",
        "/log?operation=scim.group.create",
    ));
    let groups_only = browser.text("main table");
    assert!(
        groups_only.contains("scim.group.create") && !groups_only.contains("scim.user.create"),
        "{groups_only}"
    );
    browser.go(&page(&server, "default", &format!("/log?user={alice}")));
    let alices = browser.text("main table tbody");
    assert!(
        alices.contains(&alice) && !alices.contains(&carol),
        "{alices}"
    );
    browser.go(&page(&server, "default", "/log?outcome=failed&hours=1"));
    assert!(browser.text("main table tbody").contains("Nothing here."));
    // During a sync the progress refreshes in place, without reloading the page.
    browser.execute("window.notReloaded = true; return null");
    create_user(&tenant_url, &secret, "dave@contoso.com");
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(15);
    while !browser.text("#progress").contains("5 users") {
        assert!(
            std::time::Instant::now() < deadline,
            "the progress never refreshed"
        );
        std::thread::sleep(std::time::Duration::from_millis(250));
    }
    assert_eq!(
        browser.execute("return window.notReloaded === true"),
        json!(true)
    );

    // A grant preview names exactly ops' members on the prod host; confirming adds it.
    join_host(&browser, &server, "web-1");
    browser.go(&page(&server, "default", "/grants"));
    browser.find("#group").fill("ops");
    browser.find("#hosts").fill("env=prod");
    browser
        .find("main form[action$='/grants/preview'] button")
        .click();
    browser.wait_for_url("the preview", |u| u.ends_with("/grants/preview"));
    let preview = browser.text("table tbody");
    assert!(preview.contains("web-1"), "{preview}");
    assert!(
        preview.contains("alice") && preview.contains("carol"),
        "{preview}"
    );
    assert!(
        !preview.contains("mallory") && !preview.contains("eve"),
        "{preview}"
    );
    assert!(
        env.run(&["grant", "list", "--json"])
            .json()
            .as_array()
            .unwrap()
            .is_empty()
    );
    browser.screenshot(&shots.join("grant-preview.png"));
    browser.find("main form button").click();
    browser.wait_for_url("the grants", |u| u.ends_with("/grants"));
    let grants = env.run(&["grant", "list", "--json"]).json();
    assert_eq!(grants.as_array().unwrap().len(), 1, "{grants}");
    browser.screenshot(&shots.join("grants.png"));
    browser.go(&page(&server, "default", "/hosts"));
    assert!(browser.text("table").contains("web-1"));
    browser.screenshot(&shots.join("hosts.png"));
    browser.go(&page(&server, "default", "/certificates"));
    browser.screenshot(&shots.join("certificates.png"));

    // Revoking the token on the page: Entra's next request is refused.
    browser.go(&page(&server, "default", "/scim"));
    let before = get(&format!("{tenant_url}/Users?count=1"), Some(&secret));
    assert_eq!(before.status, 200, "{before:?}");
    let revoke = format!(
        "button[aria-label='Revoke token {}']",
        token_id(&env, "entra-console")
    );
    browser.find(&revoke).click();
    browser.wait_for_text("table", "revoked");
    let after = get(&format!("{tenant_url}/Users?count=1"), Some(&secret));
    assert_eq!(after.status, 401, "{after:?}");

    // Every action of the console is audited with the administrator as the actor.
    browser.go(&page(&server, "default", "/audit"));
    let audit = browser.text("main");
    assert!(
        audit.contains("admin.token.revoke") && audit.contains("console:link:"),
        "{audit}"
    );
    browser.screenshot(&shots.join("audit.png"));
    let revoked = env
        .run(&["audit", "--action", "admin.token.revoke", "--json"])
        .json();
    assert!(
        revoked[0]["actor"]
            .as_str()
            .unwrap()
            .starts_with("console:link:"),
        "{revoked}"
    );

    // Signing out ends the session: the old cookie no longer opens a page.
    let session = cookie
        .get("value")
        .and_then(Value::as_str)
        .unwrap()
        .to_owned();
    browser.find("form.signout button").click();
    browser.wait_for_text("h1", "Signed out");
    let stale = console_get(&server, "/console/default/users", &session);
    assert_eq!(stale.0, 303, "a signed-out session still opens pages");
}

/// The id of the token labelled `label`.
fn token_id(env: &Env, label: &str) -> i64 {
    let tokens = env.run(&["token", "list", "--json"]).json();
    tokens
        .as_array()
        .unwrap()
        .iter()
        .find(|t| t["label"] == label)
        .and_then(|t| t["id"].as_i64())
        .unwrap_or_else(|| panic!("no token {label}: {tokens}"))
}

/// An HTTP client that does not follow redirects.
fn no_redirect_agent() -> ureq::Agent {
    ureq::Agent::config_builder()
        .http_status_as_error(false)
        .max_redirects(0)
        .build()
        .into()
}

/// GET `path` with console session cookie `session`: (status, Location, body).
fn console_get(server: &Server, path: &str, session: &str) -> (u16, String, String) {
    let mut r = no_redirect_agent()
        .get(format!("{}{path}", server.base))
        .header("Cookie", &format!("sshward_console={session}"))
        .call()
        .unwrap();
    let location = r
        .headers()
        .get("location")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_owned();
    (
        r.status().as_u16(),
        location,
        r.body_mut().read_to_string().unwrap_or_default(),
    )
}

/// POSTs `form` to `path` with the session cookie and these extra headers.
fn console_post(
    server: &Server,
    path: &str,
    session: &str,
    form: &str,
    headers: &[(&str, &str)],
) -> (u16, String) {
    let mut req = no_redirect_agent()
        .post(format!("{}{path}", server.base))
        .header("Cookie", &format!("sshward_console={session}"))
        .header("Content-Type", "application/x-www-form-urlencoded");
    for (k, v) in headers {
        req = req.header(*k, *v);
    }
    let mut r = req.send(form.as_bytes()).unwrap();
    (
        r.status().as_u16(),
        r.body_mut().read_to_string().unwrap_or_default(),
    )
}

/// Signs in to `team`'s console with a fresh one-time link; returns the session secret.
fn link_session(env: &Env, server: &Server, team: &str) -> String {
    let made = env
        .run(&[
            "admin",
            "link",
            "--team",
            team,
            "--public-url",
            &server.base,
            "--json",
        ])
        .json();
    let url = made["url"].as_str().unwrap();
    let code = url.split("code=").nth(1).unwrap();
    let r = no_redirect_agent()
        .post(format!("{}/console/{team}/link", server.base))
        .header("Content-Type", "application/x-www-form-urlencoded")
        .header("Origin", &server.base)
        .send(format!("code={code}").as_bytes())
        .unwrap();
    assert_eq!(r.status(), 303);
    let set = r
        .headers()
        .get("set-cookie")
        .unwrap()
        .to_str()
        .unwrap()
        .to_owned();
    set.split(';')
        .next()
        .unwrap()
        .split_once('=')
        .unwrap()
        .1
        .to_owned()
}

/// The CSRF token on a page of the session.
fn csrf_of(server: &Server, session: &str) -> String {
    let (_, _, body) = console_get(server, "/console/default/scim", session);
    let at = body
        .find("name=\"csrf\" value=\"")
        .expect("a form with a CSRF token")
        + 19;
    body[at..at + 64].to_owned()
}

#[test]
fn console_refuses_forgery_other_teams_replays_and_fixation() {
    let env = Env::new();
    let server = env.serve();
    env.run(&["team", "create", "other", "--no-token"]).ok();
    let session = link_session(&env, &server, "default");
    let csrf = csrf_of(&server, &session);
    let create = |csrf: &str, headers: &[(&str, &str)]| {
        console_post(
            &server,
            "/console/default/scim/tokens",
            &session,
            &format!("csrf={csrf}&label=x"),
            headers,
        )
    };
    let tokens = || {
        env.run(&["token", "list", "--team", "default", "--json"])
            .json()
            .as_array()
            .unwrap()
            .len()
    };
    let before = tokens();

    // No token, a wrong one, a foreign origin, a cross-site fetch: refused, nothing made.
    let wrong = "0".repeat(64);
    for (status_body, what) in [
        (
            console_post(
                &server,
                "/console/default/scim/tokens",
                &session,
                "label=x",
                &[],
            ),
            "no token",
        ),
        (create(&wrong, &[]), "a wrong token"),
        (
            create(&csrf, &[("Origin", "https://evil.example")]),
            "a foreign Origin",
        ),
        (
            create(&csrf, &[("Sec-Fetch-Site", "cross-site")]),
            "Sec-Fetch-Site cross-site",
        ),
    ] {
        let (status, body) = status_body;
        assert!(status == 403 || status == 400, "{what}: {status} {body}");
        assert!(body.contains("<html"), "{what}: an HTML page: {body}");
    }
    assert_eq!(tokens(), before, "a refused post made a token");
    // The right token from the console's own origin works.
    let (status, body) = create(
        &csrf,
        &[("Origin", &server.base), ("Sec-Fetch-Site", "same-origin")],
    );
    assert_eq!(status, 201, "{body}");
    assert_eq!(tokens(), before + 1);

    // Team default's admin finds no pages of team other (404, not 403: they do not exist
    // for them), and their CSRF token does nothing there.
    for path in [
        "/console/other",
        "/console/other/users",
        "/console/other/scim",
        "/console/other/audit",
    ] {
        let (status, _, _) = console_get(&server, path, &session);
        assert_eq!(status, 404, "{path}");
    }
    let (status, _) = console_post(
        &server,
        "/console/other/scim/tokens",
        &session,
        &format!("csrf={csrf}&label=x"),
        &[],
    );
    assert_eq!(status, 404);

    // Without a session: the sign-in page; with a made-up cookie: the same.
    let (status, location, _) = console_get(&server, "/console/default/users", "sshwcs_made-up");
    assert_eq!(
        (status, location.as_str()),
        (303, "/console/default/signin")
    );

    // A link works once and only for its team.
    let made = env
        .run(&["admin", "link", "--team", "other", "--json"])
        .json();
    let code = made["url"]
        .as_str()
        .unwrap()
        .split("code=")
        .nth(1)
        .unwrap()
        .to_owned();
    let redeem = |team: &str| {
        let r = no_redirect_agent()
            .post(format!("{}/console/{team}/link", server.base))
            .header("Content-Type", "application/x-www-form-urlencoded")
            .send(format!("code={code}").as_bytes())
            .unwrap();
        r.status().as_u16()
    };
    assert_eq!(redeem("default"), 403, "another team's link");
    // Refused there, it was not spent: it still signs in to its own team, once.
    assert_eq!(redeem("other"), 303, "the link of team other");
    assert_eq!(redeem("other"), 403, "a replayed link");

    // Session fixation: a session planted in a browser before its owner signs in is not
    // the session they get, and it stops working.
    let planted = link_session(&env, &server, "default");
    let made = env
        .run(&["admin", "link", "--team", "default", "--json"])
        .json();
    let code = made["url"]
        .as_str()
        .unwrap()
        .split("code=")
        .nth(1)
        .unwrap()
        .to_owned();
    let r = no_redirect_agent()
        .post(format!("{}/console/default/link", server.base))
        .header("Content-Type", "application/x-www-form-urlencoded")
        .header("Cookie", &format!("sshward_console={planted}"))
        .send(format!("code={code}").as_bytes())
        .unwrap();
    let set = r
        .headers()
        .get("set-cookie")
        .unwrap()
        .to_str()
        .unwrap()
        .to_owned();
    assert!(
        !set.contains(&planted),
        "the planted session was kept: {set}"
    );
    let (status, _, _) = console_get(&server, "/console/default", &planted);
    assert_eq!(status, 303, "the planted session still works");

    // A team name that cannot be one is no page, and never reaches a Location header
    // (a control character there made a 500, found by schemathesis).
    let (status, _) = console_post(&server, "/console/%02/grants/1/remove", &session, "", &[]);
    assert_eq!(status, 404);

    // Security headers on every page, and errors are pages, never 500s.
    let r = agent()
        .get(format!("{}/console/default/signin", server.base))
        .call()
        .unwrap();
    let header = |n: &str| {
        r.headers()
            .get(n)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("")
            .to_owned()
    };
    assert!(header("content-security-policy").contains("frame-ancestors 'none'"));
    assert!(!header("content-security-policy").contains("unsafe-inline"));
    assert_eq!(header("x-frame-options"), "DENY");
    for path in [
        "/console/default/users/%00",
        "/console/default/grants/x/remove",
        "/console/%2e%2e/users",
        "/console/default/nope",
        "/console/%02/users",
        "/console/%0a",
    ] {
        let (status, _, body) = console_get(&server, path, &session);
        assert!(
            (400..500).contains(&status) || status == 303,
            "{path}: {status}"
        );
        assert!(!body.contains("panicked"), "{path}");
    }
}

#[test]
fn console_entra_sign_in_admits_admins_only() {
    if !can_browse() {
        return;
    }
    let Some(venv) = venv() else { return };
    let provider = provider_with(&venv, &["alice", "bob"]);
    let env = Env::new();
    let server = env.serve();
    configure_sign_in(&env, provider.1);
    let tenant_url = &server.url;
    let alice = create_user(tenant_url, server.token(), "alice@contoso.com");
    create_user(tenant_url, server.token(), "bob@contoso.com");
    let admins = create_group(tenant_url, server.token(), "console-admins", &[&alice]);
    env.run(&["admin", "add", "--team", "default", "--group", &admins])
        .ok();
    let listed = env
        .run(&["admin", "list", "--team", "default", "--json"])
        .json();
    assert_eq!(listed[0]["name"], "console-admins", "{listed}");

    let sign_in = |who: &str| {
        let browser = Browser::start();
        browser.go(&page(&server, "default", ""));
        browser.wait_for_url("the sign-in page", |u| u.ends_with("/signin"));
        browser.find("a.button").click();
        browser
            .find("input[name=sub]")
            .fill(&format!("{who}\u{E007}"));
        browser
    };
    // bob signed in with Entra, but is no console administrator: 403.
    let bob = sign_in("bob");
    bob.wait_for_url("the console", |u| u.ends_with("/console/default/enter"));
    bob.wait_for_text("h1", "Not allowed");
    assert!(bob.text("main").contains("not a console administrator"));
    // alice is, through the group: the page moves on to the overview by itself.
    let alice_browser = sign_in("alice");
    alice_browser.wait_for_url("the overview", |u| u.ends_with("/console/default"));
    assert_eq!(alice_browser.text("h1"), "Overview");
    assert_eq!(alice_browser.text(".who"), "alice@contoso.com");
    // Removed from the group in Entra: her next click is refused.
    let r = crate::support::patch(
        &format!("{tenant_url}/Groups/{admins}"),
        server.token(),
        &json!({"schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
                "Operations": [{"op": "Remove", "path": "members", "value": [{"value": alice}]}]}),
    );
    assert_eq!(r.status, 204, "{r:?}");
    alice_browser.go(&page(&server, "default", "/users"));
    assert!(alice_browser.text("h1").contains("Not allowed"));
    let audit = env
        .run(&["audit", "--action", "console.denied", "--json"])
        .json();
    assert!(!audit.as_array().unwrap().is_empty(), "{audit}");
}

/// The text of the first cell of each row of the page's table body: the userNames of a
/// user listing.
fn first_cells(browser: &Browser) -> Vec<String> {
    let cells = browser.execute(
        "return [...document.querySelectorAll('main table tbody tr td:first-child')]\
         .map(td => td.textContent.trim())",
    );
    cells
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c.as_str().unwrap().to_owned())
        .collect()
}

/// Presses Tab (at most 60 times) until the focused element matches CSS `selector`: it
/// can be reached with the keyboard alone.
fn tab_to(browser: &Browser, selector: &str) {
    let check = format!(
        "return document.activeElement !== null && document.activeElement.matches({})",
        json!(selector)
    );
    for _ in 0..60 {
        if browser.execute(&check) == json!(true) {
            return;
        }
        browser.keys(&webdriver::TAB.to_string());
    }
    panic!(
        "Tab never reached {selector} on {}; focus is on {}",
        browser.url(),
        browser.execute("return document.activeElement.outerHTML")
    );
}

/// Asserts that the focused element shows that it has the focus: it matches
/// `:focus-visible` and draws an outline or a box shadow.
fn assert_focus_visible(browser: &Browser, what: &str) {
    let style = browser.execute(
        "const e = document.activeElement, s = getComputedStyle(e);\
         return {visible: e.matches(':focus-visible'), outline: s.outlineStyle,\
                 width: parseFloat(s.outlineWidth), shadow: s.boxShadow}",
    );
    assert_eq!(style["visible"], true, "{what}: {style}");
    let outline = style["outline"] != "none" && style["width"].as_f64().unwrap_or(0.0) > 0.0;
    assert!(
        outline || style["shadow"] != "none",
        "{what} has no visible focus: {style}"
    );
}

#[test]
fn console_paging_keyboard_and_phone_width_in_chromium() {
    if !can_browse() {
        return;
    }
    let env = Env::new();
    let server = env.serve();
    let link = server.console_link.clone().expect("a console link");
    let (tenant_url, token) = (&server.url, server.token());
    // 60 members, added as Entra adds them: the group first, then PATCHes of members.
    let mut names: Vec<String> = (0..60)
        .map(|i| format!("member-{i:02}@contoso.com"))
        .collect();
    let ids: Vec<String> = names
        .iter()
        .map(|n| create_user(tenant_url, token, n))
        .collect();
    let group = create_group(tenant_url, token, "big", &[]);
    for batch in ids.chunks(25) {
        let value: Vec<Value> = batch.iter().map(|id| json!({ "value": id })).collect();
        scim_patch(
            &server,
            &format!("Groups/{group}"),
            json!([{"op": "Add", "path": "members", "value": value}]),
        );
    }
    let browser = Browser::start();
    enter_with_link(&browser, &link, None);

    // The group's members, 50 to a page: the next page holds the other 10, and the two
    // pages together are every member once.
    browser.go(&page(&server, "default", &format!("/groups/{group}")));
    assert!(browser.text("nav.paging").contains("1–50 of 60"));
    assert!(browser.try_find("a[rel=prev]").is_none());
    let mut shown = first_cells(&browser);
    assert_eq!(shown.len(), 50, "{shown:?}");
    browser.find("a[rel=next]").click();
    browser.wait_for_text("nav.paging", "51–60 of 60");
    let second = first_cells(&browser);
    assert_eq!(second.len(), 10, "{second:?}");
    assert!(browser.try_find("a[rel=next]").is_none());
    assert!(browser.try_find("a[rel=prev]").is_some());
    shown.extend(second);
    shown.sort();
    names.sort();
    assert_eq!(shown, names, "every member exactly once");

    // With the keyboard alone: Tab reaches the skip link (shown, with a visible focus),
    // Enter skips to the content, and the grant form is filled, previewed and confirmed.
    join_host(&browser, &server, "web-1");
    browser.go(&page(&server, "default", "/grants"));
    tab_to(&browser, "a.skip");
    assert_focus_visible(&browser, "the skip link");
    let left = browser.execute("return document.activeElement.getBoundingClientRect().left");
    assert!(
        left.as_f64().unwrap() >= 0.0,
        "the skip link stays off-screen"
    );
    browser.keys(&webdriver::ENTER.to_string());
    browser.wait_for_url("the content", |u| u.ends_with("#main"));
    tab_to(&browser, "#group");
    browser.keys("big");
    tab_to(&browser, "#hosts");
    browser.keys("env=prod");
    tab_to(&browser, "#role");
    browser.keys(&webdriver::ARROW_DOWN.to_string());
    assert_eq!(
        browser.execute("return document.getElementById('role').value"),
        json!("sudo")
    );
    tab_to(&browser, "main form[action$='/grants/preview'] button");
    assert_focus_visible(&browser, "the Preview button");
    browser.keys(&webdriver::ENTER.to_string());
    browser.wait_for_url("the preview", |u| u.ends_with("/grants/preview"));
    let preview = browser.wait_for_text("table tbody", "member-00");
    assert!(preview.contains("member-59"), "{preview}");
    tab_to(
        &browser,
        "main form[action$='/grants/add'] button[type=submit]",
    );
    assert_focus_visible(&browser, "the confirm button");
    browser.keys(&webdriver::ENTER.to_string());
    browser.wait_for_url("the grants", |u| u.ends_with("/grants"));
    let grants = env.run(&["grant", "list", "--json"]).json();
    assert_eq!(grants[0]["group_id"], group, "{grants}");
    assert_eq!(grants[0]["role"], "sudo", "{grants}");

    // On a phone, no page is wider than the screen (wide tables scroll in their box).
    let user = &ids[0];
    browser.resize(PHONE.0, PHONE.1);
    for path in [
        String::new(),
        "/identity".into(),
        "/scim".into(),
        "/log".into(),
        "/users".into(),
        format!("/users/{user}"),
        "/groups".into(),
        format!("/groups/{group}"),
        "/hosts".into(),
        "/grants".into(),
        "/certificates".into(),
        "/audit".into(),
    ] {
        browser.go(&page(&server, "default", &path));
        browser.find("main h1");
        assert_fits_width(&browser, &format!("page {path:?}"));
    }
    // The removal preview, a page reached by a form.
    browser.go(&page(&server, "default", "/grants"));
    browser.find("main table form button").click();
    browser.wait_for_url("the removal preview", |u| u.ends_with("/preview-remove"));
    browser.wait_for_text("main h1", "Remove grant");
    assert_fits_width(&browser, "the removal preview");
    browser.screenshot(&screenshots().join("grant-remove-phone.png"));
}

#[test]
fn console_certificate_revocation_and_test_sign_in_in_chromium() {
    if !can_browse() {
        return;
    }
    let Some(venv) = venv() else { return };
    let provider = provider_with(&venv, &["alice"]);
    let env = Env::new();
    let server = env.serve();
    let link = server.console_link.clone().expect("a console link");
    configure_sign_in(&env, provider.1);
    let alice = create_user(&server.url, server.token(), "alice@contoso.com");
    create_group(&server.url, server.token(), "ssh-users", &[&alice]);
    env.run(&["grant", "add", "--group", "ssh-users", "--hosts", "*"])
        .ok();
    // alice signs in with `sshward login` and gets a certificate, as people do.
    let wrapper = browser_wrapper(&env, &venv);
    let issued = login(&env, &server, &wrapper, "alice").json();
    let serial = issued["certificate"]["serial"].as_i64().unwrap();
    let cert = std::path::PathBuf::from(format!("{}-cert.pub", key_of(&env, "alice").display()));
    let browser = Browser::start();
    enter_with_link(&browser, &link, None);
    // A host, to read the revocation list as hosts do: nothing revoked yet.
    let credential = join_host(&browser, &server, "web-1");
    let krl = env.path().join("revoked_keys");
    let etag = fetch_krl(&server, &credential, &krl, None);
    assert!(!revoked(&krl, &cert));

    // Revoked on the certificates page: shown revoked, no longer revocable, listed
    // revoked, in the revocation list hosts fetch, and audited with the console actor.
    browser.go(&page(&server, "default", "/certificates"));
    let revoke = format!("button[aria-label='Revoke certificate {serial}']");
    browser.find(&revoke).click();
    // The same page again, once the revocation is done: wait for what it says.
    let state = format!(
        "return [...document.querySelectorAll('main tbody tr')]\
         .filter(tr => tr.cells[0].textContent.trim() === '{serial}')\
         .map(tr => tr.cells[5].textContent.trim())"
    );
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(15);
    while browser.execute(&state) != json!(["revoked"]) {
        assert!(
            std::time::Instant::now() < deadline,
            "certificate {serial} is not shown revoked: {}",
            browser.text("main table")
        );
        std::thread::sleep(std::time::Duration::from_millis(100));
    }
    assert!(browser.try_find(&revoke).is_none(), "still revocable");
    let listed = env.run(&["cert", "list", "--json"]).json();
    let row = listed
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["serial"] == serial)
        .unwrap_or_else(|| panic!("no certificate {serial}: {listed}"));
    assert_eq!(row["status"], "revoked", "{row}");
    fetch_krl(&server, &credential, &krl, Some(&etag));
    assert!(revoked(&krl, &cert), "the revocation list does not hold it");
    let audit = env
        .run(&["audit", "--action", "admin.cert.revoke", "--json"])
        .json();
    assert!(
        audit[0]["actor"]
            .as_str()
            .is_some_and(|a| a.starts_with("console:link:")),
        "{audit}"
    );

    // The identity provider page's Test sign-in opens the team's sign-in in a new tab:
    // the provider's page, and signed in there, the person it signed in.
    browser.go(&page(&server, "default", "/identity"));
    let test = browser.find("main a.button[target=_blank]");
    assert_eq!(
        test.attribute("href"),
        Some(format!("{}/login/default?return_to=%2Fme", server.base))
    );
    let console_tab = browser.window();
    test.click();
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(15);
    let tab = loop {
        if let Some(tab) = browser.windows().into_iter().find(|w| *w != console_tab) {
            break tab;
        }
        assert!(std::time::Instant::now() < deadline, "no new tab");
        std::thread::sleep(std::time::Duration::from_millis(100));
    };
    browser.switch_to(&tab);
    let at_provider = browser.wait_for_url("the provider", |u| {
        u.starts_with(&format!("http://127.0.0.1:{}/", provider.1))
    });
    assert!(
        at_provider.contains("client_id=sshward-test"),
        "{at_provider}"
    );
    browser.find("input[name=sub]").fill("alice\u{E007}");
    browser.wait_for_url("the signed-in page", |u| u.ends_with("/me"));
    let me = browser.text("body");
    assert!(me.contains("alice@contoso.com"), "{me}");
    browser.switch_to(&console_tab);
    assert!(browser.url().ends_with("/identity"));
}
