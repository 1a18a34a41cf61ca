//! Workload 11: a fleet of hosts holding long-polls while Entra disables users.
//!
//! Every host has its own connection and thread (a real fleet is that many agents, each
//! with one connection), fetches its document, then long-polls with `If-None-Match` and
//! `?wait=`. The load generator measures the server while the fleet is idle (CPU, memory),
//! then disables users through SCIM one at a time and times, for every host, how long
//! after the SCIM answer the host had the new document.

use std::sync::mpsc::{self, Receiver, RecvTimeoutError, Sender};
use std::time::{Duration, Instant};

use crate::agent::{create_group, first_user_ids, join_hosts};
use crate::client::Client;
use crate::run::{Limits, Outcome, expect};
use crate::scim::entra_disable;

/// The name of host group `i`'s SCIM group (granted on `pool=i` by `scripts/bench.sh`).
fn group_name(i: usize) -> String {
    format!("fleet-{i}")
}

/// Creates the groups `fleet-0`, `fleet-1`, ... of `size` distinct active users each (the
/// first `groups * size` users of the directory).
pub fn setup_groups(
    scim_base: &str,
    token: &str,
    groups: usize,
    size: usize,
) -> Result<(), String> {
    let mut c = Client::new(scim_base, "Bearer", token);
    let ids = first_user_ids(&mut c, groups * size)?;
    for (i, members) in ids.chunks(size.max(1)).take(groups).enumerate() {
        create_group(&mut c, &group_name(i), members)?;
    }
    eprintln!("{groups} fleet groups of {size} users");
    Ok(())
}

/// What the fleet workload needs.
pub struct Plan<'a> {
    /// The server's root URL.
    pub server: &'a str,
    /// The team's SCIM base URL.
    pub scim_base: &'a str,
    /// The SCIM bearer token.
    pub scim_token: &'a str,
    /// One join token per host.
    pub join_tokens: &'a [String],
    /// The host groups' SCIM groups, as [`setup_groups`] made them.
    pub groups: usize,
    /// Members per group.
    pub group_size: usize,
    /// Users disabled, one at a time.
    pub changes: usize,
    /// The long-polls' `?wait=` in seconds.
    pub wait: u64,
    /// How long the idle fleet is watched.
    pub idle: Duration,
    /// Joins in flight during set-up.
    pub concurrency: usize,
    /// The server's process, whose CPU and memory are read.
    pub server_pid: u32,
}

/// What a host thread tells the coordinator.
enum Event {
    /// The host has its first document and starts long-polling.
    Ready,
    /// The host received a new document at this instant.
    Received(Instant),
    /// A request failed (the host retries after a second).
    Failed(String),
}

/// Joins the fleet, watches it idle, then disables users one at a time; the set-up and
/// the fleet rows.
pub fn run(plan: &Plan) -> Result<Vec<Outcome>, String> {
    let limits = Limits {
        concurrency: plan.concurrency,
        max_requests: plan.join_tokens.len(),
        max_time: Duration::from_secs(600),
    };
    let (joined, credentials) = join_hosts(plan.server, plan.join_tokens, "fleet-host", limits);
    let n = credentials.len();
    if n == 0 {
        return Err(format!(
            "no fleet host joined: {}",
            joined.first_error.unwrap_or_default()
        ));
    }
    let (events, inbox) = mpsc::channel();
    for (i, credential) in credentials.into_iter().enumerate() {
        let (events, server, wait) = (events.clone(), plan.server.to_owned(), plan.wait);
        // Detached: the process ends while they wait in their long-polls.
        std::thread::Builder::new()
            .stack_size(128 * 1024)
            .spawn(move || host(&server, &credential, wait, i, &events))
            .map_err(|e| format!("host thread {i}: {e}"))?;
    }
    let connect = Instant::now();
    let mut ready = 0;
    let mut first_error = None;
    while ready < n && connect.elapsed() < Duration::from_secs(300) {
        match inbox.recv_timeout(Duration::from_secs(1)) {
            Ok((_, Event::Ready)) => ready += 1,
            Ok((_, Event::Failed(e))) => {
                first_error.get_or_insert(e);
            }
            Ok((_, Event::Received(_))) | Err(RecvTimeoutError::Timeout) => {}
            Err(RecvTimeoutError::Disconnected) => break,
        }
    }
    if ready < n {
        return Err(format!(
            "{ready} of {n} fleet hosts got their document in {:?}: {}",
            connect.elapsed(),
            first_error.unwrap_or_default()
        ));
    }
    let connected = connect.elapsed();
    // The last hosts' long-polls reach the server; then nothing happens.
    std::thread::sleep(Duration::from_secs(2));
    let idle = watch_idle(plan, &inbox)?;
    let Changes { outcome, scim_p50 } = disables(plan, n, &inbox)?;
    let notes = format!(
        "{n} hosts connected in {:.1} s; server RSS with them all waiting {:.1} MB; idle fleet \
         for {:.0} s: {:.2}% of one core, {} documents sent; a disable's SCIM answer p50 \
         {:.1} ms; slowest host over all disables {:.0} ms",
        connected.as_secs_f64(),
        idle.rss_kb as f64 / 1024.0,
        plan.idle.as_secs_f64(),
        idle.cpu_percent,
        idle.documents,
        scim_p50.as_secs_f64() * 1000.0,
        outcome.max.as_secs_f64() * 1000.0,
    );
    Ok(vec![
        joined,
        Outcome {
            notes: Some(notes),
            ..outcome
        },
    ])
}

/// One host: its first document, then long-polls for ever (the thread is detached).
fn host(server: &str, credential: &str, wait: u64, i: usize, events: &Sender<(usize, Event)>) {
    let mut c = Client::new(server, "Bearer", credential).connecting_from(host_address(i));
    let mut etag: Option<String> = None;
    loop {
        let reply = match &etag {
            None => c.get("/api/v1/hosts/self/access", &[]),
            Some(etag) => c.get(
                &format!("/api/v1/hosts/self/access?wait={wait}"),
                &[("If-None-Match", etag)],
            ),
        };
        let event = match reply {
            Ok(reply) if reply.status == 200 => {
                let event = match etag {
                    None => Event::Ready,
                    Some(_) => Event::Received(Instant::now()),
                };
                etag = reply.etag;
                event
            }
            Ok(reply) if reply.status == 304 => continue,
            Ok(reply) => Event::Failed(format!("long-poll: HTTP {}", reply.status)),
            Err(e) => Event::Failed(format!("long-poll: {e}")),
        };
        let failed = matches!(event, Event::Failed(_));
        if events.send((i, event)).is_err() {
            return;
        }
        if failed {
            std::thread::sleep(Duration::from_secs(1));
        }
    }
}

/// The loopback address of host `i`: 127.1.0.1 and up, one per host (real hosts have
/// addresses of their own; the server's per-address limits would otherwise see one
/// client holding ten thousand requests).
fn host_address(i: usize) -> std::net::IpAddr {
    let [_, a, b, c] = (0x7f01_0001u32 + i as u32).to_be_bytes();
    std::net::IpAddr::V4(std::net::Ipv4Addr::new(127, a, b, c))
}

/// The server while the fleet waits and nothing changes.
struct Idle {
    cpu_percent: f64,
    rss_kb: u64,
    /// Documents the hosts received meanwhile (none is expected).
    documents: usize,
}

fn watch_idle(plan: &Plan, inbox: &Receiver<(usize, Event)>) -> Result<Idle, String> {
    let before = cpu_ticks(plan.server_pid)?;
    let start = Instant::now();
    let mut documents = 0;
    while start.elapsed() < plan.idle {
        if let Ok((_, Event::Received(_))) = inbox.recv_timeout(plan.idle - start.elapsed()) {
            documents += 1;
        }
    }
    let ticks = cpu_ticks(plan.server_pid)? - before;
    // Linux counts process CPU time in ticks of 1/100 s (USER_HZ).
    let cpu_percent = ticks as f64 / 100.0 / start.elapsed().as_secs_f64() * 100.0;
    let rss_kb = rss_kb(plan.server_pid).ok_or("cannot read the server's RSS")?;
    Ok(Idle {
        cpu_percent,
        rss_kb,
        documents,
    })
}

/// What the disables measured: the hosts' receipts, and the SCIM answers' median.
struct Changes {
    outcome: Outcome,
    scim_p50: Duration,
}

/// Disables users one at a time (from different host groups in turn) and times each
/// host's receipt of the new document from the SCIM answer on.
fn disables(plan: &Plan, n: usize, inbox: &Receiver<(usize, Event)>) -> Result<Changes, String> {
    let mut scim = Client::new(plan.scim_base, "Bearer", plan.scim_token);
    let users = first_user_ids(&mut scim, plan.groups * plan.group_size)?;
    let (mut latencies, mut answers) = (Vec::new(), Vec::new());
    let (mut errors, mut first_error) = (0, None);
    let start = Instant::now();
    for k in 0..plan.changes {
        // Group k % groups, its (k / groups)-th member: every disable is someone else's.
        let user = users
            .get((k % plan.groups) * plan.group_size + k / plan.groups)
            .ok_or("fewer users than the disables need")?;
        while inbox.try_recv().is_ok() {}
        let sent = Instant::now();
        let reply = scim.patch(&format!("/Users/{user}"), &entra_disable())?;
        expect(reply.status, &[200, 204], "disable")?;
        let answered = Instant::now();
        answers.push(answered - sent);
        let mut received = vec![false; n];
        let mut count = 0;
        let deadline = answered + Duration::from_secs(10);
        while count < n {
            let left = deadline.saturating_duration_since(Instant::now());
            match inbox.recv_timeout(left) {
                Ok((i, Event::Received(at))) if at > sent && !received[i] => {
                    received[i] = true;
                    count += 1;
                    latencies.push(at.saturating_duration_since(answered));
                }
                Ok((_, Event::Failed(e))) => {
                    errors += 1;
                    first_error.get_or_insert(e);
                }
                Ok(_) => {}
                Err(_) => break,
            }
        }
        if count < n {
            errors += n - count;
            first_error.get_or_insert(format!(
                "disable {k}: {} of {n} hosts had no new document after 10 s",
                n - count
            ));
        }
        // The hosts are back in their long-polls before the next change, and it comes more
        // than a second after this one: the server publishes at most one change a second
        // (bursts are paced), and each disable is measured alone.
        std::thread::sleep(Duration::from_millis(1500));
    }
    let scim = Outcome::measured(String::new(), answers, 0, start.elapsed(), None);
    let outcome = Outcome::measured(
        format!("11 fleet: a disable reaching each of {n} long-polling hosts"),
        latencies,
        errors,
        start.elapsed(),
        first_error,
    );
    Ok(Changes {
        outcome,
        scim_p50: scim.p50,
    })
}

/// User plus system CPU time of process `pid`, in ticks.
fn cpu_ticks(pid: u32) -> Result<u64, String> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat"))
        .map_err(|e| format!("/proc/{pid}/stat: {e}"))?;
    // Fields after the command name (which is in parentheses and may hold spaces):
    // state is the first, utime the 12th, stime the 13th.
    let rest = stat.rsplit_once(')').map(|(_, r)| r).unwrap_or_default();
    let fields: Vec<&str> = rest.split_whitespace().collect();
    let tick = |i: usize| fields.get(i).and_then(|f| f.parse::<u64>().ok());
    match (tick(11), tick(12)) {
        (Some(user), Some(system)) => Ok(user + system),
        _ => Err(format!("cannot read CPU times from /proc/{pid}/stat")),
    }
}

/// Resident memory of process `pid` now, in kB (`VmRSS`).
fn rss_kb(pid: u32) -> Option<u64> {
    crate::report::proc_status_kb(pid, "VmRSS:")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_cpu_ticks_of_this_process() {
        let spin = Instant::now();
        while spin.elapsed() < Duration::from_millis(50) {}
        assert!(cpu_ticks(std::process::id()).unwrap() > 0);
        assert!(rss_kb(std::process::id()).unwrap() > 0);
    }

    #[test]
    fn hosts_have_loopback_addresses_of_their_own() {
        assert_eq!(host_address(0).to_string(), "127.1.0.1");
        assert_eq!(host_address(255).to_string(), "127.1.1.0");
        assert_eq!(host_address(9_999).to_string(), "127.1.39.16");
    }
}
