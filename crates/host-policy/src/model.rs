//! The plain types of the policy: hosts and their tags, grants, POSIX users and groups,
//! the directory they come from, and the access document a host receives.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

use crate::{PolicyError, PosixAccount, PosixName};

/// Longest tag key.
pub const MAX_TAG_KEY_LEN: usize = 63;
/// Longest tag value.
pub const MAX_TAG_VALUE_LEN: usize = 255;

/// A host tag `key=value`. Both parts are lower-cased when parsed, so `Env=Prod` and
/// `env=prod` are the same tag: a grant must never miss a host because of case.
///
/// Keys are 1 to 63 characters of `a-z 0-9 . _ / -` starting with a letter or digit;
/// values 1 to 255 characters of `a-z 0-9 . _ / : @ + -`.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Tag {
    key: String,
    value: String,
}

impl Tag {
    /// A tag from its two parts (lower-cased, then validated).
    pub fn new(key: &str, value: &str) -> Result<Tag, PolicyError> {
        let key = key.trim().to_lowercase();
        let value = value.trim().to_lowercase();
        let key_ok = (1..=MAX_TAG_KEY_LEN).contains(&key.len())
            && key.starts_with(|c: char| c.is_ascii_alphanumeric())
            && key
                .chars()
                .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || "._/-".contains(c));
        let value_ok = (1..=MAX_TAG_VALUE_LEN).contains(&value.len())
            && value
                .chars()
                .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || "._/:@+-".contains(c));
        if key_ok && value_ok {
            Ok(Tag { key, value })
        } else {
            Err(PolicyError::InvalidTag(format!("{key}={value}")))
        }
    }

    /// The key.
    pub fn key(&self) -> &str {
        &self.key
    }

    /// The value.
    pub fn value(&self) -> &str {
        &self.value
    }
}

impl FromStr for Tag {
    type Err = PolicyError;

    /// Parses `key=value`.
    fn from_str(s: &str) -> Result<Tag, PolicyError> {
        match s.split_once('=') {
            Some((key, value)) => Tag::new(key, value),
            None => Err(PolicyError::InvalidTag(s.to_owned())),
        }
    }
}

impl fmt::Display for Tag {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}={}", self.key, self.value)
    }
}

impl Serialize for Tag {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for Tag {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Tag, D::Error> {
        let s = String::deserialize(d)?;
        s.parse().map_err(serde::de::Error::custom)
    }
}

/// Parses several `key=value` tags (each may itself be a comma-separated list).
pub fn parse_tags<S: AsRef<str>>(items: &[S]) -> Result<BTreeSet<Tag>, PolicyError> {
    let mut out = BTreeSet::new();
    for item in items {
        for part in item
            .as_ref()
            .split(',')
            .map(str::trim)
            .filter(|p| !p.is_empty())
        {
            out.insert(part.parse()?);
        }
    }
    Ok(out)
}

/// Tags as the canonical text `a=1,b=2` (sorted, comma-separated; empty for none).
pub fn format_tags<'a>(tags: impl IntoIterator<Item = &'a Tag>) -> String {
    tags.into_iter()
        .map(Tag::to_string)
        .collect::<Vec<_>>()
        .join(",")
}

/// Which hosts a grant applies to.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum HostSelector {
    /// Every host of the team (written `*`).
    All,
    /// Hosts that carry every one of these tags (a conjunction; never empty).
    Tags(BTreeSet<Tag>),
}

impl HostSelector {
    /// True if a host with `tags` is selected.
    pub fn matches(&self, tags: &BTreeSet<Tag>) -> bool {
        self.missing(tags).is_empty()
    }

    /// The required tags that a host with `tags` lacks (empty when it is selected).
    pub fn missing(&self, tags: &BTreeSet<Tag>) -> Vec<Tag> {
        match self {
            HostSelector::All => Vec::new(),
            HostSelector::Tags(required) => required.difference(tags).cloned().collect(),
        }
    }
}

impl FromStr for HostSelector {
    type Err = PolicyError;

    /// `*` (or `all`) for every host, else `key=value[,key=value...]`.
    fn from_str(s: &str) -> Result<HostSelector, PolicyError> {
        let s = s.trim();
        if s == "*" || s.eq_ignore_ascii_case("all") {
            return Ok(HostSelector::All);
        }
        let tags = parse_tags(&[s]).map_err(|e| PolicyError::InvalidSelector(e.to_string()))?;
        if tags.is_empty() {
            return Err(PolicyError::InvalidSelector(
                "name at least one tag (key=value), or * for every host".into(),
            ));
        }
        Ok(HostSelector::Tags(tags))
    }
}

impl fmt::Display for HostSelector {
    /// The canonical form: `*`, or the tags sorted and comma-separated.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            HostSelector::All => f.write_str("*"),
            HostSelector::Tags(tags) => f.write_str(&format_tags(tags)),
        }
    }
}

/// What a grant allows. `Sudo` includes `Ssh`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    /// Log in with SSH.
    Ssh,
    /// Log in with SSH and become root with sudo.
    Sudo,
}

impl Role {
    /// `"ssh"` or `"sudo"`.
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Ssh => "ssh",
            Role::Sudo => "sudo",
        }
    }
}

impl FromStr for Role {
    type Err = PolicyError;

    fn from_str(s: &str) -> Result<Role, PolicyError> {
        match s.trim().to_ascii_lowercase().as_str() {
            "ssh" => Ok(Role::Ssh),
            "sudo" => Ok(Role::Sudo),
            other => Err(PolicyError::InvalidRole(other.to_owned())),
        }
    }
}

impl fmt::Display for Role {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A grant: members of an IdP group may log in (and with [`Role::Sudo`] become root) on
/// the selected hosts. The group is named by its immutable SCIM id, never by its display
/// name, so a renamed group keeps its grants and a new group with an old name gets none.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Grant {
    /// The grant's id (database key).
    pub id: i64,
    /// The SCIM id of the group whose members are granted access.
    pub group_id: String,
    /// The hosts it applies to.
    pub hosts: HostSelector,
    /// What it allows.
    pub role: Role,
    /// Local groups on the host (e.g. `docker`) that the members are also put in.
    pub extra_groups: Vec<PosixName>,
}

/// A host that joined the team.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Host {
    /// The host's id (database key).
    pub id: i64,
    /// Its hostname (lower case).
    pub hostname: String,
    /// Its tags.
    pub tags: BTreeSet<Tag>,
}

/// Checks and lower-cases a hostname: 1 to 253 characters, dot-separated labels of 1 to 63
/// letters, digits and `-`, not starting or ending with `-`.
pub fn normalize_hostname(hostname: &str) -> Result<String, PolicyError> {
    let h = hostname.trim().trim_end_matches('.').to_ascii_lowercase();
    let label_ok = |l: &str| {
        (1..=63).contains(&l.len())
            && !l.starts_with('-')
            && !l.ends_with('-')
            && l.chars().all(|c| c.is_ascii_alphanumeric() || c == '-')
    };
    if (1..=253).contains(&h.len()) && h.split('.').all(label_ok) {
        Ok(h)
    } else {
        Err(PolicyError::InvalidHostname(hostname.to_owned()))
    }
}

/// A directory user with their POSIX account.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PosixUser {
    /// The SCIM id.
    pub id: String,
    /// The POSIX account.
    pub account: PosixAccount,
    /// False when the IdP disabled the user: such users never get access.
    pub active: bool,
}

/// A directory group with its POSIX identity.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PosixGroup {
    /// The SCIM id.
    pub id: String,
    /// The POSIX group name.
    pub name: String,
    /// The gid.
    pub gid: u32,
}

/// The part of the directory a decision needs: users, groups and who is in which group,
/// all keyed by SCIM id, as of one team revision.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Directory {
    revision: i64,
    users: BTreeMap<String, PosixUser>,
    groups: BTreeMap<String, PosixGroup>,
    members: BTreeMap<String, BTreeSet<String>>,
}

impl Directory {
    /// An empty directory (at revision 0).
    pub fn new() -> Directory {
        Directory::default()
    }

    /// An empty directory read at team revision `revision`; documents computed from it
    /// carry that revision.
    pub fn at_revision(revision: i64) -> Directory {
        Directory {
            revision,
            ..Directory::default()
        }
    }

    /// The team revision the directory was read at.
    pub fn revision(&self) -> i64 {
        self.revision
    }

    /// Adds (or replaces) a user.
    pub fn add_user(&mut self, user: PosixUser) {
        self.users.insert(user.id.clone(), user);
    }

    /// Adds (or replaces) a group.
    pub fn add_group(&mut self, group: PosixGroup) {
        self.groups.insert(group.id.clone(), group);
    }

    /// Records that user `user_id` is a member of group `group_id`.
    pub fn add_member(&mut self, group_id: &str, user_id: &str) {
        // Looked up first: a group's key is allocated once, not once per member.
        match self.members.get_mut(group_id) {
            Some(members) => {
                members.insert(user_id.to_owned());
            }
            None => {
                self.members
                    .insert(group_id.to_owned(), BTreeSet::from([user_id.to_owned()]));
            }
        }
    }

    /// The user with this SCIM id.
    pub fn user(&self, id: &str) -> Option<&PosixUser> {
        self.users.get(id)
    }

    /// The group with this SCIM id.
    pub fn group(&self, id: &str) -> Option<&PosixGroup> {
        self.groups.get(id)
    }

    /// The SCIM ids of the members of a group.
    pub fn members(&self, group_id: &str) -> impl Iterator<Item = &str> {
        self.members
            .get(group_id)
            .into_iter()
            .flatten()
            .map(String::as_str)
    }

    /// True if `user_id` is a member of `group_id`.
    pub fn is_member(&self, group_id: &str, user_id: &str) -> bool {
        self.members
            .get(group_id)
            .is_some_and(|m| m.contains(user_id))
    }
}
