//! The access document: who may log in to one host, who may sudo there, and the POSIX
//! accounts and groups to create.

use serde::{Deserialize, Serialize};

/// What one host receives. Deterministic: users sorted by username, groups by name, so
/// the same directory, grants and host tags always give the same bytes.
///
/// JSON: `{"revision": 12, "hostname": "web-1", "users": [...], "groups": [...]}`.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct AccessDocument {
    /// The team revision the document reflects; a later document has a larger one. An
    /// agent never applies a document older than the one it has.
    pub revision: i64,
    /// The host the document is for (lower case).
    pub hostname: String,
    /// Users who may log in, sorted by username.
    pub users: Vec<AccessUser>,
    /// The managed POSIX groups (the granted IdP groups that apply to this host), sorted
    /// by name. A user's private group (name = username, gid = uid) is not listed.
    pub groups: Vec<AccessGroup>,
}

impl AccessDocument {
    /// The entry of the user with this POSIX name (users are sorted by username).
    pub fn user(&self, username: &str) -> Option<&AccessUser> {
        self.users
            .binary_search_by(|u| u.account.username.as_str().cmp(username))
            .ok()
            .and_then(|i| self.users.get(i))
    }
}

/// The response header of `GET /api/v1/hosts/self/access` that carries the document's
/// signature: an SSHSIG (base64 of its PEM text) by the team's host CA key, which the
/// agent pinned when it joined, over [`signed_statement`].
pub const SIGNATURE_HEADER: &str = "sshward-signature";

/// The SSHSIG namespace of access-document signatures.
pub const SIGNATURE_NAMESPACE: &str = "access-document@sshward";

/// The start of a document's JSON, before `"users"`: the server writes exactly this,
/// so that the rest of the body (the users and groups, shared by hosts with the same
/// tags) can be hashed once for all of them.
pub fn json_head(revision: i64, hostname: &str) -> String {
    let mut head = format!("{{\"revision\":{revision},\"hostname\":");
    // A hostname is letters, digits, '-' and '.', but quote it properly all the same.
    head.push('"');
    for c in hostname.chars() {
        match c {
            '"' => head.push_str("\\\""),
            '\\' => head.push_str("\\\\"),
            c if c.is_control() => head.push_str(&format!("\\u{:04x}", c as u32)),
            c => head.push(c),
        }
    }
    head.push_str("\",");
    head
}

/// What a document's signature covers: the host it is for, its revision, and the
/// SHA-256 (lower-case hex) of the body after [`json_head`].
pub fn signed_statement(hostname: &str, revision: i64, rest_sha256: &str) -> String {
    format!(
        "sshward access document v1\nhost {hostname}\nrevision {revision}\nsha256 {rest_sha256}\n"
    )
}

/// A POSIX account: what `/etc/passwd` holds about a user.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct PosixAccount {
    /// The POSIX user name; also the principal of the user's SSH certificates.
    pub username: String,
    /// The uid.
    pub uid: u32,
    /// The primary gid (the user-private group: equal to the uid).
    pub gid: u32,
    /// The GECOS field: the display name, without `:`, `,` and control characters.
    pub gecos: String,
    /// The home directory.
    pub home: String,
    /// The login shell.
    pub shell: String,
}

/// A user in an [`AccessDocument`]: in JSON, the account's fields (`username`, `uid`,
/// `gid`, `gecos`, `home`, `shell`) side by side with `sudo` and `groups`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct AccessUser {
    /// The POSIX account.
    #[serde(flatten)]
    pub account: PosixAccount,
    /// May become root with sudo.
    pub sudo: bool,
    /// Supplementary groups, sorted: the managed groups of [`AccessDocument::groups`] the
    /// user is in, and the local groups named by the grants' extra groups (which the
    /// agent uses only if they exist on the host).
    pub groups: Vec<String>,
}

/// A managed POSIX group in an [`AccessDocument`].
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct AccessGroup {
    /// Group name.
    pub name: String,
    /// gid.
    pub gid: u32,
    /// Members (POSIX user names of this document), sorted.
    pub members: Vec<String>,
}
