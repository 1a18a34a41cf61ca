//! The agent's HTTP client of sshward's agent API (`/api/v1/hosts/...`).

use std::path::Path;
use std::time::Duration;

use proto::{
    ErrorBody, HostCertificatesRequest, HostCertificatesResponse, JoinRequest, JoinResponse,
};
use ureq::tls::{Certificate, RootCerts, TlsConfig};

/// Largest answer read (an access document of 100,000 users is about 20 MB).
const MAX_BODY: u64 = 256 * 1024 * 1024;

/// A client of one server.
pub struct Client {
    server: String,
    agent: ureq::Agent,
}

/// What a conditional request came to.
pub enum Fetched {
    /// The server's copy is the one we have.
    NotModified,
    /// A new body, its entity tag and its signature header.
    Changed {
        /// The body.
        body: Vec<u8>,
        /// Its entity tag.
        etag: String,
        /// The [`proto::SIGNATURE_HEADER`], if sent.
        signature: Option<String>,
    },
}

impl Client {
    /// A client of `server` (`https://...`), trusting the CA in `server_ca` (PEM) instead
    /// of the system's roots when given. Requests time out after `timeout` (long polls
    /// add their wait).
    pub fn new(
        server: &str,
        server_ca: Option<&Path>,
        timeout: Duration,
    ) -> Result<Client, String> {
        let mut config = ureq::Agent::config_builder()
            .http_status_as_error(false)
            .timeout_global(Some(timeout))
            .max_redirects(0);
        if let Some(path) = server_ca {
            let pem = std::fs::read(path).map_err(|e| format!("{}: {e}", path.display()))?;
            let certs: Vec<Certificate<'static>> = ureq::tls::parse_pem(&pem)
                .filter_map(|item| match item {
                    Ok(ureq::tls::PemItem::Certificate(c)) => Some(c),
                    _ => None,
                })
                .collect();
            if certs.is_empty() {
                return Err(format!("{}: no PEM certificate in it", path.display()));
            }
            config = config.tls_config(
                TlsConfig::builder()
                    .root_certs(RootCerts::new_with_certs(&certs))
                    .build(),
            );
        }
        Ok(Client {
            server: server.trim_end_matches('/').to_owned(),
            agent: config.build().new_agent(),
        })
    }

    fn url(&self, path: &str) -> String {
        format!("{}/api/v1/hosts{path}", self.server)
    }

    /// Joins with a one-time join token.
    pub fn join(&self, request: &JoinRequest) -> Result<JoinResponse, String> {
        let url = self.url("/join");
        let response = self
            .agent
            .post(&url)
            .send_json(request)
            .map_err(|e| format!("POST {url}: {e}"))?;
        json(&url, 201, response)
    }

    /// New host certificates for `keys`.
    pub fn renew(
        &self,
        credential: &str,
        keys: Vec<String>,
    ) -> Result<HostCertificatesResponse, String> {
        let url = self.url("/self/certificates");
        let response = self
            .agent
            .post(&url)
            .header("Authorization", &format!("Bearer {credential}"))
            .send_json(&HostCertificatesRequest { host_keys: keys })
            .map_err(|e| format!("POST {url}: {e}"))?;
        json(&url, 200, response)
    }

    /// Reports the agent's state.
    pub fn report(&self, credential: &str, report: &proto::HostReport) -> Result<(), String> {
        let url = self.url("/self/status");
        let response = self
            .agent
            .post(&url)
            .header("Authorization", &format!("Bearer {credential}"))
            .send_json(report)
            .map_err(|e| format!("POST {url}: {e}"))?;
        match response.status().as_u16() {
            204 => Ok(()),
            status => Err(refusal(&url, status, response)),
        }
    }

    /// `GET /self/PATH` with `If-None-Match: etag` and `?wait=SECONDS`.
    pub fn fetch(
        &self,
        credential: &str,
        path: &str,
        etag: Option<&str>,
        wait: Duration,
    ) -> Result<Fetched, String> {
        let url = format!("{}?wait={}", self.url(path), wait.as_secs());
        let mut request = self
            .agent
            .get(&url)
            .header("Authorization", &format!("Bearer {credential}"));
        if let Some(tag) = etag {
            request = request.header("If-None-Match", tag);
        }
        let mut response = request
            .config()
            .timeout_global(Some(wait + Duration::from_secs(30)))
            .build()
            .call()
            .map_err(|e| format!("GET {url}: {e}"))?;
        match response.status().as_u16() {
            304 => Ok(Fetched::NotModified),
            200 => {
                let header = |name: &str| {
                    response
                        .headers()
                        .get(name)
                        .and_then(|v| v.to_str().ok())
                        .map(str::to_owned)
                };
                let tag = header("etag").unwrap_or_default();
                let signature = header(proto::SIGNATURE_HEADER);
                let body = response
                    .body_mut()
                    .with_config()
                    .limit(MAX_BODY)
                    .read_to_vec()
                    .map_err(|e| format!("GET {url}: {e}"))?;
                Ok(Fetched::Changed {
                    body,
                    etag: tag,
                    signature,
                })
            }
            status => Err(refusal(&url, status, response)),
        }
    }
}

/// The JSON answer of a request that should answer `expected`.
fn json<T: serde::de::DeserializeOwned>(
    url: &str,
    expected: u16,
    mut response: ureq::http::Response<ureq::Body>,
) -> Result<T, String> {
    let status = response.status().as_u16();
    if status != expected {
        return Err(refusal(url, status, response));
    }
    response
        .body_mut()
        .read_json()
        .map_err(|e| format!("{url}: unexpected answer: {e}"))
}

/// The server's reason for an error answer.
fn refusal(url: &str, status: u16, mut response: ureq::http::Response<ureq::Body>) -> String {
    let text = response.body_mut().read_to_string().unwrap_or_default();
    match serde_json::from_str::<ErrorBody>(&text) {
        Ok(body) => format!("{url}: HTTP {status}: {}", body.message),
        Err(_) => format!("{url}: HTTP {status}"),
    }
}
