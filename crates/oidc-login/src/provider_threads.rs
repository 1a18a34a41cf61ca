//! Threads for sign-in work that talks to the identity provider.
//!
//! Discovery, key sets, code exchange and device polls are network calls that take as
//! long as the provider does (up to the HTTP timeout). actix's blocking pool is sized to
//! the database pool, so running them there would let a slow provider starve SCIM and the
//! agent API of database threads. They run here instead: each on a thread of its own,
//! at most [`PROVIDER_THREADS`] at once; further sign-ins wait for a slot without holding
//! any thread.

use tokio::sync::{Semaphore, oneshot};

use crate::error::LoginError;

/// Most sign-in calls to identity providers in flight at once, per process.
pub const PROVIDER_THREADS: usize = 16;

/// The slots of [`PROVIDER_THREADS`].
#[derive(Debug)]
pub(crate) struct ProviderThreads {
    slots: Semaphore,
}

impl Default for ProviderThreads {
    fn default() -> Self {
        ProviderThreads {
            slots: Semaphore::new(PROVIDER_THREADS),
        }
    }
}

impl ProviderThreads {
    /// Runs `f` on a thread of its own once a slot is free, and returns its result.
    pub(crate) async fn run<T, F>(&self, f: F) -> Result<T, LoginError>
    where
        F: FnOnce() -> Result<T, LoginError> + Send + 'static,
        T: Send + 'static,
    {
        let _slot = self
            .slots
            .acquire()
            .await
            .map_err(|_| LoginError::Internal("the sign-in threads are shut down".into()))?;
        let (send, receive) = oneshot::channel();
        std::thread::Builder::new()
            .name("sshward-sign-in".into())
            .spawn(move || {
                // The receiver is gone only if the request was dropped; nothing to tell.
                let _ = send.send(f());
            })
            .map_err(|e| LoginError::Internal(format!("cannot start a sign-in thread: {e}")))?;
        receive
            .await
            .map_err(|_| LoginError::Internal("a sign-in thread ended without an answer".into()))?
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use std::sync::Arc;
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::time::Duration;

    #[actix_rt::test]
    async fn at_most_the_slots_run_at_once() {
        let threads = Arc::new(ProviderThreads::default());
        let running = Arc::new(AtomicUsize::new(0));
        let peak = Arc::new(AtomicUsize::new(0));
        let calls: Vec<_> = (0..PROVIDER_THREADS * 2)
            .map(|i| {
                let (threads, running, peak) = (threads.clone(), running.clone(), peak.clone());
                actix_rt::spawn(async move {
                    threads
                        .run(move || {
                            let now = running.fetch_add(1, Ordering::SeqCst) + 1;
                            peak.fetch_max(now, Ordering::SeqCst);
                            std::thread::sleep(Duration::from_millis(20));
                            running.fetch_sub(1, Ordering::SeqCst);
                            Ok(i)
                        })
                        .await
                })
            })
            .collect();
        for (i, call) in calls.into_iter().enumerate() {
            assert_eq!(call.await.unwrap().unwrap(), i);
        }
        let peak = peak.load(Ordering::SeqCst);
        assert!((1..=PROVIDER_THREADS).contains(&peak), "{peak}");
    }

    #[actix_rt::test]
    async fn errors_come_back() {
        let threads = ProviderThreads::default();
        let failed = threads
            .run(|| Err::<(), _>(LoginError::Provider("down".into())))
            .await;
        assert!(matches!(failed, Err(LoginError::Provider(_))));
    }
}
