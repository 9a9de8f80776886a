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
            if let Transition::Applied(order) =
                state.store.cancel(id, CancelReason::Expired, None).await?
            {
                state.order_changed(&order);
                cancelled += 1;
            }
        }
        if batch < 200 {
            break;
        }
    }
    if cancelled > 0 {
        tracing::info!(cancelled, "expired holds released");
    }
    Ok(cancelled)
}

/// How long a consumed event id is remembered: far longer than any redelivery (at most 8 tries
/// a minute apart) or a replay an operator would run.
pub const PROCESSED_RETENTION: chrono::Duration = chrono::Duration::days(30);
/// How long a booking's `Idempotency-Key` replays its first answer.
pub const KEY_RETENTION: chrono::Duration = chrono::Duration::hours(24);

/// Forgets consumed event ids and booking keys past their retention; returns how many rows went.
/// The service runs it at start-up and hourly.
pub async fn purge_bookkeeping(state: &AppState) -> Result<u64, platform::StoreError> {
    let now = platform::time::now();
    let purged = state
        .store
        .purge_bookkeeping(now - PROCESSED_RETENTION, now - KEY_RETENTION)
        .await?;
    if purged > 0 {
        tracing::info!(
            rows = purged,
            "old processed ids and idempotency keys purged"
        );
    }
    Ok(purged)
}
