//! The bounds of one transaction's attempts: how often and how long it may be retried.

use std::time::{Duration, Instant};

/// Bounds the attempts of one transaction as the driver's own `with_transaction` does: a
/// transient error (a write conflict with a concurrent transaction, a failover) runs the whole
/// body again after a jittered exponential backoff, until 100 attempts or 60 seconds.
pub struct TxAttempts {
    attempt: u32,
    started: Instant,
}

impl TxAttempts {
    pub const MAX_ATTEMPTS: u32 = 100;
    pub const MAX_TIME: Duration = Duration::from_secs(60);
    /// How often a commit with an unknown result is retried as such.
    pub const COMMIT_RETRIES: u32 = 5;

    pub fn new() -> Self {
        Self {
            attempt: 0,
            started: Instant::now(),
        }
    }

    /// Call at the start of every attempt; waits before each retry.
    pub async fn begin(&mut self) {
        if self.attempt > 0 {
            tokio::time::sleep(backoff(self.attempt)).await;
        }
        self.attempt += 1;
    }

    /// Whether a transient failure of this attempt may be retried.
    pub fn may_retry(&self) -> bool {
        self.attempt < Self::MAX_ATTEMPTS && self.started.elapsed() < Self::MAX_TIME
    }

    /// Attempts as many as the bound allows, for tests of what happens at the bound.
    #[cfg(test)]
    pub(crate) fn spent() -> Self {
        Self {
            attempt: Self::MAX_ATTEMPTS,
            started: Instant::now(),
        }
    }
}

impl Default for TxAttempts {
    fn default() -> Self {
        Self::new()
    }
}

/// Jittered exponential backoff: up to 5 ms * 1.5^attempt, at most 500 ms.
fn backoff(attempt: u32) -> Duration {
    let ceiling_ms = (5.0 * 1.5_f64.powi(attempt.min(30) as i32)).min(500.0);
    Duration::from_millis((ceiling_ms * rand::random::<f64>()) as u64)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn retries_back_off_within_bounds() {
        for attempt in 0..40 {
            assert!(backoff(attempt) <= Duration::from_millis(500));
        }
        let fresh = TxAttempts::new();
        assert!(fresh.may_retry());
        assert!(!TxAttempts::spent().may_retry());
    }

    #[test]
    fn a_transaction_is_not_retried_after_its_time_is_up() {
        let late = TxAttempts {
            attempt: 1,
            started: Instant::now() - TxAttempts::MAX_TIME,
        };
        assert!(!late.may_retry());
    }
}
