//! Translation of resolved SCIM filters (`scim_core::filter`) to SQL over indexed columns.
//!
//! # What is indexed
//!
//! Users (`scim_users`), per team:
//!
//! | attribute | column | operators answered in SQL |
//! | --- | --- | --- |
//! | `id` | `id` | `eq ne sw gt ge lt le pr`; `co ew` (exact on PostgreSQL, pre-filter on SQLite) |
//! | `userName` | `user_name_lower` (unique) | all, case-insensitive |
//! | `externalId` | `external_id` | as `id` (case-exact) |
//! | `displayName` | `display_name_lower` | all, case-insensitive |
//! | `name.givenName`, `name.familyName` | `given_name_lower`, `family_name_lower` | all, case-insensitive |
//! | `active` | `active` | `eq ne pr` |
//! | `emails[type eq "work" and value OP "x"]` (also Entra's `emails[type eq "work"].value OP "x"`) | `work_email_lower` | `eq sw co ew` as an indexed pre-filter, confirmed in memory |
//! | `groups.value`, `groups[value eq "id" or ...]` | membership table | `eq ne pr` |
//!
//! Groups (`scim_groups`): `id`, `externalId` and `displayName` (unique, case-insensitive)
//! as above, and `members.value` / `members[value eq "id" or ...]` (`eq ne pr`) through the
//! membership table's index.
//!
//! `and`, `or` and `not` of answerable parts stay in SQL. Any other part of a filter
//! (extension attributes, `meta`, `emails.value`, `title`, ...) is replaced by `TRUE` in
//! an SQL pre-filter, and the candidates it selects are checked with
//! `scim_core::filter::matches` in bounded pages; a `not` over such a part pre-filters
//! nothing. Case-insensitive attributes are stored lower-cased (Rust's `to_lowercase`, as
//! the evaluator does); PostgreSQL columns use the `C` collation so that ordering and
//! `LIKE` agree with SQLite and with Rust's string ordering.

use diesel::dsl;
use diesel::prelude::*;
use diesel::sql_types::Bool;
use scim_core::ResourceKind;
use scim_core::filter::{AttrPath, CompValue, CompareOp, Filter};

use crate::config::Backend;
use crate::connection::MultiBackend;
use crate::indexed::fold;
use crate::schema::{scim_group_members as m, scim_groups as g, scim_users as u};

/// How a filter is answered.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Coverage {
    /// Entirely in SQL over indexed columns.
    Indexed,
    /// An indexed SQL pre-filter selects candidates, which are checked in memory.
    Prefiltered,
    /// Every resource of the team is checked in memory (in bounded pages).
    Scan,
}

/// Tells how the store answers `filter` (already resolved for `kind`) on `backend`.
pub fn coverage(filter: &Filter, kind: ResourceKind, backend: Backend) -> Coverage {
    let plan = plan(filter, kind, backend);
    if plan.exact {
        Coverage::Indexed
    } else if plan.sql == Sql::True {
        Coverage::Scan
    } else {
        Coverage::Prefiltered
    }
}

/// A text column usable in filters.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum TextCol {
    Id,
    UserNameLower,
    ExternalId,
    DisplayNameLower,
    GivenNameLower,
    FamilyNameLower,
    WorkEmailLower,
}

/// A comparison of a text column with a bound value.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum TextCmp {
    Eq(String),
    Gt(String),
    Ge(String),
    Lt(String),
    Le(String),
    /// `LIKE pattern ESCAPE '\'`, the pattern already escaped.
    Like(String),
    /// Non-empty.
    Present,
}

/// A backend-neutral SQL predicate. Every leaf is two-valued (never NULL), so `NOT`
/// behaves as in the in-memory evaluator.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum Sql {
    True,
    False,
    And(Box<Sql>, Box<Sql>),
    Or(Box<Sql>, Box<Sql>),
    Not(Box<Sql>),
    /// `col IS NOT NULL AND col <cmp>`.
    Text(TextCol, TextCmp),
    /// `active IS NOT NULL AND active = b`.
    Active(bool),
    /// `active IS NOT NULL`.
    ActivePresent,
    /// The user has more than one work email.
    WorkEmailAmbiguous,
    /// Groups: has a member (with this id).
    HasMember(Option<String>),
    /// Users: is a member of a group (with this id).
    InGroup(Option<String>),
}

impl Sql {
    fn and(a: Sql, b: Sql) -> Sql {
        match (a, b) {
            (Sql::True, x) | (x, Sql::True) => x,
            (Sql::False, _) | (_, Sql::False) => Sql::False,
            (a, b) => Sql::And(Box::new(a), Box::new(b)),
        }
    }

    fn or(a: Sql, b: Sql) -> Sql {
        match (a, b) {
            (Sql::True, _) | (_, Sql::True) => Sql::True,
            (Sql::False, x) | (x, Sql::False) => x,
            (a, b) => Sql::Or(Box::new(a), Box::new(b)),
        }
    }

    fn not(a: Sql) -> Sql {
        match a {
            Sql::True => Sql::False,
            Sql::False => Sql::True,
            Sql::Not(inner) => *inner,
            a => Sql::Not(Box::new(a)),
        }
    }
}

/// The SQL side of a filter: `sql` selects exactly the matches when `exact`, otherwise a
/// superset that must be checked in memory.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Plan {
    pub(crate) sql: Sql,
    pub(crate) exact: bool,
}

impl Plan {
    fn exact(sql: Sql) -> Plan {
        Plan { sql, exact: true }
    }

    fn superset(sql: Sql) -> Plan {
        Plan { sql, exact: false }
    }

    fn unknown() -> Plan {
        Plan::superset(Sql::True)
    }
}

/// Plans a resolved filter.
pub(crate) fn plan(filter: &Filter, kind: ResourceKind, backend: Backend) -> Plan {
    match filter {
        Filter::And(a, b) => {
            let (a, b) = (plan(a, kind, backend), plan(b, kind, backend));
            Plan {
                sql: Sql::and(a.sql, b.sql),
                exact: a.exact && b.exact,
            }
        }
        Filter::Or(a, b) => {
            let (a, b) = (plan(a, kind, backend), plan(b, kind, backend));
            Plan {
                sql: Sql::or(a.sql, b.sql),
                exact: a.exact && b.exact,
            }
        }
        Filter::Not(inner) => {
            let inner = plan(inner, kind, backend);
            if inner.exact {
                Plan::exact(Sql::not(inner.sql))
            } else {
                Plan::unknown()
            }
        }
        Filter::Compare { path, op, value } => {
            compare(path, *op, value, kind, backend).unwrap_or_else(Plan::unknown)
        }
        Filter::Present(path) => present(path, kind).unwrap_or_else(Plan::unknown),
        Filter::ValuePath { attr, filter } => {
            value_path(attr, filter, kind).unwrap_or_else(Plan::unknown)
        }
    }
}

/// The column of a simple text attribute and whether it is case-exact.
fn text_column(path: &AttrPath, kind: ResourceKind) -> Option<(TextCol, bool)> {
    if path.urn.is_some() {
        return None;
    }
    let col = match (kind, path.name.as_str(), path.sub.as_deref()) {
        (_, "id", None) => (TextCol::Id, true),
        (_, "externalId", None) => (TextCol::ExternalId, true),
        (_, "displayName", None) => (TextCol::DisplayNameLower, false),
        (ResourceKind::User, "userName", None) => (TextCol::UserNameLower, false),
        (ResourceKind::User, "name", Some("givenName")) => (TextCol::GivenNameLower, false),
        (ResourceKind::User, "name", Some("familyName")) => (TextCol::FamilyNameLower, false),
        _ => return None,
    };
    Some(col)
}

/// True for `name` (no URN, no sub-attribute) or `name.value`.
fn is_link_value(path: &AttrPath, name: &str) -> bool {
    path.urn.is_none() && path.name == name && path.sub.as_deref().is_none_or(|s| s == "value")
}

fn compare(
    path: &AttrPath,
    op: CompareOp,
    value: &CompValue,
    kind: ResourceKind,
    backend: Backend,
) -> Option<Plan> {
    if *value == CompValue::Null {
        // `eq null` is "not present" in the evaluator, `ne null` is "present".
        let present = present(path, kind).filter(|p| p.exact)?;
        return match op {
            CompareOp::Eq => Some(Plan::exact(Sql::not(present.sql))),
            CompareOp::Ne => Some(present),
            _ => None,
        };
    }
    if let Some((col, case_exact)) = text_column(path, kind) {
        let CompValue::String(s) = value else {
            return None;
        };
        let v = if case_exact { s.clone() } else { fold(s) };
        let like = |pattern: String| {
            let sql = Sql::Text(col, TextCmp::Like(pattern));
            // SQLite's LIKE ignores ASCII case: exact only on folded columns.
            if case_exact && backend == Backend::Sqlite {
                Plan::superset(sql)
            } else {
                Plan::exact(sql)
            }
        };
        return Some(match op {
            CompareOp::Eq => Plan::exact(Sql::Text(col, TextCmp::Eq(v))),
            CompareOp::Ne => Plan::exact(Sql::not(Sql::Text(col, TextCmp::Eq(v)))),
            CompareOp::Gt => Plan::exact(Sql::Text(col, TextCmp::Gt(v))),
            CompareOp::Ge => Plan::exact(Sql::Text(col, TextCmp::Ge(v))),
            CompareOp::Lt => Plan::exact(Sql::Text(col, TextCmp::Lt(v))),
            CompareOp::Le => Plan::exact(Sql::Text(col, TextCmp::Le(v))),
            CompareOp::Sw => Plan::exact(prefix_range(col, v)),
            CompareOp::Ew => like(format!("%{}", escape_like(&v))),
            CompareOp::Co => like(format!("%{}%", escape_like(&v))),
        });
    }
    if kind == ResourceKind::User
        && path.urn.is_none()
        && path.name == "active"
        && path.sub.is_none()
    {
        let CompValue::Bool(b) = value else {
            return None;
        };
        return Some(Plan::exact(match op {
            CompareOp::Eq => Sql::Active(*b),
            CompareOp::Ne => Sql::not(Sql::Active(*b)),
            _ => Sql::False,
        }));
    }
    let link = link_leaf(kind, path, value)?;
    match op {
        CompareOp::Eq => Some(Plan::exact(link)),
        CompareOp::Ne => Some(Plan::exact(Sql::not(link))),
        _ => None,
    }
}

/// `members.value eq "id"` (groups) or `groups.value eq "id"` (users, case-insensitive).
fn link_leaf(kind: ResourceKind, path: &AttrPath, value: &CompValue) -> Option<Sql> {
    let CompValue::String(s) = value else {
        return None;
    };
    match kind {
        ResourceKind::Group if is_link_value(path, "members") => {
            Some(Sql::HasMember(Some(s.clone())))
        }
        // groups.value is case-insensitive; group ids are stored in lower case.
        ResourceKind::User if is_link_value(path, "groups") => Some(Sql::InGroup(Some(fold(s)))),
        _ => None,
    }
}

fn present(path: &AttrPath, kind: ResourceKind) -> Option<Plan> {
    if let Some((col, _)) = text_column(path, kind) {
        return Some(Plan::exact(Sql::Text(col, TextCmp::Present)));
    }
    if path.urn.is_some() {
        return None;
    }
    match (kind, path.name.as_str(), path.sub.as_deref()) {
        (ResourceKind::User, "active", None) => Some(Plan::exact(Sql::ActivePresent)),
        (ResourceKind::Group, "members", None | Some("value")) => {
            Some(Plan::exact(Sql::HasMember(None)))
        }
        (ResourceKind::User, "groups", None | Some("value")) => {
            Some(Plan::exact(Sql::InGroup(None)))
        }
        _ => None,
    }
}

/// Splits a tree of `and`s into its operands.
fn conjuncts(filter: &Filter) -> Vec<&Filter> {
    match filter {
        Filter::And(a, b) => {
            let mut out = conjuncts(a);
            out.extend(conjuncts(b));
            out
        }
        other => vec![other],
    }
}

/// Splits a tree of `or`s into its operands.
fn disjuncts(filter: &Filter) -> Vec<&Filter> {
    match filter {
        Filter::Or(a, b) => {
            let mut out = disjuncts(a);
            out.extend(disjuncts(b));
            out
        }
        other => vec![other],
    }
}

fn value_path(attr: &AttrPath, inner: &Filter, kind: ResourceKind) -> Option<Plan> {
    if attr.urn.is_some() || attr.sub.is_some() {
        return None;
    }
    match (kind, attr.name.as_str()) {
        (ResourceKind::User, "emails") => work_email(inner),
        (ResourceKind::Group, "members") | (ResourceKind::User, "groups") => {
            // attr[value eq a or value eq b]: some element has value a, or some has b.
            let mut sql = Sql::False;
            for part in disjuncts(inner) {
                let Filter::Compare {
                    path,
                    op: CompareOp::Eq,
                    value,
                } = part
                else {
                    return None;
                };
                if path.name != "value" || path.sub.is_some() {
                    return None;
                }
                let link = AttrPath::sub(attr.name.clone(), "value");
                sql = Sql::or(sql, link_leaf(kind, &link, value)?);
            }
            Some(Plan::exact(sql))
        }
        _ => None,
    }
}

/// `emails[type eq "work" and value OP "x" ...]`: a pre-filter on the first work email,
/// widened to users with several work emails; the evaluator confirms each candidate.
fn work_email(inner: &Filter) -> Option<Plan> {
    let mut typed_work = false;
    let mut sql = Sql::True;
    for part in conjuncts(inner) {
        let Filter::Compare { path, op, value } = part else {
            continue;
        };
        let CompValue::String(s) = value else {
            continue;
        };
        if path.sub.is_some() {
            continue;
        }
        let v = fold(s);
        match (path.name.as_str(), op) {
            ("type", CompareOp::Eq) if v == "work" => typed_work = true,
            ("value", CompareOp::Eq) => sql = Sql::and(sql, work_text(TextCmp::Eq(v))),
            ("value", CompareOp::Sw) => {
                sql = Sql::and(sql, prefix_range(TextCol::WorkEmailLower, v));
            }
            ("value", CompareOp::Ew) => {
                sql = Sql::and(
                    sql,
                    work_text(TextCmp::Like(format!("%{}", escape_like(&v)))),
                );
            }
            ("value", CompareOp::Co) => {
                sql = Sql::and(
                    sql,
                    work_text(TextCmp::Like(format!("%{}%", escape_like(&v)))),
                );
            }
            _ => {}
        }
    }
    if !typed_work || sql == Sql::True {
        return None;
    }
    Some(Plan::superset(Sql::or(sql, Sql::WorkEmailAmbiguous)))
}

fn work_text(cmp: TextCmp) -> Sql {
    Sql::Text(TextCol::WorkEmailLower, cmp)
}

/// `col sw prefix` as a range, `prefix <= col < successor(prefix)`, which a B-tree index
/// answers on both backends (byte-wise collations make it exact; `LIKE` with a bound
/// pattern could not use the index).
fn prefix_range(col: TextCol, prefix: String) -> Sql {
    match successor(&prefix) {
        Some(upper) => Sql::and(
            Sql::Text(col, TextCmp::Ge(prefix)),
            Sql::Text(col, TextCmp::Lt(upper)),
        ),
        None => Sql::Text(col, TextCmp::Ge(prefix)),
    }
}

/// The smallest string greater than every string that starts with `prefix`, in code point
/// (= UTF-8 byte) order; `None` when there is none (empty, or only `char::MAX`).
fn successor(prefix: &str) -> Option<String> {
    let mut chars: Vec<char> = prefix.chars().collect();
    while let Some(last) = chars.pop() {
        let next = match u32::from(last) + 1 {
            0xD800 => Some('\u{E000}'),
            n => char::from_u32(n),
        };
        if let Some(next) = next {
            chars.push(next);
            return Some(chars.into_iter().collect());
        }
    }
    None
}

/// Escapes `%`, `_` and `\` for `LIKE ... ESCAPE '\'`.
pub(crate) fn escape_like(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    for c in s.chars() {
        if matches!(c, '%' | '_' | '\\') {
            out.push('\\');
        }
        out.push(c);
    }
    out
}

/// True if any attribute path in `filter` names `name` (e.g. `members`), which then must
/// be part of the JSON given to the in-memory evaluator.
pub(crate) fn mentions(filter: &Filter, name: &str) -> bool {
    match filter {
        Filter::Compare { path, .. } | Filter::Present(path) => {
            path.urn.is_none() && path.name == name
        }
        Filter::ValuePath { attr, .. } => attr.urn.is_none() && attr.name == name,
        Filter::And(a, b) | Filter::Or(a, b) => mentions(a, name) || mentions(b, name),
        Filter::Not(inner) => mentions(inner, name),
    }
}

/// A boxed boolean SQL expression over table `T`.
pub(crate) type Pred<T> = Box<dyn BoxableExpression<T, MultiBackend, SqlType = Bool>>;

fn lower<T>(sql: &Sql, leaf: &dyn Fn(&Sql) -> Pred<T>) -> Pred<T>
where
    T: 'static,
{
    match sql {
        Sql::True => Box::new(dsl::sql::<Bool>("1 = 1")),
        Sql::False => Box::new(dsl::sql::<Bool>("1 = 0")),
        Sql::And(a, b) => Box::new(lower(a, leaf).and(lower(b, leaf))),
        Sql::Or(a, b) => Box::new(lower(a, leaf).or(lower(b, leaf))),
        Sql::Not(a) => Box::new(dsl::not(lower(a, leaf))),
        other => leaf(other),
    }
}

/// A comparison on a NOT NULL text column.
macro_rules! text_not_null {
    ($col:expr, $cmp:expr) => {{
        let pred: Pred<_> = match $cmp {
            TextCmp::Eq(v) => Box::new($col.eq(v.clone())),
            TextCmp::Gt(v) => Box::new($col.gt(v.clone())),
            TextCmp::Ge(v) => Box::new($col.ge(v.clone())),
            TextCmp::Lt(v) => Box::new($col.lt(v.clone())),
            TextCmp::Le(v) => Box::new($col.le(v.clone())),
            TextCmp::Like(p) => Box::new($col.like(p.clone()).escape('\\')),
            TextCmp::Present => Box::new($col.ne("")),
        };
        pred
    }};
}

/// A two-valued comparison on a nullable text column: `col IS NOT NULL AND col <cmp>`.
macro_rules! text_nullable {
    ($col:expr, $cmp:expr) => {{
        let col = $col.assume_not_null();
        let pred: Pred<_> = match $cmp {
            TextCmp::Eq(v) => Box::new($col.is_not_null().and(col.eq(v.clone()))),
            TextCmp::Gt(v) => Box::new($col.is_not_null().and(col.gt(v.clone()))),
            TextCmp::Ge(v) => Box::new($col.is_not_null().and(col.ge(v.clone()))),
            TextCmp::Lt(v) => Box::new($col.is_not_null().and(col.lt(v.clone()))),
            TextCmp::Le(v) => Box::new($col.is_not_null().and(col.le(v.clone()))),
            TextCmp::Like(p) => Box::new($col.is_not_null().and(col.like(p.clone()).escape('\\'))),
            TextCmp::Present => Box::new($col.is_not_null().and(col.ne(""))),
        };
        pred
    }};
}

/// The predicate for `sql` over `scim_users` of `team`.
///
/// Every leaf repeats `team_id = ?`: SQLite answers an `OR` of indexed leaves with one
/// index search per branch only when each branch names the whole index prefix.
pub(crate) fn users_predicate(sql: &Sql, team: i64) -> Pred<u::table> {
    lower(sql, &|leaf| {
        Box::new(u::team_id.eq(team).and(users_leaf(leaf, team)))
    })
}

fn users_leaf(leaf: &Sql, team: i64) -> Pred<u::table> {
    match leaf {
        Sql::Text(col, cmp) => match col {
            TextCol::Id => text_not_null!(u::id, cmp),
            TextCol::UserNameLower => text_not_null!(u::user_name_lower, cmp),
            TextCol::ExternalId => text_nullable!(u::external_id, cmp),
            TextCol::DisplayNameLower => text_nullable!(u::display_name_lower, cmp),
            TextCol::GivenNameLower => text_nullable!(u::given_name_lower, cmp),
            TextCol::FamilyNameLower => text_nullable!(u::family_name_lower, cmp),
            TextCol::WorkEmailLower => text_nullable!(u::work_email_lower, cmp),
        },
        Sql::Active(b) => Box::new(
            u::active
                .is_not_null()
                .and(u::active.assume_not_null().eq(*b)),
        ),
        Sql::ActivePresent => Box::new(u::active.is_not_null()),
        // The bare column (no bound TRUE), so the partial index on it applies.
        Sql::WorkEmailAmbiguous => Box::new(u::work_email_ambiguous),
        Sql::InGroup(group) => {
            let rows = m::table.filter(m::team_id.eq(team)).select(m::member_id);
            match group {
                Some(gid) => Box::new(u::id.eq_any(rows.filter(m::group_id.eq(gid.clone())))),
                None => Box::new(u::id.eq_any(rows)),
            }
        }
        // Not for users (the planner never produces it): matches nothing.
        _ => Box::new(dsl::sql::<Bool>("1 = 0")),
    }
}

/// The predicate for `sql` over `scim_groups` of `team` (leaves as in
/// [`users_predicate`]).
pub(crate) fn groups_predicate(sql: &Sql, team: i64) -> Pred<g::table> {
    lower(sql, &|leaf| {
        Box::new(g::team_id.eq(team).and(groups_leaf(leaf, team)))
    })
}

fn groups_leaf(leaf: &Sql, team: i64) -> Pred<g::table> {
    match leaf {
        Sql::Text(col, cmp) => match col {
            TextCol::Id => text_not_null!(g::id, cmp),
            TextCol::DisplayNameLower => text_not_null!(g::display_name_lower, cmp),
            TextCol::ExternalId => text_nullable!(g::external_id, cmp),
            _ => Box::new(dsl::sql::<Bool>("1 = 0")),
        },
        Sql::HasMember(member) => {
            let rows = m::table.filter(m::team_id.eq(team)).select(m::group_id);
            match member {
                Some(id) => Box::new(g::id.eq_any(rows.filter(m::member_id.eq(id.clone())))),
                None => Box::new(g::id.eq_any(rows)),
            }
        }
        // Not for groups (the planner never produces it): matches nothing.
        _ => Box::new(dsl::sql::<Bool>("1 = 0")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cmp(name: &str, op: CompareOp, v: &str) -> Filter {
        Filter::Compare {
            path: AttrPath::new(name),
            op,
            value: CompValue::String(v.into()),
        }
    }

    #[test]
    fn user_name_eq_is_indexed_and_folded() {
        let p = plan(
            &cmp("userName", CompareOp::Eq, "Alice"),
            ResourceKind::User,
            Backend::Sqlite,
        );
        assert!(p.exact);
        assert_eq!(
            p.sql,
            Sql::Text(TextCol::UserNameLower, TextCmp::Eq("alice".into()))
        );
    }

    #[test]
    fn external_id_like_is_exact_only_on_postgres() {
        let f = cmp("externalId", CompareOp::Co, "A_%");
        let s = plan(&f, ResourceKind::User, Backend::Sqlite);
        let p = plan(&f, ResourceKind::User, Backend::Postgres);
        assert!(!s.exact);
        assert!(p.exact);
        assert_eq!(
            p.sql,
            Sql::Text(TextCol::ExternalId, TextCmp::Like("%A\\_\\%%".into()))
        );
    }

    #[test]
    fn non_indexed_parts_widen_to_a_prefilter() {
        let title = cmp("title", CompareOp::Eq, "x");
        let user = cmp("userName", CompareOp::Eq, "a");
        let and = Filter::and(user.clone(), title.clone());
        assert_eq!(
            coverage(&and, ResourceKind::User, Backend::Sqlite),
            Coverage::Prefiltered
        );
        let or = Filter::or(user.clone(), title.clone());
        assert_eq!(
            coverage(&or, ResourceKind::User, Backend::Sqlite),
            Coverage::Scan
        );
        let not = Filter::Not(Box::new(and));
        assert_eq!(
            coverage(&not, ResourceKind::User, Backend::Sqlite),
            Coverage::Scan
        );
        let not_exact = Filter::Not(Box::new(user));
        assert_eq!(
            coverage(&not_exact, ResourceKind::User, Backend::Sqlite),
            Coverage::Indexed
        );
    }

    #[test]
    fn entra_work_email_form() {
        let f = Filter::ValuePath {
            attr: AttrPath::new("emails"),
            filter: Box::new(Filter::and(
                cmp("type", CompareOp::Eq, "work"),
                cmp("value", CompareOp::Eq, "A@B.c"),
            )),
        };
        let p = plan(&f, ResourceKind::User, Backend::Postgres);
        assert_eq!(
            p.sql,
            Sql::or(
                Sql::Text(TextCol::WorkEmailLower, TextCmp::Eq("a@b.c".into())),
                Sql::WorkEmailAmbiguous
            )
        );
        assert_eq!(
            coverage(&f, ResourceKind::User, Backend::Sqlite),
            Coverage::Prefiltered
        );
    }

    #[test]
    fn member_value_paths() {
        let f = Filter::ValuePath {
            attr: AttrPath::new("members"),
            filter: Box::new(Filter::or(
                cmp("value", CompareOp::Eq, "a"),
                cmp("value", CompareOp::Eq, "b"),
            )),
        };
        let p = plan(&f, ResourceKind::Group, Backend::Sqlite);
        assert!(p.exact);
        let both = Filter::ValuePath {
            attr: AttrPath::new("members"),
            filter: Box::new(Filter::and(
                cmp("value", CompareOp::Eq, "a"),
                cmp("value", CompareOp::Eq, "b"),
            )),
        };
        assert_eq!(
            coverage(&both, ResourceKind::Group, Backend::Sqlite),
            Coverage::Scan
        );
    }

    #[test]
    fn starts_with_is_a_range() {
        let p = plan(
            &cmp("userName", CompareOp::Sw, "Ab"),
            ResourceKind::User,
            Backend::Sqlite,
        );
        assert!(p.exact);
        assert_eq!(
            p.sql,
            Sql::and(
                Sql::Text(TextCol::UserNameLower, TextCmp::Ge("ab".into())),
                Sql::Text(TextCol::UserNameLower, TextCmp::Lt("ac".into()))
            )
        );
        assert_eq!(successor("a\u{D7FF}"), Some("a\u{E000}".into()));
        assert_eq!(successor("a\u{10FFFF}"), Some("b".into()));
        assert_eq!(successor("\u{10FFFF}"), None);
        assert_eq!(successor(""), None);
    }

    #[test]
    fn escapes_like_wildcards() {
        assert_eq!(escape_like(r"a%b_c\d"), r"a\%b\_c\\d");
    }
}
