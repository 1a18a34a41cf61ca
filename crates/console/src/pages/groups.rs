//! Groups: search and page through them; one group's members (paged) and grants.

use actix_web::{HttpRequest, web};
use askama::Template;
use serde::Deserialize;
use store::ResourceKind;

use super::users::{UserRow, text};
use super::{Answer, State, keep, listing, literal, page_number, paging, scim_filter, with_app};
use crate::auth;
use crate::page::{Chrome, render};

#[derive(Clone, Debug, Default, Deserialize)]
pub(crate) struct GroupsQuery {
    /// The start of a displayName.
    #[serde(default)]
    q: String,
    page: Option<u64>,
}

struct GroupRow {
    id: String,
    name: String,
    members: u64,
}

#[derive(Template)]
#[template(path = "groups.html")]
struct GroupsPage {
    c: Chrome,
    q: GroupsQuery,
    groups: Vec<GroupRow>,
    prev: Option<u64>,
    next: Option<u64>,
    range: String,
    keep: String,
}

/// `GET /console/{team}/groups`.
#[utoipa::path(get, path = "/console/{team}/groups", tag = "console",
    params(("team" = String, Path, description = "the team's name"), ("q" = Option<String>, Query, description = "the start of a displayName"), ("page" = Option<String>, Query, description = "page number")),
    security(("console_session" = [])),
    responses((status = 200, description = "the page", body = String, content_type = "text/html"), (status = "default", description = "an error page (without a console session: 303 to sign-in)", body = String, content_type = "text/html")))]
pub(crate) async fn list(
    state: State,
    req: HttpRequest,
    team: web::Path<String>,
    q: web::Query<GroupsQuery>,
) -> Answer {
    let signed = auth::signed_in(&state, &req, &team).await?;
    let q = q.into_inner();
    let f = match q.q.trim() {
        "" => None,
        t => Some(scim_filter(
            &format!("displayName sw {}", literal(t)),
            ResourceKind::Group,
        )?),
    };
    let page = page_number(q.page);
    let slug = team.into_inner();
    let (total, found) = with_app(&state, move |app| {
        app.groups(&slug, &listing(f.as_ref(), page))
    })
    .await?;
    let groups: Vec<GroupRow> = found
        .iter()
        .map(|g| GroupRow {
            id: app::display::printable(&g.group.id),
            name: text(&g.group, "displayName"),
            members: g.member_count,
        })
        .collect();
    let (prev, next, range) = paging(page, groups.len(), total);
    render(&GroupsPage {
        c: Chrome::signed(&state.config, &signed.admin, signed.csrf, "groups"),
        keep: keep(&[("q", &q.q)]),
        q,
        groups,
        prev,
        next,
        range,
    })
}

#[derive(Deserialize)]
pub(crate) struct MembersQuery {
    page: Option<u64>,
}

/// A grant as the group page lists it.
struct GrantRow {
    id: i64,
    hosts: String,
    role: String,
}

#[derive(Template)]
#[template(path = "group.html")]
struct GroupPage {
    c: Chrome,
    id: String,
    name: String,
    external_id: String,
    members: Vec<UserRow>,
    grants: Vec<GrantRow>,
    prev: Option<u64>,
    next: Option<u64>,
    range: String,
    keep: String,
}

/// `GET /console/{team}/groups/{id}`.
#[utoipa::path(get, path = "/console/{team}/groups/{id}", tag = "console",
    params(("team" = String, Path, description = "the team's name"), ("id" = String, Path, description = "a SCIM id"), ("page" = Option<String>, Query, description = "page of members")),
    security(("console_session" = [])),
    responses((status = 200, description = "the page", body = String, content_type = "text/html"), (status = "default", description = "an error page (without a console session: 303 to sign-in)", body = String, content_type = "text/html")))]
pub(crate) async fn show(
    state: State,
    req: HttpRequest,
    path: web::Path<(String, String)>,
    q: web::Query<MembersQuery>,
) -> Answer {
    let (team, key) = path.into_inner();
    let signed = auth::signed_in(&state, &req, &team).await?;
    let page = page_number(q.page);
    let slug = team.clone();
    let (details, members, grants) = with_app(&state, move |app| {
        let details = app.group(&slug, &key, false)?;
        // Members through the users' indexed `groups.value`: paged like any listing.
        let by_group = scim_filter(
            &format!("groups.value eq {}", literal(&details.group.id)),
            ResourceKind::User,
        )
        .map_err(|e| app::AppError::Internal(e.to_string()))?;
        let members = app.users(&slug, &listing(Some(&by_group), page))?;
        let grants: Vec<app::GrantView> = app
            .grants(&slug)?
            .into_iter()
            .filter(|g| g.group_id == details.group.id)
            .collect();
        Ok((details, members, grants))
    })
    .await?;
    let rows: Vec<UserRow> = members.items.iter().map(UserRow::of).collect();
    let (prev, next, range) = paging(page, rows.len(), details.member_count);
    render(&GroupPage {
        c: Chrome::signed(&state.config, &signed.admin, signed.csrf, "groups"),
        id: app::display::printable(&details.group.id),
        name: text(&details.group, "displayName"),
        external_id: text(&details.group, "externalId"),
        members: rows,
        grants: grants
            .iter()
            .map(|g| GrantRow {
                id: g.id,
                hosts: app::display::printable(&g.hosts.to_string()),
                role: g.role.to_string(),
            })
            .collect(),
        prev,
        next,
        range,
        keep: String::new(),
    })
}
