//! Every admin action of the application layer, on SQLite and PostgreSQL: what it
//! changes, what it refuses, and the audit entry it leaves.

use std::collections::BTreeSet;

use app::{
    AccessChange, Actor, App, AppError, DomainChange, NewGrant, NewTeam, PosixSettingsChange,
    TeamChange,
};

use crate::test_kek;
use host_policy::{HostSelector, IdRange, Role, UsernameStyle, parse_tags};
use serde_json::{Map, Value, json};
use store::{AuditQuery, AuditRecord, EmailDomain, LinkBy, OidcSettingsUpdate, TeamId};
use testkit::db::{TestDb, sqlite};
use time::Duration;

db_tests!(
    grants_resolve_groups_refuse_duplicates_and_are_audited,
    join_tokens_confer_tags_and_revoke_only_unused,
    removed_hosts_lose_their_credential,
    posix_settings_are_typed_and_audited,
    explain_names_the_deciding_grant,
    grant_previews_name_exactly_who_changes_where,
    unknown_teams_are_not_found,
    teams_are_created_once_and_changed_with_an_audited_diff,
    scim_tokens_are_created_and_revoked_once,
    the_directory_reads_by_id_and_name,
    audit_queries_filter_and_bootstrap_runs_once,
);

fn operator() -> Actor {
    Actor::Operator("tester".into())
}

fn object(value: Value) -> Map<String, Value> {
    match value {
        Value::Object(map) => map,
        _ => unreachable!(),
    }
}

/// Team `acme` with users alice and bob and group "SSH Users" holding alice.
fn acme(db: &TestDb) -> (App, TeamId, String, String) {
    let team = db.team("acme");
    let (alice, group) = db
        .store()
        .write(|tx| {
            let alice = tx
                .users()
                .insert(
                    team,
                    object(json!({"userName": "alice@acme.example", "active": true})),
                )?
                .id;
            tx.users().insert(
                team,
                object(json!({"userName": "bob@acme.example", "active": true})),
            )?;
            let group = tx
                .groups()
                .insert(team, object(json!({"displayName": "SSH Users"})))?
                .id;
            tx.groups()
                .add_members(team, &group, std::slice::from_ref(&alice))?;
            Ok::<_, store::StoreError>((alice, group))
        })
        .expect("set up acme");
    (App::new(db.store().clone(), test_kek()), team, alice, group)
}

/// The newest audit entry of `team` with `action`.
fn last_audit(db: &TestDb, team: TeamId, action: &str) -> AuditRecord {
    let query = AuditQuery {
        action: Some(action.parse().unwrap()),
        ..AuditQuery::default()
    };
    db.store()
        .read(|tx| tx.audit().query(team, &query, 1))
        .expect("audit query")
        .pop()
        .unwrap_or_else(|| panic!("no {action} entry"))
}

fn audit_count(db: &TestDb, team: TeamId) -> usize {
    db.store()
        .read(|tx| tx.audit().query(team, &AuditQuery::default(), 1000))
        .expect("audit query")
        .len()
}

fn grants_resolve_groups_refuse_duplicates_and_are_audited(db: &TestDb) {
    let (app, team, _, group) = acme(db);
    let grant = NewGrant {
        // By displayName, in another case: resolved to the immutable id once.
        group: "ssh users".into(),
        hosts: "env=prod,role=web".parse().unwrap(),
        role: Role::Sudo,
        extra_groups: vec!["docker".parse().unwrap()],
    };
    let added = app.add_grant(&operator(), "acme", &grant).unwrap();
    assert_eq!(added.group_id, group);
    assert_eq!(added.group_name.as_deref(), Some("SSH Users"));
    assert_eq!(added.hosts.to_string(), "env=prod,role=web");
    let entry = last_audit(db, team, "admin.grant.add");
    assert_eq!(entry.entry.actor, operator());
    assert_eq!(entry.entry.status, 201);
    assert_eq!(entry.entry.resource_id, Some(added.id.to_string()));

    // The same grant again is a conflict and writes nothing.
    let before = audit_count(db, team);
    match app.add_grant(&operator(), "acme", &grant) {
        Err(AppError::Conflict(m)) => assert!(m.contains("already has sudo"), "{m}"),
        other => panic!("expected a conflict, got {other:?}"),
    }
    let missing = NewGrant {
        group: "no such group".into(),
        ..grant.clone()
    };
    assert!(matches!(
        app.add_grant(&operator(), "acme", &missing),
        Err(AppError::NotFound(_))
    ));
    assert_eq!(
        audit_count(db, team),
        before,
        "refusals are not audited as changes"
    );

    // What was stored reads back as the same typed values.
    let listed = app.grants("acme").unwrap();
    assert_eq!(listed, vec![added.clone()]);
    assert_eq!(listed[0].extra_groups[0].as_str(), "docker");

    let removed = app.remove_grant(&operator(), "acme", added.id).unwrap();
    assert_eq!(removed.id, added.id);
    assert!(app.grants("acme").unwrap().is_empty());
    assert_eq!(last_audit(db, team, "admin.grant.remove").entry.status, 200);
    assert!(matches!(
        app.remove_grant(&operator(), "acme", added.id),
        Err(AppError::NotFound(_))
    ));
}

fn join_tokens_confer_tags_and_revoke_only_unused(db: &TestDb) {
    let (app, team, _, _) = acme(db);
    let tags = parse_tags(&["env=prod", "role=web"]).unwrap();
    for bad in [Duration::ZERO, Duration::seconds(-5), Duration::days(366)] {
        assert!(matches!(
            app.create_join_token(&operator(), "acme", &tags, bad),
            Err(AppError::Invalid(_))
        ));
    }
    let (info, secret) = app
        .create_join_token(&operator(), "acme", &tags, Duration::hours(1))
        .unwrap();
    assert_eq!(info.tags, tags);
    assert_eq!(
        last_audit(db, team, "admin.host.join-token.create")
            .entry
            .actor,
        operator()
    );

    // A host may not ask for a tag the token does not confer; the token stays unused.
    let foreign = parse_tags(&["env=staging"]).unwrap();
    assert!(matches!(
        app.join(&secret, "web-1", &foreign, &[]),
        Err(AppError::Forbidden(_))
    ));
    assert!(matches!(
        app.join(&secret, "not a hostname", &BTreeSet::new(), &[]),
        Err(AppError::Invalid(_))
    ));
    let joined = app.join(&secret, "Web-1", &BTreeSet::new(), &[]).unwrap();
    assert_eq!(joined.host.hostname, "web-1");
    assert_eq!(joined.host.tags, tags);
    let response = joined.response();
    assert_eq!(response.tags, ["env=prod", "role=web"]);
    let entry = last_audit(db, team, "host.join");
    assert_eq!(entry.entry.actor, Actor::JoinToken(info.id));
    assert_eq!(
        entry.entry.actor.to_string(),
        format!("join-token:{}", info.id)
    );
    // Works once.
    assert!(matches!(
        app.join(&secret, "web-2", &BTreeSet::new(), &[]),
        Err(AppError::Unauthorized(_))
    ));

    // A used token cannot be revoked: the message names the host to remove.
    match app.revoke_join_token(&operator(), "acme", info.id) {
        Err(AppError::Conflict(m)) => {
            assert!(m.contains(&format!("host {}", joined.host.id)), "{m}")
        }
        other => panic!("expected a conflict, got {other:?}"),
    }
    // An unused one stops working at once.
    let (unused, secret) = app
        .create_join_token(&operator(), "acme", &tags, Duration::hours(1))
        .unwrap();
    let revoked = app
        .revoke_join_token(&operator(), "acme", unused.id)
        .unwrap();
    assert!(revoked.expires <= time::OffsetDateTime::now_utc());
    assert!(matches!(
        app.join(&secret, "web-3", &BTreeSet::new(), &[]),
        Err(AppError::Unauthorized(_))
    ));
    assert_eq!(
        last_audit(db, team, "admin.host.join-token.revoke")
            .entry
            .resource_id,
        Some(unused.id.to_string())
    );
    assert!(matches!(
        app.revoke_join_token(&operator(), "acme", 999_999),
        Err(AppError::NotFound(_))
    ));
    let listed = app.join_tokens("acme").unwrap();
    assert_eq!(
        listed.iter().map(|t| t.id).collect::<Vec<_>>(),
        [unused.id, info.id]
    );
}

fn removed_hosts_lose_their_credential(db: &TestDb) {
    let (app, team, _, _) = acme(db);
    let tags = parse_tags(&["env=prod"]).unwrap();
    let (_, secret) = app
        .create_join_token(&operator(), "acme", &tags, Duration::hours(1))
        .unwrap();
    let joined = app.join(&secret, "web-1", &BTreeSet::new(), &[]).unwrap();
    let (host, revision) = app.authenticate_host(&joined.credential).unwrap();
    assert_eq!(host.id, joined.host.id);
    assert_eq!(
        revision,
        app.store().read(|tx| tx.teams().revision(team)).unwrap(),
        "the team's current revision"
    );
    assert_eq!(app.hosts("acme", &tags).unwrap().len(), 1);
    assert!(
        app.hosts("acme", &parse_tags(&["env=dev"]).unwrap())
            .unwrap()
            .is_empty()
    );
    let (shown, computed) = app.host("acme", &host.id.to_string()).unwrap();
    assert_eq!(shown.hostname, "web-1");
    assert_eq!(computed.document.hostname, "web-1");

    // The last request is recorded; a second host's, due within a second of that write,
    // waits for the next request of any host after that second.
    let seen = |id: i64| {
        app.store()
            .read(|tx| tx.hosts().get(team, id))
            .unwrap()
            .unwrap()
            .last_seen
    };
    assert!(
        seen(host.id).is_some(),
        "the first request is written at once"
    );
    let (_, secret) = app
        .create_join_token(&operator(), "acme", &tags, Duration::hours(1))
        .unwrap();
    let other = app.join(&secret, "web-2", &BTreeSet::new(), &[]).unwrap();
    app.authenticate_host(&other.credential).unwrap();
    assert_eq!(seen(other.host.id), None, "written with the next batch");
    std::thread::sleep(std::time::Duration::from_millis(1100));
    app.authenticate_host(&joined.credential).unwrap();
    assert!(seen(other.host.id).is_some(), "written by web-1's request");
    app.remove_host(&operator(), "acme", "web-2").unwrap();

    let removed = app.remove_host(&operator(), "acme", "WEB-1").unwrap();
    assert_eq!(removed.id, host.id);
    assert_eq!(last_audit(db, team, "admin.host.remove").entry.status, 200);
    assert!(matches!(
        app.authenticate_host(&joined.credential),
        Err(AppError::Unauthorized(_))
    ));
    assert!(matches!(
        app.remove_host(&operator(), "acme", "web-1"),
        Err(AppError::NotFound(_))
    ));
}

fn posix_settings_are_typed_and_audited(db: &TestDb) {
    let (app, team, _, _) = acme(db);
    let defaults = app.posix_settings("acme").unwrap();
    assert_eq!(defaults, host_policy::PosixSettings::default());
    // No change: nothing written, nothing audited.
    let before = audit_count(db, team);
    let same = app
        .set_posix_settings(&operator(), "acme", &PosixSettingsChange::default())
        .unwrap();
    assert_eq!(same, defaults);
    assert_eq!(audit_count(db, team), before);

    let change = PosixSettingsChange {
        id_range: Some(IdRange::new(300_000, 399_999).unwrap()),
        username_style: Some(UsernameStyle::Address),
        home_base: Some("/srv/home/".parse().unwrap()),
        shell: Some("/bin/zsh".parse().unwrap()),
        reserved: Some(vec![
            "deploy".parse().unwrap(),
            "bob_acme_example".parse().unwrap(),
        ]),
    };
    let set = app
        .set_posix_settings(&operator(), "acme", &change)
        .unwrap();
    assert_eq!(set.id_range.to_string(), "300000-399999");
    assert_eq!(set.home_base.home_of("al"), "/srv/home/al");
    // Read back from the database as the same typed values.
    assert_eq!(app.posix_settings("acme").unwrap(), set);
    let entry = last_audit(db, team, "admin.posix.settings");
    assert_eq!(
        entry.entry.summary,
        "POSIX settings: address ids 300000-399999 home /srv/home shell /bin/zsh \
         reserved [bob_acme_example,deploy]"
    );
    // A reserved name goes to nobody: bob (address style) and a new deploy@ user get the
    // next free names.
    db.store()
        .write(|tx| {
            tx.users()
                .insert(team, object(json!({"userName": "deploy", "active": true})))
        })
        .unwrap();
    let grant = NewGrant {
        group: "SSH Users".into(),
        hosts: HostSelector::All,
        role: Role::Ssh,
        extra_groups: Vec::new(),
    };
    app.add_grant(&operator(), "acme", &grant).unwrap();
    // Computing a host's document allocates the identities.
    let (_, secret) = app
        .create_join_token(&operator(), "acme", &BTreeSet::new(), Duration::hours(1))
        .unwrap();
    app.join(&secret, "web-9", &BTreeSet::new(), &[]).unwrap();
    app.host("acme", "web-9").unwrap();
    let names = db.store().read(|tx| tx.posix().names(team)).unwrap();
    assert!(names.contains("bob_acme_example2"), "{names:?}");
    assert!(
        names.contains("deploy2") && !names.contains("deploy"),
        "{names:?}"
    );

    // The root directory as home base round-trips too.
    let root = PosixSettingsChange {
        home_base: Some("/".parse().unwrap()),
        ..PosixSettingsChange::default()
    };
    let set = app.set_posix_settings(&operator(), "acme", &root).unwrap();
    assert_eq!(app.posix_settings("acme").unwrap().home_base, set.home_base);
    assert_eq!(set.home_base.home_of("al"), "/al");
}

fn explain_names_the_deciding_grant(db: &TestDb) {
    let (app, _, alice, group) = acme(db);
    let tags = parse_tags(&["env=prod"]).unwrap();
    let (_, secret) = app
        .create_join_token(&operator(), "acme", &tags, Duration::hours(1))
        .unwrap();
    app.join(&secret, "web-1", &BTreeSet::new(), &[]).unwrap();
    let grant = NewGrant {
        group: group.clone(),
        hosts: HostSelector::All,
        role: Role::Ssh,
        extra_groups: Vec::new(),
    };
    let added = app.add_grant(&operator(), "acme", &grant).unwrap();
    let explained = app.explain("acme", "web-1", "ALICE@acme.example").unwrap();
    assert_eq!(explained.user_id, alice);
    assert_eq!(explained.explanation.access, Some(Role::Ssh));
    assert!(
        explained
            .explanation
            .checks
            .iter()
            .any(|c| c.grant_id == added.id && c.applies())
    );
    // Bob is in no granted group; by his POSIX name once allocated, too.
    let bob = app.explain("acme", "web-1", "bob@acme.example").unwrap();
    assert_eq!(bob.explanation.access, None);
    assert!(app.explain("acme", "web-1", "bob").is_ok());
    assert!(matches!(
        app.explain("acme", "web-1", "carol"),
        Err(AppError::NotFound(_))
    ));
    assert!(matches!(
        app.explain("acme", "web-9", "bob"),
        Err(AppError::NotFound(_))
    ));
}

/// A preview as (POSIX name, before, after, hostnames), in its order.
type Previewed = Vec<(String, Option<Role>, Option<Role>, Vec<String>)>;

fn previewed(changes: Vec<AccessChange>) -> Previewed {
    changes
        .into_iter()
        .map(|c| (c.user, c.before, c.after, c.hosts.to_vec()))
        .collect()
}

fn hosts(names: &[&str]) -> Vec<String> {
    names.iter().map(|n| (*n).to_owned()).collect()
}

fn grant_previews_name_exactly_who_changes_where(db: &TestDb) {
    let (app, team, _, ssh_users) = acme(db);
    // carol is in both groups; bob joins Ops; dave, in Ops, is disabled.
    let bob = app.user_access("acme", "bob@acme.example").unwrap().user_id;
    let ops = db
        .store()
        .write(|tx| {
            let mut ids = Vec::new();
            for (name, active) in [("carol", true), ("dave", false)] {
                let user = json!({"userName": format!("{name}@acme.example"), "active": active});
                ids.push(tx.users().insert(team, object(user))?.id);
            }
            ids.push(bob.clone());
            let ops = tx
                .groups()
                .insert(team, object(json!({"displayName": "Ops"})))?
                .id;
            tx.groups().add_members(team, &ops, &ids)?;
            tx.groups().add_members(team, &ssh_users, &ids[..1])?;
            Ok::<_, store::StoreError>(ops)
        })
        .expect("set up Ops");
    // Two web hosts share a tag set; a database host and a staging host do not.
    for (hostname, tags) in [
        ("web-2", ["env=prod", "role=web"]),
        ("web-1", ["env=prod", "role=web"]),
        ("db-1", ["env=prod", "role=db"]),
        ("stg-1", ["env=staging", "role=web"]),
    ] {
        let tags = parse_tags(&tags).unwrap();
        let (_, secret) = app
            .create_join_token(&operator(), "acme", &tags, Duration::hours(1))
            .unwrap();
        app.join(&secret, hostname, &BTreeSet::new(), &[]).unwrap();
    }
    let grant = |group: &str, hosts: &str, role: Role| NewGrant {
        group: group.to_owned(),
        hosts: hosts.parse().unwrap(),
        role,
        extra_groups: Vec::new(),
    };
    let prod_ssh = app
        .add_grant(
            &operator(),
            "acme",
            &grant(&ssh_users, "env=prod", Role::Ssh),
        )
        .unwrap();
    let (ssh, sudo) = (Some(Role::Ssh), Some(Role::Sudo));
    let prod = hosts(&["db-1", "web-1", "web-2"]);
    let web = hosts(&["web-1", "web-2"]);

    // A new group: its active members gain, by user, on the prod hosts only; carol's ssh
    // becomes sudo; dave (disabled) and alice (not in Ops) are not named.
    let audited = audit_count(db, team);
    let preview = app
        .preview_grant("acme", &grant("Ops", "env=prod", Role::Sudo))
        .unwrap();
    assert_eq!(
        previewed(preview),
        vec![
            ("bob".into(), None, sudo, prod.clone()),
            ("carol".into(), ssh, sudo, prod.clone()),
        ]
    );
    // A group already granted: sudo on every role=web host for its members, which is a
    // change from ssh on the prod web hosts and from nothing on the staging one.
    let preview = app
        .preview_grant("acme", &grant("SSH Users", "role=web", Role::Sudo))
        .unwrap();
    let staging = hosts(&["stg-1"]);
    assert_eq!(
        previewed(preview),
        vec![
            ("alice".into(), None, sudo, staging.clone()),
            ("alice".into(), ssh, sudo, web.clone()),
            ("carol".into(), None, sudo, staging.clone()),
            ("carol".into(), ssh, sudo, web.clone()),
        ]
    );
    // Whoever already has as much changes nothing: with Ops sudo on role=db, Ops ssh on
    // prod gives bob ssh on the web hosts, and carol (ssh there, sudo on db-1) nothing.
    app.add_grant(&operator(), "acme", &grant(&ops, "role=db", Role::Sudo))
        .unwrap();
    let preview = app
        .preview_grant("acme", &grant(&ops, "env=prod", Role::Ssh))
        .unwrap();
    assert_eq!(
        previewed(preview),
        vec![("bob".into(), None, ssh, web.clone())]
    );
    // Removing SSH Users' grant: alice loses every prod host; carol only the web hosts
    // (Ops keeps her sudo on db-1).
    let preview = app.preview_grant_removal("acme", prod_ssh.id).unwrap();
    assert_eq!(
        previewed(preview),
        vec![
            ("alice".into(), ssh, None, prod.clone()),
            ("carol".into(), ssh, None, web.clone()),
        ]
    );
    // Previews change nothing (the one grant added above is the only audited change).
    assert_eq!(app.grants("acme").unwrap().len(), 2);
    assert_eq!(audit_count(db, team), audited + 1);
}

fn unknown_teams_are_not_found(db: &TestDb) {
    let app = App::new(db.store().clone(), test_kek());
    let not_found = |r: Result<(), AppError>| match r {
        Err(AppError::NotFound(m)) => assert!(m.contains("nope"), "{m}"),
        other => panic!("expected not found, got {other:?}"),
    };
    not_found(app.grants("nope").map(drop));
    not_found(app.join_tokens("nope").map(drop));
    not_found(app.posix_settings("nope").map(drop));
    not_found(app.hosts("nope", &BTreeSet::new()).map(drop));
    not_found(
        app.create_join_token(&operator(), "nope", &BTreeSet::new(), Duration::hours(1))
            .map(drop),
    );
}

#[test]
fn corrupt_grant_rows_are_reported_not_used() {
    // No public API stores an invalid grant (its fields are typed); a row changed behind
    // the store's back is reported as corrupt instead of being read as something else.
    let db = sqlite();
    let (app, _, _, group) = acme(&db);
    let grant = NewGrant {
        group,
        hosts: HostSelector::All,
        role: Role::Ssh,
        extra_groups: Vec::new(),
    };
    app.add_grant(&operator(), "acme", &grant).unwrap();
    db.raw_execute("UPDATE grants SET role = 'root'");
    match app.grants("acme") {
        Err(AppError::Store(store::StoreError::Corrupt(m))) => assert!(m.contains("role"), "{m}"),
        other => panic!("expected a corrupt row, got {other:?}"),
    }
}

fn domains(list: &[&str]) -> Vec<EmailDomain> {
    list.iter().map(|d| d.parse().unwrap()).collect()
}

fn teams_are_created_once_and_changed_with_an_audited_diff(db: &TestDb) {
    let app = App::new(db.store().clone(), test_kek());
    let new = NewTeam {
        slug: "acme".into(),
        name: Some(" Acme Corp ".into()),
        tenant: Some("72F988BF-86F1-41AF-91AB-2D7CD011DB47".parse().unwrap()),
        domains: domains(&["acme.com", "@ACME.com"]),
        first_token: Some("entra".into()),
    };
    let (team, token) = app.create_team(&operator(), &new).unwrap();
    assert_eq!(team.display_name, "Acme Corp");
    assert_eq!(team.allowed_domains, domains(&["acme.com"]), "deduplicated");
    let (info, secret) = token.expect("a first token");
    assert_eq!(info.label, "entra");
    assert!(secret.starts_with(store::TOKEN_PREFIX));
    assert_eq!(
        last_audit(db, team.id, "admin.team.create").entry.actor,
        operator()
    );
    assert_eq!(
        last_audit(db, team.id, "admin.token.create")
            .entry
            .resource_id,
        Some(info.id.to_string())
    );

    match app.create_team(&operator(), &new) {
        Err(AppError::Conflict(m)) => assert!(m.contains("exists already"), "{m}"),
        other => panic!("expected a conflict, got {other:?}"),
    }
    for slug in ["", "Acme", "-a", "a b", "ä"] {
        let bad = NewTeam {
            slug: slug.into(),
            ..NewTeam::default()
        };
        assert!(
            matches!(
                app.create_team(&operator(), &bad),
                Err(AppError::Invalid(_))
            ),
            "{slug:?}"
        );
    }

    // Domains: add and remove; removing one that is not there is an error.
    let edit = TeamChange {
        domains: Some(DomainChange::Edit {
            add: domains(&["b.example"]),
            remove: domains(&["ACME.COM"]),
        }),
        ..TeamChange::default()
    };
    let (team, _) = app.update_team(&operator(), "acme", &edit).unwrap();
    assert_eq!(team.allowed_domains, domains(&["b.example"]));
    assert_eq!(
        last_audit(db, team.id, "admin.team.update").entry.summary,
        "changed allowed_domains"
    );
    let missing = TeamChange {
        domains: Some(DomainChange::Edit {
            add: vec![],
            remove: domains(&["nope.example"]),
        }),
        ..TeamChange::default()
    };
    assert!(matches!(
        app.update_team(&operator(), "acme", &missing),
        Err(AppError::NotFound(_))
    ));

    // Sign-in settings, tenant and name in one change; the audit names each.
    let change = TeamChange {
        name: Some("Acme".into()),
        tenant: Some(None),
        domains: None,
        sign_in: OidcSettingsUpdate {
            client_id: Some(Some("app-1".into())),
            client_secret_ref: Some(Some("env:ACME_CLIENT_SECRET".parse().unwrap())),
            issuer: Some(Some("http://127.0.0.1:9400".parse().unwrap())),
            link_by: Some(LinkBy::ObjectId),
        },
    };
    let (team, oidc) = app.update_team(&operator(), "acme", &change).unwrap();
    assert_eq!(
        (team.display_name.as_str(), team.entra_tenant_id.as_ref()),
        ("Acme", None)
    );
    assert_eq!(oidc.client_id.as_deref(), Some("app-1"));
    assert_eq!(
        last_audit(db, team.id, "admin.team.update").entry.summary,
        "changed name, entra_tenant_id, client_id, client_secret, issuer, link_by"
    );
    // A client secret file that cannot be read is refused now, not at the first sign-in.
    let unreadable = TeamChange {
        sign_in: OidcSettingsUpdate {
            client_secret_ref: Some(Some("file:/nonexistent/secret".parse().unwrap())),
            ..OidcSettingsUpdate::default()
        },
        ..TeamChange::default()
    };
    match app.update_team(&operator(), "acme", &unreadable) {
        Err(AppError::Invalid(m)) => assert!(m.contains("/nonexistent/secret"), "{m}"),
        other => panic!("expected invalid, got {other:?}"),
    }
    assert!(matches!(
        app.update_team(&operator(), "acme", &TeamChange::default()),
        Err(AppError::Invalid(_))
    ));
    let blank = TeamChange {
        name: Some("  ".into()),
        ..TeamChange::default()
    };
    assert!(matches!(
        app.update_team(&operator(), "acme", &blank),
        Err(AppError::Invalid(_))
    ));

    let (summary, _) = app.team("acme").unwrap();
    assert_eq!(
        (summary.users, summary.groups, summary.active_tokens),
        (0, 0, 1)
    );
    assert_eq!(app.teams().unwrap().len(), 1);
}

fn scim_tokens_are_created_and_revoked_once(db: &TestDb) {
    let (app, team, _, _) = acme(db);
    for bad in ["", "  ", "a\u{1b}[2J"] {
        assert!(
            matches!(
                app.create_token(&operator(), "acme", bad, None),
                Err(AppError::Invalid(_))
            ),
            "{bad:?}"
        );
    }
    assert!(matches!(
        app.create_token(&operator(), "acme", "x", Some(Duration::seconds(-1))),
        Err(AppError::Invalid(_))
    ));
    let (_, info, secret) = app
        .create_token(&operator(), "acme", " rotation ", Some(Duration::days(90)))
        .unwrap();
    assert_eq!(info.label, "rotation");
    assert!(info.expires.is_some());
    let authenticated = db
        .store()
        .read(|tx| tx.tokens().authenticate("acme", &secret))
        .unwrap();
    assert!(authenticated.is_some());

    let (revoked, newly) = app.revoke_token(&operator(), "acme", info.id).unwrap();
    assert!(newly && revoked.revoked.is_some());
    let before = audit_count(db, team);
    let (_, again) = app.revoke_token(&operator(), "acme", info.id).unwrap();
    assert!(!again);
    assert_eq!(
        audit_count(db, team),
        before,
        "a second revocation is not audited"
    );
    assert_eq!(
        last_audit(db, team, "admin.token.revoke").entry.resource_id,
        Some(info.id.to_string())
    );
    let authenticated = db
        .store()
        .read(|tx| tx.tokens().authenticate("acme", &secret))
        .unwrap();
    assert!(authenticated.is_none());
    assert!(matches!(
        app.revoke_token(&operator(), "acme", 999_999),
        Err(AppError::NotFound(_))
    ));
    assert_eq!(app.tokens("acme").unwrap().len(), 1);
}

fn the_directory_reads_by_id_and_name(db: &TestDb) {
    let (app, _, alice, group) = acme(db);
    let all = app.users("acme", &store::ListQuery::default()).unwrap();
    assert_eq!(all.total, 2);
    let (user, groups) = app.user("acme", "ALICE@acme.example").unwrap();
    assert_eq!(user.id, alice);
    assert_eq!(
        groups.iter().map(|g| g.id.as_str()).collect::<Vec<_>>(),
        [group.as_str()]
    );
    assert_eq!(app.user("acme", &alice).unwrap().0.id, alice);
    assert!(matches!(
        app.user("acme", "carol"),
        Err(AppError::NotFound(_))
    ));

    let (total, groups) = app.groups("acme", &store::ListQuery::default()).unwrap();
    assert_eq!((total, groups[0].member_count), (1, 1));
    let shown = app.group("acme", "ssh users", true).unwrap();
    assert_eq!(shown.group.id, group);
    assert_eq!(shown.members.len(), 1);
    assert!(app.group("acme", &group, false).unwrap().members.is_empty());
    assert!(matches!(
        app.group("acme", "nope", true),
        Err(AppError::NotFound(_))
    ));
}

fn audit_queries_filter_and_bootstrap_runs_once(db: &TestDb) {
    let app = App::new(db.store().clone(), test_kek());
    let (team, token, _) = app
        .bootstrap("default")
        .unwrap()
        .expect("an empty database");
    assert_eq!(token.label, "bootstrap");
    assert!(
        app.bootstrap("default").unwrap().is_none(),
        "teams exist now"
    );
    let entries = app.audit(None, &AuditQuery::default(), 10).unwrap();
    assert_eq!(entries.len(), 1);
    assert_eq!(entries[0].0.id, team.id);
    assert_eq!(entries[0].1.entry.actor, Actor::System);
    assert_eq!(entries[0].1.entry.action, store::AuditAction::Bootstrap);

    app.create_token(&operator(), "default", "second", None)
        .unwrap();
    let by_operator = AuditQuery {
        actor: Some(operator()),
        ..AuditQuery::default()
    };
    let mine = app.audit(Some("default"), &by_operator, 10).unwrap();
    assert_eq!(mine.len(), 1);
    assert_eq!(mine[0].1.entry.action, store::AuditAction::TokenCreate);
    assert_eq!(app.audit(None, &AuditQuery::default(), 1).unwrap().len(), 1);
    for limit in [0, app::MAX_AUDIT_ENTRIES + 1] {
        assert!(matches!(
            app.audit(None, &AuditQuery::default(), limit),
            Err(AppError::Invalid(_))
        ));
    }
    let now = time::OffsetDateTime::now_utc();
    let backwards = AuditQuery {
        since: Some(now),
        until: Some(now - Duration::hours(1)),
        ..AuditQuery::default()
    };
    assert!(matches!(
        app.audit(None, &backwards, 10),
        Err(AppError::Invalid(_))
    ));
    assert!(matches!(
        app.audit(Some("nope"), &AuditQuery::default(), 10),
        Err(AppError::NotFound(_))
    ));
}
