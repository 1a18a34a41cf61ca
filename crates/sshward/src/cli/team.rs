//! `sshward team create|list|show|set`.

use app::{DomainChange, NewTeam, TeamChange, TeamSummary};
use clap::{Args, Subcommand};
use serde::Serialize;
use store::{EmailDomain, Team, TenantId};
use time::OffsetDateTime;

use crate::config::Config;
use crate::db::{self, Open};
use crate::error::{Error, Result};
use crate::output::{self, Format, Table};

/// Team subcommands.
#[derive(Debug, Subcommand)]
pub enum TeamCommand {
    /// Create a team and, unless --no-token, its first SCIM token (printed once)
    Create(CreateArgs),
    /// List all teams
    List(Format),
    /// Show one team: SCIM Tenant URL, Entra tenant, allowed domains, counts
    Show(ShowArgs),
    /// Change a team's name, Entra tenant ID or allowed email domains
    Set(SetArgs),
}

/// `team create`.
#[derive(Debug, Args)]
pub struct CreateArgs {
    /// URL name of the team: 1-63 of a-z, 0-9 and '-' (the SCIM URL ends in /scim/v2/SLUG)
    pub slug: String,
    /// Display name [default: the slug]
    #[arg(long)]
    pub name: Option<String>,
    /// Microsoft Entra tenant ID (a GUID) whose users may sign in
    #[arg(long, value_name = "GUID")]
    pub tenant_id: Option<String>,
    /// Email domain allowed to sign in (repeat, or separate with commas)
    #[arg(long = "domain", value_name = "DOMAIN", value_delimiter = ',')]
    pub domains: Vec<String>,
    /// Do not create a SCIM token (create one later with `sshward token create`)
    #[arg(long)]
    pub no_token: bool,
    /// Label of the first token
    #[arg(long, value_name = "LABEL", default_value = "entra-provisioning")]
    pub token_label: String,
    #[command(flatten)]
    pub format: Format,
}

/// `team show`.
#[derive(Debug, Args)]
pub struct ShowArgs {
    /// The team's slug
    pub slug: String,
    #[command(flatten)]
    pub format: Format,
}

/// `team set`.
#[derive(Debug, Args)]
pub struct SetArgs {
    /// The team's slug
    pub slug: String,
    /// New display name
    #[arg(long)]
    pub name: Option<String>,
    /// New Microsoft Entra tenant ID (a GUID)
    #[arg(long, value_name = "GUID", conflicts_with = "clear_tenant_id")]
    pub tenant_id: Option<String>,
    /// Remove the Entra tenant ID
    #[arg(long)]
    pub clear_tenant_id: bool,
    /// Replace the allowed email domains (comma-separated; "" clears the list)
    #[arg(long, value_name = "LIST", conflicts_with_all = ["add_domain", "remove_domain"])]
    pub domains: Option<String>,
    /// Add an allowed email domain (repeatable)
    #[arg(long, value_name = "DOMAIN", value_delimiter = ',')]
    pub add_domain: Vec<String>,
    /// Remove an allowed email domain (repeatable)
    #[arg(long, value_name = "DOMAIN", value_delimiter = ',')]
    pub remove_domain: Vec<String>,
    #[command(flatten)]
    pub oidc: super::team_oidc::OidcArgs,
    #[command(flatten)]
    pub format: Format,
}

/// A team as printed with `--json`.
#[derive(Debug, Serialize)]
pub struct TeamView {
    slug: String,
    name: String,
    scim_tenant_url: String,
    entra_tenant_id: Option<String>,
    allowed_domains: Vec<String>,
    #[serde(with = "output::rfc3339")]
    created: OffsetDateTime,
    revision: i64,
    #[serde(skip_serializing_if = "Option::is_none")]
    users: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    groups: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    active_tokens: Option<usize>,
    #[serde(skip_serializing_if = "Option::is_none")]
    login: Option<super::team_oidc::LoginView>,
    /// The SSH CA keys to trust (user, host), made on first use.
    #[serde(skip_serializing_if = "Option::is_none")]
    ssh_ca: Option<CaKeys>,
}

/// A team's SSH CA public keys.
#[derive(Debug, Serialize)]
struct CaKeys {
    user: Vec<String>,
    host: Vec<String>,
}

impl TeamView {
    fn new(config: &Config, team: Team) -> Self {
        TeamView {
            scim_tenant_url: tenant_url(config, &team.slug),
            slug: team.slug,
            name: team.display_name,
            entra_tenant_id: team.entra_tenant_id.map(|t| t.to_string()),
            allowed_domains: team
                .allowed_domains
                .iter()
                .map(ToString::to_string)
                .collect(),
            created: team.created,
            revision: team.revision,
            users: None,
            groups: None,
            active_tokens: None,
            login: None,
            ssh_ca: None,
        }
    }

    fn with_counts(config: &Config, s: TeamSummary) -> Self {
        let mut view = TeamView::new(config, s.team);
        view.users = Some(s.users);
        view.groups = Some(s.groups);
        view.active_tokens = Some(s.active_tokens);
        view
    }
}

/// The SCIM Tenant URL of a team, from the configured public URL.
pub fn tenant_url(config: &Config, slug: &str) -> String {
    config.scim_config(config.public_url()).tenant_url(slug)
}

/// Runs a team subcommand.
pub fn run(config: &Config, command: TeamCommand) -> Result<()> {
    match command {
        TeamCommand::Create(a) => create(config, a),
        TeamCommand::List(f) => list(config, f),
        TeamCommand::Show(a) => show(config, a),
        TeamCommand::Set(a) => set(config, a),
    }
}

/// Parses `--tenant-id`.
fn tenant(text: &str) -> Result<TenantId> {
    text.parse()
        .map_err(|e: store::StoreError| Error::Usage(strip_invalid(e)))
}

/// Parses email domains given on the command line.
fn domain_list<S: AsRef<str>>(items: &[S]) -> Result<Vec<EmailDomain>> {
    items
        .iter()
        .map(|d| d.as_ref().parse())
        .collect::<Result<_, store::StoreError>>()
        .map_err(|e| Error::Usage(strip_invalid(e)))
}

fn create(config: &Config, a: CreateArgs) -> Result<()> {
    let label = a.token_label.trim().to_owned();
    if !a.no_token && label.is_empty() {
        return Err(Error::Usage("--token-label must not be empty".into()));
    }
    let new = NewTeam {
        slug: a.slug.clone(),
        name: a.name.clone(),
        tenant: a.tenant_id.as_deref().map(tenant).transpose()?,
        domains: domain_list(&a.domains)?,
        first_token: (!a.no_token).then_some(label),
    };
    store::validate_slug(&a.slug).map_err(|e| Error::Usage(strip_invalid(e)))?;
    let store = db::open(config, Open::CreateIfMissing)?;
    let (team, token) = crate::keys::app(config, store)?.create_team(&db::cli_actor(), &new)?;
    let view = TeamView::new(config, team);
    if a.format.json {
        let token = token.map(|(info, secret)| super::token::TokenCreated::new(info, secret));
        return output::print_json(&serde_json::json!({ "team": view, "token": token }));
    }
    let mut lines = vec![format!("Created team {} ({}).", view.slug, view.name)];
    match token {
        Some((info, secret)) => {
            lines.extend(super::token::secret_block(
                &view.scim_tenant_url,
                &secret,
                info.id,
            ));
        }
        None => {
            lines.push(format!("SCIM Tenant URL: {}", view.scim_tenant_url));
            lines.push(format!(
                "No token yet: create one with `sshward token create --team {}`.",
                view.slug
            ));
        }
    }
    output::print_lines(&lines)
}

fn list(config: &Config, format: Format) -> Result<()> {
    let views: Vec<TeamView> = db::app(config)?
        .teams()?
        .into_iter()
        .map(|s| TeamView::with_counts(config, s))
        .collect();
    if format.json {
        return output::print_json(&views);
    }
    let mut table = Table::new(&[
        "SLUG",
        "NAME",
        "USERS",
        "GROUPS",
        "TOKENS",
        "ENTRA TENANT",
        "DOMAINS",
        "CREATED",
    ]);
    for v in &views {
        table.row(vec![
            v.slug.clone(),
            v.name.clone(),
            count(v.users),
            count(v.groups),
            count(v.active_tokens.map(|n| n as u64)),
            v.entra_tenant_id.clone().unwrap_or_else(|| "-".into()),
            domains(&v.allowed_domains),
            output::time(v.created),
        ]);
    }
    table.print("No teams yet: create one with `sshward team create SLUG`.")
}

fn show(config: &Config, a: ShowArgs) -> Result<()> {
    let app = db::app(config)?;
    let (summary, oidc) = app.team(&a.slug)?;
    let login = super::team_oidc::LoginView::new(config, &summary.team, oidc);
    let mut view = TeamView::with_counts(config, summary);
    view.login = Some(login);
    view.ssh_ca = Some(CaKeys {
        user: app.ca_public_keys(&a.slug, app::CertKind::User)?,
        host: app.ca_public_keys(&a.slug, app::CertKind::Host)?,
    });
    print_team(&view, a.format)
}

fn print_team(v: &TeamView, format: Format) -> Result<()> {
    if format.json {
        return output::print_json(v);
    }
    let mut fields = vec![
        ("Slug", v.slug.clone()),
        ("Name", v.name.clone()),
        ("SCIM Tenant URL", v.scim_tenant_url.clone()),
        (
            "Entra tenant ID",
            v.entra_tenant_id
                .clone()
                .unwrap_or_else(|| "- (not set)".into()),
        ),
        ("Allowed domains", domains(&v.allowed_domains)),
    ];
    if v.users.is_some() {
        fields.push(("Users", count(v.users)));
        fields.push(("Groups", count(v.groups)));
        fields.push(("Active tokens", count(v.active_tokens.map(|n| n as u64))));
    }
    if let Some(login) = &v.login {
        fields.extend(login.fields());
    }
    if let Some(ca) = &v.ssh_ca {
        fields.extend(super::ca::key_fields("User CA", &ca.user));
        fields.extend(super::ca::key_fields("Host CA", &ca.host));
    }
    fields.push(("Created", output::time(v.created)));
    fields.push(("Revision", v.revision.to_string()));
    output::print_fields(&fields)
}

fn set(config: &Config, a: SetArgs) -> Result<()> {
    let tenant = match (&a.tenant_id, a.clear_tenant_id) {
        (Some(t), _) => Some(Some(tenant(t)?)),
        (None, true) => Some(None),
        (None, false) => None,
    };
    if a.name.as_ref().is_some_and(|n| n.trim().is_empty()) {
        return Err(Error::Usage("--name must not be empty".into()));
    }
    let domains = match &a.domains {
        Some(list) => {
            let items: Vec<&str> = list
                .split(',')
                .map(str::trim)
                .filter(|s| !s.is_empty())
                .collect();
            Some(DomainChange::Replace(domain_list(&items)?))
        }
        None if a.add_domain.is_empty() && a.remove_domain.is_empty() => None,
        None => Some(DomainChange::Edit {
            add: domain_list(&a.add_domain)?,
            remove: domain_list(&a.remove_domain)?,
        }),
    };
    let change = TeamChange {
        name: a.name.clone(),
        tenant,
        domains,
        sign_in: a.oidc.update()?,
    };
    if change.is_empty() {
        return Err(Error::Usage(
            "nothing to change: give --name, --tenant-id, --clear-tenant-id, --domains, \
             --add-domain, --remove-domain or a sign-in option (see --help)"
                .into(),
        ));
    }
    let (team, oidc) = db::app(config)?.update_team(&db::cli_actor(), &a.slug, &change)?;
    let login = super::team_oidc::LoginView::new(config, &team, oidc);
    let mut view = TeamView::new(config, team);
    view.login = Some(login);
    print_team(&view, a.format)
}

fn count(n: Option<u64>) -> String {
    n.map_or_else(|| "-".into(), |n| n.to_string())
}

fn domains(list: &[String]) -> String {
    if list.is_empty() {
        "- (none)".into()
    } else {
        list.join(", ")
    }
}

/// A store validation message without the `invalid: ` prefix.
fn strip_invalid(e: store::StoreError) -> String {
    match e {
        store::StoreError::Invalid(msg) => msg,
        other => other.to_string(),
    }
}
