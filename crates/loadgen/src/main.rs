//! `loadgen`: sshward's benchmark load generator. Every loop is bounded in count and time
//! and only talks to the URL it is given (loopback in `scripts/bench.sh`).

mod agent;
mod certs;
mod client;
mod console;
mod fleet;
mod principals;
mod report;
mod run;
mod scim;

use clap::{Parser, Subcommand};
use std::path::PathBuf;
use std::process::ExitCode;

#[derive(Parser)]
#[command(about = "Benchmark load generator for sshward (see scripts/bench.sh)")]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Run the SCIM workloads against one server and write a results file.
    Scim {
        #[command(flatten)]
        plan: scim::Plan,
        /// Name of the server in the table.
        #[arg(long)]
        label: String,
        /// The server's process id, to read its peak RSS at the end.
        #[arg(long)]
        server_pid: Option<u32>,
        /// Where to write the results (JSON).
        #[arg(long)]
        out: PathBuf,
    },
    /// Create a group holding the first N users of the directory (set-up of `agents`).
    AgentGroup {
        /// The team's SCIM base URL.
        #[arg(long)]
        scim_base: String,
        /// The SCIM bearer token.
        #[arg(long, env = "LOADGEN_TOKEN", hide_env_values = true)]
        token: String,
        /// The group's displayName.
        #[arg(long)]
        name: String,
        /// How many users it gets.
        #[arg(long, default_value_t = 10_000)]
        users: usize,
    },
    /// Join hosts and measure their access-document polls; appends to a results file.
    Agents {
        /// The server's root URL (e.g. http://127.0.0.1:8080).
        #[arg(long)]
        server: String,
        /// A file with one join token per line: one host joins with each.
        #[arg(long)]
        join_tokens: PathBuf,
        /// Requests per measured workload.
        #[arg(long, default_value_t = 20_000)]
        requests: usize,
        /// Time limit per measured workload, in seconds.
        #[arg(long, default_value_t = 20)]
        seconds: u64,
        /// Connections in flight.
        #[arg(long, default_value_t = 8)]
        concurrency: usize,
        /// The server's process id, to read its peak RSS at the end.
        #[arg(long)]
        server_pid: Option<u32>,
        /// The results file to append to (written by `scim`).
        #[arg(long)]
        out: PathBuf,
    },
    /// Issue user certificates (workload 8) beside `ssh-keygen -s`; appends to a results
    /// file.
    Certs {
        /// The server's root URL (e.g. http://127.0.0.1:8080), the access tokens' issuer.
        #[arg(long)]
        server: String,
        /// The team's SCIM base URL (to find the granted users).
        #[arg(long)]
        scim_base: String,
        /// The SCIM bearer token.
        #[arg(long, env = "LOADGEN_TOKEN", hide_env_values = true)]
        token: String,
        /// The server's `login.token_key` (base64), to mint access tokens.
        #[arg(long, env = "LOADGEN_TOKEN_KEY", hide_env_values = true)]
        token_key: String,
        /// The server's database URL, where the minted tokens' sessions are written.
        #[arg(long, env = "LOADGEN_DATABASE_URL", hide_env_values = true)]
        database_url: String,
        /// The team's slug.
        #[arg(long, default_value = "default")]
        team: String,
        /// How many of the directory's first users are granted.
        #[arg(long, default_value_t = 1000)]
        users: usize,
        /// Requests per measured workload.
        #[arg(long, default_value_t = 20_000)]
        requests: usize,
        /// Time limit per measured workload, in seconds.
        #[arg(long, default_value_t = 20)]
        seconds: u64,
        /// Connections in flight.
        #[arg(long, default_value_t = 16)]
        concurrency: usize,
        /// The results file to append to (written by `scim`).
        #[arg(long)]
        out: PathBuf,
    },
    /// Run sshd's principals command (workload 9); appends to a results file.
    Principals {
        /// The sshward-agent binary.
        #[arg(long)]
        agent: PathBuf,
        /// A host's access document (JSON).
        #[arg(long)]
        document: PathBuf,
        /// Calls.
        #[arg(long, default_value_t = 2000)]
        requests: usize,
        /// Time limit, in seconds.
        #[arg(long, default_value_t = 20)]
        seconds: u64,
        /// Calls in flight (sshd runs one per login attempt).
        #[arg(long, default_value_t = 2)]
        concurrency: usize,
        /// The results file to append to.
        #[arg(long)]
        out: PathBuf,
    },
    /// Measure the web console's pages (workload 10); appends to a results file.
    Console {
        /// The server's root URL (e.g. http://127.0.0.1:8080).
        #[arg(long)]
        server: String,
        /// The team.
        #[arg(long, default_value = "default")]
        team: String,
        /// A console session's secret (its cookie's value).
        #[arg(long)]
        cookie: String,
        /// The team's SCIM base URL (to find a user and the group).
        #[arg(long)]
        scim_base: String,
        /// The group whose page is measured.
        #[arg(long, default_value = "bench-agents")]
        group: String,
        /// Requests per page.
        #[arg(long, default_value_t = 200)]
        requests: usize,
        /// Time limit per page, in seconds.
        #[arg(long, default_value_t = 10)]
        seconds: u64,
        /// The results file to append to.
        #[arg(long)]
        out: PathBuf,
    },
    /// Create the host groups' SCIM groups `fleet-0`.. (set-up of `fleet`).
    FleetGroups {
        /// The team's SCIM base URL.
        #[arg(long)]
        scim_base: String,
        /// The SCIM bearer token.
        #[arg(long, env = "LOADGEN_TOKEN", hide_env_values = true)]
        token: String,
        /// Host groups (one SCIM group each).
        #[arg(long, default_value_t = 100)]
        groups: usize,
        /// Members per group.
        #[arg(long, default_value_t = 100)]
        size: usize,
    },
    /// Join a fleet of hosts holding long-polls, watch it idle, and time Entra's disables
    /// reaching every host (workload 11); appends to a results file.
    Fleet {
        /// The server's root URL (e.g. http://127.0.0.1:8080).
        #[arg(long)]
        server: String,
        /// The team's SCIM base URL.
        #[arg(long)]
        scim_base: String,
        /// The SCIM bearer token.
        #[arg(long, env = "LOADGEN_TOKEN", hide_env_values = true)]
        token: String,
        /// A file with one join token per line: one host joins with each.
        #[arg(long)]
        join_tokens: PathBuf,
        /// Host groups, as made by `fleet-groups`.
        #[arg(long, default_value_t = 100)]
        groups: usize,
        /// Members per group, as made by `fleet-groups`.
        #[arg(long, default_value_t = 100)]
        size: usize,
        /// Users disabled one at a time.
        #[arg(long, default_value_t = 20)]
        changes: usize,
        /// The long-polls' `?wait=` in seconds.
        #[arg(long, default_value_t = 60)]
        wait: u64,
        /// Seconds the idle fleet is watched.
        #[arg(long, default_value_t = 10)]
        idle: u64,
        /// Joins in flight during set-up.
        #[arg(long, default_value_t = 16)]
        concurrency: usize,
        /// The server's process id (its CPU and memory are read).
        #[arg(long)]
        server_pid: u32,
        /// The results file to append to.
        #[arg(long)]
        out: PathBuf,
    },
    /// Print the comparison table of two results files.
    Report {
        /// Fail when a workload of the first file had errors or ran no request.
        #[arg(long)]
        strict: bool,
        /// Results of sshward.
        ours: PathBuf,
        /// Results of the peer.
        peer: Option<PathBuf>,
    },
}

fn read(path: &PathBuf) -> Result<serde_json::Value, String> {
    let text = std::fs::read_to_string(path).map_err(|e| format!("{}: {e}", path.display()))?;
    serde_json::from_str(&text).map_err(|e| format!("{}: {e}", path.display()))
}

/// The non-empty lines of a file (join tokens).
fn read_lines(path: &PathBuf) -> Result<Vec<String>, String> {
    let text = std::fs::read_to_string(path).map_err(|e| format!("{}: {e}", path.display()))?;
    Ok(text
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .map(str::to_string)
        .collect())
}

/// Appends `outcomes` to the results file `out`, with the server's peak RSS so far.
fn append(out: &PathBuf, outcomes: &[run::Outcome], server_pid: Option<u32>) -> Result<(), String> {
    let mut doc = read(out)?;
    if let Some(results) = doc["results"].as_array_mut() {
        results.extend(outcomes.iter().map(run::Outcome::to_json));
    }
    if let Some(rss) = server_pid.and_then(report::peak_rss_kb) {
        doc["peak_rss_kb"] = rss.into();
    }
    std::fs::write(out, doc.to_string()).map_err(|e| format!("{}: {e}", out.display()))
}

fn main() -> ExitCode {
    let result = match Cli::parse().command {
        Command::Scim {
            mut plan,
            label,
            server_pid,
            out,
        } => {
            let now = std::time::UNIX_EPOCH
                .elapsed()
                .map(|d| d.as_secs())
                .unwrap_or(0);
            plan.tag = format!("{:x}", u64::from(std::process::id()) ^ now);
            let results: Vec<serde_json::Value> =
                plan.run().iter().map(run::Outcome::to_json).collect();
            let rss = server_pid.and_then(report::peak_rss_kb);
            let doc = report::document(&label, results, rss);
            std::fs::write(&out, doc.to_string()).map_err(|e| format!("{}: {e}", out.display()))
        }
        Command::AgentGroup {
            scim_base,
            token,
            name,
            users,
        } => agent::setup_group(&scim_base, &token, &name, users),
        Command::Agents {
            server,
            join_tokens,
            requests,
            seconds,
            concurrency,
            server_pid,
            out,
        } => (|| {
            let tokens = read_lines(&join_tokens)?;
            let outcomes = agent::run(&server, &tokens, requests, seconds, concurrency);
            append(&out, &outcomes, server_pid)
        })(),
        Command::Certs {
            server,
            scim_base,
            token,
            token_key,
            database_url,
            team,
            users,
            requests,
            seconds,
            concurrency,
            out,
        } => (|| {
            let plan = certs::Plan {
                server: &server,
                scim_base: &scim_base,
                scim_token: &token,
                team: &team,
                token_key: &token_key,
                database_url: &database_url,
                users,
                limits: run::Limits {
                    concurrency,
                    max_requests: requests,
                    max_time: std::time::Duration::from_secs(seconds),
                },
            };
            let (ours, peer) = certs::run(&plan)?;
            let mut row = ours.to_json();
            row["peer"] = peer.to_json();
            row["peer"]["label"] = certs::PEER.into();
            let mut doc = read(&out)?;
            if let Some(results) = doc["results"].as_array_mut() {
                results.push(row);
            }
            std::fs::write(&out, doc.to_string()).map_err(|e| format!("{}: {e}", out.display()))
        })(),
        Command::Principals {
            agent,
            document,
            requests,
            seconds,
            concurrency,
            out,
        } => (|| {
            let limits = run::Limits {
                concurrency,
                max_requests: requests,
                max_time: std::time::Duration::from_secs(seconds),
            };
            let outcome = principals::run(&agent, &document, limits)?;
            let mut doc = read(&out)?;
            if let Some(results) = doc["results"].as_array_mut() {
                results.push(outcome.to_json());
            }
            std::fs::write(&out, doc.to_string()).map_err(|e| format!("{}: {e}", out.display()))
        })(),
        Command::Console {
            server,
            team,
            cookie,
            scim_base,
            group,
            requests,
            seconds,
            out,
        } => (|| {
            let token = std::env::var("LOADGEN_TOKEN").map_err(|_| "set LOADGEN_TOKEN")?;
            let limits = run::Limits {
                // One administrator clicking: one request at a time.
                concurrency: 1,
                max_requests: requests,
                max_time: std::time::Duration::from_secs(seconds),
            };
            let outcomes =
                console::run(&server, &team, &cookie, &scim_base, &token, &group, limits)?;
            append(&out, &outcomes, None)
        })(),
        Command::FleetGroups {
            scim_base,
            token,
            groups,
            size,
        } => fleet::setup_groups(&scim_base, &token, groups, size),
        Command::Fleet {
            server,
            scim_base,
            token,
            join_tokens,
            groups,
            size,
            changes,
            wait,
            idle,
            concurrency,
            server_pid,
            out,
        } => (|| {
            let tokens = read_lines(&join_tokens)?;
            let plan = fleet::Plan {
                server: &server,
                scim_base: &scim_base,
                scim_token: &token,
                join_tokens: &tokens,
                groups,
                group_size: size,
                changes,
                wait,
                idle: std::time::Duration::from_secs(idle),
                concurrency,
                server_pid,
            };
            let outcomes = fleet::run(&plan)?;
            // The run's peak RSS stays that of the directory workloads: the fleet's own
            // memory is in its notes.
            append(&out, &outcomes, None)
        })(),
        Command::Report { strict, ours, peer } => (|| {
            let ours = read(&ours)?;
            let peer = peer.as_ref().map(read).transpose()?;
            print!("{}", report::table(&ours, peer.as_ref()));
            if strict {
                report::check(&ours)?;
            }
            Ok(())
        })(),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("loadgen: {e}");
            ExitCode::FAILURE
        }
    }
}
