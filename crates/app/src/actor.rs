//! Who performs an action, as the audit log names them.

use std::fmt;

/// The one who acts. Every audited action names one; its text form is the audit log's
/// `actor` column (and what `sshward audit --actor` matches).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Actor {
    /// An operator at the admin CLI, by operating-system user name: `admin:NAME`.
    Operator(String),
    /// A SCIM token (Entra's provisioning service): `scim-token:ID`.
    ScimToken(i64),
    /// A host redeeming a join token: `join-token:ID`.
    JoinToken(i64),
    /// A joined host, by its credential: `host:ID`.
    Host(i64),
    /// A signed-in person, by SCIM user id: `user:ID`.
    User(String),
    /// sshward itself (first-run bootstrap): `system`.
    System,
}

impl fmt::Display for Actor {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Actor::Operator(name) => write!(f, "admin:{name}"),
            Actor::ScimToken(id) => write!(f, "scim-token:{id}"),
            Actor::JoinToken(id) => write!(f, "join-token:{id}"),
            Actor::Host(id) => write!(f, "host:{id}"),
            Actor::User(id) => write!(f, "user:{id}"),
            Actor::System => f.write_str("system"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn audit_text() {
        assert_eq!(Actor::Operator("root".into()).to_string(), "admin:root");
        assert_eq!(Actor::ScimToken(3).to_string(), "scim-token:3");
        assert_eq!(Actor::JoinToken(4).to_string(), "join-token:4");
        assert_eq!(Actor::Host(5).to_string(), "host:5");
        assert_eq!(Actor::User("u-1".into()).to_string(), "user:u-1");
        assert_eq!(Actor::System.to_string(), "system");
    }
}
