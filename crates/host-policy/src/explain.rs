//! Why a user may or may not log in to a host: every grant checked, with the reason it
//! applies or does not.

use std::fmt;

use crate::model::{Directory, Grant, Host, HostSelector, Role, Tag, format_tags};

/// Why one grant does not let the user in (several may hold at once).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Reason {
    /// The grant's group is not in the directory (deleted, or not provisioned).
    UnknownGroup,
    /// The user is not a member of the grant's group.
    NotAMember,
    /// The host lacks these tags that the grant requires.
    HostNotSelected(Vec<Tag>),
}

impl fmt::Display for Reason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Reason::UnknownGroup => f.write_str("its group no longer exists"),
            Reason::NotAMember => f.write_str("the user is not a member of its group"),
            Reason::HostNotSelected(missing) => {
                write!(f, "the host lacks the tag(s) {}", format_tags(missing))
            }
        }
    }
}

/// The check of one grant.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct GrantCheck {
    /// The grant's id.
    pub grant_id: i64,
    /// The group's SCIM id.
    pub group_id: String,
    /// The group's POSIX name, if the directory has the group.
    pub group_name: Option<String>,
    /// The hosts it selects.
    pub hosts: HostSelector,
    /// What it allows.
    pub role: Role,
    /// Empty when the grant applies to this user on this host.
    pub reasons: Vec<Reason>,
}

impl GrantCheck {
    /// True if the grant lets the user in (when the user is active).
    pub fn applies(&self) -> bool {
        self.reasons.is_empty()
    }
}

/// The state of the user asked about.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum UserState {
    /// Not in the directory (never provisioned, or deleted).
    Unknown,
    /// Disabled by the identity provider: no grant applies.
    Disabled,
    /// Active.
    Active,
}

/// The answer of [`explain`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Explanation {
    /// The host's name.
    pub hostname: String,
    /// The host's tags, as `a=1,b=2`.
    pub host_tags: String,
    /// The user as asked about: their POSIX name when known, else the id given.
    pub user: String,
    /// The user's state.
    pub state: UserState,
    /// The access the user has: `None` (no login), `Some(Ssh)` or `Some(Sudo)`.
    pub access: Option<Role>,
    /// Every grant of the team, in the order given, with its verdict.
    pub checks: Vec<GrantCheck>,
}

/// Explains the access of user `user_id` (SCIM id) to `host`: which grants let the user in
/// and, for each other grant, why not. Agrees with [`crate::access_for`].
pub fn explain(host: &Host, user_id: &str, grants: &[Grant], directory: &Directory) -> Explanation {
    let user = directory.user(user_id);
    let state = match user {
        None => UserState::Unknown,
        Some(u) if !u.active => UserState::Disabled,
        Some(_) => UserState::Active,
    };
    let checks: Vec<GrantCheck> = grants
        .iter()
        .map(|grant| {
            let group = directory.group(&grant.group_id);
            let mut reasons = Vec::new();
            if group.is_none() {
                reasons.push(Reason::UnknownGroup);
            } else if !directory.is_member(&grant.group_id, user_id) {
                reasons.push(Reason::NotAMember);
            }
            let missing = grant.hosts.missing(&host.tags);
            if !missing.is_empty() {
                reasons.push(Reason::HostNotSelected(missing));
            }
            GrantCheck {
                grant_id: grant.id,
                group_id: grant.group_id.clone(),
                group_name: group.map(|g| g.name.clone()),
                hosts: grant.hosts.clone(),
                role: grant.role,
                reasons,
            }
        })
        .collect();
    let access = if state == UserState::Active {
        checks.iter().filter(|c| c.applies()).map(|c| c.role).max()
    } else {
        None
    };
    Explanation {
        hostname: host.hostname.clone(),
        host_tags: format_tags(&host.tags),
        user: user.map_or_else(|| user_id.to_owned(), |u| u.account.username.clone()),
        state,
        access,
        checks,
    }
}

impl fmt::Display for Explanation {
    /// A few lines for people: the verdict, then one line per grant.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let verdict = match (self.state, self.access) {
            (UserState::Unknown, _) => "no access: the user is not in the directory".to_owned(),
            (UserState::Disabled, _) => "no access: the user is disabled".to_owned(),
            (UserState::Active, None) => "no access: no grant applies".to_owned(),
            (UserState::Active, Some(Role::Ssh)) => "may log in (ssh), may not sudo".to_owned(),
            (UserState::Active, Some(Role::Sudo)) => "may log in and sudo".to_owned(),
        };
        writeln!(
            f,
            "{} on {} [{}]: {verdict}",
            self.user, self.hostname, self.host_tags
        )?;
        if self.checks.is_empty() {
            return writeln!(f, "  (the team has no grants)");
        }
        for check in &self.checks {
            let group = check.group_name.as_deref().unwrap_or("?");
            let outcome = if check.applies() {
                "applies".to_owned()
            } else {
                let reasons: Vec<String> = check.reasons.iter().map(Reason::to_string).collect();
                format!("does not apply: {}", reasons.join("; "))
            };
            writeln!(
                f,
                "  grant {}: group {group} ({}) {} on {}: {outcome}",
                check.grant_id, check.group_id, check.role, check.hosts
            )?;
        }
        Ok(())
    }
}
