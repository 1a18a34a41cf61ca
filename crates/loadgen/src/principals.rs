//! Workload 9: sshd's `AuthorizedPrincipalsCommand`, `sshward-agent principals USER`, run
//! as sshd runs it (a new process per call, twice per login) against a state directory
//! holding a large access document. Its latency is paid on every login.

use std::path::{Path, PathBuf};
use std::process::Command;

use serde_json::{Value, json};

use crate::run::{self, Limits, Outcome};

/// Runs the principals command `limits.max_requests` times, alternating a user the
/// document lets in and one it does not; `document` is a host's access document (JSON).
pub fn run(agent: &Path, document: &Path, limits: Limits) -> Result<Outcome, String> {
    let text =
        std::fs::read_to_string(document).map_err(|e| format!("{}: {e}", document.display()))?;
    let doc: Value =
        serde_json::from_str(&text).map_err(|e| format!("{}: {e}", document.display()))?;
    let users: Vec<String> = doc["users"]
        .as_array()
        .map(|u| {
            u.iter()
                .filter_map(|u| u["username"].as_str().map(str::to_owned))
                .collect()
        })
        .unwrap_or_default();
    let Some(present) = users.get(users.len() / 2).cloned() else {
        return Err("the document lets nobody in".into());
    };
    let dir: PathBuf =
        std::env::temp_dir().join(format!("loadgen-principals-{}", std::process::id()));
    std::fs::create_dir_all(&dir).map_err(|e| format!("{}: {e}", dir.display()))?;
    let joined = json!({"server": "http://127.0.0.1:1", "host_id": 1,
        "hostname": doc["hostname"], "max_staleness_secs": 86_400});
    let now = std::time::UNIX_EPOCH
        .elapsed()
        .map(|d| d.as_secs())
        .unwrap_or(0);
    // What the agent keeps once it applied the document: the document, and the sorted
    // names `principals` reads.
    let mut sorted = users.clone();
    sorted.sort_unstable();
    let logins = sorted.join("\n") + "\n";
    for (name, body) in [
        ("join.json", joined.to_string()),
        ("access.json", text),
        ("logins", logins),
        ("confirmed", now.to_string()),
    ] {
        std::fs::write(dir.join(name), body).map_err(|e| format!("{name}: {e}"))?;
    }
    let name = format!(
        "9 sshd principals command ({} users in the document)",
        users.len()
    );
    let outcome = run::run(
        &name,
        limits,
        |_| (),
        |(), i| {
            let user = if i % 2 == 0 {
                present.as_str()
            } else {
                "nobody-here"
            };
            let out = Command::new(agent)
                .arg("--state-dir")
                .arg(&dir)
                .args(["principals", user])
                .output()
                .map_err(|e| format!("{}: {e}", agent.display()))?;
            let printed = String::from_utf8_lossy(&out.stdout);
            let expected = if i % 2 == 0 {
                format!("{user}\n")
            } else {
                String::new()
            };
            if out.status.success() && printed == expected {
                Ok(())
            } else {
                Err(format!(
                    "principals {user}: {printed:?} {}",
                    String::from_utf8_lossy(&out.stderr)
                ))
            }
        },
    );
    let _ = std::fs::remove_dir_all(&dir);
    Ok(outcome)
}
