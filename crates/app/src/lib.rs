//! sshward's application layer: every action an administrator or a host can take, with
//! typed input, one transaction and one audit entry each, for every front end alike.
//!
//! The admin CLI, the host-agent API and the coming web console call these methods and
//! nothing below them: a rule written here (a used join token cannot be revoked, a grant
//! names its group by immutable id, a host never picks its own tags) holds for all of
//! them. Front ends parse text into the typed values of `host-policy` (a [`HostSelector`],
//! a [`Role`], [`PosixName`]s, [`PosixSettings`]) before they call, name the [`Actor`],
//! and turn [`AppError`] into their own form (exit codes, HTTP statuses) at their edge.
//!
//! Every method blocks on the database (diesel); async callers run it on a blocking
//! thread.
//!
//! | area | methods |
//! |---|---|
//! | teams | [`App::create_team`], [`App::update_team`], [`App::teams`], [`App::team`] |
//! | SCIM tokens | [`App::create_token`], [`App::tokens`], [`App::revoke_token`] |
//! | hosts | [`App::join`], [`App::access_document`], [`App::hosts`], [`App::host`], [`App::remove_host`] |
//! | join tokens | [`App::create_join_token`], [`App::create_join_tokens`], [`App::join_tokens`], [`App::revoke_join_token`] |
//! | grants | [`App::add_grant`], [`App::grants`], [`App::remove_grant`] |
//! | directory | [`App::users`], [`App::user`], [`App::groups`], [`App::group`] |
//! | audit log | [`App::audit`], [`App::bootstrap`] |
//! | sign-in sessions | [`App::sessions`], [`App::end_sessions`] |
//! | console | [`App::add_console_admin`], [`App::remove_console_admin`], [`App::console_admins`], [`App::create_console_link`], [`App::redeem_console_link`], [`App::enter_console`], [`App::console_admin`], [`App::end_console_session`] |
//! | access | [`App::explain`], [`App::posix_settings`], [`App::set_posix_settings`] |
//! | SSH CA | [`App::ca_public_keys`], [`App::issue_user_certificate`], [`App::issue_host_certificates`], [`App::certificates`], [`App::revoke_certificate`], [`App::revoke_user_certificates`], [`App::rotate_ca`], [`App::ca_settings`], [`App::set_ca_settings`], [`App::revocation_list`] |
//!
//! [`HostSelector`]: host_policy::HostSelector
//! [`Role`]: host_policy::Role
//! [`PosixName`]: host_policy::PosixName
//! [`PosixSettings`]: host_policy::PosixSettings

mod access;
mod audit;
mod ca;
mod console;
mod directory;
pub mod display;
mod error;
mod grants;
mod hosts;
pub mod identities;
mod log;
mod lookup;
mod sessions;
mod teams;
mod tokens;

use std::sync::Arc;

use store::{Store, Team, Tx};

pub use access::{AccessChange, Explained, PosixSettingsChange, UserAccess};
pub use ca::{
    BACKDATE, Issued, MAX_HOST_TTL, MAX_LISTED, MAX_USER_TTL, MIN_VALIDITY, RevocationList,
    UserCertRequest,
};
pub use console::{
    AdminRef, AdminView, CONSOLE_LINK_SESSION_TTL, CONSOLE_LINK_TTL, CONSOLE_SESSION_TTL,
    ConsoleAdmin, ConsoleLink, ConsoleSession,
};
pub use directory::GroupDetails;
pub use error::AppError;
pub use grants::{GrantView, NewGrant};
pub use hosts::{HostWithStatus, Joined, MAX_JOIN_TOKEN_TTL, MAX_JOIN_TOKENS_AT_ONCE};
pub use identities::{Computed, TeamLocks};
pub use keyring::Kek;
pub use log::MAX_AUDIT_ENTRIES;
pub use sessions::{MAX_SESSIONS_LISTED, SessionView};
pub use store::{Actor, AdminKind, AuditAction};
pub use store::{CaKeyRecord, CaSettings, CertKind, CertificateRecord};
pub use teams::{DomainChange, NewTeam, TeamChange, TeamSummary};
pub use tokens::MAX_LABEL_LEN;

/// The application: the store plus the process-wide state actions share. Cheap to clone;
/// make one per process.
#[derive(Clone, Debug)]
pub struct App {
    store: Store,
    /// Seals and opens the CA private keys in the database.
    kek: Kek,
    allocating: Arc<identities::TeamLocks>,
    signers: Arc<ca::Signers>,
    /// Hosts' last-request times waiting to be written together.
    seen: Arc<std::sync::Mutex<hosts::SeenHosts>>,
}

impl App {
    /// The application over `store`, sealing the secrets it keeps there with `kek`.
    pub fn new(store: Store, kek: Kek) -> App {
        App {
            store,
            kek,
            allocating: Arc::default(),
            signers: Arc::default(),
            seen: Arc::default(),
        }
    }

    /// The key-encryption key.
    pub fn kek(&self) -> &Kek {
        &self.kek
    }

    /// The store (for the reads that have no action of their own yet).
    pub fn store(&self) -> &Store {
        &self.store
    }

    /// Runs `f` in one read transaction on the team with slug `team`
    /// ([`AppError::NotFound`] if there is none).
    fn read_in<T>(
        &self,
        team: &str,
        f: impl FnOnce(&mut Tx<'_>, &Team) -> Result<T, AppError>,
    ) -> Result<T, AppError> {
        self.store.read(|tx| {
            let team = lookup::team(tx, team)?;
            f(tx, &team)
        })
    }

    /// Runs `f` in one write transaction on the team with slug `team`: everything it
    /// changes, its audit entry included, commits together or not at all.
    fn write_in<T>(
        &self,
        team: &str,
        f: impl FnOnce(&mut Tx<'_>, &Team) -> Result<T, AppError>,
    ) -> Result<T, AppError> {
        self.store.write(|tx| {
            let team = lookup::team(tx, team)?;
            f(tx, &team)
        })
    }
}
