//! TLS for deployments without a proxy in front: `server.tls_certificate` and
//! `server.tls_private_key` (PEM files) make `sshward serve` speak https itself (rustls
//! with the ring provider, TLS 1.2 and 1.3, HTTP/1.1). SIGHUP reloads both files: new
//! connections get the new certificate, open ones keep theirs, and a pair that does not
//! load (unreadable, malformed, key not matching) is refused with an ERROR line while
//! the previous certificate stays in use.

use std::fmt;
use std::path::{Path, PathBuf};
use std::sync::{Arc, PoisonError, RwLock};

use rustls::crypto::ring;
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};
use rustls::server::{ClientHello, ResolvesServerCert};
use rustls::sign::CertifiedKey;

use crate::error::{Error, Result};

/// The server's certificate, replaceable while serving.
pub struct Certificate {
    certificate: PathBuf,
    private_key: PathBuf,
    current: RwLock<Arc<CertifiedKey>>,
}

impl fmt::Debug for Certificate {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Certificate")
            .field("certificate", &self.certificate)
            .field("private_key", &self.private_key)
            .finish_non_exhaustive()
    }
}

impl Certificate {
    /// Loads the certificate chain and private key from these PEM files.
    pub fn load(certificate: &Path, private_key: &Path) -> Result<Arc<Certificate>> {
        let key = read(certificate, private_key)?;
        Ok(Arc::new(Certificate {
            certificate: certificate.to_owned(),
            private_key: private_key.to_owned(),
            current: RwLock::new(Arc::new(key)),
        }))
    }

    /// Reads both files again and serves the new pair to new connections; on an error
    /// the previous pair stays.
    pub fn reload(&self) -> Result<()> {
        let key = read(&self.certificate, &self.private_key)?;
        *self.current.write().unwrap_or_else(PoisonError::into_inner) = Arc::new(key);
        Ok(())
    }

    /// rustls' settings for serving with this certificate.
    pub fn server_config(self: &Arc<Self>) -> Result<rustls::ServerConfig> {
        let mut config =
            rustls::ServerConfig::builder_with_provider(Arc::new(ring::default_provider()))
                .with_safe_default_protocol_versions()
                .map_err(|e| Error::Other(format!("TLS: {e}")))?
                .with_no_client_auth()
                .with_cert_resolver(self.clone());
        config.alpn_protocols = vec![b"http/1.1".to_vec()];
        Ok(config)
    }
}

impl ResolvesServerCert for Certificate {
    fn resolve(&self, _hello: ClientHello<'_>) -> Option<Arc<CertifiedKey>> {
        Some(
            self.current
                .read()
                .unwrap_or_else(PoisonError::into_inner)
                .clone(),
        )
    }
}

/// The pair in these files, checked to belong together.
fn read(certificate: &Path, private_key: &Path) -> Result<CertifiedKey> {
    let bad = |option: &str, path: &Path, why: String| {
        Error::Config(format!("{option} = {}: {why}", path.display()))
    };
    let chain: Vec<CertificateDer<'static>> = CertificateDer::pem_file_iter(certificate)
        .map_err(|e| bad("server.tls_certificate", certificate, e.to_string()))?
        .collect::<std::result::Result<_, _>>()
        .map_err(|e| bad("server.tls_certificate", certificate, e.to_string()))?;
    if chain.is_empty() {
        return Err(bad(
            "server.tls_certificate",
            certificate,
            "no PEM certificate in the file".into(),
        ));
    }
    let key = PrivateKeyDer::from_pem_file(private_key)
        .map_err(|e| bad("server.tls_private_key", private_key, e.to_string()))?;
    let signer = ring::sign::any_supported_type(&key)
        .map_err(|e| bad("server.tls_private_key", private_key, e.to_string()))?;
    let pair = CertifiedKey::new(chain, signer);
    pair.keys_match().map_err(|e| {
        bad(
            "server.tls_private_key",
            private_key,
            format!("does not belong to the certificate: {e}"),
        )
    })?;
    Ok(pair)
}
