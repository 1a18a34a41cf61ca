//! The client side of `sshward login` (feature `cli`).
//!
//! - **Loopback** (RFC 8252): listen on `127.0.0.1` on a random port, open the browser at
//!   `{server}/login/{team}` with the loopback redirect, a PKCE S256 challenge and a state;
//!   the server signs the person in at the provider and sends the browser back to the
//!   listener with a one-time code, which the CLI redeems with its verifier at
//!   `POST {server}/login/token`.
//! - **Device** (RFC 8628), for machines without a browser: `POST
//!   {server}/login/{team}/device`, show the code and the URL, poll `POST
//!   {server}/login/token` at the given interval.
//!
//! The result is saved by [`save_token`] with mode 0600.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use openidconnect::url::Url;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::flow::{DeviceStarted, IssuedToken};

/// What can go wrong on the client side.
#[derive(Debug, thiserror::Error)]
pub enum ClientError {
    /// The server could not be reached or answered something unexpected.
    #[error("{0}")]
    Http(String),
    /// The server refused (`error` code and its description).
    #[error("{description} ({code})")]
    Refused {
        /// RFC 6749-style error code.
        code: String,
        /// The server's explanation.
        description: String,
    },
    /// The person did not finish in time.
    #[error("the sign-in was not completed within {0:?}")]
    Timeout(Duration),
    /// A local I/O problem (listener, token file).
    #[error("{0}")]
    Io(#[from] std::io::Error),
}

/// How to sign in.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Mode {
    /// Browser with a loopback redirect when a browser can be opened, else the device
    /// flow (and, when the provider has none, the loopback flow with the URL printed).
    Auto,
    /// Loopback redirect; the URL is printed when no browser can be opened.
    Browser,
    /// Device authorization grant only.
    Device,
}

/// Opens a URL in a browser; an error when there is none.
pub type Opener<'a> = &'a dyn Fn(&str) -> Result<(), String>;

/// Opens `url` in the default browser.
pub fn open_browser(url: &str) -> Result<(), String> {
    webbrowser::open(url).map_err(|e| e.to_string())
}

/// True on a machine where no browser can be shown: no `DISPLAY` or `WAYLAND_DISPLAY` on
/// Unix other than macOS.
pub fn headless() -> bool {
    if cfg!(any(target_os = "macos", target_os = "windows")) {
        return false;
    }
    let set = |k: &str| std::env::var_os(k).is_some_and(|v| !v.is_empty());
    !set("DISPLAY") && !set("WAYLAND_DISPLAY")
}

/// A sign-in request.
pub struct Login<'a> {
    /// sshward's base URL.
    pub server: String,
    /// The team's slug.
    pub team: String,
    /// How.
    pub mode: Mode,
    /// Give up after this long.
    pub timeout: Duration,
    /// How to open the browser (tests drive the flow without one).
    pub open: Opener<'a>,
}

fn agent() -> ureq::Agent {
    ureq::Agent::config_builder()
        .timeout_global(Some(Duration::from_secs(30)))
        .http_status_as_error(false)
        .max_redirects(0)
        .build()
        .new_agent()
}

fn random(n: usize) -> Result<String, ClientError> {
    let mut bytes = vec![0u8; n];
    getrandom::fill(&mut bytes)
        .map_err(|e| ClientError::Io(std::io::Error::other(format!("random: {e}"))))?;
    Ok(URL_SAFE_NO_PAD.encode(bytes))
}

/// POSTs a form to the server; the JSON body of a 200 answer, [`ClientError::Refused`]
/// with the server's error otherwise.
fn post<T: for<'de> Deserialize<'de>>(url: &str, form: &[(&str, &str)]) -> Result<T, ClientError> {
    let response = agent()
        .post(url)
        .header("Accept", "application/json")
        .send_form(form.iter().copied())
        .map_err(|e| ClientError::Http(format!("POST {url}: {e}")))?;
    answer(url, 200, response)
}

/// The JSON body of `response` to `POST url` when its status is `expected`;
/// [`ClientError::Refused`] with the server's code and message otherwise.
fn answer<T: for<'de> Deserialize<'de>>(
    url: &str,
    expected: u16,
    mut response: ureq::http::Response<ureq::Body>,
) -> Result<T, ClientError> {
    let status = response.status().as_u16();
    let body: serde_json::Value = response
        .body_mut()
        .read_json()
        .map_err(|e| ClientError::Http(format!("POST {url}: HTTP {status}, not JSON: {e}")))?;
    if status == expected {
        return serde_json::from_value(body)
            .map_err(|e| ClientError::Http(format!("POST {url}: unexpected answer: {e}")));
    }
    let field = |k: &str| {
        body.get(k)
            .and_then(|v| v.as_str())
            .unwrap_or_default()
            .to_owned()
    };
    Err(ClientError::Refused {
        code: field("error"),
        description: field("message"),
    })
}

/// Asks `server` for a user certificate of `public_key` (one OpenSSH line) with the
/// access token of a sign-in: `POST /api/v1/ssh/user-certificate`.
pub fn request_certificate(
    server: &str,
    access_token: &str,
    public_key: &str,
) -> Result<proto::CertificateResponse, ClientError> {
    let url = format!("{server}/api/v1/ssh/user-certificate");
    let request = proto::UserCertificateRequest {
        public_key: public_key.trim().to_owned(),
    };
    let response = agent()
        .post(&url)
        .header("Accept", "application/json")
        .header("Authorization", &format!("Bearer {access_token}"))
        .send_json(&request)
        .map_err(|e| ClientError::Http(format!("POST {url}: {e}")))?;
    answer(&url, 201, response)
}

/// Signs in as described by `login`, writing instructions for the person to `out`.
pub fn login(login: &Login<'_>, out: &mut dyn Write) -> Result<IssuedToken, ClientError> {
    match login.mode {
        Mode::Browser => loopback(login, out),
        Mode::Device => device(login, out),
        Mode::Auto if !headless() => loopback(login, out),
        Mode::Auto => match device(login, out) {
            Err(ClientError::Refused { code, .. }) if code == "unsupported_grant_type" => {
                writeln!(
                    out,
                    "The identity provider has no device sign-in; using the browser flow."
                )?;
                loopback(login, out)
            }
            other => other,
        },
    }
}

/// The loopback flow.
pub fn loopback(login: &Login<'_>, out: &mut dyn Write) -> Result<IssuedToken, ClientError> {
    let listener = TcpListener::bind(("127.0.0.1", 0))?;
    let port = listener.local_addr()?.port();
    let redirect = format!("http://127.0.0.1:{port}/callback");
    let verifier = random(32)?;
    let challenge = URL_SAFE_NO_PAD.encode(Sha256::digest(verifier.as_bytes()));
    let state = random(16)?;
    let base = login.server.trim_end_matches('/');
    let mut url = Url::parse(&format!("{base}/login/{}", login.team))
        .map_err(|e| ClientError::Http(format!("server URL {base}: {e}")))?;
    url.query_pairs_mut()
        .append_pair("cli_redirect", &redirect)
        .append_pair("cli_challenge", &challenge)
        .append_pair("cli_state", &state);
    let url = url.to_string();
    match (login.open)(&url) {
        Ok(()) => writeln!(
            out,
            "Opened your browser to sign in to team {}.",
            login.team
        )?,
        Err(e) => writeln!(
            out,
            "Could not open a browser ({e}). Open this URL in a browser on this machine:\n\n  {url}\n"
        )?,
    }
    writeln!(out, "Waiting for the sign-in to finish...")?;
    let code = wait_for_code(&listener, &state, login.timeout)?;
    post(
        &format!("{base}/login/token"),
        &[
            ("grant_type", "authorization_code"),
            ("code", &code),
            ("code_verifier", &verifier),
        ],
    )
}

/// Accepts connections on the loopback listener until `/callback` arrives with our state.
fn wait_for_code(
    listener: &TcpListener,
    state: &str,
    timeout: Duration,
) -> Result<String, ClientError> {
    listener.set_nonblocking(true)?;
    let deadline = Instant::now() + timeout;
    loop {
        if Instant::now() >= deadline {
            return Err(ClientError::Timeout(timeout));
        }
        let stream = match listener.accept() {
            Ok((stream, _)) => stream,
            Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => {
                std::thread::sleep(Duration::from_millis(50));
                continue;
            }
            Err(e) => return Err(e.into()),
        };
        if let Some(result) = handle_callback(stream, state)? {
            return result;
        }
    }
}

/// Serves one request of the loopback listener; `None` when it was not our callback.
fn handle_callback(
    mut stream: TcpStream,
    state: &str,
) -> Result<Option<Result<String, ClientError>>, ClientError> {
    stream.set_nonblocking(false)?;
    stream.set_read_timeout(Some(Duration::from_secs(5)))?;
    let mut line = String::new();
    BufReader::new((&stream).take(8192)).read_line(&mut line)?;
    let target = line
        .split_whitespace()
        .nth(1)
        .unwrap_or_default()
        .to_owned();
    let Ok(url) = Url::parse(&format!("http://127.0.0.1{target}")) else {
        respond(&mut stream, "400 Bad Request", "Bad request.")?;
        return Ok(None);
    };
    if url.path() != "/callback" {
        respond(&mut stream, "404 Not Found", "Not found.")?;
        return Ok(None);
    }
    let get = |k: &str| {
        url.query_pairs()
            .find(|(n, _)| n == k)
            .map(|(_, v)| v.into_owned())
    };
    if get("state").as_deref() != Some(state) {
        respond(
            &mut stream,
            "400 Bad Request",
            "This answer is not for this sign-in.",
        )?;
        return Ok(None);
    }
    if let Some(code) = get("code") {
        respond(
            &mut stream,
            "200 OK",
            "Signed in to sshward. You can close this window and return to the terminal.",
        )?;
        return Ok(Some(Ok(code)));
    }
    let error = ClientError::Refused {
        code: get("error").unwrap_or_else(|| "invalid_request".into()),
        description: get("error_description").unwrap_or_else(|| "no code in the answer".into()),
    };
    respond(
        &mut stream,
        "403 Forbidden",
        &format!("Sign-in failed: {error}"),
    )?;
    Ok(Some(Err(error)))
}

fn respond(stream: &mut TcpStream, status: &str, message: &str) -> Result<(), ClientError> {
    let text = message
        .replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;");
    let body = format!(
        "<!doctype html><html><head><meta charset=\"utf-8\"><title>sshward</title></head>\
         <body><p>{text}</p></body></html>"
    );
    write!(
        stream,
        "HTTP/1.1 {status}\r\nContent-Type: text/html; charset=utf-8\r\nContent-Length: {}\r\n\
         Cache-Control: no-store\r\nConnection: close\r\n\r\n{body}",
        body.len()
    )?;
    stream.flush()?;
    Ok(())
}

/// The device flow.
pub fn device(login: &Login<'_>, out: &mut dyn Write) -> Result<IssuedToken, ClientError> {
    let base = login.server.trim_end_matches('/');
    let started: DeviceStarted = post(&format!("{base}/login/{}/device", login.team), &[])?;
    writeln!(
        out,
        "To sign in to team {}, open {} and enter the code {}",
        login.team, started.verification_uri, started.user_code
    )?;
    if let Some(complete) = &started.verification_uri_complete {
        writeln!(out, "(or open {complete})")?;
    }
    let limit = login.timeout.min(Duration::from_secs(started.expires_in));
    let deadline = Instant::now() + limit;
    let mut interval = Duration::from_secs(started.interval.max(1));
    loop {
        std::thread::sleep(interval);
        if Instant::now() >= deadline {
            return Err(ClientError::Timeout(limit));
        }
        let polled = post(
            &format!("{base}/login/token"),
            &[
                ("grant_type", "urn:ietf:params:oauth:grant-type:device_code"),
                ("device_code", &started.device_code),
            ],
        );
        match polled {
            Err(ClientError::Refused { code, .. }) if code == "authorization_pending" => {}
            Err(ClientError::Refused { code, .. }) if code == "slow_down" => {
                interval += Duration::from_secs(5);
            }
            other => return other,
        }
    }
}

/// A saved sign-in, as written by [`save_token`].
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq, Eq)]
pub struct SavedToken {
    /// The server it is valid for.
    pub server: String,
    /// The token and who it names.
    #[serde(flatten)]
    pub token: IssuedToken,
}

/// Where `sshward login` keeps the token of `team` at `server`:
/// `$XDG_CONFIG_HOME/sshward/tokens/HOST_PORT_TEAM.json` (default `~/.config`).
pub fn default_token_path(server: &str, team: &str) -> Option<PathBuf> {
    let base = std::env::var_os("XDG_CONFIG_HOME")
        .filter(|v| !v.is_empty())
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".config")))?;
    let url = Url::parse(server).ok()?;
    let host: String = format!("{}_{}", url.host_str()?, url.port_or_known_default()?)
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '.' || c == '-' {
                c
            } else {
                '_'
            }
        })
        .collect();
    Some(
        base.join("sshward")
            .join("tokens")
            .join(format!("{host}_{team}.json")),
    )
}

/// Writes `saved` to `path` atomically, readable by the owner only (0600; the directory is
/// created 0700).
pub fn save_token(path: &Path, saved: &SavedToken) -> Result<(), ClientError> {
    let dir = path
        .parent()
        .ok_or_else(|| ClientError::Io(std::io::Error::other("the token path has no directory")))?;
    let mut builder = std::fs::DirBuilder::new();
    builder.recursive(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::DirBuilderExt;
        builder.mode(0o700);
    }
    builder.create(dir)?;
    let tmp = path.with_extension(format!("tmp{}", std::process::id()));
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create(true).truncate(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    let mut file = options.open(&tmp)?;
    let json = serde_json::to_vec_pretty(saved).map_err(|e| ClientError::Io(e.into()))?;
    file.write_all(&json)?;
    file.sync_all()?;
    std::fs::rename(&tmp, path)?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn token_paths() {
        let p = default_token_path("https://sshward.example.com", "acme");
        if let Some(p) = p {
            assert!(
                p.ends_with("sshward/tokens/sshward.example.com_443_acme.json"),
                "{p:?}"
            );
        }
    }

    #[test]
    fn saved_tokens_are_private() -> Result<(), ClientError> {
        let dir = tempfile::tempdir()?;
        let path = dir.path().join("a/b/t.json");
        let saved = SavedToken {
            server: "http://127.0.0.1:1".into(),
            token: IssuedToken {
                access_token: "x.y.z".into(),
                token_type: "Bearer".into(),
                expires_in: 1,
                expires_at: 2,
                team: "t".into(),
                user_id: "u".into(),
                user_name: "n".into(),
            },
        };
        save_token(&path, &saved)?;
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            assert_eq!(
                std::fs::metadata(&path)?.permissions().mode() & 0o777,
                0o600
            );
        }
        let back: SavedToken = serde_json::from_slice(&std::fs::read(&path)?)
            .map_err(|e| ClientError::Io(e.into()))?;
        assert_eq!(back, saved);
        Ok(())
    }
}
