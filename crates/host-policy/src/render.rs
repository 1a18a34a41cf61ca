//! Text renderings of an access document for sshd and sudo, and its entity tag.

use std::collections::BTreeSet;

use crate::AccessDocument;
use crate::model::{Tag, format_tags};

/// What sshd's `AuthorizedPrincipalsCommand` prints for local account `username`: the
/// account's own name (the principal its certificates carry) when the user may log in
/// on this host, nothing otherwise.
pub fn principals(document: &AccessDocument, username: &str) -> String {
    match document.user(username) {
        Some(user) => format!("{}\n", user.account.username),
        None => String::new(),
    }
}

/// A sudoers file (for `/etc/sudoers.d/`) of host `hostname` giving each sudo user of the
/// document root rights without a password (the users have no password on the host: they
/// log in with certificates). User names are valid POSIX names, so they need no quoting.
/// The hostname is passed apart because hosts with the same tags share one document.
pub fn sudoers(document: &AccessDocument, hostname: &str) -> String {
    let mut out =
        format!("# Managed by sshward for {hostname}: do not edit, changes are overwritten.\n");
    for user in document.users.iter().filter(|u| u.sudo) {
        out.push_str(&user.account.username);
        out.push_str(" ALL=(ALL:ALL) NOPASSWD: ALL\n");
    }
    out
}

/// The entity tag of a host's document: the team revision plus a digest of the host's tag
/// set (`"r12-3f1c..."`, quoted as HTTP wants). Any change in the team bumps the revision;
/// a change of the host's tags changes the digest.
pub fn etag(revision: i64, tags: &BTreeSet<Tag>) -> String {
    // FNV-1a: stable across builds and platforms, and enough to tell tag sets apart.
    let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
    for b in format_tags(tags).bytes() {
        hash ^= u64::from(b);
        hash = hash.wrapping_mul(0x0100_0000_01b3);
    }
    format!("\"r{revision}-{hash:016x}\"")
}
