//! Sign-in through the binary: `team set` sign-in options, the `[login]` section, the
//! routes mounted by `serve`, and `sshward login` end to end against the real
//! oidc-provider-mock (needs `SSHWARD_TEST_VENV`; skipped without it, failed when
//! `CI=true`). The browser is a small Python script named by `$BROWSER`, which the
//! `webbrowser` crate runs with the sign-in URL: it submits the provider's form and
//! follows the redirects to the CLI's loopback listener.

use std::net::TcpListener;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::json;

use crate::support::{Env, agent, create_user, get};

const TENANT: &str = "11111111-2222-3333-4444-555555555555";

#[test]
fn team_set_stores_sign_in_options_and_show_prints_them() {
    let env = Env::new();
    env.run(&["team", "create", "acme", "--no-token"]).ok();
    let secret = env.path().join("client-secret");
    std::fs::write(&secret, "hunter2\n").unwrap();
    let v = env
        .run(&[
            "team",
            "set",
            "acme",
            "--tenant-id",
            TENANT,
            "--domains",
            "acme.example",
            "--client-id",
            "app-123",
            "--client-secret-file",
            secret.to_str().unwrap(),
            "--link-by",
            "object-id",
            "--json",
        ])
        .json();
    let login = &v["login"];
    assert_eq!(login["client_id"], "app-123");
    assert_eq!(login["client_secret"], format!("file:{}", secret.display()));
    assert_eq!(
        login["issuer"],
        format!("https://login.microsoftonline.com/{TENANT}/v2.0")
    );
    assert_eq!(login["link_by"], "object-id");
    assert_eq!(login["redirect_uri"], "http://127.0.0.1:8080/callback");
    let shown = env.run(&["team", "show", "acme"]).ok().to_owned();
    assert!(
        shown.contains("Client ID:") && shown.contains("app-123"),
        "{shown}"
    );
    assert!(
        !shown.contains("hunter2"),
        "the secret is never printed: {shown}"
    );

    env.run(&["team", "set", "acme", "--issuer", "http://idp.example.com"])
        .fails(2, "https");
    env.run(&[
        "team",
        "set",
        "acme",
        "--client-secret-file",
        "/nonexistent/secret",
    ])
    .fails(2, "cannot read the client secret file");
    env.run(&["team", "set", "acme", "--client-secret-env", "SSHWARD_X"])
        .fails(2, "configuration");
    env.run(&["team", "set", "acme", "--client-secret-env", "A-B"])
        .fails(2, "env:VARIABLE_NAME");
    let v = env
        .run(&[
            "team",
            "set",
            "acme",
            "--client-secret-env",
            "ACME_SECRET",
            "--json",
        ])
        .json();
    assert_eq!(v["login"]["client_secret"], "env:ACME_SECRET");
    let audit = env.run(&["audit", "--team", "acme"]).ok().to_owned();
    assert!(audit.contains("client_secret"), "{audit}");
}

#[test]
fn login_keys_are_checked_and_masked() {
    let env = Env::new();
    let key = "QUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFB";
    let v = env
        .run_with(
            &["check-config", "--json"],
            &[("SSHWARD_LOGIN__SESSION_KEY", key)],
        )
        .json();
    assert_eq!(v["config"]["login"]["session_key"], "****");
    assert_eq!(v["config"]["login"]["access_token_ttl_secs"], 57600);
    env.run_with(
        &["check-config"],
        &[("SSHWARD_LOGIN__SESSION_KEY", "c2hvcnQ=")],
    )
    .fails(3, "login.session_key");
}

/// The test venv, or `None` when the end-to-end test is skipped.
pub(crate) fn venv() -> Option<PathBuf> {
    testkit::required_env(
        "SSHWARD_TEST_VENV",
        "sign-in end to end",
        "scripts/test.sh sets it",
    )
    .map(PathBuf::from)
}

/// oidc-provider-mock on a free port, killed when dropped.
pub(crate) struct Provider(Child, pub(crate) u16);

impl Drop for Provider {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// oidc-provider-mock with alice of contoso.com.
fn provider(venv: &std::path::Path) -> Provider {
    provider_with(venv, &["alice"])
}

/// oidc-provider-mock on a free port knowing `users` (`NAME@contoso.com` of the tenant).
pub(crate) fn provider_with(venv: &std::path::Path, users: &[&str]) -> Provider {
    let port = TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let mut cmd = Command::new(venv.join("bin/oidc-provider-mock"));
    cmd.args([
        "--host",
        "127.0.0.1",
        "--port",
        &port.to_string(),
        "--require-nonce",
    ]);
    for user in users {
        let claims = json!({"sub": user, "tid": TENANT, "oid": format!("oid-{user}"),
            "preferred_username": format!("{user}@contoso.com"),
            "email": format!("{user}@contoso.com")});
        cmd.args(["--user-claims", &claims.to_string()]);
    }
    let child = cmd
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("start oidc-provider-mock");
    let p = Provider(child, port);
    let url = format!("http://127.0.0.1:{port}/.well-known/openid-configuration");
    let deadline = Instant::now() + Duration::from_secs(30);
    while agent()
        .get(&url)
        .call()
        .map(|r| r.status() != 200)
        .unwrap_or(true)
    {
        assert!(Instant::now() < deadline, "the provider did not start");
        std::thread::sleep(Duration::from_millis(100));
    }
    p
}

/// A "browser" for `$BROWSER`: signs in as `$SIGN_IN_AS` (default alice) and follows the
/// redirects.
const BROWSER: &str = r#"import os, sys, urllib.request, urllib.parse, urllib.error, http.cookiejar
class NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *a, **k): return None
opener = urllib.request.build_opener(NoRedirect, urllib.request.HTTPCookieProcessor(http.cookiejar.CookieJar()))
def location(request):
    try:
        return opener.open(request).headers["Location"]
    except urllib.error.HTTPError as e:
        return e.headers["Location"]
authorize = location(sys.argv[1])
sub = os.environ.get("SIGN_IN_AS", "alice")
callback = location(urllib.request.Request(authorize, data=urllib.parse.urlencode({"sub": sub}).encode()))
loopback = location(callback)
urllib.request.urlopen(loopback).read()
"#;

/// Points team default's sign-in at the provider on `port` (tenant [`TENANT`], domain
/// contoso.com).
pub(crate) fn configure_sign_in(env: &Env, port: u16) {
    configure_sign_in_for(env, "default", port);
}

/// [`configure_sign_in`] for `team`.
pub(crate) fn configure_sign_in_for(env: &Env, team: &str, port: u16) {
    let secret = env.path().join("client-secret");
    std::fs::write(&secret, "anything").unwrap();
    env.run(&[
        "team",
        "set",
        team,
        "--tenant-id",
        TENANT,
        "--domains",
        "contoso.com",
        "--client-id",
        "sshward-test",
        "--client-secret-file",
        secret.to_str().unwrap(),
        "--issuer",
        &format!("http://127.0.0.1:{port}"),
    ])
    .ok();
}

/// Writes the `$BROWSER` wrapper of [`BROWSER`] and returns its path.
pub(crate) fn browser(env: &Env, venv: &std::path::Path) -> PathBuf {
    let script = env.path().join("browser.py");
    std::fs::write(&script, BROWSER).unwrap();
    let wrapper = env.path().join("browser.sh");
    std::fs::write(
        &wrapper,
        format!(
            "#!/bin/sh\nexec {} {} \"$1\"\n",
            venv.join("bin/python").display(),
            script.display()
        ),
    )
    .unwrap();
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&wrapper, std::fs::Permissions::from_mode(0o755)).unwrap();
    }
    wrapper
}

#[test]
fn sshward_login_end_to_end() {
    let Some(venv) = venv() else { return };
    let idp = provider(&venv);
    let env = Env::new();
    let server = env.serve();
    let base = server.base.clone();
    // Routes are mounted: nobody is signed in yet.
    assert_eq!(get(&format!("{base}/me"), None).status, 401);
    assert_eq!(get(&format!("{base}/login/nope"), None).status, 404);

    configure_sign_in(&env, idp.1);
    create_user(&server.url, server.token(), "alice@contoso.com");
    let wrapper = browser(&env, &venv);
    let token_file = env.path().join("cfg/token.json");
    let out = env.run_with(
        &[
            "login",
            "--server",
            &base,
            "--team",
            "default",
            "--browser",
            "--timeout",
            "60",
            "--token-file",
            token_file.to_str().unwrap(),
            "--no-certificate",
            "--json",
        ],
        &[("BROWSER", wrapper.to_str().unwrap()), ("DISPLAY", "")],
    );
    let v = out.json();
    assert_eq!(v["user_name"], "alice@contoso.com", "{}", out.stderr);
    assert_eq!(v["team"], "default");
    assert!(
        !out.stdout.contains("eyJ"),
        "the token is not printed: {}",
        out.stdout
    );
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&token_file).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o600);
    }
    let saved: serde_json::Value =
        serde_json::from_slice(&std::fs::read(&token_file).unwrap()).unwrap();
    let token = saved["access_token"].as_str().unwrap();
    let me = get(&format!("{base}/me"), Some(token));
    assert_eq!(me.status, 200, "{me:?}");
    assert_eq!(me.json()["user_name"], "alice@contoso.com");
    let audit = env.run(&["audit", "--team", "default"]).ok().to_owned();
    assert!(
        audit.contains("login.success") && audit.contains("login.token"),
        "{audit}"
    );
}
