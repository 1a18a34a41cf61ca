//! The CLI flows end to end: loopback against the real provider, device against the
//! in-test fake provider of [`crate::fake`] (oidc-provider-mock has no device grant).

use std::sync::atomic::Ordering;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use oidc_login::IssuedToken;
use oidc_login::client::{self, ClientError, Login, Mode, SavedToken};
use serde_json::Value;

use crate::fake::FakeProvider;
use crate::support::{Browser, Mock, Server, TEAM, agent, people, query_param, venv};

/// A "browser" for the CLI: follows the sign-in as `sub` in a thread, through the
/// provider and sshward's callback to the CLI's loopback listener. Keeps the loopback URL.
fn browser_as(
    sub: &'static str,
    seen: Arc<Mutex<Option<String>>>,
) -> impl Fn(&str) -> Result<(), String> {
    move |url: &str| {
        let url = url.to_owned();
        let seen = seen.clone();
        std::thread::spawn(move || {
            let mut b = Browser::default();
            let start = b.get(&url);
            let authorize = start.location.expect("to the provider");
            let callback = b.authorize(&authorize, sub);
            let done = b.get(&callback);
            let loopback = done.location.expect("to the loopback listener");
            *seen.lock().unwrap() = Some(loopback.clone());
            let _ = agent().get(&loopback).call();
        });
        Ok(())
    }
}

fn login<'a>(server: &Server, mode: Mode, open: client::Opener<'a>) -> Login<'a> {
    Login {
        server: server.origin.clone(),
        team: TEAM.into(),
        mode,
        timeout: Duration::from_secs(60),
        open,
    }
}

fn me_with(server: &Server, token: &str) -> (u16, Value) {
    let mut r = agent()
        .get(format!("{}/me", server.origin))
        .header("Authorization", format!("Bearer {token}"))
        .call()
        .unwrap();
    (
        r.status().as_u16(),
        r.body_mut().read_json().unwrap_or_default(),
    )
}

#[test]
fn loopback_sign_in_gives_a_working_access_token() {
    let Some(venv) = venv() else { return };
    let mock = Mock::start(&venv, &[], &people());
    let server = Server::start(&mock.url());
    server.provision("alice@contoso.com", "alice");
    let seen = Arc::new(Mutex::new(None));
    let open = browser_as("alice", seen.clone());
    let mut out = Vec::new();
    let token = client::login(&login(&server, Mode::Browser, &open), &mut out).expect("signed in");
    assert_eq!(token.user_name, "alice@contoso.com");
    assert_eq!(token.team, TEAM);
    assert!(
        (57_000..=57_600).contains(&token.expires_in),
        "16 hours: {}",
        token.expires_in
    );

    // sshward accepts it...
    let (status, body) = me_with(&server, &token.access_token);
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["auth"], "access-token");
    assert_eq!(body["user_name"], "alice@contoso.com");
    // ...but not once altered.
    let mut parts: Vec<String> = token.access_token.split('.').map(str::to_owned).collect();
    parts[1] = parts[1].replacen('e', "f", 1);
    assert_eq!(me_with(&server, &parts.join(".")).0, 401);

    // The loopback code was for one use, and only with the CLI's verifier.
    let loopback = seen.lock().unwrap().clone().expect("the loopback redirect");
    assert!(loopback.starts_with("http://127.0.0.1:"), "{loopback}");
    let code = query_param(&loopback, "code");
    let mut r = agent()
        .post(format!("{}/login/token", server.origin))
        .send_form([
            ("grant_type", "authorization_code"),
            ("code", &code),
            ("code_verifier", "x"),
        ])
        .unwrap();
    assert_eq!(r.status(), 400);
    let err: Value = r.body_mut().read_json().unwrap();
    assert_eq!(err["error"], "invalid_grant");

    // Saved for the user only.
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("tokens/t.json");
    let saved = SavedToken {
        server: server.origin.clone(),
        token: token.clone(),
    };
    client::save_token(&path, &saved).unwrap();
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&path).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o600);
    }
    assert!(server.last_audit("login.token").is_some());
    assert!(
        server
            .last_audit("login.success")
            .unwrap()
            .summary
            .contains("loopback")
    );

    // Signing out with the token ends its session on the server: the same, unexpired
    // token is refused from then on.
    let r = agent()
        .post(format!("{}/logout", server.origin))
        .header("Authorization", format!("Bearer {}", token.access_token))
        .send_empty()
        .unwrap();
    assert_eq!(r.status(), 200);
    let (status, body) = me_with(&server, &token.access_token);
    assert_eq!(status, 401, "{body}");
    assert!(
        body["message"]
            .as_str()
            .unwrap_or_default()
            .contains("session has ended"),
        "{body}"
    );
    let out = server
        .last_audit("login.logout")
        .expect("the sign-out is audited");
    assert!(out.summary.contains("loopback"), "{}", out.summary);
}

#[test]
fn loopback_refusal_reaches_the_cli() {
    let Some(venv) = venv() else { return };
    let mock = Mock::start(&venv, &[], &people());
    let server = Server::start(&mock.url());
    let open = browser_as("bob", Arc::new(Mutex::new(None)));
    let err = client::login(&login(&server, Mode::Browser, &open), &mut Vec::new()).err();
    match err {
        Some(ClientError::Refused { code, description }) => {
            assert_eq!(code, "access_denied");
            assert!(description.contains("not provisioned"), "{description}");
        }
        other => panic!("expected a refusal, got {other:?}"),
    }
}

#[test]
fn device_flow_needs_a_provider_that_offers_it() {
    let Some(venv) = venv() else { return };
    let mock = Mock::start(&venv, &[], &people());
    let server = Server::start(&mock.url());
    let open = |_: &str| Err("no browser".to_owned());
    let err = client::login(&login(&server, Mode::Device, &open), &mut Vec::new()).err();
    assert!(
        matches!(&err, Some(ClientError::Refused { code, .. }) if code == "unsupported_grant_type"),
        "{err:?}"
    );
}

#[test]
fn device_flow_against_a_fake_rfc8628_provider() {
    let fake = FakeProvider::start();
    let origin = fake.origin.clone();
    let server = Server::start(&origin);
    server.provision("alice@contoso.com", "alice");
    let open = |_: &str| Err("no browser".to_owned());
    let mut out = Vec::new();
    let token: IssuedToken =
        client::login(&login(&server, Mode::Device, &open), &mut out).expect("device sign-in");
    let shown = String::from_utf8(out).unwrap();
    assert!(
        shown.contains("WDJB-MJHT") && shown.contains("/devicelogin"),
        "{shown}"
    );
    assert_eq!(token.user_name, "alice@contoso.com");
    assert!(fake.seen.token_polls.load(Ordering::SeqCst) >= 3);
    assert!(
        !fake.seen.secret_sent.load(Ordering::SeqCst),
        "the device flow is a public client"
    );
    assert_eq!(me_with(&server, &token.access_token).0, 200);
    assert!(
        server
            .last_audit("login.success")
            .unwrap()
            .summary
            .contains("device")
    );
}
