//! SCIM users and groups: the stored resource (JSON) with its indexed columns, versions,
//! and filtered, sorted, paged listing.

use diesel::prelude::*;
use serde_json::{Map, Value};
use time::OffsetDateTime;

use scim_core::ResourceKind;
use scim_core::filter::{AttrPath, Filter};

use crate::ca::CertKind;
use crate::connection::{DbConnection, MultiBackend};
use crate::error::StoreError;
use crate::filter_sql::{self, Sql};
use crate::indexed::{GroupColumns, UserColumns};
use crate::schema::{scim_group_members as m, scim_groups as g, scim_users as u};
use crate::teams::TeamId;
use crate::timestamps::{from_micros, now, to_micros};
use crate::tx::Tx;

/// Candidates checked in memory per database round trip when a filter is not fully
/// indexed.
const SCAN_BATCH: i64 = 500;

/// A stored user or group.
#[derive(Clone, Debug, PartialEq)]
pub struct ResourceRecord {
    /// The SCIM `id` (a UUID v4, lower case).
    pub id: String,
    /// 1 on creation, incremented by every write; the ETag.
    pub version: i64,
    /// When the resource was created.
    pub created: OffsetDateTime,
    /// When it last changed.
    pub last_modified: OffsetDateTime,
    /// The resource's attributes as the API stored them (canonical names), without `id`,
    /// `meta`, `schemas`, and without a group's `members` or a user's `groups`.
    pub data: Map<String, Value>,
}

/// One page of a listing.
#[derive(Clone, Debug, PartialEq)]
pub struct Page {
    /// Number of resources matching the filter (`totalResults`).
    pub total: u64,
    /// The resources of the requested page, in order.
    pub items: Vec<ResourceRecord>,
}

/// What to sort by.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SortKey {
    /// `id`.
    Id,
    /// `userName` (users only), case-insensitive.
    UserName,
    /// `displayName`, case-insensitive.
    DisplayName,
    /// `externalId`.
    ExternalId,
    /// `meta.created`.
    Created,
    /// `meta.lastModified`.
    LastModified,
}

impl SortKey {
    /// The key for a resolved attribute path (`sortBy`), if the store can sort by it.
    pub fn from_path(kind: ResourceKind, path: &AttrPath) -> Option<SortKey> {
        if path.urn.is_some() {
            return None;
        }
        Some(match (kind, path.name.as_str(), path.sub.as_deref()) {
            (_, "id", None) => SortKey::Id,
            (ResourceKind::User, "userName", None) => SortKey::UserName,
            (_, "displayName", None) => SortKey::DisplayName,
            (_, "externalId", None) => SortKey::ExternalId,
            (_, "meta", Some("created")) => SortKey::Created,
            (_, "meta", Some("lastModified")) => SortKey::LastModified,
            _ => return None,
        })
    }
}

/// A sort order. Resources without a value sort last when ascending, first when
/// descending; ties are broken by `id`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Sort {
    /// The attribute.
    pub key: SortKey,
    /// Descending instead of ascending.
    pub descending: bool,
}

/// A listing request.
#[derive(Clone, Debug)]
pub struct ListQuery<'a> {
    /// A filter resolved with `scim_core::filter::resolve` for the listed kind.
    pub filter: Option<&'a Filter>,
    /// 1-based index of the first result (values below 1 count as 1).
    pub start_index: u64,
    /// Maximum number of results (`Some(0)`: only the total); `None`: all.
    pub count: Option<u64>,
    /// Order; without one, resources come in creation order.
    pub sort: Option<Sort>,
}

impl Default for ListQuery<'_> {
    fn default() -> Self {
        ListQuery {
            filter: None,
            start_index: 1,
            count: None,
            sort: None,
        }
    }
}

/// Keys that are kept by the server, not in the stored data.
fn strip_server_keys(kind: ResourceKind, data: &mut Map<String, Value>) {
    for key in ["id", "meta", "schemas"] {
        data.remove(key);
    }
    data.remove(match kind {
        ResourceKind::User => "groups",
        ResourceKind::Group => "members",
    });
}

fn encode(data: &Map<String, Value>) -> Result<String, StoreError> {
    serde_json::to_string(data).map_err(|e| StoreError::Invalid(e.to_string()))
}

/// `(id, data, version, created_at, modified_at)`.
type Row = (String, String, i64, i64, i64);

fn record(row: Row) -> Result<ResourceRecord, StoreError> {
    let (id, data, version, created_at, modified_at) = row;
    let data = match serde_json::from_str(&data) {
        Ok(Value::Object(map)) => map,
        Ok(_) => {
            return Err(StoreError::Corrupt(format!(
                "resource {id}: data is not an object"
            )));
        }
        Err(e) => return Err(StoreError::Corrupt(format!("resource {id}: {e}"))),
    };
    Ok(ResourceRecord {
        id,
        version,
        created: from_micros(created_at)?,
        last_modified: from_micros(modified_at)?,
        data,
    })
}

/// A foreign-key failure on insert means the team does not exist.
fn team_missing(err: diesel::result::Error) -> StoreError {
    match err {
        diesel::result::Error::DatabaseError(
            diesel::result::DatabaseErrorKind::ForeignKeyViolation,
            _,
        ) => StoreError::NotFound,
        other => other.into(),
    }
}

#[derive(Insertable, AsChangeset)]
#[diesel(table_name = u, treat_none_as_null = true)]
struct UserValues<'a> {
    user_name: &'a str,
    user_name_lower: &'a str,
    external_id: Option<&'a str>,
    display_name: Option<&'a str>,
    display_name_lower: Option<&'a str>,
    active: Option<bool>,
    given_name_lower: Option<&'a str>,
    family_name_lower: Option<&'a str>,
    work_email_lower: Option<&'a str>,
    work_email_ambiguous: bool,
    data: &'a str,
    modified_at: i64,
}

impl<'a> UserValues<'a> {
    fn new(c: &'a UserColumns, data: &'a str, at: i64) -> Self {
        UserValues {
            user_name: &c.user_name,
            user_name_lower: &c.user_name_lower,
            external_id: c.external_id.as_deref(),
            display_name: c.display_name.as_deref(),
            display_name_lower: c.display_name_lower.as_deref(),
            active: c.active,
            given_name_lower: c.given_name_lower.as_deref(),
            family_name_lower: c.family_name_lower.as_deref(),
            work_email_lower: c.work_email_lower.as_deref(),
            work_email_ambiguous: c.work_email_ambiguous,
            data,
            modified_at: at,
        }
    }
}

#[derive(Insertable, AsChangeset)]
#[diesel(table_name = g, treat_none_as_null = true)]
struct GroupValues<'a> {
    display_name: &'a str,
    display_name_lower: &'a str,
    external_id: Option<&'a str>,
    data: &'a str,
    modified_at: i64,
}

impl<'a> GroupValues<'a> {
    fn new(c: &'a GroupColumns, data: &'a str, at: i64) -> Self {
        GroupValues {
            display_name: &c.display_name,
            display_name_lower: &c.display_name_lower,
            external_id: c.external_id.as_deref(),
            data,
            modified_at: at,
        }
    }
}

/// Adds `ORDER BY col` (nullable columns: absent values last when ascending).
macro_rules! order_by {
    ($q:expr, $col:expr, $desc:expr, nullable) => {
        if $desc {
            $q.then_order_by($col.is_null().desc())
                .then_order_by($col.desc())
        } else {
            $q.then_order_by($col.is_null().asc())
                .then_order_by($col.asc())
        }
    };
    ($q:expr, $col:expr, $desc:expr) => {
        if $desc {
            $q.then_order_by($col.desc())
        } else {
            $q.then_order_by($col.asc())
        }
    };
}

type UsersQuery = u::BoxedQuery<'static, MultiBackend>;
type GroupsQuery = g::BoxedQuery<'static, MultiBackend>;

fn order_users(q: UsersQuery, sort: Option<Sort>) -> Result<UsersQuery, StoreError> {
    let (key, desc) = sort.map_or((SortKey::Created, false), |s| (s.key, s.descending));
    let q = match key {
        SortKey::Id => q,
        SortKey::UserName => order_by!(q, u::user_name_lower, desc),
        SortKey::DisplayName => order_by!(q, u::display_name_lower, desc, nullable),
        SortKey::ExternalId => order_by!(q, u::external_id, desc, nullable),
        SortKey::Created => order_by!(q, u::created_at, desc),
        SortKey::LastModified => order_by!(q, u::modified_at, desc),
    };
    Ok(order_by!(q, u::id, desc))
}

fn order_groups(q: GroupsQuery, sort: Option<Sort>) -> Result<GroupsQuery, StoreError> {
    let (key, desc) = sort.map_or((SortKey::Created, false), |s| (s.key, s.descending));
    let q = match key {
        SortKey::Id => q,
        SortKey::UserName => {
            return Err(StoreError::Invalid(
                "groups have no userName to sort by".into(),
            ));
        }
        SortKey::DisplayName => order_by!(q, g::display_name_lower, desc),
        SortKey::ExternalId => order_by!(q, g::external_id, desc, nullable),
        SortKey::Created => order_by!(q, g::created_at, desc),
        SortKey::LastModified => order_by!(q, g::modified_at, desc),
    };
    Ok(order_by!(q, g::id, desc))
}

/// The queries that differ between the users and the groups table only by name.
macro_rules! table_queries {
    (
        $module:ident, $t:ident, $columns:ident, $values:ident, $predicate:path, $order:path,
        $unique_lower:ident
    ) => {
        pub(crate) mod $module {
            use super::*;

            /// The columns of a [`Row`].
            macro_rules! row_columns {
                () => {
                    (
                        $t::id,
                        $t::data,
                        $t::version,
                        $t::created_at,
                        $t::modified_at,
                    )
                };
            }

            /// The resource whose unique name (`userName`, or a group's `displayName`)
            /// folds to `folded`.
            pub(crate) fn get_by_name(
                conn: &mut DbConnection,
                team: i64,
                folded: &str,
            ) -> Result<Option<Row>, StoreError> {
                Ok($t::table
                    .filter($t::team_id.eq(team))
                    .filter($t::$unique_lower.eq(folded))
                    .select(row_columns!())
                    .first(conn)
                    .optional()?)
            }

            /// Inserts a new resource at version 1.
            pub(crate) fn insert(
                conn: &mut DbConnection,
                team: i64,
                id: &str,
                data: &Map<String, Value>,
                json: &str,
                at: i64,
            ) -> Result<(), StoreError> {
                let columns = $columns::extract(data)?;
                diesel::insert_into($t::table)
                    .values((
                        $t::team_id.eq(team),
                        $t::id.eq(id),
                        $t::version.eq(1),
                        $t::created_at.eq(at),
                        $values::new(&columns, json, at),
                    ))
                    .execute(conn)
                    .map_err(team_missing)?;
                Ok(())
            }

            /// Writes new data and increments the version (guarded by `expected`);
            /// returns the new version and the creation time.
            pub(crate) fn replace(
                conn: &mut DbConnection,
                team: i64,
                id: &str,
                data: &Map<String, Value>,
                json: &str,
                at: i64,
                expected: Option<i64>,
            ) -> Result<(i64, i64), StoreError> {
                let columns = $columns::extract(data)?;
                let values = $values::new(&columns, json, at);
                let target = $t::table.filter($t::team_id.eq(team)).filter($t::id.eq(id));
                let bump = $t::version.eq($t::version + 1);
                let n = match expected {
                    Some(v) => diesel::update(target.filter($t::version.eq(v)))
                        .set((values, bump))
                        .execute(conn)?,
                    None => diesel::update(target).set((values, bump)).execute(conn)?,
                };
                if n == 0 {
                    return Err(update_failed(conn, team, id, expected));
                }
                Ok($t::table
                    .filter($t::team_id.eq(team))
                    .filter($t::id.eq(id))
                    .select(($t::version, $t::created_at))
                    .first(conn)?)
            }

            pub(crate) fn get(
                conn: &mut DbConnection,
                team: i64,
                id: &str,
            ) -> Result<Option<Row>, StoreError> {
                Ok($t::table
                    .filter($t::team_id.eq(team))
                    .filter($t::id.eq(id))
                    .select(row_columns!())
                    .first(conn)
                    .optional()?)
            }

            pub(crate) fn version(
                conn: &mut DbConnection,
                team: i64,
                id: &str,
            ) -> Result<Option<i64>, StoreError> {
                Ok($t::table
                    .filter($t::team_id.eq(team))
                    .filter($t::id.eq(id))
                    .select($t::version)
                    .first(conn)
                    .optional()?)
            }

            /// `NotFound` or `VersionMismatch` after a guarded update changed no row.
            pub(crate) fn update_failed(
                conn: &mut DbConnection,
                team: i64,
                id: &str,
                expected: Option<i64>,
            ) -> StoreError {
                match (version(conn, team, id), expected) {
                    (Ok(Some(current)), Some(expected)) => {
                        StoreError::VersionMismatch { expected, current }
                    }
                    (Ok(_), _) => StoreError::NotFound,
                    (Err(e), _) => e,
                }
            }

            /// Increments the version and sets `modified_at`; returns the new version.
            pub(crate) fn touch(
                conn: &mut DbConnection,
                team: i64,
                id: &str,
                expected: Option<i64>,
                at: i64,
            ) -> Result<i64, StoreError> {
                let target = $t::table.filter($t::team_id.eq(team)).filter($t::id.eq(id));
                let set = ($t::version.eq($t::version + 1), $t::modified_at.eq(at));
                let n = match expected {
                    Some(v) => diesel::update(target.filter($t::version.eq(v)))
                        .set(set)
                        .execute(conn)?,
                    None => diesel::update(target).set(set).execute(conn)?,
                };
                if n == 0 {
                    return Err(update_failed(conn, team, id, expected));
                }
                version(conn, team, id)?.ok_or(StoreError::NotFound)
            }

            /// Deletes the resource; false if it did not exist.
            pub(crate) fn delete(
                conn: &mut DbConnection,
                team: i64,
                id: &str,
            ) -> Result<bool, StoreError> {
                let n =
                    diesel::delete($t::table.filter($t::team_id.eq(team)).filter($t::id.eq(id)))
                        .execute(conn)?;
                Ok(n > 0)
            }

            pub(crate) fn count(
                conn: &mut DbConnection,
                team: i64,
                sql: &Sql,
            ) -> Result<u64, StoreError> {
                let n: i64 = $t::table
                    .filter($t::team_id.eq(team))
                    .filter($predicate(sql, team))
                    .count()
                    .get_result(conn)?;
                Ok(u64::try_from(n).unwrap_or(0))
            }

            pub(crate) fn page(
                conn: &mut DbConnection,
                team: i64,
                sql: &Sql,
                sort: Option<Sort>,
                offset: i64,
                limit: i64,
            ) -> Result<Vec<Row>, StoreError> {
                let query = $t::table
                    .filter($t::team_id.eq(team))
                    .filter($predicate(sql, team))
                    .into_boxed();
                let query = $order(query, sort)?
                    .select(row_columns!())
                    .offset(offset)
                    .limit(limit);
                Ok(query.load(conn)?)
            }
        }
    };
}

table_queries!(
    user_rows,
    u,
    UserColumns,
    UserValues,
    filter_sql::users_predicate,
    order_users,
    user_name_lower
);
table_queries!(
    group_rows,
    g,
    GroupColumns,
    GroupValues,
    filter_sql::groups_predicate,
    order_groups,
    display_name_lower
);

/// Runs `$call` with `$rows` naming the table-query module of `$kind`: `user_rows` for
/// users, `group_rows` for groups.
macro_rules! on_table {
    ($kind:expr, |$rows:ident| $call:expr) => {
        match $kind {
            ResourceKind::User => {
                use user_rows as $rows;
                $call
            }
            ResourceKind::Group => {
                use group_rows as $rows;
                $call
            }
        }
    };
}

/// Per-kind dispatch of the table queries.
fn get_row(
    conn: &mut DbConnection,
    kind: ResourceKind,
    team: i64,
    id: &str,
) -> Result<Option<Row>, StoreError> {
    on_table!(kind, |rows| rows::get(conn, team, id))
}

pub(crate) fn touch(
    tx: &mut Tx<'_>,
    team: TeamId,
    kind: ResourceKind,
    id: &str,
    expected: Option<i64>,
) -> Result<i64, StoreError> {
    tx.changed(team)?;
    let at = to_micros(now());
    on_table!(kind, |rows| rows::touch(tx.conn, team.0, id, expected, at))
}

/// The full resource as the in-memory evaluator expects it.
fn eval_json(
    kind: ResourceKind,
    record: &ResourceRecord,
    links: Option<&[(String, String)]>,
) -> Value {
    let mut object = record.data.clone();
    object.insert("id".into(), Value::String(record.id.clone()));
    let mut meta = Map::new();
    meta.insert("resourceType".into(), Value::String(kind.name().into()));
    meta.insert(
        "created".into(),
        Value::String(scim_core::datetime::format(record.created)),
    );
    meta.insert(
        "lastModified".into(),
        Value::String(scim_core::datetime::format(record.last_modified)),
    );
    meta.insert(
        "version".into(),
        Value::String(scim_core::resource::etag(record.version)),
    );
    object.insert("meta".into(), Value::Object(meta));
    if let Some(links) = links {
        let (name, ty) = match kind {
            ResourceKind::Group => ("members", "User"),
            ResourceKind::User => ("groups", "direct"),
        };
        let items = links
            .iter()
            .map(|(value, display)| {
                let mut item = Map::new();
                item.insert("value".into(), Value::String(value.clone()));
                item.insert("display".into(), Value::String(display.clone()));
                item.insert("type".into(), Value::String(ty.into()));
                Value::Object(item)
            })
            .collect();
        object.insert(name.into(), Value::Array(items));
    }
    Value::Object(object)
}

fn list(
    tx: &mut Tx<'_>,
    kind: ResourceKind,
    team: TeamId,
    query: &ListQuery<'_>,
) -> Result<Page, StoreError> {
    let skip = query.start_index.max(1) - 1;
    let count = query.count;
    let plan = match query.filter {
        Some(filter) => filter_sql::plan(filter, kind, tx.backend()),
        None => filter_sql::Plan {
            sql: Sql::True,
            exact: true,
        },
    };
    let conn = &mut *tx.conn;
    let page_rows = |conn: &mut DbConnection, offset: i64, limit: i64| {
        on_table!(kind, |rows| rows::page(
            conn, team.0, &plan.sql, query.sort, offset, limit
        ))
    };
    if plan.exact {
        let count_rows =
            |conn: &mut DbConnection| on_table!(kind, |rows| rows::count(conn, team.0, &plan.sql));
        let limit = count.unwrap_or(u64::MAX);
        if limit == 0 {
            return Ok(Page {
                total: count_rows(conn)?,
                items: Vec::new(),
            });
        }
        let items: Vec<ResourceRecord> = page_rows(conn, to_i64(skip), to_i64(limit))?
            .into_iter()
            .map(record)
            .collect::<Result<_, _>>()?;
        // A first page that is not full holds every match: no COUNT needed. This is the
        // common case of Entra's match queries (zero or one hit).
        let total = if skip == 0 && (items.len() as u64) < limit {
            items.len() as u64
        } else {
            count_rows(conn)?
        };
        return Ok(Page { total, items });
    }
    // Partly indexed: walk the pre-filtered candidates in order, in bounded batches.
    let filter = query.filter.ok_or(StoreError::NotFound)?;
    let link_name = match kind {
        ResourceKind::Group => "members",
        ResourceKind::User => "groups",
    };
    let with_links = filter_sql::mentions(filter, link_name);
    let mut total = 0u64;
    let mut items = Vec::new();
    let mut offset = 0i64;
    loop {
        let rows = page_rows(conn, offset, SCAN_BATCH)?;
        let fetched = rows.len();
        let records = rows
            .into_iter()
            .map(record)
            .collect::<Result<Vec<_>, _>>()?;
        let links = if with_links {
            let ids: Vec<&str> = records.iter().map(|r| r.id.as_str()).collect();
            Some(crate::members::links_of(conn, kind, team, &ids)?)
        } else {
            None
        };
        for record in records {
            let own = links
                .as_ref()
                .map(|l| l.get(&record.id).map_or(&[][..], Vec::as_slice));
            if scim_core::filter::matches(filter, &eval_json(kind, &record, own), kind) {
                if total >= skip && count.is_none_or(|c| (items.len() as u64) < c) {
                    items.push(record);
                }
                total += 1;
            }
        }
        if fetched < usize::try_from(SCAN_BATCH).unwrap_or(usize::MAX) {
            break;
        }
        offset += SCAN_BATCH;
    }
    Ok(Page { total, items })
}

fn to_i64(n: u64) -> i64 {
    i64::try_from(n).unwrap_or(i64::MAX)
}

/// The operations users and groups have in common, inside a transaction; from
/// [`Tx::resources`], and through [`Users`] and [`Groups`].
pub struct Resources<'t, 'c> {
    pub(crate) tx: &'t mut Tx<'c>,
    kind: ResourceKind,
}

impl<'t, 'c> Resources<'t, 'c> {
    pub(crate) fn new(tx: &'t mut Tx<'c>, kind: ResourceKind) -> Self {
        Resources { tx, kind }
    }

    /// Stores a new resource and returns it with its generated `id` and version 1.
    ///
    /// `data` holds canonical attributes; `id`, `meta`, `schemas` and a user's `groups` or
    /// a group's `members` are dropped (members are rows: see [`Groups::add_members`]).
    /// A user needs a `userName`, a group a `displayName`, unique in the team ignoring
    /// case ([`StoreError::Conflict`]).
    pub fn insert(
        &mut self,
        team: TeamId,
        mut data: Map<String, Value>,
    ) -> Result<ResourceRecord, StoreError> {
        self.tx.changed(team)?;
        strip_server_keys(self.kind, &mut data);
        let json = encode(&data)?;
        let at = now();
        let id = uuid::Uuid::new_v4().to_string();
        let conn = &mut *self.tx.conn;
        let at_micros = to_micros(at);
        on_table!(self.kind, |rows| rows::insert(
            conn, team.0, &id, &data, &json, at_micros
        ))?;
        Ok(ResourceRecord {
            id,
            version: 1,
            created: at,
            last_modified: at,
            data,
        })
    }

    /// The resource with this id in `team`, if any. Never reads the member table.
    pub fn get(&mut self, team: TeamId, id: &str) -> Result<Option<ResourceRecord>, StoreError> {
        get_row(self.tx.conn, self.kind, team.0, id)?
            .map(record)
            .transpose()
    }

    /// Replaces the resource's data (PUT), leaving a group's members alone. With
    /// `expected_version`, fails with [`StoreError::VersionMismatch`] unless that is the
    /// stored version (`If-Match`).
    pub fn replace(
        &mut self,
        team: TeamId,
        id: &str,
        mut data: Map<String, Value>,
        expected_version: Option<i64>,
    ) -> Result<ResourceRecord, StoreError> {
        self.tx.changed(team)?;
        strip_server_keys(self.kind, &mut data);
        let json = encode(&data)?;
        let at = now();
        let conn = &mut *self.tx.conn;
        let at_micros = to_micros(at);
        let (version, created_at) = on_table!(self.kind, |rows| rows::replace(
            conn,
            team.0,
            id,
            &data,
            &json,
            at_micros,
            expected_version
        ))?;
        if self.kind == ResourceKind::User
            && data.get("active").and_then(Value::as_bool) == Some(false)
        {
            self.tx
                .certificates()
                .revoke_subject(team, CertKind::User, id, "user disabled")?;
            self.tx.sessions().end_user(team, id)?;
        }
        Ok(ResourceRecord {
            id: id.to_owned(),
            version,
            created: from_micros(created_at)?,
            last_modified: at,
            data,
        })
    }

    /// Deletes the resource and its membership rows (the groups a deleted user leaves get
    /// a new version). Returns false if there was no such resource.
    pub fn delete(&mut self, team: TeamId, id: &str) -> Result<bool, StoreError> {
        self.tx.changed(team)?;
        match self.kind {
            ResourceKind::User => {
                let deleted = delete_user(self.tx.conn, team.0, id)?;
                self.tx
                    .certificates()
                    .revoke_subject(team, CertKind::User, id, "user deleted")?;
                self.tx.sessions().end_user(team, id)?;
                Ok(deleted)
            }
            ResourceKind::Group => {
                diesel::delete(
                    m::table
                        .filter(m::team_id.eq(team.0))
                        .filter(m::group_id.eq(id)),
                )
                .execute(self.tx.conn)?;
                self.tx.review_certificates(team, None)?;
                group_rows::delete(self.tx.conn, team.0, id)
            }
        }
    }

    /// Lists the team's resources matching `query.filter`, sorted and paged. Reads the
    /// member table only for filters on `groups` or `members`.
    pub fn list(&mut self, team: TeamId, query: &ListQuery<'_>) -> Result<Page, StoreError> {
        list(self.tx, self.kind, team, query)
    }

    /// Increments the resource's version (see [`Tx::touch`]).
    pub fn touch(
        &mut self,
        team: TeamId,
        id: &str,
        expected_version: Option<i64>,
    ) -> Result<i64, StoreError> {
        touch(self.tx, team, self.kind, id, expected_version)
    }
}

fn delete_user(conn: &mut DbConnection, team: i64, id: &str) -> Result<bool, StoreError> {
    let memberships = m::table
        .filter(m::team_id.eq(team))
        .filter(m::member_id.eq(id));
    let groups: Vec<String> = memberships.select(m::group_id).load(conn)?;
    diesel::delete(memberships).execute(conn)?;
    if !user_rows::delete(conn, team, id)? {
        return Ok(false);
    }
    let at = to_micros(now());
    for chunk in groups.chunks(crate::members::CHUNK) {
        diesel::update(
            g::table
                .filter(g::team_id.eq(team))
                .filter(g::id.eq_any(chunk)),
        )
        .set((g::version.eq(g::version + 1), g::modified_at.eq(at)))
        .execute(conn)?;
    }
    Ok(true)
}

/// Declares a handle for one resource kind: the [`Resources`] operations (through
/// `Deref`) plus the kind's own methods.
macro_rules! kind_handle {
    ($(#[$doc:meta])* $name:ident) => {
        $(#[$doc])*
        pub struct $name<'t, 'c>(pub(crate) Resources<'t, 'c>);

        impl<'t, 'c> std::ops::Deref for $name<'t, 'c> {
            type Target = Resources<'t, 'c>;
            fn deref(&self) -> &Self::Target {
                &self.0
            }
        }

        impl std::ops::DerefMut for $name<'_, '_> {
            fn deref_mut(&mut self) -> &mut Self::Target {
                &mut self.0
            }
        }
    };
}

kind_handle!(
    /// User operations inside a transaction; from [`Tx::users`].
    Users
);
kind_handle!(
    /// Group operations inside a transaction; from [`Tx::groups`]. Membership operations
    /// are documented in the `members` part of this type.
    Groups
);

impl Users<'_, '_> {
    /// The user whose `userName` equals `user_name` ignoring case, if any.
    pub fn get_by_user_name(
        &mut self,
        team: TeamId,
        user_name: &str,
    ) -> Result<Option<ResourceRecord>, StoreError> {
        user_rows::get_by_name(self.tx.conn, team.0, &crate::indexed::fold(user_name))?
            .map(record)
            .transpose()
    }
}

impl Groups<'_, '_> {
    /// The group whose `displayName` equals `display_name` ignoring case, if any (display
    /// names are unique per team, ignoring case).
    pub fn get_by_display_name(
        &mut self,
        team: TeamId,
        display_name: &str,
    ) -> Result<Option<ResourceRecord>, StoreError> {
        group_rows::get_by_name(self.tx.conn, team.0, &crate::indexed::fold(display_name))?
            .map(record)
            .transpose()
    }
}
