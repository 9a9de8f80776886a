//! The cancellation cascade: the orders of a cancelled event end, each exactly once. State-driven
//! rather than message-driven: the catalogue consumer only stores the event as cancelled and wakes
//! this worker; the worker takes batches of that event's orders still pending or confirmed and
//! ends each (`event_cancelled`: held seats released, or sold seats released, tickets void and
//! the payment refunded by the payment service from the published fact), one atomic unit per
//! batch, until none is left. It also runs at start-up and on a timer, so a restart anywhere in
//! a cascade of any size just resumes; an order that ended meanwhile (paid, cancelled by its
//! buyer) is decided again inside the batch and left alone or ended as it now stands.
//!
//! The event's waitlist entries still waiting or offered end the same way, after its orders
//! ([`crate::waitlist_steps::close_cancelled`]): `event_cancelled`, an offer's held seats
//! released and offered to nobody, so no buyer is offered seats of an event that will not happen.

use contracts::orders::CancelReason;

use crate::lifecycle::{Command, Transition};
use crate::state::AppState;

/// Orders ended per atomic unit: small enough for one MongoDB transaction.
pub const BATCH: usize = 200;

/// Ends up to one batch of orders of cancelled events; returns how many it took and how many of
/// those it ended (an order may have ended on its own since it was listed).
pub async fn run_batch(
    state: &AppState,
    limit: usize,
) -> Result<(usize, usize), platform::StoreError> {
    let ids = state.store.orders_to_cascade(limit).await?;
    if ids.is_empty() {
        return Ok((0, 0));
    }
    let command = Command::Cancel(CancelReason::EventCancelled);
    let transitions = state.store.apply_batch(&ids, &command, None).await?;
    let mut ended = 0;
    for transition in &transitions {
        if let Transition::Applied(order) = transition {
            state.order_changed(order);
            ended += 1;
        }
    }
    Ok((ids.len(), ended))
}

/// Ends every order of cancelled events still pending or confirmed, then closes their open
/// waitlist entries; returns how many orders it ended.
pub async fn drain(state: &AppState) -> Result<usize, platform::StoreError> {
    let mut ended = 0;
    loop {
        let (taken, n) = run_batch(state, BATCH).await?;
        ended += n;
        // A short batch was the last; one that ended nothing means the rest is racing others.
        if taken < BATCH || n == 0 {
            break;
        }
    }
    if ended > 0 {
        tracing::info!(ended, "orders of cancelled events ended");
    }
    crate::waitlist_steps::close_cancelled(state).await?;
    Ok(ended)
}

/// Runs [`drain`] at start-up, whenever a cancellation wakes it, and on the expiry sweep's
/// interval (which catches a wake lost to a failure).
pub async fn sweep(state: AppState) {
    let mut tick = tokio::time::interval(state.config.expiry_sweep);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        if let Err(e) = drain(&state).await {
            tracing::warn!(error = %platform::error::ErrorChain(&e), "cancellation cascade failed");
        }
        tokio::select! {
            _ = tick.tick() => {}
            _ = state.cascade_wake.notified() => {}
        }
    }
}
