//! A small blocking HTTP client: one keep-alive connection per worker.

use serde_json::Value;
use std::time::Duration;

/// One worker's connection to a server, with its `Authorization` header.
pub struct Client {
    agent: ureq::Agent,
    base: String,
    auth: String,
}

/// A response: status and body text.
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
    /// A client for `base` (e.g. `http://127.0.0.1:8080/scim/v2/default`) sending
    /// `Authorization: <scheme> <secret>`.
    pub fn new(base: &str, scheme: &str, secret: &str) -> Client {
        let agent: ureq::Agent = ureq::Agent::config_builder()
            .http_status_as_error(false)
            .timeout_global(Some(Duration::from_secs(60)))
            .max_idle_connections_per_host(1)
            .build()
            .into();
        Client {
            agent,
            base: base.trim_end_matches('/').to_string(),
            auth: format!("{scheme} {secret}"),
        }
    }

    /// The same connection pool, sending another secret.
    pub fn with_secret(&self, scheme: &str, secret: &str) -> Client {
        Client {
            agent: self.agent.clone(),
            base: self.base.clone(),
            auth: format!("{scheme} {secret}"),
        }
    }

    fn finish(
        result: Result<ureq::http::Response<ureq::Body>, ureq::Error>,
    ) -> Result<Reply, String> {
        let mut response = result.map_err(|e| e.to_string())?;
        let status = response.status().as_u16();
        let etag = response
            .headers()
            .get("etag")
            .and_then(|v| v.to_str().ok())
            .map(str::to_string);
        let body = response
            .body_mut()
            .read_to_string()
            .map_err(|e| e.to_string())?;
        Ok(Reply { status, body, etag })
    }

    /// `GET base + path` with optional extra headers.
    pub fn get(&self, path: &str, headers: &[(&str, &str)]) -> Result<Reply, String> {
        let mut request = self
            .agent
            .get(format!("{}{path}", self.base))
            .header("Authorization", &self.auth);
        for (name, value) in headers {
            request = request.header(*name, *value);
        }
        Self::finish(request.call())
    }

    /// `POST base + path` with a JSON body (sent as `application/scim+json`, which the
    /// SCIM and agent APIs both accept).
    pub fn post(&self, path: &str, body: &Value) -> Result<Reply, String> {
        Self::finish(
            self.agent
                .post(format!("{}{path}", self.base))
                .header("Authorization", &self.auth)
                .header("Content-Type", "application/scim+json")
                .send(body.to_string()),
        )
    }

    /// `PATCH base + path` with a SCIM JSON body.
    pub fn patch(&self, path: &str, body: &Value) -> Result<Reply, String> {
        Self::finish(
            self.agent
                .patch(format!("{}{path}", self.base))
                .header("Authorization", &self.auth)
                .header("Content-Type", "application/scim+json")
                .send(body.to_string()),
        )
    }
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
