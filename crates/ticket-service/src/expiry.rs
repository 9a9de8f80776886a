//! Holds that expire. A sweeper looks for pending orders past `expiresAt` every second (by the
//! partial index on pending orders) and cancels each with a conditional transition, so several
//! sweepers (replicas) or a racing payment never release seats twice. Chosen over JetStream
//! scheduled messages because it needs nothing beyond the store, resumes by itself after a
//! restart, and works the same on SQLite and MongoDB.

use contracts::orders::CancelReason;

use crate::app::AppState;
use crate::store::Transition;

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

/// Runs [`expire_due`] forever at the configured interval.
pub async fn sweep(state: AppState) {
    let mut tick = tokio::time::interval(state.config.expiry_sweep);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tick.tick().await;
        if let Err(e) = expire_due(&state).await {
            tracing::warn!(error = %platform::error::ErrorChain(&e), "expiry sweep failed");
        }
    }
}
