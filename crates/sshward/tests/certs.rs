//! SSH certificates through the binary, on SQLite and PostgreSQL: people sign in with the
//! real oidc-provider-mock and `sshward login` certifies their keys; hosts get host
//! certificates when they join; every Entra removal path (disable with `"False"` and
//! `false`, delete, removal from the granting group by either remove form) puts the
//! person's certificates into the KRL that `ssh-keygen -Q` reads, and the admin commands
//! list, revoke and rotate.

use std::path::{Path, PathBuf};
use std::process::Command;

use serde_json::{Value, json};

use crate::login::{browser, configure_sign_in, provider_with, venv};
use crate::support::*;

const PEOPLE: [&str; 6] = ["alice", "bob", "carol", "dave", "erin", "frank"];
const PATCH_OP: &str = "urn:ietf:params:scim:api:messages:2.0:PatchOp";

pub(crate) fn ssh_keygen(args: &[&str]) -> std::process::Output {
    Command::new("ssh-keygen")
        .args(args)
        .env("TZ", "UTC")
        .output()
        .expect("ssh-keygen is installed (scripts/test.sh installs openssh-client)")
}

/// Whether `ssh-keygen -Q` finds the certificate `cert` revoked in `krl`.
pub(crate) fn revoked(krl: &Path, cert: &Path) -> bool {
    let out = ssh_keygen(&["-Q", "-f", krl.to_str().unwrap(), cert.to_str().unwrap()]);
    let text = String::from_utf8_lossy(&out.stdout);
    match out.status.code() {
        Some(0) if text.contains(": ok") => false,
        Some(1) if text.contains("REVOKED") => true,
        _ => panic!("ssh-keygen -Q could not read the KRL: {out:?}"),
    }
}

/// A person's sign-in: `sshward login` with a new key under the environment's directory.
pub(crate) fn login(
    env: &Env,
    server: &Server,
    wrapper: &Path,
    who: &str,
) -> crate::support::Output {
    login_with(env, server, wrapper, "default", who, &key_of(env, who), "")
}

/// [`login`] to `team` with the key `key` (its token saved beside it), and the
/// ssh-agent at `agent` (none when empty).
pub(crate) fn login_with(
    env: &Env,
    server: &Server,
    wrapper: &Path,
    team: &str,
    who: &str,
    key: &Path,
    agent: &str,
) -> crate::support::Output {
    let token_file = token_file(key);
    env.run_with(
        &[
            "login",
            "--server",
            &server.base,
            "--team",
            team,
            "--browser",
            "--timeout",
            "60",
            "--token-file",
            token_file.to_str().unwrap(),
            "--key",
            key.to_str().unwrap(),
            "--new-key",
            "--json",
        ],
        &[
            ("BROWSER", wrapper.to_str().unwrap()),
            ("DISPLAY", ""),
            ("SIGN_IN_AS", who),
            ("SSH_AUTH_SOCK", agent),
        ],
    )
}

pub(crate) fn key_of(env: &Env, who: &str) -> PathBuf {
    env.path().join(format!("keys/{who}/id_ed25519"))
}

/// Where [`login_with`] saves the access token of `key`'s sign-in.
pub(crate) fn token_file(key: &Path) -> PathBuf {
    PathBuf::from(format!("{}.token.json", key.display()))
}

fn access_token(env: &Env, who: &str) -> String {
    let saved: Value =
        serde_json::from_slice(&std::fs::read(token_file(&key_of(env, who))).unwrap()).unwrap();
    saved["access_token"].as_str().unwrap().to_owned()
}

pub(crate) fn scim_patch(server: &Server, path: &str, operations: Value) {
    let r = patch(
        &format!("{}/{path}", server.url),
        server.token(),
        &json!({"schemas": [PATCH_OP], "Operations": operations}),
    );
    assert!(r.status == 200 || r.status == 204, "{r:?}");
}

/// Fetches the KRL into `file`, checks the ETag protocol, returns the new ETag.
pub(crate) fn fetch_krl(
    server: &Server,
    credential: &str,
    file: &Path,
    held: Option<&str>,
) -> String {
    let url = format!("{}/api/v1/hosts/self/krl", server.base);
    let (status, etag, bytes) = get_bytes(&url, credential, held);
    assert_eq!(status, 200, "the list changed since {held:?}");
    assert!(bytes.starts_with(b"SSHKRL\n\0"), "an OpenSSH KRL");
    std::fs::write(file, &bytes).unwrap();
    // Asked again with its ETag, unchanged: 304 (and a short long-poll too).
    let (status, again, _) = get_bytes(&format!("{url}?wait=1"), credential, Some(&etag));
    assert_eq!((status, again.as_str()), (304, etag.as_str()));
    etag
}

fn run_end_to_end(env: &Env) {
    let Some(venv) = venv() else { return };
    let idp = provider_with(&venv, &PEOPLE);
    // Logging at trace level: the logs of the whole run are scanned for secrets below.
    let server = env.serve_with(&[("SSHWARD_LOG__LEVEL", "trace")]);
    configure_sign_in(env, idp.1);
    let wrapper = browser(env, &venv);
    let ids: Vec<String> = PEOPLE
        .iter()
        .map(|p| create_user(&server.url, server.token(), &format!("{p}@contoso.com")))
        .collect();
    let id_refs: Vec<&str> = ids.iter().map(String::as_str).collect();
    let group = create_group(&server.url, server.token(), "SSH Users", &id_refs);

    // No grant yet: signed in, but refused a certificate, and nothing is recorded.
    let refused = login(env, &server, &wrapper, "frank");
    assert_eq!(refused.code, 1, "{refused:?}");
    assert!(refused.stderr.contains("granted"), "{}", refused.stderr);
    env.run(&[
        "grant",
        "add",
        "--group",
        "SSH Users",
        "--hosts",
        "*",
        "--json",
    ])
    .ok();

    // Everyone signs in and gets a certificate for the POSIX name, until the token ends.
    let mut serials = Vec::new();
    for who in PEOPLE {
        let out = login(env, &server, &wrapper, who);
        let v = out.json();
        let cert = &v["certificate"];
        assert_eq!(cert["principals"], json!([who]), "{out:?}");
        assert!(cert["valid_before"].as_str().unwrap() <= v["expires"].as_str().unwrap());
        // frank's key was made by the refused attempt.
        assert_eq!(cert["key_created"], who != "frank");
        serials.push(cert["serial"].as_i64().unwrap());
    }
    // With an ssh-agent running, the key and its certificate go into it.
    let sock = env.path().join("agent.sock");
    let mut agent = Command::new("ssh-agent")
        .arg("-D")
        .arg("-a")
        .arg(&sock)
        .stdout(std::process::Stdio::null())
        .spawn()
        .expect("ssh-agent is installed");
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    while !sock.exists() {
        assert!(
            std::time::Instant::now() < deadline,
            "ssh-agent did not start"
        );
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    let agent_key = env.path().join("keys/agent/id_ed25519");
    let sock_text = sock.to_str().unwrap();
    let with_agent = login_with(
        env, &server, &wrapper, "default", "frank", &agent_key, sock_text,
    )
    .json();
    assert_eq!(with_agent["certificate"]["in_agent"], true, "{with_agent}");
    let agent_serial = with_agent["certificate"]["serial"].as_i64().unwrap();
    let listed = Command::new("ssh-add")
        .arg("-L")
        .env("SSH_AUTH_SOCK", &sock)
        .output()
        .unwrap();
    let listed = String::from_utf8_lossy(&listed.stdout);
    assert!(
        listed.contains("ssh-ed25519-cert-v01@openssh.com"),
        "{listed}"
    );
    assert_eq!(
        listed.lines().count(),
        2,
        "the key and its certificate: {listed}"
    );
    let _ = agent.kill();
    let _ = agent.wait();

    let alice_cert = PathBuf::from(format!("{}-cert.pub", key_of(env, "alice").display()));
    let listing =
        String::from_utf8(ssh_keygen(&["-L", "-f", alice_cert.to_str().unwrap()]).stdout).unwrap();
    assert!(
        listing.contains("Type: ssh-ed25519-cert-v01@openssh.com user certificate"),
        "{listing}"
    );
    assert!(
        listing.contains(&format!("Serial: {}", serials[0])),
        "{listing}"
    );
    assert!(
        listing.contains(&format!(
            "Key ID: \"sshward:default:{}:{}\"",
            ids[0], serials[0]
        )),
        "{listing}"
    );
    let principals = listing.split("Principals:").nth(1).unwrap();
    assert!(principals.trim_start().starts_with("alice"), "{listing}");
    for extension in [
        "permit-agent-forwarding",
        "permit-port-forwarding",
        "permit-pty",
    ] {
        assert!(listing.contains(extension), "{listing}");
    }
    assert!(!listing.contains("permit-X11-forwarding") && !listing.contains("permit-user-rc"));
    let shown = env
        .run(&[
            "cert",
            "show",
            "--key",
            key_of(env, "alice").to_str().unwrap(),
            "--json",
        ])
        .json();
    assert_eq!(shown["principals"], json!(["alice"]));
    assert_eq!(shown["expired"], false);

    // The CA keys: published without credentials, the same as `team show` and `ca show`.
    let user_ca = get(
        &format!("{}/api/v1/teams/default/ca/user.pub", server.base),
        None,
    );
    assert_eq!(user_ca.status, 200);
    assert!(user_ca.content_type.starts_with("text/plain"));
    let team = env.run(&["team", "show", "default", "--json"]).json();
    assert_eq!(
        user_ca.body.trim(),
        team["ssh_ca"]["user"][0].as_str().unwrap()
    );
    assert_eq!(
        get(
            &format!("{}/api/v1/teams/nosuch/ca/user.pub", server.base),
            None
        )
        .status,
        404
    );
    assert_eq!(
        get(
            &format!("{}/api/v1/teams/default/ca/root.pub", server.base),
            None
        )
        .status,
        404
    );

    // A host joins with its host key and gets a host certificate and the CA keys.
    let host_key = env.path().join("ssh_host_ed25519_key");
    assert!(
        ssh_keygen(&[
            "-q",
            "-t",
            "ed25519",
            "-N",
            "",
            "-f",
            host_key.to_str().unwrap()
        ])
        .status
        .success()
    );
    let join_token = env.run(&["host", "join-token", "create", "--json"]).json()["token"]
        .as_str()
        .unwrap()
        .to_owned();
    let host_pub = std::fs::read_to_string(format!("{}.pub", host_key.display())).unwrap();
    let joined = post_raw(
        &format!("{}/api/v1/hosts/join", server.base),
        Some(&join_token),
        json!({"hostname": "web-1", "host_keys": [host_pub.trim()]})
            .to_string()
            .as_bytes(),
    );
    assert_eq!(joined.status, 201, "{joined:?}");
    let joined = joined.json();
    let credential = joined["credential"].as_str().unwrap().to_owned();
    assert_eq!(
        joined["certificates"]["user_ca_keys"][0],
        team["ssh_ca"]["user"][0]
    );
    let host_cert = env.path().join("ssh_host_ed25519_key-cert.pub");
    std::fs::write(
        &host_cert,
        joined["certificates"]["certificates"][0]["certificate"]
            .as_str()
            .unwrap(),
    )
    .unwrap();
    let listing =
        String::from_utf8(ssh_keygen(&["-L", "-f", host_cert.to_str().unwrap()]).stdout).unwrap();
    assert!(listing.contains("host certificate"), "{listing}");
    assert!(listing.contains("web-1"), "{listing}");
    // Renewal with the host credential.
    let renewed = post_raw(
        &format!("{}/api/v1/hosts/self/certificates", server.base),
        Some(&credential),
        json!({"host_keys": [host_pub.trim()]})
            .to_string()
            .as_bytes(),
    );
    assert_eq!(renewed.status, 200, "{renewed:?}");
    let renewal = renewed.json()["certificates"][0]["serial"]
        .as_i64()
        .unwrap();
    assert!(renewal > serials[5]);

    // The revocation list: nothing revoked yet.
    let krl = env.path().join("revoked_keys");
    let cert_of = |who: &str| PathBuf::from(format!("{}-cert.pub", key_of(env, who).display()));
    let mut etag = fetch_krl(&server, &credential, &krl, None);
    for who in PEOPLE {
        assert!(!revoked(&krl, &cert_of(who)), "{who}");
    }

    // Each Entra removal path revokes that person's certificate, and only theirs.
    let user_path = |i: usize| format!("Users/{}", ids[i]);
    let mut gone = Vec::new();
    for (i, who) in PEOPLE.iter().take(5).enumerate() {
        let group_path = format!("Groups/{group}");
        match *who {
            "alice" => scim_patch(
                &server,
                &user_path(i),
                json!([{"op": "Replace", "path": "active", "value": "False"}]),
            ),
            "bob" => scim_patch(
                &server,
                &user_path(i),
                json!([{"op": "replace", "path": "active", "value": false}]),
            ),
            "carol" => {
                let r = delete(&format!("{}/{}", server.url, user_path(i)), server.token());
                assert_eq!(r.status, 204, "{r:?}");
            }
            "dave" => scim_patch(
                &server,
                &group_path,
                json!([{"op": "Remove", "path": format!("members[value eq \"{}\"]", ids[i])}]),
            ),
            _ => scim_patch(
                &server,
                &group_path,
                json!([{"op": "Remove", "path": "members", "value": [{"value": ids[i]}]}]),
            ),
        }
        gone.push(*who);
        etag = fetch_krl(&server, &credential, &krl, Some(&etag));
        for person in PEOPLE {
            assert_eq!(
                revoked(&krl, &cert_of(person)),
                gone.contains(&person),
                "after removing {who}: {person}"
            );
        }
    }

    // A disabled person's token buys nothing more: the disable ended its session.
    let key = std::fs::read_to_string(format!("{}.pub", key_of(env, "alice").display())).unwrap();
    let url = format!("{}/api/v1/ssh/user-certificate", server.base);
    let body = json!({"public_key": key.trim()}).to_string();
    let r = post_raw(&url, Some(&access_token(env, "alice")), body.as_bytes());
    assert_eq!(r.status, 401, "{r:?}");
    assert_eq!(r.json()["error"], "unauthorized");
    assert!(r.body.contains("session has ended"), "{r:?}");

    // Bad input: each a precise 4xx JSON error.
    let frank = access_token(env, "frank");
    let rsa = env.path().join("rsa2048");
    assert!(
        ssh_keygen(&[
            "-q",
            "-t",
            "rsa",
            "-b",
            "2048",
            "-N",
            "",
            "-f",
            rsa.to_str().unwrap()
        ])
        .status
        .success()
    );
    let weak = std::fs::read_to_string(format!("{}.pub", rsa.display())).unwrap();
    let cert_text = std::fs::read_to_string(cert_of("frank")).unwrap();
    let cases: [(Option<&str>, Vec<u8>, u16, &str); 8] = [
        (None, body.clone().into_bytes(), 401, "access token"),
        (
            Some("not-a-token"),
            body.clone().into_bytes(),
            401,
            "malformed",
        ),
        (
            Some(&frank),
            b"{\"public_key\": ".to_vec(),
            400,
            "public_key",
        ),
        (
            Some(&frank),
            json!({"key": key.trim()}).to_string().into_bytes(),
            400,
            "public_key",
        ),
        (
            Some(&frank),
            json!({"public_key": weak.trim()}).to_string().into_bytes(),
            400,
            "3072",
        ),
        (
            Some(&frank),
            json!({"public_key": "ssh-dss AAAAB3NzaC1kc3MAAACBAP"})
                .to_string()
                .into_bytes(),
            400,
            "public_key",
        ),
        (
            Some(&frank),
            json!({"public_key": cert_text.trim()})
                .to_string()
                .into_bytes(),
            400,
            "certificate",
        ),
        (Some(&frank), vec![b' '; 64 * 1024], 413, "larger"),
    ];
    for (token, body, status, needle) in &cases {
        let r = post_raw(&url, *token, body);
        assert_eq!(r.status, *status, "{r:?}");
        assert!(r.content_type.starts_with("application/json"), "{r:?}");
        assert!(r.body.contains(needle), "{needle}: {r:?}");
    }
    let r = get(&url, Some(&frank));
    assert_eq!(r.status, 405, "{r:?}");

    // The admin commands: list, revoke by serial, the audit log.
    let live = env.run(&["cert", "list", "--live", "--json"]).json();
    let live: Vec<i64> = live
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["serial"].as_i64().unwrap())
        .collect();
    let join_serial = joined["certificates"]["certificates"][0]["serial"]
        .as_i64()
        .unwrap();
    assert_eq!(
        live,
        [renewal, join_serial, agent_serial, serials[5]],
        "frank's two and the host's"
    );
    let frank_serial = serials[5].to_string();
    env.run(&["cert", "revoke", "--serial", &frank_serial]).ok();
    fetch_krl(&server, &credential, &krl, Some(&etag));
    assert!(revoked(&krl, &cert_of("frank")));
    env.run(&["cert", "revoke", "--serial", "999999"])
        .fails(4, "no certificate 999999");
    env.run(&["cert", "revoke"]).fails(2, "required");
    let audit = env
        .run(&["audit", "--action", "cert.issue", "--json"])
        .json();
    assert_eq!(
        audit.as_array().map(Vec::len),
        Some(PEOPLE.len() + 1),
        "{audit}"
    );

    // Rotation: both user CA keys are trusted during the overlap.
    env.run(&["ca", "rotate", "--user"]).ok();
    let user_ca = get(
        &format!("{}/api/v1/teams/default/ca/user.pub", server.base),
        None,
    );
    assert_eq!(user_ca.body.lines().count(), 2, "{user_ca:?}");
    let config = env
        .run(&["ssh-config", "--hosts", "*.contoso.com"])
        .ok()
        .to_owned();
    assert!(
        config.contains(&format!(
            "@cert-authority *.contoso.com {}",
            team["ssh_ca"]["host"][0].as_str().unwrap()
        )),
        "{config}"
    );

    // An administrator ends frank's sessions: his unexpired token is refused at once.
    let listed = env.run(&["sessions", "list", "--json"]).json();
    let franks = |v: &Value| {
        v.as_array()
            .unwrap()
            .iter()
            .filter(|s| s["user_name"] == "frank@contoso.com")
            .count()
    };
    assert!(franks(&listed) >= 1, "{listed}");
    assert!(
        env.run(&["sessions", "list"])
            .ok()
            .contains("frank@contoso.com"),
        "the table names the person"
    );
    let key = std::fs::read_to_string(format!("{}.pub", key_of(env, "frank").display())).unwrap();
    let body = json!({"public_key": key.trim()}).to_string();
    assert_eq!(
        post_raw(&url, Some(&access_token(env, "frank")), body.as_bytes()).status,
        201
    );
    env.run(&["sessions", "end", "--user", "frank@contoso.com"])
        .ok();
    assert_eq!(franks(&env.run(&["sessions", "list", "--json"]).json()), 0);
    let r = post_raw(&url, Some(&access_token(env, "frank")), body.as_bytes());
    assert_eq!(r.status, 401, "{r:?}");
    assert!(r.body.contains("session has ended"), "{r:?}");
    let ended = env
        .run(&["audit", "--action", "admin.sessions.end", "--json"])
        .json();
    assert_eq!(ended.as_array().map(Vec::len), Some(1), "{ended}");
    env.run(&["sessions", "end", "--user", "nobody@contoso.com"])
        .fails(4, "no user");

    // No secret is in the database in clear: the SCIM token, the join token and host
    // credential, the access tokens, the CA and sign-in keys (SQLite: the files' bytes;
    // PostgreSQL: a plain pg_dump of the whole database).
    {
        let (bytes, kek) = match &env.kek {
            None => {
                let data = env.data_dir();
                let mut bytes = Vec::new();
                for file in ["sshward.db", "sshward.db-wal"] {
                    bytes.extend(std::fs::read(data.join(file)).unwrap_or_default());
                }
                let kek = std::fs::read_to_string(data.join("key-encryption-key")).unwrap();
                (bytes, kek)
            }
            Some(kek) => {
                let url = &env.global[1];
                let dump = std::process::Command::new("pg_dump")
                    .args(["--format=plain", "--dbname", url])
                    .output()
                    .expect("pg_dump (PostgreSQL client tools) is needed for the secret scan");
                assert!(dump.status.success(), "{dump:?}");
                (dump.stdout, std::fs::read_to_string(kek).unwrap())
            }
        };
        assert!(bytes.len() > 4096, "the database was read");
        let token = access_token(env, "frank");
        let secrets = [
            server.token(),
            join_token.as_str(),
            credential.as_str(),
            token.as_str(),
            kek.trim(),
            "OPENSSH PRIVATE KEY",
            "b3BlbnNzaC1rZXktdjE", // base64 of "openssh-key-v1", the private key format
        ];
        let logs = server.stderr();
        assert!(logs.contains("TRACE"), "the server logged at trace level");
        for secret in secrets {
            let found = bytes.windows(secret.len()).any(|w| w == secret.as_bytes());
            assert!(
                !found,
                "a secret is in the database in clear: {}...",
                &secret[..8]
            );
            assert!(
                !logs.contains(secret),
                "a secret is in the trace-level logs: {}...",
                &secret[..8]
            );
        }
    }
}

#[test]
fn certificates_end_to_end_sqlite() {
    run_end_to_end(&Env::new());
}

#[test]
fn certificates_end_to_end_postgres() {
    let Some(db) = testkit::db::empty_postgres() else {
        return;
    };
    let mut env = Env::new();
    env.on_postgres(&db.url);
    run_end_to_end(&env);
}
