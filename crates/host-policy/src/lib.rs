//! Who may log in to which host, and as whom: sshward's host access policy.
//!
//! An identity provider (Microsoft Entra ID over SCIM) provisions users and groups; an
//! operator grants IdP **groups** access to **hosts selected by tags** (`env=prod`,
//! `role=web`), as ssh users or as sudo users; every user gets one POSIX identity
//! (username, uid, gid) that is the same on every host. A host asks for its
//! [`AccessDocument`] and configures sshd and sudo from it.
//!
//! The crate root is pure: plain types in, plain types out, no I/O.
//!
//! - [`model`]: [`Tag`], [`HostSelector`], [`Role`], [`Grant`], [`Host`], [`PosixUser`],
//!   [`PosixGroup`], [`Directory`] and the [`AccessDocument`];
//! - [`access_for`]: the document of one host;
//! - [`explain()`]: which grant lets a user in, and why each other one does not;
//! - [`username`]: POSIX names from SCIM `userName`s and group display names;
//! - [`render`]: `AuthorizedPrincipalsCommand` output, a sudoers file, the entity tag;
//! - [`settings`]: the typed values an administrator sets ([`PosixName`], [`IdRange`],
//!   [`HomeBase`], [`LoginShell`], [`PosixSettings`]), checked when parsed.
//!
//! The access document itself is a wire type of crate `proto`, shared with the host
//! agent; it is re-exported here. Loading grants and directories from the database and
//! serving documents to hosts are the jobs of crates `app` and `agent-api`.
//!
//! # Rules
//!
//! - **Groups are referenced by their immutable SCIM id**, never by display name: a
//!   renamed group keeps its grants, and a new group that takes an old group's name gets
//!   none of them (the mistake of himmelblau#554, where a same-named group gave sudo).
//! - **Disabled users never appear** in a document (`active` false); users whose `active`
//!   is absent count as active, as SCIM leaves the default to the provider and Entra
//!   always sends it.
//! - **A sudo grant includes ssh.** The strongest applying grant wins.
//! - **POSIX identities are allocated once** per SCIM id and never change or get reused:
//!   - the user name is derived from `userName` when the uid is allocated (see
//!     [`username`]) and stored with it. **A later `userName` change does not rename the
//!     POSIX account**: files on hosts are owned by the uid, and the name is what people
//!     type; an administrator can rename the account explicitly. The same holds for group
//!     names and display-name changes.
//!   - collisions are resolved in creation order: the earlier-created user keeps the
//!     plain name, later ones get `name2`, `name3`, …; reserved system names are never
//!     given out (`root` becomes `root2`).
//!   - users and groups share one number range and one name space per team, so a
//!     managed group's gid or name never clashes with a user-private group (gid = uid,
//!     name = username). Default range 200000..=1999999999 (above the
//!     system and container sub-uid ranges; room for any directory), home `/home/<username>`, shell
//!     `/bin/bash`.
//!   - numbers and names of deleted users and groups are kept (marked released) and never
//!     given to anyone else.
//! - **Tags** are lower-cased `key=value` pairs; a host may carry several values of one
//!   key; a grant's selector is `*` (every host) or a conjunction of tags.
//! - **Documents are deterministic**: users sorted by username, groups by name.
//!
//! # Decisions
//!
//! - **When identities are allocated.** Lazily, when a document (or `sshward access
//!   explain`, `sshward host show`) needs one: a read finds a member or granted group
//!   without an identity, and one write transaction then allocates *every* unallocated
//!   user of the team in creation order (and every granted group), which is what makes
//!   "the earlier-created user keeps the plain name" hold whatever order users are
//!   granted in. Allocation does not change the team revision. A lost race with another
//!   instance (unique index on the number or the name) is retried.
//! - **Names are never reused either**, like numbers: a user deleted and provisioned again
//!   gets a new uid and `name2`. Files, logs and sudo rules on hosts name the old account.
//! - **Group names**: the display name sanitised like a user name (`SSH Users` →
//!   `ssh_users`), fixed at allocation; users are allocated before groups in each pass,
//!   so a group cannot take a user's plain name from a user allocated in the same pass.
//! - **Tags** are case-folded; a host gets exactly the tags its join token confers. A join
//!   request may list tags, but only ones the token confers (a host must not choose its
//!   environment); otherwise 403 and the token stays unused.
//! - **Hostnames** are lower-cased and unique per team: joining again under a name in use
//!   is 409 until the old host is removed.
//! - **Principals**: an account's SSH certificate principal is its POSIX user name, so
//!   `AuthorizedPrincipalsCommand` prints the name when the account may log in and nothing
//!   otherwise (status 200 either way: a denial is not an error).
//! - **sudo** is `ALL=(ALL:ALL) NOPASSWD: ALL`: users log in with certificates and have no
//!   password on hosts.
//! - **Entity tag** `"r<revision>-<digest of the tag set>"`; any write in the team bumps
//!   the revision, so an unchanged revision proves an unchanged document and a 304 costs
//!   one credential lookup, the host's tags and one revision read.
//! - **Extra groups** of a grant are local groups the agent adds members to when they
//!   exist on the host; they get no gid from sshward.
//!
//! ```
//! use std::collections::BTreeSet;
//! use host_policy::{
//!     access_for, Directory, Grant, Host, PosixAccount, PosixGroup, PosixUser, Role,
//! };
//!
//! let mut dir = Directory::at_revision(12);
//! let account = PosixAccount {
//!     username: "alice".into(), uid: 200_000, gid: 200_000, gecos: "Alice".into(),
//!     home: "/home/alice".into(), shell: "/bin/bash".into(),
//! };
//! dir.add_user(PosixUser { id: "u-1".into(), account, active: true });
//! dir.add_group(PosixGroup { id: "g-1".into(), name: "ssh-users".into(), gid: 200_001 });
//! dir.add_member("g-1", "u-1");
//! let grant = Grant {
//!     id: 1, group_id: "g-1".into(), hosts: "env=prod".parse().unwrap(),
//!     role: Role::Ssh, extra_groups: vec![],
//! };
//! let host = Host {
//!     id: 7, hostname: "web-1".into(),
//!     tags: host_policy::parse_tags(&["env=prod", "role=web"]).unwrap(),
//! };
//! let doc = access_for(&host, &[grant], &dir);
//! assert_eq!(doc.users[0].account.username, "alice");
//! assert!(!doc.users[0].sudo);
//! assert_eq!(doc.revision, 12);
//! ```

pub mod access;
pub mod explain;
pub mod model;
pub mod render;
pub mod settings;
pub mod username;

#[cfg(test)]
mod tests;

pub use access::{access_for, roles_for};
pub use explain::{Explanation, GrantCheck, Reason, UserState, explain};
pub use model::{
    Directory, Grant, Host, HostSelector, PosixGroup, PosixUser, Role, Tag, format_tags,
    normalize_hostname, parse_tags,
};
pub use proto::{AccessDocument, AccessGroup, AccessUser, PosixAccount};
pub use settings::{HomeBase, IdRange, LoginShell, PosixName, PosixSettings};
pub use username::UsernameStyle;

/// Invalid input to the policy: a malformed tag, selector, role, name or hostname.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum PolicyError {
    /// A tag that is not `key=value` with allowed characters.
    #[error("invalid tag {0:?}: use key=value with a-z, 0-9 and . _ / - (values also : @ +)")]
    InvalidTag(String),
    /// A host selector that is neither `*` nor a list of tags.
    #[error("invalid host selector: {0}")]
    InvalidSelector(String),
    /// A role other than `ssh` or `sudo`.
    #[error("invalid role {0:?}: use ssh or sudo")]
    InvalidRole(String),
    /// An invalid POSIX name or name setting.
    #[error("invalid name: {0}")]
    InvalidName(String),
    /// An invalid home base or shell path.
    #[error("{0}")]
    InvalidPath(String),
    /// An invalid uid/gid range.
    #[error("invalid id range {0}")]
    InvalidRange(String),
    /// An invalid hostname.
    #[error("invalid hostname {0:?}: use letters, digits, '-' and dots")]
    InvalidHostname(String),
}
