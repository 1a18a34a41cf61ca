//! Running requests from several workers, bounded in count and in time, and summarising
//! their latencies.

use serde_json::{Value, json};
use std::sync::Mutex;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

/// Limits of one run: it stops at whichever comes first.
#[derive(Clone, Copy, Debug)]
pub struct Limits {
    /// Workers (connections) in flight.
    pub concurrency: usize,
    /// Most requests (or jobs) in all.
    pub max_requests: usize,
    /// Longest run.
    pub max_time: Duration,
}

/// What one run measured.
#[derive(Clone, Debug)]
pub struct Outcome {
    /// Workload name.
    pub name: String,
    /// Requests sent.
    pub requests: usize,
    /// Requests that failed (transport error or unexpected status).
    pub errors: usize,
    /// Wall time of the run.
    pub elapsed: Duration,
    /// Median latency.
    pub p50: Duration,
    /// 99th percentile latency.
    pub p99: Duration,
    /// Highest latency.
    pub max: Duration,
    /// The first error seen, to explain a non-zero `errors`.
    pub first_error: Option<String>,
    /// What else the workload measured, for the report (one sentence).
    pub notes: Option<String>,
}

impl Outcome {
    /// The outcome of `latencies` (in any order) measured over `elapsed`.
    pub fn measured(
        name: String,
        mut latencies: Vec<Duration>,
        errors: usize,
        elapsed: Duration,
        first_error: Option<String>,
    ) -> Outcome {
        latencies.sort_unstable();
        let pick = |q: usize| {
            latencies
                .get((latencies.len() * q / 100).min(latencies.len().saturating_sub(1)))
                .copied()
                .unwrap_or_default()
        };
        Outcome {
            name,
            requests: latencies.len(),
            errors,
            elapsed,
            p50: pick(50),
            p99: pick(99),
            max: latencies.last().copied().unwrap_or_default(),
            first_error,
            notes: None,
        }
    }

    /// Requests per second.
    pub fn rate(&self) -> f64 {
        self.requests as f64 / self.elapsed.as_secs_f64().max(1e-9)
    }

    /// As JSON, for the results file.
    pub fn to_json(&self) -> Value {
        json!({
            "name": self.name,
            "requests": self.requests,
            "errors": self.errors,
            "seconds": self.elapsed.as_secs_f64(),
            "rps": self.rate(),
            "p50_ms": self.p50.as_secs_f64() * 1000.0,
            "p99_ms": self.p99.as_secs_f64() * 1000.0,
            "max_ms": self.max.as_secs_f64() * 1000.0,
            "first_error": self.first_error,
            "notes": self.notes,
        })
    }
}

/// A tiny xorshift generator: enough to pick random users, no dependency.
pub struct Rng(u64);

impl Rng {
    /// A generator seeded from `seed` (never zero).
    pub fn new(seed: u64) -> Rng {
        Rng(seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1)
    }

    /// The next number in `0..n` (n > 0).
    pub fn below(&mut self, n: usize) -> usize {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        (self.0 % n.max(1) as u64) as usize
    }
}

/// Runs `job(worker_state, index)` for indices `0..limits.max_requests` on
/// `limits.concurrency` threads until done or out of time. Each job is one timed request
/// (or one timed unit of work); it returns an error text for a failure.
pub fn run<S, I, J>(name: &str, limits: Limits, init: I, job: J) -> Outcome
where
    I: Fn(usize) -> S + Sync,
    J: Fn(&mut S, usize) -> Result<(), String> + Sync,
{
    let next = AtomicUsize::new(0);
    let latencies = Mutex::new(Vec::with_capacity(limits.max_requests.min(10_000_000)));
    let errors = AtomicUsize::new(0);
    let first_error = Mutex::new(None);
    let start = Instant::now();
    let deadline = start + limits.max_time;
    std::thread::scope(|scope| {
        for worker in 0..limits.concurrency.max(1) {
            let (next, latencies, errors, first_error) = (&next, &latencies, &errors, &first_error);
            let (init, job) = (&init, &job);
            scope.spawn(move || {
                let mut state = init(worker);
                let mut mine = Vec::new();
                loop {
                    let i = next.fetch_add(1, Ordering::Relaxed);
                    if i >= limits.max_requests || Instant::now() >= deadline {
                        break;
                    }
                    let t = Instant::now();
                    let result = job(&mut state, i);
                    mine.push(t.elapsed());
                    if let Err(e) = result {
                        errors.fetch_add(1, Ordering::Relaxed);
                        if let Ok(mut slot) = first_error.lock() {
                            slot.get_or_insert(e);
                        }
                    }
                }
                if let Ok(mut all) = latencies.lock() {
                    all.extend(mine);
                }
            });
        }
    });
    Outcome::measured(
        name.to_string(),
        latencies.into_inner().unwrap_or_default(),
        errors.into_inner(),
        start.elapsed(),
        first_error.into_inner().unwrap_or_default(),
    )
}

/// Checks a status code.
pub fn expect(status: u16, wanted: &[u16], what: &str) -> Result<(), String> {
    if wanted.contains(&status) {
        Ok(())
    } else {
        Err(format!("{what}: HTTP {status}, expected {wanted:?}"))
    }
}
