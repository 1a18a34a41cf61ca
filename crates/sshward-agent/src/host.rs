//! The files the agent owns outside its state directory: the sshd drop-in and the
//! sudoers file, each checked by its own tool (`sshd -t`, `visudo -cf`) before it takes
//! effect; and the system user sshd runs the principals command as.

use std::path::{Path, PathBuf};

use crate::apply::run;
use crate::reconcile::SUDO_GROUP;
use crate::state::write_atomic;

/// The system user of `AuthorizedPrincipalsCommandUser`.
pub const PRINCIPALS_USER: &str = "sshward-principals";
/// The sudoers file (no `.` or `~` in the name: sudo would skip it).
pub const SUDOERS: &str = "/etc/sudoers.d/sshward";

/// Where sshd's files are and how to check and reload it.
#[derive(Clone, Debug)]
pub struct Sshd {
    /// The drop-in the agent writes (`/etc/ssh/sshd_config.d/sshward.conf`).
    pub drop_in: PathBuf,
    /// The main configuration, which includes the drop-in (for `sshd -t -f`).
    pub main_config: PathBuf,
    /// The command that reloads sshd, if any (`systemctl reload ssh`).
    pub reload: Option<Vec<String>>,
}

/// The drop-in's text.
pub fn drop_in(state_dir: &Path, agent: &Path, host_certs: &[PathBuf]) -> String {
    let mut text = format!(
        "# Managed by sshward-agent: do not edit (sshward-agent uninstall removes it).\n\
         TrustedUserCAKeys {ca}\n\
         RevokedKeys {krl}\n\
         AuthorizedPrincipalsCommand {agent} principals --state-dir {state} %u\n\
         AuthorizedPrincipalsCommandUser {PRINCIPALS_USER}\n",
        ca = state_dir.join("user_ca.pub").display(),
        krl = state_dir.join("revoked_keys").display(),
        agent = agent.display(),
        state = state_dir.display(),
    );
    for cert in host_certs {
        text.push_str(&format!("HostCertificate {}\n", cert.display()));
    }
    text
}

/// The sudoers file's text: the members of the sudo group may run anything without a
/// password (people who log in with certificates have none).
pub fn sudoers() -> String {
    format!(
        "# Managed by sshward-agent: do not edit. Members of {SUDO_GROUP} are the people sshward\n\
         # grants sudo on this host.\n\
         %{SUDO_GROUP} ALL=(ALL:ALL) NOPASSWD: ALL\n"
    )
}

impl Sshd {
    /// Installs `text` as the drop-in if `sshd -t` accepts the configuration with it;
    /// otherwise puts the old one back and fails. Reloads sshd when configured.
    pub fn install(&self, text: &str) -> Result<(), String> {
        let old = std::fs::read(&self.drop_in).ok();
        if let Some(dir) = self.drop_in.parent() {
            std::fs::create_dir_all(dir).map_err(|e| format!("{}: {e}", dir.display()))?;
        }
        write_atomic(&self.drop_in, text.as_bytes(), 0o644)
            .map_err(|e| format!("{}: {e}", self.drop_in.display()))?;
        let main = self.main_config.to_string_lossy().into_owned();
        if let Err(e) = run("sshd", &["-t", "-f", &main]) {
            let restored = match old {
                Some(bytes) => write_atomic(&self.drop_in, &bytes, 0o644),
                None => std::fs::remove_file(&self.drop_in),
            };
            if let Err(r) = restored {
                return Err(format!(
                    "{e}; and the old drop-in could not be restored: {r}"
                ));
            }
            return Err(format!(
                "sshd refuses the configuration, the drop-in is not installed: {e}"
            ));
        }
        if let Some(reload) = &self.reload
            && let Some((program, args)) = reload.split_first()
        {
            let args: Vec<&str> = args.iter().map(String::as_str).collect();
            run(program, &args)?;
        }
        Ok(())
    }
}

/// Installs the sudoers file if `visudo -cf` accepts it; an invalid rendering is never
/// installed.
pub fn install_sudoers(path: &Path) -> Result<(), String> {
    let dir = path.parent().unwrap_or(Path::new("/etc/sudoers.d"));
    std::fs::create_dir_all(dir).map_err(|e| format!("{}: {e}", dir.display()))?;
    let candidate = dir.join(".sshward.new");
    write_atomic(&candidate, sudoers().as_bytes(), 0o440)
        .map_err(|e| format!("{}: {e}", candidate.display()))?;
    let checked = run("visudo", &["-cf", &candidate.to_string_lossy()]);
    if let Err(e) = checked {
        let _ = std::fs::remove_file(&candidate);
        return Err(format!(
            "visudo refuses the sudoers file, it is not installed: {e}"
        ));
    }
    std::fs::rename(&candidate, path).map_err(|e| format!("{}: {e}", path.display()))
}

/// Creates the principals user unless it exists.
pub fn ensure_principals_user() -> Result<(), String> {
    let exists = std::fs::read_to_string("/etc/passwd")
        .map(|p| {
            p.lines()
                .any(|l| l.split(':').next() == Some(PRINCIPALS_USER))
        })
        .unwrap_or(false);
    if exists {
        return Ok(());
    }
    run(
        "useradd",
        &[
            "--system",
            "--no-create-home",
            "--home-dir",
            "/nonexistent",
            "--shell",
            "/usr/sbin/nologin",
            PRINCIPALS_USER,
        ],
    )
}
