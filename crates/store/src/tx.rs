//! The transaction handle given to [`crate::Store::read`] and [`crate::Store::write`]
//! closures.

use std::collections::{BTreeMap, BTreeSet};

use diesel::prelude::*;

use crate::audit::Audit;
use crate::ca::Certificates;
use crate::config::Backend;
use crate::connection::DbConnection;
use crate::console::Console;
use crate::error::StoreError;
use crate::grants::Grants;
use crate::hosts::Hosts;
use crate::login::Logins;
use crate::posix::Posix;
use crate::resources::{self, Groups, Resources, Users};
use crate::schema::teams;
use crate::sessions::Sessions;
use crate::teams::{TeamId, Teams};
use crate::tokens::Tokens;
use scim_core::ResourceKind;

/// One open transaction. Obtain the per-entity handles with [`Tx::teams`], [`Tx::tokens`],
/// [`Tx::users`], [`Tx::groups`] and [`Tx::audit`].
pub struct Tx<'c> {
    pub(crate) conn: &'c mut DbConnection,
    backend: Backend,
    writable: bool,
    /// Teams changed in this transaction; their revision is bumped before commit.
    dirty: BTreeSet<i64>,
    /// Teams whose members may have lost their last granted group, with the users
    /// concerned (`None`: any of them); reviewed before commit.
    review: BTreeMap<i64, Option<BTreeSet<String>>>,
}

impl<'c> Tx<'c> {
    pub(crate) fn new(conn: &'c mut DbConnection, backend: Backend, writable: bool) -> Self {
        Tx {
            conn,
            backend,
            writable,
            dirty: BTreeSet::new(),
            review: BTreeMap::new(),
        }
    }

    /// The backend this transaction runs on.
    pub fn backend(&self) -> Backend {
        self.backend
    }

    /// True inside [`crate::Store::write`].
    pub fn is_writable(&self) -> bool {
        self.writable
    }

    /// Teams.
    pub fn teams(&mut self) -> Teams<'_, 'c> {
        Teams { tx: self }
    }

    /// SCIM bearer tokens.
    pub fn tokens(&mut self) -> Tokens<'_, 'c> {
        Tokens { tx: self }
    }

    /// SCIM users or groups, the operations both have.
    pub fn resources(&mut self, kind: ResourceKind) -> Resources<'_, 'c> {
        Resources::new(self, kind)
    }

    /// SCIM users.
    pub fn users(&mut self) -> Users<'_, 'c> {
        Users(self.resources(ResourceKind::User))
    }

    /// SCIM groups and their members.
    pub fn groups(&mut self) -> Groups<'_, 'c> {
        Groups(self.resources(ResourceKind::Group))
    }

    /// Hosts, their tags and credentials, and host join tokens (crate host-policy).
    pub fn hosts(&mut self) -> Hosts<'_, 'c> {
        Hosts { tx: self }
    }

    /// Grants of host access to groups (crate host-policy).
    pub fn grants(&mut self) -> Grants<'_, 'c> {
        Grants { tx: self }
    }

    /// POSIX identities and settings (crate host-policy).
    pub fn posix(&mut self) -> Posix<'_, 'c> {
        Posix { tx: self }
    }

    /// SSH CA keys, certificate settings and issued certificates (crate ssh-ca).
    pub fn certificates(&mut self) -> Certificates<'_, 'c> {
        Certificates { tx: self }
    }

    /// The audit log.
    pub fn audit(&mut self) -> Audit<'_, 'c> {
        Audit { tx: self }
    }

    /// Sign-in settings, flow state and generated keys (`crates/oidc-login`).
    pub fn login(&mut self) -> Logins<'_, 'c> {
        Logins { tx: self }
    }

    /// Sign-in sessions (browser sessions and the sessions behind CLI access tokens).
    pub fn sessions(&mut self) -> Sessions<'_, 'c> {
        Sessions { tx: self }
    }

    /// Console administrators and one-time console sign-in links.
    pub fn console(&mut self) -> Console<'_, 'c> {
        Console { tx: self }
    }

    /// Records a change of a resource that did not go through `replace` (for example a
    /// group whose members changed): increments its version and sets its `lastModified`
    /// to now. With `expected_version`, fails with [`StoreError::VersionMismatch`] unless
    /// the stored version is that one. Returns the new version.
    pub fn touch(
        &mut self,
        team: TeamId,
        kind: ResourceKind,
        id: &str,
        expected_version: Option<i64>,
    ) -> Result<i64, StoreError> {
        resources::touch(self, team, kind, id, expected_version)
    }

    /// Fails unless this is a write transaction.
    pub(crate) fn require_write(&self) -> Result<(), StoreError> {
        if self.writable {
            Ok(())
        } else {
            Err(StoreError::Invalid(
                "write attempted in a read transaction".into(),
            ))
        }
    }

    /// Marks `team` as changed (its revision is bumped before commit) after checking that
    /// this transaction may write.
    pub(crate) fn changed(&mut self, team: TeamId) -> Result<(), StoreError> {
        self.require_write()?;
        self.dirty.insert(team.0);
        Ok(())
    }

    /// Forgets a pending bump (the caller bumped explicitly).
    pub(crate) fn bumped(&mut self, team: TeamId) {
        self.dirty.remove(&team.0);
    }

    /// Asks for the live user certificates of `users` of `team` (all its users when
    /// `None`) to be revoked when the transaction commits if by then they are in no group
    /// that has a grant. Reviewing at commit rather than at each removal keeps a
    /// replace-all of a group's members from revoking the members it adds back.
    pub fn review_certificates(
        &mut self,
        team: TeamId,
        users: Option<&[String]>,
    ) -> Result<(), StoreError> {
        self.require_write()?;
        let entry = self
            .review
            .entry(team.0)
            .or_insert_with(|| Some(BTreeSet::new()));
        match (entry.as_mut(), users) {
            (Some(set), Some(users)) => set.extend(users.iter().cloned()),
            (Some(_), None) => *entry = None,
            (None, _) => {}
        }
        Ok(())
    }

    /// Runs the reviews asked for with [`Tx::review_certificates`].
    pub(crate) fn run_certificate_reviews(&mut self) -> Result<(), StoreError> {
        for (team, users) in std::mem::take(&mut self.review) {
            let users: Option<Vec<String>> = users.map(|u| u.into_iter().collect());
            if users.as_ref().is_some_and(Vec::is_empty) {
                continue;
            }
            let reason = "no longer in a group with a grant";
            match users {
                Some(users) => {
                    for chunk in users.chunks(crate::members::CHUNK) {
                        self.certificates()
                            .revoke_ungranted(TeamId(team), Some(chunk), reason)?;
                    }
                }
                None => {
                    self.certificates()
                        .revoke_ungranted(TeamId(team), None, reason)?;
                }
            }
        }
        Ok(())
    }

    /// Increments the revision of each changed team, in id order (a stable lock order).
    pub(crate) fn bump_dirty_revisions(&mut self) -> Result<(), StoreError> {
        for team in std::mem::take(&mut self.dirty) {
            diesel::update(teams::table.find(team))
                .set(teams::revision.eq(teams::revision + 1))
                .execute(self.conn)?;
        }
        Ok(())
    }
}
