//! The sign-in options of `sshward team set` (client ID, client secret reference, issuer
//! override, link mode) and how `team show` prints them.

use std::path::PathBuf;

use clap::Args;
use serde::Serialize;
use store::{Issuer, LinkBy, OidcSettings, OidcSettingsUpdate, SecretRef, Team};

use crate::config::Config;
use crate::error::{Error, Result};

/// Sign-in options of `team set`.
#[derive(Debug, Args)]
#[command(next_help_heading = "Sign-in (OpenID Connect)")]
pub struct OidcArgs {
    /// Application (client) ID of the team's Entra app registration
    #[arg(long, value_name = "ID")]
    pub client_id: Option<String>,
    /// File holding the client secret, read at each sign-in (the secret is never stored)
    #[arg(long, value_name = "PATH", conflicts_with = "client_secret_env")]
    pub client_secret_file: Option<PathBuf>,
    /// Environment variable of the server that holds the client secret
    #[arg(long, value_name = "NAME")]
    pub client_secret_env: Option<String>,
    /// Issuer replacing https://login.microsoftonline.com/TENANT/v2.0 (other providers)
    #[arg(long, value_name = "URL", conflicts_with = "clear_issuer")]
    pub issuer: Option<String>,
    /// Use the Entra issuer of the team's tenant again
    #[arg(long)]
    pub clear_issuer: bool,
    /// Link sign-ins to SCIM users by user-name (UPN = userName) or object-id (oid = externalId)
    #[arg(long, value_name = "MODE", value_parser = ["user-name", "object-id"])]
    pub link_by: Option<String>,
}

impl OidcArgs {
    /// The sign-in settings these options change.
    pub fn update(&self) -> Result<OidcSettingsUpdate> {
        let usage = |flag: &str, e: store::StoreError| {
            Error::Usage(format!(
                "{flag}: {}",
                match e {
                    store::StoreError::Invalid(m) => m,
                    other => other.to_string(),
                }
            ))
        };
        let secret_ref = match (&self.client_secret_file, &self.client_secret_env) {
            (Some(path), _) => {
                let path = std::path::absolute(path).map_err(|e| {
                    Error::Usage(format!("--client-secret-file {}: {e}", path.display()))
                })?;
                Some(Some(SecretRef::File(path)))
            }
            (None, Some(name)) => Some(Some(
                format!("env:{}", name.trim())
                    .parse()
                    .map_err(|e| usage("--client-secret-env", e))?,
            )),
            (None, None) => None,
        };
        let issuer = match (&self.issuer, self.clear_issuer) {
            (Some(i), _) => Some(Some(i.parse().map_err(|e| usage("--issuer", e))?)),
            (None, true) => Some(None),
            (None, false) => None,
        };
        let link_by = self
            .link_by
            .as_deref()
            .map(LinkBy::parse)
            .transpose()
            .map_err(|e| Error::Usage(e.to_string()))?;
        Ok(OidcSettingsUpdate {
            client_id: self.client_id.as_ref().map(|c| Some(c.trim().to_owned())),
            client_secret_ref: secret_ref,
            issuer,
            link_by,
        })
    }
}

/// A team's sign-in settings as `team show` prints them (the secret's location, never
/// the secret).
#[derive(Clone, Debug, Serialize)]
pub struct LoginView {
    client_id: Option<String>,
    client_secret: Option<String>,
    issuer: Option<String>,
    link_by: String,
    sign_in_url: String,
    redirect_uri: String,
}

impl LoginView {
    /// The settings `oidc` of `team`.
    pub fn new(config: &Config, team: &Team, oidc: OidcSettings) -> LoginView {
        let public = config.public_url();
        LoginView {
            client_id: oidc.client_id,
            client_secret: oidc.client_secret_ref.map(|r| r.to_string()),
            issuer: oidc
                .issuer
                .or_else(|| team.entra_tenant_id.as_ref().map(Issuer::entra))
                .map(|i| i.to_string()),
            link_by: oidc.link_by.to_string(),
            sign_in_url: format!("{public}/login/{}", team.slug),
            redirect_uri: format!("{public}/callback"),
        }
    }

    /// Lines for the human-readable `team show`.
    pub fn fields(&self) -> Vec<(&'static str, String)> {
        let or_unset = |v: &Option<String>| v.clone().unwrap_or_else(|| "- (not set)".into());
        vec![
            ("Client ID", or_unset(&self.client_id)),
            ("Client secret", or_unset(&self.client_secret)),
            ("Issuer", or_unset(&self.issuer)),
            ("Link by", self.link_by.clone()),
            ("Sign-in URL", self.sign_in_url.clone()),
            ("Redirect URI", self.redirect_uri.clone()),
        ]
    }
}
