//! Tests of the protocol messages and list parameters.

use super::*;
use crate::filter::{CompValue, CompareOp};

fn query(params: ListParams<'_>) -> Result<ListQuery, Error> {
    ListQuery::parse(ResourceKind::User, &params)
}

#[test]
fn list_response_shape() {
    let body = list_response(0, 1, vec![]);
    assert_eq!(
        body,
        json!({
            "schemas": [LIST_RESPONSE_SCHEMA],
            "totalResults": 0,
            "startIndex": 1,
            "itemsPerPage": 0,
            "Resources": []
        })
    );
    let body = list_response(7, 3, vec![json!({"id": "a"}), json!({"id": "b"})]);
    assert_eq!(body["totalResults"], json!(7));
    assert_eq!(body["itemsPerPage"], json!(2));
    assert_eq!(body["startIndex"], json!(3));
}

#[test]
fn error_body_shape() {
    assert_eq!(
        error_body(409, Some("uniqueness"), "userName is taken"),
        json!({
            "schemas": [ERROR_SCHEMA],
            "status": "409",
            "scimType": "uniqueness",
            "detail": "userName is taken"
        })
    );
    let body = error_body(404, None, "not found");
    assert!(body.get("scimType").is_none());
    assert_eq!(body["status"], json!("404"));
}

#[test]
fn defaults() {
    let q = query(ListParams::default()).unwrap();
    assert_eq!(q.filter, None);
    assert_eq!(q.start_index, 1);
    assert_eq!(q.count, DEFAULT_COUNT);
    assert_eq!(q.projection, Projection::default());
    assert_eq!(q.sort_by, None);
    assert_eq!(q.sort_order, SortOrder::Ascending);
}

#[test]
fn entra_test_connection_query() {
    let q = query(ListParams {
        filter: Some(r#"userName eq "f8c6f5b2-4d1e-4a3b-9c7d-1e2f3a4b5c6d""#),
        ..Default::default()
    })
    .unwrap();
    assert_eq!(
        q.filter,
        Some(Filter::Compare {
            path: AttrPath::new("userName"),
            op: CompareOp::Eq,
            value: CompValue::String("f8c6f5b2-4d1e-4a3b-9c7d-1e2f3a4b5c6d".into()),
        })
    );
    // Blank filters are no filter.
    for blank in ["", "   "] {
        let q = query(ListParams {
            filter: Some(blank),
            ..Default::default()
        })
        .unwrap();
        assert_eq!(q.filter, None);
    }
}

#[test]
fn bad_filters_are_invalid_filter() {
    for text in [
        r#"userName eq"#,
        r#"nosuch eq "x""#,
        "active gt true",
        "(userName pr",
    ] {
        let error = query(ListParams {
            filter: Some(text),
            ..Default::default()
        })
        .unwrap_err();
        assert!(
            matches!(error, Error::InvalidFilter(_)),
            "{text}: {error:?}"
        );
    }
}

#[test]
fn paging_parameters() {
    let page = |start: Option<&'static str>, count: Option<&'static str>| {
        query(ListParams {
            start_index: start,
            count,
            ..Default::default()
        })
    };
    let q = page(Some("0"), Some("0")).unwrap();
    assert_eq!(
        (q.start_index, q.count),
        (1, 0),
        "count=0 asks for totalResults only"
    );
    let q = page(Some("-5"), Some("-1")).unwrap();
    assert_eq!((q.start_index, q.count), (1, 0));
    let q = page(Some(" 21 "), Some("5")).unwrap();
    assert_eq!((q.start_index, q.count), (21, 5));
    let q = page(None, Some("1000000")).unwrap();
    assert_eq!(q.count, MAX_COUNT);
    for (start, count) in [
        (Some("a"), None),
        (None, Some("1.5")),
        (None, Some("")),
        (Some("99999999999999999999"), None),
    ] {
        let error = page(start, count).unwrap_err();
        assert!(
            matches!(error, Error::InvalidValue(_)),
            "{start:?} {count:?}"
        );
    }
}

#[test]
fn sorting_parameters() {
    let q = query(ListParams {
        sort_by: Some("NAME.familyName"),
        sort_order: Some("Descending"),
        ..Default::default()
    })
    .unwrap();
    assert_eq!(q.sort_by, Some(AttrPath::sub("name", "familyName")));
    assert_eq!(q.sort_order, SortOrder::Descending);
    let q = query(ListParams {
        sort_by: Some("urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:employeeNumber"),
        sort_order: Some("ascending"),
        ..Default::default()
    })
    .unwrap();
    assert_eq!(
        q.sort_by.map(|p| (p.urn, p.name)),
        Some((
            Some(crate::schema::ENTERPRISE_USER_SCHEMA.to_string()),
            "employeeNumber".to_string()
        ))
    );
    assert_eq!(q.sort_order, SortOrder::Ascending);
    for (by, order) in [
        (Some("nosuch"), None),
        (Some("a b"), None),
        (None, Some("up")),
    ] {
        let error = query(ListParams {
            sort_by: by,
            sort_order: order,
            ..Default::default()
        })
        .unwrap_err();
        assert!(matches!(error, Error::InvalidValue(_)), "{by:?} {order:?}");
    }
}

#[test]
fn group_match_query_excludes_members() {
    let q = ListQuery::parse(
        ResourceKind::Group,
        &ListParams {
            filter: Some(r#"displayName eq "displayName""#),
            excluded_attributes: Some("members"),
            ..Default::default()
        },
    )
    .unwrap();
    assert!(q.filter.is_some());
    assert!(!q.projection.includes(ResourceKind::Group, "members"));
}

#[test]
fn search_request_bodies() {
    let q = ListQuery::from_search_request(
        ResourceKind::User,
        &json!({
            "schemas": [SEARCH_REQUEST_SCHEMA],
            "filter": "userName sw \"a\"",
            "startIndex": 3,
            "count": 10,
            "attributes": ["userName", "emails.value"],
            "excludedAttributes": null,
            "sortBy": "userName",
            "sortOrder": "descending"
        }),
    )
    .unwrap();
    assert!(matches!(
        q.filter,
        Some(Filter::Compare {
            op: CompareOp::Sw,
            ..
        })
    ));
    assert_eq!((q.start_index, q.count), (3, 10));
    assert_eq!(
        q.projection.attributes,
        vec![AttrPath::new("userName"), AttrPath::sub("emails", "value")]
    );
    assert_eq!(q.sort_by, Some(AttrPath::new("userName")));
    assert_eq!(q.sort_order, SortOrder::Descending);
    // The same parameters as text work too.
    let q = ListQuery::from_search_request(
        ResourceKind::User,
        &json!({"schemas": [SEARCH_REQUEST_SCHEMA], "attributes": "userName,displayName", "count": "0"}),
    )
    .unwrap();
    assert_eq!(q.projection.attributes.len(), 2);
    assert_eq!(q.count, 0);
    for (body, syntax) in [
        (json!([]), true),
        (json!({"filter": "userName pr"}), true),
        (
            json!({"schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"]}),
            true,
        ),
        (
            json!({"schemas": [SEARCH_REQUEST_SCHEMA], "attributes": [1]}),
            false,
        ),
        (
            json!({"schemas": [SEARCH_REQUEST_SCHEMA], "count": true}),
            false,
        ),
        (
            json!({"schemas": [SEARCH_REQUEST_SCHEMA], "filter": {"op": "eq"}}),
            false,
        ),
    ] {
        let error = ListQuery::from_search_request(ResourceKind::User, &body).unwrap_err();
        if syntax {
            assert!(
                matches!(error, Error::InvalidSyntax(_)),
                "{body}: {error:?}"
            );
        } else {
            assert!(matches!(error, Error::InvalidValue(_)), "{body}: {error:?}");
        }
    }
    let error = ListQuery::from_search_request(
        ResourceKind::User,
        &json!({"schemas": [SEARCH_REQUEST_SCHEMA], "filter": "userName eq"}),
    )
    .unwrap_err();
    assert!(matches!(error, Error::InvalidFilter(_)));
}

#[test]
fn error_types_map_to_status_and_scim_type() {
    use crate::ScimType;
    let cases = [
        (Error::InvalidFilter(String::new()), "invalidFilter", 400),
        (Error::InvalidSyntax(String::new()), "invalidSyntax", 400),
        (Error::InvalidPath(String::new()), "invalidPath", 400),
        (Error::InvalidValue(String::new()), "invalidValue", 400),
        (Error::Mutability(String::new()), "mutability", 400),
        (Error::NoTarget(String::new()), "noTarget", 400),
        (Error::Uniqueness(String::new()), "uniqueness", 409),
        (Error::TooMany(String::new()), "tooMany", 400),
    ];
    for (error, keyword, status) in cases {
        assert_eq!(error.scim_type().as_str(), keyword);
        assert_eq!(error.status(), status);
    }
    assert_eq!(
        Error::InvalidPath("x".into()).scim_type(),
        ScimType::InvalidPath
    );
    assert_eq!(
        Error::NoTarget("no such member".into()).to_string(),
        "no such member"
    );
}
