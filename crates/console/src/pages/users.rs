//! Users: search and page through the directory; one user's groups, POSIX identity, the
//! hosts they may reach and why, and their certificates.

use actix_web::{HttpRequest, web};
use askama::Template;
use serde::Deserialize;
use serde_json::Value;
use store::{ResourceKind, ResourceRecord};

use super::{Answer, State, listing, literal, page_number, paging, scim_filter, with_app};
use crate::auth;
use crate::page::{Chrome, PageError, render};

/// Text of attribute `key` of a SCIM resource, made printable.
pub(crate) fn text(r: &ResourceRecord, key: &str) -> String {
    app::display::printable(r.data.get(key).and_then(Value::as_str).unwrap_or(""))
}

/// A user as listings show them.
pub(crate) struct UserRow {
    pub id: String,
    pub user_name: String,
    pub display_name: String,
    pub email: String,
    pub active: bool,
}

impl UserRow {
    pub(crate) fn of(r: &ResourceRecord) -> UserRow {
        let email = r
            .data
            .get("emails")
            .and_then(Value::as_array)
            .and_then(|list| {
                list.iter()
                    .find_map(|e| e.get("value").and_then(Value::as_str))
            })
            .unwrap_or("");
        UserRow {
            id: app::display::printable(&r.id),
            user_name: text(r, "userName"),
            display_name: text(r, "displayName"),
            email: app::display::printable(email),
            active: r.data.get("active").and_then(Value::as_bool) != Some(false),
        }
    }
}

#[derive(Clone, Debug, Default, Deserialize)]
pub(crate) struct UsersQuery {
    /// Search: the start of a userName, displayName or work email.
    #[serde(default)]
    q: String,
    /// `active`, `disabled` or empty.
    #[serde(default)]
    status: String,
    page: Option<u64>,
}

#[derive(Template)]
#[template(path = "users.html")]
struct UsersPage {
    c: Chrome,
    q: UsersQuery,
    users: Vec<UserRow>,
    prev: Option<u64>,
    next: Option<u64>,
    range: String,
    /// The query string that paging links keep.
    keep: String,
}

/// The SCIM filter of a search: `text` as a prefix of userName or displayName, or, when
/// it holds an `@`, of userName or work email; and the status. Every part is an index
/// range, so a search costs the same at any directory size (a display name has no `@`;
/// the work email's index is confirmed in memory, so it is only asked for a text specific
/// enough to be an address).
fn search_filter(text: &str, status: &str) -> Result<Option<String>, PageError> {
    let mut parts = Vec::new();
    let text = text.trim();
    if !text.is_empty() {
        let v = literal(text);
        parts.push(if text.contains('@') {
            format!("(userName sw {v} or emails[type eq \"work\" and value sw {v}])")
        } else {
            format!("(userName sw {v} or displayName sw {v})")
        });
    }
    match status {
        "" => {}
        "active" => parts.push("active eq true".into()),
        "disabled" => parts.push("active eq false".into()),
        _ => {
            return Err(PageError::BadRequest(
                "status: active, disabled or empty".into(),
            ));
        }
    }
    Ok((!parts.is_empty()).then(|| parts.join(" and ")))
}

/// `GET /console/{team}/users`.
#[utoipa::path(get, path = "/console/{team}/users", tag = "console",
    params(("team" = String, Path, description = "the team's name"), ("q" = Option<String>, Query, description = "the start of a userName, displayName or email"), ("status" = Option<String>, Query, description = "active, disabled or empty"), ("page" = Option<String>, Query, description = "page number")),
    security(("console_session" = [])),
    responses((status = 200, description = "the page", body = String, content_type = "text/html"), (status = "default", description = "an error page (without a console session: 303 to sign-in)", body = String, content_type = "text/html")))]
pub(crate) async fn list(
    state: State,
    req: HttpRequest,
    team: web::Path<String>,
    q: web::Query<UsersQuery>,
) -> Answer {
    let signed = auth::signed_in(&state, &req, &team).await?;
    let q = q.into_inner();
    let filter = search_filter(&q.q, &q.status)?
        .map(|text| scim_filter(&text, ResourceKind::User))
        .transpose()?;
    let page = page_number(q.page);
    let slug = team.into_inner();
    let found = with_app(&state, move |app| {
        app.users(&slug, &listing(filter.as_ref(), page))
    })
    .await?;
    let users: Vec<UserRow> = found.items.iter().map(UserRow::of).collect();
    let (prev, next, range) = paging(page, users.len(), found.total);
    render(&UsersPage {
        c: Chrome::signed(&state.config, &signed.admin, signed.csrf, "users"),
        keep: super::keep(&[("q", &q.q), ("status", &q.status)]),
        q,
        users,
        prev,
        next,
        range,
    })
}

/// One host the user may reach, and by which grants.
struct Reach {
    hostname: String,
    access: String,
    via: String,
}

/// A certificate as the user page lists it.
pub(crate) struct CertRow {
    pub serial: i64,
    pub subject: String,
    pub principals: String,
    pub valid_before: String,
    pub issued: String,
    pub state: &'static str,
    pub live: bool,
}

impl CertRow {
    pub(crate) fn of(c: &store::CertificateRecord, now: time::OffsetDateTime) -> CertRow {
        let live = c.revoked.is_none() && c.valid_before > now;
        CertRow {
            serial: c.serial,
            subject: app::display::printable(&c.key_id),
            principals: app::display::printable(&c.principals.join(", ")),
            valid_before: app::display::time(c.valid_before),
            issued: app::display::time(c.issued),
            state: if c.revoked.is_some() {
                "revoked"
            } else if live {
                "live"
            } else {
                "expired"
            },
            live,
        }
    }
}

#[derive(Template)]
#[template(path = "user.html")]
struct UserPage {
    c: Chrome,
    user: UserRow,
    external_id: String,
    groups: Vec<(String, String)>,
    posix: Option<(String, u32, String, String)>,
    reach: Vec<Reach>,
    hosts_total: usize,
    certificates: Vec<CertRow>,
}

/// `GET /console/{team}/users/{id}`.
#[utoipa::path(get, path = "/console/{team}/users/{id}", tag = "console",
    params(("team" = String, Path, description = "the team's name"), ("id" = String, Path, description = "a SCIM id")),
    security(("console_session" = [])),
    responses((status = 200, description = "the page", body = String, content_type = "text/html"), (status = "default", description = "an error page (without a console session: 303 to sign-in)", body = String, content_type = "text/html")))]
pub(crate) async fn show(
    state: State,
    req: HttpRequest,
    path: web::Path<(String, String)>,
) -> Answer {
    let (team, id) = path.into_inner();
    let signed = auth::signed_in(&state, &req, &team).await?;
    let slug = team.clone();
    let ((record, groups), access, certs) = with_app(&state, move |app| {
        let user = app.user(&slug, &id)?;
        let access = app.user_access(&slug, &user.0.id)?;
        let certs = app.certificates(&slug, Some(&user.0.id), false, 50)?;
        Ok((user, access, certs))
    })
    .await?;
    let now = time::OffsetDateTime::now_utc();
    let reach = access
        .hosts
        .iter()
        .filter_map(|e| {
            let role = e.access?;
            let via: Vec<String> = e
                .checks
                .iter()
                .filter(|c| c.applies())
                .map(|c| {
                    format!(
                        "grant {} ({} {})",
                        c.grant_id,
                        c.group_name.as_deref().unwrap_or(&c.group_id),
                        c.role
                    )
                })
                .collect();
            Some(Reach {
                hostname: app::display::printable(&e.hostname),
                access: role.to_string(),
                via: app::display::printable(&via.join("; ")),
            })
        })
        .collect();
    render(&UserPage {
        c: Chrome::signed(&state.config, &signed.admin, signed.csrf, "users"),
        external_id: text(&record, "externalId"),
        user: UserRow::of(&record),
        groups: groups
            .iter()
            .map(|g| {
                (
                    app::display::printable(&g.id),
                    app::display::printable(&g.display_name),
                )
            })
            .collect(),
        posix: access.account.map(|a| (a.username, a.uid, a.home, a.shell)),
        hosts_total: access.hosts.len(),
        reach,
        certificates: certs.iter().map(|c| CertRow::of(c, now)).collect(),
    })
}
