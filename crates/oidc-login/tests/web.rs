//! Browser sign-in against the real provider.

use std::sync::atomic::Ordering;

use serde_json::Value;

use crate::support::{Browser, Mock, Proxy, Server, TEAM, agent, people, query_param, venv};

/// Starts the provider with the default people and a server trusting it.
fn setup() -> Option<(Mock, Server)> {
    let venv = venv()?;
    let mock = Mock::start(&venv, &[], &people());
    let server = Server::start(&mock.url());
    server.provision("alice@contoso.com", "alice");
    server.provision("carol@contoso.com", "carol");
    Some((mock, server))
}

fn me(browser: &mut Browser, server: &Server) -> (u16, Value) {
    let page = browser.get(&format!("{}/me", server.origin));
    (
        page.status,
        serde_json::from_str(&page.body).unwrap_or_default(),
    )
}

/// The reason recorded for the last refused sign-in.
fn denied_reason(server: &Server) -> String {
    server
        .last_audit("login.denied")
        .map(|e| e.summary)
        .unwrap_or_default()
}

#[test]
fn success_sets_a_session_and_logout_ends_it() {
    let Some((_mock, server)) = setup() else {
        return;
    };
    let mut browser = Browser::default();
    // return_to must be a path on this server: anything else is refused at /login, before
    // a flow exists (browsers drop a tab or newline: "/\t/evil.com" is "//evil.com").
    for bad in [
        "//evil.example/x",
        "%2F%09%2Fevil.com",
        "%2F%0A%2Fevil.com",
        "%2F%0D%2Fevil.com",
        "%2F%0B%2Fevil.com",
        "%2F%00%2Fevil.com",
        "%2F%5Cevil.com",
        "https%3A%2F%2Fevil.com%2F",
    ] {
        let page = browser.get(&format!("{}/login/{TEAM}?return_to={bad}", server.origin));
        assert_eq!(page.status, 400, "{bad}: {}", page.body);
        assert!(page.location.is_none(), "{bad}");
    }
    assert!(server.last_audit("login.success").is_none());
    let authorize = browser.start(&server, "");
    // The authorization request carries PKCE, state and nonce.
    for param in [
        "code_challenge=",
        "code_challenge_method=S256",
        "state=",
        "nonce=",
        "scope=openid",
    ] {
        assert!(authorize.contains(param), "{param} missing in {authorize}");
    }
    let callback = browser.authorize(&authorize, "alice");
    let page = browser.get(&callback);
    assert_eq!(page.status, 302, "{}", page.body);
    assert_eq!(page.location.as_deref(), Some("/me"));
    let session = page
        .set_cookies
        .iter()
        .find(|c| c.starts_with("sshward_session="))
        .expect("a session cookie");
    for attr in ["HttpOnly", "SameSite=Lax", "Path=/", "Max-Age="] {
        assert!(session.contains(attr), "{attr} missing in {session}");
    }
    assert!(!session.contains("Secure"), "plain http: no Secure flag");
    assert!(
        !session.contains("alice"),
        "the session cookie is encrypted: {session}"
    );

    // The token's "Alice@Contoso.com" links to userName "alice@contoso.com".
    let (status, body) = me(&mut browser, &server);
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["user_name"], "alice@contoso.com");
    assert_eq!(body["team"], TEAM);
    let entry = server.last_audit("login.success").expect("audited");
    assert!(
        entry.summary.contains("Alice@Contoso.com"),
        "{}",
        entry.summary
    );
    assert!(
        matches!(entry.actor, store::Actor::User(_)),
        "{:?}",
        entry.actor
    );

    // Logging out ends the session itself, not only this browser's cookie: a copy of the
    // cookie taken before is refused afterwards.
    let mut copy = Browser {
        cookies: browser.cookies.clone(),
    };
    assert_eq!(me(&mut copy, &server).0, 200);
    let out = browser.post(&format!("{}/logout", server.origin));
    assert_eq!(out.status, 200);
    assert_eq!(me(&mut browser, &server).0, 401);
    let (status, body) = me(&mut copy, &server);
    assert_eq!(status, 401, "{body}");
    assert!(server.last_audit("login.logout").is_some());
    // A forged session cookie is not accepted.
    let mut forger = Browser::default();
    forger
        .cookies
        .insert("sshward_session".into(), "eyJ0ZWFtIjoiY29udG9zbyJ9".into());
    assert_eq!(me(&mut forger, &server).0, 401);
}

#[test]
fn wrong_tenant_is_refused() {
    let Some((_mock, server)) = setup() else {
        return;
    };
    let page = Browser::default().sign_in(&server, "eve");
    assert_eq!(page.status, 403);
    assert!(page.body.contains("tenant"), "{}", page.body);
    assert!(
        denied_reason(&server).contains("wrong_tenant"),
        "{}",
        denied_reason(&server)
    );
}

#[test]
fn domain_not_on_the_allow_list_is_refused() {
    let Some((_mock, server)) = setup() else {
        return;
    };
    let page = Browser::default().sign_in(&server, "mallory");
    assert_eq!(page.status, 403);
    assert!(page.body.contains("fabrikam.com"), "{}", page.body);
    assert!(denied_reason(&server).contains("domain_not_allowed"));
}

#[test]
fn person_not_provisioned_is_refused() {
    let Some((_mock, server)) = setup() else {
        return;
    };
    let page = Browser::default().sign_in(&server, "bob");
    assert_eq!(page.status, 403);
    assert!(page.body.contains("not provisioned"), "{}", page.body);
    let reason = denied_reason(&server);
    assert!(
        reason.contains("not_provisioned") && reason.contains("bob@contoso.com"),
        "{reason}"
    );
}

#[test]
fn person_disabled_by_scim_is_refused_and_loses_the_session() {
    let Some((_mock, server)) = setup() else {
        return;
    };
    let carol = server.provision("dave@contoso.com", "dave");
    let _ = carol;
    let id = server
        .store
        .read(|tx| {
            tx.users()
                .get_by_user_name(server.team, "carol@contoso.com")
        })
        .unwrap()
        .unwrap()
        .id;
    let mut browser = Browser::default();
    assert_eq!(browser.sign_in(&server, "carol").status, 302);
    assert_eq!(me(&mut browser, &server).0, 200);

    server.disable(&id);
    // The open session ends at once, and for good: re-enabled, carol signs in afresh.
    let (status, body) = me(&mut browser, &server);
    assert_eq!(status, 401, "{body}");
    assert!(
        body["message"]
            .as_str()
            .unwrap_or_default()
            .contains("session has ended")
    );
    server.enable(&id);
    assert_eq!(me(&mut browser, &server).0, 401);
    assert_eq!(Browser::default().sign_in(&server, "carol").status, 302);
    server.disable(&id);
    let page = Browser::default().sign_in(&server, "carol");
    assert_eq!(page.status, 403);
    assert!(page.body.contains("disabled"), "{}", page.body);
    assert!(denied_reason(&server).contains("disabled"));
}

#[test]
fn tampered_id_token_is_refused() {
    let Some(venv) = venv() else { return };
    let mock = Mock::start(&venv, &[], &people());
    let proxy = Proxy::start(&mock.url());
    let server = Server::start(&proxy.origin);
    server.provision("alice@contoso.com", "alice");
    server.provision("carol@contoso.com", "carol");
    // Untampered through the proxy: fine.
    assert_eq!(Browser::default().sign_in(&server, "alice").status, 302);
    // alice's token rewritten to say carol, signature kept.
    proxy.tamper.store(true, Ordering::SeqCst);
    let page = Browser::default().sign_in(&server, "alice");
    assert_eq!(page.status, 403, "{}", page.body);
    assert!(page.body.contains("signature"), "{}", page.body);
    assert!(denied_reason(&server).contains("bad_signature"));
}

#[test]
fn wrong_nonce_is_refused() {
    let Some((_mock, server)) = setup() else {
        return;
    };
    let mut browser = Browser::default();
    let authorize = browser.start(&server, "");
    // A code obtained for another authorization request (another nonce) is injected.
    let (before, after) = authorize.split_once("nonce=").expect("nonce");
    let rest = after
        .split_once('&')
        .map(|(_, r)| format!("&{r}"))
        .unwrap_or_default();
    let swapped = format!("{before}nonce=from-another-sign-in{rest}");
    let callback = browser.authorize(&swapped, "alice");
    let page = browser.get(&callback);
    assert_eq!(page.status, 403, "{}", page.body);
    assert!(page.body.contains("nonce"), "{}", page.body);
    assert!(denied_reason(&server).contains("wrong_nonce"));
}

#[test]
fn replayed_state_and_foreign_browser_are_refused() {
    let Some((_mock, server)) = setup() else {
        return;
    };
    let mut browser = Browser::default();
    let authorize = browser.start(&server, "");
    let callback = browser.authorize(&authorize, "alice");
    let login_cookie = browser
        .cookies
        .get("sshward_login")
        .cloned()
        .expect("sign-in cookie");
    assert_eq!(browser.get(&callback).status, 302);
    // The same callback again, even with the sign-in cookie put back.
    browser.cookies.insert("sshward_login".into(), login_cookie);
    let replay = browser.get(&callback);
    assert_eq!(replay.status, 403, "{}", replay.body);
    assert!(replay.body.contains("used already"), "{}", replay.body);

    // A callback completed in a browser that did not start the sign-in (login CSRF).
    let mut victim = Browser::default();
    let mut attacker = Browser::default();
    let authorize = attacker.start(&server, "");
    let callback = attacker.authorize(&authorize, "alice");
    let page = victim.get(&callback);
    assert_eq!(page.status, 403, "{}", page.body);
    assert!(denied_reason(&server).contains("wrong_browser"));
    assert_eq!(me(&mut victim, &server).0, 401);
}

#[test]
fn expired_token_is_refused() {
    let Some(venv) = venv() else { return };
    // ID tokens that expired two minutes before they were issued (beyond the 60 s leeway).
    let mock = Mock::start(&venv, &["--token-max-age", "-120"], &people());
    let proxy = Proxy::start(&mock.url());
    let server = Server::start(&proxy.origin);
    server.provision("alice@contoso.com", "alice");
    let page = Browser::default().sign_in(&server, "alice");
    assert_eq!(page.status, 403, "{}", page.body);
    assert!(page.body.contains("expired"), "{}", page.body);
    assert!(denied_reason(&server).contains("expired"));
}

#[test]
fn key_rotation_refetches_the_key_set_once() {
    let Some(venv) = venv() else { return };
    let mut mock = Mock::start(&venv, &[], &people());
    let proxy = Proxy::start(&mock.url());
    let server = Server::start(&proxy.origin);
    server.provision("alice@contoso.com", "alice");
    assert_eq!(Browser::default().sign_in(&server, "alice").status, 302);
    assert_eq!(proxy.jwks_fetches.load(Ordering::SeqCst), 1);
    // The cached key set is reused.
    assert_eq!(Browser::default().sign_in(&server, "alice").status, 302);
    assert_eq!(proxy.jwks_fetches.load(Ordering::SeqCst), 1);

    // The provider comes back with a new signing key (and a new kid in its JWKS).
    mock.restart();
    let page = Browser::default().sign_in(&server, "alice");
    assert_eq!(
        page.status, 302,
        "sign-in after a key rotation: {}",
        page.body
    );
    assert_eq!(proxy.jwks_fetches.load(Ordering::SeqCst), 2);
}

#[test]
fn audit_and_answers_never_contain_codes_or_tokens() {
    let Some((_mock, server)) = setup() else {
        return;
    };
    let mut browser = Browser::default();
    let authorize = browser.start(&server, "");
    let callback = browser.authorize(&authorize, "alice");
    let code = query_param(&callback, "code");
    browser.get(&callback);
    Browser::default().sign_in(&server, "bob");
    let audit = server.all_audit();
    assert!(
        audit.contains("login.success") && audit.contains("login.denied"),
        "{audit}"
    );
    assert!(!audit.contains(&code), "{audit}");
    assert!(
        !audit.contains("not-so-secret") && !audit.contains("eyJ"),
        "{audit}"
    );
    // Unknown teams and unconfigured teams answer clearly.
    let page = Browser::default().get(&format!("{}/login/nope", server.origin));
    assert_eq!(page.status, 404);
    // A browser gets a page, a program the JSON error body.
    let url = format!("{}/login/nope", server.origin);
    let mut html = agent()
        .get(&url)
        .header("Accept", "text/html,application/xhtml+xml;q=0.9,*/*;q=0.8")
        .call()
        .unwrap();
    assert_eq!(html.status(), 404);
    let body = html.body_mut().read_to_string().unwrap();
    assert!(
        body.contains("<html") || body.contains("<!DOCTYPE"),
        "{body}"
    );
    let mut json = agent().get(&url).call().unwrap();
    assert_eq!(json.status(), 404);
    let ct = json
        .headers()
        .get("content-type")
        .unwrap()
        .to_str()
        .unwrap()
        .to_owned();
    assert!(ct.starts_with("application/json"), "{ct}");
    let body: serde_json::Value = json.body_mut().read_json().unwrap();
    assert_eq!(body["error"], "not_found");
    let r = agent().get(format!("{}/me", server.origin)).call().unwrap();
    assert_eq!(r.status(), 401);
}
