//! Hosts: tags, last seen, agent version, in sync or not; join tokens for new hosts.

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, web};
use askama::Template;
use serde::Deserialize;
use time::Duration;

use super::{Answer, State, with_app};
use crate::auth::{self, Signed};
use crate::page::{Chrome, PageError, render_with};

struct HostRow {
    hostname: String,
    tags: String,
    last_seen: String,
    agent: String,
    sync: &'static str,
    in_sync: bool,
    error: String,
}

#[derive(Template)]
#[template(path = "hosts.html")]
struct HostsPage {
    c: Chrome,
    hosts: Vec<HostRow>,
    out_of_sync: usize,
    /// A join token just made: its tags and secret, shown this once.
    created: Option<(String, String)>,
}

async fn page(state: &State, signed: Signed, created: Option<(String, String)>) -> Answer {
    let slug = signed.admin.team.slug.clone();
    let (revision, hosts) = with_app(state, move |app| app.host_statuses(&slug)).await?;
    let rows: Vec<HostRow> = hosts
        .iter()
        .map(|(h, status)| {
            let (agent, sync, in_sync, error) = match status {
                None => ("-".to_owned(), "never reported", false, String::new()),
                Some(s) => {
                    let in_sync = s.applied_revision == Some(revision);
                    (
                        app::display::printable(&s.agent_version),
                        if in_sync { "in sync" } else { "behind" },
                        in_sync,
                        app::display::printable(s.last_error.as_deref().unwrap_or("")),
                    )
                }
            };
            HostRow {
                hostname: app::display::printable(&h.hostname),
                tags: app::display::printable(&host_policy::format_tags(&h.tags)),
                last_seen: app::display::opt_time(h.last_seen),
                agent,
                sync,
                in_sync,
                error,
            }
        })
        .collect();
    let status = if created.is_some() {
        StatusCode::CREATED
    } else {
        StatusCode::OK
    };
    render_with(
        status,
        &HostsPage {
            c: Chrome::signed(&state.config, &signed.admin, signed.csrf, "hosts"),
            out_of_sync: rows.iter().filter(|r| !r.in_sync).count(),
            hosts: rows,
            created,
        },
    )
}

/// `GET /console/{team}/hosts`.
#[utoipa::path(get, path = "/console/{team}/hosts", tag = "console",
    params(("team" = String, Path, description = "the team's name")),
    security(("console_session" = [])),
    responses((status = 200, description = "the page", body = String, content_type = "text/html"), (status = "default", description = "an error page (without a console session: 303 to sign-in)", body = String, content_type = "text/html")))]
pub(crate) async fn list(state: State, req: HttpRequest, team: web::Path<String>) -> Answer {
    let signed = auth::signed_in(&state, &req, &team).await?;
    page(&state, signed, None).await
}

#[derive(Deserialize)]
pub(crate) struct NewJoinToken {
    /// `key=value` tags, separated by commas or spaces.
    #[serde(default)]
    tags: String,
    /// Hours it stays valid.
    #[serde(default)]
    hours: String,
}

/// `POST /console/{team}/hosts/join-tokens`: makes a join token and shows it once.
#[utoipa::path(post, path = "/console/{team}/hosts/join-tokens", tag = "console",
    params(("team" = String, Path, description = "the team's name")),
    request_body(content = String, content_type = "application/x-www-form-urlencoded", description = "the form, with the session's csrf token"),
    security(("console_session" = [])),
    responses((status = 201, description = "the page, showing the new secret once", body = String, content_type = "text/html"), (status = "default", description = "an error page (without a console session: 303 to sign-in)", body = String, content_type = "text/html")))]
pub(crate) async fn create_join_token(
    state: State,
    req: HttpRequest,
    team: web::Path<String>,
    body: web::Bytes,
) -> Answer {
    let (signed, form): (_, NewJoinToken) = auth::signed_form(&state, &req, &team, &body).await?;
    let items: Vec<&str> = form
        .tags
        .split([',', ' ', '\n', '\r', '\t'])
        .filter(|t| !t.is_empty())
        .collect();
    let tags =
        host_policy::parse_tags(&items).map_err(|e| PageError::BadRequest(format!("tags: {e}")))?;
    let hours: i64 = match form.hours.trim() {
        "" => 1,
        h => h
            .parse()
            .map_err(|_| PageError::BadRequest("valid for: a whole number of hours".into()))?,
    };
    let (actor, slug) = (signed.admin.actor.clone(), signed.admin.team.slug.clone());
    let shown = host_policy::format_tags(&tags);
    let (_, secret) = with_app(&state, move |app| {
        app.create_join_token(&actor, &slug, &tags, Duration::hours(hours))
    })
    .await?;
    page(
        &state,
        signed,
        Some((app::display::printable(&shown), secret)),
    )
    .await
}
