//! Holds that expire. A sweeper looks for pending orders past `expiresAt` every second (by the
//! partial index on pending orders) and cancels each with a conditional transition, so several
//! sweepers (replicas) or a racing payment never release seats twice. Chosen over JetStream
//! scheduled messages because it needs nothing beyond the store, resumes by itself after a
//! restart, and works the same on SQLite and MongoDB.

use contracts::orders::CancelReason;

use crate::lifecycle::Transition;
use crate::state::AppState;

/// Cancels every pending order whose hold has ended; returns how many this call cancelled.
pub async fn expire_due(state: &AppState) -> Result<usize, platform::StoreError> {
    let mut cancelled = 0;
    loop {
        let due = state
            .store
            .due_for_expiry(platform::time::now(), 200)
            .await?;
        let batch = due.len();
        for id in due {
            if let Transition::Applied(_) =
                state.store.cancel(id, CancelReason::Expired, None).await?
            {
                cancelled += 1;
            }
        }
        if batch < 200 {
            break;
        }
    }
    if cancelled > 0 {
        state.outbox_wake.notify_one();
        tracing::info!(cancelled, "expired holds released");
    }
    Ok(cancelled)
}

/// How long a consumed event id is remembered: far longer than any redelivery (at most 8 tries
/// a minute apart) or a replay an operator would run.
pub const PROCESSED_RETENTION: chrono::Duration = chrono::Duration::days(30);
/// How long a booking's `Idempotency-Key` replays its first answer.
pub const KEY_RETENTION: chrono::Duration = chrono::Duration::hours(24);

/// Runs [`expire_due`] forever at the configured interval, and forgets old bookkeeping hourly.
pub async fn sweep(state: AppState) {
    let mut tick = tokio::time::interval(state.config.expiry_sweep);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    let mut last_purge: Option<std::time::Instant> = None;
    loop {
        tick.tick().await;
        if let Err(e) = expire_due(&state).await {
            tracing::warn!(error = %platform::error::ErrorChain(&e), "expiry sweep failed");
        }
        if last_purge.is_none_or(|t| t.elapsed() >= std::time::Duration::from_secs(3600)) {
            last_purge = Some(std::time::Instant::now());
            let now = platform::time::now();
            match state
                .store
                .purge_bookkeeping(now - PROCESSED_RETENTION, now - KEY_RETENTION)
                .await
            {
                Ok(0) => {}
                Ok(n) => tracing::info!(rows = n, "old processed ids and idempotency keys purged"),
                Err(e) => {
                    tracing::warn!(error = %platform::error::ErrorChain(&e), "bookkeeping purge failed")
                }
            }
        }
    }
}
