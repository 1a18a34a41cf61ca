//! A minimal blocking HTTP/1.1 client over one keep-alive connection per worker.
//!
//! Hand-written so that the load generator spends as little CPU per request as possible
//! (it shares the machine with the server it measures): one `write` per request, a few
//! `read`s per response, no per-request allocations beyond the response body.

use serde_json::Value;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::time::Duration;

/// One worker's connection to a server, with its `Authorization` header.
pub struct Client {
    host: String,
    prefix: String,
    auth: String,
    /// The local address connections come from (the system's choice when `None`).
    source: Option<std::net::IpAddr>,
    conn: Option<BufReader<TcpStream>>,
}

/// A response: status, body text and `ETag`.
pub struct Reply {
    /// HTTP status.
    pub status: u16,
    /// Body text (empty for 204/304).
    pub body: String,
    /// The `ETag` header, if any.
    pub etag: Option<String>,
}

impl Reply {
    /// The body as JSON (`Null` when it is not JSON).
    pub fn json(&self) -> Value {
        serde_json::from_str(&self.body).unwrap_or(Value::Null)
    }
}

impl Client {
    /// A client for `base` (`http://HOST:PORT/prefix`, e.g.
    /// `http://127.0.0.1:8080/scim/v2/default`) sending `Authorization: <scheme> <secret>`.
    pub fn new(base: &str, scheme: &str, secret: &str) -> Client {
        let rest = base.strip_prefix("http://").unwrap_or(base);
        let (host, prefix) = match rest.find('/') {
            Some(i) => (&rest[..i], rest[i..].trim_end_matches('/')),
            None => (rest, ""),
        };
        Client {
            host: host.to_string(),
            prefix: prefix.to_string(),
            auth: format!("{scheme} {secret}"),
            source: None,
            conn: None,
        }
    }

    /// The same client, connecting from local address `source` (e.g. one of 127.0.0.0/8,
    /// so that simulated hosts each have an address of their own, as real ones do).
    pub fn connecting_from(mut self, source: std::net::IpAddr) -> Client {
        self.source = Some(source);
        self
    }

    /// The same server, sending another secret (on its own connection).
    pub fn with_secret(&mut self, scheme: &str, secret: &str) -> &mut Client {
        self.auth = format!("{scheme} {secret}");
        self
    }

    /// `GET prefix + path` with extra headers.
    pub fn get(&mut self, path: &str, headers: &[(&str, &str)]) -> Result<Reply, String> {
        self.send("GET", path, headers, None)
    }

    /// `POST prefix + path` with a JSON body (as `application/scim+json`, which the SCIM
    /// and agent APIs both accept).
    pub fn post(&mut self, path: &str, body: &Value) -> Result<Reply, String> {
        self.send("POST", path, &[], Some(body.to_string()))
    }

    /// `POST prefix + path` with an HTML form body and extra headers (the console).
    pub fn post_form(
        &mut self,
        path: &str,
        form: &str,
        headers: &[(&str, &str)],
    ) -> Result<Reply, String> {
        self.send_typed("POST", path, headers, Some((FORM, form.to_owned())))
    }

    /// `PATCH prefix + path` with a SCIM JSON body.
    pub fn patch(&mut self, path: &str, body: &Value) -> Result<Reply, String> {
        self.send("PATCH", path, &[], Some(body.to_string()))
    }

    fn send(
        &mut self,
        method: &str,
        path: &str,
        headers: &[(&str, &str)],
        body: Option<String>,
    ) -> Result<Reply, String> {
        self.send_typed(method, path, headers, body.map(|b| (SCIM_JSON, b)))
    }

    fn send_typed(
        &mut self,
        method: &str,
        path: &str,
        headers: &[(&str, &str)],
        body: Option<(&str, String)>,
    ) -> Result<Reply, String> {
        let mut request = format!(
            "{method} {}{path} HTTP/1.1\r\nHost: {}\r\nAuthorization: {}\r\n",
            self.prefix, self.host, self.auth
        );
        for (name, value) in headers {
            request.push_str(&format!("{name}: {value}\r\n"));
        }
        if let Some((kind, body)) = &body {
            request.push_str(&format!(
                "Content-Type: {kind}\r\nContent-Length: {}\r\n\r\n{body}",
                body.len()
            ));
        } else {
            request.push_str("\r\n");
        }
        // A kept-alive connection that the server closed before reading the request
        // (nothing came back at all) gets one retry on a new connection; that is safe
        // even for a POST.
        let reused = self.conn.is_some();
        match self.exchange(&request) {
            Err(e) if reused && e == CLOSED => self.exchange(&request),
            other => other,
        }
    }

    fn connection(&mut self) -> Result<&mut BufReader<TcpStream>, String> {
        if self.conn.is_none() {
            let stream = self.connect().map_err(|e| format!("{}: {e}", self.host))?;
            stream.set_nodelay(true).map_err(|e| e.to_string())?;
            stream
                .set_read_timeout(Some(Duration::from_secs(120)))
                .map_err(|e| e.to_string())?;
            self.conn = Some(BufReader::with_capacity(64 * 1024, stream));
        }
        self.conn
            .as_mut()
            .ok_or_else(|| "no connection".to_string())
    }

    fn connect(&self) -> std::io::Result<TcpStream> {
        let Some(source) = self.source else {
            return TcpStream::connect(&self.host);
        };
        let server: std::net::SocketAddr = self
            .host
            .parse()
            .map_err(|e| std::io::Error::new(std::io::ErrorKind::InvalidInput, e))?;
        let socket = socket2::Socket::new(
            socket2::Domain::for_address(server),
            socket2::Type::STREAM,
            None,
        )?;
        socket.bind(&std::net::SocketAddr::new(source, 0).into())?;
        socket.connect(&server.into())?;
        Ok(socket.into())
    }

    fn exchange(&mut self, request: &str) -> Result<Reply, String> {
        let conn = self.connection()?;
        let written = conn
            .get_mut()
            .write_all(request.as_bytes())
            .map_err(|e| match e.kind() {
                std::io::ErrorKind::BrokenPipe | std::io::ErrorKind::ConnectionReset => {
                    CLOSED.to_string()
                }
                _ => e.to_string(),
            });
        let reply = written.and_then(|()| read_reply(conn));
        if reply.is_err() {
            self.conn = None;
        }
        reply
    }
}

/// The media type of SCIM and agent API bodies.
const SCIM_JSON: &str = "application/scim+json";
/// The media type of HTML forms.
const FORM: &str = "application/x-www-form-urlencoded";

/// The error of a connection closed before any byte of the response.
const CLOSED: &str = "connection closed";

fn read_reply(conn: &mut BufReader<TcpStream>) -> Result<Reply, String> {
    let mut line = String::new();
    match conn.read_line(&mut line) {
        Ok(0) => return Err(CLOSED.into()),
        Ok(_) => {}
        // A reset instead of an orderly close, before any byte: the same case.
        Err(e) if e.kind() == std::io::ErrorKind::ConnectionReset => return Err(CLOSED.into()),
        Err(e) => return Err(e.to_string()),
    }
    let status = line
        .split_whitespace()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .ok_or_else(|| format!("bad status line {line:?}"))?;
    let (mut length, mut chunked, mut etag) = (None, false, None);
    loop {
        line.clear();
        conn.read_line(&mut line).map_err(|e| e.to_string())?;
        let header = line.trim_end();
        if header.is_empty() {
            break;
        }
        if let Some((name, value)) = header.split_once(':') {
            let value = value.trim();
            if name.eq_ignore_ascii_case("content-length") {
                length = value.parse::<usize>().ok();
            } else if name.eq_ignore_ascii_case("transfer-encoding") {
                chunked = value.eq_ignore_ascii_case("chunked");
            } else if name.eq_ignore_ascii_case("etag") {
                etag = Some(value.to_string());
            }
        }
    }
    let mut body = Vec::new();
    if chunked {
        loop {
            line.clear();
            conn.read_line(&mut line).map_err(|e| e.to_string())?;
            let size = usize::from_str_radix(line.trim(), 16).map_err(|e| e.to_string())?;
            let start = body.len();
            body.resize(start + size + 2, 0);
            conn.read_exact(&mut body[start..])
                .map_err(|e| e.to_string())?;
            body.truncate(start + size);
            if size == 0 {
                break;
            }
        }
    } else if let Some(n) = length {
        body.resize(n, 0);
        conn.read_exact(&mut body).map_err(|e| e.to_string())?;
    }
    let body = String::from_utf8(body).map_err(|e| e.to_string())?;
    Ok(Reply { status, body, etag })
}

/// Percent-encodes a query value the way Entra does: spaces as `+`, quotes as `%22`.
pub fn encode_query(value: &str) -> String {
    let mut out = String::with_capacity(value.len() * 3);
    for byte in value.bytes() {
        match byte {
            b' ' => out.push('+'),
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                out.push(byte as char)
            }
            other => out.push_str(&format!("%{other:02X}")),
        }
    }
    out
}
