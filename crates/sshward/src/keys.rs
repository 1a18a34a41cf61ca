//! The key-encryption key of this server: read from `key_encryption_key`, or (SQLite only)
//! generated once into the data directory; checked against the database, so that an
//! instance started with another key says so before it serves anything.

use std::path::PathBuf;

use keyring::Kek;
use store::{Backend, SecretRef, Store, StoreError};

use crate::config::Config;
use crate::error::{Error, Result};

/// The file a generated key-encryption key is kept in, under the data directory.
pub const GENERATED_FILE: &str = "key-encryption-key";

/// The row that proves which key the database was set up with.
const CHECK_ROW: &str = "key_encryption_check";
const CHECK_PURPOSE: &str = "login-key/key_encryption_check";

/// Where a generated key lives for `config`.
pub fn generated_path(config: &Config) -> PathBuf {
    config.data_dir.join(GENERATED_FILE)
}

/// The key-encryption key of `config` for the database of `store`.
pub fn load(config: &Config, store: &Store) -> Result<Kek> {
    let kek = match &config.key_encryption_key {
        Some(reference) => {
            let source: SecretRef = reference
                .parse()
                .map_err(|e: StoreError| Error::Config(e.to_string()))?;
            let text = source.read().map_err(|e| {
                Error::Config(format!("cannot read key_encryption_key ({source}): {e}"))
            })?;
            Kek::from_text(&text)
                .map_err(|e| Error::Config(format!("invalid key_encryption_key ({source}): {e}")))?
        }
        None if store.backend() == Backend::Postgres => {
            return Err(Error::Config(
                "key_encryption_key is required with PostgreSQL: every instance must seal and \
                 open the CA and sign-in keys with the same key. Make one with \
                 `head -c 32 /dev/urandom | base64 > /etc/sshward/kek && chmod 600 /etc/sshward/kek` \
                 and set key_encryption_key = \"file:/etc/sshward/kek\" on every instance"
                    .into(),
            ));
        }
        None => {
            let path = generated_path(config);
            if !path.exists()
                && let Some(sealed) = store.read(|tx| tx.login().key(CHECK_ROW))?
            {
                // Generating a new key would not open what the database holds.
                let id = sealed.split('.').nth(1).unwrap_or("?");
                return Err(Error::Config(format!(
                    "this database's keys are sealed with key-encryption key {id}, and its file                      {} is missing: restore it from the backup beside the database (or set                      key_encryption_key to where it is)",
                    path.display()
                )));
            }
            let (kek, created) =
                Kek::load_or_create(&path).map_err(|e| Error::Other(e.to_string()))?;
            if created {
                log::warn!(
                    "generated a key-encryption key in {} (mode 0600): it seals the CA and \
                     sign-in keys in the database; back it up with the database, apart from it",
                    path.display()
                );
            }
            kek
        }
    };
    check(store, &kek)?;
    Ok(kek)
}

/// Fails unless `kek` is the key the database was set up with (recording it on first
/// use).
fn check(store: &Store, kek: &Kek) -> Result<()> {
    let candidate = kek.seal(CHECK_PURPOSE, b"sshward");
    let stored = match store.write(|tx| tx.login().key_or_insert(CHECK_ROW, &candidate)) {
        Ok(value) => value,
        Err(StoreError::Conflict { .. }) => store
            .read(|tx| tx.login().key(CHECK_ROW))?
            .unwrap_or(candidate),
        Err(e) => return Err(e.into()),
    };
    kek.open(CHECK_PURPOSE, &stored).map_err(|e| {
        Error::Config(format!(
            "the key-encryption key does not fit this database: {e} (key_encryption_key, or {} \
             in the data directory)",
            GENERATED_FILE
        ))
    })?;
    Ok(())
}

/// The application layer over `store` with the key-encryption key of `config`.
pub fn app(config: &Config, store: Store) -> Result<app::App> {
    let kek = load(config, &store)?;
    Ok(app::App::new(store, kek))
}
