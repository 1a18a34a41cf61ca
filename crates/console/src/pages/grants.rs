//! Grants: which group may log in (or sudo) on which hosts. Adding and removing show
//! first who gains or loses access on which hosts, and change nothing until confirmed.

use actix_web::{HttpRequest, web};
use app::{AccessChange, NewGrant};
use askama::Template;
use host_policy::{HostSelector, PosixName, Role};
use serde::Deserialize;

use super::{Answer, Csrf, State, with_app};
use crate::auth;
use crate::page::{Chrome, PageError, render, see_other};

struct GrantRow {
    id: i64,
    group_id: String,
    group: String,
    hosts: String,
    role: String,
    extra: String,
}

#[derive(Template)]
#[template(path = "grants.html")]
struct GrantsPage {
    c: Chrome,
    grants: Vec<GrantRow>,
}

/// `GET /console/{team}/grants`.
#[utoipa::path(get, path = "/console/{team}/grants", tag = "console",
    params(("team" = String, Path, description = "the team's name")),
    security(("console_session" = [])),
    responses((status = 200, description = "the page", body = String, content_type = "text/html"), (status = "default", description = "an error page (without a console session: 303 to sign-in)", body = String, content_type = "text/html")))]
pub(crate) async fn list(state: State, req: HttpRequest, team: web::Path<String>) -> Answer {
    let signed = auth::signed_in(&state, &req, &team).await?;
    let slug = team.into_inner();
    let grants = with_app(&state, move |app| app.grants(&slug)).await?;
    render(&GrantsPage {
        c: Chrome::signed(&state.config, &signed.admin, signed.csrf, "grants"),
        grants: grants
            .iter()
            .map(|g| GrantRow {
                id: g.id,
                group_id: app::display::printable(&g.group_id),
                group: app::display::printable(
                    g.group_name.as_deref().unwrap_or("(deleted group)"),
                ),
                hosts: app::display::printable(&g.hosts.to_string()),
                role: g.role.to_string(),
                extra: app::display::printable(
                    &g.extra_groups
                        .iter()
                        .map(ToString::to_string)
                        .collect::<Vec<_>>()
                        .join(", "),
                ),
            })
            .collect(),
    })
}

/// The add form: a group (id or displayName), a host selector, a role.
#[derive(Clone, Debug, Deserialize)]
pub(crate) struct GrantForm {
    group: String,
    hosts: String,
    role: String,
    #[serde(default)]
    extra_groups: String,
}

impl GrantForm {
    fn grant(&self) -> Result<NewGrant, PageError> {
        let bad =
            |what: &str, e: &dyn std::fmt::Display| PageError::BadRequest(format!("{what}: {e}"));
        Ok(NewGrant {
            group: self.group.trim().to_owned(),
            hosts: self
                .hosts
                .parse::<HostSelector>()
                .map_err(|e| bad("hosts", &e))?,
            role: self.role.parse::<Role>().map_err(|e| bad("role", &e))?,
            extra_groups: self
                .extra_groups
                .split([',', ' '])
                .filter(|g| !g.is_empty())
                .map(|g| g.parse::<PosixName>().map_err(|e| bad("extra groups", &e)))
                .collect::<Result<_, _>>()?,
        })
    }
}

/// Most users a preview lists (the total is always shown).
const PREVIEW_USERS: usize = 200;
/// Most hostnames a preview row names.
const PREVIEW_HOSTS: usize = 5;

/// A change as the preview lists it.
struct ChangeRow {
    user: String,
    hosts: String,
    before: String,
    after: String,
    loses: bool,
}

fn rows(changes: &[AccessChange]) -> Vec<ChangeRow> {
    let role = |r: Option<Role>| r.map_or_else(|| "no access".to_owned(), |r| r.to_string());
    changes
        .iter()
        .take(PREVIEW_USERS)
        .map(|c| {
            let mut hosts = c
                .hosts
                .iter()
                .take(PREVIEW_HOSTS)
                .cloned()
                .collect::<Vec<_>>()
                .join(", ");
            if c.hosts.len() > PREVIEW_HOSTS {
                hosts.push_str(&format!(" and {} more", c.hosts.len() - PREVIEW_HOSTS));
            }
            ChangeRow {
                user: app::display::printable(&c.user),
                hosts: app::display::printable(&hosts),
                before: role(c.before),
                after: role(c.after),
                loses: matches!(
                    (c.before, c.after),
                    (Some(_), None) | (Some(Role::Sudo), Some(Role::Ssh))
                ),
            }
        })
        .collect()
}

#[derive(Template)]
#[template(path = "grant_preview.html")]
struct PreviewPage {
    c: Chrome,
    /// What is being confirmed, in words.
    what: String,
    changes: Vec<ChangeRow>,
    /// How many users' access changes in all.
    total: usize,
    /// Where the confirmation posts, and the add form's fields to post again.
    confirm: String,
    form: Option<GrantForm>,
}

/// `POST /console/{team}/grants/preview`: who would gain what; nothing changes yet.
#[utoipa::path(post, path = "/console/{team}/grants/preview", tag = "console",
    params(("team" = String, Path, description = "the team's name")),
    request_body(content = String, content_type = "application/x-www-form-urlencoded", description = "the form, with the session's csrf token"),
    security(("console_session" = [])),
    responses((status = 200, description = "the page", body = String, content_type = "text/html"), (status = "default", description = "an error page (without a console session: 303 to sign-in)", body = String, content_type = "text/html")))]
pub(crate) async fn preview_add(
    state: State,
    req: HttpRequest,
    team: web::Path<String>,
    body: web::Bytes,
) -> Answer {
    let (signed, form): (_, GrantForm) = auth::signed_form(&state, &req, &team, &body).await?;
    let grant = form.grant()?;
    let what = format!(
        "Grant {} on {} to group {}",
        grant.role, grant.hosts, grant.group
    );
    let slug = team.into_inner();
    let changes = with_app(&state, move |app| app.preview_grant(&slug, &grant)).await?;
    render(&PreviewPage {
        confirm: state
            .config
            .team_path(&signed.admin.team.slug, "/grants/add"),
        c: Chrome::signed(&state.config, &signed.admin, signed.csrf, "grants"),
        what: app::display::printable(&what),
        changes: rows(&changes),
        total: changes.len(),
        form: Some(form),
    })
}

/// `POST /console/{team}/grants/add`: adds the grant the preview showed.
#[utoipa::path(post, path = "/console/{team}/grants/add", tag = "console",
    params(("team" = String, Path, description = "the team's name")),
    request_body(content = String, content_type = "application/x-www-form-urlencoded", description = "the form, with the session's csrf token"),
    security(("console_session" = [])),
    responses((status = 303, description = "done: to the next page (or, without a console session, to sign-in)"), (status = "default", description = "an error page (without a console session: 303 to sign-in)", body = String, content_type = "text/html")))]
pub(crate) async fn add(
    state: State,
    req: HttpRequest,
    team: web::Path<String>,
    body: web::Bytes,
) -> Answer {
    let (signed, form): (_, GrantForm) = auth::signed_form(&state, &req, &team, &body).await?;
    let grant = form.grant()?;
    let (actor, slug) = (signed.admin.actor.clone(), team.into_inner());
    with_app(&state, move |app| app.add_grant(&actor, &slug, &grant)).await?;
    Ok(see_other(
        &state.config.team_path(&signed.admin.team.slug, "/grants"),
    ))
}

/// `POST /console/{team}/grants/{id}/preview-remove`: who would lose what.
#[utoipa::path(post, path = "/console/{team}/grants/{id}/preview-remove", tag = "console",
    params(("team" = String, Path, description = "the team's name"), ("id" = i64, Path, description = "its id")),
    request_body(content = String, content_type = "application/x-www-form-urlencoded", description = "the form, with the session's csrf token"),
    security(("console_session" = [])),
    responses((status = 200, description = "the page", body = String, content_type = "text/html"), (status = "default", description = "an error page (without a console session: 303 to sign-in)", body = String, content_type = "text/html")))]
pub(crate) async fn preview_remove(
    state: State,
    req: HttpRequest,
    path: web::Path<(String, String)>,
    body: web::Bytes,
) -> Answer {
    let (team, id_text) = path.into_inner();
    let (signed, _): (_, Csrf) = auth::signed_form(&state, &req, &team, &body).await?;
    let id = super::number(&id_text)?;
    let slug = team.clone();
    let changes = with_app(&state, move |app| app.preview_grant_removal(&slug, id)).await?;
    render(&PreviewPage {
        confirm: state
            .config
            .team_path(&team, &format!("/grants/{id}/remove")),
        c: Chrome::signed(&state.config, &signed.admin, signed.csrf, "grants"),
        what: format!("Remove grant {id}"),
        changes: rows(&changes),
        total: changes.len(),
        form: None,
    })
}

/// `POST /console/{team}/grants/{id}/remove`.
#[utoipa::path(post, path = "/console/{team}/grants/{id}/remove", tag = "console",
    params(("team" = String, Path, description = "the team's name"), ("id" = i64, Path, description = "its id")),
    request_body(content = String, content_type = "application/x-www-form-urlencoded", description = "the form, with the session's csrf token"),
    security(("console_session" = [])),
    responses((status = 303, description = "done: to the next page (or, without a console session, to sign-in)"), (status = "default", description = "an error page (without a console session: 303 to sign-in)", body = String, content_type = "text/html")))]
pub(crate) async fn remove(
    state: State,
    req: HttpRequest,
    path: web::Path<(String, String)>,
    body: web::Bytes,
) -> Answer {
    super::numbered_action(
        &state,
        &req,
        path,
        &body,
        "/grants",
        |app, actor, team, n| app.remove_grant(actor, team, n),
    )
    .await
}
