//! Limits on password work: failed sign-ins per email, and argon2 hashes running at once.
//!
//! Each password check costs tens of milliseconds of CPU on purpose. Without limits a script can
//! guess a viewer's password at leisure, or keep every core busy hashing so that browsing and
//! playback stall. Failures are counted per normalised email in a fixed window. Peer addresses
//! are not used: behind an edge or a load balancer every viewer shares one.

use std::sync::Arc;
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::{Duration, Instant};

use moka::sync::Cache;
use tokio::sync::{Semaphore, SemaphorePermit};

use crate::error::{ApiError, ApiResult, Code};

/// Failed sign-ins allowed per email in one window.
pub const MAX_FAILURES: u32 = 10;
/// Length of the window that starts with an email's first failure.
pub const WINDOW: Duration = Duration::from_secs(15 * 60);
/// How long a sign-in or sign-up waits for a free hashing slot before giving up with 503.
const HASH_QUEUE_WAIT: Duration = Duration::from_secs(10);
/// Emails tracked at once; beyond this the oldest windows are forgotten first.
const MAX_TRACKED: u64 = 100_000;

struct Window {
    started: Instant,
    failures: AtomicU32,
}

pub struct PasswordThrottle {
    windows: Cache<String, Arc<Window>>,
    hashing: Semaphore,
}

impl PasswordThrottle {
    /// `hash_slots`: argon2 runs allowed at once (the core count leaves nothing to spare, so
    /// callers pass fewer on small machines).
    pub fn new(hash_slots: usize) -> Self {
        Self {
            windows: Cache::builder()
                .max_capacity(MAX_TRACKED)
                .time_to_live(WINDOW)
                .build(),
            hashing: Semaphore::new(hash_slots.max(1)),
        }
    }

    /// Refuses with 429 and `Retry-After` while `email` has used up its failures.
    pub fn check(&self, email: &str) -> ApiResult<()> {
        self.check_key(email, "sign-ins for this email")
    }

    /// Like [`PasswordThrottle::check`] for any `key` (e.g. a profile's PIN), with `what`
    /// failed in the answer.
    pub fn check_key(&self, key: &str, what: &str) -> ApiResult<()> {
        let Some(window) = self.windows.get(key) else {
            return Ok(());
        };
        if window.failures.load(Ordering::Relaxed) < MAX_FAILURES {
            return Ok(());
        }
        let wait = WINDOW
            .saturating_sub(window.started.elapsed())
            .as_secs()
            .max(1);
        metrics::counter!("marquee_origin_sign_in_throttled_total").increment(1);
        Err(ApiError::new(
            Code::TooManyAttempts,
            format!(
                "too many failed {what}; try again in {} minutes",
                wait.div_ceil(60)
            ),
        )
        .retry_after(wait))
    }

    pub fn failed(&self, email: &str) {
        let window = self.windows.get_with(email.to_owned(), || {
            Arc::new(Window {
                started: Instant::now(),
                failures: AtomicU32::new(0),
            })
        });
        window.failures.fetch_add(1, Ordering::Relaxed);
    }

    pub fn succeeded(&self, email: &str) {
        self.windows.invalidate(email);
    }

    /// Hashes `secret` (a password or a PIN) with Argon2id, in a hashing slot and off the
    /// async workers.
    pub async fn hash(&self, secret: String) -> ApiResult<String> {
        let slot = self.hashing_slot().await?;
        let hashed = off_workers(move || super::auth::hash_password(&secret)).await?;
        drop(slot);
        Ok(hashed?)
    }

    /// Whether `secret` matches the Argon2id `phc`, checked the same way.
    pub async fn verify(&self, secret: String, phc: String) -> ApiResult<bool> {
        let slot = self.hashing_slot().await?;
        let matched = off_workers(move || super::auth::verify_password(&secret, &phc)).await?;
        drop(slot);
        Ok(matched)
    }

    /// A hashing slot, waited for at most [`HASH_QUEUE_WAIT`]; 503 with `Retry-After` when
    /// the queue does not move.
    pub async fn hashing_slot(&self) -> ApiResult<SemaphorePermit<'_>> {
        match tokio::time::timeout(HASH_QUEUE_WAIT, self.hashing.acquire()).await {
            Ok(Ok(permit)) => Ok(permit),
            _ => Err(ApiError::new(
                Code::Unavailable,
                "too many sign-ins at once; try again in a moment",
            )
            .retry_after(5)),
        }
    }
}

/// Hashing is CPU-heavy: keep it off the async workers.
async fn off_workers<T: Send + 'static>(f: impl FnOnce() -> T + Send + 'static) -> ApiResult<T> {
    tokio::task::spawn_blocking(f)
        .await
        .map_err(|e| ApiError::internal("blocking task", e))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_email_is_locked_after_its_failures_and_freed_by_a_success() {
        let t = PasswordThrottle::new(1);
        for _ in 0..MAX_FAILURES {
            assert!(t.check("ada@example.com").is_ok());
            t.failed("ada@example.com");
        }
        let err = t.check("ada@example.com").unwrap_err();
        assert_eq!(err.code, Code::TooManyAttempts);
        let wait = err.retry_after_secs.expect("Retry-After");
        assert!(
            (WINDOW.as_secs() - 5..=WINDOW.as_secs()).contains(&wait),
            "{wait}"
        );
        assert!(err.message.contains("15 minutes"), "{}", err.message);
        assert!(
            t.check("bob@example.com").is_ok(),
            "other emails are not affected"
        );
        t.succeeded("ada@example.com");
        assert!(t.check("ada@example.com").is_ok());
    }

    #[tokio::test]
    async fn hashing_slots_are_bounded() {
        let t = PasswordThrottle::new(2);
        let a = t.hashing_slot().await.unwrap();
        let _b = t.hashing_slot().await.unwrap();
        assert_eq!(t.hashing.available_permits(), 0);
        drop(a);
        assert!(t.hashing_slot().await.is_ok());
    }
}
