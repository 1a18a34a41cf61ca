//! Workload 10: the web console's pages, as an administrator clicks through them, on the
//! benchmark's directory (its users, the agents' group, its hosts and grant). Each page
//! is its own measured workload; the target is under 100 ms per page.

use crate::client::{Client, encode_query};
use crate::run::{self, Limits, Outcome};

/// Measures every console page of team `team` on `server` with console session `cookie`;
/// `scim_base` and `token` find a user and the group `group` to open.
pub fn run(
    server: &str,
    team: &str,
    cookie: &str,
    scim_base: &str,
    token: &str,
    group: &str,
    limits: Limits,
) -> Result<Vec<Outcome>, String> {
    let mut scim = Client::new(scim_base, "Bearer", token);
    // A user from the middle of the directory.
    let total = scim.get("/Users?count=0", &[])?.json()["totalResults"]
        .as_u64()
        .unwrap_or(0);
    let first = scim
        .get(&format!("/Users?count=1&startIndex={}", total / 2 + 1), &[])?
        .json();
    let user = first["Resources"][0]["id"]
        .as_str()
        .ok_or("no user in the directory")?
        .to_owned();
    let user_name = first["Resources"][0]["userName"]
        .as_str()
        .unwrap_or("")
        .to_owned();
    let filter = encode_query(&format!("displayName eq \"{group}\""));
    let found = scim
        .get(
            &format!("/Groups?excludedAttributes=members&filter={filter}"),
            &[],
        )?
        .json();
    let group_id = found["Resources"][0]["id"]
        .as_str()
        .ok_or_else(|| format!("no group {group}"))?
        .to_owned();
    // A prefix every benchmark user shares, one that about 1% share, and a whole address.
    let everyone: String = user_name.chars().take(6).collect();
    let local = user_name.split('@').next().unwrap_or("");
    let some: String = local
        .chars()
        .take(local.chars().count().saturating_sub(2))
        .collect();
    let cookie_header = format!("sshward_console={cookie}");
    let base = format!("{server}/console/{team}");
    let pages: Vec<(String, String)> = [
        ("overview", String::new()),
        ("identity provider", "/identity".into()),
        ("SCIM tokens", "/scim".into()),
        ("provisioning log", "/log".into()),
        ("users, page 1", "/users".into()),
        ("users, page 1000", "/users?page=1000".into()),
        (
            "users, search matching all",
            format!("/users?q={}", encode_query(&everyone)),
        ),
        (
            "users, search matching ~1%",
            format!("/users?q={}", encode_query(&some)),
        ),
        (
            "users, search by email",
            format!("/users?q={}", encode_query(&user_name)),
        ),
        ("one user (access on every host)", format!("/users/{user}")),
        ("groups", "/groups".into()),
        ("the agents' group, page 1", format!("/groups/{group_id}")),
        ("hosts", "/hosts".into()),
        ("grants", "/grants".into()),
        ("certificates", "/certificates".into()),
        ("audit log", "/audit".into()),
    ]
    .into_iter()
    .map(|(name, path)| (name.to_owned(), path))
    .collect();
    let mut outcomes = Vec::new();
    for (name, path) in &pages {
        let label = format!("10 console: {name}");
        outcomes.push(run::run(
            &label,
            limits,
            |_| Client::new(&base, "None", "-"),
            |client, _| {
                let reply = client.get(path, &[("Cookie", &cookie_header)])?;
                run::expect(reply.status, &[200], path)
            },
        ));
    }
    // The grant preview: who would gain what on every host of the fleet.
    let mut client = Client::new(&base, "None", "-");
    let page = client.get("/grants", &[("Cookie", &cookie_header)])?;
    let csrf = csrf_of(&page.body).ok_or("no CSRF token on the grants page")?;
    let form = format!("csrf={csrf}&group={group_id}&hosts=env%3Dbench&role=sudo&extra_groups=");
    outcomes.push(run::run(
        "10 console: grant preview (sudo for the agents' group on every host)",
        limits,
        |_| Client::new(&base, "None", "-"),
        |client, _| {
            let reply =
                client.post_form("/grants/preview", &form, &[("Cookie", &cookie_header)])?;
            run::expect(reply.status, &[200], "grant preview")
        },
    ));
    Ok(outcomes)
}

/// The CSRF token of the first form of `page`.
fn csrf_of(page: &str) -> Option<String> {
    let at = page.find("name=\"csrf\" value=\"")? + "name=\"csrf\" value=\"".len();
    page.get(at..at + 64).map(str::to_owned)
}
