//! Team revisions read by long-polls, shared by every waiting host of the team.
//!
//! A long-poll re-reads its team's revision every poll interval. With a thousand hosts
//! waiting, one read each would be five thousand queries a second while nothing changes;
//! here the first waiter to find the last reading too old reads the revision again and
//! the others take its reading, so a team costs one query per interval however many hosts
//! wait on it.

use std::collections::HashMap;
use std::sync::{Mutex, PoisonError};
use std::time::{Duration, Instant};

use app::TeamLocks;
use store::{Store, TeamId};

use crate::ApiError;

/// Most teams remembered; past this the readings start afresh.
const CAPACITY: usize = 4096;

/// The latest revision read for each team, and when it was read.
#[derive(Debug, Default)]
pub struct Revisions {
    readings: Mutex<HashMap<TeamId, (i64, Instant)>>,
    /// One reader per team at a time; other teams read in parallel.
    reading: TeamLocks,
}

impl Revisions {
    /// The revision of `team` read less than `max_age` ago, if any (no database work).
    pub fn fresh(&self, team: TeamId, max_age: Duration) -> Option<i64> {
        let readings = self.readings.lock().unwrap_or_else(PoisonError::into_inner);
        let (revision, at) = readings.get(&team)?;
        (at.elapsed() < max_age).then_some(*revision)
    }

    /// The revision of `team`, read from the database unless another caller read it less
    /// than `max_age` ago. Blocks (diesel): call it on the blocking pool.
    pub fn current(&self, store: &Store, team: TeamId, max_age: Duration) -> Result<i64, ApiError> {
        // One reader per team at a time: the callers that waited find its fresh reading.
        let lock = self.reading.of(team);
        let _reading = lock.lock().unwrap_or_else(PoisonError::into_inner);
        if let Some(revision) = self.fresh(team, max_age) {
            return Ok(revision);
        }
        let revision = store.read(|tx| tx.teams().revision(team))?;
        let mut readings = self.readings.lock().unwrap_or_else(PoisonError::into_inner);
        if readings.len() >= CAPACITY {
            readings.clear();
        }
        readings.insert(team, (revision, Instant::now()));
        Ok(revision)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use store::StoreConfig;

    #[test]
    fn waiters_share_a_reading_until_it_is_too_old() {
        let store = Store::open(&StoreConfig::new("sqlite::memory:")).unwrap();
        let team = store.write(|tx| tx.teams().create("t", "T")).unwrap().id;
        let revisions = Revisions::default();
        let long = Duration::from_secs(3600);
        assert_eq!(revisions.fresh(team, long), None, "nothing read yet");
        let first = revisions.current(&store, team, long).unwrap();
        assert_eq!(revisions.fresh(team, long), Some(first));

        // A change in the team: waiters keep the shared reading while it is fresh...
        store
            .write(|tx| {
                tx.users()
                    .insert(team, serde_json::from_str(r#"{"userName": "a"}"#).unwrap())
            })
            .unwrap();
        assert_eq!(revisions.current(&store, team, long).unwrap(), first);
        // ...and the first one to find it too old reads the new revision for all.
        let second = revisions.current(&store, team, Duration::ZERO).unwrap();
        assert!(second > first, "{second} > {first}");
        assert_eq!(revisions.fresh(team, long), Some(second));
        assert_eq!(
            revisions.fresh(store::TeamId(team.0 + 1), long),
            None,
            "other team"
        );
    }
}
