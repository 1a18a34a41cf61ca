//! The provisioning log: every SCIM write of the team, failures first, filterable; and
//! the live progress of a sync (what arrived in the last minute), which the page's
//! script refreshes without reloading.

use actix_web::{HttpRequest, web};
use askama::Template;
use serde::Deserialize;
use store::{AuditAction, AuditQuery, AuditRecord, ResourceKind, ScimOp};
use time::{Duration, OffsetDateTime};

use super::{Answer, State, keep, with_app};
use crate::auth;
use crate::page::{Chrome, PageError, render};

/// Most entries one page of the log shows.
const LOG_PAGE: u32 = 100;

/// An audit entry as the log shows it.
pub(crate) struct EntryRow {
    pub at: String,
    pub actor: String,
    pub action: String,
    pub target: String,
    pub status: i32,
    pub failed: bool,
    pub summary: String,
}

impl EntryRow {
    pub(crate) fn of(r: &AuditRecord) -> EntryRow {
        let e = &r.entry;
        EntryRow {
            at: app::display::time(e.at),
            actor: app::display::printable(&e.actor.to_string()),
            action: e.action.to_string(),
            target: app::display::printable(&format!(
                "{} {}",
                e.resource_type.as_deref().unwrap_or(""),
                e.resource_id.as_deref().unwrap_or("")
            )),
            status: e.status,
            failed: e.status >= 400,
            summary: app::display::printable(&e.summary),
        }
    }
}

/// What arrived in the last minute.
pub(crate) struct Progress {
    users: u64,
    groups: u64,
    changes: u64,
    errors: u64,
}

#[derive(Template)]
#[template(path = "log.html")]
struct LogPage {
    c: Chrome,
    q: LogQuery,
    operations: Vec<String>,
    failures: Vec<EntryRow>,
    entries: Vec<EntryRow>,
    older: Option<String>,
    progress: Progress,
}

#[derive(Template)]
#[template(path = "log_progress.html")]
struct ProgressFragment {
    progress: Progress,
}

/// The filters of the log, from the query string.
#[derive(Clone, Debug, Default, Deserialize)]
pub(crate) struct LogQuery {
    /// `failed`, `ok` or empty.
    #[serde(default)]
    outcome: String,
    /// An action such as `scim.user.create`, or empty.
    #[serde(default)]
    operation: String,
    /// A user's SCIM id or userName, or empty.
    #[serde(default)]
    user: String,
    /// Only the last N hours; empty: all.
    #[serde(default)]
    hours: String,
    /// Entries older than this id (the next page).
    before: Option<i64>,
}

fn scim_actions() -> Vec<AuditAction> {
    AuditAction::all()
        .into_iter()
        .filter(|a| matches!(a, AuditAction::Scim(..)))
        .collect()
}

fn progress_of(app: &app::App, team: &str) -> Result<Progress, app::AppError> {
    let since = Some(OffsetDateTime::now_utc() - Duration::minutes(1));
    let created = |kind| AuditQuery {
        action: Some(AuditAction::Scim(kind, ScimOp::Create)),
        since,
        ..AuditQuery::default()
    };
    let all = AuditQuery {
        scim_only: true,
        since,
        ..AuditQuery::default()
    };
    let failed = AuditQuery {
        failed_only: true,
        ..all.clone()
    };
    Ok(Progress {
        users: app.audit_count(team, &created(ResourceKind::User))?,
        groups: app.audit_count(team, &created(ResourceKind::Group))?,
        changes: app.audit_count(team, &all)?,
        errors: app.audit_count(team, &failed)?,
    })
}

/// `GET /console/{team}/log`.
#[utoipa::path(get, path = "/console/{team}/log", tag = "console",
    params(("team" = String, Path, description = "the team's name"), ("outcome" = Option<String>, Query, description = "failed, ok or empty"), ("operation" = Option<String>, Query, description = "a SCIM action"), ("user" = Option<String>, Query, description = "a user's id or userName"), ("hours" = Option<String>, Query, description = "only the last N hours"), ("before" = Option<String>, Query, description = "entries older than this id")),
    security(("console_session" = [])),
    responses((status = 200, description = "the page", body = String, content_type = "text/html"), (status = "default", description = "an error page (without a console session: 303 to sign-in)", body = String, content_type = "text/html")))]
pub(crate) async fn show(
    state: State,
    req: HttpRequest,
    team: web::Path<String>,
    q: web::Query<LogQuery>,
) -> Answer {
    let signed = auth::signed_in(&state, &req, &team).await?;
    let q = q.into_inner();
    let action = match q.operation.trim() {
        "" => None,
        op => Some(
            scim_actions()
                .into_iter()
                .find(|a| a.to_string() == op)
                .ok_or_else(|| PageError::BadRequest(format!("unknown operation {op:?}")))?,
        ),
    };
    let since = match q.hours.trim() {
        "" => None,
        h => {
            let hours: i64 = h
                .parse()
                .ok()
                .filter(|h| (1..=24 * 366).contains(h))
                .ok_or_else(|| {
                    PageError::BadRequest("hours: give a whole number of hours".into())
                })?;
            Some(OffsetDateTime::now_utc() - Duration::hours(hours))
        }
    };
    let (outcome, user) = (q.outcome.clone(), q.user.trim().to_owned());
    if !matches!(outcome.as_str(), "" | "failed" | "ok") {
        return Err(PageError::BadRequest("outcome: failed, ok or empty".into()));
    }
    let slug = team.into_inner();
    let before = q.before;
    let (failures, entries, progress) = with_app(&state, move |app| {
        let resource_id = match user.as_str() {
            "" => None,
            key => Some(
                app.user(&slug, key)
                    .map(|(u, _)| u.id)
                    .unwrap_or_else(|_| key.to_owned()),
            ),
        };
        let base = AuditQuery {
            scim_only: true,
            action,
            resource_id,
            since,
            ..AuditQuery::default()
        };
        let failures = if outcome.is_empty() && before.is_none() {
            let failed = AuditQuery {
                failed_only: true,
                ..base.clone()
            };
            app.audit(Some(&slug), &failed, 20)?
        } else {
            Vec::new()
        };
        let listed = AuditQuery {
            failed_only: outcome == "failed",
            before_id: before,
            ..base
        };
        let mut entries = app.audit(Some(&slug), &listed, LOG_PAGE)?;
        if outcome == "ok" {
            entries.retain(|(_, r)| r.entry.status < 400);
        }
        Ok((failures, entries, progress_of(app, &slug)?))
    })
    .await?;
    let older = (entries.len() == LOG_PAGE as usize)
        .then(|| entries.last().map(|(_, r)| r.id))
        .flatten()
        .map(|id| {
            let kept = keep(&[
                ("outcome", &q.outcome),
                ("operation", &q.operation),
                ("user", &q.user),
                ("hours", &q.hours),
            ]);
            format!("{kept}before={id}")
        });
    render(&LogPage {
        c: Chrome::signed(&state.config, &signed.admin, signed.csrf, "log"),
        operations: scim_actions().iter().map(ToString::to_string).collect(),
        failures: failures.iter().map(|(_, r)| EntryRow::of(r)).collect(),
        entries: entries.iter().map(|(_, r)| EntryRow::of(r)).collect(),
        older,
        progress,
        q,
    })
}

/// `GET /console/{team}/log/progress`: the progress section alone, for the script.
#[utoipa::path(get, path = "/console/{team}/log/progress", tag = "console",
    params(("team" = String, Path, description = "the team's name")),
    security(("console_session" = [])),
    responses((status = 200, description = "the page", body = String, content_type = "text/html"), (status = "default", description = "an error page (without a console session: 303 to sign-in)", body = String, content_type = "text/html")))]
pub(crate) async fn progress(state: State, req: HttpRequest, team: web::Path<String>) -> Answer {
    auth::signed_in(&state, &req, &team).await?;
    let slug = team.into_inner();
    let progress = with_app(&state, move |app| progress_of(app, &slug)).await?;
    render(&ProgressFragment { progress })
}
