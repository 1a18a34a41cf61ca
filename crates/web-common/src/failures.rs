//! Failed authentications, limited per source address and per team, so that nobody can
//! guess credentials (SCIM tokens, host credentials, join tokens, sign-in codes, access
//! tokens) at the server's speed.
//!
//! Every route that checks a credential asks [`FailureLimiter::admit`] first. A source or
//! team that is over its budget is refused ([`Refused`]: 429 with `Retry-After`) without
//! the credential being looked at; otherwise the route checks the credential and reports
//! the outcome on the [`Attempt`]: only [`Attempt::failed`] spends budget. A request
//! without a credential, or one that fails for another reason (a malformed body, a
//! database away), spends nothing.
//!
//! Budgets are GCRA (a token bucket kept as one instant per key): a key may fail `burst`
//! times at once, and one failure is restored every `window / burst`. Sources are an
//! IPv4 address or an IPv6 /64 (one subscriber gets a whole /64; limiting single IPv6
//! addresses would let anyone rotate through 2^64 of them). IPv4-mapped IPv6 addresses
//! count as their IPv4 address.
//!
//! A credential that authenticated successfully in the last [`TRUST_TTL`] is *trusted*:
//! it is never refused, whatever its source or team has spent. Otherwise an attacker
//! guessing tokens for a team (its slug is in its Tenant URL), or sharing an address with
//! Entra (a proxy, a NAT), would lock Entra out. Trust only skips the budget check: the
//! credential is still verified in full, so a revoked one fails at once. Only a digest of
//! the credential is kept.
//!
//! Memory is bounded: each table holds at most [`MAX_KEYS`] keys. Keys whose budget is
//! whole again carry no information and are swept when a table fills; while a table is
//! still full (an attacker rotating addresses or team names), new keys share one overflow
//! bucket with the same budget, so rotation buys no extra guesses.

use std::collections::HashMap;
use std::fmt;
use std::hash::Hash;
use std::net::{IpAddr, Ipv6Addr};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::{Duration, Instant};

use actix_web::http::header::{self, HeaderName, HeaderValue};
use sha2::{Digest, Sha256};

/// Most keys in each table (sources, teams, trusted credentials).
pub const MAX_KEYS: usize = 16_384;
/// How long a credential that authenticated stays trusted (see the module documentation).
pub const TRUST_TTL: Duration = Duration::from_secs(24 * 3600);
/// A trusted credential's time is refreshed at most this often (not on every request).
const TRUST_REFRESH: Duration = Duration::from_secs(3600);
/// A full table is swept at most this often.
const SWEEP_INTERVAL: Duration = Duration::from_secs(1);
/// Longest team key kept (a slug has at most 63 characters).
const MAX_TEAM_KEY: usize = 64;

/// The budgets. `burst` failures at once per key, one restored every `window / burst`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct FailureLimits {
    /// Failures one source (IPv4 address, IPv6 /64) may have in a burst; 0: no limit.
    pub per_address: u32,
    /// Failures against one team, from any source, in a burst; 0: no limit.
    pub per_team: u32,
    /// The time in which a spent budget is whole again.
    pub window: Duration,
}

impl Default for FailureLimits {
    /// 30 per source and 120 per team, restored over 60 s (one failure every 2 s per
    /// source, two a second per team).
    fn default() -> Self {
        FailureLimits {
            per_address: 30,
            per_team: 120,
            window: Duration::from_secs(60),
        }
    }
}

/// What was over its budget.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Scope {
    /// The request's source address (or IPv6 /64).
    Address,
    /// The team the request names.
    Team,
}

/// A request refused before its credential was checked: its source or team failed too
/// often. Answered 429 with `Retry-After`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Refused {
    /// What is over its budget.
    pub scope: Scope,
    /// When the next attempt may be made.
    pub retry_after: Duration,
}

impl Refused {
    /// Whole seconds until the next attempt may be made, at least 1 (for `Retry-After`).
    pub fn retry_after_secs(&self) -> u64 {
        let secs = self.retry_after.as_secs();
        let rounded = if self.retry_after.subsec_nanos() > 0 {
            secs + 1
        } else {
            secs
        };
        rounded.max(1)
    }

    /// The `Retry-After` header of the refusal.
    pub fn retry_after_header(&self) -> (HeaderName, HeaderValue) {
        (
            header::RETRY_AFTER,
            HeaderValue::from(self.retry_after_secs()),
        )
    }
}

impl fmt::Display for Refused {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let whose = match self.scope {
            Scope::Address => "from your address",
            Scope::Team => "for this team",
        };
        write!(
            f,
            "too many failed authentications {whose}; retry in {} s",
            self.retry_after_secs()
        )
    }
}

impl std::error::Error for Refused {}

/// The limiter: one per process, shared by every route that checks a credential.
#[derive(Debug)]
pub struct FailureLimiter {
    limits: FailureLimits,
    sources: Mutex<Buckets<IpAddr>>,
    teams: Mutex<Buckets<Box<str>>>,
    trusted: Mutex<Trusted>,
}

impl Default for FailureLimiter {
    fn default() -> Self {
        FailureLimiter::new(FailureLimits::default())
    }
}

/// One credential check, admitted by [`FailureLimiter::admit`]; report how it went.
#[derive(Debug)]
pub struct Attempt {
    limiter: Arc<FailureLimiter>,
    source: Option<IpAddr>,
    team: Option<Box<str>>,
    credential: [u8; 32],
    /// When the credential was last seen authenticating, if it is trusted.
    trusted_at: Option<Instant>,
}

impl Attempt {
    /// The credential was wrong (unknown, revoked, expired, used): spends one failure of
    /// the source's and the team's budget.
    pub fn failed(&self) {
        self.failed_at(Instant::now());
    }

    fn failed_at(&self, now: Instant) {
        if self.trusted_at.is_none() {
            self.limiter.spend(self.source, self.team.as_deref(), now);
        }
    }

    /// The credential authenticated: it is trusted from now on (see the module
    /// documentation). Not for one-time credentials, which are never presented again.
    pub fn succeeded(&self) {
        self.succeeded_at(Instant::now());
    }

    fn succeeded_at(&self, now: Instant) {
        let fresh = self
            .trusted_at
            .is_some_and(|at| now.saturating_duration_since(at) < TRUST_REFRESH);
        if !fresh {
            lock(&self.limiter.trusted).insert(self.credential, now);
        }
    }
}

impl FailureLimiter {
    /// A limiter with these budgets.
    pub fn new(limits: FailureLimits) -> FailureLimiter {
        let now = Instant::now();
        FailureLimiter {
            limits,
            sources: Mutex::new(Buckets::new(limits.per_address, limits.window, now)),
            teams: Mutex::new(Buckets::new(limits.per_team, limits.window, now)),
            trusted: Mutex::new(Trusted::new(now)),
        }
    }

    /// The budgets.
    pub fn limits(&self) -> FailureLimits {
        self.limits
    }

    /// Admits the check of `credential`, sent from `peer` (the request's peer address)
    /// for `team` (the team the request names before it is authenticated, if any), unless
    /// the credential is not trusted and the source or the team is over its budget.
    pub fn admit(
        self: &Arc<Self>,
        peer: Option<IpAddr>,
        team: Option<&str>,
        credential: &str,
    ) -> Result<Attempt, Refused> {
        self.admit_at(peer, team, credential, Instant::now())
    }

    fn admit_at(
        self: &Arc<Self>,
        peer: Option<IpAddr>,
        team: Option<&str>,
        credential: &str,
        now: Instant,
    ) -> Result<Attempt, Refused> {
        let source = peer.map(source_of);
        let team = team.map(team_key);
        let credential = digest(team.as_deref(), credential);
        let trusted_at = lock(&self.trusted).get(&credential, now);
        if trusted_at.is_none() {
            let over = |scope, wait: Option<Duration>| {
                wait.map_or(Ok(()), |retry_after| Err(Refused { scope, retry_after }))
            };
            if let Some(source) = &source {
                over(Scope::Address, lock(&self.sources).wait(source, now))?;
            }
            if let Some(team) = &team {
                over(Scope::Team, lock(&self.teams).wait(team, now))?;
            }
        }
        Ok(Attempt {
            limiter: self.clone(),
            source,
            team,
            credential,
            trusted_at,
        })
    }

    /// Spends one failure of `source` and `team`, saying so in the log when that puts
    /// one of them over its budget.
    fn spend(&self, source: Option<IpAddr>, team: Option<&str>, now: Instant) {
        if let Some(source) = source
            && lock(&self.sources).spend(source, now)
        {
            log::warn!(
                "failed authentications from {} exceed {} in {} s: refusing its unauthenticated requests until the budget refills",
                SourceDisplay(source),
                self.limits.per_address,
                self.limits.window.as_secs()
            );
        }
        if let Some(team) = team
            && lock(&self.teams).spend(team.into(), now)
        {
            log::warn!(
                "failed authentications for team {team:?} exceed {} in {} s: refusing its unauthenticated requests until the budget refills",
                self.limits.per_team,
                self.limits.window.as_secs()
            );
        }
    }
}

fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(PoisonError::into_inner)
}

/// The key of a peer: its IPv4 address, or its IPv6 /64.
fn source_of(ip: IpAddr) -> IpAddr {
    match ip.to_canonical() {
        IpAddr::V6(v6) => IpAddr::V6(Ipv6Addr::from(u128::from(v6) & (u128::MAX << 64))),
        v4 => v4,
    }
}

/// A source as logged: `192.0.2.7` or `2001:db8:1:2::/64`.
struct SourceDisplay(IpAddr);

impl fmt::Display for SourceDisplay {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.0 {
            IpAddr::V4(v4) => write!(f, "{v4}"),
            IpAddr::V6(v6) => write!(f, "{v6}/64"),
        }
    }
}

/// The key of a team name from a URL: at most [`MAX_TEAM_KEY`] bytes of it (a longer one
/// names no team, and such names may share a key).
fn team_key(team: &str) -> Box<str> {
    let mut end = team.len().min(MAX_TEAM_KEY);
    while !team.is_char_boundary(end) {
        end -= 1;
    }
    team[..end].into()
}

/// The digest a credential is remembered by; the team is part of it, since a SCIM token
/// is valid for one team only.
fn digest(team: Option<&str>, credential: &str) -> [u8; 32] {
    let mut hash = Sha256::new();
    hash.update(team.unwrap_or_default().as_bytes());
    hash.update([0]);
    hash.update(credential.as_bytes());
    hash.finalize().into()
}

/// GCRA state of one kind of key: per key the theoretical arrival time of its next
/// failure (TAT). A key whose TAT is past has its whole budget and needs no entry.
#[derive(Debug)]
struct Buckets<K> {
    /// Failures allowed in a burst; 0: no limit.
    burst: u32,
    /// The time one failure takes to be restored: `window / burst`.
    interval: Duration,
    /// The whole window: `burst * interval`.
    window: Duration,
    tat: HashMap<K, Instant>,
    /// The TAT shared by the keys that found the table full.
    overflow: Instant,
    next_sweep: Instant,
}

impl<K: Hash + Eq> Buckets<K> {
    fn new(burst: u32, window: Duration, now: Instant) -> Buckets<K> {
        let interval = window.checked_div(burst).unwrap_or_default();
        Buckets {
            burst,
            interval,
            window: interval * burst,
            tat: HashMap::new(),
            overflow: now,
            next_sweep: now,
        }
    }

    /// The TAT of `key`: its own, the overflow's when the table is full, else none.
    fn tat_of(&self, key: &K) -> Option<Instant> {
        match self.tat.get(key) {
            Some(tat) => Some(*tat),
            None if self.tat.len() >= MAX_KEYS => Some(self.overflow),
            None => None,
        }
    }

    /// How long until `key` may fail again, if it is over its budget now.
    fn wait(&self, key: &K, now: Instant) -> Option<Duration> {
        if self.burst == 0 {
            return None;
        }
        // Over budget when one more failure would push the TAT beyond a whole window.
        let allowed = now + (self.window - self.interval);
        let tat = self.tat_of(key)?;
        (tat > allowed).then(|| tat - allowed)
    }

    /// Spends one failure of `key`; true if that leaves it over its budget.
    fn spend(&mut self, key: K, now: Instant) -> bool {
        if self.burst == 0 {
            return false;
        }
        let (interval, ceiling) = (self.interval, now + self.window);
        let next = |tat: Instant| (tat.max(now) + interval).min(ceiling);
        if !self.tat.contains_key(&key) && self.tat.len() >= MAX_KEYS {
            self.sweep(now);
        }
        let allowed = now + (self.window - self.interval);
        let was_over = self.tat_of(&key).is_some_and(|tat| tat > allowed);
        let tat = if let Some(tat) = self.tat.get_mut(&key) {
            *tat = next(*tat);
            *tat
        } else if self.tat.len() < MAX_KEYS {
            let tat = next(now);
            self.tat.insert(key, tat);
            tat
        } else {
            self.overflow = next(self.overflow);
            self.overflow
        };
        // Over budget now, but not before this failure: said once per episode.
        tat > allowed && !was_over
    }

    /// Drops the keys whose budget is whole again, at most once per [`SWEEP_INTERVAL`].
    fn sweep(&mut self, now: Instant) {
        if now < self.next_sweep {
            return;
        }
        self.next_sweep = now + SWEEP_INTERVAL;
        self.tat.retain(|_, tat| *tat > now);
    }
}

/// Credentials that authenticated recently, by digest, with when they last did.
#[derive(Debug)]
struct Trusted {
    seen: HashMap<[u8; 32], Instant>,
    next_sweep: Instant,
}

impl Trusted {
    fn new(now: Instant) -> Trusted {
        Trusted {
            seen: HashMap::new(),
            next_sweep: now,
        }
    }

    /// When `credential` last authenticated, if less than [`TRUST_TTL`] ago.
    fn get(&self, credential: &[u8; 32], now: Instant) -> Option<Instant> {
        let at = *self.seen.get(credential)?;
        (now.saturating_duration_since(at) < TRUST_TTL).then_some(at)
    }

    fn insert(&mut self, credential: [u8; 32], now: Instant) {
        if self.seen.len() >= MAX_KEYS && !self.seen.contains_key(&credential) {
            if now >= self.next_sweep {
                self.next_sweep = now + SWEEP_INTERVAL;
                self.seen
                    .retain(|_, at| now.saturating_duration_since(*at) < TRUST_TTL);
            }
            // More clients than the table holds, all recent: start afresh. Those
            // forgotten are checked against their budgets again, nothing more.
            if self.seen.len() >= MAX_KEYS {
                self.seen.clear();
            }
        }
        self.seen.insert(credential, now);
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use std::net::Ipv4Addr;

    fn limiter(per_address: u32, per_team: u32) -> Arc<FailureLimiter> {
        Arc::new(FailureLimiter::new(FailureLimits {
            per_address,
            per_team,
            window: Duration::from_secs(60),
        }))
    }

    fn v4(last: u8) -> Option<IpAddr> {
        Some(IpAddr::V4(Ipv4Addr::new(192, 0, 2, last)))
    }

    /// Fails `n` times with wrong credentials from `peer` for `team` at `now`.
    fn fail(
        l: &Arc<FailureLimiter>,
        peer: Option<IpAddr>,
        team: Option<&str>,
        n: u32,
        now: Instant,
    ) {
        for i in 0..n {
            l.admit_at(peer, team, &format!("wrong-{i}"), now)
                .unwrap()
                .failed_at(now);
        }
    }

    #[test]
    fn a_burst_then_one_failure_per_interval() {
        let l = limiter(30, 0);
        let t0 = Instant::now();
        fail(&l, v4(1), None, 30, t0);
        let refused = l.admit_at(v4(1), None, "guess", t0).unwrap_err();
        assert_eq!(refused.scope, Scope::Address);
        assert_eq!(refused.retry_after, Duration::from_secs(2));
        assert_eq!(refused.retry_after_secs(), 2);
        // Another address is not affected.
        assert!(l.admit_at(v4(2), None, "guess", t0).is_ok());
        // One failure is restored every window / burst = 2 s.
        let t1 = t0 + Duration::from_secs(2);
        fail(&l, v4(1), None, 1, t1);
        assert!(l.admit_at(v4(1), None, "guess", t1).is_err());
        // After a whole window, the whole burst again.
        let t2 = t1 + Duration::from_secs(60);
        fail(&l, v4(1), None, 30, t2);
        assert!(l.admit_at(v4(1), None, "guess", t2).is_err());
    }

    #[test]
    fn successes_never_spend_and_trusted_credentials_pass() {
        let l = limiter(3, 5);
        let t0 = Instant::now();
        for _ in 0..1000 {
            l.admit_at(v4(1), Some("acme"), "good", t0)
                .unwrap()
                .succeeded_at(t0);
        }
        // A guesser at the same address and at the team uses up both budgets...
        fail(&l, v4(1), Some("acme"), 3, t0);
        fail(&l, v4(9), Some("acme"), 2, t0);
        assert_eq!(
            l.admit_at(v4(1), Some("acme"), "guess", t0)
                .unwrap_err()
                .scope,
            Scope::Address
        );
        assert_eq!(
            l.admit_at(v4(7), Some("acme"), "guess", t0)
                .unwrap_err()
                .scope,
            Scope::Team
        );
        // ... but the credential that authenticated is still admitted, from anywhere, and
        // its failure (revoked meanwhile) spends nothing.
        let trusted = l.admit_at(v4(1), Some("acme"), "good", t0).unwrap();
        trusted.failed_at(t0);
        assert!(l.admit_at(v4(8), Some("acme"), "good", t0).is_ok());
        // Trust is per team: the same secret for another team is a stranger.
        assert!(l.admit_at(v4(1), Some("other"), "good", t0).is_err());
        // A credential that never authenticated waits for the refill.
        assert!(l.admit_at(v4(1), Some("acme"), "new", t0).is_err());
        // Trust ends after TRUST_TTL.
        let later = t0 + TRUST_TTL + Duration::from_secs(1);
        fail(&l, v4(1), None, 3, later);
        assert!(l.admit_at(v4(1), Some("acme"), "good", later).is_err());
    }

    #[test]
    fn ipv6_is_limited_per_64_and_mapped_ipv4_as_ipv4() {
        let l = limiter(2, 0);
        let t0 = Instant::now();
        let a: IpAddr = "2001:db8:1:2::1".parse().unwrap();
        let b: IpAddr = "2001:db8:1:2:ffff:ffff:ffff:ffff".parse().unwrap();
        let c: IpAddr = "2001:db8:1:3::1".parse().unwrap();
        fail(&l, Some(a), None, 2, t0);
        assert!(l.admit_at(Some(b), None, "x", t0).is_err());
        assert!(l.admit_at(Some(c), None, "x", t0).is_ok());
        fail(&l, v4(5), None, 2, t0);
        let mapped: IpAddr = "::ffff:192.0.2.5".parse().unwrap();
        assert!(l.admit_at(Some(mapped), None, "x", t0).is_err());
        assert_eq!(SourceDisplay(source_of(a)).to_string(), "2001:db8:1:2::/64");
    }

    #[test]
    fn zero_means_no_limit() {
        let l = limiter(0, 0);
        let t0 = Instant::now();
        fail(&l, v4(1), Some("acme"), 1000, t0);
        assert!(l.admit_at(v4(1), Some("acme"), "x", t0).is_ok());
        assert!(lock(&l.sources).tat.is_empty());
    }

    #[test]
    fn rotating_sources_stay_bounded_and_share_the_overflow() {
        let l = limiter(3, 0);
        let t0 = Instant::now();
        let source = |i: usize| Some(IpAddr::V4(Ipv4Addr::from(0x0a00_0000 + i as u32)));
        // The table fills with addresses that failed once each...
        for i in 0..MAX_KEYS {
            l.admit_at(source(i), None, "guess", t0)
                .unwrap()
                .failed_at(t0);
        }
        // ... then new addresses share one overflow budget of 3 failures.
        for i in MAX_KEYS..MAX_KEYS + 3 {
            l.admit_at(source(i), None, "guess", t0)
                .unwrap()
                .failed_at(t0);
        }
        assert_eq!(lock(&l.sources).tat.len(), MAX_KEYS);
        let refused = l.admit_at(source(MAX_KEYS + 10), None, "guess", t0);
        assert_eq!(refused.unwrap_err().scope, Scope::Address);
        // Addresses in the table keep their own budget.
        assert!(l.admit_at(source(7), None, "guess", t0).is_ok());
        // Once the spent budgets refill, a sweep makes room again.
        let later = t0 + Duration::from_secs(61);
        l.admit_at(source(2 * MAX_KEYS), None, "guess", later)
            .unwrap()
            .failed_at(later);
        assert_eq!(lock(&l.sources).tat.len(), 1);
    }

    #[test]
    fn teams_and_trusted_credentials_stay_bounded() {
        let l = limiter(0, 3);
        let t0 = Instant::now();
        for i in 0..2 * MAX_KEYS {
            if let Ok(attempt) = l.admit_at(None, Some(&format!("team-{i}")), "guess", t0) {
                attempt.failed_at(t0);
            }
            l.admit_at(None, None, &format!("good-{i}"), t0)
                .unwrap()
                .succeeded_at(t0);
        }
        assert_eq!(lock(&l.teams).tat.len(), MAX_KEYS);
        assert!(lock(&l.trusted).seen.len() <= MAX_KEYS);
        // A team name longer than any slug is cut.
        let long = "é".repeat(100);
        assert!(team_key(&long).len() <= MAX_TEAM_KEY);
    }

    #[test]
    fn refusals_say_when_to_come_back() {
        let r = Refused {
            scope: Scope::Team,
            retry_after: Duration::from_millis(1500),
        };
        assert_eq!(r.retry_after_secs(), 2);
        assert_eq!(
            r.to_string(),
            "too many failed authentications for this team; retry in 2 s"
        );
        let r = Refused {
            scope: Scope::Address,
            retry_after: Duration::ZERO,
        };
        assert_eq!(r.retry_after_secs(), 1);
    }
}
