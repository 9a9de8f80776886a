//! The periodic sweep: reminders for holds about to end, and another try for mails left unsent
//! (the SMTP server was away for longer than a fact's redeliveries, or a sender died mid-send).

use chrono::Duration;
use platform::StoreError;

use crate::deliver::{Delivered, deliver};
use crate::plan;
use crate::state::AppState;

/// What one pass did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Swept {
    pub reminders: usize,
    pub sent: usize,
}

/// Mails tried per pass, so one pass stays short.
const BATCH: u32 = 200;

pub async fn sweep(state: &AppState) -> Result<Swept, StoreError> {
    let now = platform::time::now();
    let lead = Duration::from_std(state.config.reminder_lead).unwrap_or(Duration::minutes(5));
    let mut swept = Swept::default();
    for order in state.store.holds_ending(now, now + lead).await? {
        let event = state.store.event(order.event_id).await?;
        let Some(record) = plan::hold_reminder(&order, event.as_ref(), now, lead) else {
            continue;
        };
        state.store.record(&record).await?;
        for mail in state.store.unsent(Some(&record.fact_id), now, 10).await? {
            if deliver(state, &mail).await? == Delivered::Sent {
                swept.reminders += 1;
            }
        }
    }
    // Mails a consumer may still be busy with are left to it for one period.
    let period = Duration::from_std(state.config.sweep_every).unwrap_or(Duration::seconds(30));
    for mail in state.store.unsent(None, now - period, BATCH).await? {
        if deliver(state, &mail).await? == Delivered::Sent {
            swept.sent += 1;
        }
    }
    Ok(swept)
}
