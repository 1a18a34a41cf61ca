//! The sign-in options of `sshward team set` (client ID, client secret reference, issuer
//! override, link mode) and how `team show` prints them.

use std::path::PathBuf;

use clap::Args;
use serde::Serialize;
use store::{LinkBy, OidcSettingsUpdate, Team, Tx};

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
    /// True when no sign-in option is given.
    pub fn is_empty(&self) -> bool {
        self.client_id.is_none()
            && self.client_secret_file.is_none()
            && self.client_secret_env.is_none()
            && self.issuer.is_none()
            && !self.clear_issuer
            && self.link_by.is_none()
    }

    fn update(&self) -> Result<OidcSettingsUpdate> {
        let secret_ref = match (&self.client_secret_file, &self.client_secret_env) {
            (Some(path), _) => {
                let path = std::path::absolute(path).map_err(|e| {
                    Error::Usage(format!("--client-secret-file {}: {e}", path.display()))
                })?;
                let reference = format!("file:{}", path.display());
                // Checked now, so a typo shows here rather than at the first sign-in.
                oidc_login::read_secret(&reference).map_err(Error::Usage)?;
                Some(Some(reference))
            }
            (None, Some(name)) if name.trim().starts_with("SSHWARD_") => {
                return Err(Error::Usage(format!(
                    "--client-secret-env {name}: SSHWARD_* variables are configuration \
                     options; choose another name (e.g. ACME_ENTRA_CLIENT_SECRET)"
                )));
            }
            (None, Some(name)) => Some(Some(format!("env:{}", name.trim()))),
            (None, None) => None,
        };
        let issuer = match (&self.issuer, self.clear_issuer) {
            (Some(i), _) => {
                let i = i.trim().trim_end_matches('/').to_owned();
                oidc_login::validate_issuer(&i)
                    .map_err(|e| Error::Usage(format!("--issuer {e}")))?;
                Some(Some(i))
            }
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

    /// Applies the options to `team` and returns the names of what changed.
    pub fn apply(&self, tx: &mut Tx<'_>, team: &Team) -> Result<Vec<&'static str>> {
        if self.is_empty() {
            return Ok(Vec::new());
        }
        let update = self.update()?;
        let before = tx.login().oidc(team.id)?;
        let after = tx.login().set_oidc(team.id, &update)?;
        let mut changed = Vec::new();
        if before.client_id != after.client_id {
            changed.push("client_id");
        }
        if before.client_secret_ref != after.client_secret_ref {
            changed.push("client_secret");
        }
        if before.issuer != after.issuer {
            changed.push("issuer");
        }
        if before.link_by != after.link_by {
            changed.push("link_by");
        }
        Ok(changed)
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
    /// The settings of `team`.
    pub fn load(tx: &mut Tx<'_>, config: &Config, team: &Team) -> Result<LoginView> {
        let oidc = tx.login().oidc(team.id)?;
        let public = config.public_url();
        Ok(LoginView {
            client_id: oidc.client_id,
            client_secret: oidc.client_secret_ref,
            issuer: oidc.issuer.or_else(|| {
                team.entra_tenant_id
                    .as_deref()
                    .map(oidc_login::entra_issuer)
            }),
            link_by: oidc.link_by.to_string(),
            sign_in_url: format!("{public}/login/{}", team.slug),
            redirect_uri: format!("{public}/callback"),
        })
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
