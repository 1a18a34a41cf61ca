//! `/Users` and `/Groups`: list, search, create, read, replace, patch and delete.

use crate::context::{Caller, Ctx};
use crate::error::ApiError;
use crate::repo;
use crate::request::{self, Query};
use crate::response;
use crate::summary;
use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, ResponseError, web};
use scim_core::ResourceKind;
use scim_core::message::{self, ListParams, ListQuery};
use scim_core::patch::{self, PatchRequest};
use scim_core::projection::Projection;
use scim_core::resource::{self, Link, Meta};
use serde_json::Value;
use store::{ResourceRecord, ScimOp, Tx};

/// The `{resource}` path segment: only the endpoints that exist, so that any other path
/// falls through to the scope's 404 whatever the method (a 405 would claim it exists).
const RESOURCE: &str = "{resource:Users|Groups}";

pub(crate) fn configure(cfg: &mut web::ServiceConfig) {
    cfg.service(
        web::resource("/.search")
            .route(web::post().to(search_everything))
            .default_service(web::to(|| not_allowed("POST"))),
    )
    .service(
        web::resource(format!("/{RESOURCE}/.search"))
            .route(web::post().to(search))
            .default_service(web::to(|| not_allowed("POST"))),
    )
    .service(
        web::resource(format!("/{RESOURCE}"))
            .route(web::get().to(list))
            .route(web::post().to(create))
            .default_service(web::to(|| not_allowed("GET, POST"))),
    )
    .service(
        web::resource(format!("/{RESOURCE}/{{id}}"))
            .route(web::get().to(get))
            .route(web::put().to(replace))
            .route(web::patch().to(patch))
            .route(web::delete().to(delete))
            .default_service(web::to(|| not_allowed("GET, PUT, PATCH, DELETE"))),
    );
}

async fn not_allowed(allow: &'static str) -> HttpResponse {
    ApiError::MethodNotAllowed(allow).error_response()
}

/// The resource type named by the `{resource}` path segment.
fn kind_of(req: &HttpRequest) -> Result<ResourceKind, ApiError> {
    match req.match_info().get("resource") {
        Some("Users") => Ok(ResourceKind::User),
        Some("Groups") => Ok(ResourceKind::Group),
        _ => Err(ApiError::NotFound(format!(
            "no SCIM endpoint at {}: use /Users or /Groups",
            req.path()
        ))),
    }
}

fn id_of(req: &HttpRequest) -> String {
    req.match_info().get("id").unwrap_or_default().to_string()
}

/// The `members` of a group or `groups` of a user: the attribute kept apart from the data.
fn link_attribute(kind: ResourceKind) -> &'static str {
    match kind {
        ResourceKind::User => "groups",
        ResourceKind::Group => "members",
    }
}

/// Renders a stored resource for a response. `links` (a group's members or a user's
/// groups) are `None` when the projection leaves them out and they were not loaded.
fn render(
    kind: ResourceKind,
    base: &str,
    record: &ResourceRecord,
    links: Option<&[Link]>,
    projection: &Projection,
) -> Value {
    let meta = Meta {
        created: record.created,
        last_modified: record.last_modified,
        version: record.version,
    };
    let full = resource::render(kind, base, &record.id, &meta, &record.data, links);
    Value::Object(projection.apply(kind, &full))
}

/// Renders one resource, loading its links only when they are returned (so
/// `excludedAttributes=members` never reads the member table).
fn present(
    tx: &mut Tx<'_>,
    kind: ResourceKind,
    caller: &Caller,
    base: &str,
    record: &ResourceRecord,
    projection: &Projection,
) -> Result<Value, ApiError> {
    let links = if projection.includes(kind, link_attribute(kind)) {
        let mut all = repo::links(tx, kind, caller.team.id, &[record.id.as_str()])?;
        Some(all.remove(&record.id).unwrap_or_default())
    } else {
        None
    };
    Ok(render(kind, base, record, links.as_deref(), projection))
}

/// The `attributes` / `excludedAttributes` of the request.
///
/// Like everything read from a request, a failure here is carried into the handler's
/// database closure and reported only after authentication: a request with a bad token is
/// always 401, whatever else is wrong with it.
fn projection_of(req: &HttpRequest, kind: ResourceKind) -> Result<Projection, ApiError> {
    let query = Query::parse(req)?;
    Ok(Projection::parse(
        kind,
        query.get("attributes"),
        query.get("excludedattributes"),
    )?)
}

/// Lists or filters users or groups.
#[utoipa::path(get, path = "/scim/v2/{team}/{resource}", tag = "scim",
    params(
        crate::openapi::ResourcePath,
        ("filter" = Option<String>, Query, description = "an RFC 7644 filter"),
        ("startIndex" = Option<String>, Query, description = "1-based index of the first result"),
        ("count" = Option<String>, Query, description = "page size"),
        crate::openapi::Projection,
        ("sortBy" = Option<String>, Query, description = "attribute to sort by"),
        ("sortOrder" = Option<String>, Query, description = "ascending or descending"),
    ),
    security(("scim_token" = [])),
    responses(
        (status = 200, description = "a ListResponse", body = Object,
            content_type = "application/scim+json"),
        (status = "default", description = "an error", body = crate::openapi::Error,
            content_type = "application/scim+json"),
    ))]
pub(crate) async fn list(req: HttpRequest) -> Result<HttpResponse, ApiError> {
    let kind = kind_of(&req)?;
    let parsed = Query::parse(&req).and_then(|query| {
        let params = ListParams {
            filter: query.get("filter"),
            start_index: query.get("startindex"),
            count: query.get("count"),
            attributes: query.get("attributes"),
            excluded_attributes: query.get("excludedattributes"),
            sort_by: query.get("sortby"),
            sort_order: query.get("sortorder"),
        };
        Ok(ListQuery::parse(kind, &params)?)
    });
    run_list(&req, kind, parsed).await
}

/// Lists or filters users or groups by a SearchRequest.
#[utoipa::path(post, path = "/scim/v2/{team}/{resource}/.search", tag = "scim",
    params(
        crate::openapi::ResourcePath,
    ),
    request_body(content = Object, content_type = "application/scim+json", description = "a SearchRequest"),
    security(("scim_token" = [])),
    responses(
        (status = 200, description = "a ListResponse", body = Object,
            content_type = "application/scim+json"),
        (status = "default", description = "an error", body = crate::openapi::Error,
            content_type = "application/scim+json"),
    ))]
pub(crate) async fn search(
    req: HttpRequest,
    payload: web::Payload,
) -> Result<HttpResponse, ApiError> {
    let kind = kind_of(&req)?;
    let ctx = Ctx::new(&req)?;
    let body = request::json_body(&req, payload, ctx.state().config.max_body_bytes).await;
    let parsed = body.and_then(|body| Ok(ListQuery::from_search_request(kind, &body)?));
    run_list(&req, kind, parsed).await
}

#[utoipa::path(post, path = "/scim/v2/{team}/.search", tag = "scim",
    params(
        crate::openapi::TeamPath,
    ),
    request_body(content = Object, content_type = "application/scim+json", description = "a SearchRequest"),
    security(("scim_token" = [])),
    responses(
        (status = 200, description = "a ListResponse", body = Object,
            content_type = "application/scim+json"),
        (status = "default", description = "an error", body = crate::openapi::Error,
            content_type = "application/scim+json"),
    ))]
/// `POST /.search` at the root: users, then groups, paged as one list (RFC 7644
/// section 3.4.3). A filter or attribute that only one type defines selects nothing of the
/// other; a filter that neither type accepts is an error.
pub(crate) async fn search_everything(
    req: HttpRequest,
    payload: web::Payload,
) -> Result<HttpResponse, ApiError> {
    let ctx = Ctx::new(&req)?;
    let body = request::json_body(&req, payload, ctx.state().config.max_body_bytes).await;
    let base = ctx.base_url();
    let body = ctx
        .read(move |tx, caller| {
            let body = body?;
            let users = ListQuery::from_search_request(ResourceKind::User, &body);
            let groups = ListQuery::from_search_request(ResourceKind::Group, &body);
            let (start, count) = match (&users, &groups) {
                (Ok(q), _) | (_, Ok(q)) => (q.start_index, q.count),
                (Err(e), Err(_)) => return Err(e.clone().into()),
            };
            let (mut total, mut resources, mut skipped) = (0, Vec::new(), 0);
            for (kind, query) in [(ResourceKind::User, users), (ResourceKind::Group, groups)] {
                let Ok(mut query) = query else { continue };
                // Positions before `start` that earlier types already covered.
                query.start_index = start.saturating_sub(skipped).max(1);
                query.count = count - resources.len();
                let (n, page) = page(tx, kind, caller, &base, &query)?;
                total += n;
                skipped += n;
                resources.extend(page);
            }
            Ok(message::list_response(total, start, resources))
        })
        .await?;
    Ok(response::json(StatusCode::OK, &body))
}

/// One page of `kind` for `query`: the total and the rendered resources.
fn page(
    tx: &mut Tx<'_>,
    kind: ResourceKind,
    caller: &Caller,
    base: &str,
    query: &ListQuery,
) -> Result<(usize, Vec<Value>), ApiError> {
    let (total, records) = repo::list(tx, kind, caller.team.id, query)?;
    // One query for the links of the whole page, and none when they are excluded.
    let links = if query.projection.includes(kind, link_attribute(kind)) {
        let ids: Vec<&str> = records.iter().map(|r| r.id.as_str()).collect();
        Some(repo::links(tx, kind, caller.team.id, &ids)?)
    } else {
        None
    };
    let resources = records
        .iter()
        .map(|r| {
            let own = links
                .as_ref()
                .map(|l| l.get(&r.id).map(Vec::as_slice).unwrap_or_default());
            render(kind, base, r, own, &query.projection)
        })
        .collect();
    Ok((total, resources))
}

async fn run_list(
    req: &HttpRequest,
    kind: ResourceKind,
    parsed: Result<ListQuery, ApiError>,
) -> Result<HttpResponse, ApiError> {
    let ctx = Ctx::new(req)?;
    let base = ctx.base_url();
    let body = ctx
        .read(move |tx, caller| {
            // Parse errors are reported after authentication, so a bad token is always 401.
            let query = parsed?;
            let (total, resources) = page(tx, kind, caller, &base, &query)?;
            Ok(message::list_response(total, query.start_index, resources))
        })
        .await?;
    Ok(response::json(StatusCode::OK, &body))
}

/// Creates a user or group.
#[utoipa::path(post, path = "/scim/v2/{team}/{resource}", tag = "scim",
    params(
        crate::openapi::ResourcePath,
        crate::openapi::Projection,
    ),
    request_body(content = Object, content_type = "application/scim+json", description = "the User or Group"),
    security(("scim_token" = [])),
    responses(
        (status = 201, description = "created", body = Object,
            content_type = "application/scim+json"),
        (status = "default", description = "an error", body = crate::openapi::Error,
            content_type = "application/scim+json"),
    ))]
pub(crate) async fn create(
    req: HttpRequest,
    payload: web::Payload,
) -> Result<HttpResponse, ApiError> {
    let kind = kind_of(&req)?;
    let ctx = Ctx::new(&req)?;
    let body = request::json_body(&req, payload, ctx.state().config.max_body_bytes).await;
    let projection = projection_of(&req, kind);
    let base = ctx.base_url();
    let (body, etag, location) = ctx
        .write(ScimOp::Create, kind, None, move |tx, caller| {
            let projection = projection?;
            let input = resource::normalize(kind, &body?)?;
            let record = repo::insert(tx, kind, caller.team.id, input.data)?;
            if !input.members.is_empty() {
                let ids: Vec<String> = input.members.into_iter().map(|m| m.value).collect();
                repo::add_members(tx, caller.team.id, &record.id, &ids)?;
            }
            let summary = summary::created(kind, &record.data);
            repo::audit(tx, caller, ScimOp::Create, kind, &record.id, 201, &summary)?;
            let out = present(tx, kind, caller, &base, &record, &projection)?;
            // Not taken from the body: `attributes` may have left `meta` out of it.
            let location = format!("{base}/{}/{}", kind.endpoint(), record.id);
            Ok((out, resource::etag(record.version), location))
        })
        .await?;
    Ok(response::created(&body, &etag, &location))
}

/// Reads a user or group.
#[utoipa::path(get, path = "/scim/v2/{team}/{resource}/{id}", tag = "scim",
    params(
        crate::openapi::ItemPath,
        crate::openapi::Projection,
        ("If-None-Match" = Option<String>, Header, description = "an ETag"),
    ),
    security(("scim_token" = [])),
    responses(
        (status = 200, description = "the resource", body = Object,
            content_type = "application/scim+json"),
        (status = 304, description = "unchanged"),
        (status = "default", description = "an error", body = crate::openapi::Error,
            content_type = "application/scim+json"),
    ))]
pub(crate) async fn get(req: HttpRequest) -> Result<HttpResponse, ApiError> {
    let kind = kind_of(&req)?;
    let id = id_of(&req);
    let ctx = Ctx::new(&req)?;
    let projection = projection_of(&req, kind);
    let base = ctx.base_url();
    let if_none_match = web_common::NoneMatch::of(&req);
    let outcome = ctx
        .read(move |tx, caller| {
            let projection = projection?;
            let record = repo::get(tx, kind, caller.team.id, &id)?;
            let etag = resource::etag(record.version);
            if if_none_match.matches(&etag) {
                return Ok((None, etag));
            }
            let out = present(tx, kind, caller, &base, &record, &projection)?;
            Ok((Some(out), etag))
        })
        .await?;
    Ok(match outcome {
        (Some(body), etag) => response::resource(StatusCode::OK, &body, &etag),
        (None, etag) => response::empty(StatusCode::NOT_MODIFIED, Some(&etag)),
    })
}

/// Replaces a user or group.
#[utoipa::path(put, path = "/scim/v2/{team}/{resource}/{id}", tag = "scim",
    params(
        crate::openapi::ItemPath,
        crate::openapi::Projection,
        ("If-Match" = Option<String>, Header, description = "the ETag to replace"),
    ),
    request_body(content = Object, content_type = "application/scim+json", description = "the whole User or Group"),
    security(("scim_token" = [])),
    responses(
        (status = 200, description = "replaced", body = Object,
            content_type = "application/scim+json"),
        (status = "default", description = "an error", body = crate::openapi::Error,
            content_type = "application/scim+json"),
    ))]
pub(crate) async fn replace(
    req: HttpRequest,
    payload: web::Payload,
) -> Result<HttpResponse, ApiError> {
    let kind = kind_of(&req)?;
    let id = id_of(&req);
    let ctx = Ctx::new(&req)?;
    let body = request::json_body(&req, payload, ctx.state().config.max_body_bytes).await;
    let projection = projection_of(&req, kind);
    let expected = request::if_match_version(&req);
    let base = ctx.base_url();
    let (body, etag) = ctx
        .write(
            ScimOp::Replace,
            kind,
            Some(id.clone()),
            move |tx, caller| {
                let projection = projection?;
                let expected = expected?;
                let input = resource::normalize(kind, &body?)?;
                let team = caller.team.id;
                let mut record = repo::replace(tx, kind, team, &id, input.data, expected)?;
                if kind == ResourceKind::Group {
                    let ids: Vec<String> = input.members.into_iter().map(|m| m.value).collect();
                    repo::set_members(tx, team, &id, &ids)?;
                    record = repo::get(tx, kind, team, &id)?;
                }
                repo::audit(
                    tx,
                    caller,
                    ScimOp::Replace,
                    kind,
                    &id,
                    200,
                    "replaced the whole resource",
                )?;
                let out = present(tx, kind, caller, &base, &record, &projection)?;
                Ok((out, resource::etag(record.version)))
            },
        )
        .await?;
    Ok(response::resource(StatusCode::OK, &body, &etag))
}

/// Changes a user or group (a PatchOp).
#[utoipa::path(patch, path = "/scim/v2/{team}/{resource}/{id}", tag = "scim",
    params(
        crate::openapi::ItemPath,
        crate::openapi::Projection,
        ("If-Match" = Option<String>, Header, description = "the ETag to change"),
    ),
    request_body(content = Object, content_type = "application/scim+json", description = "a PatchOp"),
    security(("scim_token" = [])),
    responses(
        (status = 200, description = "the changed resource", body = Object,
            content_type = "application/scim+json"),
        (status = 204, description = "changed (groups, unless attributes is asked for)"),
        (status = "default", description = "an error", body = crate::openapi::Error,
            content_type = "application/scim+json"),
    ))]
pub(crate) async fn patch(
    req: HttpRequest,
    payload: web::Payload,
) -> Result<HttpResponse, ApiError> {
    let kind = kind_of(&req)?;
    let id = id_of(&req);
    let ctx = Ctx::new(&req)?;
    let body = request::json_body(&req, payload, ctx.state().config.max_body_bytes).await;
    // RFC 7644 section 3.5.2: 204 unless the client asks for attributes. Entra expects 204
    // for groups and accepts 200 with the resource for users.
    let respond_with_body = kind == ResourceKind::User
        || Query::parse(&req).is_ok_and(|query| query.asks_for_attributes());
    let projection = projection_of(&req, kind);
    let expected = request::if_match_version(&req);
    let base = ctx.base_url();
    let (body, etag) = ctx
        .write(ScimOp::Patch, kind, Some(id.clone()), move |tx, caller| {
            let projection = projection?;
            let expected = expected?;
            let request = PatchRequest::parse(&body?)?;
            let team = caller.team.id;
            let (mut record, changed, members) =
                patch_data(tx, kind, team, &id, &request, expected)?;
            let stats = repo::apply_member_changes(tx, team, &id, &members)?;
            if stats.changed() && !changed {
                record = repo::touch(tx, kind, team, &id)?;
            }
            let summary = summary::patched(&request, &stats);
            let status = if respond_with_body { 200 } else { 204 };
            repo::audit(tx, caller, ScimOp::Patch, kind, &id, status, &summary)?;
            let out = if respond_with_body {
                Some(present(tx, kind, caller, &base, &record, &projection)?)
            } else {
                None
            };
            Ok((out, resource::etag(record.version)))
        })
        .await?;
    Ok(match body {
        Some(body) => response::resource(StatusCode::OK, &body, &etag),
        None => response::empty(StatusCode::NO_CONTENT, Some(&etag)),
    })
}

/// How often a PATCH without `If-Match` reads and applies again after a competing write.
const PATCH_ATTEMPTS: usize = 10;

/// Applies the attribute part of a PATCH to the stored resource. Returns the resource as
/// it now is, whether its data changed, and the member changes still to be made.
///
/// Between reading the resource and writing it back, another request may have changed it:
/// PostgreSQL write transactions are READ COMMITTED, so the version-checked write then
/// updates nothing. Without `If-Match` that is no reason to fail the client: read again
/// (a new statement sees the other commit) and apply again. With `If-Match`, the new read
/// fails the precondition. SQLite serialises writers, so there the first attempt wins.
fn patch_data(
    tx: &mut Tx<'_>,
    kind: ResourceKind,
    team: store::TeamId,
    id: &str,
    request: &PatchRequest,
    expected: Option<i64>,
) -> Result<(ResourceRecord, bool, Vec<patch::MemberChange>), ApiError> {
    for _ in 0..PATCH_ATTEMPTS {
        let record = repo::get(tx, kind, team, id)?;
        if let Some(v) = expected
            && v != record.version
        {
            return Err(store::StoreError::VersionMismatch {
                expected: v,
                current: record.version,
            }
            .into());
        }
        let mut data = record.data.clone();
        let outcome = patch::apply(kind, &mut data, request)?;
        if !outcome.data_changed {
            return Ok((record, false, outcome.members));
        }
        if let Some(updated) =
            repo::replace_unless_changed(tx, kind, team, id, data, record.version)?
        {
            return Ok((updated, true, outcome.members));
        }
    }
    Err(store::StoreError::Unavailable(format!(
        "{} {id} kept changing under {PATCH_ATTEMPTS} attempts to patch it",
        kind.name()
    ))
    .into())
}

/// Deletes a user or group.
#[utoipa::path(delete, path = "/scim/v2/{team}/{resource}/{id}", tag = "scim",
    params(
        crate::openapi::ItemPath,
        ("If-Match" = Option<String>, Header, description = "the ETag to delete"),
    ),
    security(("scim_token" = [])),
    responses(
        (status = 204, description = "deleted"),
        (status = "default", description = "an error", body = crate::openapi::Error,
            content_type = "application/scim+json"),
    ))]
pub(crate) async fn delete(req: HttpRequest) -> Result<HttpResponse, ApiError> {
    let kind = kind_of(&req)?;
    let id = id_of(&req);
    let ctx = Ctx::new(&req)?;
    let expected = request::if_match_version(&req);
    ctx.write(ScimOp::Delete, kind, Some(id.clone()), move |tx, caller| {
        let team = caller.team.id;
        if let Some(v) = expected? {
            let record = repo::get(tx, kind, team, &id)?;
            if v != record.version {
                return Err(store::StoreError::VersionMismatch {
                    expected: v,
                    current: record.version,
                }
                .into());
            }
        }
        if !repo::delete(tx, kind, team, &id)? {
            return Err(ApiError::NotFound(format!(
                "{} {id} not found",
                kind.name()
            )));
        }
        repo::audit(tx, caller, ScimOp::Delete, kind, &id, 204, "deleted")?;
        Ok(())
    })
    .await?;
    Ok(response::empty(StatusCode::NO_CONTENT, None))
}
