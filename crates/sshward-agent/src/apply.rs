//! Running a [`Plan`] with the shadow tools (`groupadd`, `useradd`, `usermod`, `gpasswd`)
//! and ending sessions; the only part of the agent that changes accounts.

use std::process::Command;

use crate::reconcile::{Action, MARKER_GROUP, ManagedUser, NOLOGIN, Plan, Registry, SUDO_GROUP};

/// What running a plan did.
#[derive(Debug, Default)]
pub struct Applied {
    /// Actions that succeeded, as log lines.
    pub done: Vec<String>,
    /// Actions that failed, with the tool's message.
    pub failed: Vec<String>,
}

/// Runs `program args`; the error names the command and what it printed.
pub fn run(program: &str, args: &[&str]) -> Result<(), String> {
    let out = Command::new(program)
        .args(args)
        .output()
        .map_err(|e| format!("{program}: {e}"))?;
    if out.status.success() {
        Ok(())
    } else {
        Err(format!(
            "{program} {}: {}",
            args.join(" "),
            String::from_utf8_lossy(&out.stderr).trim()
        ))
    }
}

/// Runs every action of `plan` in order, recording in `registry` what it created and
/// which local groups it joined users to. A failed action is reported and the others
/// still run (a missing local group must not keep everyone else out).
pub fn apply(plan: &Plan, registry: &mut Registry) -> Applied {
    let mut applied = Applied::default();
    for action in &plan.actions {
        let (what, result) = run_action(action, registry);
        match result {
            Ok(()) => applied.done.push(what),
            Err(e) => applied.failed.push(format!("{what}: {e}")),
        }
    }
    applied
}

fn run_action(action: &Action, registry: &mut Registry) -> (String, Result<(), String>) {
    match action {
        Action::CreateSystemGroup(name) => (
            format!("created the system group {name}"),
            run("groupadd", &["--system", name]),
        ),
        Action::CreateGroup { name, gid } => {
            let result = run("groupadd", &["--gid", &gid.to_string(), name]);
            if result.is_ok() {
                registry.groups.insert(name.clone(), *gid);
            }
            (format!("created the group {name} (gid {gid})"), result)
        }
        Action::CreateUser(user) => {
            let a = &user.account;
            let (uid, gid) = (a.uid.to_string(), a.gid.to_string());
            let result = run(
                "useradd",
                &[
                    "--uid",
                    &uid,
                    "--gid",
                    &gid,
                    "--comment",
                    &a.gecos,
                    "--home-dir",
                    &a.home,
                    "--create-home",
                    "--shell",
                    &a.shell,
                    "--groups",
                    MARKER_GROUP,
                    &a.username,
                ],
            );
            if result.is_ok() {
                registry.users.insert(
                    a.username.clone(),
                    ManagedUser {
                        uid: a.uid,
                        extra_groups: Default::default(),
                    },
                );
            }
            (
                format!("created the user {} (uid {uid})", a.username),
                result,
            )
        }
        Action::UpdateUser { name, gecos, shell } => (
            format!("updated the user {name}"),
            run("usermod", &["--comment", gecos, "--shell", shell, name]),
        ),
        Action::Restore { name, shell } => (
            format!("restored the user {name}"),
            run("usermod", &["--expiredate", "", "--shell", shell, name]),
        ),
        Action::AddMember { group, user } => {
            let result = run("gpasswd", &["-a", user, group]);
            if result.is_ok()
                && !registry.groups.contains_key(group)
                && group != SUDO_GROUP
                && group != MARKER_GROUP
                && let Some(u) = registry.users.get_mut(user)
            {
                u.extra_groups.insert(group.clone());
            }
            (format!("added {user} to {group}"), result)
        }
        Action::RemoveMember { group, user } => {
            let result = run("gpasswd", &["-d", user, group]);
            if result.is_ok()
                && let Some(u) = registry.users.get_mut(user)
            {
                u.extra_groups.remove(group);
            }
            (format!("removed {user} from {group}"), result)
        }
        Action::Expire { name, uid } => {
            let result = run("usermod", &["--expiredate", "1", "--shell", NOLOGIN, name]);
            end_sessions(name, *uid);
            (
                format!("expired the user {name} and ended their sessions"),
                result,
            )
        }
    }
}

/// Ends every session of the user: logind's when it runs, then whatever is left of the
/// uid (containers and `UsePAM no` have no logind session).
fn end_sessions(name: &str, uid: u32) {
    let _ = Command::new("loginctl")
        .args(["terminate-user", name])
        .output();
    let _ = Command::new("pkill")
        .args(["-KILL", "-U", &uid.to_string()])
        .output();
}
