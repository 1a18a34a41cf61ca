//! What the host has now: `/etc/passwd`, `/etc/group` and the expiry dates of
//! `/etc/shadow`, parsed (read-only; changes go through the shadow tools).

use std::collections::BTreeMap;
use std::path::Path;

/// A line of `/etc/passwd`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PasswdEntry {
    /// Login name.
    pub name: String,
    /// uid.
    pub uid: u32,
    /// Primary gid.
    pub gid: u32,
    /// GECOS.
    pub gecos: String,
    /// Home directory.
    pub home: String,
    /// Login shell.
    pub shell: String,
}

/// A line of `/etc/group`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct GroupEntry {
    /// Group name.
    pub name: String,
    /// gid.
    pub gid: u32,
    /// Supplementary members.
    pub members: Vec<String>,
}

/// The accounts and groups of the host.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct System {
    /// Users by name.
    pub users: BTreeMap<String, PasswdEntry>,
    /// Groups by name.
    pub groups: BTreeMap<String, GroupEntry>,
    /// Names of accounts whose expiry date has passed (`/etc/shadow` field 8).
    pub expired: Vec<String>,
}

impl System {
    /// Reads the files under `root` (`/` on a host).
    pub fn read(root: &Path) -> std::io::Result<System> {
        let passwd = std::fs::read_to_string(root.join("etc/passwd"))?;
        let group = std::fs::read_to_string(root.join("etc/group"))?;
        let shadow = std::fs::read_to_string(root.join("etc/shadow")).unwrap_or_default();
        Ok(System::parse(&passwd, &group, &shadow))
    }

    /// Parses the three files' contents; malformed lines are skipped.
    pub fn parse(passwd: &str, group: &str, shadow: &str) -> System {
        let mut system = System::default();
        for line in passwd.lines() {
            let f: Vec<&str> = line.split(':').collect();
            if let [name, _, uid, gid, gecos, home, shell] = f.as_slice()
                && let (Ok(uid), Ok(gid)) = (uid.parse(), gid.parse())
            {
                system.users.insert(
                    (*name).to_owned(),
                    PasswdEntry {
                        name: (*name).to_owned(),
                        uid,
                        gid,
                        gecos: (*gecos).to_owned(),
                        home: (*home).to_owned(),
                        shell: (*shell).to_owned(),
                    },
                );
            }
        }
        for line in group.lines() {
            let f: Vec<&str> = line.split(':').collect();
            if let [name, _, gid, members] = f.as_slice()
                && let Ok(gid) = gid.parse()
            {
                let members = members
                    .split(',')
                    .filter(|m| !m.is_empty())
                    .map(str::to_owned)
                    .collect();
                system.groups.insert(
                    (*name).to_owned(),
                    GroupEntry {
                        name: (*name).to_owned(),
                        gid,
                        members,
                    },
                );
            }
        }
        let today = days_since_epoch();
        for line in shadow.lines() {
            let f: Vec<&str> = line.split(':').collect();
            if let Some(expire) = f.get(7).and_then(|e| e.parse::<u64>().ok())
                && expire <= today
                && let Some(name) = f.first()
            {
                system.expired.push((*name).to_owned());
            }
        }
        system
    }

    /// The user with this uid.
    pub fn user_by_uid(&self, uid: u32) -> Option<&PasswdEntry> {
        self.users.values().find(|u| u.uid == uid)
    }

    /// The group with this gid.
    pub fn group_by_gid(&self, gid: u32) -> Option<&GroupEntry> {
        self.groups.values().find(|g| g.gid == gid)
    }

    /// Whether the account's expiry date has passed.
    pub fn is_expired(&self, name: &str) -> bool {
        self.expired.iter().any(|n| n == name)
    }
}

fn days_since_epoch() -> u64 {
    std::time::UNIX_EPOCH
        .elapsed()
        .map(|d| d.as_secs() / 86_400)
        .unwrap_or(0)
}
