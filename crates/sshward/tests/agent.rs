//! The whole product against a real OpenSSH server: `sshward serve` with
//! oidc-provider-mock as Entra, Entra-shaped SCIM requests, `sshward-agent join` and
//! `run` on a host, and `ssh` logins with the certificates of `sshward login`.
//!
//! The host is this machine inside a private mount and PID namespace (`unshare`): a copy
//! of `/etc` and `/home` bind-mounted over the real ones and a tmpfs on `/run`, so that
//! the agent's `useradd`, the sudoers file and sshd's configuration change only the
//! copies; sshd listens on a free loopback port. Needs root, `unshare`, `sshd` and `sudo`
//! (`scripts/test.sh` installs them); skipped without them, failed when `CI=true`.

use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::{Value, json};

use crate::certs::{key_of, login, login_with, scim_patch, ssh_keygen};
use crate::login::{browser, configure_sign_in, configure_sign_in_for, provider_with, venv};
use crate::support::*;

/// The host: the namespace's first process, killed (with everything in it) when dropped.
struct Host {
    unshare: Child,
    dir: PathBuf,
    port: u16,
}

impl Drop for Host {
    fn drop(&mut self) {
        if let Some(pid) = self.inner_pid() {
            let _ = Command::new("kill")
                .args(["-KILL", &pid.to_string()])
                .status();
        }
        let _ = self.unshare.kill();
        let _ = self.unshare.wait();
    }
}

impl Host {
    /// The pid (as seen from here) of the namespace's init, the child of `unshare`.
    fn inner_pid(&self) -> Option<u32> {
        let pid = self.unshare.id();
        let children = std::fs::read_to_string(format!("/proc/{pid}/task/{pid}/children")).ok()?;
        children.split_whitespace().next()?.parse().ok()
    }

    /// Runs a shell command inside the host; its stdout.
    fn sh(&self, script: &str) -> String {
        let pid = self.inner_pid().expect("the host runs").to_string();
        let out = Command::new("nsenter")
            .args([
                "--target", &pid, "--mount", "--pid", "--", "sh", "-c", script,
            ])
            .output()
            .unwrap();
        String::from_utf8_lossy(&out.stdout).into_owned()
    }

    fn log(&self, name: &str) -> String {
        std::fs::read_to_string(self.dir.join(name)).unwrap_or_default()
    }
}

/// Whether the tools are here; panics under CI when they are not.
fn can_run() -> bool {
    let have = |cmd: &str| {
        Command::new("sh")
            .args(["-c", &format!("command -v {cmd}")])
            .output()
            .is_ok_and(|o| o.status.success())
    };
    let root = std::fs::read_to_string("/proc/self/status").is_ok_and(|s| {
        s.lines()
            .any(|l| l.starts_with("Uid:") && l.split_whitespace().nth(1) == Some("0"))
    });
    let missing: Vec<&str> = [
        "unshare",
        "nsenter",
        "/usr/sbin/sshd",
        "sudo",
        "visudo",
        "useradd",
        "ssh",
    ]
    .into_iter()
    .filter(|c| !have(c))
    .collect();
    if root && missing.is_empty() {
        return true;
    }
    assert!(
        std::env::var("CI").as_deref() != Ok("true"),
        "the agent end-to-end test needs root and {missing:?} under CI (scripts/test.sh installs openssh-server and sudo)"
    );
    eprintln!("SKIPPED: the agent end-to-end test needs root and {missing:?}");
    false
}

/// The namespace's set-up: private copies, sshd, `sshward-agent join` and `run`.
const HOST_SCRIPT: &str = r#"set -eu
DIR=$1 PORT=$2 SERVER=$3 TOKEN=$4 AGENT=$5
mkdir -p "$DIR/etc" "$DIR/home"
cp -a /etc/. "$DIR/etc/"
mount --bind "$DIR/etc" /etc
cp -a /home/. "$DIR/home/" 2>/dev/null || true
mount --bind "$DIR/home" /home
mount -t tmpfs -o mode=0755 tmpfs /run
mkdir -p /run/sshd /run/sshd_config.d /run/bin
chmod 0755 /run/sshd
# sshd wants the AuthorizedPrincipalsCommand and its directories root-owned, not writable.
cp "$AGENT" /run/bin/sshward-agent
rm -f /etc/ssh/ssh_host_*
ssh-keygen -q -t ed25519 -N '' -f /etc/ssh/ssh_host_ed25519_key
cat > /run/sshd_config <<EOF
Port $PORT
ListenAddress 127.0.0.1
HostKey /etc/ssh/ssh_host_ed25519_key
PasswordAuthentication no
KbdInteractiveAuthentication no
PubkeyAuthentication yes
AuthorizedKeysFile none
UsePAM yes
PidFile /run/sshd.pid
LogLevel VERBOSE
Include /run/sshd_config.d/*.conf
EOF
/run/bin/sshward-agent --state-dir /run/agent join --server "$SERVER" --token "$TOKEN" \
    --hostname web-1 --host-key /etc/ssh/ssh_host_ed25519_key.pub \
    --sshd-config /run/sshd_config.d/sshward.conf --sshd-main-config /run/sshd_config \
    --no-reload --max-staleness 8 > "$DIR/join.log" 2>&1
/usr/sbin/sshd -D -e -f /run/sshd_config > "$DIR/sshd.log" 2>&1 &
/run/bin/sshward-agent --state-dir /run/agent run --wait 2 > "$DIR/agent.log" 2>&1 &
touch "$DIR/ready"
wait
"#;

fn start_host(env: &Env, server: &Server, token: &str) -> Host {
    let dir = env.path().join("host");
    std::fs::create_dir_all(&dir).unwrap();
    let script = dir.join("host.sh");
    std::fs::write(&script, HOST_SCRIPT).unwrap();
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let agent = Path::new(env!("CARGO_BIN_EXE_sshward")).with_file_name("sshward-agent");
    assert!(
        agent.exists(),
        "build sshward-agent first: {}",
        agent.display()
    );
    let unshare = Command::new("unshare")
        .args([
            "--mount",
            "--pid",
            "--fork",
            "--mount-proc",
            "--propagation",
            "private",
            "--",
            "sh",
        ])
        .arg(&script)
        .arg(&dir)
        .arg(port.to_string())
        .arg(&server.base)
        .arg(token)
        .arg(&agent)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut host = Host {
        unshare,
        dir: dir.clone(),
        port,
    };
    let deadline = Instant::now() + Duration::from_secs(60);
    while !dir.join("ready").exists() {
        if let Ok(Some(status)) = host.unshare.try_wait() {
            let mut err = String::new();
            if let Some(mut e) = host.unshare.stderr.take() {
                let _ = e.read_to_string(&mut err);
            }
            panic!(
                "the host set-up failed ({status}): {err}\njoin: {}",
                host.log("join.log")
            );
        }
        assert!(
            Instant::now() < deadline,
            "the host did not start: {}",
            host.log("join.log")
        );
        std::thread::sleep(Duration::from_millis(50));
    }
    // sshd listens once it has read its configuration.
    let deadline = Instant::now() + Duration::from_secs(20);
    while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
        assert!(
            Instant::now() < deadline,
            "sshd did not start: {}",
            host.log("sshd.log")
        );
        std::thread::sleep(Duration::from_millis(50));
    }
    host
}

/// `ssh USER@host COMMAND` with `key`'s certificate, verifying the host by its
/// certificate only; the exit code and output.
fn ssh(env: &Env, host: &Host, user: &str, key: &Path, command: &str) -> (i32, String) {
    let out = ssh_command(env, host, user, key, command).output().unwrap();
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    (out.status.code().unwrap_or(-1), text)
}

fn ssh_command(env: &Env, host: &Host, user: &str, key: &Path, command: &str) -> Command {
    let mut cmd = Command::new("ssh");
    cmd.args(["-F", "none", "-p", &host.port.to_string(), "-i"])
        .arg(key)
        .arg("-o")
        .arg(format!("CertificateFile={}-cert.pub", key.display()))
        .args([
            "-o",
            "IdentitiesOnly=yes",
            "-o",
            "BatchMode=yes",
            "-o",
            "StrictHostKeyChecking=yes",
        ])
        .arg("-o")
        .arg(format!(
            "UserKnownHostsFile={}",
            env.path().join("known_hosts").display()
        ))
        .args(["-o", "HostKeyAlias=web-1", "-o", "ConnectTimeout=5"])
        .arg(format!("{user}@127.0.0.1"))
        .arg(command)
        .stdin(Stdio::null());
    cmd
}

/// Waits until `check` holds (at most `within`); how long it took.
fn eventually(within: Duration, what: &str, mut check: impl FnMut() -> bool) -> Duration {
    let start = Instant::now();
    while !check() {
        assert!(start.elapsed() < within, "not within {within:?}: {what}");
        std::thread::sleep(Duration::from_millis(100));
    }
    start.elapsed()
}

fn uid_of(env: &Env, who: &str) -> Option<u64> {
    let shown = env.run(&["host", "show", "web-1", "--json"]).json();
    shown["access"]["users"]
        .as_array()?
        .iter()
        .find(|u| u["username"] == who)
        .and_then(|u| u["uid"].as_u64())
}

fn members_patch(op: &str, ids: &[&str]) -> Value {
    let value: Vec<Value> = ids.iter().map(|id| json!({"value": id})).collect();
    json!([{"op": op, "path": "members", "value": value}])
}

#[test]
fn agent_end_to_end_with_a_real_sshd() {
    if !can_run() {
        return;
    }
    let Some(venv) = venv() else { return };
    let idp = provider_with(&venv, &["alice", "bob", "carol", "dave"]);
    let env = Env::new();
    let mut server = env.serve();
    configure_sign_in(&env, idp.1);
    let wrapper = browser(&env, &venv);
    let alice = create_user(&server.url, server.token(), "alice@contoso.com");
    let _bob = create_user(&server.url, server.token(), "bob@contoso.com");
    let carol = create_user(&server.url, server.token(), "carol@contoso.com");
    let ssh_users = create_group(&server.url, server.token(), "ssh-users", &[&alice, &carol]);
    let sudo_users = create_group(&server.url, server.token(), "sudo-users", &[]);
    env.run(&[
        "grant",
        "add",
        "--group",
        "ssh-users",
        "--hosts",
        "env=test",
    ])
    .ok();
    env.run(&[
        "grant",
        "add",
        "--group",
        "sudo-users",
        "--hosts",
        "env=test",
        "--sudo",
    ])
    .ok();
    let token = env
        .run(&[
            "host",
            "join-token",
            "create",
            "--tag",
            "env=test",
            "--json",
        ])
        .json()["token"]
        .as_str()
        .unwrap()
        .to_owned();
    let host = start_host(&env, &server, &token);
    let host_ca = get(
        &format!("{}/api/v1/teams/default/ca/host.pub", server.base),
        None,
    )
    .body;
    std::fs::write(
        env.path().join("known_hosts"),
        format!("@cert-authority web-1 {}", host_ca.trim()),
    )
    .unwrap();
    assert!(
        host.log("join.log").contains("joined as web-1"),
        "{}",
        host.log("join.log")
    );

    // 1. alice signs in and logs in as her POSIX account with her uid; the host is
    // verified by its certificate alone.
    let v = login(&env, &server, &wrapper, "alice").json();
    assert_eq!(v["certificate"]["principals"], json!(["alice"]), "{v}");
    let key = key_of(&env, "alice");
    let uid = uid_of(&env, "alice").unwrap();
    let (code, out) = ssh(&env, &host, "alice", &key, "id -u; id -gn");
    assert_eq!(
        code,
        0,
        "{out}\nsshd: {}\nagent: {}",
        host.log("sshd.log"),
        host.log("agent.log")
    );
    assert!(out.starts_with(&format!("{uid}\nalice\n")), "{out}");
    let accepted = "Accepted publickey for alice from 127.0.0.1 port";
    let key_id = format!("ID sshward:default:{alice}:{}", v["certificate"]["serial"]);
    assert!(
        host.log("sshd.log")
            .lines()
            .any(|l| l.contains(accepted) && l.contains(&key_id)),
        "sshd logs the certificate it accepted ({key_id}): {}",
        host.log("sshd.log")
    );
    assert!(
        host.sh("getent passwd alice")
            .contains(&format!(":{uid}:{uid}:"))
    );
    eventually(
        Duration::from_secs(10),
        "the agent reports it is in sync",
        || env.run(&["host", "show", "web-1", "--json"]).json()["agent"]["in_sync"] == true,
    );

    // The host certificate is renewed once a third of its life is left: make the agent
    // believe it expires in a minute.
    let cert_before = host.sh("cat /etc/ssh/ssh_host_ed25519_key-cert.pub");
    host.sh(
        "python3 - <<'EOF'\nimport json, time\np='/run/agent/join.json'\nj=json.load(open(p))\n\
         for c in j['host_certificates']:\n    c['valid_after']=int(time.time())-3600; c['valid_before']=int(time.time())+60\n\
         json.dump(j, open(p,'w'))\nEOF",
    );
    // The agent re-reads nothing while it runs: restart it on the edited state (the
    // pattern's [s] keeps pkill from matching the shell that runs it).
    host.sh("pkill -f '[s]shward-agent --state-dir /run/agent run'");
    host.sh(
        "(/run/bin/sshward-agent --state-dir /run/agent run --wait 2 \
         >> /run/agent-restart.log 2>&1 &)",
    );
    eventually(
        Duration::from_secs(15),
        "the host certificate is renewed",
        || {
            let now = host.sh("cat /etc/ssh/ssh_host_ed25519_key-cert.pub");
            !now.is_empty() && now != cert_before
        },
    );
    let certs = env.run(&["cert", "list", "--json"]).json();
    let host_certs = certs
        .as_array()
        .unwrap()
        .iter()
        .filter(|c| c["kind"] == "host")
        .count();
    assert_eq!(host_certs, 2, "the join's and the renewal's: {certs}");

    // Names that could break /etc/passwd or sudoers arrive through SCIM: the account the
    // host gets has a clean name and GECOS, and the files stay valid.
    // A newline is refused outright (SCIM names hold no control characters).
    let user = |display: &str| {
        json!({"schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"],
               "userName": "Eve:%ALL,x@contoso.com", "active": true, "displayName": display})
    };
    let users = format!("{}/Users", server.url);
    let r = post(
        &users,
        server.token(),
        &user("Eve:0:0,\nroot ALL=(ALL) NOPASSWD: ALL"),
    );
    assert_eq!(r.status, 400, "{r:?}");
    let r = post(
        &users,
        server.token(),
        &user("Eve:0:0,root ALL=(ALL) NOPASSWD: ALL"),
    );
    assert_eq!(r.status, 201, "{r:?}");
    let eve = r.json()["id"].as_str().unwrap().to_owned();
    scim_patch(
        &server,
        &format!("Groups/{ssh_users}"),
        members_patch("Add", &[&eve]),
    );
    let shown = env.run(&["host", "show", "web-1", "--json"]).json();
    let eve_name = shown["access"]["users"]
        .as_array()
        .unwrap()
        .iter()
        .find(|u| u["gecos"].as_str().is_some_and(|g| g.starts_with("Eve")))
        .map(|u| u["username"].as_str().unwrap().to_owned())
        .expect("eve is granted");
    eventually(Duration::from_secs(10), "eve's account", || {
        !host.sh(&format!("getent passwd {eve_name}")).is_empty()
    });
    let line = host.sh(&format!("getent passwd {eve_name}"));
    assert_eq!(
        line.trim().split(':').count(),
        7,
        "one clean passwd line: {line}"
    );
    assert!(
        !host
            .sh("cat /etc/passwd")
            .lines()
            .any(|l| l.starts_with("root ALL"))
    );
    assert!(
        host.sh("visudo -c >/dev/null 2>&1 && echo valid")
            .contains("valid")
    );

    // 2. A certificate of another CA is refused, and bob has no access.
    let rogue_ca = env.path().join("rogue_ca");
    assert!(
        ssh_keygen(&[
            "-q",
            "-t",
            "ed25519",
            "-N",
            "",
            "-f",
            rogue_ca.to_str().unwrap()
        ])
        .status
        .success()
    );
    let rogue = env.path().join("rogue");
    assert!(
        ssh_keygen(&[
            "-q",
            "-t",
            "ed25519",
            "-N",
            "",
            "-f",
            rogue.to_str().unwrap()
        ])
        .status
        .success()
    );
    assert!(
        ssh_keygen(&[
            "-q",
            "-s",
            rogue_ca.to_str().unwrap(),
            "-I",
            "rogue",
            "-n",
            "alice",
            &format!("{}.pub", rogue.display())
        ])
        .status
        .success()
    );
    let (code, _) = ssh(&env, &host, "alice", &rogue, "true");
    assert_ne!(code, 0, "a foreign CA's certificate is refused");
    assert!(
        host.log("sshd.log")
            .contains("Failed publickey for alice from 127.0.0.1")
    );
    assert!(
        host.log("sshd.log").contains("ID rogue (serial 0)"),
        "{}",
        host.log("sshd.log")
    );
    let bob = login(&env, &server, &wrapper, "bob");
    assert!(
        bob.stderr.contains("granted"),
        "bob gets no certificate: {bob:?}"
    );
    assert!(
        host.sh("getent passwd bob").is_empty(),
        "no account for bob"
    );

    // 3. sudo follows sudo-users (Entra's add and its default remove form).
    let (code, _) = ssh(&env, &host, "alice", &key, "sudo -n true");
    assert_ne!(code, 0, "no sudo yet");
    scim_patch(
        &server,
        &format!("Groups/{sudo_users}"),
        members_patch("Add", &[&alice]),
    );
    eventually(Duration::from_secs(10), "sudo after the Add", || {
        ssh(&env, &host, "alice", &key, "sudo -n true").0 == 0
    });
    scim_patch(
        &server,
        &format!("Groups/{sudo_users}"),
        members_patch("Remove", &[&alice]),
    );
    eventually(Duration::from_secs(10), "no sudo after the Remove", || {
        ssh(&env, &host, "alice", &key, "sudo -n true").0 != 0
    });

    // 4. Disabled: new logins refused within seconds, the open session ended, the
    // certificate in the host's KRL, no new certificate.
    let mut session = ssh_command(&env, &host, "alice", &key, "sleep 120")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    std::thread::sleep(Duration::from_secs(1));
    assert!(session.try_wait().unwrap().is_none(), "the session runs");
    scim_patch(
        &server,
        &format!("Users/{alice}"),
        json!([{"op": "Replace", "path": "active", "value": "False"}]),
    );
    let refused = eventually(
        Duration::from_secs(3),
        "alice refused after the disable",
        || ssh(&env, &host, "alice", &key, "true").0 != 0,
    );
    eprintln!("a disable locked alice out in {refused:?}");
    let log = host.log("sshd.log");
    assert!(
        log.contains("revoked by file /run/agent/revoked_keys")
            || log.contains("Certificate does not contain an authorized principal"),
        "sshd says why alice is refused: {log}"
    );
    eventually(Duration::from_secs(10), "the open session ended", || {
        session.try_wait().unwrap().is_some()
    });
    let krl_check = host.sh(&format!(
        "ssh-keygen -Q -f /run/agent/revoked_keys /dev/stdin <<'EOF'\n{}\nEOF",
        std::fs::read_to_string(format!("{}-cert.pub", key.display()))
            .unwrap()
            .trim()
    ));
    assert!(krl_check.contains("REVOKED"), "{krl_check}");
    assert!(
        host.sh("getent shadow alice").split(':').nth(7) == Some("1"),
        "expired: {}",
        host.sh("getent shadow alice")
    );
    let again = login(&env, &server, &wrapper, "alice");
    assert_ne!(
        again.code, 0,
        "a disabled person gets no certificate: {again:?}"
    );
    // Re-enabled: a new sign-in, the same uid.
    scim_patch(
        &server,
        &format!("Users/{alice}"),
        json!([{"op": "Replace", "path": "active", "value": "True"}]),
    );
    let v = login(&env, &server, &wrapper, "alice").json();
    assert_eq!(v["certificate"]["principals"], json!(["alice"]));
    eventually(Duration::from_secs(10), "alice back", || {
        ssh(&env, &host, "alice", &key, "true").0 == 0
    });
    let (_, out) = ssh(&env, &host, "alice", &key, "id -u");
    assert_eq!(out.trim(), uid.to_string());

    // 5. Deleted: the account stays, expired; the uid goes to nobody else.
    let r = delete(&format!("{}/Users/{alice}", server.url), server.token());
    assert_eq!(r.status, 204);
    eventually(
        Duration::from_secs(10),
        "alice expired after the delete",
        || host.sh("getent shadow alice").split(':').nth(7) == Some("1"),
    );
    assert!(host.sh("getent passwd alice").contains(&format!(":{uid}:")));
    let dave = create_user(&server.url, server.token(), "dave@contoso.com");
    scim_patch(
        &server,
        &format!("Groups/{ssh_users}"),
        members_patch("Add", &[&dave]),
    );
    eventually(Duration::from_secs(10), "dave's account", || {
        !host.sh("getent passwd dave").is_empty()
    });
    assert_ne!(uid_of(&env, "dave"), Some(uid));

    // 2b. Another team's CA (made last: commands without --team refuse two teams): alice of team "other" signs in there and gets a certificate
    // for the same POSIX name; this host, of team default, refuses it.
    let other = env.run(&["team", "create", "other", "--json"]).json();
    let other_token = other["token"]["secret"].as_str().unwrap().to_owned();
    let other_url = server.url.replace("/scim/v2/default", "/scim/v2/other");
    configure_sign_in_for(&env, "other", idp.1);
    let other_alice = create_user(&other_url, &other_token, "alice@contoso.com");
    create_group(&other_url, &other_token, "ssh-users", &[&other_alice]);
    env.run(&[
        "grant",
        "add",
        "--team",
        "other",
        "--group",
        "ssh-users",
        "--hosts",
        "*",
    ])
    .ok();
    let other_key = env.path().join("keys/other-alice/id_ed25519");
    let signed = login_with(&env, &server, &wrapper, "other", "alice", &other_key, "").json();
    assert_eq!(
        signed["certificate"]["principals"],
        json!(["alice"]),
        "{signed}"
    );
    let (code, _) = ssh(&env, &host, "alice", &other_key, "true");
    assert_ne!(code, 0, "another team's CA is not trusted here");
    assert!(
        host.log("sshd.log").contains("ID sshward:other:"),
        "sshd names the refused certificate: {}",
        host.log("sshd.log")
    );

    // 6. sshward stops: logins go on from the cached document, then fail closed.
    login(&env, &server, &wrapper, "carol").json();
    let carol_key = key_of(&env, "carol");
    assert_eq!(ssh(&env, &host, "carol", &carol_key, "true").0, 0);
    server.stop();
    assert_eq!(
        ssh(&env, &host, "carol", &carol_key, "true").0,
        0,
        "offline, within the staleness"
    );
    eventually(
        Duration::from_secs(20),
        "fail closed past the staleness",
        || ssh(&env, &host, "carol", &carol_key, "true").0 != 0,
    );
    let log = host.log("sshd.log");
    assert!(
        log.contains("principals carol: the access document is") && log.contains("failing closed"),
        "sshd logs the agent's fail-closed reason: {log}"
    );
    let _ = carol;

    // Uninstall: the drop-in and the sudoers file go, the accounts stay, expired.
    let before = host.sh("test -e /etc/sudoers.d/sshward && echo present");
    assert_eq!(before.trim(), "present");
    let out = host.sh("/run/bin/sshward-agent --state-dir /run/agent uninstall \
         --sshd-config /run/sshd_config.d/sshward.conf 2>&1");
    assert!(out.contains("uninstalled"), "{out}");
    let gone = host.sh(
        "for f in /run/sshd_config.d/sshward.conf /etc/sudoers.d/sshward; do \
         test -e $f && echo present $f; done; echo checked",
    );
    assert_eq!(gone.trim(), "checked", "{gone}");
    assert_eq!(host.sh("getent shadow carol").split(':').nth(7), Some("1"));
}

/// `join --dry-run` prints every file and command and changes nothing (no server needed).
#[test]
fn agent_join_dry_run_changes_nothing() {
    let agent = Path::new(env!("CARGO_BIN_EXE_sshward")).with_file_name("sshward-agent");
    if !agent.exists() {
        assert!(
            std::env::var("CI").as_deref() != Ok("true"),
            "build sshward-agent first"
        );
        return;
    }
    let env = Env::new();
    let key = env.path().join("host_key");
    assert!(
        ssh_keygen(&["-q", "-t", "ed25519", "-N", "", "-f", key.to_str().unwrap()])
            .status
            .success()
    );
    let state = env.path().join("state");
    let out = Command::new(&agent)
        .arg("--state-dir")
        .arg(&state)
        .args([
            "join",
            "--server",
            "http://127.0.0.1:9",
            "--token",
            "sshwj_x",
            "--hostname",
            "h1",
            "--dry-run",
            "--host-key",
        ])
        .arg(format!("{}.pub", key.display()))
        .output()
        .unwrap();
    assert!(out.status.success(), "{out:?}");
    let text = String::from_utf8_lossy(&out.stdout);
    for needle in [
        "TrustedUserCAKeys",
        "RevokedKeys",
        "AuthorizedPrincipalsCommandUser sshward-principals",
        "%sshward-sudo ALL=(ALL:ALL) NOPASSWD: ALL",
        "sshd -t",
        "visudo -cf",
    ] {
        assert!(text.contains(needle), "{needle}: {text}");
    }
    assert!(!state.exists(), "nothing written");
}
