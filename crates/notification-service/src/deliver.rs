//! Sending recorded mails: claim, compose, send, mark (see `crate::store` for why in this
//! order). Used by the consumers for the mails of the fact at hand and by the sweep for any mail
//! left unsent (SMTP away longer than a fact's redeliveries, a crash mid-send).

use chrono::Duration;

use crate::domain::Mail;
use crate::letters;
use crate::mailer::SendError;
use crate::state::AppState;

/// What became of one mail.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Delivered {
    Sent,
    /// Someone else holds a fresh claim on it, or it is done already.
    NotClaimed,
    /// Released for a later try.
    Retry(String),
    /// Refused for good; marked failed.
    Failed(String),
}

/// Claims `mail` and sends it once, counting the outcome for the operator.
pub async fn deliver(state: &AppState, mail: &Mail) -> Result<Delivered, platform::StoreError> {
    let delivered = claim_and_send(state, mail).await?;
    let outcome = match delivered {
        Delivered::Sent => "sent",
        Delivered::Retry(_) => "retried",
        Delivered::Failed(_) => "failed",
        Delivered::NotClaimed => return Ok(delivered),
    };
    platform::metrics::counter!(
        platform::metrics::names::MAILS,
        "kind" => mail.kind.as_str(),
        "outcome" => outcome
    )
    .increment(1);
    Ok(delivered)
}

async fn claim_and_send(state: &AppState, mail: &Mail) -> Result<Delivered, platform::StoreError> {
    let now = platform::time::now();
    let stale = Duration::from_std(state.config.claim_stale).unwrap_or(Duration::seconds(60));
    if !state.store.claim(&mail.key, now, now - stale).await? {
        return Ok(Delivered::NotClaimed);
    }
    let (subject, message) = match letters::compose(mail, &state.config.from, now) {
        Ok(composed) => composed,
        Err(e) => {
            let reason = format!("cannot compose the message: {e}");
            state.store.mark_failed(&mail.key, &reason).await?;
            return Ok(Delivered::Failed(reason));
        }
    };
    match state.mailer.send(message).await {
        Ok(()) => {
            state
                .store
                .mark_sent(&mail.key, &subject, platform::time::now())
                .await?;
            tracing::info!(
                kind = mail.kind.as_str(),
                fact = %mail.key.fact_id,
                "mail sent"
            );
            Ok(Delivered::Sent)
        }
        Err(SendError::Transient(reason)) => {
            state.store.release(&mail.key).await?;
            tracing::warn!(fact = %mail.key.fact_id, reason, "mail not sent, will retry");
            Ok(Delivered::Retry(reason))
        }
        Err(SendError::Permanent(reason)) => {
            state.store.mark_failed(&mail.key, &reason).await?;
            tracing::error!(fact = %mail.key.fact_id, reason, "mail refused by the server");
            Ok(Delivered::Failed(reason))
        }
    }
}
