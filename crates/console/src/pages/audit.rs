//! The audit log: every change, sign-in and certificate of the team, newest first.

use actix_web::{HttpRequest, web};
use askama::Template;
use serde::Deserialize;
use store::{Actor, AuditAction, AuditQuery};

use super::log::EntryRow;
use super::{Answer, State, keep, with_app};
use crate::auth;
use crate::page::{Chrome, PageError, render};

/// Most entries one page shows.
const AUDIT_PAGE: u32 = 100;

#[derive(Clone, Debug, Default, Deserialize)]
pub(crate) struct AuditFilter {
    #[serde(default)]
    action: String,
    #[serde(default)]
    actor: String,
    before: Option<i64>,
}

#[derive(Template)]
#[template(path = "audit.html")]
struct AuditPage {
    c: Chrome,
    q: AuditFilter,
    actions: Vec<String>,
    entries: Vec<EntryRow>,
    older: Option<String>,
}

/// `GET /console/{team}/audit`.
#[utoipa::path(get, path = "/console/{team}/audit", tag = "console",
    params(("team" = String, Path, description = "the team's name"), ("action" = Option<String>, Query, description = "an audit action"), ("actor" = Option<String>, Query, description = "an actor"), ("before" = Option<String>, Query, description = "entries older than this id")),
    security(("console_session" = [])),
    responses((status = 200, description = "the page", body = String, content_type = "text/html"), (status = "default", description = "an error page (without a console session: 303 to sign-in)", body = String, content_type = "text/html")))]
pub(crate) async fn show(
    state: State,
    req: HttpRequest,
    team: web::Path<String>,
    q: web::Query<AuditFilter>,
) -> Answer {
    let signed = auth::signed_in(&state, &req, &team).await?;
    let q = q.into_inner();
    let bad = |e: store::StoreError| PageError::BadRequest(e.to_string());
    let query = AuditQuery {
        action: Some(q.action.trim())
            .filter(|a| !a.is_empty())
            .map(str::parse::<AuditAction>)
            .transpose()
            .map_err(bad)?,
        actor: Some(q.actor.trim())
            .filter(|a| !a.is_empty())
            .map(str::parse::<Actor>)
            .transpose()
            .map_err(bad)?,
        before_id: q.before,
        ..AuditQuery::default()
    };
    let slug = team.into_inner();
    let entries = with_app(&state, move |app| {
        app.audit(Some(&slug), &query, AUDIT_PAGE)
    })
    .await?;
    let older = (entries.len() == AUDIT_PAGE as usize)
        .then(|| entries.last().map(|(_, r)| r.id))
        .flatten()
        .map(|id| {
            format!(
                "{}before={id}",
                keep(&[("action", &q.action), ("actor", &q.actor)])
            )
        });
    render(&AuditPage {
        c: Chrome::signed(&state.config, &signed.admin, signed.csrf, "audit"),
        actions: AuditAction::all().iter().map(ToString::to_string).collect(),
        entries: entries.iter().map(|(_, r)| EntryRow::of(r)).collect(),
        older,
        q,
    })
}
