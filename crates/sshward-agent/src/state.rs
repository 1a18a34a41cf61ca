//! The agent's state directory (`/var/lib/sshward-agent`): what it joined as, the last
//! good access document and revocation list, what it created. Every file is written
//! atomically (temporary file, fsync, rename), so a crash leaves the old or the new one.

use std::io::Write;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::reconcile::Registry;

/// The default state directory.
pub const DEFAULT_DIR: &str = "/var/lib/sshward-agent";

/// What `join` recorded.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Joined {
    /// sshward's URL.
    pub server: String,
    /// The host's id in its team.
    pub host_id: i64,
    /// Its hostname.
    pub hostname: String,
    /// How old the last good document may be before `principals` refuses everyone, in
    /// seconds (0: only a document confirmed in the last poll counts).
    pub max_staleness_secs: u64,
    /// A CA certificate (PEM) to trust for the server's TLS, if not the system's roots.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub server_ca: Option<PathBuf>,
    /// Host certificates written at join or renewal: key path, certificate path, expiry.
    #[serde(default)]
    pub host_certificates: Vec<HostCertFile>,
}

/// A host certificate the agent keeps up to date.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct HostCertFile {
    /// The host's public key file.
    pub public_key: PathBuf,
    /// Where its certificate is written (`KEY-cert.pub`).
    pub certificate: PathBuf,
    /// When it expires, unix seconds.
    pub valid_before: i64,
    /// When it was issued, unix seconds.
    pub valid_after: i64,
}

/// The state directory.
#[derive(Clone, Debug)]
pub struct State {
    dir: PathBuf,
}

impl State {
    /// The state directory at `dir`.
    pub fn at(dir: &Path) -> State {
        State {
            dir: dir.to_owned(),
        }
    }

    /// A file in it.
    pub fn path(&self, name: &str) -> PathBuf {
        self.dir.join(name)
    }

    /// Creates the directory: 0755, so that sshd's principals user can read the document;
    /// the secrets in it are 0600.
    pub fn create(&self) -> std::io::Result<()> {
        std::fs::create_dir_all(&self.dir)?;
        set_mode(&self.dir, 0o755)
    }

    /// Reads `join.json`.
    pub fn joined(&self) -> Result<Joined, String> {
        let path = self.path("join.json");
        let text = std::fs::read(&path).map_err(|e| {
            format!(
                "{}: {e} (join first: sshward-agent join --server URL --token TOKEN)",
                path.display()
            )
        })?;
        serde_json::from_slice(&text).map_err(|e| format!("{}: {e}", path.display()))
    }

    /// Writes `join.json`.
    pub fn save_joined(&self, joined: &Joined) -> std::io::Result<()> {
        let json = serde_json::to_vec_pretty(joined).map_err(std::io::Error::other)?;
        write_atomic(&self.path("join.json"), &json, 0o644)
    }

    /// The host credential.
    pub fn credential(&self) -> Result<String, String> {
        let path = self.path("credential");
        std::fs::read_to_string(&path)
            .map(|c| c.trim().to_owned())
            .map_err(|e| format!("{}: {e}", path.display()))
    }

    /// What the agent created.
    pub fn registry(&self) -> Result<Registry, String> {
        let path = self.path("registry.json");
        match std::fs::read(&path) {
            Ok(bytes) => {
                serde_json::from_slice(&bytes).map_err(|e| format!("{}: {e}", path.display()))
            }
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(Registry::default()),
            Err(e) => Err(format!("{}: {e}", path.display())),
        }
    }

    /// Writes the registry.
    pub fn save_registry(&self, registry: &Registry) -> std::io::Result<()> {
        let json = serde_json::to_vec_pretty(registry).map_err(std::io::Error::other)?;
        write_atomic(&self.path("registry.json"), &json, 0o600)
    }

    /// Unix seconds of the last poll that confirmed the document, if any.
    pub fn confirmed_at(&self) -> Option<u64> {
        std::fs::read_to_string(self.path("confirmed"))
            .ok()?
            .trim()
            .parse()
            .ok()
    }

    /// Records that the server confirmed the document now.
    pub fn confirm(&self) -> std::io::Result<()> {
        write_atomic(&self.path("confirmed"), now().to_string().as_bytes(), 0o644)
    }
}

/// Unix seconds now.
pub fn now() -> u64 {
    std::time::UNIX_EPOCH
        .elapsed()
        .map(|d| d.as_secs())
        .unwrap_or(0)
}

/// Sets a file's permission bits.
pub fn set_mode(path: &Path, mode: u32) -> std::io::Result<()> {
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode))
}

/// Writes `bytes` to `path` atomically with `mode`: a temporary file beside it, fsync,
/// rename over the old one, fsync of the directory.
pub fn write_atomic(path: &Path, bytes: &[u8], mode: u32) -> std::io::Result<()> {
    use std::os::unix::fs::OpenOptionsExt;
    let dir = path.parent().unwrap_or(Path::new("."));
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    // No '.' or '~' at the start or end matter to sudo only for the final name; the
    // temporary name starts with '.', which sudo's includedir ignores too.
    let tmp = dir.join(format!(".{name}.tmp{}", std::process::id()));
    let mut file = std::fs::OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(true)
        .mode(mode)
        .open(&tmp)?;
    file.write_all(bytes)?;
    file.sync_all()?;
    drop(file);
    set_mode(&tmp, mode)?;
    std::fs::rename(&tmp, path)?;
    if let Ok(d) = std::fs::File::open(dir) {
        let _ = d.sync_all();
    }
    Ok(())
}
