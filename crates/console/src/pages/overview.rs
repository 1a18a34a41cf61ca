//! The overview: what the team holds, the last provisioning activity, hosts out of sync.

use actix_web::{HttpRequest, web};
use askama::Template;
use store::AuditQuery;
use time::{Duration, OffsetDateTime};

use super::{Answer, State, with_app};
use crate::auth;
use crate::page::{Chrome, render};

#[derive(Template)]
#[template(path = "overview.html")]
struct OverviewPage {
    c: Chrome,
    users: u64,
    groups: u64,
    tokens: usize,
    hosts: usize,
    out_of_sync: usize,
    never_reported: usize,
    sign_in_ready: bool,
    last_activity: Option<(String, String, i32)>,
    failures_today: u64,
}

/// `GET /console/{team}/`.
#[utoipa::path(get, path = "/console/{team}", tag = "console",
    params(("team" = String, Path, description = "the team's name")),
    security(("console_session" = [])),
    responses((status = 200, description = "the page", body = String, content_type = "text/html"), (status = "default", description = "an error page (without a console session: 303 to sign-in)", body = String, content_type = "text/html")))]
pub(crate) async fn show(state: State, req: HttpRequest, team: web::Path<String>) -> Answer {
    let signed = auth::signed_in(&state, &req, &team).await?;
    let slug = team.into_inner();
    let (summary, settings, (revision, hosts), last, failures) = with_app(&state, move |app| {
        let (summary, settings) = app.team(&slug)?;
        let statuses = app.host_statuses(&slug)?;
        let scim = AuditQuery {
            scim_only: true,
            ..AuditQuery::default()
        };
        let last = app.audit(Some(&slug), &scim, 1)?.pop().map(|(_, r)| r);
        let failed = AuditQuery {
            failed_only: true,
            since: Some(OffsetDateTime::now_utc() - Duration::days(1)),
            ..scim
        };
        let failures = app.audit_count(&slug, &failed)?;
        Ok((summary, settings, statuses, last, failures))
    })
    .await?;
    let out_of_sync = hosts
        .iter()
        .filter(|(_, s)| {
            s.as_ref()
                .is_some_and(|s| s.applied_revision != Some(revision))
        })
        .count();
    let never_reported = hosts.iter().filter(|(_, s)| s.is_none()).count();
    render(&OverviewPage {
        c: Chrome::signed(&state.config, &signed.admin, signed.csrf, "overview"),
        users: summary.users,
        groups: summary.groups,
        tokens: summary.active_tokens,
        hosts: hosts.len(),
        out_of_sync,
        never_reported,
        sign_in_ready: summary.team.entra_tenant_id.is_some() && settings.client_id.is_some(),
        last_activity: last.map(|r| {
            (
                app::display::time(r.entry.at),
                app::display::printable(&r.entry.summary),
                r.entry.status,
            )
        }),
        failures_today: failures,
    })
}
