//! Team revisions that long-polls wait on: one watcher per team, however many hosts wait.
//!
//! A long-poll waits for its team's revision to change. If each of ten thousand waiting
//! hosts re-read it every poll interval, an idle fleet would cost fifty thousand wake-ups
//! a second. Instead the first waiter of a team starts a watcher task that reads the
//! revision once per interval and publishes it on a [`watch`] channel; the waiters sleep
//! until it publishes. The watcher ends once no host waits. It reads the database rather
//! than listening in-process so that a change made by another instance against the same
//! PostgreSQL reaches this instance's waiters too.
//!
//! The watcher also paces bursts (Entra provisions in bursts: an initial sync is
//! thousands of writes, each a new revision). It publishes a change as soon as it reads
//! it, unless it published less than [`SETTLE`] ago; then it publishes the revision it
//! reads once that time is up. A single change (a disable) reaches the hosts within one
//! poll interval; during a burst each waiting host fetches at most one document a second;
//! and hosts that wait together ask for the same revision, whose document is computed
//! once.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

use app::App;
use store::TeamId;
use tokio::sync::watch;
use web_common::blocking;

use crate::ApiError;

/// The least time between two publications of a team's watcher.
pub const SETTLE: Duration = Duration::from_secs(1);

/// The published revision of each team that has waiters.
#[derive(Debug, Default)]
pub struct Revisions {
    watchers: Mutex<HashMap<TeamId, watch::Sender<i64>>>,
}

impl Revisions {
    /// The published revisions of `team`, starting its watcher (reading every `interval`)
    /// if none runs. `known` is a revision the caller has just read, published at once
    /// when the team has no watcher yet. Call it on the async runtime (it may spawn).
    pub fn subscribe(
        self: &Arc<Self>,
        app: &App,
        team: TeamId,
        known: i64,
        interval: Duration,
    ) -> watch::Receiver<i64> {
        let mut watchers = self.watchers.lock().unwrap_or_else(PoisonError::into_inner);
        if let Some(sender) = watchers.get(&team) {
            return sender.subscribe();
        }
        let (sender, receiver) = watch::channel(known);
        watchers.insert(team, sender.clone());
        actix_web::rt::spawn(watch_team(
            self.clone(),
            app.clone(),
            team,
            sender,
            interval,
        ));
        receiver
    }

    /// Whether `team` has a running watcher (for tests).
    #[cfg(test)]
    fn watching(&self, team: TeamId) -> bool {
        let watchers = self.watchers.lock().unwrap_or_else(PoisonError::into_inner);
        watchers.contains_key(&team)
    }

    /// Removes `team`'s watcher if nobody waits on it. Checked under the lock that
    /// [`Self::subscribe`] takes, so no waiter subscribes to a channel that nobody feeds.
    fn retire_if_unwatched(&self, team: TeamId) -> bool {
        let mut watchers = self.watchers.lock().unwrap_or_else(PoisonError::into_inner);
        let unwatched = watchers
            .get(&team)
            .is_none_or(|sender| sender.receiver_count() == 0);
        if unwatched {
            watchers.remove(&team);
        }
        unwatched
    }
}

/// Reads `team`'s revision every `interval` while somebody waits, and publishes changes
/// at most once per [`SETTLE`] (see the module documentation).
async fn watch_team(
    revisions: Arc<Revisions>,
    app: App,
    team: TeamId,
    published: watch::Sender<i64>,
    interval: Duration,
) {
    let mut last_publication: Option<Instant> = None;
    loop {
        actix_web::rt::time::sleep(interval).await;
        if revisions.retire_if_unwatched(team) {
            return;
        }
        let app = app.clone();
        let reading =
            blocking(move || Ok::<_, ApiError>(app.store().read(|tx| tx.teams().revision(team))?))
                .await;
        let reading = match reading {
            Ok(reading) => reading,
            // The waiters keep waiting (until their deadline); the next interval retries.
            Err(e) => {
                log::warn!("long-poll: could not read the revision of team {team}: {e}");
                continue;
            }
        };
        let due = last_publication.is_none_or(|at| at.elapsed() >= SETTLE);
        if reading != *published.borrow() && due {
            published.send_replace(reading);
            last_publication = Some(Instant::now());
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use store::{Store, StoreConfig};

    #[actix_web::test]
    async fn one_watcher_publishes_changes_paced_and_ends_without_waiters() {
        let store = Store::open(&StoreConfig::new("sqlite::memory:")).unwrap();
        let team = store.write(|tx| tx.teams().create("t", "T")).unwrap().id;
        let first = store.read(|tx| tx.teams().revision(team)).unwrap();
        let app = App::new(store.clone(), app::Kek::generate().unwrap());
        let revisions = Arc::new(Revisions::default());
        let interval = Duration::from_millis(100);
        let mut a = revisions.subscribe(&app, team, first, interval);
        let mut b = revisions.subscribe(&app, team, first + 100, interval);
        assert_eq!(
            *b.borrow(),
            first,
            "the running watcher's value, not the caller's"
        );

        let add = |name: &str| {
            let body = serde_json::json!({ "userName": name });
            store
                .write(|tx| {
                    tx.users()
                        .insert(team, serde_json::from_value(body).unwrap())
                })
                .unwrap();
        };
        add("a");
        let started = Instant::now();
        a.changed().await.unwrap();
        let published = Instant::now();
        let second = *a.borrow_and_update();
        assert!(second > first, "{second} > {first}");
        assert!(
            started.elapsed() < SETTLE,
            "a single change is published at the next reading, not held back"
        );
        b.changed().await.unwrap();
        assert_eq!(
            *b.borrow_and_update(),
            second,
            "every waiter sees the same value"
        );

        // A burst: the next publication waits until SETTLE after the last one.
        let burst = actix_web::rt::spawn({
            let store = store.clone();
            async move {
                for i in 0..200 {
                    let body = serde_json::json!({ "userName": format!("burst{i}") });
                    store
                        .write(|tx| {
                            tx.users()
                                .insert(team, serde_json::from_value(body).unwrap())
                        })
                        .unwrap();
                    actix_web::rt::time::sleep(Duration::from_millis(10)).await;
                }
            }
        });
        a.changed().await.unwrap();
        assert!(*a.borrow_and_update() > second);
        // The watcher noted its publication before this test saw it: up to an interval.
        let gap = published.elapsed();
        assert!(
            gap >= SETTLE - interval && gap < SETTLE * 2,
            "published {gap:?} after the last publication"
        );
        burst.abort();

        drop((a, b));
        let deadline = Instant::now() + Duration::from_secs(5);
        while revisions.watching(team) && Instant::now() < deadline {
            actix_web::rt::time::sleep(interval).await;
        }
        assert!(!revisions.watching(team), "no waiter, no watcher");
    }
}
