//! The harness: a temporary working directory per test, the binary run with a clean
//! environment, a server started on a free port whose printed Tenant URL and Secret
//! Token are read from its output, and a small HTTP client.

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use serde_json::Value;

/// The binary under test.
pub const BIN: &str = env!("CARGO_BIN_EXE_sshward");

/// A temporary working directory; the default data directory is `./sshward-data` in it.
pub struct Env {
    pub dir: tempfile::TempDir,
    /// Extra arguments put before every command (e.g. `--database-url`).
    pub global: Vec<String>,
    /// The key-encryption key file every command is given (required on PostgreSQL).
    pub kek: Option<PathBuf>,
}

/// What a finished command printed.
#[derive(Debug)]
pub struct Output {
    pub code: i32,
    pub stdout: String,
    pub stderr: String,
}

impl Output {
    /// Asserts success and returns stdout.
    pub fn ok(&self) -> &str {
        assert_eq!(
            self.code, 0,
            "expected success; stdout:\n{}\nstderr:\n{}",
            self.stdout, self.stderr
        );
        &self.stdout
    }

    /// Asserts success and parses stdout as JSON.
    pub fn json(&self) -> Value {
        serde_json::from_str(self.ok())
            .unwrap_or_else(|e| panic!("stdout is not JSON ({e}):\n{}", self.stdout))
    }

    /// Asserts failure with `code` and an error message containing `needle`.
    pub fn fails(&self, code: i32, needle: &str) {
        assert_eq!(
            self.code, code,
            "expected exit code {code}; stdout:\n{}\nstderr:\n{}",
            self.stdout, self.stderr
        );
        assert!(
            self.stderr.contains(needle),
            "stderr lacks {needle:?}:\n{}",
            self.stderr
        );
    }
}

impl Env {
    pub fn new() -> Env {
        Env {
            dir: tempfile::Builder::new()
                .prefix("sshward-bin-")
                .tempdir()
                .expect("temp dir"),
            global: Vec::new(),
            kek: None,
        }
    }

    /// Points every command at the PostgreSQL database `url`, with a key-encryption key
    /// of its own (a file in this environment's directory).
    pub fn on_postgres(&mut self, url: &str) {
        self.global = vec!["--database-url".into(), url.to_owned()];
        let path = self.path().join("kek");
        if !path.exists() {
            std::fs::write(&path, "MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWY=\n").unwrap();
        }
        self.kek = Some(path);
    }

    pub fn path(&self) -> &Path {
        self.dir.path()
    }

    pub fn data_dir(&self) -> PathBuf {
        self.path().join("sshward-data")
    }

    /// The binary with a clean environment, run in the temporary directory.
    pub fn command(&self) -> Command {
        let mut cmd = Command::new(BIN);
        cmd.current_dir(self.path());
        for (k, _) in std::env::vars() {
            if k.starts_with("SSHWARD_") || k == "RUST_LOG" {
                cmd.env_remove(k);
            }
        }
        cmd.env("USER", "tester");
        if let Some(kek) = &self.kek {
            cmd.env(
                "SSHWARD_KEY_ENCRYPTION_KEY",
                format!("file:{}", kek.display()),
            );
        }
        cmd.env_remove("SUDO_USER");
        cmd.args(&self.global);
        cmd
    }

    /// Runs `sshward ARGS` to completion.
    pub fn run(&self, args: &[&str]) -> Output {
        self.run_with(args, &[])
    }

    /// Runs `sshward ARGS` with extra environment variables.
    pub fn run_with(&self, args: &[&str], env: &[(&str, &str)]) -> Output {
        let mut cmd = self.command();
        cmd.args(args);
        for (k, v) in env {
            cmd.env(k, v);
        }
        let out = cmd.output().expect("run sshward");
        Output {
            code: out.status.code().unwrap_or(-1),
            stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
        }
    }

    /// Starts `sshward serve` on a free port and waits for its start-up block.
    pub fn serve(&self) -> Server {
        self.serve_with(&[])
    }

    /// [`Env::serve`] with extra environment variables.
    pub fn serve_with(&self, env: &[(&str, &str)]) -> Server {
        let stderr_path = self
            .path()
            .join(format!("server-{}.log", uuid::Uuid::new_v4().simple()));
        let stderr = std::fs::File::create(&stderr_path).expect("server log");
        let mut cmd = self.command();
        cmd.args(["serve", "--listen", "127.0.0.1:0"])
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::from(stderr));
        for (k, v) in env {
            cmd.env(k, v);
        }
        let mut child = cmd.spawn().expect("start sshward serve");
        let stdout = child.stdout.take().expect("stdout");
        let (tx, rx) = mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines() {
                let Ok(line) = line else { break };
                if tx.send(line).is_err() {
                    break;
                }
            }
        });
        let mut server = Server {
            child,
            url: String::new(),
            base: String::new(),
            token: None,
            console_link: None,
            stdout: Vec::new(),
            stderr_path,
        };
        let deadline = Instant::now() + Duration::from_secs(60);
        let mut first_run = false;
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            let line = match rx.recv_timeout(left) {
                Ok(line) => line,
                Err(_) => panic!(
                    "no start-up block within 60s; stdout:\n{}\nstderr:\n{}",
                    server.stdout.join("\n"),
                    server.stderr()
                ),
            };
            if line.contains("first run") {
                first_run = true;
            }
            if let Some(url) = value_after(&line, "SCIM Tenant URL:")
                && server.url.is_empty()
            {
                server.url = url;
            }
            if let Some(token) = value_after(&line, "Secret Token:") {
                server.token = Some(token);
            }
            if let Some(link) = value_after(&line, "Console sign-in link:") {
                server.console_link = Some(link);
            }
            server.stdout.push(line);
            if !server.url.is_empty() && (!first_run || server.console_link.is_some()) {
                break;
            }
        }
        let scheme_end = server.url.find("://").unwrap() + 3;
        let path_start = server.url[scheme_end..].find('/').unwrap() + scheme_end;
        server.base = server.url[..path_start].to_owned();
        // Keep collecting what else it prints.
        std::thread::spawn(move || while rx.recv().is_ok() {});
        server
    }
}

fn value_after(line: &str, label: &str) -> Option<String> {
    let rest = &line[line.find(label)? + label.len()..];
    rest.split_whitespace().next().map(str::to_owned)
}

/// A running `sshward serve`; stopped with SIGTERM when dropped.
pub struct Server {
    pub child: Child,
    /// The printed SCIM Tenant URL.
    pub url: String,
    /// `http://127.0.0.1:PORT`.
    pub base: String,
    /// The printed Secret Token (first run only).
    pub token: Option<String>,
    /// The printed one-time console sign-in link (first run only).
    pub console_link: Option<String>,
    /// The start-up lines read from stdout.
    pub stdout: Vec<String>,
    pub stderr_path: PathBuf,
}

impl Server {
    pub fn stderr(&self) -> String {
        std::fs::read_to_string(&self.stderr_path).unwrap_or_default()
    }

    pub fn token(&self) -> &str {
        self.token.as_deref().expect("a Secret Token was printed")
    }

    /// Sends SIGTERM and waits (at most 20 s) for the exit; returns the exit code.
    pub fn stop(&mut self) -> Option<i32> {
        let pid = self.child.id().to_string();
        let _ = Command::new("kill").args(["-TERM", &pid]).status();
        let deadline = Instant::now() + Duration::from_secs(20);
        while Instant::now() < deadline {
            if let Ok(Some(status)) = self.child.try_wait() {
                return status.code();
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
        None
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        if let Ok(None) = self.child.try_wait() {
            self.stop();
        }
    }
}

/// An HTTP client that sends no User-Agent (like Entra's Test Connection) and returns
/// every status as a response rather than an error.
pub fn agent() -> ureq::Agent {
    ureq::Agent::config_builder()
        .http_status_as_error(false)
        .user_agent(ureq::config::AutoHeaderValue::None)
        .timeout_global(Some(Duration::from_secs(30)))
        .build()
        .into()
}

/// A response: status, content type, `Retry-After` and body.
#[derive(Debug)]
pub struct Reply {
    pub status: u16,
    pub content_type: String,
    pub retry_after: Option<String>,
    pub body: String,
}

impl Reply {
    pub fn json(&self) -> Value {
        serde_json::from_str(&self.body).unwrap_or_else(|e| panic!("not JSON ({e}): {}", self.body))
    }
}

fn reply(res: Result<ureq::http::Response<ureq::Body>, ureq::Error>) -> Reply {
    let mut res = res.expect("HTTP request");
    let header = |name: &str| {
        res.headers()
            .get(name)
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned)
    };
    let (content_type, retry_after) = (header("content-type"), header("retry-after"));
    Reply {
        status: res.status().as_u16(),
        content_type: content_type.unwrap_or_default(),
        retry_after,
        body: res.body_mut().read_to_string().unwrap_or_default(),
    }
}

/// GET with an optional bearer token.
pub fn get(url: &str, token: Option<&str>) -> Reply {
    let mut req = agent().get(url);
    if let Some(t) = token {
        req = req.header("Authorization", &format!("Bearer {t}"));
    }
    reply(req.call())
}

/// POST a SCIM JSON body with a bearer token.
pub fn post(url: &str, token: &str, body: &Value) -> Reply {
    reply(
        agent()
            .post(url)
            .header("Authorization", &format!("Bearer {token}"))
            .header("Content-Type", "application/scim+json")
            .send(body.to_string().as_bytes()),
    )
}

/// PATCH a SCIM JSON body with a bearer token.
pub fn patch(url: &str, token: &str, body: &Value) -> Reply {
    reply(
        agent()
            .patch(url)
            .header("Authorization", &format!("Bearer {token}"))
            .header("Content-Type", "application/scim+json")
            .send(body.to_string().as_bytes()),
    )
}

/// Entra's Test Connection request: a filter on a random GUID, `+` for spaces.
pub fn test_connection(tenant_url: &str, token: &str) -> Reply {
    let guid = uuid::Uuid::new_v4();
    get(
        &format!("{tenant_url}/Users?filter=userName+eq+%22{guid}%22"),
        Some(token),
    )
}

/// Asserts that `reply` is Entra's expected empty ListResponse.
pub fn assert_empty_list(reply: &Reply) {
    assert_eq!(reply.status, 200, "{reply:?}");
    assert!(
        reply.content_type.starts_with("application/scim+json"),
        "{reply:?}"
    );
    let body = reply.json();
    assert_eq!(body["totalResults"], 0, "{body}");
    assert_eq!(body["Resources"], serde_json::json!([]), "{body}");
}

/// Creates a user the way Entra does and returns its id.
pub fn create_user(tenant_url: &str, token: &str, user_name: &str) -> String {
    let body = serde_json::json!({
        "schemas": [
            "urn:ietf:params:scim:schemas:core:2.0:User",
            "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"
        ],
        "externalId": user_name.split('@').next().unwrap_or(user_name),
        "userName": user_name,
        "active": true,
        "displayName": format!("Test {user_name}"),
        "emails": [{"primary": true, "type": "work", "value": user_name}],
        "name": {"givenName": "Test", "familyName": user_name},
    });
    let r = post(&format!("{tenant_url}/Users"), token, &body);
    assert_eq!(r.status, 201, "{r:?}");
    r.json()["id"].as_str().unwrap().to_owned()
}

/// Creates a group with these members and returns its id.
pub fn create_group(tenant_url: &str, token: &str, name: &str, members: &[&str]) -> String {
    let body = serde_json::json!({
        "schemas": ["urn:ietf:params:scim:schemas:core:2.0:Group"],
        "displayName": name,
        "externalId": format!("ext-{name}"),
    });
    let r = post(&format!("{tenant_url}/Groups"), token, &body);
    assert_eq!(r.status, 201, "{r:?}");
    let id = r.json()["id"].as_str().unwrap().to_owned();
    if !members.is_empty() {
        let value: Vec<Value> = members
            .iter()
            .map(|m| serde_json::json!({"value": m}))
            .collect();
        let r = patch(
            &format!("{tenant_url}/Groups/{id}"),
            token,
            &serde_json::json!({
                "schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
                "Operations": [{"op": "Add", "path": "members", "value": value}],
            }),
        );
        assert!(r.status == 204 || r.status == 200, "{r:?}");
    }
    id
}

/// DELETE with a bearer token.
pub fn delete(url: &str, token: &str) -> Reply {
    reply(
        agent()
            .delete(url)
            .header("Authorization", &format!("Bearer {token}"))
            .call(),
    )
}

/// POST a raw JSON body, with a bearer token when given.
pub fn post_raw(url: &str, token: Option<&str>, body: &[u8]) -> Reply {
    let mut req = agent().post(url).header("Content-Type", "application/json");
    if let Some(t) = token {
        req = req.header("Authorization", &format!("Bearer {t}"));
    }
    reply(req.send(body))
}

/// GET a binary body with a bearer token and an optional `If-None-Match`: the status,
/// the `ETag` and the bytes.
pub fn get_bytes(url: &str, token: &str, if_none_match: Option<&str>) -> (u16, String, Vec<u8>) {
    let mut req = agent()
        .get(url)
        .header("Authorization", &format!("Bearer {token}"));
    if let Some(tag) = if_none_match {
        req = req.header("If-None-Match", tag);
    }
    let mut res = req.call().expect("HTTP request");
    let etag = res
        .headers()
        .get("etag")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_owned();
    let body = res.body_mut().read_to_vec().unwrap_or_default();
    (res.status().as_u16(), etag, body)
}
